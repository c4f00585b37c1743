"""Optimizers: each step() is ONE fused kernel call per parameter group (per device and dtype),
which reads every parameter, gradient and state tensor once and writes them once -- the
multi-tensor kernels of csrc/cpu/optim.cpp and cuda/optim.cu. The formulas, PyTorch's, are in
each class's docstring; tests/test_optim.py checks them step by step against NumPy.

Parameter groups: Optimizer([{"params": [...], "lr": 0.1}, {"params": [...]}], lr=0.01) gives
each group its own hyper-parameters (the defaults fill the rest); a group may also carry a
"constraint" (see dlcore.optim.constraints) applied to its parameters after every step."""
from collections import defaultdict

import numpy as np

from .. import _C
from ..autograd import no_grad
from ..functional import _array_like, _number
from ..tensor import Tensor, tensor, zeros_like

__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW"]


class Optimizer:
    state_names = ()  # the per-parameter state tensors

    def __init__(self, params, defaults):
        self.defaults = defaults
        self.state = defaultdict(dict)  # parameter -> {"step": int, name: tensor}
        self.param_groups = []
        params = list(params)
        if not params:
            raise ValueError(f"[{type(self).__name__}] got an empty parameter list")
        for group in (params if isinstance(params[0], dict) else [{"params": params}]):
            self.add_param_group(group)

    def add_param_group(self, group):
        group = dict(group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self._check(group)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for p in group["params"]:
            if not isinstance(p, Tensor) or not p.is_leaf:
                raise TypeError(f"[{type(self).__name__}] can only optimize leaf tensors, got {type(p).__name__}")
            if id(p) in seen:
                raise ValueError(f"[{type(self).__name__}] a parameter appears in more than one group")
            seen.add(id(p))
        self.param_groups.append(group)

    def _check(self, group):
        name = type(self).__name__
        for key in ("lr", "weight_decay", "eps", "momentum", "dampening", "lr_decay", "initial_accumulator_value"):
            if key in group:
                _number(group[key], key, name, 0)
        for key in ("alpha", "rho"):
            if key in group:
                _number(group[key], key, name, 0, 1)
        if "betas" in group:
            betas = group["betas"]
            if len(betas) != 2:
                raise ValueError(f"[{name}] expected betas as a pair (beta1, beta2), got {betas!r}")
            for b in betas:
                _number(b, "betas", name, 0, 1, high_open=True)

    def zero_grad(self, set_to_none=True):
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    with no_grad():
                        p.grad.zero_()

    @no_grad()
    def step(self, closure=None):
        """One update of every parameter that has a gradient; closure (optional) recomputes and
        returns the loss."""
        loss = None
        if closure is not None:
            from ..autograd import enable_grad
            with enable_grad():
                loss = closure()
        for group in self.param_groups:
            for bucket in self._buckets(group):
                self._update(group, *bucket)
            constraint = group.get("constraint")
            if constraint is not None:
                for p in group["params"]:
                    constraint(p)
        return loss

    def _buckets(self, group):
        """The group's parameters with a gradient, split by (device, dtype, step): one kernel call each."""
        buckets = {}
        for p in group["params"]:
            if p.grad is None:
                continue
            st = self.state[p]
            if "step" not in st:
                self._init_state(group, p, st)
            st["step"] += 1
            key = (str(p._t.device), p._t.dtype, st["step"])  # the raw fields: cheapest to hash, per step
            buckets.setdefault(key, []).append(p)
        names = self._state_names(group)
        for (_, _, step), params in buckets.items():
            states = {n: [self.state[p][n]._t for p in params] for n in names}
            yield [p._t for p in params], [p.grad._t for p in params], states, step

    def _state_names(self, group):
        return self.state_names

    def _init_state(self, group, p, st):
        st["step"] = 0
        for n in self._state_names(group):
            st[n] = zeros_like(p)

    def _update(self, group, params, grads, states, step):
        """One fused kernel call: states maps each state name to its list of tensors ([] if unused)."""
        raise NotImplementedError

    # ---- saving and loading ----------------------------------------------------------------
    def state_dict(self):
        """{"state": {index: {name: tensor or number}}, "param_groups": [hyper-parameters with the
        parameters as indices]}: plain data, saved without pickle by dlcore.save."""
        index = {}
        groups = []
        for g in self.param_groups:
            ids = []
            for p in g["params"]:
                index[id(p)] = len(index)
                ids.append(index[id(p)])
            groups.append({**{k: v for k, v in g.items() if k not in ("params", "constraint")}, "params": ids})
        state = {index[id(p)]: {k: (v.detach() if isinstance(v, Tensor) else v) for k, v in s.items()}
                 for p, s in self.state.items() if id(p) in index}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        groups = state_dict["param_groups"]
        if len(groups) != len(self.param_groups) or any(
                len(a["params"]) != len(b["params"]) for a, b in zip(groups, self.param_groups)):
            raise ValueError(f"[{type(self).__name__}.load_state_dict] the saved parameter groups do not match this "
                             "optimizer's (number of groups or of parameters per group)")
        params = [p for g in self.param_groups for p in g["params"]]
        for saved, group in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k != "params":
                    group[k] = tuple(v) if isinstance(v, (list, np.ndarray)) else v
            self._check(group)
        name = type(self).__name__
        state = defaultdict(dict)
        for i, s in state_dict["state"].items():
            if not 0 <= int(i) < len(params):
                raise ValueError(f"[{name}.load_state_dict] state for parameter {i}, but there are {len(params)}")
            p = params[int(i)]
            for k, v in s.items():
                if k == "step":
                    state[p][k] = int(v)
                    continue
                if tuple(np.shape(v)) != tuple(p.shape):
                    raise ValueError(f"[{name}.load_state_dict] state {k!r} of parameter {i}: expected shape "
                                     f"{tuple(p.shape)}, got {tuple(np.shape(v))}")
                state[p][k] = tensor(_array_like(v, p.dtype, f"state {k!r} of parameter {i}", f"{name}.load_state_dict"),
                                     dtype=p.dtype, device=p.device)
        self.state = state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items()) if k != "params"]
        return "\n".join(lines + [")"])


