// GEMM on the device: C = A @ B over a batch of matrices (GemmProblem in
// core/kernels.h: any row/column strides, broadcast batch dims).
//
// v1 naive: one thread per element of C computes the dot product of a row
// of A and a column of B straight from global memory; blockIdx.z walks the
// batch. It is the oracle for the tiled kernels that build on it.
#include "common.cuh"

namespace dlcore::cuda {

namespace {

template <class T>
__global__ void gemm_v1_naive(GemmProblem p) {
  const int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int64_t i = blockIdx.y * int64_t(blockDim.y) + threadIdx.y;
  int64_t batches = 1;
  for (int d = 0; d < p.batch.ndim; ++d) batches *= p.batch.shape[d];
  for (int64_t b = blockIdx.z; b < batches; b += gridDim.z) {
    if (i >= p.M || j >= p.N) continue;
    int64_t off[3];
    loop_offsets(p.batch, b, off);
    const T* a = reinterpret_cast<const T*>(p.batch.data[1] + off[1]);
    const T* bm = reinterpret_cast<const T*>(p.batch.data[2] + off[2]);
    T acc = 0;
    for (int64_t k = 0; k < p.K; ++k)
      acc = pointwise::add(acc, pointwise::mul(a[i * p.a_rs + k * p.a_cs], bm[k * p.b_rs + j * p.b_cs]));
    T& dst = reinterpret_cast<T*>(p.batch.data[0] + off[0])[i * p.c_rs + j * p.c_cs];
    const T* bias = static_cast<const T*>(p.bias);
    dst = pointwise::gemm_epilogue<T>(p, acc, p.beta != 0 ? dst : T(0), bias ? bias[p.bias_per_row ? i : j] : T(0));
  }
}

}  // namespace

void gemm(DType dt, const GemmProblem& p) {
  const int64_t batches = p.batch.numel();
  if (batches == 0 || p.M == 0 || p.N == 0) return;
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      const dim3 block(16, 16);
      const dim3 grid(static_cast<unsigned>((p.N + 15) / 16), static_cast<unsigned>((p.M + 15) / 16),
                      static_cast<unsigned>(batches < 65535 ? batches : 65535));
      auto kernel = gemm_v1_naive<T>;
      DL_LAUNCH(kernel, grid, block, 0, current_stream(), p);
      DL_CHECK_LAUNCH();
    }
  });
}

}  // namespace dlcore::cuda
