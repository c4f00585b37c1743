// Fused optimizer steps (SGD with momentum / Nesterov, Adagrad, RMSprop,
// Adadelta, Adam / AdamW / AMSGrad) and the list kernels of gradient
// clipping (global p-norm, scaling, clamping), over a whole list of tensors
// per call. Shapes: a TensorList of contiguous tensors, each with its
// parameter, gradient and state operands (OptimizerStep, core/kernels.h).
// Algorithm: one parallel region per call. The in-place updates cut the
// list's elements, taken as one sequence, into one contiguous range per
// thread, so a thread walks whole tensors in long loops (cutting them into
// chunks of a few thousand elements cost 5-10% at one thread); within a
// range a single `omp simd` loop reads every operand once and writes the
// updated ones once. The norm sums fixed chunks of kChunk elements
// (split_list, core/multi_tensor.h), whatever the thread count.
// Numerics: the per-element math is pointwise::optimizer_update
// (core/pointwise.h, shared with CUDA), PyTorch's single-tensor formulas in
// its operation order, rounded in the tensors' dtype; NaN and inf flow
// through as in PyTorch. The norm sums in float64 per chunk, then over the
// chunks in order: the same result for any number of threads.
#include <algorithm>
#include <cmath>
#include <vector>
#include "core/multi_tensor.h"
#include "core/pointwise.h"
#include "cpu/rows.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

// Elements per chunk of the norm: the operand of a chunk stays within L2
// while it is summed. Fixed, so that the partial sums never depend on the
// thread count.
constexpr int64_t kChunk = 8192;

// Calls f(part) on the parts of the list's tensors that make up each
// thread's range of the list's elements taken as one sequence: whole tensors,
// and at most two partial ones per thread.
template <class F>
void for_ranges(const TensorList& list, size_t itemsize, const F& f) {
  int64_t total = 0;
  for (int64_t k = 0; k < list.count; ++k) total += list.tensors[k].numel;
  parallel_for(total, kRowGrain, [&](int64_t begin, int64_t end) {
    int64_t first = 0;  // the sequence index of tensor k's first element
    for (int64_t k = 0; k < list.count && first < end; first += list.tensors[k++].numel) {
      const ListTensor& t = list.tensors[k];
      const int64_t lo = std::max(begin, first) - first, hi = std::min(end, first + t.numel) - first;
      if (lo >= hi) continue;
      ListTensor part;
      part.numel = hi - lo;
      for (int j = 0; j < kMaxListOperands; ++j)
        part.data[j] = t.data[j] ? static_cast<char*>(t.data[j]) + lo * static_cast<int64_t>(itemsize) : nullptr;
      f(part);
    }
  });
}

template <class T, Optimizer kind, bool kFlag, bool kCentered>
void step_typed(const OptimizerStep& s) {
  for_ranges(s.list, sizeof(T), [&](const ListTensor& c) {
    const pointwise::OptimizerScalars<T> h(s);  // a local: its fields stay in registers through the loop
    T* __restrict p = static_cast<T*>(c.data[0]);
    const T* __restrict g = static_cast<const T*>(c.data[1]);
    T* __restrict s0 = static_cast<T*>(c.data[2]);
    T* __restrict s1 = static_cast<T*>(c.data[3]);
    T* __restrict s2 = static_cast<T*>(c.data[4]);
    const int64_t n = c.numel;
    // 256-bit vectors even where AVX-512 is there: a step streams three to
    // seven arrays at once, and on an AMD EPYC at one thread 512-bit loads
    // and stores moved them 5-15% slower (an A/B in one process, same memory).
#pragma omp simd simdlen(32 / sizeof(T))
    for (int64_t i = 0; i < n; ++i) pointwise::optimizer_update<kind, kFlag, kCentered>(h, i, p, g, s0, s1, s2);
  });
}

// sum |x|^p over one chunk in float64 (p = 1, 2 vectorized), or max |x| with NaN winning.
template <class T> double chunk_norm(const T* x, int64_t n, double p) {
  double acc = 0;
  if (p == HUGE_VAL) {
    int nan = 0;
#pragma omp simd reduction(max : acc) reduction(| : nan)
    for (int64_t i = 0; i < n; ++i) {
      const double a = std::fabs(static_cast<double>(x[i]));
      acc = a > acc ? a : acc;
      nan |= a != a;
    }
    return nan ? NAN : acc;
  }
  if (p == 2) {
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < n; ++i) acc += static_cast<double>(x[i]) * static_cast<double>(x[i]);
  } else if (p == 1) {
#pragma omp simd reduction(+ : acc)
    for (int64_t i = 0; i < n; ++i) acc += std::fabs(static_cast<double>(x[i]));
  } else {
    for (int64_t i = 0; i < n; ++i) acc += std::pow(std::fabs(static_cast<double>(x[i])), p);
  }
  return acc;
}

template <class T> void norm_typed(const TensorList& list, double p, T* out) {
  const std::vector<ListTensor> chunks = split_list(list, kChunk, sizeof(T));
  std::vector<double> partial(chunks.size());
  parallel_for(static_cast<int64_t>(chunks.size()), std::max<int64_t>(1, kRowGrain / kChunk),
               [&](int64_t begin, int64_t end) {
                 for (int64_t k = begin; k < end; ++k) {
                   const ListTensor& c = chunks[static_cast<size_t>(k)];
                   partial[static_cast<size_t>(k)] = chunk_norm(static_cast<const T*>(c.data[0]), c.numel, p);
                 }
               });
  double acc = 0;
  for (double v : partial)
    acc = p == HUGE_VAL ? pointwise::binary<BinaryOp::Maximum, double, pointwise::LibMath>(acc, v) : acc + v;
  *out = static_cast<T>(pointwise::norm_root(acc, p));
}

template <class T> void scale_typed(const TensorList& list, const ListScale& s) {
  T f = s.factor ? *static_cast<const T*>(s.factor) : static_cast<T>(s.value);
  if (s.clip_norm) f = pointwise::clip_coefficient(f, s.max_norm);
  for_ranges(list, sizeof(T), [&](const ListTensor& c) {
    T* x = static_cast<T*>(c.data[0]);
#pragma omp simd
    for (int64_t i = 0; i < c.numel; ++i) x[i] = x[i] * f;
  });
}

template <class T> void clamp_typed(const TensorList& list, T bound) {
  for_ranges(list, sizeof(T), [&](const ListTensor& c) {
    T* x = static_cast<T*>(c.data[0]);
#pragma omp simd
    for (int64_t i = 0; i < c.numel; ++i) x[i] = x[i] < -bound ? -bound : (x[i] > bound ? bound : x[i]);
  });
}

}  // namespace

void optimizer_step(DType dt, const OptimizerStep& s) {
  pointwise::dispatch_optimizer(s, [&](auto kind, auto flag, auto centered) {
    dispatch_floating(dt, [&](auto tag) {
      step_typed<decltype(tag), decltype(kind)::value, decltype(flag)::value, decltype(centered)::value>(s);
    });
  });
}

void list_norm(DType dt, const TensorList& list, double p, void* out) {
  dispatch_floating(dt, [&](auto tag) { norm_typed(list, p, static_cast<decltype(tag)*>(out)); });
}

void list_scale(DType dt, const TensorList& list, const ListScale& s) {
  dispatch_floating(dt, [&](auto tag) { scale_typed<decltype(tag)>(list, s); });
}

void list_clamp(DType dt, const TensorList& list, double bound) {
  dispatch_floating(dt, [&](auto tag) { clamp_typed(list, static_cast<decltype(tag)>(bound)); });
}

}  // namespace dlcore::cpu::DLCORE_ISA
