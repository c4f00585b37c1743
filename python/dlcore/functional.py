"""Neural-network functions with torch.nn.functional's names and signatures:
activations, softmax and losses (and the L1 / L2 regularizer penalties), dropout, convolution and pooling. Each is one
call of a kernel through the op layer (dlcore._C); the backward kernels are
dlcore._C.<name>_backward(...) -- for convolution and pooling, whose backward
takes the layer's geometry, also the functions *_backward* here -- which the
autograd nodes call."""
import numbers

from . import _C
from .tensor import Tensor, _as_tensor, _wrap

__all__ = ["relu", "leaky_relu", "prelu", "elu", "selu", "silu", "swish", "softplus", "gelu", "sigmoid", "tanh",
           "hardtanh", "hardsigmoid", "heaviside", "softmax", "log_softmax", "cross_entropy", "nll_loss",
           "mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "multi_margin_loss", "kl_div", "cosine_similarity",
           "cosine_proximity_loss", "l1_penalty", "l2_penalty", "batch_norm", "layer_norm", "dropout", "dropout2d",
           "conv1d", "conv2d", "conv1d_backward_input", "conv1d_backward_weight", "conv2d_backward_input",
           "conv2d_backward_weight", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "max_pool2d_backward",
           "avg_pool2d_backward", "adaptive_avg_pool2d_backward"]


def _t(x, like=None):
    return _as_tensor(x, like=like)._t


# ---- activations --------------------------------------------------------------

def relu(input):
    return _wrap(_C.relu(_t(input)))


def leaky_relu(input, negative_slope=0.01):
    return _wrap(_C.leaky_relu(_t(input), float(negative_slope)))


def prelu(input, weight):
    """max(0, x) + weight * min(0, x) with a learned slope: weight has one value, or one per channel (dim 1)."""
    x = _as_tensor(input)
    return _wrap(_C.prelu(x._t, _as_tensor(weight, like=x)._t))


def elu(input, alpha=1.0):
    return _wrap(_C.elu(_t(input), float(alpha)))


def selu(input):
    return _wrap(_C.selu(_t(input)))


def silu(input):
    """x * sigmoid(x) (Swish with beta = 1)."""
    return _wrap(_C.silu(_t(input)))


def swish(input, beta=1.0):
    """x * sigmoid(beta * x); beta a number, or a tensor (one value or one per channel) to learn it."""
    x = _as_tensor(input)
    if isinstance(beta, Tensor):
        return _wrap(_C.swish(x._t, beta._t))
    return _wrap(_C.silu(x._t, float(beta)))


def softplus(input, beta=1.0, threshold=20.0):
    """log(1 + exp(beta * x)) / beta, and x where beta * x > threshold."""
    return _wrap(_C.softplus(_t(input), float(beta), float(threshold)))


def gelu(input, approximate="none"):
    """x * Phi(x) (approximate="none", erf form) or its tanh approximation (approximate="tanh")."""
    return _wrap(_C.gelu(_t(input), approximate))


def sigmoid(input):
    return _wrap(_C.sigmoid(_t(input)))


def tanh(input):
    return _wrap(_C.tanh(_t(input)))


def hardtanh(input, min_val=-1.0, max_val=1.0):
    return _wrap(_C.hardtanh(_t(input), float(min_val), float(max_val)))


def hardsigmoid(input):
    """clip(x / 6 + 1/2, 0, 1)."""
    return _wrap(_C.hardsigmoid(_t(input)))


def heaviside(input):
    """The perceptron's step: 1 where x > 0, else 0 (NaN stays NaN). It has no gradient."""
    return _wrap(_C.heaviside(_t(input)))


# ---- softmax and losses on class scores ------------------------------------------

def softmax(input, dim):
    """exp(x) / sum(exp(x)) along dim, max-subtracted (no overflow for huge scores)."""
    return _wrap(_C.softmax(_t(input), int(dim)))


def log_softmax(input, dim):
    return _wrap(_C.log_softmax(_t(input), int(dim)))


