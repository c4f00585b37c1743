// Reductions on the device: sum, max, min, argmax, argmin over a
// ReduceProblem (core/kernels.h): a contiguous input whose dims are merged
// into kept and reduced groups, and a contiguous output over the kept ones.
//   A. innermost group reduced: one block per output (grid-stride over
//      outputs); its threads stride over the reduced elements (coalesced along
//      the contiguous run), then a warp-shuffle tree and a shared-memory tree
//      across warps combine the partials.
//   B. innermost group kept: one thread per output, looping over the reduced
//      positions; neighbouring threads read neighbouring addresses.
// Deterministic: no atomics, a fixed combination order, so a result never
// depends on scheduling. Numerics: float sums accumulate in float64; max/min
// propagate NaN; argmax/argmin give the first index of the extreme or of the
// first NaN (NumPy's rules, as on the CPU).
#include "common.cuh"

namespace dlcore::cuda {

namespace {

constexpr int kReduceThreads = 256;  // a multiple of 32: full-mask shuffles

__device__ __forceinline__ int64_t group_offset(int64_t i, int n, const int64_t* size, const int64_t* stride) {
  int64_t off = 0;
  for (int d = n - 1; d >= 0; --d) { off += (i % size[d]) * stride[d]; i /= size[d]; }
  return off;
}

template <class T> __device__ __forceinline__ T lowest() {
  if constexpr (std::numeric_limits<T>::has_infinity) return -std::numeric_limits<T>::infinity();
  else return std::numeric_limits<T>::lowest();
}
template <class T> __device__ __forceinline__ T highest() {
  if constexpr (std::numeric_limits<T>::has_infinity) return std::numeric_limits<T>::infinity();
  else return std::numeric_limits<T>::max();
}

// Accumulators: add one element, combine with a partial covering later
// indices, write the result.
template <class T> struct Sum {
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, unsigned long long>;  // ints wrap
  using Out = std::conditional_t<std::is_floating_point_v<T>, T, int64_t>;
  Acc v = 0;
  __device__ void add(T x, int64_t) { v += static_cast<Acc>(x); }
  __device__ void combine(const Sum& o) { v += o.v; }
  __device__ Sum shfl_down(unsigned off) const { Sum s; s.v = __shfl_down_sync(0xffffffffu, v, off); return s; }
  __device__ void store(void* out, int64_t o) const { static_cast<Out*>(out)[o] = static_cast<Out>(v); }
};

template <class T, bool is_max> struct Extreme {
  T v = is_max ? lowest<T>() : highest<T>();
  __device__ void add(T x, int64_t) {
    if (pointwise::is_nan(v)) return;
    if (pointwise::is_nan(x) || (is_max ? x > v : x < v)) v = x;
  }
  __device__ void combine(const Extreme& o) { add(o.v, 0); }
  __device__ Extreme shfl_down(unsigned off) const {
    Extreme e;
    if constexpr (sizeof(T) == 1) e.v = static_cast<T>(__shfl_down_sync(0xffffffffu, static_cast<int>(v), off));
    else e.v = __shfl_down_sync(0xffffffffu, v, off);
    return e;
  }
  __device__ void store(void* out, int64_t o) const { static_cast<T*>(out)[o] = v; }
};

template <class T, bool is_max> struct Arg {
  T v = is_max ? lowest<T>() : highest<T>();
  long long index = -1;
  __device__ bool better(T x, long long i) const {
    if (index < 0) return true;
    if (pointwise::is_nan(v)) return pointwise::is_nan(x) && i < index;
    if (pointwise::is_nan(x)) return true;
    if (x == v) return i < index;
    return is_max ? x > v : x < v;
  }
  __device__ void add(T x, int64_t i) { if (better(x, i)) { v = x; index = i; } }
  __device__ void combine(const Arg& o) { if (o.index >= 0 && better(o.v, o.index)) { v = o.v; index = o.index; } }
  __device__ Arg shfl_down(unsigned off) const {
    Arg a;
    if constexpr (sizeof(T) == 1) a.v = static_cast<T>(__shfl_down_sync(0xffffffffu, static_cast<int>(v), off));
    else a.v = __shfl_down_sync(0xffffffffu, v, off);
    a.index = __shfl_down_sync(0xffffffffu, index, off);
    return a;
  }
  __device__ void store(void* out, int64_t o) const { static_cast<int64_t*>(out)[o] = index; }
};

// Combines the partials of a block; the result is valid in thread 0.
template <class Acc>
__device__ Acc block_combine(Acc acc) {
  // Raw bytes: a __shared__ array of a class with initialisers is not allowed.
  __shared__ alignas(16) unsigned char partial_bytes[sizeof(Acc) * (kReduceThreads / 32)];
  Acc* warp_partials = reinterpret_cast<Acc*>(partial_bytes);
  for (unsigned off = 16; off > 0; off >>= 1) acc.combine(acc.shfl_down(off));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  if (lane == 0) warp_partials[warp] = acc;
  __syncthreads();
  if (warp == 0) {
    acc = lane < int(blockDim.x >> 5) ? warp_partials[lane] : Acc{};
    for (unsigned off = 16; off > 0; off >>= 1) acc.combine(acc.shfl_down(off));
  }
  __syncthreads();  // warp_partials is reused by the block's next output
  return acc;
}

template <class Acc, class T>
__global__ void __launch_bounds__(kReduceThreads) reduce_inner_kernel(ReduceProblem p, int64_t outputs) {
  const T* in = static_cast<const T*>(p.in);
  const int64_t L = p.rsize[p.nr - 1];
  int64_t outer = 1;
  for (int d = 0; d < p.nr - 1; ++d) outer *= p.rsize[d];
  for (int64_t o = blockIdx.x; o < outputs; o += gridDim.x) {
    const int64_t kbase = group_offset(o, p.nk, p.ksize, p.kstride);
    Acc acc;
    for (int64_t r = 0; r < outer; ++r) {
      const T* run = in + kbase + group_offset(r, p.nr - 1, p.rsize, p.rstride);
      for (int64_t j = threadIdx.x; j < L; j += blockDim.x) acc.add(run[j], r * L + j);
    }
    acc = block_combine(acc);
    if (threadIdx.x == 0) acc.store(p.out, o);
  }
}

template <class Acc, class T>
__global__ void reduce_outer_kernel(ReduceProblem p, int64_t outputs) {
  const T* in = static_cast<const T*>(p.in);
  const int64_t Lk = p.ksize[p.nk - 1];
  int64_t R = 1;
  for (int d = 0; d < p.nr; ++d) R *= p.rsize[d];
  for (int64_t o = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; o < outputs; o += int64_t(blockDim.x) * gridDim.x) {
    const T* base = in + group_offset(o / Lk, p.nk - 1, p.ksize, p.kstride) + o % Lk;
    Acc acc;
    for (int64_t r = 0; r < R; ++r) acc.add(base[group_offset(r, p.nr, p.rsize, p.rstride)], r);
    acc.store(p.out, o);
  }
}

template <class Acc, class T>
void launch(const ReduceProblem& p) {
  int64_t outputs = 1;
  for (int d = 0; d < p.nk; ++d) outputs *= p.ksize[d];
  if (p.inner_reduced) {
    auto kernel = reduce_inner_kernel<Acc, T>;
    const int blocks = static_cast<int>(outputs < kMaxBlocks ? outputs : kMaxBlocks);
    DL_LAUNCH(kernel, blocks, kReduceThreads, 0, current_stream(), p, outputs);
  } else {
    auto kernel = reduce_outer_kernel<Acc, T>;
    DL_LAUNCH(kernel, blocks_for(outputs), kThreads, 0, current_stream(), p, outputs);
  }
  DL_CHECK_LAUNCH();
}

}  // namespace

void reduce(ReduceOp op, DType dt, const ReduceProblem& p) {
  dispatch_dtype(dt, [&](auto tag) {
    using T = decltype(tag);
    switch (op) {
      case ReduceOp::Sum: return launch<Sum<T>, T>(p);
      case ReduceOp::Max: return launch<Extreme<T, true>, T>(p);
      case ReduceOp::Min: return launch<Extreme<T, false>, T>(p);
      case ReduceOp::ArgMax: return launch<Arg<T, true>, T>(p);
      case ReduceOp::ArgMin: return launch<Arg<T, false>, T>(p);
    }
  });
}

}  // namespace dlcore::cuda
