"""Activations, forward and backward, against NumPy float64 references on every backend.

Tolerances. A result is within K ulp-sized steps of the reference, measured against what
the function's conditioning allows:  |got - ref| <= K * eps * (|ref| * (1 + x^2) + S) + K * tiny.
  * (1 + x^2): the relative condition number of the Gaussian / logistic tails (GELU's
    erfc(-x / sqrt 2) has 2 z^2 with z = x / sqrt 2; exp(-|z|) has |z|): an argument
    rounded to eps moves the result by that many eps, whatever the implementation.
  * S: the magnitude of the terms that are added (a derivative s (1 + z (1 - s)), the
    hard sigmoid's x / 6 + 1/2, a backward read from the rounded output y): their sum
    cancels, and its error is absolute, eps * S.
  * tiny: results in the subnormal range have absolute precision only.
K = 8 covers our exp / log (2 ulp each, cpu/math.h), Kahan's expm1 / log1p built on them,
and the few roundings around them. Gradients are also checked against central finite
differences of the float64 forward (the kernels' own), with a tolerance from the
difference's truncation (h^2 f''' / 6) and rounding (eps |f| / h) errors.
"""
import math

import numpy as np
import pytest

import backends
from checks import K, assert_close, wrap
import dlcore
import dlcore.functional as F
from dlcore import _C

T = backends.tensor
N = backends.array
FLOATS = (np.float32, np.float64)
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946
K0 = math.sqrt(2 / math.pi)
K1 = 0.044715
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def sig(z):
    with np.errstate(over="ignore", invalid="ignore"):
        e = np.exp(-np.abs(z))
        return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def vanishing(x, p):
    """x * p with the limit 0 where p is 0 (x infinite)."""
    with np.errstate(invalid="ignore"):
        return np.where(p == 0, 0.0, x * p)


def phi_cdf(x):
    return 0.5 * _erfc(-x / math.sqrt(2))


def phi_pdf(x):
    return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


# name -> (dlcore call, params, reference forward, reference derivative -> (d, S), reads output)
def _softplus(x, b, t):
    z = b * x
    with np.errstate(over="ignore"):
        return np.where(z > t, x, (np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))) / b)


def _gelu_tanh_parts(x):
    u = K0 * (x + K1 * x ** 3)
    return sig(2 * u), sig(-2 * u), 2 * K0 * (1 + 3 * K1 * x * x)


ACTS = {
    "relu": dict(params={}, fwd=lambda x: np.where(x < 0, 0.0, x),
                 grad=lambda x, y: (np.where(x > 0, 1.0, 0.0), 0)),
    "leaky_relu": dict(params={"negative_slope": 0.1}, fwd=lambda x: np.where(x < 0, 0.1 * x, x),
                       grad=lambda x, y: (np.where(x > 0, 1.0, 0.1), 0)),
    "elu": dict(params={"alpha": 1.5}, fwd=lambda x: np.where(x > 0, x, 1.5 * np.expm1(np.minimum(x, 0))),
                grad=lambda x, y: (np.where(x > 0, 1.0, 1.5 * np.exp(np.minimum(x, 0))), np.abs(y) + 1.5)),
    "selu": dict(params={}, fwd=lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))),
                 grad=lambda x, y: (SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0))),
                                    np.abs(y) + SELU_SCALE * SELU_ALPHA)),
    "silu": dict(params={"beta": 1.7}, fwd=lambda x: vanishing(x, sig(1.7 * x)),
                 grad=lambda x, y: (sig(1.7 * x) + vanishing(1.7 * x, sig(1.7 * x) * sig(-1.7 * x)),
                                    sig(1.7 * x) * (1 + np.abs(vanishing(1.7 * x, sig(-1.7 * x)))))),
    "softplus": dict(params={"beta": 2.0, "threshold": 15.0}, fwd=lambda x: _softplus(x, 2.0, 15.0),
                     grad=lambda x, y: (np.where(2 * x > 15, 1.0, sig(2 * x)), 0)),
    "gelu": dict(params={}, fwd=lambda x: vanishing(x, phi_cdf(x)),
                 grad=lambda x, y: (phi_cdf(x) + vanishing(x, phi_pdf(x)),
                                    phi_cdf(x) + np.abs(vanishing(x, phi_pdf(x))))),
    "gelu_tanh": dict(params={}, fwd=lambda x: vanishing(x, _gelu_tanh_parts(x)[0]),
                      grad=lambda x, y: (lambda s, t, du: (s + vanishing(x * du, s * t),
                                                           s + np.abs(vanishing(x * du, s * t))))(
                          *_gelu_tanh_parts(x))),
    "sigmoid": dict(params={}, fwd=sig, grad=lambda x, y: (sig(x) * sig(-x), 1)),
    "tanh": dict(params={}, fwd=np.tanh, grad=lambda x, y: (1 / np.cosh(np.minimum(np.abs(x), 300)) ** 2, 1)),
    "hardtanh": dict(params={"min_val": -0.5, "max_val": 2.0}, fwd=lambda x: np.clip(x, -0.5, 2.0),
                     grad=lambda x, y: (np.where((x > -0.5) & (x < 2.0), 1.0, 0.0), 0)),
    "hardsigmoid": dict(params={}, fwd=lambda x: np.clip(x / 6 + 0.5, 0, 1),
                        grad=lambda x, y: (np.where((x > -3) & (x < 3), 1 / 6, 0.0), 0)),
    "heaviside": dict(params={}, fwd=lambda x: np.where(np.isnan(x), np.nan, np.where(x > 0, 1.0, 0.0)), grad=None),
}
# Points where the derivative jumps: finite differences stay clear of them.
KINKS = {"relu": [0], "leaky_relu": [0], "elu": [0], "selu": [0], "softplus": [7.5], "hardtanh": [-0.5, 2.0],
         "hardsigmoid": [-3, 3]}
