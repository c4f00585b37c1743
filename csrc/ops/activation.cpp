// Activations: checks, output allocation and dispatch for the activation
// kernels (forward and backward), and the tensor-parameter forms: PReLU's
// slope and Swish's beta, one value or one per channel (dim 1), whose
// gradient is the kernel's per-element dy * d act / d a summed over every
// other dim by the reduction kernel (float64 accumulation, a fixed order:
// the same result for any thread count).
#include "ops/ops.h"

namespace dlcore::ops {

const char* activation_name(Activation act) {
  static const char* names[] = {"identity", "relu",    "leaky_relu", "elu",     "selu",      "silu",        "softplus",
                                "gelu",     "gelu",    "sigmoid",    "tanh",    "hardtanh", "hardsigmoid", "heaviside"};
  return names[static_cast<int>(act)];
}

namespace {

void check_params(Activation act, const ActivationParams& p) {
  const char* name = activation_name(act);
  if (act == Activation::ELU)  // the backward reads the output, which needs y > 0 <=> x > 0
    DL_CHECK(p.a >= 0, ValueError, "[", name, "] expected alpha >= 0, got ", p.a);
  if (act == Activation::Softplus) DL_CHECK(p.a != 0, ValueError, "[", name, "] expected beta != 0, got 0");
  if (act == Activation::HardTanh)
    DL_CHECK(p.a <= p.b, ValueError, "[", name, "] expected min_val <= max_val, got ", p.a, " and ", p.b);
}

const char* param_op_name(Activation act) { return act == Activation::LeakyReLU ? "prelu" : "swish"; }

// The parameter as a view that broadcasts against x: 0-d for one value,
// (1, C, 1, ...) for one per channel.
Tensor broadcast_param(Activation act, const Tensor& x, const Tensor& a) {
  const char* op = param_op_name(act);
  DL_CHECK(activation_has_param_grad(act), ValueError, "[", activation_name(act), "] has no tensor parameter");
  const char* what = act == Activation::LeakyReLU ? "weight" : "beta";
  const int64_t C = x.ndim() >= 2 ? x.shape[1] : 1;
  DL_CHECK(a.ndim() <= 1 && (a.numel() == 1 || a.numel() == C), ValueError, "[", op, "] expected ", what,
           " of shape (1,) or (", C, ",) (one per channel, dim 1 of the input), got ", shape_str(a.shape));
  check_same_device(op, x, a);
  DL_CHECK(a.dtype == x.dtype, TypeError, "[", op, "] expected ", what, " of dtype ", dtype_name(x.dtype),
           " (the input's), got ", dtype_name(a.dtype));
  if (a.numel() == 1) return reshape(a, {});
  Shape s(x.ndim(), 1);
  s[1] = C;
  return reshape(a, s);
}

}  // namespace

Tensor activation(Activation act, const Tensor& x, const ActivationParams& p) {
  const char* name = activation_name(act);
  check_floating(name, "input", x);
  check_params(act, p);
  const KernelTable& k = kernels_for(name, x);
  Tensor out = Tensor::empty(x.shape, x.dtype, x.device());
  k.activation(act, x.dtype, make_loop(name, out, {&x}), p);
  return out;
}

Tensor activation_backward(Activation act, const Tensor& grad, const Tensor& saved, const ActivationParams& p) {
  const char* name = activation_name(act);
  DL_CHECK(activation_has_grad(act), ValueError, "[", name,
           "] has no gradient: the step's derivative is 0 wherever it exists, so nothing could learn through "
           "it; train with a smooth activation (sigmoid, tanh) instead");
  const char* saved_name = activation_grad_uses_output(act) ? "output" : "input";
  check_floating(name, "grad", grad);
  check_like(name, saved_name, saved, "grad", grad);
  check_params(act, p);
  const KernelTable& k = kernels_for(name, grad);
  Tensor dx = Tensor::empty(grad.shape, grad.dtype, grad.device());
  k.activation_backward(act, grad.dtype, make_loop(name, dx, {&grad, &saved}), p, false);
  return dx;
}

Tensor param_activation(Activation act, const Tensor& x, const Tensor& a) {
  const char* name = param_op_name(act);
  check_floating(name, "input", x);
  const Tensor ab = broadcast_param(act, x, a);
  const KernelTable& k = kernels_for(name, x);
  Tensor out = Tensor::empty(x.shape, x.dtype, x.device());
  k.activation(act, x.dtype, make_loop(name, out, {&x, &ab}), default_params(act));
  return out;
}

std::pair<Tensor, Tensor> param_activation_backward(Activation act, const Tensor& grad, const Tensor& x,
                                                    const Tensor& a) {
  const char* name = param_op_name(act);
  check_floating(name, "grad", grad);
  check_like(name, "input", x, "grad", grad);
  const Tensor ab = broadcast_param(act, x, a);
  const KernelTable& k = kernels_for(name, x);
  Tensor dx = Tensor::empty(x.shape, x.dtype, x.device());
  Tensor g = Tensor::empty(x.shape, x.dtype, x.device());
  k.activation_backward(act, x.dtype, make_loop(name, dx, {&grad, &x, &ab}), default_params(act), false);
  k.activation_backward(act, x.dtype, make_loop(name, g, {&grad, &x, &ab}), default_params(act), true);
  std::vector<int64_t> dims;
  for (int d = 0; d < x.ndim(); ++d)
    if (a.numel() == 1 || d != 1) dims.push_back(d);
  Tensor da = dims.empty() ? g : sum(g, dims, false);
  return {dx, reshape(contiguous(da), a.shape)};
}

}  // namespace dlcore::ops
