// Factory kernels on the device: uniform and normal random numbers (the same
// Philox blocks as the CPU, core/philox.h, so a seed gives the same numbers on
// both), and arange. One thread per Philox block (two elements).
#include "common.cuh"
#include "core/philox.h"

namespace dlcore::cuda {

namespace {

template <class T>
__global__ void uniform_kernel(T* out, int64_t n, uint64_t seed, uint64_t offset, T lo, T width) {
  const int64_t blocks = (n + 1) / 2;
  for (int64_t b = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; b < blocks; b += int64_t(blockDim.x) * gridDim.x) {
    T v0, v1;
    philox::uniform_pair<T>(seed, offset + static_cast<uint64_t>(b), lo, width, v0, v1);
    out[2 * b] = v0;
    if (2 * b + 1 < n) out[2 * b + 1] = v1;
  }
}

template <class T>
__global__ void normal_kernel(T* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  const int64_t blocks = (n + 1) / 2;
  for (int64_t b = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; b < blocks; b += int64_t(blockDim.x) * gridDim.x) {
    T v0, v1;
    philox::normal_pair<T, DeviceMath>(seed, offset + static_cast<uint64_t>(b), mean, std, v0, v1);
    out[2 * b] = v0;
    if (2 * b + 1 < n) out[2 * b + 1] = v1;
  }
}

template <class T>
__global__ void arange_kernel(T* out, int64_t n, double start, double step, int64_t int_start, int64_t int_step) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    if constexpr (std::is_integral_v<T>) out[i] = static_cast<T>(int_start + i * int_step);
    else out[i] = static_cast<T>(start + static_cast<double>(i) * step);
  }
}

}  // namespace

void uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi) {
  if (n == 0) return;
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      auto kernel = uniform_kernel<T>;
      DL_LAUNCH(kernel, blocks_for((n + 1) / 2), kThreads, 0, current_stream(), static_cast<T*>(out), n, seed, offset,
                static_cast<T>(lo), static_cast<T>(hi - lo));
      DL_CHECK_LAUNCH();
    }
  });
}

void normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  if (n == 0) return;
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      auto kernel = normal_kernel<T>;
      DL_LAUNCH(kernel, blocks_for((n + 1) / 2), kThreads, 0, current_stream(), static_cast<T*>(out), n, seed, offset, mean, std);
      DL_CHECK_LAUNCH();
    }
  });
}

void arange(DType dt, void* out, int64_t n, double start, double step, int64_t int_start, int64_t int_step) {
  if (n == 0) return;
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    auto kernel = arange_kernel<T>;
    DL_LAUNCH(kernel, blocks_for(n), kThreads, 0, current_stream(), static_cast<T*>(out), n, start, step, int_start, int_step);
    DL_CHECK_LAUNCH();
  });
}

}  // namespace dlcore::cuda
