// Softmax, log-softmax (forward and backward) and the fused softmax +
// cross-entropy / NLL kernels.
//
// Shapes: contiguous (rows, classes) matrices, one softmax per row (the op
// layer moves any axis last); labels (rows,) int64 or target probabilities
// (rows, classes); per-row loss and logsumexp (rows,).
// Algorithm: OpenMP over rows; per row `omp simd` passes: the max, then the
// sum of exp(x - max) (the output written on the way), then the scaling.
// Cross-entropy makes the same two passes, adds the label's (or target's)
// term, and keeps the row's max m and log-sum ls -- all that backward needs
// besides the logits: dlogits = g (exp((x - m) - ls) - q), one pass.
// Numerics: max-subtracted (no overflow for huge logits; -inf entries give
// probability 0, a row with NaN gives NaN); sums accumulate in float64;
// lse - x is formed as (m - x) + ls, so a huge max never swallows ls.
#include <algorithm>
#include <cmath>
#include <limits>
#include "core/kernels.h"
#include "core/parallel.h"
#include "cpu/math.h"
#include "cpu/rows.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

// The max of a row; NaN entries are skipped here and poison the sum after.
template <class T> T row_max(const T* x, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

template <class T> double sum_exp(const T* x, int64_t n, T m) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(exp_simd(x[i] - m));
  return s;
}

template <class T> double row_sum(const T* x, int64_t n) {
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < n; ++i) s += static_cast<double>(x[i]);
  return s;
}

template <class T> void softmax_forward(const SoftmaxProblem& p) {
  const int64_t C = p.classes;
  for_rows(p.rows, C, [&](int64_t r) {
    const T* x = static_cast<const T*>(p.x) + r * C;
    T* y = static_cast<T*>(p.out) + r * C;
    const T m = row_max(x, C);
    if (p.log) {
      const T ls = static_cast<T>(std::log(sum_exp(x, C, m)));
#pragma omp simd
      for (int64_t i = 0; i < C; ++i) y[i] = (x[i] - m) - ls;
    } else {
      double s = 0;
#pragma omp simd reduction(+ : s)
      for (int64_t i = 0; i < C; ++i) {
        const T e = exp_simd(x[i] - m);
        y[i] = e;
        s += static_cast<double>(e);
      }
      const T inv = static_cast<T>(1.0 / s);
#pragma omp simd
      for (int64_t i = 0; i < C; ++i) y[i] *= inv;
    }
  });
}

// softmax: dx = y (dy - sum(dy y)); log-softmax: dx = dy - exp(y) sum(dy).
template <class T> void softmax_backward_rows(const SoftmaxProblem& p) {
  const int64_t C = p.classes;
  for_rows(p.rows, C, [&](int64_t r) {
    const T* y = static_cast<const T*>(p.x) + r * C;
    const T* dy = static_cast<const T*>(p.dy) + r * C;
    T* dx = static_cast<T*>(p.out) + r * C;
    if (p.log) {
      const T s = static_cast<T>(row_sum(dy, C));
#pragma omp simd
      for (int64_t i = 0; i < C; ++i) dx[i] = dy[i] - exp_simd(y[i]) * s;
    } else {
      double d = 0;
#pragma omp simd reduction(+ : d)
      for (int64_t i = 0; i < C; ++i) d += static_cast<double>(dy[i]) * static_cast<double>(y[i]);
      const T dt = static_cast<T>(d);
#pragma omp simd
      for (int64_t i = 0; i < C; ++i) dx[i] = y[i] * (dy[i] - dt);
    }
  });
}

