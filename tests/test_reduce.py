"""Reductions (sum, mean, var, std, amax, amin, max, min, argmax, argmin) against NumPy,
on every CPU ISA and, where the work is split, with 1 and 2 threads.

Tolerances come from the dtype and the reduction size n: dlcore accumulates float
sums in float64, so a result is off by its final roundings (a few eps of the output
dtype) plus the float64 accumulation error, at most ~ k * eps64 * sqrt(n) * sum|x|
for data with random rounding errors. max/min/arg* and integer sums are exact.
"""
import contextlib
import math
import warnings

import numpy as np
import pytest

import backends
import dlcore

DTYPES = [np.bool_, np.int32, np.int64, np.float32, np.float64]
FLOATS = (np.float32, np.float64)
EPS64 = float(np.finfo(np.float64).eps)
K_ACC = 4.0  # accumulation error constant in k * eps64 * sqrt(n)


def acc_err(n):
    """Relative (to sum|x|) error of dlcore's float64 accumulation over n terms."""
    return K_ACC * EPS64 * math.sqrt(max(n, 1))


def ref_err(n):
    """Relative (to sum|x|) error of NumPy's float64 pairwise sum, the reference. References are
    computed in float64, not long double: long double (x87) results are not trustworthy after
    a call that leaves the FPU in MMX state (see test_x87_fpu_state_clean_after_reductions)."""
    return EPS64 * (math.log2(max(n, 1)) + 2)


T = backends.tensor


N = backends.array


def dl_dtype(d):
    return dlcore.dtype(np.dtype(d))


def norm_axis(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, int):
        axis = (axis,)
    return tuple(a % ndim for a in axis) if ndim else ()


def red_size(shape, axis):
    return int(np.prod([shape[a] for a in norm_axis(axis, len(shape))], dtype=np.int64))


@contextlib.contextmanager
def quiet():
    """NumPy's warnings for empty means and ddof >= n are expected in the reference."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def np_axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def float_out(dt):
    return np.dtype(dt) if np.dtype(dt).kind == "f" else np.dtype(np.float32)


def eps_of(dt):
    return float(np.finfo(dt).eps)


def assert_close_nonfinite(got, ref):
    """NaN and inf positions equal; returns the mask of finite reference entries."""
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.shape == ref.shape, f"shape {got.shape}, expected {ref.shape}"
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg="NaN positions differ")
    inf = np.isinf(ref)
    np.testing.assert_array_equal(got[inf], ref[inf].astype(got.dtype), err_msg="inf results differ")
    return ~np.isnan(ref) & ~inf


def assert_within(got, ref, tol, what):
    got, ref = np.asarray(got), np.asarray(ref, dtype=np.float64)
    fin = assert_close_nonfinite(got, ref)
    tol = np.broadcast_to(np.asarray(tol, dtype=np.float64), ref.shape)
    err = np.abs(got[fin].astype(np.float64) - ref[fin])
    bad = err > tol[fin]
    if bad.any():
        i = int(np.argmax(err - tol[fin]))
        raise AssertionError(f"[{what}] {int(bad.sum())} of {err.size} values out of tolerance; worst: got "
                             f"{got[fin][i]!r}, expected {ref[fin][i]!r}, |err| {err[i]!r} > tol {tol[fin][i]!r}")


# ---- the checks, one per op, against NumPy on the same (possibly strided) array ----

def check_sum(t, x, axis=None, keepdim=False):
    got = t.sum(axis, keepdim)
    ax = np_axis(axis)
    if x.dtype.kind in "biu":
        assert got.dtype == dlcore.int64
        expected = np.sum(x.astype(np.int64), axis=ax, keepdims=keepdim)
        np.testing.assert_array_equal(N(got), expected)
        assert N(got).shape == np.shape(expected)
        return
    assert got.dtype == dl_dtype(x.dtype)
    n = red_size(x.shape, axis)
    with np.errstate(all="ignore"):
        ref = np.sum(x.astype(np.float64), axis=ax, keepdims=keepdim)
        abs_sum = np.sum(np.abs(x).astype(np.float64), axis=ax, keepdims=keepdim)
    tol = eps_of(x.dtype) * np.abs(ref) + (acc_err(n) + ref_err(n)) * abs_sum
    assert_within(N(got), ref, tol, "sum")


def check_mean(t, x, axis=None, keepdim=False):
    got = t.mean(axis, keepdim)
    out = float_out(x.dtype)
    assert got.dtype == dl_dtype(out)
    ax = np_axis(axis)
    n = red_size(x.shape, axis)
    xl = x.astype(out).astype(np.float64)
    with quiet(), np.errstate(all="ignore"):
        ref = np.mean(xl, axis=ax, keepdims=keepdim)
        mean_abs = np.mean(np.abs(xl), axis=ax, keepdims=keepdim)
    tol = 2 * eps_of(out) * np.abs(ref) + (acc_err(n) + ref_err(n)) * mean_abs
    assert_within(N(got), ref, tol, "mean")


def var_tolerance(xl, ax, keepdim, n, correction, out, ref):
    """Two-pass var: the mean m' is off by delta, which adds n*delta^2/(n-c) exactly; each
    deviation, square and division costs an output-dtype rounding; the float64 sums add
    their accumulation error. The same again, in float64, for NumPy's own two-pass var."""
    e = eps_of(out)
    with quiet(), np.errstate(all="ignore"):
        mean = np.mean(xl, axis=ax, keepdims=keepdim)
        mean_abs = np.mean(np.abs(xl), axis=ax, keepdims=keepdim)
    delta = e * np.abs(mean) + acc_err(n) * mean_abs
    delta_ref = EPS64 * np.abs(mean) + ref_err(n) * mean_abs
    rtol = 4 * e + acc_err(n) + 4 * EPS64 + ref_err(n)
    atol = 2 * (n / max(n - correction, 1)) * (delta ** 2 + delta_ref ** 2)
    return rtol * np.abs(ref) + atol, rtol, atol


