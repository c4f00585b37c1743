// Softmax, log-softmax (forward and backward) and the fused softmax +
// cross-entropy / NLL kernels.
//
// Shapes: contiguous (rows, classes) matrices, one softmax per row (the op
// layer moves any axis last); labels (rows,) int64 or target probabilities
// (rows, classes); class weights (classes,); per-row loss (rows,) or one
// reduced value; stats (rows, 3).
// Algorithm: OpenMP over rows; per row `omp simd` passes: the max, then the
// sum of exp(x - max) (the output written on the way), then the scaling.
// Cross-entropy makes the same two passes, adds the label's (or target's)
// term, checks the label's range, and keeps the row's max m, log-sum ls and
// target mass S -- all that backward needs besides the logits:
// dlogits = g (S exp((x - m) - ls) - w q), one pass. A reduced loss sums
// the rows' (loss, weight) pairs afterwards in fixed blocks, so the whole
// forward is one call with no reduction kernels after it.
// Numerics: max-subtracted (no overflow for huge logits; -inf entries give
// probability 0, a row with NaN gives NaN); sums accumulate in float64, in
// an order that does not depend on the thread count; lse - x is formed as
// (m - x) + ls, so a huge max never swallows ls.
#include <algorithm>
#include <cmath>
#include <limits>
#include <type_traits>
#include <vector>
#include "core/kernels.h"
#include "core/parallel.h"
#include "cpu/math.h"
#include "cpu/rows.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

// What a row costs beyond its entries (horizontal reductions, a log), in
// entries' worth: for short rows (C = 10) it is most of the work, and the
// threads' share of rows is sized by it.
constexpr int64_t kRowCost = 256;

// The max of a row; NaN entries are skipped here and poison the sum after.
template <class T> T row_max(const T* x, int64_t n) {
  T m = -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(max : m)
  for (int64_t i = 0; i < n; ++i) m = x[i] > m ? x[i] : m;
  return m;
}

