"""Fused optimizer steps and gradient clipping over lists of tensors (dlcore._C.sgd_step,
adagrad_step, rmsprop_step, adadelta_step, adam_step, grad_norm, scale_, clip_value_) on every
backend, against NumPy float64 implementations of PyTorch's formulas run for many steps, and
against torch.optim (foreach=False) when PyTorch is installed; then the dlcore.optim classes on
top of them (torch.optim step for step, param groups, state_dict, bad hyper-parameters), the
clipping helpers and the weight constraints.

Lists mix awkward sizes: 1, primes, zero-size tensors, sizes that are not multiples of the SIMD
width or of the norm's and CUDA's chunks (8192 elements), and many small tensors next to a large
one; on 2 threads the CPU's per-thread ranges start and end inside tensors.

Tolerances. Every step rounds each of its ops once, so after the run an element of a parameter or
a state is within K eps of the sum of the magnitudes it went through: mag() tracks, per element,
the sum over the steps of |value| + |increment| in the float64 reference (the increments carry
the rounding of the quotients and square roots they came from; a state feeds its error back into
the next steps' increments, whose magnitudes mag() also counts). Against PyTorch the same bound
holds: both are within it of the exact result. grad_norm: the float64 sum's relative error
(checks.acc_err) and one rounding to the dtype; scale_ and clip_value_ round once, so they are
compared exactly.
"""
import math

import numpy as np
import pytest

import backends
import dlcore
from checks import K, acc_err, assert_close, eps, wrap
from dlcore import _C

try:
    import torch
except ImportError:  # pragma: no cover - torch is optional
    torch = None

T = backends.tensor
N = backends.array
FLOATS = (np.float32, np.float64)
STEPS = 20

SIZES = {
    "awkward": [(1,), (7,), (0,), (13, 17), (3, 0, 2), (8191,), (8193,), (2, 8192 + 5)],
    "many-small": [(k,) for k in range(1, 41)] + [(257, 263)],
}

# (optimizer, hyper-parameters): every option of each step kernel.
CONFIGS = [
    ("sgd", dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False)),
    ("sgd", dict(lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01, nesterov=False)),
    ("sgd", dict(lr=0.05, momentum=0.9, dampening=0.0, weight_decay=0.01, nesterov=True)),
    ("adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, eps=1e-10)),
    ("rmsprop", dict(lr=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False)),
    ("rmsprop", dict(lr=0.01, alpha=0.9, eps=1e-8, weight_decay=0.01, momentum=0.5, centered=False)),
    ("rmsprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.0, momentum=0.0, centered=True)),
    ("rmsprop", dict(lr=0.01, alpha=0.9, eps=1e-6, weight_decay=0.01, momentum=0.9, centered=True)),
    ("adadelta", dict(lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.01)),
    ("adam", dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False, amsgrad=False)),
    ("adam", dict(lr=0.01, beta1=0.8, beta2=0.99, eps=1e-8, weight_decay=0.1, decoupled=False, amsgrad=False)),
    ("adam", dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.1, decoupled=True, amsgrad=False)),
    ("adam", dict(lr=0.01, beta1=0.9, beta2=0.99, eps=1e-8, weight_decay=0.0, decoupled=False, amsgrad=True)),
]


def config_id(c):
    kind, h = c
    flags = [k for k in ("nesterov", "centered", "decoupled", "amsgrad") if h.get(k)]
    if h.get("momentum"):
        flags.append("momentum")
    if h.get("weight_decay"):
        flags.append("wd")
    return "-".join([kind] + flags)


def state_names(kind, h):
    """The state lists of one step, in the order of the _C signature (None: an unused optional)."""
    if kind == "sgd":
        return ["momentum_buffers" if h["momentum"] else None]
    if kind == "adagrad":
        return ["state_sums"]
    if kind == "rmsprop":
        return ["square_avgs", "momentum_buffers" if h["momentum"] else None,
                "grad_avgs" if h["centered"] else None]
    if kind == "adadelta":
        return ["square_avgs", "acc_deltas"]
    return ["exp_avgs", "exp_avg_sqs", "max_exp_avg_sqs" if h["amsgrad"] else None]


