// Convolution on the CPU: forward, backward-input and backward-weight of a
// 2-D convolution over NCHW tensors (ConvProblem in core/kernels.h).
//
// v1 direct (variant naive): the defining sums as loops, one output at a
// time. It is the test oracle and the first chapter.
//
// v2 im2col + packed GEMM, the backward passes. For one image and one
// group, the input patches are unrolled into a matrix col (CKK x OHW, CKK =
// C/groups * KH * KW, one column per output pixel; copied by the patch-row
// packer that v3 uses too), and each pass becomes one GEMM of
// csrc/cpu/gemm.cpp:
//   backward-weight: dw[g]   += dy[n, g] (OCg x OHW) @ col^T    (col^T is a strided view, no copy)
//   backward-input:  col      = w[g]^T @ dy[n, g], then col2im adds every
//                    column back onto the pixels its patch came from.
// A 1x1 convolution with unit stride and no padding needs no col: x[n] is it.
// A small dw over large images (OC x CKK vectors fit in 64 KiB) skips the
// GEMM's transposing copies: dot_accumulate keeps a vector per element of
// dw and adds each image's products lane by lane along the pixels, the
// lanes summed once at the end.
// Memory: one col buffer per thread, never one for the batch: one image's
// for backward-input, a GEMM K block of pixels (it stays in L2) for
// backward-weight.
// Threads: with at least as many images as threads, each thread takes whole
// images (their GEMMs then run on that thread); otherwise images go one after
// another and each GEMM uses all threads. Backward-weight sums each thread's
// images into its own dw and adds those in thread order, so the result does
// not depend on timing.
//
// v3 implicit GEMM, the forward pass: y[:, g] = w[g] (OCg x CKK) @ col for
// the col of the whole batch (one column per pixel of every image), never
// stored. The GEMM's loops (cpu/packed.h) run with the weights packed once
// and each B panel -- CKK taps x NR pixels, a few runs of output rows, across
// image boundaries when images are small -- copied straight from x into the
// microkernel's layout, the padding zeroed by masked loads. Threads take
// ranges of pixel panels; the bias is added to each tile of y while it is
// in cache. Against v2 this saves writing and re-reading col, packing it
// again for the GEMM, and the per-image GEMM calls on small images.
//
// Numerics: float accumulation in the microkernel (error grows like
// CKK * eps, or OHW * N * eps for the weight gradient).
#include <algorithm>
#include <memory>
#include <vector>
#include "core/parallel.h"
#include "core/windows.h"
#include "cpu/packed.h"

namespace dlcore::cpu::DLCORE_ISA {

void gemm(DType dt, const GemmProblem& p);  // csrc/cpu/gemm.cpp

namespace {

// ---- v1: direct --------------------------------------------------------------

// One output element at a time, through the defining sums of core/windows.h.
template <class T>
void conv_v1_direct(ConvPass pass, const ConvProblem& p, T* out, const T* a, const T* b, const T* bias) {
  const int64_t Cg = p.C / p.groups;
  if (pass == ConvPass::Forward) {
    parallel_for(p.N * p.OC, 1, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        for (int64_t oh = 0; oh < p.OH; ++oh)
          for (int64_t ow = 0; ow < p.OW; ++ow)
            out[(r * p.OH + oh) * p.OW + ow] = windows::conv_forward_at(p, a, b, bias, r / p.OC, r % p.OC, oh, ow);
    });
  } else if (pass == ConvPass::BackwardInput) {
    parallel_for(p.N * p.C, 1, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        for (int64_t ih = 0; ih < p.H; ++ih)
          for (int64_t iw = 0; iw < p.W; ++iw)
            out[(r * p.H + ih) * p.W + iw] = windows::conv_backward_input_at(p, a, b, r / p.C, r % p.C, ih, iw);
    });
  } else {
    parallel_for(p.OC * Cg * p.KH * p.KW, 1, [&](int64_t begin, int64_t end) {
      for (int64_t r = begin; r < end; ++r)
        out[r] = windows::conv_backward_weight_at(p, a, b, r / (p.KW * p.KH * Cg), r / (p.KW * p.KH) % Cg,
                                                  r / p.KW % p.KH, r % p.KW);
    });
  }
}

