// Branch-free exp and log (and expm1, log1p, tanh, erfc built on them) that
// the compiler vectorizes inside `omp simd` loops, compiled per ISA like
// every CPU kernel (SSE2, AVX2 or AVX-512 lanes). glibc's expf/logf are
// scalar calls, which stop vectorization. The namespace is the ISA's: each
// translation unit's copies are compiled for its own ISA, and a linker must
// never merge an AVX-512 copy into the baseline code.
//
// Algorithms (Cephes, S. Moshier): range reduction to a small interval by
// the exponent, then a polynomial (float) or rational (double) fit there.
// exp:  x = n ln2 + r, |r| <= ln2/2, exp(x) = 2^n exp(r); 2^n is built from
//       exponent bits as 2^(n1) * 2^(n2) so results that over- or underflow
//       (inf, subnormals, 0) come out of the multiplications naturally.
// log:  x = m 2^e with m in [sqrt(1/2), sqrt(2)), log(x) = log(m) + e ln2.
// Accuracy: within 2 ulp of the correctly rounded result; NaN in -> NaN out,
// log(0) = -inf, log(x < 0) = NaN, exp(+-inf) = inf / 0.
//
// The activations' float math is written for throughput, since a large
// activation should cost its memory traffic alone (a few vector operations per
// element at most): exp_neg (the activations' exp: their arguments are never
// positive) builds 2^n with one shift and one multiplication, tanh is one
// expm1 polynomial and one division, erfc one exp and one rational function
// (GELU's tail the same, with its constants folded in). Their polynomials and
// rational functions are minimax fits (linear programming on a dense grid of
// the interval); the errors quoted with each were measured on every 61st float
// (all binades, both signs) against double-precision libm, on each ISA (SSE2
// without FMA included).
// How a clamp is spelled decides what GCC makes of these loops (measured):
// erfc selects its result beyond the fitted range rather than clamping the
// argument, which GCC's jump threading turned into a second division, and
// exp_neg clamps as `x > lo ? x : lo` and selects NaN afterwards, the one
// spelling of several that kept softplus (exp inside log1p) vectorized.
#pragma once
#include <cmath>
#include <cstdint>
#include <limits>

