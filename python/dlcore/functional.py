"""Neural-network functions with torch.nn.functional's names and signatures:
activations, softmax and losses (and the L1 / L2 regularizer penalties), normalization,
dropout, convolution and pooling, the fused LSTM / GRU cells, plus the tensor ops (linear,
reshape, cat, ...) under the same roof. Each is one call of a kernel through the op layer
(dlcore._C) and, when an input requires a gradient, records its backward: the matching
backward kernel (dlcore._C.<name>_backward(...); for convolution and pooling, whose backward
takes the layer's geometry, also the functions *_backward* here)."""
import math
import numbers

import numpy as np

from . import _C
from .autograd import needs_grad, record
from .tensor import (Tensor, _as_tensor, _op, _reduce_grad, _wrap, cat, chunk, concatenate, flatten, index_add,
                     index_select, linear, permute, reshape, split, squeeze, stack, transpose, unbind, unsqueeze, where,
                     zeros_like)

__all__ = ["relu", "leaky_relu", "prelu", "elu", "selu", "silu", "swish", "softplus", "gelu", "sigmoid", "tanh",
           "hardtanh", "hardsigmoid", "heaviside", "softmax", "log_softmax", "cross_entropy", "nll_loss",
           "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "multi_margin_loss", "kl_div", "cosine_similarity",
           "cosine_proximity_loss", "l1_penalty", "l2_penalty", "batch_norm", "layer_norm", "dropout", "dropout2d",
           "conv1d", "conv2d", "conv1d_backward_input", "conv1d_backward_weight", "conv2d_backward_input",
           "conv2d_backward_weight", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "max_pool2d_backward",
           "avg_pool2d_backward", "adaptive_avg_pool2d_backward", "activation", "linear", "reshape", "flatten",
           "transpose", "permute", "squeeze", "unsqueeze", "cat", "concatenate", "stack", "split", "chunk", "unbind",
           "index_select", "index_add", "where", "lstm_cell", "gru_cell"]


def _t(x, like=None):
    return _as_tensor(x, like=like)._t


# ---- activations --------------------------------------------------------------
# The backward kernels take the derivative from the output where it determines it (ReLU,
# sigmoid, tanh, ELU, SELU: no input kept alive), else from the input.

def _from_output(name, input, fwd, bwd, *params):
    x = _as_tensor(input)
    out = fwd(x._t, *params)
    return _op(name, out, (x,), lambda g: bwd(g, out, *params))


def _from_input(name, input, fwd, bwd, *params):
    x = _as_tensor(input)
    xt = x._t
    return _op(name, fwd(xt, *params), (x,), lambda g: bwd(g, xt, *params))


def _with_param(name, x, param, fwd, bwd):
    """An activation with a learned tensor parameter (PReLU's slope, Swish's beta)."""
    xt, pt = x._t, param._t
    return _op(name, fwd(xt, pt), (x, param), lambda g: bwd(g, xt, pt))


def relu(input):
    return _from_output("relu", input, _C.relu, _C.relu_backward)


def leaky_relu(input, negative_slope=0.01):
    return _from_input("leaky_relu", input, _C.leaky_relu, _C.leaky_relu_backward,
                       _number(negative_slope, "negative_slope", "leaky_relu"))


def prelu(input, weight):
    """max(0, x) + weight * min(0, x) with a learned slope: weight has one value, or one per channel (dim 1)."""
    x = _as_tensor(input)
    return _with_param("prelu", x, _as_tensor(weight, like=x), _C.prelu, _C.prelu_backward)


def elu(input, alpha=1.0):
    return _from_output("elu", input, _C.elu, _C.elu_backward, _number(alpha, "alpha", "elu"))


def selu(input):
    return _from_output("selu", input, _C.selu, _C.selu_backward)


def silu(input):
    """x * sigmoid(x) (Swish with beta = 1)."""
    return _from_input("silu", input, _C.silu, _C.silu_backward)


