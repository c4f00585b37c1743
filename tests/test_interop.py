"""Zero-copy exchange with NumPy (buffer sharing, both ways) and DLPack
(NumPy, dlcore itself, PyTorch when installed), and the lifetimes involved."""
import gc
import weakref

import numpy as np
import pytest

import dlcore

ALL_DTYPES = [dlcore.bool_, dlcore.int32, dlcore.int64, dlcore.float32, dlcore.float64]
NP_OF = {dlcore.bool_: np.bool_, dlcore.int32: np.int32, dlcore.int64: np.int64,
         dlcore.float32: np.float32, dlcore.float64: np.float64}


def np_values(shape, npdt):
    a = np.arange(int(np.prod(shape))).reshape(shape)
    return (a % 2 == 1) if npdt == np.bool_ else a.astype(npdt)


def collect():
    for _ in range(3):
        gc.collect()


NP_VIEWS = {
    "contiguous": lambda a: a,
    "T": lambda a: a.T,
    "step": lambda a: a[::2, 1::3],
    "negative": lambda a: a[::-1, ::-2],
    "fortran": lambda a: np.asfortranarray(a),
    "offset": lambda a: a[1:, 2:],
    "0d": lambda a: a[1, 2, ...],
    "empty": lambda a: a[2:2],
    "column": lambda a: a[:, 3],
}


# ---- NumPy: tensor -> array ---------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_asarray_shares_memory(dtype):
    t = dlcore.tensor(np_values((3, 4), NP_OF[dtype]))
    a = np.asarray(t)
    assert a.dtype == NP_OF[dtype]
    assert a.ctypes.data == t.data_ptr()
    assert np.shares_memory(a, t.numpy())
    assert a.flags.writeable
    a[1, 1] = 0
    assert t[1, 1].item() == 0
    t[2, 3] = 1
    assert a[2, 3] == 1


@pytest.mark.parametrize("view", ["T", "step", "negative", "offset", "column", "expanded", "0d", "empty"])
def test_asarray_of_views(view):
    base = np.arange(30.0).reshape(5, 6)
    t = dlcore.tensor(base)
    views = {"T": (t.T, base.T), "step": (t[::2, 1::3], base[::2, 1::3]),
             "negative": (t[::-1, ::-2], base[::-1, ::-2]), "offset": (t[1:, 2:], base[1:, 2:]),
             "column": (t[:, 3], base[:, 3]), "expanded": (t[:1].expand(4, 6), np.broadcast_to(base[:1], (4, 6))),
             "0d": (t[2, 3], base[2, 3]), "empty": (t[3:1], base[3:1])}
    tv, expected = views[view]
    a = np.asarray(tv)
    assert a.shape == np.shape(expected)
    np.testing.assert_array_equal(a, expected)
    assert a.strides == tuple(s * 8 for s in tv.strides)
    full = np.asarray(t)
    if a.size:
        assert np.shares_memory(a, full)
        assert a.ctypes.data == tv.data_ptr()


def test_numpy_array_keeps_tensor_storage_alive():
    t = dlcore.arange(1000.0, dtype=dlcore.float64)
    ptr = t.data_ptr()
    a = np.asarray(t)[10:20]
    del t
    collect()
    dlcore.zeros(1000, dtype=dlcore.float64).fill_(-1)  # would likely reuse freed memory
    assert a.ctypes.data == ptr + 80
    np.testing.assert_array_equal(a, np.arange(10.0, 20.0))


def test_tensor_storage_freed_after_array_and_tensor_die():
    # a from_numpy'd array is referenced by the tensor's storage; exporting that tensor
    # back to NumPy and dropping everything must release the original array (no leak)
    src = np.arange(10.0)
    ref = weakref.ref(src)
    t = dlcore.from_numpy(src)
    back = np.asarray(t)
    del src, t
    collect()
    assert ref() is not None  # `back` keeps the storage, the storage keeps `src`
    del back
    collect()
    assert ref() is None


