"""The layers: dense, convolution, pooling, reshaping, dropout, normalization, every activation,
and the course notes' skip connection (Residual) and Maxout. Each holds its parameters and calls
one function of dlcore.functional; the defaults (initialisation, momentum, eps) are PyTorch's."""
import math
import numbers

from .. import functional as F
from ..tensor import empty, ones, zeros
from . import init
from .module import Module, Parameter

__all__ = ["Identity", "Linear", "Dense", "Flatten", "Conv1d", "Conv2d", "MaxPool2d", "AvgPool2d",
           "AdaptiveAvgPool2d", "Dropout", "Dropout2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "ReLU",
           "LeakyReLU", "PReLU", "ELU", "SELU", "SiLU", "Swish", "GELU", "Sigmoid", "Tanh", "Softplus", "Hardtanh",
           "Hardsigmoid", "Heaviside", "Softmax", "LogSoftmax", "Residual", "Maxout"]


def _uniform_fan_in(t, fan_in):
    """PyTorch's default for weights and biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    return init.uniform_(t, -bound, bound)


class Identity(Module):
    def forward(self, x):
        return x


class Linear(Module):
    """y = activation(x W^T + b) with W (out_features, in_features), as one fused GEMM. activation:
    None or the name of an activation (see dlcore.linear), fused into the GEMM's epilogue."""

    def __init__(self, in_features, out_features, bias=True, activation=None, dtype="float32", device=None):
        super().__init__()
        name = type(self).__name__
        F._activation_fn(activation, name)
        self.in_features = F._number(in_features, "in_features", name, 1, integer=True)
        self.out_features = F._number(out_features, "out_features", name, 1, integer=True)
        self.activation = activation
        self.weight = Parameter(empty(self.out_features, self.in_features, dtype=dtype, device=device))
        self.bias = Parameter(empty(self.out_features, dtype=dtype, device=device)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        _uniform_fan_in(self.weight, self.in_features)
        if self.bias is not None:
            _uniform_fan_in(self.bias, self.in_features)

    def forward(self, x):
        if x.ndim < 1 or x.shape[-1] != self.in_features:
            raise ValueError(f"[Linear] expected input of shape (..., {self.in_features}), got {tuple(x.shape)}")
        return F.linear(x, self.weight, self.bias, self.activation)

    def extra_repr(self):
        act = f", activation={self.activation!r}" if self.activation else ""
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}{act}"


class Dense(Linear):
    """Keras' name for a fully connected layer: Dense(in_features, units, activation=None)."""


class Flatten(Module):
    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        return x.flatten(self.start_dim, self.end_dim)


class _ConvNd(Module):
    n = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 dtype="float32", device=None):
        super().__init__()
        name = type(self).__name__
        in_channels = F._number(in_channels, "in_channels", name, 1, integer=True)
        out_channels = F._number(out_channels, "out_channels", name, 1, integer=True)
        groups = F._number(groups, "groups", name, 1, integer=True)
        if in_channels % groups or out_channels % groups:
            raise ValueError(f"[{name}] in_channels ({in_channels}) and out_channels ({out_channels}) must be "
                             f"divisible by groups ({groups})")
        k = F._tuple(kernel_size, self.n, "kernel_size", name, 1)
        F._conv_args(self.n, stride, padding, dilation, name)
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, tuple(k)
        self.stride, self.padding, self.dilation, self.groups = stride, padding, dilation, groups
        self.weight = Parameter(empty(self.out_channels, self.in_channels // self.groups, *k, dtype=dtype,
                                      device=device))
        self.bias = Parameter(empty(self.out_channels, dtype=dtype, device=device)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        fan_in = self.in_channels // self.groups * math.prod(self.kernel_size)
        _uniform_fan_in(self.weight, fan_in)
        if self.bias is not None:
            _uniform_fan_in(self.bias, fan_in)

    def forward(self, x):
        conv = F.conv2d if self.n == 2 else F.conv1d
        return conv(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self):
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}, "
                f"padding={self.padding}" + (f", groups={self.groups}" if self.groups != 1 else "") +
                (", bias=False" if self.bias is None else ""))


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W); padding an int, a pair, 'same' or 'valid'."""
    n = 2


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) (Keras' Conv1D, channels first)."""
    n = 1


class MaxPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False, ceil_mode=False):
        super().__init__()
        F._pool_args(kernel_size, stride, padding, "MaxPool2d")
        F._tuple(dilation, 2, "dilation", "MaxPool2d", 1)
        self.kernel_size, self.stride, self.padding, self.dilation = kernel_size, stride, padding, dilation
        self.return_indices, self.ceil_mode = return_indices, ceil_mode

    def forward(self, x):
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                            self.return_indices)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class AvgPool2d(Module):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
        super().__init__()
        F._pool_args(kernel_size, stride, padding, "AvgPool2d")
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding
        self.ceil_mode, self.count_include_pad = ceil_mode, count_include_pad

    def forward(self, x):
        return F.avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad)

    def extra_repr(self):
        return f"kernel_size={self.kernel_size}, stride={self.stride or self.kernel_size}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Mean pooling to output_size (1: global average pooling)."""

    def __init__(self, output_size):
        super().__init__()
        F._tuple(output_size, 2, "output_size", "AdaptiveAvgPool2d", 1)
        self.output_size = output_size

    def forward(self, x):
        return F.adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self):
        return f"output_size={self.output_size}"


class Dropout(Module):
    """Inverted dropout in training mode; the identity in eval mode."""

    def __init__(self, p=0.5):
        super().__init__()
        self.p = F._number(p, "p", type(self).__name__, 0, 1)

    def forward(self, x):
        return F.dropout(x, self.p, self.training)

    def extra_repr(self):
        return f"p={self.p}"


class Dropout2d(Dropout):
    """Drops whole channels (H x W planes) of (N, C, H, W) input."""

    def forward(self, x):
        return F.dropout2d(x, self.p, self.training)


class _BatchNorm(Module):
    dims = ()

    def __init__(self, num_features, eps=1e-5, momentum=0.1, affine=True, track_running_stats=True,
                 dtype="float32", device=None):
        super().__init__()
        name = type(self).__name__
        self.num_features = F._number(num_features, "num_features", name, 1, integer=True)
        self.eps, self.momentum = F._number(eps, "eps", name, 0), F._number(momentum, "momentum", name, 0, 1)
        self.affine, self.track_running_stats = affine, track_running_stats
        n = self.num_features
        self.weight = Parameter(ones(n, dtype=dtype, device=device)) if affine else None
        self.bias = Parameter(zeros(n, dtype=dtype, device=device)) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", zeros(n, dtype=dtype, device=device))
            self.register_buffer("running_var", ones(n, dtype=dtype, device=device))
        else:
            self.running_mean = self.running_var = None

    def forward(self, x):
        if x.ndim not in self.dims or x.shape[1] != self.num_features:
            dims = " or ".join(f"{d}-d" for d in self.dims)
            raise ValueError(f"[{type(self).__name__}] expected {dims} input with {self.num_features} channels in "
                             f"dim 1, got shape {tuple(x.shape)}")
        batch_stats = self.training or not self.track_running_stats
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias, batch_stats,
                            self.momentum, self.eps)

    def extra_repr(self):
        return f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}"


class BatchNorm1d(_BatchNorm):
    """Batch norm over (N, C) or (N, C, L): each feature by the batch's mean and variance in
    training (updating the running ones), by the running ones in eval."""
    dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch norm of each channel of (N, C, H, W) over the batch and the image."""
    dims = (4,)


class LayerNorm(Module):
    def __init__(self, normalized_shape, eps=1e-5, elementwise_affine=True, dtype="float32", device=None):
        super().__init__()
        dims = [normalized_shape] if isinstance(normalized_shape, numbers.Integral) else list(normalized_shape)
        shape = tuple(F._number(d, "normalized_shape", "LayerNorm", 1, integer=True) for d in dims)
        self.normalized_shape, self.eps = shape, F._number(eps, "eps", "LayerNorm", 0)
        self.weight = Parameter(ones(shape, dtype=dtype, device=device)) if elementwise_affine else None
        self.bias = Parameter(zeros(shape, dtype=dtype, device=device)) if elementwise_affine else None

    def forward(self, x):
        return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self):
        return f"{self.normalized_shape}, eps={self.eps}"


# ---- activations ----------------------------------------------------------------------------

def _activation_module(name, fn, doc, **defaults):
    """A Module class calling fn(x, **params) with the given defaults as its constructor's arguments."""
    names = list(defaults)

    def __init__(self, *args, **kwargs):
        Module.__init__(self)
        if len(args) > len(names):
            raise TypeError(f"[{name}] takes at most {len(names)} arguments ({', '.join(names) or 'none'})")
        params = dict(defaults)
        params.update(zip(names, args))
        for k, v in kwargs.items():
            if k not in params:
                raise TypeError(f"[{name}] got an unexpected argument {k!r}")
            params[k] = v
        self.params = params

    def forward(self, x):
        return fn(x, **self.params)

    def extra_repr(self):
        return ", ".join(f"{k}={v}" for k, v in self.params.items())

    return type(name, (Module,), {"__init__": __init__, "forward": forward, "extra_repr": extra_repr,
                                  "__doc__": doc, "__module__": __name__})


