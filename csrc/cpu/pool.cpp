// Pooling on the CPU: max and average over windows of H x W planes
// (PoolProblem in core/kernels.h; N x C planes of an NCHW tensor), forward
// and backward, and the adaptive windows of global average pooling.
//
// Each output's window is clipped to the image once per row and per column
// (windows::pool_taps), so the loops over it carry no bounds tests. Threads take
// whole planes: the backward passes scatter into their own plane only (max:
// each output's gradient onto its argmax; avg: spread evenly over the
// window), so there are no races and the order of additions is fixed.
// Numerics: max is exact and propagates NaN (the first NaN in the window is
// the maximum); avg sums in the input type, at most KH * KW terms.
#include <algorithm>
#include "core/parallel.h"
#include "core/windows.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

template <class T>
void pool_forward(PoolOp op, const PoolProblem& p, T* out, int64_t* indices, const T* in) {
  const int64_t plane = p.H * p.W, oplane = p.OH * p.OW;
  parallel_for(p.planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, plane)), [&](int64_t begin, int64_t end) {
    for (int64_t q = begin; q < end; ++q) {
      const T* x = in + q * plane;
      for (int64_t oh = 0; oh < p.OH; ++oh)
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          const int64_t o = q * oplane + oh * p.OW + ow;
          out[o] = windows::pool_at(op, p, x, oh, ow, indices ? indices + o : nullptr);
        }
    }
  });
}

template <class T>
void pool_backward(PoolOp op, const PoolProblem& p, T* grad_in, const T* grad_out, const int64_t* indices) {
  const int64_t plane = p.H * p.W, oplane = p.OH * p.OW;
  parallel_for(p.planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, plane)), [&](int64_t begin, int64_t end) {
    for (int64_t q = begin; q < end; ++q) {
      T* dx = grad_in + q * plane;
      std::fill(dx, dx + plane, T(0));
      const T* dy = grad_out + q * oplane;
      if (op == PoolOp::Max) {
        const int64_t* idx = indices + q * oplane;
        for (int64_t o = 0; o < oplane; ++o) dx[idx[o]] += dy[o];
        continue;
      }
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        const auto r = windows::pool_taps(p, oh, true);
        for (int64_t ow = 0; ow < p.OW; ++ow) {
          const auto c = windows::pool_taps(p, ow, false);
          const T g = dy[oh * p.OW + ow] / static_cast<T>(r.divisor * c.divisor);
          for (int64_t kh = r.k0; kh < r.k1; ++kh) {
            T* row = dx + (r.start + kh * r.step) * p.W + c.start;
            for (int64_t kw = c.k0; kw < c.k1; ++kw) row[kw * c.step] += g;
          }
        }
      }
    }
  });
}

}  // namespace

void pool2d(PoolOp op, DType dt, const PoolProblem& p, void* out, int64_t* indices, const void* in) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) pool_forward<T>(op, p, static_cast<T*>(out), indices, static_cast<const T*>(in));
  });
}

void pool2d_backward(PoolOp op, DType dt, const PoolProblem& p, void* grad_in, const void* grad_out,
                     const int64_t* indices) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>)
      pool_backward<T>(op, p, static_cast<T*>(grad_in), static_cast<const T*>(grad_out), indices);
  });
}

}  // namespace dlcore::cpu::DLCORE_ISA