def call(kind, h, params, grads, states, step):
    """One fused step through dlcore._C; states maps names to lists of tensors."""
    lists = [states[n] if n else [] for n in state_names(kind, h)]
    if kind == "sgd":
        _C.sgd_step(params, grads, *lists, h["lr"], h["momentum"], h["dampening"], h["weight_decay"],
                    h["nesterov"], step == 1)
    elif kind == "adagrad":
        _C.adagrad_step(params, grads, *lists, h["lr"], h["lr_decay"], h["weight_decay"], h["eps"], step)
    elif kind == "rmsprop":
        _C.rmsprop_step(params, grads, *lists, h["lr"], h["alpha"], h["eps"], h["weight_decay"], h["momentum"],
                        h["centered"])
    elif kind == "adadelta":
        _C.adadelta_step(params, grads, *lists, h["lr"], h["rho"], h["eps"], h["weight_decay"])
    else:
        _C.adam_step(params, grads, *lists, h["lr"], h["beta1"], h["beta2"], h["eps"], h["weight_decay"], step,
                     h["decoupled"], h["amsgrad"])


def ref_step(kind, h, p, g, s, step):
    """PyTorch's single-tensor update of one parameter in float64: returns the new parameter; the
    state dict s gets new arrays."""
    wd = h["weight_decay"]
    if kind == "adam" and h["decoupled"]:
        p = p * (1 - h["lr"] * wd)
    elif wd:
        g = g + wd * p
    if kind == "sgd":
        if h["momentum"]:
            buf = g if step == 1 else h["momentum"] * s["momentum_buffers"] + (1 - h["dampening"]) * g
            s["momentum_buffers"] = buf
            g = g + h["momentum"] * buf if h["nesterov"] else buf
        return p - h["lr"] * g
    if kind == "adagrad":
        clr = h["lr"] / (1 + (step - 1) * h["lr_decay"])
        s["state_sums"] = s["state_sums"] + g * g
        return p - clr * g / (np.sqrt(s["state_sums"]) + h["eps"])
    if kind == "rmsprop":
        a = h["alpha"]
        sq = s["square_avgs"] = a * s["square_avgs"] + (1 - a) * g * g
        if h["centered"]:
            ga = s["grad_avgs"] = a * s["grad_avgs"] + (1 - a) * g
            avg = np.sqrt(sq - ga * ga) + h["eps"]
        else:
            avg = np.sqrt(sq) + h["eps"]
        if h["momentum"]:
            buf = s["momentum_buffers"] = h["momentum"] * s["momentum_buffers"] + g / avg
            return p - h["lr"] * buf
        return p - h["lr"] * g / avg
    if kind == "adadelta":
        r = h["rho"]
        sq = s["square_avgs"] = r * s["square_avgs"] + (1 - r) * g * g
        delta = np.sqrt(s["acc_deltas"] + h["eps"]) / np.sqrt(sq + h["eps"]) * g
        s["acc_deltas"] = r * s["acc_deltas"] + (1 - r) * delta * delta
        return p - h["lr"] * delta
    b1, b2 = h["beta1"], h["beta2"]
    m = s["exp_avgs"] = b1 * s["exp_avgs"] + (1 - b1) * g
    v = s["exp_avg_sqs"] = b2 * s["exp_avg_sqs"] + (1 - b2) * g * g
    if h["amsgrad"]:
        v = s["max_exp_avg_sqs"] = np.maximum(s["max_exp_avg_sqs"], v)
    denom = np.sqrt(v) / math.sqrt(1 - b2 ** step) + h["eps"]
    return p - h["lr"] / (1 - b1 ** step) * m / denom


def problem(rng, shapes, dtype, steps=STEPS):
    """Initial parameters and `steps` gradients per tensor, in dtype."""
    params = [rng.standard_normal(s).astype(dtype) for s in shapes]
    grads = [[rng.standard_normal(s).astype(dtype) for s in shapes] for _ in range(steps)]
    return params, grads


def run_reference(kind, h, params, grads):
    """Float64 parameters and states after the steps, and their magnitude bounds (see the docstring)."""
    names = [n for n in state_names(kind, h) if n]
    out = []
    for k, p0 in enumerate(params):
        p = p0.astype(np.float64)
        s = {n: np.zeros_like(p) for n in names}
        mag = {n: np.zeros_like(p) for n in ["params"] + names}
        for step, gs in enumerate(grads, start=1):
            old = {"params": p, **s}
            p = ref_step(kind, h, p, gs[k].astype(np.float64), s, step)
            new = {"params": p, **s}
            for n in mag:
                mag[n] += np.abs(new[n]) + np.abs(new[n] - old[n])
        out.append(({"params": p, **s}, mag))
    return out