def swish(input, beta=1.0):
    """x * sigmoid(beta * x); beta a number, or a tensor (one value or one per channel) to learn it."""
    x = _as_tensor(input)
    if isinstance(beta, Tensor):
        return _with_param("swish", x, beta, _C.swish, _C.swish_backward)
    return _from_input("swish", x, _C.silu, _C.silu_backward, _number(beta, "beta", "swish"))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x where beta * x > threshold."""
    return _from_input("softplus", input, _C.softplus, _C.softplus_backward, float(beta), float(threshold))


def gelu(input, approximate="none"):
    """x * Phi(x) (approximate="none", erf form) or its tanh approximation (approximate="tanh")."""
    return _from_input("gelu", input, _C.gelu, _C.gelu_backward, approximate)


def sigmoid(input):
    return _from_output("sigmoid", input, _C.sigmoid, _C.sigmoid_backward)


def tanh(input):
    return _from_output("tanh", input, _C.tanh, _C.tanh_backward)


def hardtanh(input, min_val=-1.0, max_val=1.0):
    return _from_input("hardtanh", input, _C.hardtanh, _C.hardtanh_backward, float(min_val), float(max_val))


def hardsigmoid(input):
    """clip(x / 6 + 1/2, 0, 1)."""
    return _from_input("hardsigmoid", input, _C.hardsigmoid, _C.hardsigmoid_backward)


def heaviside(input):
    """The perceptron's step: 1 where x > 0, else 0 (NaN stays NaN). It has no gradient: backward
    through it raises an error."""
    return _from_input("heaviside", input, _C.heaviside, _C.heaviside_backward)


_ACTIVATIONS = {"identity": lambda x: x, "relu": relu, "leaky_relu": leaky_relu, "elu": elu, "selu": selu,
                "silu": silu, "swish": silu, "softplus": softplus, "gelu": gelu,
                "gelu_tanh": lambda x: gelu(x, "tanh"), "sigmoid": sigmoid, "tanh": tanh, "hardtanh": hardtanh,
                "hardsigmoid": hardsigmoid, "heaviside": heaviside}


def _activation_fn(name, op):
    """The activation function called name (None: the identity); layers check their activation with it."""
    fn = _ACTIVATIONS.get(name or "identity")
    if fn is None:
        raise ValueError(f"[{op}] unknown activation {name!r}; expected one of {sorted(_ACTIVATIONS)}")
    return fn


def activation(input, name):
    """The activation called `name` (the names linear() takes), with PyTorch's default parameters."""
    return _activation_fn(name, "activation")(input)


# ---- softmax and losses on class scores ------------------------------------------

def softmax(input, dim):
    """exp(x) / sum(exp(x)) along dim, max-subtracted (no overflow for huge scores)."""
    return _from_output("softmax", input, _C.softmax, _C.softmax_backward, int(dim))


def log_softmax(input, dim):
    return _from_output("log_softmax", input, _C.log_softmax, _C.log_softmax_backward, int(dim))


def _no_target_grad(op, target):
    if needs_grad(target):
        raise NotImplementedError(f"[{op}] the gradient with respect to the target is not implemented; "
                                  "pass target.detach()")


