// Softmax, log-softmax, cross-entropy and NLL: checks and layout for the
// softmax kernels, which see contiguous (rows, classes) matrices. A softmax
// over another axis, or class scores (N, C, d1, ...), are moved to that
// layout by one copy (and the result moved back); the common cases -- the
// last axis, (N, C) scores -- need none. Cross-entropy and NLL are one
// kernel call each way: the kernel checks the labels' range as it reads
// them (reporting the first bad row through a one-element flag that is read
// here once, afterwards, and turned into the error) and reduces the loss
// itself -- a mean over integer labels divides by the summed class weights
// of the labels that are not ignore_index (their count without weights;
// NaN when there are none, as in PyTorch).
#include "ops/ops.h"

namespace dlcore::ops {

namespace {

// The (rows, classes) view of class scores: the class dim (1, or 0 for
// unbatched (C,) input) moved last.
struct ClassLayout {
  int cdim = 0;
  int64_t classes = 0;
  Shape sample_shape;  // the scores' shape without the class dim
};

ClassLayout class_layout(const char* op, const Tensor& input) {
  DL_CHECK(input.ndim() >= 1, ValueError, "[", op, "] expected input of shape (C,), (N, C) or (N, C, d1, ...), got ",
           shape_str(input.shape));
  ClassLayout l;
  l.cdim = input.ndim() == 1 ? 0 : 1;
  l.classes = input.shape[l.cdim];
  for (int d = 0; d < input.ndim(); ++d) if (d != l.cdim) l.sample_shape.push_back(input.shape[d]);
  return l;
}

bool is_labels(const char* op, const Tensor& target, bool log_probs) {
  DL_CHECK(target.dtype != DType::Bool, TypeError, "[", op, "] expected integer class labels (int64 or int32)",
           log_probs ? "" : " or floating class probabilities", ", got bool");
  DL_CHECK(!log_probs || !is_floating(target.dtype), TypeError, "[", op,
           "] expected integer class labels (int64 or int32), got ", dtype_name(target.dtype));
  return !is_floating(target.dtype);
}

Shape stats_shape(const ClassLayout& l) {
  Shape s = l.sample_shape;
  s.push_back(3);
  return s;
}

struct Prepared {
  ClassLayout layout;
  Tensor scores, labels, probs, weight;  // (rows, classes), (rows,) int64 or (rows, classes), (classes,)
  Tensor bad_row;                        // the kernel's report of an out-of-range label
  CrossEntropyProblem p;
};

Prepared prepare(const char* op, const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                 double smoothing, int64_t ignore_index, bool log_probs) {
  check_floating(op, "input", input);
  Prepared r;
  r.layout = class_layout(op, input);
  check_same_device(op, input, target);
  DL_CHECK(smoothing >= 0 && smoothing <= 1, ValueError, "[", op, "] expected label_smoothing in [0, 1], got ",
           smoothing);
  const int64_t C = r.layout.classes, rows = shape_numel(r.layout.sample_shape);
  r.scores = reshape(moved_last(input, r.layout.cdim), {rows, C});
  if (is_labels(op, target, log_probs)) {
    DL_CHECK(target.shape == r.layout.sample_shape, ValueError, "[", op, "] expected target of shape ",
             shape_str(r.layout.sample_shape), ", got ", shape_str(target.shape));
    r.labels = contiguous(reshape(astype(target, DType::Int64), {rows}));
    r.bad_row = to_device(scalar_tensor(Scalar::of_int(rows), DType::Int64), input.device());
    r.p.labels = r.labels.data_as<int64_t>();
    r.p.bad_row = r.bad_row.data_as<int64_t>();
  } else {
    check_like(op, "target probabilities", target, "input", input);
    r.probs = reshape(moved_last(target, r.layout.cdim), {rows, C});
    r.p.target = r.probs.data();
  }
  if (weight) {
    r.weight = class_weights(op, *weight, input, C);
    r.p.weight = r.weight.data();
  }
  r.p.rows = rows;
  r.p.classes = C;
  r.p.log_probs = log_probs;
  r.p.logits = r.scores.data();
  r.p.ignore_index = ignore_index;
  r.p.smoothing = smoothing;
  return r;
}

// The error for the first out-of-range label the kernel found, if any: one
// read of the flag (and of that label).
void raise_bad_label(const char* op, const Prepared& r) {
  if (!r.p.labels) return;
  const int64_t row = *to_device(r.bad_row, Device{}).data_as<int64_t>();
  if (row >= r.p.rows) return;
  const int64_t label = *to_device(select(r.labels, 0, row), Device{}).data_as<int64_t>();
  label_out_of_range(op, label, r.p.classes, r.p.ignore_index);
}

// rows x 2 float64 for the kernels' fixed-order sums.
Tensor scratch_for(const Prepared& r) { return Tensor::empty({r.p.rows, 2}, DType::Float64, r.scores.device()); }

// Runs the forward (grad == nullptr: out = softmax(x)) or the backward
// (x is the output y, out = dx) along dim, through the (rows, classes) layout.
Tensor run_softmax(const char* name, const Tensor& x, const Tensor* grad, int64_t dim, bool log) {
  const int d = normalize_dim(name, dim, x.ndim());
  const KernelTable& k = kernels_for(name, x);
  const Tensor xm = moved_last(x, d);
  const Tensor gm = grad ? moved_last(*grad, d) : Tensor{};
  Tensor out = Tensor::empty(xm.shape, x.dtype, x.device());
  SoftmaxProblem p;
  p.classes = x.ndim() == 0 ? 1 : x.shape[d];
  p.rows = p.classes == 0 ? 0 : xm.numel() / p.classes;
  p.log = log;
  p.x = xm.data();
  p.dy = grad ? gm.data() : nullptr;
  p.out = out.data();
  if (xm.numel() > 0) (grad ? k.softmax_backward : k.softmax)(x.dtype, p);
  return moved_back(out, d);
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  check_floating(name, "input", x);
  return run_softmax(name, x, nullptr, dim, log);
}

Tensor softmax_backward(const Tensor& grad, const Tensor& output, int64_t dim, bool log) {
  const char* name = log ? "log_softmax" : "softmax";
  check_floating(name, "grad", grad);
  check_like(name, "output", output, "grad", grad);
  return run_softmax(name, output, &grad, dim, log);
}

std::pair<Tensor, Tensor> cross_entropy(const Tensor& input, const Tensor& target, const std::optional<Tensor>& weight,
                                        Reduction reduction, double smoothing, int64_t ignore_index, bool log_probs) {
  const char* name = log_probs ? "nll_loss" : "cross_entropy";
  Prepared r = prepare(name, input, target, weight, smoothing, ignore_index, log_probs);
  const KernelTable& k = kernels_for(name, input);
  r.p.reduce = reduction != Reduction::None;
  r.p.mean = reduction == Reduction::Mean;
  Tensor loss = Tensor::empty(r.p.reduce ? Shape{} : r.layout.sample_shape, input.dtype, input.device());
  Tensor stats = Tensor::empty(stats_shape(r.layout), DType::Float64, input.device());
  const Tensor scratch = r.p.reduce ? scratch_for(r) : Tensor{};
  r.p.loss = loss.data();
  r.p.stats = log_probs ? nullptr : stats.data();
  r.p.scratch = r.p.reduce ? scratch.data_as<double>() : nullptr;
  if (r.p.rows > 0 || r.p.reduce) k.cross_entropy(input.dtype, r.p);
  raise_bad_label(name, r);
  return {loss, stats};
}

Tensor cross_entropy_backward(const Tensor& grad, const Tensor& input, const Tensor& target, const Tensor& stats,
                              const std::optional<Tensor>& weight, Reduction reduction, double smoothing,
                              int64_t ignore_index, bool log_probs) {
  const char* name = log_probs ? "nll_loss" : "cross_entropy";
  Prepared r = prepare(name, input, target, weight, smoothing, ignore_index, log_probs);
  check_floating(name, "grad", grad);
  check_same_device(name, input, grad);
  DL_CHECK(grad.dtype == input.dtype, TypeError, "[", name, "] expected grad of dtype ", dtype_name(input.dtype),
           " (the input's), got ", dtype_name(grad.dtype));
  const Shape want = reduction == Reduction::None ? r.layout.sample_shape : Shape{};
  DL_CHECK(grad.shape == want, ValueError, "[", name, "] expected grad of shape ", shape_str(want), " (reduction '",
           reduction == Reduction::None ? "none" : (reduction == Reduction::Sum ? "sum" : "mean"), "'), got ",
           shape_str(grad.shape));
  Tensor stats_c;
  if (!log_probs) {
    check_same_device(name, input, stats);
    DL_CHECK(stats.shape == stats_shape(r.layout) && stats.dtype == DType::Float64, ValueError, "[", name,
             "] expected stats of shape ", shape_str(stats_shape(r.layout)),
             " and dtype float64 (what the forward returned), got ", shape_str(stats.shape), " ",
             dtype_name(stats.dtype));
    stats_c = contiguous(stats);
    r.p.stats = stats_c.data();
  }
  const Tensor g = contiguous(grad);
  r.p.grad = g.data();
  r.p.grad_per_row = reduction == Reduction::None;
  r.p.mean = reduction == Reduction::Mean;
  const Tensor scratch = r.p.mean ? scratch_for(r) : Tensor{};
  r.p.scratch = r.p.mean ? scratch.data_as<double>() : nullptr;
  const KernelTable& k = kernels_for(name, input);
  Tensor dx = Tensor::empty(r.scores.shape, input.dtype, input.device());
  r.p.dlogits = dx.data();
  if (dx.numel() > 0) k.cross_entropy_backward(input.dtype, r.p);
  raise_bad_label(name, r);
  Shape moved = r.layout.sample_shape;
  moved.push_back(r.layout.classes);
  if (input.ndim() == 1) return reshape(dx, input.shape);
  // (N, d1, ..., C) -> (N, C, d1, ...)
  return moved_back(reshape(dx, moved), r.layout.cdim);
}

}  // namespace dlcore::ops
