// Loss kernels, forward and backward: the elementwise losses (MSE, L1,
// smooth L1, Huber, binary cross-entropy on probabilities and on logits --
// with a pos_weight too --, KL divergence; MSE / L1 against zero are the
// L2 / L1 penalties), the multi-class hinge and squared hinge (with class
// weights), and the cosine similarity of rows.
//
// Shapes: elementwise, a StridedLoop over the loss's (broadcast) shape
// (forward operands out, x, t[, pos_weight][, weight]; backward dx, x, t, g
// [, pos_weight] with g one value or one per element, any weight folded
// in); hinge, contiguous (rows, classes) scores, (rows,) labels and
// (classes,) weights; cosine, contiguous (rows, n) matrices a and b.
// Algorithm: the elementwise rows of cpu/rows.h with the loss a template
// parameter; the row kernels give rows to threads and make `omp simd`
// passes over each (hinge: the margins' sum, then the gradient; cosine: the
// three dot products a.b, a.a, b.b in one pass).
// Numerics: the formulas of core/pointwise.h (shared with CUDA); row sums
// accumulate in float64, in a fixed order per row (the same for any thread
// count); NaN propagates through every loss and gradient.
#include <cmath>
#include "core/kernels.h"
#include "core/pointwise.h"
#include "cpu/math.h"
#include "cpu/rows.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

// max(0, z)^power and its derivative, NaN kept.
template <class T> inline T hinge(T z, int power) {
  const T h = pointwise::select_nan(z, z > T(0) ? z : T(0));
  return power == 2 ? h * h : h;
}
template <class T> inline T hinge_grad(T z, int power) {
  return pointwise::select_nan(z, z > T(0) ? (power == 2 ? T(2) * z : T(1)) : T(0));
}

template <class T> void margin_forward(const MarginProblem& p) {
  const int64_t C = p.classes;
  const T margin = static_cast<T>(p.margin);
  for_rows(p.rows, C, [&](int64_t r) {
    const T* x = static_cast<const T*>(p.x) + r * C;
    const int64_t y = p.labels[r];
    const T xy = x[y];
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < C; ++j) s += j == y ? 0.0 : static_cast<double>(hinge(margin - xy + x[j], p.power));
    const double w = p.weight ? static_cast<double>(static_cast<const T*>(p.weight)[y]) : 1.0;
    static_cast<T*>(p.loss)[r] = static_cast<T>(w * s / static_cast<double>(C));
  });
}

template <class T> void margin_backward(const MarginProblem& p) {
  const int64_t C = p.classes;
  const T margin = static_cast<T>(p.margin);
  const T* grad = static_cast<const T*>(p.grad);
  for_rows(p.rows, C, [&](int64_t r) {
    const T* x = static_cast<const T*>(p.x) + r * C;
    T* dx = static_cast<T*>(p.dx) + r * C;
    const int64_t y = p.labels[r];
    const T w = p.weight ? static_cast<const T*>(p.weight)[y] : T(1);
    const T xy = x[y], g = w * grad[p.grad_per_row ? r : 0] / static_cast<T>(C);
    double s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t j = 0; j < C; ++j) {
      const T d = j == y ? T(0) : hinge_grad(margin - xy + x[j], p.power) * g;
      dx[j] = d;
      s += static_cast<double>(d);
    }
    dx[y] = static_cast<T>(-s);
  });
}

// The row's a.b, a.a, b.b in float64.
template <class T> inline void dots(const T* a, const T* b, int64_t n, double& ab, double& aa, double& bb) {
  double sab = 0, saa = 0, sbb = 0;
#pragma omp simd reduction(+ : sab, saa, sbb)
  for (int64_t i = 0; i < n; ++i) {
    const double u = static_cast<double>(a[i]), v = static_cast<double>(b[i]);
    sab += u * v;
    saa += u * u;
    sbb += v * v;
  }
  ab = sab; aa = saa; bb = sbb;
}

template <class T> void cosine_forward(const CosineProblem& p) {
  for_rows(p.rows, p.n, [&](int64_t r) {
    double ab, aa, bb;
    dots(static_cast<const T*>(p.a) + r * p.n, static_cast<const T*>(p.b) + r * p.n, p.n, ab, aa, bb);
    static_cast<T*>(p.out)[r] = static_cast<T>(ab / (std::fmax(std::sqrt(aa), p.eps) * std::fmax(std::sqrt(bb), p.eps)));
  });
}

