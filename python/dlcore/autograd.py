"""Reverse-mode automatic differentiation.

Every differentiable op, when one of its inputs requires a gradient and grad mode is on, records
a Node: the backward function of the op (a closure over what it saved: dlcore._C tensors, never
the Python Tensors of its outputs, so no reference cycle keeps a graph alive) and one edge per
input telling where that input's gradient goes:

    None              the input needs no gradient
    a leaf Tensor     a tensor created by the user with requires_grad=True: its .grad accumulates
    (node, index)     the output `index` of the node that made the input

backward() walks the nodes reachable from the roots in a topological order (Kahn's algorithm over
the edge counts), so a node runs once, after the gradients of all its outputs have been summed --
the course notes' rule that gradients add where a value branches. A node's backward is a few
kernel calls (no per-element Python). After it runs, its closure is dropped unless
retain_graph=True, which frees the saved activations as the walk goes.
"""
import contextlib
import functools
import threading

import numpy as np

from . import _C

__all__ = ["Node", "backward", "grad", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "gradcheck", "GradcheckError"]


class _GradMode(threading.local):
    enabled = True  # per thread, as in PyTorch


_mode = _GradMode()


def is_grad_enabled():
    return _mode.enabled


class set_grad_enabled:
    """Turns gradient recording on or off, as a context manager or a decorator (and, called plainly,
    for the rest of the thread)."""

    def __init__(self, mode):
        self.prev = _mode.enabled
        _mode.enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _mode.enabled = self.prev

    def __call__(self, fn):
        mode = _mode.enabled
        _mode.enabled = self.prev  # used as a decorator: the mode applies inside calls only

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(mode):
                return fn(*args, **kwargs)
        return wrapper


class _GradModeContext:
    _mode_value = True

    def __enter__(self):
        self.prev = _mode.enabled
        _mode.enabled = self._mode_value

    def __exit__(self, *exc):
        _mode.enabled = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradModeContext):
    """Within it, ops record nothing (inference, optimizer updates, weight initialisation)."""
    _mode_value = False


class enable_grad(_GradModeContext):
    """Turns recording back on inside a no_grad block."""
    _mode_value = True


class Node:
    """One recorded op (a tensor's .grad_fn): its name, its backward function and its input edges."""
    __slots__ = ("name", "backward_fn", "edges", "n_outputs", "hooks", "__weakref__")

    def __init__(self, name, backward_fn, edges, n_outputs):
        self.name = name
        self.backward_fn = backward_fn
        self.edges = edges
        self.n_outputs = n_outputs
        self.hooks = None  # {output index: [fn(grad) -> grad or None]}, from Tensor.register_hook

    @property
    def next_functions(self):
        """The nodes this one sends gradients to (leaves appear as the tensors themselves)."""
        return tuple(e[0] if type(e) is tuple else e for e in self.edges)

    def __repr__(self):
        return f"<{self.name}Backward>"


def needs_grad(*tensors):
    """Whether an op on these tensors (None allowed) must be recorded."""
    if not _mode.enabled:
        return False
    for t in tensors:
        if t is not None and t._requires_grad:
            return True
    return False


def _edge(t):
    if t is None or not t._requires_grad:
        return None
    if t.grad_fn is not None:
        return (t.grad_fn, t._out_nr)
    return t


def record(name, outputs, inputs, backward_fn):
    """Makes `outputs` (Tensors just computed from `inputs`, a sequence of Tensors or None) the
    results of a Node whose backward_fn maps the outputs' gradients (one _C tensor, or a list with
    None for outputs that got none, when there are several) to one gradient per input (a _C tensor
    or None). Returns outputs."""
    single = not isinstance(outputs, (tuple, list))
    outs = (outputs,) if single else outputs
    node = Node(name, backward_fn, tuple(_edge(t) for t in inputs), len(outs))
    for i, o in enumerate(outs):
        o._requires_grad = True
        o.grad_fn = node
        o._out_nr = i
    return outputs


# ---- the engine ------------------------------------------------------------------------------

def _accumulate(slot, g):
    return g if slot is None else _C.add(slot, g)


