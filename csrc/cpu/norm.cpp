// Batch norm and layer norm, forward and backward.
//
// Shapes: batch norm, a contiguous (N, C, S) tensor (S = H * W, or 1),
// per-channel weight, bias, running statistics (C,) and saved mean / invstd
// (C, float64); layer norm, a contiguous (rows, cols) matrix, weight and bias
// (cols,), saved mean / invstd (rows, float64).
// Algorithm: batch norm gives channels to threads; each channel is walked as
// N runs of S contiguous elements (`omp simd` per run), or, for (N, C) input,
// blocks of 64 channels are walked row by row with SIMD across the block for
// the statistics, and the normalization gives rows to threads. Layer norm gives rows
// to threads (cpu/rows.h for_rows); its dweight / dbias give column blocks to
// threads, each adding the rows in order. Every sum has one fixed order, so
// results are the same for any thread count.
// Numerics: two-pass statistics in float64 (the mean, then the sum of squared
// deviations from it), so a large mean costs no digits of the variance; x -
// mean is formed as (x - hi) - lo with the mean split into two values of the
// input's type, exact where x is near the mean.
#include <cmath>
#include <vector>
#include "core/kernels.h"
#include "core/parallel.h"
#include "core/pointwise.h"
#include "cpu/rows.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

// Sum and sum of squared deviations (from mean) of a channel's N runs of S.
template <class T> double channel_sum(const T* x, int64_t N, int64_t C, int64_t S) {
  double s = 0;
  for (int64_t n = 0; n < N; ++n) {
    const T* run = x + n * C * S;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < S; ++i) s += static_cast<double>(run[i]);
  }
  return s;
}
template <class T> double channel_sq_dev(const T* x, int64_t N, int64_t C, int64_t S, double mean) {
  double s = 0;
  for (int64_t n = 0; n < N; ++n) {
    const T* run = x + n * C * S;
#pragma omp simd reduction(+ : s)
    for (int64_t i = 0; i < S; ++i) {
      const double d = static_cast<double>(run[i]) - mean;
      s += d * d;
    }
  }
  return s;
}

template <class T> T param_or(const void* p, int64_t i, T fallback) {
  return p ? static_cast<const T*>(p)[i] : fallback;
}

// A channel's normalization y = centered(x) * scale + shift, from its
// statistics (training: the batch's, also moved into the running ones;
// eval: the running ones), which are saved for the backward.
template <class T> struct ChannelAffine {
  pointwise::SplitMean<T> m;
  T scale, shift;
};
template <class T> ChannelAffine<T> channel_affine(const BatchNormProblem& p, int64_t c, double mean, double var) {
  if (p.training && p.running_mean)
    pointwise::update_running(static_cast<T*>(p.running_mean)[c], static_cast<T*>(p.running_var)[c], mean, var,
                              p.N * p.S, p.momentum);
  const double invstd = 1.0 / std::sqrt(var + p.eps);
  p.mean[c] = mean;
  p.invstd[c] = invstd;
  return {pointwise::SplitMean<T>(mean), static_cast<T>(invstd * static_cast<double>(param_or(p.weight, c, T(1)))),
          param_or(p.bias, c, T(0))};
}
template <class T> double running(const void* stats, int64_t c) {
  return static_cast<double>(static_cast<const T*>(stats)[c]);
}

// Channels whose values are runs of S > 1: in training, a channel per thread
// at a time.
template <class T> void batch_norm_forward_planes(const BatchNormProblem& p) {
  const int64_t N = p.N, C = p.C, S = p.S, M = N * S;
  if (!p.training) {
    // eval: the channels' maps first, then one pass over the planes in memory
    // order, which the prefetchers follow better than a channel's N runs
    // C * S apart.
    std::vector<ChannelAffine<T>> affine;
    affine.reserve(C);
    for (int64_t c = 0; c < C; ++c)
      affine.push_back(channel_affine<T>(p, c, running<T>(p.running_mean, c), running<T>(p.running_var, c)));
    parallel_for(N * C, std::max<int64_t>(1, kRowGrain / std::max<int64_t>(S, 1)), [&](int64_t b, int64_t e) {
      for (int64_t plane = b; plane < e; ++plane) {
        const ChannelAffine<T> a = affine[plane % C];
        const T* x = static_cast<const T*>(p.x) + plane * S;
        T* y = static_cast<T*>(p.y) + plane * S;
#pragma omp simd
        for (int64_t i = 0; i < S; ++i) y[i] = a.m.centered(x[i]) * a.scale + a.shift;
      }
    });
    return;
  }
  parallel_for(C, std::max<int64_t>(1, kRowGrain / std::max<int64_t>(M, 1)), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      const T* x = static_cast<const T*>(p.x) + c * S;
      T* y = static_cast<T*>(p.y) + c * S;
      const double mean = channel_sum(x, N, C, S) / static_cast<double>(M);
      const double var = channel_sq_dev(x, N, C, S, mean) / static_cast<double>(M);
      const ChannelAffine<T> a = channel_affine<T>(p, c, mean, var);
      for (int64_t n = 0; n < N; ++n) {
        const T* xr = x + n * C * S;
        T* yr = y + n * C * S;
#pragma omp simd
        for (int64_t i = 0; i < S; ++i) yr[i] = a.m.centered(xr[i]) * a.scale + a.shift;
      }
    }
  });
}