def run_ours(kind, h, params, grads):
    names = [n for n in state_names(kind, h) if n]
    P = [T(p) for p in params]
    states = {n: [T(np.zeros_like(p)) for p in params] for n in names}
    for step, gs in enumerate(grads, start=1):
        call(kind, h, [t._t for t in P], [T(g)._t for g in gs], {n: [t._t for t in ts] for n, ts in states.items()},
             step)
    return [{"params": N(P[k]), **{n: N(states[n][k]) for n in names}} for k in range(len(params))]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("sizes", list(SIZES))
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_step_matches_reference(backend, rng, config, sizes, dtype):
    kind, h = config
    params, grads = problem(rng, SIZES[sizes], dtype)
    got = run_ours(kind, h, params, grads)
    ref = run_reference(kind, h, params, grads)
    for k, (g, (r, mag)) in enumerate(zip(got, ref)):
        for n in r:
            assert g[n].dtype == dtype
            assert_close(g[n], r[n], K * eps(dtype) * mag[n], f"{config_id(config)} {n}[{k}]")


@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_step_is_the_same_for_any_thread_count(isa, rng, config):
    """Each thread updates a contiguous range of the list's elements, which starts and ends
    inside tensors: the elementwise update must not depend on where those cuts fall."""
    kind, h = config
    params, grads = problem(rng, SIZES["awkward"] + [(40009,)], np.float32, steps=3)
    previous = dlcore.get_num_threads()
    try:
        runs = []
        for nt in (1, 2, 3):
            dlcore.set_num_threads(nt)
            runs.append(run_ours(kind, h, params, grads))
    finally:
        dlcore.set_num_threads(previous)
    for other in runs[1:]:
        for a, b in zip(runs[0], other):
            for n in a:
                np.testing.assert_array_equal(b[n], a[n], err_msg=f"{config_id(config)} {n}")


def test_scale_and_clip_value_are_the_same_for_any_thread_count(isa, rng):
    arrays = [3 * rng.standard_normal(s).astype(np.float32) for s in SIZES["awkward"] + [(40009,)]]
    previous = dlcore.get_num_threads()
    try:
        for nt in (1, 2, 3):
            dlcore.set_num_threads(nt)
            ts = [T(a) for a in arrays]
            _C.scale_([t._t for t in ts], 0.37)
            _C.clip_value_([t._t for t in ts], 1.5)
            for t, a in zip(ts, arrays):
                np.testing.assert_array_equal(N(t), np.clip(a * np.float32(0.37), -1.5, 1.5))
    finally:
        dlcore.set_num_threads(previous)


TORCH_CLASSES = {"sgd": "SGD", "adagrad": "Adagrad", "rmsprop": "RMSprop", "adadelta": "Adadelta", "adam": "Adam"}


def torch_optimizer(kind, h, params):
    if kind == "adam":
        cls = torch.optim.AdamW if h["decoupled"] else torch.optim.Adam
        return cls(params, lr=h["lr"], betas=(h["beta1"], h["beta2"]), eps=h["eps"], weight_decay=h["weight_decay"],
                   amsgrad=h["amsgrad"], foreach=False)
    kw = {k: v for k, v in h.items()}
    if kind == "adagrad":
        kw["initial_accumulator_value"] = 0.0
    return getattr(torch.optim, TORCH_CLASSES[kind])(params, foreach=False, **kw)


@pytest.mark.skipif(torch is None, reason="PyTorch is not installed")
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_step_matches_torch(backend, rng, config):
    kind, h = config
    params, grads = problem(rng, SIZES["awkward"], np.float32)
    got = run_ours(kind, h, params, grads)
    _, mags = zip(*run_reference(kind, h, params, grads))
    tp = [torch.tensor(p, requires_grad=True) for p in params]
    opt = torch_optimizer(kind, h, tp)
    for gs in grads:
        for t, g in zip(tp, gs):
            t.grad = torch.tensor(g)
        opt.step()
    for k, t in enumerate(tp):
        ref = t.detach().numpy()
        # Both within K eps mag of the exact result: 2 K eps mag apart at most.
        assert_close(got[k]["params"], ref, 2 * K * eps(np.float32) * mags[k]["params"],
                     f"{config_id(config)} vs torch params[{k}]")