def check_var(t, x, axis=None, keepdim=False, correction=1):
    out = float_out(x.dtype)
    got_var = t.var(axis, correction=correction, keepdim=keepdim)
    got_std = t.std(axis, correction=correction, keepdim=keepdim)
    assert got_var.dtype == dl_dtype(out) and got_std.dtype == dl_dtype(out)
    ax = np_axis(axis)
    n = red_size(x.shape, axis)
    xl = x.astype(out).astype(np.float64)
    with quiet(), np.errstate(all="ignore"):
        ref = np.var(xl, axis=ax, ddof=correction, keepdims=keepdim)
        ref_std = np.sqrt(ref)
    tol, rtol, atol = var_tolerance(xl, ax, keepdim, n, correction, out, ref)
    assert_within(N(got_var), ref, tol, f"var(correction={correction})")
    std_tol = (rtol / 2 + eps_of(out)) * np.abs(ref_std) + np.sqrt(atol)
    assert_within(N(got_std), ref_std, std_tol, f"std(correction={correction})")


def check_extreme(t, x, axis=None, keepdim=False):
    for name, f in (("amax", np.amax), ("amin", np.amin)):
        got = getattr(t, name)(axis, keepdim)
        assert got.dtype == dl_dtype(x.dtype), name
        expected = f(x, axis=np_axis(axis), keepdims=keepdim)
        assert N(got).shape == np.shape(expected), name
        np.testing.assert_array_equal(N(got), expected, err_msg=name)
    if not isinstance(axis, int):  # max()/min() without an int dim are amax/amin
        np.testing.assert_array_equal(N(t.max(axis, keepdim)), np.amax(x, axis=np_axis(axis), keepdims=keepdim))
        np.testing.assert_array_equal(N(t.min(axis, keepdim)), np.amin(x, axis=np_axis(axis), keepdims=keepdim))


def check_arg(t, x, dim=None, keepdim=False):
    for name, f in (("argmax", np.argmax), ("argmin", np.argmin)):
        got = getattr(t, name)(dim, keepdim)
        assert got.dtype == dlcore.int64, name
        expected = f(x, axis=dim, keepdims=keepdim)
        assert N(got).shape == np.shape(expected), f"{name}: {N(got).shape} vs {np.shape(expected)}"
        np.testing.assert_array_equal(N(got), expected, err_msg=name)
    if isinstance(dim, int):
        for name, fv, fi in (("max", np.amax, np.argmax), ("min", np.amin, np.argmin)):
            r = getattr(t, name)(dim, keepdim)
            assert isinstance(r, tuple) and len(r) == 2, name
            values, indices = r
            assert r.values is values and r.indices is indices
            assert values.dtype == dl_dtype(x.dtype) and indices.dtype == dlcore.int64
            np.testing.assert_array_equal(N(values), fv(x, axis=dim, keepdims=keepdim), err_msg=name)
            np.testing.assert_array_equal(N(indices), fi(x, axis=dim, keepdims=keepdim), err_msg=name)