// ---- Patch rows: im2col's matrix, a block at a time ---------------------

// Row k = (c, kh, kw) of im2col's matrix at pixel (n, oh, ow) is
// x[n, c, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw] (0 outside the image).
// A block of it is described by its taps (rows) and by runs of pixels, one
// per output row the block's columns cover.

// For each kernel row kh, the output rows [oh_lo, oh_hi) whose tap kh reads
// a row inside the image (the rest read padding); the same for columns. The
// bounds need divisions, so they are computed once per call.
struct TapRanges {
  std::vector<int64_t> oh_lo, oh_hi, ow_lo, ow_hi;
  bool clipped = false;  // some tap of some output reads padding
  explicit TapRanges(const ConvProblem& p) : oh_lo(p.KH), oh_hi(p.KH), ow_lo(p.KW), ow_hi(p.KW) {
    // lo: the first o with o * stride + off >= 0; hi: the first with o * stride + off >= size.
    auto inside = [&](int64_t size, int64_t osize, int64_t stride, int64_t off, int64_t& lo, int64_t& hi) {
      lo = std::min(osize, std::max<int64_t>(0, (-off + stride - 1) / stride));
      hi = std::max(lo, std::min(osize, (size - off + stride - 1) / stride));
      clipped |= lo > 0 || hi < osize;
    };
    for (int64_t kh = 0; kh < p.KH; ++kh) inside(p.H, p.OH, p.sh, kh * p.dh - p.ph, oh_lo[kh], oh_hi[kh]);
    for (int64_t kw = 0; kw < p.KW; ++kw) inside(p.W, p.OW, p.sw, kw * p.dw - p.pw, ow_lo[kw], ow_hi[kw]);
  }
};

struct PixelRun {
  int64_t src;       // x offset of tap (0, 0, 0) at the run's first pixel, for channel 0 of the group
  int64_t oh, ow0;   // its output row and first column
  int64_t dst;       // its first column in the block
  int len;           // its pixel count
};

struct Tap {
  int64_t off;  // x offset of tap k from tap (0, 0, 0)
  int64_t kh, kw;
};

// The taps of one group's Cg channels, in im2col's row order.
inline std::vector<Tap> group_taps(const ConvProblem& p, int64_t Cg) {
  std::vector<Tap> taps(static_cast<size_t>(Cg * p.KH * p.KW));
  for (size_t k = 0; k < taps.size(); ++k) {
    const int64_t t = static_cast<int64_t>(k), c = t / (p.KH * p.KW), kh = t / p.KW % p.KH, kw = t % p.KW;
    taps[k] = {(c * p.H + kh * p.dh) * p.W + kw * p.dw, kh, kw};
  }
  return taps;
}

// The runs of pixels [j0, j0 + nj) of the batch (pixel j = (n, oh, ow) in
// y's order), their columns counted from j0; runs must hold nj entries.
// Returns their count.
inline int64_t pixel_runs(const ConvProblem& p, int64_t j0, int64_t nj, PixelRun* runs) {
  const int64_t OHW = p.OH * p.OW, xs = p.C * p.H * p.W;
  int64_t nruns = 0;
  for (int64_t j = j0; j < j0 + nj; ++nruns) {
    const int64_t n = j / OHW, oh = j % OHW / p.OW, ow = j % p.OW;
    const int64_t len = std::min(p.OW - ow, j0 + nj - j);
    runs[nruns] = {n * xs + (oh * p.sh - p.ph) * p.W + ow * p.sw - p.pw, oh, ow, j - j0, static_cast<int>(len)};
    j += len;
  }
  return nruns;
}