READS_OUTPUT = {"relu", "elu", "selu", "sigmoid", "tanh"}
DIFFERENTIABLE = [n for n in ACTS if ACTS[n]["grad"] is not None]


def forward(name, t):
    if name == "gelu_tanh":
        return _C.gelu(t._t, "tanh")
    return getattr(_C, name)(t._t, **ACTS[name]["params"])


def backward(name, g, saved):
    if name == "gelu_tanh":
        return _C.gelu_backward(g._t, saved._t, "tanh")
    return getattr(_C, name + "_backward")(g._t, saved._t, **ACTS[name]["params"])


def run_fwd(name, t):
    return wrap(forward(name, t))


def run_bwd(name, g, saved):
    return wrap(backward(name, g, saved))


def tolerance(dtype, x, ref, scale):
    fi = np.finfo(dtype)
    x = np.where(np.isfinite(x), x, 0.0)
    with np.errstate(over="ignore", invalid="ignore"):
        cond = np.abs(np.nan_to_num(ref, posinf=0, neginf=0)) * (1 + x * x)
    return K * float(fi.eps) * (cond + scale) + K * float(fi.tiny)


def sample(rng, shape, dtype, spread=6.0):
    return (rng.standard_normal(shape) * spread).astype(dtype)


EXTREMES = [-np.inf, -1e30, -1e4, -800, -100, -89, -81, -20, -16.1, -15, -14, -13.5, -13, -12, -10, -3, -1, -1e-3,
            -1e-6, -1e-30, -0.0, 0.0, 1e-30, 1e-6, 1e-3, 1, 3, 10, 14, 16.1, 20, 81, 89, 100, 800, 1e4, 1e30, np.inf,
            np.nan]  # -16.1 .. -12: GELU's tail underflowing into the subnormals and its clamp

# Contiguous shapes (0-size, 1, primes, one past the parallel grain) and strided views.
SHAPES = [(0,), (1,), (7,), (3, 0, 5), (13, 17), (32771,)]


def make(rng, shape, dtype, view):
    """A tensor of `shape` on the backend: contiguous, or a strided view (every other row,
    a column offset, transposed), with the same values as the returned array."""
    if view == "contiguous":
        a = sample(rng, shape, dtype)
        return T(a), a
    base = sample(rng, (2 * shape[-1] + 1, shape[0] + 3) if len(shape) == 2 else (2 * shape[0] + 1, 2), dtype)
    if len(shape) == 2:
        a = base[1::2, 3:].T
        t = T(base)[1::2, 3:].T
    else:
        a = base[1::2, 1]
        t = T(base)[1::2, 1]
    assert t.shape == a.shape and not t.is_contiguous()
    return t, a


# ---------------------------------------------------------------------------
# forward
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(ACTS))
def test_forward_extremes(backend, name, dtype):
    x = np.array(EXTREMES, dtype=dtype)
    got = N(run_fwd(name, T(x)))
    assert got.dtype == dtype
    ref = ACTS[name]["fwd"](x.astype(np.float64))
    assert_close(got, ref, tolerance(dtype, x.astype(np.float64), ref, 0.5 if name == "hardsigmoid" else 0), name)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(ACTS))
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_forward_shapes(backend, rng, name, dtype, shape):
    t, x = make(rng, shape, dtype, "contiguous")
    got = N(run_fwd(name, t))
    assert got.shape == shape and got.dtype == dtype
    ref = ACTS[name]["fwd"](x.astype(np.float64))
    assert_close(got, ref, tolerance(dtype, x.astype(np.float64), ref, 0.5 if name == "hardsigmoid" else 0), name)


