// Reductions: sum, max, min, argmax, argmin over any set of axes.
//
// Shapes: a ReduceProblem (kernels.h) -- a contiguous input whose dims the op
// layer merged into kept and reduced groups; a contiguous output over the
// kept groups. Two patterns cover every case:
//   A. the innermost group is reduced: each output is a SIMD reduction over
//      contiguous runs. When there are fewer outputs than threads (a full
//      reduction), each run is split into chunks whose partial results are
//      merged in order afterwards, so the result does not depend on timing.
//   B. the innermost group is kept: a block of up to 512 neighbouring outputs
//      is accumulated across all reduced positions with SIMD along the block.
// Numerics: float32 sums accumulate in float64 and are rounded once at the
// end; max/min propagate NaN; argmax/argmin return the first index of the
// extreme value, or of the first NaN (NumPy's rule).
#include <algorithm>
#include <limits>
#include <vector>
#include "core/parallel.h"
#include "core/kernels.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

constexpr int64_t kGrain = 32768;
constexpr int64_t kBlock = 512;

// Identity of max (lowest) and min (highest): -inf/+inf for floats so that an
// all-(-inf) input still finds its element.
template <class T> constexpr T lowest() {
  if constexpr (std::numeric_limits<T>::has_infinity) return -std::numeric_limits<T>::infinity();
  else return std::numeric_limits<T>::lowest();
}
template <class T> constexpr T highest() {
  if constexpr (std::numeric_limits<T>::has_infinity) return std::numeric_limits<T>::infinity();
  else return std::numeric_limits<T>::max();
}
template <class T> inline bool is_nan(T x) { if constexpr (std::is_floating_point_v<T>) return x != x; else return false; }

// Offset (in elements) of the index `i` decomposed row-major over `size`.
inline int64_t group_offset(int64_t i, int n, const int64_t* size, const int64_t* stride) {
  int64_t off = 0;
  for (int d = n - 1; d >= 0; --d) { off += (i % size[d]) * stride[d]; i /= size[d]; }
  return off;
}
inline int64_t product(int n, const int64_t* size) {
  int64_t p = 1;
  for (int d = 0; d < n; ++d) p *= size[d];
  return p;
}

template <class T> struct SumAcc {
  // Integers accumulate in uint64: the int64 result wraps on overflow (NumPy)
  // without the undefined behaviour of signed overflow.
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;
  using Out = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
  Acc sum = 0;
  void run(const T* x, int64_t n, int64_t) {
    Acc s = 0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < n; ++i) s += static_cast<Acc>(x[i]);
    sum += s;
  }
  void merge(const SumAcc& o) { sum += o.sum; }
  void store(void* out, int64_t o) const { static_cast<Out*>(out)[o] = static_cast<Out>(sum); }
};

// Max (is_max) or min that propagates NaN.
template <class T, bool is_max> struct ExtremeAcc {
  T best = is_max ? lowest<T>() : highest<T>();
  bool nan = false;
  // SIMD extreme of a run, and whether it held a NaN.
  static void scan(const T* x, int64_t n, T& m, bool& has_nan) {
    T v = m;
    int h = 0;  // an int, not a bool: GCC 12 does not vectorize an | reduction of bools
    if constexpr (is_max) {
#pragma omp simd reduction(max : v) reduction(| : h)
      for (int64_t i = 0; i < n; ++i) { v = x[i] > v ? x[i] : v; h |= int(is_nan(x[i])); }
    } else {
#pragma omp simd reduction(min : v) reduction(| : h)
      for (int64_t i = 0; i < n; ++i) { v = x[i] < v ? x[i] : v; h |= int(is_nan(x[i])); }
    }
    m = v;
    has_nan = h != 0;
  }
  void run(const T* x, int64_t n, int64_t) { bool h; scan(x, n, best, h); nan |= h; }
  void merge(const ExtremeAcc& o) { best = is_max ? std::max(best, o.best) : std::min(best, o.best); nan |= o.nan; }
  void store(void* out, int64_t o) const {
    T r = best;
    if constexpr (std::is_floating_point_v<T>) if (nan) r = std::numeric_limits<T>::quiet_NaN();
    static_cast<T*>(out)[o] = r;
  }
};

// First index of the max (or min), or of the first NaN.
template <class T, bool is_max> struct ArgAcc {
  T best = is_max ? lowest<T>() : highest<T>();
  int64_t index = -1;
  bool nan = false;
  bool better(T x) const { return index < 0 || (is_max ? x > best : x < best); }
  void run(const T* x, int64_t n, int64_t base) {
    if (nan || n == 0) return;
    T m = is_max ? lowest<T>() : highest<T>();
    bool h;
    ExtremeAcc<T, is_max>::scan(x, n, m, h);
    if (h) {
      for (int64_t i = 0; i < n; ++i) if (is_nan(x[i])) { best = x[i]; index = base + i; nan = true; return; }
    }
    if (better(m)) {
      for (int64_t i = 0; i < n; ++i) if (x[i] == m) { best = m; index = base + i; return; }
    }
  }
  void merge(const ArgAcc& o) {  // o covers later indices
    if (nan || o.index < 0) return;
    if (o.nan || better(o.best)) *this = o;
  }
  void store(void* out, int64_t o) const { static_cast<int64_t*>(out)[o] = index; }
};

