"""Softmax, log-softmax, the fused softmax + cross-entropy and NLL (with class weights, and labels
checked by the kernel itself), forward and backward, against NumPy float64 references on every
backend (the CUDA kernels give short rows to a warp and long ones to a block: both are covered),
and against PyTorch when it is installed.

Tolerances. exp(x - max) moves by |x - max| eps when its argument rounds, so a probability p is
within K eps p (1 + |x - max|), plus the relative error of the float64 sums over C terms (ours,
4 eps64 sqrt(C), and NumPy's pairwise one, eps64 (log2 C + 2), as in test_reduce.py); a
log-probability within K eps (|x - max| + |log sum| + |y|) plus the same sum error; a loss within K eps (|lse| + sum q |x|) per sample, and a
reduction adds the per-sample bounds. Gradients get the same bounds per term. K = 8 as in
test_activation.py (checks.K). Finite-difference gradchecks use the float64 kernels themselves.
"""
import numpy as np
import pytest

import backends
from checks import K, acc_err, assert_close, eps, fd_tolerance, numeric_grad, tiny, wrap
import dlcore
import dlcore.functional as F
from dlcore import _C

T = backends.tensor
N = backends.array
FLOATS = (np.float32, np.float64)


def ref_softmax(x, axis):
    """(softmax, log_softmax, |x - max|, |log sum|) in float64."""
    x = x.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        m = np.max(x, axis=axis, keepdims=True, initial=-np.inf)
        d = x - m
        s = np.sum(np.exp(d), axis=axis, keepdims=True)
        return np.exp(d) / s, d - np.log(s), np.abs(d), np.abs(np.log(s))


