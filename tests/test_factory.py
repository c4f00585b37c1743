"""Factories: zeros/ones/full/empty/arange/rand/randn, the *_like forms, dtype
inference, and the global counter-based random generator (manual_seed)."""
import numpy as np
import pytest

import dlcore

ALL_DTYPES = [dlcore.bool_, dlcore.int32, dlcore.int64, dlcore.float32, dlcore.float64]
NP_OF = {dlcore.bool_: np.bool_, dlcore.int32: np.int32, dlcore.int64: np.int64,
         dlcore.float32: np.float32, dlcore.float64: np.float64}
FLOAT_DTYPES = [dlcore.float32, dlcore.float64]


def check(t, expected):
    a = np.asarray(t)
    assert t.shape == expected.shape
    assert a.dtype == expected.dtype
    np.testing.assert_array_equal(a, expected)


# ---- zeros / ones / full / empty ------------------------------------------------------------

@pytest.mark.parametrize("fn,value", [(dlcore.zeros, 0), (dlcore.ones, 1)])
@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_zeros_ones(fn, value, dtype):
    t = fn(2, 3, dtype=dtype)
    check(t, np.full((2, 3), value, dtype=NP_OF[dtype]))
    assert t.is_contiguous() and t.strides == (3, 1)
    assert t.device == "cpu"


@pytest.mark.parametrize("fn", [dlcore.zeros, dlcore.ones, dlcore.empty, dlcore.rand, dlcore.randn])
def test_shape_forms(fn):
    assert fn(2, 3).shape == (2, 3)
    assert fn((2, 3)).shape == (2, 3)
    assert fn([2, 3]).shape == (2, 3)
    assert fn(4).shape == (4,)
    assert fn(()).shape == ()
    assert fn().shape == ()
    assert fn(0).shape == (0,)
    assert fn(3, 0, 2).shape == (3, 0, 2)
    assert fn(np.int64(2), 3).shape == (2, 3)
    assert fn(2, 3).dtype == dlcore.float32


@pytest.mark.parametrize("fn", [dlcore.zeros, dlcore.ones, dlcore.empty])
def test_dtype_spellings(fn):
    assert fn(2, dtype="int32").dtype == dlcore.int32
    assert fn(2, dtype=np.float64).dtype == dlcore.float64
    assert fn(2, dtype=bool).dtype == dlcore.bool_
    assert fn(2, dtype=int).dtype == dlcore.int64
    with pytest.raises(TypeError, match=r"\[dtype\]"):
        fn(2, dtype=np.uint8)


@pytest.mark.parametrize("fn", [dlcore.zeros, dlcore.ones, dlcore.empty, lambda *s: dlcore.full(s, 1.0)])
def test_negative_sizes_raise(fn):
    with pytest.raises(ValueError, match=r"^\[\w+\] sizes must be non-negative"):
        fn(2, -1)


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_empty(dtype):
    t = dlcore.empty(3, 4, dtype=dtype)
    assert t.shape == (3, 4) and t.dtype == dtype and t.is_contiguous()
    t.fill_(1)
    assert np.all(np.asarray(t) == 1)
    a = dlcore.empty(5)
    b = dlcore.empty(5)
    assert a.data_ptr() != b.data_ptr()


def test_empty_is_aligned():
    for n in (1, 3, 17, 1000):
        assert dlcore.empty(n).data_ptr() % 64 == 0


@pytest.mark.parametrize("value,dt", [(True, dlcore.bool_), (False, dlcore.bool_), (3, dlcore.int64),
                                      (-7, dlcore.int64), (2.5, dlcore.float32), (np.int64(4), dlcore.int64),
                                      (np.float64(1.5), dlcore.float32), (2 ** 40, dlcore.int64)])
def test_full_dtype_inference(value, dt):
    t = dlcore.full((2, 2), value)
    assert t.dtype == dt
    check(t, np.full((2, 2), value, dtype=NP_OF[dt]))


@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_full_with_dtype(dtype):
    t = dlcore.full((3,), 2.75, dtype=dtype)
    expected = {dlcore.bool_: True, dlcore.int32: 2, dlcore.int64: 2, dlcore.float32: 2.75, dlcore.float64: 2.75}
    assert t.dtype == dtype
    assert t.tolist() == [expected[dtype]] * 3


def test_full_shapes():
    assert dlcore.full(3, 1).shape == (3,)
    assert dlcore.full((), 1.5).shape == ()
    assert dlcore.full((), 1.5).item() == 1.5
    assert dlcore.full([2, 0], 1).shape == (2, 0)
    assert dlcore.full((2, 3), -1.0).tolist() == [[-1.0] * 3] * 2


