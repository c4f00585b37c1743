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

// Walks col for one image's group, a block of OH x OW at a time: for every
// (c, kh, kw), f(block, c, ih0, off, oh0, oh1, ow0, ow1) where block is the
// offset of col[(c*KH + kh)*KW + kw, 0], output row oh reads input row
// oh*sh + ih0 (inside the image for oh in [oh0, oh1)) and output column ow
// reads input column ow*sw + off (inside for ow in [ow0, ow1)). The ranges
// need divisions, so they are computed once per kh and kw.
template <class F>
void for_each_col_block(const ConvProblem& p, int64_t Cg, const F& f) {
  auto inside = [](int64_t size, int64_t osize, int64_t stride, int64_t off, int64_t& lo, int64_t& hi) {
    lo = std::min(osize, std::max<int64_t>(0, (-off + stride - 1) / stride));  // first o with o*stride + off >= 0
    hi = std::max(lo, std::min(osize, (size - off + stride - 1) / stride));   // first o with o*stride + off >= size
  };
  std::vector<int64_t> ranges(static_cast<size_t>(2 * (p.KH + p.KW)));
  int64_t* oh_lo = ranges.data(); int64_t* oh_hi = oh_lo + p.KH; int64_t* ow_lo = oh_hi + p.KH; int64_t* ow_hi = ow_lo + p.KW;
  for (int64_t kh = 0; kh < p.KH; ++kh) inside(p.H, p.OH, p.sh, kh * p.dh - p.ph, oh_lo[kh], oh_hi[kh]);
  for (int64_t kw = 0; kw < p.KW; ++kw) inside(p.W, p.OW, p.sw, kw * p.dw - p.pw, ow_lo[kw], ow_hi[kw]);
  int64_t block = 0;
  for (int64_t c = 0; c < Cg; ++c)
    for (int64_t kh = 0; kh < p.KH; ++kh)
      for (int64_t kw = 0; kw < p.KW; ++kw, block += p.OH * p.OW)
        f(block, c, kh * p.dh - p.ph, kw * p.dw - p.pw, oh_lo[kh], oh_hi[kh], ow_lo[kw], ow_hi[kw]);
}

// col[(c * KH + kh) * KW + kw, oh * OW + ow] = x[c, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw]
// for one image's group (x: Cg x H x W), zero where the patch leaves the image.
template <class T>
void im2col(const ConvProblem& p, int64_t Cg, const T* x, T* col) {
  for_each_col_block(p, Cg, [&](int64_t block, int64_t c, int64_t ih0, int64_t off, int64_t oh0, int64_t oh1,
                                int64_t ow0, int64_t ow1) {
    // Rows are short (8 long for a 12 x 12 image and a 5 x 5 kernel): plain
    // loops rather than a library call per row, and the sizes in locals so
    // that the stores into col need not reload them.
    const int64_t OW = p.OW, sw = p.sw, src_step = p.sh * p.W;
    T* d = col + block;
    std::fill(d, d + oh0 * OW, T(0));
    d += oh0 * OW;
    const T* s = x + (c * p.H + oh0 * p.sh + ih0) * p.W + off;
    for (int64_t oh = oh0; oh < oh1; ++oh, d += OW, s += src_step) {
      for (int64_t ow = 0; ow < ow0; ++ow) d[ow] = T(0);
      if (sw == 1) for (int64_t ow = ow0; ow < ow1; ++ow) d[ow] = s[ow];
      else for (int64_t ow = ow0; ow < ow1; ++ow) d[ow] = s[ow * sw];
      for (int64_t ow = ow1; ow < OW; ++ow) d[ow] = T(0);
    }
    std::fill(d, col + block + p.OH * OW, T(0));
  });
}

// The adjoint of im2col: dx[c, ih, iw] += col[row, pixel] over every patch
// position that read x[c, ih, iw] (dx: Cg x H x W, zeroed by the caller).
template <class T>
void col2im(const ConvProblem& p, int64_t Cg, const T* col, T* dx) {
  for_each_col_block(p, Cg, [&](int64_t block, int64_t c, int64_t ih0, int64_t off, int64_t oh0, int64_t oh1,
                                int64_t ow0, int64_t ow1) {
    for (int64_t oh = oh0; oh < oh1; ++oh) {
      const T* s = col + block + oh * p.OW;
      T* d = dx + (c * p.H + oh * p.sh + ih0) * p.W + off;
      for (int64_t ow = ow0; ow < ow1; ++ow) d[ow * p.sw] += s[ow];
    }
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