// (N, C) input (S = 1): a channel is a column. The statistics give each
// thread blocks of channels and walk the rows with SIMD across a block, so
// each channel's sums still add its values in row order (the same results as
// above, for any thread count). The normalization then gives each thread
// whole rows, contiguous in memory (eval mode is that pass alone): split by
// columns, two threads each read half of every row, and at 4096 x 256 two
// threads took longer than one.
constexpr int64_t kColumnGrain = 64;

// Mean and variance of the w columns at x (row stride C), two passes in row
// order. W > 0 fixes the width at compile time, so the sums stay in vector
// registers instead of going through memory at every row. 64 columns are
// four whole cache lines of a float row: at 4096 x 256 this took train mode
// from 1.06x to 0.89x PyTorch's time on one thread (16 columns, one line per
// row, left the stride to the prefetcher and gained nothing).
constexpr int64_t kStatWidth = 64;
template <class T, int64_t W>
void column_stats(const T* x, int64_t N, int64_t C, int64_t w, double* mean, double* var) {
  const int64_t width = W > 0 ? W : w;
  double s[kStatWidth] = {}, q[kStatWidth] = {};
  for (int64_t n = 0; n < N; ++n) {
    const T* xr = x + n * C;
#pragma omp simd
    for (int64_t j = 0; j < width; ++j) s[j] += static_cast<double>(xr[j]);
  }
  for (int64_t j = 0; j < width; ++j) s[j] /= static_cast<double>(N);
  for (int64_t n = 0; n < N; ++n) {
    const T* xr = x + n * C;
#pragma omp simd
    for (int64_t j = 0; j < width; ++j) {
      const double d = static_cast<double>(xr[j]) - s[j];
      q[j] += d * d;
    }
  }
  for (int64_t j = 0; j < width; ++j) {
    mean[j] = s[j];
    var[j] = q[j] / static_cast<double>(N);
  }
}

template <class T> void batch_norm_forward_columns(const BatchNormProblem& p) {
  const int64_t N = p.N, C = p.C;
  const T* x = static_cast<const T*>(p.x);
  T* y = static_cast<T*>(p.y);
  const size_t sc = static_cast<size_t>(C);
  std::vector<double> mean(sc, 0.0), var(sc, 0.0);
  double* pm = mean.data();
  double* pv = var.data();
  if (p.training) {
    parallel_for((C + kStatWidth - 1) / kStatWidth, 1, [&](int64_t b, int64_t e) {
      for (int64_t blk = b; blk < e; ++blk) {
        const int64_t c0 = blk * kStatWidth;
        if (C - c0 >= kStatWidth) column_stats<T, kStatWidth>(x + c0, N, C, kStatWidth, pm + c0, pv + c0);
        else column_stats<T, 0>(x + c0, N, C, C - c0, pm + c0, pv + c0);
      }
    });
  } else {
    for (int64_t c = 0; c < C; ++c) {
      pm[c] = running<T>(p.running_mean, c);
      pv[c] = running<T>(p.running_var, c);
    }
  }
  std::vector<T> hi(sc), lo(sc), scale(sc), shift(sc);
  for (int64_t c = 0; c < C; ++c) {
    const ChannelAffine<T> a = channel_affine<T>(p, c, pm[c], pv[c]);
    const size_t u = static_cast<size_t>(c);
    hi[u] = a.m.hi;
    lo[u] = a.m.lo;
    scale[u] = a.scale;
    shift[u] = a.shift;
  }
  const T* ph = hi.data();
  const T* pl = lo.data();
  const T* ps = scale.data();
  const T* pb = shift.data();
  for_rows(N, C, [&](int64_t n) {
    const T* xr = x + n * C;
    T* yr = y + n * C;
#pragma omp simd
    for (int64_t j = 0; j < C; ++j) yr[j] = ((xr[j] - ph[j]) - pl[j]) * ps[j] + pb[j];
  });
}

template <class T> void batch_norm_forward(const BatchNormProblem& p) {
  if (p.S == 1) batch_norm_forward_columns<T>(p);
  else batch_norm_forward_planes<T>(p);
}