@pytest.mark.parametrize("kind", ["sgd", "adam", "rmsprop"])
def test_nan_and_inf_gradients_propagate(backend, kind):
    """A NaN gradient makes its parameter NaN; an inf one inf or NaN as PyTorch's formulas say."""
    config = next(c for c in CONFIGS if c[0] == kind and c[1].get("weight_decay"))
    h = config[1]
    p = np.array([1.0, -2.0, 3.0, 0.5], np.float32)
    g = np.array([np.nan, np.inf, -np.inf, 1.0], np.float32)
    got = run_ours(kind, h, [p], [[g]])[0]["params"]
    with np.errstate(all="ignore"):
        ref = run_reference(kind, h, [p], [[g]])[0][0]["params"]
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    np.testing.assert_array_equal(np.isinf(got), np.isinf(ref))
    assert np.isfinite(got[3])


def test_non_contiguous_gradients(backend, rng):
    """Gradients are read-only: a transposed view is compacted, and gives the contiguous result."""
    h = CONFIGS[1][1]
    p = rng.standard_normal((5, 7)).astype(np.float32)
    g = rng.standard_normal((7, 5)).astype(np.float32)
    a, b = T(p), T(p)
    bufs_a, bufs_b = [T(np.zeros_like(p))._t], [T(np.zeros_like(p))._t]
    _C.sgd_step([a._t], [T(g).T._t], bufs_a, 0.1, 0.9, 0.1, 0.01, False, True)
    _C.sgd_step([b._t], [T(np.ascontiguousarray(g.T))._t], bufs_b, 0.1, 0.9, 0.1, 0.01, False, True)
    np.testing.assert_array_equal(N(a), N(b))


# --- gradient clipping ------------------------------------------------------------------------

NORM_TYPES = [1.0, 2.0, 3.0, 0.5, math.inf]


def ref_norm(arrays, p):
    flat = np.concatenate([a.astype(np.float64).ravel() for a in arrays]) if arrays else np.zeros(0)
    a = np.abs(flat)
    return a.max(initial=0.0) if p == math.inf else (a ** p).sum() ** (1 / p)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", NORM_TYPES, ids=str)
@pytest.mark.parametrize("sizes", list(SIZES))
def test_grad_norm(backend, rng, sizes, p, dtype):
    arrays = [rng.standard_normal(s).astype(dtype) for s in SIZES[sizes]]
    out = _C.grad_norm([T(a)._t for a in arrays], p)
    assert out.shape == () and np.dtype(N(wrap(out)).dtype) == dtype
    ref = ref_norm(arrays, p)
    n = sum(a.size for a in arrays)
    # The sum's error (relative acc_err) shrinks by 1/p through the root; then one rounding to dtype.
    tol = (acc_err(n) * max(1.0, 1 / p) * 2 + eps(dtype)) * ref
    assert_close(N(wrap(out)), ref, tol, f"grad_norm p={p}")


def test_grad_norm_is_the_same_for_any_thread_count(rng):
    arrays = [rng.standard_normal(s).astype(np.float32) for s in SIZES["many-small"] + [(100003,)]]
    values = [float(N(wrap(_C.grad_norm([T(a)._t for a in arrays], p)))) for p in (2.0, 1.0, math.inf)]
    previous = dlcore.get_num_threads()
    try:
        for nt in (1, 2, 3):
            dlcore.set_num_threads(nt)
            again = [float(N(wrap(_C.grad_norm([T(a)._t for a in arrays], p)))) for p in (2.0, 1.0, math.inf)]
            assert again == values
    finally:
        dlcore.set_num_threads(previous)


@pytest.mark.parametrize("p", [2.0, math.inf])
def test_grad_norm_nan_and_inf(backend, p):
    a = np.ones(10, np.float32)
    b = np.array([1.0, np.inf], np.float32)
    c = np.array([np.nan, 1.0], np.float32)
    assert N(wrap(_C.grad_norm([T(a)._t, T(b)._t], p))) == np.inf
    assert np.isnan(N(wrap(_C.grad_norm([T(a)._t, T(c)._t, T(b)._t], p))))


def test_grad_norm_of_an_empty_list():
    out = wrap(_C.grad_norm([], 2.0))
    assert float(out.numpy()) == 0.0


@pytest.mark.parametrize("dtype", FLOATS)
def test_scale(backend, rng, dtype):
    arrays = [rng.standard_normal(s).astype(dtype) for s in SIZES["awkward"]]
    ts = [T(a) for a in arrays]
    _C.scale_([t._t for t in ts], 0.37)
    for t, a in zip(ts, arrays):
        np.testing.assert_array_equal(N(t), a * dtype(0.37))
    f = np.array(-2.5, dtype)
    _C.scale_([t._t for t in ts], T(f)._t)
    for t, a in zip(ts, arrays):
        np.testing.assert_array_equal(N(t), a * dtype(0.37) * f)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("max_norm", [0.5, 1e6])
