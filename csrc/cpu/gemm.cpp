// GEMM on the CPU: C = A @ B over a batch of matrices (GemmProblem in
// core/kernels.h: any row/column strides, broadcast batch dims).
//
// v1 naive: the textbook triple loop, one dot product per element of C. It
// is the test oracle (gemm_variant = naive) and the first chapter.
//
// v2 packed (BLIS, Van Zee & van de Geijn 2015): five loops around a
// register-blocked microkernel.
//   for jc in N step NC:            B block (KC x NC) lives in L3
//     for pc in K step KC:          pack B[pc:pc+KC, jc:jc+NC] into NR-wide panels
//       for ic in M step MC:        (threads) pack A[ic:ic+MC, pc:pc+KC] into MR-tall panels (L2)
//         for jr in NC step NR:     a B panel (KC x NR) stays in L1
//           for ir in MC step MR:   microkernel: C[MR x NR] += Ap panel x Bp panel
// Packing copies each operand once per block into contiguous, zero-padded
// panels, whatever its strides: transposed views need no other copy (an
// operand whose rows run along K is packed with gathers, one panel row per
// gather), and the microkernel streams both panels with unit stride. A small
// row-major B (<= 32 KiB) is read in place instead. The microkernel keeps the
// MR x NR tile of C in vector registers: per k it loads NR/W vectors of B,
// broadcasts MR values of A and issues MR*NR/W fused multiply-adds.
//   AVX-512: MR x NR = 12 x 32 (float) / 12 x 16 (double): 24 zmm accumulators
//   AVX2:    6 x 16 / 6 x 8: 12 ymm accumulators
//   baseline (SSE2, no FMA): 4 x 8 / 4 x 4
// One team of threads runs the whole product: it packs each B block together,
// then its threads take (ic block, jr range) pairs, each packing its own A
// block, so 1 and 2 threads stay busy even when M is one block. Edge tiles
// use the same microkernel with masked loads and stores; the C tile is
// prefetched while the K loop runs; K is cut into blocks of equal depth.
// Numerics: float32 accumulates in float32 with FMA (as BLAS does); the
// error grows like K * eps; integers use the naive loop and wrap.
#include <algorithm>
#include <array>
#include <climits>
#include <cstring>
#include <vector>
#include <immintrin.h>
#include "core/parallel.h"
#include "core/pointwise.h"
#include "cpu/math.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

// ---- v1: naive --------------------------------------------------------------

// Pointers to the first element of C, A and B of every matrix of the batch.
std::vector<std::array<char*, 3>> batch_bases(const GemmProblem& p) {
  const int64_t batches = p.batch.numel();
  std::vector<std::array<char*, 3>> base(static_cast<size_t>(batches));
  int64_t idx = 0;
  p.batch.for_each_row(0, batches, [&](char* const* ptr, const int64_t* s, int64_t n) {
    for (int64_t t = 0; t < n; ++t, ++idx)
      base[static_cast<size_t>(idx)] = {ptr[0] + t * s[0], ptr[1] + t * s[1], ptr[2] + t * s[2]};
  });
  return base;
}

template <class T>
void gemm_v1_naive(const GemmProblem& p) {
  const auto base = batch_bases(p);
  const int64_t rows = static_cast<int64_t>(base.size()) * p.M;
  parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, p.N * p.K)), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const auto& b = base[static_cast<size_t>(r / p.M)];
      const int64_t i = r % p.M;
      T* c = reinterpret_cast<T*>(b[0]);
      const T* a = reinterpret_cast<const T*>(b[1]);
      const T* bm = reinterpret_cast<const T*>(b[2]);
      const T* bias = static_cast<const T*>(p.bias);
      for (int64_t j = 0; j < p.N; ++j) {
        T acc = 0;
        for (int64_t k = 0; k < p.K; ++k)
          acc = pointwise::add(acc, pointwise::mul(a[i * p.a_rs + k * p.a_cs], bm[k * p.b_rs + j * p.b_cs]));
        T& dst = c[i * p.c_rs + j * p.c_cs];
        dst = pointwise::gemm_epilogue<T>(p, acc, p.beta != 0 ? dst : T(0), bias ? bias[p.bias_per_row ? i : j] : T(0));
      }
    }
  });
}

// ---- v2: packed + register-blocked microkernel -----------------------------

