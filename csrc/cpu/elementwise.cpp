// Elementwise kernels: binary ops with broadcasting, unary ops, clip, where.
//
// Shapes: every operand is walked through a StridedLoop (core/loop.h) over
// the broadcast output shape; the op layer has already promoted the inputs
// to one dtype. Algorithm: the linear index range is split evenly over the
// OpenMP threads; each inner row takes a SIMD path when every operand is
// contiguous or a broadcast scalar (stride 0), a strided scalar loop
// otherwise. The loops are plain `omp simd` loops compiled once per ISA, so
// the same source becomes SSE2, AVX2 or AVX-512 code; exp/log come from
// math.h so that they vectorize too.
// Numerics: maximum/minimum/clip propagate NaN as NumPy does; integer pow
// with a negative exponent gives 0 (or +-1 for bases +-1), as in PyTorch.
#include <cmath>
#include <cstring>
#include "core/parallel.h"
#include "core/kernels.h"
#include "cpu/math.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

constexpr int64_t kGrain = 32768;  // elements per thread worth a parallel region

template <class T>
inline T int_pow(T base, T exp) {
  if (exp < 0) return base == 1 ? T(1) : (base == -1 ? ((exp & 1) ? T(-1) : T(1)) : T(0));
  T r = 1;
  while (exp) { if (exp & 1) r *= base; base *= base; exp >>= 1; }
  return r;
}

template <BinaryOp op, class T>
struct Binary {
  static inline auto apply(T a, T b) {
    if constexpr (op == BinaryOp::Add) return T(a + b);
    else if constexpr (op == BinaryOp::Sub) return T(a - b);
    else if constexpr (op == BinaryOp::Mul) return T(a * b);
    else if constexpr (op == BinaryOp::Div) return T(a / b);
    else if constexpr (op == BinaryOp::Pow) {
      if constexpr (std::is_floating_point_v<T>) return T(std::pow(a, b));
      else return int_pow(a, b);
    }
    else if constexpr (op == BinaryOp::Maximum) return (a > b || a != a) ? a : b;
    else if constexpr (op == BinaryOp::Minimum) return (a < b || a != a) ? a : b;
    else if constexpr (op == BinaryOp::Eq) return a == b;
    else if constexpr (op == BinaryOp::Ne) return a != b;
    else if constexpr (op == BinaryOp::Lt) return a < b;
    else if constexpr (op == BinaryOp::Le) return a <= b;
    else if constexpr (op == BinaryOp::Gt) return a > b;
    else if constexpr (op == BinaryOp::Ge) return a >= b;
    else if constexpr (op == BinaryOp::LogicalAnd) return bool(a) && bool(b);
    else if constexpr (op == BinaryOp::LogicalOr) return bool(a) || bool(b);
    else return bool(a) != bool(b);
  }
};

// One row of `out[i] = f(a[i], b[i])`, specialised on the stride pattern.
template <class Out, class A, class B, class F>
inline void binary_row(char* const* p, const int64_t* s, int64_t n, const F& f) {
  Out* o = reinterpret_cast<Out*>(p[0]);
  const A* a = reinterpret_cast<const A*>(p[1]);
  const B* b = reinterpret_cast<const B*>(p[2]);
  const int64_t so = sizeof(Out), sa = sizeof(A), sb = sizeof(B);
  if (s[0] == so && s[1] == sa && s[2] == sb) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
  } else if (s[0] == so && s[1] == sa && s[2] == 0) {
    const B bv = *b;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
  } else if (s[0] == so && s[1] == 0 && s[2] == sb) {
    const A av = *a;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
  } else {
    char* po = p[0]; const char* pa = p[1]; const char* pb = p[2];
    for (int64_t i = 0; i < n; ++i, po += s[0], pa += s[1], pb += s[2])
      *reinterpret_cast<Out*>(po) = f(*reinterpret_cast<const A*>(pa), *reinterpret_cast<const B*>(pb));
  }
}

template <class Out, class A, class F>
inline void unary_row(char* const* p, const int64_t* s, int64_t n, const F& f) {
  Out* o = reinterpret_cast<Out*>(p[0]);
  const A* a = reinterpret_cast<const A*>(p[1]);
  if (s[0] == int64_t(sizeof(Out)) && s[1] == int64_t(sizeof(A))) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i]);
  } else {
    char* po = p[0]; const char* pa = p[1];
    for (int64_t i = 0; i < n; ++i, po += s[0], pa += s[1])
      *reinterpret_cast<Out*>(po) = f(*reinterpret_cast<const A*>(pa));
  }
}

template <class RowFn>
inline void run(const StridedLoop& loop, const RowFn& row) {
  parallel_for(loop.numel(), kGrain, [&](int64_t begin, int64_t end) { loop.for_each_row(begin, end, row); });
}

template <BinaryOp op, class T>
void binary_typed(const StridedLoop& loop) {
  using Out = decltype(Binary<op, T>::apply(T{}, T{}));
  run(loop, [](char* const* p, const int64_t* s, int64_t n) {
    binary_row<Out, T, T>(p, s, n, [](T a, T b) { return Binary<op, T>::apply(a, b); });
  });
}