@pytest.mark.parametrize("name", list(ACTS))
@pytest.mark.parametrize("shape", [(5, 3), (11,)], ids=str)
def test_forward_strided(backend, rng, name, shape):
    t, x = make(rng, shape, np.float32, "strided")
    got = N(run_fwd(name, t))
    ref = ACTS[name]["fwd"](x.astype(np.float64))
    assert_close(got, ref, tolerance(np.float32, x.astype(np.float64), ref, 0.5 if name == "hardsigmoid" else 0),
                 name)


def test_sigmoid_softplus_tails_do_not_overflow(backend):
    x = np.array([-1e4, -90.0, -85.0, 85.0, 90.0, 1e4], np.float32)
    s = N(F.sigmoid(T(x)))
    sp = N(F.softplus(T(x)))
    assert np.all(np.isfinite(s)) and np.all(np.isfinite(sp))
    assert s[0] == 0 and s[-1] == 1 and 0 < s[2] < 1e-36
    np.testing.assert_array_equal(sp[3:], x[3:])


def test_functional_names(backend, rng):
    x = sample(rng, (4, 6), np.float32)
    t = T(x)
    checks = {
        F.relu(t): ACTS["relu"]["fwd"](x), F.leaky_relu(t, 0.1): ACTS["leaky_relu"]["fwd"](x),
        F.elu(t, 1.5): ACTS["elu"]["fwd"](x), F.selu(t): ACTS["selu"]["fwd"](x),
        F.silu(t): vanishing(x, sig(x)), F.swish(t, 1.7): ACTS["silu"]["fwd"](x),
        F.softplus(t, 2.0, 15.0): ACTS["softplus"]["fwd"](x), F.gelu(t): ACTS["gelu"]["fwd"](x),
        F.gelu(t, approximate="tanh"): ACTS["gelu_tanh"]["fwd"](x), F.sigmoid(t): sig(x), F.tanh(t): np.tanh(x),
        F.hardtanh(t, -0.5, 2.0): ACTS["hardtanh"]["fwd"](x), F.hardsigmoid(t): ACTS["hardsigmoid"]["fwd"](x),
        F.heaviside(t): ACTS["heaviside"]["fwd"](x),
    }
    for got, ref in checks.items():
        assert_close(N(got), ref, tolerance(np.float32, x.astype(np.float64), ref, 0.5), "functional")
    # PyTorch's default parameters
    assert_close(N(F.leaky_relu(t)), np.where(x < 0, 0.01 * x, x), 0, "leaky_relu default")
    assert_close(N(F.hardtanh(t)), np.clip(x, -1, 1), 0, "hardtanh default")


# ---------------------------------------------------------------------------
# backward
# ---------------------------------------------------------------------------

def saved_for(name, t, dtype):
    """What the backward kernel reads: the forward's output or its input."""
    return run_fwd(name, t) if name in READS_OUTPUT else t


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", DIFFERENTIABLE)
@pytest.mark.parametrize("shape", [(0,), (1,), (13, 17), (32771,)], ids=str)
def test_backward(backend, rng, name, dtype, shape):
    t, x = make(rng, shape, dtype, "contiguous")
    g = sample(rng, shape, dtype, 1.0)
    saved = saved_for(name, t, dtype)
    got = N(run_bwd(name, T(g), saved))
    assert got.shape == shape and got.dtype == dtype
    x64 = x.astype(np.float64)
    y = N(saved).astype(np.float64) if name in READS_OUTPUT else ACTS[name]["fwd"](x64)
    d, S = ACTS[name]["grad"](x64, y)
    ref = g.astype(np.float64) * d
    assert_close(got, ref, tolerance(dtype, x64, ref, np.abs(g) * S), name + " backward")


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_backward_extremes(backend, name):
    x = np.array([v for v in EXTREMES if np.isfinite(v)] + [np.nan], np.float32)
    g = np.linspace(-2, 2, x.size).astype(np.float32)
    t = T(x)
    got = N(run_bwd(name, T(g), saved_for(name, t, np.float32)))
    x64 = x.astype(np.float64)
    y = N(run_fwd(name, t)).astype(np.float64)
    with np.errstate(all="ignore"):
        d, S = ACTS[name]["grad"](x64, y)
        ref = np.where(np.isnan(x64), np.nan, g.astype(np.float64) * d)  # a NaN input gives a NaN gradient
    assert_close(got, ref, tolerance(np.float32, x64, ref, np.abs(g) * S), name + " backward")


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_backward_strided(backend, rng, name):
    t, x = make(rng, (6, 5), np.float64, "strided")
    gbase = sample(rng, (5, 18), np.float64, 1.0)
    g, gt = gbase[:, ::3].T, T(gbase)[:, ::3].T
    got = N(run_bwd(name, gt, saved_for(name, t, np.float64)))
    d, S = ACTS[name]["grad"](x, ACTS[name]["fwd"](x))
    ref = g * d
    assert_close(got, ref, tolerance(np.float64, x, ref, np.abs(g) * S), name + " backward")