// The vector type of this ISA for T: width W, and the operations the
// microkernel and the packing need. load_n / store_n touch only the first n
// lanes (edge tiles of C); gather(p, idx, n) reads p[idx[r]] for r < n and
// zeroes the other lanes (packing a transposed operand: one output row of
// the panel from n source rows).
template <class T> struct Simd;
#if defined(__AVX512F__)
template <> struct Simd<float> {
  using V = __m512; using I = __m512i; static constexpr int W = 16, MR = 12, NV = 2;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V load_n(const float* p, int n) { return _mm512_maskz_loadu_ps(__mmask16((1u << n) - 1), p); }
  static void store_n(float* p, V v, int n) { _mm512_mask_storeu_ps(p, __mmask16((1u << n) - 1), v); }
  static V bcast(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
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
  static void store_n(double* p, V v, int n) { _mm512_mask_storeu_pd(p, __mmask8((1u << n) - 1), v); }
  static V bcast(const double* p) { return _mm512_set1_pd(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
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
  static void store_n(float* p, V v, int n) { _mm256_maskstore_ps(p, first_lanes32(n), v); }
  static V bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
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
  static void store_n(double* p, V v, int n) { _mm256_maskstore_pd(p, first_lanes64(n), v); }
  static V bcast(const double* p) { return _mm256_broadcast_sd(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
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
  template <class V> static void store_n(T* p, V v, int n) {
    alignas(16) T buf[W];
    Simd<T>::store(buf, v);
    for (int r = 0; r < n; ++r) p[r] = buf[r];
  }
  static I lane_offsets(int32_t ld) { return ld; }
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

// Cache blocking: a B micro-panel (KC x NR, 32 KiB) stays in L1 while the
// A micro-panels stream past it, an A block (MC x KC, ~480 KiB) in L2 (2 MiB),
// a B block (KC x NC, 4 MiB) in L3.
template <class T> struct Blocking {
  static constexpr int MR = Simd<T>::MR, NR = Simd<T>::W * Simd<T>::NV;
  static constexpr int64_t KC = 32768 / (NR * static_cast<int64_t>(sizeof(T)));
  static constexpr int64_t MC = (491520 / (KC * static_cast<int64_t>(sizeof(T)))) / MR * MR;
  static constexpr int64_t NC = 4096;
};

// C[m x n] = alpha * Ap (KC x MR, k-major) x Bp (KC x NR, its rows ldb
// apart: NR in a packed panel, B's row stride when read in place) + beta * C (C unread when beta == 0), for an m <= MR by n <= NR tile of C
// at `c` (row stride ldc, unit column stride; a strided C goes through a
// local buffer the caller copies from). Edge tiles compute the whole padded
// tile and store only their part, with masked moves.
template <class T>
inline void microkernel(int64_t kc, const T* __restrict ap, const T* __restrict bp, int64_t ldb, T* c, int64_t ldc,
                        int m, int n, T alpha, T beta) {
  using S = Simd<T>;
  constexpr int MR = S::MR, NV = S::NV, W = S::W;
  typename S::V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = S::zero();
  // C is read (beta) and written only after the K loop, by then its lines
  // are on their way: a tile of a large C is far out of cache, and waiting
  // for it costs ~10% at 2048^2.
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i) {
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc), _MM_HINT_T0);
    _mm_prefetch(reinterpret_cast<const char*>(c + i * ldc + NV * W - 1), _MM_HINT_T0);
  }
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; ++k) {
    typename S::V b[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) b[v] = S::load(bp + v * W);
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const typename S::V a = S::bcast(ap + i);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[i][v] = S::fma(a, b[v], acc[i][v]);
    }
    ap += MR;
    bp += ldb;
  }
  const typename S::V va = S::bcast(&alpha), vb = S::bcast(&beta);
  if (m == MR && n == NV * W) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) {
        T* dst = c + i * ldc + v * W;
        const typename S::V r = acc[i][v] * va;
        S::store(dst, beta != T(0) ? S::fma(S::load(dst), vb, r) : r);
      }
    return;
  }
  // Unrolled, so that acc is indexed by constants and stays in registers.
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      const int lanes = std::min(W, n - v * W);
      if (i >= m || lanes <= 0) continue;
      T* dst = c + i * ldc + v * W;
      const typename S::V r = acc[i][v] * va;
      S::store_n(dst, beta != T(0) ? S::fma(S::load_n(dst, lanes), vb, r) : r, lanes);
    }
}

// C[m x n] (strides rs, cs) = tile (row stride NR) + beta * C, written
// along C's contiguous direction.
template <class T>
void store_strided(const T* tile, int64_t m, int64_t n, T* c, int64_t rs, int64_t cs, T beta) {
  constexpr int NR = Blocking<T>::NR;
  if (rs == 1) {  // C^T: each column of the tile is a contiguous row of C
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < m; ++i) c[i + j * cs] = tile[i * NR + j] + (beta != T(0) ? beta * c[i + j * cs] : T(0));
    return;
  }
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) c[i * rs + j * cs] = tile[i * NR + j] + (beta != T(0) ? beta * c[i * rs + j * cs] : T(0));
}

