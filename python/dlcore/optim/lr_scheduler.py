"""Learning-rate schedules. A schedule is a function lr(base_lr, t) of the step (or epoch)
counter t; step() advances t and writes lr into every parameter group. They compose:
ChainedScheduler multiplies the factors lr / base_lr of several schedules, SequentialLR switches
from one to the next at milestones (e.g. a warmup, then a cosine decay).

The course notes' schedule is LinearDecay: tau_k = (1 - a) tau_0 + a tau_kmax with a = k / kmax,
left unchanged after kmax."""
import math

__all__ = ["LRScheduler", "LinearDecay", "LinearWarmup", "StepLR", "MultiStepLR", "ExponentialLR",
           "CosineAnnealingLR", "ChainedScheduler", "SequentialLR", "ReduceLROnPlateau"]


class LRScheduler:
    def __init__(self, optimizer, last_epoch=-1):
        self.optimizer = optimizer
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
        if total_steps <= 0:
            raise ValueError(f"[LinearDecay] expected total_steps > 0, got {total_steps}")
        self.total_steps, self.end_lr, self.end_factor = int(total_steps), end_lr, float(end_factor)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        a = min(t / self.total_steps, 1.0)
        end = self.end_lr if self.end_lr is not None else base_lr * self.end_factor
        return (1 - a) * base_lr + a * end


class LinearWarmup(LRScheduler):
    """From base_lr * start_factor up to base_lr linearly over warmup_steps, then flat."""

    def __init__(self, optimizer, warmup_steps, start_factor=0.0, last_epoch=-1):
        self.warmup_steps, self.start_factor = max(int(warmup_steps), 1), float(start_factor)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        a = min(t / self.warmup_steps, 1.0)
        return base_lr * (self.start_factor + (1 - self.start_factor) * a)


class StepLR(LRScheduler):
    """base_lr * gamma ** (t // step_size)."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** (t // self.step_size)


class MultiStepLR(LRScheduler):
    """base_lr * gamma ** (the number of milestones <= t)."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        self.milestones, self.gamma = sorted(int(m) for m in milestones), float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** sum(m <= t for m in self.milestones)


class ExponentialLR(LRScheduler):
    def __init__(self, optimizer, gamma, last_epoch=-1):
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        return base_lr * self.gamma ** t


class CosineAnnealingLR(LRScheduler):
    """A linear warmup over warmup_steps (from 0), then half a cosine from base_lr down to eta_min
    at T_max; flat after."""

    def __init__(self, optimizer, T_max, eta_min=0.0, warmup_steps=0, last_epoch=-1):
        if T_max <= warmup_steps:
            raise ValueError(f"[CosineAnnealingLR] expected T_max > warmup_steps, got {T_max} and {warmup_steps}")
        self.T_max, self.eta_min, self.warmup_steps = int(T_max), float(eta_min), int(warmup_steps)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        if t < self.warmup_steps:
            return base_lr * t / self.warmup_steps
        a = min((t - self.warmup_steps) / (self.T_max - self.warmup_steps), 1.0)
        return self.eta_min + (base_lr - self.eta_min) * (1 + math.cos(math.pi * a)) / 2


class ChainedScheduler(LRScheduler):
    """Several schedules at once: lr = base_lr * the product of their factors lr / base_lr."""

    def __init__(self, schedulers, last_epoch=-1):
        self.schedulers = list(schedulers)
        super().__init__(self.schedulers[0].optimizer, last_epoch)

    def lr_at(self, base_lr, t):
        lr = base_lr
        for s in self.schedulers:
            lr *= s.lr_at(base_lr, t) / base_lr if base_lr else 1.0
        return lr


class SequentialLR(LRScheduler):
    """schedulers[i] from milestones[i - 1] on, each counting its steps from its own start."""

    def __init__(self, schedulers, milestones, last_epoch=-1):
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"[SequentialLR] expected {len(schedulers) - 1} milestones, got {len(milestones)}")
        self.schedulers, self.milestones = list(schedulers), [int(m) for m in milestones]
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
        if mode not in ("min", "max") or not 0 < factor < 1:
            raise ValueError(f"[ReduceLROnPlateau] expected mode 'min' or 'max' and 0 < factor < 1, got {mode!r}, "
                             f"{factor}")
        self.optimizer, self.mode, self.factor, self.patience = optimizer, mode, float(factor), int(patience)
        self.threshold, self.cooldown, self.min_lr = float(threshold), int(cooldown), float(min_lr)
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