CASES = [((), 0), ((0,), 0), ((1,), 0), ((7,), -1), ((3, 5), 0), ((3, 5), 1), ((2, 3, 4), 1), ((2, 0, 3), 2),
         ((4, 1031), 1), ((3, 2000), -1), ((2000, 3), 0)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,dim", CASES, ids=str)
def test_softmax_forward(backend, rng, dtype, log, shape, dim):
    x = (rng.standard_normal(shape) * 5).astype(dtype)
    got = N((F.log_softmax if log else F.softmax)(T(x), dim))
    assert got.dtype == dtype and got.shape == shape
    p, lp, d, ls = ref_softmax(x, dim if shape else None)
    acc = acc_err(shape[dim] if shape else 1)
    if log:
        assert_close(got, lp, K * eps(dtype) * (d + ls + np.abs(lp)) + acc, "log_softmax")
    else:
        assert_close(got, p, p * (K * eps(dtype) * (1 + d) + acc) + K * tiny(dtype), "softmax")


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_strided(backend, rng, log):
    base = (rng.standard_normal((9, 12)) * 3).astype(np.float32)
    x, t = base[::2, 1::3].T, T(base)[::2, 1::3].T
    for dim in (0, 1):
        got = N((F.log_softmax if log else F.softmax)(t, dim))
        p, lp, d, ls = ref_softmax(x, dim)
        ref, tol = (lp, K * eps(np.float32) * (d + ls + np.abs(lp))) if log else (p, K * eps(np.float32) * p * (1 + d))
        tol = tol + K * tiny(np.float32)
        assert_close(got, ref, tol, "strided")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("width", [5, 1500])
def test_softmax_extremes(backend, dtype, width):
    rows = np.zeros((6, width), dtype)
    rows[0, :] = 3.0                                     # all equal: exactly 1 / C
    rows[1, :] = np.linspace(-1e4, 1e4, width)           # huge logits: no overflow
    rows[2, :] = -np.inf                                 # -inf entries: probability 0
    rows[2, 1] = 2.0
    rows[2, 3] = 1.0
    rows[3, :] = 1.0
    rows[3, 2] = np.nan                                  # a NaN poisons its row only
    rows[4, :] = -np.inf                                 # an all -inf row has no softmax: NaN
    rows[5, :] = np.float32(3e38)                        # near the top of float32
    x = T(rows)
    p = N(F.softmax(x, 1))
    lp = N(F.log_softmax(x, 1))
    np.testing.assert_array_equal(p[0], np.full(width, 1 / width, dtype))
    rp, rlp, d, ls = ref_softmax(rows[1], 0)
    assert_close(p[1], rp, K * eps(dtype) * rp * (1 + d) + K * tiny(dtype), "huge logits")
    assert_close(lp[1], rlp, K * eps(dtype) * (d + ls + np.abs(rlp)), "huge logits")
    assert p[1, -1] > 0.5 and p[1, 0] == 0
    assert p[2, 0] == 0 and lp[2, 0] == -np.inf and abs(p[2, 1] - 1 / (1 + np.exp(-1.0))) < 4 * eps(dtype)
    assert np.all(np.isnan(p[3])) and np.all(np.isnan(lp[3]))
    assert np.all(np.isnan(p[4])) and np.all(np.isnan(lp[4]))
    np.testing.assert_allclose(p[5], 1 / width, rtol=4 * eps(dtype))
    assert not np.isnan(p[:3]).any() and not np.isnan(p[5]).any()


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
@pytest.mark.parametrize("shape,dim", [((3, 5), 1), ((2, 3, 4), 1), ((2, 1500), 1), ((0, 4), 1), ((4,), 0)],
                         ids=str)
def test_softmax_backward(backend, rng, dtype, log, shape, dim):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    y = (F.log_softmax if log else F.softmax)(T(x), dim)
    got = N(wrap((_C.log_softmax_backward if log else _C.softmax_backward)(T(g)._t, y._t, dim)))
    p, lp, d, ls = ref_softmax(x, dim)
    g64 = g.astype(np.float64)
    if log:
        sg = g64.sum(axis=dim, keepdims=True)
        ref = g64 - p * sg
        tol = K * eps(dtype) * (np.abs(g64) + p * (1 + d + ls) * np.abs(sg).sum(axis=dim, keepdims=True) +
                                p * np.abs(g64).sum(axis=dim, keepdims=True))
    else:
        s = (g64 * p).sum(axis=dim, keepdims=True)
        ref = p * (g64 - s)
        tol = K * eps(dtype) * p * (1 + d) * (np.abs(g64) + (np.abs(g64) * p).sum(axis=dim, keepdims=True))
    assert_close(got, ref, tol + K * tiny(dtype), "softmax backward")


@pytest.mark.parametrize("log", [False, True], ids=["softmax", "log_softmax"])
def test_softmax_gradcheck(backend, rng, log):
    x = rng.standard_normal((3, 6)) * 2
    v = rng.standard_normal(x.shape)
    fn = F.log_softmax if log else F.softmax
    y = fn(T(x), 1)
    got = N(wrap((_C.log_softmax_backward if log else _C.softmax_backward)(T(v)._t, y._t, 1)))
    fd = numeric_grad(lambda z: float((N(fn(T(z), 1)) * v).sum()), x)
    assert_close(got, fd, fd_tolerance(np.abs(N(y) * v).sum(), 1e-5, np.abs(v).sum() * 4), "gradcheck")


# ---------------------------------------------------------------------------
# cross-entropy and NLL
# ---------------------------------------------------------------------------

def target_distribution(target, n, c, smoothing, ignore_index, labels):
    """The smoothed target distribution q (n, c) of labels (rows of ignore_index: 0) or of probabilities,
    and which rows count."""
    if not labels:
        return (1 - smoothing) * target.astype(np.float64) + smoothing / c, np.ones(n, bool)
    keep = target != ignore_index
    q = np.zeros((n, c))
    q[np.arange(n)[keep], target[keep]] = 1.0
    q = q * (1 - smoothing) + smoothing / c
    q[~keep] = 0
    return q, keep


def ce_reference(x, target, smoothing=0.0, ignore_index=-100, labels=True):
    """Per-sample loss, dloss/dx per sample, and error scales, for (N, C) float64 scores."""
    x = x.astype(np.float64)
    n, c = x.shape
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        m = x.max(axis=1, keepdims=True, initial=-np.inf)
        lse = m + np.log(np.exp(x - m).sum(axis=1, keepdims=True))
        logp = x - lse
    q, keep = target_distribution(target, n, c, smoothing, ignore_index, labels)
    with np.errstate(invalid="ignore"):
        per = -np.where(q == 0, 0.0, q * logp).sum(axis=1)
        p = np.exp(logp)
        grad = np.where(keep[:, None], p - q, 0.0)
        scale = np.abs(lse[:, 0]) + np.where(q == 0, 0, q * np.abs(x)).sum(axis=1)
    return per, grad, scale, keep


def flat_scores(x):
    """(N, C, d...) -> (N * d..., C) as the kernels see it."""
    return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1]) if x.ndim > 2 else x.reshape(-1, x.shape[-1])


