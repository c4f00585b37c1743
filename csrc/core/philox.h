// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC'11): a counter-based generator. Block b of seed s is a pure function
// of (s, b), so any CPU or CUDA thread computes any element, and a draw is
// the same whatever the thread count or the device. Each 128-bit block gives
// two 64-bit words, i.e. two elements.
//   uniform: the top 24 (float32) or 53 (float64) bits of a word, in [0, 1).
//   normal:  Box-Muller on the block's two words: element 2k is r cos(t),
//            element 2k+1 is r sin(t), r = sqrt(-2 ln u1), u1 in (0, 1].
#pragma once
#include <cstdint>
#include <type_traits>
#include "core/pointwise.h"

namespace dlcore::philox {

struct Words { uint64_t a, b; };

DL_HD Words block(uint64_t seed, uint64_t counter) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = uint64_t(0xD2511F53u) * c0, p1 = uint64_t(0xCD9E8D57u) * c2;
    const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1 ^ k0, n2 = static_cast<uint32_t>(p0 >> 32) ^ c3 ^ k1;
    c1 = static_cast<uint32_t>(p1); c3 = static_cast<uint32_t>(p0); c0 = n0; c2 = n2;
    k0 += 0x9E3779B9u; k1 += 0xBB67AE85u;
  }
  return {uint64_t(c0) | (uint64_t(c1) << 32), uint64_t(c2) | (uint64_t(c3) << 32)};
}

template <class T> DL_HD T unit(uint64_t w) {  // [0, 1)
  if constexpr (std::is_same_v<T, float>) return static_cast<float>(w >> 40) * 0x1.0p-24f;
  else return static_cast<double>(w >> 11) * 0x1.0p-53;
}

// Whether draw m of a dropout mask (DropoutProblem) keeps its element(s):
// its uniform double in [0, 1) is not below the drop probability p.
DL_HD bool keep(uint64_t seed, uint64_t offset, uint64_t m, double p) {
  const Words r = block(seed, offset + m / 2);
  return unit<double>((m & 1) ? r.b : r.a) >= p;
}

// The two uniform values of block `counter`, scaled to [lo, hi).
template <class T> DL_HD void uniform_pair(uint64_t seed, uint64_t counter, T lo, T width, T& v0, T& v1) {
  const Words r = block(seed, counter);
  v0 = lo + width * unit<T>(r.a);
  v1 = lo + width * unit<T>(r.b);
}

// The two normal values of block `counter`. Math supplies sqrt/log/sin/cos
// in double (the same formula on both backends).
template <class T, class Math>
DL_HD void normal_pair(uint64_t seed, uint64_t counter, double mean, double std, T& v0, T& v1) {
  const Words r = block(seed, counter);
  const double u1 = 1.0 - unit<double>(r.a);  // (0, 1]: the log stays finite
  const double t = 6.283185307179586476925 * unit<double>(r.b);
  const double rad = Math::sqrt(-2.0 * Math::log(u1));
  v0 = static_cast<T>(mean + std * rad * Math::cos(t));
  v1 = static_cast<T>(mean + std * rad * Math::sin(t));
}

}  // namespace dlcore::philox
