// Batch norm and layer norm: checks and layout. Batch norm sees its input
// (N, C, d1, ...) as a contiguous (N, C, S) tensor, layer norm as (rows,
// cols) with cols the normalized trailing dims; both save per-channel (per
// row) mean and invstd in float64 for the backward. Running statistics are
// updated in place by the kernel, so they must be contiguous tensors of the
// input's dtype and device.
#include <vector>
#include "ops/ops.h"

namespace dlcore::ops {

namespace {

// weight, bias, running statistics and saved statistics: `shape` on x's device.
void check_param(const char* op, const char* what, const Tensor& t, const Shape& shape, const Tensor& x,
                 DType dtype) {
  check_same_device(op, x, t);
  DL_CHECK(t.shape == shape, ValueError, "[", op, "] expected ", what, " of shape ", shape_str(shape), ", got ",
           shape_str(t.shape));
  DL_CHECK(t.dtype == dtype, TypeError, "[", op, "] expected ", what, " of dtype ", dtype_name(dtype), ", got ",
           dtype_name(t.dtype));
}

void check_optional(const char* op, const char* what, const std::optional<Tensor>& t, const Shape& shape,
                    const Tensor& x) {
  if (t) check_param(op, what, *t, shape, x, x.dtype);
}

// An optional parameter as a contiguous tensor (undefined when absent), and its data or null.
Tensor contiguous_or_none(const std::optional<Tensor>& t) { return t ? contiguous(*t) : Tensor{}; }
const void* data_or_null(const std::optional<Tensor>& t, const Tensor& c) { return t ? c.data() : nullptr; }

// The forward's operands: contiguous inputs (kept alive in `keep`) and the fresh outputs.
void forward_operands(NormOperands& p, std::vector<Tensor>& keep, const Tensor& x, const std::optional<Tensor>& weight,
                      const std::optional<Tensor>& bias, const NormResult& r) {
  keep = {contiguous(x), contiguous_or_none(weight), contiguous_or_none(bias)};
  p.x = keep[0].data();
  p.weight = data_or_null(weight, keep[1]);
  p.bias = data_or_null(bias, keep[2]);
  p.y = r.y.data();
  p.mean = r.mean.data_as<double>();
  p.invstd = r.invstd.data_as<double>();
}

// The backward's checks (parameters of shape `params`, saved statistics of
// shape `stats`) and operands: contiguous inputs (kept alive in `keep`) and
// the fresh gradients it returns.
NormGrads backward_operands(const char* op, NormOperands& p, std::vector<Tensor>& keep, const Tensor& grad,
                            const Tensor& x, const std::optional<Tensor>& weight, const Tensor& mean,
                            const Tensor& invstd, const Shape& params, const Shape& stats) {
  check_like(op, "grad", grad, "input", x);
  check_optional(op, "weight", weight, params, x);
  check_param(op, "saved mean", mean, stats, x, DType::Float64);
  check_param(op, "saved invstd", invstd, stats, x, DType::Float64);
  NormGrads r{Tensor::empty(x.shape, x.dtype, x.device()), Tensor::empty(params, x.dtype, x.device()),
              Tensor::empty(params, x.dtype, x.device())};
  keep = {contiguous(x), contiguous(grad), contiguous(mean), contiguous(invstd), contiguous_or_none(weight)};
  p.x = keep[0].data();
  p.dy = keep[1].data();
  p.mean = const_cast<double*>(keep[2].data_as<double>());
  p.invstd = const_cast<double*>(keep[3].data_as<double>());
  p.weight = data_or_null(weight, keep[4]);
  p.dx = r.dx.data();
  p.dweight = r.dweight.data();
  p.dbias = r.dbias.data();
  return r;
}

struct BatchLayout {
  int64_t N = 0, C = 0, S = 1;
};

BatchLayout batch_layout(const char* op, const Tensor& x) {
  check_floating(op, "input", x);
  DL_CHECK(x.ndim() >= 2, ValueError, "[", op, "] expected input of shape (N, C) or (N, C, d1, ...), got ",
           shape_str(x.shape));
  BatchLayout l;
  l.N = x.shape[0];
  l.C = x.shape[1];
  for (int d = 2; d < x.ndim(); ++d) l.S *= x.shape[d];
  return l;
}

// The columns a layer norm normalizes over: x's trailing dims, which must be normalized_shape.
int64_t layer_cols(const char* op, const Tensor& x, const Shape& normalized_shape) {
  check_floating(op, "input", x);
  const size_t k = normalized_shape.size();
  DL_CHECK(k >= 1, ValueError, "[", op, "] expected a normalized_shape with at least one dim, got ()");
  const bool ok = x.shape.size() >= k && Shape(x.shape.end() - static_cast<std::ptrdiff_t>(k), x.shape.end()) == normalized_shape;
  DL_CHECK(ok, ValueError, "[", op, "] expected input whose trailing dims are normalized_shape ",
           shape_str(normalized_shape), ", got shape ", shape_str(x.shape));
  return shape_numel(normalized_shape);
}

Shape leading(const Tensor& x, const Shape& normalized_shape) {
  return Shape(x.shape.begin(), x.shape.end() - static_cast<std::ptrdiff_t>(normalized_shape.size()));
}

}  // namespace

NormResult batch_norm(const Tensor& x, const std::optional<Tensor>& running_mean,
                      const std::optional<Tensor>& running_var, const std::optional<Tensor>& weight,
                      const std::optional<Tensor>& bias, bool training, double momentum, double eps) {
  const char* op = "batch_norm";
  const BatchLayout l = batch_layout(op, x);
  const Shape cs{l.C};
  check_optional(op, "weight", weight, cs, x);
  check_optional(op, "bias", bias, cs, x);
  DL_CHECK(running_mean.has_value() == running_var.has_value(), ValueError, "[", op,
           "] expected both running_mean and running_var, or neither");
  for (const auto& [t, what] : {std::pair{&running_mean, "running_mean"}, std::pair{&running_var, "running_var"}}) {
    check_optional(op, what, *t, cs, x);
    DL_CHECK(!*t || (*t)->is_contiguous(), ValueError, "[", op, "] expected a contiguous ", what,
             " (it is updated in place)");
  }
  DL_CHECK(training || running_mean, ValueError, "[", op,
           "] expected running_mean and running_var when not training (they normalize)");
  DL_CHECK(!training || l.N * l.S > 1, ValueError, "[", op,
           "] expected more than 1 value per channel when training, got input of shape ", shape_str(x.shape));
  DL_CHECK(eps >= 0, ValueError, "[", op, "] expected eps >= 0, got ", eps);
  DL_CHECK(momentum >= 0 && momentum <= 1, ValueError, "[", op, "] expected momentum in [0, 1], got ", momentum);
  NormResult r{Tensor::empty(x.shape, x.dtype, x.device()), Tensor::empty(cs, DType::Float64, x.device()),
               Tensor::empty(cs, DType::Float64, x.device())};
  BatchNormProblem p;
  std::vector<Tensor> keep;
  forward_operands(p, keep, x, weight, bias, r);
  p.N = l.N;
  p.C = l.C;
  p.S = l.S;
  p.training = training;
  p.eps = eps;
  p.momentum = momentum;
  p.running_mean = running_mean ? running_mean->data() : nullptr;
  p.running_var = running_var ? running_var->data() : nullptr;
  if (l.C > 0) kernels_for(op, x).batch_norm(x.dtype, p);
  return r;
}

NormGrads batch_norm_backward(const Tensor& grad, const Tensor& x, const std::optional<Tensor>& weight,
                              const Tensor& mean, const Tensor& invstd, bool training) {
  const char* op = "batch_norm";
  const BatchLayout l = batch_layout(op, x);
  BatchNormProblem p;
  std::vector<Tensor> keep;
  const NormGrads r = backward_operands(op, p, keep, grad, x, weight, mean, invstd, {l.C}, {l.C});
  p.N = l.N;
  p.C = l.C;
  p.S = l.S;
  p.training = training;
  if (l.C > 0) kernels_for(op, x).batch_norm_backward(x.dtype, p);
  return r;
}

NormResult layer_norm(const Tensor& x, const Shape& normalized_shape, const std::optional<Tensor>& weight,
                      const std::optional<Tensor>& bias, double eps) {
  const char* op = "layer_norm";
  const int64_t cols = layer_cols(op, x, normalized_shape);
  check_optional(op, "weight", weight, normalized_shape, x);
  check_optional(op, "bias", bias, normalized_shape, x);
  DL_CHECK(eps >= 0, ValueError, "[", op, "] expected eps >= 0, got ", eps);
  const Shape rows_shape = leading(x, normalized_shape);
  NormResult r{Tensor::empty(x.shape, x.dtype, x.device()), Tensor::empty(rows_shape, DType::Float64, x.device()),
               Tensor::empty(rows_shape, DType::Float64, x.device())};
  LayerNormProblem p;
  std::vector<Tensor> keep;
  forward_operands(p, keep, x, weight, bias, r);
  p.rows = shape_numel(rows_shape);
  p.cols = cols;
  p.eps = eps;
  if (p.rows > 0) kernels_for(op, x).layer_norm(x.dtype, p);
  return r;
}

NormGrads layer_norm_backward(const Tensor& grad, const Tensor& x, const Shape& normalized_shape,
                              const std::optional<Tensor>& weight, const Tensor& mean, const Tensor& invstd) {
  const char* op = "layer_norm";
  const int64_t cols = layer_cols(op, x, normalized_shape);
  const Shape rows_shape = leading(x, normalized_shape);
  LayerNormProblem p;
  std::vector<Tensor> keep;
  const NormGrads r = backward_operands(op, p, keep, grad, x, weight, mean, invstd, normalized_shape, rows_shape);
  p.rows = shape_numel(rows_shape);
  p.cols = cols;
  if (p.rows > 0 && cols > 0) kernels_for(op, x).layer_norm_backward(x.dtype, p);
  else if (cols > 0) {  // no rows: the parameters' gradients are sums of nothing
    fill(r.dweight, Scalar::of_float(0));
    fill(r.dbias, Scalar::of_float(0));
  }
  return r;
}

}  // namespace dlcore::ops