template <class T> void batch_norm_backward_planes(const BatchNormProblem& p) {
  const int64_t N = p.N, C = p.C, S = p.S, M = N * S;
  parallel_for(C, std::max<int64_t>(1, kRowGrain / std::max<int64_t>(M, 1)), [&](int64_t b, int64_t e) {
    for (int64_t c = b; c < e; ++c) {
      const T* x = static_cast<const T*>(p.x) + c * S;
      const T* dy = static_cast<const T*>(p.dy) + c * S;
      const pointwise::SplitMean<T> m(p.mean[c]);
      const T invstd = static_cast<T>(p.invstd[c]);
      double sdy = 0, sdyx = 0;  // sum dy, sum dy * xhat
      for (int64_t n = 0; n < N; ++n) {
        const T* xr = x + n * C * S;
        const T* dr = dy + n * C * S;
#pragma omp simd reduction(+ : sdy, sdyx)
        for (int64_t i = 0; i < S; ++i) {
          sdy += static_cast<double>(dr[i]);
          sdyx += static_cast<double>(dr[i]) * static_cast<double>(m.centered(xr[i]) * invstd);
        }
      }
      if (p.dweight) static_cast<T*>(p.dweight)[c] = static_cast<T>(sdyx);
      if (p.dbias) static_cast<T*>(p.dbias)[c] = static_cast<T>(sdy);
      const T k = static_cast<T>(p.invstd[c] * static_cast<double>(param_or(p.weight, c, T(1))));
      // training: dx = k (dy - sum dy / M - xhat sum(dy xhat) / M); eval: dx = k dy
      const T a = p.training ? static_cast<T>(sdy / static_cast<double>(M)) : T(0);
      const T bq = p.training ? static_cast<T>(sdyx / static_cast<double>(M)) : T(0);
      T* dx = static_cast<T*>(p.dx) + c * S;
      for (int64_t n = 0; n < N; ++n) {
        const T* xr = x + n * C * S;
        const T* dr = dy + n * C * S;
        T* out = dx + n * C * S;
#pragma omp simd
        for (int64_t i = 0; i < S; ++i) out[i] = k * ((dr[i] - a) - m.centered(xr[i]) * invstd * bq);
      }
    }
  });
}

template <class T> void batch_norm_backward_columns(const BatchNormProblem& p) {
  const int64_t N = p.N, C = p.C;
  const T* x = static_cast<const T*>(p.x);
  const T* dy = static_cast<const T*>(p.dy);
  T* dx = static_cast<T*>(p.dx);
  parallel_for(C, kColumnGrain, [&](int64_t b, int64_t e) {
    const int64_t w = e - b;
    const size_t sw = static_cast<size_t>(w);
    std::vector<double> sdy(sw, 0.0), sdyx(sw, 0.0);
    std::vector<T> hi(sw), lo(sw), inv(sw), k(sw), a(sw), bq(sw);
    for (int64_t j = 0; j < w; ++j) {
      const pointwise::SplitMean<T> m(p.mean[b + j]);
      hi[static_cast<size_t>(j)] = m.hi;
      lo[static_cast<size_t>(j)] = m.lo;
      inv[static_cast<size_t>(j)] = static_cast<T>(p.invstd[b + j]);
    }
    double* ps = sdy.data();
    double* pq = sdyx.data();
    const T* ph = hi.data();
    const T* pl = lo.data();
    const T* pi = inv.data();
    for (int64_t n = 0; n < N; ++n) {
      const T* xr = x + n * C + b;
      const T* dr = dy + n * C + b;
#pragma omp simd
      for (int64_t j = 0; j < w; ++j) {
        ps[j] += static_cast<double>(dr[j]);
        pq[j] += static_cast<double>(dr[j]) * static_cast<double>(((xr[j] - ph[j]) - pl[j]) * pi[j]);
      }
    }
    for (int64_t j = 0; j < w; ++j) {
      const size_t u = static_cast<size_t>(j);
      if (p.dweight) static_cast<T*>(p.dweight)[b + j] = static_cast<T>(pq[j]);
      if (p.dbias) static_cast<T*>(p.dbias)[b + j] = static_cast<T>(ps[j]);
      k[u] = static_cast<T>(p.invstd[b + j] * static_cast<double>(param_or(p.weight, b + j, T(1))));
      a[u] = p.training ? static_cast<T>(ps[j] / static_cast<double>(N)) : T(0);
      bq[u] = p.training ? static_cast<T>(pq[j] / static_cast<double>(N)) : T(0);
    }
    const T* pk = k.data();
    const T* pa = a.data();
    const T* pb = bq.data();
    for (int64_t n = 0; n < N; ++n) {
      const T* xr = x + n * C + b;
      const T* dr = dy + n * C + b;
      T* out = dx + n * C + b;
#pragma omp simd
      for (int64_t j = 0; j < w; ++j) out[j] = pk[j] * ((dr[j] - pa[j]) - ((xr[j] - ph[j]) - pl[j]) * pi[j] * pb[j]);
    }
  });
}

