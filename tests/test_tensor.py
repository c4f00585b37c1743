"""Tensor attributes, views, indexing, repr, conversions, errors, and the
runtime functions (cpu_info, set_num_threads, set_cpu_isa, dlcore.cuda)."""
import operator
import os
import subprocess
import sys

import numpy as np
import pytest

import dlcore

ALL_DTYPES = [dlcore.bool_, dlcore.int32, dlcore.int64, dlcore.float32, dlcore.float64]
NP_OF = {dlcore.bool_: np.bool_, dlcore.int32: np.int32, dlcore.int64: np.int64,
         dlcore.float32: np.float32, dlcore.float64: np.float64}


def arange_np(shape, dtype=np.float64):
    return np.arange(int(np.prod(shape)), dtype=dtype).reshape(shape)


def make(shape, dtype=np.float64):
    """A fresh dlcore tensor and a NumPy copy of its values."""
    a = arange_np(shape, dtype)
    return dlcore.tensor(a), a


def shares(t, u):
    return np.shares_memory(np.asarray(t), np.asarray(u))


def check(t, expected):
    """t's shape, and values, equal the NumPy array's."""
    a = np.asarray(t)
    assert t.shape == expected.shape
    assert a.shape == expected.shape
    np.testing.assert_array_equal(a, expected)


def scalar0d(value, dtype=None):
    return dlcore.full((), value, dtype=dtype)


# ---- attributes -----------------------------------------------------------------

def test_attributes_contiguous():
    t, _ = make((2, 3, 4))
    assert t.shape == (2, 3, 4)
    assert t.size() == (2, 3, 4) and t.size(1) == 3 and t.size(-1) == 4
    assert t.ndim == 3 and t.dim() == 3
    assert t.numel() == 24
    assert t.strides == (12, 4, 1) and t.stride() == (12, 4, 1) and t.stride(0) == 12
    assert t.dtype == dlcore.float64
    assert t.itemsize == 8 and t.element_size() == 8
    assert t.nbytes == 24 * 8
    assert t.device == "cpu" and t.device.type == "cpu"
    assert t.is_contiguous()
    assert isinstance(t.data_ptr(), int) and t.data_ptr() != 0
    assert len(t) == 2


@pytest.mark.parametrize("dt", ALL_DTYPES)
def test_itemsize_per_dtype(dt):
    t = dlcore.zeros(5, dtype=dt)
    assert t.dtype == dt
    assert t.itemsize == np.dtype(NP_OF[dt]).itemsize
    assert t.nbytes == 5 * t.itemsize
    assert np.asarray(t).dtype == NP_OF[dt]


def test_dtype_properties_and_repr():
    assert dlcore.float32.is_floating_point and dlcore.float64.is_floating_point
    assert not dlcore.int32.is_floating_point and not dlcore.bool_.is_floating_point
    assert repr(dlcore.float32) == "dlcore.float32"
    assert str(dlcore.int64) == "dlcore.int64"
    assert f"{dlcore.bool_}" == "dlcore.bool"


@pytest.mark.parametrize("spec,expected", [
    ("float32", dlcore.float32), ("float64", dlcore.float64), ("int32", dlcore.int32), ("int64", dlcore.int64),
    ("bool", dlcore.bool_), (float, dlcore.float32), (int, dlcore.int64), (bool, dlcore.bool_),
    (np.float64, dlcore.float64), (np.dtype(np.int32), dlcore.int32), (np.bool_, dlcore.bool_),
    (dlcore.float64, dlcore.float64),
])
def test_dtype_parsing(spec, expected):
    assert dlcore.dtype(spec) == expected


@pytest.mark.parametrize("spec", [np.uint8, np.float16, "complex64", np.int16])
def test_dtype_parsing_unsupported(spec):
    with pytest.raises(TypeError, match=r"\[dtype\]"):
        dlcore.dtype(spec)


def test_dtype_parsing_garbage():
    with pytest.raises(TypeError, match=r"\[dtype\]"):
        dlcore.dtype(object())


def test_device_parsing():
    assert dlcore.device("cpu").type == "cpu"
    c = dlcore.device("cuda:1")
    assert c.type == "cuda" and c.index == 1
    assert dlcore.device("cuda").index == 0
    assert dlcore.device(c) is c
    assert repr(dlcore.device("cpu")) == "device('cpu')"
    assert str(c) == "cuda:1"
    assert dlcore.device("cpu") == dlcore.device("cpu")
    assert dlcore.device("cpu") != dlcore.device("cuda")
    with pytest.raises(ValueError, match=r"\[device\]"):
        dlcore.device("gpu")
    with pytest.raises(ValueError, match=r"\[device\]"):
        dlcore.device("cuda:x")
    with pytest.raises(TypeError, match=r"\[device\]"):
        dlcore.device(3)


# ---- construction (dlcore.tensor) -----------------------------------------------