def test_clip_grad_norm_without_readback(backend, rng, dtype, max_norm):
    """scale_(grads, grad_norm(grads), max_norm): the factor never leaves the device."""
    arrays = [rng.standard_normal(s).astype(dtype) for s in SIZES["many-small"]]
    ts = [T(a) for a in arrays]
    norm = _C.grad_norm([t._t for t in ts], 2.0)
    _C.scale_([t._t for t in ts], norm, max_norm)
    nv = N(wrap(norm))
    coef = dtype(1) / (nv + dtype(1e-6)) * dtype(max_norm)
    coef = min(coef, dtype(1))
    for t, a in zip(ts, arrays):
        np.testing.assert_array_equal(N(t), a * coef)
    if torch is not None and dtype == np.float32:
        tt = [torch.tensor(a, requires_grad=True) for a in arrays]
        for t, a in zip(tt, arrays):
            t.grad = torch.tensor(a)
        total = torch.nn.utils.clip_grad_norm_(tt, max_norm, foreach=False)
        assert_close(nv, total.numpy(), 4 * eps(dtype) * float(total), "norm vs torch")
        for t, ours in zip(tt, ts):
            assert_close(N(ours), t.grad.numpy(), 4 * eps(dtype) * np.abs(t.grad.numpy()), "clip vs torch")


def test_scale_with_a_nan_norm_gives_nan(backend):
    ts = [T(np.ones(5, np.float32))]
    _C.scale_([t._t for t in ts], T(np.array(np.nan, np.float32))._t, 1.0)
    assert np.isnan(N(ts[0])).all()


@pytest.mark.parametrize("dtype", FLOATS)
def test_clip_value(backend, rng, dtype):
    arrays = [3 * rng.standard_normal(s).astype(dtype) for s in SIZES["awkward"]]
    arrays[1][:4] = [np.nan, np.inf, -np.inf, 0.0]
    ts = [T(a) for a in arrays]
    _C.clip_value_([t._t for t in ts], 1.5)
    for t, a in zip(ts, arrays):
        np.testing.assert_array_equal(N(t), np.clip(a, -1.5, 1.5))


# --- bad input -------------------------------------------------------------------------------

def _lists(shapes, dtype=np.float32):
    return [T(np.zeros(s, dtype))._t for s in shapes]


def adam(params, grads, m, v, vmax=(), **kw):
    h = dict(lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, step=1, decoupled=False, amsgrad=False)
    h.update(kw)
    _C.adam_step(params, grads, m, v, list(vmax), h["lr"], h["beta1"], h["beta2"], h["eps"], h["weight_decay"],
                 h["step"], h["decoupled"], h["amsgrad"])


def test_bad_lists(backend):
    s = [(3,), (10, 5), (2,), (4,)]
    ok = dict(params=_lists(s), grads=_lists(s), m=_lists(s), v=_lists(s))
    bad = [(3,), (10, 5), (2,), (5, 10)]
    with pytest.raises(ValueError, match=r"\[adam_step\] expected exp_avgs\[3\] of shape \(4,\) "):
        adam(ok["params"], ok["grads"], ok["m"][:3] + _lists([(5,)]), ok["v"])
    with pytest.raises(ValueError, match=r"\[adam_step\] expected exp_avg_sqs to hold 4 tensor"):
        adam(ok["params"], ok["grads"], ok["m"], ok["v"][:3])
    with pytest.raises(ValueError, match=r"expected grads\[3\] of shape \(4,\) \(the params\[3\]'s\), got \(5, 10\)"):
        adam(ok["params"], _lists(bad), ok["m"], ok["v"])
    with pytest.raises(TypeError, match=r"expected params\[1\] of dtype float32 \(the params\[0\]'s\), got float64"):
        adam(_lists(s[:1]) + _lists(s[1:2], np.float64), ok["grads"][:2], ok["m"][:2], ok["v"][:2])
    with pytest.raises(TypeError, match=r"expected exp_avgs\[0\] of dtype float32"):
        adam(ok["params"][:1], ok["grads"][:1], _lists(s[:1], np.float64), ok["v"][:1])
    with pytest.raises(TypeError, match=r"expected params\[0\] of a floating dtype"):
        adam(_lists([(3,)], np.int64), _lists([(3,)], np.int64), _lists([(3,)], np.int64), _lists([(3,)], np.int64))
    with pytest.raises(ValueError, match=r"max_exp_avg_sqs to be empty unless amsgrad"):
        adam(ok["params"], ok["grads"], ok["m"], ok["v"], ok["m"])
    with pytest.raises(ValueError, match=r"max_exp_avg_sqs to hold 4 tensor"):
        adam(ok["params"], ok["grads"], ok["m"], ok["v"], amsgrad=True)
    with pytest.raises(ValueError, match=r"\[sgd_step\] expected momentum_buffers to be empty unless momentum"):
        _C.sgd_step(ok["params"], ok["grads"], ok["m"], 0.1, 0.0, 0.0, 0.0, False, True)
    with pytest.raises(ValueError, match=r"\[rmsprop_step\] expected grad_avgs to hold 4"):
        _C.rmsprop_step(ok["params"], ok["grads"], ok["m"], [], [], 0.1, 0.9, 1e-8, 0.0, 0.0, True)


