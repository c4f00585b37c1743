"""Losses against NumPy float64 references on every backend: the elementwise losses (MSE, L1,
smooth L1, Huber, binary cross-entropy on probabilities and on logits, KL divergence), the L1 / L2
penalties, the multi-class (squared) hinge and the cosine similarity, forward and backward; the
options PyTorch users expect: weights and pos_weight for the binary cross-entropies, class weights
for the hinge, targets that broadcast with the input for the regression losses and kl_div (and a
comparison with PyTorch when it is installed).

Tolerances. A loss rounds each term it adds, so an element is within K eps times the sum of its
terms' magnitudes (mag() below: e.g. (x - t)^2 rounds x - t, an error eps (|x| + |t|) scaled by
|2 (x - t)|); a reduction adds the elements' bounds and the float64 sum's relative error. Gradients
get the same per-term bounds. K = 8 as in test_activation.py (checks.K). Finite-difference
gradchecks use the float64 kernels themselves, at points away from the losses' kinks.
"""
import numpy as np
import pytest

import backends
from checks import K, acc_err, assert_close, eps, fd_tolerance, numeric_grad, wrap
import dlcore.functional as F
from dlcore import _C

T = backends.tensor
N = backends.array
FLOATS = (np.float32, np.float64)
REDUCTIONS = ("none", "sum", "mean")
KINDS = ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
         "binary_cross_entropy_with_logits", "kl_div", "kl_div_log_target")
PARAM = {"smooth_l1_loss": 1.5, "huber_loss": 0.7}


def ref_loss(kind, x, t, a=1.0):
    """(loss, magnitude of its terms, dloss/dx, magnitude of the gradient's terms) per element, float64."""
    x = x.astype(np.float64)
    t = t.astype(np.float64)
    d = x - t
    ad = np.abs(d)
    s = np.abs(x) + np.abs(t)  # what x - t rounds
    with np.errstate(all="ignore"):
        if kind == "mse_loss":
            return d * d, d * d + 2 * ad * s, 2 * d, 2 * s + 2 * ad
        if kind == "l1_loss":
            return ad, s, np.sign(d), 0 * s
        if kind == "smooth_l1_loss":
            q = ad < a
            return (np.where(q, 0.5 * d * d / a, ad - 0.5 * a), np.where(q, d * d / a + ad * s / a, s + a),
                    np.where(q, d / a, np.sign(d)), np.where(q, (s + ad) / a, 0))
        if kind == "huber_loss":
            q = ad <= a
            return (np.where(q, 0.5 * d * d, a * (ad - 0.5 * a)), np.where(q, d * d + ad * s, a * (s + a)),
                    np.where(q, d, a * np.sign(d)), np.where(q, s + ad, a))
        if kind == "binary_cross_entropy":
            lx, l1x = np.maximum(np.log(x), -100), np.maximum(np.log1p(-x), -100)
            lx = np.where(np.isnan(x), x, lx)
            l1x = np.where(np.isnan(x), x, l1x)
            den = np.maximum(x * (1 - x), 1e-12)
            return (-(t * lx + (1 - t) * l1x), np.abs(t) * (np.abs(lx) + 1) + np.abs(1 - t) * (np.abs(l1x) + 1),
                    (x - t) / den, (s + ad) / den)
        if kind == "binary_cross_entropy_with_logits":
            sp = np.logaddexp(0, -np.abs(x))
            sig = np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))
            return (np.maximum(x, 0) - x * t + sp, np.maximum(x, 0) + np.abs(x * t) + sp + 1,
                    sig - t, sig + np.abs(t) + 1)
        if kind == "kl_div":
            xlogt = np.where(t == 0, 0, t * np.log(np.where(t == 0, 1, t)))
            return xlogt - t * x, np.abs(xlogt) + np.abs(t * x) + np.abs(t), -t, np.abs(t)
        e = np.exp(t)  # kl_div_log_target
        return e * (t - x), e * (2 * np.abs(t) + np.abs(x) + 1), -e, e * (np.abs(t) + 1)


def call(kind, x, t, reduction):
    fn = getattr(_C, kind)
    args = (x._t, t._t, reduction) + ((PARAM[kind],) if kind in PARAM else ())
    return wrap(fn(*args))


def call_backward(kind, g, x, t, reduction):
    fn = getattr(_C, kind + "_backward")
    args = (g._t, x._t, t._t, reduction) + ((PARAM[kind],) if kind in PARAM else ())
    return wrap(fn(*args))


def sample(kind, rng, shape, dtype):
    """An input and a target in each loss's domain."""
    if kind == "binary_cross_entropy":
        return rng.uniform(0.02, 0.98, shape).astype(dtype), rng.uniform(0, 1, shape).astype(dtype)
    if kind == "binary_cross_entropy_with_logits":
        return (rng.standard_normal(shape) * 4).astype(dtype), rng.uniform(0, 1, shape).astype(dtype)
    if kind == "kl_div":
        t = rng.uniform(0, 1, shape)
        t[t < 0.1] = 0  # 0 log 0 = 0
        return np.log(rng.uniform(0.01, 1, shape)).astype(dtype), t.astype(dtype)
    if kind == "kl_div_log_target":
        return np.log(rng.uniform(0.01, 1, shape)).astype(dtype), np.log(rng.uniform(0.01, 1, shape)).astype(dtype)
    return (rng.standard_normal(shape) * 2).astype(dtype), (rng.standard_normal(shape) * 2).astype(dtype)


