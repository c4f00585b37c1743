// Softmax, log-softmax (forward, backward) and the fused softmax +
// cross-entropy / NLL kernels on the device. Shapes as on the CPU
// (csrc/cpu/softmax.cpp): contiguous (rows, classes), labels (rows,) int64 or
// target probabilities (rows, classes), per-row loss (rows,) and stats (rows,
// 2: max and log-sum, float64). Algorithm: each row belongs to one warp (up to 1024 classes) or
// one block (wider rows, any width: the threads stride over the row); the
// max and the sum of exp(x - max) are warp-shuffle reductions (plus a
// shared-memory step across a block's warps), in a fixed order. The
// cross-entropy backward is elementwise: dlogits = g (exp((x - m) - ls) - q).
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
    double loss = 0;
    if (p.labels) {
      const int64_t y = p.labels[r];
      if (y != p.ignore_index) {
        loss = (1.0 - eps) * ((m - static_cast<double>(x[y])) + ls);
        if (eps != 0) {  // the same for the whole group: every thread reduces
          double sx = 0;
          for (int64_t j = g.rank(); j < C; j += g.size()) sx += static_cast<double>(x[j]);
          loss += eps * ((m - g.reduce(sx, SumOp(), 0.0) / static_cast<double>(C)) + ls);
        }
      }
    } else {
      const T* t = static_cast<const T*>(p.target) + r * C;
      for (int64_t j = g.rank(); j < C; j += g.size()) {
        const double q = (1.0 - eps) * static_cast<double>(t[j]) + uniform;
        loss += q == 0 ? 0.0 : q * ((m - static_cast<double>(x[j])) + ls);
      }
      loss = g.reduce(loss, SumOp(), 0.0);
    }
    if (g.rank() == 0) {
      static_cast<T*>(p.loss)[r] = static_cast<T>(loss);
      if (p.stats) {
        static_cast<double*>(p.stats)[2 * r] = m;
        static_cast<double*>(p.stats)[2 * r + 1] = ls;
      }
    }
  }
}

template <class T>
__global__ void cross_entropy_backward_kernel(CrossEntropyProblem p, int64_t n) {
  const int64_t C = p.classes;
  const T eps = static_cast<T>(p.smoothing), uniform = static_cast<T>(p.smoothing / static_cast<double>(C));
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    const int64_t r = i / C, c = i - r * C;
    const T g = static_cast<const T*>(p.grad)[p.grad_per_row ? r : 0];
    T q;
    if (p.labels) {
      const int64_t y = p.labels[r];
      if (y == p.ignore_index) {
        static_cast<T*>(p.dlogits)[i] = T(0);
        continue;
      }
      q = (c == y ? T(1) - eps : T(0)) + uniform;
    } else {
      q = (T(1) - eps) * static_cast<const T*>(p.target)[i] + uniform;
    }
    const double* stats = static_cast<const double*>(p.stats) + 2 * r;
    const T prob = p.log_probs ? T(0)
                               : DeviceMath::exp(static_cast<T>(
                                     (static_cast<double>(static_cast<const T*>(p.logits)[i]) - stats[0]) - stats[1]));
    static_cast<T*>(p.dlogits)[i] = g * (prob - q);
  }
}

// Launches kernel<T, true> (a warp per row) or kernel<T, false> (a block per row).
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
  if (p.rows == 0) return;
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    launch_rows(cross_entropy_kernel<T, true>, cross_entropy_kernel<T, false>, p, p.rows, p.classes);
  });
}

void cross_entropy_backward(DType dt, const CrossEntropyProblem& p) {
  const int64_t n = p.rows * p.classes;
  if (n == 0) return;
  dispatch_floating(dt, [&](auto tag) {
    auto kernel = cross_entropy_backward_kernel<decltype(tag)>;
    DL_LAUNCH(kernel, blocks_for(n), kThreads, 0, current_stream(), p, n);
    DL_CHECK_LAUNCH();
  });
}

}  // namespace dlcore::cuda
