// compat.h: the one header every cuda/*.cu file includes.
//
// Under nvcc (__CUDACC__) it is a pass-through to the CUDA runtime. With any
// other compiler it includes the SIMT emulator (simt/simt.h), which runs the
// same kernels on CPU fibers; see docs/emulator.md.
//
// Kernel files use only these three portable spellings:
//
//   DL_LAUNCH(kernel, grid, block, smem_bytes, stream, args...)
//       kernel<<<grid, block, smem_bytes, stream>>>(args...). `stream` may be
//       a cudaStream_t, a void* holding one, or 0. A kernel name with template
//       commas goes through a local pointer:
//           auto k = my_kernel<T, Op>;  DL_LAUNCH(k, grid, block, 0, stream, x, y);
//       Emulator: arguments are evaluated once and copied (each CUDA thread
//       gets its own copy of the by-value parameters), the launch runs to
//       completion before DL_LAUNCH returns, the stream is ignored.
//
//   DL_DYNAMIC_SHARED(T, name);
//       inside a kernel or device function: `T* name` points to the block's
//       dynamic shared memory (16-byte aligned), sized by the launch's
//       smem_bytes. Replaces `extern __shared__ T name[];`. Emulator: filled
//       with 0xFF bytes (NaN for float) before each block.
//
//   DL_CHECK_LAUNCH();
//       after a launch, in host code: throws std::runtime_error when the
//       launch failed -- nvcc: cudaGetLastError(); emulator: the kernel bug it
//       caught (simt::get_and_clear_error(): barrier divergence, deadlock,
//       bad shuffle lane, bad launch shape, ...), so it reaches Python.
//
// and, for kernels that need more than 48 KiB of dynamic shared memory,
//   DL_SET_MAX_DYNAMIC_SHARED(kernel, bytes);   // host code, before the launch
#pragma once

#if defined(__CUDACC__)

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

#define DL_LAUNCH(kernel, grid, block, smem_bytes, stream, ...) \
  kernel<<<(grid), (block), (smem_bytes), (cudaStream_t)(stream)>>>(__VA_ARGS__)

#define DL_DYNAMIC_SHARED(T, name)                                       \
  extern __shared__ __align__(16) unsigned char dl_dynamic_shared_[];   \
  T* name = reinterpret_cast<T*>(dl_dynamic_shared_)

namespace dl_compat {
inline void cuda_check(cudaError_t err, const char* what, const char* file, int line) {
  if (err != cudaSuccess) {
    throw std::runtime_error(std::string(what) + " failed at " + file + ":" + std::to_string(line) + ": " +
                             cudaGetErrorString(err));
  }
}
}  // namespace dl_compat

#define DL_CHECK_LAUNCH() ::dl_compat::cuda_check(cudaGetLastError(), "CUDA kernel launch", __FILE__, __LINE__)

#define DL_SET_MAX_DYNAMIC_SHARED(kernel, bytes)                                                       \
  ::dl_compat::cuda_check(cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel),                  \
                                               cudaFuncAttributeMaxDynamicSharedMemorySize,            \
                                               static_cast<int>(bytes)),                               \
                          "cudaFuncSetAttribute", __FILE__, __LINE__)

#else  // the CPU emulator

#include <stdexcept>
#include <string>

#include "simt/simt.h"

// So that launchers can name the type; the emulator ignores streams.
typedef struct CUstream_st* cudaStream_t;

#define DL_LAUNCH(kernel, grid, block, smem_bytes, stream, ...)                                        \
  ::simt::launch(#kernel, __FILE__, __LINE__, (kernel), (grid), (block), (smem_bytes), (stream),       \
                 ##__VA_ARGS__)

#define DL_DYNAMIC_SHARED(T, name) T* name = reinterpret_cast<T*>(::simt::dynamic_shared())

namespace dl_compat {
inline void emulator_check(const char* file, int line) {
  const std::string err = ::simt::get_and_clear_error();
  if (!err.empty())
    throw std::runtime_error(std::string("CUDA kernel launch failed at ") + file + ":" + std::to_string(line) + ": " + err);
}
}  // namespace dl_compat

#define DL_CHECK_LAUNCH() ::dl_compat::emulator_check(__FILE__, __LINE__)

#define DL_SET_MAX_DYNAMIC_SHARED(kernel, bytes) \
  ::simt::set_max_dynamic_shared(reinterpret_cast<const void*>(kernel), static_cast<size_t>(bytes))

#endif
