// Fused optimizer steps and the list kernels of gradient clipping on the
// device, over a whole list of tensors per launch. Shapes: a TensorList of
// contiguous tensors with their parameter, gradient and state operands
// (OptimizerStep, core/kernels.h). Algorithm: multi-tensor apply -- the
// list is cut into chunks of kChunk elements (split_list,
// core/multi_tensor.h), the chunk table (pointers advanced to each chunk,
// sizes) goes to the device in one small buffer, and ONE launch gives each
// block a chunk, its threads striding through it with coalesced accesses.
// The norm is two launches: per-chunk float64 partials (a fixed-order block
// reduction), then one block that sums them in a fixed order, so the result
// never depends on scheduling.
// Numerics: pointwise::optimizer_update (core/pointwise.h), the CPU's own
// per-element math -- PyTorch's single-tensor formulas in its order.
#include "common.cuh"
#include "core/multi_tensor.h"

namespace dlcore::cuda {

namespace {

// Elements per block: 32 per thread, enough blocks to fill the device for
// a model of a few million parameters.
constexpr int64_t kChunk = 32 * kThreads;

// The list's chunks in device memory, and how many.
struct Chunks {
  std::vector<ListTensor> host;
  DeviceBuffer device;
  Chunks(const TensorList& list, size_t itemsize)
      : host(split_list(list, kChunk, itemsize)), device(host.size() * sizeof(ListTensor), host.data()) {}
  int blocks() const { return static_cast<int>(host.size()); }
  const ListTensor* table() const { return device.as<const ListTensor>(); }
};

template <class T, Optimizer kind, bool kFlag, bool kCentered>
__global__ void step_kernel(const ListTensor* chunks, pointwise::OptimizerScalars<T> h) {
  const ListTensor c = chunks[blockIdx.x];
  T* p = static_cast<T*>(c.data[0]);
  const T* g = static_cast<const T*>(c.data[1]);
  T* s0 = static_cast<T*>(c.data[2]);
  T* s1 = static_cast<T*>(c.data[3]);
  T* s2 = static_cast<T*>(c.data[4]);
  for (int64_t i = threadIdx.x; i < c.numel; i += blockDim.x)
    pointwise::optimizer_update<kind, kFlag, kCentered>(h, i, p, g, s0, s1, s2);
}

// max that lets NaN through (the inf-norm of a list holding NaN is NaN).
struct NanMaxOp {
  __device__ __forceinline__ double operator()(double a, double b) const {
    return pointwise::binary<BinaryOp::Maximum, double, DeviceMath>(a, b);
  }
};

// Block b's sum of |x|^p over chunk b (max |x| for p = inf) into partial[b].
template <class T>
__global__ void norm_partial_kernel(const ListTensor* chunks, double p, double* partial) {
  const ListTensor c = chunks[blockIdx.x];
  const T* x = static_cast<const T*>(c.data[0]);
  const bool max = p == HUGE_VAL;
  double acc = 0;
  for (int64_t i = threadIdx.x; i < c.numel; i += blockDim.x) {
    const double a = DeviceMath::abs(static_cast<double>(x[i]));
    if (max) acc = NanMaxOp()(acc, a);
    else acc += p == 2 ? a * a : (p == 1 ? a : DeviceMath::pow(a, p));
  }
  acc = max ? block_allreduce(acc, NanMaxOp(), 0.0) : block_allreduce(acc, SumOp(), 0.0);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

template <class T>
__global__ void norm_final_kernel(const double* partial, int n, double p, T* out) {
  const bool max = p == HUGE_VAL;
  double acc = 0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) acc = max ? NanMaxOp()(acc, partial[i]) : acc + partial[i];
  acc = max ? block_allreduce(acc, NanMaxOp(), 0.0) : block_allreduce(acc, SumOp(), 0.0);
  if (threadIdx.x == 0) *out = static_cast<T>(pointwise::norm_root(acc, p));
}

// x *= f, with f the value, or read from the device (a norm when clip_norm).
template <class T>
__global__ void scale_kernel(const ListTensor* chunks, T value, const T* factor, bool clip_norm, double max_norm) {
  const ListTensor c = chunks[blockIdx.x];
  T* x = static_cast<T*>(c.data[0]);
  T f = factor ? *factor : value;
  if (clip_norm) f = pointwise::clip_coefficient(f, max_norm);
  for (int64_t i = threadIdx.x; i < c.numel; i += blockDim.x) x[i] = x[i] * f;
}

template <class T>
__global__ void clamp_kernel(const ListTensor* chunks, T bound) {
  const ListTensor c = chunks[blockIdx.x];
  T* x = static_cast<T*>(c.data[0]);
  for (int64_t i = threadIdx.x; i < c.numel; i += blockDim.x) {
    const T v = x[i];
    x[i] = v < -bound ? -bound : (v > bound ? bound : v);
  }
}

}  // namespace

void optimizer_step(DType dt, const OptimizerStep& s) {
  pointwise::dispatch_optimizer(s, [&](auto kind, auto flag, auto centered) {
    dispatch_floating(dt, [&](auto tag) {
      using T = decltype(tag);
      const Chunks chunks(s.list, sizeof(T));
      if (chunks.blocks() == 0) return;
      auto kernel = step_kernel<T, decltype(kind)::value, decltype(flag)::value, decltype(centered)::value>;
      DL_LAUNCH(kernel, chunks.blocks(), kThreads, 0, current_stream(), chunks.table(),
                pointwise::OptimizerScalars<T>(s));
      DL_CHECK_LAUNCH();
    });
  });
}

void list_norm(DType dt, const TensorList& list, double p, void* out) {
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    const Chunks chunks(list, sizeof(T));
    const int n = chunks.blocks();
    const DeviceBuffer partial(static_cast<size_t>(n) * sizeof(double));
    if (n > 0) {
      auto kernel = norm_partial_kernel<T>;
      DL_LAUNCH(kernel, n, kThreads, 0, current_stream(), chunks.table(), p, partial.as<double>());
      DL_CHECK_LAUNCH();
    }
    auto final_kernel = norm_final_kernel<T>;
    DL_LAUNCH(final_kernel, 1, kThreads, 0, current_stream(), partial.as<const double>(), n, p, static_cast<T*>(out));
    DL_CHECK_LAUNCH();
  });
}

void list_scale(DType dt, const TensorList& list, const ListScale& s) {
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    const Chunks chunks(list, sizeof(T));
    if (chunks.blocks() == 0) return;
    auto kernel = scale_kernel<T>;
    DL_LAUNCH(kernel, chunks.blocks(), kThreads, 0, current_stream(), chunks.table(), static_cast<T>(s.value),
              static_cast<const T*>(s.factor), s.clip_norm, s.max_norm);
    DL_CHECK_LAUNCH();
  });
}

void list_clamp(DType dt, const TensorList& list, double bound) {
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    const Chunks chunks(list, sizeof(T));
    if (chunks.blocks() == 0) return;
    auto kernel = clamp_kernel<T>;
    DL_LAUNCH(kernel, chunks.blocks(), kThreads, 0, current_stream(), chunks.table(), static_cast<T>(bound));
    DL_CHECK_LAUNCH();
  });
}

}  // namespace dlcore::cuda
