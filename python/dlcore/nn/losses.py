"""Loss modules: each keeps its options and calls the loss kernel of dlcore.functional."""
from .. import functional as F
from ..tensor import _as_tensor
from .module import Module

__all__ = ["CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "SmoothL1Loss", "HuberLoss", "BCELoss",
           "BCEWithLogitsLoss", "MultiMarginLoss", "KLDivLoss", "CosineProximityLoss"]


class _Loss(Module):
    fn = None

    def __init__(self, weights=None, **options):
        super().__init__()
        self.options = options
        # Class or element weights are buffers, as in PyTorch: to() moves them, state_dict() saves them.
        self.weight_names = [name for name, w in (weights or {}).items() if w is not None]
        for name in self.weight_names:
            self.register_buffer(name, _as_tensor(weights[name]))

    def forward(self, input, target):
        return type(self).fn(input, target, **self.options, **{n: getattr(self, n) for n in self.weight_names})

    def extra_repr(self):
        return ", ".join(f"{k}={v!r}" for k, v in self.options.items())


class CrossEntropyLoss(_Loss):
    """Softmax + cross-entropy on class scores and integer labels (or class probabilities), fused."""
    fn = staticmethod(F.cross_entropy)

    def __init__(self, weight=None, ignore_index=-100, reduction="mean", label_smoothing=0.0):
        super().__init__({"weight": weight}, ignore_index=ignore_index, reduction=reduction,
                         label_smoothing=label_smoothing)


class NLLLoss(_Loss):
    fn = staticmethod(F.nll_loss)

    def __init__(self, weight=None, ignore_index=-100, reduction="mean"):
        super().__init__({"weight": weight}, ignore_index=ignore_index, reduction=reduction)


class MSELoss(_Loss):
    fn = staticmethod(F.mse_loss)

    def __init__(self, reduction="mean"):
        super().__init__(reduction=reduction)


class L1Loss(_Loss):
    fn = staticmethod(F.l1_loss)

    def __init__(self, reduction="mean"):
        super().__init__(reduction=reduction)


class SmoothL1Loss(_Loss):
    fn = staticmethod(F.smooth_l1_loss)

    def __init__(self, reduction="mean", beta=1.0):
        super().__init__(reduction=reduction, beta=beta)


class HuberLoss(_Loss):
    fn = staticmethod(F.huber_loss)

    def __init__(self, reduction="mean", delta=1.0):
        super().__init__(reduction=reduction, delta=delta)


class BCELoss(_Loss):
    """Binary cross-entropy on probabilities."""
    fn = staticmethod(F.binary_cross_entropy)

    def __init__(self, weight=None, reduction="mean"):
        super().__init__({"weight": weight}, reduction=reduction)


class BCEWithLogitsLoss(_Loss):
    """Binary cross-entropy on logits (sigmoid folded in, stable for any value)."""
    fn = staticmethod(F.binary_cross_entropy_with_logits)

    def __init__(self, weight=None, reduction="mean", pos_weight=None):
        super().__init__({"weight": weight, "pos_weight": pos_weight}, reduction=reduction)


class MultiMarginLoss(_Loss):
    """The multi-class hinge (SVM) loss; p=2 the squared hinge."""
    fn = staticmethod(F.multi_margin_loss)

    def __init__(self, p=1, margin=1.0, weight=None, reduction="mean"):
        super().__init__({"weight": weight}, p=p, margin=margin, reduction=reduction)


class KLDivLoss(_Loss):
    fn = staticmethod(F.kl_div)

    def __init__(self, reduction="mean", log_target=False):
        super().__init__(reduction=reduction, log_target=log_target)


class CosineProximityLoss(_Loss):
    """1 - cosine similarity of input and target rows (Keras' cosine proximity)."""
    fn = staticmethod(F.cosine_proximity_loss)

    def __init__(self, dim=1, eps=1e-8, reduction="mean"):
        super().__init__(dim=dim, eps=eps, reduction=reduction)