SHAPES = [(), (0,), (1,), (7,), (3, 5), (2, 3, 4), (13, 17), (2, 0, 3), (1031,)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_elementwise_loss(backend, rng, dtype, reduction, kind, shape):
    x, t = sample(kind, rng, shape, dtype)
    got = N(call(kind, T(x), T(t), reduction))
    loss, mag, _, _ = ref_loss(kind, x, t, PARAM.get(kind, 1.0))
    assert got.dtype == dtype
    if reduction == "none":
        assert_close(got, loss, K * eps(dtype) * mag, kind)
        return
    n = loss.size
    total, bound = loss.sum(), K * eps(dtype) * mag.sum() + acc_err(n) * np.abs(loss).sum()
    if reduction == "mean":
        total, bound = (total / n, bound / n) if n else (np.nan, 0)
    assert_close(got, np.float64(total), bound + K * eps(dtype) * abs(total), f"{kind} {reduction}")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("shape", [(0,), (1,), (3, 5), (1031,)], ids=str)
def test_elementwise_loss_backward(backend, rng, dtype, reduction, kind, shape):
    x, t = sample(kind, rng, shape, dtype)
    g = (rng.standard_normal(shape if reduction == "none" else ()) * 2).astype(dtype)
    got = N(call_backward(kind, T(g), T(x), T(t), reduction))
    _, _, grad, gmag = ref_loss(kind, x, t, PARAM.get(kind, 1.0))
    scale = g.astype(np.float64) / (x.size if reduction == "mean" and x.size else 1)
    ref = grad * scale
    assert_close(got, ref, K * eps(dtype) * (np.abs(ref) + np.abs(scale) * gmag), f"{kind} backward")


@pytest.mark.parametrize("kind", KINDS)
def test_non_contiguous(backend, rng, kind):
    x, t = sample(kind, rng, (6, 5), np.float64)
    xv, tv = T(x).transpose(0, 1), T(t).transpose(0, 1)  # (5, 6) views
    loss, mag, grad, gmag = ref_loss(kind, x.T, t.T, PARAM.get(kind, 1.0))
    assert_close(N(call(kind, xv, tv, "none")), loss, K * eps(np.float64) * mag, kind)
    g = rng.standard_normal((5, 6))
    assert_close(N(call_backward(kind, T(g.T.copy()).transpose(0, 1), xv, tv, "none")), grad * g,
                 K * eps(np.float64) * np.abs(g) * (np.abs(grad) + gmag), f"{kind} backward")


@pytest.mark.parametrize("kind", KINDS)
def test_elementwise_gradcheck(backend, rng, kind):
    x, t = sample(kind, rng, (3, 4), np.float64)
    if kind in ("l1_loss", "smooth_l1_loss", "huber_loss", "mse_loss"):
        # |x - t| in {0.3, 0.6, 2.1}: away from 0 and from beta / delta, where the derivative jumps
        x = t + rng.choice([-1, 1], x.shape) * rng.choice([0.3, 0.6, 2.1], x.shape)
    v = rng.standard_normal(x.shape)
    got = N(call_backward(kind, T(v), T(x), T(t), "none"))
    fd = numeric_grad(lambda z: float((N(call(kind, T(z), T(t), "none")) * v).sum()), x)
    loss = ref_loss(kind, x, t, PARAM.get(kind, 1.0))[0]
    third = 2 / np.min(x * (1 - x)) ** 3 if kind == "binary_cross_entropy" else 1
    assert_close(got, fd, fd_tolerance(np.abs(loss * v).sum(), 1e-5, np.abs(v).sum() * third), f"{kind} gradcheck")


@pytest.mark.parametrize("dtype", FLOATS)
def test_bce_with_logits_extreme(backend, dtype):
    x = np.array([-1e30, -1e4, -100, -80, -30, 0, 30, 80, 100, 1e4, 1e30, np.inf, -np.inf], dtype)
    t = np.linspace(0, 1, x.size).astype(dtype)
    got = N(call("binary_cross_entropy_with_logits", T(x), T(t), "none"))
    x64, t64 = x.astype(np.float64), t.astype(np.float64)
    with np.errstate(invalid="ignore"):
        ref = np.maximum(x64, 0) - x64 * t64 + np.logaddexp(0, -np.abs(x64))
    assert np.isfinite(got[np.isfinite(x)]).all()
    assert_close(got[np.isfinite(x)], ref[np.isfinite(x)], K * eps(dtype) * (np.abs(x64) * 2 + 1)[np.isfinite(x)],
                 "bce_with_logits extreme")
    dx = N(call_backward("binary_cross_entropy_with_logits", T(np.ones_like(x)), T(x), T(t), "none"))
    sig = np.where(x64 >= 0, 1 / (1 + np.exp(-np.abs(x64))), np.exp(-np.abs(x64)) / (1 + np.exp(-np.abs(x64))))
    assert_close(dx, sig - t64, K * eps(dtype) * 2, "bce_with_logits extreme backward")


@pytest.mark.parametrize("dtype", FLOATS)
def test_bce_probabilities_at_the_ends(backend, dtype):
    x = np.array([0, 1, 0, 1, 1e-30 if dtype == np.float64 else 1e-30], dtype)
    t = np.array([0, 1, 1, 0, 1], dtype)
    got = N(call("binary_cross_entropy", T(x), T(t), "none"))
    assert_close(got, np.array([0, 0, 100, 100, min(100, -np.log(np.float64(x[4])))]), K * eps(dtype) * 100,
                 "bce clamped logs")
    assert np.isfinite(N(call_backward("binary_cross_entropy", T(np.ones_like(x)), T(x), T(t), "none"))).all()


@pytest.mark.parametrize("kind", KINDS)
def test_nan_propagates(backend, kind):
    x, t = sample(kind, np.random.default_rng(0), (4,), np.float32)
    x[1] = np.nan
    assert np.isnan(N(call(kind, T(x), T(t), "none"))[1])
    assert np.isnan(N(call(kind, T(x), T(t), "sum")))
    if kind not in ("kl_div", "kl_div_log_target"):  # their gradient does not depend on the input
        assert np.isnan(N(call_backward(kind, T(np.ones(4, np.float32)), T(x), T(t), "none"))[1])


def test_smooth_l1_beta_zero_is_l1(backend, rng):
    x, t = T(rng.standard_normal(9)), T(rng.standard_normal(9))
    np.testing.assert_array_equal(N(F.smooth_l1_loss(x, t, "none", beta=0.0)), N(F.l1_loss(x, t, "none")))


def test_functional_api(backend, rng):
    x = rng.standard_normal((4, 3))
    t = rng.standard_normal((4, 3))
    assert_close(N(F.mse_loss(T(x), T(t))), np.mean((x - t) ** 2), 1e-14, "mse_loss")
    lp = np.log(rng.uniform(0.1, 1, (4, 3)))
    p = rng.uniform(0, 1, (4, 3))
    assert_close(N(F.kl_div(T(lp), T(p), reduction="batchmean")), (p * (np.log(p) - lp)).sum() / 4, 1e-14, "kl batchmean")
    assert_close(N(F.kl_div(T(lp), T(np.log(p)), log_target=True, reduction="sum")), (p * (np.log(p) - lp)).sum(),
                 1e-13, "kl log_target")
    assert_close(N(F.l1_penalty(T(x), lam=0.5)), 0.5 * np.abs(x).sum(), 1e-14, "l1_penalty")
    assert_close(N(F.l2_penalty(T(x), lam=0.5)), 0.5 * (x * x).sum(), 1e-14, "l2_penalty")
    cos = (x * t).sum(1) / np.sqrt((x * x).sum(1) * (t * t).sum(1))
    assert_close(N(F.cosine_proximity_loss(T(x), T(t), reduction="none")), 1 - cos, 1e-14, "cosine proximity")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("l1", [True, False], ids=["l1", "l2"])
@pytest.mark.parametrize("shape", [(0,), (1,), (5, 7), (1031,)], ids=str)
def test_penalties(backend, rng, dtype, l1, shape):
    w = rng.standard_normal(shape).astype(dtype)
    w64 = w.astype(np.float64)
    lam = 0.3
    fwd, bwd = (_C.l1_penalty, _C.l1_penalty_backward) if l1 else (_C.l2_penalty, _C.l2_penalty_backward)
    per = np.abs(w64) if l1 else w64 * w64
    assert_close(N(wrap(fwd(T(w)._t, lam))), lam * per.sum(),
                 K * eps(dtype) * lam * per.sum() + acc_err(w.size) * lam * per.sum(), "penalty")
    ref = lam * (np.sign(w64) if l1 else 2 * w64)
    assert_close(N(wrap(bwd(T(w)._t, lam))), ref, K * eps(dtype) * np.abs(ref), "penalty gradient")


# ---------------------------------------------------------------------------
# weights, pos_weight and broadcast targets
# ---------------------------------------------------------------------------

def ref_pos_weight(x, t, pw):
    """BCE on logits with pos_weight: (loss, its magnitude, dloss/dx, the gradient's magnitude), float64."""
    x, t, pw = (a.astype(np.float64) for a in (x, t, pw))
    lw = 1 + (pw - 1) * t
    sp = np.logaddexp(0, -np.abs(x))
    sig = np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))
    loss = np.where(x > 0, (1 - t) * x, -pw * t * x) + lw * sp
    return (loss, np.abs((1 - t) * x) + np.abs(pw * t * x) + (np.abs(lw) + np.abs(pw * t) + 1) * (sp + 1),
            lw * sig - pw * t, np.abs(lw) + np.abs(pw * t) + 1)


