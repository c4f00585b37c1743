"""conv1d / conv2d forward, backward-input and backward-weight against a NumPy reference on
every backend (CPU per ISA, cuda) and both variants: odd sizes, stride > kernel, padding >
kernel / 2, dilation, groups (depthwise too), "same" / "valid", batch and channels of 1,
non-contiguous input, empty batches, NaN; float64 finite-difference checks of the backward
kernels; and the errors."""
import warnings

import numpy as np
import pytest

import backends
import dlcore
import dlcore.functional as F

T, N = backends.tensor, backends.array


def pads(padding, k, d):
    """(begin, end) padding per spatial dim, "same" putting the odd one at the end (PyTorch)."""
    if padding == "valid":
        return [(0, 0)] * len(k)
    if padding == "same":
        return [((di * (ki - 1)) // 2, di * (ki - 1) - (di * (ki - 1)) // 2) for ki, di in zip(k, d)]
    return [(p, p) for p in padding]


def patches(xp, kh, kw, d, s, oh, ow):
    """The input values tap (kh, kw) reads for every output pixel: (N, C, OH, OW)."""
    return xp[:, :, kh * d[0]: kh * d[0] + s[0] * (oh - 1) + 1: s[0], kw * d[1]: kw * d[1] + s[1] * (ow - 1) + 1: s[1]]


def ref_conv2d(x, w, b, s, padding, d, groups):
    """Forward (float64) plus a function giving (dx, dw) for an upstream gradient: the direct
    sums written as one einsum per kernel tap."""
    x, w = x.astype(np.float64), w.astype(np.float64)
    n, c, h, wd = x.shape
    oc, cg, kh_, kw_ = w.shape
    (p0, p1), (q0, q1) = pads(padding, (kh_, kw_), d)
    xp = np.pad(x, ((0, 0), (0, 0), (p0, p1), (q0, q1)))
    oh = (h + p0 + p1 - d[0] * (kh_ - 1) - 1) // s[0] + 1
    ow = (wd + q0 + q1 - d[1] * (kw_ - 1) - 1) // s[1] + 1
    ocg = oc // groups
    y = np.zeros((n, oc, oh, ow))
    for g in range(groups):
        xs, ws = slice(g * cg, (g + 1) * cg), slice(g * ocg, (g + 1) * ocg)
        for i in range(kh_):
            for j in range(kw_):
                y[:, ws] += np.einsum("ncij,oc->noij", patches(xp[:, xs], i, j, d, s, oh, ow), w[ws, :, i, j])
    if b is not None:
        y += b.astype(np.float64)[None, :, None, None]

    def grads(dy):
        dxp, dw = np.zeros_like(xp), np.zeros_like(w)
        for g in range(groups):
            xs, ws = slice(g * cg, (g + 1) * cg), slice(g * ocg, (g + 1) * ocg)
            for i in range(kh_):
                for j in range(kw_):
                    dw[ws, :, i, j] += np.einsum("noij,ncij->oc", dy[:, ws], patches(xp[:, xs], i, j, d, s, oh, ow))
                    patches(dxp[:, xs], i, j, d, s, oh, ow)[...] += np.einsum("noij,oc->ncij", dy[:, ws], w[ws, :, i, j])
        return dxp[:, :, p0: p0 + h, q0: q0 + wd], dw

    return y, grads


def tol(dtype, terms):
    eps = np.finfo(dtype).eps
    return dict(rtol=4 * eps * np.sqrt(max(terms, 1)) + 2 * eps, atol=4 * eps * max(terms, 1))


# (N, C, H, W), (OC, KH, KW), stride, padding, dilation, groups
CASES = [
    ((2, 3, 9, 9), (4, 3, 3), 1, 0, 1, 1),
    ((1, 1, 7, 5), (1, 3, 2), 1, 0, 1, 1),             # batch 1, channel 1, non-square kernel
    ((3, 3, 11, 13), (5, 5, 5), 2, 2, 1, 1),
    ((2, 4, 10, 10), (6, 3, 3), (2, 3), (1, 2), (2, 1), 2),
    ((2, 4, 8, 8), (4, 3, 3), 1, 1, 1, 4),             # depthwise
    ((2, 3, 8, 9), (4, 2, 2), 3, 0, 1, 1),             # stride > kernel
    ((1, 2, 6, 6), (3, 3, 3), 1, 2, 1, 1),             # padding > kernel / 2
    ((2, 5, 7, 7), (3, 1, 1), 1, 0, 1, 1),             # 1x1: the GEMM reads x directly
    ((2, 3, 6, 6), (2, 3, 3), 1, "same", 2, 1),
    ((1, 2, 6, 7), (2, 2, 2), 1, "same", 1, 1),        # "same" with an even kernel: extra pad at the end
    ((2, 3, 9, 9), (4, 3, 3), 1, "valid", 1, 1),
    ((5, 2, 4, 4), (3, 3, 3), 1, 0, 1, 1),             # 2x2 outputs: one pixel panel spans all 5 images
    ((3, 30, 6, 6), (13, 3, 3), 1, 1, 1, 1),           # 270 taps: two K blocks; 13 channels: two row panels
    ((2, 2, 5, 40), (3, 3, 3), 1, 1, 1, 1),            # 40-pixel rows: vector chunks cut by the padding
    ((3, 2, 11, 13), (7, 3, 3), 1, 0, 1, 1),           # small dw over 99 pixels: vector accumulators, edge blocks
    ((2, 4, 12, 12), (6, 3, 3), 1, 1, 1, 2),           # the same per group
    ((2, 30, 20, 20), (13, 3, 3), 1, 1, 1, 1),         # 400 pixels: dw's im2col in chunks that split rows
]


def unpack(case):
    xs, (oc, kh, kw), s, p, d, g = case
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    return xs, (oc, xs[1] // g, kh, kw), pair(s), (p if isinstance(p, str) else pair(p)), pair(d), g


@pytest.mark.parametrize("case", CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("variant", ["fast", "naive"])
def test_conv2d(backend, rng, case, dtype, variant):
    xs, ws, s, p, d, g = unpack(case)
    x, w, b = (rng.standard_normal(v).astype(dtype) for v in (xs, ws, ws[0]))
    y_ref, grads = ref_conv2d(x, w, b, s, p, d, g)
    kw = dict(stride=s, padding=p, dilation=d, groups=g, variant=variant)
    y = F.conv2d(T(x), T(w), T(b), **kw)
    assert N(y).dtype == dtype and y.shape == y_ref.shape
    np.testing.assert_allclose(N(y), y_ref, **tol(dtype, ws[1] * ws[2] * ws[3]))
    dy = rng.standard_normal(y_ref.shape).astype(dtype)
    dx_ref, dw_ref = grads(dy.astype(np.float64))
    dx = F.conv2d_backward_input(T(dy), T(w), xs, **kw)
    dw = F.conv2d_backward_weight(T(dy), T(x), ws, **kw)
    np.testing.assert_allclose(N(dx), dx_ref, **tol(dtype, ws[0] * ws[2] * ws[3]))
    np.testing.assert_allclose(N(dw), dw_ref, **tol(dtype, y_ref.shape[0] * y_ref.shape[2] * y_ref.shape[3]))


@pytest.mark.parametrize("variant", ["fast", "naive"])
def test_conv1d(backend, rng, variant):
    x, w, b = rng.standard_normal((3, 4, 17)), rng.standard_normal((6, 2, 5)), rng.standard_normal(6)
    kw = dict(stride=2, padding=3, dilation=2, groups=2, variant=variant)
    y_ref, grads = ref_conv2d(x[:, :, None], w[:, :, None], b, (1, 2), (0, 3), (1, 2), 2)
    y = F.conv1d(T(x), T(w), T(b), **kw)
    np.testing.assert_allclose(N(y), y_ref[:, :, 0], rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    dx_ref, dw_ref = grads(dy[:, :, None])
    np.testing.assert_allclose(N(F.conv1d_backward_input(T(dy), T(w), x.shape, **kw)), dx_ref[:, :, 0], atol=1e-12)
    np.testing.assert_allclose(N(F.conv1d_backward_weight(T(dy), T(x), w.shape, **kw)), dw_ref[:, :, 0], atol=1e-12)


def test_conv1d_same(backend, rng):
    x, w = rng.standard_normal((2, 3, 10)), rng.standard_normal((4, 3, 4))
    y = F.conv1d(T(x), T(w), padding="same")
    assert y.shape == (2, 4, 10)
    np.testing.assert_allclose(N(y), ref_conv2d(x[:, :, None], w[:, :, None], None, (1, 1), "same", (1, 1), 1)[0][:, :, 0],
                               atol=1e-12)


@pytest.mark.parametrize("case", [CASES[3], CASES[6]], ids=str)
def test_backward_kernels_match_finite_differences(backend, rng, case):
    # float64: the gradient of L = sum(conv2d(x, w) * R) by central differences, element by element.
    xs, ws, s, p, d, g = unpack(case)
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    kw = dict(stride=s, padding=p, dilation=d, groups=g)
    r = rng.standard_normal(F.conv2d(T(x), T(w), **kw).shape)
    loss = lambda xv, wv: float((N(F.conv2d(T(xv), T(wv), **kw)) * r).sum())  # noqa: E731
    dx, dw = N(F.conv2d_backward_input(T(r), T(w), xs, **kw)), N(F.conv2d_backward_weight(T(r), T(x), ws, **kw))
    h = 1e-6
    for idx in [tuple(rng.integers(0, n) for n in xs) for _ in range(6)]:
        e = np.zeros(xs)
        e[idx] = h
        assert abs((loss(x + e, w) - loss(x - e, w)) / (2 * h) - dx[idx]) < 1e-6 * (1 + abs(dx[idx]))
    for idx in [tuple(rng.integers(0, n) for n in ws) for _ in range(6)]:
        e = np.zeros(ws)
        e[idx] = h
        assert abs((loss(x, w + e) - loss(x, w - e)) / (2 * h) - dw[idx]) < 1e-6 * (1 + abs(dw[idx]))


def test_threads_split_images_deterministically(backend, threads, rng):
    # 5 images over 1 or 2 threads: the weight gradient sums per-thread partials in a fixed order.
    x, w = rng.standard_normal((5, 3, 12, 12)).astype(np.float32), rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    y_ref, grads = ref_conv2d(x, w, None, (1, 1), (1, 1), (1, 1), 1)
    y = F.conv2d(T(x), T(w), padding=1)
    np.testing.assert_allclose(N(y), y_ref, **tol(np.float32, 27))
    dy = rng.standard_normal(y_ref.shape).astype(np.float32)
    dw = [N(F.conv2d_backward_weight(T(dy), T(x), w.shape, padding=1)) for _ in range(2)]
    np.testing.assert_array_equal(dw[0], dw[1])
    np.testing.assert_allclose(dw[0], grads(dy.astype(np.float64))[1], **tol(np.float32, 5 * 144))


def test_non_contiguous_input_and_weight(backend, rng):
    x = rng.standard_normal((2, 7, 7, 3)).astype(np.float32)   # NHWC, viewed as NCHW
    w = rng.standard_normal((3, 3, 3, 4)).astype(np.float32)   # (KH, KW, C, OC) viewed as (OC, C, KH, KW)
    xt, wt = T(x).permute(0, 3, 1, 2), T(w).permute(3, 2, 0, 1)
    assert not xt.is_contiguous()
    ref = ref_conv2d(x.transpose(0, 3, 1, 2), w.transpose(3, 2, 0, 1), None, (1, 1), (1, 1), (1, 1), 1)[0]
    np.testing.assert_allclose(N(F.conv2d(xt, wt, padding=1)), ref, **tol(np.float32, 27))


def test_empty_batch_and_channels(backend, rng):
    w = rng.standard_normal((4, 3, 3, 3)).astype(np.float32)
    x0 = np.zeros((0, 3, 8, 8), np.float32)
    y = F.conv2d(T(x0), T(w))
    assert y.shape == (0, 4, 6, 6)
    dw = F.conv2d_backward_weight(T(np.zeros((0, 4, 6, 6), np.float32)), T(x0), w.shape)
    np.testing.assert_array_equal(N(dw), np.zeros(w.shape, np.float32))
    assert F.conv2d_backward_input(T(np.zeros((0, 4, 6, 6), np.float32)), T(w), x0.shape).shape == x0.shape
    # No input channels: the output is the bias.
    b = np.arange(4, dtype=np.float32)
    y = F.conv2d(T(np.zeros((2, 0, 5, 5), np.float32)), T(np.zeros((4, 0, 3, 3), np.float32)), T(b))
    np.testing.assert_array_equal(N(y), np.broadcast_to(b[None, :, None, None], (2, 4, 3, 3)))


def test_nan_and_inf_propagate(backend, rng):
    x = rng.standard_normal((1, 2, 6, 6)).astype(np.float32)
    x[0, 1, 2, 3], x[0, 0, 5, 5] = np.nan, np.inf
    w = rng.standard_normal((2, 2, 3, 3)).astype(np.float32)
    ref = ref_conv2d(x, w, None, (1, 1), (1, 1), (1, 1), 1)[0]
    got = N(F.conv2d(T(x), T(w), padding=1))
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref))
    finite = np.isfinite(ref)
    np.testing.assert_allclose(got[finite], ref[finite], **tol(np.float32, 18))


def test_errors(backend):
    x, w = T(np.zeros((2, 4, 8, 8), np.float32)), T(np.zeros((6, 2, 3, 3), np.float32))
    cases = [
        (lambda: F.conv2d(T(np.zeros((4, 8, 8), np.float32)), w), ValueError, r"\[conv2d\] expected input of shape \(N, C, H, W\), got \(4, 8, 8\)"),
        (lambda: F.conv2d(x, T(np.zeros((6, 3, 3, 3), np.float32))), ValueError, r"expected weight of shape \(6, 4, \.\.\.\)"),
        (lambda: F.conv2d(x, w, groups=3), ValueError, "divisible by groups"),
        (lambda: F.conv2d(x, w, groups=0), ValueError, "groups >= 1"),
        (lambda: F.conv2d(x, T(np.zeros((6, 4, 3, 3), np.float64))), TypeError, "weight of dtype float32"),
        (lambda: F.conv2d(T(np.zeros((2, 4, 8, 8), np.int64)), w), TypeError, r"input of a floating dtype \(float32 or float64\), got int64"),
        (lambda: F.conv2d(x, w, groups=2, stride=0), ValueError, "stride >= 1"),
        (lambda: F.conv2d(x, w, groups=2, padding=-1), ValueError, "padding >= 0"),
        (lambda: F.conv2d(x, w, groups=2, dilation=0), ValueError, "dilation >= 1"),
        (lambda: F.conv2d(x, w, groups=2, padding="full"), ValueError, "'same', 'valid'"),
        (lambda: F.conv2d(x, w, groups=2, stride=2, padding="same"), ValueError, "needs stride 1"),
        (lambda: F.conv2d(x, w, groups=2, stride=(1, 1, 1)), ValueError, "stride as an int or 2 ints"),
        (lambda: F.conv2d(x, T(np.zeros((6, 2, 9, 3), np.float32)), groups=2), ValueError, "smaller than the dilated kernel"),
        (lambda: F.conv2d(x, w, T(np.zeros(5, np.float32)), groups=2), ValueError, r"bias of shape \(6,\)"),
        (lambda: F.conv2d_backward_input(T(np.zeros((2, 6, 5, 5), np.float32)), w, (2, 4, 8, 8), groups=2), ValueError,
         r"grad_output of shape \(2, 6, 6, 6\)"),
        (lambda: F.conv1d(x, w), ValueError, r"\[conv1d\] expected input of shape \(N, C, L\)"),
    ]
    for fn, err, msg in cases:
        with pytest.raises(err, match=msg):
            fn()


def test_mixed_devices():
    if not dlcore.cuda.is_available():
        pytest.skip("no cuda device (not even the emulator)")
    x = dlcore.zeros((1, 1, 4, 4))
    with pytest.raises(ValueError, match=r"\[conv2d\].*device"):
        F.conv2d(x, dlcore.zeros((1, 1, 3, 3)).to("cuda"))


def test_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x, w, b = rng.standard_normal((2, 4, 9, 8)), rng.standard_normal((6, 2, 3, 2)), rng.standard_normal(6)
    for kw in (dict(stride=2, padding=1, dilation=2, groups=2), dict(padding="same", groups=2)):
        with warnings.catch_warnings():  # "same" with an even kernel: torch warns it pads a copy
            warnings.simplefilter("ignore", UserWarning)
            ref = torch.nn.functional.conv2d(*(torch.from_numpy(v) for v in (x, w, b)), **kw).numpy()
        np.testing.assert_allclose(N(F.conv2d(T(x), T(w), T(b), **kw)), ref, atol=1e-12)