def test_a_tensor_is_updated_once_per_call(backend):
    p, g = _lists([(3,), (4,)]), _lists([(3,), (4,)])
    with pytest.raises(ValueError, match=r"\[sgd_step\] params\[1\] is the same tensor as params\[0\]"):
        _C.sgd_step([p[0], p[0]], g, [], 0.1, 0.0, 0.0, 0.0, False, True)
    with pytest.raises(ValueError, match=r"\[adam_step\] exp_avg_sqs\[1\] is the same tensor as exp_avgs\[1\]"):
        m = _lists([(3,), (4,)])
        adam(p, g, m, _lists([(3,)]) + [m[1]])
    # Gradients are only read: one tensor may be a parameter and its own gradient.
    _C.sgd_step(p, p, [], 0.1, 0.0, 0.0, 0.0, False, True)


def test_in_place_operands_must_be_contiguous(backend):
    p = T(np.zeros((4, 3), np.float32)).T
    g = T(np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match=r"\[sgd_step\] expected params\[0\] to be contiguous"):
        _C.sgd_step([p._t], [g._t], [], 0.1, 0.0, 0.0, 0.0, False, True)
    with pytest.raises(ValueError, match=r"\[clip_value_\] expected tensors\[0\] to be contiguous"):
        _C.clip_value_([p._t], 1.0)


def test_mixed_devices():
    if not dlcore.cuda.is_available():
        pytest.skip("no cuda device")
    a = dlcore.zeros(3)._t
    b = dlcore.zeros(3, device="cuda")._t
    with pytest.raises(ValueError, match=r"\[sgd_step\] expected tensors on one device"):
        _C.sgd_step([a], [b], [], 0.1, 0.0, 0.0, 0.0, False, True)
    with pytest.raises(ValueError, match=r"\[grad_norm\] expected tensors on one device"):
        _C.grad_norm([a, b], 2.0)


@pytest.mark.parametrize("kw, message", [
    (dict(lr=-1.0), r"expected lr >= 0, got lr = -1"),
    (dict(lr=math.nan), r"expected lr >= 0, got lr = nan"),
    (dict(beta1=1.0), r"expected 0 <= beta1 < 1, got beta1 = 1"),
    (dict(beta2=-0.1), r"expected 0 <= beta2 < 1"),
    (dict(eps=-1e-8), r"expected eps >= 0"),
    (dict(weight_decay=math.inf), r"expected weight_decay >= 0, got weight_decay = inf"),
    (dict(step=0), r"expected step >= 1"),
])
def test_bad_adam_hyper_parameters(kw, message):
    s = [(3,)]
    with pytest.raises(ValueError, match=r"\[adam_step\] " + message):
        adam(_lists(s), _lists(s), _lists(s), _lists(s), **kw)


