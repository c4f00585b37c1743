"""Dropout and channel dropout (forward, backward) on every backend, against masks computed here
by an independent NumPy Philox4x32-10: draw m keeps its element(s) when the uniform double of
word m % 2 of block (seed, offset + m // 2) is >= p. Kept values are x * (1 / (1 - p)) rounded
once, so they are compared exactly; dropped ones are exactly 0.
"""
import numpy as np
import pytest

import backends
import dlcore
import dlcore.functional as F
from dlcore import _C
from checks import wrap

T = backends.tensor
N = backends.array
FLOATS = (np.float32, np.float64)
MASK32 = np.uint64(0xFFFFFFFF)


def philox(seed, counters):
    """Philox4x32-10 blocks (Salmon et al. 2011) for uint64 counters: the two 64-bit words."""
    c0 = counters & MASK32
    c1 = counters >> np.uint64(32)
    c2 = np.zeros_like(counters)
    c3 = np.zeros_like(counters)
    k0, k1 = np.uint64(seed & 0xFFFFFFFF), np.uint64(seed >> 32)
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        n0 = (p1 >> np.uint64(32)) ^ c1 ^ k0
        n2 = (p0 >> np.uint64(32)) ^ c3 ^ k1
        c1, c3, c0, c2 = p1 & MASK32, p0 & MASK32, n0, n2
        k0 = (k0 + np.uint64(0x9E3779B9)) & MASK32
        k1 = (k1 + np.uint64(0xBB67AE85)) & MASK32
    return c0 | (c1 << np.uint64(32)), c2 | (c3 << np.uint64(32))


def keep_mask(seed, offset, draws, p):
    m = np.arange(draws, dtype=np.uint64)
    a, b = philox(seed, np.uint64(offset) + m // np.uint64(2))
    w = np.where(m % np.uint64(2) == 1, b, a)
    u = (w >> np.uint64(11)).astype(np.float64) * 2.0 ** -53
    return u >= p


def reference(x, p, seed, offset, group):
    keep = np.repeat(keep_mask(seed, offset, x.size // group if group else 0, p), group).reshape(x.shape)
    scale = x.dtype.type(1 / (1 - p)) if p < 1 else x.dtype.type(0)
    return np.where(keep, x * scale, 0).astype(x.dtype), keep


def test_numpy_philox_matches_the_generator():
    """The reference generator is the library's: rand() draws the same words."""
    dlcore.manual_seed(77)
    u = dlcore.rand(10, dtype=dlcore.float64).numpy()
    a, b = philox(77, np.arange(5, dtype=np.uint64))
    words = np.stack([a, b], axis=1).ravel()
    np.testing.assert_array_equal(u, (words >> np.uint64(11)).astype(np.float64) * 2.0 ** -53)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9, 1.0])
@pytest.mark.parametrize("shape", [(0,), (1,), (7,), (31, 17), (2, 3, 5, 4), (70001,)], ids=str)
def test_dropout(backend, rng, dtype, p, shape):
    x = rng.standard_normal(shape).astype(dtype)
    out, seed, offset = _C.dropout(T(x)._t, p, 1234)
    assert (seed, offset) == (1234, 0)
    ref, keep = reference(x, p, 1234, 0, 1)
    got = N(wrap(out))
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, ref)
    g = rng.standard_normal(shape).astype(dtype)
    dx = N(wrap(_C.dropout_backward(T(g)._t, p, seed, offset)))
    np.testing.assert_array_equal(dx, reference(g, p, 1234, 0, 1)[0])


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(4, 6, 3, 5), (6, 2, 3), (3, 1, 1, 1), (2, 3, 0, 4)], ids=str)
def test_dropout2d(backend, rng, dtype, shape):
    x = rng.standard_normal(shape).astype(dtype)
    out, seed, offset = _C.dropout2d(T(x)._t, 0.4, 99)
    group = shape[-1] * shape[-2]
    ref, keep = reference(x, 0.4, 99, 0, group)
    np.testing.assert_array_equal(N(wrap(out)), ref)
    planes = keep.reshape(-1, group) if group else keep.reshape(0, 0)
    assert np.all(planes == planes[:, :1])  # whole channels
    dx = N(wrap(_C.dropout2d_backward(T(x)._t, 0.4, seed, offset)))
    np.testing.assert_array_equal(dx, ref)


