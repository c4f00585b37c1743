// Copy and cast on the device: out[i] = (Dst) a[i] for two strided operands
// (a may be broadcast); behind contiguous(), casts, fills and assignment into
// views. One thread per element, grid-stride; the conversions of
// core/pointwise.h (float -> int saturates, NaN -> 0), as on the CPU.
#include "common.cuh"

namespace dlcore::cuda {

namespace {

template <class Dst, class Src>
__global__ void copy_kernel(StridedLoop loop, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    int64_t off[2];
    loop_offsets(loop, i, off);
    at<Dst>(loop.data[0], off[0]) = pointwise::convert<Dst>(at<Src>(loop.data[1], off[1]));
  }
}

}  // namespace

void copy(DType dst, DType src, const StridedLoop& loop) {
  const int64_t n = loop.numel();
  if (n == 0) return;
  dispatch_dtype(dst, [&](auto dtag) {
    dispatch_dtype(src, [&](auto stag) {
      auto kernel = copy_kernel<decltype(dtag), decltype(stag)>;
      DL_LAUNCH(kernel, blocks_for(n), kThreads, 0, current_stream(), loop, n);
      DL_CHECK_LAUNCH();
    });
  });
}

}  // namespace dlcore::cuda
