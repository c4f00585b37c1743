// Helpers shared by the CUDA kernel files: launch geometry, the element
// offsets of a StridedLoop, dtype dispatch, and the device math policy of
// core/pointwise.h.
#pragma once
#include <cmath>
#include "compat.h"
#include "core/kernels.h"
#include "core/pointwise.h"

namespace dlcore::cuda {

constexpr int kThreads = 256;     // threads per block of the elementwise kernels
constexpr int64_t kMaxBlocks = 4096;  // grid-stride loops cover the rest

// The stream every dlcore kernel and copy on the current device runs on: one
// non-blocking stream per device, so work is ordered on it and the caching
// allocator may hand a freed block to the next kernel at once (cuda/runtime.cu).
cudaStream_t current_stream();

// Device memory for the launches that follow on the current stream -- a
// kernel's table of work items or its partial results -- optionally filled
// from host memory. Released when it goes out of scope: the caching
// allocator hands the block out again only to work queued after those
// launches on the same stream.
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t nbytes, const void* host = nullptr);
  ~DeviceBuffer();
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  template <class T> T* as() const { return static_cast<T*>(ptr_); }

 private:
  int device_ = 0;
  void* ptr_ = nullptr;
};

inline int blocks_for(int64_t n) {
  const int64_t b = (n + kThreads - 1) / kThreads;
  return static_cast<int>(b < 1 ? 1 : (b > kMaxBlocks ? kMaxBlocks : b));
}

// Byte offsets of element i (row-major over loop.shape) for the first N operands.
template <int N>
__device__ __forceinline__ void loop_offsets(const StridedLoop& loop, int64_t i, int64_t (&off)[N]) {
  for (int k = 0; k < N; ++k) off[k] = 0;
#pragma unroll 1
  for (int d = loop.ndim - 1; d >= 0; --d) {
    const int64_t size = loop.shape[d];
    const int64_t idx = d == 0 ? i : i % size;
    i = d == 0 ? 0 : i / size;
    for (int k = 0; k < N; ++k) off[k] += idx * loop.strides[k][d];
  }
}

template <class T>
__device__ __forceinline__ T& at(char* base, int64_t off) { return *reinterpret_cast<T*>(base + off); }

// The inner loop of the tiled GEMM kernels (cuda/gemm.cu, cuda/conv.cu):
// acc (TM x TN) += one BK-deep slice of the shared tiles, A stored k-major
// (As[k][m]) and B row-major (Bs[k][n]), for the thread whose micro-tile is
// rows ty*TM.. and columns tx*TN... Per k: TM + TN shared loads, TM*TN FMAs.
template <int BK, class T, int BM, int BN, int TM, int TN>
__device__ __forceinline__ void tile_fma(const T (*As)[BM], const T (*Bs)[BN], int ty, int tx, T (&acc)[TM][TN]) {
  #pragma unroll 4
  for (int k = 0; k < BK; ++k) {
    T ra[TM], rb[TN];
    #pragma unroll
    for (int i = 0; i < TM; ++i) ra[i] = As[k][ty * TM + i];
    #pragma unroll
    for (int j = 0; j < TN; ++j) rb[j] = Bs[k][tx * TN + j];
    #pragma unroll
    for (int i = 0; i < TM; ++i)
      #pragma unroll
      for (int j = 0; j < TN; ++j) acc[i][j] += ra[i] * rb[j];
  }
}

// The device's full-precision math for the Math policy of core/pointwise.h.
using DeviceMath = pointwise::LibMath;

// ---- reductions within a row group ------------------------------------------
// Kernels that give each row to a warp (short rows) or to a whole block
// (rows wider than a warp can cover) reduce through these. Every thread gets
// the result; the combination order is fixed, so a result never depends on
// scheduling (xor butterflies give all lanes bitwise the same value).
// Max skips NaN: a NaN then poisons the sum that follows it.
struct MaxOp {
  template <class T> __device__ __forceinline__ T operator()(T a, T b) const { return b > a ? b : a; }
};
struct SumOp {
  template <class T> __device__ __forceinline__ T operator()(T a, T b) const { return a + b; }
};

template <class T, class Op>
__device__ __forceinline__ T warp_allreduce(T v, Op op) {
  for (int off = 16; off > 0; off >>= 1) v = op(v, __shfl_xor_sync(0xffffffffu, v, off));
  return v;
}

// blockDim.x a multiple of 32; every thread of the block must call it.
template <class T, class Op>
__device__ T block_allreduce(T v, Op op, T identity) {
  __shared__ T partial[32];
  v = warp_allreduce(v, op);
  const int lane = threadIdx.x & 31;
  if (lane == 0) partial[threadIdx.x >> 5] = v;
  __syncthreads();
  v = lane < int(blockDim.x >> 5) ? partial[lane] : identity;
  v = warp_allreduce(v, op);
  __syncthreads();  // partial is reused by the next call
  return v;
}

// The rows of a (rows, n) problem shared out to warps (kWarp) or blocks, in
// grid-stride order; rank / size index the elements of a row within the group.
template <bool kWarp> struct RowGroup {
  __device__ int rank() const { return kWarp ? int(threadIdx.x & 31) : int(threadIdx.x); }
  __device__ int size() const { return kWarp ? 32 : int(blockDim.x); }
  __device__ int64_t first_row() const {
    return kWarp ? int64_t(blockIdx.x) * (blockDim.x >> 5) + (threadIdx.x >> 5) : int64_t(blockIdx.x);
  }
  __device__ int64_t row_step() const { return kWarp ? int64_t(gridDim.x) * (blockDim.x >> 5) : int64_t(gridDim.x); }
  template <class T, class Op> __device__ T reduce(T v, Op op, T identity) const {
    if constexpr (kWarp) return warp_allreduce(v, op);
    else return block_allreduce(v, op, identity);
  }
};

constexpr int64_t kWarpRowMax = 1024;  // longer rows take a whole block

// Blocks of kThreads for `rows` rows: a warp per row up to kWarpRowMax
// elements, else a block per row.
inline int row_blocks(int64_t rows, int64_t n) {
  const int64_t per_block = n <= kWarpRowMax ? kThreads / 32 : 1;
  const int64_t b = (rows + per_block - 1) / per_block;
  return static_cast<int>(b < 1 ? 1 : (b > kMaxBlocks ? kMaxBlocks : b));
}

// Runs a (rows, n) problem's row kernel, instantiated for warps and for
// blocks, with the geometry row_blocks picks.
template <class Problem>
void launch_rows(void (*warp_kernel)(Problem), void (*block_kernel)(Problem), const Problem& p, int64_t rows,
                 int64_t n) {
  auto kernel = n <= kWarpRowMax ? warp_kernel : block_kernel;
  DL_LAUNCH(kernel, row_blocks(rows, n), kThreads, 0, current_stream(), p);
  DL_CHECK_LAUNCH();
}

}  // namespace dlcore::cuda
