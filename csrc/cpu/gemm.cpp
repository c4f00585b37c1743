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
// The blocking, the microkernel and A's packing live in cpu/packed.h,
// shared with the implicit-GEMM convolution (csrc/cpu/conv.cpp).
// Numerics: float32 accumulates in float32 with FMA (as BLAS does); the
// error grows like K * eps; integers use the naive loop and wrap.
#include <algorithm>
#include <array>
#include <cstring>
#include <vector>
#include "core/parallel.h"
#include "core/pointwise.h"
#include "cpu/math.h"
#include "cpu/packed.h"

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

// C[m x n] (strides rs, cs) = tile (row stride NR) + beta * C, written
// along C's contiguous direction.
template <class T>
void store_strided(const T* tile, int64_t m, int64_t n, T* c, int64_t rs, int64_t cs, T beta) {
  using S = Simd<T>;
  constexpr int NR = Blocking<T>::NR;
  if (rs == 1) {  // C^T: each column of the tile, gathered, is a contiguous row of C
    const auto offsets = S::lane_offsets(NR);
    const typename S::V vb = S::bcast(&beta);
    for (int64_t j = 0; j < n; ++j)
      for (int64_t i = 0; i < m; i += S::W) {
        const int lanes = static_cast<int>(std::min<int64_t>(S::W, m - i));
        T* dst = c + i + j * cs;
        const typename S::V v = S::gather(tile + i * NR + j, offsets, lanes);
        S::store_n(dst, beta != T(0) ? S::fma(S::load_n(dst, lanes), vb, v) : v, lanes);
      }
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
        x = pointwise::activation<decltype(act)::value, T, ActivationMath>(
            bias ? x + bias[p.bias_per_row ? i0 + i : j0 + j] : x, a, b);
      }
  });
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