namespace dlcore::cpu::DLCORE_ISA {

// Forced inline (as core/pointwise.h's DL_HD_INLINE): a call left in a loop
// stops its vectorization.
#define DL_SIMD_INLINE inline __attribute__((always_inline))

template <class To, class From>
DL_SIMD_INLINE To bits(From x) { return __builtin_bit_cast(To, x); }

// x = n ln2 + r with |r| <= ln2/2 (ln2 in two parts, the first exact in a
// product with n): n is x / ln2 rounded by adding 1.5 * 2^23 + bias, which
// leaves n + bias in the low mantissa bits of t.
struct Ln2Reduced {
  float t, r;
};
DL_SIMD_INLINE Ln2Reduced reduce_ln2(float x, float bias) {
  const float magic = 12582912.0f + bias;
  const float t = x * 1.44269504088896341f + magic;
  const float nf = t - magic;
  float r = x - nf * 0.693359375f;
  r = r - nf * -2.12194440e-4f;
  return {t, r};
}

DL_SIMD_INLINE float exp_f32(float x) {
  const float xc = x > 88.8f ? 88.8f : (x < -104.0f ? -104.0f : x);
  const Ln2Reduced red = reduce_ln2(xc, 0.0f);
  const int32_t n = static_cast<int32_t>(bits<uint32_t>(red.t) - bits<uint32_t>(12582912.0f));
  const float r = red.r;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  const int32_t n1 = n >> 1, n2 = n - n1;
  // Unsigned shifts: for a NaN input n is garbage (the result is replaced
  // below), and a signed shift of it would be undefined behaviour.
  const float s1 = bits<float>(uint32_t(n1 + 127) << 23), s2 = bits<float>(uint32_t(n2 + 127) << 23);
  const float y = p * s1 * s2;
  return x != x ? x : y;
}

DL_SIMD_INLINE double exp_f64(double x) {
  const double xc = x > 709.9 ? 709.9 : (x < -746.0 ? -746.0 : x);
  const double magic = 6755399441055744.0;  // 1.5 * 2^52
  const double t = xc * 1.4426950408889634073599 + magic;
  const int64_t n = static_cast<int64_t>(bits<uint64_t>(t) - bits<uint64_t>(magic));
  const double nf = t - magic;
  double r = xc - nf * 6.93145751953125e-1;
  r = r - nf * 1.42860682030941723212e-6;
  const double rr = r * r;
  double px = 1.26177193074810590878e-4;
  px = px * rr + 3.02994407707441961300e-2;
  px = px * rr + 9.99999999999999999910e-1;
  px = px * r;
  double qx = 3.00198505138664455042e-6;
  qx = qx * rr + 2.52448340349684104192e-3;
  qx = qx * rr + 2.27265548208155028766e-1;
  qx = qx * rr + 2.00000000000000000009e0;
  const double e = 1.0 + 2.0 * (px / (qx - px));
  // n1 = floor(n / 2) with a logical shift of the biased (non-negative) n.
  const int64_t n1 = static_cast<int64_t>((static_cast<uint64_t>(n) + 2048) >> 1) - 1024;
  const int64_t n2 = static_cast<int64_t>(static_cast<uint64_t>(n) - static_cast<uint64_t>(n1));
  const double s1 = bits<double>(uint64_t(n1 + 1023) << 52), s2 = bits<double>(uint64_t(n2 + 1023) << 52);
  const double y = e * s1 * s2;
  return x != x ? x : y;
}

// e^x for x <= 0 (and NaN), the exp of the activation formulas. With n in
// [-190, 63], 2^n is 2^(n+64) (an exponent field n + 191: reduce_ln2's t
// with bias 191, shifted into place) times 2^-64, which is
// folded into the polynomial's coefficients: one rounding, so subnormal
// results are right too. exp_neg_core takes x in [-131, 0]; exp_neg clamps x
// at -104 (e^-104 rounds to 0). Max error 1.02 ulp (1.32 without FMA).
DL_SIMD_INLINE float exp_neg_core_f32(float x) {
  const Ln2Reduced red = reduce_ln2(x, 191.0f);
  const float r = red.r;
  // e^r on |r| <= ln2/2, times 2^-64: relative error 2e-9 (float coefficients).
  float p = 1.3843654887750745e-3f * 0x1p-64f;
  p = p * r + 8.3741554990410805e-3f * 0x1p-64f;
  p = p * r + 4.1668001562356949e-2f * 0x1p-64f;
  p = p * r + 1.6666431725025177e-1f * 0x1p-64f;
  p = p * r + 4.9999994039535522e-1f * 0x1p-64f;
  p = p * r + 0x1p-64f;
  p = p * r + 0x1p-64f;
  return p * bits<float>(bits<uint32_t>(red.t) << 23);
}
DL_SIMD_INLINE float exp_neg_f32(float x) {
  const float y = exp_neg_core_f32(x > -104.0f ? x : -104.0f);
  return x != x ? x : y;
}

DL_SIMD_INLINE float log_f32(float x) {
  // Subnormals: scale into the normal range first.
  const bool tiny = x < 1.17549435e-38f;
  const float xs = tiny ? x * 8388608.0f : x;
  const int32_t b = bits<int32_t>(xs);
  float e = static_cast<float>(((b >> 23) & 0xff) - 126) - (tiny ? 23.0f : 0.0f);
  float m = bits<float>((b & 0x007fffff) | 0x3f000000);  // [0.5, 1)
  const bool small = m < 0.707106781186547524f;
  e = small ? e - 1.0f : e;
  m = small ? m + m - 1.0f : m - 1.0f;
  const float z = m * m;
  float y = 7.0376836292e-2f;
  y = y * m - 1.1514610310e-1f;
  y = y * m + 1.1676998740e-1f;
  y = y * m - 1.2420140846e-1f;
  y = y * m + 1.4249322787e-1f;
  y = y * m - 1.6668057665e-1f;
  y = y * m + 2.0000714765e-1f;
  y = y * m - 2.4999993993e-1f;
  y = y * m + 3.3333331174e-1f;
  y = y * m * z;
  y += -2.12194440e-4f * e;
  y += -0.5f * z;
  float r = m + y + 0.693359375f * e;
  const float inf = std::numeric_limits<float>::infinity();
  r = x == inf ? inf : r;
  r = x == 0.0f ? -inf : r;
  r = (x < 0.0f || x != x) ? std::numeric_limits<float>::quiet_NaN() : r;
  return r;
}

DL_SIMD_INLINE double log_f64(double x) {
  const bool tiny = x < 2.2250738585072014e-308;
  const double xs = tiny ? x * 4503599627370496.0 : x;  // 2^52
  const int64_t b = bits<int64_t>(xs);
  // Exponent to double without an int64 conversion instruction (AVX2 has none).
  const int64_t biased = (b >> 52) & 0x7ff;
  double e = bits<double>(biased | 0x4330000000000000LL) - 4503599627370496.0 - 1022.0 - (tiny ? 52.0 : 0.0);
  double m = bits<double>((b & 0x000fffffffffffffLL) | 0x3fe0000000000000LL);  // [0.5, 1)
  const bool small = m < 0.70710678118654752440;
  e = small ? e - 1.0 : e;
  m = small ? m + m - 1.0 : m - 1.0;
  const double z = m * m;
  double p = 1.01875663804580931796e-4;
  p = p * m + 4.97494994976747001425e-1;
  p = p * m + 4.70579119878881725854e0;
  p = p * m + 1.44989225341610930846e1;
  p = p * m + 1.79368678507819816313e1;
  p = p * m + 7.70838733755885391666e0;
  double q = m + 1.12873587189167450590e1;
  q = q * m + 4.52279145837532221105e1;
  q = q * m + 8.29875266912776603211e1;
  q = q * m + 7.11544750618563894466e1;
  q = q * m + 2.31251620126765340583e1;
  double y = m * (z * p / q);
  y = y - e * 2.121944400546905827679e-4;
  y = y - 0.5 * z;
  double r = m + y + e * 0.693359375;
  const double inf = std::numeric_limits<double>::infinity();
  r = x == inf ? inf : r;
  r = x == 0.0 ? -inf : r;
  r = (x < 0.0 || x != x) ? std::numeric_limits<double>::quiet_NaN() : r;
  return r;
}

DL_SIMD_INLINE float exp_simd(float x) { return exp_f32(x); }
DL_SIMD_INLINE double exp_simd(double x) { return exp_f64(x); }
DL_SIMD_INLINE float log_simd(float x) { return log_f32(x); }
DL_SIMD_INLINE double log_simd(double x) { return log_f64(x); }

// expm1 and log1p by Kahan's corrections (Goldberg, "What every computer
// scientist should know about floating-point arithmetic", thm. 4): with
// u = fl(e^x), (u - 1) x / log(u) is e^x - 1 to a few ulp even where u - 1
// alone has lost all its digits; with u = fl(1 + x), log(u) x / (u - 1) is
// log(1 + x) likewise. The selects cover u == 1, the saturated ends and inf.
template <class T> DL_SIMD_INLINE T expm1_simd(T x) {
  const T u = exp_simd(x);
  const T um1 = u - T(1);
  T r = um1 * x / log_simd(u);
  r = u == T(1) ? x : r;
  r = um1 == T(-1) ? T(-1) : r;
  r = u == std::numeric_limits<T>::infinity() ? u : r;
  return x != x ? x : r;
}

template <class T> DL_SIMD_INLINE T log1p_simd(T x) {
  const T u = T(1) + x;
  T r = log_simd(u) * x / (u - T(1));
  r = u == T(1) ? x : r;
  r = x == std::numeric_limits<T>::infinity() ? x : r;
  return x != x ? x : r;
}

// tanh |x| = -t / (t + 2) with t = expm1(-2|x|) in (-1, 0]: no
// cancellation near 0, no overflow, and near 1 the result is 1 minus a small
// quotient. float: t = 2^n (expm1(r) + 1) - 1 = 2^n expm1(r) + (2^n - 1)
// with r = -2|x| - n ln2, expm1(r) = r + r^2 q(r) (q of degree 4, relative
// error 1.3e-8); |x| > 9.1 gives 1 (tanh rounds to 1 from 9.01). Max error
// 2.5 ulp; one division, no branch. double: expm1 as below (full relative
// precision near 0 without a double fit).
DL_SIMD_INLINE float tanh_simd(float x) {
  const Ln2Reduced red = reduce_ln2(-2.0f * std::fabs(x), 127.0f);
  const float r = red.r;
  float q = 1.3882522471249104e-3f;
  q = q * r + 8.3665139973163605e-3f;
  q = q * r + 4.1667200624942780e-2f;
  q = q * r + 1.6666543483734131e-1f;
  q = q * r + 4.9999997019767761e-1f;
  const float m = r * r * q + r;                           // expm1(r)
  const float s = bits<float>(bits<uint32_t>(red.t) << 23);  // 2^n, n >= -27
  const float em1 = s * m + (s - 1.0f);
  const float y = -em1 / (em1 + 2.0f);
  return std::copysign(std::fabs(x) > 9.1f ? 1.0f : y, x);
}
DL_SIMD_INLINE double tanh_simd(double x) {
  const double t = expm1_simd(-2.0 * std::fabs(x));
  return std::copysign(-t / (t + 2.0), x);
}

// erfc. float: erfc |x| = e^(-x^2) R(|x|) with R(a) = P(a) / Q(a), P of
// degree 3 and Q of degree 4 fitted to e^(a^2) erfc(a) on [0, 10.3] with the
// relative error weighted by 1 / (1 + 2 a^2): within 0.42 eps (1 + 2 a^2)
// with float coefficients. That weight is the error a rounded argument
// costs any implementation (a 1/2-ulp change of x moves erfc(x) by
// eps x^2 relative), which x^2 rounded for e^(-x^2) costs as well. Measured:
// |erfc - exact| <= 2.3 eps (1 + 2 x^2) |exact|.
// erfc(x) for x < 0 is 2 - erfc |x|; beyond |x| = 10.3 it is 0 (it underflows
// at 10.06). One exp, one division, no branch. double: libm's erfc (scalar; float64 is
// the reference and gradient-check dtype, not the fast path).
DL_SIMD_INLINE float erfc_simd(float x) {
  const float a = std::fabs(x);
  const float e = exp_neg_core_f32(-(a * a));  // argument >= -106.1 while a <= 10.3
  float p = 7.9221785068511963e-2f;
  p = p * a + 4.2597925662994385e-1f;
  p = p * a + 9.5887148380279541e-1f;
  p = p * a + 1.0f;
  float q = 1.4046823978424072e-1f;
  q = q * a + 7.5383651256561279e-1f;
  q = q * a + 1.7812333106994629f;
  q = q * a + 2.0872480869293213f;
  q = q * a + 1.0f;
  const float r = a > 10.3f ? 0.0f : e * (p / q);  // the division runs beside the exp
  return x >= 0.0f ? r : 2.0f - r;
}
DL_SIMD_INLINE double erfc_simd(double x) { return std::erfc(x); }

// a Phi(-a) for a >= 0, the part of GELU(x) = max(x, 0) - |x| Phi(-|x|)
// that ReLU lacks (Phi the standard normal CDF). float: Phi(-a) =
// erfc(a / sqrt 2) / 2 = e^(-a^2 / 2) R(a) by erfc_simd's fit, with the
// 1 / sqrt 2 and the 1/2 folded into its coefficients. e^(-a^2 / 2) is
// exp_neg_core_f32 with its reduction written for this argument:
// -a^2 / 2 = n ln2 - s / 2 with s = a^2 + 2 n ln2 in [-ln2, ln2], ln2 in
// one part (its rounding error, n * 1e-9 relative, is far below the eps a^2
// that rounding a^2 costs), and a polynomial of degree 5 in s (relative
// error 1e-7; its coefficients times (-1/2)^k). Measured, as GELU on every
// 61st float: within 2.5 eps (1 + 2 x^2) relative, 8 allowed by its tests.
// a is clamped at 16.1, where the exponential is exactly 0, so the result
// is 0 from there on (a = inf included) without a select. NaN stays NaN.
DL_SIMD_INLINE float gelu_tail_simd(float a) {
  const float c = a > 16.1f ? 16.1f : a;
  const float cc = c * c;
  const float magic = 12582912.0f + 191.0f;  // n + 191 in t's low bits, as exp_neg_core_f32
  const float t = cc * (-0.5f * 1.44269504088896341f) + magic;
  const float sr = (t - magic) * 1.38629436111989061f + cc;  // s, with 2 ln2
  float e = -8.3125252276659012e-3f * 0x1p-69f;
  e = e * sr + 4.1890114545822144e-2f * 0x1p-68f;
  e = e * sr - 1.6667114198207855e-1f * 0x1p-67f;
  e = e * sr + 4.9999231100082397e-1f * 0x1p-66f;
  e = e * sr - 0x1p-65f;
  e = e * sr + 0x1p-64f;
  e = e * bits<float>(bits<uint32_t>(t) << 23);  // e^(-a^2 / 2), 2^n via the exponent bits
  float p = 1.4004565775394440e-2f;
  p = p * c + 1.0649481415748596e-1f;
  p = p * c + 3.3901226520538330e-1f;
  p = p * c + 0.5f;
  float q = 3.5117059946060181e-2f;
  q = q * c + 2.6652145385742188e-1f;
  q = q * c + 8.9061665534973145e-1f;
  q = q * c + 1.4759073257446289f;
  q = q * c + 1.0f;
  return e * ((c * p) / q);  // e last: where it is subnormal, one rounding there
}
DL_SIMD_INLINE double gelu_tail_simd(double a) {
  const double t = 0.5 * std::erfc(a * 0.70710678118654752440);
  return t == 0.0 ? 0.0 : a * t;
}

// The Math policy of core/pointwise.h for the CPU kernels.
struct SimdMath {
  template <class T> static DL_SIMD_INLINE T exp(T x) { return exp_simd(x); }
  template <class T> static DL_SIMD_INLINE T expm1(T x) { return expm1_simd(x); }
  template <class T> static DL_SIMD_INLINE T log(T x) { return log_simd(x); }
  template <class T> static DL_SIMD_INLINE T log1p(T x) { return log1p_simd(x); }
  template <class T> static DL_SIMD_INLINE T tanh(T x) { return tanh_simd(x); }
  template <class T> static DL_SIMD_INLINE T erfc(T x) { return erfc_simd(x); }
  template <class T> static DL_SIMD_INLINE T gelu_tail(T a) { return gelu_tail_simd(a); }
  template <class T> static DL_SIMD_INLINE T sqrt(T x) { return std::sqrt(x); }
  template <class T> static DL_SIMD_INLINE T abs(T x) { return std::fabs(x); }
  template <class T> static DL_SIMD_INLINE T pow(T a, T b) { return std::pow(a, b); }
};

// The Math policy of the activation kernels: core/pointwise.h's activation
// formulas take exp of non-positive arguments only (their stated invariant),
// so their exp is exp_neg in float. double keeps the general exp.
DL_SIMD_INLINE float exp_neg_simd(float x) { return exp_neg_f32(x); }
DL_SIMD_INLINE double exp_neg_simd(double x) { return exp_f64(x); }
struct ActivationMath : SimdMath {
  template <class T> static DL_SIMD_INLINE T exp(T x) { return exp_neg_simd(x); }
};

}  // namespace dlcore::cpu::DLCORE_ISA