def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Softmax + negative log-likelihood in one kernel. input: class scores (C,), (N, C) or (N, C, d1, ...);
    target: class indices (the shape without C) or class probabilities (input's shape). weight: optional
    class weights (C,) scaling each class's terms; with labels, 'mean' divides by the summed weights of
    the counted labels (PyTorch's weighted mean). Labels equal to ignore_index count neither in the loss
    nor in the mean; label_smoothing mixes a uniform distribution into the target. The forward pass keeps
    per-row statistics (max, log-sum-exp and target mass) so that the backward kernel,
    mass * softmax(x) - weight * target, needs no second pass over the exponentials."""
    x = _as_tensor(input)
    t = _as_tensor(target, like=x)
    _no_target_grad("cross_entropy", t)
    args = (reduction, float(label_smoothing), int(ignore_index), _raw(_opt(weight, x)))
    loss, stats = _C.cross_entropy(x._t, t._t, *args)
    return _op("cross_entropy", loss, (x,), lambda g: _C.cross_entropy_backward(g, x._t, t._t, stats, *args))


def nll_loss(input, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """-weight[target] * input[target] for log-probabilities input (C,), (N, C) or (N, C, d1, ...), e.g.
    log_softmax's; 'mean' divides by the summed weights of the counted labels."""
    x = _as_tensor(input)
    t = _as_tensor(target, like=x)
    args = (reduction, int(ignore_index), _raw(_opt(weight, x)))
    return _op("nll_loss", _C.nll_loss(x._t, t._t, *args), (x,),
               lambda g: _C.nll_loss_backward(g, x._t, t._t, *args))


# ---- losses on an input and a target of its shape ----------------------------

# Losses of the difference d = input - target: the target's gradient is minus the input's.
_DIFFERENCE_LOSSES = frozenset(("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss"))


def _pair_loss(name, input, target, reduction, *params):
    x = _as_tensor(input)
    t = _as_tensor(target, like=x)
    if name not in _DIFFERENCE_LOSSES:
        _no_target_grad(name, t)
    xt, tt = x._t, t._t
    out = getattr(_C, name)(xt, tt, reduction, *params)
    bwd = getattr(_C, name + "_backward")

    def backward(g):
        gx = bwd(g, xt, tt, reduction, *params)
        gt = _reduce_grad(_C.neg(gx), tt) if t._requires_grad else None
        return (_reduce_grad(gx, xt) if x._requires_grad else None), gt
    return _op(name, out, (x, t), backward)


def mse_loss(input, target, reduction="mean"):
    """(input - target)^2, reduced by 'mean', 'sum' or 'none'. A target of another shape broadcasts with
    the input (with a warning, as in PyTorch); so do those of the other regression losses and kl_div."""
    return _pair_loss("mse_loss", input, target, reduction)


def l1_loss(input, target, reduction="mean"):
    return _pair_loss("l1_loss", input, target, reduction)


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target); beta = 0 is L1."""
    return _pair_loss("smooth_l1_loss", input, target, reduction, float(beta))


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta)."""
    return _pair_loss("huber_loss", input, target, reduction, float(delta))


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1]; each log is clamped at -100.
    weight (optional) broadcasts to the input's shape."""
    x = _as_tensor(input)
    return _pair_loss("binary_cross_entropy", x, target, reduction, _raw(_opt(weight, x)))


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of sigmoid(input), computed from the logits without overflow for any value:
    -w (p t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))), with weight w and pos_weight p (e.g. one per
    class, the ratio of negatives to positives) optional and broadcast to the input's shape."""
    x = _as_tensor(input)
    return _pair_loss("binary_cross_entropy_with_logits", x, target, reduction, _raw(_opt(weight, x)),
                      _raw(_opt(pos_weight, x)))


def kl_div(input, target, reduction="mean", log_target=False):
    """KL(target || exp(input)) per element: target (log target - input), input log-probabilities;
    target probabilities, or log-probabilities with log_target. 'batchmean' divides the sum by the
    batch size (input.shape[0]), which is the mathematical KL divergence per sample."""
    name = "kl_div_log_target" if log_target else "kl_div"
    if reduction != "batchmean":
        return _pair_loss(name, input, target, reduction)
    x = _as_tensor(input)
    return _pair_loss(name, x, target, "sum") / (x.shape[0] if x.ndim > 0 else 1)


# ---- losses on class scores and on pairs of rows -------------------------------------