def unflat(g, shape):
    if len(shape) <= 2:
        return g.reshape(shape)
    moved = (shape[0],) + shape[2:] + (shape[1],)
    return np.moveaxis(g.reshape(moved), -1, 1)


CE_SHAPES = [(5, 4), (1, 10), (7,), (3, 4, 2, 3), (0, 6), (4, 1500)]


def reduce_ref(per, keep, reduction, labels):
    if reduction == "none":
        return per
    total = per.sum()
    if reduction == "sum":
        return np.float64(total)
    with np.errstate(invalid="ignore"):
        return np.float64(total / (keep.sum() if labels else per.size))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("shape", CE_SHAPES, ids=str)
def test_cross_entropy_labels(backend, rng, dtype, reduction, smoothing, shape):
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    c = shape[1] if len(shape) > 1 else shape[0]
    sample_shape = tuple(s for i, s in enumerate(shape) if i != (1 if len(shape) > 1 else 0))
    y = rng.integers(0, c, sample_shape)
    if y.size > 2:
        y.flat[1] = -100  # ignored
    loss, lse = _C.cross_entropy(T(x)._t, T(y)._t, reduction, smoothing, -100)
    loss, lse = N(wrap(loss)), N(wrap(lse))
    xf = flat_scores(x)
    per, grad, scale, keep = ce_reference(xf, y.reshape(-1), smoothing)
    ref = reduce_ref(per, keep, reduction, True)
    tol_rows = K * eps(dtype) * scale + K * tiny(dtype)
    tol = tol_rows if reduction == "none" else (tol_rows.sum() / (max(keep.sum(), 1) if reduction == "mean" else 1))
    assert loss.dtype == dtype
    assert_close(loss, np.reshape(ref, sample_shape) if reduction == "none" else ref, 
                 np.reshape(tol, sample_shape) if reduction == "none" else tol, "cross_entropy")
    assert lse.dtype == np.float64 and lse.shape == sample_shape + (3,)
    # backward
    g = rng.standard_normal(sample_shape).astype(dtype) if reduction == "none" else np.array(1.7, dtype)
    dx = N(wrap(_C.cross_entropy_backward(T(g)._t, T(x)._t, T(y)._t, T(lse)._t, reduction, smoothing, -100)))
    gr = g.reshape(-1, 1) if reduction == "none" else g
    if reduction == "mean":
        with np.errstate(divide="ignore", invalid="ignore"):
            gr = g / keep.sum()
    ref_dx = unflat(grad * gr, shape)
    tol_dx = unflat(K * eps(dtype) * np.abs(gr) * (np.exp(np.clip(flat_scores(x) - flat_scores(x).max(axis=1, keepdims=True), -700, 0)) * (1 + np.abs(xf)) + 1), shape)
    assert_close(dx, ref_dx, tol_dx + K * tiny(dtype), "cross_entropy backward")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 5), (3, 1500)], ids=str)