def cross_entropy(input, target, weight=None, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Softmax + negative log-likelihood in one kernel. input: class scores (C,), (N, C) or (N, C, d1, ...);
    target: class indices (the shape without C) or class probabilities (input's shape). weight: optional
    class weights (C,) scaling each class's terms; with labels, 'mean' divides by the summed weights of
    the counted labels (PyTorch's weighted mean). Labels equal to ignore_index count neither in the loss
    nor in the mean; label_smoothing mixes a uniform distribution into the target."""
    x = _as_tensor(input)
    loss, _ = _C.cross_entropy(x._t, _as_tensor(target, like=x)._t, reduction, float(label_smoothing),
                               int(ignore_index), _opt(weight, x))
    return _wrap(loss)


def nll_loss(input, target, weight=None, *, ignore_index=-100, reduction="mean"):
    """-weight[target] * input[target] for log-probabilities input (C,), (N, C) or (N, C, d1, ...), e.g.
    log_softmax's; 'mean' divides by the summed weights of the counted labels."""
    x = _as_tensor(input)
    return _wrap(_C.nll_loss(x._t, _as_tensor(target, like=x)._t, reduction, int(ignore_index), _opt(weight, x)))


# ---- losses on an input and a target of its shape ----------------------------

def _pair(input, target):
    x = _as_tensor(input)
    return x._t, _as_tensor(target, like=x)._t


def mse_loss(input, target, reduction="mean"):
    """(input - target)^2, reduced by 'mean', 'sum' or 'none'. A target of another shape broadcasts with
    the input (with a warning, as in PyTorch); so do those of the other regression losses and kl_div."""
    return _wrap(_C.mse_loss(*_pair(input, target), reduction))


def l1_loss(input, target, reduction="mean"):
    return _wrap(_C.l1_loss(*_pair(input, target), reduction))


def smooth_l1_loss(input, target, reduction="mean", beta=1.0):
    """0.5 d^2 / beta where |d| < beta, else |d| - 0.5 beta (d = input - target); beta = 0 is L1."""
    return _wrap(_C.smooth_l1_loss(*_pair(input, target), reduction, float(beta)))


def huber_loss(input, target, reduction="mean", delta=1.0):
    """0.5 d^2 where |d| <= delta, else delta (|d| - 0.5 delta)."""
    return _wrap(_C.huber_loss(*_pair(input, target), reduction, float(delta)))


def binary_cross_entropy(input, target, weight=None, reduction="mean"):
    """-w (t log x + (1 - t) log(1 - x)) for probabilities x in [0, 1]; each log is clamped at -100.
    weight (optional) broadcasts to the input's shape."""
    x = _as_tensor(input)
    return _wrap(_C.binary_cross_entropy(x._t, _t(target, x), reduction, _opt(weight, x)))


def binary_cross_entropy_with_logits(input, target, weight=None, reduction="mean", pos_weight=None):
    """Binary cross-entropy of sigmoid(input), computed from the logits without overflow for any value:
    -w (p t log sigmoid(x) + (1 - t) log(1 - sigmoid(x))), with weight w and pos_weight p (e.g. one per
    class, the ratio of negatives to positives) optional and broadcast to the input's shape."""
    x = _as_tensor(input)
    return _wrap(_C.binary_cross_entropy_with_logits(x._t, _t(target, x), reduction, _opt(weight, x),
                                                     _opt(pos_weight, x)))


def kl_div(input, target, reduction="mean", log_target=False):
    """KL(target || exp(input)) per element: target (log target - input), input log-probabilities;
    target probabilities, or log-probabilities with log_target. 'batchmean' divides the sum by the
    batch size (input.shape[0]), which is the mathematical KL divergence per sample."""
    x, t = _pair(input, target)
    fn = _C.kl_div_log_target if log_target else _C.kl_div
    if reduction != "batchmean":
        return _wrap(fn(x, t, reduction))
    batch = x.shape[0] if len(x.shape) > 0 else 1
    return _wrap(fn(x, t, "sum")) / batch


# ---- losses on class scores and on pairs of rows -------------------------------------

def multi_margin_loss(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
    """The multi-class hinge (SVM) loss: w[y] sum over j != y of max(0, margin - x[y] + x[j])^p / C for
    scores (C,) or (N, C), integer labels y and optional class weights w (C,); p = 2 is the squared hinge."""
    x = _as_tensor(input)
    return _wrap(_C.multi_margin_loss(x._t, _as_tensor(target, like=x)._t, int(p), float(margin), reduction,
                                      _opt(weight, x)))


def cosine_similarity(x1, x2, dim=1, eps=1e-8):
    """x1 . x2 / (max(|x1|, eps) max(|x2|, eps)) along dim."""
    return _wrap(_C.cosine_similarity(*_pair(x1, x2), int(dim), float(eps)))


def cosine_proximity_loss(x1, x2, dim=1, eps=1e-8, reduction="mean"):
    """The cosine proximity loss 1 - cosine_similarity(x1, x2), reduced by 'mean', 'sum' or 'none'."""
    loss = 1 - cosine_similarity(x1, x2, dim, eps)
    if reduction == "none":
        return loss
    if reduction not in ("mean", "sum"):
        raise ValueError(f"[cosine_proximity_loss] reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    return loss.sum() if reduction == "sum" else loss.mean()


# ---- regularizer penalties ---------------------------------------------------------

def l1_penalty(weight, lam=1.0):
    """lam * sum |w| (its gradient: dlcore._C.l1_penalty_backward(w, lam) = lam sign(w))."""
    return _wrap(_C.l1_penalty(_t(weight), float(lam)))


def l2_penalty(weight, lam=1.0):
    """lam * sum w^2 (its gradient: dlcore._C.l2_penalty_backward(w, lam) = 2 lam w)."""
    return _wrap(_C.l2_penalty(_t(weight), float(lam)))


# ---- normalization ---------------------------------------------------------------

def _opt(t, like):
    return None if t is None else _as_tensor(t, like=like)._t


def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalizes each channel (dim 1) of (N, C) or (N, C, d1, ...) input. training: by the batch's
    statistics, updating running_mean / running_var in place (running = (1 - momentum) running +
    momentum batch, the variance unbiased); else by the running statistics. The backward kernel is
    dlcore._C.batch_norm_backward(grad, input, weight, mean, invstd, training) with the mean and
    invstd that dlcore._C.batch_norm returns."""
    x = _as_tensor(input)
    y, _, _ = _C.batch_norm(x._t, _opt(running_mean, x), _opt(running_var, x), _opt(weight, x), _opt(bias, x),
                            bool(training), float(momentum), float(eps))
    return _wrap(y)


def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalizes over the trailing dims normalized_shape, then scales by weight and shifts by bias
    (both of that shape, optional)."""
    x = _as_tensor(input)
    shape = [int(normalized_shape)] if isinstance(normalized_shape, numbers.Integral) else [int(d) for d in normalized_shape]
    y, _, _ = _C.layer_norm(x._t, shape, _opt(weight, x), _opt(bias, x), float(eps))
    return _wrap(y)


# ---- dropout ------------------------------------------------------------------------

def _dropout(fn, input, p, training, seed):
    x = _as_tensor(input)
    if not training:
        return x
    out, _, _ = fn(x._t, float(p), None if seed is None else int(seed) & 0xFFFFFFFFFFFFFFFF)
    return _wrap(out)


def dropout(input, p=0.5, training=True, seed=None):
    """Zeroes each element with probability p and scales the rest by 1 / (1 - p) (inverted dropout).
    The mask comes from the counter-based generator: the global one (see dlcore.manual_seed), or
    `seed`, which gives the same mask on every device."""
    return _dropout(_C.dropout, input, p, training, seed)


def dropout2d(input, p=0.5, training=True, seed=None):
    """Channel dropout for (N, C, H, W) or (C, H, W) input: zeroes whole H x W planes with probability p."""
    return _dropout(_C.dropout2d, input, p, training, seed)


def _tuple(value, n, name, op):
    """An int as n equal entries; a sequence of n ints as is."""
    if isinstance(value, numbers.Integral):
        return [int(value)] * n
    try:
        out = [int(v) for v in value]
    except TypeError:
        raise TypeError(f"[{op}] expected {name} as an int or {n} ints, got {value!r}") from None
    if len(out) != n:
        raise ValueError(f"[{op}] expected {name} as an int or {n} ints, got {value!r}")
    return out


def _conv_args(n, stride, padding, dilation, op):
    pad = padding if isinstance(padding, str) else _tuple(padding, n, "padding", op)
    return _tuple(stride, n, "stride", op), pad, _tuple(dilation, n, "dilation", op)


# ---- convolution ---------------------------------------------------------------------------

def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, variant="fast"):
    """2-D convolution over (N, C, H, W) with weight (out_channels, C / groups, KH, KW).

    padding: an int, a pair, "valid" (none) or "same" (output size = input size; stride 1).
    variant: "fast" (im2col + packed GEMM on the CPU, implicit GEMM on CUDA) or "naive"
    (the direct loops, the test oracle)."""
    s, p, d = _conv_args(2, stride, padding, dilation, "conv2d")
    return _wrap(_C.conv2d(input._t, _t(weight, input), None if bias is None else _t(bias, input), s, p, d,
                           int(groups), variant))


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1, *, variant="fast"):
    """1-D convolution over (N, C, L) with weight (out_channels, C / groups, K): Keras' Conv1D,
    run by the conv2d kernels as a convolution of height 1."""
    s, p, d = _conv_args(1, stride, padding, dilation, "conv1d")
    return _wrap(_C.conv1d(input._t, _t(weight, input), None if bias is None else _t(bias, input), s, p, d,
                           int(groups), variant))


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
    k = _tuple(kernel_size, 2, "kernel_size", op)
    return k, (k if stride is None else _tuple(stride, 2, "stride", op)), _tuple(padding, 2, "padding", op)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Max over windows of the last two dims of (C, H, W) or (N, C, H, W); stride defaults to
    kernel_size. return_indices also returns each maximum's flat position in its H x W plane
    (int64), which max_pool2d_backward takes. NaN in a window is its maximum."""
    k, s, p = _pool_args(kernel_size, stride, padding, "max_pool2d")
    out, idx = _C.max_pool2d(input._t, k, s, p, _tuple(dilation, 2, "dilation", "max_pool2d"), bool(ceil_mode))
    return (_wrap(out), _wrap(idx)) if return_indices else _wrap(out)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over windows of the last two dims; count_include_pad divides by the window size
    including zero padding (PyTorch's default) rather than by the pixels inside the image."""
    k, s, p = _pool_args(kernel_size, stride, padding, "avg_pool2d")
    return _wrap(_C.avg_pool2d(input._t, k, s, p, bool(ceil_mode), bool(count_include_pad)))


def adaptive_avg_pool2d(input, output_size):
    """Mean pooling to a fixed output size (output_size 1: global average pooling)."""
    return _wrap(_C.adaptive_avg_pool2d(input._t, _tuple(output_size, 2, "output_size", "adaptive_avg_pool2d")))


def max_pool2d_backward(grad_output, indices, input_shape, kernel_size, stride=None, padding=0, dilation=1,
                        ceil_mode=False):
    k, s, p = _pool_args(kernel_size, stride, padding, "max_pool2d_backward")
    return _wrap(_C.max_pool2d_backward(grad_output._t, indices._t, list(input_shape), k, s, p,
                                        _tuple(dilation, 2, "dilation", "max_pool2d_backward"), bool(ceil_mode)))


def avg_pool2d_backward(grad_output, input_shape, kernel_size, stride=None, padding=0, ceil_mode=False,
                        count_include_pad=True):
    k, s, p = _pool_args(kernel_size, stride, padding, "avg_pool2d_backward")
    return _wrap(_C.avg_pool2d_backward(grad_output._t, list(input_shape), k, s, p, bool(ceil_mode),
                                        bool(count_include_pad)))


def adaptive_avg_pool2d_backward(grad_output, input_shape):
    return _wrap(_C.adaptive_avg_pool2d_backward(grad_output._t, list(input_shape)))
