"""Gradient clipping and weight constraints.

clip_grad_norm_ scales all gradients together by min(1, max_norm / (norm + 1e-6)), the norm
taken over all of them as one vector; clip_grad_value_ clamps each entry. Both are one
multi-tensor kernel launch per device (the norm and the scale never leave the device).

Constraints run after each optimizer step on the parameters of a group that names them
(Optimizer([{"params": ..., "constraint": MaxNorm(3.0)}])), as Keras' kernel_constraint does:
MaxNorm rescales each unit's incoming weight vector (a row of a Linear weight (out, in), a filter
of a convolution) to norm <= max_value; UnitNorm to norm 1; NonNeg clips at 0."""
import math

from .. import _C
from ..autograd import no_grad
from ..functional import _number
from ..tensor import Tensor, _wrap

__all__ = ["clip_grad_norm_", "clip_grad_value_", "MaxNorm", "UnitNorm", "NonNeg"]


def _grads_by_device(parameters, op):
    params = [parameters] if isinstance(parameters, Tensor) else list(parameters)
    groups = {}
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"[{op}] expected parameters as dlcore tensors, got a {type(p).__name__}")
        if p.grad is not None:
            groups.setdefault((str(p.device), p.dtype.name), []).append(p.grad._t)
    return groups


def clip_grad_norm_(parameters, max_norm, norm_type=2.0):
    """Rescales the gradients so that their global norm is at most max_norm; returns that norm
    (before clipping) as a 0-d tensor."""
    max_norm = _number(max_norm, "max_norm", "clip_grad_norm_", 0)
    norm_type = float(norm_type)
    if not norm_type > 0:  # inf is the max norm
        raise ValueError(f"[clip_grad_norm_] expected norm_type > 0 (inf for the max norm), got {norm_type}")
    groups = list(_grads_by_device(parameters, "clip_grad_norm_").values())
    if not groups:
        return _wrap(_C.full([], 0.0, _C.dtype_from_name("float32"), _C.Device("cpu")))
    with no_grad():
        norms = [_wrap(_C.grad_norm(grads, norm_type)) for grads in groups]
        total = norms[0]
        for n in norms[1:]:  # parameters on several devices or of several dtypes: one global norm
            n = n.to(device=total.device, dtype=total.dtype)
            total = total.maximum(n) if math.isinf(norm_type) else (total ** norm_type + n ** norm_type) ** (1 / norm_type)
        for grads in groups:
            # the scale kernel computes min(1, max_norm / (norm + 1e-6)) on the device: no readback
            _C.scale_(grads, total.to(grads[0].device)._t if len(groups) > 1 else total._t, max_norm)
    return total


def clip_grad_value_(parameters, clip_value):
    """Clamps every gradient entry to [-clip_value, clip_value]."""
    clip_value = _number(clip_value, "clip_value", "clip_grad_value_", 0)
    for grads in _grads_by_device(parameters, "clip_grad_value_").values():
        _C.clip_value_(grads, clip_value)


def _unit_norms(w):
    dims = list(range(1, w.ndim)) if w.ndim > 1 else None
    return (w * w).sum(dims, keepdim=w.ndim > 1).sqrt()


class MaxNorm:
    def __init__(self, max_value=2.0, eps=1e-7):
        self.max_value = _number(max_value, "max_value", "MaxNorm", 0)
        self.eps = _number(eps, "eps", "MaxNorm", 0)

    def __call__(self, w):
        with no_grad():
            norms = _unit_norms(w)
            w.copy_(w * (norms.clip(0, self.max_value) / (norms + self.eps)))


class UnitNorm:
    def __init__(self, eps=1e-7):
        self.eps = _number(eps, "eps", "UnitNorm", 0)

    def __call__(self, w):
        with no_grad():
            w.copy_(w / (_unit_norms(w) + self.eps))


class NonNeg:
    def __call__(self, w):
        with no_grad():
            w.copy_(w.clip(0, None))
