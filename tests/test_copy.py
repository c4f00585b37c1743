"""contiguous(), clone(), dtype casts, copy_/fill_/zero_ and assignment into
views (broadcasting, overlapping self-assignment, expanded views)."""
import math

import numpy as np
import pytest

import dlcore

ALL_DTYPES = [dlcore.bool_, dlcore.int32, dlcore.int64, dlcore.float32, dlcore.float64]
NP_OF = {dlcore.bool_: np.bool_, dlcore.int32: np.int32, dlcore.int64: np.int64,
         dlcore.float32: np.float32, dlcore.float64: np.float64}
INT_DTYPES = [dlcore.int32, dlcore.int64]
FLOAT_DTYPES = [dlcore.float32, dlcore.float64]


def shares(t, u):
    return np.shares_memory(np.asarray(t), np.asarray(u))


def check(t, expected):
    a = np.asarray(t)
    assert t.shape == expected.shape
    assert a.dtype == expected.dtype
    np.testing.assert_array_equal(a, expected)


def ref_float_to_int(x, bits):
    """The documented float -> int cast: truncation toward zero, saturation at
    the integer range, NaN -> 0."""
    x = float(x)
    if math.isnan(x):
        return 0
    hi, lo = 2 ** (bits - 1) - 1, -(2 ** (bits - 1))
    if x >= 2.0 ** (bits - 1):
        return hi
    if x <= -(2.0 ** (bits - 1)):
        return lo
    return int(x)  # truncates toward zero


SPECIAL = [0.0, -0.0, 0.5, -0.5, 0.99, -0.99, 1.9, -1.9, 2.5, -2.5, 1e6 + 0.75, np.nan, np.inf, -np.inf,
           1e30, -1e30, 2.0 ** 31, -2.0 ** 31, -2.0 ** 31 - 1, 2.0 ** 31 - 1, 2147483520.0, -2147483520.0,
           2.0 ** 62, 2.0 ** 63, -2.0 ** 63, 2.0 ** 64, -2.0 ** 64, 3e9, -3e9, 1e-30, -1e-30]

VIEWS = {
    "contiguous": lambda t: t,
    "T": lambda t: t.T,
    "step": lambda t: t[::2, 1::3],
    "negative": lambda t: t[::-1, ::-2],
    "expanded": lambda t: t[:1].expand(5, 7),
    "0d": lambda t: t[1, 2],
    "empty": lambda t: t[2:2],
    "unsqueezed": lambda t: t.T[None, :, 3:4],
}


def base(dtype, shape=(6, 7)):
    a = (np.arange(np.prod(shape)).reshape(shape) % 5).astype(NP_OF[dtype])
    return dlcore.tensor(a, dtype=dtype), a


NP_VIEWS = {
    "contiguous": lambda a: a,
    "T": lambda a: a.T,
    "step": lambda a: a[::2, 1::3],
    "negative": lambda a: a[::-1, ::-2],
    "expanded": lambda a: np.broadcast_to(a[:1], (5, 7)),
    "0d": lambda a: a[1, 2],
    "empty": lambda a: a[2:2],
    "unsqueezed": lambda a: a.T[None, :, 3:4],
}


# ---- contiguous / clone --------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("view", list(VIEWS))
def test_contiguous(dtype, view):
    t, a = base(dtype)
    v = VIEWS[view](t)
    expected = np.asarray(NP_VIEWS[view](a))
    c = v.contiguous()
    assert c.is_contiguous()
    assert c.dtype == dtype
    want = np.array(expected, order="C", copy=True)
    check(c, want)
    for n, st, nst in zip(c.shape, c.strides, want.strides):
        if n > 1 and c.numel():
            assert st == nst // want.itemsize  # C order (size-1 dims may have any stride)
    if v.is_contiguous():
        assert c.data_ptr() == v.data_ptr()  # no copy
    else:
        assert not shares(c, t)
        c.fill_(1)  # a copy: the source is untouched
        check(v, expected)
    assert dlcore.contiguous(v).shape == v.shape


@pytest.mark.parametrize("view", list(VIEWS))
def test_clone(view):
    t, a = base(dlcore.float32)
    v = VIEWS[view](t)
    expected = np.asarray(NP_VIEWS[view](a))
    c = v.clone()
    check(c, expected)
    assert c.is_contiguous()
    if c.numel():
        assert not shares(c, t)
    c.fill_(-1)
    check(v, expected)
    assert dlcore.clone(v).shape == v.shape


