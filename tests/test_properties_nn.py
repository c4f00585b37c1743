"""Property-based tests (hypothesis) of the network kernels, on the CPU and on the cuda device:
convolution, pooling, the losses, normalization, the fused optimizer steps, the activations and
dropout. As in test_properties.py: random shapes (0 and 1 sizes, primes), random strided views
where an op accepts them, float32 and float64, values with +-0, subnormals, +-inf, NaN and huge
magnitudes where the op gives them a meaning; the property is agreement with the NumPy float64
references of each family's test module (imported from there), with NaN and inf where the
reference has them and finite values within the tolerance that module derives from the
arithmetic. The cuda device is usually the SIMT emulator, much slower than the CPU: shapes stay
small and each property runs a few dozen examples. A shrunk counterexample that revealed a bug is
kept as an @example.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import dlcore.functional as F
from dlcore import _C
from checks import K, acc_err, assert_close, eps, tiny, wrap
from test_activation import ACTS, DIFFERENTIABLE, READS_OUTPUT, tolerance as act_tolerance
from test_activation import backward as act_backward, forward as act_forward
from test_conv import ref_conv2d
from test_dropout import reference as dropout_reference
from test_loss import PARAM, call as loss_call, call_backward as loss_call_backward, ref_cosine, ref_loss, ref_margin
from test_norm import channel_view, ref_backward, ref_layer_norm, ref_stats, stat_err
from test_optim import CONFIGS, call as optim_call, config_id, ref_step, state_names
from test_pool import ref_pool
from test_properties import DEVICES, DTYPES, on, same
from test_softmax import flat_scores, unflat, weighted_ce_reference

# derandomize: CI runs the same examples every time (see test_properties.py).
SETTINGS = settings(max_examples=25, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
SMALLEST = {np.float32: float(np.finfo(np.float32).smallest_subnormal),
            np.float64: float(np.finfo(np.float64).smallest_subnormal)}


def values(dtype, finite_max=None, special=True):
    """Elements: finite values (up to finite_max in magnitude, subnormals and +-0 included) and, when
    `special`, +-inf and NaN."""
    width = 32 if dtype == np.float32 else 64
    if finite_max is not None:  # the largest value of the dtype not above finite_max
        m = dtype(finite_max)
        finite_max = float(m if m <= finite_max else np.nextafter(m, dtype(0)))
    finite = st.floats(width=width, allow_nan=False, allow_infinity=False, allow_subnormal=True,
                       min_value=None if finite_max is None else -finite_max, max_value=finite_max)
    return st.one_of(finite, st.sampled_from([np.inf, -np.inf, np.nan])) if special else finite


def draw_array(data, dtype, shape, finite_max=None, special=True):
    return data.draw(hnp.arrays(dtype, shape, elements=values(dtype, finite_max, special)))


def draw_view(data, device, a):
    """A tensor on `device` holding a's values: contiguous, every other element of a wider buffer
    along the last dim, or the transpose of a transposed copy (the last two dims swapped)."""
    kind = data.draw(st.sampled_from(["contiguous", "strided", "transposed"] if a.ndim >= 2 else
                                     ["contiguous", "strided"] if a.ndim == 1 else ["contiguous"]))
    if kind == "contiguous":
        return on(device, a)
    if kind == "strided":
        base = np.zeros(a.shape[:-1] + (2 * a.shape[-1],), a.dtype)
        base[..., ::2] = a
        t = on(device, base)[(slice(None),) * (a.ndim - 1) + (slice(None, None, 2),)]
    else:
        t = on(device, np.ascontiguousarray(np.swapaxes(a, -1, -2))).transpose(a.ndim - 2, a.ndim - 1)
    assert t.shape == a.shape and (a.size <= 1 or not t.is_contiguous() or min(a.shape[-2:]) <= 1)
    return t


def numpy_of(t):
    return t.cpu().numpy()


# ---------------------------------------------------------------------------
# convolution
# ---------------------------------------------------------------------------

@st.composite
def conv_problems(draw, dims):
    """(x shape, w shape, stride, padding, dilation, groups) of a conv1d (dims 1: height 1) or conv2d."""
    groups = draw(st.integers(1, 3))
    n, cg, ocg = draw(st.integers(0, 3)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    k = (1,) * (2 - dims) + tuple(draw(st.integers(1, 3)) for _ in range(dims))
    d = (1,) * (2 - dims) + tuple(draw(st.integers(1, 2)) for _ in range(dims))
    padding = draw(st.sampled_from(["same", "valid", "int"]))
    s = (1,) * (2 - dims) + (tuple(draw(st.integers(1, 3)) for _ in range(dims)) if padding != "same" else (1,) * dims)
    p = (0,) * (2 - dims) + tuple(draw(st.integers(0, 2)) for _ in range(dims)) if padding == "int" else padding
    pads = p if padding == "int" else (0, 0)
    sizes = tuple(max(1, d[i] * (k[i] - 1) + 1 - 2 * pads[i]) + draw(st.integers(0, 5)) if i >= 2 - dims else 1
                  for i in range(2))
    return (n, cg * groups) + sizes, (ocg * groups, cg) + k, s, p, d, groups


def conv_call(dims, fn, *args, s, p, d, groups):
    """F.conv{dims}d{fn} with the problem's 2-D parameters cut to `dims`."""
    cut = (lambda v: v[1:]) if dims == 1 else (lambda v: v)
    kw = dict(stride=cut(s), padding=p if isinstance(p, str) else cut(p), dilation=cut(d), groups=groups)
    return getattr(F, f"conv{dims}d{fn}")(*args, **kw)


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dims", [1, 2])
@SETTINGS
@given(dtype=DTYPES, special=st.booleans(), data=st.data())
def test_conv(device, dims, dtype, special, data):
    xs, ws, s, p, d, groups = data.draw(conv_problems(dims))
    # Weights finite: an infinite weight times the zero padding is NaN in the reference, and a
    # convolution that skips the padding taps is as right. Magnitudes up to 1e3 keep every sum of
    # products (at most 27 of them) far from overflow.
    x = draw_array(data, dtype, xs, 1e3, special)
    w = draw_array(data, dtype, ws, 1e3, False)
    b = draw_array(data, dtype, ws[:1], 1e3, False)
    squeeze = (lambda a: a[:, :, 0]) if dims == 1 else (lambda a: a)  # conv1d: a conv2d of height 1
    xt, wt = draw_view(data, device, squeeze(x)), on(device, squeeze(w))
    y = numpy_of(conv_call(dims, "", xt, wt, on(device, b), s=s, p=p, d=d, groups=groups))
    with np.errstate(invalid="ignore", over="ignore"):
        ref, grads = ref_conv2d(x, w, b, s, p, d, groups)
        bound, bound_grads = ref_conv2d(np.abs(x), np.abs(w), np.abs(b), s, p, d, groups)
    # A sum of T products and the bias, accumulated in the dtype in any order: each product and each
    # partial sum rounds once (2 (T + 2) eps of the sum of magnitudes, as test_properties'
    # matmul), and a product in the subnormal range is off by up to one subnormal spacing.
    taps = ws[1] * ws[2] * ws[3]
    assert y.dtype == dtype
    assert_close(y, squeeze(ref), 2 * (taps + 2) * eps(dtype) * squeeze(bound) + (taps + 1) * SMALLEST[dtype], "conv")
    if special:
        return
    dy = draw_array(data, dtype, ref.shape, 1e3, False)
    dyt = squeeze(dy)
    dx = numpy_of(conv_call(dims, "_backward_input", draw_view(data, device, dyt), wt, xs[:2] + xs[4 - dims:],
                            s=s, p=p, d=d, groups=groups))
    dw = numpy_of(conv_call(dims, "_backward_weight", on(device, dyt), xt, ws[:2] + ws[4 - dims:],
                            s=s, p=p, d=d, groups=groups))
    dx_ref, dw_ref = grads(dy.astype(np.float64))
    dx_bound, dw_bound = bound_grads(np.abs(dy.astype(np.float64)))
    terms_dx = ws[0] // groups * ws[2] * ws[3]
    terms_dw = ref.shape[0] * ref.shape[2] * ref.shape[3]
    assert_close(dx, squeeze(dx_ref), 2 * (terms_dx + 2) * eps(dtype) * squeeze(dx_bound) + terms_dx * SMALLEST[dtype],
                 "conv backward input")
    assert_close(dw, squeeze(dw_ref), 2 * (terms_dw + 2) * eps(dtype) * squeeze(dw_bound) + terms_dw * SMALLEST[dtype],
                 "conv backward weight")


