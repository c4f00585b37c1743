"""The cuda device: placement, copies, the caching allocator, DLPack, and the
agreement of its random streams with the CPU's. Runs on a GPU when there is
one, else on the SIMT emulator (conftest.py)."""
import numpy as np
import pytest

import dlcore

pytestmark = pytest.mark.skipif(not dlcore.cuda.is_available(), reason="no cuda device")


def test_device_properties():
    assert dlcore.cuda.device_count() >= 1
    props = dlcore.cuda.get_device_properties(0)
    assert set(props) >= {"name", "capability", "multiprocessors", "free_bytes", "total_bytes"}
    dlcore.cuda.synchronize()


@pytest.mark.parametrize("dtype", ["bool", "int32", "int64", "float32", "float64"])
def test_roundtrip_and_views(dtype):
    a = (np.arange(24).reshape(2, 3, 4) % 5).astype(dtype)
    t = dlcore.tensor(a, device="cuda")
    assert t.device == "cuda:0" and t.dtype == dlcore.dtype(dtype)
    np.testing.assert_array_equal(t.cpu().numpy(), a)
    np.testing.assert_array_equal(t.permute(2, 0, 1).contiguous().cpu().numpy(), a.transpose(2, 0, 1))
    np.testing.assert_array_equal(t[:, ::2, 1:].cpu().numpy(), a[:, ::2, 1:])
    # a non-contiguous device view goes to the host through a device copy
    np.testing.assert_array_equal(t.transpose(0, 2).cpu().numpy(), a.transpose(2, 1, 0))


def test_setitem_and_fill_on_device():
    t = dlcore.zeros(3, 4, device="cuda")
    t[1] = 5.0
    t[:, 2] = dlcore.tensor([1.0, 2.0, 3.0], device="cuda")
    expected = np.zeros((3, 4), np.float32)
    expected[1] = 5
    expected[:, 2] = [1, 2, 3]
    np.testing.assert_array_equal(t.cpu().numpy(), expected)


def test_mixed_devices_raise():
    a, b = dlcore.ones(3), dlcore.ones(3, device="cuda")
    with pytest.raises(ValueError, match=r"^\[add\] expected tensors on one device, got cpu and cuda:0"):
        a + b
    with pytest.raises(ValueError, match=r"^\[where\]"):
        dlcore.where(a > 0, a, b)
    with pytest.raises(TypeError, match=r"^\[numpy\]"):
        b.numpy()


def test_random_streams_match_cpu():
    for fn in (dlcore.rand, dlcore.randn):
        for dtype in (dlcore.float32, dlcore.float64):
            dlcore.manual_seed(7)
            cpu = fn(1001, dtype=dtype).numpy()
            dlcore.manual_seed(7)
            dev = fn(1001, dtype=dtype, device="cuda").cpu().numpy()
            # uniform: bit-identical; normal: the same formula, libm may round the last bit differently
            np.testing.assert_allclose(dev, cpu, rtol=0 if fn is dlcore.rand else 1e-12, atol=0)


def test_arange_and_full_on_device():
    np.testing.assert_array_equal(dlcore.arange(2, 50, 3, device="cuda").cpu().numpy(), np.arange(2, 50, 3))
    np.testing.assert_allclose(dlcore.arange(0.5, 2.0, 0.25, device="cuda").cpu().numpy(), np.arange(0.5, 2.0, 0.25))
    np.testing.assert_array_equal(dlcore.full((2, 3), 7, dtype=dlcore.int32, device="cuda").cpu().numpy(),
                                  np.full((2, 3), 7, np.int32))


def test_caching_allocator_reuses_and_reports():
    dlcore.cuda.empty_cache()
    dlcore.cuda.reset_peak_memory_stats()
    base = dlcore.cuda.memory_stats()
    x = dlcore.empty(1000, device="cuda")  # 4000 bytes -> one 4096-byte block
    s = dlcore.cuda.memory_stats()
    assert s["allocated_bytes"] - base["allocated_bytes"] == 4096
    assert s["peak_allocated_bytes"] >= s["allocated_bytes"]
    del x
    s2 = dlcore.cuda.memory_stats()
    assert s2["allocated_bytes"] == base["allocated_bytes"]
    assert s2["reserved_bytes"] >= base["reserved_bytes"] + 4096  # kept in the cache
    mallocs = s2["num_device_mallocs"]
    for _ in range(10):  # a training loop's pattern: the same sizes over and over
        y = dlcore.empty(1000, device="cuda")
        del y
    assert dlcore.cuda.memory_stats()["num_device_mallocs"] == mallocs
    dlcore.cuda.empty_cache()
    assert dlcore.cuda.memory_stats()["reserved_bytes"] == dlcore.cuda.memory_stats()["allocated_bytes"]


def test_no_growth_under_repeated_ops():
    x = dlcore.randn(64, 32, device="cuda")
    for _ in range(3):
        ((x * 2).exp().sum(1) + 1).amax()
    before = dlcore.cuda.memory_stats()
    for _ in range(20):
        ((x * 2).exp().sum(1) + 1).amax()
    after = dlcore.cuda.memory_stats()
    assert after["allocated_bytes"] == before["allocated_bytes"]
    assert after["num_device_mallocs"] == before["num_device_mallocs"]


def test_dlpack_device_of_cuda_tensor():
    t = dlcore.ones(4, device="cuda")
    assert t.__dlpack_device__() == (2, 0)
    u = dlcore.from_dlpack(t)
    assert u.device == "cuda:0" and u.data_ptr() == t.data_ptr()
    # through a capsule: the device travels with it
    v = dlcore.from_dlpack(t.__dlpack__())
    assert v.device == "cuda:0" and v.data_ptr() == t.data_ptr()
    np.testing.assert_array_equal(v.cpu().numpy(), np.ones(4, np.float32))


def test_events_time_the_device_work_between_them():
    start, end = dlcore.cuda.Event(), dlcore.cuda.Event()
    with pytest.raises(RuntimeError, match="recorded"):
        start.elapsed_time(end)
    a = dlcore.rand(1 << 16, device="cuda")
    start.record()
    for _ in range(5):
        a = a * 1.0001
    end.record()
    end.synchronize()
    first = start.elapsed_time(end)
    assert first > 0
    end.record()  # re-recorded later: the interval grows
    assert start.elapsed_time(end) >= first
    with pytest.raises(TypeError, match="Event"):
        start.elapsed_time(1.0)
