// Convolution on the CPU: forward, backward-input and backward-weight of a
// 2-D convolution over NCHW tensors (ConvProblem in core/kernels.h).
//
// v1 direct (variant naive): the defining sums as loops, one output at a
// time. It is the test oracle and the first chapter.
//
// v2 im2col + packed GEMM. For one image and one group, the input patches
// are unrolled into a matrix col (CKK x OHW, CKK = C/groups * KH * KW, one
// column per output pixel), and each pass becomes one GEMM of csrc/cpu/gemm.cpp:
//   forward:         y[n, g]  = w[g] (OCg x CKK) @ col + bias   (bias per row: the GEMM epilogue)
//   backward-weight: dw[g]   += dy[n, g] (OCg x OHW) @ col^T    (col^T is a strided view, no copy)
//   backward-input:  col      = w[g]^T @ dy[n, g], then col2im adds every
//                    column back onto the pixels its patch came from.
// A 1x1 convolution with unit stride and no padding needs no col: x[n] is it.
// Memory: one col buffer per thread (one image's), never one for the batch.
// Threads: with at least as many images as threads, each thread takes whole
// images (their GEMMs then run on that thread); otherwise images go one after
// another and each GEMM uses all threads. Backward-weight sums each thread's
// images into its own dw and adds those in thread order, so the result does
// not depend on timing. Numerics: float accumulation in the GEMM (error grows
// like CKK * eps, or OHW * N * eps for the weight gradient).
#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>
#include "core/parallel.h"
#include "core/windows.h"

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

// ---- v2: im2col + GEMM ------------------------------------------------------

// Walks the rows of col for one image's group: f(col_row, c, ih, off, ow0, ow1)
// for every (c, kh, kw) and output row oh -- col_row being col[(c*KH + kh)*KW + kw, oh*OW ...],
// ih the input row it reads (-1 when outside the image) and [ow0, ow1) the
// output columns whose input column ow*sw + off lies inside it.
template <class F>
void for_each_col_row(const ConvProblem& p, int64_t Cg, const F& f) {
  int64_t row = 0;
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t kh = 0; kh < p.KH; ++kh)
      for (int64_t kw = 0; kw < p.KW; ++kw, ++row) {
        const int64_t off = kw * p.dw - p.pw;
        const int64_t ow0 = std::min(p.OW, std::max<int64_t>(0, (-off + p.sw - 1) / p.sw));
        const int64_t ow1 = std::max(ow0, std::min(p.OW, (p.W - off + p.sw - 1) / p.sw));
        for (int64_t oh = 0; oh < p.OH; ++oh) {
          const int64_t ih = oh * p.sh - p.ph + kh * p.dh;
          f((row * p.OH + oh) * p.OW, c, ih >= 0 && ih < p.H ? ih : -1, off, ow0, ow1);
        }
      }
}

// col[(c * KH + kh) * KW + kw, oh * OW + ow] = x[c, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw]
// for one image's group (x: Cg x H x W), zero where the patch leaves the image.
template <class T>
void im2col(const ConvProblem& p, int64_t Cg, const T* x, T* col) {
  for_each_col_row(p, Cg, [&](int64_t at, int64_t c, int64_t ih, int64_t off, int64_t ow0, int64_t ow1) {
    T* dst = col + at;
    if (ih < 0) {
      std::fill(dst, dst + p.OW, T(0));
      return;
    }
    const T* src = x + (c * p.H + ih) * p.W + off;
    std::fill(dst, dst + ow0, T(0));
    if (p.sw == 1) std::memcpy(dst + ow0, src + ow0, (ow1 - ow0) * sizeof(T));
    else for (int64_t ow = ow0; ow < ow1; ++ow) dst[ow] = src[ow * p.sw];
    std::fill(dst + ow1, dst + p.OW, T(0));
  });
}

// The adjoint of im2col: dx[c, ih, iw] += col[row, pixel] over every patch
// position that read x[c, ih, iw] (dx: Cg x H x W, zeroed by the caller).
template <class T>
void col2im(const ConvProblem& p, int64_t Cg, const T* col, T* dx) {
  for_each_col_row(p, Cg, [&](int64_t at, int64_t c, int64_t ih, int64_t off, int64_t ow0, int64_t ow1) {
    if (ih < 0) return;
    const T* src = col + at;
    T* dst = dx + (c * p.H + ih) * p.W + off;
    for (int64_t ow = ow0; ow < ow1; ++ow) dst[ow * p.sw] += src[ow];
  });
}

