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

DL_SIMD_INLINE float exp_f32(float x) {
  const float xc = x > 88.8f ? 88.8f : (x < -104.0f ? -104.0f : x);
  // Round x / ln2 to the nearest integer with the 1.5 * 2^23 trick.
  const float magic = 12582912.0f;
  const float t = xc * 1.44269504088896341f + magic;
  const int32_t n = static_cast<int32_t>(bits<uint32_t>(t) - bits<uint32_t>(magic));
  const float nf = t - magic;
  float r = xc - nf * 0.693359375f;
  r = r - nf * -2.12194440e-4f;
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

// tanh. float: Cephes' tanhf -- x + x^3 P(x^2) for |x| < 0.625, else
// 1 - 2 / (e^2|x| + 1) (e^2|x| = inf gives 1: no overflow). double:
// tanh |x| = -t / (t + 2) with t = expm1(-2|x|) in (-1, 0], full relative
// precision near 0 without a double fit.
DL_SIMD_INLINE float tanh_simd(float x) {
  const float z = std::fabs(x), s = x * x;
  float p = -5.70498872745e-3f;
  p = p * s + 2.06390887954e-2f;
  p = p * s - 5.37397155531e-2f;
  p = p * s + 1.33314422036e-1f;
  p = p * s - 3.33332819422e-1f;
  const float small = x + x * s * p;
  const float large = std::copysign(1.0f - 2.0f / (exp_f32(2.0f * z) + 1.0f), x);
  return z < 0.625f ? small : large;
}
DL_SIMD_INLINE double tanh_simd(double x) {
  const double t = expm1_simd(-2.0 * std::fabs(x));
  return std::copysign(-t / (t + 2.0), x);
}

// erfc. float: Numerical Recipes' Chebyshev fit (erfcc; relative error below
// 1.2e-7 for every x); its exp(-x^2 + ...) carries the x^2 eps relative error
// that rounding x / sqrt 2 costs any implementation. double: libm's erfc
// (scalar; float64 is the reference and gradient-check dtype, not the fast
// path).
DL_SIMD_INLINE float erfc_simd(float x) {
  const float z = std::fabs(x);
  const float t = 1.0f / (1.0f + 0.5f * z);
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  p = p * t - 1.26551223f;
  const float r = t * exp_f32(p - z * z);
  return x >= 0.0f ? r : 2.0f - r;
}
DL_SIMD_INLINE double erfc_simd(double x) { return std::erfc(x); }

// The Math policy of core/pointwise.h for the CPU kernels.
struct SimdMath {
  template <class T> static DL_SIMD_INLINE T exp(T x) { return exp_simd(x); }
  template <class T> static DL_SIMD_INLINE T expm1(T x) { return expm1_simd(x); }
  template <class T> static DL_SIMD_INLINE T log(T x) { return log_simd(x); }
  template <class T> static DL_SIMD_INLINE T log1p(T x) { return log1p_simd(x); }
  template <class T> static DL_SIMD_INLINE T tanh(T x) { return tanh_simd(x); }
  template <class T> static DL_SIMD_INLINE T erfc(T x) { return erfc_simd(x); }
  template <class T> static DL_SIMD_INLINE T sqrt(T x) { return std::sqrt(x); }
  template <class T> static DL_SIMD_INLINE T abs(T x) { return std::fabs(x); }
  template <class T> static DL_SIMD_INLINE T pow(T a, T b) { return std::pow(a, b); }
};

}  // namespace dlcore::cpu::DLCORE_ISA