// out[k * ld + j] = row k of the block for tap taps[k] (k < kc) and the
// pixel in column j of one of the runs; x is the group's first channel of
// image 0. Columns outside the runs are left alone. Each vector-wide chunk
// of a run is copied down all the taps with its mask fixed (clipped: per
// kernel row and column, from `cut`, KH + 2 * KW ints): a handful of
// instructions per tap when the runs are short (8 pixels for a 12 x 12
// image and a 5 x 5 kernel). A block of few taps keeps the rows written at
// once few, whatever ld.
template <class T, bool Clip>
void pack_patches(const ConvProblem& p, const TapRanges& r, const Tap* taps, int64_t kc, const PixelRun* runs,
                  int64_t nruns, const T* x, T* out, int64_t ld, int* cut) {
  using S = Simd<T>;
  constexpr int W = S::W;
  const int64_t sw = p.sw;
  int* const row_inside = cut;      // per kh: the chunk's output row reads inside the image
  int* const lo = cut + p.KH;       // per kw: the chunk's lanes [lo, hi) read inside the image
  int* const hi = lo + p.KW;
  for (int64_t q = 0; q < nruns; ++q) {
    const PixelRun& run = runs[q];
    for (int j = 0; j < run.len; j += W) {
      const int n = std::min(W, run.len - j);
      const T* src = x + run.src + j * sw;
      T* dst = out + run.dst + j;
      if constexpr (Clip) {
        for (int64_t kh = 0; kh < p.KH; ++kh) row_inside[kh] = run.oh >= r.oh_lo[kh] && run.oh < r.oh_hi[kh];
        for (int64_t kw = 0; kw < p.KW; ++kw) {
          lo[kw] = static_cast<int>(std::clamp<int64_t>(r.ow_lo[kw] - run.ow0 - j, 0, n));
          hi[kw] = static_cast<int>(std::clamp<int64_t>(r.ow_hi[kw] - run.ow0 - j, lo[kw], n));
        }
      }
      if (sw != 1) {
        for (int64_t k = 0; k < kc; ++k) {
          const Tap t = taps[k];
          const int a = Clip ? lo[t.kw] : 0, b = Clip ? (row_inside[t.kh] ? hi[t.kw] : 0) : n;
          for (int i = 0; i < n; ++i) dst[k * ld + i] = i >= a && i < b ? src[t.off + i * sw] : T(0);
        }
      } else if constexpr (Clip) {
        for (int64_t k = 0; k < kc; ++k) {
          const Tap t = taps[k];
          S::store_n(dst + k * ld, S::load_range(src + t.off, lo[t.kw], row_inside[t.kh] ? hi[t.kw] : 0), n);
        }
      } else if (n == W) {
        for (int64_t k = 0; k < kc; ++k) S::store(dst + k * ld, S::load(src + taps[k].off));
      } else {
        for (int64_t k = 0; k < kc; ++k) S::store_n(dst + k * ld, S::load_n(src + taps[k].off, n), n);
      }
    }
  }
}

// ---- v2: im2col + GEMM ------------------------------------------------------

// Walks col for one image's group, a block of OH x OW at a time: for every
// (c, kh, kw), f(block, c, ih0, off, oh0, oh1, ow0, ow1) where block is the
// offset of col[(c*KH + kh)*KW + kw, 0], output row oh reads input row
// oh*sh + ih0 (inside the image for oh in [oh0, oh1)) and output column ow
// reads input column ow*sw + off (inside for ow in [ow0, ow1)). The ranges
// need divisions, so they are computed once per kh and kw.
template <class F>
void for_each_col_block(const ConvProblem& p, int64_t Cg, const F& f) {
  const TapRanges r(p);
  int64_t block = 0;
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t kh = 0; kh < p.KH; ++kh)
      for (int64_t kw = 0; kw < p.KW; ++kw, block += p.OH * p.OW)
        f(block, c, kh * p.dh - p.ph, kw * p.dw - p.pw, r.oh_lo[kh], r.oh_hi[kh], r.ow_lo[kw], r.ow_hi[kw]);
}

