// Copy and cast: out[i] = (Dst) a[i] for any two strided operands of the same
// shape (a may be broadcast, stride 0). It is the one routine behind
// contiguous(), dtype casts, fills from a scalar and assignment into views.
// Algorithm: contiguous same-dtype rows are memcpy'd; contiguous rows of
// different dtypes are a SIMD conversion loop; anything else is strided.
// Numerics: the conversions of core/pointwise.h (float -> int truncates and
// saturates, NaN -> 0; nonzero -> true).
#include <cstring>
#include "core/parallel.h"
#include "core/pointwise.h"
#include "core/kernels.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

constexpr int64_t kGrain = 65536;

using pointwise::convert;

template <class Dst, class Src>
void copy_typed(const StridedLoop& loop) {
  parallel_for(loop.numel(), kGrain, [&](int64_t begin, int64_t end) {
    loop.for_each_row(begin, end, [](char* const* p, const int64_t* s, int64_t n) {
      const int64_t sd = sizeof(Dst), ss = sizeof(Src);
      if (s[0] == sd && s[1] == ss) {
        if constexpr (std::is_same_v<Dst, Src>) {
          std::memcpy(p[0], p[1], static_cast<size_t>(n) * sizeof(Dst));
        } else {
          Dst* o = reinterpret_cast<Dst*>(p[0]);
          const Src* a = reinterpret_cast<const Src*>(p[1]);
#pragma omp simd
          for (int64_t i = 0; i < n; ++i) o[i] = convert<Dst>(a[i]);
        }
      } else if (s[0] == sd && s[1] == 0) {
        Dst* o = reinterpret_cast<Dst*>(p[0]);
        const Dst v = convert<Dst>(*reinterpret_cast<const Src*>(p[1]));
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) o[i] = v;
      } else {
        char* po = p[0]; const char* pa = p[1];
        for (int64_t i = 0; i < n; ++i, po += s[0], pa += s[1])
          *reinterpret_cast<Dst*>(po) = convert<Dst>(*reinterpret_cast<const Src*>(pa));
      }
    });
  });
}

}  // namespace

void copy(DType dst, DType src, const StridedLoop& loop) {
  dispatch_dtype(dst, [&](auto dtag) {
    dispatch_dtype(src, [&](auto stag) { copy_typed<decltype(dtag), decltype(stag)>(loop); });
  });
}

}  // namespace dlcore::cpu::DLCORE_ISA
