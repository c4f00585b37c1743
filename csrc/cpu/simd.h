// The vector type of this ISA for float and double, behind one interface:
// the packed GEMM's microkernel and panel packing (cpu/packed.h) and the
// convolution's patch copies are written once against it. Compiled per ISA
// with the kernel files that include it.
#pragma once
#include <cstdint>
#include <immintrin.h>

namespace dlcore::cpu::DLCORE_ISA {

// The vector type of this ISA for T: width W, and the operations the
// microkernel and the packing need. load_n / store_n touch only the first n
// lanes (edge tiles of C); load_range(p, lo, hi) reads lanes [lo, hi) and
// zeroes the others, which are not read, so they may lie outside the array
// (a patch row cut by the image border); gather(p, idx, n) reads p[idx[r]]
// for r < n and zeroes the other lanes (packing a transposed operand: one
// output row of the panel from n source rows); sum(v) adds v's lanes (a
// fixed order: a tree of halves, or lane order without SIMD).
template <class T> struct Simd;
#if defined(__AVX512F__)
template <> struct Simd<float> {
  using V = __m512; using I = __m512i; static constexpr int W = 16, MR = 12, NV = 2;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V load_n(const float* p, int n) { return _mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p); }
  static V load_range(const float* p, int lo, int hi) {
    return _mm512_maskz_loadu_ps(__mmask16(((1u << hi) - 1) & ~((1u << lo) - 1)), p);
  }
  static void store_n(float* p, V v, int n) { _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), v); }
  static V bcast(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
  static float sum(V v) { return _mm512_reduce_add_ps(v); }
  static I lane_offsets(int32_t ld) {
    return _mm512_mullo_epi32(_mm512_set1_epi32(ld), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  }
  static V gather(const float* p, I idx, int n) {
    return _mm512_mask_i32gather_ps(zero(), __mmask16((1u << n) - 1), idx, p, 4);
  }
};
template <> struct Simd<double> {
  using V = __m512d; using I = __m256i; static constexpr int W = 8, MR = 12, NV = 2;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
  static V load_n(const double* p, int n) { return _mm512_maskz_loadu_pd(__mmask8((1u << n) - 1), p); }
  static V load_range(const double* p, int lo, int hi) {
    return _mm512_maskz_loadu_pd(__mmask8(((1u << hi) - 1) & ~((1u << lo) - 1)), p);
  }
  static void store_n(double* p, V v, int n) { _mm512_mask_storeu_pd(p, __mmask8((1u << n) - 1), v); }
  static V bcast(const double* p) { return _mm512_set1_pd(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
  static double sum(V v) { return _mm512_reduce_add_pd(v); }
  static I lane_offsets(int32_t ld) {
    return _mm256_mullo_epi32(_mm256_set1_epi32(ld), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V gather(const double* p, I idx, int n) {
    return _mm512_mask_i32gather_pd(zero(), __mmask8((1u << n) - 1), idx, p, 8);
  }
};
#elif defined(__AVX2__) && defined(__FMA__)
// AVX2 masks are vectors: lane r is on when r < n.
inline __m256i first_lanes32(int n) { return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); }
inline __m256i first_lanes64(int n) { return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3)); }
template <> struct Simd<float> {
  using V = __m256; using I = __m256i; static constexpr int W = 8, MR = 6, NV = 2;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V load_n(const float* p, int n) { return _mm256_maskload_ps(p, first_lanes32(n)); }
  static V load_range(const float* p, int lo, int hi) {
    return _mm256_maskload_ps(p, _mm256_andnot_si256(first_lanes32(lo), first_lanes32(hi)));
  }
  static void store_n(float* p, V v, int n) { _mm256_maskstore_ps(p, first_lanes32(n), v); }
  static V bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
  static float sum(V v) {
    __m128 h = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    h = _mm_add_ps(h, _mm_movehl_ps(h, h));
    return _mm_cvtss_f32(_mm_add_ss(h, _mm_movehdup_ps(h)));
  }
  static I lane_offsets(int32_t ld) {
    return _mm256_mullo_epi32(_mm256_set1_epi32(ld), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  static V gather(const float* p, I idx, int n) {
    return _mm256_mask_i32gather_ps(zero(), p, idx, _mm256_castsi256_ps(first_lanes32(n)), 4);
  }
};
template <> struct Simd<double> {
  using V = __m256d; using I = __m128i; static constexpr int W = 4, MR = 6, NV = 2;
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
  static V load_n(const double* p, int n) { return _mm256_maskload_pd(p, first_lanes64(n)); }
  static V load_range(const double* p, int lo, int hi) {
    return _mm256_maskload_pd(p, _mm256_andnot_si256(first_lanes64(lo), first_lanes64(hi)));
  }
  static void store_n(double* p, V v, int n) { _mm256_maskstore_pd(p, first_lanes64(n), v); }
  static V bcast(const double* p) { return _mm256_broadcast_sd(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
  static double sum(V v) {
    const __m128d h = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
  }
  static I lane_offsets(int32_t ld) { return _mm_mullo_epi32(_mm_set1_epi32(ld), _mm_setr_epi32(0, 1, 2, 3)); }
  static V gather(const double* p, I idx, int n) {
    return _mm256_mask_i32gather_pd(zero(), p, idx, _mm256_castsi256_pd(first_lanes64(n)), 8);
  }
};
#else
// SSE2: no FMA, no masked moves, no gathers -- lane by lane through memory.
template <class T> struct SimdSse2 {
  using I = int32_t; static constexpr int W = 16 / sizeof(T), MR = 4, NV = 2;
  static auto load_n(const T* p, int n) {
    alignas(16) T buf[W] = {};
    for (int r = 0; r < n; ++r) buf[r] = p[r];
    return Simd<T>::load(buf);
  }
  static auto load_range(const T* p, int lo, int hi) {
    alignas(16) T buf[W] = {};
    for (int r = lo; r < hi; ++r) buf[r] = p[r];
    return Simd<T>::load(buf);
  }
  template <class V> static void store_n(T* p, V v, int n) {
    alignas(16) T buf[W];
    Simd<T>::store(buf, v);
    for (int r = 0; r < n; ++r) p[r] = buf[r];
  }
  static I lane_offsets(int32_t ld) { return ld; }
  template <class V> static T sum(V v) {
    alignas(16) T buf[W];
    Simd<T>::store(buf, v);
    T total = 0;
    for (int r = 0; r < W; ++r) total += buf[r];
    return total;
  }
  static auto gather(const T* p, I ld, int n) {
    alignas(16) T buf[W] = {};
    for (int r = 0; r < n; ++r) buf[r] = p[r * ld];
    return Simd<T>::load(buf);
  }
};
template <> struct Simd<float> : SimdSse2<float> {
  using V = __m128;
  static V zero() { return _mm_setzero_ps(); }
  static V load(const float* p) { return _mm_loadu_ps(p); }
  static void store(float* p, V v) { _mm_storeu_ps(p, v); }
  static V bcast(const float* p) { return _mm_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }
};
template <> struct Simd<double> : SimdSse2<double> {
  using V = __m128d;
  static V zero() { return _mm_setzero_pd(); }
  static V load(const double* p) { return _mm_loadu_pd(p); }
  static void store(double* p, V v) { _mm_storeu_pd(p, v); }
  static V bcast(const double* p) { return _mm_set1_pd(*p); }
  static V fma(V a, V b, V c) { return _mm_add_pd(_mm_mul_pd(a, b), c); }
};
#endif

}  // namespace dlcore::cpu::DLCORE_ISA