def test_full_large_int_values():
    assert dlcore.full((2,), 2 ** 62 + 1).tolist() == [2 ** 62 + 1] * 2
    assert dlcore.full((2,), -(2 ** 63)).tolist() == [-(2 ** 63)] * 2
    with pytest.raises(ValueError, match=r"\[full\]"):
        dlcore.full((2,), 2 ** 63)


def test_full_bad_value():
    with pytest.raises(TypeError, match=r"\[full\]"):
        dlcore.full((2,), None)


# ---- *_like ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ALL_DTYPES)
def test_like_factories_keep_shape_and_dtype(dtype):
    src = dlcore.zeros(4, 6, dtype=dtype).T[::2]  # non-contiguous source
    for fn, value in [(dlcore.zeros_like, 0), (dlcore.ones_like, 1), (dlcore.empty_like, None)]:
        t = fn(src)
        assert t.shape == src.shape and t.dtype == dtype and t.device == src.device
        assert t.is_contiguous()
        assert t.data_ptr() != src.data_ptr()
        if value is not None:
            check(t, np.full(src.shape, value, dtype=NP_OF[dtype]))
    f = dlcore.full_like(src, 3)
    check(f, np.full(src.shape, 3, dtype=NP_OF[dtype]))


def test_like_factories_dtype_override():
    src = dlcore.zeros(2, 3, dtype=dlcore.int32)
    assert dlcore.zeros_like(src, dtype=dlcore.float64).dtype == dlcore.float64
    assert dlcore.ones_like(src, dtype="bool").dtype == dlcore.bool_
    assert dlcore.empty_like(src, dtype=np.int64).dtype == dlcore.int64
    f = dlcore.full_like(src, 2.9)
    assert f.dtype == dlcore.int32 and f.tolist() == [[2] * 3] * 2
    f = dlcore.full_like(src, 2.5, dtype=dlcore.float32)
    assert f.tolist() == [[2.5] * 3] * 2
    r = dlcore.rand_like(src, dtype=dlcore.float64)
    assert r.dtype == dlcore.float64 and r.shape == (2, 3)
    r = dlcore.randn_like(dlcore.zeros(5, dtype=dlcore.float64))
    assert r.dtype == dlcore.float64 and r.shape == (5,)


def test_rand_like_of_int_tensor_raises():
    src = dlcore.zeros(3, dtype=dlcore.int64)
    with pytest.raises(TypeError, match=r"\[rand\]"):
        dlcore.rand_like(src)
    with pytest.raises(TypeError, match=r"\[randn\]"):
        dlcore.randn_like(src)


def test_like_of_0d_and_empty():
    z = dlcore.full((), 1.0)
    assert dlcore.zeros_like(z).shape == ()
    assert dlcore.rand_like(z).shape == ()
    e = dlcore.zeros(0, 3)
    assert dlcore.ones_like(e).shape == (0, 3)
    assert dlcore.randn_like(e).shape == (0, 3)


# ---- arange ----------------------------------------------------------------------------------

@pytest.mark.parametrize("args", [(5,), (0,), (-3,), (2, 7), (7, 2), (0, 10, 3), (10, 0, -3), (-5, 5, 2),
                                  (0, 5, -1), (3, 3), (-10, -2, 1), (100, 0, -7)])
def test_arange_int(args):
    t = dlcore.arange(*args)
    assert t.dtype == dlcore.int64
    check(t, np.arange(*args, dtype=np.int64))


@pytest.mark.parametrize("args", [(0, 1, 0.1), (1, 1.3, 0.1), (0, 0.3, 0.1), (-1, 1, 0.25), (5, 0, -0.5),
                                  (0.5, 10.3, 0.7), (1e-3, 2e-3, 1e-4), (10, -10, -3.3), (0, 5, 2.5), (2.5,),
                                  (0.0, 1.0), (-2.5, 2.5, 0.5), (0, -1, 0.1), (1, 2, 1 / 3)])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES)
def test_arange_float_matches_numpy(args, dtype):
    expected = np.arange(*args, dtype=np.float64).astype(NP_OF[dtype])
    t = dlcore.arange(*args, dtype=dtype)
    assert t.dtype == dtype
    assert t.shape == expected.shape
    np.testing.assert_allclose(np.asarray(t), expected, rtol=1e-6 if dtype == dlcore.float32 else 1e-12,
                               atol=1e-12)


def test_arange_dtype_inference():
    assert dlcore.arange(5).dtype == dlcore.int64
    assert dlcore.arange(np.int64(5)).dtype == dlcore.int64
    assert dlcore.arange(5.0).dtype == dlcore.float32
    assert dlcore.arange(0, 5, 0.5).dtype == dlcore.float32
    assert dlcore.arange(0.0, 5).dtype == dlcore.float32
    assert dlcore.arange(5, dtype="float64").dtype == dlcore.float64
    assert dlcore.arange(5, dtype=dlcore.int32).tolist() == [0, 1, 2, 3, 4]
    assert dlcore.arange(2.0).tolist() == [0.0, 1.0]