def away_from_kinks(rng, name, n):
    x = rng.uniform(-5, 5, n)
    for k in KINKS.get(name, []):
        x = np.where(np.abs(x - k) < 1e-3, x + 2e-3, x)
    return x


def fd_tolerance(f, h, v):
    """Central differences: truncation h^2 |f'''| / 6 (|f'''| <= 10 on [-5, 5] for all of these)
    plus the rounding of f(x +- h), 2 eps |f| / (2h); times |v| and 4 for safety."""
    eps = float(np.finfo(np.float64).eps)
    return 4 * (10 * h * h / 6 + eps * (np.abs(f) + 1) / h) * np.abs(v)


@pytest.mark.parametrize("name", DIFFERENTIABLE)
def test_gradcheck(backend, rng, name):
    x = away_from_kinks(rng, name, 257)
    v = rng.standard_normal(x.size)
    h = 1e-5
    f = N(run_fwd(name, T(x)))
    fd = (N(run_fwd(name, T(x + h))) - N(run_fwd(name, T(x - h)))) / (2 * h) * v
    got = N(run_bwd(name, T(v), saved_for(name, T(x), np.float64)))
    assert_close(got, fd, fd_tolerance(f, h, v), name + " gradcheck")


def test_heaviside_has_no_gradient(backend):
    x = T(np.array([1.0, -1.0], np.float32))
    with pytest.raises(ValueError, match=r"\[heaviside\] has no gradient"):
        _C.heaviside_backward(x._t, x._t)


# ---------------------------------------------------------------------------
# PReLU and Swish with a tensor parameter
# ---------------------------------------------------------------------------

PARAM_ACTS = {
    "prelu": dict(fwd=lambda x, w: np.where(x > 0, x, w * x), dx=lambda x, w: np.where(x > 0, 1.0, w),
                  dw=lambda x, w: np.where(x > 0, 0.0, x)),
    "swish": dict(fwd=lambda x, w: vanishing(x, sig(w * x)),
                  dx=lambda x, w: sig(w * x) + vanishing(w * x, sig(w * x) * sig(-w * x)),
                  dw=lambda x, w: vanishing(x * x, sig(w * x) * sig(-w * x))),
}


def channel_view(w, ndim):
    return w.reshape(()) if w.size == 1 else w.reshape((1, -1) + (1,) * (ndim - 2))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(PARAM_ACTS))
@pytest.mark.parametrize("shape,nw", [((7,), 1), ((5, 3), 3), ((5, 3), 1), ((2, 4, 3, 5), 4), ((0, 3), 3),
                                      ((3, 1, 2), 1)], ids=str)