template <class T> void cross_entropy_forward(const CrossEntropyProblem& p) {
  const int64_t C = p.classes;
  const double eps = p.smoothing, uniform = eps / static_cast<double>(C);
  for_rows(p.rows, C, [&](int64_t r) {
    const T* x = static_cast<const T*>(p.logits) + r * C;
    const T m = p.log_probs ? T(0) : row_max(x, C);
    const double ls = p.log_probs ? 0.0 : std::log(sum_exp(x, C, m));
    // lse - x_i as (m - x_i) + logsum: exact where x_i is the max, however large.
    const double md = static_cast<double>(m);
    double loss = 0;
    if (p.labels) {
      const int64_t y = p.labels[r];
      if (y != p.ignore_index) {
        loss = (1.0 - eps) * ((md - static_cast<double>(x[y])) + ls);
        if (eps != 0) loss += eps * ((md - row_sum(x, C) / static_cast<double>(C)) + ls);
      }
    } else {
      // sum_c q_c (lse - x_c), where a zero q_c contributes 0 even against a -inf logit.
      const T* t = static_cast<const T*>(p.target) + r * C;
#pragma omp simd reduction(+ : loss)
      for (int64_t i = 0; i < C; ++i) {
        const double q = (1.0 - eps) * static_cast<double>(t[i]) + uniform;
        loss += q == 0 ? 0.0 : q * ((md - static_cast<double>(x[i])) + ls);
      }
    }
    static_cast<T*>(p.loss)[r] = static_cast<T>(loss);
    if (p.stats) {
      static_cast<double*>(p.stats)[2 * r] = md;
      static_cast<double*>(p.stats)[2 * r + 1] = ls;
    }
  });
}

template <class T> void cross_entropy_backward_rows(const CrossEntropyProblem& p) {
  const int64_t C = p.classes;
  const T eps = static_cast<T>(p.smoothing), uniform = static_cast<T>(p.smoothing / static_cast<double>(C));
  const T* grad = static_cast<const T*>(p.grad);
  for_rows(p.rows, C, [&](int64_t r) {
    const T* x = static_cast<const T*>(p.logits) + r * C;
    T* dx = static_cast<T*>(p.dlogits) + r * C;
    const T g = grad[p.grad_per_row ? r : 0];
    const int64_t y = p.labels ? p.labels[r] : -1;
    if (p.labels && y == p.ignore_index) {
#pragma omp simd
      for (int64_t i = 0; i < C; ++i) dx[i] = T(0);
      return;
    }
    // q: the smoothing's uniform part here; a label's one-hot part after the loop.
    const T* t = p.labels ? nullptr : static_cast<const T*>(p.target) + r * C;
    if (p.log_probs) {
#pragma omp simd
      for (int64_t i = 0; i < C; ++i) dx[i] = -g * (t ? (T(1) - eps) * t[i] + uniform : uniform);
    } else {
      const double m = static_cast<const double*>(p.stats)[2 * r], ls = static_cast<const double*>(p.stats)[2 * r + 1];
#pragma omp simd
      for (int64_t i = 0; i < C; ++i) {
        const T prob = exp_simd(static_cast<T>((static_cast<double>(x[i]) - m) - ls));
        dx[i] = g * (prob - (t ? (T(1) - eps) * t[i] + uniform : uniform));
      }
    }
    if (p.labels) dx[y] -= g * (T(1) - eps);
  });
}

}  // namespace

void softmax(DType dt, const SoftmaxProblem& p) {
  dispatch_floating(dt, [&](auto tag) { softmax_forward<decltype(tag)>(p); });
}

void softmax_backward(DType dt, const SoftmaxProblem& p) {
  dispatch_floating(dt, [&](auto tag) { softmax_backward_rows<decltype(tag)>(p); });
}

void cross_entropy(DType dt, const CrossEntropyProblem& p) {
  dispatch_floating(dt, [&](auto tag) { cross_entropy_forward<decltype(tag)>(p); });
}

void cross_entropy_backward(DType dt, const CrossEntropyProblem& p) {
  dispatch_floating(dt, [&](auto tag) { cross_entropy_backward_rows<decltype(tag)>(p); });
}

}  // namespace dlcore::cpu::DLCORE_ISA
