// Emulator speed: ns per thread per __syncthreads, ns per lane per shuffle,
// and a 256^3 tiled SGEMM (tile 32: 64 blocks x 1024 threads; tile 16: 256
// blocks x 256 threads). Best of `reps` runs. Not a timed test: the suite
// only checks that it runs and that the SGEMM is right.
//   ./bench [reps]      (use SIMT_THREADS=1 for one-core numbers)
#include <chrono>

#include "common.h"
#include "sgemm_kernel.cuh"

__global__ void barrier_loop(int iters, int* out) {
  __shared__ int s[1024];
  const int t = threadIdx.x;
  int acc = 0;
  for (int i = 0; i < iters; ++i) {
    s[t] = i + t;
    __syncthreads();
    acc += s[(t + 1) % blockDim.x];
    __syncthreads();
  }
  out[blockIdx.x * blockDim.x + t] = acc;
}

__global__ void shuffle_loop(int iters, float* out) {
  float v = static_cast<float>(threadIdx.x);
  for (int i = 0; i < iters; ++i) v = __shfl_xor_sync(0xffffffffu, v, 1 + i % 31);
  out[blockIdx.x * blockDim.x + threadIdx.x] = v;
}

template <class F>
static double best_seconds(int reps, F&& f) {
  double best = 1e30;
  for (int r = 0; r < reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    launch_error();
    const auto t1 = std::chrono::steady_clock::now();
    best = std::min(best, std::chrono::duration<double>(t1 - t0).count());
  }
  return best;
}

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::atoi(argv[1]) : 3;
  {
    const int blocks = 16, threads = 1024, iters = 50;
    int* out = dev_alloc<int>(blocks * threads);
    const double s = best_seconds(reps, [&] { DL_LAUNCH(barrier_loop, blocks, threads, 0, 0, iters, out); });
    CHECK(out[5] == iters * (iters - 1) / 2 + iters * 6, "barrier_loop result %d", out[5]);
    std::printf("barrier: %.1f ns per thread per __syncthreads\n", s * 1e9 / (2.0 * blocks * threads * iters));
    dev_free(out);
  }
  {
    const int blocks = 16, threads = 1024, iters = 100;
    float* out = dev_alloc<float>(blocks * threads);
    const double s = best_seconds(reps, [&] { DL_LAUNCH(shuffle_loop, blocks, threads, 0, 0, iters, out); });
    std::printf("shuffle: %.1f ns per lane per __shfl_xor_sync\n", s * 1e9 / (1.0 * blocks * threads * iters));
    dev_free(out);
  }
  {
    const int n = 256;
    float* A = dev_alloc<float>(n * n);
    float* B = dev_alloc<float>(n * n);
    float* C = dev_alloc<float>(n * n);
    for (int i = 0; i < n * n; ++i) A[i] = hash_float(i), B[i] = hash_float(i + 1);
    const double s32 = best_seconds(reps, [&] { launch_sgemm<32, true, true>(n, n, n, A, B, C, nullptr); });
    const double s16 = best_seconds(reps, [&] { launch_sgemm<16, true, true>(n, n, n, A, B, C, nullptr); });
    double err = 0;
    for (int i = 0; i < n; i += 37)
      for (int j = 0; j < n; j += 41) {
        double r = 0;
        for (int k = 0; k < n; ++k) r += static_cast<double>(A[i * n + k]) * B[k * n + j];
        err = std::max(err, std::fabs(r - C[i * n + j]));
      }
    CHECK(err < 1e-3, "sgemm 256^3 error %g", err);
    std::printf("sgemm 256^3: tile 32 (64 blocks x 1024 threads) %.3f s, tile 16 (256 blocks x 256 threads) %.3f s\n",
                s32, s16);
    dev_free(A);
    dev_free(B);
    dev_free(C);
  }
  return finish("bench");
}
