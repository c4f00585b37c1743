"""dlcore.optim: optimizers whose step is one fused kernel launch, learning-rate schedules,
gradient clipping and weight constraints."""
from . import lr_scheduler
from .clip import MaxNorm, NonNeg, UnitNorm, clip_grad_norm_, clip_grad_value_
from .optimizer import SGD, Adadelta, Adagrad, Adam, AdamW, Optimizer, RMSprop

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW", "lr_scheduler",
           "clip_grad_norm_", "clip_grad_value_", "MaxNorm", "UnitNorm", "NonNeg"]
