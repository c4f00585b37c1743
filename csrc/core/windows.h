// The sliding-window arithmetic of convolution and pooling, shared by the
// CPU kernels (csrc/cpu/conv.cpp, pool.cpp) and the CUDA ones (cuda/conv.cu,
// pool.cu): the defining sums of the three convolution passes -- the direct
// kernels, the oracles of both backends, are these per output element --
// and the clipped window of a pooling output.
#pragma once
#include <cstdint>
#include "core/pointwise.h"

namespace dlcore::windows {

// x's value at (c, ih, iw) of an image (channels of H x W), zero in the padding.
template <class T>
DL_HD T pixel(const T* x, int64_t H, int64_t W, int64_t c, int64_t ih, int64_t iw) {
  return (ih >= 0 && ih < H && iw >= 0 && iw < W) ? x[(c * H + ih) * W + iw] : T(0);
}

// y[n, oc, oh, ow] = bias[oc] + sum over (c, kh, kw) of oc's group of w[oc, c, kh, kw] * x[n, g*Cg + c, ...].
template <class T>
DL_HD T conv_forward_at(const ConvProblem& p, const T* x, const T* w, const T* bias, int64_t n, int64_t oc,
                        int64_t oh, int64_t ow) {
  const int64_t Cg = p.C / p.groups, g = oc / (p.OC / p.groups);
  const T* xg = x + (n * p.C + g * Cg) * p.H * p.W;
  T acc = bias ? bias[oc] : T(0);
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t kh = 0; kh < p.KH; ++kh)
      for (int64_t kw = 0; kw < p.KW; ++kw)
        acc += w[((oc * Cg + c) * p.KH + kh) * p.KW + kw] *
               pixel(xg, p.H, p.W, c, oh * p.sh - p.ph + kh * p.dh, ow * p.sw - p.pw + kw * p.dw);
  return acc;
}

// dx[n, c, ih, iw] = sum over the outputs (oc, oh, ow) whose patch read x[n, c, ih, iw].
template <class T>
DL_HD T conv_backward_input_at(const ConvProblem& p, const T* dy, const T* w, int64_t n, int64_t c, int64_t ih,
                               int64_t iw) {
  const int64_t Cg = p.C / p.groups, OCg = p.OC / p.groups, g = c / Cg;
  T acc = 0;
  for (int64_t oc = g * OCg; oc < (g + 1) * OCg; ++oc)
    for (int64_t kh = 0; kh < p.KH; ++kh)
      for (int64_t kw = 0; kw < p.KW; ++kw) {
        const int64_t th = ih + p.ph - kh * p.dh, tw = iw + p.pw - kw * p.dw;
        if (th < 0 || tw < 0 || th % p.sh != 0 || tw % p.sw != 0) continue;
        const int64_t oh = th / p.sh, ow = tw / p.sw;
        if (oh >= p.OH || ow >= p.OW) continue;
        acc += dy[((n * p.OC + oc) * p.OH + oh) * p.OW + ow] * w[((oc * Cg + c % Cg) * p.KH + kh) * p.KW + kw];
      }
  return acc;
}

// dw[oc, c, kh, kw] = sum over images and output pixels of dy * the input it multiplied.
template <class T>
DL_HD T conv_backward_weight_at(const ConvProblem& p, const T* dy, const T* x, int64_t oc, int64_t c, int64_t kh,
                                int64_t kw) {
  const int64_t Cg = p.C / p.groups, g = oc / (p.OC / p.groups);
  T acc = 0;
  for (int64_t n = 0; n < p.N; ++n) {
    const T* xg = x + (n * p.C + g * Cg) * p.H * p.W;
    for (int64_t oh = 0; oh < p.OH; ++oh)
      for (int64_t ow = 0; ow < p.OW; ++ow)
        acc += dy[((n * p.OC + oc) * p.OH + oh) * p.OW + ow] *
               pixel(xg, p.H, p.W, c, oh * p.sh - p.ph + kh * p.dh, ow * p.sw - p.pw + kw * p.dw);
  }
  return acc;
}

// The taps of pooling output o along one dim (rows or columns): positions
// start + k * step for k in [k0, k1), all inside the image; divisor is the
// average pool's count (PoolProblem in core/kernels.h).
struct Taps {
  int64_t start, step, k0, k1, divisor;
};

DL_HD Taps pool_taps(const PoolProblem& p, int64_t o, bool rows) {
  const int64_t size = rows ? p.H : p.W, osize = rows ? p.OH : p.OW;
  if (p.adaptive) {  // [floor(o * size / osize), ceil((o + 1) * size / osize))
    const int64_t begin = o * size / osize, end = ((o + 1) * size + osize - 1) / osize;
    return {begin, 1, 0, end - begin, end - begin};
  }
  const int64_t K = rows ? p.KH : p.KW, s = rows ? p.sh : p.sw, pad = rows ? p.ph : p.pw, d = rows ? p.dh : p.dw;
  const int64_t start = o * s - pad;
  const int64_t k0 = start < 0 ? (-start + d - 1) / d : 0;
  int64_t k1 = (size - start + d - 1) / d;
  k1 = k1 > K ? K : (k1 < k0 ? k0 : k1);
  // count_include_pad counts the window's positions inside the padded image
  // (PyTorch's rule: with ceil_mode a last window may reach beyond even that).
  const int64_t padded_end = start + K < size + pad ? start + K : size + pad;
  return {start, d, k0, k1, p.count_include_pad ? padded_end - start : k1 - k0};
}

// Pooling output (oh, ow) of plane x (H x W): the max -- the first maximum
// wins and NaN beats everything; *arg gets its flat index -- or the mean.
template <class T>
DL_HD T pool_at(PoolOp op, const PoolProblem& p, const T* x, int64_t oh, int64_t ow, int64_t* arg) {
  const Taps r = pool_taps(p, oh, true), c = pool_taps(p, ow, false);
  T acc = T(0);
  int64_t best = -1;
  for (int64_t kh = r.k0; kh < r.k1; ++kh)
    for (int64_t kw = c.k0; kw < c.k1; ++kw) {
      const int64_t i = (r.start + kh * r.step) * p.W + c.start + kw * c.step;
      if (op == PoolOp::Avg) acc += x[i];
      else if (best < 0 || (!pointwise::is_nan(acc) && (x[i] > acc || pointwise::is_nan(x[i])))) {
        acc = x[i];
        best = i;
      }
    }
  if (op == PoolOp::Max) *arg = best;
  return op == PoolOp::Max ? acc : acc / static_cast<T>(r.divisor * c.divisor);
}

}  // namespace dlcore::windows
