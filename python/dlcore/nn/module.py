"""Module and Parameter: the bookkeeping of a network (which tensors are learned, which layers it
holds, train or eval mode, device, saving and loading), the containers Sequential, ModuleList
and ModuleDict, and summary(), the Keras-style layer table."""
from collections import OrderedDict

from ..autograd import no_grad
from ..functional import _array_like
from ..tensor import Tensor, tensor, zeros

__all__ = ["Parameter", "Module", "Sequential", "ModuleList", "ModuleDict"]


class Parameter(Tensor):
    """A tensor a Module learns: requires_grad by default, and found by Module.parameters()."""
    __slots__ = ()

    def __init__(self, data=None, requires_grad=True):
        src = zeros(0) if data is None else (data if isinstance(data, Tensor) else tensor(data))
        self._t = src._t  # the same memory as data, as in PyTorch
        self.grad = self.grad_fn = self._hooks = None
        self._out_nr = 0
        self._requires_grad = False
        self.requires_grad = requires_grad

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


class Module:
    """The base of every layer and network: subclasses set Parameters, buffers (register_buffer)
    and sub-Modules as attributes in __init__ and compute in forward()."""

    def __init__(self):
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "_forward_hooks", OrderedDict())
        object.__setattr__(self, "training", True)

    # ---- attributes: parameters, buffers and sub-modules are found by name ------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"[{type(self).__name__}] call super().__init__() before setting attributes")
        if isinstance(value, Parameter):
            self._forget(name)
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._forget(name)
            self._modules[name] = value
        elif name in self._parameters or name in self._modules:
            kind = "parameter" if name in self._parameters else "module"
            if value is not None:
                raise TypeError(f"[{type(self).__name__}] cannot assign a {type(value).__name__} to {kind} '{name}' "
                                f"(a {'Parameter' if kind == 'parameter' else 'Module'} or None expected)")
            (self._parameters if kind == "parameter" else self._modules)[name] = None
        elif name in self._buffers:
            if value is not None and not isinstance(value, Tensor):
                raise TypeError(f"[{type(self).__name__}] buffer '{name}' must be a Tensor or None")
            self._buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        self.__dict__.pop(name, None)

    def __getattr__(self, name):
        d = self.__dict__
        for table in ("_parameters", "_buffers", "_modules"):
            if table in d and name in d[table]:
                return d[table][name]
        raise AttributeError(f"'{type(self).__name__}' has no attribute '{name}'")

    def __delattr__(self, name):
        if any(name in t for t in (self._parameters, self._buffers, self._modules)):
            self._forget(name)
        else:
            object.__delattr__(self, name)

    def register_parameter(self, name, param):
        if param is not None and not isinstance(param, Parameter):
            raise TypeError(f"[register_parameter] expected a Parameter or None, got {type(param).__name__}")
        self._forget(name)
        self._parameters[name] = param

    def register_buffer(self, name, value, persistent=True):
        """A tensor that belongs to the module's state (moved by to(), saved by state_dict() when
        persistent) but is not learned: batch norm's running statistics."""
        self._forget(name)
        self._buffers[name] = value
        if not persistent:
            self.__dict__.setdefault("_non_persistent", set()).add(name)

    def add_module(self, name, module):
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"[add_module] expected a Module, got {type(module).__name__}")
        self._forget(name)
        self._modules[name] = module

    # ---- running ------------------------------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"[{type(self).__name__}] has no forward()")

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_hook(self, hook):
        """hook(module, inputs, output) runs after every forward; it may return a replacement output."""
        key = object()
        self._forward_hooks[key] = hook
        return _Handle(self._forward_hooks, key)

    # ---- traversal ------------------------------------------------------------------------------
    def named_modules(self, prefix="", memo=None):
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named(self, table, prefix, recurse):
        seen = set()
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mp, m in mods:
            for name, t in getattr(m, table).items():
                if t is None or id(t) in seen:
                    continue
                seen.add(id(t))
                yield (f"{mp}.{name}" if mp else name), t

    def named_parameters(self, prefix="", recurse=True):
        """(name, Parameter) pairs, each parameter once even if shared by several layers."""
        return self._named("_parameters", prefix, recurse)

    def parameters(self, recurse=True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix="", recurse=True):
        return self._named("_buffers", prefix, recurse)

    def buffers(self, recurse=True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    def apply(self, fn):
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    # ---- modes and devices ----------------------------------------------------------------------
    def train(self, mode=True):
        """Training mode (dropout drops, batch norm uses and updates batch statistics), or eval."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, flag=True):
        for p in self.parameters():
            p.requires_grad = flag
        return self

    def zero_grad(self, set_to_none=True):
        for p in self.parameters():
            if set_to_none:
                p.grad = None
            elif p.grad is not None:
                with no_grad():
                    p.grad.zero_()

    def to(self, *args, **kwargs):
        """Moves (or converts) every parameter and buffer in place; floating dtypes only change
        floating tensors. Returns self."""
        def convert(t):
            if t.dtype.is_floating_point:
                return t.to(*args, **kwargs)
            return t.to(*[a for a in args if not _is_dtype(a)], device=kwargs.get("device"))

        with no_grad():
            for m in self.modules():
                for p in m._parameters.values():
                    if p is not None:
                        moved = convert(p)
                        if moved is not p:
                            p._t = moved._t
                            if p.grad is not None:
                                p.grad = convert(p.grad)
                for name, b in m._buffers.items():
                    if b is not None:
                        m._buffers[name] = convert(b)
        return self

    def cpu(self):
        return self.to("cpu")

    def cuda(self, index=0):
        return self.to(f"cuda:{index}")

    def float(self):
        return self.to("float32")

    def double(self):
        return self.to("float64")

    # ---- state ---------------------------------------------------------------------------------
    def state_dict(self):
        """name -> tensor (parameters and persistent buffers, detached; they share memory with the module)."""
        out = OrderedDict()
        for name, p in self.named_parameters():
            out[name] = p.detach()
        for mp, m in self.named_modules():
            skip = m.__dict__.get("_non_persistent", ())
            for name, b in m._buffers.items():
                if b is not None and name not in skip:
                    out[f"{mp}.{name}" if mp else name] = b.detach()
        return out

    def load_state_dict(self, state_dict, strict=True):
        """Copies the values in (a dict of tensors or NumPy arrays, e.g. from state_dict() or a
        .npz file) into the module's tensors; shapes must match. strict: every key must match."""
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"[load_state_dict] missing keys {missing}, unexpected keys {unexpected}")
        with no_grad():
            for k, t in own.items():
                if k not in state_dict:
                    continue
                v = state_dict[k]
                shape = tuple(v.shape)
                if shape != tuple(t.shape):
                    raise ValueError(f"[load_state_dict] {k}: expected shape {tuple(t.shape)}, got {shape}")
                if not isinstance(v, Tensor):
                    v = tensor(_array_like(v, t.dtype, k, "load_state_dict"), dtype=t.dtype)
                t.copy_(v.to(device=t.device, dtype=t.dtype))
        return missing, unexpected

    # ---- Keras' way of training -------------------------------------------------------------------
    def compile(self, optimizer="adam", loss="cross_entropy", metrics=("accuracy",), lr=None):
        """Chooses the optimizer (an Optimizer, or "sgd", "adam", ... with lr), the loss (a function
        or a name) and the metrics for fit() and evaluate()."""
        from ..training import compile_module
        return compile_module(self, optimizer, loss, metrics, lr)

    def fit(self, x, y=None, batch_size=32, epochs=1, validation_data=None, validation_split=0.0, shuffle=True,
            callbacks=(), verbose=True, seed=0, initial_epoch=0):
        """Keras' fit: x and y arrays or tensors (or x a DataLoader); returns the History."""
        from ..training import fit_module
        return fit_module(self, x, y, batch_size, epochs, validation_data, validation_split, shuffle, callbacks,
                          verbose, seed, initial_epoch)

    def evaluate(self, x, y=None, batch_size=256):
        from ..training import evaluate_module
        return evaluate_module(self, x, y, batch_size)

    def predict(self, x, batch_size=256):
        from ..training import predict
        return predict(self, x, batch_size)

    # ---- printing ------------------------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"({name}): " + repr(m).replace("\n", "\n  ") for name, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not lines:
            return head + ")"
        return head + "\n  " + "\n  ".join(lines) + "\n)"

    def summary(self, input_shape=None, dtype="float32", device=None, print_fn=print):
        """Prints the layer table of the Keras summary: each layer's name and type, its output shape
        (when input_shape, the shape of one sample, is given: the model then runs once on a batch of
        2 zeros, in eval mode without recording) and its parameter count; then the totals. Returns
        the text."""
        rows, shapes = [], {}
        leaves = [(n, m) for n, m in self.named_modules() if n and (not m._modules or m._parameters)]
        if input_shape is not None:
            def keep_shape(name):
                def hook(module, inputs, output):
                    shapes.setdefault(name, _shape_of(output))
                return hook
            handles = [m.register_forward_hook(keep_shape(n)) for n, m in leaves]
            was_training = self.training
            dev = device if device is not None else next((p.device for p in self.parameters()), "cpu")
            try:
                self.eval()
                with no_grad():
                    self(zeros((2,) + tuple(input_shape), dtype=dtype, device=dev))
            finally:
                self.train(was_training)
                for h in handles:
                    h.remove()
        for n, m in leaves:
            count = sum(p.numel() for p in (m.parameters() if not m._modules else m._parameters.values()) if p is not None)
            rows.append((f"{n} ({type(m).__name__})", shapes.get(n, "?" if input_shape is not None else ""), count))
        total = sum(p.numel() for p in self.parameters())
        trainable = sum(p.numel() for p in self.parameters() if p.requires_grad)
        w0 = max([len("Layer (type)")] + [len(r[0]) for r in rows]) + 2
        w1 = max([len("Output Shape")] + [len(str(r[1])) for r in rows]) + 2
        rule = "=" * (w0 + w1 + 12)
        lines = [f'Model: "{type(self).__name__}"', rule, f"{'Layer (type)':<{w0}}{'Output Shape':<{w1}}{'Param #':>12}", rule]
        lines += [f"{a:<{w0}}{str(b):<{w1}}{c:>12,}" for a, b, c in rows]
        lines += [rule, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
                  f"Non-trainable params: {total - trainable:,}", rule]
        text = "\n".join(lines)
        if print_fn is not None:
            print_fn(text)
        return text


