// The machine's FP32 FMA peak, measured: each thread runs 12 independent
// chains of vector fused multiply-adds (enough to cover the FMA latency of
// two pipes) for `iters` iterations. The benchmarks report GEMM throughput as
// a fraction of it. Vector width and FMA come from this translation unit's
// ISA (the compiler contracts a * b + c into one FMA under -mfma).
#include "core/parallel.h"
#include "core/kernels.h"

namespace dlcore::cpu::DLCORE_ISA {

#if defined(__AVX512F__)
typedef float vfloat __attribute__((vector_size(64)));
#elif defined(__AVX2__)
typedef float vfloat __attribute__((vector_size(32)));
#else
typedef float vfloat __attribute__((vector_size(16)));
#endif

double fma_probe(int64_t iters) {
  constexpr int kChains = 12, kLanes = sizeof(vfloat) / sizeof(float);
  const int threads = num_threads();
  volatile float sink = 0;
  parallel_for(threads, 1, [&](int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; ++t) {
      vfloat acc[kChains];
      const vfloat m = vfloat{} + 0.999999f, c = vfloat{} + 1e-7f;
      for (int i = 0; i < kChains; ++i) acc[i] = vfloat{} + float(i);
      for (int64_t it = 0; it < iters; ++it)
#pragma GCC unroll 12
        for (int i = 0; i < kChains; ++i) acc[i] = acc[i] * m + c;
      float s = 0;
      for (int i = 0; i < kChains; ++i) s += acc[i][0];
      sink = sink + s;  // keeps the loop alive
    }
  });
  return 2.0 * kChains * kLanes * static_cast<double>(iters) * threads;
}

}  // namespace dlcore::cpu::DLCORE_ISA
