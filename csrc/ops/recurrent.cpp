// Fused recurrent cells: the checks of lstm_cell / gru_cell and their
// backward (shapes, dtypes, devices), output allocation, and the kernels.
// The sizes come from the gates: (N, 4H) for the LSTM, (N, 3H) for the GRU;
// every other operand must then be (N, H) or the gates' shape, of the gates'
// dtype and on their device. Views are compacted (the kernels index
// contiguous rows); the tensors of a recurrent layer already are.
#include <tuple>
#include "ops/ops.h"

namespace dlcore::ops {

namespace {

// (N, H) from gates of shape (N, k H).
std::pair<int64_t, int64_t> cell_size(const char* op, const char* what, const Tensor& gates, int k) {
  check_floating(op, what, gates);
  DL_CHECK(gates.ndim() == 2 && gates.shape[1] % k == 0, ValueError, "[", op, "] expected ", what,
           " of shape (N, ", k, " * hidden_size), got ", shape_str(gates.shape));
  return {gates.shape[0], gates.shape[1] / k};
}

// t of `shape` with the gates' dtype and device, compacted.
Tensor operand(const char* op, const char* what, const Tensor& t, const Shape& shape, const Tensor& gates) {
  check_same_device(op, gates, t);
  DL_CHECK(t.shape == shape, ValueError, "[", op, "] expected ", what, " of shape ", shape_str(shape), ", got ",
           shape_str(t.shape));
  DL_CHECK(t.dtype == gates.dtype, TypeError, "[", op, "] expected ", what, " of dtype ", dtype_name(gates.dtype),
           " (the gates'), got ", dtype_name(t.dtype));
  return contiguous(t);
}

// A cell's checked, compacted inputs (kept alive while the kernel reads them)
// and its problem with the sizes and those inputs filled in.
struct LstmArgs {
  Tensor gates, c_prev;
  LstmCellProblem p;
};

LstmArgs lstm_args(const char* op, const Tensor& gates, const Tensor& c_prev) {
  const auto [N, H] = cell_size(op, "gates", gates, 4);
  LstmArgs a{contiguous(gates), operand(op, "c_prev", c_prev, {N, H}, gates), {}};
  a.p.rows = N;
  a.p.hidden = H;
  a.p.gates = a.gates.data();
  a.p.c_prev = a.c_prev.data();
  return a;
}

struct GruArgs {
  Tensor x_gates, h_gates, h_prev;
  GruCellProblem p;
};

GruArgs gru_args(const char* op, const Tensor& x_gates, const Tensor& h_gates, const Tensor& h_prev) {
  const auto [N, H] = cell_size(op, "x_gates", x_gates, 3);
  GruArgs a{contiguous(x_gates), operand(op, "h_gates", h_gates, x_gates.shape, x_gates),
            operand(op, "h_prev", h_prev, {N, H}, x_gates), {}};
  a.p.rows = N;
  a.p.hidden = H;
  a.p.x_gates = a.x_gates.data();
  a.p.h_gates = a.h_gates.data();
  a.p.h_prev = a.h_prev.data();
  return a;
}

Tensor empty_like(const Tensor& t) { return Tensor::empty(t.shape, t.dtype, t.device()); }

}  // namespace

std::pair<Tensor, Tensor> lstm_cell(const Tensor& gates, const Tensor& c_prev) {
  const char* op = "lstm_cell";
  LstmArgs a = lstm_args(op, gates, c_prev);
  Tensor h = empty_like(a.c_prev), c = empty_like(a.c_prev);
  a.p.h = h.data();
  a.p.c = c.data();
  if (h.numel() > 0) kernels_for(op, gates).lstm_cell(gates.dtype, a.p);
  return {h, c};
}

std::pair<Tensor, Tensor> lstm_cell_backward(const Tensor& grad_h, const std::optional<Tensor>& grad_c,
                                             const Tensor& gates, const Tensor& c_prev, const Tensor& c) {
  const char* op = "lstm_cell_backward";
  LstmArgs a = lstm_args(op, gates, c_prev);
  const Shape& state = a.c_prev.shape;
  const Tensor dh = operand(op, "grad_h", grad_h, state, gates), cc = operand(op, "c", c, state, gates);
  const Tensor dc = grad_c ? operand(op, "grad_c", *grad_c, state, gates) : Tensor();
  Tensor dgates = empty_like(a.gates), dcp = empty_like(a.c_prev);
  a.p.c = cc.data();
  a.p.grad_h = dh.data();
  a.p.grad_c = grad_c ? dc.data() : nullptr;
  a.p.grad_gates = dgates.data();
  a.p.grad_c_prev = dcp.data();
  if (dcp.numel() > 0) kernels_for(op, gates).lstm_cell_backward(gates.dtype, a.p);
  return {dgates, dcp};
}

Tensor gru_cell(const Tensor& x_gates, const Tensor& h_gates, const Tensor& h_prev) {
  const char* op = "gru_cell";
  GruArgs a = gru_args(op, x_gates, h_gates, h_prev);
  Tensor h = empty_like(a.h_prev);
  a.p.h = h.data();
  if (h.numel() > 0) kernels_for(op, x_gates).gru_cell(x_gates.dtype, a.p);
  return h;
}

std::tuple<Tensor, Tensor, Tensor> gru_cell_backward(const Tensor& grad_h, const Tensor& x_gates,
                                                     const Tensor& h_gates, const Tensor& h_prev) {
  const char* op = "gru_cell_backward";
  GruArgs a = gru_args(op, x_gates, h_gates, h_prev);
  const Tensor dh = operand(op, "grad_h", grad_h, a.h_prev.shape, x_gates);
  Tensor dx = empty_like(a.x_gates), dhg = empty_like(a.x_gates), dhp = empty_like(a.h_prev);
  a.p.grad_h = dh.data();
  a.p.grad_x_gates = dx.data();
  a.p.grad_h_gates = dhg.data();
  a.p.grad_h_prev = dhp.data();
  if (dhp.numel() > 0) kernels_for(op, x_gates).gru_cell_backward(x_gates.dtype, a.p);
  return {dx, dhg, dhp};
}

}  // namespace dlcore::ops