template <class T> void batch_norm_backward_channels(const BatchNormProblem& p) {
  if (p.S == 1) batch_norm_backward_columns<T>(p);
  else batch_norm_backward_planes<T>(p);
}

template <class T> void layer_norm_forward(const LayerNormProblem& p) {
  const int64_t D = p.cols;
  for_rows(p.rows, D, [&](int64_t r) {
    const T* x = static_cast<const T*>(p.x) + r * D;
    T* y = static_cast<T*>(p.y) + r * D;
    const double mean = channel_sum(x, 1, 1, D) / static_cast<double>(D);
    const double invstd = 1.0 / std::sqrt(channel_sq_dev(x, 1, 1, D, mean) / static_cast<double>(D) + p.eps);
    p.mean[r] = mean;
    p.invstd[r] = invstd;
    const pointwise::SplitMean<T> m(mean);
    const T k = static_cast<T>(invstd);
    const T* w = static_cast<const T*>(p.weight);
    const T* b = static_cast<const T*>(p.bias);
#pragma omp simd
    for (int64_t j = 0; j < D; ++j) y[j] = m.centered(x[j]) * k * (w ? w[j] : T(1)) + (b ? b[j] : T(0));
  });
}

template <class T> void layer_norm_backward_rows(const LayerNormProblem& p) {
  const int64_t D = p.cols;
  const T* w = static_cast<const T*>(p.weight);
  for_rows(p.rows, D, [&](int64_t r) {
    const T* x = static_cast<const T*>(p.x) + r * D;
    const T* dy = static_cast<const T*>(p.dy) + r * D;
    T* dx = static_cast<T*>(p.dx) + r * D;
    const pointwise::SplitMean<T> m(p.mean[r]);
    const T k = static_cast<T>(p.invstd[r]);
    double s1 = 0, s2 = 0;  // sum dy w, sum dy w xhat
#pragma omp simd reduction(+ : s1, s2)
    for (int64_t j = 0; j < D; ++j) {
      const double g = static_cast<double>(dy[j] * (w ? w[j] : T(1)));
      s1 += g;
      s2 += g * static_cast<double>(m.centered(x[j]) * k);
    }
    const T a = static_cast<T>(s1 / static_cast<double>(D)), bq = static_cast<T>(s2 / static_cast<double>(D));
#pragma omp simd
    for (int64_t j = 0; j < D; ++j) dx[j] = k * ((dy[j] * (w ? w[j] : T(1)) - a) - m.centered(x[j]) * k * bq);
  });
  if (!p.dweight && !p.dbias) return;
  // Column sums over the rows, a block of columns per thread, rows in order.
  parallel_for(D, std::max<int64_t>(1, kRowGrain / std::max<int64_t>(p.rows, 1)), [&](int64_t b, int64_t e) {
    std::vector<double> sw(static_cast<size_t>(e - b), 0.0), sb(static_cast<size_t>(e - b), 0.0);
    double* pw = sw.data();
    double* pb = sb.data();
    for (int64_t r = 0; r < p.rows; ++r) {
      const T* x = static_cast<const T*>(p.x) + r * D;
      const T* dy = static_cast<const T*>(p.dy) + r * D;
      const pointwise::SplitMean<T> m(p.mean[r]);
      const T k = static_cast<T>(p.invstd[r]);
#pragma omp simd
      for (int64_t j = b; j < e; ++j) {
        pw[j - b] += static_cast<double>(dy[j]) * static_cast<double>(m.centered(x[j]) * k);
        pb[j - b] += static_cast<double>(dy[j]);
      }
    }
    for (int64_t j = b; j < e; ++j) {
      if (p.dweight) static_cast<T*>(p.dweight)[j] = static_cast<T>(pw[j - b]);
      if (p.dbias) static_cast<T*>(p.dbias)[j] = static_cast<T>(pb[j - b]);
    }
  });
}

}  // namespace

void batch_norm(DType dt, const BatchNormProblem& p) {
  dispatch_floating(dt, [&](auto tag) { batch_norm_forward<decltype(tag)>(p); });
}

void batch_norm_backward(DType dt, const BatchNormProblem& p) {
  dispatch_floating(dt, [&](auto tag) { batch_norm_backward_channels<decltype(tag)>(p); });
}

void layer_norm(DType dt, const LayerNormProblem& p) {
  dispatch_floating(dt, [&](auto tag) { layer_norm_forward<decltype(tag)>(p); });
}

void layer_norm_backward(DType dt, const LayerNormProblem& p) {
  dispatch_floating(dt, [&](auto tag) { layer_norm_backward_rows<decltype(tag)>(p); });
}

}  // namespace dlcore::cpu::DLCORE_ISA
