// Softmax, log-softmax (forward, backward) and the fused softmax +
// cross-entropy / NLL kernels on the device. Shapes as on the CPU
// (csrc/cpu/softmax.cpp): contiguous (rows, classes), labels (rows,) int64 or
// target probabilities (rows, classes), class weights (classes,), per-row
// loss (rows,) or one reduced value, stats (rows, 3: max, log-sum and target
// mass, float64). Algorithm: each row belongs to one warp (up to 1024
// classes) or one block (wider rows, any width: the threads stride over the
// row); the max and the sum of exp(x - max) are warp-shuffle reductions
// (plus a shared-memory step across a block's warps), in a fixed order. The
// row kernel also checks each label's range (an atomic min on *bad_row). A
// reduced loss adds one single-block launch summing the rows' (loss,
// weight) pairs in a fixed order. The cross-entropy backward is elementwise:
// dlogits = g (S exp((x - m) - ls) - w q), after a single-block pass for a
// mean's summed label weights.
// Numerics: max-subtracted; sums in float64, lse - x as (m - x) + ls; the
// device's full-precision exp/log.
#include "common.cuh"

namespace dlcore::cuda {

namespace {

template <class T> __device__ __forceinline__ T neg_inf() { return -std::numeric_limits<T>::infinity(); }

template <bool kWarp, class T>
__device__ T group_max(const RowGroup<kWarp>& g, const T* x, int64_t n) {
  T m = neg_inf<T>();
  for (int64_t j = g.rank(); j < n; j += g.size()) m = MaxOp()(m, x[j]);
  return g.reduce(m, MaxOp(), neg_inf<T>());
}

template <bool kWarp, class T>
__device__ double group_sum_exp(const RowGroup<kWarp>& g, const T* x, int64_t n, T m) {
  double s = 0;
  for (int64_t j = g.rank(); j < n; j += g.size()) s += static_cast<double>(DeviceMath::exp(x[j] - m));
  return g.reduce(s, SumOp(), 0.0);
}

template <class T, bool kWarp>
__global__ void softmax_kernel(SoftmaxProblem p) {
  const RowGroup<kWarp> g;
  const int64_t C = p.classes;
  for (int64_t r = g.first_row(); r < p.rows; r += g.row_step()) {
    const T* x = static_cast<const T*>(p.x) + r * C;
    T* y = static_cast<T*>(p.out) + r * C;
    const T m = group_max(g, x, C);
    const double s = group_sum_exp(g, x, C, m);
    if (p.log) {
      const T ls = static_cast<T>(DeviceMath::log(s));
      for (int64_t j = g.rank(); j < C; j += g.size()) y[j] = (x[j] - m) - ls;
    } else {
      const T inv = static_cast<T>(1.0 / s);
      for (int64_t j = g.rank(); j < C; j += g.size()) y[j] = DeviceMath::exp(x[j] - m) * inv;
    }
  }
}

template <class T, bool kWarp>
__global__ void softmax_backward_kernel(SoftmaxProblem p) {
  const RowGroup<kWarp> g;
  const int64_t C = p.classes;
  for (int64_t r = g.first_row(); r < p.rows; r += g.row_step()) {
    const T* y = static_cast<const T*>(p.x) + r * C;
    const T* dy = static_cast<const T*>(p.dy) + r * C;
    T* dx = static_cast<T*>(p.out) + r * C;
    double d = 0;
    for (int64_t j = g.rank(); j < C; j += g.size())
      d += static_cast<double>(dy[j]) * (p.log ? 1.0 : static_cast<double>(y[j]));
    const T s = static_cast<T>(g.reduce(d, SumOp(), 0.0));
    for (int64_t j = g.rank(); j < C; j += g.size())
      dx[j] = p.log ? dy[j] - DeviceMath::exp(y[j]) * s : y[j] * (dy[j] - s);
  }
}

// Whether row r counts (as in cpu/softmax.cpp): a label out of range goes
// to *bad_row, the smallest such row winning, and counts as ignored.
__device__ __forceinline__ bool row_counts(const CrossEntropyProblem& p, int64_t r) {
  if (!p.labels) return true;
  const int64_t y = p.labels[r];
  if (y == p.ignore_index) return false;
  if (y >= 0 && y < p.classes) return true;
  atomicMin(reinterpret_cast<long long*>(p.bad_row), static_cast<long long>(r));
  return false;
}

// A counted row's weight in a mean: its label's class weight, else 1.
template <class T> __device__ __forceinline__ double row_weight(const CrossEntropyProblem& p, int64_t r) {
  return p.labels && p.weight ? static_cast<double>(static_cast<const T*>(p.weight)[p.labels[r]]) : 1.0;
}

template <class T> __device__ __forceinline__ double class_weight(const CrossEntropyProblem& p, int64_t c) {
  return p.weight ? static_cast<double>(static_cast<const T*>(p.weight)[c]) : 1.0;
}

template <class T, bool kWarp>
__global__ void cross_entropy_kernel(CrossEntropyProblem p) {
  const RowGroup<kWarp> g;
  const int64_t C = p.classes;
  const double eps = p.smoothing, uniform = eps / static_cast<double>(C);
  for (int64_t r = g.first_row(); r < p.rows; r += g.row_step()) {
    const T* x = static_cast<const T*>(p.logits) + r * C;
    double m = 0, ls = 0;  // lse - x_i is formed as (m - x_i) + ls: a huge m never swallows ls
    if (!p.log_probs) {
      const T mt = group_max(g, x, C);
      m = static_cast<double>(mt);
      ls = DeviceMath::log(group_sum_exp(g, x, C, mt));
    }
    const bool counts = row_counts(p, r);
    const double weight = counts ? row_weight<T>(p, r) : 0.0;
    double loss = 0, mass = 0;
    if (p.labels) {
      if (counts) {
        const int64_t y = p.labels[r];
        loss = (1.0 - eps) * weight * ((m - static_cast<double>(x[y])) + ls);
        mass = (1.0 - eps) * weight;
        if (eps != 0) {  // the same for the whole group: every thread reduces
          double gap = 0, wsum = 0;
          for (int64_t j = g.rank(); j < C; j += g.size()) {
            const double wj = class_weight<T>(p, j);
            gap += wj * (m - static_cast<double>(x[j]));
            wsum += wj;
          }
          gap = g.reduce(gap, SumOp(), 0.0);
          wsum = g.reduce(wsum, SumOp(), 0.0);
          loss += uniform * (gap + wsum * ls);
          mass += uniform * wsum;
        }
      }
    } else {
      const T* t = static_cast<const T*>(p.target) + r * C;
      for (int64_t j = g.rank(); j < C; j += g.size()) {
        const double q = ((1.0 - eps) * static_cast<double>(t[j]) + uniform) * class_weight<T>(p, j);
        loss += q == 0 ? 0.0 : q * ((m - static_cast<double>(x[j])) + ls);
        mass += q;
      }
      loss = g.reduce(loss, SumOp(), 0.0);
      mass = g.reduce(mass, SumOp(), 0.0);
    }
    if (g.rank() == 0) {
      if (p.reduce) {
        p.scratch[2 * r] = loss;
        p.scratch[2 * r + 1] = weight;
      } else {
        static_cast<T*>(p.loss)[r] = static_cast<T>(loss);
      }
      if (p.stats) {
        double* st = static_cast<double*>(p.stats) + 3 * r;
        st[0] = m;
        st[1] = ls;
        st[2] = mass;
      }
    }
  }
}

// One block: the reduced loss from the rows' (loss, weight) pairs in
// scratch, summed in a fixed order.
template <class T>
__global__ void cross_entropy_reduce_kernel(CrossEntropyProblem p) {
  const RowGroup<false> g;
  double loss = 0, weight = 0;
  for (int64_t r = g.rank(); r < p.rows; r += g.size()) {
    loss += p.scratch[2 * r];
    weight += p.scratch[2 * r + 1];
  }
  loss = g.reduce(loss, SumOp(), 0.0);
  weight = g.reduce(weight, SumOp(), 0.0);
  if (g.rank() == 0) *static_cast<T*>(p.loss) = static_cast<T>(p.mean ? loss / weight : loss);
}

// One block: a mean's divisor, the counted labels' summed weights, into scratch[0].
template <class T>
__global__ void cross_entropy_weights_kernel(CrossEntropyProblem p) {
  const RowGroup<false> g;
  double weight = 0;
  for (int64_t r = g.rank(); r < p.rows; r += g.size()) weight += row_counts(p, r) ? row_weight<T>(p, r) : 0.0;
  weight = g.reduce(weight, SumOp(), 0.0);
  if (g.rank() == 0) p.scratch[0] = weight;
}

template <class T>
__global__ void cross_entropy_backward_kernel(CrossEntropyProblem p, int64_t n) {
  const int64_t C = p.classes;
  const T eps = static_cast<T>(p.smoothing), uniform = static_cast<T>(p.smoothing / static_cast<double>(C));
  const double denom = !p.mean ? 1.0 : (p.labels ? p.scratch[0] : static_cast<double>(p.rows));
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    const int64_t r = i / C, c = i - r * C;
    if (!row_counts(p, r)) {
      static_cast<T*>(p.dlogits)[i] = T(0);
      continue;
    }
    const T g = static_cast<T>(static_cast<double>(static_cast<const T*>(p.grad)[p.grad_per_row ? r : 0]) / denom);
    const T q = p.labels ? (c == p.labels[r] ? T(1) - eps : T(0)) + uniform
                         : (T(1) - eps) * static_cast<const T*>(p.target)[i] + uniform;
    const T wq = q * static_cast<T>(class_weight<T>(p, c));
    if (p.log_probs) {
      static_cast<T*>(p.dlogits)[i] = -g * wq;
      continue;
    }
    const double* st = static_cast<const double*>(p.stats) + 3 * r;
    const T prob = DeviceMath::exp(
        static_cast<T>((static_cast<double>(static_cast<const T*>(p.logits)[i]) - st[0]) - st[1]));
    static_cast<T*>(p.dlogits)[i] = g * (static_cast<T>(st[2]) * prob - wq);
  }
}

}  // namespace