@pytest.mark.parametrize("data,dt", [
    ([1.0, 2.0], dlcore.float32), ([1, 2], dlcore.int64), ([True, False], dlcore.bool_),
    ([[1, 2], [3, 4]], dlcore.int64), ([1, 2.5], dlcore.float32),
])
def test_tensor_from_lists(data, dt):
    t = dlcore.tensor(data)
    assert t.dtype == dt
    np.testing.assert_array_equal(np.asarray(t), np.asarray(data))
    assert t.shape == np.asarray(data).shape


@pytest.mark.parametrize("npdt,dt", [
    (np.float64, dlcore.float64), (np.float32, dlcore.float32), (np.int32, dlcore.int32),
    (np.int64, dlcore.int64), (np.bool_, dlcore.bool_), (np.uint8, dlcore.int64), (np.int16, dlcore.int64),
    (np.uint32, dlcore.int64),
])
def test_tensor_from_numpy_dtypes(npdt, dt):
    a = np.arange(6).astype(npdt).reshape(2, 3)
    t = dlcore.tensor(a)
    assert t.dtype == dt
    np.testing.assert_array_equal(np.asarray(t), a)
    assert not np.shares_memory(np.asarray(t), a)  # tensor() copies


def test_tensor_copies_its_input():
    a = np.arange(4.0)
    t = dlcore.tensor(a)
    a[0] = 100
    assert t.tolist() == [0.0, 1.0, 2.0, 3.0]
    u = dlcore.tensor(t)
    assert u.data_ptr() != t.data_ptr()
    t[1] = 50
    assert u.tolist() == [0.0, 1.0, 2.0, 3.0]


def test_tensor_with_dtype():
    t = dlcore.tensor([1.7, -2.2, 0.0], dtype="int32")
    assert t.dtype == dlcore.int32 and t.tolist() == [1, -2, 0]
    u = dlcore.tensor(t, dtype=dlcore.bool_)
    assert u.dtype == dlcore.bool_ and u.tolist() == [True, True, False]
    v = dlcore.tensor(np.arange(3), dtype=np.float64)
    assert v.dtype == dlcore.float64


def test_tensor_class_constructor():
    t = dlcore.Tensor([[1, 2], [3, 4]])
    assert isinstance(t, dlcore.Tensor)
    assert t.shape == (2, 2) and t.dtype == dlcore.int64


def test_tensor_from_non_numeric_raises():
    with pytest.raises(TypeError, match=r"\[tensor\]"):
        dlcore.tensor(["a", "b"])


@pytest.mark.parametrize("value,dt", [(3.5, dlcore.float32), (3, dlcore.int64), (True, dlcore.bool_),
                                      (np.float64(2.0), dlcore.float32)])
def test_tensor_from_python_scalar_is_0d(value, dt):
    # NumPy, PyTorch: tensor(3.5) is 0-d, shape ().
    t = dlcore.tensor(value)
    assert t.dtype == dt
    assert t.shape == ()
    assert t.ndim == 0
    assert t.item() == value


def test_tensor_from_0d_numpy_array_is_0d():
    t = dlcore.tensor(np.array(2.5))
    assert t.shape == ()
    assert t.dtype == dlcore.float64
    assert t.item() == 2.5


def test_tensor_empty_list():
    t = dlcore.tensor([])
    assert t.shape == (0,) and t.numel() == 0 and t.tolist() == []


# ---- conversions -----------------------------------------------------------------

def test_0d_scalars():
    f = scalar0d(2.5)
    assert f.shape == () and f.ndim == 0 and f.numel() == 1
    assert f.item() == 2.5 and isinstance(f.item(), float)
    assert float(f) == 2.5
    assert int(f) == 2
    assert bool(f) is True
    assert bool(scalar0d(0.0)) is False
    i = scalar0d(7)
    assert i.dtype == dlcore.int64
    assert i.item() == 7 and isinstance(i.item(), int)
    assert operator.index(i) == 7
    assert [10, 11, 12, 13, 14, 15, 16, 17][i] == 17
    b = scalar0d(True)
    assert b.dtype == dlcore.bool_ and b.item() is True
    assert f.tolist() == 2.5


def test_len_of_0d_raises():
    with pytest.raises(TypeError, match=r"\[len\]"):
        len(scalar0d(1.0))


def test_iter_of_0d_raises():
    with pytest.raises(TypeError):
        iter(scalar0d(1.0)).__next__()


def test_item_and_bool_of_many_elements_raise():
    t = dlcore.zeros(3)
    with pytest.raises(ValueError, match=r"\[item\]"):
        t.item()
    with pytest.raises(ValueError, match=r"\[bool\]"):
        bool(t)
    with pytest.raises(ValueError, match=r"\[item\]"):
        float(t)
    with pytest.raises(ValueError, match=r"\[item\]"):
        int(t)


def test_single_element_nd():
    t = dlcore.full((1, 1), 4.0)
    assert t.item() == 4.0 and float(t) == 4.0 and bool(t)