// The rest of the epilogue on an m x n tile of C still in L1: bias, then the
// activation -- one loop per activation, so that its math vectorizes.
template <class T>
void finish_tile(const GemmProblem& p, T* c, int64_t rs, int64_t cs, int64_t m, int64_t n, int64_t i0, int64_t j0) {
  const T* bias = static_cast<const T*>(p.bias);
  const T a = static_cast<T>(p.act_params.a), b = static_cast<T>(p.act_params.b);
  dispatch_op(p.act, [&](auto act) {
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        T& x = c[i * rs + j * cs];
        x = pointwise::activation<decltype(act)::value, T, SimdMath>(
            bias ? x + bias[p.bias_per_row ? i0 + i : j0 + j] : x, a, b);
      }
  });
}

#if defined(__AVX512F__)
// r[i] <- lane i of every r[j] (a 16 x 16 transpose in registers): pairs of
// rows interleave by 1, then 2 lanes, then 4 and 8 lanes across 128-bit
// quarters -- 64 shuffles for 256 floats, ~3x the speed of 16 gathers.
inline void transpose16(__m512 r[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 16; i += 4)
    for (int j = 0; j < 2; ++j) {
      r[i + 2 * j] = _mm512_shuffle_ps(t[i + j], t[i + j + 2], 0x44);
      r[i + 2 * j + 1] = _mm512_shuffle_ps(t[i + j], t[i + j + 2], 0xEE);
    }
  for (int i = 0; i < 16; i += 8)
    for (int j = 0; j < 4; ++j) {
      t[i + j] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0x88);
      t[i + j + 4] = _mm512_shuffle_f32x4(r[i + j], r[i + j + 4], 0xDD);
    }
  for (int j = 0; j < 8; ++j) {
    r[j] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0x88);
    r[j + 8] = _mm512_shuffle_f32x4(t[j], t[j + 8], 0xDD);
  }
}
#endif

// out[k * ostride + r] = src[r * ld + k] for r < rows, k < kc: the copy
// that transposes an operand into a panel, read along the source's
// contiguous rows (its columns one at a time would put rows of a
// power-of-two length into one L1 set). One gather per panel row of W;
// float on AVX-512 transposes 16 x 16 blocks in registers instead.
template <class T>
void pack_transposed(int64_t rows, int64_t kc, const T* src, int64_t ld, T* out, int64_t ostride) {
  using S = Simd<T>;
  if (ld > INT32_MAX / S::W) {  // offsets beyond the gather's int32 indices
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < kc; ++k) out[k * ostride + r] = src[r * ld + k];
    return;
  }
  const auto offsets = S::lane_offsets(static_cast<int32_t>(ld));
  for (int64_t r0 = 0; r0 < rows; r0 += S::W) {
    const int n = static_cast<int>(std::min<int64_t>(S::W, rows - r0));
    const T* s = src + r0 * ld;
    T* o = out + r0;
    int64_t k = 0;
#if defined(__AVX512F__)
    if constexpr (std::is_same_v<T, float>) {
      for (; k + 16 <= kc; k += 16) {
        __m512 r[16];
        for (int i = 0; i < 16; ++i) r[i] = i < n ? _mm512_loadu_ps(s + i * ld + k) : _mm512_setzero_ps();
        transpose16(r);
        for (int i = 0; i < 16; ++i) S::store_n(o + (k + i) * ostride, r[i], n);
      }
    }
#endif
    for (; k < kc; ++k) S::store_n(o + k * ostride, S::gather(s + k, offsets, n), n);
  }
}

// Packs rows [0, mc) x cols [0, kc) of A (strides rs, cs) into MR-row panels,
// k-major, zero-padding the last panel.
template <class T>
void pack_a(int64_t mc, int64_t kc, const T* a, int64_t rs, int64_t cs, T* out) {
  constexpr int MR = Blocking<T>::MR;
  for (int64_t i0 = 0; i0 < mc; i0 += MR, out += MR * kc) {
    const int64_t m = std::min<int64_t>(MR, mc - i0);
    if (m < MR) std::fill(out, out + MR * kc, T(0));
    if (cs == 1) {
      pack_transposed(m, kc, a + i0 * rs, rs, out, MR);
    } else {
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t i = 0; i < m; ++i) out[k * MR + i] = a[(i0 + i) * rs + k * cs];
    }
  }
}

