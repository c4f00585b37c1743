// Helpers shared by the tests/simt programs. The same program builds with
// g++ against the emulator (what tests/test_simt.py runs) and with nvcc for
// a real GPU (managed memory, so host code reads results directly).
#pragma once
#include "compat.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#ifdef __CUDACC__
template <class T>
T* dev_alloc(size_t n) {
  T* p = nullptr;
  if (cudaMallocManaged(&p, (n ? n : 1) * sizeof(T)) != cudaSuccess) {
    std::fprintf(stderr, "cudaMallocManaged failed\n");
    std::exit(2);
  }
  return p;
}
inline void dev_free(void* p) { cudaFree(p); }
// Waits for the device and returns the launch error ("" when none).
inline std::string launch_error() {
  cudaError_t e = cudaDeviceSynchronize();
  if (e == cudaSuccess) e = cudaGetLastError();
  return e == cudaSuccess ? std::string() : std::string(cudaGetErrorString(e));
}
#else
// Exactly n elements, so that AddressSanitizer sees one past the end.
template <class T>
T* dev_alloc(size_t n) {
  T* p = static_cast<T*>(std::malloc((n ? n : 1) * sizeof(T)));
  if (!p) std::exit(2);
  return p;
}
inline void dev_free(void* p) { std::free(p); }
inline std::string launch_error() { return simt::get_and_clear_error(); }
#endif

// Test bookkeeping: CHECK(cond, "fmt", ...) counts failures; finish() prints
// a summary and gives the exit code.
static int g_failures = 0;
static int g_checks = 0;
#define CHECK(cond, ...)                                               \
  do {                                                                 \
    ++g_checks;                                                        \
    if (!(cond)) {                                                     \
      if (++g_failures <= 20) {                                        \
        std::printf("FAIL %s:%d: ", __FILE__, __LINE__);               \
        std::printf(__VA_ARGS__);                                      \
        std::printf("\n");                                             \
      }                                                                \
    }                                                                  \
  } while (0)

// The launch must have succeeded.
#define CHECK_LAUNCH_OK(what)                                                   \
  do {                                                                          \
    const std::string e_ = launch_error();                                      \
    CHECK(e_.empty(), "%s: unexpected launch error: %s", what, e_.c_str());     \
  } while (0)

inline int finish(const char* program) {
  if (g_failures == 0) {
    std::printf("PASS %s (%d checks)\n", program, g_checks);
    return 0;
  }
  std::printf("FAILED %s: %d of %d checks\n", program, g_failures, g_checks);
  return 1;
}

// Deterministic inputs.
inline float hash_float(unsigned i) {
  i ^= i >> 16;
  i *= 0x7feb352du;
  i ^= i >> 15;
  i *= 0x846ca68bu;
  i ^= i >> 16;
  return static_cast<float>(i & 0xffffu) / 65536.0f - 0.5f;
}
