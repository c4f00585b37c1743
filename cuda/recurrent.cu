// Fused LSTM and GRU cells on the device, forward and backward: one launch
// per time step and direction for everything between the GEMMs.
// Shapes: LstmCellProblem / GruCellProblem (core/kernels.h), contiguous
// (rows, 4H) or (rows, 3H) gates and (rows, H) states.
// Algorithm: one thread per (row, hidden unit) in a grid-stride loop over
// the rows x H units; neighbouring threads take neighbouring units of a row,
// so each of the gate blocks (j, H + j, ...) is read coalesced. The unit
// math is core/recurrent.h, shared with the CPU; as there, the backward
// recomputes the activations from the pre-activations (see cpu/recurrent.cpp
// for why). Numerics: stable in both tails (core/recurrent.h).
#include "common.cuh"
#include "core/recurrent.h"

namespace dlcore::cuda {

namespace {

template <class T>
__global__ void lstm_forward_kernel(LstmCellProblem p) {
  const int64_t H = p.hidden, n = p.rows * H;
  const T* gates = static_cast<const T*>(p.gates);
  const T* cp = static_cast<const T*>(p.c_prev);
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < n; u += int64_t(blockDim.x) * gridDim.x) {
    const T* g = gates + (u / H) * 3 * H + u;  // row r's gates start at 4H r = 3H r + (u - j)
    pointwise::lstm_cell<T, DeviceMath>(g[0], g[H], g[2 * H], g[3 * H], cp[u], static_cast<T*>(p.h)[u],
                                        static_cast<T*>(p.c)[u]);
  }
}

template <class T>
__global__ void lstm_backward_kernel(LstmCellProblem p) {
  const int64_t H = p.hidden, n = p.rows * H;
  const T* dc = static_cast<const T*>(p.grad_c);
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < n; u += int64_t(blockDim.x) * gridDim.x) {
    const int64_t at = (u / H) * 3 * H + u;
    const T* g = static_cast<const T*>(p.gates) + at;
    T* dg = static_cast<T*>(p.grad_gates) + at;
    pointwise::lstm_cell_backward<T, DeviceMath>(
        static_cast<const T*>(p.grad_h)[u], dc ? dc[u] : T(0), g[0], g[H], g[2 * H], g[3 * H],
        static_cast<const T*>(p.c_prev)[u], static_cast<const T*>(p.c)[u], dg[0], dg[H], dg[2 * H], dg[3 * H],
        static_cast<T*>(p.grad_c_prev)[u]);
  }
}

template <class T>
__global__ void gru_forward_kernel(GruCellProblem p) {
  const int64_t H = p.hidden, n = p.rows * H;
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < n; u += int64_t(blockDim.x) * gridDim.x) {
    const int64_t at = (u / H) * 2 * H + u;  // row r's gates start at 3H r
    const T* x = static_cast<const T*>(p.x_gates) + at;
    const T* hg = static_cast<const T*>(p.h_gates) + at;
    static_cast<T*>(p.h)[u] = pointwise::gru_cell<T, DeviceMath>(x[0], x[H], x[2 * H], hg[0], hg[H], hg[2 * H],
                                                                 static_cast<const T*>(p.h_prev)[u]);
  }
}

template <class T>
__global__ void gru_backward_kernel(GruCellProblem p) {
  const int64_t H = p.hidden, n = p.rows * H;
  for (int64_t u = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; u < n; u += int64_t(blockDim.x) * gridDim.x) {
    const int64_t at = (u / H) * 2 * H + u;
    const T* x = static_cast<const T*>(p.x_gates) + at;
    const T* hg = static_cast<const T*>(p.h_gates) + at;
    T* dx = static_cast<T*>(p.grad_x_gates) + at;
    T* dhg = static_cast<T*>(p.grad_h_gates) + at;
    T dr, dz;
    pointwise::gru_cell_backward<T, DeviceMath>(static_cast<const T*>(p.grad_h)[u], x[0], x[H], x[2 * H], hg[0],
                                                hg[H], hg[2 * H], static_cast<const T*>(p.h_prev)[u], dr, dz,
                                                dx[2 * H], dhg[2 * H], static_cast<T*>(p.grad_h_prev)[u]);
    dx[0] = dhg[0] = dr;  // r and z enter as x + h: one gradient for both
    dx[H] = dhg[H] = dz;
  }
}

template <class Problem>
void launch(void (*kernel)(Problem), const Problem& p) {
  const int64_t n = p.rows * p.hidden;
  if (n == 0) return;
  DL_LAUNCH(kernel, blocks_for(n), kThreads, 0, current_stream(), p);
  DL_CHECK_LAUNCH();
}

}  // namespace

void lstm_cell(DType dt, const LstmCellProblem& p) {
  dispatch_floating(dt, [&](auto tag) { launch(lstm_forward_kernel<decltype(tag)>, p); });
}

void lstm_cell_backward(DType dt, const LstmCellProblem& p) {
  dispatch_floating(dt, [&](auto tag) { launch(lstm_backward_kernel<decltype(tag)>, p); });
}

void gru_cell(DType dt, const GruCellProblem& p) {
  dispatch_floating(dt, [&](auto tag) { launch(gru_forward_kernel<decltype(tag)>, p); });
}

void gru_cell_backward(DType dt, const GruCellProblem& p) {
  dispatch_floating(dt, [&](auto tag) { launch(gru_backward_kernel<decltype(tag)>, p); });
}

}  // namespace dlcore::cuda