// col[(c * KH + kh) * KW + kw, j] = x[c, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw]
// for one image's group (x: Cg x H x W) and the pixels (oh, ow) of the runs
// (col's rows ld apart), zero where the patch leaves the image: 8 taps at a
// time (rows a power-of-two apart share an L1 set: 8 stay within its ways).
template <class T>
void im2col(const ConvProblem& p, const TapRanges& r, const std::vector<Tap>& taps, const PixelRun* runs,
            int64_t nruns, const T* x, T* col, int64_t ld, int* cut) {
  const int64_t CKK = static_cast<int64_t>(taps.size());
  for (int64_t k0 = 0; k0 < CKK; k0 += 8) {
    const int64_t kc = std::min<int64_t>(8, CKK - k0);
    if (r.clipped) pack_patches<T, true>(p, r, taps.data() + k0, kc, runs, nruns, x, col + k0 * ld, ld, cut);
    else pack_patches<T, false>(p, r, taps.data() + k0, kc, runs, nruns, x, col + k0 * ld, ld, cut);
  }
}

// The adjoint of im2col: dx[c, ih, iw] = the sum of col[row, pixel] over
// every patch position that read x[c, ih, iw] (dx: Cg x H x W). With unit
// strides each vector of a dx row gathers its terms from the col rows of
// the taps that reach it, shifted, in registers: scattering col rows onto
// dx instead would make each tap re-read, a few stores later, vectors that
// the previous tap has just partly written (a stall each on short rows).
// Other strides scatter, element by element.
template <class T>
void col2im(const ConvProblem& p, int64_t Cg, const T* col, T* dx) {
  using S = Simd<T>;
  if (p.sh != 1 || p.sw != 1) {
    std::fill(dx, dx + Cg * p.H * p.W, T(0));
    for_each_col_block(p, Cg, [&](int64_t block, int64_t c, int64_t ih0, int64_t off, int64_t oh0, int64_t oh1,
                                  int64_t ow0, int64_t ow1) {
      for (int64_t oh = oh0; oh < oh1; ++oh) {
        const T* s = col + block + oh * p.OW;
        T* d = dx + (c * p.H + oh * p.sh + ih0) * p.W + off;
        for (int64_t ow = ow0; ow < ow1; ++ow) d[ow * p.sw] += s[ow];
      }
    });
    return;
  }
  const int64_t OHW = p.OH * p.OW, KW = p.KW, tap_step = OHW - p.dw;  // col: from tap kw's row to kw + 1's
  // Per vector-wide chunk of a row and per kw: the lanes [lo, hi) that came
  // from a pixel (the same for every row).
  const int64_t chunks = (p.W + S::W - 1) / S::W;
  std::vector<int> lanes(static_cast<size_t>(2 * chunks * KW));
  for (int64_t q = 0; q < chunks; ++q)
    for (int64_t kw = 0; kw < KW; ++kw) {
      const int n = static_cast<int>(std::min<int64_t>(S::W, p.W - q * S::W));
      const int64_t ow = q * S::W + p.pw - kw * p.dw;  // the output column lane 0 came from
      int* l = lanes.data() + 2 * (q * KW + kw);
      l[0] = static_cast<int>(std::clamp<int64_t>(-ow, 0, n));
      l[1] = static_cast<int>(std::clamp<int64_t>(p.OW - ow, l[0], n));
    }
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t ih = 0; ih < p.H; ++ih)
      for (int64_t q = 0; q < chunks; ++q) {
        const int64_t iw = q * S::W;
        const int* l = lanes.data() + 2 * q * KW;
        // Four sums taking the taps in turn: one would wait for each add
        // to finish before the next (25 in a row for a 5 x 5 kernel).
        typename S::V a0 = S::zero(), a1 = a0, a2 = a0, a3 = a0;
        for (int64_t kh = 0; kh < p.KH; ++kh) {
          const int64_t oh = ih + p.ph - kh * p.dh;  // the output row whose tap kh read row ih
          if (oh < 0 || oh >= p.OH) continue;
          const T* src = col + (c * p.KH + kh) * KW * OHW + oh * p.OW + iw + p.pw;  // tap (kh, 0)
          for (int64_t kw = 0; kw < KW; ++kw, src += tap_step) {
            const typename S::V t = a0 + S::load_range(src, l[2 * kw], l[2 * kw + 1]);
            a0 = a1, a1 = a2, a2 = a3, a3 = t;
          }
        }
        const int n = static_cast<int>(std::min<int64_t>(S::W, p.W - iw));
        S::store_n(dx + (c * p.H + ih) * p.W + iw, (a0 + a1) + (a2 + a3), n);
      }
}

