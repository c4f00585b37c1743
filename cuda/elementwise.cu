// Elementwise CUDA kernels: binary ops with broadcasting, unary ops, clip,
// where. Shapes: a StridedLoop (core/loop.h) over the broadcast output shape,
// built by the op layer with device pointers. Algorithm: one thread per
// element in a grid-stride loop; element i's operand offsets come from
// decomposing i over the (merged) loop shape, which for contiguous operands
// is a single dimension. Numerics: the op semantics of core/pointwise.h,
// shared with the CPU; exp/log/pow are the device's full-precision calls.
#include "common.cuh"

namespace dlcore::cuda {

namespace {

template <BinaryOp op, class T>
__global__ void binary_kernel(StridedLoop loop, int64_t n) {
  using Out = pointwise::BinaryOut<op, T>;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    int64_t off[3];
    loop_offsets(loop, i, off);
    at<Out>(loop.data[0], off[0]) =
        pointwise::binary<op, T, DeviceMath>(at<T>(loop.data[1], off[1]), at<T>(loop.data[2], off[2]));
  }
}

template <UnaryOp op, class T>
__global__ void unary_kernel(StridedLoop loop, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    int64_t off[2];
    loop_offsets(loop, i, off);
    at<T>(loop.data[0], off[0]) = pointwise::unary<op, T, DeviceMath>(at<T>(loop.data[1], off[1]));
  }
}

template <class T>
__global__ void clip_kernel(StridedLoop loop, int64_t n, T lo, T hi) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    int64_t off[2];
    loop_offsets(loop, i, off);
    at<T>(loop.data[0], off[0]) = pointwise::clip(at<T>(loop.data[1], off[1]), lo, hi);
  }
}

template <class T>
__global__ void where_kernel(StridedLoop loop, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    int64_t off[4];
    loop_offsets(loop, i, off);
    at<T>(loop.data[0], off[0]) = at<bool>(loop.data[1], off[1]) ? at<T>(loop.data[2], off[2])
                                                                  : at<T>(loop.data[3], off[3]);
  }
}

template <BinaryOp op>
void binary_op(DType dt, const StridedLoop& loop) {
  const int64_t n = loop.numel();
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (pointwise::binary_supported<op, T>()) {
      auto kernel = binary_kernel<op, T>;
      DL_LAUNCH(kernel, blocks_for(n), kThreads, 0, current_stream(), loop, n);
      DL_CHECK_LAUNCH();
    }
  });
}

template <UnaryOp op>
void unary_op(DType dt, const StridedLoop& loop) {
  const int64_t n = loop.numel();
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (pointwise::unary_supported<op, T>()) {
      auto kernel = unary_kernel<op, T>;
      DL_LAUNCH(kernel, blocks_for(n), kThreads, 0, current_stream(), loop, n);
      DL_CHECK_LAUNCH();
    }
  });
}

}  // namespace

void binary(BinaryOp op, DType dt, const StridedLoop& loop) {
  if (loop.numel() == 0) return;
  dispatch_op(op, [&](auto tag) { binary_op<decltype(tag)::value>(dt, loop); });
}

void unary(UnaryOp op, DType dt, const StridedLoop& loop) {
  if (loop.numel() == 0) return;
  dispatch_op(op, [&](auto tag) { unary_op<decltype(tag)::value>(dt, loop); });
}

void clip(DType dt, const StridedLoop& loop, double lo, double hi) {
  const int64_t n = loop.numel();
  if (n == 0) return;
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      auto kernel = clip_kernel<T>;
      DL_LAUNCH(kernel, blocks_for(n), kThreads, 0, current_stream(), loop, n, static_cast<T>(lo), static_cast<T>(hi));
      DL_CHECK_LAUNCH();
    }
  });
}

void where(DType dt, const StridedLoop& loop) {
  const int64_t n = loop.numel();
  if (n == 0) return;
  dispatch_dtype(dt, [&](auto tag) {
    auto kernel = where_kernel<decltype(tag)>;
    DL_LAUNCH(kernel, blocks_for(n), kThreads, 0, current_stream(), loop, n);
    DL_CHECK_LAUNCH();
  });
}

}  // namespace dlcore::cuda