def test_cross_entropy_probabilities(backend, rng, dtype, reduction, smoothing, shape):
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    t = rng.uniform(0, 1, shape)
    t[:, 0] = 0  # a zero probability for class 0, whose logit is -inf in sample 0
    t = (t / t.sum(axis=1, keepdims=True)).astype(dtype)
    x[0, 0] = -np.inf if smoothing == 0 else x[0, 0]
    loss, lse = _C.cross_entropy(T(x)._t, T(t)._t, reduction, smoothing, -100)
    loss = N(wrap(loss))
    per, grad, scale, keep = ce_reference(flat_scores(x), flat_scores(t), smoothing, labels=False)
    sample_shape = (shape[0],) + shape[2:]
    ref = reduce_ref(per, keep, reduction, False)
    tol_rows = K * eps(dtype) * scale
    if reduction == "none":
        assert_close(loss, ref.reshape(sample_shape), tol_rows.reshape(sample_shape), "ce probabilities")
    else:
        assert_close(loss, ref, tol_rows.sum() / (per.size if reduction == "mean" else 1), "ce probabilities")
    g = np.ones(sample_shape, dtype) if reduction == "none" else np.array(1.0, dtype)
    dx = N(wrap(_C.cross_entropy_backward(T(g)._t, T(x)._t, T(t)._t, lse, reduction, smoothing, -100)))
    scale_g = 1.0 / per.size if reduction == "mean" else 1.0
    ref_dx = unflat(grad * scale_g, shape)
    assert_close(dx, ref_dx, K * eps(dtype) * scale_g * (1 + np.abs(unflat(flat_scores(x), shape)).clip(0, 50)),
                 "ce probabilities backward")


def test_cross_entropy_extremes(backend):
    x = np.array([[1e4, -1e4, 0.0], [-np.inf, 2.0, 1.0], [5.0, 5.0, 5.0], [3e38, 3e38, -3e38]], np.float32)
    y = np.array([0, 1, 2, 1])
    loss, lse = _C.cross_entropy(T(x)._t, T(y)._t, "none", 0.0, -100)
    loss = N(wrap(loss))
    assert loss[0] == 0
    assert abs(loss[1] - np.log1p(np.exp(-1.0))) < 4 * eps(np.float32)
    assert abs(loss[2] - np.log(3.0)) < 4 * eps(np.float32)
    assert abs(loss[3] - np.log(2.0)) < 4 * eps(np.float32)
    dx = N(wrap(_C.cross_entropy_backward(T(np.ones(4, np.float32))._t, T(x)._t, T(y)._t, lse, "none", 0.0, -100)))
    assert np.all(np.isfinite(dx)) and dx[1, 0] == 0
    np.testing.assert_allclose(dx.sum(axis=1), 0, atol=4 * eps(np.float32))


def test_cross_entropy_all_ignored_mean_is_nan(backend):
    x = T(np.zeros((3, 4), np.float32))
    y = T(np.full(3, 7))
    assert np.isnan(N(F.cross_entropy(x, y, ignore_index=7)))
    assert N(F.cross_entropy(x, y, ignore_index=7, reduction="sum")) == 0
    assert np.isnan(N(F.cross_entropy(T(np.zeros((0, 4), np.float32)), T(np.zeros(0, np.int64)))))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.3])
def test_cross_entropy_gradcheck(backend, rng, reduction, smoothing):
    x = rng.standard_normal((4, 5)) * 2
    y = np.array([0, 3, -100, 4])
    v = rng.standard_normal(4) if reduction == "none" else np.array(rng.standard_normal())

    def objective(z):
        loss, _ = _C.cross_entropy(T(z)._t, T(y)._t, reduction, smoothing, -100)
        return float((N(wrap(loss)) * v).sum())
    _, lse = _C.cross_entropy(T(x)._t, T(y)._t, reduction, smoothing, -100)
    got = N(wrap(_C.cross_entropy_backward(T(v)._t, T(x)._t, T(y)._t, lse, reduction, smoothing, -100)))
    fd = numeric_grad(objective, x)
    assert_close(got, fd, fd_tolerance(abs(objective(x)) * 4, 1e-5, np.abs(v).sum() * 4), "ce gradcheck")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("shape", [(5, 4), (6,), (2, 3, 4), (3, 1500)], ids=str)