def check_reduced(got, loss, mag, dtype, reduction, what):
    """got against per-element losses (with their terms' magnitudes) reduced by `reduction`."""
    if reduction == "none":
        assert_close(got, loss, K * eps(dtype) * mag, what)
        return
    n = loss.size if reduction == "mean" else 1
    assert_close(got, loss.sum() / n, (K * eps(dtype) * mag.sum() + acc_err(loss.size) * np.abs(loss).sum()) / n,
                 f"{what} {reduction}")


WEIGHT_SHAPES = [(), (5,), (4, 1), (4, 5)]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", ["binary_cross_entropy", "binary_cross_entropy_with_logits", "pos_weight"])
@pytest.mark.parametrize("wshape", WEIGHT_SHAPES, ids=str)
def test_bce_weights(backend, rng, dtype, reduction, kind, wshape):
    base = "binary_cross_entropy" if kind == "binary_cross_entropy" else "binary_cross_entropy_with_logits"
    x, t = sample(base, rng, (4, 5), dtype)
    w = rng.uniform(0, 2, wshape).astype(dtype)
    kw = {"weight": T(w)._t}
    if kind == "pos_weight":
        pw = rng.uniform(0.2, 4, (5,)).astype(dtype)
        kw["pos_weight"] = T(pw)._t
        loss, mag, grad, gmag = ref_pos_weight(x, t, pw)
    else:
        loss, mag, grad, gmag = ref_loss(base, x, t)
    w64 = np.broadcast_to(w.astype(np.float64), x.shape)
    loss, mag, grad, gmag = loss * w64, mag * w64 + np.abs(loss * w64), grad * w64, gmag * w64
    got = N(wrap(getattr(_C, base)(T(x)._t, T(t)._t, reduction, **kw)))
    check_reduced(got, loss, mag, dtype, reduction, kind)
    g = (rng.standard_normal(x.shape if reduction == "none" else ()) * 2).astype(dtype)
    dx = N(wrap(getattr(_C, base + "_backward")(T(g)._t, T(x)._t, T(t)._t, reduction, **kw)))
    scale = g.astype(np.float64) / (x.size if reduction == "mean" else 1)
    ref = grad * scale
    assert_close(dx, ref, K * eps(dtype) * (np.abs(ref) + np.abs(scale) * gmag), f"{kind} backward")


