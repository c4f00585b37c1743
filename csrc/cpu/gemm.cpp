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
// panels, whatever its strides: transposed views need no other copy, and the
// microkernel streams both panels with unit stride. The microkernel keeps the
// MR x NR tile of C in vector registers: per k it loads NR/W vectors of B,
// broadcasts MR values of A and issues MR*NR/W fused multiply-adds.
//   AVX-512: MR x NR = 12 x 32 (float) / 12 x 16 (double): 24 zmm accumulators
//   AVX2:    6 x 16 / 6 x 8: 12 ymm accumulators
//   baseline (SSE2, no FMA): 4 x 8 / 4 x 4
// One team of threads runs the whole product: it packs each B block together,
// then its threads take (ic block, jr range) pairs, each packing its own A
// block, so 1 and 2 threads stay busy even when M is one block.
// Numerics: float32 accumulates in float32 with FMA (as BLAS does); the
// error grows like K * eps; integers use the naive loop and wrap.
#include <algorithm>
#include <array>
#include <cstring>
#include <vector>
#include <immintrin.h>
#include "core/parallel.h"
#include "core/pointwise.h"

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

// The vector type of this ISA for T: width W, and the three operations the
// microkernel needs (load, broadcast, fused multiply-add).
template <class T> struct Simd;
#if defined(__AVX512F__)
template <> struct Simd<float> {
  using V = __m512; static constexpr int W = 16, MR = 12, NV = 2;
  static V zero() { return _mm512_setzero_ps(); }
  static V load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, V v) { _mm512_storeu_ps(p, v); }
  static V bcast(const float* p) { return _mm512_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
};
template <> struct Simd<double> {
  using V = __m512d; static constexpr int W = 8, MR = 12, NV = 2;
  static V zero() { return _mm512_setzero_pd(); }
  static V load(const double* p) { return _mm512_loadu_pd(p); }
  static void store(double* p, V v) { _mm512_storeu_pd(p, v); }
  static V bcast(const double* p) { return _mm512_set1_pd(*p); }
  static V fma(V a, V b, V c) { return _mm512_fmadd_pd(a, b, c); }
};
#elif defined(__AVX2__) && defined(__FMA__)
template <> struct Simd<float> {
  using V = __m256; static constexpr int W = 8, MR = 6, NV = 2;
  static V zero() { return _mm256_setzero_ps(); }
  static V load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, V v) { _mm256_storeu_ps(p, v); }
  static V bcast(const float* p) { return _mm256_broadcast_ss(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
};
template <> struct Simd<double> {
  using V = __m256d; static constexpr int W = 4, MR = 6, NV = 2;
  static V zero() { return _mm256_setzero_pd(); }
  static V load(const double* p) { return _mm256_loadu_pd(p); }
  static void store(double* p, V v) { _mm256_storeu_pd(p, v); }
  static V bcast(const double* p) { return _mm256_broadcast_sd(p); }
  static V fma(V a, V b, V c) { return _mm256_fmadd_pd(a, b, c); }
};
#else
template <> struct Simd<float> {
  using V = __m128; static constexpr int W = 4, MR = 4, NV = 2;
  static V zero() { return _mm_setzero_ps(); }
  static V load(const float* p) { return _mm_loadu_ps(p); }
  static void store(float* p, V v) { _mm_storeu_ps(p, v); }
  static V bcast(const float* p) { return _mm_set1_ps(*p); }
  static V fma(V a, V b, V c) { return _mm_add_ps(_mm_mul_ps(a, b), c); }  // SSE2 has no FMA
};
template <> struct Simd<double> {
  using V = __m128d; static constexpr int W = 2, MR = 4, NV = 2;
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

// C[MR x NR] = alpha * Ap (KC x MR, k-major) x Bp (KC x NR, k-major)
// + beta * C (C unread when beta == 0). The tile goes to `c` (row stride
// ldc, unit column stride) -- or, at the edges of C or for a strided C, to a
// local buffer the caller copies from.
template <class T>
inline void microkernel(int64_t kc, const T* __restrict ap, const T* __restrict bp, T* c, int64_t ldc, T alpha,
                        T beta) {
  using S = Simd<T>;
  constexpr int MR = S::MR, NV = S::NV, W = S::W;
  typename S::V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) acc[i][v] = S::zero();
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
    bp += NV * W;
  }
  const typename S::V va = S::bcast(&alpha), vb = S::bcast(&beta);
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) {
      T* dst = c + i * ldc + v * W;
      const typename S::V r = acc[i][v] * va;
      S::store(dst, beta != T(0) ? S::fma(S::load(dst), vb, r) : r);
    }
}

