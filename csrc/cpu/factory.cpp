// Factory kernels: uniform and normal random numbers, arange.
//
// Random numbers come from Philox4x32-10 (Salmon et al., "Parallel random
// numbers: as easy as 1, 2, 3", SC'11), a counter-based generator: element i
// of a draw is a pure function of (seed, offset + i / 2), so any thread -- or
// a CUDA thread later -- can compute any element, and the stream does not
// depend on the thread count or the device. Each 128-bit Philox block gives
// two 64-bit words, i.e. two elements.
// uniform: the top 24 (float32) or 53 (float64) bits of a word, in [0, 1).
// normal:  Box-Muller on the block's two words: element 2k is r cos(t),
//          element 2k+1 is r sin(t), r = sqrt(-2 ln u1) with u1 in (0, 1].
#include <cmath>
#include <cstdint>
#include "core/parallel.h"
#include "core/kernels.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

constexpr int64_t kGrain = 16384;

struct Words { uint64_t a, b; };

inline Words philox(uint64_t seed, uint64_t block) {
  uint32_t c0 = static_cast<uint32_t>(block), c1 = static_cast<uint32_t>(block >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t(0xD2511F53u) * c0, p1 = uint64_t(0xCD9E8D57u) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0, n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1); c3 = static_cast<uint32_t>(p0); c0 = n0; c2 = n2;
    k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
  }
  return {uint64_t(c0) | (uint64_t(c1) << 32), uint64_t(c2) | (uint64_t(c3) << 32)};
}

template <class T> inline T unit(uint64_t w) {  // [0, 1)
  if constexpr (std::is_same_v<T, float>) return static_cast<float>(w >> 40) * 0x1.0p-24f;
  else return static_cast<double>(w >> 11) * 0x1.0p-53;
}

template <class T, class F>
void fill_pairs(T* out, int64_t n, uint64_t seed, uint64_t offset, const F& pair) {
  const int64_t blocks = (n + 1) / 2;
  parallel_for(blocks, kGrain, [&](int64_t begin, int64_t end) {
    for (int64_t b = begin; b < end; ++b) {
      T v0, v1;
      pair(philox(seed, offset + static_cast<uint64_t>(b)), v0, v1);
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
      fill_pairs<T>(static_cast<T*>(out), n, seed, offset, [&](Words r, T& v0, T& v1) {
        v0 = l + w * unit<T>(r.a);
        v1 = l + w * unit<T>(r.b);
      });
    }
  });
}

void normal(DType dt, void* out, int64_t n, uint64_t seed, uint64_t offset, double mean, double std) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_floating_point_v<T>) {
      fill_pairs<T>(static_cast<T*>(out), n, seed, offset, [&](Words r, T& v0, T& v1) {
        const double u1 = 1.0 - unit<double>(r.a);  // (0, 1]: log stays finite
        const double t = 6.283185307179586476925 * unit<double>(r.b);
        const double rad = std::sqrt(-2.0 * std::log(u1));
        v0 = static_cast<T>(mean + std * rad * std::cos(t));
        v1 = static_cast<T>(mean + std * rad * std::sin(t));
      });
    }
  });
}

void arange(DType dt, void* out, int64_t n, double start, double step) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    T* o = static_cast<T*>(out);
    if constexpr (std::is_integral_v<T>) {
      const int64_t s = static_cast<int64_t>(start), d = static_cast<int64_t>(step);
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(s + i * d);
    } else {
      for (int64_t i = 0; i < n; ++i) o[i] = static_cast<T>(start + static_cast<double>(i) * step);
    }
  });
}

}  // namespace dlcore::cpu::DLCORE_ISA
