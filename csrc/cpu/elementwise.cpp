// Elementwise kernels: binary ops with broadcasting, unary ops, clip, where.
//
// Shapes: every operand is walked through a StridedLoop (core/loop.h) over
// the broadcast output shape; the op layer has already promoted the inputs
// to one dtype. Algorithm: the linear index range is split evenly over the
// OpenMP threads; each inner row takes a SIMD path when every operand is
// contiguous or a broadcast scalar (stride 0), a strided scalar loop
// otherwise. The loops are plain `omp simd` loops compiled once per ISA, so
// the same source becomes SSE2, AVX2 or AVX-512 code (cpu/rows.h); exp/log
// come from math.h so that they vectorize too.
// Numerics: the op semantics (NaN rules, integer pow) are core/pointwise.h,
// shared with the CUDA kernels.
#include <cmath>
#include <cstring>
#include "core/parallel.h"
#include "core/pointwise.h"
#include "core/kernels.h"
#include "cpu/math.h"
#include "cpu/rows.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

// out[i] = c[i] ? a[i] : b[i] as a bit blend with an all-ones/all-zeros
// mask: no branch to mispredict on a random condition, and it vectorizes.
// A_SCALAR / B_SCALAR: that operand is one broadcast value.
template <bool A_SCALAR, bool B_SCALAR, class T>
inline void where_row(T* o, const bool* c, const T* a, const T* b, int64_t n) {
  using U = std::conditional_t<sizeof(T) == 1, uint8_t,
                               std::conditional_t<sizeof(T) == 4, uint32_t, uint64_t>>;
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const U m = U(0) - U(c[i]);
    const U ua = __builtin_bit_cast(U, a[A_SCALAR ? 0 : i]), ub = __builtin_bit_cast(U, b[B_SCALAR ? 0 : i]);
    o[i] = __builtin_bit_cast(T, U((ua & m) | (ub & U(~m))));
  }
}

template <BinaryOp op>
void binary_op(DType dt, const StridedLoop& loop) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (pointwise::binary_supported<op, T>())
      run(loop, [](char* const* p, const int64_t* s, int64_t n) {
        binary_row<pointwise::BinaryOut<op, T>, T, T>(
            p, s, n, [](T a, T b) { return pointwise::binary<op, T, SimdMath>(a, b); });
      });
  });
}

template <UnaryOp op>
void unary_op(DType dt, const StridedLoop& loop) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (pointwise::unary_supported<op, T>())
      run(loop, [](char* const* p, const int64_t* s, int64_t n) {
        unary_row<T, T>(p, s, n, [](T x) { return pointwise::unary<op, T, SimdMath>(x); });
      });
  });
}

}  // namespace

void binary(BinaryOp op, DType dt, const StridedLoop& loop) {
  dispatch_op(op, [&](auto tag) { binary_op<decltype(tag)::value>(dt, loop); });
}

void unary(UnaryOp op, DType dt, const StridedLoop& loop) {
  dispatch_op(op, [&](auto tag) { unary_op<decltype(tag)::value>(dt, loop); });
}

void clip(DType dt, const StridedLoop& loop, double lo, double hi) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      const T l = static_cast<T>(lo), h = static_cast<T>(hi);
      run(loop, [l, h](char* const* p, const int64_t* s, int64_t n) {
        unary_row<T, T>(p, s, n, [l, h](T x) { return pointwise::clip(x, l, h); });
      });
    }
  });
}

void where(DType dt, const StridedLoop& loop) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    run(loop, [](char* const* p, const int64_t* s, int64_t n) {
      const int64_t st = sizeof(T);
      if (s[0] == st && s[1] == 1 && (s[2] == st || s[2] == 0) && (s[3] == st || s[3] == 0)) {
        const bool* c = reinterpret_cast<const bool*>(p[1]);
        const T* a = reinterpret_cast<const T*>(p[2]);
        const T* b = reinterpret_cast<const T*>(p[3]);
        T* o = reinterpret_cast<T*>(p[0]);
        if (s[2] && s[3]) where_row<false, false>(o, c, a, b, n);
        else if (s[2]) where_row<false, true>(o, c, a, b, n);
        else if (s[3]) where_row<true, false>(o, c, a, b, n);
        else where_row<true, true>(o, c, a, b, n);
      } else {
        char* po = p[0]; const char* pc = p[1]; const char* pa = p[2]; const char* pb = p[3];
        for (int64_t i = 0; i < n; ++i, po += s[0], pc += s[1], pa += s[2], pb += s[3])
          *reinterpret_cast<T*>(po) = *reinterpret_cast<const bool*>(pc) ? *reinterpret_cast<const T*>(pa)
                                                                        : *reinterpret_cast<const T*>(pb);
      }
    });
  });
}

}  // namespace dlcore::cpu::DLCORE_ISA