ReLU = _activation_module("ReLU", F.relu, "max(0, x)")
LeakyReLU = _activation_module("LeakyReLU", F.leaky_relu, "x for x > 0, else negative_slope * x",
                               negative_slope=0.01)
ELU = _activation_module("ELU", F.elu, "x for x > 0, else alpha (exp(x) - 1)", alpha=1.0)
SELU = _activation_module("SELU", F.selu, "scale * ELU(x, alpha) with the self-normalising constants")
SiLU = _activation_module("SiLU", F.silu, "x * sigmoid(x)")
GELU = _activation_module("GELU", F.gelu, "x * Phi(x); approximate='tanh' for the tanh form", approximate="none")
Sigmoid = _activation_module("Sigmoid", F.sigmoid, "1 / (1 + exp(-x))")
Tanh = _activation_module("Tanh", F.tanh, "tanh(x)")
Softplus = _activation_module("Softplus", F.softplus, "log(1 + exp(beta x)) / beta", beta=1.0, threshold=20.0)
Hardtanh = _activation_module("Hardtanh", F.hardtanh, "clip(x, min_val, max_val)", min_val=-1.0, max_val=1.0)
Hardsigmoid = _activation_module("Hardsigmoid", F.hardsigmoid, "clip(x / 6 + 1/2, 0, 1)")
Heaviside = _activation_module("Heaviside", F.heaviside, "The perceptron's step (no gradient)")
Softmax = _activation_module("Softmax", F.softmax, "exp(x) / sum exp(x) along dim", dim=-1)
LogSoftmax = _activation_module("LogSoftmax", F.log_softmax, "log softmax along dim", dim=-1)


class PReLU(Module):
    """Leaky ReLU with a learned slope: one, or one per channel (num_parameters = C)."""

    def __init__(self, num_parameters=1, init=0.25, dtype="float32", device=None):
        super().__init__()
        n = F._number(num_parameters, "num_parameters", "PReLU", 1, integer=True)
        self.weight = Parameter(ones(n, dtype=dtype, device=device) * F._number(init, "init", "PReLU"))

    def forward(self, x):
        return F.prelu(x, self.weight)

    def extra_repr(self):
        return f"num_parameters={self.weight.numel()}"


class Swish(Module):
    """x * sigmoid(beta x); learnable=True learns beta (one, or one per channel: num_parameters = C)."""

    def __init__(self, beta=1.0, learnable=False, num_parameters=1, dtype="float32", device=None):
        super().__init__()
        beta = F._number(beta, "beta", "Swish")
        if learnable:
            n = F._number(num_parameters, "num_parameters", "Swish", 1, integer=True)
            self.beta = Parameter(ones(n, dtype=dtype, device=device) * beta)
        else:
            self.beta_value = beta

    def forward(self, x):
        return F.swish(x, self.beta if "beta" in self._parameters else self.beta_value)


# ---- the course notes' building blocks -------------------------------------------------------

class Residual(Module):
    """A skip connection: activation(body(x) + shortcut(x)), the shortcut the identity unless given
    (e.g. a 1x1 convolution when body changes the shape)."""

    def __init__(self, body, shortcut=None, activation=None):
        super().__init__()
        for role, m in (("body", body), ("shortcut", shortcut), ("activation", activation)):
            if m is not None and not isinstance(m, Module):
                raise TypeError(f"[Residual] expected the {role} as a Module, got {type(m).__name__}")
        self.body = body
        self.shortcut = shortcut if shortcut is not None else Identity()
        self.activation = activation if activation is not None else Identity()

    def forward(self, x):
        y = self.body(x)
        s = self.shortcut(x)
        if y.shape != s.shape:
            raise ValueError(f"[Residual] the body's output {tuple(y.shape)} and the shortcut's {tuple(s.shape)} differ; "
                             "give a shortcut that maps the input to the body's output shape")
        return self.activation(y + s)


class Maxout(Module):
    """Maxout units (Goodfellow et al.): out_features units, each the max of `pieces` linear pieces."""

    def __init__(self, in_features, out_features, pieces=2, dtype="float32", device=None):
        super().__init__()
        self.out_features = F._number(out_features, "out_features", "Maxout", 1, integer=True)
        self.pieces = F._number(pieces, "pieces", "Maxout", 1, integer=True)
        self.linear = Linear(in_features, self.out_features * self.pieces, dtype=dtype, device=device)

    def forward(self, x):
        y = self.linear(x)
        return y.reshape(*y.shape[:-1], self.out_features, self.pieces).amax(-1)

    def extra_repr(self):
        return f"pieces={self.pieces}"