// C (M x N, row stride ldc) = A @ B (+ beta * C) on this thread's share of
// the cores, A and B given by their row and column strides.
template <class T>
void matmul(DType dt, int64_t M, int64_t N, int64_t K, const T* A, int64_t a_rs, int64_t a_cs, const T* B,
            int64_t b_rs, int64_t b_cs, T* C, int64_t ldc, double beta) {
  GemmProblem g;
  g.M = M; g.N = N; g.K = K;
  g.variant = K == 0 ? GemmVariant::Naive : GemmVariant::Fast;  // the packed kernel needs a K block to write C
  g.beta = beta;
  g.a_rs = a_rs; g.a_cs = a_cs; g.b_rs = b_rs; g.b_cs = b_cs; g.c_rs = ldc; g.c_cs = 1;
  g.batch.ndim = 1; g.batch.nops = 3; g.batch.shape[0] = 1;
  g.batch.data[0] = reinterpret_cast<char*>(C);
  g.batch.data[1] = reinterpret_cast<char*>(const_cast<T*>(A));
  g.batch.data[2] = reinterpret_cast<char*>(const_cast<T*>(B));
  gemm(dt, g);
}

// acc[i, j] += A[i, :] * B[j, :] lane by lane (acc: M x N vectors, A: M x K
// and B: N x K with rows lda and ldb apart): the weight gradient's product
// dy @ col^T with both operands read along their contiguous rows -- no
// transposing copies -- and the vectors summed across lanes only once all
// images are in (dot_sums). Register blocks of DOT_M x DOT_N accumulators;
// an edge block repeats its last row or column and stores only the real ones.
#if defined(__AVX512F__)
constexpr int DOT_M = 5, DOT_N = 5;  // 25 accumulators + 5 B vectors + 1 A vector of 32 registers
#else
constexpr int DOT_M = 2, DOT_N = 5;  // 10 + 5 + 1 of 16
#endif

template <class T>
void dot_accumulate(int64_t M, int64_t N, int64_t K, const T* A, int64_t lda, const T* B, int64_t ldb, T* acc) {
  using S = Simd<T>;
  using V = typename S::V;
  constexpr int W = S::W;
  for (int64_t i0 = 0; i0 < M; i0 += DOT_M)
    for (int64_t j0 = 0; j0 < N; j0 += DOT_N) {
      const T* a[DOT_M];
      const T* b[DOT_N];
      V c[DOT_M][DOT_N];
      for (int i = 0; i < DOT_M; ++i) a[i] = A + std::min(i0 + i, M - 1) * lda;
      for (int j = 0; j < DOT_N; ++j) b[j] = B + std::min(j0 + j, N - 1) * ldb;
      for (int i = 0; i < DOT_M; ++i)
        for (int j = 0; j < DOT_N; ++j)
          c[i][j] = S::load(acc + (std::min(i0 + i, M - 1) * N + std::min(j0 + j, N - 1)) * W);
      auto step = [&](int64_t k, int n) {
        V bv[DOT_N];
        for (int j = 0; j < DOT_N; ++j) bv[j] = n == W ? S::load(b[j] + k) : S::load_n(b[j] + k, n);
        for (int i = 0; i < DOT_M; ++i) {
          const V av = n == W ? S::load(a[i] + k) : S::load_n(a[i] + k, n);
          for (int j = 0; j < DOT_N; ++j) c[i][j] = S::fma(av, bv[j], c[i][j]);
        }
      };
      int64_t k = 0;
      for (; k + W <= K; k += W) step(k, W);
      if (k < K) step(k, static_cast<int>(K - k));
      for (int i = 0; i < DOT_M; ++i)
        for (int j = 0; j < DOT_N; ++j)
          if (i0 + i < M && j0 + j < N) S::store(acc + ((i0 + i) * N + j0 + j) * W, c[i][j]);
    }
}

