// Loss kernels on the device, forward and backward (the list of
// csrc/cpu/loss.cpp). Shapes: elementwise losses, a StridedLoop over the
// loss's shape with device pointers (out, x, t[, pos_weight][, weight];
// backward dx, x, t, g[, pos_weight]); hinge, (rows, classes) scores, (rows,)
// labels and (classes,) weights; cosine, (rows, n) rows.
// Algorithm: elementwise, one thread per element in a grid-stride loop with
// the loss a template parameter; the row kernels give a row to a warp (up to
// kWarpRowMax entries) or a block and reduce with the fixed-order
// butterflies of common.cuh. Numerics as on the CPU: the formulas of
// core/pointwise.h on the device's full-precision math, float64 row sums.
#include "common.cuh"

namespace dlcore::cuda {

namespace {

// w l(x, t) into out (kWeighted: w from the last operand), or dl/dx * g into
// dx (kBackward); BCEWithLogitsPosWeight reads its parameter from the
// pos_weight operand after t (forward) or g (backward).
template <Loss loss, class T, bool kBackward, bool kWeighted>
__global__ void loss_kernel(StridedLoop loop, int64_t n, T a) {
  constexpr bool kPos = loss == Loss::BCEWithLogitsPosWeight;
  constexpr int kOps = 3 + kBackward + kPos + kWeighted;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(blockDim.x) * gridDim.x) {
    int64_t off[kOps];
    loop_offsets(loop, i, off);
    const T x = at<T>(loop.data[1], off[1]), t = at<T>(loop.data[2], off[2]);
    T param = a;
    if constexpr (kPos) param = at<T>(loop.data[3 + kBackward], off[3 + kBackward]);
    if constexpr (kBackward) {
      at<T>(loop.data[0], off[0]) = pointwise::loss_grad<loss, T, DeviceMath>(x, t, at<T>(loop.data[3], off[3]), param);
    } else {
      T v = pointwise::loss_value<loss, T, DeviceMath>(x, t, param);
      if constexpr (kWeighted) v *= at<T>(loop.data[kOps - 1], off[kOps - 1]);
      at<T>(loop.data[0], off[0]) = v;
    }
  }
}

template <bool kBackward>
void launch_loss(Loss kind, DType dt, const StridedLoop& loop, double a) {
  const int64_t n = loop.numel();
  if (n == 0) return;
  dispatch_loss(kind, dt, [&](auto op, auto tag) {
    using T = decltype(tag);
    constexpr Loss L = decltype(op)::value;
    const bool weighted = !kBackward && loop.nops > (L == Loss::BCEWithLogitsPosWeight ? 4 : 3);
    auto kernel = weighted ? loss_kernel<L, T, kBackward, !kBackward> : loss_kernel<L, T, kBackward, false>;
    DL_LAUNCH(kernel, blocks_for(n), kThreads, 0, current_stream(), loop, n, static_cast<T>(a));
    DL_CHECK_LAUNCH();
  });
}

// max(0, z)^power and its derivative, NaN kept.
template <class T> __device__ __forceinline__ T hinge(T z, int power) {
  const T h = pointwise::select_nan(z, z > T(0) ? z : T(0));
  return power == 2 ? h * h : h;
}
template <class T> __device__ __forceinline__ T hinge_grad(T z, int power) {
  return pointwise::select_nan(z, z > T(0) ? (power == 2 ? T(2) * z : T(1)) : T(0));
}

template <class T, bool kWarp>
__global__ void margin_kernel(MarginProblem p) {
  const RowGroup<kWarp> g;
  const int64_t C = p.classes;
  const T margin = static_cast<T>(p.margin);
  for (int64_t r = g.first_row(); r < p.rows; r += g.row_step()) {
    const T* x = static_cast<const T*>(p.x) + r * C;
    const int64_t y = p.labels[r];
    const T xy = x[y];
    double s = 0;
    for (int64_t j = g.rank(); j < C; j += g.size())
      if (j != y) s += static_cast<double>(hinge(margin - xy + x[j], p.power));
    s = g.reduce(s, SumOp(), 0.0);
    const double w = p.weight ? static_cast<double>(static_cast<const T*>(p.weight)[y]) : 1.0;
    if (g.rank() == 0) static_cast<T*>(p.loss)[r] = static_cast<T>(w * s / static_cast<double>(C));
  }
}

template <class T, bool kWarp>
__global__ void margin_backward_kernel(MarginProblem p) {
  const RowGroup<kWarp> g;
  const int64_t C = p.classes;
  const T margin = static_cast<T>(p.margin);
  for (int64_t r = g.first_row(); r < p.rows; r += g.row_step()) {
    const T* x = static_cast<const T*>(p.x) + r * C;
    T* dx = static_cast<T*>(p.dx) + r * C;
    const int64_t y = p.labels[r];
    const T w = p.weight ? static_cast<const T*>(p.weight)[y] : T(1);
    const T xy = x[y], gr = w * static_cast<const T*>(p.grad)[p.grad_per_row ? r : 0] / static_cast<T>(C);
    double s = 0;
    for (int64_t j = g.rank(); j < C; j += g.size()) {
      if (j == y) continue;  // one thread writes y's entry, after the reduction
      const T d = hinge_grad(margin - xy + x[j], p.power) * gr;
      dx[j] = d;
      s += static_cast<double>(d);
    }
    s = g.reduce(s, SumOp(), 0.0);
    if (g.rank() == 0) dx[y] = static_cast<T>(-s);
  }
}

// The group's a.b, a.a, b.b of one row, in float64.
template <bool kWarp, class T>
__device__ void group_dots(const RowGroup<kWarp>& g, const T* a, const T* b, int64_t n, double& ab, double& aa,
                           double& bb) {
  ab = aa = bb = 0;
  for (int64_t j = g.rank(); j < n; j += g.size()) {
    const double u = static_cast<double>(a[j]), v = static_cast<double>(b[j]);
    ab += u * v;
    aa += u * u;
    bb += v * v;
  }
  ab = g.reduce(ab, SumOp(), 0.0);
  aa = g.reduce(aa, SumOp(), 0.0);
  bb = g.reduce(bb, SumOp(), 0.0);
}

template <class T, bool kWarp>
__global__ void cosine_kernel(CosineProblem p) {
  const RowGroup<kWarp> g;
  for (int64_t r = g.first_row(); r < p.rows; r += g.row_step()) {
    double ab, aa, bb;
    group_dots(g, static_cast<const T*>(p.a) + r * p.n, static_cast<const T*>(p.b) + r * p.n, p.n, ab, aa, bb);
    if (g.rank() == 0)
      static_cast<T*>(p.out)[r] = static_cast<T>(
          ab / (::fmax(DeviceMath::sqrt(aa), p.eps) * ::fmax(DeviceMath::sqrt(bb), p.eps)));
  }
}

// d cos / d a = b / (da db) - cos a / |a|^2 where |a| > eps (see cpu/loss.cpp).
template <class T, bool kWarp>
__global__ void cosine_backward_kernel(CosineProblem p) {
  const RowGroup<kWarp> g;
  for (int64_t r = g.first_row(); r < p.rows; r += g.row_step()) {
    const T* a = static_cast<const T*>(p.a) + r * p.n;
    const T* b = static_cast<const T*>(p.b) + r * p.n;
    double ab, aa, bb;
    group_dots(g, a, b, p.n, ab, aa, bb);
    const double na = DeviceMath::sqrt(aa), nb = DeviceMath::sqrt(bb);
    const double den = ::fmax(na, p.eps) * ::fmax(nb, p.eps);
    const double gr = static_cast<double>(static_cast<const T*>(p.grad)[r]), cos = ab / den;
    const double cross = gr / den;
    const double self_a = na > p.eps ? gr * cos / aa : 0.0;
    const double self_b = nb > p.eps ? gr * cos / bb : 0.0;
    T* da = static_cast<T*>(p.da) + r * p.n;
    T* db = static_cast<T*>(p.db) + r * p.n;
    for (int64_t j = g.rank(); j < p.n; j += g.size()) {
      da[j] = static_cast<T>(cross * static_cast<double>(b[j]) - self_a * static_cast<double>(a[j]));
      db[j] = static_cast<T>(cross * static_cast<double>(a[j]) - self_b * static_cast<double>(b[j]));
    }
  }
}

}  // namespace

void loss(Loss kind, DType dt, const StridedLoop& loop, double a) { launch_loss<false>(kind, dt, loop, a); }

void loss_backward(Loss kind, DType dt, const StridedLoop& loop, double a) { launch_loss<true>(kind, dt, loop, a); }

void multi_margin(DType dt, const MarginProblem& p) {
  if (p.rows == 0) return;
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    launch_rows(margin_kernel<T, true>, margin_kernel<T, false>, p, p.rows, p.classes);
  });
}

void multi_margin_backward(DType dt, const MarginProblem& p) {
  if (p.rows == 0) return;
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    launch_rows(margin_backward_kernel<T, true>, margin_backward_kernel<T, false>, p, p.rows, p.classes);
  });
}

void cosine_similarity(DType dt, const CosineProblem& p) {
  if (p.rows == 0) return;
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    launch_rows(cosine_kernel<T, true>, cosine_kernel<T, false>, p, p.rows, p.n);
  });
}

void cosine_similarity_backward(DType dt, const CosineProblem& p) {
  if (p.rows == 0) return;
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    launch_rows(cosine_backward_kernel<T, true>, cosine_backward_kernel<T, false>, p, p.rows, p.n);
  });
}

}  // namespace dlcore::cuda