def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    """The multi-class hinge (SVM) loss: w[y] sum over j != y of max(0, margin - x[y] + x[j])^p / C for
    scores (C,) or (N, C), integer labels y and optional class weights w (C,); p = 2 is the squared hinge."""
    x = _as_tensor(input)
    t = _as_tensor(target, like=x)
    args = (int(p), _number(margin, "margin", "multi_margin_loss"), reduction, _raw(_opt(weight, x)))
    return _op("multi_margin_loss", _C.multi_margin_loss(x._t, t._t, *args), (x,),
               lambda g: _C.multi_margin_loss_backward(g, x._t, t._t, *args))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / (max(|x1|, eps) max(|x2|, eps)) along dim."""
    a = _as_tensor(x1)
    b = _as_tensor(x2, like=a)
    args = (int(dim), float(eps))

    def backward(g):
        ga, gb = _C.cosine_similarity_backward(g, a._t, b._t, *args)
        return _reduce_grad(ga, a._t), _reduce_grad(gb, b._t)
    return _op("cosine_similarity", _C.cosine_similarity(a._t, b._t, *args), (a, b), backward)


def cosine_proximity_loss(x1, x2, dim=1, eps=1e-8, reduction="mean"):
    """The cosine proximity loss 1 - cosine_similarity(x1, x2), reduced by 'mean', 'sum' or 'none'."""
    loss = 1 - cosine_similarity(x1, x2, dim, eps)
    if reduction == "none":
        return loss
    if reduction not in ("mean", "sum"):
        raise ValueError(f"[cosine_proximity_loss] reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return loss.sum() if reduction == "sum" else loss.mean()


# ---- regularizer penalties ---------------------------------------------------------

def _penalty(name, weight, lam):
    w = _as_tensor(weight)
    lam = _number(lam, "lam", name, 0)
    bwd = getattr(_C, name + "_backward")
    return _op(name, getattr(_C, name)(w._t, lam), (w,), lambda g: _C.mul(bwd(w._t, lam), g))


def l1_penalty(weight, lam=1.0):
    """lam * sum |w|; its gradient lam sign(w) is one kernel (dlcore._C.l1_penalty_backward)."""
    return _penalty("l1_penalty", weight, lam)


def l2_penalty(weight, lam=1.0):
    """lam * sum w^2; its gradient 2 lam w is one kernel (dlcore._C.l2_penalty_backward)."""
    return _penalty("l2_penalty", weight, lam)


# ---- normalization ---------------------------------------------------------------

def _opt(t, like):
    return None if t is None else _as_tensor(t, like=like)


def _raw(t):
    return None if t is None else t._t


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalizes each channel (dim 1) of (N, C) or (N, C, d1, ...) input. training: by the batch's
    statistics, updating running_mean / running_var in place (running = (1 - momentum) running +
    momentum batch, the variance unbiased); else by the running statistics. The kernel also returns
    the mean and 1/std it used, which the backward kernel takes."""
    x = _as_tensor(input)
    w, b = _opt(weight, x), _opt(bias, x)
    training = bool(training)
    y, mean, invstd = _C.batch_norm(x._t, _raw(_opt(running_mean, x)), _raw(_opt(running_var, x)), _raw(w), _raw(b),
                                    training, float(momentum), float(eps))

    def backward(g):
        gx, gw, gb = _C.batch_norm_backward(g, x._t, _raw(w), mean, invstd, training)
        return gx, gw, gb
    return _op("batch_norm", y, (x, w, b), backward)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalizes over the trailing dims normalized_shape, then scales by weight and shifts by bias
    (both of that shape, optional)."""
    x = _as_tensor(input)
    shape = [int(normalized_shape)] if isinstance(normalized_shape, numbers.Integral) else [int(d) for d in normalized_shape]
    w, b = _opt(weight, x), _opt(bias, x)
    y, mean, invstd = _C.layer_norm(x._t, shape, _raw(w), _raw(b), float(eps))
    return _op("layer_norm", y, (x, w, b),
               lambda g: tuple(_C.layer_norm_backward(g, x._t, shape, _raw(w), mean, invstd)))


# ---- dropout ------------------------------------------------------------------------

def _dropout(name, input, p, training, seed):
    x = _as_tensor(input)
    if not training or p == 0:
        return x
    p = float(p)
    out, seed, offset = getattr(_C, name)(x._t, p, None if seed is None else int(seed) & 0xFFFFFFFFFFFFFFFF)
    # The backward regenerates the mask from (seed, offset) instead of keeping it.
    bwd = getattr(_C, name + "_backward")
    return _op(name, out, (x,), lambda g: bwd(g, p, seed, offset))


def dropout(input, p=0.5, training=True, seed=None):
    """Zeroes each element with probability p and scales the rest by 1 / (1 - p) (inverted dropout).
    The mask comes from the counter-based generator: the global one (see dlcore.manual_seed), or
    `seed`, which gives the same mask on every device."""
    return _dropout("dropout", input, p, training, seed)


def dropout2d(input, p=0.5, training=True, seed=None):
    """Channel dropout for (N, C, H, W) or (C, H, W) input: zeroes whole H x W planes with probability p."""
    return _dropout("dropout2d", input, p, training, seed)


def _number(value, name, op, low=None, high=None, *, low_open=False, high_open=False, integer=False):
    """value as a float (an int when integer), checked finite and within [low, high] (an open end
    where asked) here, once, for every hyper-parameter of the layers, losses, optimizers and
    schedules: a NaN learning rate or a negative size is refused when it is given, with the op,
    the argument's name and the value in the message, instead of poisoning a run later."""
    kind = "an int" if integer else "a number"
    try:
        if isinstance(value, (str, bytes)):
            raise TypeError
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"[{op}] expected {name} as {kind}, got {value!r}") from None
    if low is not None and high is not None:
        wanted = f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    elif low is not None:
        wanted = f"{'>' if low_open else '>='} {low} and finite"
    elif high is not None:
        wanted = f"{'<' if high_open else '<='} {high} and finite"
    else:
        wanted = "finite"
    inside = (math.isfinite(number) and (low is None or (number > low if low_open else number >= low))
              and (high is None or (number < high if high_open else number <= high)))
    if not inside:
        raise ValueError(f"[{op}] expected {name} {wanted}, got {value!r}")
    if integer:
        if number != int(number):
            raise TypeError(f"[{op}] expected {name} as {kind}, got {value!r}")
        return int(value)
    return number