def _run(roots, retain_graph, captures=None):
    """roots: [(edge, _C gradient)]. Without captures, leaf gradients accumulate into .grad; with
    captures ({edge key: index}, the key a leaf's id or a (node, index) pair), the gradients
    reaching those edges are returned instead and no .grad changes."""
    from .tensor import _wrap
    deps = {}
    stack = []
    for edge, _ in roots:
        if type(edge) is tuple and edge[0] not in deps:
            deps[edge[0]] = 0
            stack.append(edge[0])
    seen = set(stack)
    while stack:  # count, for each node, the edges that lead into it
        for e in stack.pop().edges:
            if type(e) is tuple:
                child = e[0]
                deps[child] = deps.get(child, 0) + 1
                if child not in seen:
                    seen.add(child)
                    stack.append(child)

    buffers = {}  # node -> [summed gradient per output]
    leaves = {}  # id(leaf) -> [leaf, summed gradient]
    captured = [None] * len(captures) if captures else None

    def deliver(edge, g):
        if type(edge) is tuple:
            node, nr = edge
            buf = buffers.get(node)
            if buf is None:
                buf = buffers[node] = [None] * node.n_outputs
            buf[nr] = _accumulate(buf[nr], g)
            if captures is not None and edge in captures:
                i = captures[edge]
                captured[i] = _accumulate(captured[i], g)
        else:
            if captures is not None:
                i = captures.get(id(edge))
                if i is not None:
                    captured[i] = _accumulate(captured[i], g)
                return
            entry = leaves.get(id(edge))
            if entry is None:
                leaves[id(edge)] = [edge, g]
            else:
                entry[1] = _C.add(entry[1], g)

    for edge, g in roots:
        deliver(edge, g)
    ready = [n for n in deps if deps[n] == 0]
    while ready:
        node = ready.pop()
        grads = buffers.pop(node, None)
        if grads is not None and node.hooks:
            for nr, hooks in node.hooks.items():
                if grads[nr] is not None:
                    grads[nr] = _apply_hooks(hooks, grads[nr], _wrap)
        if grads is not None and any(g is not None for g in grads):
            fn = node.backward_fn
            if fn is None:
                raise RuntimeError(f"[backward] the graph through {node.name} was already freed by a previous "
                                   "backward(); pass retain_graph=True to the first call to backward twice")
            in_grads = fn(grads[0] if node.n_outputs == 1 else grads)
            if not isinstance(in_grads, (tuple, list)):
                in_grads = (in_grads,)
            if not retain_graph:
                node.backward_fn = None
            for e, g in zip(node.edges, in_grads):
                if e is not None and g is not None:
                    deliver(e, g)
        elif not retain_graph:
            node.backward_fn = None
        for e in node.edges:
            if type(e) is tuple:
                child = e[0]
                deps[child] -= 1
                if deps[child] == 0:
                    ready.append(child)

    if captures is not None:
        return captured
    for leaf, g in leaves.values():
        _accumulate_leaf(leaf, g, _wrap)


def _apply_hooks(hooks, g, wrap):
    for hook in list(hooks):
        out = hook(wrap(g))
        if out is not None:
            g = out._t
    return g


def _accumulate_leaf(leaf, g, wrap):
    if tuple(g.shape) != tuple(leaf.shape):
        raise RuntimeError(f"[backward] the gradient of a leaf of shape {tuple(leaf.shape)} came out with shape "
                           f"{tuple(g.shape)}")
    if g.dtype != leaf.dtype:
        g = _C.astype(g, leaf.dtype)
    if leaf._hooks:
        g = _apply_hooks(leaf._hooks, g, wrap)
    if leaf.grad is None:
        # A gradient may be a broadcast view, or shared with another leaf (add passes its
        # gradient on unchanged): .grad gets memory of its own, since it accumulates in place.
        leaf.grad = wrap(_C.clone(g))
    else:
        _C.copy_into(leaf.grad._t, _C.add(leaf.grad._t, g))


def _root_grads(tensors, grad_tensors, op):
    from .tensor import Tensor
    if isinstance(tensors, Tensor):
        tensors = (tensors,)
    if grad_tensors is None or isinstance(grad_tensors, Tensor):
        grad_tensors = (grad_tensors,) * len(tensors) if grad_tensors is None else (grad_tensors,)
    if len(grad_tensors) != len(tensors):
        raise ValueError(f"[{op}] expected one gradient per tensor ({len(tensors)}), got {len(grad_tensors)}")
    roots = []
    for t, g in zip(tensors, grad_tensors):
        if not t.requires_grad:
            raise RuntimeError(f"[{op}] the tensor does not require grad and has no grad_fn: nothing to "
                               "differentiate (set requires_grad=True on the leaves, outside no_grad())")
        if g is None:
            if t.numel() != 1:
                raise RuntimeError(f"[{op}] a gradient can be implied only for a single-element output; got shape "
                                   f"{tuple(t.shape)}: pass gradient= (the vector of the vector-Jacobian product)")
            roots.append((_edge(t), _C.full(list(t.shape), 1, t.dtype, t.device)))
            continue
        if not isinstance(g, Tensor):
            g = Tensor(g, dtype=t.dtype, device=t.device)
        if tuple(g.shape) != tuple(t.shape) or g.device != t.device:
            raise ValueError(f"[{op}] expected a gradient of shape {tuple(t.shape)} on {t.device}, got shape "
                             f"{tuple(g.shape)} on {g.device}")
        if g.dtype != t.dtype:
            g = g.astype(t.dtype)
        roots.append((_edge(t), g._t))
    return roots


