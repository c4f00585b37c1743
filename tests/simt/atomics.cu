// Atomics on global and shared memory, across blocks that the emulator runs
// concurrently on several OS threads (run with SIMT_THREADS=2), and the
// "last block" pattern with __threadfence.
#include "common.h"

#if defined(SIMT_EMULATOR) && defined(_OPENMP)
#include <omp.h>
#endif

struct Counters {
  int i_add;
  int i_sub;
  unsigned u_add;
  unsigned long long ull_add;
  float f_add;
  double d_add;
  int i_max, i_min;
  unsigned u_max, u_min;
  unsigned u_or, u_and, u_xor;
  unsigned u_inc, u_dec;
  unsigned long long ull_exch;
  double d_cas_max;
};

// Emulated double max through atomicCAS on the bit pattern.
__device__ double atomic_max_double(double* addr, double v) {
  unsigned long long* p = reinterpret_cast<unsigned long long*>(addr);
  unsigned long long old = *p, assumed;
  do {
    assumed = old;
    if (__longlong_as_double(assumed) >= v) break;
    old = atomicCAS(p, assumed, static_cast<unsigned long long>(__double_as_longlong(v)));
  } while (assumed != old);
  return __longlong_as_double(old);
}

__global__ void all_atomics(int n, Counters* c, unsigned long long* exch_old, int* os_thread) {
  const int stride = gridDim.x * blockDim.x;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride) {
    atomicAdd(&c->i_add, 1);
    atomicSub(&c->i_sub, 2);
    atomicAdd(&c->u_add, 3u);
    atomicAdd(&c->ull_add, static_cast<unsigned long long>(i));
    atomicAdd(&c->f_add, 1.0f);
    atomicAdd(&c->d_add, static_cast<double>(i));
    const int h = static_cast<int>((static_cast<unsigned>(i) * 2654435761u) >> 4) - (1 << 26);
    atomicMax(&c->i_max, h);
    atomicMin(&c->i_min, h);
    atomicMax(&c->u_max, static_cast<unsigned>(i) * 7u);
    atomicMin(&c->u_min, static_cast<unsigned>(i) + 5u);
    atomicOr(&c->u_or, 1u << (i % 32));
    atomicAnd(&c->u_and, ~(1u << (i % 31)));
    atomicXor(&c->u_xor, static_cast<unsigned>(i));
    atomicInc(&c->u_inc, 999u);
    atomicDec(&c->u_dec, 999u);
    exch_old[i] = atomicExch(&c->ull_exch, static_cast<unsigned long long>(i) + 1);
    atomic_max_double(&c->d_cas_max, static_cast<double>((i * 7919) % 100003) * 0.5);
  }
#if defined(SIMT_EMULATOR) && defined(_OPENMP)
  if (threadIdx.x == 0) os_thread[blockIdx.x] = omp_get_thread_num();
#else
  if (threadIdx.x == 0) os_thread[blockIdx.x] = 0;
#endif
}

// Per-block histogram in shared memory, merged into global memory.
__global__ void histogram(const int* data, int n, unsigned* hist) {
  __shared__ unsigned h[64];
  for (int i = threadIdx.x; i < 64; i += blockDim.x) h[i] = 0;
  __syncthreads();
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) atomicAdd(&h[data[i] & 63], 1u);
  __syncthreads();
  for (int i = threadIdx.x; i < 64; i += blockDim.x) atomicAdd(&hist[i], h[i]);
}