# ---------------------------------------------------------------------------
# pooling
# ---------------------------------------------------------------------------

@st.composite
def pool_problems(draw, with_dilation):
    """(input shape, kernel, stride, padding, dilation, ceil_mode): 3-D or 4-D input at least as
    large as the dilated kernel, padding at most half the kernel."""
    k = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = tuple(draw(st.integers(0, ki // 2)) for ki in k)
    d = (draw(st.integers(1, 2)), draw(st.integers(1, 2))) if with_dilation else (1, 1)
    hw = tuple(d[i] * (k[i] - 1) + 1 + draw(st.integers(0, 5)) for i in range(2))
    lead = draw(st.sampled_from([(), (1,), (2,), (0,)]))
    c = draw(st.integers(1, 3))
    return lead + (c,) + hw, k, s, p, d, draw(st.booleans())


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(dtype=DTYPES, problem=pool_problems(True), data=st.data())
def test_max_pool(device, dtype, problem, data):
    shape, k, s, p, d, ceil = problem
    x = draw_array(data, dtype, shape)
    out, idx = F.max_pool2d(draw_view(data, device, x), k, s, p, d, ceil, return_indices=True)
    ref, ref_idx, backward = ref_pool(x, "max", k, s, p, d, ceil)
    # The maximum is one of the inputs, NaN first: exact, and the index of its first occurrence.
    same(numpy_of(out), ref.astype(dtype), signed_zeros=False)
    np.testing.assert_array_equal(numpy_of(idx), ref_idx)
    dy = draw_array(data, dtype, ref.shape, special=False)
    dx = numpy_of(F.max_pool2d_backward(on(device, dy), idx, shape, k, s, p, d, ceil))
    # Overlapping windows add up to kh kw gradients at one input: that many roundings.
    terms = k[0] * k[1]
    with np.errstate(over="ignore", invalid="ignore"):
        ref_dx, bound = backward(dy.astype(np.float64)), backward(np.abs(dy.astype(np.float64)))
    assert_close(dx, ref_dx.astype(dtype), terms * eps(dtype) * bound, "max_pool2d backward")


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(dtype=DTYPES, problem=pool_problems(False), include_pad=st.booleans(), data=st.data())
def test_avg_pool(device, dtype, problem, include_pad, data):
    shape, k, s, p, _, ceil = problem
    # Huge values up to max / 16: a window's sum of at most 9 of them stays finite in the dtype.
    x = draw_array(data, dtype, shape, float(np.finfo(dtype).max) / 16)
    out = numpy_of(F.avg_pool2d(draw_view(data, device, x), k, s, p, ceil, include_pad))
    with np.errstate(over="ignore", invalid="ignore"):
        ref, _, backward = ref_pool(x, "avg", k, s, p, ceil=ceil, include_pad=include_pad)
        bound = ref_pool(np.abs(x), "avg", k, s, p, ceil=ceil, include_pad=include_pad)[0]
    # A sum of at most kh kw terms and one division, each rounding once.
    terms = k[0] * k[1]
    assert_close(out, ref, (terms + 2) * eps(dtype) * bound + terms * SMALLEST[dtype], "avg_pool2d")
    dy = draw_array(data, dtype, ref.shape, 1e30, special=False)
    dx = numpy_of(F.avg_pool2d_backward(on(device, dy), shape, k, s, p, ceil, include_pad))
    ref_dx, bound = backward(dy.astype(np.float64)), backward(np.abs(dy.astype(np.float64)))
    assert_close(dx, ref_dx, (terms + 2) * eps(dtype) * bound + terms * SMALLEST[dtype], "avg_pool2d backward")


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(dtype=DTYPES, data=st.data())
def test_adaptive_avg_pool(device, dtype, data):
    shape = data.draw(st.sampled_from([(), (1,), (2,), (0,)])) + tuple(data.draw(st.integers(1, 7)) for _ in range(3))
    size = (data.draw(st.integers(1, 5)), data.draw(st.integers(1, 5)))
    x = draw_array(data, dtype, shape, float(np.finfo(dtype).max) / 64)
    out = numpy_of(F.adaptive_avg_pool2d(draw_view(data, device, x), size))
    with np.errstate(over="ignore", invalid="ignore"):
        ref, _, backward = ref_pool(x, "avg", None, None, None, adaptive=size)
        bound = ref_pool(np.abs(x), "avg", None, None, None, adaptive=size)[0]
    # A window spans at most ceil(H / OH) + 1 rows and as many columns: at most 64 terms here.
    terms = (-(-shape[-2] // size[0]) + 1) * (-(-shape[-1] // size[1]) + 1)
    assert_close(out, ref, (terms + 2) * eps(dtype) * bound + terms * SMALLEST[dtype], "adaptive_avg_pool2d")
    dy = draw_array(data, dtype, ref.shape, 1e30, special=False)
    dx = numpy_of(F.adaptive_avg_pool2d_backward(on(device, dy), shape))
    ref_dx, bound = backward(dy.astype(np.float64)), backward(np.abs(dy.astype(np.float64)))
    assert_close(dx, ref_dx, (terms + 2) * eps(dtype) * bound + terms * SMALLEST[dtype], "adaptive_avg_pool2d backward")


# ---------------------------------------------------------------------------
# losses
# ---------------------------------------------------------------------------

REDUCTIONS = st.sampled_from(["none", "sum", "mean"])
ELEMENTWISE = ["mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
               "binary_cross_entropy_with_logits", "kl_div", "kl_div_log_target"]


def loss_operands(data, kind, dtype, shape):
    """An input and a target in the loss's domain. Finite values stay below max / 8, so that x - t and
    2 (x - t) cannot overflow where the reference's do not."""
    big = float(np.finfo(dtype).max) / 8
    unit = st.floats(0, 1, width=32 if dtype == np.float32 else 64, allow_subnormal=True)
    probabilities = lambda: data.draw(hnp.arrays(dtype, shape, elements=unit))  # noqa: E731
    if kind == "binary_cross_entropy":
        return probabilities(), probabilities()
    if kind == "binary_cross_entropy_with_logits":
        # finite logits: at x = +-inf NumPy's max(x, 0) - x t is inf - inf, where the loss's limit is inf or 0
        return draw_array(data, dtype, shape, big, special=False), probabilities()
    if kind == "kl_div":
        return draw_array(data, dtype, shape, big), probabilities()
    if kind == "kl_div_log_target":
        # finite inputs: an infinite one meets a target whose e^t underflows (below)
        return draw_array(data, dtype, shape, big, special=False), draw_array(data, dtype, shape, big)
    return draw_array(data, dtype, shape, big), draw_array(data, dtype, shape, big)


def check_reduced(got, per, tol, dtype, reduction, what):
    """got against per-element losses `per` (already rounded to the dtype, as the kernel's are
    before the float64 reduction) with per-element tolerances."""
    if reduction == "none":
        assert_close(got, per, tol, what)
        return
    n = per.size if reduction == "mean" else 1
    with np.errstate(all="ignore"):
        total = per.sum() / n if per.size or reduction == "sum" else np.float64(np.nan)
        bound = (tol.sum() + acc_err(per.size) * np.abs(per).sum()) / max(n, 1) + eps(dtype) * abs(total)
        total = np.float64(dtype(total))  # the float64 sum rounds once to the dtype, to inf beyond its range
    assert_close(got, total, bound, f"{what} {reduction}")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("kind", ELEMENTWISE)
@SETTINGS
@given(dtype=DTYPES, reduction=REDUCTIONS, data=st.data())
def test_elementwise_losses(device, kind, dtype, reduction, data):
    shape = tuple(data.draw(st.lists(st.integers(0, 7), max_size=3)))
    x, t = loss_operands(data, kind, dtype, shape)
    a = PARAM.get(kind, 1.0)
    with np.errstate(all="ignore"):
        loss, mag, grad, gmag = ref_loss(kind, x, t, a)
        per = loss.astype(dtype).astype(np.float64)  # an element's loss overflows as the dtype's does
    got = numpy_of(loss_call(kind, draw_view(data, device, x), draw_view(data, device, t), reduction))
    assert got.dtype == dtype
    check_reduced(got, per, K * eps(dtype) * mag + K * tiny(dtype), dtype, reduction, kind)
    g = draw_array(data, dtype, shape if reduction == "none" else (), 1e3, special=False)
    dx = numpy_of(loss_call_backward(kind, on(device, g), draw_view(data, device, x), on(device, t), reduction))
    scale = g.astype(np.float64) / (x.size if reduction == "mean" and x.size else 1)
    with np.errstate(all="ignore"):
        ref = (grad * scale).astype(dtype)
        tol = K * eps(dtype) * (np.abs(grad * scale) + np.abs(scale) * gmag) + K * tiny(dtype)
    assert_close(dx, ref, tol, f"{kind} backward")


def class_weights(data, dtype, c):
    """Class weights in [0, 3], 0 included, no subnormals: a mean divides by the labels' total weight, and a
    subnormal total would magnify the absolute rounding of subnormal products beyond any relative bound."""
    return data.draw(hnp.arrays(dtype, (c,), elements=st.floats(0, 3, width=32 if dtype == np.float32 else 64,
                                                                 allow_subnormal=False)))


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.xfail(strict=True, reason="kl_div with log_target forms e^t (t - x): for a float32 target t = -104 "
                                       "e^t underflows to 0, and at x = -inf (input probability 0) the loss is "
                                       "0 * inf = NaN where it is +inf (e^-104 > 0: the divergence is infinite); "
                                       "PyTorch's kl_div gives the same NaN")
def test_kl_div_log_target_of_a_zero_input_probability(device):
    x, t = np.array([-np.inf], np.float32), np.array([-104.0], np.float32)
    got = numpy_of(loss_call("kl_div_log_target", on(device, x), on(device, t), "none"))
    np.testing.assert_array_equal(got, [np.inf])


@st.composite
def scores_and_targets(draw, dtype, soft):
    """(scores (N, C) or (N, C, d), target, ignore_index): labels (some equal to ignore_index, which
    may also be a class) or probabilities (not normalized: PyTorch's gradient is p sum(q) - q)."""
    n, c = draw(st.integers(0, 5)), draw(st.integers(1, 7))
    shape = (n, c) + draw(st.sampled_from([(), (1,), (3,)]))
    x = draw(hnp.arrays(dtype, shape, elements=values(dtype, 1e30, special=False)))
    ignore = draw(st.sampled_from([-100, draw(st.integers(0, c - 1))]))
    if soft:
        t = draw(hnp.arrays(dtype, shape, elements=st.floats(0, 1, width=32 if dtype == np.float32 else 64)))
    else:
        t = draw(hnp.arrays(np.int64, (n,) + shape[2:], elements=st.sampled_from(list(range(c)) + [ignore])))
    return x, t, ignore


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("soft", [False, True], ids=["labels", "probabilities"])
@SETTINGS
@given(dtype=DTYPES, reduction=REDUCTIONS, weighted=st.booleans(), data=st.data())
def test_cross_entropy(device, soft, dtype, reduction, weighted, data):
    x, target, ignore = data.draw(scores_and_targets(dtype, soft))
    c = x.shape[1]
    smoothing = data.draw(st.sampled_from([0.0, 0.1, 1.0]))
    w = class_weights(data, dtype, c) if weighted else None
    args = (reduction, smoothing, ignore) + (() if w is None else (on(device, w)._t,))
    loss, stats = _C.cross_entropy(draw_view(data, device, x)._t, on(device, target)._t, *args)
    xf = flat_scores(x)
    tf = flat_scores(target) if soft else target.reshape(-1)
    per, grad, row_w, scale = weighted_ce_reference(xf, tf, np.ones(c) if w is None else w, smoothing, not soft,
                                                    ignore_index=ignore)
    sample_shape = (x.shape[0],) + x.shape[2:]
    tol = K * eps(dtype) * scale + acc_err(c) * np.abs(per) + K * tiny(dtype)
    if reduction == "none":
        assert_close(numpy_of(wrap(loss)), per.reshape(sample_shape), tol.reshape(sample_shape), "cross_entropy")
        g = draw_array(data, dtype, sample_shape, 1e3, special=False)
        gr = g.astype(np.float64).reshape(-1, 1)
    else:
        denom = row_w.sum() if reduction == "mean" else 1.0
        with np.errstate(all="ignore"):
            ref = per.sum() / denom
            bound = (tol.sum() + acc_err(per.size) * np.abs(per).sum()) / abs(denom) + K * eps(dtype) * abs(ref)
            g = draw_array(data, dtype, (), 1e3, special=False)
            gr = np.float64(g) / denom
        assert_close(numpy_of(wrap(loss)), np.float64(dtype(ref)), bound, f"cross_entropy {reduction}")
    dx = numpy_of(wrap(_C.cross_entropy_backward(on(device, g)._t, on(device, x)._t, on(device, target)._t, stats,
                                                 *args)))
    wmax = 1.0 if w is None else float(np.max(w, initial=0))
    kept = np.ones(xf.shape[0], bool) if soft else tf != ignore
    with np.errstate(invalid="ignore"):
        ref_dx = np.where(kept[:, None], grad * gr, 0.0)  # an ignored row's gradient is 0, even when the mean is 0 / 0
        tol_dx = K * eps(dtype) * np.abs(gr) * (np.abs(grad) + wmax * (2 + np.abs(xf).clip(0, 50))) + K * tiny(dtype)
    assert_close(dx, unflat(ref_dx, x.shape), unflat(tol_dx, x.shape), "cross_entropy backward")


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(dtype=DTYPES, reduction=REDUCTIONS, weighted=st.booleans(), data=st.data())
def test_nll_loss(device, dtype, reduction, weighted, data):
    x, y, ignore = data.draw(scores_and_targets(dtype, False))
    x = draw_array(data, dtype, x.shape)  # log-probabilities of any value: NLL only reads them
    c = x.shape[1]
    w = class_weights(data, dtype, c) if weighted else None
    got = numpy_of(F.nll_loss(draw_view(data, device, x), on(device, y), None if w is None else on(device, w),
                              ignore_index=ignore, reduction=reduction))
    with np.errstate(all="ignore"):  # -w x overflows for huge x, in the reference as in the dtype
        per, grad, row_w, _ = weighted_ce_reference(flat_scores(x), y.reshape(-1), np.ones(c) if w is None else w,
                                                    0.0, True, ignore_index=ignore, log_probs=True)
        per = per.astype(dtype).astype(np.float64)
    # one product -w[y] x[y] per sample, rounded once
    tol = K * eps(dtype) * np.abs(per) + K * tiny(dtype)
    if reduction == "none":
        assert_close(got, per.reshape(y.shape), tol.reshape(y.shape), "nll_loss")
    else:
        denom = row_w.sum() if reduction == "mean" else 1.0
        with np.errstate(all="ignore"):
            ref = per.sum() / denom
            bound = (tol.sum() + acc_err(per.size) * np.abs(per).sum()) / abs(denom) + K * eps(dtype) * abs(ref)
        assert_close(got, np.float64(dtype(ref)), bound, f"nll_loss {reduction}")
    g = draw_array(data, dtype, y.shape if reduction == "none" else (), 1e3, special=False)
    dx = numpy_of(wrap(_C.nll_loss_backward(on(device, g)._t, on(device, x)._t, on(device, y)._t, reduction, ignore,
                                            None if w is None else on(device, w)._t)))
    with np.errstate(all="ignore"):
        gr = g.astype(np.float64).reshape(-1, 1) if reduction == "none" else \
            np.float64(g) / (row_w.sum() if reduction == "mean" else 1.0)
        ref_dx = np.where((y.reshape(-1) != ignore)[:, None], grad * gr, 0.0)  # ignored rows: 0, even for 0 / 0
    assert_close(dx, unflat(ref_dx, x.shape), K * eps(dtype) * np.abs(unflat(ref_dx, x.shape)) + K * tiny(dtype),
                 "nll_loss backward")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("p", [1, 2], ids=["hinge", "squared_hinge"])
@SETTINGS
@given(dtype=DTYPES, reduction=REDUCTIONS, weighted=st.booleans(), data=st.data())
def test_multi_margin_loss(device, p, dtype, reduction, weighted, data):
    shape = data.draw(st.sampled_from([(), (0,), (1,), (2,), (5,)])) + (data.draw(st.integers(1, 7)),)
    x = draw_array(data, dtype, shape, 1e6, special=False)
    y = data.draw(hnp.arrays(np.int64, shape[:-1], elements=st.integers(0, shape[-1] - 1)))
    margin = data.draw(st.sampled_from([0.0, 0.8, 1.0, 3.5]))
    w = class_weights(data, dtype, shape[-1]) if weighted else None
    wt = None if w is None else on(device, w)
    got = numpy_of(F.multi_margin_loss(draw_view(data, device, x), on(device, y), p=p, margin=margin, weight=wt,
                                       reduction=reduction))
    loss, mag, d, dmag = ref_margin(x, y, p, margin)
    if weighted:  # each row scaled by its label's class weight
        wy = w.astype(np.float64)[y.reshape(-1)]
        loss, mag, d, dmag = loss * wy, mag * wy + np.abs(loss * wy), d * wy[:, None], dmag * wy[:, None]
    bound = K * eps(dtype) * mag + acc_err(shape[-1]) * np.abs(loss) + K * tiny(dtype)
    check_reduced(got, loss.reshape(shape[:-1]), bound.reshape(shape[:-1]), dtype, reduction, "multi_margin_loss")
    g = draw_array(data, dtype, shape[:-1] if reduction == "none" else (), 1e3, special=False)
    dx = numpy_of(wrap(_C.multi_margin_loss_backward(on(device, g)._t, on(device, x)._t, on(device, y)._t, p, margin,
                                                     reduction, None if wt is None else wt._t)))
    gs = g.astype(np.float64).reshape(-1, 1) if reduction == "none" else np.float64(g)
    if reduction == "mean" and loss.size:
        gs = gs / loss.size
    ref = (d * gs).reshape(shape)
    assert_close(dx, ref, K * eps(dtype) * (np.abs(ref) + (dmag * np.abs(gs)).reshape(shape)) +
                 acc_err(shape[-1]) * np.abs(ref) + K * tiny(dtype), "multi_margin_loss backward")


@pytest.mark.parametrize("device", DEVICES)
@SETTINGS
@given(dtype=DTYPES, data=st.data())
# data=None: the case below. Its g cos / |b|^2 = 2e-40 was rounded to a float32 subnormal before it
# scaled b, so d cos / d b lost 17 ulps.
@example(dtype=np.float32, data=None)
def test_cosine_similarity(device, dtype, data):
    if data is None:
        shape, dim = (2,), 0
        a, b, g = np.array([1, 0], dtype), np.array([1, 1.699378e13], dtype), np.array(1, dtype)
    else:
        shape = tuple(data.draw(st.lists(st.integers(0, 6), min_size=1, max_size=3)))
        dim = data.draw(st.integers(-len(shape), len(shape) - 1))
        # up to 1e15: the float64 sums of squares stay finite for both dtypes
        a, b = (draw_array(data, dtype, shape, 1e15, special=False) for _ in range(2))
    view = (lambda v: on(device, v)) if data is None else (lambda v: draw_view(data, device, v))
    got = numpy_of(F.cosine_similarity(view(a), view(b), dim=dim))
    with np.errstate(all="ignore"):
        cos, spread, da, db, ma, mb = ref_cosine(np.moveaxis(a, dim, -1), np.moveaxis(b, dim, -1), 1e-8)
    n = shape[dim]
    assert_close(got, cos, K * eps(dtype) * (np.abs(cos) + spread) + acc_err(n) * spread + K * tiny(dtype),
                 "cosine_similarity")
    if data is not None:
        g = draw_array(data, dtype, cos.shape, 1e3, special=False)
    ga, gb = _C.cosine_similarity_backward(on(device, g)._t, on(device, a)._t, on(device, b)._t, dim, 1e-8)
    g64 = g.astype(np.float64)[..., None]
    for got_d, ref_d, mag, what in ((ga, da, ma, "x1"), (gb, db, mb, "x2")):
        tol = (K * eps(dtype) + acc_err(n)) * np.abs(g64) * mag + K * tiny(dtype)
        assert_close(numpy_of(wrap(got_d)), np.moveaxis(ref_d * g64, -1, dim), np.moveaxis(tol, -1, dim),
                     f"cosine_similarity backward {what}")


# ---------------------------------------------------------------------------
# normalization
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
# the references divide by the batch size, 0 for an empty batch in eval mode
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning", "ignore:divide by zero:RuntimeWarning")
@SETTINGS
@given(dtype=DTYPES, training=st.booleans(), affine=st.booleans(), data=st.data())
def test_batch_norm(device, dtype, training, affine, data):
    c = data.draw(st.integers(1, 4))
    shape = (data.draw(st.integers(2 if training else 0, 5)), c) + data.draw(st.sampled_from([(), (1, 1), (2, 3), (3,)]))
    # finite values up to 1e4 (subnormals, +-0 and constant channels included): NaN and inf would only
    # poison whole channels
    x = draw_array(data, dtype, shape, 1e4, special=False)
    w, b = (draw_array(data, dtype, (c,), 1e2, special=False) if affine else None for _ in range(2))
    rm0 = draw_array(data, dtype, (c,), 1e4, special=False)
    rv0 = np.abs(draw_array(data, dtype, (c,), 1e4, special=False))
    rm, rv = on(device, rm0), on(device, rv0)
    y, mean, invstd = _C.batch_norm(draw_view(data, device, x)._t, rm._t, rv._t, None if w is None else on(device, w)._t,
                                    None if b is None else on(device, b)._t, training, 0.1, 1e-5)
    axes = (0,) + tuple(range(2, len(shape)))
    if training:
        mu, var = ref_stats(x, axes)
    else:
        mu, var = channel_view(rm0.astype(np.float64), len(shape)), channel_view(rv0.astype(np.float64), len(shape))
    inv = 1 / np.sqrt(var + 1e-5)
    xhat = (x.astype(np.float64) - mu) * inv
    wv = channel_view(w.astype(np.float64), len(shape)) if affine else 1.0
    bv = channel_view(b.astype(np.float64), len(shape)) if affine else 0.0
    ref = xhat * wv + bv
    xerr = stat_err(x, xhat, inv, axes) if training else 0  # (test_norm.py's bounds)
    tol = K * eps(dtype) * ((1 + np.abs(xhat)) * np.abs(wv) + np.abs(ref) + np.abs(bv)) + xerr * np.abs(wv)
    assert_close(numpy_of(wrap(y)), ref, tol + K * tiny(dtype), "batch_norm")
    g = draw_array(data, dtype, shape, 1e3, special=False)
    dx, dw, db = _C.batch_norm_backward(on(device, g)._t, on(device, x)._t, None if w is None else on(device, w)._t,
                                        mean, invstd, training)
    rdx, dx_tol, rdw, rdb, ptol, perr = ref_backward(g, xhat, wv * inv, axes, training, xerr, dtype)
    m = int(np.prod([shape[a] for a in axes]))
    assert_close(numpy_of(wrap(dx)), rdx, dx_tol + K * tiny(dtype), "batch_norm dx")
    assert_close(numpy_of(wrap(dw)), rdw.reshape(-1), ((K * eps(dtype) + acc_err(m)) * ptol + perr).reshape(-1)
                 + K * tiny(dtype), "batch_norm dweight")
    assert_close(numpy_of(wrap(db)), rdb.reshape(-1), (K * eps(dtype) + acc_err(m)) * ptol.reshape(-1) + K * tiny(dtype),
                 "batch_norm dbias")


@pytest.mark.parametrize("device", DEVICES)
# the references divide by the batch size, 0 for an empty batch in eval mode
@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning", "ignore:divide by zero:RuntimeWarning")
@SETTINGS
@given(dtype=DTYPES, affine=st.booleans(), data=st.data())
def test_layer_norm(device, dtype, affine, data):
    lead = tuple(data.draw(st.lists(st.integers(0, 4), max_size=2)))
    normalized = tuple(data.draw(st.lists(st.integers(1, 7), min_size=1, max_size=2)))
    shape = lead + normalized
    x = draw_array(data, dtype, shape, 1e4, special=False)
    w, b = (draw_array(data, dtype, normalized, 1e2, special=False) if affine else None for _ in range(2))
    y, mean, invstd = _C.layer_norm(draw_view(data, device, x)._t, list(normalized),
                                    None if w is None else on(device, w)._t, None if b is None else on(device, b)._t, 1e-5)
    axes = tuple(range(len(lead), len(shape)))
    ref, tol, xhat, inv, wv, xerr = ref_layer_norm(x, w, b, axes)
    assert_close(numpy_of(wrap(y)), ref, tol + K * tiny(dtype), "layer_norm")
    g = draw_array(data, dtype, shape, 1e3, special=False)
    dx, dw, db = _C.layer_norm_backward(on(device, g)._t, on(device, x)._t, list(normalized),
                                        None if w is None else on(device, w)._t, mean, invstd)
    g64 = g.astype(np.float64)
    rdx, dx_tol, _, _, _, _ = ref_backward(g64 * wv, xhat, inv, axes, True, xerr, dtype)
    assert_close(numpy_of(wrap(dx)), rdx, dx_tol * (1 + np.abs(wv)) + K * tiny(dtype), "layer_norm dx")
    lead_axes = tuple(range(len(lead)))
    ptol = (np.abs(g64) * (1 + np.abs(xhat))).sum(axis=lead_axes)
    perr = (np.abs(g64) * xerr).sum(axis=lead_axes)
    assert_close(numpy_of(wrap(dw)), (g64 * xhat).sum(axis=lead_axes),
                 (K * eps(dtype) + acc_err(x.size)) * ptol + perr + K * tiny(dtype), "layer_norm dweight")
    assert_close(numpy_of(wrap(db)), g64.sum(axis=lead_axes), (K * eps(dtype) + acc_err(x.size)) * ptol + K * tiny(dtype),
                 "layer_norm dbias")


# ---------------------------------------------------------------------------
# optimizer steps
# ---------------------------------------------------------------------------

NONNEGATIVE_STATES = {"state_sums", "square_avgs", "acc_deltas", "exp_avg_sqs", "max_exp_avg_sqs"}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
@SETTINGS
@given(dtype=DTYPES, step=st.integers(1, 5), data=st.data())
def test_optimizer_step(device, config, dtype, step, data):
    """One fused step over a list of tensors from a random state, against test_optim.py's formula:
    within K eps of |new| + |new - old| per element (test_optim.py's bound for one step).
    Gradients may be +-inf or NaN, which propagate as in PyTorch."""
    kind, h = config
    shapes = data.draw(st.lists(st.lists(st.integers(0, 6), max_size=2).map(tuple), min_size=1, max_size=3))
    names = [n for n in state_names(kind, h) if n]
    params = [draw_array(data, dtype, s, 1e6, special=False) for s in shapes]
    grads = [draw_array(data, dtype, s, 1e15) for s in shapes]
    states = {n: [draw_array(data, dtype, s, 1e6, special=False) for s in shapes] for n in names}
    for n in NONNEGATIVE_STATES & set(names):
        states[n] = [np.asarray(np.abs(v), dtype) for v in states[n]]  # (NumPy makes 0-d results scalars)
    if "grad_avgs" in states:  # centered: |grad_avg| < sqrt(square_avg), a variance estimate kept positive
        states["grad_avgs"] = [np.asarray(np.sqrt(sq.astype(np.float64)) * np.tanh(ga.astype(np.float64) / 1e6) * 0.9, dtype)
                               for sq, ga in zip(states["square_avgs"], states["grad_avgs"])]
    P = [on(device, p) for p in params]
    S = {n: [on(device, v) for v in vs] for n, vs in states.items()}
    optim_call(kind, h, [t._t for t in P], [draw_view(data, device, g)._t for g in grads],
               {n: [t._t for t in ts] for n, ts in S.items()}, step)
    for k, p in enumerate(params):
        # The formula in the dtype's arithmetic, one rounding per operation as the kernel (and PyTorch)
        # does: a float64 reference would not see the cancellation in g + wd p, nor a subnormal wd p,
        # that the dtype's arithmetic rounds away whatever the implementation.
        s = {n: states[n][k].copy() for n in names}
        old = {"params": p.astype(np.float64), **{n: v.astype(np.float64) for n, v in s.items()}}
        with np.errstate(all="ignore"):
            new = ref_step(kind, h, p, grads[k], s, step)
            new = {n: np.asarray(v, np.float64) for n, v in {"params": new, **s}.items()}
            for n, got in [("params", P[k])] + [(n, S[n][k]) for n in names]:
                mag = np.abs(new[n]) + np.abs(new[n] - old[n])
                assert_close(numpy_of(got), new[n].astype(dtype), K * eps(dtype) * mag + K * tiny(dtype),
                             f"{config_id(config)} {n}[{k}]")


# ---------------------------------------------------------------------------
# activations
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", list(ACTS))
@SETTINGS
@given(dtype=DTYPES, data=st.data())
def test_activation(device, name, dtype, data):
    """Forward and backward over every value (+-inf and NaN included), against test_activation.py's
    references and tolerances; a NaN input gives a NaN gradient."""
    shape = tuple(data.draw(st.lists(st.integers(0, 7), max_size=3)))
    x = draw_array(data, dtype, shape)
    t = draw_view(data, device, x)
    y = act_forward(name, t)
    x64 = x.astype(np.float64)
    with np.errstate(all="ignore"):
        ref = ACTS[name]["fwd"](x64)
    got = numpy_of(wrap(y))
    assert got.dtype == dtype
    assert_close(got, ref, act_tolerance(dtype, x64, ref, 0.5 if name == "hardsigmoid" else 0), name)
    if name not in DIFFERENTIABLE:
        return
    g = draw_array(data, dtype, shape, 1e3, special=False)
    saved = wrap(y) if name in READS_OUTPUT else t
    dx = numpy_of(wrap(act_backward(name, draw_view(data, device, g), saved)))
    with np.errstate(all="ignore"):
        d, S = ACTS[name]["grad"](x64, got.astype(np.float64) if name in READS_OUTPUT else ref)
        ref_dx = np.where(np.isnan(x64), np.nan, g.astype(np.float64) * d)
        tol = act_tolerance(dtype, x64, ref_dx, np.abs(g.astype(np.float64)) * S)
    assert_close(dx, ref_dx, tol, name + " backward")


# ---------------------------------------------------------------------------
# dropout
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("channels", [False, True], ids=["dropout", "dropout2d"])
@SETTINGS
@given(dtype=DTYPES, p=st.sampled_from([0.0, 1.0]) | st.floats(0, 1), seed=st.integers(0, 2 ** 64 - 1),
       data=st.data())
def test_dropout(device, channels, dtype, p, seed, data):
    """Kept elements are exactly x * (1 / (1 - p)) rounded once, dropped ones exactly +0 (NaN and inf
    too), with the mask of test_dropout.py's NumPy Philox; p = 0 is the identity; the backward
    applies the same mask to the gradient."""
    dims = st.integers(0, 5)
    shape = tuple(data.draw(st.lists(dims, min_size=3, max_size=4) if channels else st.lists(dims, max_size=3)))
    x = draw_array(data, dtype, shape)
    name = "dropout2d" if channels else "dropout"
    out, seed_used, offset = getattr(_C, name)(draw_view(data, device, x)._t, p, seed)
    assert (seed_used, offset) == (seed, 0)
    group = shape[-1] * shape[-2] if channels else 1
    with np.errstate(all="ignore"):  # x / (1 - p) may overflow to inf, as the kernel's does
        ref, _ = dropout_reference(x, p, seed, 0, group)
        ref_dx = dropout_reference(g := draw_array(data, dtype, shape), p, seed, 0, group)[0]
    same(numpy_of(wrap(out)), ref)
    if p == 0:
        same(numpy_of(wrap(out)), x)
    same(numpy_of(wrap(getattr(_C, name + "_backward")(on(device, g)._t, p, seed, offset))), ref_dx)


@pytest.mark.skipif(len(DEVICES) < 2, reason="no cuda device (not even the emulator)")
@SETTINGS
@given(dtype=DTYPES, p=st.floats(0, 1), seed=st.integers(0, 2 ** 64 - 1), data=st.data())
def test_dropout_same_mask_on_cpu_and_cuda(dtype, p, seed, data):
    x = draw_array(data, dtype, tuple(data.draw(st.lists(st.integers(0, 6), min_size=3, max_size=4))))
    for name in ("dropout", "dropout2d"):
        cpu = numpy_of(wrap(getattr(_C, name)(on("cpu", x)._t, p, seed)[0]))
        cuda = numpy_of(wrap(getattr(_C, name)(on("cuda", x)._t, p, seed)[0]))
        same(cuda, cpu)