// C (M x N, row stride ldc) = A @ B (+ beta * C) on this thread's share of
// the cores, A and B given by their row and column strides.
template <class T>
void matmul(DType dt, int64_t M, int64_t N, int64_t K, const T* A, int64_t a_rs, int64_t a_cs, const T* B,
            int64_t b_rs, int64_t b_cs, T* C, int64_t ldc, double beta, const T* bias_per_row) {
  GemmProblem g;
  g.M = M; g.N = N; g.K = K;
  g.variant = K == 0 ? GemmVariant::Naive : GemmVariant::Fast;  // the packed kernel needs a K block to write C
  g.beta = beta;
  g.bias = bias_per_row;
  g.bias_per_row = true;
  g.a_rs = a_rs; g.a_cs = a_cs; g.b_rs = b_rs; g.b_cs = b_cs; g.c_rs = ldc; g.c_cs = 1;
  g.batch.ndim = 1; g.batch.nops = 3; g.batch.shape[0] = 1;
  g.batch.data[0] = reinterpret_cast<char*>(C);
  g.batch.data[1] = reinterpret_cast<char*>(const_cast<T*>(A));
  g.batch.data[2] = reinterpret_cast<char*>(const_cast<T*>(B));
  gemm(dt, g);
}

template <class T>
void conv_v2_gemm(ConvPass pass, DType dt, const ConvProblem& p, T* out, const T* a, const T* b, const T* bias) {
  const int64_t Cg = p.C / p.groups, OCg = p.OC / p.groups, CKK = Cg * p.KH * p.KW, OHW = p.OH * p.OW;
  const int64_t xs = p.C * p.H * p.W, ys = p.OC * OHW;  // image strides
  const bool pointwise = p.KH == 1 && p.KW == 1 && p.sh == 1 && p.sw == 1 && p.ph == 0 && p.pw == 0;
  const int64_t threads = std::max<int64_t>(1, std::min<int64_t>(num_threads(), p.N));
  // Backward-weight: one dw per thread beyond the first (zeroed: a thread
  // left without images adds nothing), summed in order at the end.
  std::vector<T> partial(pass == ConvPass::BackwardWeight ? static_cast<size_t>((threads - 1) * p.OC * CKK) : 0);
  if (pass == ConvPass::BackwardWeight) std::fill(out, out + p.OC * CKK, T(0));
  auto images = [&](int64_t n0, int64_t n1, int64_t tid) {
    std::unique_ptr<T[]> col_buf(pointwise ? nullptr : new T[static_cast<size_t>(CKK * OHW)]);
    T* dw = pass == ConvPass::BackwardWeight ? (tid == 0 ? out : partial.data() + (tid - 1) * p.OC * CKK) : nullptr;
    for (int64_t n = n0; n < n1; ++n)
      for (int64_t g = 0; g < p.groups; ++g) {
        if (pass == ConvPass::Forward) {
          const T* x = a + n * xs + g * Cg * p.H * p.W;
          const T* col = pointwise ? x : col_buf.get();
          if (!pointwise) im2col(p, Cg, x, col_buf.get());
          matmul<T>(dt, OCg, OHW, CKK, b + g * OCg * CKK, CKK, 1, col, OHW, 1, out + n * ys + g * OCg * OHW, OHW,
                    0.0, bias ? bias + g * OCg : nullptr);
        } else if (pass == ConvPass::BackwardInput) {
          T* dx = out + n * xs + g * Cg * p.H * p.W;
          T* col = pointwise ? dx : col_buf.get();
          matmul<T>(dt, CKK, OHW, OCg, b + g * OCg * CKK, 1, CKK, a + n * ys + g * OCg * OHW, OHW, 1, col, OHW,
                    0.0, nullptr);
          if (!pointwise) {
            std::fill(dx, dx + Cg * p.H * p.W, T(0));
            col2im(p, Cg, col, dx);
          }
        } else {
          const T* x = b + n * xs + g * Cg * p.H * p.W;
          const T* col = pointwise ? x : col_buf.get();
          if (!pointwise) im2col(p, Cg, x, col_buf.get());
          matmul<T>(dt, OCg, CKK, OHW, a + n * ys + g * OCg * OHW, OHW, 1, col, 1, OHW, dw + g * OCg * CKK, CKK,
                    1.0, nullptr);
        }
      }
  };
  if (threads > 1) {
    parallel_team(threads, [&](int64_t tid, int64_t nt) { images(p.N * tid / nt, p.N * (tid + 1) / nt, tid); });
  } else {
    images(0, p.N, 0);
  }
  for (int64_t t = 0; t + 1 < threads && pass == ConvPass::BackwardWeight; ++t) {  // dw = thread 0's + thread 1's + ...
    const T* src = partial.data() + t * p.OC * CKK;
    for (int64_t i = 0; i < p.OC * CKK; ++i) out[i] += src[i];
  }
}

}  // namespace

void conv2d(ConvPass pass, DType dt, const ConvProblem& p, void* out, const void* a, const void* b, const void* bias) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      T* o = static_cast<T*>(out);
      const T *ta = static_cast<const T*>(a), *tb = static_cast<const T*>(b), *tbias = static_cast<const T*>(bias);
      if (p.variant == GemmVariant::Naive) conv_v1_direct<T>(pass, p, o, ta, tb, tbias);
      else conv_v2_gemm<T>(pass, dt, p, o, ta, tb, tbias);
    }
  });
}

}  // namespace dlcore::cpu::DLCORE_ISA