// Pattern A: every output reduces contiguous runs of length L.
template <class Acc, class T>
void reduce_inner(const ReduceProblem& p) {
  const T* in = static_cast<const T*>(p.in);
  const int64_t outputs = product(p.nk, p.ksize);
  const int64_t L = p.rsize[p.nr - 1];
  const int64_t outer = product(p.nr - 1, p.rsize);
  const int threads = num_threads();
  // Split runs into chunks only when there are too few outputs to share out.
  const int64_t chunks = (outputs < threads && L >= 2 * kGrain) ? std::min<int64_t>(threads, L / kGrain) : 1;
  std::vector<Acc> partial(static_cast<size_t>(outputs * chunks));
  parallel_for(outputs * chunks, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, L * outer / chunks)),
               [&](int64_t begin, int64_t end) {
    for (int64_t w = begin; w < end; ++w) {
      const int64_t o = w / chunks, c = w % chunks;
      const int64_t lo = L * c / chunks, hi = L * (c + 1) / chunks;
      const int64_t kbase = group_offset(o, p.nk, p.ksize, p.kstride);
      Acc acc;
      for (int64_t r = 0; r < outer; ++r) {
        const int64_t off = kbase + group_offset(r, p.nr - 1, p.rsize, p.rstride);
        acc.run(in + off + lo, hi - lo, r * L + lo);
      }
      partial[static_cast<size_t>(w)] = acc;
    }
  });
  for (int64_t o = 0; o < outputs; ++o) {
    Acc acc = partial[static_cast<size_t>(o * chunks)];
    for (int64_t c = 1; c < chunks; ++c) acc.merge(partial[static_cast<size_t>(o * chunks + c)]);
    acc.store(p.out, o);
  }
}

// Pattern B: blocks of contiguous outputs accumulate across reduced positions.
template <ReduceOp op, class T>
void reduce_outer(const ReduceProblem& p) {
  const T* in = static_cast<const T*>(p.in);
  const int64_t Lk = p.ksize[p.nk - 1];
  const int64_t rows = product(p.nk - 1, p.ksize);
  const int64_t R = product(p.nr, p.rsize);
  const int64_t blocks = (Lk + kBlock - 1) / kBlock;
  parallel_for(rows * blocks, std::max<int64_t>(1, kGrain / std::max<int64_t>(1, R * kBlock)),
               [&](int64_t begin, int64_t end) {
    for (int64_t w = begin; w < end; ++w) {
      const int64_t row = w / blocks, j0 = (w % blocks) * kBlock, n = std::min(kBlock, Lk - j0);
      const T* base = in + group_offset(row, p.nk - 1, p.ksize, p.kstride) + j0;
      if constexpr (op == ReduceOp::Sum) {
        using A = typename SumAcc<T>::Acc;
        using Out = typename SumAcc<T>::Out;
        A acc[kBlock];
        for (int64_t j = 0; j < n; ++j) acc[j] = 0;
        for (int64_t r = 0; r < R; ++r) {
          const T* x = base + group_offset(r, p.nr, p.rsize, p.rstride);
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) acc[j] += static_cast<A>(x[j]);
        }
        Out* out = static_cast<Out*>(p.out) + row * Lk + j0;
        for (int64_t j = 0; j < n; ++j) out[j] = static_cast<Out>(acc[j]);  // uint64 -> int64: wraps
      } else if constexpr (op == ReduceOp::Max || op == ReduceOp::Min) {
        T* out = static_cast<T*>(p.out) + row * Lk + j0;
        for (int64_t j = 0; j < n; ++j) out[j] = base[j];
        for (int64_t r = 1; r < R; ++r) {
          const T* x = base + group_offset(r, p.nr, p.rsize, p.rstride);
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) {
            const bool take = op == ReduceOp::Max ? x[j] > out[j] : x[j] < out[j];
            out[j] = (take || is_nan(x[j])) && !is_nan(out[j]) ? x[j] : out[j];
          }
        }
      } else {
        T best[kBlock];
        int64_t* out = static_cast<int64_t*>(p.out) + row * Lk + j0;
        for (int64_t j = 0; j < n; ++j) { best[j] = base[j]; out[j] = 0; }
        for (int64_t r = 1; r < R; ++r) {
          const T* x = base + group_offset(r, p.nr, p.rsize, p.rstride);
#pragma omp simd
          for (int64_t j = 0; j < n; ++j) {
            const bool take = (op == ReduceOp::ArgMax ? x[j] > best[j] : x[j] < best[j]) || is_nan(x[j]);
            const bool keep = is_nan(best[j]) || !take;
            best[j] = keep ? best[j] : x[j];
            out[j] = keep ? out[j] : r;
          }
        }
      }
    }
  });
}

template <ReduceOp op, class T>
void reduce_typed(const ReduceProblem& p) {
  if (!p.inner_reduced) return reduce_outer<op, T>(p);
  if constexpr (op == ReduceOp::Sum) reduce_inner<SumAcc<T>, T>(p);
  else if constexpr (op == ReduceOp::Max) reduce_inner<ExtremeAcc<T, true>, T>(p);
  else if constexpr (op == ReduceOp::Min) reduce_inner<ExtremeAcc<T, false>, T>(p);
  else if constexpr (op == ReduceOp::ArgMax) reduce_inner<ArgAcc<T, true>, T>(p);
  else reduce_inner<ArgAcc<T, false>, T>(p);
}

}  // namespace

void reduce(ReduceOp op, DType dt, const ReduceProblem& p) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    switch (op) {
      case ReduceOp::Sum: return reduce_typed<ReduceOp::Sum, T>(p);
      case ReduceOp::Max: return reduce_typed<ReduceOp::Max, T>(p);
      case ReduceOp::Min: return reduce_typed<ReduceOp::Min, T>(p);
      case ReduceOp::ArgMax: return reduce_typed<ReduceOp::ArgMax, T>(p);
      case ReduceOp::ArgMin: return reduce_typed<ReduceOp::ArgMin, T>(p);
    }
  });
}

}  // namespace dlcore::cpu::DLCORE_ISA