// The rest of the epilogue on an m x n tile of C still in L1: bias, activation.
template <class T>
void finish_tile(const GemmProblem& p, T* c, int64_t rs, int64_t cs, int64_t m, int64_t n, int64_t i0, int64_t j0) {
  const T* bias = static_cast<const T*>(p.bias);
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      T& x = c[i * rs + j * cs];
      x = pointwise::activation(p.act, bias ? x + bias[p.bias_per_row ? i0 + i : j0 + j] : x);
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
    // Read along A's contiguous direction; rows of a power-of-two length
    // would otherwise all map to the same L1 set.
    if (cs == 1) {
      for (int64_t i = 0; i < m; ++i)
        for (int64_t k = 0; k < kc; ++k) out[k * MR + i] = a[(i0 + i) * rs + k];
    } else {
      for (int64_t k = 0; k < kc; ++k)
        for (int64_t i = 0; i < m; ++i) out[k * MR + i] = a[(i0 + i) * rs + k * cs];
    }
  }
}

// Packs rows [0, kc) x cols [0, nc) of B into NR-column panels, k-major.
template <class T>
void pack_b_panel(int64_t kc, int64_t n, const T* b, int64_t rs, int64_t cs, T* out) {
  constexpr int NR = Blocking<T>::NR;
  if (cs == 1 && n == NR) {
    for (int64_t k = 0; k < kc; ++k, out += NR) std::memcpy(out, b + k * rs, NR * sizeof(T));
    return;
  }
  if (n < NR) std::fill(out, out + kc * NR, T(0));
  if (rs == 1) {  // B transposed: read along its contiguous direction (as in pack_a)
    for (int64_t j = 0; j < n; ++j)
      for (int64_t k = 0; k < kc; ++k) out[k * NR + j] = b[k + j * cs];
    return;
  }
  for (int64_t k = 0; k < kc; ++k)
    for (int64_t j = 0; j < n; ++j) out[k * NR + j] = b[k * rs + j * cs];
}

template <class T>
T* thread_buffer(size_t elements) {  // per-thread packing space for A blocks, 64-byte aligned
  thread_local std::vector<T> buf;
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
  bpack.resize(static_cast<size_t>((std::min(Bk::NC, N) + NR - 1) / NR * NR * std::min(Bk::KC, K)) + 64);
  // A team for the whole product (one fork/join). Below ~16 MFLOP the
  // barriers and the split packing cost more than a second thread gains
  // (measured on the intro networks' GEMMs).
  const int64_t max_threads = 2.0 * M * N * K < 1.6e7 ? 1 : num_threads();
  parallel_team(max_threads, [&](int64_t tid, int64_t threads) {
    T* ap = thread_buffer<T>(static_cast<size_t>(Bk::MC * Bk::KC));
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
      for (int64_t pc = 0; pc < K; pc += Bk::KC) {
        const int64_t kc = std::min(Bk::KC, K - pc);
        const T beta = pc == 0 ? static_cast<T>(pr.beta) : T(1);  // later K blocks accumulate
        const bool last = pc + kc >= K;
        T* bp = bpack.data();
        for (int64_t p = tid; p < npanels; p += threads)  // the team packs B together
          pack_b_panel(kc, std::min<int64_t>(NR, nc - p * NR), B + pc * b_rs + (jc + p * NR) * b_cs, b_rs, b_cs,
                       bp + p * kc * NR);
        team_barrier();
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
              const T* b_panel = bp + p * kc * NR;
              if (m == MR && n == NR && c_cs == 1) {
                microkernel<T>(kc, a_panel, b_panel, c, c_rs, alpha, beta);
              } else {  // an edge tile or a strided C: through a buffer
                microkernel<T>(kc, a_panel, b_panel, tile, NR, alpha, T(0));
                for (int64_t i = 0; i < m; ++i)
                  for (int64_t j = 0; j < n; ++j) {
                    T& dst = c[i * c_rs + j * c_cs];
                    dst = beta != T(0) ? tile[i * NR + j] + beta * dst : tile[i * NR + j];
                  }
              }
              if (last && finish) finish_tile(pr, c, c_rs, c_cs, m, n, ic + ir, jc + jr);
            }
          }
        }
        team_barrier();  // B's panels are repacked for the next block
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