class SGD(Optimizer):
    """Stochastic gradient descent, with momentum and Nesterov momentum (the course notes'
    velocity form, as PyTorch writes it):
        g = grad + weight_decay * p
        buf = g (first step), else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf (nesterov), else buf
        p = p - lr * g"""

    def __init__(self, params, lr=0.01, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False):
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("[SGD] Nesterov momentum needs momentum > 0 and dampening = 0")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                                      nesterov=nesterov))

    def _state_names(self, group):
        return ("momentum_buffer",) if group["momentum"] != 0 else ()

    def _update(self, group, params, grads, states, step):
        _C.sgd_step(params, grads, states.get("momentum_buffer", []), group["lr"], group["momentum"],
                    group["dampening"], group["weight_decay"], bool(group["nesterov"]), step == 1)


class Adagrad(Optimizer):
    """Adagrad: sum += g^2; p = p - lr / (1 + (step - 1) lr_decay) * g / (sqrt(sum) + eps)."""
    state_names = ("sum",)

    def __init__(self, params, lr=0.01, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0, eps=1e-10):
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                                      initial_accumulator_value=initial_accumulator_value))

    def _init_state(self, group, p, st):
        super()._init_state(group, p, st)
        st["sum"].fill_(group["initial_accumulator_value"])

    def _update(self, group, params, grads, states, step):
        _C.adagrad_step(params, grads, states["sum"], group["lr"], group["lr_decay"], group["weight_decay"], group["eps"],
                        step)


class RMSprop(Optimizer):
    """RMSprop: sq = alpha sq + (1 - alpha) g^2; avg = sqrt(sq - mean_g^2) (centered) or sqrt(sq),
    plus eps; with momentum buf = momentum buf + g / avg and p -= lr buf, else p -= lr g / avg."""

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered))

    def _state_names(self, group):
        return ("square_avg",) + (("momentum_buffer",) if group["momentum"] > 0 else ()) + (
            ("grad_avg",) if group["centered"] else ())

    def _update(self, group, params, grads, states, step):
        _C.rmsprop_step(params, grads, states["square_avg"], states.get("momentum_buffer", []),
                        states.get("grad_avg", []), group["lr"], group["alpha"], group["eps"], group["weight_decay"],
                        group["momentum"], bool(group["centered"]))


class Adadelta(Optimizer):
    """Adadelta: sq = rho sq + (1 - rho) g^2; delta = sqrt(acc + eps) / sqrt(sq + eps) * g;
    acc = rho acc + (1 - rho) delta^2; p -= lr * delta."""
    state_names = ("square_avg", "acc_delta")

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay))

    def _update(self, group, params, grads, states, step):
        _C.adadelta_step(params, grads, states["square_avg"], states["acc_delta"], group["lr"], group["rho"], group["eps"],
                         group["weight_decay"])


class Adam(Optimizer):
    """Adam: m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2 (amsgrad: the running max of v);
    p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). weight_decay adds wd * p to g
    (L2); AdamW decays the weights directly instead (p *= 1 - lr wd)."""
    decoupled = False

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False):
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad))

    def _state_names(self, group):
        return ("exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())

    def _update(self, group, params, grads, states, step):
        b1, b2 = group["betas"]
        _C.adam_step(params, grads, states["exp_avg"], states["exp_avg_sq"], states.get("max_exp_avg_sq", []),
                     group["lr"], b1, b2, group["eps"], group["weight_decay"], step, self.decoupled,
                     bool(group["amsgrad"]))


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter): p *= 1 - lr * weight_decay, then Adam."""
    decoupled = True

    def __init__(self, params, lr=0.001, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01, amsgrad=False):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