def test_same_mask_on_cpu_and_cuda(rng):
    assert dlcore.cuda.is_available()  # a GPU, or the emulator every build has
    x = rng.standard_normal((64, 33)).astype(np.float32)
    for fn in (F.dropout, F.dropout2d):
        xs = x.reshape(4, 16, 33) if fn is F.dropout2d else x
        cpu = fn(dlcore.tensor(xs), 0.3, seed=2024).numpy()
        cuda = fn(dlcore.tensor(xs).to("cuda"), 0.3, seed=2024).cpu().numpy()
        np.testing.assert_array_equal(cpu, cuda)
        assert 0 < np.count_nonzero(cpu == 0) < cpu.size


def test_strided_input(backend, rng):
    base = rng.standard_normal((9, 14)).astype(np.float32)
    x, t = base[1::2, ::3].T, T(base)[1::2, ::3].T
    got = N(F.dropout(t, 0.5, seed=5))
    np.testing.assert_array_equal(got, reference(np.ascontiguousarray(x), 0.5, 5, 0, 1)[0])


def test_drop_rate_and_scale(backend):
    n = 200_000
    got = N(F.dropout(T(np.ones(n, np.float32)), 0.3, seed=11))
    dropped = np.count_nonzero(got == 0)
    # binomial(n, 0.3): 6 standard deviations
    assert abs(dropped - 0.3 * n) < 6 * np.sqrt(n * 0.3 * 0.7)
    assert np.all(got[got != 0] == np.float32(1 / 0.7))


def test_global_generator(backend):
    x = T(np.ones(1000, np.float32))
    dlcore.manual_seed(3)
    a = N(F.dropout(x, 0.5))
    b = N(F.dropout(x, 0.5))
    assert not np.array_equal(a, b)  # consecutive draws differ
    dlcore.manual_seed(3)
    np.testing.assert_array_equal(N(F.dropout(x, 0.5)), a)
    # the generator handed out (seed, offset); the backward regenerates that mask
    dlcore.manual_seed(3)
    out, seed, offset = _C.dropout(x._t, 0.5, None)
    _, seed2, offset2 = _C.dropout(x._t, 0.5, None)
    assert seed == seed2 == 3 and offset == 0 and offset2 == 500
    np.testing.assert_array_equal(N(wrap(_C.dropout_backward(x._t, 0.5, seed, offset))), a)


def test_eval_mode_and_nan(backend):
    x = T(np.array([np.nan, np.inf, 1.0, -2.0] * 50, np.float32))
    assert F.dropout(x, 0.5, training=False) is x
    got = N(F.dropout(x, 0.5, seed=1))
    ref, keep = reference(N(x), 0.5, 1, 0, 1)
    np.testing.assert_array_equal(got, ref)
    assert np.all(got[~keep] == 0)  # dropped NaN and inf are exactly 0


def test_gradcheck(backend, rng):
    """Dropout is linear for a fixed mask: the backward equals the central difference."""
    x = rng.standard_normal(50)
    v = rng.standard_normal(50)
    h = 1e-3
    f = lambda z: N(F.dropout(T(z), 0.4, seed=8))
    fd = (f(x + h) - f(x - h)) / (2 * h) * v
    got = N(wrap(_C.dropout_backward(T(v)._t, 0.4, 8, 0)))
    # f(x +- h) rounds to eps |f| with |f| <= (|x| + h) / (1 - p); the difference divides that by h
    tol = 4 * np.finfo(np.float64).eps * (np.abs(x).max() + h) / (0.6 * h) * np.abs(v)
    np.testing.assert_array_less(np.abs(got - fd), tol + 1e-300)


def test_errors(backend):
    x = T(np.ones((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"\[dropout\] expected a drop probability p in \[0, 1\], got 1.5"):
        F.dropout(x, 1.5)
    with pytest.raises(ValueError, match=r"\[dropout2d\] expected input of shape \(N, C, H, W\) or \(C, H, W\), "
                                         r"got \(2, 3\)"):
        F.dropout2d(x, 0.5)
    with pytest.raises(TypeError, match=r"\[dropout\] expected input of a floating dtype"):
        F.dropout(T(np.ones(3, np.int64)), 0.5)