// out[e] = the sum of vector e over the threads' accumulators (in thread
// order), then across its lanes: a fixed order of additions.
template <class T>
void dot_sums(int64_t count, int64_t threads, const T* acc, T* out) {
  using S = Simd<T>;
  constexpr int W = S::W;
  for (int64_t e = 0; e < count; ++e) {
    typename S::V v = S::load(acc + e * W);
    for (int64_t t = 1; t < threads; ++t) v = v + S::load(acc + (t * count + e) * W);
    out[e] = S::sum(v);
  }
}

template <class T>
void conv_v2_backward(ConvPass pass, DType dt, const ConvProblem& p, T* out, const T* a, const T* b) {
  const int64_t Cg = p.C / p.groups, OCg = p.OC / p.groups, CKK = Cg * p.KH * p.KW, OHW = p.OH * p.OW;
  const int64_t xs = p.C * p.H * p.W, ys = p.OC * OHW;  // image strides
  const bool pointwise = p.KH == 1 && p.KW == 1 && p.sh == 1 && p.sw == 1 && p.ph == 0 && p.pw == 0;
  const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(num_threads(), p.N));
  // Backward-weight: one dw per thread beyond the first (zeroed: a thread
  // left without images adds nothing), summed in order at the end. A small
  // dw over large images (LeNet's first layer: 10 x 25 over 24 x 24 pixels)
  // is accumulated as vectors instead (dot_accumulate): one per thread and
  // element of dw, each image adding a few dozen vectors of products to it.
  const int64_t W = Simd<T>::W;
  const bool dot = pass == ConvPass::BackwardWeight && p.OC * CKK * W * static_cast<int64_t>(sizeof(T)) <= 65536 &&
                   OHW >= 4 * W;
  const bool gemm_dw = pass == ConvPass::BackwardWeight && !dot;
  std::vector<T> partial(gemm_dw ? static_cast<size_t>((threads - 1) * p.OC * CKK) : 0);
  std::vector<T> acc(dot ? static_cast<size_t>(threads * p.OC * CKK * W) : 0);
  if (pass == ConvPass::BackwardWeight) std::fill(out, out + p.OC * CKK, T(0));
  // Backward-weight's im2col goes a chunk of an image's pixels at a time
  // (one GEMM K block: the chunk's col stays in L2), or a whole image for
  // the vector accumulators.
  const TapRanges ranges(p);
  const std::vector<Tap> taps = pass == ConvPass::BackwardWeight ? group_taps(p, Cg) : std::vector<Tap>();
  const int64_t chunk = pass == ConvPass::BackwardWeight && !dot && !pointwise ? std::min(OHW, Blocking<T>::KC) : OHW;
  auto images = [&](int64_t n0, int64_t n1, int64_t tid) {
    std::unique_ptr<T[]> col_buf(pointwise ? nullptr : new T[static_cast<size_t>(CKK * chunk)]);
    std::vector<int> cut(static_cast<size_t>(p.KH + 2 * p.KW));
    std::vector<PixelRun> runs(static_cast<size_t>(pass == ConvPass::BackwardWeight && !pointwise ? chunk : 0));
    T* dw = gemm_dw ? (tid == 0 ? out : partial.data() + (tid - 1) * p.OC * CKK) : nullptr;
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t g = 0; g < p.groups; ++g) {
        if (pass == ConvPass::BackwardInput) {
          T* dx = out + n * xs + g * Cg * p.H * p.W;
          T* col = pointwise ? dx : col_buf.get();
          matmul<T>(dt, CKK, OHW, OCg, b + g * OCg * CKK, 1, CKK, a + n * ys + g * OCg * OHW, OHW, 1, col, OHW,
                    0.0);
          if (!pointwise) col2im(p, Cg, col, dx);
        } else {
          const T* x = b + n * xs + g * Cg * p.H * p.W;
          for (int64_t p0 = 0; p0 < OHW; p0 += chunk) {  // pixels [p0, p0 + pc) of image n
            const int64_t pc = std::min(chunk, OHW - p0);
            const T* col = pointwise ? x : col_buf.get();
            if (!pointwise) {
              const int64_t nruns = pixel_runs(p, p0, pc, runs.data());
              im2col(p, ranges, taps, runs.data(), nruns, x, col_buf.get(), pc, cut.data());
            }
            const T* dy = a + n * ys + g * OCg * OHW + p0;
            if (dot) dot_accumulate(OCg, CKK, pc, dy, OHW, col, pc, acc.data() + (tid * p.OC + g * OCg) * CKK * W);
            else matmul<T>(dt, OCg, CKK, pc, dy, OHW, 1, col, 1, pointwise ? OHW : pc, dw + g * OCg * CKK, CKK, 1.0);
          }
        }
      }
  };
  if (threads > 1) {
    parallel_team(threads, [&](int64_t tid, int64_t nt) { images(p.N * tid / nt, p.N * (tid + 1) / nt, tid); });
  } else {
    images(0, p.N, 0);
  }
  if (dot) {
    dot_sums(p.OC * CKK, threads, acc.data(), out);
    return;
  }
  for (int64_t t = 0; t + 1 < threads && gemm_dw; ++t) {  // dw = thread 0's + thread 1's + ...
    const T* src = partial.data() + t * p.OC * CKK;
    for (int64_t i = 0; i < p.OC * CKK; ++i) out[i] += src[i];
  }
}