// The sum of exp(x - m) over a row. Whole blocks of kTail entries go
// through the vector loop; the rest is copied into one block padded with
// -inf (exp gives 0 there), so that short rows -- C = 10 is a whole row
// shorter than one AVX-512 vector -- never fall into the compiler's scalar
// remainder loop, which is a serial chain of scalar exps and float64 adds.
// x - m <= 0, so math.h's exp_neg does (a third fewer operations than exp).
template <class T> double sum_exp(const T* x, int64_t n, T m) {
  constexpr int64_t kTail = 16;
  const int64_t full = n - n % kTail;
  double s = 0;
#pragma omp simd reduction(+ : s)
  for (int64_t i = 0; i < full; ++i) s += static_cast<double>(exp_neg_simd(x[i] - m));
  if (full < n) {
    T tail[kTail];
    for (int64_t i = 0; i < kTail; ++i) tail[i] = full + i < n ? x[full + i] : -std::numeric_limits<T>::infinity();
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < kTail; ++i) s += static_cast<double>(exp_neg_simd(tail[i] - m));
  }
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
  for_rows(p.rows, C + kRowCost, [&](int64_t r) {
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
        const T e = exp_neg_simd(x[i] - m);
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
  for_rows(p.rows, C + kRowCost, [&](int64_t r) {
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

// Whether row r counts: a row of target probabilities always; a label when
// it is not ignore_index and in range -- one out of range goes to *bad_row
// (the smallest such row wins) and the row counts as ignored.
inline bool row_counts(const CrossEntropyProblem& p, int64_t r) {
  if (!p.labels) return true;
  const int64_t y = p.labels[r];
  if (y == p.ignore_index) return false;
  if (y >= 0 && y < p.classes) return true;
  int64_t cur = __atomic_load_n(p.bad_row, __ATOMIC_RELAXED);
  while (r < cur && !__atomic_compare_exchange_n(p.bad_row, &cur, r, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
  return false;
}

// A counted row's weight in a mean: its label's class weight (1 without
// weights, and for target probabilities).
template <class T> double row_weight(const CrossEntropyProblem& p, int64_t r) {
  return p.labels && p.weight ? static_cast<double>(static_cast<const T*>(p.weight)[p.labels[r]]) : 1.0;
}

// Sums of the first and second entries of n pairs in a fixed order, the
// same for any thread count: blocks of kBlock pairs in parallel, then the
// blocks in order.
inline void sum_pairs(const double* v, int64_t n, double& s0, double& s1) {
  constexpr int64_t kBlock = 4096;
  const int64_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<double> part(static_cast<size_t>(2 * blocks));
  parallel_for(blocks, 4, [&](int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; ++b) {
      double a0 = 0, a1 = 0;
      for (int64_t i = b * kBlock; i < std::min(n, (b + 1) * kBlock); ++i) {
        a0 += v[2 * i];
        a1 += v[2 * i + 1];
      }
      part[2 * b] = a0;
      part[2 * b + 1] = a1;
    }
  });
  s0 = s1 = 0;
  for (int64_t b = 0; b < blocks; ++b) {
    s0 += part[2 * b];
    s1 += part[2 * b + 1];
  }
}

// sum_c w_c (m - x_c), w = 1 without weights: the smoothing's term.
template <class T> double weighted_gap(const T* x, const T* w, int64_t n, double m) {
  double s = 0;
  if (w) {
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) s += static_cast<double>(w[i]) * (m - static_cast<double>(x[i]));
  } else {
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) s += m - static_cast<double>(x[i]);
  }
  return s;
}

// f(std::true_type) or f(std::false_type): one instance of a row loop per case.
template <class F> void dispatch_bool(bool b, F&& f) {
  if (b) f(std::true_type{});
  else f(std::false_type{});
}

// A row of target probabilities: loss = sum_c w_c q_c (lse - x_c), where a
// zero q_c contributes 0 even against a -inf logit, and mass = sum_c w_c q_c.
// One instance with weights and one without, each a branch-free loop.
template <class T, bool kWeighted>
void target_terms(const T* x, const T* t, const T* w, int64_t C, double m, double ls, double eps, double uniform,
                  double& loss, double& mass) {
  double l = 0, s = 0;
#pragma omp simd reduction(+ : l, s)
  for (int64_t i = 0; i < C; ++i) {
    double q = (1.0 - eps) * static_cast<double>(t[i]) + uniform;
    if constexpr (kWeighted) q *= static_cast<double>(w[i]);
    l += q == 0 ? 0.0 : q * ((m - static_cast<double>(x[i])) + ls);
    s += q;
  }
  loss = l;
  mass = s;
}

template <class T> void cross_entropy_forward(const CrossEntropyProblem& p) {
  const int64_t C = p.classes;
  const double eps = p.smoothing, uniform = eps / static_cast<double>(C);
  const T* w = static_cast<const T*>(p.weight);
  const double wsum = w ? row_sum(w, C) : static_cast<double>(C);
  for_rows(p.rows, C + kRowCost, [&](int64_t r) {
    const T* x = static_cast<const T*>(p.logits) + r * C;
    const T m = p.log_probs ? T(0) : row_max(x, C);
    const double ls = p.log_probs ? 0.0 : std::log(sum_exp(x, C, m));
    // lse - x_i as (m - x_i) + logsum: exact where x_i is the max, however large.
    const double md = static_cast<double>(m);
    const bool counts = row_counts(p, r);
    const double weight = counts ? row_weight<T>(p, r) : 0.0;
    double loss = 0, mass = 0;
    if (p.labels) {
      if (counts) {
        const int64_t y = p.labels[r];
        loss = (1.0 - eps) * weight * ((md - static_cast<double>(x[y])) + ls);
        mass = (1.0 - eps) * weight + uniform * wsum;
        if (eps != 0) loss += uniform * (weighted_gap(x, w, C, md) + wsum * ls);
      }
    } else {
      const T* t = static_cast<const T*>(p.target) + r * C;
      dispatch_bool(w != nullptr, [&](auto weighted) {
        target_terms<T, decltype(weighted)::value>(x, t, w, C, md, ls, eps, uniform, loss, mass);
      });
    }
    if (p.reduce) {
      p.scratch[2 * r] = loss;
      p.scratch[2 * r + 1] = weight;
    } else {
      static_cast<T*>(p.loss)[r] = static_cast<T>(loss);
    }
    if (p.stats) {
      double* st = static_cast<double*>(p.stats) + 3 * r;
      st[0] = md;
      st[1] = ls;
      st[2] = mass;
    }
  });
  if (p.reduce) {
    double total, weights;
    sum_pairs(p.scratch, p.rows, total, weights);
    *static_cast<T*>(p.loss) = static_cast<T>(p.mean ? total / weights : total);
  }
}

// One row of dlogits = g (S prob - w q), or g (-w q) for log-probabilities,
// with q = keep t + uniform or, for a label, the uniform part alone (the
// caller adds the one-hot part). One instance per case, so that each loop
// is straight-line code the compiler vectorizes.
template <class T, bool kLogProbs, bool kTarget, bool kWeighted>
void grad_row(T* dx, const T* x, const T* t, const T* w, int64_t C, T g, const double* st, T keep, T uniform) {
  const double m = kLogProbs ? 0.0 : st[0], ls = kLogProbs ? 0.0 : st[1];
  const T mass = kLogProbs ? T(0) : static_cast<T>(st[2]);
#pragma omp simd
  for (int64_t i = 0; i < C; ++i) {
    T q = uniform;
    if constexpr (kTarget) q += keep * t[i];
    if constexpr (kWeighted) q *= w[i];
    if constexpr (kLogProbs) dx[i] = -g * q;
    else dx[i] = g * (mass * exp_neg_simd(static_cast<T>((static_cast<double>(x[i]) - m) - ls)) - q);
  }
}

template <class T> void cross_entropy_backward_rows(const CrossEntropyProblem& p) {
  const int64_t C = p.classes;
  const T eps = static_cast<T>(p.smoothing), uniform = static_cast<T>(p.smoothing / static_cast<double>(C));
  const T* w = static_cast<const T*>(p.weight);
  const T* grad = static_cast<const T*>(p.grad);
  // A mean divides by the rows' summed weights: one pass over the labels first.
  double denom = 1;
  if (p.mean && p.labels) {
    for_rows(p.rows, 1, [&](int64_t r) {
      p.scratch[2 * r] = row_counts(p, r) ? row_weight<T>(p, r) : 0.0;
      p.scratch[2 * r + 1] = 0;
    });
    double unused;
    sum_pairs(p.scratch, p.rows, denom, unused);
  } else if (p.mean) {
    denom = static_cast<double>(p.rows);
  }
  for_rows(p.rows, C + kRowCost, [&](int64_t r) {
    const T* x = static_cast<const T*>(p.logits) + r * C;
    T* dx = static_cast<T*>(p.dlogits) + r * C;
    if (!row_counts(p, r)) {
#pragma omp simd
      for (int64_t i = 0; i < C; ++i) dx[i] = T(0);
      return;
    }
    const T g = static_cast<T>(static_cast<double>(grad[p.grad_per_row ? r : 0]) / denom);
    const T* t = p.labels ? nullptr : static_cast<const T*>(p.target) + r * C;
    const double* st = p.log_probs ? nullptr : static_cast<const double*>(p.stats) + 3 * r;
    dispatch_bool(p.log_probs, [&](auto log_probs) {
      dispatch_bool(t != nullptr, [&](auto target) {
        dispatch_bool(w != nullptr, [&](auto weighted) {
          grad_row<T, decltype(log_probs)::value, decltype(target)::value, decltype(weighted)::value>(
              dx, x, t, w, C, g, st, T(1) - eps, uniform);
        });
      });
    });
    if (p.labels) dx[p.labels[r]] -= g * (T(1) - eps) * static_cast<T>(row_weight<T>(p, r));
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