def test_bad_hyper_parameters():
    p, g, b = _lists([(3,)]), _lists([(3,)]), _lists([(3,)])
    with pytest.raises(ValueError, match=r"\[sgd_step\] Nesterov momentum requires momentum > 0 and dampening == 0"):
        _C.sgd_step(p, g, b, 0.1, 0.9, 0.1, 0.0, True, True)
    with pytest.raises(ValueError, match=r"\[sgd_step\] Nesterov momentum requires"):
        _C.sgd_step(p, g, [], 0.1, 0.0, 0.0, 0.0, True, True)
    with pytest.raises(ValueError, match=r"\[sgd_step\] expected momentum >= 0"):
        _C.sgd_step(p, g, b, 0.1, -0.9, 0.0, 0.0, False, True)
    with pytest.raises(ValueError, match=r"\[adagrad_step\] expected lr_decay >= 0"):
        _C.adagrad_step(p, g, b, 0.1, -1.0, 0.0, 1e-10, 1)
    with pytest.raises(ValueError, match=r"\[rmsprop_step\] expected 0 <= alpha <= 1"):
        _C.rmsprop_step(p, g, b, [], [], 0.1, 1.5, 1e-8, 0.0, 0.0, False)
    with pytest.raises(ValueError, match=r"\[adadelta_step\] expected 0 <= rho <= 1"):
        _C.adadelta_step(p, g, b, b, 1.0, math.nan, 1e-6, 0.0)
    with pytest.raises(ValueError, match=r"\[grad_norm\] expected norm_type > 0 or inf, got -1"):
        _C.grad_norm(g, -1.0)
    with pytest.raises(ValueError, match=r"\[clip_value_\] expected clip_value >= 0"):
        _C.clip_value_(g, -1.0)
    with pytest.raises(ValueError, match=r"\[scale_\] expected a factor with one element"):
        _C.scale_(g, T(np.ones(2, np.float32))._t)
    with pytest.raises(ValueError, match=r"\[scale_\] expected max_norm >= 0"):
        _C.scale_(g, 1.0, -1.0)


# ---- the optimizer classes ----------------------------------------------------------------------

CLASSES = {  # name -> (dlcore constructor, torch constructor), the same hyper-parameters
    "sgd": (lambda p: dlcore.optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1)),
    "sgd_momentum_wd": (lambda p: dlcore.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01),
                        lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, dampening=0.1, weight_decay=0.01)),
    "nesterov": (lambda p: dlcore.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
                 lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    "adagrad": (lambda p: dlcore.optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.01,
                                               initial_accumulator_value=0.1),
                lambda p: torch.optim.Adagrad(p, lr=0.1, lr_decay=0.01, weight_decay=0.01,
                                              initial_accumulator_value=0.1)),
    "rmsprop_centered_momentum": (lambda p: dlcore.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
                                  lambda p: torch.optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True)),
    "adadelta": (lambda p: dlcore.optim.Adadelta(p, lr=1.0, weight_decay=0.01),
                 lambda p: torch.optim.Adadelta(p, lr=1.0, weight_decay=0.01)),
    "adam_amsgrad": (lambda p: dlcore.optim.Adam(p, lr=0.01, weight_decay=0.01, amsgrad=True),
                     lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=0.01, amsgrad=True)),
    "adamw": (lambda p: dlcore.optim.AdamW(p, lr=0.01), lambda p: torch.optim.AdamW(p, lr=0.01)),
}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_optimizer_classes_follow_torch(name):
    torch = pytest.importorskip("torch")
    make_dl, make_torch = CLASSES[name]
    rng = np.random.default_rng(3)
    shapes = [(7, 5), (5,), (1,), (33,)]
    init = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    dl = [dlcore.nn.Parameter(dlcore.tensor(a)) for a in init]
    tp = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in init]
    o_dl, o_t = make_dl(dl), make_torch(tp)
    for step in range(15):
        grads = [rng.standard_normal(s).astype(np.float32) for s in shapes]
        for p, q, g in zip(dl, tp, grads):
            p.grad = dlcore.tensor(g)
            q.grad = torch.from_numpy(g.copy())
        o_dl.step()
        o_t.step()
    for p, q in zip(dl, tp):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-5, atol=1e-6, err_msg=name)