// Packs rows [0, kc) x cols [0, n) of B (n <= NR) into one NR-column panel, k-major.
template <class T>
void pack_b_panel(int64_t kc, int64_t n, const T* b, int64_t rs, int64_t cs, T* out) {
  constexpr int NR = Blocking<T>::NR;
  if (cs == 1 && n == NR) {
    for (int64_t k = 0; k < kc; ++k, out += NR) std::memcpy(out, b + k * rs, NR * sizeof(T));
    return;
  }
  if (n < NR) std::fill(out, out + kc * NR, T(0));
  if (rs == 1) {  // B transposed: its columns are the contiguous rows
    pack_transposed(n, kc, b, cs, out, NR);
    return;
  }
  for (int64_t k = 0; k < kc; ++k)
    for (int64_t j = 0; j < n; ++j) out[k * NR + j] = b[k * rs + j * cs];
}

// The first 64-byte aligned address of buf, grown to hold `elements` from
// there: panels start on cache lines, so no vector load of them is split.
template <class T>
T* aligned_buffer(std::vector<T>& buf, size_t elements) {
  if (buf.size() < elements + 64 / sizeof(T)) buf.resize(elements + 64 / sizeof(T));
  return reinterpret_cast<T*>((reinterpret_cast<uintptr_t>(buf.data()) + 63) & ~uintptr_t(63));
}

template <class T>
void gemm_v2_packed_one(const GemmProblem& pr, const T* A, const T* B, T* C, std::vector<T>& bpack) {
  using Bk = Blocking<T>;
  constexpr int MR = Bk::MR, NR = Bk::NR;
  const int64_t M = pr.M, N = pr.N, K = pr.K;
  const int64_t a_rs = pr.a_rs, a_cs = pr.a_cs, b_rs = pr.b_rs, b_cs = pr.b_cs, c_rs = pr.c_rs, c_cs = pr.c_cs;
  const bool finish = pr.bias != nullptr || pr.act != Activation::Identity;
  const T alpha = static_cast<T>(pr.alpha);
  // K blocks of equal depth: 784 = 4 x 196 rather than 3 x 256 + 16, whose
  // last block would pay a whole pass over C for a sliver of work.
  const int64_t kblocks = std::max<int64_t>(1, (K + Bk::KC - 1) / Bk::KC);
  const int64_t KC = (K + kblocks - 1) / kblocks;
  T* const bp = aligned_buffer(bpack, static_cast<size_t>((std::min(Bk::NC, N) + NR - 1) / NR * NR * KC));
  // A team for the whole product (one fork/join). Below ~2 MFLOP the
  // barriers and the split packing cost more than a second thread gains
  // (measured on the intro networks' GEMMs).
  const int64_t max_threads = 2.0 * M * N * K < 2e6 ? 1 : num_threads();
  // A row-major B spanning at most 32 KiB is read in place, L1-resident
  // with no set conflicts: copying it would cost more than it saves (only
  // a last, narrower panel is packed, for its zero padding).
  const bool direct_b = b_cs == 1 && K * b_rs * static_cast<int64_t>(sizeof(T)) <= 32768;
  parallel_team(max_threads, [&](int64_t tid, int64_t threads) {
    thread_local std::vector<T> apack;  // this thread's A block
    T* const ap = aligned_buffer(apack, static_cast<size_t>(Bk::MC * Bk::KC));
    alignas(64) T tile[MR * NR];
    // Blocks of A are sized so that their count is a multiple of the thread
    // count (balance without repacking); when M is too small for that, the
    // B panels of a block are split between threads too.
    int64_t mblocks = (M + Bk::MC - 1) / Bk::MC;
    mblocks = (mblocks + threads - 1) / threads * threads;
    const int64_t MC = std::min(Bk::MC, ((M + mblocks - 1) / mblocks + MR - 1) / MR * MR);
    mblocks = (M + MC - 1) / MC;
    for (int64_t jc = 0; jc < N; jc += Bk::NC) {
      const int64_t nc = std::min(Bk::NC, N - jc);
      const int64_t npanels = (nc + NR - 1) / NR;
      const int64_t nchunks = std::min<int64_t>(npanels, std::max<int64_t>(1, (threads + mblocks - 1) / mblocks));
      for (int64_t pc = 0; pc < K; pc += KC) {
        const int64_t kc = std::min(KC, K - pc);
        const T beta = pc == 0 ? static_cast<T>(pr.beta) : T(1);  // later K blocks accumulate
        const bool last = pc + kc >= K;
        // The team packs B together, each thread a contiguous range: when the
        // threads split B's panels (nchunks == threads) it packs what it uses.
        for (int64_t p = npanels * tid / threads; p < npanels * (tid + 1) / threads; ++p)
          if (!direct_b || (p + 1) * NR > nc)
            pack_b_panel(kc, std::min<int64_t>(NR, nc - p * NR), B + pc * b_rs + (jc + p * NR) * b_cs, b_rs, b_cs,
                         bp + p * kc * NR);
        team_barrier(threads);
        int64_t packed_block = -1;
        for (int64_t w = tid; w < mblocks * nchunks; w += threads) {  // (A block, range of B panels)
          const int64_t mb = w / nchunks, chunk = w % nchunks;
          const int64_t ic = mb * MC, mc = std::min(MC, M - ic);
          if (packed_block != mb) {
            pack_a(mc, kc, A + ic * a_rs + pc * a_cs, a_rs, a_cs, ap);
            packed_block = mb;
          }
          const int64_t p_begin = npanels * chunk / nchunks, p_end = npanels * (chunk + 1) / nchunks;
          for (int64_t p = p_begin; p < p_end; ++p) {
            const int64_t jr = p * NR, n = std::min<int64_t>(NR, nc - jr);
            for (int64_t ir = 0; ir < mc; ir += MR) {
              const int64_t m = std::min<int64_t>(MR, mc - ir);
              T* c = C + (ic + ir) * c_rs + (jc + jr) * c_cs;
              const T* a_panel = ap + ir * kc;
              const bool packed = !direct_b || n < NR;
              const T* b_panel = packed ? bp + p * kc * NR : B + pc * b_rs + (jc + jr);
              const int64_t ldb = packed ? NR : b_rs;
              if (c_cs == 1) {
                microkernel<T>(kc, a_panel, b_panel, ldb, c, c_rs, int(m), int(n), alpha, beta);
              } else {  // a strided C (a transposed one, when C^T is computed): through a buffer
                microkernel<T>(kc, a_panel, b_panel, ldb, tile, NR, MR, NR, alpha, T(0));
                store_strided(tile, m, n, c, c_rs, c_cs, beta);
              }
              if (last && finish) finish_tile(pr, c, c_rs, c_cs, m, n, ic + ir, jc + jr);
            }
          }
        }
        team_barrier(threads);  // B's panels are repacked for the next block
      }
    }
  });
}