template <BinaryOp op>
void binary_op(DType dt, const StridedLoop& loop) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    // The op layer never sends bool to arithmetic ops (it promotes to int64).
    if constexpr (!std::is_same_v<T, bool> || is_comparison(op) || op == BinaryOp::Maximum || op == BinaryOp::Minimum)
      binary_typed<op, T>(loop);
  });
}

template <UnaryOp op, class T>
inline T unary_apply(T x) {
  if constexpr (op == UnaryOp::Neg) return T(-x);
  else if constexpr (op == UnaryOp::Abs) return x < T(0) ? T(-x) : x;
  else if constexpr (op == UnaryOp::Sign) {
    if constexpr (std::is_floating_point_v<T>) return x != x ? x : T((x > T(0)) - (x < T(0)));
    else return T((x > T(0)) - (x < T(0)));
  }
  else if constexpr (op == UnaryOp::Square) return T(x * x);
  else if constexpr (op == UnaryOp::Reciprocal) return T(1) / x;
  else if constexpr (op == UnaryOp::Exp) return exp_simd(x);
  else if constexpr (op == UnaryOp::Log) return log_simd(x);
  else if constexpr (op == UnaryOp::Sqrt) return std::sqrt(x);
  else if constexpr (op == UnaryOp::Rsqrt) return T(1) / std::sqrt(x);
  else return !x;
}

template <UnaryOp op>
void unary_op(DType dt, const StridedLoop& loop) {
  constexpr bool float_only = op == UnaryOp::Reciprocal || op == UnaryOp::Exp || op == UnaryOp::Log ||
                              op == UnaryOp::Sqrt || op == UnaryOp::Rsqrt;
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    constexpr bool ok = op == UnaryOp::LogicalNot ? std::is_same_v<T, bool>
                        : float_only             ? std::is_floating_point_v<T>
                                                 : !std::is_same_v<T, bool>;
    if constexpr (ok)
      run(loop, [](char* const* p, const int64_t* s, int64_t n) {
        unary_row<T, T>(p, s, n, [](T x) { return unary_apply<op>(x); });
      });
  });
}

}  // namespace

void binary(BinaryOp op, DType dt, const StridedLoop& loop) {
  switch (op) {
#define DL_CASE(name) case BinaryOp::name: return binary_op<BinaryOp::name>(dt, loop);
    DL_CASE(Add) DL_CASE(Sub) DL_CASE(Mul) DL_CASE(Div) DL_CASE(Pow) DL_CASE(Maximum) DL_CASE(Minimum)
    DL_CASE(Eq) DL_CASE(Ne) DL_CASE(Lt) DL_CASE(Le) DL_CASE(Gt) DL_CASE(Ge)
    DL_CASE(LogicalAnd) DL_CASE(LogicalOr) DL_CASE(LogicalXor)
#undef DL_CASE
  }
}

void unary(UnaryOp op, DType dt, const StridedLoop& loop) {
  switch (op) {
#define DL_CASE(name) case UnaryOp::name: return unary_op<UnaryOp::name>(dt, loop);
    DL_CASE(Neg) DL_CASE(Abs) DL_CASE(Sign) DL_CASE(Square) DL_CASE(Reciprocal)
    DL_CASE(Exp) DL_CASE(Log) DL_CASE(Sqrt) DL_CASE(Rsqrt) DL_CASE(LogicalNot)
#undef DL_CASE
  }
}

void clip(DType dt, const StridedLoop& loop, double lo, double hi) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      const T l = static_cast<T>(lo), h = static_cast<T>(hi);
      run(loop, [l, h](char* const* p, const int64_t* s, int64_t n) {
        unary_row<T, T>(p, s, n, [l, h](T x) {
          const T t = x < l ? l : x;  // min(max(x, lo), hi): hi wins if lo > hi, NaN passes
          return t > h ? h : t;
        });
      });
    }
  });
}

void where(DType dt, const StridedLoop& loop) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    run(loop, [](char* const* p, const int64_t* s, int64_t n) {
      char* po = p[0]; const char* pc = p[1]; const char* pa = p[2]; const char* pb = p[3];
      if (s[0] == int64_t(sizeof(T)) && s[1] == 1 && s[2] == int64_t(sizeof(T)) && s[3] == int64_t(sizeof(T))) {
        T* o = reinterpret_cast<T*>(po);
        const bool* c = reinterpret_cast<const bool*>(pc);
        const T* a = reinterpret_cast<const T*>(pa);
        const T* b = reinterpret_cast<const T*>(pb);
#pragma omp simd
        for (int64_t i = 0; i < n; ++i) o[i] = c[i] ? a[i] : b[i];
      } else {
        for (int64_t i = 0; i < n; ++i, po += s[0], pc += s[1], pa += s[2], pb += s[3])
          *reinterpret_cast<T*>(po) = *reinterpret_cast<const bool*>(pc) ? *reinterpret_cast<const T*>(pa)
                                                                        : *reinterpret_cast<const T*>(pb);
      }
    });
  });
}

}  // namespace dlcore::cpu::DLCORE_ISA
