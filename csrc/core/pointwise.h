// The scalar semantics of every elementwise op, shared by the CPU kernels
// (csrc/cpu) and the CUDA kernels (cuda/) so both backends agree exactly on
// NaN rules, integer corner cases and conversions. Transcendentals come from
// a Math policy: the CPU passes its vectorizable exp/log, CUDA the device's.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>
#include <type_traits>
#include "core/kernels.h"

#if defined(__CUDACC__)
#define DL_HD __host__ __device__ __forceinline__
#define DL_HD_INLINE DL_HD
#else
#define DL_HD inline
// For the per-element math of the CPU's vectorized loops: a call left in a
// loop stops its vectorization, and GCC's inliner gives up on these in a
// translation unit that instantiates many kernels.
#define DL_HD_INLINE inline __attribute__((always_inline))
#endif

namespace dlcore::pointwise {

template <class T> DL_HD bool is_nan(T x) {
  if constexpr (std::is_floating_point_v<T>) return x != x;
  else return false;
}

// Integer + - * wrap around on overflow, as in NumPy and PyTorch. C++ calls
// signed overflow undefined, so it is computed in the unsigned type.
template <class T, class = void> struct WrapType { using type = T; };
template <class T>
struct WrapType<T, std::enable_if_t<std::is_integral_v<T> && !std::is_same_v<T, bool>>> {
  using type = std::make_unsigned_t<T>;
};
template <class T> using Wrap = typename WrapType<T>::type;
template <class T> DL_HD T add(T a, T b) { return T(Wrap<T>(a) + Wrap<T>(b)); }
template <class T> DL_HD T sub(T a, T b) { return T(Wrap<T>(a) - Wrap<T>(b)); }
template <class T> DL_HD T mul(T a, T b) { return T(Wrap<T>(a) * Wrap<T>(b)); }

// Integer power by squaring; a negative exponent gives 0, or +-1 for bases
// +-1 (PyTorch's rule: the exact result truncated toward zero).
template <class T> DL_HD T int_pow(T base, T exp) {
  if (exp < 0) return base == 1 ? T(1) : (base == -1 ? ((exp & 1) ? T(-1) : T(1)) : T(0));
  T r = 1;
  while (exp) { if (exp & 1) r = mul(r, base); base = mul(base, base); exp >>= 1; }
  return r;
}

// Output type: bool for comparisons and logical ops, T otherwise.
template <BinaryOp op, class T>
using BinaryOut = std::conditional_t<is_comparison(op), bool, T>;

template <BinaryOp op, class T, class Math>
DL_HD BinaryOut<op, T> binary(T a, T b) {
  if constexpr (op == BinaryOp::Add) return add(a, b);
  else if constexpr (op == BinaryOp::Sub) return sub(a, b);
  else if constexpr (op == BinaryOp::Mul) return mul(a, b);
  else if constexpr (op == BinaryOp::Div) return T(a / b);
  else if constexpr (op == BinaryOp::Pow) {
    if constexpr (std::is_floating_point_v<T>) return Math::pow(a, b);
    else return int_pow(a, b);
  }
  // maximum/minimum propagate NaN from either side, as NumPy does.
  else if constexpr (op == BinaryOp::Maximum) return (a > b || is_nan(a)) ? a : b;
  else if constexpr (op == BinaryOp::Minimum) return (a < b || is_nan(a)) ? a : b;
  else if constexpr (op == BinaryOp::Eq) return a == b;
  else if constexpr (op == BinaryOp::Ne) return a != b;
  else if constexpr (op == BinaryOp::Lt) return a < b;
  else if constexpr (op == BinaryOp::Le) return a <= b;
  else if constexpr (op == BinaryOp::Gt) return a > b;
  else if constexpr (op == BinaryOp::Ge) return a >= b;
  else if constexpr (op == BinaryOp::LogicalAnd) return bool(a) && bool(b);
  else if constexpr (op == BinaryOp::LogicalOr) return bool(a) || bool(b);
  else return bool(a) != bool(b);
}

// Which dtypes a kernel exists for; the op layer promotes to one of these.
template <BinaryOp op, class T> constexpr bool binary_supported() {
  if constexpr (op >= BinaryOp::LogicalAnd) return std::is_same_v<T, bool>;
  else if constexpr (op == BinaryOp::Div) return std::is_floating_point_v<T>;
  else return !std::is_same_v<T, bool> || is_comparison(op) || op == BinaryOp::Maximum || op == BinaryOp::Minimum;
}

template <UnaryOp op> constexpr bool unary_float_only() {
  return op == UnaryOp::Reciprocal || op == UnaryOp::Exp || op == UnaryOp::Log || op == UnaryOp::Sqrt ||
         op == UnaryOp::Rsqrt;
}

template <UnaryOp op, class T> constexpr bool unary_supported() {
  if constexpr (op == UnaryOp::LogicalNot) return std::is_same_v<T, bool>;
  else if constexpr (unary_float_only<op>()) return std::is_floating_point_v<T>;
  else return !std::is_same_v<T, bool>;
}

template <UnaryOp op, class T, class Math>
DL_HD T unary(T x) {
  if constexpr (op == UnaryOp::Neg) {
    if constexpr (std::is_floating_point_v<T>) return -x;  // -(+0.0) = -0.0, which 0 - x is not
    else return sub(T(0), x);
  } else if constexpr (op == UnaryOp::Abs) {
    if constexpr (std::is_floating_point_v<T>) return Math::abs(x);  // abs(-0.0) = +0.0
    else return x < T(0) ? sub(T(0), x) : x;
  }
  else if constexpr (op == UnaryOp::Sign) {
    const T s = T((x > T(0)) - (x < T(0)));
    return is_nan(x) ? x : s;
  }
  else if constexpr (op == UnaryOp::Square) return mul(x, x);
  else if constexpr (op == UnaryOp::Reciprocal) return T(1) / x;
  else if constexpr (op == UnaryOp::Exp) return Math::exp(x);
  else if constexpr (op == UnaryOp::Log) return Math::log(x);
  else if constexpr (op == UnaryOp::Sqrt) return Math::sqrt(x);
  else if constexpr (op == UnaryOp::Rsqrt) return T(1) / Math::sqrt(x);
  else return !x;
}

// min(max(x, lo), hi): hi wins when lo > hi, NaN passes through (NumPy).
template <class T> DL_HD_INLINE T clip(T x, T lo, T hi) {
  const T t = x < lo ? lo : x;
  return t > hi ? hi : t;
}

// The activations' constants.
constexpr double kSeluAlpha = 1.6732632423543772848170429916717;
constexpr double kSeluScale = 1.0507009873554804934193349852946;
constexpr double kSqrtHalf = 0.70710678118654752440084436210485;
constexpr double kInvSqrt2Pi = 0.39894228040143267793994605993438;
constexpr double kSqrt2OverPi = 0.79788456080286535587989211986876;
constexpr double kGeluCubic = 0.044715;

// The C library's math, callable from host and device code: the Math policy
// of CUDA kernels, of host code that is not a vectorized loop, and of the
// two-argument activation() below. (The CPU kernels pass their vectorizable
// cpu/math.h policy instead.)
struct LibMath {
  static DL_HD float exp(float x) { return ::expf(x); }
  static DL_HD double exp(double x) { return ::exp(x); }
  static DL_HD float expm1(float x) { return ::expm1f(x); }
  static DL_HD double expm1(double x) { return ::expm1(x); }
  static DL_HD float log(float x) { return ::logf(x); }
  static DL_HD double log(double x) { return ::log(x); }
  static DL_HD float log1p(float x) { return ::log1pf(x); }
  static DL_HD double log1p(double x) { return ::log1p(x); }
  static DL_HD float abs(float x) { return ::fabsf(x); }
  static DL_HD double abs(double x) { return ::fabs(x); }
  static DL_HD float sqrt(float x) { return ::sqrtf(x); }
  static DL_HD double sqrt(double x) { return ::sqrt(x); }
  static DL_HD float pow(float a, float b) { return ::powf(a, b); }
  static DL_HD double pow(double a, double b) { return ::pow(a, b); }
  static DL_HD float tanh(float x) { return ::tanhf(x); }
  static DL_HD double tanh(double x) { return ::tanh(x); }
  static DL_HD float erfc(float x) { return ::erfcf(x); }
  static DL_HD double erfc(double x) { return ::erfc(x); }
  // a Phi(-a) for a >= 0 (Phi the standard normal CDF), 0 at a = inf.
  template <class T> static DL_HD T gelu_tail(T a) {
    const T t = T(0.5) * erfc(a * T(kSqrtHalf));
    return t == T(0) ? T(0) : a * t;
  }
  static DL_HD double sin(double x) { return ::sin(x); }
  static DL_HD double cos(double x) { return ::cos(x); }
};

// ---- activations -------------------------------------------------------------
// One definition per activation (forward, derivative, parameter derivative)
// for the CPU kernels, the CUDA kernels and the GEMM epilogue. Both tails are
// stable: exp is only taken of non-positive arguments, so nothing overflows
// for any |x|; NaN in gives NaN out. Products x * p(x) whose factor p vanishes
// at an infinite x are 0 there (their limit), not inf * 0 = NaN.

// x * p, or 0 where p is 0 (also when x is infinite).
template <class T> DL_HD_INLINE T mul_vanishing(T x, T p) { return p == T(0) ? T(0) : x * p; }

// The logistic sigmoid 1 / (1 + e^-x) from e = exp(-|x|) in (0, 1]: for
// x < 0 it is e / (1 + e), which keeps full relative precision down to the
// smallest results (1 - s would not).
template <class T, class Math> DL_HD_INLINE T sigmoid(T x) {
  const T e = Math::exp(-Math::abs(x));
  const T s = T(1) / (T(1) + e);
  return x >= T(0) ? s : e * s;
}

// Piecewise derivatives select, and a NaN input must select NaN.
template <class T> DL_HD_INLINE T select_nan(T v, T r) { return v != v ? v : r; }

// The standard normal CDF, Phi(x) = erfc(-x / sqrt 2) / 2: erfc keeps the
// left tail's relative precision (1 + erf(x / sqrt 2) cancels there).
template <class T, class Math> DL_HD_INLINE T normal_cdf(T x) { return T(0.5) * Math::erfc(-x * T(kSqrtHalf)); }

template <Activation act, class T, class Math>
DL_HD_INLINE T activation(T x, T a, T b) {
  if constexpr (act == Activation::Identity) return x;
  else if constexpr (act == Activation::ReLU) return x < T(0) ? T(0) : x;
  else if constexpr (act == Activation::LeakyReLU) return x < T(0) ? a * x : x;
  else if constexpr (act == Activation::ELU) return x > T(0) ? x : a * Math::expm1(x);
  else if constexpr (act == Activation::SELU)
    return T(kSeluScale) * (x > T(0) ? x : T(kSeluAlpha) * Math::expm1(x));
  else if constexpr (act == Activation::SiLU) return mul_vanishing(x, sigmoid<T, Math>(a * x));
  else if constexpr (act == Activation::Softplus) {
    // log(1 + e^z) / beta with z = beta x, as max(z, 0) + log1p(e^-|z|);
    // PyTorch's linear regime above the threshold.
    const T z = a * x;
    const T sp = ((z > T(0) ? z : T(0)) + Math::log1p(Math::exp(-Math::abs(z)))) / a;
    return z > b ? x : sp;
  }
  else if constexpr (act == Activation::GELU)
    // x Phi(x) = max(x, 0) - |x| Phi(-|x|): one tail for both signs, no
    // select on the sign, and no cancellation (Phi(-|x|) <= 1/2).
    return (x < T(0) ? T(0) : x) - Math::gelu_tail(Math::abs(x));
  else if constexpr (act == Activation::GELUTanh) {
    // x (1 + tanh u) / 2 = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3):
    // the sigmoid form has no cancellation for x << 0.
    const T u = T(kSqrt2OverPi) * (x + T(kGeluCubic) * x * x * x);
    return mul_vanishing(x, sigmoid<T, Math>(T(2) * u));
  }
  else if constexpr (act == Activation::Sigmoid) return sigmoid<T, Math>(x);
  else if constexpr (act == Activation::Tanh) return Math::tanh(x);
  else if constexpr (act == Activation::HardTanh) return clip(x, a, b);
  else if constexpr (act == Activation::HardSigmoid) return clip(x * T(1.0 / 6.0) + T(0.5), T(0), T(1));
  else return select_nan(x, x > T(0) ? T(1) : T(0));  // Heaviside
}

// dy * d act / dx, from v: the output y where activation_grad_uses_output(act),
// else the input x. Parameters as in the forward.
template <Activation act, class T, class Math>
DL_HD_INLINE T activation_grad(T dy, T v, T a, T b) {
  if constexpr (act == Activation::Identity) return dy;
  else if constexpr (act == Activation::ReLU) return select_nan(v, v > T(0) ? dy : T(0));
  else if constexpr (act == Activation::LeakyReLU) return select_nan(v, v > T(0) ? dy : a * dy);
  // From y, with alpha >= 0 (the op layer checks): y > 0 iff x > 0, and for
  // x <= 0, d/dx alpha (e^x - 1) = alpha e^x = y + alpha.
  else if constexpr (act == Activation::ELU) return select_nan(v, v > T(0) ? dy : dy * (v + a));
  else if constexpr (act == Activation::SELU)
    return select_nan(v, v > T(0) ? dy * T(kSeluScale) : dy * (v + T(kSeluScale * kSeluAlpha)));
  else if constexpr (act == Activation::SiLU) {
    // d/dx x s(bx) = s (1 + bx (1 - s)), with 1 - s = s(-bx) computed as such.
    const T z = a * v;
    const T s = sigmoid<T, Math>(z), t = sigmoid<T, Math>(-z);
    return dy * (s == T(0) || t == T(0) ? s : s * (T(1) + z * t));
  }
  else if constexpr (act == Activation::Softplus) {
    const T z = a * v;
    return dy * (z > b ? T(1) : sigmoid<T, Math>(z));
  }
  else if constexpr (act == Activation::GELU) {
    // Phi(x) + x phi(x)
    const T phi = T(kInvSqrt2Pi) * Math::exp(T(-0.5) * v * v);
    return dy * (normal_cdf<T, Math>(v) + mul_vanishing(v, phi));
  }
  else if constexpr (act == Activation::GELUTanh) {
    // d/dx x s(2u) = s + x s (1 - s) 2 u'(x), u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
    const T u = T(kSqrt2OverPi) * (v + T(kGeluCubic) * v * v * v);
    const T s = sigmoid<T, Math>(T(2) * u), t = sigmoid<T, Math>(T(-2) * u);
    const T du = T(2 * kSqrt2OverPi) * (T(1) + T(3 * kGeluCubic) * v * v);
    return dy * (s + mul_vanishing(v * du, s * t));
  }
  else if constexpr (act == Activation::Sigmoid) return dy * v * (T(1) - v);
  else if constexpr (act == Activation::Tanh) return dy * ((T(1) - v) * (T(1) + v));
  else if constexpr (act == Activation::HardTanh) return select_nan(v, v > a && v < b ? dy : T(0));
  else if constexpr (act == Activation::HardSigmoid)
    return select_nan(v, v > T(-3) && v < T(3) ? dy * T(1.0 / 6.0) : T(0));
  else return T(0);  // Heaviside: never called (activation_has_grad)
}

// dy * d act / d a for the activations with a tensor parameter (PReLU's
// slope, Swish's beta), from the input x.
template <Activation act, class T, class Math>
DL_HD_INLINE T activation_param_grad(T dy, T x, T a) {
  static_assert(activation_has_param_grad(act), "no parameter gradient");
  if constexpr (act == Activation::LeakyReLU) return select_nan(x, x > T(0) ? T(0) : dy * x);
  else {  // SiLU: d/db x s(bx) = x^2 s (1 - s)
    const T z = a * x;
    return dy * mul_vanishing(x * x, sigmoid<T, Math>(z) * sigmoid<T, Math>(-z));
  }
}

// ---- elementwise losses ----------------------------------------------------
// l(x, t) and dl/dx for the Loss kinds (core/kernels.h), a their parameter.
// BCE clamps each log at -100 and its gradient's denominator x (1 - x) at
// 1e-12, as PyTorch does; BCEWithLogits is max(x, 0) - x t + log1p(e^-|x|),
// finite for any x, and with a pos_weight a the same split at x = 0:
// (1 - t) x or -a t x, plus (1 + (a - 1) t) log1p(e^-|x|); KLDiv is t log t - t x with 0 log 0 = 0.
constexpr double kBceLogMin = -100, kBceGradEps = 1e-12;

template <class T> DL_HD_INLINE T sign_of(T d) { return select_nan(d, d > T(0) ? T(1) : (d < T(0) ? T(-1) : T(0))); }

template <Loss loss, class T, class Math>
DL_HD_INLINE T loss_value(T x, T t, T a) {
  if constexpr (loss == Loss::MSE) return (x - t) * (x - t);
  else if constexpr (loss == Loss::L1) return Math::abs(x - t);
  else if constexpr (loss == Loss::SmoothL1) {
    const T d = Math::abs(x - t);
    return d < a ? T(0.5) * d * d / a : d - T(0.5) * a;
  }
  else if constexpr (loss == Loss::Huber) {
    const T d = Math::abs(x - t);
    return d <= a ? T(0.5) * d * d : a * (d - T(0.5) * a);
  }
  else if constexpr (loss == Loss::BCE) {
    const T lx = Math::log(x), l1x = Math::log1p(-x);
    const T lo = T(kBceLogMin);
    return -(t * select_nan(lx, lx > lo ? lx : lo) + (T(1) - t) * select_nan(l1x, l1x > lo ? l1x : lo));
  }
  else if constexpr (loss == Loss::BCEWithLogits)
    return (x > T(0) ? x : T(0)) - x * t + Math::log1p(Math::exp(-Math::abs(x)));
  else if constexpr (loss == Loss::BCEWithLogitsPosWeight)  // a = pos_weight; log(1 + e^-x) split at 0 as above
    return (x > T(0) ? (T(1) - t) * x : -a * t * x) + (T(1) + (a - T(1)) * t) * Math::log1p(Math::exp(-Math::abs(x)));
  else if constexpr (loss == Loss::KLDiv) return (t == T(0) ? T(0) : t * Math::log(t)) - t * x;
  else return Math::exp(t) * (t - x);  // KLDivLogTarget
}

template <Loss loss, class T, class Math>
DL_HD_INLINE T loss_grad(T x, T t, T g, T a) {
  if constexpr (loss == Loss::MSE) return T(2) * (x - t) * g;
  else if constexpr (loss == Loss::L1) return sign_of(x - t) * g;
  else if constexpr (loss == Loss::SmoothL1) {
    const T d = x - t;
    return (Math::abs(d) < a ? d / a : sign_of(d)) * g;
  }
  else if constexpr (loss == Loss::Huber) {
    const T d = x - t;
    return (Math::abs(d) <= a ? d : a * sign_of(d)) * g;
  }
  else if constexpr (loss == Loss::BCE) {
    const T den = x * (T(1) - x);
    return (x - t) / (den > T(kBceGradEps) ? den : T(kBceGradEps)) * g;
  }
  else if constexpr (loss == Loss::BCEWithLogits) return (sigmoid<T, Math>(x) - t) * g;
  else if constexpr (loss == Loss::BCEWithLogitsPosWeight)
    return ((T(1) + (a - T(1)) * t) * sigmoid<T, Math>(x) - a * t) * g;
  else if constexpr (loss == Loss::KLDiv) return -t * g;
  else return -Math::exp(t) * g;  // KLDivLogTarget
}

// ---- normalization -----------------------------------------------------------
// A float64 mean as hi + lo in T: (x - hi) - lo keeps the digits of x - mean
// that x - T(mean) would lose when the mean is large next to the spread.
template <class T> struct SplitMean {
  T hi, lo;
  DL_HD explicit SplitMean(double m) : hi(static_cast<T>(m)), lo(static_cast<T>(m - static_cast<double>(hi))) {}
  DL_HD T centered(T x) const { return (x - hi) - lo; }
};

// PyTorch's running statistics: moved towards the batch's mean and unbiased
// variance (of M values) by momentum.
template <class T>
DL_HD void update_running(T& running_mean, T& running_var, double mean, double var, int64_t M, double momentum) {
  const double unbiased = M > 1 ? var * static_cast<double>(M) / static_cast<double>(M - 1) : var;
  running_mean = static_cast<T>((1 - momentum) * static_cast<double>(running_mean) + momentum * mean);
  running_var = static_cast<T>((1 - momentum) * static_cast<double>(running_var) + momentum * unbiased);
}

// ---- optimizer steps ---------------------------------------------------------
// The hyper-parameters of an OptimizerStep rounded to T once, as PyTorch's
// tensor ops round the Python floats they are given.
template <class T> struct OptimizerScalars {
  T neg_lr, weight_decay, decay, momentum, one_minus_dampening, beta, one_minus_beta, beta2, one_minus_beta2,
      bias_correction2_sqrt, eps;
  bool has_weight_decay, nesterov, first_step;
  DL_HD explicit OptimizerScalars(const OptimizerStep& s)
      : neg_lr(T(s.neg_lr)), weight_decay(T(s.weight_decay)), decay(T(s.decay)), momentum(T(s.momentum)),
        one_minus_dampening(T(s.one_minus_dampening)), beta(T(s.beta)), one_minus_beta(T(s.one_minus_beta)),
        beta2(T(s.beta2)), one_minus_beta2(T(s.one_minus_beta2)), bias_correction2_sqrt(T(s.bias_correction2_sqrt)),
        eps(T(s.eps)), has_weight_decay(s.weight_decay != 0), nesterov(s.nesterov), first_step(s.first_step) {}
};

// ATen's lerp, exact at both ends of the weight (Adam's and RMSprop's averages).
template <class T> DL_HD_INLINE T lerp(T a, T b, T w) {
  return w < T(0.5) ? a + w * (b - a) : b - (b - a) * (T(1) - w);
}

// One element i of a step: parameter p, gradient g, state operands s0..s2
// (OptimizerStep lists which; unused ones are never touched). kFlag: SGD and
// RMSprop momentum, Adam amsgrad; kCentered: RMSprop centered. Each line is
// one of PyTorch's single-tensor (foreach=False) ops, rounded in T in the
// same order; selects on uniform flags keep the CPU loops vectorized.
template <Optimizer kind, bool kFlag, bool kCentered, class T>
DL_HD_INLINE void optimizer_update(const OptimizerScalars<T>& h, int64_t i, T* p, const T* g, T* s0, T* s1, T* s2) {
  T param = p[i];
  if constexpr (kind == Optimizer::Adam) param = param * h.decay;  // AdamW; decay 1 leaves any value as it is
  const T grad = h.has_weight_decay ? g[i] + h.weight_decay * param : g[i];
  if constexpr (kind == Optimizer::SGD) {
    T d = grad;
    if constexpr (kFlag) {
      const T buf = h.first_step ? grad : s0[i] * h.momentum + h.one_minus_dampening * grad;
      s0[i] = buf;
      d = h.nesterov ? grad + h.momentum * buf : buf;
    }
    p[i] = param + h.neg_lr * d;
  } else if constexpr (kind == Optimizer::Adagrad) {
    const T sum = s0[i] + grad * grad;
    s0[i] = sum;
    p[i] = param + h.neg_lr * (grad / (LibMath::sqrt(sum) + h.eps));
  } else if constexpr (kind == Optimizer::RMSprop) {
    const T sq = s0[i] * h.beta + h.one_minus_beta * grad * grad;
    s0[i] = sq;
    T avg;
    if constexpr (kCentered) {
      const T ga = lerp(s2[i], grad, h.one_minus_beta);
      s2[i] = ga;
      avg = LibMath::sqrt(sq - ga * ga) + h.eps;
    } else {
      avg = LibMath::sqrt(sq) + h.eps;
    }
    if constexpr (kFlag) {
      const T buf = s1[i] * h.momentum + grad / avg;
      s1[i] = buf;
      p[i] = param + h.neg_lr * buf;
    } else {
      p[i] = param + h.neg_lr * (grad / avg);
    }
  } else if constexpr (kind == Optimizer::Adadelta) {
    const T sq = s0[i] * h.beta + h.one_minus_beta * grad * grad;
    s0[i] = sq;
    const T acc = s1[i];
    const T delta = LibMath::sqrt(acc + h.eps) / LibMath::sqrt(sq + h.eps) * grad;
    s1[i] = acc * h.beta + h.one_minus_beta * delta * delta;
    p[i] = param + h.neg_lr * delta;
  } else {
    const T m = lerp(s0[i], grad, h.one_minus_beta);
    s0[i] = m;
    T v = s1[i] * h.beta2 + h.one_minus_beta2 * grad * grad;
    s1[i] = v;
    if constexpr (kFlag) {
      v = binary<BinaryOp::Maximum, T, LibMath>(s2[i], v);  // NaN wins, as torch.maximum
      s2[i] = v;
    }
    p[i] = param + h.neg_lr * (m / (LibMath::sqrt(v) / h.bias_correction2_sqrt + h.eps));
  }
}

// Calls f(kind, kFlag, kCentered as integral_constants) for the step's
// optimizer and options: one kernel instance per combination.
template <class F> void dispatch_optimizer(const OptimizerStep& s, F&& f) {
  using yes = std::true_type;
  using no = std::false_type;
  constexpr std::integral_constant<Optimizer, Optimizer::SGD> sgd;
  constexpr std::integral_constant<Optimizer, Optimizer::RMSprop> rmsprop;
  constexpr std::integral_constant<Optimizer, Optimizer::Adam> adam;
  switch (s.kind) {
    case Optimizer::SGD: return s.momentum != 0 ? f(sgd, yes{}, no{}) : f(sgd, no{}, no{});
    case Optimizer::Adagrad: return f(std::integral_constant<Optimizer, Optimizer::Adagrad>{}, no{}, no{});
    case Optimizer::RMSprop:
      if (s.centered) return s.momentum != 0 ? f(rmsprop, yes{}, yes{}) : f(rmsprop, no{}, yes{});
      return s.momentum != 0 ? f(rmsprop, yes{}, no{}) : f(rmsprop, no{}, no{});
    case Optimizer::Adadelta: return f(std::integral_constant<Optimizer, Optimizer::Adadelta>{}, no{}, no{});
    case Optimizer::Adam: return s.amsgrad ? f(adam, yes{}, no{}) : f(adam, no{}, no{});
  }
}

// torch.nn.utils.clip_grad_norm_'s multiplier in T: max_norm / (norm + 1e-6)
// (Python's scalar / tensor is reciprocal-then-multiply), clamped to at
// most 1; a NaN norm gives NaN.
template <class T> DL_HD T clip_coefficient(T norm, double max_norm) {
  const T coef = T(1) / (norm + T(1e-6)) * T(max_norm);
  return coef > T(1) ? T(1) : coef;
}

// The p-norm's root of a float64 accumulation: sum |x|^p, or max |x| for p = inf.
DL_HD double norm_root(double acc, double p) {
  if (p == 1 || p == HUGE_VAL) return acc;
  if (p == 2) return LibMath::sqrt(acc);
  return LibMath::pow(acc, 1 / p);
}

// Run-time activation with explicit parameters, and with PyTorch's defaults.
template <class Math, class T> DL_HD T activation(Activation act, T x, T a, T b) {
  switch (act) {
#define DL_CASE(name) case Activation::name: return activation<Activation::name, T, Math>(x, a, b);
    DL_CASE(Identity) DL_CASE(ReLU) DL_CASE(LeakyReLU) DL_CASE(ELU) DL_CASE(SELU) DL_CASE(SiLU) DL_CASE(Softplus)
    DL_CASE(GELU) DL_CASE(GELUTanh) DL_CASE(Sigmoid) DL_CASE(Tanh) DL_CASE(HardTanh) DL_CASE(HardSigmoid)
    DL_CASE(Heaviside)
#undef DL_CASE
  }
  return x;
}

template <class T> DL_HD T activation(Activation act, T x) {
  if (act == Activation::Identity) return x;
  if (act == Activation::ReLU) return x < T(0) ? T(0) : x;  // the GEMM's hot case, without the switch
  if constexpr (std::is_floating_point_v<T>) {  // the others are defined for floating types only
    const ActivationParams p = default_params(act);
    return activation<LibMath>(act, x, static_cast<T>(p.a), static_cast<T>(p.b));
  }
  return x;
}

// The GEMM epilogue for one element of C (see GemmProblem): acc is A @ B's
// dot product, c the current value of C (unread when beta == 0), b the bias.
template <class T> DL_HD T gemm_epilogue(const GemmProblem& p, T acc, T c, T b) {
  T v = static_cast<T>(p.alpha) * acc;
  if (p.beta != 0) v += static_cast<T>(p.beta) * c;
  if constexpr (std::is_floating_point_v<T>)
    return activation<LibMath>(p.act, v + b, static_cast<T>(p.act_params.a), static_cast<T>(p.act_params.b));
  else return activation(p.act, v + b);  // integer matmul: identity or ReLU
}

// Casts. float -> int truncates toward zero and saturates at the integer
// range, NaN -> 0 (NumPy leaves both unspecified, C++ calls them undefined
// behaviour, so they are made defined here); any nonzero (NaN too) -> true.
template <class Dst, class Src> DL_HD Dst convert(Src x) {
  if constexpr (std::is_same_v<Dst, bool>) {
    return x != Src(0);
  } else if constexpr (std::is_floating_point_v<Src> && std::is_integral_v<Dst>) {
    constexpr Src hi = static_cast<Src>(std::numeric_limits<Dst>::max());
    constexpr Src lo = static_cast<Src>(std::numeric_limits<Dst>::min());
    return x != x ? Dst(0)
                  : (x >= hi ? std::numeric_limits<Dst>::max()
                             : (x <= lo ? std::numeric_limits<Dst>::min() : static_cast<Dst>(x)));
  } else {
    return static_cast<Dst>(x);
  }
}

}  // namespace dlcore::pointwise