def test_numpy_method_on_view_of_0d():
    z = dlcore.full((), 2.5)
    a = np.asarray(z)
    assert a.shape == () and a[()] == 2.5
    a[()] = 3.0
    assert z.item() == 3.0


# ---- NumPy: array -> tensor (from_numpy) --------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_from_numpy_shares_memory(dtype):
    a = np_values((3, 4), NP_OF[dtype])
    t = dlcore.from_numpy(a)
    assert t.dtype == dtype
    assert t.shape == (3, 4)
    assert t.data_ptr() == a.ctypes.data
    assert np.shares_memory(np.asarray(t), a)
    t[0, 0] = 1
    assert a[0, 0] == 1
    a[2, 2] = 0
    assert t[2, 2].item() == 0


@pytest.mark.parametrize("view", [v for v in NP_VIEWS])
def test_from_numpy_views(view):
    base = np.arange(30.0).reshape(5, 6)
    a = NP_VIEWS[view](base)
    t = dlcore.from_numpy(a)
    assert t.shape == a.shape
    assert t.strides == tuple(s // 8 for s in a.strides)
    np.testing.assert_array_equal(np.asarray(t), a)
    assert t.tolist() == a.tolist()
    if a.size:
        assert t.data_ptr() == a.ctypes.data
        assert np.shares_memory(np.asarray(t), a)
        # writes go through (for "fortran" `a` is a copy of base, otherwise a view of it)
        idx = (0,) * a.ndim
        t[idx] = -1
        assert a[idx] == -1
    assert t.is_contiguous() == (a.flags.c_contiguous or a.size <= 1)


def test_from_numpy_negative_strides_ops():
    base = np.arange(12.0).reshape(3, 4)
    t = dlcore.from_numpy(base[::-1, ::-1])
    assert t.strides == (-4, -1)
    np.testing.assert_array_equal(np.asarray(t.contiguous()), base[::-1, ::-1])
    np.testing.assert_array_equal(np.asarray(t.T), base[::-1, ::-1].T)
    np.testing.assert_array_equal(np.asarray(t[1]), base[1][::-1])
    np.testing.assert_array_equal(np.asarray(t.reshape(-1)), base[::-1, ::-1].reshape(-1))
    np.testing.assert_array_equal(np.asarray(t + 1), base[::-1, ::-1] + 1)
    t[0] = dlcore.tensor([10.0, 20.0, 30.0, 40.0], dtype=dlcore.float64)
    np.testing.assert_array_equal(base[2], [40.0, 30.0, 20.0, 10.0])


def test_from_numpy_0d():
    a = np.array(4.5)
    t = dlcore.from_numpy(a)
    assert t.shape == () and t.ndim == 0 and t.item() == 4.5
    t.fill_(1.5)
    assert a[()] == 1.5
    i = dlcore.from_numpy(np.array(7, dtype=np.int32))
    assert i.dtype == dlcore.int32 and i.item() == 7


def test_from_numpy_zero_size():
    for shape in [(0,), (3, 0), (0, 2, 2)]:
        t = dlcore.from_numpy(np.zeros(shape))
        assert t.shape == shape and t.numel() == 0
        assert t.tolist() == np.zeros(shape).tolist()


@pytest.mark.parametrize("npdt", [np.uint8, np.float16, np.int16, np.int8, np.uint32, np.uint64, np.complex64,
                                  np.complex128, np.longdouble])
def test_from_numpy_unsupported_dtypes(npdt):
    with pytest.raises(TypeError, match=r"\[from_numpy\]"):
        dlcore.from_numpy(np.zeros(3, dtype=npdt))


@pytest.mark.parametrize("npdt", [np.uint8, np.float16, np.int16, np.uint32])
def test_tensor_converts_unsupported_dtypes(npdt):
    a = np.array([1, 2, 200], dtype=npdt)
    t = dlcore.tensor(a)
    assert t.dtype == (dlcore.float32 if npdt == np.float16 else dlcore.int64)
    assert t.tolist() == [1, 2, 200]
    assert not np.shares_memory(np.asarray(t), a)


def test_tensor_uint8_to_int64():
    a = np.array([[0, 255], [128, 7]], dtype=np.uint8)
    t = dlcore.tensor(a)
    assert t.dtype == dlcore.int64
    assert t.tolist() == [[0, 255], [128, 7]]


def test_from_numpy_rejects_non_arrays():
    with pytest.raises(TypeError, match=r"\[from_numpy\]"):
        dlcore.from_numpy([1.0, 2.0])
    with pytest.raises(TypeError, match=r"\[from_numpy\]"):
        dlcore.from_numpy(dlcore.zeros(2))


def test_from_numpy_non_native_byte_order():
    with pytest.raises(TypeError, match=r"\[from_numpy\]"):
        dlcore.from_numpy(np.arange(3, dtype=">f8"))
    t = dlcore.tensor(np.arange(3, dtype=">f8"))  # tensor() converts
    assert t.tolist() == [0.0, 1.0, 2.0]


def test_from_numpy_strides_not_multiple_of_itemsize():
    raw = np.zeros(10, dtype=np.float64)
    odd = np.lib.stride_tricks.as_strided(raw, shape=(3,), strides=(12,))
    with pytest.raises(ValueError, match=r"\[from_numpy\]"):
        dlcore.from_numpy(odd)


def test_from_numpy_read_only_is_copied():
    a = np.arange(5.0)
    a.flags.writeable = False
    t = dlcore.from_numpy(a)
    np.testing.assert_array_equal(np.asarray(t), a)
    assert not np.shares_memory(np.asarray(t), a)
    t[0] = 100.0
    assert a[0] == 0.0
    b = np.broadcast_to(np.arange(3.0), (2, 3))  # read-only, stride 0
    u = dlcore.from_numpy(b)
    assert u.tolist() == [[0.0, 1.0, 2.0]] * 2
    u[0, 0] = 9.0
    assert b[0, 0] == 0.0


def test_from_numpy_keeps_array_alive():
    a = np.arange(100.0)
    ref = weakref.ref(a)
    t = dlcore.from_numpy(a)[::10]
    del a
    collect()
    assert ref() is not None
    np.testing.assert_array_equal(np.asarray(t), np.arange(0.0, 100.0, 10.0))
    v = t[2:]
    del t
    collect()
    assert ref() is not None
    assert v.tolist() == [20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0]
    del v
    collect()
    assert ref() is None  # released once the last view dies


def test_from_numpy_of_numpy_view_keeps_base_alive():
    base = np.arange(20.0)
    ref = weakref.ref(base)
    t = dlcore.from_numpy(base[5:15:2])
    del base
    collect()
    assert t.tolist() == [5.0, 7.0, 9.0, 11.0, 13.0]
    del t
    collect()
    assert ref() is None


def test_round_trip_numpy():
    a = np.arange(12, dtype=np.int32).reshape(3, 4)
    b = np.asarray(dlcore.from_numpy(a).T)
    assert np.shares_memory(a, b)
    np.testing.assert_array_equal(b, a.T)
    t = dlcore.arange(6.0)
    u = dlcore.from_numpy(np.asarray(t))
    assert u.data_ptr() == t.data_ptr()


# ---- DLPack -------------------------------------------------------------------------------------------

def test_dlpack_device():
    assert dlcore.zeros(3).__dlpack_device__() == (1, 0)
    assert dlcore.zeros(3).T.__dlpack_device__() == (1, 0)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_numpy_from_dlpack_of_tensor(dtype):
    t = dlcore.tensor(np_values((3, 4), NP_OF[dtype]))
    a = np.from_dlpack(t)
    assert a.dtype == NP_OF[dtype]
    assert a.shape == (3, 4)
    np.testing.assert_array_equal(a, np.asarray(t))
    assert np.shares_memory(a, np.asarray(t))
    assert a.ctypes.data == t.data_ptr()
    if a.flags.writeable:
        a[0, 1] = 0
        assert t[0, 1].item() == 0


@pytest.mark.parametrize("dtype", ALL_DTYPES)
@pytest.mark.parametrize("view", ["T", "step", "offset", "0d", "empty", "expanded"])
def test_numpy_from_dlpack_of_views(dtype, view):
    base = np_values((5, 6), NP_OF[dtype])
    t = dlcore.tensor(base)
    views = {"T": (t.T, base.T), "step": (t[::2, 1::3], base[::2, 1::3]),
             "negative": (t[::-1, ::-2], base[::-1, ::-2]), "offset": (t[1:, 2:], base[1:, 2:]),
             "0d": (t[2, 3], base[2, 3]), "empty": (t[3:1], base[3:1]),
             "expanded": (t[:1].expand(4, 6), np.broadcast_to(base[:1], (4, 6)))}
    tv, expected = views[view]
    a = np.from_dlpack(tv)
    assert a.shape == np.shape(expected)
    assert a.dtype == NP_OF[dtype]
    np.testing.assert_array_equal(a, expected)
    if a.size:
        assert np.shares_memory(a, np.asarray(t))
        assert a.ctypes.data == tv.data_ptr()


def test_dlpack_export_refuses_negative_strides():
    # PyTorch and JAX cannot take negative strides (PyTorch aborts the process),
    # so dlcore refuses to export them rather than hand them out.
    t = dlcore.arange(6.0)[::-1]
    with pytest.raises(BufferError, match=r"\[__dlpack__\]"):
        np.from_dlpack(t)
    np.testing.assert_array_equal(np.from_dlpack(t.contiguous()), np.arange(6.0)[::-1])
    assert np.shares_memory(np.asarray(t), np.asarray(t.contiguous())) is False


@pytest.mark.parametrize("npdt", [np.bool_, np.int32, np.int64, np.float32, np.float64])
@pytest.mark.parametrize("view", ["contiguous", "T", "step", "negative", "offset", "0d", "empty", "column"])
def test_dlcore_from_dlpack_of_numpy(npdt, view):
    base = np_values((5, 6), npdt)
    a = NP_VIEWS[view](base)
    t = dlcore.from_dlpack(a)
    assert t.dtype == dlcore.dtype(npdt)
    assert t.shape == a.shape
    np.testing.assert_array_equal(np.asarray(t), a)
    if a.size:
        assert t.data_ptr() == a.ctypes.data
        assert np.shares_memory(np.asarray(t), base)
        idx = (0,) * a.ndim
        t[idx] = 0
        assert a[idx] == 0


@pytest.mark.parametrize("npdt", [np.uint8, np.float16, np.int16, np.complex64])
def test_from_dlpack_unsupported_dtype(npdt):
    with pytest.raises(TypeError, match=r"\[from_dlpack\]"):
        dlcore.from_dlpack(np.zeros(3, dtype=npdt))


def test_from_dlpack_unsupported_dtype_releases_producer():
    a = np.zeros(3, dtype=np.uint8)
    ref = weakref.ref(a)
    with pytest.raises(TypeError, match=r"\[from_dlpack\]"):
        dlcore.from_dlpack(a)
    del a
    collect()
    assert ref() is None


def test_from_dlpack_keeps_producer_alive():
    a = np.arange(10.0)
    ref = weakref.ref(a)
    t = dlcore.from_dlpack(a)
    del a
    collect()
    assert ref() is not None
    assert t.tolist() == [float(i) for i in range(10)]
    del t
    collect()
    assert ref() is None


def test_numpy_from_dlpack_keeps_tensor_alive():
    t = dlcore.arange(100.0, dtype=dlcore.float64)
    a = np.from_dlpack(t[50:])
    del t
    collect()
    dlcore.zeros(100, dtype=dlcore.float64).fill_(-1)
    np.testing.assert_array_equal(a, np.arange(50.0, 100.0))


def test_dlpack_chain_releases_original():
    src = np.arange(8.0)
    ref = weakref.ref(src)
    t = dlcore.from_numpy(src)
    a = np.from_dlpack(t)
    u = dlcore.from_dlpack(a)
    del src, t, a
    collect()
    assert ref() is not None
    assert u.tolist() == [float(i) for i in range(8)]
    del u
    collect()
    assert ref() is None


def test_dlcore_to_dlcore():
    t = dlcore.arange(12.0).reshape(3, 4)
    u = dlcore.from_dlpack(t.T)
    assert u.shape == (4, 3) and u.strides == (1, 4)
    assert u.data_ptr() == t.data_ptr()
    u[0, 1] = -1
    assert t[1, 0].item() == -1
    w = dlcore.from_dlpack(t[1:, ::-1])
    assert w.tolist() == np.asarray(t)[1:, ::-1].tolist()


@pytest.mark.parametrize("versioned", [False, True])
def test_capsule_cannot_be_consumed_twice(versioned):
    t = dlcore.arange(4.0)
    cap = t.__dlpack__(max_version=(1, 0)) if versioned else t.__dlpack__()
    u = dlcore.from_dlpack(cap)
    assert u.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert u.data_ptr() == t.data_ptr()
    with pytest.raises(TypeError, match=r"\[from_dlpack\]"):
        dlcore.from_dlpack(cap)


def test_capsule_names():
    t = dlcore.arange(3.0)
    assert '"dltensor"' in repr(t.__dlpack__())
    assert '"dltensor_versioned"' in repr(t.__dlpack__(max_version=(1, 0)))
    assert '"dltensor"' in repr(t.__dlpack__(max_version=(0, 8)))


@pytest.mark.parametrize("versioned", [False, True])
def test_unconsumed_capsule_releases_storage(versioned):
    src = np.arange(6.0)
    ref = weakref.ref(src)
    t = dlcore.from_numpy(src)
    cap = t.__dlpack__(max_version=(1, 0)) if versioned else t.__dlpack__()
    del src, t
    collect()
    assert ref() is not None  # the capsule owns a reference
    del cap
    collect()
    assert ref() is None


@pytest.mark.parametrize("versioned", [False, True])
def test_consumed_capsule_ownership_moves_to_tensor(versioned):
    src = np.arange(6.0)
    ref = weakref.ref(src)
    t = dlcore.from_numpy(src)
    cap = t.__dlpack__(max_version=(1, 0)) if versioned else t.__dlpack__()
    u = dlcore.from_dlpack(cap)
    del src, t, cap
    collect()
    assert ref() is not None
    assert u.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    del u
    collect()
    assert ref() is None


@pytest.mark.parametrize("obj", [object(), 3, [1.0, 2.0]], ids=["object", "int", "list"])
def test_from_dlpack_rejects_non_producers(obj):
    with pytest.raises(TypeError, match=r"\[from_dlpack\]"):
        dlcore.from_dlpack(obj)


def test_dlpack_copy_and_device_arguments():
    t = dlcore.arange(5.0)
    a = np.from_dlpack(t, copy=True)
    assert not np.shares_memory(a, np.asarray(t))
    np.testing.assert_array_equal(a, np.asarray(t))
    cap = t.__dlpack__(dl_device=(1, 0))
    assert dlcore.from_dlpack(cap).data_ptr() == t.data_ptr()
    with pytest.raises(BufferError, match=r"\[__dlpack__\]"):
        t.__dlpack__(dl_device=(2, 0))
    c = dlcore.from_dlpack(t.__dlpack__(copy=True))
    assert c.data_ptr() != t.data_ptr()
    assert c.tolist() == t.tolist()


def test_from_dlpack_producer_without_max_version():
    class OldProducer:
        def __init__(self, a):
            self.a = a

        def __dlpack__(self, stream=None):
            return self.a.__dlpack__()

        def __dlpack_device__(self):
            return self.a.__dlpack_device__()

    a = np.arange(4, dtype=np.int32)
    t = dlcore.from_dlpack(OldProducer(a))
    assert t.dtype == dlcore.int32
    assert t.data_ptr() == a.ctypes.data
    assert t.tolist() == [0, 1, 2, 3]


def test_tensor_of_dlpack_producer_copies():
    t = dlcore.arange(4.0)
    u = dlcore.tensor(t)
    assert u.data_ptr() != t.data_ptr()

    class Producer:
        def __init__(self, a):
            self.a = a

        def __dlpack__(self, **kw):
            return self.a.__dlpack__(**kw)

        def __dlpack_device__(self):
            return self.a.__dlpack_device__()

    a = np.arange(3, dtype=np.int32)
    v = dlcore.tensor(Producer(a))
    assert v.dtype == dlcore.int32 and v.tolist() == [0, 1, 2]
    assert v.data_ptr() != a.ctypes.data


def test_from_dlpack_of_read_only_array_does_not_write_through():
    # NumPy exports read-only arrays with DLPACK_FLAG_BITMASK_READ_ONLY (DLPack >= 1.0).
    # dlcore tensors are writable (from_numpy copies read-only arrays for this reason),
    # so from_dlpack must either copy or refuse: the read-only array must not change.
    a = np.arange(4.0)
    a.flags.writeable = False
    try:
        t = dlcore.from_dlpack(a)
    except (BufferError, TypeError, ValueError):
        return
    try:
        t[0] = 99.0
    except Exception:
        pass
    assert a[0] == 0.0


# ---- PyTorch (optional) ----------------------------------------------------------------------------

TORCH_DTYPES = ["bool", "int32", "int64", "float32", "float64"]


# PyTorch cannot represent negative strides (and torch 2.x aborts the process on
# them inside from_dlpack), so reversed views are not exchanged with it here.
TORCH_VIEWS = {
    "contiguous": lambda t: t,
    "T": lambda t: t.T,
    "step": lambda t: t[:, ::2],
    "offset": lambda t: t[1:],
    "offset_step": lambda t: t[1:, ::2],
    "column": lambda t: t[1:, 2],
    "0d": lambda t: t[2, 3],
}


@pytest.mark.parametrize("view", list(TORCH_VIEWS))
@pytest.mark.parametrize("name", TORCH_DTYPES)
def test_torch_from_dlpack_of_tensor(name, view):
    torch = pytest.importorskip("torch")
    t = dlcore.tensor(np_values((3, 4), NP_OF[dlcore.dtype(name)]))
    tv = TORCH_VIEWS[view](t)
    p = torch.from_dlpack(tv)
    assert p.dtype == getattr(torch, name)
    assert tuple(p.shape) == tv.shape
    assert tuple(p.stride()) == tv.strides
    assert p.data_ptr() == tv.data_ptr()
    np.testing.assert_array_equal(p.numpy(), np.asarray(tv))
    p[(0,) * p.ndim] = 1  # zero-copy: writes show in the dlcore tensor
    assert bool(tv[(0,) * tv.ndim].item())


@pytest.mark.parametrize("name", TORCH_DTYPES)
def test_dlcore_from_dlpack_of_torch(name):
    torch = pytest.importorskip("torch")
    base = torch.arange(30).reshape(5, 6)
    base = (base % 2 == 1) if name == "bool" else base.to(getattr(torch, name))
    for p in (base, base.T, base[::2, 1::3], base[1:, 2:], base[2, 3]):
        t = dlcore.from_dlpack(p)
        assert t.dtype == dlcore.dtype(name)
        assert t.shape == tuple(p.shape)
        assert t.strides == tuple(p.stride())
        assert t.data_ptr() == p.data_ptr()
        np.testing.assert_array_equal(np.asarray(t), p.numpy())
    t = dlcore.from_dlpack(base)
    t[0, 0] = 1
    assert bool(base[0, 0])


def test_torch_lifetimes():
    torch = pytest.importorskip("torch")
    p = torch.arange(10, dtype=torch.float64)
    t = dlcore.from_dlpack(p)
    del p
    collect()
    assert t.tolist() == [float(i) for i in range(10)]
    u = dlcore.arange(10.0, dtype=dlcore.float64)
    q = torch.from_dlpack(u[::2])
    del u
    collect()
    assert q.tolist() == [0.0, 2.0, 4.0, 6.0, 8.0]