@pytest.mark.parametrize("kind", ["binary_cross_entropy", "binary_cross_entropy_with_logits", "pos_weight"])
def test_bce_weights_gradcheck(backend, rng, kind):
    base = "binary_cross_entropy" if kind == "binary_cross_entropy" else "binary_cross_entropy_with_logits"
    x, t = sample(base, rng, (3, 4), np.float64)
    kw = {"weight": T(rng.uniform(0.2, 2, (4,)))._t}
    if kind == "pos_weight":
        kw["pos_weight"] = T(rng.uniform(0.2, 4, (3, 1)))._t
    v = rng.standard_normal(x.shape)
    got = N(wrap(getattr(_C, base + "_backward")(T(v)._t, T(x)._t, T(t)._t, "none", **kw)))
    fd = numeric_grad(lambda z: float((N(wrap(getattr(_C, base)(T(z)._t, T(t)._t, "none", **kw))) * v).sum()), x)
    third = 2 / np.min(x * (1 - x)) ** 3 if kind == "binary_cross_entropy" else 1
    assert_close(got, fd, fd_tolerance(np.abs(v).sum() * 40, 1e-5, np.abs(v).sum() * 8 * third), f"{kind} gradcheck")


@pytest.mark.parametrize("dtype", FLOATS)
def test_pos_weight_extreme(backend, dtype):
    x = np.array([-1e30, -1e4, -100, -30, 0, 30, 100, 1e4, 1e30], dtype)
    t = np.linspace(0, 1, x.size).astype(dtype)
    pw = np.full(x.size, 3.0, dtype)
    got = N(wrap(_C.binary_cross_entropy_with_logits(T(x)._t, T(t)._t, "none", pos_weight=T(pw)._t)))
    loss, mag, grad, gmag = ref_pos_weight(x, t, pw)
    assert np.isfinite(got).all()
    assert_close(got, loss, K * eps(dtype) * mag, "pos_weight extreme")
    dx = N(wrap(_C.binary_cross_entropy_with_logits_backward(T(np.ones_like(x))._t, T(x)._t, T(t)._t, "none",
                                                             pos_weight=T(pw)._t)))
    assert_close(dx, grad, K * eps(dtype) * gmag, "pos_weight extreme backward")


BROADCAST = [((3, 4), (4,)), ((3, 4), (3, 1)), ((3, 4), (2, 3, 4)), ((4,), (3, 4)), ((3, 1), (1, 4)), ((5,), ())]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("kind", ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "kl_div",
                                  "kl_div_log_target"])