def test_index_of_float_raises():
    with pytest.raises(TypeError, match=r"\[index\]"):
        operator.index(scalar0d(1.0))
    with pytest.raises(TypeError, match=r"\[index\]"):
        operator.index(scalar0d(True))


def test_iteration_yields_rows():
    t, a = make((3, 2))
    rows = list(t)
    assert len(rows) == 3
    for r, ar in zip(rows, a):
        check(r, ar)
        assert shares(r, t)


def test_tolist():
    t, a = make((2, 3), np.int64)
    assert t.tolist() == a.tolist()
    assert dlcore.tensor([True, False]).tolist() == [True, False]
    assert isinstance(dlcore.tensor([True]).tolist()[0], bool)
    assert dlcore.zeros(0, 3).tolist() == []
    assert dlcore.zeros(2, 0).tolist() == [[], []]
    f = dlcore.tensor([1.5, 2.5]).tolist()
    assert f == [1.5, 2.5] and isinstance(f[0], float)


def test_tolist_of_view():
    t, a = make((3, 4), np.int32)
    assert t.T[::-1].tolist() == a.T[::-1].tolist()


def test_numpy_shares_memory():
    t, a = make((3, 4))
    n = t.numpy()
    assert n.dtype == np.float64 and n.shape == (3, 4)
    assert n.ctypes.data == t.data_ptr()
    n[1, 2] = -1
    assert t[1, 2].item() == -1


def test_array_protocol_with_dtype_copies():
    t, a = make((2, 2))
    b = np.asarray(t, dtype=np.float32)
    assert b.dtype == np.float32
    assert not np.shares_memory(b, np.asarray(t))
    with pytest.raises(ValueError, match=r"\[__array__\]"):
        t.__array__(dtype=np.float32, copy=False)
    c = np.array(t, copy=True)
    assert not np.shares_memory(c, np.asarray(t))
    np.testing.assert_array_equal(c, a)


@pytest.mark.parametrize("src", ALL_DTYPES)
@pytest.mark.parametrize("dst", ALL_DTYPES)
def test_to_dtype(src, dst):
    a = np.array([[0, 1, 2], [3, 0, 5]]).astype(NP_OF[src])
    t = dlcore.tensor(a, dtype=src)
    u = t.to(dst)
    assert u.dtype == dst
    np.testing.assert_array_equal(np.asarray(u), a.astype(NP_OF[dst]))
    if src != dst:
        assert not shares(u, t)


def test_to_forms():
    t = dlcore.arange(4)
    assert t.to("float64").dtype == dlcore.float64
    assert t.to(dlcore.float32).dtype == dlcore.float32
    assert t.to(np.int32).dtype == dlcore.int32
    assert t.to(float).dtype == dlcore.float32
    assert t.to(dtype="bool").dtype == dlcore.bool_
    assert t.to("cpu", "float64").dtype == dlcore.float64
    assert t.to(device="cpu", dtype=dlcore.int32).dtype == dlcore.int32
    assert t.float().dtype == dlcore.float32
    assert t.double().dtype == dlcore.float64
    assert t.int().dtype == dlcore.int32
    assert t.long().dtype == dlcore.int64
    assert t.bool().dtype == dlcore.bool_
    assert t.astype("float64").dtype == dlcore.float64
    c = t.cpu()
    assert c.device == "cpu" and c.data_ptr() == t.data_ptr()  # already on the CPU: no copy
    with pytest.raises(ValueError, match=r"\[device\]"):
        t.to("gpu")


# ---- repr ------------------------------------------------------------------------

def test_repr_default_dtypes_omit_dtype():
    r = repr(dlcore.tensor([1.5, 2.0]))
    assert r.startswith("tensor(") and "1.5" in r and "dtype" not in r
    r = repr(dlcore.tensor([[1, 2], [3, 4]]))
    assert "dtype" not in r and "[[1, 2]," in r and "[3, 4]]" in r
    r = repr(dlcore.tensor([True, False]))
    assert "True" in r and "False" in r and "dtype" not in r


@pytest.mark.parametrize("dt,name", [(dlcore.float64, "float64"), (dlcore.int32, "int32")])
def test_repr_non_default_dtype(dt, name):
    r = repr(dlcore.tensor([1, 2, 3], dtype=dt))
    assert r.startswith("tensor(")
    assert f"dtype=dlcore.{name}" in r
    assert "1" in r and "2" in r and "3" in r


def test_repr_0d_and_views():
    assert repr(scalar0d(2.5)) == "tensor(2.5)"
    t, a = make((3, 3))
    r = repr(t.T[::2])
    assert "6." in r and "dtype=dlcore.float64" in r


def test_repr_empty():
    assert repr(dlcore.zeros(0)).startswith("tensor([]")


# ---- reshape / view ------------------------------------------------------------------