def test_arange_float_exact_values():
    assert dlcore.arange(0, 2, 0.5).tolist() == [0.0, 0.5, 1.0, 1.5]
    assert dlcore.arange(1, -1, -0.5).tolist() == [1.0, 0.5, 0.0, -0.5]
    t = dlcore.arange(0, 1, 0.1, dtype=dlcore.float64)
    assert t.numel() == 10
    assert t.tolist() == [i * 0.1 for i in range(10)]


@pytest.mark.parametrize("start,n", [(2 ** 53, 3), (2 ** 60, 5), (-(2 ** 62), 4), (2 ** 63 - 4, 3)])
def test_arange_int64_large_values_are_exact(start, n):
    # An int64 arange is exact: it must not pass through float64 (2**53 + 1 is not a double).
    t = dlcore.arange(start, start + n)
    assert t.dtype == dlcore.int64
    assert t.tolist() == list(range(start, start + n))


def test_arange_errors():
    with pytest.raises(ValueError, match=r"\[arange\].*nonzero"):
        dlcore.arange(0, 10, 0)
    with pytest.raises(ValueError, match=r"\[arange\]"):
        dlcore.arange(0, 1, 0.0)
    with pytest.raises(ValueError, match=r"\[arange\]"):
        dlcore.arange(0, float("inf"))
    with pytest.raises(ValueError, match=r"\[arange\]"):
        dlcore.arange(float("nan"))
    with pytest.raises(ValueError, match=r"\[arange\]"):
        dlcore.arange(0, 1, float("nan"))
    with pytest.raises(ValueError, match=r"\[arange\].*too many"):
        dlcore.arange(0, 1e300, 1.0)


# ---- random: rand / randn -------------------------------------------------------------------------

def test_rand_range_and_dtype():
    dlcore.manual_seed(7)
    for dtype in FLOAT_DTYPES:
        t = dlcore.rand(100_001, dtype=dtype)
        assert t.dtype == dtype and t.shape == (100_001,)
        a = np.asarray(t)
        assert a.min() >= 0.0
        assert a.max() < 1.0
        assert len(np.unique(a)) > 99_000


def test_rand_float32_resolution():
    # documented: the top 24 bits of a word, so multiples of 2**-24 in [0, 1)
    dlcore.manual_seed(3)
    a = np.asarray(dlcore.rand(10_000)).astype(np.float64) * 2 ** 24
    np.testing.assert_array_equal(a, np.floor(a))


@pytest.mark.parametrize("dtype", [dlcore.bool_, dlcore.int32, dlcore.int64])
def test_random_int_dtypes_raise(dtype):
    with pytest.raises(TypeError, match=r"\[rand\]"):
        dlcore.rand(3, dtype=dtype)
    with pytest.raises(TypeError, match=r"\[randn\]"):
        dlcore.randn(3, dtype=dtype)


def test_randn_statistics():
    dlcore.manual_seed(12345)
    n = 1_000_000
    for dtype in FLOAT_DTYPES:
        x = np.asarray(dlcore.randn(n, dtype=dtype)).astype(np.float64)
        assert np.all(np.isfinite(x))
        # 6-sigma bounds: standard errors 1/sqrt(n) for the mean, 1/sqrt(2n) for the std
        assert abs(x.mean()) < 6 / np.sqrt(n)
        assert abs(x.std() - 1) < 6 / np.sqrt(2 * n)
        assert abs(np.mean(x ** 3)) < 6 * np.sqrt(15 / n)  # skewness
        assert abs(np.mean(x ** 4) - 3) < 6 * np.sqrt(96 / n)  # kurtosis
        # tail mass: P(|x| > 2) = 0.0455
        p = np.mean(np.abs(x) > 2)
        assert abs(p - 0.0455003) < 6 * np.sqrt(0.0455 * 0.9545 / n)
        # Box-Muller pairs (cos, sin) are uncorrelated, as are neighbours
        assert abs(np.corrcoef(x[0::2], x[1::2])[0, 1]) < 6 / np.sqrt(n / 2)
        assert abs(np.corrcoef(x[1:-1:2], x[2::2])[0, 1]) < 6 / np.sqrt(n / 2)


def test_rand_statistics():
    dlcore.manual_seed(54321)
    n = 1_000_000
    for dtype in FLOAT_DTYPES:
        u = np.asarray(dlcore.rand(n, dtype=dtype)).astype(np.float64)
        sd = np.sqrt(1 / 12)
        assert abs(u.mean() - 0.5) < 6 * sd / np.sqrt(n)
        assert abs(u.var() - 1 / 12) < 6 * np.sqrt(1 / 180) / np.sqrt(n)
        counts, _ = np.histogram(u, bins=10, range=(0, 1))
        chi2 = np.sum((counts - n / 10) ** 2 / (n / 10))
        assert chi2 < 40  # 9 dof: P(chi2 > 40) ~ 7e-6
        assert abs(np.corrcoef(u[:-1], u[1:])[0, 1]) < 6 / np.sqrt(n)


