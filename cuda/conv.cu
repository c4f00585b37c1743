// Convolution on the device: forward, backward-input and backward-weight of
// a 2-D convolution over NCHW tensors (ConvProblem in core/kernels.h).
//
// v1 direct (variant naive): one thread per output element evaluates the
// defining sum of core/windows.h -- the same code as the CPU's oracle.
//
// v2 implicit GEMM. Each pass is a GEMM whose operands are never built in
// memory: the tile loaders compute, for every (row, k) or (k, column) they
// stage into shared memory, which weight or which input pixel it stands for
// (zero in the padding). Per group (blockIdx.z):
//   forward:         y  (OCg x N*OH*OW)  = w (OCg x CKK)       @ patches (CKK x N*OH*OW)
//   backward-input:  dx (Cg x N*H*W)     = w^T (Cg x OCg*KK)   @ dy patches (OCg*KK x N*H*W)
//                    (dy read at the output pixels whose patch covers the input pixel)
//   backward-weight: dw (OCg x CKK)      = dy (OCg x N*OH*OW)  @ patches^T (N*OH*OW x CKK)
// The tiling is cuda/gemm.cu's: 64 x 64 tiles of C per block of 256 threads,
// 4 x 4 micro-tiles in registers, BK = 16 slices double-buffered through
// registers into shared memory. Every output is summed by one thread in a
// fixed order, so results (the weight gradient included) are deterministic.
// Weak spot: backward-weight has few, long dot products (K = N*OH*OW), so a
// small layer fills few blocks; a split-K with an ordered reduction would
// fix that.
#include "common.cuh"
#include "core/windows.h"

namespace dlcore::cuda {

namespace {

// ---- v1: direct ---------------------------------------------------------------

template <class T>
__global__ void conv_v1_direct(ConvPass pass, ConvProblem p, T* out, const T* a, const T* b, const T* bias,
                               int64_t total) {
  const int64_t Cg = p.C / p.groups;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < total; i += int64_t(gridDim.x) * blockDim.x) {
    if (pass == ConvPass::Forward) {
      const int64_t ow = i % p.OW, oh = i / p.OW % p.OH, oc = i / (p.OW * p.OH) % p.OC, n = i / (p.OW * p.OH * p.OC);
      out[i] = windows::conv_forward_at(p, a, b, bias, n, oc, oh, ow);
    } else if (pass == ConvPass::BackwardInput) {
      const int64_t iw = i % p.W, ih = i / p.W % p.H, c = i / (p.W * p.H) % p.C, n = i / (p.W * p.H * p.C);
      out[i] = windows::conv_backward_input_at(p, a, b, n, c, ih, iw);
    } else {
      const int64_t kw = i % p.KW, kh = i / p.KW % p.KH, c = i / (p.KW * p.KH) % Cg, oc = i / (p.KW * p.KH * Cg);
      out[i] = windows::conv_backward_weight_at(p, a, b, oc, c, kh, kw);
    }
  }
}

// ---- v2: implicit GEMM ----------------------------------------------------------

// The three passes as GEMM operands of group g: a(m, k), b(k, n), and where
// C[m, n] goes. Decoding flat indices into (image, pixel) or (channel, tap)
// is the whole trick.
template <class T>
struct ConvGemm {
  ConvPass pass;
  ConvProblem p;
  T* out;
  const T *A, *B, *bias;
  int64_t M, N, K;

  __device__ T a(int64_t g, int64_t m, int64_t k) const {
    const int64_t Cg = p.C / p.groups, OCg = p.OC / p.groups, KK = p.KH * p.KW;
    if (pass == ConvPass::Forward) return B[(g * OCg + m) * Cg * KK + k];  // w[oc, (c, kh, kw)]
    if (pass == ConvPass::BackwardInput)                                   // w[oc, c = m, kh, kw] for k = (oc, kh, kw)
      return B[((g * OCg + k / KK) * Cg + m) * KK + k % KK];
    const int64_t ow = k % p.OW, oh = k / p.OW % p.OH, n = k / (p.OW * p.OH);  // dy[n, oc = m, oh, ow]
    return A[((n * p.OC + g * OCg + m) * p.OH + oh) * p.OW + ow];
  }

