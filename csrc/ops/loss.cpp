// Losses: checks and reductions for the elementwise losses (and the L1 / L2
// penalties, which are L1 / MSE against a broadcast zero), the multi-class
// hinge and the cosine similarity. Per-sample losses come from the kernels
// (a weight multiplies them there; a pos_weight selects the BCE-on-logits
// kernel that reads it); 'sum' and 'mean' reduce them with the sum kernel
// (fixed order, float64 accumulation; the mean of nothing is NaN, as in
// PyTorch), and the backward folds the reduction and any weight into the
// gradient it hands the kernel. A target that broadcasts with the input (the
// regression losses, kl_div) gives the loss the broadcast shape, and the
// backward returns d loss / d input over that shape: autograd sums it to the
// input's shape and, negated, to the target's for the losses of input - target.
#include "ops/ops.h"

namespace dlcore::ops {

namespace {

const char* reduction_name(Reduction r) {
  return r == Reduction::None ? "none" : (r == Reduction::Sum ? "sum" : "mean");
}

Tensor reduce_loss(const Tensor& per_sample, Reduction r) {
  if (r == Reduction::None) return per_sample;
  return r == Reduction::Sum ? sum(per_sample, std::nullopt, false) : mean(per_sample, std::nullopt, false);
}

// The gradient the kernels read: grad itself ('none': the samples' shape;
// else a 0-d tensor), divided by the sample count for 'mean'.
Tensor loss_grad(const char* op, const Tensor& grad, const Tensor& input, const Shape& samples, Reduction r) {
  check_same_device(op, input, grad);
  DL_CHECK(grad.dtype == input.dtype, TypeError, "[", op, "] expected grad of dtype ", dtype_name(input.dtype),
           " (the input's), got ", dtype_name(grad.dtype));
  const Shape want = r == Reduction::None ? samples : Shape{};
  DL_CHECK(grad.shape == want, ValueError, "[", op, "] expected grad of shape ", shape_str(want), " (reduction '",
           reduction_name(r), "'), got ", shape_str(grad.shape));
  if (r != Reduction::Mean) return contiguous(grad);
  return binary_scalar(BinaryOp::Div, grad, Scalar::of_float(static_cast<double>(shape_numel(samples))), false);
}

// PyTorch broadcasts the target of the regression losses and of kl_div
// with the input; the binary cross-entropies take one shape.
bool broadcasts(Loss kind) {
  return kind != Loss::BCE && kind != Loss::BCEWithLogits && kind != Loss::BCEWithLogitsPosWeight;
}

bool broadcasts_to(const Shape& from, const Shape& to) {
  if (from.size() > to.size()) return false;
  for (size_t i = 0; i < from.size(); ++i) {
    const int64_t f = from[from.size() - 1 - i], t = to[to.size() - 1 - i];
    if (f != 1 && f != t) return false;
  }
  return true;
}

// The checked operands of an elementwise loss and the loss's shape.
struct LossArgs {
  Loss kind;
  Shape shape;
  const Tensor* weight = nullptr;
  const Tensor* pos_weight = nullptr;
};

// A weight or pos_weight: the input's dtype and device, broadcast to the loss.
void check_weight(const char* op, const char* what, const Tensor& w, const Tensor& input, const Shape& shape) {
  check_same_device(op, input, w);
  DL_CHECK(w.dtype == input.dtype, TypeError, "[", op, "] expected ", what, " of dtype ", dtype_name(input.dtype),
           " (the input's), got ", dtype_name(w.dtype));
  DL_CHECK(broadcasts_to(w.shape, shape), ValueError, "[", op, "] expected ", what, " broadcastable to the input's shape ",
           shape_str(shape), ", got ", shape_str(w.shape));
}

LossArgs loss_args(const char* op, Loss kind, const Tensor& input, const Tensor& target,
                   const std::optional<Tensor>& weight, const std::optional<Tensor>& pos_weight) {
  check_floating(op, "input", input);
  LossArgs r;
  r.kind = kind;
  if (broadcasts(kind)) {
    check_same_device(op, input, target);
    DL_CHECK(target.dtype == input.dtype, TypeError, "[", op, "] expected target of dtype ", dtype_name(input.dtype),
             " (the input's), got ", dtype_name(target.dtype));
    r.shape = broadcast_shapes(op, input.shape, target.shape);
  } else {
    check_like(op, "target", target, "input", input);
    r.shape = input.shape;
  }
  if (weight) {
    check_weight(op, "weight", *weight, input, r.shape);
    r.weight = &*weight;
  }
  if (pos_weight) {
    check_weight(op, "pos_weight", *pos_weight, input, r.shape);
    r.pos_weight = &*pos_weight;
    r.kind = Loss::BCEWithLogitsPosWeight;
  }
  return r;
}

void check_param(Loss kind, double a) {
  if (kind == Loss::SmoothL1)
    DL_CHECK(a >= 0, ValueError, "[smooth_l1_loss] expected beta >= 0, got ", a);
  if (kind == Loss::Huber) DL_CHECK(a > 0, ValueError, "[huber_loss] expected delta > 0, got ", a);
}

// Smooth L1 with beta = 0 is L1 (PyTorch's convention), which the kernel
// computes without dividing by beta.
Loss effective(Loss kind, double a) { return kind == Loss::SmoothL1 && a == 0 ? Loss::L1 : kind; }

// BCE's probabilities lie in [0, 1] (NaN passes and gives NaN).
void check_probabilities(const char* op, const Tensor& input) {
  if (input.numel() == 0) return;
  const double lo = *to_device(astype(amin(input, std::nullopt, false), DType::Float64), Device{}).data_as<double>();
  const double hi = *to_device(astype(amax(input, std::nullopt, false), DType::Float64), Device{}).data_as<double>();
  DL_CHECK(!(lo < 0) && !(hi > 1), ValueError, "[", op, "] expected input probabilities in [0, 1], got values in [",
           lo, ", ", hi, "]");
}

// Kernel loop operands: out, x, t[, pos_weight][, weight].
Tensor run_loss(const char* op, const LossArgs& r, const Tensor& input, const Tensor& target, double a) {
  Tensor out = Tensor::empty(r.shape, input.dtype, input.device());
  const Tensor *p = r.pos_weight, *w = r.weight;
  const StridedLoop loop = p ? (w ? make_loop(op, out, {&input, &target, p, w}) : make_loop(op, out, {&input, &target, p}))
                             : (w ? make_loop(op, out, {&input, &target, w}) : make_loop(op, out, {&input, &target}));
  if (out.numel() > 0) kernels_for(op, input).loss(effective(r.kind, a), input.dtype, loop, a);
  return out;
}

// Kernel loop operands: dx, x, t, g[, pos_weight], any weight folded into g.
Tensor run_loss_backward(const char* op, const LossArgs& r, const Tensor& grad, const Tensor& input,
                         const Tensor& target, double a) {
  const Tensor g = r.weight ? binary(BinaryOp::Mul, grad, *r.weight) : grad;
  Tensor dx = Tensor::empty(r.shape, input.dtype, input.device());
  const StridedLoop loop = r.pos_weight ? make_loop(op, dx, {&input, &target, &g, r.pos_weight})
                                        : make_loop(op, dx, {&input, &target, &g});
  if (dx.numel() > 0) kernels_for(op, input).loss_backward(effective(r.kind, a), input.dtype, loop, a);
  return dx;
}

// Scores (C,) or (N, C) and labels () or (N,) as (rows, classes) and (rows,) int64.
struct MarginArgs {
  Tensor x, labels, weight;
  MarginProblem p;
};

MarginArgs margin_args(const char* op, const Tensor& input, const Tensor& target, int power, double margin,
                       const std::optional<Tensor>& weight) {
  check_floating(op, "input", input);
  check_same_device(op, input, target);
  DL_CHECK(input.ndim() == 1 || input.ndim() == 2, ValueError, "[", op, "] expected input of shape (C,) or (N, C), got ",
           shape_str(input.shape));
  DL_CHECK(!is_floating(target.dtype) && target.dtype != DType::Bool, TypeError, "[", op,
           "] expected integer class labels (int64 or int32), got ", dtype_name(target.dtype));
  const Shape samples = input.ndim() == 1 ? Shape{} : Shape{input.shape[0]};
  DL_CHECK(target.shape == samples, ValueError, "[", op, "] expected target of shape ", shape_str(samples), ", got ",
           shape_str(target.shape));
  DL_CHECK(power == 1 || power == 2, ValueError, "[", op, "] expected p of 1 or 2, got ", power);
  MarginArgs r;
  r.p.classes = input.shape[input.ndim() - 1];
  r.p.rows = shape_numel(samples);
  DL_CHECK(r.p.classes > 0 || r.p.rows == 0, ValueError, "[", op, "] expected at least one class, got input of shape ",
           shape_str(input.shape));
  r.x = reshape(contiguous(input), {r.p.rows, r.p.classes});
  r.labels = contiguous(reshape(astype(target, DType::Int64), {r.p.rows}));
  check_labels(op, r.labels, r.p.classes, std::nullopt);
  r.p.power = power;
  r.p.margin = margin;
  r.p.x = r.x.data();
  r.p.labels = r.labels.data_as<int64_t>();
  if (weight) {
    r.weight = class_weights(op, *weight, input, r.p.classes);
    r.p.weight = r.weight.data();
  }
  return r;
}

// Two tensors of one shape as contiguous (rows, n) matrices, dim moved last.
struct CosineArgs {
  int d = 0;
  Tensor a, b;
  Shape out_shape;
  CosineProblem p;
};

CosineArgs cosine_args(const char* op, const Tensor& x1, const Tensor& x2, int64_t dim, double eps) {
  check_floating(op, "x1", x1);
  check_like(op, "x2", x2, "x1", x1);
  DL_CHECK(x1.ndim() >= 1, ValueError, "[", op, "] expected inputs with at least one dimension, got shape ()");
  DL_CHECK(eps > 0, ValueError, "[", op, "] expected eps > 0, got ", eps);
  CosineArgs r;
  r.d = normalize_dim(op, dim, x1.ndim());
  for (int i = 0; i < x1.ndim(); ++i) if (i != r.d) r.out_shape.push_back(x1.shape[i]);
  r.p.n = x1.shape[r.d];
  r.p.rows = shape_numel(r.out_shape);
  r.p.eps = eps;
  r.a = moved_last(x1, r.d);
  r.b = moved_last(x2, r.d);
  r.p.a = r.a.data();
  r.p.b = r.b.data();
  return r;
}

const char* penalty_name(bool l1) { return l1 ? "l1_penalty" : "l2_penalty"; }
Tensor zero_like(const Tensor& w) { return to_device(scalar_tensor(Scalar::of_float(0), w.dtype), w.device()); }

}  // namespace

const char* loss_name(Loss kind) {
  switch (kind) {
    case Loss::MSE: return "mse_loss";
    case Loss::L1: return "l1_loss";
    case Loss::SmoothL1: return "smooth_l1_loss";
    case Loss::Huber: return "huber_loss";
    case Loss::BCE: return "binary_cross_entropy";
    case Loss::BCEWithLogits: case Loss::BCEWithLogitsPosWeight: return "binary_cross_entropy_with_logits";
    case Loss::KLDiv: case Loss::KLDivLogTarget: return "kl_div";
  }
  return "loss";
}

Tensor loss(Loss kind, const Tensor& input, const Tensor& target, Reduction reduction, double a,
            const std::optional<Tensor>& weight, const std::optional<Tensor>& pos_weight) {
  const char* op = loss_name(kind);
  const LossArgs r = loss_args(op, kind, input, target, weight, pos_weight);
  check_param(kind, a);
  if (kind == Loss::BCE) check_probabilities(op, input);
  return reduce_loss(run_loss(op, r, input, target, a), reduction);
}

Tensor loss_backward(Loss kind, const Tensor& grad, const Tensor& input, const Tensor& target, Reduction reduction,
                     double a, const std::optional<Tensor>& weight, const std::optional<Tensor>& pos_weight) {
  const char* op = loss_name(kind);
  const LossArgs r = loss_args(op, kind, input, target, weight, pos_weight);
  check_param(kind, a);
  const Tensor g = loss_grad(op, grad, input, r.shape, reduction);
  return run_loss_backward(op, r, g, input, target, a);
}

Tensor penalty(bool l1, const Tensor& w, double lambda) {
  const char* op = penalty_name(l1);
  check_floating(op, "weight", w);
  const Tensor per = run_loss(op, {l1 ? Loss::L1 : Loss::MSE, w.shape}, w, zero_like(w), 0);
  return binary_scalar(BinaryOp::Mul, sum(per, std::nullopt, false), Scalar::of_float(lambda), false);
}

Tensor penalty_backward(bool l1, const Tensor& w, double lambda) {
  const char* op = penalty_name(l1);
  check_floating(op, "weight", w);
  const Tensor g = to_device(scalar_tensor(Scalar::of_float(lambda), w.dtype), w.device());
  return run_loss_backward(op, {l1 ? Loss::L1 : Loss::MSE, w.shape}, g, w, zero_like(w), 0);
}

Tensor multi_margin_loss(const Tensor& input, const Tensor& target, int power, double margin,
                         const std::optional<Tensor>& weight, Reduction reduction) {
  const char* op = "multi_margin_loss";
  MarginArgs r = margin_args(op, input, target, power, margin, weight);
  Tensor loss = Tensor::empty(target.shape, input.dtype, input.device());
  r.p.loss = loss.data();
  if (r.p.rows > 0) kernels_for(op, input).multi_margin(input.dtype, r.p);
  return reduce_loss(loss, reduction);
}

Tensor multi_margin_loss_backward(const Tensor& grad, const Tensor& input, const Tensor& target, int power,
                                  double margin, const std::optional<Tensor>& weight, Reduction reduction) {
  const char* op = "multi_margin_loss";
  MarginArgs r = margin_args(op, input, target, power, margin, weight);
  const Tensor g = loss_grad(op, grad, input, target.shape, reduction);
  Tensor dx = Tensor::empty(input.shape, input.dtype, input.device());
  r.p.grad = g.data();
  r.p.grad_per_row = reduction == Reduction::None;
  r.p.dx = dx.data();
  if (r.p.rows > 0) kernels_for(op, input).multi_margin_backward(input.dtype, r.p);
  return dx;
}

Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim, double eps) {
  const char* op = "cosine_similarity";
  CosineArgs r = cosine_args(op, x1, x2, dim, eps);
  Tensor out = Tensor::empty(r.out_shape, x1.dtype, x1.device());
  r.p.out = out.data();
  if (r.p.rows > 0) kernels_for(op, x1).cosine_similarity(x1.dtype, r.p);
  return out;
}

std::pair<Tensor, Tensor> cosine_similarity_backward(const Tensor& grad, const Tensor& x1, const Tensor& x2,
                                                     int64_t dim, double eps) {
  const char* op = "cosine_similarity";
  CosineArgs r = cosine_args(op, x1, x2, dim, eps);
  const Tensor g = loss_grad(op, grad, x1, r.out_shape, Reduction::None);
  Tensor da = Tensor::empty(r.a.shape, x1.dtype, x1.device()), db = Tensor::empty(r.b.shape, x1.dtype, x1.device());
  r.p.grad = g.data();
  r.p.da = da.data();
  r.p.db = db.data();
  if (r.p.rows > 0) kernels_for(op, x1).cosine_similarity_backward(x1.dtype, r.p);
  return {moved_back(da, r.d), moved_back(db, r.d)};
}

}  // namespace dlcore::ops
