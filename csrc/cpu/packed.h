// The building blocks of the packed GEMM (BLIS-style, csrc/cpu/gemm.cpp):
// cache blocking, the register-blocked microkernel, A-panel packing and
// aligned panel buffers. The GEMM driver and the implicit-GEMM convolution
// (csrc/cpu/conv.cpp, which packs its B panels straight from the image)
// share them.
#pragma once
#include <algorithm>
#include <climits>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>
#include "cpu/simd.h"

namespace dlcore::cpu::DLCORE_ISA {

// Cache blocking: a B micro-panel (KC x NR, 32 KiB) stays in L1 while the
// A micro-panels stream past it, an A block (MC x KC, ~480 KiB) in L2 (2 MiB),
// a B block (KC x NC, 4 MiB) in L3.
template <class T> struct Blocking {
  static constexpr int MR = Simd<T>::MR, NR = Simd<T>::W * Simd<T>::NV;
  static constexpr int64_t KC = 32768 / (NR * static_cast<int64_t>(sizeof(T)));
  static constexpr int64_t MC = (491520 / (KC * static_cast<int64_t>(sizeof(T)))) / MR * MR;
  static constexpr int64_t NC = 4096;
};

// The tile heights the microkernel is also built for: a caller whose M is
// fixed and small (a convolution's output channels) picks the one that pads
// M least -- 64 rows are 8 tiles of 8, not 6 of 12 with 8 rows wasted. Each
// keeps MR x NV accumulators and the B vectors within the registers.
#if defined(__AVX512F__)
using MrChoices = std::integer_sequence<int, 12, 10, 8>;
#elif defined(__AVX2__) && defined(__FMA__)
using MrChoices = std::integer_sequence<int, 6, 5, 4>;
#else
using MrChoices = std::integer_sequence<int, 4>;
#endif

// C[m x n] = alpha * Ap (KC x MR, k-major) x Bp (KC x NR, its rows ldb
// apart: NR in a packed panel, B's row stride when read in place) + beta * C
// (C unread when beta == 0), for an m <= MR by n <= NR tile of C at `c`
// (row stride ldc, unit column stride; a strided C goes through a local
// buffer the caller copies from). Edge tiles compute the whole padded tile
// and store only their part, with masked moves.
template <class T, int MR = Simd<T>::MR>
inline void microkernel(int64_t kc, const T* __restrict ap, const T* __restrict bp, int64_t ldb, T* c, int64_t ldc,
                        int m, int n, T alpha, T beta) {
  using S = Simd<T>;
  constexpr int NV = S::NV, W = S::W;
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
template <class T, int MR = Blocking<T>::MR>
void pack_a(int64_t mc, int64_t kc, const T* a, int64_t rs, int64_t cs, T* out) {
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

// The first 64-byte aligned address of buf, grown to hold `elements` from
// there: panels start on cache lines, so no vector load of them is split.
template <class T>
T* aligned_buffer(std::vector<T>& buf, size_t elements) {
  if (buf.size() < elements + 64 / sizeof(T)) buf.resize(elements + 64 / sizeof(T));
  return reinterpret_cast<T*>((reinterpret_cast<uintptr_t>(buf.data()) + 63) & ~uintptr_t(63));
}

}  // namespace dlcore::cpu::DLCORE_ISA