@pytest.mark.parametrize("fn", [dlcore.rand, dlcore.randn])
def test_manual_seed_reproducible(fn):
    dlcore.manual_seed(2024)
    a1, a2, a3 = fn(1000), fn(7, 3), fn(5, dtype=dlcore.float64)
    dlcore.manual_seed(2024)
    b1, b2, b3 = fn(1000), fn(7, 3), fn(5, dtype=dlcore.float64)
    for a, b in [(a1, b1), (a2, b2), (a3, b3)]:
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    # consecutive draws differ
    assert not np.array_equal(np.asarray(a1)[:21], np.asarray(a2).reshape(-1))
    dlcore.manual_seed(2025)
    c1 = fn(1000)
    assert not np.array_equal(np.asarray(a1), np.asarray(c1))


def test_manual_seed_mixed_sequence():
    def draw():
        return [np.asarray(dlcore.rand(3)), np.asarray(dlcore.randn(4, 5)), np.asarray(dlcore.rand(1)),
                np.asarray(dlcore.randn(0)), np.asarray(dlcore.randn((), dtype=dlcore.float64)),
                np.asarray(dlcore.rand_like(dlcore.zeros(2, 2)))]
    dlcore.manual_seed(99)
    first = draw()
    dlcore.manual_seed(99)
    second = draw()
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)


def test_manual_seed_wraps_to_64_bits():
    dlcore.manual_seed(-1)
    a = np.asarray(dlcore.rand(10))
    dlcore.manual_seed(2 ** 64 - 1)
    b = np.asarray(dlcore.rand(10))
    np.testing.assert_array_equal(a, b)
    dlcore.manual_seed(2 ** 64 + 5)
    c = np.asarray(dlcore.rand(10))
    dlcore.manual_seed(5)
    np.testing.assert_array_equal(c, np.asarray(dlcore.rand(10)))


def test_seeds_differ_in_high_bits():
    dlcore.manual_seed(1)
    a = np.asarray(dlcore.rand(100))
    dlcore.manual_seed(1 + 2 ** 32)
    b = np.asarray(dlcore.rand(100))
    assert not np.array_equal(a, b)


@pytest.mark.parametrize("fn", [dlcore.rand, dlcore.randn])
def test_draw_prefix_and_shape_independence(fn):
    # element i of a draw depends on (seed, offset, i) only, not on the draw's size or shape
    dlcore.manual_seed(11)
    long_ = np.asarray(fn(1001))
    dlcore.manual_seed(11)
    short = np.asarray(fn(10))
    np.testing.assert_array_equal(short, long_[:10])
    dlcore.manual_seed(11)
    shaped = np.asarray(fn(7, 11, 13))
    np.testing.assert_array_equal(shaped.reshape(-1), long_)


def _reference(fn, dtype, n, seed):
    """A draw with 1 thread and the baseline ISA."""
    threads, isa = dlcore.get_num_threads(), dlcore.cpu_info()["isa"]
    try:
        dlcore.set_num_threads(1)
        dlcore.set_cpu_isa("baseline")
        dlcore.manual_seed(seed)
        return np.asarray(fn(n, dtype=dtype)).copy()
    finally:
        dlcore.set_num_threads(threads)
        dlcore.set_cpu_isa(isa)


_REF = {}


@pytest.mark.parametrize("fn", [dlcore.rand, dlcore.randn], ids=["rand", "randn"])
@pytest.mark.parametrize("dtype", FLOAT_DTYPES, ids=["float32", "float64"])
def test_draws_independent_of_threads_and_isa(fn, dtype, threads, isa):
    n = 300_001  # > 2 * 16384 * 2 elements: several chunks per thread; odd: a half-used last block
    key = (fn.__name__, dtype.name)
    if key not in _REF:
        _REF[key] = _reference(fn, dtype, n, seed=77)
    dlcore.manual_seed(77)
    got = np.asarray(fn(n, dtype=dtype))
    np.testing.assert_array_equal(got, _REF[key])


def test_draw_sequence_independent_of_threads(threads):
    dlcore.manual_seed(5)
    seq = [np.asarray(dlcore.rand(40_001)) for _ in range(3)]
    prev = dlcore.get_num_threads()
    try:
        dlcore.set_num_threads(1 if threads != 1 else 2)
        dlcore.manual_seed(5)
        other = [np.asarray(dlcore.rand(40_001)) for _ in range(3)]
    finally:
        dlcore.set_num_threads(prev)
    for a, b in zip(seq, other):
        np.testing.assert_array_equal(a, b)
