"""Weight initialisation, in place, from dlcore's counter-based generator: the same seed
(dlcore.manual_seed) gives the same weights on the CPU and on CUDA.

The scaled schemes keep the variance of activations (forward) or gradients (backward) the same
from layer to layer: Xavier/Glorot for tanh/sigmoid-like units, var = gain^2 * 2 / (fan_in +
fan_out); He/Kaiming for ReLU-like units, var = gain^2 / fan, gain = sqrt(2) for ReLU. The fans
of a weight (out, in, *kernel) are in * prod(kernel) and out * prod(kernel)."""
import math

import numpy as np

from ..autograd import no_grad
from ..functional import _number
from ..tensor import Tensor, rand, randn, tensor

__all__ = ["calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_", "xavier_uniform_",
           "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_", "sparse_"]


def calculate_gain(nonlinearity, param=None):
    """The recommended scale of the weights before a nonlinearity (PyTorch's table)."""
    if nonlinearity in ("linear", "identity", "conv1d", "conv2d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else _number(param, "param", "calculate_gain")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"[calculate_gain] unknown nonlinearity {nonlinearity!r}")


def _fans(t, op):
    if _weight(t, op).ndim < 2:
        raise ValueError(f"[{op}] needs a weight of at least 2 dims (out, in, ...) to know its fans, got shape "
                         f"{tuple(t.shape)}")
    receptive = int(np.prod(t.shape[2:])) if t.ndim > 2 else 1
    return t.shape[1] * receptive, t.shape[0] * receptive


def _weight(t, op):
    if not isinstance(t, Tensor):
        raise TypeError(f"[{op}] expected a dlcore tensor to fill, got {type(t).__name__}")
    return t


def _fill(t, values):
    with no_grad():
        t.copy_(values)
    return t


def uniform_(t, a=0.0, b=1.0):
    _weight(t, "uniform_")
    a = _number(a, "a", "uniform_")
    b = _number(b, "b", "uniform_", a)
    return _fill(t, rand(t.shape, dtype=t.dtype, device=t.device) * (b - a) + a)


def normal_(t, mean=0.0, std=1.0):
    _weight(t, "normal_")
    mean, std = _number(mean, "mean", "normal_"), _number(std, "std", "normal_", 0)
    return _fill(t, randn(t.shape, dtype=t.dtype, device=t.device) * std + mean)


def constant_(t, value):
    with no_grad():
        _weight(t, "constant_").fill_(value)
    return t


def zeros_(t):
    return constant_(_weight(t, "zeros_"), 0.0)


def ones_(t):
    return constant_(_weight(t, "ones_"), 1.0)


def xavier_uniform_(t, gain=1.0):
    """Glorot: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(t, "xavier_uniform_")
    a = _number(gain, "gain", "xavier_uniform_", 0) * math.sqrt(6.0 / (fan_in + fan_out))
    return uniform_(t, -a, a)


def xavier_normal_(t, gain=1.0):
    """Glorot: N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(t, "xavier_normal_")
    return normal_(t, 0.0, _number(gain, "gain", "xavier_normal_", 0) * math.sqrt(2.0 / (fan_in + fan_out)))


def _kaiming_std(t, a, mode, nonlinearity, op):
    fan_in, fan_out = _fans(t, op)
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"[{op}] mode must be 'fan_in' or 'fan_out', got {mode!r}")
    return calculate_gain(nonlinearity, a) / math.sqrt(fan_in if mode == "fan_in" else fan_out)


def kaiming_uniform_(t, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He: U(-b, b) with b = sqrt(3) * gain / sqrt(fan) (a: the leaky ReLU slope of the gain)."""
    b = math.sqrt(3.0) * _kaiming_std(t, a, mode, nonlinearity, "kaiming_uniform_")
    return uniform_(t, -b, b)


def kaiming_normal_(t, a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
    """He: N(0, std^2) with std = gain / sqrt(fan)."""
    return normal_(t, 0.0, _kaiming_std(t, a, mode, nonlinearity, "kaiming_normal_"))


def orthogonal_(t, gain=1.0):
    """A (semi-)orthogonal matrix (rows x the rest flattened) times gain: the Q of the QR
    factorisation of a Gaussian matrix, its column signs fixed by R's diagonal so that the
    distribution is uniform (Saxe et al.). The QR runs once, in NumPy, on the CPU."""
    gain = _number(gain, "gain", "orthogonal_", 0)
    if _weight(t, "orthogonal_").ndim < 2:
        raise ValueError(f"[orthogonal_] needs at least 2 dims, got shape {tuple(t.shape)}")
    rows, cols = t.shape[0], t.numel() // t.shape[0]
    g = randn(rows, cols, dtype="float64").numpy()
    if rows < cols:
        g = g.T
    q, r = np.linalg.qr(g)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(t, tensor(gain * q.reshape(t.shape), dtype=t.dtype, device=t.device))


def sparse_(t, sparsity=None, std=0.01, nonzeros=None):
    """Sparse initialisation of a weight (out, in) (Martens 2010): each unit (row) keeps `nonzeros`
    incoming weights drawn from N(0, std^2), or a fraction 1 - sparsity of them; the rest are 0.
    Which ones is drawn from dlcore's generator."""
    std = _number(std, "std", "sparse_", 0)
    if _weight(t, "sparse_").ndim != 2:
        raise ValueError(f"[sparse_] expected a 2-d weight (out, in), got shape {tuple(t.shape)}")
    rows, cols = t.shape
    if nonzeros is None:
        if sparsity is None or not 0 <= sparsity <= 1:
            raise ValueError(f"[sparse_] expected nonzeros, or a sparsity in [0, 1], got {sparsity}")
        nonzeros = cols - int(math.ceil(sparsity * cols))
    if not 0 <= nonzeros <= cols:
        raise ValueError(f"[sparse_] expected 0 <= nonzeros <= {cols}, got {nonzeros}")
    keys = rand(rows, cols, dtype="float64").numpy()
    keep = np.argsort(keys, axis=1)[:, :nonzeros]
    mask = np.zeros((rows, cols))
    np.put_along_axis(mask, keep, 1.0, axis=1)
    values = randn(rows, cols, dtype="float64").numpy() * std * mask
    return _fill(t, tensor(values, dtype=t.dtype, device=t.device))