// ---- v3: implicit GEMM (forward) --------------------------------------------

// The forward pass as one GEMM over the whole batch, y[:, g] = w[g] @ B with
// B[k, j] = x[n, g*Cg + c, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw] for tap
// k = (c, kh, kw) and pixel j = (n, oh, ow) -- im2col's matrix for every
// image side by side, never stored: each NR-pixel panel of B is packed
// straight from x into the microkernel's layout (cpu/packed.h). A panel's
// pixels are a few runs, one per output row it touches (a panel may span
// images: small images fill whole panels); each run of each tap row is a
// vector copy, with the lanes that fall into the padding zeroed.
template <class T, int MR>
void conv_v3_forward(const ConvProblem& p, T* y, const T* x, const T* w, const T* bias) {
  using Bk = Blocking<T>;
  constexpr int NR = Bk::NR;
  const int64_t Cg = p.C / p.groups, OCg = p.OC / p.groups, CKK = Cg * p.KH * p.KW, OHW = p.OH * p.OW;
  const int64_t ys = p.OC * OHW, pixels = p.N * OHW;
  if (pixels == 0 || p.OC == 0) return;
  if (CKK == 0) {  // no input channels: y is the bias
    for (int64_t r = 0; r < p.N * p.OC; ++r) std::fill(y + r * OHW, y + (r + 1) * OHW, bias ? bias[r % p.OC] : T(0));
    return;
  }
  // K blocks of equal depth, as in the GEMM; A (the weights) packed once
  // for every panel: group g's block at pc starts at g * Mp * CKK + pc * Mp.
  const int64_t kblocks = (CKK + Bk::KC - 1) / Bk::KC, KC = (CKK + kblocks - 1) / kblocks;
  const int64_t Mp = (OCg + MR - 1) / MR * MR;
  std::vector<T> abuf;
  T* const apack = aligned_buffer(abuf, static_cast<size_t>(p.groups * Mp * CKK));
  for (int64_t g = 0; g < p.groups; ++g)
    for (int64_t pc = 0; pc < CKK; pc += KC)
      pack_a<T, MR>(OCg, std::min(KC, CKK - pc), w + g * OCg * CKK + pc, CKK, 1, apack + g * Mp * CKK + pc * Mp);
  const std::vector<Tap> taps = group_taps(p, Cg);
  const TapRanges ranges(p);
  const int64_t npanels = (pixels + NR - 1) / NR;
  const double panel_flops = 2.0 * p.OC * CKK * NR;
  parallel_for(npanels, std::max<int64_t>(1, static_cast<int64_t>(1e6 / panel_flops)), [&](int64_t begin, int64_t end) {
    thread_local std::vector<T> bbuf, cbuf;
    T* const bp = aligned_buffer(bbuf, static_cast<size_t>(KC * NR));
    T* const ctile = aligned_buffer(cbuf, static_cast<size_t>(Mp * NR));
    PixelRun runs[NR];
    std::vector<int> cut(static_cast<size_t>(p.KH + 2 * p.KW));
    for (int64_t panel = begin; panel < end; ++panel) {
      const int64_t j0 = panel * NR, nj = std::min<int64_t>(NR, pixels - j0);
      const int64_t nruns = pixel_runs(p, j0, nj, runs);
      // A panel inside one image writes y in place; one across images
      // goes through ctile and is copied out image by image.
      const int64_t n0 = j0 / OHW;
      const bool direct = (j0 + nj - 1) / OHW == n0;
      if (nj < NR) std::fill(bp, bp + KC * NR, T(0));
      for (int64_t g = 0; g < p.groups; ++g) {
        const T* xg = x + g * Cg * p.H * p.W;
        T* const c0 = direct ? y + n0 * ys + g * OCg * OHW + j0 % OHW : ctile;
        const int64_t ldc = direct ? OHW : NR;
        for (int64_t pc = 0; pc < CKK; pc += KC) {
          const int64_t kc = std::min(KC, CKK - pc);
          const Tap* t = taps.data() + pc;
          if (ranges.clipped) pack_patches<T, true>(p, ranges, t, kc, runs, nruns, xg, bp, NR, cut.data());
          else pack_patches<T, false>(p, ranges, t, kc, runs, nruns, xg, bp, NR, cut.data());
          for (int64_t ir = 0; ir < OCg; ir += MR)
            microkernel<T, MR>(kc, apack + g * Mp * CKK + pc * Mp + ir * kc, bp, NR, c0 + ir * ldc, ldc,
                           static_cast<int>(std::min<int64_t>(MR, OCg - ir)), static_cast<int>(nj), T(1),
                           pc == 0 ? T(0) : T(1));
        }
        for (int64_t i = 0; i < OCg; ++i) {  // bias, and ctile's rows out to their images
          const T b = bias ? bias[g * OCg + i] : T(0);
          if (direct) {
            T* row = c0 + i * ldc;
            if (bias) for (int64_t j = 0; j < nj; ++j) row[j] += b;
            continue;
          }
          for (int64_t j = j0; j < j0 + nj;) {
            const int64_t n = j / OHW, len = std::min(OHW - j % OHW, j0 + nj - j);
            const T* src = ctile + i * NR + (j - j0);
            T* dst = y + n * ys + (g * OCg + i) * OHW + j % OHW;
            for (int64_t t = 0; t < len; ++t) dst[t] = src[t] + b;
            j += len;
          }
        }
      }
    }
  });
}

