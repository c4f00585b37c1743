// GEMM on the CPU: C = A @ B over a batch of matrices (GemmProblem in
// core/kernels.h: any row/column strides, broadcast batch dims).
//
// v1 naive: the textbook triple loop, one dot product of a row of A and a
// column of B per element of C, accumulated in the element type (float64 for
// float64). It is the test oracle and the first chapter of the story; the
// packed, register-blocked versions build on it. Threads split the rows of
// all matrices of the batch. Integers wrap on overflow (core/pointwise.h).
#include <algorithm>
#include <array>
#include <vector>
#include "core/parallel.h"
#include "core/pointwise.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

template <class T>
void gemm_v1_naive(const GemmProblem& p) {
  const int64_t batches = p.batch.numel();
  const int64_t rows = batches * p.M;
  // Pointers to the first element of each batch's A, B and C.
  std::vector<std::array<char*, 3>> base(static_cast<size_t>(batches));
  int64_t idx = 0;
  p.batch.for_each_row(0, batches, [&](char* const* ptr, const int64_t* s, int64_t n) {
    for (int64_t t = 0; t < n; ++t, ++idx)
      base[static_cast<size_t>(idx)] = {ptr[0] + t * s[0], ptr[1] + t * s[1], ptr[2] + t * s[2]};
  });
  parallel_for(rows, std::max<int64_t>(1, 4096 / std::max<int64_t>(1, p.N * p.K)), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const auto& b = base[static_cast<size_t>(r / p.M)];
      const int64_t i = r % p.M;
      T* c = reinterpret_cast<T*>(b[0]);
      const T* a = reinterpret_cast<const T*>(b[1]);
      const T* bm = reinterpret_cast<const T*>(b[2]);
      for (int64_t j = 0; j < p.N; ++j) {
        T acc = 0;
        for (int64_t k = 0; k < p.K; ++k)
          acc = pointwise::add(acc, pointwise::mul(a[i * p.a_rs + k * p.a_cs], bm[k * p.b_rs + j * p.b_cs]));
        c[i * p.c_rs + j * p.c_cs] = acc;
      }
    }
  });
}

}  // namespace

void gemm(DType dt, const GemmProblem& p) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) gemm_v1_naive<T>(p);
  });
}

}  // namespace dlcore::cpu::DLCORE_ISA