@pytest.mark.parametrize("xshape,tshape", BROADCAST, ids=str)
def test_broadcast_target(backend, rng, dtype, reduction, kind, xshape, tshape):
    x, _ = sample(kind, rng, xshape, dtype)
    _, t = sample(kind, rng, tshape, dtype)
    shape = np.broadcast_shapes(xshape, tshape)
    xb, tb = np.broadcast_to(x, shape), np.broadcast_to(t, shape)
    loss, mag, grad, gmag = ref_loss(kind, xb, tb, PARAM.get(kind, 1.0))
    if kind.startswith("kl_div"):
        got = N(call(kind, T(x), T(t), reduction))
    else:
        with pytest.warns(UserWarning, match=rf"\[{kind}\] using a target of shape .* broadcast"):
            got = N(call(kind, T(x), T(t), reduction))
    check_reduced(got, loss, mag, dtype, reduction, kind)
    g = rng.standard_normal(shape if reduction == "none" else ()).astype(dtype)
    dx = N(call_backward(kind, T(g), T(x), T(t), reduction))
    scale = g.astype(np.float64) / (loss.size if reduction == "mean" else 1)
    ref = grad * scale  # over the broadcast shape: autograd sums it to each operand's
    assert_close(dx, ref, K * eps(dtype) * (np.abs(scale) * gmag + np.abs(ref)), f"{kind} backward")


@pytest.mark.filterwarnings("ignore:.*broadcast:UserWarning")
@pytest.mark.parametrize("kind", ["mse_loss", "smooth_l1_loss", "kl_div"])
def test_broadcast_gradcheck(backend, rng, kind):
    x, _ = sample(kind, rng, (4,), np.float64)
    _, t = sample(kind, rng, (3, 4), np.float64)
    if kind == "smooth_l1_loss":
        x = np.array([-3.1, -0.35, 0.4, 2.9])  # |x - t| away from beta for these targets
        t = np.array([[0.0, 0.1, -0.2, 0.05], [0.2, -0.1, 0.1, 0.0], [-0.1, 0.0, 0.2, 0.1]])
    fd = numeric_grad(lambda z: float(N(call(kind, T(z), T(t), "mean"))), x)
    got = N(call_backward(kind, T(np.float64(1)), T(x), T(t), "mean")).sum(axis=0)  # (3, 4) -> x's (4,)
    assert_close(got, fd, fd_tolerance(10.0, 1e-5, 10.0), f"{kind} broadcast gradcheck")