def test_optimizer_groups_state_dict_and_errors():
    pytest.importorskip("torch")
    a, b = dlcore.nn.Parameter(dlcore.ones(3)), dlcore.nn.Parameter(dlcore.ones(2))
    opt = dlcore.optim.SGD([{"params": [a], "lr": 0.5}, {"params": [b]}], lr=0.1, momentum=0.9)
    for _ in range(3):
        a.grad, b.grad = dlcore.ones(3), dlcore.ones(2)
        opt.step()
    state = opt.state_dict()
    a2, b2 = dlcore.nn.Parameter(a.detach().clone()), dlcore.nn.Parameter(b.detach().clone())
    opt2 = dlcore.optim.SGD([{"params": [a2], "lr": 0.5}, {"params": [b2]}], lr=0.1, momentum=0.9)
    opt2.load_state_dict(state)
    for o, (p, q) in ((opt, (a, b)), (opt2, (a2, b2))):
        p.grad, q.grad = dlcore.ones(3), dlcore.ones(2)
        o.step()
    np.testing.assert_array_equal(a.detach().numpy(), a2.detach().numpy())
    np.testing.assert_array_equal(b.detach().numpy(), b2.detach().numpy())
    assert a.detach().numpy()[0] < b.detach().numpy()[0]  # group 0 moved faster (lr 0.5)
    opt.zero_grad()
    assert a.grad is None
    with pytest.raises(ValueError, match=r"\[Adam\] expected lr >= 0"):
        dlcore.optim.Adam([a], lr=-1)
    with pytest.raises(ValueError, match=r"\[SGD\] Nesterov momentum needs momentum > 0"):
        dlcore.optim.SGD([a], nesterov=True)
    with pytest.raises(ValueError, match="more than one group"):
        dlcore.optim.SGD([{"params": [a]}, {"params": [a]}])
    with pytest.raises(ValueError, match="empty parameter list"):
        dlcore.optim.SGD([])
    bad = opt.state_dict()
    bad["state"][0]["momentum_buffer"] = np.zeros(4, np.float32)
    with pytest.raises(ValueError, match=r"\[SGD.load_state_dict\] state 'momentum_buffer' of parameter 0: "
                                         r"expected shape \(3,\), got \(4,\)"):
        opt2.load_state_dict(bad)
    with pytest.raises(ValueError, match="do not match"):
        dlcore.optim.SGD([a2], lr=0.1).load_state_dict(state)
    with pytest.raises(TypeError, match="can only optimize leaf tensors"):
        dlcore.optim.SGD([a * 2])


@pytest.mark.skipif(not dlcore.cuda.is_available(), reason="no cuda device")
def test_optimizer_on_cuda_matches_cpu():
    rng = np.random.default_rng(4)
    init, grads = rng.standard_normal((9, 4)).astype(np.float32), rng.standard_normal((5, 9, 4)).astype(np.float32)
    out = []
    for device in ("cpu", "cuda"):
        p = dlcore.nn.Parameter(dlcore.tensor(init, device=device))
        opt = dlcore.optim.Adam([p], lr=0.01)
        for g in grads:
            p.grad = dlcore.tensor(g, device=device)
            opt.step()
        out.append(p.detach().cpu().numpy())
    np.testing.assert_allclose(out[1], out[0], rtol=1e-6, atol=1e-7)


def test_clip_grad_norm_and_value_follow_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    grads = [rng.standard_normal(s).astype(np.float32) * 3 for s in [(4, 3), (7,), (1,)]]
    for norm_type in (2.0, 1.0, float("inf")):
        dl = [dlcore.nn.Parameter(dlcore.zeros(*g.shape)) for g in grads]
        tp = [torch.nn.Parameter(torch.zeros(g.shape)) for g in grads]
        for p, q, g in zip(dl, tp, grads):
            p.grad, q.grad = dlcore.tensor(g), torch.from_numpy(g.copy())
        total = dlcore.optim.clip_grad_norm_(dl, 1.5, norm_type)
        ref = torch.nn.utils.clip_grad_norm_(tp, 1.5, norm_type)
        assert total.item() == pytest.approx(ref.item(), rel=1e-5)
        for p, q in zip(dl, tp):
            np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-5, atol=1e-7)
    p = dlcore.nn.Parameter(dlcore.zeros(5))
    p.grad = dlcore.tensor([-3.0, -0.5, 0.0, 0.5, 3.0])
    dlcore.optim.clip_grad_value_([p], 1.0)
    assert p.grad.tolist() == [-1.0, -0.5, 0.0, 0.5, 1.0]


def test_weight_constraints_after_the_step():
    w = dlcore.nn.Parameter(dlcore.tensor([[3.0, 4.0], [0.3, 0.4], [-1.0, 2.0]]))
    opt = dlcore.optim.SGD([{"params": [w], "constraint": dlcore.optim.MaxNorm(1.0)}], lr=0.0)
    w.grad = dlcore.zeros(3, 2)
    opt.step()
    norms = np.linalg.norm(w.detach().numpy(), axis=1)
    np.testing.assert_allclose(norms, [1.0, 0.5, 1.0], rtol=1e-5)
    dlcore.optim.UnitNorm()(w)
    np.testing.assert_allclose(np.linalg.norm(w.detach().numpy(), axis=1), 1.0, rtol=1e-5)
    dlcore.optim.NonNeg()(w)
    assert (w.detach().numpy() >= 0).all()
