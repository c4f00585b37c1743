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

struct DeviceMath {
  static __device__ __forceinline__ float exp(float x) { return expf(x); }
  static __device__ __forceinline__ double exp(double x) { return ::exp(x); }
  static __device__ __forceinline__ float log(float x) { return logf(x); }
  static __device__ __forceinline__ double log(double x) { return ::log(x); }
  static __device__ __forceinline__ float abs(float x) { return fabsf(x); }
  static __device__ __forceinline__ double abs(double x) { return ::fabs(x); }
  static __device__ __forceinline__ float sqrt(float x) { return sqrtf(x); }
  static __device__ __forceinline__ double sqrt(double x) { return ::sqrt(x); }
  static __device__ __forceinline__ float pow(float a, float b) { return powf(a, b); }
  static __device__ __forceinline__ double pow(double a, double b) { return ::pow(a, b); }
  static __device__ __forceinline__ double sin(double x) { return ::sin(x); }
  static __device__ __forceinline__ double cos(double x) { return ::cos(x); }
};

}  // namespace dlcore::cuda
