// The per-unit math of the fused LSTM and GRU cells (LstmCellProblem and
// GruCellProblem in core/kernels.h), written once for the CPU kernels
// (cpu/recurrent.cpp, with cpu/math.h's vectorizable SimdMath) and the CUDA
// kernels (cuda/recurrent.cu, with the device's math), as core/pointwise.h is
// for the activations. Each function maps one hidden unit's pre-activations
// to its outputs; the kernels only walk the (row, unit) grid.
//
// Numerics: sigmoid and its complement come from one exp of a non-positive
// argument (sigmoid_pair), tanh from the Math policy, so no intermediate
// overflows for any finite pre-activation (+-1e4 saturates cleanly to 0 / 1
// / +-1). The backward recomputes the activations from the pre-activations
// with the same functions as the forward, so it sees exactly the forward's
// values; derivatives are products of those values (s (1 - s) with the
// complement computed directly, (1 - t)(1 + t) for tanh), never differences
// of exps, so they are 0 -- not NaN -- where the gates saturate.
#pragma once
#include "core/pointwise.h"

namespace dlcore::pointwise {

// s = sigmoid(x) and t = 1 - s = sigmoid(-x), both from e = exp(-|x|) in
// (0, 1]: each keeps its relative precision in both tails, where 1 - s
// would cancel to 0 (from x ~ 17 in float32). s t is sigmoid's derivative.
template <class T, class Math> DL_HD_INLINE void sigmoid_pair(T x, T& s, T& t) {
  const T e = Math::exp(-Math::abs(x));
  const T r = T(1) / (T(1) + e);
  s = x >= T(0) ? r : e * r;
  t = x >= T(0) ? e * r : r;
}

// tanh's derivative from its value v: (1 - v)(1 + v), as activation_grad.
template <class T> DL_HD_INLINE T tanh_grad_from(T v) { return (T(1) - v) * (T(1) + v); }

// LSTM, one unit: pre-activations gi, gf, gg, go (PyTorch's order), cell
// state cp -> c = sigmoid(gf) cp + sigmoid(gi) tanh(gg), h = sigmoid(go) tanh(c).
template <class T, class Math>
DL_HD_INLINE void lstm_cell(T gi, T gf, T gg, T go, T cp, T& h, T& c) {
  c = sigmoid<T, Math>(gf) * cp + sigmoid<T, Math>(gi) * Math::tanh(gg);
  h = sigmoid<T, Math>(go) * Math::tanh(c);
}

// Its backward: dh, dc_next (the gradient reaching c from later steps) and
// the forward's inputs and c -> the gradients of the four pre-activations and
// of cp. dc = dc_next + dh sigmoid(go) tanh'(c) is the gradient of c.
template <class T, class Math>
DL_HD_INLINE void lstm_cell_backward(T dh, T dc_next, T gi, T gf, T gg, T go, T cp, T c, T& di, T& df, T& dg,
                                     T& d_o, T& dcp) {
  T i, ti, f, tf, o, to;
  sigmoid_pair<T, Math>(gi, i, ti);
  sigmoid_pair<T, Math>(gf, f, tf);
  sigmoid_pair<T, Math>(go, o, to);
  const T g = Math::tanh(gg), tc = Math::tanh(c);
  const T dc = dc_next + dh * o * tanh_grad_from(tc);
  di = dc * g * (i * ti);
  df = dc * cp * (f * tf);
  dg = dc * i * tanh_grad_from(g);
  d_o = dh * tc * (o * to);
  dcp = dc * f;
}

// GRU, one unit: the input's pre-activations xr, xz, xn, the hidden state's
// hr, hz, hn, and hp -> h = (1 - z) n + z hp with r = sigmoid(xr + hr),
// z = sigmoid(xz + hz), n = tanh(xn + r hn). 1 - z is sigmoid(-(xz + hz)),
// exact where z rounds to 1.
template <class T, class Math>
DL_HD_INLINE T gru_cell(T xr, T xz, T xn, T hr, T hz, T hn, T hp) {
  T z, tz;
  sigmoid_pair<T, Math>(xz + hz, z, tz);
  const T n = Math::tanh(xn + sigmoid<T, Math>(xr + hr) * hn);
  return tz * n + z * hp;
}

// Its backward: dh -> the gradients of the r and z pre-activations (the same
// for the input's and the hidden state's gates), of xn (dxn) and hn (dhn),
// and of hp.
template <class T, class Math>
DL_HD_INLINE void gru_cell_backward(T dh, T xr, T xz, T xn, T hr, T hz, T hn, T hp, T& dr, T& dz, T& dxn, T& dhn,
                                    T& dhp) {
  T r, tr, z, tz;
  sigmoid_pair<T, Math>(xr + hr, r, tr);
  sigmoid_pair<T, Math>(xz + hz, z, tz);
  const T n = Math::tanh(xn + r * hn);
  dxn = dh * tz * tanh_grad_from(n);
  dhn = dxn * r;
  dr = dxn * hn * (r * tr);
  dz = dh * (hp - n) * (z * tz);
  dhp = dh * z;
}

}  // namespace dlcore::pointwise
