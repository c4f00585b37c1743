"""Neural-network functions with torch.nn.functional's names and signatures:
activations, softmax and losses, dropout, normalization. Each is one call of
a kernel through the op layer (dlcore._C); the backward kernels are
dlcore._C.<name>_backward(...), which the autograd nodes call."""
from . import _C
from .tensor import Tensor, _as_tensor, _wrap

__all__ = ["relu", "leaky_relu", "prelu", "elu", "selu", "silu", "swish", "softplus", "gelu", "sigmoid", "tanh",
           "hardtanh", "hardsigmoid", "heaviside", "softmax", "log_softmax", "cross_entropy", "nll_loss", "dropout", "dropout2d"]


def _t(x):
    return _as_tensor(x)._t


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


def cross_entropy(input, target, *, ignore_index=-100, reduction="mean", label_smoothing=0.0):
    """Softmax + negative log-likelihood in one kernel. input: class scores (C,), (N, C) or (N, C, d1, ...);
    target: class indices (the shape without C) or class probabilities (input's shape). Labels equal to
    ignore_index count neither in the loss nor in the mean; label_smoothing mixes a uniform distribution
    into the target."""
    x = _as_tensor(input)
    loss, _ = _C.cross_entropy(x._t, _as_tensor(target, like=x)._t, reduction, float(label_smoothing),
                               int(ignore_index))
    return _wrap(loss)


def nll_loss(input, target, *, ignore_index=-100, reduction="mean"):
    """-input[target] for log-probabilities input (C,), (N, C) or (N, C, d1, ...), e.g. log_softmax's."""
    x = _as_tensor(input)
    return _wrap(_C.nll_loss(x._t, _as_tensor(target, like=x)._t, reduction, int(ignore_index)))


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