def test_contiguous_large_strided(threads, isa):
    a = np.arange(400 * 600, dtype=np.float64).reshape(400, 600)
    t = dlcore.tensor(a)
    for tv, av in [(t.T, a.T), (t[::-1, ::3], a[::-1, ::3]), (t[:, 1:-1], a[:, 1:-1])]:
        c = tv.contiguous()
        assert c.is_contiguous()
        np.testing.assert_array_equal(np.asarray(c), av)


# ---- casts ---------------------------------------------------------------------------------

@pytest.mark.parametrize("src", ALL_DTYPES)
@pytest.mark.parametrize("dst", ALL_DTYPES)
@pytest.mark.parametrize("view", ["contiguous", "T", "negative", "expanded", "0d", "empty"])
def test_cast_matches_numpy(src, dst, view):
    a = (np.arange(42).reshape(6, 7) * 3 - 50).astype(NP_OF[src])
    if src in FLOAT_DTYPES:
        a = a + np.asarray(0.25, a.dtype) * np.sign(a)
    t = dlcore.tensor(a, dtype=src)
    v = VIEWS[view](t)
    expected = np.asarray(NP_VIEWS[view](a)).astype(NP_OF[dst])  # in range: NumPy truncates as well
    r = v.to(dst)
    assert r.dtype == dst
    check(r, expected)
    if src != dst:  # to(dtype) with the same dtype changes nothing and may return a view
        assert r.is_contiguous()
        if r.numel():
            assert not shares(r, t)


@pytest.mark.parametrize("src", FLOAT_DTYPES)
@pytest.mark.parametrize("dst,bits", [(dlcore.int32, 32), (dlcore.int64, 64)])
def test_float_to_int_saturates_and_nan_is_zero(src, dst, bits, isa):
    vals = np.array(SPECIAL, dtype=NP_OF[src])
    expected = [ref_float_to_int(x, bits) for x in vals]
    t = dlcore.tensor(vals, dtype=src)
    assert t.to(dst).tolist() == expected
    # Long, so that the SIMD conversion loop sees them; and strided.
    big = dlcore.tensor(np.tile(vals, 37), dtype=src)
    assert big.to(dst).tolist() == expected * 37
    assert big[::-1].to(dst).tolist() == (expected * 37)[::-1]
    assert big[::3].to(dst).tolist() == (expected * 37)[::3]


def test_float_to_int_parallel(threads):
    vals = np.array(SPECIAL, dtype=np.float64)
    n = 200_000
    a = np.resize(vals, n)
    expected = np.array([ref_float_to_int(x, 32) for x in vals], dtype=np.int32)
    exp = np.resize(expected, n)
    np.testing.assert_array_equal(np.asarray(dlcore.tensor(a).to("int32")), exp)
    np.testing.assert_array_equal(np.asarray(dlcore.tensor(a.reshape(400, 500)).T.to("int32")),
                                  exp.reshape(400, 500).T)


@pytest.mark.parametrize("src", FLOAT_DTYPES)
def test_float_to_bool(src, isa):
    vals = np.array(SPECIAL, dtype=NP_OF[src])
    expected = [not (x == 0) for x in vals]  # NaN -> True
    t = dlcore.tensor(np.tile(vals, 9), dtype=src)
    assert t.to("bool").tolist() == expected * 9


@pytest.mark.parametrize("src", INT_DTYPES)
def test_int_to_bool_and_back(src, isa):
    a = np.array([0, 1, -1, 2, 2 ** 30, -(2 ** 31)] * 20, dtype=NP_OF[src])
    b = dlcore.tensor(a, dtype=src).to("bool")
    check(b, a != 0)
    for dst in ALL_DTYPES:
        check(b.to(dst), (a != 0).astype(NP_OF[dst]))


def test_int64_to_int32_wraps_like_numpy(isa):
    a = np.array([2 ** 31, 2 ** 32 + 5, -(2 ** 31) - 1, 2 ** 40 + 7, -(2 ** 62), 123] * 11, dtype=np.int64)
    check(dlcore.tensor(a).to("int32"), a.astype(np.int32))