@pytest.mark.parametrize("new", [(6, 4), (24,), (-1,), (4, -1), (2, 3, 2, 2), (1, 24, 1), (-1, 2, 3)])
def test_reshape_contiguous_is_view(new):
    t, a = make((2, 3, 4))
    r = t.reshape(new)
    check(r, a.reshape(new))
    assert r.data_ptr() == t.data_ptr() and shares(r, t)
    r2 = t.reshape(*new)
    assert r2.shape == r.shape
    r3 = dlcore.reshape(t, new)
    assert r3.shape == r.shape
    v = t.view(new)
    check(v, a.reshape(new))
    assert shares(v, t)


def test_reshape_view_writes_through():
    t, a = make((2, 3))
    r = t.reshape(3, 2)
    r[0, 1] = 100
    assert t[0, 1].item() == 100


def test_reshape_of_noncontiguous_view_when_possible():
    t, a = make((2, 3, 4))
    s = t[:, ::2]  # (2, 2, 4), strides (12, 8, 1)
    assert not s.is_contiguous()
    r = s.reshape(2, 2, 2, 2)  # splits the contiguous last dim: still a view
    check(r, a[:, ::2].reshape(2, 2, 2, 2))
    assert shares(r, t)
    v = s.view(2, 2, 2, 2)
    check(v, a[:, ::2].reshape(2, 2, 2, 2))
    assert shares(v, t)
    # Transposed: size-1 dims can be added and removed without copying.
    tt = t.permute(0, 2, 1)
    v = tt.view(2, 1, 4, 3, 1)
    check(v, a.transpose(0, 2, 1).reshape(2, 1, 4, 3, 1))
    assert shares(v, t)
    c = dlcore.tensor(arange_np((3, 4)))[:, 1:3]
    check(c.view(3, 2), arange_np((3, 4))[:, 1:3])


def test_reshape_copy_fallback():
    t, a = make((3, 4))
    tt = t.T
    r = tt.reshape(-1)
    check(r, a.T.reshape(-1))
    assert r.is_contiguous()
    assert not shares(r, t)
    r[0] = -5  # a copy: the original is untouched
    assert t[0, 0].item() == 0
    s = t[:, :2].reshape(6)
    check(s, a[:, :2].reshape(6))
    assert not shares(s, t)
    # A column-stepped slice merges without a copy: (3, 2) strides (4, 2) -> (6,) stride 2.
    m = t[:, ::2].reshape(6)
    check(m, a[:, ::2].reshape(6))
    assert shares(m, t) and m.strides == (2,)
    assert t[:, ::2].view(-1).strides == (2,)


@pytest.mark.parametrize("build", [lambda t: t.T, lambda t: t.transpose(0, 1), lambda t: t[::2, ::2],
                                   lambda t: t[:, :3], lambda t: t[:, ::-1]])
def test_view_impossible_raises(build):
    t, _ = make((4, 6))
    with pytest.raises(ValueError, match=r"\[view\]"):
        build(t).view(-1)


def test_view_of_3d_transpose_raises():
    t, _ = make((2, 3, 4))
    with pytest.raises(ValueError, match=r"\[view\]"):
        t.transpose(0, 2).view(24)
    with pytest.raises(ValueError, match=r"\[view\]"):
        t.permute(0, 2, 1).view(2, 12)


@pytest.mark.parametrize("op", ["reshape", "view"])
def test_reshape_bad_shapes(op):
    t, _ = make((2, 3))
    f = getattr(t, op)
    with pytest.raises(ValueError, match=rf"\[{op}\]"):
        f(4, 2)
    with pytest.raises(ValueError, match=rf"\[{op}\]"):
        f(-1, -1)
    with pytest.raises(ValueError, match=rf"\[{op}\]"):
        f(-1, 4)
    with pytest.raises(ValueError, match=rf"\[{op}\]"):
        f(-2, -3)


def test_reshape_expanded_tensor():
    e = dlcore.arange(3.0).expand(4, 3)
    v = e.view(2, 2, 3)
    assert v.strides == (0, 0, 1)
    check(v, np.broadcast_to(np.arange(3.0), (4, 3)).reshape(2, 2, 3))
    assert shares(v, e)
    r = e.reshape(12)
    check(r, np.tile(np.arange(3.0), 4))
    assert r.is_contiguous()


def test_reshape_0d_and_zero_size():
    z = scalar0d(3.0)
    for shape in [(1,), (1, 1), ()]:
        r = z.reshape(shape)
        assert r.shape == shape and r.item() == 3.0
    assert z.reshape(-1).shape == (1,)
    e = dlcore.zeros(0, 3)
    assert e.reshape(3, 0).shape == (3, 0)
    assert e.view(0).shape == (0,)
    assert e.reshape(0, 5).shape == (0, 5)
    assert e.reshape(-1).shape == (0,)


# ---- permute / transpose / T / mT -------------------------------------------------------

@pytest.mark.parametrize("dims", [(0, 1, 2), (2, 0, 1), (1, 2, 0), (2, 1, 0), (-1, 0, -2)])
def test_permute(dims):
    t, a = make((2, 3, 4))
    p = t.permute(dims)
    check(p, a.transpose([d % 3 for d in dims]))
    assert p.strides == tuple(t.strides[d] for d in dims)
    assert shares(p, t) and p.data_ptr() == t.data_ptr()
    assert t.permute(*dims).shape == p.shape
    assert dlcore.permute(t, dims).shape == p.shape


