// GEMM on the device: C = act(alpha * A @ B + beta * C + bias) over a batch
// of matrices (GemmProblem in core/kernels.h: any row/column strides,
// broadcast batch dims).
//
// v1 naive: one thread per element of C computes the dot product of a row
// of A and a column of B straight from global memory; blockIdx.z walks the
// batch. It is the oracle (variant "naive").
//
// v2 tiled: a block of 256 threads computes a 64 x 64 tile of C. Per step of
// BK = 16 along K it stages a 64 x 16 slice of A (transposed) and a 16 x 64
// slice of B in shared memory, and each thread accumulates a 4 x 4
// micro-tile of C in registers from 4 + 4 shared loads per k (register
// blocking: 16 FMAs per 8 loads instead of 1 per 2). Double buffering: the
// next slice is fetched from global memory into registers while the current
// one is used, then stored to the other shared buffer, so one __syncthreads
// per step suffices. Loads are float4 when the operand is contiguous and
// 16-byte aligned along the loaded dim (checked on the host), scalar and
// bounds-checked otherwise and at the edges.
#include "common.cuh"

namespace dlcore::cuda {

namespace {

template <class T>
__global__ void gemm_v1_naive(GemmProblem p) {
  const int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x;
  const int64_t i = blockIdx.y * int64_t(blockDim.y) + threadIdx.y;
  int64_t batches = 1;
  for (int d = 0; d < p.batch.ndim; ++d) batches *= p.batch.shape[d];
  for (int64_t b = blockIdx.z; b < batches; b += gridDim.z) {
    if (i >= p.M || j >= p.N) continue;
    int64_t off[3];
    loop_offsets(p.batch, b, off);
    const T* a = reinterpret_cast<const T*>(p.batch.data[1] + off[1]);
    const T* bm = reinterpret_cast<const T*>(p.batch.data[2] + off[2]);
    T acc = 0;
    for (int64_t k = 0; k < p.K; ++k)
      acc = pointwise::add(acc, pointwise::mul(a[i * p.a_rs + k * p.a_cs], bm[k * p.b_rs + j * p.b_cs]));
    T& dst = reinterpret_cast<T*>(p.batch.data[0] + off[0])[i * p.c_rs + j * p.c_cs];
    const T* bias = static_cast<const T*>(p.bias);
    dst = pointwise::gemm_epilogue<T>(p, acc, p.beta != 0 ? dst : T(0), bias ? bias[p.bias_per_row ? i : j] : T(0));
  }
}

constexpr int BM = 64, BN = 64, BK = 16, TM = 4, TN = 4, kTiledThreads = (BM / TM) * (BN / TN);

// Per-thread staging of one BK slice: 4 elements of A and 4 of B.
template <class T> struct Slice { T a[4], b[4]; };

// Fetches the k0 slice into registers. A: thread t covers row t / 4 and the
// 4 consecutive k (t % 4) * 4 ..; B: row k = t / 16, 4 consecutive columns.
template <class T, bool VEC_A, bool VEC_B>
__device__ __forceinline__ void fetch(const GemmProblem& p, const T* a, const T* b, int64_t m0, int64_t n0, int64_t k0,
                                      Slice<T>& s) {
  const int t = threadIdx.x;
  const int64_t ar = m0 + t / 4, ak = k0 + (t % 4) * 4;
  if (VEC_A && ar < p.M && ak + 3 < p.K) {
    const float4 v = *reinterpret_cast<const float4*>(a + ar * p.a_rs + ak);
    s.a[0] = v.x; s.a[1] = v.y; s.a[2] = v.z; s.a[3] = v.w;
  } else {
    #pragma unroll
    for (int q = 0; q < 4; ++q)
      s.a[q] = (ar < p.M && ak + q < p.K) ? a[ar * p.a_rs + (ak + q) * p.a_cs] : T(0);
  }
  const int64_t bk = k0 + t / 16, bn = n0 + (t % 16) * 4;
  if (VEC_B && bk < p.K && bn + 3 < p.N) {
    const float4 v = *reinterpret_cast<const float4*>(b + bk * p.b_rs + bn);
    s.b[0] = v.x; s.b[1] = v.y; s.b[2] = v.z; s.b[3] = v.w;
  } else {
    #pragma unroll
    for (int q = 0; q < 4; ++q)
      s.b[q] = (bk < p.K && bn + q < p.N) ? b[bk * p.b_rs + (bn + q) * p.b_cs] : T(0);
  }
}

template <class T>
__device__ __forceinline__ void stage(const Slice<T>& s, T (*As)[BM], T (*Bs)[BN]) {
  const int t = threadIdx.x;
  #pragma unroll
  for (int q = 0; q < 4; ++q) As[(t % 4) * 4 + q][t / 4] = s.a[q];  // A transposed: k-major
  #pragma unroll
  for (int q = 0; q < 4; ++q) Bs[t / 16][(t % 16) * 4 + q] = s.b[q];
}

template <class T, bool VEC_A, bool VEC_B>
__global__ void __launch_bounds__(kTiledThreads, sizeof(T) == 4 ? 2 : 1) gemm_v2_tiled(GemmProblem p) {
  __shared__ T As[2][BK][BM];
  __shared__ T Bs[2][BK][BN];
  int64_t batches = 1;
  for (int d = 0; d < p.batch.ndim; ++d) batches *= p.batch.shape[d];
  const int64_t m0 = int64_t(blockIdx.y) * BM, n0 = int64_t(blockIdx.x) * BN;
  const int tx = threadIdx.x % (BN / TN), ty = threadIdx.x / (BN / TN);
  for (int64_t batch = blockIdx.z; batch < batches; batch += gridDim.z) {
    int64_t off[3];
    loop_offsets(p.batch, batch, off);
    const T* a = reinterpret_cast<const T*>(p.batch.data[1] + off[1]);
    const T* b = reinterpret_cast<const T*>(p.batch.data[2] + off[2]);
    T acc[TM][TN];
    #pragma unroll
    for (int i = 0; i < TM; ++i)
      for (int j = 0; j < TN; ++j) acc[i][j] = T(0);
    Slice<T> s;
    fetch<T, VEC_A, VEC_B>(p, a, b, m0, n0, 0, s);
    stage(s, As[0], Bs[0]);
    __syncthreads();
    int buf = 0;
    for (int64_t k0 = 0; k0 < p.K; k0 += BK) {
      const bool more = k0 + BK < p.K;
      if (more) fetch<T, VEC_A, VEC_B>(p, a, b, m0, n0, k0 + BK, s);  // overlaps the math below
      tile_fma<BK>(As[buf], Bs[buf], ty, tx, acc);
      if (more) stage(s, As[buf ^ 1], Bs[buf ^ 1]);  // the other buffer: nobody reads it now
      __syncthreads();
      buf ^= 1;
    }
    T* c = reinterpret_cast<T*>(p.batch.data[0] + off[0]);
    const T* bias = static_cast<const T*>(p.bias);
    #pragma unroll
    for (int i = 0; i < TM; ++i) {
      const int64_t row = m0 + ty * TM + i;
      if (row >= p.M) continue;
      #pragma unroll
      for (int j = 0; j < TN; ++j) {
        const int64_t col = n0 + tx * TN + j;
        if (col >= p.N) continue;
        T& dst = c[row * p.c_rs + col * p.c_cs];
        dst = pointwise::gemm_epilogue<T>(p, acc[i][j], p.beta != 0 ? dst : T(0),
                                          bias ? bias[p.bias_per_row ? row : col] : T(0));
      }
    }
    __syncthreads();  // the shared tiles are reused by the next batch matrix
  }
}

// float4 loads along an operand's rows need unit column stride, row and batch
// strides that keep 16-byte alignment, and an aligned base.
bool vec_ok(const void* base, int64_t cs, int64_t rs, const StridedLoop& batch, int k) {
  if (cs != 1 || rs % 4 != 0 || reinterpret_cast<uintptr_t>(base) % 16 != 0) return false;
  for (int d = 0; d < batch.ndim; ++d)
    if (batch.strides[k][d] % 16 != 0) return false;
  return true;
}

template <class T>
void launch_tiled(const GemmProblem& p, int64_t batches) {
  const dim3 grid(static_cast<unsigned>((p.N + BN - 1) / BN), static_cast<unsigned>((p.M + BM - 1) / BM),
                  static_cast<unsigned>(batches < 65535 ? batches : 65535));
  auto kernel = gemm_v2_tiled<T, false, false>;
  if constexpr (std::is_same_v<T, float>) {  // float4 loads where the layout allows
    const bool va = vec_ok(p.batch.data[1], p.a_cs, p.a_rs, p.batch, 1);
    const bool vb = vec_ok(p.batch.data[2], p.b_cs, p.b_rs, p.batch, 2);
    if (va && vb) kernel = gemm_v2_tiled<T, true, true>;
    else if (va) kernel = gemm_v2_tiled<T, true, false>;
    else if (vb) kernel = gemm_v2_tiled<T, false, true>;
  }
  DL_LAUNCH(kernel, grid, kTiledThreads, 0, current_stream(), p);
  DL_CHECK_LAUNCH();
}

}  // namespace

void gemm(DType dt, const GemmProblem& p) {
  const int64_t batches = p.batch.numel();
  if (batches == 0 || p.M == 0 || p.N == 0) return;
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      if (p.variant == GemmVariant::Fast) return launch_tiled<T>(p, batches);
    }
    if constexpr (!std::is_same_v<T, bool>) {
      const dim3 block(16, 16);
      const dim3 grid(static_cast<unsigned>((p.N + 15) / 16), static_cast<unsigned>((p.M + 15) / 16),
                      static_cast<unsigned>(batches < 65535 ? batches : 65535));
      auto kernel = gemm_v1_naive<T>;
      DL_LAUNCH(kernel, grid, block, 0, current_stream(), p);
      DL_CHECK_LAUNCH();
    }
  });
}

}  // namespace dlcore::cuda
