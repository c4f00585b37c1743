"""Learning-rate schedules. A schedule is a function lr(base_lr, t) of the step (or epoch)
counter t; step() advances t and writes lr into every parameter group. They compose:
ChainedScheduler multiplies the factors lr / base_lr of several schedules, SequentialLR switches
from one to the next at milestones (e.g. a warmup, then a cosine decay).

The course notes' schedule is LinearDecay: tau_k = (1 - a) tau_0 + a tau_kmax with a = k / kmax,
left unchanged after kmax."""
import math

from ..functional import _number

__all__ = ["LRScheduler", "LinearDecay", "LinearWarmup", "StepLR", "MultiStepLR", "ExponentialLR",
           "CosineAnnealingLR", "ChainedScheduler", "SequentialLR", "ReduceLROnPlateau"]


def _optimizer(optimizer, op):
    if not hasattr(optimizer, "param_groups"):
        raise TypeError(f"[{op}] expected an optimizer (with param_groups), got {type(optimizer).__name__}")
    return optimizer


def _schedulers(schedulers, op):
    """The schedules a composite runs: at least one, all of one optimizer."""
    schedulers = list(schedulers)
    if not schedulers:
        raise ValueError(f"[{op}] expected at least one scheduler, got none")
    if any(s.optimizer is not schedulers[0].optimizer for s in schedulers):
        raise ValueError(f"[{op}] expected schedulers of one optimizer, got schedulers of several")
    return schedulers


class LRScheduler:
    def __init__(self, optimizer, last_epoch=-1):
        self.optimizer = _optimizer(optimizer, type(self).__name__)
        for g in optimizer.param_groups:
            g.setdefault("initial_lr", g["lr"])
        self.base_lrs = [g["initial_lr"] for g in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr, t):
        raise NotImplementedError

    def step(self):
        self.last_epoch += 1
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = self.lr_at(base, self.last_epoch)

    def get_last_lr(self):
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self):
        return {"last_epoch": self.last_epoch, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state):
        self.last_epoch, self.base_lrs = int(state["last_epoch"]), [float(v) for v in state["base_lrs"]]
        for g, base in zip(self.optimizer.param_groups, self.base_lrs):
            g["lr"] = self.lr_at(base, self.last_epoch)


class LinearDecay(LRScheduler):
    """From base_lr down to end_lr (or base_lr * end_factor) linearly over total_steps, then flat."""

    def __init__(self, optimizer, total_steps, end_lr=None, end_factor=0.01, last_epoch=-1):
        self.total_steps = _number(total_steps, "total_steps", "LinearDecay", 1, integer=True)
        self.end_lr = None if end_lr is None else _number(end_lr, "end_lr", "LinearDecay", 0)
        self.end_factor = _number(end_factor, "end_factor", "LinearDecay", 0)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        a = min(t / self.total_steps, 1.0)
        end = self.end_lr if self.end_lr is not None else base_lr * self.end_factor
        return (1 - a) * base_lr + a * end


class LinearWarmup(LRScheduler):
    """From base_lr * start_factor up to base_lr linearly over warmup_steps, then flat."""

    def __init__(self, optimizer, warmup_steps, start_factor=0.0, last_epoch=-1):
        # no warmup (0 steps) is one step at full rate: the formula needs a nonzero divisor
        self.warmup_steps = max(_number(warmup_steps, "warmup_steps", "LinearWarmup", 0, integer=True), 1)
        self.start_factor = _number(start_factor, "start_factor", "LinearWarmup", 0, 1)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        a = min(t / self.warmup_steps, 1.0)
        return base_lr * (self.start_factor + (1 - self.start_factor) * a)


