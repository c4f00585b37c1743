// Factory kernels: uniform and normal random numbers, arange.
//
// Random numbers: Philox4x32-10 blocks (core/philox.h, shared with CUDA),
// element i of a draw from block offset + i / 2.
#include <cmath>
#include <cstdint>
#include "core/parallel.h"
#include "core/philox.h"
#include "core/kernels.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

constexpr int64_t kGrain = 16384;

// Fills out[0, n) two elements (one Philox block) at a time.
template <class T, class F>
void fill_pairs(T* out, int64_t n, const F& pair) {
  const int64_t blocks = (n + 1) / 2;
  parallel_for(blocks, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      T v0, v1;
      pair(static_cast<uint64_t>(b), v0, v1);
      out[2 * b] = v0;
      if (2 * b + 1 < n) out[2 * b + 1] = v1;
    }
  });
}

}  // namespace

void uniform(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double lo, double hi) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      const T l = static_cast<T>(lo), w = static_cast<T>(hi - lo);
      fill_pairs<T>(static_cast<T*>(out), n, [&](uint64_t b, T& v0, T& v1) {
        philox::uniform_pair<T>(seed, offset + b, l, w, v0, v1);
      });
    }
  });
}

void normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      fill_pairs<T>(static_cast<T*>(out), n, [&](uint64_t b, T& v0, T& v1) {
        philox::normal_pair<T, pointwise::LibMath>(seed, offset + b, mean, std, v0, v1);
      });
    }
  });
}

void arange(DType dt, void* out, int64_t n, double start, double step, int64_t int_start, int64_t int_step) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    T* o = static_cast<T*>(out);
    if constexpr (std::is_integral_v<T>) {
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(int_start + i * int_step);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(start + static_cast<double>(i) * step);
    }
  });
}

}  // namespace dlcore::cpu::DLCORE_ISA