def test_permute_errors():
    t, _ = make((2, 3, 4))
    with pytest.raises(ValueError, match=r"\[permute\]"):
        t.permute(0, 1)
    with pytest.raises(ValueError, match=r"\[permute\]"):
        t.permute(0, 1, 1)
    with pytest.raises(ValueError, match=r"\[permute\]"):
        t.permute(0, 2, -1)
    with pytest.raises(IndexError, match=r"^\[permute\]"):
        t.permute(0, 1, 3)


@pytest.mark.parametrize("d0,d1", [(0, 1), (1, 2), (0, 2), (-1, 0), (-2, -1), (1, 1)])
def test_transpose(d0, d1):
    t, a = make((2, 3, 4))
    r = t.transpose(d0, d1)
    check(r, np.swapaxes(a, d0, d1))
    assert shares(r, t)
    assert dlcore.transpose(t, d0, d1).shape == r.shape


def test_transpose_errors():
    t, _ = make((2, 3))
    with pytest.raises(IndexError, match=r"^\[transpose\]"):
        t.transpose(0, 2)
    with pytest.raises(IndexError, match=r"^\[transpose\]"):
        t.transpose(-3, 0)


def test_T_and_mT():
    t, a = make((2, 3, 4))
    check(t.T, a.T)
    assert shares(t.T, t)
    check(t.mT, np.swapaxes(a, -1, -2))
    assert shares(t.mT, t)
    m, am = make((3, 5))
    check(m.T, am.T)
    check(m.mT, am.T)
    assert m.T.strides == (1, 5)
    v, av = make((4,))
    check(v.T, av)
    z = scalar0d(1.0)
    assert z.T.shape == ()
    with pytest.raises(IndexError, match=r"^\[transpose\]"):
        v.mT


def test_transpose_writes_through():
    t, a = make((2, 3))
    t.T[2, 1] = 42
    assert t[1, 2].item() == 42


# ---- expand / broadcast_to --------------------------------------------------------------

@pytest.mark.parametrize("src,shape", [((3,), (4, 3)), ((1, 3), (2, 3)), ((2, 1), (2, 5)), ((3, 1), (2, 3, 4)),
                                       ((), (2, 2)), ((1,), (0,)), ((2, 1), (2, 0))])
def test_expand(src, shape):
    t, a = make(src)
    e = t.expand(shape)
    check(e, np.broadcast_to(a, shape))
    b = dlcore.broadcast_to(t, shape)
    check(b, np.broadcast_to(a, shape))
    assert t.broadcast_to(shape).shape == shape
    if e.numel():
        assert shares(e, t)
    # broadcast dims have stride 0
    lead = len(shape) - len(src)
    for i, n in enumerate(shape):
        if i < lead or (src[i - lead] == 1 and n != 1):
            assert e.strides[i] == 0


def test_expand_minus_one_and_expand_as():
    t, a = make((3, 1))
    e = t.expand(-1, 4)
    assert e.shape == (3, 4) and e.strides == (1, 0)
    check(e, np.broadcast_to(a, (3, 4)))
    o = dlcore.zeros(2, 3, 4)
    assert t.expand_as(o).shape == (2, 3, 4)
    assert t.expand(3, 1).strides == t.strides


def test_expand_errors():
    t, _ = make((2, 3))
    with pytest.raises(ValueError, match=r"\[expand\]"):
        t.expand(3)
    with pytest.raises(ValueError, match=r"\[expand\]"):
        t.expand(4, 3)
    with pytest.raises(ValueError, match=r"\[expand\]"):
        t.expand(2, 6)
    with pytest.raises(ValueError, match=r"\[expand\]"):
        t.expand(-1, 2, 3)


def test_expanded_view_reflects_source():
    t, _ = make((3,))
    e = t.expand(4, 3)
    t[1] = 100
    assert all(row[1] == 100 for row in e.tolist())
    c = e.contiguous()
    assert c.is_contiguous() and c.strides == (3, 1)
    np.testing.assert_array_equal(np.asarray(c), np.asarray(e))


# ---- squeeze / unsqueeze / flatten -------------------------------------------------------

def test_squeeze():
    t, a = make((1, 3, 1, 2))
    check(t.squeeze(), a.squeeze())
    check(t.squeeze(0), a.squeeze(0))
    check(t.squeeze(2), a.squeeze(2))
    check(t.squeeze(-2), a.squeeze(-2))
    check(t.squeeze((0, 2)), a.squeeze((0, 2)))
    check(t.squeeze(1), a)  # a non-1 dim is left alone (as in PyTorch)
    check(dlcore.squeeze(t, -4), a.squeeze(0))
    assert shares(t.squeeze(), t)
    z = scalar0d(1.0)
    assert z.squeeze().shape == ()
    assert z.squeeze(0).shape == ()
    assert z.squeeze(-1).shape == ()