// The fraction of the microkernel's work that is real when C (m x n) is cut
// into MR x NR tiles: the padding of the edge tiles is wasted.
template <class T>
double tile_use(int64_t m, int64_t n) {
  constexpr int64_t MR = Blocking<T>::MR, NR = Blocking<T>::NR;
  return double(m) / double((m + MR - 1) / MR * MR) * double(n) / double((n + NR - 1) / NR * NR);
}

template <class T>
void gemm_v2_packed(const GemmProblem& p) {
  // C = A B or, equivalently, C^T = B^T A^T: a narrow C (a dense layer's
  // 10-way head: N = 10 of NR = 32) wastes most of each tile, its transpose
  // very little. Transposing is free: swap the operands and their strides.
  GemmProblem q = p;
  const bool swap = tile_use<T>(p.N, p.M) > 1.05 * tile_use<T>(p.M, p.N);
  if (swap) {
    q.M = p.N; q.N = p.M;
    q.a_rs = p.b_cs; q.a_cs = p.b_rs;
    q.b_rs = p.a_cs; q.b_cs = p.a_rs;
    q.c_rs = p.c_cs; q.c_cs = p.c_rs;
    q.bias_per_row = !p.bias_per_row;
  }
  // The B block buffer is the caller's, kept between calls: a fresh one of a
  // few hundred KiB would be a new mmap, page faults included, every call.
  thread_local std::vector<T> bpack;
  for (const auto& b : batch_bases(p)) {
    const T* a = reinterpret_cast<const T*>(b[swap ? 2 : 1]);
    const T* bm = reinterpret_cast<const T*>(b[swap ? 1 : 2]);
    gemm_v2_packed_one<T>(q, a, bm, reinterpret_cast<T*>(b[0]), bpack);
  }
}

}  // namespace

void gemm(DType dt, const GemmProblem& p) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      if (p.variant == GemmVariant::Naive) gemm_v1_naive<T>(p);
      else gemm_v2_packed<T>(p);
    } else if constexpr (!std::is_same_v<T, bool>) {
      gemm_v1_naive<T>(p);  // integer matmul: exact and rare, the oracle loop serves
    }
  });
}

}  // namespace dlcore::cpu::DLCORE_ISA
