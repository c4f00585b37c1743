// Fused LSTM and GRU cells, forward and backward: everything of one time step
// between the GEMMs (the gate activations, the state update, their
// gradients) in one pass, instead of about ten pointwise kernels on slices.
//
// Shapes (LstmCellProblem, GruCellProblem in core/kernels.h): contiguous
// row-major matrices, rows = the batch, H hidden units; LSTM gates (rows, 4H)
// in the order i, f, g, o, GRU gates (rows, 3H) in the order r, z, n, states
// (rows, H).
// Algorithm: the rows x H grid of units is split over the OpenMP threads as
// one flat range (so a batch of 1 with a wide layer still spreads), walked
// row segment by row segment; each segment is an `omp simd` loop whose
// iteration reads one unit's gates at j, j + H, j + 2H (, j + 3H) and writes
// its outputs. The unit math is core/recurrent.h, shared with CUDA.
// The backward recomputes the activations from the pre-activations (and
// tanh(c) from the saved c) instead of the forward saving them: the graph
// keeps the pre-activations either way (the forward's input, as the
// activations would be its extra output), so saving would add a (rows, 4H)
// write to every forward and an allocation per step, while recomputing costs
// four or five vectorized exps per unit of a backward pass that is bound by
// the same memory reads either way.
// Numerics: see core/recurrent.h; stable in both tails (no overflow, no NaN
// for any finite pre-activation).
#include <algorithm>
#include "core/kernels.h"
#include "core/parallel.h"
#include "core/recurrent.h"
#include "cpu/math.h"

namespace dlcore::cpu::DLCORE_ISA {

namespace {

// Units per thread worth a parallel region: a unit costs four or five
// vectorized exps (about 3 ns on one AVX-512 core), a region's fork and join
// a few microseconds.
constexpr int64_t kUnitGrain = 4096;

// f(r, j0, j1) for the row segments covering the units of a (rows, hidden)
// grid, the flat unit range split over the threads.
template <class F>
void for_units(int64_t rows, int64_t hidden, const F& f) {
  parallel_for(rows * hidden, kUnitGrain, [&](int64_t begin, int64_t end) {
    int64_t r = begin / hidden, j = begin % hidden;
    while (begin < end) {
      const int64_t j1 = std::min(hidden, j + (end - begin));
      f(r, j, j1);
      begin += j1 - j;
      ++r;
      j = 0;
    }
  });
}

// Row r of a contiguous matrix of `width` columns.
template <class T> const T* row(const void* m, int64_t r, int64_t width) {
  return static_cast<const T*>(m) + r * width;
}
template <class T> T* row(void* m, int64_t r, int64_t width) { return static_cast<T*>(m) + r * width; }

template <class T> void lstm_forward(const LstmCellProblem& p) {
  const int64_t H = p.hidden;
  for_units(p.rows, H, [&](int64_t r, int64_t j0, int64_t j1) {
    const T* g = row<T>(p.gates, r, 4 * H);
    const T* cp = row<T>(p.c_prev, r, H);
    T* h = row<T>(p.h, r, H);
    T* c = row<T>(p.c, r, H);
#pragma omp simd
    for (int64_t j = j0; j < j1; ++j)
      pointwise::lstm_cell<T, SimdMath>(g[j], g[H + j], g[2 * H + j], g[3 * H + j], cp[j], h[j], c[j]);
  });
}

template <class T, bool kGradC> void lstm_backward(const LstmCellProblem& p) {
  const int64_t H = p.hidden;
  for_units(p.rows, H, [&](int64_t r, int64_t j0, int64_t j1) {
    const T* g = row<T>(p.gates, r, 4 * H);
    const T* cp = row<T>(p.c_prev, r, H);
    const T* c = row<T>(p.c, r, H);
    const T* dh = row<T>(p.grad_h, r, H);
    const T* dc = kGradC ? row<T>(p.grad_c, r, H) : nullptr;
    T* dg = row<T>(p.grad_gates, r, 4 * H);
    T* dcp = row<T>(p.grad_c_prev, r, H);
#pragma omp simd
    for (int64_t j = j0; j < j1; ++j)
      pointwise::lstm_cell_backward<T, SimdMath>(dh[j], kGradC ? dc[j] : T(0), g[j], g[H + j], g[2 * H + j],
                                                 g[3 * H + j], cp[j], c[j], dg[j], dg[H + j], dg[2 * H + j],
                                                 dg[3 * H + j], dcp[j]);
  });
}

template <class T> void gru_forward(const GruCellProblem& p) {
  const int64_t H = p.hidden;
  for_units(p.rows, H, [&](int64_t r, int64_t j0, int64_t j1) {
    const T* x = row<T>(p.x_gates, r, 3 * H);
    const T* hg = row<T>(p.h_gates, r, 3 * H);
    const T* hp = row<T>(p.h_prev, r, H);
    T* h = row<T>(p.h, r, H);
#pragma omp simd
    for (int64_t j = j0; j < j1; ++j)
      h[j] = pointwise::gru_cell<T, SimdMath>(x[j], x[H + j], x[2 * H + j], hg[j], hg[H + j], hg[2 * H + j], hp[j]);
  });
}

template <class T> void gru_backward(const GruCellProblem& p) {
  const int64_t H = p.hidden;
  for_units(p.rows, H, [&](int64_t r, int64_t j0, int64_t j1) {
    const T* x = row<T>(p.x_gates, r, 3 * H);
    const T* hg = row<T>(p.h_gates, r, 3 * H);
    const T* hp = row<T>(p.h_prev, r, H);
    const T* dh = row<T>(p.grad_h, r, H);
    T* dx = row<T>(p.grad_x_gates, r, 3 * H);
    T* dhg = row<T>(p.grad_h_gates, r, 3 * H);
    T* dhp = row<T>(p.grad_h_prev, r, H);
#pragma omp simd
    for (int64_t j = j0; j < j1; ++j) {
      T dr, dz;
      pointwise::gru_cell_backward<T, SimdMath>(dh[j], x[j], x[H + j], x[2 * H + j], hg[j], hg[H + j],
                                                hg[2 * H + j], hp[j], dr, dz, dx[2 * H + j], dhg[2 * H + j],
                                                dhp[j]);
      dx[j] = dhg[j] = dr;  // r and z enter as x + h: one gradient for both
      dx[H + j] = dhg[H + j] = dz;
    }
  });
}

}  // namespace

void lstm_cell(DType dt, const LstmCellProblem& p) {
  dispatch_floating(dt, [&](auto tag) { lstm_forward<decltype(tag)>(p); });
}

void lstm_cell_backward(DType dt, const LstmCellProblem& p) {
  dispatch_floating(dt, [&](auto tag) {
    using T = decltype(tag);
    if (p.grad_c) lstm_backward<T, true>(p);
    else lstm_backward<T, false>(p);
  });
}

void gru_cell(DType dt, const GruCellProblem& p) {
  dispatch_floating(dt, [&](auto tag) { gru_forward<decltype(tag)>(p); });
}

void gru_cell_backward(DType dt, const GruCellProblem& p) {
  dispatch_floating(dt, [&](auto tag) { gru_backward<decltype(tag)>(p); });
}

}  // namespace dlcore::cpu::DLCORE_ISA