def test_int_to_float_rounding(isa):
    a = np.array([2 ** 24 + 1, 2 ** 53 + 1, -(2 ** 63), 2 ** 63 - 1, 16777217, 3] * 11, dtype=np.int64)
    check(dlcore.tensor(a).to("float32"), a.astype(np.float32))
    check(dlcore.tensor(a).to("float64"), a.astype(np.float64))


def test_float64_to_float32(isa):
    a = np.array([1e300, -1e300, 1e-300, np.nan, np.inf, -np.inf, 0.1, -0.0, 3.4028235e38, 1.0000000596046448]
                 * 7, dtype=np.float64)
    with np.errstate(over="ignore"):
        expected = a.astype(np.float32)
    r = dlcore.tensor(a).to("float32")
    np.testing.assert_array_equal(np.asarray(r), expected)
    assert np.signbit(np.asarray(r)[7])
    check(r.to("float64"), expected.astype(np.float64))


# ---- copy_ ---------------------------------------------------------------------------------

def test_copy_same_shape_returns_self():
    dst = dlcore.zeros(2, 3)
    src = dlcore.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    out = dst.copy_(src)
    assert out is dst
    assert dst.tolist() == [[1, 2, 3], [4, 5, 6]]
    src[0, 0] = 100  # a copy, not an alias
    assert dst[0, 0].item() == 1


@pytest.mark.parametrize("src_shape", [(3,), (1, 3), (2, 1), (1, 1), (), (2, 3)])
def test_copy_broadcasts(src_shape):
    src_a = np.arange(int(np.prod(src_shape)), dtype=np.float32).reshape(src_shape) + 1
    dst = dlcore.zeros(2, 3)
    dst.copy_(dlcore.tensor(src_a))
    check(dst, np.broadcast_to(src_a, (2, 3)).astype(np.float32))


@pytest.mark.parametrize("src_shape", [(4,), (3, 3), (2, 2, 3), (3, 2)])
def test_copy_incompatible_shape_raises(src_shape):
    dst = dlcore.zeros(2, 3)
    with pytest.raises(ValueError, match=r"\[copy_\]"):
        dst.copy_(dlcore.zeros(src_shape))
    assert dst.tolist() == [[0, 0, 0], [0, 0, 0]]


@pytest.mark.parametrize("src", ALL_DTYPES)
@pytest.mark.parametrize("dst", ALL_DTYPES)
def test_copy_casts(src, dst):
    a = (np.arange(12).reshape(3, 4) - 5).astype(NP_OF[src])
    d = dlcore.zeros(4, 3, dtype=dst)
    d.copy_(dlcore.tensor(a, dtype=src).T)
    check(d, a.T.astype(NP_OF[dst]))


def test_copy_from_numpy_list_and_scalars():
    d = dlcore.zeros(2, 3, dtype=dlcore.int32)
    d.copy_(np.array([[1.9, 2.1, -3.7], [4, 5, 6]]))
    assert d.dtype == dlcore.int32
    assert d.tolist() == [[1, 2, -3], [4, 5, 6]]
    d.copy_([7, 8, 9])
    assert d.tolist() == [[7, 8, 9], [7, 8, 9]]
    d.copy_(5)
    assert d.tolist() == [[5] * 3] * 2
    d.copy_(np.int64(6))
    assert d.tolist() == [[6] * 3] * 2
    d.copy_(2.7)
    assert d.tolist() == [[2] * 3] * 2


def test_copy_into_noncontiguous_destination(threads, isa):
    a = np.zeros((300, 500), dtype=np.float64)
    t = dlcore.tensor(a)
    src = np.arange(250 * 300, dtype=np.int32).reshape(250, 300)
    t.T[::2].copy_(dlcore.tensor(src))
    a.T[::2] = src
    np.testing.assert_array_equal(np.asarray(t), a)


def test_copy_wrong_type_raises():
    d = dlcore.zeros(3)
    with pytest.raises(TypeError, match=r"\[\w+\]"):
        d.copy_("abc")
    with pytest.raises(TypeError, match=r"\[\w+\]"):
        d.copy_(object())