def _shape_of(out):
    if isinstance(out, Tensor):
        return "(None, " + ", ".join(str(s) for s in out.shape[1:]) + ")" if out.ndim > 1 else "(None,)"
    if isinstance(out, (tuple, list)) and out:
        return _shape_of(out[0])
    return "?"


def _is_dtype(a):
    from .._dtype import DType
    return isinstance(a, DType) or (isinstance(a, str) and a in ("float32", "float64", "int32", "int64", "bool"))


class _Handle:
    def __init__(self, table, key):
        self._table, self._key = table, key

    def remove(self):
        self._table.pop(self._key, None)


class Sequential(Module):
    """Layers applied one after the other: Sequential(l1, l2, ...) or Sequential(OrderedDict(name=layer))."""

    def __init__(self, *layers):
        super().__init__()
        if len(layers) == 1 and isinstance(layers[0], OrderedDict):
            for name, m in layers[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(layers):
                self.add_module(str(i), m)

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        return x

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def __getitem__(self, i):
        mods = list(self._modules.values())
        if isinstance(i, slice):
            return Sequential(*mods[i])
        return mods[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleList(Module):
    """A list of modules whose parameters the owner sees."""

    def __init__(self, modules=()):
        super().__init__()
        for m in modules:
            self.append(m)

    def append(self, module):
        self.add_module(str(len(self._modules)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def __getitem__(self, i):
        mods = list(self._modules.values())
        return ModuleList(mods[i]) if isinstance(i, slice) else mods[i]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ModuleDict(Module):
    """A dict of named modules whose parameters the owner sees."""

    def __init__(self, modules=None):
        super().__init__()
        for name, m in (modules or {}).items():
            self.add_module(name, m)

    def __getitem__(self, name):
        return self._modules[name]

    def __setitem__(self, name, module):
        self.add_module(name, module)

    def __contains__(self, name):
        return name in self._modules

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()
