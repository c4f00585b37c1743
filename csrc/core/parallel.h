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

}  // namespace dlcore