def test_weighted_losses_match_torch(rng):
    torch = pytest.importorskip("torch")
    tf = torch.nn.functional
    x = rng.standard_normal((6, 5)) * 3
    t = rng.uniform(0, 1, (6, 5))
    w, pw = rng.uniform(0, 2, (6, 1)), rng.uniform(0.2, 4, 5)
    for reduction in REDUCTIONS:
        xt = torch.tensor(x, requires_grad=True)
        ref = tf.binary_cross_entropy_with_logits(xt, torch.tensor(t), weight=torch.tensor(w), reduction=reduction,
                                                  pos_weight=torch.tensor(pw))
        ref.backward(torch.ones_like(ref))
        got = F.binary_cross_entropy_with_logits(T(x), T(t), T(w), reduction, pos_weight=T(pw))
        np.testing.assert_allclose(N(got), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
        dx = _C.binary_cross_entropy_with_logits_backward(T(np.ones(ref.shape))._t, T(x)._t, T(t)._t, reduction,
                                                          T(w)._t, T(pw)._t)
        np.testing.assert_allclose(N(wrap(dx)), xt.grad.numpy(), rtol=1e-12, atol=1e-12)
        p = 1 / (1 + np.exp(-x))
        ref = tf.binary_cross_entropy(torch.tensor(p), torch.tensor(t), weight=torch.tensor(w), reduction=reduction)
        np.testing.assert_allclose(N(F.binary_cross_entropy(T(p), T(t), T(w), reduction)), ref.numpy(), rtol=1e-12,
                                   atol=1e-12)
        y = rng.integers(0, 5, 6)
        ref = tf.multi_margin_loss(torch.tensor(x), torch.tensor(y), p=2, margin=0.7, weight=torch.tensor(pw),
                                   reduction=reduction)
        got = F.multi_margin_loss(T(x), T(y), p=2, margin=0.7, weight=T(pw), reduction=reduction)
        np.testing.assert_allclose(N(got), ref.numpy(), rtol=1e-12, atol=1e-12)
        for name in ("mse_loss", "l1_loss", "huber_loss", "smooth_l1_loss"):
            a, b = rng.standard_normal((3, 1)), rng.standard_normal((4,))
            at = torch.tensor(a, requires_grad=True)
            with pytest.warns(UserWarning):
                ref = getattr(tf, name)(at, torch.tensor(b), reduction=reduction)
            ref.backward(torch.ones_like(ref))
            with pytest.warns(UserWarning):
                got = getattr(F, name)(T(a), T(b), reduction)
            np.testing.assert_allclose(N(got), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
            g = T(np.ones(ref.shape))
            dx = getattr(_C, name + "_backward")(g._t, T(a)._t, T(b)._t, reduction)
            np.testing.assert_allclose(N(wrap(dx)).sum(axis=1, keepdims=True), at.grad.numpy(), rtol=1e-12,
                                       atol=1e-12)


def test_weight_errors(backend):
    x = T(np.full((3, 4), 0.5, np.float32))
    with pytest.raises(ValueError, match=r"\[binary_cross_entropy\] expected weight broadcastable to the input's "
                                         r"shape \(3, 4\), got \(3,\)"):
        F.binary_cross_entropy(x, x, T(np.ones(3, np.float32)))
    with pytest.raises(ValueError, match=r"\[binary_cross_entropy_with_logits\] expected pos_weight broadcastable"):
        F.binary_cross_entropy_with_logits(x, x, pos_weight=T(np.ones((2, 3, 4), np.float32)))
    with pytest.raises(TypeError, match=r"\[binary_cross_entropy_with_logits\] expected weight of dtype float32 "
                                        r"\(the input's\), got float64"):
        F.binary_cross_entropy_with_logits(x, x, T(np.ones(4)))
    with pytest.raises(ValueError, match=r"\[multi_margin_loss\] expected weight of shape \(4,\) \(one per class\)"):
        F.multi_margin_loss(x, T(np.array([0, 1, 2])), weight=T(np.ones(3, np.float32)))


# ---------------------------------------------------------------------------
# multi-class hinge
# ---------------------------------------------------------------------------

def ref_margin(x, y, p, margin):
    """(loss per row, its terms' magnitude, dx, dx's magnitude per unit grad) in float64."""
    x = x.astype(np.float64).reshape(-1, x.shape[-1])
    y = y.reshape(-1)
    rows, C = x.shape
    xy = x[np.arange(rows), y][:, None]
    z = margin - xy + x
    other = np.ones_like(x, bool)
    other[np.arange(rows), y] = False
    h = np.where(other, np.maximum(z, 0), 0)
    s = np.abs(margin) + np.abs(xy) + np.abs(x)
    loss = (h ** p).sum(1) / C
    mag = (np.where(other & (z > 0), s * (2 * h if p == 2 else 1), 0)).sum(1) / C + np.abs(loss)
    d = np.where(other & (z > 0), 2 * h if p == 2 else 1.0, 0) / C
    dmag = np.where(other & (z > 0), 2 * (s + h) if p == 2 else 1.0, 0) / C
    d[np.arange(rows), y] = -d.sum(1)
    dmag[np.arange(rows), y] = dmag.sum(1)
    return loss, mag, d, dmag


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [1, 2])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("weighted", [False, True], ids=["", "weighted"])
@pytest.mark.parametrize("shape", [(5,), (0, 4), (1, 1), (7, 3), (6, 13), (3, 1100)], ids=str)
def test_multi_margin(backend, rng, dtype, p, reduction, weighted, shape):
    x = rng.standard_normal(shape).astype(dtype)
    y = rng.integers(0, shape[-1], shape[:-1])
    margin = 0.8
    w = rng.uniform(0, 3, shape[-1]).astype(dtype) if weighted else None
    got = N(F.multi_margin_loss(T(x), T(y), p=p, margin=margin, weight=None if w is None else T(w),
                                reduction=reduction))
    loss, mag, d, dmag = ref_margin(x, y, p, margin)
    if weighted:  # each row scaled by its label's class weight
        wy = w.astype(np.float64)[y.reshape(-1)]
        loss, mag, d, dmag = loss * wy, mag * wy + np.abs(loss * wy), d * wy[:, None], dmag * wy[:, None]
    bound = K * eps(dtype) * mag + acc_err(shape[-1]) * np.abs(loss)
    if reduction == "none":
        assert_close(got, loss.reshape(shape[:-1]), bound.reshape(shape[:-1]), "multi_margin")
    else:
        n = loss.size
        total, b = loss.sum(), bound.sum() + acc_err(n) * np.abs(loss).sum()
        if reduction == "mean":
            total, b = (total / n, b / n) if n else (np.nan, 0)
        assert_close(got, np.float64(total), b + K * eps(dtype) * abs(total), "multi_margin reduced")
    g = (rng.standard_normal(shape[:-1] if reduction == "none" else ()) + 2).astype(dtype)
    dx = N(wrap(_C.multi_margin_loss_backward(T(g)._t, T(x)._t, T(y)._t, p, margin, reduction,
                                              None if w is None else T(w)._t)))
    gs = g.astype(np.float64).reshape(-1, 1) if reduction == "none" else np.float64(g)
    if reduction == "mean" and loss.size:
        gs = gs / loss.size
    ref = (d * gs).reshape(shape)
    assert_close(dx, ref, K * eps(dtype) * (np.abs(ref) + (dmag * np.abs(gs)).reshape(shape)) +
                 acc_err(shape[-1]) * np.abs(ref), "multi_margin backward")


@pytest.mark.parametrize("p", [1, 2])
def test_multi_margin_gradcheck(backend, rng, p):
    # scores on a grid with no margin exactly at a kink
    x = rng.choice([-1.3, -0.45, 0.1, 0.65, 1.55], (4, 5)) + rng.uniform(-0.05, 0.05, (4, 5))
    y = rng.integers(0, 5, 4)
    v = rng.standard_normal(4)
    got = N(wrap(_C.multi_margin_loss_backward(T(v)._t, T(x)._t, T(y)._t, p, 1.0, "none")))
    fd = numeric_grad(lambda z: float((N(F.multi_margin_loss(T(z), T(y), p=p, reduction="none")) * v).sum()), x)
    assert_close(got, fd, fd_tolerance(np.abs(v).sum() * 10, 1e-5, 0), "multi_margin gradcheck")


def test_multi_margin_weighted_gradcheck(backend, rng):
    x = rng.choice([-1.3, -0.45, 0.1, 0.65, 1.55], (4, 5)) + rng.uniform(-0.05, 0.05, (4, 5))
    y = rng.integers(0, 5, 4)
    w = rng.uniform(0.2, 2, 5)
    v = rng.standard_normal(4)
    got = N(wrap(_C.multi_margin_loss_backward(T(v)._t, T(x)._t, T(y)._t, 2, 1.0, "none", T(w)._t)))
    fd = numeric_grad(lambda z: float((N(F.multi_margin_loss(T(z), T(y), p=2, weight=T(w), reduction="none")) * v)
                                      .sum()), x)
    assert_close(got, fd, fd_tolerance(np.abs(v).sum() * 20, 1e-5, 0), "weighted multi_margin gradcheck")


def test_multi_margin_nan(backend):
    x = np.array([[0.0, np.nan, 1.0], [1.0, 2.0, 3.0]], np.float32)
    got = N(F.multi_margin_loss(T(x), T(np.array([0, 2])), reduction="none"))
    assert np.isnan(got[0]) and np.isfinite(got[1])


# ---------------------------------------------------------------------------
# cosine similarity
# ---------------------------------------------------------------------------

def ref_cosine(a, b, eps_):
    a = a.astype(np.float64)
    b = b.astype(np.float64)
    ab, aa, bb = (a * b).sum(-1), (a * a).sum(-1), (b * b).sum(-1)
    na, nb = np.sqrt(aa), np.sqrt(bb)
    den = np.maximum(na, eps_) * np.maximum(nb, eps_)
    cos = ab / den
    spread = np.abs(a * b).sum(-1) / den  # the dot product's conditioning
    with np.errstate(all="ignore"):  # cos a / |a|^2 as (cos / |a|) (a / |a|): cos / |a|^2 may be subnormal
        sa = np.where(na > eps_, cos / na, 0)[..., None]
        sb = np.where(nb > eps_, cos / nb, 0)[..., None]
        ua = np.where(na[..., None] > eps_, a / na[..., None], 0)
        ub = np.where(nb[..., None] > eps_, b / nb[..., None], 0)
        ca = np.where(na > eps_, 1 / aa, 0)[..., None]
        cb = np.where(nb > eps_, 1 / bb, 0)[..., None]
    cross = (1 / den)[..., None]
    da, db = cross * b - sa * ua, cross * a - sb * ub
    dmag_a = cross * np.abs(b) + ca * np.abs(a) * (np.abs(cos) + spread)[..., None]
    dmag_b = cross * np.abs(a) + cb * np.abs(b) * (np.abs(cos) + spread)[..., None]
    return cos, spread, da, db, dmag_a, dmag_b


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape,dim", [((5,), 0), ((0, 3), 1), ((3, 0), 1), ((4, 7), 1), ((4, 7), 0), ((2, 3, 5), 1),
                                       ((3, 1100), -1), ((1, 1), 1)], ids=str)
