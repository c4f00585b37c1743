// Dropout and channel dropout with inverted scaling, forward and backward
// (the backward is this kernel on the gradient: the mask is regenerated, not
// stored). Shapes: a contiguous tensor of n elements in groups of `group`
// that share one keep/drop draw (DropoutProblem, core/kernels.h).
// Algorithm: OpenMP over the draws; each draw is one word of a Philox block
// (core/philox.h, shared with CUDA), so the mask depends only on (seed,
// offset), never on the thread count or the device. Numerics: kept elements
// are x * (1 / (1 - p)) rounded once; dropped ones are exactly 0 (NaN and inf
// included); p = 1 drops everything.
#include <algorithm>
#include "core/kernels.h"
#include "core/parallel.h"
#include "core/philox.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

constexpr int64_t kGrain = 16384;  // elements per thread worth a parallel region

template <class T> void dropout_typed(const DropoutProblem& p) {
  const T* x = static_cast<const T*>(p.x);
  T* out = static_cast<T*>(p.out);
  const T scale = p.p < 1 ? static_cast<T>(1.0 / (1.0 - p.p)) : T(0);
  const int64_t draws = (p.n + p.group - 1) / p.group;
  parallel_for(draws, std::max<int64_t>(1, kGrain / p.group), [&](int64_t begin, int64_t end) {
    for (int64_t m = begin; m < end; ++m) {
      const bool keep = philox::keep(p.seed, p.offset, static_cast<uint64_t>(m), p.p);
      const int64_t lo = m * p.group, hi = std::min(p.n, lo + p.group);
      if (keep) {
#pragma omp simd
        for (int64_t i = lo; i < hi; ++i) out[i] = x[i] * scale;
      } else {
#pragma omp simd
        for (int64_t i = lo; i < hi; ++i) out[i] = T(0);
      }
    }
  });
}

}  // namespace

void dropout(DType dt, const DropoutProblem& p) {
  dispatch_floating(dt, [&](auto tag) { dropout_typed<decltype(tag)>(p); });
}

}  // namespace dlcore::cpu::DLCORE_ISA