def test_nll_loss(backend, rng, dtype, reduction, shape):
    x = (rng.standard_normal(shape) * 3).astype(dtype)
    logp = N(F.log_softmax(T(x), 1 if len(shape) > 1 else 0))
    c = shape[1] if len(shape) > 1 else shape[0]
    sample_shape = tuple(s for i, s in enumerate(shape) if i != (1 if len(shape) > 1 else 0))
    y = rng.integers(0, c, sample_shape)
    if y.size > 1:
        y.flat[0] = 2
    got = N(F.nll_loss(T(logp), T(y), ignore_index=2, reduction=reduction))
    lf, yf = flat_scores(logp).astype(np.float64), y.reshape(-1)
    keep = yf != 2
    per = np.where(keep, -lf[np.arange(yf.size), np.where(keep, yf, 0)], 0.0)
    ref = reduce_ref(per, keep, reduction, True)
    tol = K * eps(dtype) * np.abs(per)
    if reduction == "none":
        assert_close(got, per.reshape(sample_shape), tol.reshape(sample_shape), "nll_loss")
    else:
        assert_close(got, ref, tol.sum() + K * eps(dtype) * abs(ref), "nll_loss")
    g = np.full(sample_shape, 0.5, dtype) if reduction == "none" else np.array(0.5, dtype)
    dx = N(wrap(_C.nll_loss_backward(T(g)._t, T(logp)._t, T(y)._t, reduction, 2)))
    gs = 0.5 / keep.sum() if reduction == "mean" else 0.5
    ref_dx = np.zeros_like(lf)
    ref_dx[np.arange(yf.size)[keep], yf[keep]] = -gs
    assert_close(dx, unflat(ref_dx, shape), K * eps(dtype) * gs, "nll_loss backward")


def test_cross_entropy_is_log_softmax_plus_nll(backend, rng):
    x = T((rng.standard_normal((6, 9)) * 3).astype(np.float64))
    y = T(rng.integers(0, 9, 6))
    a = N(F.cross_entropy(x, y, reduction="none"))
    b = N(F.nll_loss(F.log_softmax(x, 1), y, reduction="none"))
    np.testing.assert_allclose(a, b, rtol=0, atol=K * eps(np.float64) * 20)