def check_all(t, x, axis=None, keepdim=False):
    check_sum(t, x, axis, keepdim)
    check_mean(t, x, axis, keepdim)
    for c in (0, 1):
        check_var(t, x, axis, keepdim, c)
    if x.size and all(x.shape[a] > 0 for a in norm_axis(axis, x.ndim)):
        check_extreme(t, x, axis, keepdim)


def data(rng, shape, dt):
    dt = np.dtype(dt)
    if dt == np.bool_:
        return rng.random(shape) < 0.5
    if dt.kind == "i":
        return rng.integers(-50, 51, shape).astype(dt)
    return (rng.standard_normal(shape) * 3 + 1.5).astype(dt)


# ---------------------------------------------------------------------------
# dims, keepdim, dtypes
# ---------------------------------------------------------------------------

DIMS_4D = [None, 0, 1, 2, 3, -1, -2, -4, (0, 2), (1, 3), (0, 3), (0, 1), (2, 3), (1, 2), (0, 1, 2, 3),
           (0, 2, 3), (0, 1, 3), (-1, 0), (3, 0), [1, 3]]


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dims", DIMS_4D, ids=str)
@pytest.mark.parametrize("dt", DTYPES, ids=lambda d: np.dtype(d).name)
def test_reduce_dims(backend, rng, dt, dims, keepdim):
    x = data(rng, (3, 4, 5, 6), dt)
    t = T(x)
    check_all(t, x, dims, keepdim)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dim", [None, 0, 1, 2, 3, -1, -3, -4])
@pytest.mark.parametrize("dt", DTYPES, ids=lambda d: np.dtype(d).name)
def test_arg_reduce_dims(backend, rng, dt, dim, keepdim):
    x = data(rng, (3, 4, 5, 6), dt)
    check_arg(T(x), x, dim, keepdim)


@pytest.mark.parametrize("shape", [(7,), (13, 97), (97, 13), (2, 1031), (1031, 3), (3, 513, 2), (5, 1, 1031)], ids=str)
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int32], ids=lambda d: np.dtype(d).name)
def test_both_patterns_odd_sizes(backend, rng, shape, dt):
    # reducing the innermost dim (pattern A) and an outer dim with the innermost kept
    # (pattern B, blocks of 512 outputs), on prime and non-SIMD-multiple sizes
    x = data(rng, shape, dt)
    t = T(x)
    for d in range(-1, -len(shape) - 1, -1):
        check_all(t, x, d)
        check_arg(t, x, d)
    check_all(t, x, None)
    check_arg(t, x, None)


def test_function_forms(backend, rng):
    x = data(rng, (4, 7), np.float32)
    t = T(x)
    for name in ("sum", "mean", "var", "std", "amax", "amin", "argmax", "argmin"):
        np.testing.assert_array_equal(N(getattr(dlcore, name)(t, 1)), N(getattr(t, name)(1)), err_msg=name)
        np.testing.assert_array_equal(N(getattr(dlcore, name)(t)), N(getattr(t, name)()), err_msg=name)
    v, i = dlcore.max(t, 0)
    np.testing.assert_array_equal(N(v), x.max(0))
    np.testing.assert_array_equal(N(i), x.argmax(0))
    np.testing.assert_array_equal(N(dlcore.min(t)), x.min())
    np.testing.assert_array_equal(N(t.sum(dim=1, keepdim=True)), N(dlcore.sum(t, dim=1, keepdim=True)))


RESULT_DTYPES = [
    ("sum", np.bool_, np.int64), ("sum", np.int32, np.int64), ("sum", np.int64, np.int64),
    ("sum", np.float32, np.float32), ("sum", np.float64, np.float64),
    ("mean", np.bool_, np.float32), ("mean", np.int32, np.float32), ("mean", np.int64, np.float32),
    ("mean", np.float32, np.float32), ("mean", np.float64, np.float64),
    ("var", np.int32, np.float32), ("var", np.int64, np.float32), ("var", np.bool_, np.float32),
    ("var", np.float64, np.float64), ("std", np.int64, np.float32), ("std", np.float64, np.float64),
    ("amax", np.int32, np.int32), ("amax", np.bool_, np.bool_), ("amin", np.int64, np.int64),
    ("amin", np.float64, np.float64), ("argmax", np.float32, np.int64), ("argmin", np.int32, np.int64),
]


