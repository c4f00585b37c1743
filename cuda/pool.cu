// Pooling on the device: max and average over windows of H x W planes
// (PoolProblem in core/kernels.h), forward and backward, adaptive windows too.
//
// Forward: one thread per output walks its window (core/windows.h, the same
// clipping and NaN rule as the CPU). Backward gathers instead of
// scattering: one thread per input pixel sums the gradients of the outputs
// whose window holds it (max: whose argmax it is), so there are no atomics
// and the order of the additions is fixed.
#include "common.cuh"
#include "core/windows.h"

namespace dlcore::cuda {

namespace {

template <class T>
__global__ void pool_forward(PoolOp op, PoolProblem p, T* out, int64_t* indices, const T* in, int64_t total) {
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < total; o += int64_t(gridDim.x) * blockDim.x) {
    const int64_t ow = o % p.OW, oh = o / p.OW % p.OH, q = o / (p.OW * p.OH);
    out[o] = windows::pool_at(op, p, in + q * p.H * p.W, oh, ow, indices ? indices + o : nullptr);
  }
}

// The outputs along one dim that may hold input position i: a superset,
// each candidate checked against its taps.
__device__ void candidates(const PoolProblem& p, int64_t i, bool rows, int64_t& o0, int64_t& o1) {
  const int64_t size = rows ? p.H : p.W, osize = rows ? p.OH : p.OW;
  if (p.adaptive) {  // windows are at most ceil(size / osize) + 1 long and move monotonically
    o0 = i * osize / size - 1;
    o1 = (i + 1) * osize / size + 2;
  } else {  // start = o * s - pad <= i <= start + (K - 1) * d
    const int64_t s = rows ? p.sh : p.sw, pad = rows ? p.ph : p.pw;
    const int64_t reach = (rows ? p.KH - 1 : p.KW - 1) * (rows ? p.dh : p.dw);
    o0 = (i + pad - reach) / s - 1;
    o1 = (i + pad) / s + 1;
  }
  o0 = o0 < 0 ? 0 : o0;
  o1 = o1 > osize ? osize : o1;
}

__device__ bool holds(const windows::Taps& t, int64_t i) {
  const int64_t off = i - t.start;
  if (off < 0 || off % t.step != 0) return false;
  const int64_t k = off / t.step;
  return k >= t.k0 && k < t.k1;
}

template <class T>
__global__ void pool_backward(PoolOp op, PoolProblem p, T* grad_in, const T* grad_out, const int64_t* indices,
                              int64_t total) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t iw = i % p.W, ih = i / p.W % p.H, q = i / (p.W * p.H);
    const T* dy = grad_out + q * p.OH * p.OW;
    int64_t h0, h1, w0, w1;
    candidates(p, ih, true, h0, h1);
    candidates(p, iw, false, w0, w1);
    T acc = 0;
    for (int64_t oh = h0; oh < h1; ++oh) {
      const windows::Taps r = windows::pool_taps(p, oh, true);
      if (op == PoolOp::Avg && !holds(r, ih)) continue;
      for (int64_t ow = w0; ow < w1; ++ow) {
        const int64_t o = oh * p.OW + ow;
        if (op == PoolOp::Max) {
          if (indices[q * p.OH * p.OW + o] == ih * p.W + iw) acc += dy[o];
        } else {
          const windows::Taps c = windows::pool_taps(p, ow, false);
          if (holds(c, iw)) acc += dy[o] / static_cast<T>(r.divisor * c.divisor);
        }
      }
    }
    grad_in[i] = acc;
  }
}

}  // namespace

void pool2d(PoolOp op, DType dt, const PoolProblem& p, void* out, int64_t* indices, const void* in) {
  const int64_t total = p.planes * p.OH * p.OW;
  if (total == 0) return;
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      DL_LAUNCH(pool_forward<T>, blocks_for(total), kThreads, 0, current_stream(), op, p, static_cast<T*>(out),
                indices, static_cast<const T*>(in), total);
      DL_CHECK_LAUNCH();
    }
  });
}

void pool2d_backward(PoolOp op, DType dt, const PoolProblem& p, void* grad_in, const void* grad_out,
                     const int64_t* indices) {
  const int64_t total = p.planes * p.H * p.W;
  if (total == 0) return;
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      DL_LAUNCH(pool_backward<T>, blocks_for(total), kThreads, 0, current_stream(), op, p, static_cast<T*>(grad_in),
                static_cast<const T*>(grad_out), indices, total);
      DL_CHECK_LAUNCH();
    }
  });
}

}  // namespace dlcore::cuda
