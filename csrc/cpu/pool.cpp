// Pooling on the CPU: max and average over windows of H x W planes
// (PoolProblem in core/kernels.h; N x C planes of an NCHW tensor), forward
// and backward, and the adaptive windows of global average pooling.
//
// Each output's window is clipped to the image once per row and per column
// (windows::pool_taps), so the loops over it carry no bounds tests; the
// outputs whose windows lie inside the image go a row at a time, tap by tap,
// in loops that vectorize (pool_row), and global average pooling is one
// vectorized sum per plane. Threads take whole planes: the backward passes
// scatter into their own plane only (max: each output's gradient onto its
// argmax, a plain store when windows cannot overlap; avg: spread evenly
// over the window), so there are no races and the order of additions is
// fixed.
// Numerics: max is exact and propagates NaN (the first NaN in the window is
// the maximum); avg sums in the input type, at most KH * KW terms.
#include <algorithm>
#include "core/parallel.h"
#include "core/windows.h"
#include "cpu/simd.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

// Outputs [lo, hi) of one output row whose windows lie inside the image
// across the whole kernel width, computed tap by tap: for each (kh, kw) one
// pass over the row, strided by sw, with no tests -- the loop vectorizes.
// The taps come in pool_at's order (kh-major), so the sums and "the first
// maximum wins" agree with it exactly.
template <class T>
void pool_row(PoolOp op, const PoolProblem& p, const T* x, const windows::Taps& r, int64_t lo, int64_t hi, T* out,
              int64_t* idx) {
  const int64_t s = p.sw, n = hi - lo;
  bool first = true;
  for (int64_t kh = r.k0; kh < r.k1; ++kh)
    for (int64_t kw = 0; kw < p.KW; ++kw, first = false) {
      const int64_t i0 = (r.start + kh * r.step) * p.W + lo * s - p.pw + kw * p.dw;  // input of output lo
      const T* src = x + i0;
      if (op == PoolOp::Avg) {
        if (first) for (int64_t j = 0; j < n; ++j) out[j] = src[j * s];
        else for (int64_t j = 0; j < n; ++j) out[j] += src[j * s];
      } else if (first) {
        for (int64_t j = 0; j < n; ++j) { out[j] = src[j * s]; idx[j] = i0 + j * s; }
      } else {
        for (int64_t j = 0; j < n; ++j) {
          const T v = src[j * s];
          // NaN: the first one stays. & and |, not && and ||: no branches to
          // mispredict on random data, and the loop vectorizes into blends.
          const bool better = (out[j] == out[j]) & ((v > out[j]) | (v != v));
          out[j] = better ? v : out[j];
          idx[j] = better ? i0 + j * s : idx[j];
        }
      }
    }
  if (op == PoolOp::Avg) {
    const T div = static_cast<T>(r.divisor * p.KW);  // an inside window's column count is KW
    for (int64_t j = 0; j < n; ++j) out[j] /= div;
  }
}

template <class T>
void pool_forward(PoolOp op, const PoolProblem& p, T* out, int64_t* indices, const T* in) {
  const int64_t plane = p.H * p.W, oplane = p.OH * p.OW;
  // The output columns whose windows are inside the image (pool_row), when not adaptive.
  const int64_t lo = p.adaptive ? p.OW : std::min(p.OW, (p.pw + p.sw - 1) / p.sw);
  const int64_t last_start = p.W - 1 - (p.KW - 1) * p.dw + p.pw;  // the largest ow * sw that fits
  const int64_t hi = p.adaptive || last_start < 0 ? lo : std::max(lo, std::min(p.OW, last_start / p.sw + 1));
  parallel_for(p.planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, plane)), [&](int64_t begin, int64_t end) {
    for (int64_t q = begin; q < end; ++q) {
      const T* x = in + q * plane;
      if (p.adaptive && p.OH == 1 && p.OW == 1) {  // global average pooling: one vectorized sum
        // Explicit vectors: a plane is often a few of them (8 x 8), too
        // short for a compiled reduction's alignment prologue to pay off.
        using S = Simd<T>;
        typename S::V acc = S::zero();
        int64_t i = 0;
        for (; i + S::W <= plane; i += S::W) acc = acc + S::load(x + i);
        if (i < plane) acc = acc + S::load_n(x + i, static_cast<int>(plane - i));
        out[q] = S::sum(acc) / static_cast<T>(plane);
        continue;
      }
      for (int64_t oh = 0; oh < p.OH; ++oh) {
        T* o = out + q * oplane + oh * p.OW;
        int64_t* idx = indices ? indices + q * oplane + oh * p.OW : nullptr;
        if (hi > lo) pool_row(op, p, x, windows::pool_taps(p, oh, true), lo, hi, o + lo, idx ? idx + lo : nullptr);
        for (int64_t ow = 0; ow < lo; ++ow) o[ow] = windows::pool_at(op, p, x, oh, ow, idx ? idx + ow : nullptr);
        for (int64_t ow = hi; ow < p.OW; ++ow) o[ow] = windows::pool_at(op, p, x, oh, ow, idx ? idx + ow : nullptr);
      }
    }
  });
}

template <class T>
void pool_backward(PoolOp op, const PoolProblem& p, T* grad_in, const T* grad_out, const int64_t* indices) {
  const int64_t plane = p.H * p.W, oplane = p.OH * p.OW;
  const bool disjoint = !p.adaptive && p.sh > (p.KH - 1) * p.dh && p.sw > (p.KW - 1) * p.dw;
  parallel_for(p.planes, std::max<int64_t>(1, 16384 / std::max<int64_t>(1, plane)), [&](int64_t begin, int64_t end) {
    for (int64_t q = begin; q < end; ++q) {
      T* dx = grad_in + q * plane;
      std::fill(dx, dx + plane, T(0));
      const T* dy = grad_out + q * oplane;
      if (op == PoolOp::Max) {
        const int64_t* idx = indices + q * oplane;
        // Windows that cannot overlap have distinct argmaxes: stores, not
        // read-modify-writes of values just zeroed.
        if (disjoint) for (int64_t o = 0; o < oplane; ++o) dx[idx[o]] = dy[o];
        else for (int64_t o = 0; o < oplane; ++o) dx[idx[o]] += dy[o];
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