@pytest.mark.parametrize("op,dt,expected", RESULT_DTYPES,
                         ids=[f"{o}-{np.dtype(d).name}" for o, d, _ in RESULT_DTYPES])
def test_result_dtypes(op, dt, expected):
    t = T(np.ones((2, 3), dt))
    assert getattr(t, op)().dtype == dl_dtype(expected)
    assert getattr(t, op)(1).dtype == dl_dtype(expected)
    assert getattr(t, op)(0, keepdim=True).dtype == dl_dtype(expected)


def test_int_sums_do_not_overflow_int32(backend):
    x = np.full(1031, np.iinfo(np.int32).max, np.int32)
    assert T(x).sum().item() == 1031 * int(np.iinfo(np.int32).max)
    x2 = np.full((3, 1031), np.iinfo(np.int32).min, np.int32)
    np.testing.assert_array_equal(N(T(x2).sum(1)), np.full(3, 1031 * int(np.iinfo(np.int32).min)))
    np.testing.assert_array_equal(N(T(x2).sum(0)), x2.astype(np.int64).sum(0))


@pytest.mark.parametrize("dt", [np.int32, np.int64], ids=lambda d: np.dtype(d).name)
def test_int_extremes(backend, dt):
    info = np.iinfo(dt)
    lo = np.full((3, 37), info.min, dt)
    hi = np.full((3, 37), info.max, dt)
    for x in (lo, hi):
        for d in (None, 0, 1):
            check_extreme(T(x), x, d)
            check_arg(T(x), x, d)


# ---------------------------------------------------------------------------
# 0-d, size-1 and zero-size tensors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dt", DTYPES, ids=lambda d: np.dtype(d).name)
def test_zero_d(backend, dt):
    x = np.array(True if dt == np.bool_ else 3, dt)
    t = T(x)
    for dim in (None, 0, -1):
        for keepdim in (False, True):
            s = t.sum(dim, keepdim)
            assert s.shape == () and s.item() == x.item()
            assert s.dtype == (dlcore.int64 if np.dtype(dt).kind in "biu" else dl_dtype(dt))
            m = t.mean(dim, keepdim)
            assert m.shape == () and m.item() == float(x)
            assert t.amax(dim, keepdim).item() == x.item() and t.amax(dim, keepdim).shape == ()
            assert t.amin(dim, keepdim).item() == x.item()
            assert t.argmax(dim, keepdim).item() == 0 and t.argmax(dim, keepdim).shape == ()
            assert t.argmin(dim, keepdim).item() == 0
            v0 = t.var(dim, correction=0, keepdim=keepdim)
            assert v0.shape == () and v0.item() == 0.0
            assert math.isnan(t.var(dim, correction=1, keepdim=keepdim).item())  # 0 / 0 as np.var(ddof=1)
    vals, idx = t.max(0)
    assert vals.item() == x.item() and idx.item() == 0
    with pytest.raises(IndexError):
        t.sum(1)
    with pytest.raises(IndexError):
        t.argmax(-2)


@pytest.mark.parametrize("shape,dims", [((1,), 0), ((1, 5, 1), 0), ((1, 5, 1), 2), ((1, 5, 1), (0, 2)),
                                        ((4, 1, 3), 1), ((4, 1, 3), (1,)), ((1, 1, 1), None), ((1, 1, 1), (0, 2)),
                                        ((3, 1, 1, 4), (1, 2)), ((3, 1, 1, 4), (0, 1)), ((1, 7), 1), ((7, 1), 0)],
                         ids=str)
@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("dt", [np.float32, np.int64, np.bool_], ids=lambda d: np.dtype(d).name)
def test_size_one_dims(backend, rng, shape, dims, keepdim, dt):
    x = data(rng, shape, dt)
    t = T(x)
    check_all(t, x, dims, keepdim)
    if dims is None or isinstance(dims, int):
        check_arg(t, x, dims, keepdim)