class StepLR(LRScheduler):
    """base_lr * gamma ** (t // step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size = _number(step_size, "step_size", "StepLR", 1, integer=True)
        self.gamma = _number(gamma, "gamma", "StepLR", 0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** (t // self.step_size)


class MultiStepLR(LRScheduler):
    """base_lr * gamma ** (the number of milestones <= t)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones = sorted(_number(m, "milestones", "MultiStepLR", 0, integer=True) for m in milestones)
        self.gamma = _number(gamma, "gamma", "MultiStepLR", 0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** sum(m <= t for m in self.milestones)


class ExponentialLR(LRScheduler):
    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = _number(gamma, "gamma", "ExponentialLR", 0, low_open=True)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** t


class CosineAnnealingLR(LRScheduler):
    """A linear warmup over warmup_steps (from 0), then half a cosine from base_lr down to eta_min
    at T_max; flat after."""

    def __init__(self, optimizer, T_max, eta_min=0.0, warmup_steps=0, last_epoch=-1):
        warmup_steps = _number(warmup_steps, "warmup_steps", "CosineAnnealingLR", 0, integer=True)
        self.T_max = _number(T_max, "T_max (> warmup_steps)", "CosineAnnealingLR", warmup_steps, low_open=True,
                             integer=True)
        self.eta_min, self.warmup_steps = _number(eta_min, "eta_min", "CosineAnnealingLR", 0), warmup_steps
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        if t < self.warmup_steps:
            return base_lr * t / self.warmup_steps
        a = min((t - self.warmup_steps) / (self.T_max - self.warmup_steps), 1.0)
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * a)) / 2


class ChainedScheduler(LRScheduler):
    """Several schedules at once: lr = base_lr * the product of their factors lr / base_lr."""

    def __init__(self, schedulers, last_epoch=-1):
        self.schedulers = _schedulers(schedulers, "ChainedScheduler")
        super().__init__(self.schedulers[0].optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        lr = base_lr
        for s in self.schedulers:
            lr *= s.lr_at(base_lr, t) / base_lr if base_lr else 1.0
        return lr


class SequentialLR(LRScheduler):
    """schedulers[i] from milestones[i - 1] on, each counting its steps from its own start."""

    def __init__(self, schedulers, milestones, last_epoch=-1):
        self.schedulers = _schedulers(schedulers, "SequentialLR")
        self.milestones = [_number(m, "milestones", "SequentialLR", 1, integer=True) for m in milestones]
        if len(self.milestones) != len(self.schedulers) - 1 or self.milestones != sorted(set(self.milestones)):
            raise ValueError(f"[SequentialLR] expected {len(self.schedulers) - 1} increasing milestones (one per switch "
                             f"to the next scheduler), got {list(milestones)}")
        super().__init__(self.schedulers[0].optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        start = 0
        i = sum(m <= t for m in self.milestones)
        if i:
            start = self.milestones[i - 1]
        return self.schedulers[i].lr_at(base_lr, t - start)


class ReduceLROnPlateau:
    """Multiplies lr by factor when the monitored metric (step(metric)) has not improved by more
    than threshold (relative) for patience steps; then waits cooldown steps; never below min_lr."""

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4, cooldown=0, min_lr=0.0):
        op = "ReduceLROnPlateau"
        if mode not in ("min", "max"):
            raise ValueError(f"[{op}] expected mode 'min' or 'max', got {mode!r}")
        self.optimizer, self.mode = _optimizer(optimizer, op), mode
        self.factor = _number(factor, "factor", op, 0, 1, low_open=True, high_open=True)
        self.patience = _number(patience, "patience", op, 0, integer=True)
        self.threshold = _number(threshold, "threshold", op, 0)
        self.cooldown = _number(cooldown, "cooldown", op, 0, integer=True)
        self.min_lr = _number(min_lr, "min_lr", op, 0)
        self.best, self.bad_steps, self.cooldown_left = math.inf if mode == "min" else -math.inf, 0, 0

    def _better(self, metric):
        if self.mode == "min":
            return metric < self.best * (1 - self.threshold) if self.best != math.inf else True
        return metric > self.best * (1 + self.threshold) if self.best != -math.inf else True

    def step(self, metric):
        metric = float(metric)
        if self._better(metric):
            self.best, self.bad_steps = metric, 0
        else:
            self.bad_steps += 1
        if self.cooldown_left > 0:
            self.cooldown_left -= 1
            self.bad_steps = 0
        if self.bad_steps > self.patience:
            for g in self.optimizer.param_groups:
                g["lr"] = max(g["lr"] * self.factor, self.min_lr)
            self.cooldown_left, self.bad_steps = self.cooldown, 0

    def get_last_lr(self):
        return [g["lr"] for g in self.optimizer.param_groups]

    def state_dict(self):
        return {"best": self.best, "bad_steps": self.bad_steps, "cooldown_left": self.cooldown_left,
                "lrs": self.get_last_lr()}

    def load_state_dict(self, state):
        self.best, self.bad_steps = float(state["best"]), int(state["bad_steps"])
        self.cooldown_left = int(state["cooldown_left"])
        for g, lr in zip(self.optimizer.param_groups, state["lrs"]):
            g["lr"] = float(lr)
