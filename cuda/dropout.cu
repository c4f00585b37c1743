// Dropout and channel dropout with inverted scaling on the device, forward
// and backward (the same kernel on the gradient; the mask is regenerated).
// Shapes: DropoutProblem (core/kernels.h), a contiguous tensor in groups that
// share one draw. Algorithm: one thread per element in a grid-stride loop;
// each computes its group's Philox draw (core/philox.h, shared with the CPU),
// so the mask is the CPU's bit for bit. Numerics as on the CPU: kept elements
// x * (1 / (1 - p)), dropped ones exactly 0.
#include "common.cuh"
#include "core/philox.h"

namespace dlcore::cuda {

namespace {

template <class T>
__global__ void dropout_kernel(DropoutProblem p, T scale) {
  const T* x = static_cast<const T*>(p.x);
  T* out = static_cast<T*>(p.out);
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < p.n; i += int64_t(blockDim.x) * gridDim.x) {
    const bool keep = philox::keep(p.seed, p.offset, static_cast<uint64_t>(i / p.group), p.p);
    out[i] = keep ? x[i] * scale : T(0);
  }
}

}  // namespace

void dropout(DType dt, const DropoutProblem& p) {
  if (p.n == 0) return;
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    auto kernel = dropout_kernel<T>;
    const T scale = p.p < 1 ? static_cast<T>(1.0 / (1.0 - p.p)) : T(0);
    DL_LAUNCH(kernel, blocks_for(p.n), kThreads, 0, current_stream(), p, scale);
    DL_CHECK_LAUNCH();
  });
}

}  // namespace dlcore::cuda
