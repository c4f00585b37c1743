// A shared-memory tiled SGEMM at ragged sizes, a block-wide reduction
// (shared memory + warp shuffles) and a row normalisation, against CPU
// references.
//
//   ./sgemm                 all correctness checks
//   ./sgemm bug_load        SGEMM without the barrier after the tile loads
//   ./sgemm bug_compute     SGEMM without the barrier after the tile product
//   ./sgemm bug_publish     normalisation without the barrier after thread 0
//                           publishes 1/sum (forward order hides this one)
// A bug mode prints MISMATCH and exits 1 when the result is wrong.
#include "common.h"
#include "sgemm_kernel.cuh"

static void reference_gemm(int M, int N, int K, const float* A, const float* B, std::vector<double>& C) {
  C.assign(static_cast<size_t>(M) * N, 0.0);
  for (int i = 0; i < M; ++i)
    for (int k = 0; k < K; ++k)
      for (int j = 0; j < N; ++j) C[i * N + j] += static_cast<double>(A[i * K + k]) * B[k * N + j];
}

// Returns the largest absolute error.
template <int TILE, bool S1 = true, bool S2 = true>
static double run_gemm(int M, int N, int K) {
  float* A = dev_alloc<float>(static_cast<size_t>(M) * K);
  float* B = dev_alloc<float>(static_cast<size_t>(K) * N);
  float* C = dev_alloc<float>(static_cast<size_t>(M) * N);
  for (int i = 0; i < M * K; ++i) A[i] = hash_float(i);
  for (int i = 0; i < K * N; ++i) B[i] = hash_float(i + 77777);
  launch_sgemm<TILE, S1, S2>(M, N, K, A, B, C, nullptr);
  CHECK_LAUNCH_OK("sgemm");
  std::vector<double> ref;
  reference_gemm(M, N, K, A, B, ref);
  double err = 0;
  for (int i = 0; i < M * N; ++i) {
    const double e = std::fabs(C[i] - ref[i]);
    err = std::isnan(e) ? 1e30 : std::max(err, e);
  }
  dev_free(A);
  dev_free(B);
  dev_free(C);
  return err;
}

// Block sum: grid-stride accumulation, warp shuffles, one shared slot per warp.
__global__ void block_sum(const float* x, int n, float* partial) {
  __shared__ float warp_sums[32];
  float v = 0;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) v += x[i];
  for (int off = 16; off > 0; off /= 2) v += __shfl_down_sync(0xffffffffu, v, off);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, nwarps = blockDim.x / 32;
  if (lane == 0) warp_sums[warp] = v;
  __syncthreads();
  if (warp == 0) {
    v = lane < nwarps ? warp_sums[lane] : 0.0f;
    for (int off = 16; off > 0; off /= 2) v += __shfl_down_sync(0xffffffffu, v, off);
    if (lane == 0) partial[blockIdx.x] = v;
  }
}

// y[row] = x[row] / sum(x[row]); one block of 256 threads per row.
template <bool SYNC_AFTER_PUBLISH>
__global__ void normalize_rows(const float* x, float* y, int ncols) {
  __shared__ float partial[256];
  __shared__ float inv;
  const int row = blockIdx.x, t = threadIdx.x;
  float s = 0;
  for (int c = t; c < ncols; c += blockDim.x) s += x[row * ncols + c];
  partial[t] = s;
  __syncthreads();
  for (int k = blockDim.x / 2; k > 0; k /= 2) {
    if (t < k) partial[t] += partial[t + k];
    __syncthreads();
  }
  if (t == 0) inv = 1.0f / partial[0];
  if (SYNC_AFTER_PUBLISH) __syncthreads();
  for (int c = t; c < ncols; c += blockDim.x) y[row * ncols + c] = x[row * ncols + c] * inv;
}

template <bool SYNC>
static double run_normalize(int rows, int ncols) {
  float* x = dev_alloc<float>(rows * ncols);
  float* y = dev_alloc<float>(rows * ncols);
  for (int i = 0; i < rows * ncols; ++i) x[i] = 1.0f + hash_float(i) + 0.5f * (i / ncols);  // >= 0.5
  auto k = normalize_rows<SYNC>;
  DL_LAUNCH(k, rows, 256, 0, 0, x, y, ncols);
  CHECK_LAUNCH_OK("normalize_rows");
  double err = 0;
  for (int r = 0; r < rows; ++r) {
    double s = 0;
    for (int c = 0; c < ncols; ++c) s += x[r * ncols + c];
    for (int c = 0; c < ncols; ++c) {
      const double want = x[r * ncols + c] / s;
      const double e = std::fabs(y[r * ncols + c] - want) / std::fabs(want);  // relative
      err = std::isnan(e) ? 1e30 : std::max(err, e);
    }
  }
  dev_free(x);
  dev_free(y);
  return err;
}

static int bug_mode(const std::string& mode) {
  double err;
  if (mode == "bug_load") err = run_gemm<16, false, true>(70, 50, 90);
  else if (mode == "bug_compute") err = run_gemm<16, true, false>(70, 50, 90);
  else if (mode == "bug_publish") err = run_normalize<false>(6, 1000);
  else {
    std::printf("unknown mode %s\n", mode.c_str());
    return 2;
  }
  if (err > 1e-3) {
    std::printf("MISMATCH %s: max error %g\n", mode.c_str(), err);
    return 1;
  }
  std::printf("MATCH %s: max error %g\n", mode.c_str(), err);
  return 0;
}

int main(int argc, char** argv) {
  if (argc > 1) return bug_mode(argv[1]);
  const int sizes[][3] = {{1, 1, 1}, {17, 33, 5}, {64, 64, 64}, {100, 37, 129}, {31, 65, 47}, {3, 200, 2}};
  for (const auto& s : sizes) {
    const double e16 = run_gemm<16>(s[0], s[1], s[2]);
    const double e32 = run_gemm<32>(s[0], s[1], s[2]);
    const double tol = 1e-5 * s[2] + 1e-6;
    CHECK(e16 < tol, "sgemm tile 16 M=%d N=%d K=%d: max error %g", s[0], s[1], s[2], e16);
    CHECK(e32 < tol, "sgemm tile 32 M=%d N=%d K=%d: max error %g", s[0], s[1], s[2], e32);
  }
  // block reduction
  for (int n : {1, 31, 1000, 100003}) {
    for (int bs : {32, 96, 256, 1024}) {
      const int blocks = std::min(7, (n + bs - 1) / bs);
      float* x = dev_alloc<float>(n);
      float* partial = dev_alloc<float>(blocks);
      double want = 0;
      for (int i = 0; i < n; ++i) {
        x[i] = hash_float(i * 3 + 1);
        want += x[i];
      }
      DL_LAUNCH(block_sum, blocks, bs, 0, 0, x, n, partial);
      CHECK_LAUNCH_OK("block_sum");
      double got = 0;
      for (int b = 0; b < blocks; ++b) got += partial[b];
      CHECK(std::fabs(got - want) < 1e-3 + 1e-6 * n, "block_sum n=%d bs=%d: %g want %g", n, bs, got, want);
      dev_free(x);
      dev_free(partial);
    }
  }
  const double en = run_normalize<true>(5, 777);
  CHECK(en < 1e-5, "normalize_rows: max relative error %g", en);
  return finish("sgemm");
}