def test_cosine_similarity(backend, rng, dtype, shape, dim):
    a = rng.standard_normal(shape).astype(dtype)
    b = rng.standard_normal(shape).astype(dtype)
    got = N(F.cosine_similarity(T(a), T(b), dim=dim))
    am, bm = np.moveaxis(a, dim, -1), np.moveaxis(b, dim, -1)
    cos, spread, da, db, ma, mb = ref_cosine(am, bm, 1e-8)
    n = shape[dim]
    assert_close(got, cos, K * eps(dtype) * (np.abs(cos) + spread) + acc_err(n) * spread, "cosine_similarity")
    g = rng.standard_normal(cos.shape).astype(dtype)
    ga, gb = _C.cosine_similarity_backward(T(g)._t, T(a)._t, T(b)._t, dim, 1e-8)
    g64 = g.astype(np.float64)[..., None]
    for got_d, ref_d, mag, what in ((ga, da, ma, "x1"), (gb, db, mb, "x2")):
        tol = (K * eps(dtype) + acc_err(n)) * np.abs(g64) * mag
        assert_close(N(wrap(got_d)), np.moveaxis(ref_d * g64, -1, dim), np.moveaxis(tol, -1, dim),
                     f"cosine_similarity backward {what}")


def test_cosine_zero_vectors(backend):
    a = T(np.zeros((2, 3)))
    b = T(np.array([[1.0, 2, 2], [0, 0, 0]]))
    np.testing.assert_array_equal(N(F.cosine_similarity(a, b)), [0, 0])
    ga, gb = _C.cosine_similarity_backward(T(np.ones(2))._t, a._t, b._t, 1, 1e-8)
    np.testing.assert_allclose(N(wrap(ga))[0], np.array([1, 2, 2]) / (1e-8 * 3), rtol=1e-15)
    np.testing.assert_array_equal(N(wrap(gb)), np.zeros((2, 3)))


