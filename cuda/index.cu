// Row gather and scatter-add along one dim on the device: index_select, and
// index_add (its backward). Shapes: IndexProblem (core/kernels.h), a
// contiguous tensor viewed as (outer, n, inner), k int64 row numbers already
// checked to lie in [0, n). Algorithm: Select is one thread per output
// element in a grid-stride loop (consecutive threads read consecutive inner
// elements: coalesced). Add gives each thread one (outer, inner) column and
// walks j = 0..k-1 in order: no two threads write one element, so repeated
// indices need no atomics and the result is the CPU's, deterministic.
// Numerics: as on the CPU (csrc/cpu/index.cpp).
#include "common.cuh"

namespace dlcore::cuda {

namespace {

template <class T>
__global__ void select_kernel(IndexProblem p) {
  const T* src = static_cast<const T*>(p.src);
  T* out = static_cast<T*>(p.out);
  const int64_t total = p.outer * p.k * p.inner;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(blockDim.x) * gridDim.x) {
    const int64_t c = i % p.inner, r = i / p.inner;
    out[i] = src[((r / p.k) * p.n + p.index[r % p.k]) * p.inner + c];
  }
}

template <class T>
__global__ void add_kernel(IndexProblem p) {
  const T* src = static_cast<const T*>(p.src);
  T* out = static_cast<T*>(p.out);
  const int64_t columns = p.outer * p.inner;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < columns; t += int64_t(blockDim.x) * gridDim.x) {
    const int64_t o = t / p.inner, c = t % p.inner;
    for (int64_t j = 0; j < p.k; ++j) out[(o * p.n + p.index[j]) * p.inner + c] += src[(o * p.k + j) * p.inner + c];
  }
}

}  // namespace

void index(IndexPass pass, DType dt, const IndexProblem& p) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if (pass == IndexPass::Select) {
      const int64_t total = p.outer * p.k * p.inner;
      if (total == 0) return;
      auto kernel = select_kernel<T>;
      DL_LAUNCH(kernel, blocks_for(total), kThreads, 0, current_stream(), p);
      DL_CHECK_LAUNCH();
    } else if constexpr (!std::is_same_v<T, bool>) {  // the op layer rejects bool sums
      if (p.outer * p.inner == 0 || p.k == 0) return;
      auto kernel = add_kernel<T>;
      DL_LAUNCH(kernel, blocks_for(p.outer * p.inner), kThreads, 0, current_stream(), p);
      DL_CHECK_LAUNCH();
    }
  });
}

}  // namespace dlcore::cuda