// Each block sums its part; the last block to finish adds the partial sums.
__global__ void sum_last_block(const float* x, int n, float* partial, unsigned* counter, float* result) {
  __shared__ float s[256];
  __shared__ bool is_last;
  float v = 0;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) v += x[i];
  s[threadIdx.x] = v;
  __syncthreads();
  for (int k = blockDim.x / 2; k > 0; k /= 2) {
    if (static_cast<int>(threadIdx.x) < k) s[threadIdx.x] += s[threadIdx.x + k];
    __syncthreads();
  }
  if (threadIdx.x == 0) {
    partial[blockIdx.x] = s[0];
    __threadfence();
    const unsigned ticket = atomicInc(counter, gridDim.x);
    is_last = ticket == gridDim.x - 1;
  }
  __syncthreads();
  if (is_last && threadIdx.x == 0) {
    float total = 0;
    for (unsigned b = 0; b < gridDim.x; ++b) total += reinterpret_cast<volatile float*>(partial)[b];
    *result = total;
    *counter = 0;
  }
}

// Two blocks of one thread that each wait (bounded) for the other to arrive:
// both see 2 only if the blocks run at the same time, on two OS threads.
__global__ void concurrent_blocks(int* arrived, int* seen) {
  atomicAdd(arrived, 1);
  int v = 0;
  for (long long spin = 0; spin < (1LL << 32); ++spin) {
    v = atomicAdd(arrived, 0);
    if (v == 2) break;
    if ((spin & 1023) == 0 && clock64() < 0) break;  // keeps the loop from being optimised away
  }
  seen[blockIdx.x] = v;
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "concurrent") {
    int* arrived = dev_alloc<int>(1);
    int* seen = dev_alloc<int>(2);
    *arrived = 0;
    seen[0] = seen[1] = -1;
    DL_LAUNCH(concurrent_blocks, 2, 1, 0, 0, arrived, seen);
    CHECK_LAUNCH_OK("concurrent_blocks");
    CHECK(seen[0] == 2 && seen[1] == 2, "blocks did not run concurrently: %d %d", seen[0], seen[1]);
    return finish("atomics concurrent");
  }
  const int n = 100003;
  // 1. every atomic, many blocks
  {
    Counters* c = dev_alloc<Counters>(1);
    std::memset(c, 0, sizeof(Counters));
    c->i_max = -(1 << 30);
    c->i_min = 1 << 30;
    c->u_min = ~0u;
    c->u_and = ~0u;
    c->u_dec = 0;
    c->d_cas_max = -1.0;
    unsigned long long* exch_old = dev_alloc<unsigned long long>(n);
    const int blocks = 97, threads = 256;
    int* os_thread = dev_alloc<int>(blocks);
    DL_LAUNCH(all_atomics, blocks, threads, 0, 0, n, c, exch_old, os_thread);
    CHECK_LAUNCH_OK("all_atomics");
    long long isum = 0;
    int imax = -(1 << 30), imin = 1 << 30;
    unsigned umax = 0, umin = ~0u, uor = 0, uand = ~0u, uxor = 0;
    double dmax = -1;
    for (int i = 0; i < n; ++i) {
      isum += i;
      const int h = static_cast<int>((static_cast<unsigned>(i) * 2654435761u) >> 4) - (1 << 26);
      imax = std::max(imax, h);
      imin = std::min(imin, h);
      umax = std::max(umax, static_cast<unsigned>(i) * 7u);
      umin = std::min(umin, static_cast<unsigned>(i) + 5u);
      uor |= 1u << (i % 32);
      uand &= ~(1u << (i % 31));
      uxor ^= static_cast<unsigned>(i);
      dmax = std::max(dmax, static_cast<double>((i * 7919) % 100003) * 0.5);
    }
    CHECK(c->i_add == n, "atomicAdd int: %d want %d", c->i_add, n);
    CHECK(c->i_sub == -2 * n, "atomicSub int: %d", c->i_sub);
    CHECK(c->u_add == 3u * n, "atomicAdd unsigned: %u", c->u_add);
    CHECK(c->ull_add == static_cast<unsigned long long>(isum), "atomicAdd ull: %llu want %lld", c->ull_add, isum);
    CHECK(c->f_add == static_cast<float>(n), "atomicAdd float: %.1f want %d", c->f_add, n);
    CHECK(c->d_add == static_cast<double>(isum), "atomicAdd double: %.1f want %lld", c->d_add, isum);
    CHECK(c->i_max == imax && c->i_min == imin, "atomicMax/Min int: %d %d want %d %d", c->i_max, c->i_min, imax, imin);
    CHECK(c->u_max == umax && c->u_min == umin, "atomicMax/Min unsigned: %u %u", c->u_max, c->u_min);
    CHECK(c->u_or == uor && c->u_and == uand && c->u_xor == uxor, "atomicOr/And/Xor: %08x %08x %08x", c->u_or,
          c->u_and, c->u_xor);
    CHECK(c->u_inc == static_cast<unsigned>(n % 1000), "atomicInc wraps: %u want %d", c->u_inc, n % 1000);
    // atomicDec from 0 with limit 999: 0 -> 999 -> 998 ... ; after n steps
    CHECK(c->u_dec == static_cast<unsigned>((1000 - n % 1000) % 1000), "atomicDec wraps: %u", c->u_dec);
    CHECK(c->d_cas_max == dmax, "atomicCAS-based double max: %g want %g", c->d_cas_max, dmax);
    // atomicExch: the old values plus the final value are 0..n, each once
    std::vector<char> seen(n + 1, 0);
    bool perm = true;
    for (int i = 0; i < n; ++i) {
      if (exch_old[i] > static_cast<unsigned long long>(n) || seen[exch_old[i]]) perm = false;
      else seen[exch_old[i]] = 1;
    }
    if (c->ull_exch > static_cast<unsigned long long>(n) || seen[c->ull_exch]) perm = false;
    CHECK(perm, "atomicExch: old values are not a permutation");
    std::vector<char> used(256, 0);
    int distinct = 0;
    for (int b = 0; b < blocks; ++b)
      if (os_thread[b] >= 0 && os_thread[b] < 256 && !used[os_thread[b]]) used[os_thread[b]] = 1, ++distinct;
    std::printf("os_threads_used=%d\n", distinct);
    dev_free(c);
    dev_free(exch_old);
    dev_free(os_thread);
  }
  // 2. shared-memory histogram
  {
    int* data = dev_alloc<int>(n);
    unsigned* hist = dev_alloc<unsigned>(64);
    std::vector<unsigned> want(64, 0);
    for (int i = 0; i < n; ++i) {
      data[i] = static_cast<int>((static_cast<unsigned>(i) * 2654435761u) >> 7);
      ++want[data[i] & 63];
    }
    for (int b = 0; b < 64; ++b) hist[b] = 0;
    DL_LAUNCH(histogram, 13, 128, 0, 0, data, n, hist);
    CHECK_LAUNCH_OK("histogram");
    for (int b = 0; b < 64; ++b) CHECK(hist[b] == want[b], "histogram bin %d: %u want %u", b, hist[b], want[b]);
    dev_free(data);
    dev_free(hist);
  }
  // 3. last-block reduction with __threadfence, run twice (the counter resets)
  {
    float* x = dev_alloc<float>(n);
    double want = 0;
    for (int i = 0; i < n; ++i) {
      x[i] = hash_float(static_cast<unsigned>(i));
      want += x[i];
    }
    const int blocks = 41;
    float* partial = dev_alloc<float>(blocks);
    unsigned* counter = dev_alloc<unsigned>(1);
    float* result = dev_alloc<float>(1);
    *counter = 0;
    for (int rep = 0; rep < 2; ++rep) {
      *result = -1e30f;
      DL_LAUNCH(sum_last_block, blocks, 256, 0, 0, x, n, partial, counter, result);
      CHECK_LAUNCH_OK("sum_last_block");
      CHECK(std::fabs(*result - want) < 1e-2, "last-block sum: %g want %g", *result, want);
      CHECK(*counter == 0, "last-block counter not reset");
    }
    dev_free(x);
    dev_free(partial);
    dev_free(counter);
    dev_free(result);
  }
  return finish("atomics");
}