@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4)], ids=str)
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int32, np.bool_], ids=lambda d: np.dtype(d).name)
def test_zero_size(backend, shape, dt):
    x = np.zeros(shape, dt)
    t = T(x)
    s = t.sum()
    assert s.shape == () and s.item() == 0
    m = t.mean()
    assert m.shape == () and math.isnan(m.item())  # NumPy: nan (with a warning)
    assert m.dtype == dl_dtype(float_out(dt))
    assert math.isnan(t.var().item()) and math.isnan(t.std(correction=0).item())
    for d in range(len(shape)):
        for keepdim in (False, True):
            check_sum(t, x, d, keepdim)
            check_mean(t, x, d, keepdim)
            check_var(t, x, d, keepdim, 1)
            if x.shape[d] > 0:  # the reduced dim is not empty: an empty result
                check_extreme(t, x, d, keepdim)
                check_arg(t, x, d, keepdim)


@pytest.mark.parametrize("op", ["amax", "amin", "argmax", "argmin", "max", "min"])
@pytest.mark.parametrize("shape,dim", [((0,), None), ((0,), 0), ((0, 3), 0), ((0, 3), None), ((3, 0), 1),
                                       ((3, 0), -1), ((2, 0, 4), 1)], ids=str)
def test_empty_reduction_raises(op, shape, dim):
    t = T(np.zeros(shape, np.float32))
    with pytest.raises(ValueError) as info:
        getattr(t, op)(dim)
    msg = str(info.value)
    name = {"max": "amax", "min": "amin"}.get(op, op)
    assert name in msg, msg
    assert msg.startswith("["), msg


@pytest.mark.parametrize("op", ["amax", "amin"])
def test_empty_reduction_raises_tuple_dims(op):
    t = T(np.zeros((2, 0, 4), np.float32))
    with pytest.raises(ValueError, match=op):
        getattr(t, op)((0, 1))
    assert getattr(t, op)((0, 2)).shape == (0,)  # the result is empty: nothing to reduce, no error


# ---------------------------------------------------------------------------
# non-contiguous inputs
# ---------------------------------------------------------------------------

VIEWS = {
    "T": ((13, 7), lambda x: x.T),
    "step": ((10, 12), lambda x: x[::2, 1::3]),
    "neg1d": ((31,), lambda x: x[::-1]),
    "neg2d": ((9, 11), lambda x: x[::-1, ::-2]),
    "transpose3d": ((3, 4, 5), lambda x: x.transpose(0, 2, 1) if isinstance(x, np.ndarray) else x.transpose(1, 2)),
    "permute4d": ((2, 3, 4, 5), lambda x: x.transpose(3, 1, 0, 2) if isinstance(x, np.ndarray) else x.permute(3, 1, 0, 2)),
    "expand": ((1, 13), "expand"),
}


def make_view(name, x):
    shape, fn = VIEWS[name]
    t = T(x)
    if fn == "expand":
        return t.expand(6, 13), np.broadcast_to(x, (6, 13))
    return fn(t), fn(x)


@pytest.mark.parametrize("name", list(VIEWS))
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int32, np.bool_], ids=lambda d: np.dtype(d).name)
def test_noncontiguous(backend, rng, name, dt):
    x = data(rng, VIEWS[name][0], dt)
    tv, xv = make_view(name, x)
    assert tv.shape == xv.shape
    for d in [None] + list(range(xv.ndim)) + ([(0, xv.ndim - 1)] if xv.ndim > 1 else []):
        check_all(tv, xv, d)
        check_all(tv, xv, d, True)
        if d is None or isinstance(d, int):
            check_arg(tv, xv, d)


# ---------------------------------------------------------------------------
# var / std corrections
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("correction", [0, 1, 2, 5])
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int64], ids=lambda d: np.dtype(d).name)
def test_var_corrections(backend, rng, dt, correction):
    for shape in [(5,), (2, 5), (5, 1031), (1031, 5), (1, 3)]:
        x = data(rng, shape, dt)
        t = T(x)
        for d in [None] + list(range(len(shape))):
            check_var(t, x, d, False, correction)  # n - correction <= 0 gives inf/nan as np.var(ddof=...)


def test_var_large_offset(backend, rng):
    # two-pass var: no cancellation for data far from 0 (E[x^2] - E[x]^2 would lose everything here)
    x = (1e4 + rng.standard_normal(10007)).astype(np.float32)
    check_var(T(x), x, None)
    x64 = 1e8 + rng.standard_normal(10003)
    check_var(T(x64), x64, None)
    check_var(T(x64.reshape(7, 1429)), x64.reshape(7, 1429), 1)