def test_squeeze_errors():
    t, _ = make((1, 3))
    with pytest.raises(IndexError, match=r"^\[squeeze\]"):
        t.squeeze(2)
    with pytest.raises(IndexError, match=r"^\[squeeze\]"):
        t.squeeze(-3)
    with pytest.raises(IndexError, match=r"^\[squeeze\]"):
        scalar0d(1.0).squeeze(1)


@pytest.mark.parametrize("dim", [0, 1, 2, 3, -1, -2, -3, -4])
def test_unsqueeze(dim):
    t, a = make((2, 3, 4))
    u = t.unsqueeze(dim)
    check(u, np.expand_dims(a, dim))
    assert shares(u, t)
    assert u.is_contiguous()
    assert dlcore.unsqueeze(t, dim).shape == u.shape
    assert u.squeeze(dim).shape == (2, 3, 4)


def test_unsqueeze_of_view_and_0d():
    t, a = make((3, 4))
    v = t.T[::2]
    check(v.unsqueeze(1), np.expand_dims(a.T[::2], 1))
    check(v.unsqueeze(-1), np.expand_dims(a.T[::2], -1))
    z = scalar0d(5.0)
    assert z.unsqueeze(0).shape == (1,) and z.unsqueeze(-1).shape == (1,)


def test_unsqueeze_errors():
    t, _ = make((2, 3))
    with pytest.raises(IndexError, match=r"^\[unsqueeze\]"):
        t.unsqueeze(3)
    with pytest.raises(IndexError, match=r"^\[unsqueeze\]"):
        t.unsqueeze(-4)


@pytest.mark.parametrize("start,end", [(0, -1), (1, -1), (0, 1), (1, 2), (-2, -1), (2, 2), (0, 0)])
def test_flatten(start, end):
    t, a = make((2, 3, 4))
    f = t.flatten(start, end)
    s, e = start % 3, end % 3
    expected = a.reshape(a.shape[:s] + (-1,) + a.shape[e + 1:])
    check(f, expected)
    assert shares(f, t)
    assert dlcore.flatten(t, start, end).shape == f.shape


def test_flatten_noncontiguous_and_0d():
    t, a = make((2, 3, 4))
    f = t[:, ::2].flatten()
    check(f, a[:, ::2].reshape(-1))
    f2 = t.transpose(1, 2).flatten(0, 1)
    check(f2, a.transpose(0, 2, 1).reshape(8, 3))
    z = scalar0d(2.0)
    assert z.flatten().shape == (1,) and z.flatten().item() == 2.0
    assert t.flatten().shape == (24,)


def test_flatten_errors():
    t, _ = make((2, 3, 4))
    with pytest.raises(ValueError, match=r"\[flatten\]"):
        t.flatten(2, 1)
    with pytest.raises(IndexError, match=r"^\[flatten\]"):
        t.flatten(0, 3)
    with pytest.raises(IndexError, match=r"^\[flatten\]"):
        t.flatten(-4)


# ---- as_strided ---------------------------------------------------------------------------

def test_as_strided():
    t, a = make((12,))
    s = t.as_strided((3, 2), (4, 1), 1)
    check(s, np.lib.stride_tricks.as_strided(a[1:], (3, 2), (32, 8)))
    assert shares(s, t)
    with pytest.raises(ValueError, match=r"\[as_strided\]"):
        t.as_strided((3, 5), (4, 1))
    with pytest.raises(ValueError, match=r"\[as_strided\]"):
        t.as_strided((3,), (1, 1))
    with pytest.raises(ValueError, match=r"\[as_strided\]"):
        t.as_strided((2,), (-1,), 0)


# ---- basic indexing ------------------------------------------------------------------------

KEYS = [
    0, -1, 1, slice(None), slice(1, None), slice(None, -1), slice(None, None, 2), slice(None, None, -1),
    slice(3, 0, -1), slice(-1, None, -2), slice(10, None, -3), slice(-100, 100), slice(5, 2), slice(None, None, 7),
    (0, 1), (-1, -1, -1), (slice(None), 1), (1, slice(None), 2), (Ellipsis, 1), (Ellipsis,), (0, Ellipsis),
    (Ellipsis, slice(1, 3), None, slice(None, None, 2)), (None,), (None, 0), (0, None), (Ellipsis, None),
    (None, Ellipsis, None), (slice(None, None, -1), slice(None, None, -2), slice(None, None, 3)),
    (1, Ellipsis, None, 2), (slice(None), None, slice(None), None), (np.int64(1), np.int32(-1)), (),
    (slice(0, 0),), (slice(None, None, -1), 2, slice(2, None, -1)), (None, None, 0, Ellipsis),
]


@pytest.mark.parametrize("key", KEYS, ids=repr)
def test_getitem_matches_numpy(key):
    t, a = make((3, 4, 5))
    r = t[key]
    expected = a[key]
    check(r, expected)
    if r.numel():
        assert shares(r, t)