def _array_like(value, dtype, name, op):
    """value (saved state: an array, a number or a tensor) as a NumPy array for a tensor of dtype:
    float64 may fill float32 (as in PyTorch), but integers, strings or objects never fill floating
    weights or the reverse -- a loaded state of the wrong kind is another state, not a conversion."""
    if isinstance(value, Tensor):
        value = value.detach().cpu().numpy()
    array = np.asarray(value)
    if array.dtype.kind != np.dtype(dtype.name).kind:
        raise ValueError(f"[{op}] {name}: expected values of dtype {dtype.name}, got {array.dtype}")
    return array


def _tuple(value, n, name, op, low=None):
    """An int as n equal entries; a sequence of n ints as is; each at least low (when given)."""
    if isinstance(value, numbers.Integral):
        out = [int(value)] * n
    else:
        try:
            if isinstance(value, str):
                raise TypeError
            out = [int(v) for v in value]
        except (TypeError, ValueError):
            raise TypeError(f"[{op}] expected {name} as an int or {n} ints, got {value!r}") from None
        if len(out) != n:
            raise ValueError(f"[{op}] expected {name} as an int or {n} ints, got {value!r}")
    if low is not None and min(out) < low:
        raise ValueError(f"[{op}] expected {name} >= {low}, got {value!r}")
    return out


def _conv_args(n, stride, padding, dilation, op):
    """The stride, padding and dilation of a convolution, checked (the layers call this when built);
    a padding name is checked by the op."""
    pad = padding if isinstance(padding, str) else _tuple(padding, n, "padding", op, 0)
    return _tuple(stride, n, "stride", op, 1), pad, _tuple(dilation, n, "dilation", op, 1)


# ---- convolution ---------------------------------------------------------------------------

def _conv(n, input, weight, bias, stride, padding, dilation, groups, variant):
    """conv1d / conv2d and their backward: dx by the backward-data kernel, dw by the backward-weight
    kernel, db as the sum of g over the batch and the output pixels."""
    op = f"conv{n}d"
    s, p, d = _conv_args(n, stride, padding, dilation, op)
    x = _as_tensor(input)
    w, b = _as_tensor(weight, like=x), _opt(bias, x)
    groups = int(groups)
    out = getattr(_C, op)(x._t, w._t, _raw(b), s, p, d, groups, variant)

    def backward(g):
        gx = gw = gb = None
        if x._requires_grad:
            gx = getattr(_C, op + "_backward_input")(g, w._t, list(x.shape), s, p, d, groups, variant)
        if w._requires_grad:
            gw = getattr(_C, op + "_backward_weight")(g, x._t, list(w.shape), s, p, d, groups, variant)
        if b is not None and b._requires_grad:
            gb = _C.sum(g, [0] + list(range(2, g.ndim)), False)
        return gx, gw, gb
    return _op(op, out, (x, w, b), backward)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, variant="fast"):
    """2-D convolution over (N, C, H, W) with weight (out_channels, C / groups, KH, KW).

    padding: an int, a pair, "valid" (none) or "same" (output size = input size; stride 1).
    variant: "fast" (im2col + packed GEMM on the CPU, implicit GEMM on CUDA) or "naive"
    (the direct loops, the test oracle)."""
    return _conv(2, input, weight, bias, stride, padding, dilation, groups, variant)


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, variant="fast"):
    """1-D convolution over (N, C, L) with weight (out_channels, C / groups, K): Keras' Conv1D,
    run by the conv2d kernels as a convolution of height 1."""
    return _conv(1, input, weight, bias, stride, padding, dilation, groups, variant)