// With da = max(|a|, eps), db = max(|b|, eps), cos = a.b / (da db):
// d cos / d a = b / (da db) - cos a / |a|^2 where |a| > eps (else the norm is
// the constant eps and only the first term remains); likewise for b. The
// coefficients stay in double and each element rounds once: g cos / |b|^2 of
// a float32 row with a long b (|b| = 1.7e13: 2e-40) is below float32's normal
// range, where a cast would keep only a few of its bits.
template <class T> void cosine_backward(const CosineProblem& p) {
  const T* grad = static_cast<const T*>(p.grad);
  for_rows(p.rows, p.n, [&](int64_t r) {
    const T* a = static_cast<const T*>(p.a) + r * p.n;
    const T* b = static_cast<const T*>(p.b) + r * p.n;
    double ab, aa, bb;
    dots(a, b, p.n, ab, aa, bb);
    const double na = std::sqrt(aa), nb = std::sqrt(bb), den = std::fmax(na, p.eps) * std::fmax(nb, p.eps);
    const double g = static_cast<double>(grad[r]), cos = ab / den;
    const double cross = g / den;
    const double self_a = na > p.eps ? g * cos / aa : 0.0;
    const double self_b = nb > p.eps ? g * cos / bb : 0.0;
    T* da = static_cast<T*>(p.da) + r * p.n;
    T* db = static_cast<T*>(p.db) + r * p.n;
#pragma omp simd
    for (int64_t i = 0; i < p.n; ++i) {
      da[i] = static_cast<T>(cross * static_cast<double>(b[i]) - self_a * static_cast<double>(a[i]));
      db[i] = static_cast<T>(cross * static_cast<double>(a[i]) - self_b * static_cast<double>(b[i]));
    }
  });
}

// The elementwise losses: w l(x, t) into out (w: a weight operand, or 1),
// or dl/dx * g into dx; BCEWithLogitsPosWeight reads its parameter from the
// pos_weight operand.
template <bool kBackward>
void elementwise(Loss kind, DType dt, const StridedLoop& loop, double a) {
  dispatch_loss(kind, dt, [&](auto op, auto tag) {
    using T = decltype(tag);
    constexpr Loss L = decltype(op)::value;
    constexpr bool kPos = L == Loss::BCEWithLogitsPosWeight;
    const T pa = static_cast<T>(a);
    const bool weighted = loop.nops > (kPos ? 4 : 3);
    run(loop, [pa, weighted](char* const* p, const int64_t* s, int64_t n) {
      auto value = [](T x, T t, T param) { return pointwise::loss_value<L, T, SimdMath>(x, t, param); };
      auto grad = [](T x, T t, T g, T param) { return pointwise::loss_grad<L, T, SimdMath>(x, t, g, param); };
      if constexpr (kBackward && kPos)
        quaternary_row<T>(p, s, n, grad);
      else if constexpr (kBackward)
        ternary_row<T>(p, s, n, [pa, grad](T x, T t, T g) { return grad(x, t, g, pa); });
      else if constexpr (kPos) {
        if (weighted) quaternary_row<T>(p, s, n, [value](T x, T t, T pw, T w) { return w * value(x, t, pw); });
        else ternary_row<T>(p, s, n, value);
      } else {
        if (weighted) ternary_row<T>(p, s, n, [pa, value](T x, T t, T w) { return w * value(x, t, pa); });
        else binary_row<T, T, T>(p, s, n, [pa, value](T x, T t) { return value(x, t, pa); });
      }
    });
  });
}

}  // namespace

void loss(Loss kind, DType dt, const StridedLoop& loop, double a) { elementwise<false>(kind, dt, loop, a); }

void loss_backward(Loss kind, DType dt, const StridedLoop& loop, double a) { elementwise<true>(kind, dt, loop, a); }

void multi_margin(DType dt, const MarginProblem& p) {
  dispatch_floating(dt, [&](auto tag) { margin_forward<decltype(tag)>(p); });
}

void multi_margin_backward(DType dt, const MarginProblem& p) {
  dispatch_floating(dt, [&](auto tag) { margin_backward<decltype(tag)>(p); });
}

void cosine_similarity(DType dt, const CosineProblem& p) {
  dispatch_floating(dt, [&](auto tag) { cosine_forward<decltype(tag)>(p); });
}

void cosine_similarity_backward(DType dt, const CosineProblem& p) {
  dispatch_floating(dt, [&](auto tag) { cosine_backward<decltype(tag)>(p); });
}

}  // namespace dlcore::cpu::DLCORE_ISA