  __device__ T b(int64_t g, int64_t k, int64_t n) const {
    const int64_t Cg = p.C / p.groups, OCg = p.OC / p.groups, KK = p.KH * p.KW;
    if (pass == ConvPass::BackwardInput) {  // dy at the output pixel whose tap (kh, kw) reads input pixel n
      const int64_t iw = n % p.W, ih = n / p.W % p.H, img = n / (p.W * p.H);
      const int64_t oc = k / KK, kh = k % KK / p.KW, kw = k % p.KW;
      const int64_t th = ih + p.ph - kh * p.dh, tw = iw + p.pw - kw * p.dw;
      if (th < 0 || tw < 0 || th % p.sh != 0 || tw % p.sw != 0) return T(0);
      const int64_t oh = th / p.sh, ow = tw / p.sw;
      if (oh >= p.OH || ow >= p.OW) return T(0);
      return A[((img * p.OC + g * OCg + oc) * p.OH + oh) * p.OW + ow];
    }
    // A patch value: x[img, c, oh*sh - ph + kh*dh, ow*sw - pw + kw*dw], with (c, kh, kw)
    // the reduction index of the forward pass, the output index of backward-weight.
    const int64_t tap = pass == ConvPass::Forward ? k : n, pix = pass == ConvPass::Forward ? n : k;
    const int64_t ow = pix % p.OW, oh = pix / p.OW % p.OH, img = pix / (p.OW * p.OH);
    const int64_t c = tap / KK, kh = tap % KK / p.KW, kw = tap % p.KW;
    const T* x = pass == ConvPass::Forward ? A : B;
    return windows::pixel(x + (img * p.C + g * Cg) * p.H * p.W, p.H, p.W, c, oh * p.sh - p.ph + kh * p.dh,
                          ow * p.sw - p.pw + kw * p.dw);
  }