# ---- fill_ / zero_ -------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("value", [0, 1, True, False, 3, -2, 2.75, -2.75])
def test_fill(dtype, value):
    t = dlcore.empty(3, 4, dtype=dtype)
    out = t.fill_(value)
    assert out is t
    if dtype == dlcore.bool_:
        v = value != 0
    elif dtype in INT_DTYPES:
        v = int(value)  # truncation toward zero
    else:
        v = float(value)
    expected = np.full((3, 4), v, dtype=NP_OF[dtype])
    check(t, expected)


def test_fill_views_and_zero():
    a = np.arange(30.0).reshape(5, 6)
    t = dlcore.tensor(a)
    t[::2, 1::2].fill_(-1)
    a[::2, 1::2] = -1
    check(t, a)
    t.T[::-1][:2].zero_()
    a.T[::-1][:2] = 0
    check(t, a)
    t[2, 3].fill_(7)
    a[2, 3] = 7
    check(t, a)
    assert t.zero_() is t
    assert t.tolist() == np.zeros((5, 6)).tolist()


def test_fill_large_parallel(threads, isa):
    t = dlcore.empty(700, 300, dtype=dlcore.int32)
    t.fill_(-5)
    assert np.all(np.asarray(t) == -5)
    t.T[::3].fill_(9)
    a = np.full((700, 300), -5, dtype=np.int32)
    a.T[::3] = 9
    np.testing.assert_array_equal(np.asarray(t), a)


@pytest.mark.parametrize("dtype,bits", [(dlcore.int32, 32), (dlcore.int64, 64)])
@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf"), 1e30, -1e30, 1e10, -1e10, 2.0 ** 63])
def test_fill_int_with_out_of_range_float_follows_cast_rules(dtype, bits, value):
    # csrc/cpu/copy.cpp: the copy routine is behind "fills from a scalar" too, and
    # float -> int saturates, NaN -> 0. A fill must give what a cast gives.
    expected = ref_float_to_int(value, bits)
    cast = dlcore.tensor([value], dtype=dlcore.float64).to(dtype).item()
    assert cast == expected
    t = dlcore.zeros(4, dtype=dtype)
    t.fill_(value)
    assert t.tolist() == [expected] * 4
    t2 = dlcore.zeros(4, dtype=dtype)
    t2[1:3] = value
    assert t2.tolist() == [0, expected, expected, 0]
    assert dlcore.full((2,), value, dtype=dtype).tolist() == [expected] * 2


def test_fill_bool_with_nan_and_numbers():
    t = dlcore.zeros(3, dtype=dlcore.bool_)
    t.fill_(float("nan"))
    assert t.tolist() == [True] * 3
    t.fill_(0.0)
    assert t.tolist() == [False] * 3
    t.fill_(-3)
    assert t.tolist() == [True] * 3
    t.fill_(0.25)
    assert t.tolist() == [True] * 3


def test_fill_wrong_type_raises():
    t = dlcore.zeros(3)
    with pytest.raises((TypeError, ValueError), match=r"\[fill\]"):
        t.fill_("x")


def test_fill_int_too_large_raises():
    t = dlcore.zeros(3, dtype=dlcore.int64)
    with pytest.raises(ValueError, match=r"\[fill\]"):
        t.fill_(2 ** 64)


# ---- __setitem__ --------------------------------------------------------------------------

