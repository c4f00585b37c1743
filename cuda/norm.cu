// Batch norm and layer norm on the device, forward and backward (the list of
// csrc/cpu/norm.cpp). Shapes: batch norm, a contiguous (N, C, S) tensor with
// per-channel parameters and saved float64 mean / invstd; layer norm, a
// contiguous (rows, cols) matrix. Algorithm: a block per channel (batch norm)
// or a warp / block per row (layer norm) reduces with the fixed-order
// butterflies of common.cuh; layer norm's dweight / dbias give a column to a
// thread, adding the rows in order. Numerics as on the CPU: two-pass float64
// statistics, x - mean as (x - hi) - lo (pointwise::SplitMean).
#include "common.cuh"

namespace dlcore::cuda {

namespace {

template <class T> __device__ __forceinline__ T param_or(const void* p, int64_t i, T fallback) {
  return p ? static_cast<const T*>(p)[i] : fallback;
}

// Element i of channel c's N x S values in an (N, C, S) tensor.
__device__ __forceinline__ int64_t channel_at(int64_t c, int64_t i, int64_t C, int64_t S) {
  const int64_t n = i / S;
  return (n * C + c) * S + (i - n * S);
}

template <class T>
__global__ void batch_norm_kernel(BatchNormProblem p) {
  const int64_t M = p.N * p.S;
  const T* x = static_cast<const T*>(p.x);
  for (int64_t c = blockIdx.x; c < p.C; c += gridDim.x) {
    double mean, var;
    if (p.training) {
      double s = 0;
      for (int64_t i = threadIdx.x; i < M; i += blockDim.x) s += static_cast<double>(x[channel_at(c, i, p.C, p.S)]);
      mean = block_allreduce(s, SumOp(), 0.0) / static_cast<double>(M);
      double q = 0;
      for (int64_t i = threadIdx.x; i < M; i += blockDim.x) {
        const double d = static_cast<double>(x[channel_at(c, i, p.C, p.S)]) - mean;
        q += d * d;
      }
      var = block_allreduce(q, SumOp(), 0.0) / static_cast<double>(M);
      if (threadIdx.x == 0 && p.running_mean) {
        pointwise::update_running(static_cast<T*>(p.running_mean)[c], static_cast<T*>(p.running_var)[c], mean,
                                  var, M, p.momentum);
      }
    } else {
      mean = static_cast<double>(static_cast<const T*>(p.running_mean)[c]);
      var = static_cast<double>(static_cast<const T*>(p.running_var)[c]);
    }
    const double invstd = 1.0 / DeviceMath::sqrt(var + p.eps);
    if (threadIdx.x == 0) {
      p.mean[c] = mean;
      p.invstd[c] = invstd;
    }
    const pointwise::SplitMean<T> m(mean);
    const T scale = static_cast<T>(invstd * static_cast<double>(param_or(p.weight, c, T(1))));
    const T shift = param_or(p.bias, c, T(0));
    for (int64_t i = threadIdx.x; i < M; i += blockDim.x) {
      const int64_t at = channel_at(c, i, p.C, p.S);
      static_cast<T*>(p.y)[at] = m.centered(x[at]) * scale + shift;
    }
  }
}

template <class T>
__global__ void batch_norm_backward_kernel(BatchNormProblem p) {
  const int64_t M = p.N * p.S;
  const T* x = static_cast<const T*>(p.x);
  const T* dy = static_cast<const T*>(p.dy);
  for (int64_t c = blockIdx.x; c < p.C; c += gridDim.x) {
    const pointwise::SplitMean<T> m(p.mean[c]);
    const T invstd = static_cast<T>(p.invstd[c]);
    double sdy = 0, sdyx = 0;
    for (int64_t i = threadIdx.x; i < M; i += blockDim.x) {
      const int64_t at = channel_at(c, i, p.C, p.S);
      sdy += static_cast<double>(dy[at]);
      sdyx += static_cast<double>(dy[at]) * static_cast<double>(m.centered(x[at]) * invstd);
    }
    sdy = block_allreduce(sdy, SumOp(), 0.0);
    sdyx = block_allreduce(sdyx, SumOp(), 0.0);
    if (threadIdx.x == 0) {
      if (p.dweight) static_cast<T*>(p.dweight)[c] = static_cast<T>(sdyx);
      if (p.dbias) static_cast<T*>(p.dbias)[c] = static_cast<T>(sdy);
    }
    const T k = static_cast<T>(p.invstd[c] * static_cast<double>(param_or(p.weight, c, T(1))));
    const T a = p.training ? static_cast<T>(sdy / static_cast<double>(M)) : T(0);
    const T bq = p.training ? static_cast<T>(sdyx / static_cast<double>(M)) : T(0);
    for (int64_t i = threadIdx.x; i < M; i += blockDim.x) {
      const int64_t at = channel_at(c, i, p.C, p.S);
      static_cast<T*>(p.dx)[at] = k * ((dy[at] - a) - m.centered(x[at]) * invstd * bq);
    }
  }
}

template <class T, bool kWarp>
__global__ void layer_norm_kernel(LayerNormProblem p) {
  const RowGroup<kWarp> g;
  const int64_t D = p.cols;
  const T* w = static_cast<const T*>(p.weight);
  const T* b = static_cast<const T*>(p.bias);
  for (int64_t r = g.first_row(); r < p.rows; r += g.row_step()) {
    const T* x = static_cast<const T*>(p.x) + r * D;
    T* y = static_cast<T*>(p.y) + r * D;
    double s = 0;
    for (int64_t j = g.rank(); j < D; j += g.size()) s += static_cast<double>(x[j]);
    const double mean = g.reduce(s, SumOp(), 0.0) / static_cast<double>(D);
    double q = 0;
    for (int64_t j = g.rank(); j < D; j += g.size()) {
      const double d = static_cast<double>(x[j]) - mean;
      q += d * d;
    }
    const double invstd = 1.0 / DeviceMath::sqrt(g.reduce(q, SumOp(), 0.0) / static_cast<double>(D) + p.eps);
    if (g.rank() == 0) {
      p.mean[r] = mean;
      p.invstd[r] = invstd;
    }
    const pointwise::SplitMean<T> m(mean);
    const T k = static_cast<T>(invstd);
    for (int64_t j = g.rank(); j < D; j += g.size())
      y[j] = m.centered(x[j]) * k * (w ? w[j] : T(1)) + (b ? b[j] : T(0));
  }
}

template <class T, bool kWarp>
__global__ void layer_norm_backward_kernel(LayerNormProblem p) {
  const RowGroup<kWarp> g;
  const int64_t D = p.cols;
  const T* w = static_cast<const T*>(p.weight);
  for (int64_t r = g.first_row(); r < p.rows; r += g.row_step()) {
    const T* x = static_cast<const T*>(p.x) + r * D;
    const T* dy = static_cast<const T*>(p.dy) + r * D;
    T* dx = static_cast<T*>(p.dx) + r * D;
    const pointwise::SplitMean<T> m(p.mean[r]);
    const T k = static_cast<T>(p.invstd[r]);
    double s1 = 0, s2 = 0;
    for (int64_t j = g.rank(); j < D; j += g.size()) {
      const double gw = static_cast<double>(dy[j] * (w ? w[j] : T(1)));
      s1 += gw;
      s2 += gw * static_cast<double>(m.centered(x[j]) * k);
    }
    const T a = static_cast<T>(g.reduce(s1, SumOp(), 0.0) / static_cast<double>(D));
    const T bq = static_cast<T>(g.reduce(s2, SumOp(), 0.0) / static_cast<double>(D));
    for (int64_t j = g.rank(); j < D; j += g.size())
      dx[j] = k * ((dy[j] * (w ? w[j] : T(1)) - a) - m.centered(x[j]) * k * bq);
  }
}

// dweight, dbias: a thread per column, the rows in order.
template <class T>
__global__ void layer_norm_param_grad_kernel(LayerNormProblem p) {
  for (int64_t j = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; j < p.cols; j += int64_t(blockDim.x) * gridDim.x) {
    double sw = 0, sb = 0;
    for (int64_t r = 0; r < p.rows; ++r) {
      const T xv = static_cast<const T*>(p.x)[r * p.cols + j], dv = static_cast<const T*>(p.dy)[r * p.cols + j];
      const pointwise::SplitMean<T> m(p.mean[r]);
      sw += static_cast<double>(dv) * static_cast<double>(m.centered(xv) * static_cast<T>(p.invstd[r]));
      sb += static_cast<double>(dv);
    }
    if (p.dweight) static_cast<T*>(p.dweight)[j] = static_cast<T>(sw);
    if (p.dbias) static_cast<T*>(p.dbias)[j] = static_cast<T>(sb);
  }
}

int channel_blocks(int64_t C) { return static_cast<int>(C < kMaxBlocks ? C : kMaxBlocks); }

}  // namespace

void batch_norm(DType dt, const BatchNormProblem& p) {
  if (p.C == 0) return;
  dispatch_floating(dt, [&](auto tag) {
    auto kernel = batch_norm_kernel<decltype(tag)>;
    DL_LAUNCH(kernel, channel_blocks(p.C), kThreads, 0, current_stream(), p);
    DL_CHECK_LAUNCH();
  });
}

void batch_norm_backward(DType dt, const BatchNormProblem& p) {
  if (p.C == 0) return;
  dispatch_floating(dt, [&](auto tag) {
    auto kernel = batch_norm_backward_kernel<decltype(tag)>;
    DL_LAUNCH(kernel, channel_blocks(p.C), kThreads, 0, current_stream(), p);
    DL_CHECK_LAUNCH();
  });
}

void layer_norm(DType dt, const LayerNormProblem& p) {
  if (p.rows == 0) return;
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    launch_rows(layer_norm_kernel<T, true>, layer_norm_kernel<T, false>, p, p.rows, p.cols);
  });
}

void layer_norm_backward(DType dt, const LayerNormProblem& p) {
  if (p.rows == 0 || p.cols == 0) return;
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    launch_rows(layer_norm_backward_kernel<T, true>, layer_norm_backward_kernel<T, false>, p, p.rows, p.cols);
    if (p.dweight || p.dbias) {
      auto kernel = layer_norm_param_grad_kernel<T>;
      DL_LAUNCH(kernel, blocks_for(p.cols), kThreads, 0, current_stream(), p);
      DL_CHECK_LAUNCH();
    }
  });
}

}  // namespace dlcore::cuda