  __device__ void store(int64_t g, int64_t m, int64_t n, T acc) const {
    const int64_t Cg = p.C / p.groups, OCg = p.OC / p.groups;
    if (pass == ConvPass::Forward) {
      const int64_t pix = n % (p.OH * p.OW), img = n / (p.OH * p.OW), oc = g * OCg + m;
      out[(img * p.OC + oc) * p.OH * p.OW + pix] = acc + (bias ? bias[oc] : T(0));
    } else if (pass == ConvPass::BackwardInput) {
      const int64_t pix = n % (p.H * p.W), img = n / (p.H * p.W);
      out[(img * p.C + g * Cg + m) * p.H * p.W + pix] = acc;
    } else {
      out[(g * OCg + m) * Cg * p.KH * p.KW + n] = acc;
    }
  }
};

constexpr int BM = 64, BN = 64, BK = 16, TM = 4, TN = 4, kTiledThreads = (BM / TM) * (BN / TN);

// One BK slice staged per thread: 4 values of A (row t / 4, k (t % 4) * 4 ..)
// and 4 of B (k t / 16, columns (t % 16) * 4 ..), zero outside the GEMM.
template <class T>
__device__ __forceinline__ void fetch(const ConvGemm<T>& op, int64_t g, int64_t m0, int64_t n0, int64_t k0, T (&sa)[4],
                                      T (&sb)[4]) {
  const int t = threadIdx.x;
  const int64_t ar = m0 + t / 4, ak = k0 + (t % 4) * 4;
  #pragma unroll
  for (int q = 0; q < 4; ++q) sa[q] = (ar < op.M && ak + q < op.K) ? op.a(g, ar, ak + q) : T(0);
  const int64_t bk = k0 + t / 16, bn = n0 + (t % 16) * 4;
  #pragma unroll
  for (int q = 0; q < 4; ++q) sb[q] = (bk < op.K && bn + q < op.N) ? op.b(g, bk, bn + q) : T(0);
}

template <class T>
__global__ void __launch_bounds__(kTiledThreads) conv_v2_implicit_gemm(ConvGemm<T> op) {
  __shared__ T As[2][BK][BM];
  __shared__ T Bs[2][BK][BN];
  const int64_t g = blockIdx.z;
  const int64_t m0 = int64_t(blockIdx.y) * BM, n0 = int64_t(blockIdx.x) * BN;
  const int t = threadIdx.x, tx = t % (BN / TN), ty = t / (BN / TN);
  T acc[TM][TN];
  #pragma unroll
  for (int i = 0; i < TM; ++i)
    #pragma unroll
    for (int j = 0; j < TN; ++j) acc[i][j] = T(0);
  T sa[4], sb[4];
  auto stage = [&](int buf) {
    #pragma unroll
    for (int q = 0; q < 4; ++q) As[buf][(t % 4) * 4 + q][t / 4] = sa[q];
    #pragma unroll
    for (int q = 0; q < 4; ++q) Bs[buf][t / 16][(t % 16) * 4 + q] = sb[q];
  };
  fetch(op, g, m0, n0, 0, sa, sb);
  stage(0);
  __syncthreads();
  int buf = 0;
  for (int64_t k0 = 0; k0 < op.K; k0 += BK) {
    const bool more = k0 + BK < op.K;
    if (more) fetch(op, g, m0, n0, k0 + BK, sa, sb);  // overlaps the math below
    tile_fma<BK>(As[buf], Bs[buf], ty, tx, acc);
    if (more) stage(buf ^ 1);  // the other buffer: nobody reads it now
    __syncthreads();
    buf ^= 1;
  }
  #pragma unroll
  for (int i = 0; i < TM; ++i)
    #pragma unroll
    for (int j = 0; j < TN; ++j) {
      const int64_t row = m0 + ty * TM + i, col = n0 + tx * TN + j;
      if (row < op.M && col < op.N) op.store(g, row, col, acc[i][j]);
    }
}

template <class T>
void launch(ConvPass pass, const ConvProblem& p, T* out, const T* a, const T* b, const T* bias) {
  const int64_t Cg = p.C / p.groups, OCg = p.OC / p.groups, KK = p.KH * p.KW;
  if (p.variant == GemmVariant::Naive) {
    const int64_t total = pass == ConvPass::Forward         ? p.N * p.OC * p.OH * p.OW
                          : pass == ConvPass::BackwardInput ? p.N * p.C * p.H * p.W
                                                            : p.OC * Cg * KK;
    DL_LAUNCH(conv_v1_direct<T>, blocks_for(total), kThreads, 0, current_stream(), pass, p, out, a, b, bias, total);
    DL_CHECK_LAUNCH();
    return;
  }
  ConvGemm<T> op{pass, p, out, a, b, bias, 0, 0, 0};
  if (pass == ConvPass::Forward) { op.M = OCg; op.N = p.N * p.OH * p.OW; op.K = Cg * KK; }
  else if (pass == ConvPass::BackwardInput) { op.M = Cg; op.N = p.N * p.H * p.W; op.K = OCg * KK; }
  else { op.M = OCg; op.N = Cg * KK; op.K = p.N * p.OH * p.OW; }
  if (op.M == 0 || op.N == 0) return;
  const dim3 grid(static_cast<unsigned>((op.N + BN - 1) / BN), static_cast<unsigned>((op.M + BM - 1) / BM),
                  static_cast<unsigned>(p.groups));
  DL_LAUNCH(conv_v2_implicit_gemm<T>, grid, kTiledThreads, 0, current_stream(), op);
  DL_CHECK_LAUNCH();
}

}  // namespace

void conv2d(ConvPass pass, DType dt, const ConvProblem& p, void* out, const void* a, const void* b, const void* bias) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>)
      launch<T>(pass, p, static_cast<T*>(out), static_cast<const T*>(a), static_cast<const T*>(b),
                static_cast<const T*>(bias));
  });
}

}  // namespace dlcore::cuda