// v3 with the tile height that pads OC / groups least (ties: the taller).
template <class T, int... MRs>
void conv_v3_forward_best(std::integer_sequence<int, MRs...>, const ConvProblem& p, T* y, const T* x, const T* w,
                          const T* bias) {
  const int64_t OCg = p.OC / p.groups;
  int best = 0;
  int64_t best_rows = 0;
  for (int mr : {MRs...}) {
    const int64_t rows = (OCg + mr - 1) / mr * mr;
    if (best == 0 || rows < best_rows) best = mr, best_rows = rows;
  }
  ((best == MRs ? conv_v3_forward<T, MRs>(p, y, x, w, bias) : void()), ...);
}

}  // namespace

void conv2d(ConvPass pass, DType dt, const ConvProblem& p, void* out, const void* a, const void* b, const void* bias) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      T* o = static_cast<T*>(out);
      const T *ta = static_cast<const T*>(a), *tb = static_cast<const T*>(b), *tbias = static_cast<const T*>(bias);
      if (p.variant == GemmVariant::Naive) conv_v1_direct<T>(pass, p, o, ta, tb, tbias);
      else if (pass == ConvPass::Forward) conv_v3_forward_best<T>(MrChoices(), p, o, ta, tb, tbias);
      else conv_v2_backward<T>(pass, dt, p, o, ta, tb);
    }
  });
}

}  // namespace dlcore::cpu::DLCORE_ISA
