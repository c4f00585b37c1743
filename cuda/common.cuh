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

// The device's full-precision math for the Math policy of core/pointwise.h.
using DeviceMath = pointwise::LibMath;

}  // namespace dlcore::cuda
