// Threading for the CPU kernels: OpenMP with the library's own thread count
// (DLCORE_NUM_THREADS / dlcore.set_num_threads) passed to every parallel
// region. When a region is already running -- from another Python thread or
// nested inside a kernel -- the new one runs on the calling thread alone, so
// several callers never oversubscribe the cores.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstdint>
#ifdef _OPENMP
#include <omp.h>
#endif

namespace dlcore {

int num_threads();
void set_num_threads(int n);
std::atomic<int>& active_parallel_regions();

// Calls f(begin, end) on disjoint chunks covering [0, n). Work below `grain`
// items per thread is not worth waking threads for.
template <class F>
void parallel_for(int64_t n, int64_t grain, const F& f) {
  if (n <= 0) return;
  int64_t nt = std::min<int64_t>(num_threads(), (n + grain - 1) / std::max<int64_t>(grain, 1));
#ifdef _OPENMP
  if (nt > 1) {
    auto& active = active_parallel_regions();
    if (active.fetch_add(1) == 0) {
#pragma omp parallel num_threads(static_cast<int>(nt))
      {
        int64_t t = omp_get_thread_num(), T = omp_get_num_threads();
        int64_t begin = n * t / T, end = n * (t + 1) / T;
        if (begin < end) f(begin, end);
      }
      active.fetch_sub(1);
      return;
    }
    active.fetch_sub(1);
  }
#endif
  f(int64_t{0}, n);
}

// Runs f(thread, nthreads) on a team of up to `max_threads` threads that stay
// together for the whole call and meet at team_barrier(): one fork and join
// for an algorithm of several phases (GEMM packs, then computes, per block).
// When another region is running, the team is the calling thread alone.
template <class F>
void parallel_team(int64_t max_threads, const F& f) {
  const int64_t nt = std::min<int64_t>(num_threads(), std::max<int64_t>(max_threads, 1));
#ifdef _OPENMP
  if (nt > 1) {
    auto& active = active_parallel_regions();
    if (active.fetch_add(1) == 0) {
#pragma omp parallel num_threads(static_cast<int>(nt))
      f(static_cast<int64_t>(omp_get_thread_num()), static_cast<int64_t>(omp_get_num_threads()));
      active.fetch_sub(1);
      return;
    }
    active.fetch_sub(1);
  }
#endif
  f(int64_t{0}, int64_t{1});
}

// All `threads` threads of the current parallel_team wait here. A team of
// one skips it: it may be running inline inside another kernel's parallel
// region (a GEMM per image of a convolution), whose threads an OpenMP
// barrier would wait for instead.
inline void team_barrier(int64_t threads) {
#ifdef _OPENMP
  if (threads > 1) {
#pragma omp barrier
  }
#endif
}

}  // namespace dlcore