def test_var_constant_is_zero(backend):
    for dt in FLOATS:
        x = np.full((4, 33), 0.1, dt)
        check_var(T(x), x, 1)
        check_var(T(x), x, 0)


# ---------------------------------------------------------------------------
# NaN, inf, ties
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(6, 37), (37, 6), (5, 1031), (1031, 5), (3, 4, 5)], ids=str)
def test_nan_propagation(backend, rng, dt, shape):
    x = data(rng, shape, dt)
    flat = x.reshape(-1)
    flat[rng.random(flat.size) < 0.05] = np.nan
    x[0] = np.nan  # an all-NaN slice
    x[(slice(None),) * (len(shape) - 1) + (0,)] = np.nan  # NaN first along the inner dim
    x[(1,) + (slice(None),) * (len(shape) - 1)][..., -1] = np.nan  # and last
    t = T(x)
    for d in [None] + list(range(len(shape))):
        check_extreme(t, x, d)
        check_arg(t, x, d)
        check_sum(t, x, d)
    if len(shape) == 3:
        check_extreme(t, x, (0, 2))


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_single_nan_positions(backend, dt):
    for n in (1, 7, 16, 17, 64, 100):
        for pos in sorted({0, n // 2, n - 1}):
            x = np.arange(n, dtype=dt)
            x[pos] = np.nan
            check_extreme(T(x), x, None)
            check_arg(T(x), x, None)
            x2 = np.stack([x, x[::-1], np.arange(n, dtype=dt)], axis=1)  # NaN along dim 0, pattern B
            check_extreme(T(x2), x2, 0)
            check_arg(T(x2), x2, 0)


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_all_inf(backend, dt):
    for shape in [(1,), (37,), (5, 37), (37, 5)]:
        for v in (-np.inf, np.inf):
            x = np.full(shape, v, dt)
            t = T(x)
            for d in [None] + list(range(len(shape))):
                check_extreme(t, x, d)
                check_arg(t, x, d)
        x = np.full(shape, -np.inf, dt)
        x.reshape(-1)[-1] = np.inf
        check_arg(T(x), x, None)
        check_extreme(T(x), x, None)
        x = np.full(shape, np.inf, dt)
        x.reshape(-1)[-1] = -np.inf
        check_arg(T(x), x, None)
        check_sum(T(x), x, None)


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int32, np.int64, np.bool_], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(5,), (4, 37), (37, 4), (3, 4, 5), (2, 1031)], ids=str)
def test_ties_first_index(backend, rng, dt, shape):
    x = rng.integers(0, 3, shape).astype(dt)  # many ties
    t = T(x)
    for d in [None] + list(range(len(shape))):
        check_arg(t, x, d)
    y = np.zeros(shape, dt)
    check_arg(T(y), y, None)
    for d in range(len(shape)):
        check_arg(T(y), y, d)


def test_ties_explicit(backend):
    x = np.array([1, 3, 3, 2, 3, -1, -1], np.float32)
    assert T(x).argmax().item() == 1
    assert T(x).argmin().item() == 5
    assert T(x).max(0).indices.item() == 1


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("op", ["sum", "mean", "var", "std", "amax", "amin", "max", "min"])
@pytest.mark.parametrize("dims", [(0, 0), (2, -1), (0, 2, -1), (-3, 0), [1, 1]], ids=str)
def test_duplicate_dims_raise(op, dims):
    t = T(np.ones((2, 3, 4), np.float32))
    with pytest.raises(ValueError):
        getattr(t, op)(dims)


@pytest.mark.parametrize("op", ["sum", "mean", "var", "std", "amax", "amin", "max", "min", "argmax", "argmin"])
@pytest.mark.parametrize("dim", [3, -4, 100], ids=str)
def test_out_of_range_dim_raises(op, dim):
    t = T(np.ones((2, 3, 4), np.float32))
    with pytest.raises(IndexError):
        getattr(t, op)(dim)


@pytest.mark.parametrize("op", ["sum", "mean", "var", "amax", "amin"])
def test_out_of_range_dim_in_tuple_raises(op):
    t = T(np.ones((2, 3, 4), np.float32))
    with pytest.raises(IndexError):
        getattr(t, op)((0, 3))
    with pytest.raises(IndexError):
        getattr(t, op)((-4, 1))


# ---------------------------------------------------------------------------
# large reductions (parallel paths)
# ---------------------------------------------------------------------------