def conv2d_backward_input(grad_output, weight, input_shape, stride=1, padding=0, dilation=1, groups=1, *,
                          variant="fast"):
    """The gradient of conv2d with respect to its input (of shape input_shape)."""
    s, p, d = _conv_args(2, stride, padding, dilation, "conv2d_backward_input")
    return _wrap(_C.conv2d_backward_input(grad_output._t, _t(weight, grad_output), list(input_shape), s, p, d,
                                          int(groups), variant))


def conv2d_backward_weight(grad_output, input, weight_shape, stride=1, padding=0, dilation=1, groups=1, *,
                           variant="fast"):
    """The gradient of conv2d with respect to its weight (of shape weight_shape). The bias's is
    grad_output.sum((0, 2, 3))."""
    s, p, d = _conv_args(2, stride, padding, dilation, "conv2d_backward_weight")
    return _wrap(_C.conv2d_backward_weight(grad_output._t, _t(input, grad_output), list(weight_shape), s, p, d,
                                           int(groups), variant))


def conv1d_backward_input(grad_output, weight, input_shape, stride=1, padding=0, dilation=1, groups=1, *,
                          variant="fast"):
    s, p, d = _conv_args(1, stride, padding, dilation, "conv1d_backward_input")
    return _wrap(_C.conv1d_backward_input(grad_output._t, _t(weight, grad_output), list(input_shape), s, p, d,
                                          int(groups), variant))


def conv1d_backward_weight(grad_output, input, weight_shape, stride=1, padding=0, dilation=1, groups=1, *,
                           variant="fast"):
    s, p, d = _conv_args(1, stride, padding, dilation, "conv1d_backward_weight")
    return _wrap(_C.conv1d_backward_weight(grad_output._t, _t(input, grad_output), list(weight_shape), s, p, d,
                                           int(groups), variant))


# ---- pooling --------------------------------------------------------------------------------

def _pool_args(kernel_size, stride, padding, op):
    """The kernel size, stride and padding of a pooling, checked (the layers call this when built)."""
    k = _tuple(kernel_size, 2, "kernel_size", op, 1)
    return k, (k if stride is None else _tuple(stride, 2, "stride", op, 1)), _tuple(padding, 2, "padding", op, 0)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of the last two dims of (C, H, W) or (N, C, H, W); stride defaults to
    kernel_size. return_indices also returns each maximum's flat position in its H x W plane
    (int64), which max_pool2d_backward takes (and backward uses). NaN in a window is its maximum."""
    k, s, p = _pool_args(kernel_size, stride, padding, "max_pool2d")
    dil = _tuple(dilation, 2, "dilation", "max_pool2d", 1)
    x = _as_tensor(input)
    out, idx = _C.max_pool2d(x._t, k, s, p, dil, bool(ceil_mode))
    shape = list(x.shape)
    y = _op("max_pool2d", out, (x,), lambda g: _C.max_pool2d_backward(g, idx, shape, k, s, p, dil, bool(ceil_mode)))
    return (y, _wrap(idx)) if return_indices else y


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over windows of the last two dims; count_include_pad divides by the window size
    including zero padding (PyTorch's default) rather than by the pixels inside the image."""
    k, s, p = _pool_args(kernel_size, stride, padding, "avg_pool2d")
    x = _as_tensor(input)
    flags = (bool(ceil_mode), bool(count_include_pad))
    shape = list(x.shape)
    return _op("avg_pool2d", _C.avg_pool2d(x._t, k, s, p, *flags), (x,),
               lambda g: _C.avg_pool2d_backward(g, shape, k, s, p, *flags))