void softmax(DType dt, const SoftmaxProblem& p) {
  if (p.rows == 0 || p.classes == 0) return;
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    launch_rows(softmax_kernel<T, true>, softmax_kernel<T, false>, p, p.rows, p.classes);
  });
}

void softmax_backward(DType dt, const SoftmaxProblem& p) {
  if (p.rows == 0 || p.classes == 0) return;
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    launch_rows(softmax_backward_kernel<T, true>, softmax_backward_kernel<T, false>, p, p.rows, p.classes);
  });
}

void cross_entropy(DType dt, const CrossEntropyProblem& p) {
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    if (p.rows > 0) launch_rows(cross_entropy_kernel<T, true>, cross_entropy_kernel<T, false>, p, p.rows, p.classes);
    if (p.reduce) {
      DL_LAUNCH(cross_entropy_reduce_kernel<T>, 1, kThreads, 0, current_stream(), p);
      DL_CHECK_LAUNCH();
    }
  });
}

void cross_entropy_backward(DType dt, const CrossEntropyProblem& p) {
  const int64_t n = p.rows * p.classes;
  if (n == 0) return;
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    if (p.mean && p.labels) {
      DL_LAUNCH(cross_entropy_weights_kernel<T>, 1, kThreads, 0, current_stream(), p);
      DL_CHECK_LAUNCH();
    }
    auto kernel = cross_entropy_backward_kernel<T>;
    DL_LAUNCH(kernel, blocks_for(n), kThreads, 0, current_stream(), p, n);
    DL_CHECK_LAUNCH();
  });
}

}  // namespace dlcore::cuda
