// The inner rows of the CPU's elementwise and row kernels: a StridedLoop
// (core/loop.h) or a (rows, width) matrix split over the OpenMP threads, and per row a plain `omp simd`
// loop when every operand is contiguous or a broadcast scalar (stride 0), a
// strided scalar loop otherwise. Compiled per ISA with the kernel files that
// include it, so the same loops become SSE2, AVX2 or AVX-512 code.
#pragma once
#include <algorithm>
#include <cstdint>
#include "core/loop.h"
#include "core/parallel.h"

namespace dlcore::cpu::DLCORE_ISA {

constexpr int64_t kRowGrain = 32768;  // elements per thread worth a parallel region

template <class RowFn>
inline void run(const StridedLoop& loop, const RowFn& row) {
  parallel_for(loop.numel(), kRowGrain, [&](int64_t begin, int64_t end) { loop.for_each_row(begin, end, row); });
}

// f(r) for each row r of a (rows, width) problem, rows split over the threads.
template <class F>
inline void for_rows(int64_t rows, int64_t width, const F& f) {
  parallel_for(rows, std::max<int64_t>(1, kRowGrain / std::max<int64_t>(width, 1)), [&](int64_t b, int64_t e) {
    for (int64_t r = b; r < e; ++r) f(r);
  });
}

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

// One row of `out[i] = f(a[i], b[i], c[i])`, all of one type T; c may be a
// broadcast scalar in the fast path (a per-channel parameter along a row).
template <class T, class F>
inline void ternary_row(char* const* p, const int64_t* s, int64_t n, const F& f) {
  T* o = reinterpret_cast<T*>(p[0]);
  const T* a = reinterpret_cast<const T*>(p[1]);
  const T* b = reinterpret_cast<const T*>(p[2]);
  const T* c = reinterpret_cast<const T*>(p[3]);
  const int64_t st = sizeof(T);
  if (s[0] == st && s[1] == st && s[2] == st && s[3] == st) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i], c[i]);
  } else if (s[0] == st && s[1] == st && s[2] == st && s[3] == 0) {
    const T cv = *c;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i], cv);
  } else {
    char* po = p[0]; const char* pa = p[1]; const char* pb = p[2]; const char* pc = p[3];
    for (int64_t i = 0; i < n; ++i, po += s[0], pa += s[1], pb += s[2], pc += s[3])
      *reinterpret_cast<T*>(po) = f(*reinterpret_cast<const T*>(pa), *reinterpret_cast<const T*>(pb),
                                    *reinterpret_cast<const T*>(pc));
  }
}

// One row of `out[i] = f(a[i], b[i], c[i], d[i])`, all of one type T; c and
// d may be broadcast scalars in the fast path.
template <class T, class F>
inline void quaternary_row(char* const* p, const int64_t* s, int64_t n, const F& f) {
  T* o = reinterpret_cast<T*>(p[0]);
  const T* a = reinterpret_cast<const T*>(p[1]);
  const T* b = reinterpret_cast<const T*>(p[2]);
  const T* c = reinterpret_cast<const T*>(p[3]);
  const T* d = reinterpret_cast<const T*>(p[4]);
  const int64_t st = sizeof(T);
  if (s[0] == st && s[1] == st && s[2] == st && s[3] == st && s[4] == st) {
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i], c[i], d[i]);
  } else if (s[0] == st && s[1] == st && s[2] == st && s[3] == 0 && s[4] == 0) {
    const T cv = *c, dv = *d;
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i], cv, dv);
  } else {
    char* po = p[0]; const char* pa = p[1]; const char* pb = p[2]; const char* pc = p[3]; const char* pd = p[4];
    for (int64_t i = 0; i < n; ++i, po += s[0], pa += s[1], pb += s[2], pc += s[3], pd += s[4])
      *reinterpret_cast<T*>(po) = f(*reinterpret_cast<const T*>(pa), *reinterpret_cast<const T*>(pb),
                                    *reinterpret_cast<const T*>(pc), *reinterpret_cast<const T*>(pd));
  }
}

}  // namespace dlcore::cpu::DLCORE_ISA
