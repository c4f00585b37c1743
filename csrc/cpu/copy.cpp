// Copy and cast: out[i] = (Dst) a[i] for any two strided operands of the same
// shape (a may be broadcast, stride 0). It is the one routine behind
// contiguous(), dtype casts, fills from a scalar and assignment into views.
// Algorithm: contiguous same-dtype rows are memcpy'd; contiguous rows of
// different dtypes are a SIMD conversion loop; a transposing copy goes tile
// by tile; anything else is strided.
// Numerics: the conversions of core/pointwise.h (float -> int truncates and
// saturates, NaN -> 0; nonzero -> true).
#include <algorithm>
#include <cstring>
#include "core/parallel.h"
#include "core/pointwise.h"
#include "core/kernels.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

constexpr int64_t kGrain = 65536;

using pointwise::convert;

// A transposing copy: the source is contiguous along the second-to-last dim
// and the destination along the last (x.T.contiguous()). Walking either one
// row by row strides through the other a whole row apart, one cache line per
// element. Tiles of 32 x 32 elements go through a buffer in L1.
constexpr int64_t kTile = 32;

template <class Dst, class Src>
void copy_transposed(const StridedLoop& loop) {
  const int nd = loop.ndim;
  const int64_t R = loop.shape[nd - 2], C = loop.shape[nd - 1];
  const int64_t planes = loop.numel() / (R * C);
  const int64_t tr = (R + kTile - 1) / kTile, tc = (C + kTile - 1) / kTile;
  const int64_t ds0 = loop.strides[0][nd - 2] / int64_t(sizeof(Dst));
  const int64_t ss1 = loop.strides[1][nd - 1] / int64_t(sizeof(Src));
  parallel_for(planes * tr * tc, std::max<int64_t>(1, kGrain / (kTile * kTile)), [&](int64_t begin, int64_t end) {
    for (int64_t w = begin; w < end; ++w) {
      int64_t plane = w / (tr * tc), t = w % (tr * tc);
      char* pd = loop.data[0];
      const char* ps = loop.data[1];
      for (int d = nd - 3; d >= 0; --d) {  // the plane's offsets in the leading dims
        const int64_t i = plane % loop.shape[d];
        plane /= loop.shape[d];
        pd += i * loop.strides[0][d];
        ps += i * loop.strides[1][d];
      }
      Dst* dst = reinterpret_cast<Dst*>(pd);
      const Src* src = reinterpret_cast<const Src*>(ps);
      const int64_t i0 = (t / tc) * kTile, j0 = (t % tc) * kTile;
      const int64_t ni = std::min(R, i0 + kTile) - i0, nj = std::min(C, j0 + kTile) - j0;
      // Through a buffer: read source columns, write destination rows, both
      // contiguous (with power-of-two row strides, 32 strided writes would
      // all land in one L1 set).
      Dst tile[kTile][kTile];
      for (int64_t j = 0; j < nj; ++j)
        for (int64_t i = 0; i < ni; ++i) tile[i][j] = convert<Dst>(src[(i0 + i) + (j0 + j) * ss1]);
      for (int64_t i = 0; i < ni; ++i)
        for (int64_t j = 0; j < nj; ++j) dst[(i0 + i) * ds0 + j0 + j] = tile[i][j];
    }
  });
}

template <class Dst, class Src>
bool is_transposing(const StridedLoop& loop) {
  const int nd = loop.ndim;
  return nd >= 2 && loop.shape[nd - 2] >= kTile && loop.shape[nd - 1] >= kTile &&
         loop.strides[0][nd - 1] == int64_t(sizeof(Dst)) && loop.strides[1][nd - 2] == int64_t(sizeof(Src)) &&
         loop.strides[0][nd - 2] % int64_t(sizeof(Dst)) == 0 && loop.strides[1][nd - 1] % int64_t(sizeof(Src)) == 0;
}

template <class Dst, class Src>
void copy_typed(const StridedLoop& loop) {
  if (is_transposing<Dst, Src>(loop)) return copy_transposed<Dst, Src>(loop);
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