def test_errors(backend):
    x = T(np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match=r"\[cross_entropy\] expected target of shape \(3,\), got \(3, 2\)"):
        F.cross_entropy(x, T(np.zeros((3, 2), np.int64)))
    with pytest.raises(IndexError, match=r"\[cross_entropy\] target 4 is out of bounds for 4 classes"):
        F.cross_entropy(x, T(np.array([0, 4, 1])))
    with pytest.raises(IndexError, match=r"\[nll_loss\] target -1 is out of bounds for 4 classes"):
        F.nll_loss(x, T(np.array([0, -1, 1])))
    F.cross_entropy(x, T(np.array([0, -100, 1])))  # ignore_index may be out of range
    with pytest.raises(TypeError, match=r"\[nll_loss\] expected integer class labels \(int64 or int32\), got float32"):
        F.nll_loss(x, x)
    with pytest.raises(ValueError, match=r"\[cross_entropy\] expected target probabilities of shape \(3, 4\)"):
        F.cross_entropy(x, T(np.zeros((3, 5), np.float32)))
    with pytest.raises(ValueError, match=r"\[cross_entropy\] expected label_smoothing in \[0, 1\], got 1.5"):
        F.cross_entropy(x, T(np.array([0, 1, 2])), label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"\[cross_entropy\] reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        F.cross_entropy(x, T(np.array([0, 1, 2])), reduction="avg")
    with pytest.raises(TypeError, match=r"\[softmax\] expected input of a floating dtype"):
        F.softmax(T(np.zeros(3, np.int64)), 0)
    with pytest.raises(IndexError, match=r"\[log_softmax\] dim 2 is out of range"):
        F.log_softmax(x, 2)
    _, lse = _C.cross_entropy(x._t, T(np.array([0, 1, 2]))._t, "mean", 0.0, -100)
    with pytest.raises(ValueError, match=r"\[cross_entropy\] expected grad of shape \(\) \(reduction 'mean'\)"):
        _C.cross_entropy_backward(T(np.ones(3, np.float32))._t, x._t, T(np.array([0, 1, 2]))._t, lse, "mean", 0.0, -100)


# ---------------------------------------------------------------------------
# class weights
# ---------------------------------------------------------------------------

def weighted_ce_reference(x, target, w, smoothing, labels, ignore_index=-100, log_probs=False):
    """Per-sample loss sum_c w_c q_c (lse - x_c), its gradient S p - w q (S = sum_c w_c q_c), each row's
    weight in a mean (w[y], 0 if ignored; 1 for probabilities), and per-row error scales, float64."""
    x = x.astype(np.float64)
    w = w.astype(np.float64)
    n, c = x.shape
    with np.errstate(invalid="ignore", over="ignore", divide="ignore"):
        if log_probs:
            logp = x
        else:
            # (x - m) - log sum: x - (m + log sum) would round m + log sum to the spacing of large scores
            m = x.max(axis=1, keepdims=True)
            logp = (x - m) - np.log(np.exp(x - m).sum(axis=1, keepdims=True))
    q, keep = target_distribution(target, n, c, smoothing, ignore_index, labels)
    row_w = np.where(keep, w[np.where(keep, target, 0)], 0.0) if labels else np.ones(n)
    wq = w * q
    with np.errstate(invalid="ignore"):  # terms of zero target mass are 0 (0 log 0 = 0), whatever the score
        per = -np.where(q == 0, 0.0, wq * logp).sum(axis=1)
        mass = wq.sum(axis=1, keepdims=True)
        grad = -wq if log_probs else mass * np.exp(logp) - wq
        scale = np.where(q == 0, 0.0, np.abs(wq) * (np.abs(logp) + np.abs(x) + 1)).sum(axis=1)
    return per, np.where(keep[:, None], grad, 0.0), row_w, scale


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("labels", [True, False], ids=["labels", "probs"])
@pytest.mark.parametrize("shape", [(5, 4), (7,), (3, 4, 2, 3), (0, 6), (4, 1500)], ids=str)
def test_cross_entropy_weighted(backend, rng, dtype, reduction, smoothing, labels, shape):
    x = (rng.standard_normal(shape) * 4).astype(dtype)
    c = shape[1] if len(shape) > 1 else shape[0]
    cdim = 1 if len(shape) > 1 else 0
    sample_shape = tuple(s for i, s in enumerate(shape) if i != cdim)
    w = rng.uniform(0.1, 3, c).astype(dtype)
    w[0] = 0  # a zero class weight: the label's term vanishes, the smoothing's stays
    if labels:
        y = rng.integers(0, c, sample_shape)
        if y.size > 2:
            y.flat[1] = -100
        target, flat_t = y, y.reshape(-1)
    else:
        t = rng.uniform(0, 1, shape)
        target = (t / t.sum(axis=cdim, keepdims=True) * 0.9).astype(dtype)  # mass 0.9: S is not 1
        flat_t = flat_scores(target) if len(shape) > 1 else target.reshape(1, -1)
    loss, stats = _C.cross_entropy(T(x)._t, T(target)._t, reduction, smoothing, -100, T(w)._t)
    xf = flat_scores(x) if len(shape) > 1 else x.reshape(1, -1)
    per, grad, row_w, scale = weighted_ce_reference(xf, flat_t, w, smoothing, labels)
    tol = K * eps(dtype) * scale + acc_err(c) * np.abs(per) + K * tiny(dtype)
    if reduction == "none":
        assert_close(N(wrap(loss)), per.reshape(sample_shape), tol.reshape(sample_shape), "weighted ce")
        g = rng.standard_normal(sample_shape).astype(dtype)
        gr = g.astype(np.float64).reshape(-1, 1)
    else:
        denom = row_w.sum() if reduction == "mean" else 1.0
        with np.errstate(invalid="ignore", divide="ignore"):
            ref = per.sum() / denom
            bound = (tol.sum() + acc_err(per.size) * np.abs(per).sum()) / abs(denom) + K * eps(dtype) * abs(ref)
            g = np.array(1.3, dtype)
            gr = np.float64(g) / denom
        assert_close(N(wrap(loss)), np.float64(ref), bound, f"weighted ce {reduction}")
    dx = N(wrap(_C.cross_entropy_backward(T(g)._t, T(x)._t, T(target)._t, stats, reduction, smoothing, -100,
                                          T(w)._t)))
    ref_dx = grad * gr
    tol_dx = K * eps(dtype) * np.abs(gr) * (np.abs(grad) + w.max() * (2 + np.abs(xf).clip(0, 50))) + K * tiny(dtype)
    restore = (lambda a: unflat(a, shape)) if len(shape) > 1 else (lambda a: a.reshape(shape))
    assert_close(dx, restore(ref_dx), restore(tol_dx), "weighted ce backward")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_nll_loss_weighted(backend, rng, dtype, reduction):
    logp = np.log(rng.uniform(0.05, 1, (6, 5))).astype(dtype)
    y = np.array([0, 4, 2, 2, 1, 3])
    w = rng.uniform(0.5, 2, 5).astype(dtype)
    got = N(F.nll_loss(T(logp), T(y), weight=T(w), ignore_index=1, reduction=reduction))
    per, grad, row_w, scale = weighted_ce_reference(logp, y, w, 0.0, True, ignore_index=1, log_probs=True)
    tol = K * eps(dtype) * np.abs(per)
    if reduction == "none":
        assert_close(got, per, tol, "weighted nll")
    else:
        denom = row_w.sum() if reduction == "mean" else 1.0
        assert_close(got, per.sum() / denom, (tol.sum() + K * eps(dtype) * np.abs(per).sum()) / denom, "weighted nll")
    g = np.full(6, 0.5, dtype) if reduction == "none" else np.array(0.5, dtype)
    dx = N(wrap(_C.nll_loss_backward(T(g)._t, T(logp)._t, T(y)._t, reduction, 1, T(w)._t)))
    gs = 0.5 / row_w.sum() if reduction == "mean" else 0.5
    assert_close(dx, grad * gs, K * eps(dtype) * np.abs(grad * gs), "weighted nll backward")


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("smoothing,labels", [(0.0, True), (0.3, True), (0.2, False)], ids=["labels", "smoothed",
                                                                                          "probs"])
def test_cross_entropy_weighted_gradcheck(backend, rng, reduction, smoothing, labels):
    x = rng.standard_normal((4, 5)) * 2
    w = rng.uniform(0.2, 2, 5)
    target = np.array([0, 3, -100, 4]) if labels else rng.dirichlet(np.ones(5), 4) * 0.8
    v = rng.standard_normal(4) if reduction == "none" else np.array(rng.standard_normal())

    def objective(z):
        loss, _ = _C.cross_entropy(T(z)._t, T(target)._t, reduction, smoothing, -100, T(w)._t)
        return float((N(wrap(loss)) * v).sum())
    _, stats = _C.cross_entropy(T(x)._t, T(target)._t, reduction, smoothing, -100, T(w)._t)
    got = N(wrap(_C.cross_entropy_backward(T(v)._t, T(x)._t, T(target)._t, stats, reduction, smoothing, -100,
                                           T(w)._t)))
    fd = numeric_grad(objective, x)
    assert_close(got, fd, fd_tolerance(abs(objective(x)) * 4, 1e-5, np.abs(v).sum() * 8), "weighted ce gradcheck")


def test_nll_loss_weighted_gradcheck(backend, rng):
    x = np.log(rng.uniform(0.1, 1, (5, 4)))
    y = np.array([0, 3, 1, 1, 2])
    w = rng.uniform(0.2, 2, 4)
    fd = numeric_grad(lambda z: float(N(F.nll_loss(T(z), T(y), weight=T(w)))), x)
    got = N(wrap(_C.nll_loss_backward(T(np.float64(1))._t, T(x)._t, T(y)._t, "mean", -100, T(w)._t)))
    assert_close(got, fd, fd_tolerance(4.0, 1e-5, 0), "weighted nll gradcheck")


def test_cross_entropy_soft_targets_unnormalized(backend, rng):
    # PyTorch's gradient for probabilities that do not sum to 1: p sum(q) - q
    x = rng.standard_normal((3, 4))
    t = rng.uniform(0, 1, (3, 4))
    _, stats = _C.cross_entropy(T(x)._t, T(t)._t, "sum", 0.0, -100)
    dx = N(wrap(_C.cross_entropy_backward(T(np.float64(1))._t, T(x)._t, T(t)._t, stats, "sum", 0.0, -100)))
    p = np.exp(x - x.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    np.testing.assert_allclose(dx, p * t.sum(1, keepdims=True) - t, rtol=0, atol=1e-14)


def test_bad_label_found_by_the_kernel(backend):
    x = T(np.zeros((4, 3), np.float32))
    y = T(np.array([0, 7, -3, 9]))  # the first bad row is reported
    with pytest.raises(IndexError, match=r"\[cross_entropy\] target 7 is out of bounds for 3 classes "
                                         r"\(expected 0 <= target < 3, or ignore_index -100\)"):
        F.cross_entropy(x, y, reduction="none")
    with pytest.raises(IndexError, match=r"\[cross_entropy\] target 7 is out of bounds"):
        F.cross_entropy(x, y)
    _, stats = _C.cross_entropy(x._t, T(np.array([0, 1, 2, 0]))._t, "mean", 0.0, -100)
    with pytest.raises(IndexError, match=r"\[cross_entropy\] target 7 is out of bounds"):
        _C.cross_entropy_backward(T(np.float32(1))._t, x._t, y._t, stats, "mean", 0.0, -100)
    with pytest.raises(IndexError, match=r"\[nll_loss\] target 7 is out of bounds"):
        _C.nll_loss_backward(T(np.float32(1))._t, x._t, y._t, "sum", -100)


def test_weight_errors(backend):
    x = T(np.zeros((3, 4), np.float32))
    y = T(np.array([0, 1, 2]))
    with pytest.raises(ValueError, match=r"\[cross_entropy\] expected weight of shape \(4,\) \(one per class\), "
                                         r"got \(3,\)"):
        F.cross_entropy(x, y, weight=T(np.ones(3, np.float32)))
    with pytest.raises(TypeError, match=r"\[nll_loss\] expected weight of dtype float32 \(the input's\), got float64"):
        F.nll_loss(x, y, weight=T(np.ones(4)))


def test_weighted_matches_torch(rng):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = rng.standard_normal((6, 5, 3)) * 3
    y = rng.integers(0, 5, (6, 3))
    y[0, 0] = -100
    w = rng.uniform(0.2, 2, 5)
    p = rng.dirichlet(np.ones(5), (6, 3)).transpose(0, 2, 1) * 0.7
    for reduction in ("mean", "sum", "none"):
        for target, ls in ((y, 0.0), (y, 0.25), (p, 0.0), (p, 0.1)):
            xt = torch.tensor(x, requires_grad=True)
            ref = tf.cross_entropy(xt, torch.tensor(target), weight=torch.tensor(w), reduction=reduction,
                                   label_smoothing=ls)
            ref.backward(torch.ones_like(ref))
            loss, stats = _C.cross_entropy(T(x)._t, T(target)._t, reduction, ls, -100, T(w)._t)
            g = T(np.ones(ref.shape))
            dx = _C.cross_entropy_backward(g._t, T(x)._t, T(target)._t, stats, reduction, ls, -100, T(w)._t)
            np.testing.assert_allclose(N(wrap(loss)), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
            np.testing.assert_allclose(N(wrap(dx)), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
        lp = np.log(rng.dirichlet(np.ones(5), 6))
        ref = tf.nll_loss(torch.tensor(lp), torch.tensor(y[:, 0]), weight=torch.tensor(w), reduction=reduction)
        np.testing.assert_allclose(N(F.nll_loss(T(lp), T(y[:, 0]), weight=T(w), reduction=reduction)), ref.numpy(),
                                   rtol=1e-12, atol=1e-12)


def test_cross_entropy_reduction_independent_of_threads(backend, rng):
    # rows spanning several of the kernel's fixed summation blocks
    x = T((rng.standard_normal((9000, 3)) * 3).astype(np.float32))
    y = T(rng.integers(0, 3, 9000))
    w = T(rng.uniform(0.5, 2, 3).astype(np.float32))
    previous = dlcore.get_num_threads()
    try:
        got = []
        for n in (1, 2):
            dlcore.set_num_threads(n)
            got.append([N(F.cross_entropy(x, y, w, reduction=r)) for r in ("mean", "sum")])
    finally:
        dlcore.set_num_threads(previous)
    np.testing.assert_array_equal(got[0], got[1])