SETITEM_CASES = [
    (0, 5.0),
    (-1, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    ((slice(None), 0), -1.0),
    ((slice(None), 0), [1.0, 2.0, 3.0, 4.0]),
    ((Ellipsis, slice(1, 3)), [[7.0], [8.0], [9.0], [10.0]]),
    ((slice(None, None, 2), slice(None, None, -2)), 3.5),
    ((slice(1, 3), slice(None, None, 3)), np.array([[1.0, 2.0], [3.0, 4.0]])),
    ((1, 2), 99.0),
    (slice(None), np.arange(6.0)),
    (Ellipsis, 0.0),
    ((None, slice(1, 2)), [[[42.0] * 6]]),
    (slice(3, 1), 1.0),
    ((slice(None, None, -1), 2), np.array([1, 2, 3, 4], dtype=np.int64)),
]


@pytest.mark.parametrize("key,value", SETITEM_CASES, ids=repr)
def test_setitem_matches_numpy(key, value):
    a = np.arange(24.0).reshape(4, 6)
    t = dlcore.tensor(a)
    t[key] = value
    a[key] = value
    check(t, a)


def test_setitem_with_tensor_values_and_casts():
    a = np.zeros((3, 4), dtype=np.int32)
    t = dlcore.tensor(a)
    src = dlcore.tensor([[1.7, -2.9, 3.2, 4.9]], dtype=dlcore.float64)
    t[1:] = src
    a[1:] = np.array([[1, -2, 3, 4]])
    check(t, a)
    t[0] = dlcore.tensor([True, False, True, True])
    a[0] = [1, 0, 1, 1]
    check(t, a)
    t[:, 1] = dlcore.arange(3)
    a[:, 1] = np.arange(3)
    check(t, a)
    t[0, 0] = 2.9
    a[0, 0] = 2
    check(t, a)
    b = dlcore.zeros(3, dtype=dlcore.bool_)
    b[1] = 5
    assert b.tolist() == [False, True, False]


def test_setitem_0d_tensor():
    z = dlcore.full((), 1.0)
    z[...] = 3.0
    assert z.item() == 3.0
    z[()] = 4.0
    assert z.item() == 4.0


def test_setitem_shape_mismatch_raises():
    t = dlcore.zeros(3, 4)
    with pytest.raises(ValueError, match=r"\[copy_\]"):
        t[0] = [1.0, 2.0, 3.0]
    with pytest.raises(ValueError, match=r"\[copy_\]"):
        t[:, 0] = dlcore.zeros(4)
    with pytest.raises(ValueError, match=r"\[copy_\]"):
        t[0] = dlcore.zeros(2, 4)


def test_setitem_index_errors():
    t = dlcore.zeros(3, 4)
    with pytest.raises(IndexError, match=r"^\[select\]"):
        t[3] = 1.0
    with pytest.raises(IndexError, match=r"^\[setitem\] too many indices"):
        t[0, 0, 0] = 1.0
    with pytest.raises(IndexError, match=r"^\[setitem\] assignment through integer or bool arrays"):
        t[[0, 1]] = 1.0
    with pytest.raises(IndexError, match=r"^\[setitem\] assignment through integer or bool arrays"):
        t[dlcore.tensor([True, False, True])] = 1.0
    assert t.tolist() == np.zeros((3, 4)).tolist()


# ---- overlapping self-assignment -------------------------------------------------------------

OVERLAP_CASES = [
    ("x[1:] = x[:-1]", lambda x: x.__setitem__(slice(1, None), x[:-1])),
    ("x[:-1] = x[1:]", lambda x: x.__setitem__(slice(None, -1), x[1:])),
    ("x[::-1] = x", lambda x: x.__setitem__(slice(None, None, -1), x)),
    ("x[:] = x[::-1]", lambda x: x.__setitem__(slice(None), x[::-1])),
    ("x[2::2] = x[:-2:2]", lambda x: x.__setitem__(slice(2, None, 2), x[:-2:2])),
    ("x[3:] = x[:-3]", lambda x: x.__setitem__(slice(3, None), x[:-3])),
    ("x[1:].copy_(x[:-1])", lambda x: x[1:].copy_(x[:-1])),
    ("x[:-1:2] = x[1::2]", lambda x: x.__setitem__(slice(None, -1, 2), x[1::2])),
]
NP_OVERLAP = {
    "x[1:] = x[:-1]": lambda a: a.__setitem__(slice(1, None), a[:-1]),
    "x[:-1] = x[1:]": lambda a: a.__setitem__(slice(None, -1), a[1:]),
    "x[::-1] = x": lambda a: a.__setitem__(slice(None, None, -1), a),
    "x[:] = x[::-1]": lambda a: a.__setitem__(slice(None), a[::-1]),
    "x[2::2] = x[:-2:2]": lambda a: a.__setitem__(slice(2, None, 2), a[:-2:2]),
    "x[3:] = x[:-3]": lambda a: a.__setitem__(slice(3, None), a[:-3]),
    "x[1:].copy_(x[:-1])": lambda a: a.__setitem__(slice(1, None), a[:-1]),
    "x[:-1:2] = x[1::2]": lambda a: a.__setitem__(slice(None, -1, 2), a[1::2]),
}


@pytest.mark.parametrize("name,op", OVERLAP_CASES, ids=[c[0] for c in OVERLAP_CASES])
@pytest.mark.parametrize("n", [10, 100_003])
def test_overlapping_self_assignment_1d(name, op, n, threads):
    a = np.arange(n, dtype=np.float64)
    x = dlcore.tensor(a)
    op(x)
    NP_OVERLAP[name](a)  # NumPy handles overlap as if through a temporary
    np.testing.assert_array_equal(np.asarray(x), a)


def test_overlapping_self_assignment_2d():
    a = np.arange(36.0).reshape(6, 6)
    x = dlcore.tensor(a)
    x[:] = x.T
    a[:] = a.T.copy()
    check(x, a)
    x[1:, 1:] = x[:-1, :-1]
    a[1:, 1:] = a[:-1, :-1].copy()
    check(x, a)
    x[:, ::-1] = x
    a[:, ::-1] = a.copy()
    check(x, a)
    x[2:] = x[0]  # broadcast of a row of the destination's own storage
    a[2:] = a[0].copy()
    check(x, a)
    y = dlcore.tensor(np.arange(24, dtype=np.int32).reshape(4, 6))
    b = np.arange(24, dtype=np.int32).reshape(4, 6)
    y.view(6, 4)[1:] = y.view(6, 4)[:-1]
    b.reshape(6, 4)[1:] = b.reshape(6, 4)[:-1].copy()
    check(y, b)


def test_overlapping_assignment_with_cast():
    x = dlcore.tensor(np.arange(10, dtype=np.int32))
    y = x.view(10)
    x[1:] = y[:-1].to("int32")
    assert x.tolist() == [0, 0, 1, 2, 3, 4, 5, 6, 7, 8]


@pytest.mark.parametrize("alias", ["from_dlpack", "from_numpy"])
@pytest.mark.parametrize("step", [1, 2])
def test_overlap_through_an_aliasing_tensor(alias, step):
    # Two tensors over the same memory made by a zero-copy import (another Storage
    # object, same bytes): the assignment must still read a snapshot.
    x = dlcore.arange(20.0, dtype=dlcore.float64)
    y = dlcore.from_dlpack(x) if alias == "from_dlpack" else dlcore.from_numpy(np.asarray(x))
    assert shares(x, y)
    a = np.arange(20.0)
    x[step::step] = y[:-step:step]
    a[step::step] = a[:-step:step].copy()
    check(x, a)


# ---- writing into expanded views --------------------------------------------------------------

def test_write_into_expanded_view_raises():
    base_ = dlcore.tensor([1.0, 2.0, 3.0])
    e = base_.expand(4, 3)
    with pytest.raises(ValueError, match=r"\[copy_\].*broadcast"):
        e[:] = 5.0
    with pytest.raises(ValueError, match=r"\[copy_\]"):
        e.fill_(0)
    with pytest.raises(ValueError, match=r"\[copy_\]"):
        e.zero_()
    with pytest.raises(ValueError, match=r"\[copy_\]"):
        e.copy_(dlcore.zeros(4, 3))
    with pytest.raises(ValueError, match=r"\[copy_\]"):
        e[:, 1] = dlcore.zeros(4)
    with pytest.raises(ValueError, match=r"\[copy_\]"):
        e += 1
    assert base_.tolist() == [1.0, 2.0, 3.0]


def test_write_into_expanded_leading_dim_raises():
    u = dlcore.zeros(1, 3).expand(2, 4, 3)
    with pytest.raises(ValueError, match=r"\[copy_\]"):
        u[0] = 1.0
    s = dlcore.full((), 1.0).expand(5)
    with pytest.raises(ValueError, match=r"\[copy_\]"):
        s.fill_(2.0)


def test_expand_to_size_one_is_writable():
    t = dlcore.zeros(1, 3)
    e = t.expand(1, 3)
    e.fill_(2.0)
    assert t.tolist() == [[2.0, 2.0, 2.0]]
    w = dlcore.zeros(3, 1).expand(3, 1)
    w[:] = 4.0
    assert w.tolist() == [[4.0]] * 3


# ---- in-place arithmetic writes through views -------------------------------------------------

def test_inplace_ops_on_views():
    a = np.arange(12.0).reshape(3, 4)
    t = dlcore.tensor(a)
    v = t[:, 1::2]
    v += 1
    a[:, 1::2] += 1
    check(t, a)
    v = t.T
    v *= 2
    a *= 2
    check(t, a)