BIG = 1_000_003


@pytest.fixture(scope="module")
def big():
    rng = np.random.default_rng(99)
    return {
        "pos32": rng.random(BIG).astype(np.float32),
        "mix32": (rng.standard_normal(BIG) * 10 + 0.25).astype(np.float32),
        "mix64": rng.standard_normal(BIG) * 1e3,
        "int32": rng.integers(-1000, 1000, BIG).astype(np.int32),
    }


@pytest.mark.parametrize("key", ["pos32", "mix32", "mix64", "int32"])
def test_large_full_reduction(backend, threads, big, key):
    x = big[key]
    t = T(x)
    check_sum(t, x)
    check_mean(t, x)
    check_var(t, x, None, False, 1)
    check_extreme(t, x)
    check_arg(t, x)
    if key == "pos32":
        # float32 sums accumulate in float64: within one rounding of the float64 sum
        s = t.sum().item()
        ref = float(np.sum(x, dtype=np.float64))
        assert abs(s - ref) <= eps_of(np.float32) * abs(ref), (s, ref)


@pytest.mark.parametrize("where", ["first_half", "second_half"])
def test_large_arg_ties_and_nan_across_chunks(backend, threads, where):
    n = BIG
    x = np.zeros(n, np.float32)
    # the maximum twice, on both sides of the middle (a 2-thread split), and the minimum likewise
    x[n // 4] = x[3 * n // 4] = 5.0
    x[n // 3] = x[n - 2] = -5.0
    check_arg(T(x), x)
    check_extreme(T(x), x)
    pos = n // 5 if where == "first_half" else 4 * n // 5
    x[pos] = np.nan
    x[n - 1] = np.nan
    check_arg(T(x), x)
    check_extreme(T(x), x)
    y = np.full(n, -np.inf, np.float32)
    check_arg(T(y), y)
    check_extreme(T(y), y)


@pytest.mark.parametrize("shape,dims", [((3, 333337), 1), ((2, 500001), 1), ((2, 500001), 0), ((1000, 1031), 0),
                                        ((1031, 1000), 1), ((40, 50, 521), (0, 2)), ((40, 50, 521), (0, 1)),
                                        ((40, 50, 521), 1), ((1, 1000003), 1)], ids=str)
def test_large_patterns(backend, threads, shape, dims):
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(shape) + 0.5).astype(np.float32)
    t = T(x)
    check_sum(t, x, dims)
    check_mean(t, x, dims, True)
    check_var(t, x, dims, False, 1)
    check_extreme(t, x, dims)
    if isinstance(dims, int):
        check_arg(t, x, dims)


def test_large_noncontiguous(backend, threads):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((1031, 977)).astype(np.float32)
    tv, xv = T(x).T, x.T
    for d in (None, 0, 1):
        check_sum(tv, xv, d)
        check_extreme(tv, xv, d)
        check_arg(tv, xv, d)


# ---------------------------------------------------------------------------
# CPU state left behind by the kernels
# ---------------------------------------------------------------------------

def _x87_ok():
    """True when long double (x87) arithmetic works: a kernel that runs MMX instructions
    without EMMS leaves every x87 register tagged in use, and the next long double load
    then overflows the register stack and yields NaN."""
    with np.errstate(all="ignore"):
        a = np.array([1.5, 2.5], np.float32).astype(np.longdouble)
        b = a * np.longdouble(3) + a
    return not np.isnan(a).any() and not np.isnan(b).any() and b.tolist() == [6.0, 10.0]


@pytest.mark.parametrize("dt", DTYPES, ids=lambda d: np.dtype(d).name)
def test_x87_fpu_state_clean_after_reductions(isa, rng, dt):
    _x87_ok()  # absorb whatever an earlier test left behind
    bad = []
    for shape, dims in [((37,), None), ((5, 37), 1), ((37, 5), 0), ((3, 4, 5), (0, 2))]:
        x = data(rng, shape, dt)
        t = T(x)
        for op in ("sum", "mean", "var", "amax", "amin", "argmax", "argmin"):
            d = dims if op not in ("argmax", "argmin") or not isinstance(dims, tuple) else 0
            getattr(t, op)(d)
            if not _x87_ok():
                bad.append(f"{op}(dim={d}) on {np.dtype(dt).name} {shape}")
                _x87_ok()
    assert not bad, "long double arithmetic gives NaN after: " + "; ".join(bad)