def backward(tensors, grad_tensors=None, retain_graph=False):
    """Accumulates into the .grad of every leaf the gradient of sum(tensor * grad) over the given
    tensors; a single-element tensor's gradient defaults to 1."""
    roots = _root_grads(tensors, grad_tensors, "backward")
    with no_grad():
        _run(roots, retain_graph)


def grad(outputs, inputs, grad_outputs=None, retain_graph=False, allow_unused=False):
    """The gradients of outputs with respect to inputs, returned as a tuple rather than accumulated
    into .grad."""
    from .tensor import Tensor, _wrap, zeros_like
    single = isinstance(inputs, Tensor)
    inputs = (inputs,) if single else tuple(inputs)
    captures = {}
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            raise RuntimeError(f"[grad] input {i} does not require grad")
        e = _edge(t)
        captures[e if type(e) is tuple else id(e)] = i
    roots = _root_grads(outputs, grad_outputs, "grad")
    with no_grad():
        got = _run(roots, retain_graph, captures)
    out = []
    for i, (t, g) in enumerate(zip(inputs, got)):
        if g is None:
            if not allow_unused:
                raise RuntimeError(f"[grad] input {i} was not used to compute the outputs; pass allow_unused=True")
            out.append(zeros_like(t) if allow_unused == "zeros" else None)
        else:
            out.append(_wrap(g if g.dtype == t.dtype else _C.astype(g, t.dtype)))
    return tuple(out)


# ---- gradcheck -----------------------------------------------------------------------------------

class GradcheckError(AssertionError):
    pass


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Checks the backward of fn against central finite differences, in float64.

    fn maps the tensors `inputs` (those with requires_grad=True are checked; each must be float64)
    to a tensor or a tuple of tensors. For every output and a fixed random weighting w of it, the
    analytic gradient of sum(w * output) is compared with (f(x + eps e_i) - f(x - eps e_i)) / 2 eps,
    element by element: |analytic - numeric| <= atol + rtol |numeric|. Returns True, or raises
    GradcheckError naming the input and the worst element (or returns False with
    raise_exception=False)."""
    from .tensor import Tensor, tensor
    inputs = tuple(inputs) if isinstance(inputs, (tuple, list)) else (inputs,)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]
    if not checked:
        raise ValueError("[gradcheck] none of the inputs requires grad")
    for i in checked:
        if inputs[i].dtype.name != "float64":
            raise TypeError(f"[gradcheck] input {i} must be float64 for finite differences, got {inputs[i].dtype}")

    def outputs(args):
        out = fn(*args)
        return out if isinstance(out, (tuple, list)) else (out,)

    rng = np.random.default_rng(0)
    with enable_grad():
        outs = outputs(inputs)
    weights = [rng.standard_normal(tuple(o.shape)) for o in outs]

    def objective(args):
        with no_grad():
            return sum(float((np.asarray(o.cpu().numpy(), np.float64) * w).sum()) for o, w in zip(outputs(args), weights))

    with enable_grad():
        diff = [o for o in outs if o.requires_grad]
        if not diff:
            raise GradcheckError("[gradcheck] no output requires grad: the function recorded no graph")
        ws = [tensor(w, dtype=o.dtype, device=o.device) for o, w in zip(outs, weights) if o.requires_grad]
        analytic = grad(diff, [inputs[i] for i in checked], ws, allow_unused="zeros")

    for k, i in enumerate(checked):
        x = inputs[i]
        base = x.detach().cpu().numpy().copy()
        numeric = np.zeros_like(base)
        for idx in np.ndindex(base.shape):
            vals = []
            for sign in (1, -1):
                p = base.copy()
                p[idx] += sign * eps
                args = list(inputs)
                args[i] = tensor(p, dtype=x.dtype, device=x.device)
                vals.append(objective(args))
            numeric[idx] = (vals[0] - vals[1]) / (2 * eps)
        a = analytic[k].cpu().numpy()
        err = np.abs(a - numeric)
        bad = err > atol + rtol * np.abs(numeric)
        if bad.any():
            j = np.unravel_index(int(np.argmax(err - rtol * np.abs(numeric))), base.shape)
            msg = (f"[gradcheck] input {i} (shape {base.shape}): {int(bad.sum())} of {bad.size} gradient entries "
                   f"differ; at {tuple(int(v) for v in j)} analytic {a[j]!r}, numeric {numeric[j]!r}")
            if raise_exception:
                raise GradcheckError(msg)
            return False
    return True