def test_getitem_strides_and_data_ptr():
    t, a = make((3, 4, 5))
    assert t[1].data_ptr() == t.data_ptr() + 20 * 8
    assert t[:, ::2].strides == (20, 10, 1)
    r = t[::-1, :, ::-2]
    assert r.strides == (-20, 5, -2)
    assert r.data_ptr() == t.data_ptr() + (2 * 20 + 4) * 8
    assert np.asarray(r).strides == (-160, 40, -16)
    assert t[..., 0].strides == (20, 5)


def test_getitem_chained_on_views():
    t, a = make((6, 8))
    r = t.T[1::2][::-1, 2:5]
    check(r, a.T[1::2][::-1, 2:5])
    r2 = t[::2].mT[..., ::-1][None]
    check(r2, a[::2].T[..., ::-1][None])
    assert shares(r2, t)


def test_getitem_0d_results_are_views():
    t, a = make((2, 3))
    e = t[1, 2]
    assert e.shape == () and e.item() == 5.0
    e.fill_(-1)
    assert t.tolist()[1][2] == -1


def test_getitem_1d():
    t, a = make((5,))
    for key in [0, -5, 4, slice(None, None, -1), slice(1, -1, 2), (None, slice(None)), Ellipsis]:
        check(t[key], a[key])


def test_getitem_zero_size():
    t, a = make((0, 3))
    check(t[:, 1], a[:, 1])
    check(t[::-1], a[::-1])
    check(t[..., None], a[..., None])
    u, b = make((3, 4))
    check(u[2:1], b[2:1])
    check(u[:, 4:], b[:, 4:])
    check(u[3:, ::-1], b[3:, ::-1])


def test_getitem_0d_tensor():
    z = scalar0d(3.0)
    check(z[()], np.array(3.0))
    check(z[...], np.array(3.0))
    check(z[None], np.array([3.0]))
    with pytest.raises(IndexError, match=r"^\[getitem\]"):
        z[0]
    with pytest.raises(IndexError, match=r"^\[getitem\]"):
        z[:]


def test_getitem_out_of_range():
    t, _ = make((3, 4))
    with pytest.raises(IndexError, match=r"^\[select\]"):
        t[3]
    with pytest.raises(IndexError, match=r"^\[select\]"):
        t[-4]
    with pytest.raises(IndexError, match=r"^\[select\]"):
        t[0, 4]
    with pytest.raises(IndexError, match=r"^\[select\]"):
        t[:, -5]


def test_getitem_too_many_indices():
    t, _ = make((3, 4))
    with pytest.raises(IndexError, match=r"^\[getitem\] too many indices"):
        t[0, 0, 0]
    with pytest.raises(IndexError, match=r"^\[getitem\]"):
        t[:, :, :]
    with pytest.raises(IndexError, match=r"^\[getitem\]"):
        t[..., 0, 0, 0]
    # None and ... do not count
    assert t[None, 0, None, 0, None, ...].shape == (1, 1, 1)


def test_getitem_two_ellipses():
    t, _ = make((3, 4))
    with pytest.raises(IndexError, match=r"^\[getitem\].*ellipsis"):
        t[..., ...]


def test_slice_step_zero():
    t, _ = make((3, 4))
    with pytest.raises(ValueError, match=r"\[slice\]"):
        t[::0]


@pytest.mark.parametrize("key", [True, False, "key", 1.5, (0.5, 1), [0.5]], ids=repr)
def test_unsupported_indices_raise(key):
    """Integer and bool arrays index (tests/test_index.py); bool scalars, strings, floats do not."""
    t, _ = make((3, 4))
    with pytest.raises(IndexError, match=r"^\[getitem\]"):
        t[key]


def test_assignment_through_index_arrays_raises():
    t, _ = make((3, 4))
    with pytest.raises(IndexError, match=r"^\[setitem\] assignment through integer or bool arrays"):
        t[:, [0, 2]] = 1.0


# ---- zero-size tensors ---------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(0,), (0, 3), (3, 0), (2, 0, 4)])
def test_zero_size(shape):
    t = dlcore.zeros(shape)
    assert t.shape == shape and t.numel() == 0 and t.nbytes == 0
    assert t.is_contiguous()
    a = np.asarray(t)
    assert a.shape == shape and a.size == 0
    check(t.T, np.zeros(shape).T)
    check(t.reshape(-1), np.zeros(0))
    check(t.unsqueeze(0), np.zeros((1,) + shape))
    assert t.contiguous().shape == shape
    assert t.clone().shape == shape
    assert len(t) == shape[0]
    assert len(list(t)) == shape[0]


# ---- runtime functions -----------------------------------------------------------------------

