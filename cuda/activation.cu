// Activation kernels on the device, forward and backward (the list of
// csrc/cpu/activation.cpp). Shapes: a StridedLoop (core/loop.h) over the
// input's shape with device pointers; forward operands out, x[, a], backward
// dx, dy, saved or d, dy, x, a (a: a broadcast tensor parameter, PReLU's
// slope or Swish's beta). Algorithm: one thread per element in a grid-stride
// loop, the activation a template parameter. Numerics: the formulas of
// core/pointwise.h, shared with the CPU and the GEMM epilogue, on the
// device's full-precision exp, expm1, log1p, tanh and erfc.
#include "common.cuh"

namespace dlcore::cuda {

namespace {

template <Activation act, class T, bool tensor_param>
__global__ void forward_kernel(StridedLoop loop, int64_t n, T a, T b) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    int64_t off[3];
    loop_offsets(loop, i, off);
    const T w = tensor_param ? at<T>(loop.data[2], off[2]) : a;
    at<T>(loop.data[0], off[0]) = pointwise::activation<act, T, DeviceMath>(at<T>(loop.data[1], off[1]), w, b);
  }
}

// mode 0: dx from (dy, saved) with scalar parameters; 1: dx from (dy, x, a);
// 2: dy * d act / d a from (dy, x, a).
template <Activation act, class T, int mode>
__global__ void backward_kernel(StridedLoop loop, int64_t n, T a, T b) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    int64_t off[4];
    loop_offsets(loop, i, off);
    const T dy = at<T>(loop.data[1], off[1]), v = at<T>(loop.data[2], off[2]);
    T r;
    if constexpr (mode == 0) {
      r = pointwise::activation_grad<act, T, DeviceMath>(dy, v, a, b);
    } else {
      const T w = at<T>(loop.data[3], off[3]);
      if constexpr (mode == 1) r = pointwise::activation_grad<act, T, DeviceMath>(dy, v, w, b);
      else r = pointwise::activation_param_grad<act, T, DeviceMath>(dy, v, w);
    }
    at<T>(loop.data[0], off[0]) = r;
  }
}

template <Activation act, class T, int mode>
void launch_backward(const StridedLoop& loop, int64_t n, T a, T b) {
  auto kernel = backward_kernel<act, T, mode>;
  DL_LAUNCH(kernel, blocks_for(n), kThreads, 0, current_stream(), loop, n, a, b);
  DL_CHECK_LAUNCH();
}

}  // namespace

void activation(Activation act, DType dt, const StridedLoop& loop, const ActivationParams& p) {
  const int64_t n = loop.numel();
  if (n == 0) return;
  dispatch_activation(act, dt, [&](auto op, auto tag) {
    using T = decltype(tag);
    constexpr Activation A = decltype(op)::value;
    auto kernel = loop.nops == 3 ? forward_kernel<A, T, true> : forward_kernel<A, T, false>;
    DL_LAUNCH(kernel, blocks_for(n), kThreads, 0, current_stream(), loop, n, static_cast<T>(p.a), static_cast<T>(p.b));
    DL_CHECK_LAUNCH();
  });
}

void activation_backward(Activation act, DType dt, const StridedLoop& loop, const ActivationParams& p,
                         bool wrt_param) {
  const int64_t n = loop.numel();
  if (n == 0) return;
  dispatch_activation(act, dt, [&](auto op, auto tag) {
    using T = decltype(tag);
    constexpr Activation A = decltype(op)::value;
    const T a = static_cast<T>(p.a), b = static_cast<T>(p.b);
    if constexpr (activation_has_grad(A)) {
      if (loop.nops == 3) launch_backward<A, T, 0>(loop, n, a, b);
      else if constexpr (activation_has_param_grad(A)) {
        if (wrt_param) launch_backward<A, T, 2>(loop, n, a, b);
        else launch_backward<A, T, 1>(loop, n, a, b);
      }
    }
  });
}

}  // namespace dlcore::cuda
