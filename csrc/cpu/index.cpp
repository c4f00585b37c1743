// Row gather and scatter-add along one dim: index_select, and index_add (its
// backward). Shapes: IndexProblem (core/kernels.h), a contiguous tensor viewed
// as (outer, n, inner) and k int64 row numbers already checked to lie in
// [0, n). Algorithm: Select copies whole inner rows, the (outer, k) rows split
// over the threads. Add gives each thread whole columns -- (outer, block of
// inner) -- and walks j = 0..k-1 in order within them: no two threads touch
// one output element, so repeated indices need no atomics, and the sums are
// the same for any thread count. Numerics: Select is a copy; Add accumulates
// in the tensor's dtype in the order of j (np.add.at's order).
#include <algorithm>
#include "core/kernels.h"
#include "cpu/rows.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

constexpr int64_t kColumnBlock = 512;  // inner elements per Add work item: a few cache lines per row

template <class T> void select_rows(const IndexProblem& p) {
  const T* src = static_cast<const T*>(p.src);
  T* out = static_cast<T*>(p.out);
  for_rows(p.outer * p.k, p.inner, [&](int64_t r) {
    const int64_t o = r / p.k, j = r % p.k;
    const T* s = src + (o * p.n + p.index[j]) * p.inner;
    std::copy(s, s + p.inner, out + r * p.inner);
  });
}

template <class T> void add_rows(const IndexProblem& p) {
  const T* src = static_cast<const T*>(p.src);
  T* out = static_cast<T*>(p.out);
  const int64_t blocks = (p.inner + kColumnBlock - 1) / kColumnBlock;
  for_rows(p.outer * blocks, p.k * std::min(p.inner, kColumnBlock), [&](int64_t w) {
    const int64_t o = w / blocks, c0 = (w % blocks) * kColumnBlock, c1 = std::min(p.inner, c0 + kColumnBlock);
    for (int64_t j = 0; j < p.k; ++j) {
      T* d = out + (o * p.n + p.index[j]) * p.inner;
      const T* s = src + (o * p.k + j) * p.inner;
#pragma omp simd
      for (int64_t c = c0; c < c1; ++c) d[c] += s[c];
    }
  });
}

}  // namespace

void index(IndexPass pass, DType dt, const IndexProblem& p) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if (pass == IndexPass::Select) select_rows<T>(p);
    else if constexpr (!std::is_same_v<T, bool>) add_rows<T>(p);  // the op layer rejects bool sums
  });
}

}  // namespace dlcore::cpu::DLCORE_ISA