def test_param_activation(backend, rng, name, dtype, shape, nw):
    x = sample(rng, shape, dtype, 3.0)
    w = rng.uniform(0.05, 1.5, nw).astype(dtype)
    g = sample(rng, shape, dtype, 1.0)
    fn = getattr(F, name)
    y = N(fn(T(x), T(w)))
    x64, w64, g64 = x.astype(np.float64), channel_view(w.astype(np.float64), x.ndim), g.astype(np.float64)
    ref = PARAM_ACTS[name]["fwd"](x64, w64)
    assert_close(y, ref, tolerance(dtype, x64, ref, 0), name)
    dx, dw = getattr(_C, name + "_backward")(T(g)._t, T(x)._t, T(w)._t)
    dx, dw = N(wrap(dx)), N(wrap(dw))
    assert dw.shape == w.shape and dw.dtype == dtype
    ref_dx = g64 * PARAM_ACTS[name]["dx"](x64, w64)
    assert_close(dx, ref_dx, tolerance(dtype, x64, ref_dx, np.abs(g64) * 2), name + " dx")
    terms = g64 * PARAM_ACTS[name]["dw"](x64, w64)
    axes = tuple(d for d in range(x.ndim) if nw == 1 or d != 1)
    ref_dw = terms.sum(axis=axes).reshape(w.shape)
    # each term within its forward tolerance; the sum accumulates in float64, then rounds once
    fi = np.finfo(dtype)
    n = max(1, terms.size // nw)
    tol = K * float(fi.eps) * (np.abs(terms) * (1 + x64 * x64)).sum(axis=axes).reshape(w.shape) + n * K * float(fi.tiny)
    assert_close(dw, ref_dw, tol, name + " dweight")


@pytest.mark.parametrize("name", list(PARAM_ACTS))
def test_param_gradcheck(backend, rng, name):
    x = away_from_kinks(rng, "relu", (4, 3, 5))
    w = rng.uniform(0.1, 1.2, 3)
    v = rng.standard_normal(x.shape)
    h = 1e-5
    fn = getattr(F, name)
    dx, dw = getattr(_C, name + "_backward")(T(v)._t, T(x)._t, T(w)._t)
    dx, dw = N(wrap(dx)), N(wrap(dw))
    f = N(fn(T(x), T(w)))
    fd_x = (N(fn(T(x + h), T(w))) - N(fn(T(x - h), T(w)))) / (2 * h) * v
    assert_close(dx, fd_x, fd_tolerance(f, h, v), name + " gradcheck dx")
    for c in range(3):
        e = np.zeros(3)
        e[c] = h
        fd = ((N(fn(T(x), T(w + e))) - N(fn(T(x), T(w - e)))) * v).sum() / (2 * h)
        tol = fd_tolerance(f, h, v).sum() * 25  # |d^3 f / dw^3| <= x^3 (<= 125) for these, bounded by 10 * 25
        assert abs(dw[c] - fd) <= tol, (c, dw[c], fd, tol)


def test_param_gradient_is_deterministic(rng):
    x = sample(rng, (64, 3, 40, 40), np.float32)
    g = sample(rng, x.shape, np.float32, 1.0)
    w = np.array([0.1, 0.2, 0.3], np.float32)
    results = []
    for threads in (1, 2):
        previous = dlcore.get_num_threads()
        dlcore.set_num_threads(threads)
        try:
            results.append(N(wrap(_C.prelu_backward(T(g)._t, T(x)._t, T(w)._t)[1])))
        finally:
            dlcore.set_num_threads(previous)
    np.testing.assert_array_equal(results[0], results[1])


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------

def test_errors(backend):
    xi = T(np.arange(6, dtype=np.int64))
    x = T(np.ones((2, 3), np.float32))
    with pytest.raises(TypeError, match=r"\[relu\] expected input of a floating dtype"):
        F.relu(xi)
    with pytest.raises(ValueError, match=r"\[sigmoid\] expected output of shape \(2, 3\) \(the grad's\), got \(3,\)"):
        _C.sigmoid_backward(x._t, T(np.ones(3, np.float32))._t)
    with pytest.raises(TypeError, match=r"\[gelu\] expected input of dtype float32 \(the grad's\), got float64"):
        _C.gelu_backward(x._t, T(np.ones((2, 3)))._t)
    with pytest.raises(ValueError, match=r"\[elu\] expected alpha >= 0"):
        F.elu(x, -1.0)
    with pytest.raises(ValueError, match=r"\[hardtanh\] expected min_val <= max_val"):
        F.hardtanh(x, 1.0, -1.0)
    with pytest.raises(ValueError, match=r"\[softplus\] expected beta != 0"):
        F.softplus(x, 0.0)
    with pytest.raises(ValueError, match=r"\[gelu\] approximate must be 'none' or 'tanh', got 'erf'"):
        F.gelu(x, approximate="erf")
    with pytest.raises(ValueError, match=r"\[prelu\] expected weight of shape \(1,\) or \(3,\) \(one per channel, "
                                         r"dim 1 of the input\), got \(2,\)"):
        F.prelu(x, T(np.ones(2, np.float32)))
    with pytest.raises(TypeError, match=r"\[prelu\] expected weight of dtype float32 \(the input's\), got float64"):
        F.prelu(x, T(np.ones(3)))
    with pytest.raises(ValueError, match=r"\[swish\] expected beta of shape"):
        _C.swish_backward(x._t, x._t, T(np.ones((3, 1), np.float32))._t)
