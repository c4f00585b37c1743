"""max_pool2d / avg_pool2d / adaptive_avg_pool2d, forward and backward, against a NumPy
reference on every backend (CPU per ISA, cuda): padding, stride, dilation, ceil_mode,
count_include_pad, overlapping windows, 3-D input, NaN; float64 finite-difference checks of
the backward kernels; PyTorch's results when it is installed; and the errors."""
import warnings

import numpy as np
import pytest

import backends
import dlcore.functional as F

T, N = backends.tensor, backends.array


def out_size(n, k, s, p, d, ceil):
    span = n + 2 * p - d * (k - 1) - 1
    o = (-(-span // s) if ceil else span // s) + 1
    if ceil and (o - 1) * s >= n + p:
        o -= 1
    return o


def windows(n, k, s, p, d, ceil):
    """Per output: the in-image positions of its window, and its size within the padded image."""
    res = []
    for o in range(out_size(n, k, s, p, d, ceil)):
        start = o * s - p
        pos = [start + i * d for i in range(k)]
        res.append(([q for q in pos if 0 <= q < n], min(start + k, n + p) - start))
    return res


def ref_pool(x, kind, k, s, p, d=(1, 1), ceil=False, include_pad=True, adaptive=None):
    """(out, argmax flat indices or None, backward(dy)) over the last two dims, in float64."""
    h, w = x.shape[-2:]
    if adaptive:
        rows = [(list(range(i * h // adaptive[0], -(-(i + 1) * h // adaptive[0]))), None) for i in range(adaptive[0])]
        cols = [(list(range(j * w // adaptive[1], -(-(j + 1) * w // adaptive[1]))), None) for j in range(adaptive[1])]
    else:
        rows, cols = windows(h, k[0], s[0], p[0], d[0], ceil), windows(w, k[1], s[1], p[1], d[1], ceil)
    planes = x.reshape(-1, h, w).astype(np.float64)
    out = np.zeros((planes.shape[0], len(rows), len(cols)))
    idx = np.zeros(out.shape, np.int64)
    weight = {}
    for q, plane in enumerate(planes):
        for i, (r, rn) in enumerate(rows):
            for j, (c, cn) in enumerate(cols):
                flat = [a * w + b for a in r for b in c]
                vals = plane.reshape(-1)[flat]
                if kind == "max":
                    nan = np.flatnonzero(np.isnan(vals))
                    m = nan[0] if len(nan) else int(np.argmax(vals))
                    out[q, i, j], idx[q, i, j] = vals[m], flat[m]
                else:
                    div = len(flat) if (adaptive or not include_pad) else rn * cn
                    out[q, i, j] = vals.sum() / div
                    weight[(i, j)] = (flat, 1.0 / div)
    shape = x.shape[:-2] + out.shape[-2:]

    def backward(dy):
        dy = dy.reshape(out.shape)
        dx = np.zeros((planes.shape[0], h * w))
        for q in range(planes.shape[0]):
            for i in range(out.shape[1]):
                for j in range(out.shape[2]):
                    if kind == "max":
                        dx[q, idx[q, i, j]] += dy[q, i, j]
                    else:
                        flat, wt = weight[(i, j)]
                        dx[q, flat] += dy[q, i, j] * wt
        return dx.reshape(x.shape)

    return out.reshape(shape), idx.reshape(shape), backward


# (input shape), kernel, stride, padding, dilation, ceil_mode
MAX_CASES = [
    ((2, 3, 8, 8), 2, None, 0, 1, False),
    ((1, 2, 7, 9), 3, 2, 1, 1, False),          # overlapping windows, padding
    ((2, 1, 9, 7), (3, 2), (2, 1), (1, 0), 1, True),
    ((1, 3, 10, 11), 3, 2, 1, 2, False),        # dilation
    ((3, 5, 5), 2, 2, 0, 1, True),              # (C, H, W), ceil_mode with a partial last window
    ((1, 1, 1, 1), 1, 1, 0, 1, False),
    ((2, 2, 6, 6), 2, 3, 1, 1, True),           # stride > kernel
]


@pytest.mark.parametrize("case", MAX_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_max_pool2d(backend, rng, case, dtype):
    shape, k, s, p, d, ceil = case
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    x = rng.standard_normal(shape).astype(dtype)
    ref, ref_idx, backward = ref_pool(x, "max", pair(k), pair(k if s is None else s), pair(p), pair(d), ceil)
    out, idx = F.max_pool2d(T(x), k, s, p, d, ceil, return_indices=True)
    np.testing.assert_array_equal(N(out), ref.astype(dtype))
    np.testing.assert_array_equal(N(idx), ref_idx)
    dy = rng.standard_normal(ref.shape).astype(dtype)
    dx = F.max_pool2d_backward(T(dy), idx, shape, k, s, p, d, ceil)
    np.testing.assert_allclose(N(dx), backward(dy.astype(np.float64)), rtol=4 * np.finfo(dtype).eps)


# (input shape), kernel, stride, padding, ceil_mode, count_include_pad
AVG_CASES = [
    ((2, 3, 8, 8), 2, None, 0, False, True),
    ((1, 2, 7, 9), 3, 2, 1, False, True),
    ((1, 2, 7, 9), 3, 2, 1, False, False),
    ((2, 1, 9, 7), (3, 2), (2, 1), (1, 0), True, True),
    ((3, 5, 5), 3, 2, 1, True, False),
    ((2, 2, 6, 6), 2, 3, 1, True, True),
]


@pytest.mark.parametrize("case", AVG_CASES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_avg_pool2d(backend, rng, case, dtype):
    shape, k, s, p, ceil, include = case
    pair = lambda v: (v, v) if isinstance(v, int) else tuple(v)  # noqa: E731
    x = rng.standard_normal(shape).astype(dtype)
    ref, _, backward = ref_pool(x, "avg", pair(k), pair(k if s is None else s), pair(p), ceil=ceil, include_pad=include)
    eps = np.finfo(dtype).eps
    np.testing.assert_allclose(N(F.avg_pool2d(T(x), k, s, p, ceil, include)), ref, rtol=8 * eps, atol=8 * eps)
    dy = rng.standard_normal(ref.shape).astype(dtype)
    dx = F.avg_pool2d_backward(T(dy), shape, k, s, p, ceil, include)
    np.testing.assert_allclose(N(dx), backward(dy.astype(np.float64)), rtol=8 * eps, atol=8 * eps)


@pytest.mark.parametrize("shape,size", [((2, 3, 7, 9), (3, 4)), ((2, 3, 8, 8), 1), ((1, 2, 5, 5), (7, 6)),
                                        ((4, 6, 6), (2, 3))])
def test_adaptive_avg_pool2d(backend, rng, shape, size):
    x = rng.standard_normal(shape)
    pair = (size, size) if isinstance(size, int) else size
    ref, _, backward = ref_pool(x, "avg", None, None, None, adaptive=pair)
    np.testing.assert_allclose(N(F.adaptive_avg_pool2d(T(x), size)), ref, rtol=1e-14, atol=1e-14)
    dy = rng.standard_normal(ref.shape)
    np.testing.assert_allclose(N(F.adaptive_avg_pool2d_backward(T(dy), shape)), backward(dy), rtol=1e-14, atol=1e-14)


def test_nan_is_the_maximum(backend):
    x = np.array([[[[1.0, np.nan, 3.0, 2.0], [0.0, 5.0, np.nan, -1.0]]]], np.float32)
    out, idx = F.max_pool2d(T(x), 2, return_indices=True)
    assert np.isnan(N(out)).all()
    np.testing.assert_array_equal(N(idx), [[[[1, 6]]]])
    assert np.isnan(N(F.avg_pool2d(T(x), 2))).all()


def test_backward_kernels_match_finite_differences(backend, rng):
    x = rng.standard_normal((1, 2, 7, 8))
    idx = F.max_pool2d(T(x), 3, 2, 1, 1, True, return_indices=True)[1]
    checks = [  # (forward, backward(r))
        (lambda v: F.avg_pool2d(T(v), 3, 2, 1, True, False),
         lambda r: F.avg_pool2d_backward(T(r), x.shape, 3, 2, 1, True, False)),
        (lambda v: F.adaptive_avg_pool2d(T(v), (4, 3)), lambda r: F.adaptive_avg_pool2d_backward(T(r), x.shape)),
        (lambda v: F.max_pool2d(T(v), 3, 2, 1, 1, True),
         lambda r: F.max_pool2d_backward(T(r), idx, x.shape, 3, 2, 1, 1, True)),
    ]
    h = 1e-6
    for fwd, bwd in checks:
        r = rng.standard_normal(fwd(x).shape)
        grad = N(bwd(r))
        for i in np.ndindex(x.shape):
            e = np.zeros(x.shape)
            e[i] = h
            num = ((N(fwd(x + e)) * r).sum() - (N(fwd(x - e)) * r).sum()) / (2 * h)
            assert abs(num - grad[i]) < 1e-6, (i, num, grad[i])


def test_matches_torch(rng):
    torch = pytest.importorskip("torch")
    x = rng.standard_normal((2, 3, 9, 10))
    tx = torch.from_numpy(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for k, s, p, d, ceil in [(3, 2, 1, 1, True), (2, 3, 1, 2, True), ((3, 2), (2, 1), (1, 0), 1, False)]:
            ref = torch.nn.functional.max_pool2d(tx, k, s, p, d, ceil, return_indices=True)
            out, idx = F.max_pool2d(T(x), k, s, p, d, ceil, return_indices=True)
            np.testing.assert_array_equal(N(out), ref[0].numpy())
            np.testing.assert_array_equal(N(idx), ref[1].numpy())
        for k, s, p, ceil, inc in [(3, 2, 1, True, True), (3, 2, 1, True, False), (2, 3, 1, True, True)]:
            ref = torch.nn.functional.avg_pool2d(tx, k, s, p, ceil, inc).numpy()
            np.testing.assert_allclose(N(F.avg_pool2d(T(x), k, s, p, ceil, inc)), ref, rtol=1e-14)
        for size in [(4, 3), (2, 7)]:
            ref = torch.nn.functional.adaptive_avg_pool2d(tx, size).numpy()
            np.testing.assert_allclose(N(F.adaptive_avg_pool2d(T(x), size)), ref, rtol=1e-14)


def test_errors(backend):
    x = T(np.zeros((1, 2, 6, 6), np.float32))
    cases = [
        (lambda: F.max_pool2d(T(np.zeros((6, 6), np.float32)), 2), ValueError, r"\[max_pool2d\] expected input of shape \(C, H, W\) or \(N, C, H, W\)"),
        (lambda: F.max_pool2d(x, 0), ValueError, "kernel_size >= 1"),
        (lambda: F.max_pool2d(x, 2, 0), ValueError, "stride >= 1"),
        (lambda: F.max_pool2d(x, 2, padding=2), ValueError, "padding <= kernel_size / 2"),
        (lambda: F.avg_pool2d(x, 2, padding=-1), ValueError, r"\[avg_pool2d\] expected padding >= 0, got -1"),
        (lambda: F.max_pool2d(x, 7), ValueError, "smaller than the kernel"),
        (lambda: F.max_pool2d(T(np.zeros((1, 2, 6, 6), np.int32)), 2), TypeError, r"input of a floating dtype \(float32 or float64\), got int32"),
        (lambda: F.adaptive_avg_pool2d(x, 0), ValueError, "output_size of 2 entries >= 1"),
        (lambda: F.avg_pool2d_backward(T(np.zeros((1, 2, 2, 2), np.float32)), (1, 2, 6, 6), 2), ValueError,
         r"grad_output of shape \(1, 2, 3, 3\)"),
        (lambda: F.max_pool2d_backward(T(np.zeros((1, 2, 3, 3), np.float32)), T(np.full((1, 2, 3, 3), 36)),
                                       (1, 2, 6, 6), 2), IndexError, r"indices in \[0, 36\)"),
        (lambda: F.max_pool2d_backward(T(np.zeros((1, 2, 3, 3), np.float32)), T(np.zeros((1, 2, 3, 3), np.int32)),
                                       (1, 2, 6, 6), 2), ValueError, "int64 indices"),
    ]
    for fn, err, msg in cases:
        with pytest.raises(err, match=msg):
            fn()