def adaptive_avg_pool2d(input, output_size):
    """Mean pooling to a fixed output size (output_size 1: global average pooling)."""
    x = _as_tensor(input)
    shape = list(x.shape)
    return _op("adaptive_avg_pool2d",
               _C.adaptive_avg_pool2d(x._t, _tuple(output_size, 2, "output_size", "adaptive_avg_pool2d")), (x,),
               lambda g: _C.adaptive_avg_pool2d_backward(g, shape))


def max_pool2d_backward(grad_output, indices, input_shape, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False):
    k, s, p = _pool_args(kernel_size, stride, padding, "max_pool2d_backward")
    return _wrap(_C.max_pool2d_backward(grad_output._t, indices._t, list(input_shape), k, s, p,
                                        _tuple(dilation, 2, "dilation", "max_pool2d_backward", 1), bool(ceil_mode)))


def avg_pool2d_backward(grad_output, input_shape, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True):
    k, s, p = _pool_args(kernel_size, stride, padding, "avg_pool2d_backward")
    return _wrap(_C.avg_pool2d_backward(grad_output._t, list(input_shape), k, s, p, bool(ceil_mode),
                                        bool(count_include_pad)))


def adaptive_avg_pool2d_backward(grad_output, input_shape):
    return _wrap(_C.adaptive_avg_pool2d_backward(grad_output._t, list(input_shape)))


# ---- recurrent cells ----------------------------------------------------------------------
# One step of an LSTM / GRU layer after its GEMMs, fused: one forward and one backward kernel
# instead of the cell's ten-odd pointwise ops on slices of the gates. The backward kernels
# recompute the activations from the pre-activations the node keeps.

def lstm_cell(gates, c_prev):
    """The LSTM state update from the gates' pre-activations (N, 4 * hidden_size), x W_ih^T + b_ih +
    h W_hh^T + b_hh in PyTorch's order i, f, g, o, and the cell state c_prev (N, hidden_size):
    c = sigmoid(f) c_prev + sigmoid(i) tanh(g), h = sigmoid(o) tanh(c). Returns (h, c)."""
    g = _as_tensor(gates)
    cp = _as_tensor(c_prev, like=g)
    h_t, c_t = _C.lstm_cell(g._t, cp._t)
    h, c = _wrap(h_t), _wrap(c_t)
    if not needs_grad(g, cp):
        return h, c
    gt, cpt = g._t, cp._t

    def backward(grads):
        gh, gc = grads
        if gh is None:  # only c is used further on
            gh = zeros_like(_wrap(c_t))._t
        dgates, dcp = _C.lstm_cell_backward(gh, gc, gt, cpt, c_t)
        return (dgates if g._requires_grad else None), (dcp if cp._requires_grad else None)
    return tuple(record("lstm_cell", [h, c], (g, cp), backward))


def gru_cell(x_gates, h_gates, h_prev):
    """The GRU state update from the input's gates x W_ih^T + b_ih and the hidden state's
    h W_hh^T + b_hh (both (N, 3 * hidden_size), order r, z, n) and h_prev (N, hidden_size):
    r = sigmoid(x_r + h_r), z = sigmoid(x_z + h_z), n = tanh(x_n + r h_n), h = (1 - z) n + z h_prev."""
    x = _as_tensor(x_gates)
    hg, hp = _as_tensor(h_gates, like=x), _as_tensor(h_prev, like=x)
    xt, hgt, hpt = x._t, hg._t, hp._t

    def backward(g):
        dx, dhg, dhp = _C.gru_cell_backward(g, xt, hgt, hpt)
        return tuple(d if t._requires_grad else None for d, t in zip((dx, dhg, dhp), (x, hg, hp)))
    return _op("gru_cell", _C.gru_cell(xt, hgt, hpt), (x, hg, hp), backward)
