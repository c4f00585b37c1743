// Copy and cast: out[i] = (Dst) a[i] for any two strided operands of the same
// shape (a may be broadcast, stride 0). It is the one routine behind
// contiguous(), dtype casts, fills from a scalar and assignment into views.
// Algorithm: contiguous same-dtype rows are memcpy'd; contiguous rows of
// different dtypes are a SIMD conversion loop; anything else is strided.
// Numerics: float -> int truncates toward zero and saturates at the integer
// range, NaN -> 0 (NumPy leaves both unspecified; C++ calls them undefined
// behaviour, so they are made defined here); any nonzero (NaN too) -> true.
#include <cstring>
#include <limits>
#include <type_traits>
#include "core/parallel.h"
#include "core/kernels.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

constexpr int64_t kGrain = 65536;

template <class Dst, class Src>
inline Dst convert(Src x) {
  if constexpr (std::is_same_v<Dst, bool>) {
    return x != Src(0);
  } else if constexpr (std::is_floating_point_v<Src> && std::is_integral_v<Dst>) {
    constexpr Src hi = static_cast<Src>(std::numeric_limits<Dst>::max());
    constexpr Src lo = static_cast<Src>(std::numeric_limits<Dst>::min());
    return x != x ? Dst(0) : (x >= hi ? std::numeric_limits<Dst>::max() : (x <= lo ? std::numeric_limits<Dst>::min() : static_cast<Dst>(x)));
  } else {
    return static_cast<Dst>(x);
  }
}

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
