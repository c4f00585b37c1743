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
#else
#define DL_HD inline
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
  if constexpr (op == UnaryOp::Neg) return sub(T(0), x);
  else if constexpr (op == UnaryOp::Abs) {
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

template <class T> DL_HD T activation(Activation act, T x) {
  if (act == Activation::ReLU) return (x < T(0)) ? T(0) : x;  // NaN passes through
  return x;
}

// The GEMM epilogue for one element of C (see GemmProblem): acc is A @ B's
// dot product, c the current value of C (unread when beta == 0), b the bias.
template <class T> DL_HD T gemm_epilogue(const GemmProblem& p, T acc, T c, T b) {
  T v = static_cast<T>(p.alpha) * acc;
  if (p.beta != 0) v += static_cast<T>(p.beta) * c;
  return activation(p.act, v + b);
}

// min(max(x, lo), hi): hi wins when lo > hi, NaN passes through (NumPy).
template <class T> DL_HD T clip(T x, T lo, T hi) {
  const T t = x < lo ? lo : x;
  return t > hi ? hi : t;
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