def test_cpu_info():
    info = dlcore.cpu_info()
    assert set(info) >= {"isa", "supported_isas", "num_threads", "openmp"}
    assert info["isa"] in info["supported_isas"]
    assert "baseline" in info["supported_isas"]
    assert set(info["supported_isas"]) <= {"baseline", "avx2", "avx512"}
    assert isinstance(info["num_threads"], int) and info["num_threads"] >= 1
    assert isinstance(info["openmp"], bool)
    assert info["num_threads"] == dlcore.get_num_threads()


def test_set_num_threads():
    prev = dlcore.get_num_threads()
    try:
        dlcore.set_num_threads(3)
        assert dlcore.get_num_threads() == 3
        assert dlcore.cpu_info()["num_threads"] == 3
        dlcore.set_num_threads(1)
        assert dlcore.get_num_threads() == 1
        x = dlcore.arange(100000.0)
        assert float(x.sum()) == pytest.approx(4999950000.0)
    finally:
        dlcore.set_num_threads(prev)
    assert dlcore.get_num_threads() == prev


@pytest.mark.parametrize("bad", [0, -1])
def test_set_num_threads_invalid(bad):
    prev = dlcore.get_num_threads()
    with pytest.raises(ValueError, match=r"\[set_num_threads\]"):
        dlcore.set_num_threads(bad)
    assert dlcore.get_num_threads() == prev


def test_threads_fixture(threads):
    assert dlcore.get_num_threads() == threads


def test_set_cpu_isa(isa):
    assert dlcore.cpu_info()["isa"] == isa
    t = dlcore.arange(10.0)[::2].contiguous()
    assert t.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]


def test_set_cpu_isa_invalid():
    prev = dlcore.cpu_info()["isa"]
    with pytest.raises(ValueError, match=r"\[set_cpu_isa\]"):
        dlcore.set_cpu_isa("sse9")
    assert dlcore.cpu_info()["isa"] == prev


def test_set_cpu_isa_roundtrip():
    prev = dlcore.cpu_info()["isa"]
    try:
        for name in dlcore.cpu_info()["supported_isas"]:
            dlcore.set_cpu_isa(name)
            assert dlcore.cpu_info()["isa"] == name
    finally:
        dlcore.set_cpu_isa(prev)


def test_version_and_exports():
    assert isinstance(dlcore.__version__, str)
    for name in ["Tensor", "tensor", "from_numpy", "from_dlpack", "zeros", "arange", "manual_seed", "cuda",
                 "set_num_threads", "cpu_info", "set_cpu_isa", "float32", "bool_"]:
        assert name in dlcore.__all__
        assert hasattr(dlcore, name)


# ---- dlcore.cuda without a GPU ----------------------------------------------------------------
# The test session has a cuda device (a GPU, or the emulator), so the behaviour without
# one is checked in a fresh interpreter with DLCORE_CUDA=off.

NO_CUDA_SCRIPT = r"""
import pytest, dlcore
assert dlcore.cuda.is_available() is False
assert isinstance(dlcore.cuda.is_built(), bool)
assert dlcore.cuda.device_count() == 0
v = dlcore.cuda.runtime_version()
assert v is None if not dlcore.cuda.is_built() else isinstance(v, int)
with pytest.raises(RuntimeError, match=r"^\[synchronize\] CUDA is not available"):
    dlcore.cuda.synchronize()
with pytest.raises(RuntimeError, match=r"^\[get_device_properties\] CUDA is not available"):
    dlcore.cuda.get_device_properties(0)
t = dlcore.arange(4)
for fn in (lambda: t.to("cuda"), lambda: t.cuda(), lambda: t.to("cuda:0", "float64")):
    with pytest.raises(RuntimeError, match=r"\[to\]"):
        fn()
for fn in (lambda: dlcore.empty(3, device="cuda"), lambda: dlcore.zeros(3, device="cuda"),
           lambda: dlcore.ones(2, device="cuda"), lambda: dlcore.arange(3, device="cuda"),
           lambda: dlcore.rand(2, device="cuda"), lambda: dlcore.tensor([1, 2], device="cuda")):
    with pytest.raises(RuntimeError, match=r"^\[\w+\]"):
        fn()
print("ok")
"""


def test_cuda_off_raises_clear_errors():
    env = dict(os.environ, DLCORE_CUDA="off")
    r = subprocess.run([sys.executable, "-c", NO_CUDA_SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


@pytest.mark.parametrize("make", [lambda: dlcore.zeros(2**62, 4), lambda: dlcore.empty(2**40, 2**40),
                                  lambda: dlcore.ones(1).expand(2**40, 2**40),
                                  lambda: dlcore.ones(4).as_strided((2**40, 2**40), (0, 0)),
                                  lambda: dlcore.empty(2**61)])
def test_sizes_that_overflow_raise(make):
    # An element or byte count past int64 must not wrap into a small allocation.
    with pytest.raises(ValueError, match=r"^\[\w+\] .*(more elements than fit in int64|more than 2\^60 bytes)"):
        make()


def test_zero_size_with_huge_dims_is_fine():
    t = dlcore.zeros(0, 2**62)
    assert t.shape == (0, 2**62) and t.numel() == 0
