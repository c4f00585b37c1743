"""dlcore.functional: the layers' kernels as functions, with torch.nn.functional's names and
arguments. Each backward kernel is here too (``*_backward*``), as the autograd engine calls it."""
import numbers

from . import _C
from .tensor import _as_tensor, _wrap


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


def _t(x, like=None):
    return _as_tensor(x, like=like)._t


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