def test_cosine_gradcheck(backend, rng):
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    v = rng.standard_normal(3)
    ga, gb = _C.cosine_similarity_backward(T(v)._t, T(a)._t, T(b)._t, 1, 1e-8)
    fda = numeric_grad(lambda z: float((N(F.cosine_similarity(T(z), T(b))) * v).sum()), a)
    fdb = numeric_grad(lambda z: float((N(F.cosine_similarity(T(a), T(z))) * v).sum()), b)
    scale = np.abs(v).sum() * 6 / min(np.linalg.norm(a, axis=1).min(), np.linalg.norm(b, axis=1).min()) ** 3
    assert_close(N(wrap(ga)), fda, fd_tolerance(np.abs(v).sum(), 1e-5, scale), "cosine gradcheck x1")
    assert_close(N(wrap(gb)), fdb, fd_tolerance(np.abs(v).sum(), 1e-5, scale), "cosine gradcheck x2")


# ---------------------------------------------------------------------------
# bad input
# ---------------------------------------------------------------------------

def test_errors(backend):
    x = T(np.zeros((3, 4), np.float32))
    with pytest.raises(ValueError, match=r"\[mse_loss\] shapes \(3, 4\) and \(3,\) cannot be broadcast together"):
        F.mse_loss(x, T(np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match=r"\[binary_cross_entropy_with_logits\] expected target of shape \(3, 4\) "
                                         r"\(the input's\), got \(4,\)"):
        F.binary_cross_entropy_with_logits(x, T(np.zeros(4, np.float32)))
    with pytest.raises(TypeError, match=r"\[l1_loss\] expected target of dtype float32 \(the input's\), got float64"):
        F.l1_loss(x, T(np.zeros((3, 4))))
    with pytest.raises(TypeError, match=r"\[huber_loss\] expected input of a floating dtype"):
        F.huber_loss(T(np.zeros(3, np.int64)), T(np.zeros(3, np.int64)))
    with pytest.raises(ValueError, match=r"\[huber_loss\] expected delta > 0, got 0"):
        F.huber_loss(x, x, delta=0.0)
    with pytest.raises(ValueError, match=r"\[smooth_l1_loss\] expected beta >= 0, got -1"):
        F.smooth_l1_loss(x, x, beta=-1.0)
    with pytest.raises(ValueError, match=r"\[binary_cross_entropy\] expected input probabilities in \[0, 1\]"):
        F.binary_cross_entropy(T(np.array([0.5, 1.5], np.float32)), T(np.zeros(2, np.float32)))
    with pytest.raises(ValueError, match=r"\[mse_loss\] reduction must be 'mean', 'sum' or 'none', got 'avg'"):
        F.mse_loss(x, x, reduction="avg")
    with pytest.raises(ValueError, match=r"\[mse_loss\] expected grad of shape \(\) \(reduction 'mean'\), got \(3, 4\)"):
        _C.mse_loss_backward(x._t, x._t, x._t, "mean")
    with pytest.raises(TypeError, match=r"\[kl_div\] expected grad of dtype float32 \(the input's\), got float64"):
        _C.kl_div_backward(T(np.float64(1))._t, x._t, x._t, "sum")
    with pytest.raises(IndexError, match=r"\[multi_margin_loss\] target 4 is out of bounds for 4 classes "
                                          r"\(expected 0 <= target < 4\)"):
        F.multi_margin_loss(x, T(np.array([0, 4, 1])))
    with pytest.raises(ValueError, match=r"\[multi_margin_loss\] expected p of 1 or 2, got 3"):
        F.multi_margin_loss(x, T(np.array([0, 1, 1])), p=3)
    with pytest.raises(ValueError, match=r"\[multi_margin_loss\] expected target of shape \(3,\), got \(3, 1\)"):
        F.multi_margin_loss(x, T(np.zeros((3, 1), np.int64)))
    with pytest.raises(TypeError, match=r"\[multi_margin_loss\] expected integer class labels"):
        F.multi_margin_loss(x, T(np.zeros(3, np.float32)))
    with pytest.raises(ValueError, match=r"\[multi_margin_loss\] expected input of shape \(C,\) or \(N, C\)"):
        F.multi_margin_loss(T(np.zeros((2, 3, 4), np.float32)), T(np.zeros(2, np.int64)))
    with pytest.raises(ValueError, match=r"\[cosine_similarity\] expected x2 of shape \(3, 4\) \(the x1's\), got \(4,\)"):
        F.cosine_similarity(x, T(np.zeros(4, np.float32)))
    with pytest.raises(IndexError, match=r"\[cosine_similarity\] dim 2 is out of range"):
        F.cosine_similarity(x, x, dim=2)
    with pytest.raises(TypeError, match=r"\[l2_penalty\] expected weight of a floating dtype"):
        F.l2_penalty(T(np.zeros(3, np.int32)))


def test_device_mismatch():
    if "cuda" not in backends.NAMES:
        pytest.skip("no cuda device")
    import dlcore
    a = dlcore.from_numpy(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"\[mse_loss\] expected tensors on one device, got cpu and cuda"):
        F.mse_loss(a, a.to("cuda"))
