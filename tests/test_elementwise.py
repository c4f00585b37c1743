"""Elementwise ops (binary, unary, clip, where) against NumPy, on every CPU ISA.

Reference values come from NumPy. Where dlcore must be bit-exact (IEEE add, sub,
mul, div, sqrt, comparisons, integer arithmetic with wrap-around) the test asks
for equality; exp, log and pow are checked in ulps against the exact result:
NumPy's float64 value for float32 inputs (53 bits are exact at float32's scale),
and the `decimal` module at 60 digits for float64 inputs. (Not long double: x87
results are not trustworthy after a kernel leaves the FPU in MMX state, see
test_x87_fpu_state_clean_after_elementwise and the same test in test_reduce.py.)
"""
import decimal
import operator

import numpy as np
import pytest

import backends
import dlcore

# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------

DTYPES = [np.bool_, np.int32, np.int64, np.float32, np.float64]
FLOATS = (np.float32, np.float64)
INTS = (np.int32, np.int64)
ORDER = {np.dtype(d): i for i, d in enumerate(DTYPES)}

ARITH = ("add", "sub", "mul", "div", "pow")
MINMAX = ("maximum", "minimum")
COMPARE = ("eq", "ne", "lt", "le", "gt", "ge")
LOGICAL = ("logical_and", "logical_or", "logical_xor")
BINARY = ARITH + MINMAX + COMPARE + LOGICAL

OPERATORS = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
             "pow": operator.pow, "eq": operator.eq, "ne": operator.ne, "lt": operator.lt, "le": operator.le,
             "gt": operator.gt, "ge": operator.ge, "logical_and": operator.and_, "logical_or": operator.or_,
             "logical_xor": operator.xor}
NP_BINARY = {"add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.true_divide, "pow": np.power,
             "maximum": np.maximum, "minimum": np.minimum, "eq": np.equal, "ne": np.not_equal, "lt": np.less,
             "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal, "logical_and": np.logical_and,
             "logical_or": np.logical_or, "logical_xor": np.logical_xor}


T = backends.tensor


N = backends.array


def dl_dtype(np_dtype):
    return dlcore.dtype(np.dtype(np_dtype))


def call(op, a, b):
    """op(a, b) through a Python operator where one exists, else dlcore.<op>."""
    if op in OPERATORS:
        return OPERATORS[op](a, b)
    return getattr(dlcore, op)(a, b)


def promote(a, b):
    a, b = np.dtype(a), np.dtype(b)
    return a if ORDER[a] >= ORDER[b] else b


def scalar_promote(t, s):
    """The dtype a Python scalar s takes beside a tensor of dtype t (it only lifts the category)."""
    t = np.dtype(t)
    if isinstance(s, bool):
        return t
    if isinstance(s, int):
        return np.dtype(np.int64) if t == np.bool_ else t
    return t if t.kind == "f" else np.dtype(np.float32)


def compute_dtype(op, promoted):
    promoted = np.dtype(promoted)
    if op in LOGICAL:
        return np.dtype(np.bool_)
    if op == "div" and promoted.kind != "f":
        return np.dtype(np.float32)
    if promoted == np.bool_ and op in ARITH:
        return np.dtype(np.int64)
    return promoted


def out_dtype(op, promoted):
    return np.dtype(np.bool_) if op in COMPARE + LOGICAL else compute_dtype(op, promoted)


def int_pow_ref(a, b):
    """Integer power with wrap-around; a negative exponent gives 0, or +-1 for bases +-1 (PyTorch)."""
    a, b = np.broadcast_arrays(a, b)
    out = np.zeros(a.shape, a.dtype)
    neg = b < 0
    with np.errstate(all="ignore"):
        out[~neg] = np.power(a[~neg], b[~neg])
    an, bn = a[neg], b[neg]
    out[neg] = np.where(an == 1, 1, np.where(an == -1, np.where(bn % 2 == 1, -1, 1), 0))
    return out


def reference(op, a, b, cd):
    """NumPy's op on a, b converted to the compute dtype cd."""
    a = np.asarray(a).astype(cd)
    b = np.asarray(b).astype(cd)
    if op == "pow" and cd.kind == "i":
        return int_pow_ref(a, b)
    if op in LOGICAL:
        a, b = a.astype(bool), b.astype(bool)
    with np.errstate(all="ignore"):
        return NP_BINARY[op](a, b)


_DEC = decimal.Context(prec=60, Emin=-10 ** 7, Emax=10 ** 7, traps=[])
_DEC_CACHE = {}


def _dec_one(fn, x, y):
    """fn(x[, y]) to 60 digits, for float64 x, y; IEEE special cases as NumPy/C99."""
    D = decimal.Decimal
    if fn == "exp":
        if np.isnan(x):
            return D("NaN")
        if np.isinf(x):
            return D("Infinity") if x > 0 else D(0)
        return _DEC.exp(D(float(x)))
    if fn == "log":
        if np.isnan(x) or x < 0:
            return D("NaN")
        if x == 0:
            return D("-Infinity")
        if np.isinf(x):
            return D("Infinity")
        return _DEC.ln(D(float(x)))
    # pow, on the finite inputs the tests use
    assert np.isfinite(x) and np.isfinite(y), (x, y)
    if y == 0 or x == 1:
        return D(1)
    if x == 0:
        return D(0) if y > 0 else D("Infinity")
    if x < 0:
        if y != np.floor(y):
            return D("NaN")
        r = _DEC.power(D(float(-x)), D(float(y)))
        return -r if int(y) % 2 else r
    return _DEC.power(D(float(x)), D(float(y)))


def exact(fn, dtype, x, y=None):
    """The exact fn(x[, y]) for inputs of dtype: a float64 array for float32 inputs, an object
    array of Decimals for float64 inputs (cached: the same inputs recur on every ISA)."""
    dtype = np.dtype(dtype)
    with np.errstate(invalid="ignore"):  # signaling NaNs in random bit patterns
        x = np.asarray(x).astype(dtype).astype(np.float64)
        y = None if y is None else np.asarray(y).astype(dtype).astype(np.float64)
    if dtype == np.float32:
        with np.errstate(all="ignore"):
            return {"exp": np.exp, "log": np.log}[fn](x) if y is None else np.power(x, y)
    if y is not None:
        x, y = np.broadcast_arrays(x, y)
    key = (fn, x.shape, x.tobytes(), None if y is None else y.tobytes())
    if key not in _DEC_CACHE:
        ys = [None] * x.size if y is None else y.ravel()
        out = np.empty(x.size, dtype=object)
        out[:] = [_dec_one(fn, a, b) for a, b in zip(x.ravel(), ys)]
        _DEC_CACHE[key] = out.reshape(x.shape)
    return _DEC_CACHE[key]


def ulp_error(got, ex, dtype):
    """|got - exact| in units of the ulp of the correctly rounded result (the smallest
    subnormal below the normal range). NaN and overflow (inf) results must match exactly.
    Returns the errors of the finite entries and their mask."""
    dtype = np.dtype(dtype)
    got = np.asarray(got)
    if dtype == np.float32:
        ex = np.asarray(ex, np.float64)
        exf = ex
    else:
        ex = np.asarray(ex, dtype=object)
        exf = np.array([float(e) for e in ex.ravel()], np.float64).reshape(ex.shape)  # correctly rounded
    assert got.shape == exf.shape, f"shape {got.shape}, expected {exf.shape}"
    with np.errstate(over="ignore", invalid="ignore"):
        cr = exf.astype(dtype)
    nan = np.isnan(exf)
    np.testing.assert_array_equal(np.isnan(got), nan, err_msg="NaN positions differ")
    inf = np.isinf(cr) & ~nan
    np.testing.assert_array_equal(got[inf], cr[inf], err_msg="overflow (inf) results differ")
    fin = ~nan & ~inf
    assert np.all(np.isfinite(got[fin])), "finite results expected"
    ulp = np.spacing(np.abs(cr[fin]))
    if dtype == np.float32:
        err = np.abs(got[fin].astype(np.float64) - ex[fin]) / ulp.astype(np.float64)
    else:
        D = decimal.Decimal
        err = np.array([float(abs(D(float(g)) - e) / D(float(u)))
                        for g, e, u in zip(got[fin], ex[fin], ulp)], np.float64)
    return err, fin


def assert_ulp(got, ex, dtype, max_ulp, x=None):
    err, fin = ulp_error(got, ex, dtype)
    if err.size and err.max() > max_ulp:
        i = int(np.argmax(err))
        where = "" if x is None else f" at x={np.broadcast_to(x, fin.shape)[fin][i]!r}"
        raise AssertionError(f"max error {float(err.max()):.3f} ulp > {max_ulp} ulp{where}, "
                             f"got {np.asarray(got)[fin][i]!r}, exact {np.asarray(ex)[fin][i]!r}")


def assert_same(got_t, expected, dtype=None):
    """Exact equality (NaN == NaN) and dtype check."""
    got = N(got_t)
    expected = np.asarray(expected)
    if dtype is None:
        dtype = expected.dtype
    assert got_t.dtype == dl_dtype(dtype), f"dtype {got_t.dtype}, expected {np.dtype(dtype)}"
    assert got.shape == expected.shape, f"shape {got.shape}, expected {expected.shape}"
    np.testing.assert_array_equal(got, expected.astype(dtype))


def data(rng, shape, dtype):
    """Test data: floats on a half-integer grid in [-8, 8] (so eq/ne/le see ties, and the
    products and sums are exact), small integers; both include zeros (x / 0 -> inf/nan,
    checked against NumPy as well)."""
    dtype = np.dtype(dtype)
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    if dtype.kind == "i":
        return rng.integers(-9, 10, shape).astype(dtype)
    return (rng.integers(-16, 17, shape) / 2).astype(dtype)


def pow_data(rng, shape, dta, dtb):
    """Bases and exponents for pow; integer exponents are small and non-negative here."""
    dta, dtb = np.dtype(dta), np.dtype(dtb)
    if dta == np.bool_:
        a = rng.random(shape) < 0.5
    elif dta.kind == "i":
        a = rng.integers(-6, 7, shape).astype(dta)
    else:
        a = rng.uniform(0.25, 4.0, shape).astype(dta)
    if dtb == np.bool_:
        b = rng.random(shape) < 0.5
    elif dtb.kind == "i":
        b = rng.integers(0, 6, shape).astype(dtb)
    else:
        b = rng.uniform(-3.0, 3.0, shape).astype(dtb)
    return a, b


def check_binary(op, got, a, b, cd):
    """got vs NumPy: exact, except float pow (<= 1 ulp of the exact power)."""
    exp_dt = out_dtype(op, cd)
    assert got.dtype == dl_dtype(exp_dt), f"[{op}] dtype {got.dtype}, expected {exp_dt}"
    if op == "pow" and cd.kind == "f":
        assert_ulp(N(got), exact("pow", cd, a, b), cd, 1.0)
    else:
        assert_same(got, reference(op, a, b, cd), exp_dt)


# ---------------------------------------------------------------------------
# binary ops: values and dtypes
# ---------------------------------------------------------------------------

DTYPE_PAIRS = [(d, d) for d in DTYPES] + [
    (np.bool_, np.int32), (np.int32, np.int64), (np.int64, np.float32), (np.int32, np.float64),
    (np.float32, np.float64), (np.bool_, np.float32), (np.float64, np.int64), (np.int64, np.bool_)]


@pytest.mark.parametrize("dta,dtb", DTYPE_PAIRS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("op", BINARY)
def test_binary_tensor_tensor(backend, rng, op, dta, dtb):
    shape = (5, 37)  # 37: SIMD body plus a tail on every ISA
    if op == "pow":
        a, b = pow_data(rng, shape, dta, dtb)
    else:
        a, b = data(rng, shape, dta), data(rng, shape, dtb)
    cd = compute_dtype(op, promote(dta, dtb))
    check_binary(op, call(op, T(a), T(b)), a, b, cd)


@pytest.mark.parametrize("op", BINARY)
def test_binary_function_and_method_forms(backend, rng, op):
    a = data(rng, (4, 9), np.float32)
    b = data(rng, (4, 9), np.float32)
    if op == "pow":
        a = np.abs(a) + 0.5
    ta, tb = T(a), T(b)
    expected = N(call(op, ta, tb))
    np.testing.assert_array_equal(N(getattr(dlcore, op)(ta, tb)), expected)
    np.testing.assert_array_equal(N(getattr(ta, op)(tb)), expected)
    cd = np.dtype(np.float32)
    check_binary(op, getattr(dlcore, op)(ta, tb), a, b, cd)


SCALARS = [3, -2, 2.5, -0.5, True, False]


@pytest.mark.parametrize("scalar", SCALARS, ids=repr)
@pytest.mark.parametrize("dt", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("op", BINARY)
def test_binary_tensor_scalar(backend, rng, op, dt, scalar):
    if op == "pow":
        a, _ = pow_data(rng, (3, 19), dt, dt)
    else:
        a = data(rng, (3, 19), dt)
    cd = compute_dtype(op, scalar_promote(dt, scalar))
    check_binary(op, call(op, T(a), scalar), a, np.asarray(scalar), cd)
    # the scalar first: 2 - x, 2 / x, 2 ** x, ...
    if op == "pow" and np.dtype(dt).kind == "f" and scalar is not True and scalar is not False:
        b_scalar = abs(scalar)  # a positive base for float pow
    else:
        b_scalar = scalar
    if op == "pow" and np.dtype(cd).kind == "i":
        a = np.abs(a)  # scalar ** x with x >= 0 here; negative exponents have their own test
    check_binary(op, call(op, b_scalar, T(a)), np.asarray(b_scalar), a, cd)


def test_scalar_first_operators(backend):
    x = np.array([1.0, 2.0, 4.0, -8.0], np.float32)
    assert_same(2 - T(x), np.float32(2) - x)
    assert_same(2 / T(x), np.float32(2) / x)
    assert_same(2 ** T(np.array([0, 1, 5, 10])), np.array([1, 2, 32, 1024], np.int64))
    assert_same(2.0 ** T(np.array([0, 1, 5, -1])), np.array([1, 2, 32, 0.5], np.float32))
    assert_same(1 - T(np.array([True, False])), np.array([0, 1], np.int64))
    assert_same(3 / T(np.array([2, 4], np.int32)), np.array([1.5, 0.75], np.float32))
    assert_same(0.5 * T(np.array([3], np.int64)), np.array([1.5], np.float32))
    assert_same(5 > T(x), np.array([True, True, True, True]))


# explicit promotion table (PyTorch rules, csrc/ops/elementwise.cpp header)
PROMOTION_TT = [
    ("add", np.int32, np.int64, np.int64), ("add", np.int32, np.float32, np.float32),
    ("add", np.int64, np.float32, np.float32), ("add", np.float32, np.float64, np.float64),
    ("add", np.bool_, np.bool_, np.int64), ("sub", np.bool_, np.bool_, np.int64),
    ("mul", np.bool_, np.bool_, np.int64), ("pow", np.bool_, np.bool_, np.int64),
    ("add", np.bool_, np.int32, np.int32), ("mul", np.bool_, np.float32, np.float32),
    ("add", np.int64, np.float64, np.float64), ("add", np.int32, np.int32, np.int32),
    ("div", np.int32, np.int32, np.float32), ("div", np.int64, np.int64, np.float32),
    ("div", np.int32, np.int64, np.float32), ("div", np.bool_, np.bool_, np.float32),
    ("div", np.int64, np.float64, np.float64), ("div", np.float32, np.float32, np.float32),
    ("pow", np.int32, np.int32, np.int32), ("pow", np.int32, np.float32, np.float32),
    ("maximum", np.bool_, np.bool_, np.bool_), ("maximum", np.int32, np.float32, np.float32),
    ("minimum", np.int32, np.int64, np.int64), ("eq", np.int32, np.float64, np.bool_),
    ("lt", np.float32, np.float64, np.bool_), ("logical_and", np.float32, np.int64, np.bool_),
    ("logical_xor", np.int32, np.int32, np.bool_),
]


@pytest.mark.parametrize("op,dta,dtb,expected", PROMOTION_TT,
                         ids=[f"{o}-{np.dtype(a).name}-{np.dtype(b).name}" for o, a, b, _ in PROMOTION_TT])
def test_promotion_tensor_tensor(op, dta, dtb, expected):
    a = T(np.ones(3, dta))
    b = T(np.ones(3, dtb))
    assert call(op, a, b).dtype == dl_dtype(expected)
    assert call(op, b, a).dtype == dl_dtype(expected)


PROMOTION_TS = [
    ("add", np.int32, 2, np.int32), ("add", np.int32, 2.5, np.float32), ("mul", np.int64, 0.5, np.float32),
    ("add", np.float32, 2.5, np.float32), ("add", np.float64, 2, np.float64), ("add", np.float64, 2.5, np.float64),
    ("add", np.bool_, 1, np.int64), ("add", np.bool_, True, np.int64), ("add", np.bool_, 1.5, np.float32),
    ("add", np.int32, True, np.int32), ("div", np.int32, 2, np.float32), ("div", np.int64, 2, np.float32),
    ("div", np.float64, 2, np.float64), ("pow", np.int32, 2, np.int32), ("pow", np.int32, 0.5, np.float32),
    ("gt", np.int32, 2.5, np.bool_), ("logical_and", np.int32, 1, np.bool_), ("maximum", np.int32, 2.5, np.float32),
    ("maximum", np.bool_, True, np.bool_), ("minimum", np.int64, 3, np.int64),
]


@pytest.mark.parametrize("op,dt,scalar,expected", PROMOTION_TS,
                         ids=[f"{o}-{np.dtype(d).name}-{s!r}" for o, d, s, _ in PROMOTION_TS])
def test_promotion_tensor_scalar(op, dt, scalar, expected):
    a = T(np.ones(3, dt))
    assert call(op, a, scalar).dtype == dl_dtype(expected)
    assert call(op, scalar, a).dtype == dl_dtype(expected)


def test_promotion_values_int_and_float_scalar(backend):
    x = np.array([1, 2, 3, -7], np.int32)
    assert_same(T(x) * 0.5, x.astype(np.float32) * np.float32(0.5))
    assert_same(T(x) / T(np.array([2, 2, 2, 2], np.int32)), np.array([0.5, 1, 1.5, -3.5], np.float32))
    assert_same(T(x) + 1, (x + 1).astype(np.int32))
    assert_same(T(np.array([True, True])) + T(np.array([True, False])), np.array([2, 1], np.int64))
    assert_same(T(x) < 2.5, x < 2.5)


# ---------------------------------------------------------------------------
# broadcasting, sizes, layouts
# ---------------------------------------------------------------------------

BROADCAST_SHAPES = [
    ((3, 1), (1, 4)), ((5,), (2, 5)), ((2, 5), (5,)), ((), (4, 3)), ((4, 3), ()), ((), ()),
    ((0, 3), (1, 3)), ((1, 3), (0, 3)), ((0,), (1,)), ((0,), ()), ((2, 0, 3), (3,)),
    ((1,), (1,)), ((1,), (7,)), ((7,), (7,)), ((13,), (1,)), ((97,), (97,)), ((1031,), (1, 1031)),
    ((13, 1), (1, 97)), ((7, 1, 13), (1, 97, 1)), ((2, 1, 3), (4, 1)), ((2, 3, 1, 5), (3, 4, 1)),
    ((1, 1, 1), (1,)), ((6, 1), (6, 6)), ((1, 31), (31, 1)),
]
BROADCAST_OPS = ["add", "sub", "div", "pow", "maximum", "lt", "logical_xor"]


@pytest.mark.parametrize("sa,sb", BROADCAST_SHAPES, ids=str)
@pytest.mark.parametrize("op", BROADCAST_OPS)
def test_broadcasting(backend, rng, op, sa, sb):
    if op == "pow":
        a, b = pow_data(rng, sa, np.float32, np.float32)[0], pow_data(rng, sb, np.float32, np.float32)[1]
    else:
        a, b = data(rng, sa, np.float32), data(rng, sb, np.int64)
    cd = compute_dtype(op, promote(a.dtype, b.dtype))
    got = call(op, T(a), T(b))
    assert got.shape == np.broadcast_shapes(sa, sb)
    check_binary(op, got, a, b, cd)
    got = call(op, T(b), T(a))  # and the other way round
    if op == "pow":
        return
    check_binary(op, got, b, a, cd)


@pytest.mark.parametrize("value", [2.5, 3, True, np.float32(2.5), np.array(2.5)], ids=repr)
def test_tensor_of_python_scalar_is_0d(value):
    # 0-d operands: dlcore.tensor(scalar) must be 0-d (NumPy, PyTorch), so that 0-d x 0-d stays 0-d
    t = dlcore.tensor(value)
    assert t.shape == ()
    z = T(np.array(1.0, np.float32))
    assert (t + z).shape == ()
    assert dlcore.add(z, value).shape == ()


def test_zero_d_with_n_d(backend, rng):
    z = np.array(1.5, np.float32)
    x = data(rng, (4, 5), np.float32)
    assert_same(T(z) + T(x), z + x)
    assert_same(T(x) - T(z), x - z)
    assert_same(T(z) * T(z), z * z)
    assert (T(z) * T(z)).shape == ()
    assert_same(dlcore.maximum(T(z), T(x)), np.maximum(z, x))
    assert_same(T(z) < T(x[0]), z < x[0])
    assert_same(T(np.zeros((0, 2), np.float32)) + T(z), np.zeros((0, 2), np.float32))


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 8, 13, 15, 16, 17, 31, 33, 63, 65, 97, 1031])
@pytest.mark.parametrize("dt", DTYPES, ids=lambda d: np.dtype(d).name)
def test_sizes_around_simd_widths(backend, rng, dt, n):
    a, b = data(rng, (n,), dt), data(rng, (n,), dt)
    for op in ("add", "mul", "maximum", "minimum", "ge", "ne", "logical_or"):
        check_binary(op, call(op, T(a), T(b)), a, b, compute_dtype(op, np.dtype(dt)))
    check_binary("sub", T(a) - 3, a, np.asarray(3), compute_dtype("sub", scalar_promote(dt, 3)))


@pytest.mark.parametrize("shape_a,shape_b", [((100003,), (100003,)), ((100003,), ()), ((3, 33335), (33335,)),
                                             ((3, 33335), (3, 1)), ((317, 331), (331,)), ((1, 100003), (5, 1)),
                                             ((7, 11, 1303), (11, 1))],
                         ids=str)
def test_parallel_path(backend, threads, rng, shape_a, shape_b):
    a = rng.standard_normal(shape_a).astype(np.float32)
    b = rng.standard_normal(shape_b).astype(np.float32)
    for op in ("add", "mul", "div", "maximum", "gt"):
        check_binary(op, call(op, T(a), T(b)), a, b, np.dtype(np.float32))
    ai = rng.integers(-1000, 1000, shape_a).astype(np.int64)
    check_binary("sub", 7 - T(ai), np.asarray(7), ai, np.dtype(np.int64))


def test_parallel_path_noncontiguous(backend, threads, rng):
    base = rng.standard_normal((401, 503)).astype(np.float32)  # 201,703 elements, x.T is strided
    other = rng.standard_normal((503, 401)).astype(np.float32)
    check_binary("add", T(base).T + T(other), base.T, other, np.dtype(np.float32))
    check_binary("mul", T(base).T * T(base).T, base.T, base.T, np.dtype(np.float32))
    big = rng.standard_normal(200006).astype(np.float64)
    check_binary("sub", T(big)[::-2] - T(big)[::2], big[::-2], big[::2], np.dtype(np.float64))


# name: (base shape, view of a dlcore tensor, the same view of a NumPy array)
VIEWS = {
    "T": ((13, 7), lambda t: t.T, lambda a: a.T),
    "step2d": ((10, 12), lambda t: t[::2, 1::3], lambda a: a[::2, 1::3]),
    "neg1d": ((31,), lambda t: t[::-1], lambda a: a[::-1]),
    "neg2d": ((9, 11), lambda t: t[::-1, ::-2], lambda a: a[::-1, ::-2]),
    "mixed": ((8, 10), lambda t: t[7:0:-3, 1::2], lambda a: a[7:0:-3, 1::2]),
    "expand_row": ((1, 13), lambda t: t.expand(5, 13), lambda a: np.broadcast_to(a, (5, 13))),
    "expand_col": ((5, 1), lambda t: t.expand(5, 13), lambda a: np.broadcast_to(a, (5, 13))),
    "transpose3d": ((3, 4, 5), lambda t: t.transpose(1, 2), lambda a: a.transpose(0, 2, 1)),
}


def make_view(name, base_np):
    """(dlcore view, NumPy view) of a tensor holding base_np."""
    _, dl_fn, np_fn = VIEWS[name]
    return dl_fn(T(base_np)), np_fn(base_np)


@pytest.mark.parametrize("name", list(VIEWS))
@pytest.mark.parametrize("dt", [np.float32, np.int64, np.float64], ids=lambda d: np.dtype(d).name)
def test_noncontiguous_inputs(backend, rng, name, dt):
    base = data(rng, VIEWS[name][0], dt)
    tv, nv = make_view(name, base)
    assert tv.shape == nv.shape
    other = data(rng, nv.shape, dt)
    for op in ("add", "sub", "mul", "maximum", "gt", "logical_and"):
        cd = compute_dtype(op, np.dtype(dt))
        check_binary(op, call(op, tv, T(other)), nv, other, cd)
        check_binary(op, call(op, T(other), tv), other, nv, cd)
        check_binary(op, call(op, tv, tv), nv, nv, cd)
    check_binary("mul", tv * 3, nv, np.asarray(3), compute_dtype("mul", scalar_promote(dt, 3)))
    assert_same(-tv, -nv)
    assert_same(abs(tv), np.abs(nv))
    if np.dtype(dt).kind == "f":
        assert_ulp(N(tv.exp()), exact("exp", dt, nv), dt, EXPLOG_ULP)
        assert_same(abs(tv).sqrt(), np.sqrt(np.abs(nv)))


def test_view_of_output_unaffected(backend):
    # a view's result must not alias its input
    base = np.arange(12, dtype=np.float32).reshape(3, 4)
    t = T(base)
    r = t.T + 0
    t.fill_(-1.0)
    np.testing.assert_array_equal(N(r), base.T)


# ---------------------------------------------------------------------------
# errors
# ---------------------------------------------------------------------------

BAD_SHAPES = [((3,), (4,)), ((2, 3), (3, 2)), ((0,), (2,)), ((2, 1, 3), (2, 4)), ((5, 4), (1, 5))]


@pytest.mark.parametrize("sa,sb", BAD_SHAPES, ids=str)
@pytest.mark.parametrize("op", BINARY)
def test_mismatched_shapes_raise(op, sa, sb):
    a, b = T(np.ones(sa, np.float32)), T(np.ones(sb, np.float32))
    with pytest.raises(ValueError) as info:
        call(op, a, b)
    msg = str(info.value)
    assert msg.startswith(f"[{op}]"), msg
    assert str(tuple(sa)) in msg and str(tuple(sb)) in msg, msg


def test_where_mismatched_shapes_raise():
    with pytest.raises(ValueError) as info:
        dlcore.where(T(np.ones((3,), bool)), T(np.ones((4,), np.float32)), 0.0)
    assert str(info.value).startswith("[where]")
    assert "(3,)" in str(info.value) and "(4,)" in str(info.value)


@pytest.mark.parametrize("op", ["neg", "abs", "sign", "square"])
def test_numeric_unary_of_bool_raises(op):
    x = T(np.array([True, False]))
    with pytest.raises(TypeError) as info:
        getattr(x, op)()
    assert str(info.value).startswith(f"[{op}]")
    with pytest.raises(TypeError):
        getattr(dlcore, op)(x)


def test_neg_abs_operators_of_bool_raise():
    x = T(np.array([True, False]))
    with pytest.raises(TypeError):
        -x
    with pytest.raises(TypeError):
        abs(x)


@pytest.mark.parametrize("dt", [np.int32, np.int64, np.float32, np.float64], ids=lambda d: np.dtype(d).name)
def test_invert_of_non_bool_raises(dt):
    with pytest.raises(TypeError):
        ~T(np.ones(3, dt))


# ---------------------------------------------------------------------------
# integer semantics
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dt", INTS, ids=lambda d: np.dtype(d).name)
def test_int_overflow_wraps(backend, dt):
    info = np.iinfo(dt)
    mx = np.array([info.max, info.max, info.min, info.min, 0], dt)
    one = np.ones(5, dt)
    with np.errstate(all="ignore"):
        assert_same(T(mx) + T(one), mx + one)
        assert_same(T(mx) - T(one) * 2, mx - one * 2)
        assert_same(T(mx) + 1, mx + dt(1))
        assert_same(T(mx) * 2, mx * dt(2))
        assert_same(T(mx) * T(mx), mx * mx)
        assert_same(-T(mx), -mx)
        assert_same(abs(T(mx)), np.abs(mx))
        assert_same(T(mx).square(), np.square(mx))
        big = np.array([46341, 65536, 3037000500, 99991], np.int64).astype(dt)
        assert_same(T(big) * T(big), big * big)
        assert_same(T(big).square(), np.square(big))
        base = np.array([3, -3, 7, 2, -2], dt)
        e = np.array([40, 41, 25, 63, 64], dt)
        assert_same(T(base) ** T(e), np.power(base, e))
        assert_same(T(base) ** 45, np.power(base, dt(45)))


@pytest.mark.parametrize("dt", INTS, ids=lambda d: np.dtype(d).name)
def test_int_pow_negative_exponent(backend, dt):
    base = np.array([-3, -2, -1, 0, 1, 2, 3, -1, 1, -1, 5], dt)
    e = np.array([-1, -2, -3, -1, -5, -1, -2, -4, -1, -1, -7], dt)
    expected = np.array([0, 0, -1, 0, 1, 0, 0, 1, 1, -1, 0], dt)
    assert_same(T(base) ** T(e), expected)
    assert_same(T(base) ** -1, np.array([0, 0, -1, 0, 1, 0, 0, -1, 1, -1, 0], dt))
    assert_same(T(base) ** -2, np.array([0, 0, 1, 0, 1, 0, 0, 1, 1, 1, 0], dt))
    assert_same(2 ** T(e), np.zeros(11, dt))
    assert_same((-1) ** T(e), np.where(e % 2 == 1, -1, 1).astype(dt))
    assert_same(1 ** T(e), np.ones(11, dt))
    assert_same(T(base) ** 0, np.ones(11, dt))
    # large enough for the SIMD path with mixed signs of exponent
    rng = np.random.default_rng(7)
    b = rng.integers(-3, 4, 1031).astype(dt)
    x = rng.integers(-4, 5, 1031).astype(dt)
    assert_same(T(b) ** T(x), int_pow_ref(b, x))


def test_int_division_by_zero(backend):
    a = np.array([1, -1, 0, 5], np.int64)
    b = np.array([0, 0, 0, 2], np.int64)
    with np.errstate(all="ignore"):
        assert_same(T(a) / T(b), a.astype(np.float32) / b.astype(np.float32))
        assert_same(T(a) / 0, a.astype(np.float32) / np.float32(0))
        assert_same(T(a.astype(np.float64)) / 0.0, a.astype(np.float64) / 0.0)


# ---------------------------------------------------------------------------
# unary ops
# ---------------------------------------------------------------------------

UNARY_NP = {"neg": np.negative, "abs": np.abs, "sign": np.sign, "square": np.square,
            "reciprocal": lambda x: np.reciprocal(x), "sqrt": np.sqrt,
            "rsqrt": lambda x: x.dtype.type(1) / np.sqrt(x), "logical_not": np.logical_not}
FLOAT_ONLY = ("reciprocal", "exp", "log", "sqrt", "rsqrt")


def unary_data(rng, shape, dt):
    dt = np.dtype(dt)
    if dt == np.bool_:
        return rng.random(shape) < 0.5
    if dt.kind == "i":
        return rng.integers(-50, 51, shape).astype(dt)
    x = rng.uniform(-50, 50, shape).astype(dt)
    x.ravel()[:8] = [0.0, -0.0, np.nan, np.inf, -np.inf, 1.0, -1.0, 0.25]
    return x


@pytest.mark.parametrize("dt", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("op", ["neg", "abs", "sign", "square", "reciprocal", "sqrt", "rsqrt", "logical_not"])
def test_unary_values(backend, rng, op, dt):
    x = unary_data(rng, (7, 23), dt)
    dt = np.dtype(dt)
    if dt == np.bool_ and op in ("neg", "abs", "sign", "square"):
        with pytest.raises(TypeError):
            getattr(T(x), op)()
        return
    if op == "logical_not":
        out_dt = np.dtype(np.bool_)
    elif op in FLOAT_ONLY and dt.kind != "f":
        out_dt = np.dtype(np.float32)
    else:
        out_dt = dt
    with np.errstate(all="ignore"):
        expected = UNARY_NP[op](x.astype(out_dt) if op != "logical_not" else x)
    got = getattr(T(x), op)()
    assert_same(got, expected, out_dt)
    np.testing.assert_array_equal(N(getattr(dlcore, op)(T(x))), N(got))


def test_unary_operators(backend, rng):
    x = unary_data(rng, (41,), np.float32)
    assert_same(-T(x), -x)
    assert_same(abs(T(x)), np.abs(x))
    assert_same(+T(x), x)
    b = rng.random(41) < 0.5
    assert_same(~T(b), ~b)
    assert_same(dlcore.logical_not(T(x)), np.logical_not(x))


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_abs_of_negative_zero_is_positive_zero(backend, dt):
    # IEEE fabs / np.abs clear the sign bit: abs(-0.0) is +0.0 (1/abs(-0.0) == +inf)
    x = np.array([-0.0] * 19, dt)
    got = N(abs(T(x)))
    assert not np.signbit(got).any(), f"abs(-0.0) has its sign bit set: {got[:3]}, NumPy gives {np.abs(x[:3])}"


def test_sign_values(backend):
    x = np.array([-2.5, -0.0, 0.0, 3.0, np.nan, -np.inf, np.inf, 1e-40], np.float32)
    assert_same(T(x).sign(), np.sign(x))
    xi = np.array([-5, 0, 7, np.iinfo(np.int64).min], np.int64)
    assert_same(T(xi).sign(), np.sign(xi))


# ---------------------------------------------------------------------------
# exp and log (custom polynomial SIMD implementations)
# ---------------------------------------------------------------------------

# math.h documents "within 2 ulp of the correctly rounded result": <= 2.5 ulp of the exact value.
EXPLOG_ULP = 2.5


def check_exp(x, dt):
    x = np.asarray(x, dt)
    got = T(x).exp()
    assert got.dtype == dl_dtype(dt)
    assert_ulp(N(got), exact("exp", dt, x), dt, EXPLOG_ULP, x)
    # and consistent with NumPy's own exp on the special cases (inf, 0, NaN)
    with np.errstate(all="ignore"):
        npv = np.exp(x)
    g = N(got)
    np.testing.assert_array_equal(np.isnan(g), np.isnan(npv))
    np.testing.assert_array_equal(g[np.isinf(npv)], npv[np.isinf(npv)])
    np.testing.assert_array_equal(g[npv == 0] <= np.finfo(dt).smallest_subnormal, True)


def check_log(x, dt):
    x = np.asarray(x, dt)
    got = T(x).log()
    assert got.dtype == dl_dtype(dt)
    assert_ulp(N(got), exact("log", dt, x), dt, EXPLOG_ULP, x)
    with np.errstate(all="ignore"):
        npv = np.log(x)
    g = N(got)
    np.testing.assert_array_equal(np.isnan(g), np.isnan(npv))
    np.testing.assert_array_equal(g[np.isinf(npv)], npv[np.isinf(npv)])


@pytest.mark.parametrize("lo,hi", [(-100.0, 100.0), (-1.0, 1.0), (-1e-3, 1e-3), (80.0, 88.8), (-104.5, -80.0)])
def test_exp_float32_uniform(backend, rng, lo, hi):
    check_exp(rng.uniform(lo, hi, 20011), np.float32)


@pytest.mark.parametrize("lo,hi", [(-745.5, 710.0), (-1.0, 1.0), (-1e-6, 1e-6), (700.0, 710.0), (-746.0, -700.0)])
def test_exp_float64_uniform(backend, rng, lo, hi):
    check_exp(rng.uniform(lo, hi, 4001), np.float64)


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_exp_logspace(backend, dt):
    mag = np.logspace(-40 if dt == np.float32 else -300, np.log10(800), 4001 if dt == np.float32 else 1501)
    check_exp(np.concatenate([mag, -mag]), dt)


def test_exp_float32_random_bits(backend, rng):
    # every float32 bit pattern class (huge, tiny, subnormal, negative), NaN/inf included
    bits = rng.integers(0, 2 ** 32, 50021, dtype=np.uint64).astype(np.uint32)
    check_exp(bits.view(np.float32), np.float32)


EXP_SPECIAL_F32 = [0.0, -0.0, 1.0, -1.0, 1e-8, -1e-8, 1.4e-45, -1.4e-45, 1.17549435e-38, 3.4028235e38,
                   -3.4028235e38, np.inf, -np.inf, np.nan, 88.7, 88.72, 88.7228, 88.72284, 88.73, 88.75, 88.8, 88.9,
                   89.0, 100.0, 1e4, -87.3, -87.33655, -88.0, -100.0, -103.0, -103.2789, -103.9, -103.97, -104.0,
                   -104.5, -150.0, -1e4, 0.5 * np.log(2), -0.5 * np.log(2), np.log(2), 10.0, -10.0]
EXP_SPECIAL_F64 = [0.0, -0.0, 1.0, -1.0, 1e-17, -1e-17, 5e-324, 2.2250738585072014e-308, 1.7976931348623157e308,
                   -1.7976931348623157e308, np.inf, -np.inf, np.nan, 709.0, 709.78, 709.782712893384, 709.7827128933841,
                   709.79, 709.8, 709.85, 709.9, 709.95, 710.0, 800.0, 1e5, -708.39, -708.4, -709.0, -744.0,
                   -744.44, -745.0, -745.1, -745.13, -745.1332191019412, -745.14, -745.2, -746.0, -746.5, -750.0,
                   -1000.0, -1e5, 0.5 * np.log(2), np.log(2), 100.0, -100.0]


@pytest.mark.parametrize("dt,values", [(np.float32, EXP_SPECIAL_F32), (np.float64, EXP_SPECIAL_F64)],
                         ids=["float32", "float64"])
@pytest.mark.parametrize("length", [1, 64])  # scalar tail vs SIMD body
def test_exp_special_values(backend, dt, values, length):
    x = np.asarray(values, dt)
    for v in x:
        check_exp(np.full(length, v, dt), dt)
    check_exp(x, dt)


def test_exp_overflow_underflow_exact(backend):
    f32 = N(T(np.array([88.8, 89.0, 1e30, -104.0, -110.0, -1e30, 88.7], np.float32)).exp())
    assert np.isposinf(f32[:3]).all()
    np.testing.assert_array_equal(f32[3:6], [0.0, 0.0, 0.0])
    assert np.isfinite(f32[6])
    f64 = N(T(np.array([709.8, 710.0, 1e300, -746.0, -800.0, -1e300, 709.78], np.float64)).exp())
    assert np.isposinf(f64[:3]).all()
    np.testing.assert_array_equal(f64[3:6], [0.0, 0.0, 0.0])
    assert np.isfinite(f64[6])
    # subnormal results
    sub32 = N(T(np.array([-100.0, -103.0], np.float32)).exp())
    ref32 = np.exp(np.array([-100.0, -103.0], np.float64)).astype(np.float32)
    assert (sub32 > 0).all() and (sub32 < np.finfo(np.float32).tiny).all()
    np.testing.assert_allclose(sub32, ref32, rtol=0, atol=2 * np.finfo(np.float32).smallest_subnormal)
    sub64 = N(T(np.array([-710.0, -740.0, -745.0], np.float64)).exp())
    ref64 = np.array([float(e) for e in exact("exp", np.float64, [-710.0, -740.0, -745.0])])
    assert (sub64 > 0).all() and (sub64 < np.finfo(np.float64).tiny).all()
    np.testing.assert_allclose(sub64, ref64, rtol=0, atol=2 * np.finfo(np.float64).smallest_subnormal)


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_log_wide_range(backend, rng, dt):
    fi = np.finfo(dt)
    lo, hi = np.log(float(fi.smallest_subnormal)), np.log(float(fi.max))
    x = np.exp(rng.uniform(lo, hi, 40009 if dt == np.float32 else 6007)).astype(dt)
    check_log(x, dt)


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("lo,hi", [(0.5, 2.0), (0.999, 1.001), (0.7, 0.72), (1.4, 1.42)])
def test_log_near_one(backend, rng, dt, lo, hi):
    check_log(rng.uniform(lo, hi, 20011 if dt == np.float32 else 3001), dt)


def test_log_float32_random_bits(backend, rng):
    bits = rng.integers(0, 2 ** 32, 50021, dtype=np.uint64).astype(np.uint32)
    check_log(bits.view(np.float32), np.float32)


def test_log_float64_random_positive_bits(backend, rng):
    bits = rng.integers(0, 0x7FF0000000000000, 6007, dtype=np.uint64)
    check_log(bits.view(np.float64), np.float64)


def _special_log(dt):
    fi = np.finfo(dt)
    sub = fi.smallest_subnormal
    return [0.0, -0.0, float(sub), float(sub) * 3, float(fi.tiny) / 2, float(fi.tiny) * (1 - fi.eps),
            float(fi.tiny), float(fi.tiny) * 2, float(fi.max), np.inf, -np.inf, np.nan, -1.0, -float(fi.tiny),
            -float(sub), 1.0, 1.0 + float(fi.eps), 1.0 - float(fi.epsneg), 0.70710677, 0.70710678118654752440,
            0.7071068, 1.41421356, 2.0, 0.5, np.e, 10.0, 1e-10, 1e10]


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("length", [1, 64])
def test_log_special_values(backend, dt, length):
    x = np.asarray(_special_log(dt), dt)
    for v in x:
        check_log(np.full(length, v, dt), dt)
    check_log(x, dt)
    g = N(T(np.array([0.0, -0.0, -1.0, -np.inf, np.nan, np.inf, 1.0], dt)).log())
    assert np.isneginf(g[0]) and np.isneginf(g[1])
    assert np.isnan(g[2]) and np.isnan(g[3]) and np.isnan(g[4])
    assert np.isposinf(g[5]) and g[6] == 0.0


@pytest.mark.parametrize("dt", [np.bool_, np.int32, np.int64], ids=lambda d: np.dtype(d).name)
def test_exp_log_of_integers_are_float32(backend, dt):
    x = np.array([0, 1, 1, 0, 1], dt) if dt == np.bool_ else np.array([0, 1, 2, 10, 50, -3, 88, 89], dt)
    e = T(x).exp()
    assert e.dtype == dlcore.float32
    assert_ulp(N(e), exact("exp", np.float32, x), np.float32, EXPLOG_ULP)
    lg = dlcore.log(T(x))
    assert lg.dtype == dlcore.float32
    with np.errstate(all="ignore"):
        assert_ulp(N(lg), exact("log", np.float32, x), np.float32, EXPLOG_ULP)


def test_exp_log_parallel_and_strided(backend, threads, rng):
    x = rng.uniform(-80, 80, 200006).astype(np.float32)
    check_exp(x, np.float32)
    tv = T(x)[::-2]
    assert_ulp(N(tv.exp()), exact("exp", np.float32, x[::-2]), np.float32, EXPLOG_ULP)
    y = np.abs(x) + np.float32(1e-30)
    assert_ulp(N(T(y)[1::2].log()), exact("log", np.float32, y[1::2]), np.float32, EXPLOG_ULP)
    assert_ulp(N(T(y).log()), exact("log", np.float32, y), np.float32, EXPLOG_ULP)
    # float64 on the strided path (the parallel split does not depend on the dtype)
    z = np.abs(rng.standard_normal(4006)) * 1e3 + 1e-300
    assert_ulp(N(T(z)[1::2].log()), exact("log", np.float64, z[1::2]), np.float64, EXPLOG_ULP)
    w = -z / 3
    assert_ulp(N(T(w)[::-3].exp()), exact("exp", np.float64, w[::-3]), np.float64, EXPLOG_ULP)


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_exp_log_roundtrip(backend, dt):
    # log(exp(x)(1 + d)) = x + d with |d| <= 2.5 eps, plus log's own 2.5 ulp(x) <= 2.5 eps |x|
    x = np.linspace(-20, 20, 1001).astype(dt)
    eps = float(np.finfo(dt).eps)
    err = np.abs(N(T(x).exp().log()).astype(np.float64) - x.astype(np.float64))
    tol = EXPLOG_ULP * eps * (1 + np.abs(x.astype(np.float64)))
    assert (err <= tol).all(), float((err / tol).max())


# ---------------------------------------------------------------------------
# maximum / minimum / clip and NaN
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("op", MINMAX)
def test_maximum_minimum_nan(backend, rng, op, dt):
    a = np.array([np.nan, 1.0, np.nan, 2.0, -np.inf, np.inf, np.nan, 0.0], dt)
    b = np.array([1.0, np.nan, np.nan, 3.0, np.nan, -np.inf, -np.inf, -0.0], dt)
    f = NP_BINARY[op]
    assert_same(getattr(dlcore, op)(T(a), T(b)), f(a, b))
    assert_same(getattr(dlcore, op)(T(b), T(a)), f(b, a))
    # SIMD body with NaNs scattered in both operands
    x = rng.standard_normal(1031).astype(dt)
    y = rng.standard_normal(1031).astype(dt)
    x[rng.random(1031) < 0.1] = np.nan
    y[rng.random(1031) < 0.1] = np.nan
    assert_same(getattr(dlcore, op)(T(x), T(y)), f(x, y))
    assert_same(getattr(T(x), op)(0.0), f(x, dt(0.0)))
    assert_same(getattr(dlcore, op)(0.0, T(y)), f(dt(0.0), y))
    assert_same(getattr(T(x), op)(float("nan")), f(x, dt(np.nan)))
    assert_same(getattr(dlcore, op)(T(x), T(y[:1])), f(x, y[:1]))


@pytest.mark.parametrize("dt", [np.int32, np.int64, np.bool_], ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("op", MINMAX)
def test_maximum_minimum_ints(backend, rng, op, dt):
    a, b = data(rng, (3, 41), dt), data(rng, (41,), dt)
    assert_same(getattr(dlcore, op)(T(a), T(b)), NP_BINARY[op](a, b))


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("lo,hi", [(-1.0, 1.0), (None, 0.5), (-0.5, None), (2.0, -2.0), (0.25, 0.25), (None, None),
                                   (-np.inf, np.inf), (3.0, None), (None, -3.0)], ids=str)
def test_clip_float(backend, rng, dt, lo, hi):
    x = (rng.standard_normal(1031) * 2).astype(dt)
    x[::17] = np.nan
    x[5] = np.inf
    x[6] = -np.inf
    if lo is None and hi is None:
        expected = x
    else:
        expected = np.clip(x, None if lo is None else dt(lo), None if hi is None else dt(hi))
    assert_same(T(x).clip(lo, hi), expected)
    assert_same(dlcore.clip(T(x), lo, hi), expected)
    assert_same(T(x).clamp(min=lo, max=hi), expected)


@pytest.mark.parametrize("dt", FLOATS, ids=lambda d: np.dtype(d).name)
def test_clip_nan_bound_propagates(backend, dt):
    # NumPy: clip(x, nan, hi) is minimum(maximum(x, nan), hi) -> NaN everywhere
    x = np.array([-1.0, 0.0, 2.0, 5.0] * 5, dt)
    with np.errstate(all="ignore"):
        assert_same(T(x).clip(float("nan"), 3.0), np.clip(x, dt(np.nan), dt(3.0)))
        assert_same(T(x).clip(None, float("nan")), np.clip(x, None, dt(np.nan)))


@pytest.mark.parametrize("dt", INTS, ids=lambda d: np.dtype(d).name)
def test_clip_int(backend, rng, dt):
    x = rng.integers(-20, 21, 97).astype(dt)
    assert_same(T(x).clip(-5, 7), np.clip(x, -5, 7).astype(dt))
    assert_same(T(x).clip(min=3), np.clip(x, 3, None).astype(dt))
    assert_same(T(x).clip(max=-3), np.clip(x, None, -3).astype(dt))
    assert_same(T(x).clip(5, -5), np.full(97, -5, dt))
    # fractional float bounds: the result is float32
    assert_same(T(x).clip(-2.5, 3.5), np.clip(x.astype(np.float32), np.float32(-2.5), np.float32(3.5)))
    assert_same(T(x).clip(max=0.5), np.clip(x.astype(np.float32), None, np.float32(0.5)))


@pytest.mark.parametrize("dt", INTS, ids=lambda d: np.dtype(d).name)
def test_clip_int_with_integral_float_bound_is_float32(backend, dt):
    # a Python float bound lifts an integer tensor to float32 (PyTorch: clamp(int_tensor, min=2.0) is float32),
    # whether or not the float has a fractional part
    x = np.arange(-4, 5).astype(dt)
    assert_same(T(x).clip(2.0), np.clip(x.astype(np.float32), np.float32(2.0), None))
    assert_same(T(x).clip(-1.0, 1.0), np.clip(x.astype(np.float32), np.float32(-1.0), np.float32(1.0)))


def test_clip_parallel(backend, threads, rng):
    x = rng.standard_normal(100003).astype(np.float32)
    x[::1000] = np.nan
    assert_same(T(x).clip(-0.5, 0.5), np.clip(x, np.float32(-0.5), np.float32(0.5)))
    xt = rng.standard_normal((331, 317)).astype(np.float64)
    assert_same(T(xt).T.clip(-1, None), np.clip(xt.T, -1.0, None))


# ---------------------------------------------------------------------------
# where
# ---------------------------------------------------------------------------

@pytest.mark.parametrize("sc,sa,sb", [((3, 1), (1, 4), (3, 4)), ((4,), (3, 4), ()), ((), (5,), (5,)),
                                      ((2, 1, 3), (4, 1), (3,)), ((0, 3), (1, 3), (3,)), ((97,), (97,), (97,)),
                                      ((1,), (13,), (1,))], ids=str)
@pytest.mark.parametrize("dta,dtb", [(np.float32, np.float32), (np.int32, np.float32), (np.float32, np.float64),
                                     (np.int64, np.int32), (np.bool_, np.bool_), (np.bool_, np.int64)],
                         ids=lambda d: np.dtype(d).name)
def test_where_broadcasting(backend, rng, sc, sa, sb, dta, dtb):
    c = rng.random(sc) < 0.5
    a, b = data(rng, sa, dta), data(rng, sb, dtb)
    got = dlcore.where(T(c), T(a), T(b))
    assert_same(got, np.where(c, a, b).astype(promote(dta, dtb)), promote(dta, dtb))


def test_where_scalars(backend, rng):
    c = rng.random((4, 9)) < 0.5
    x = data(rng, (4, 9), np.float32)
    xi = data(rng, (4, 9), np.int32)
    xd = data(rng, (4, 9), np.float64)
    assert_same(dlcore.where(T(c), T(x), 0.0), np.where(c, x, np.float32(0)))
    assert_same(dlcore.where(T(c), -1, T(x)), np.where(c, np.float32(-1), x))
    assert_same(dlcore.where(T(c), 1.5, T(xi)), np.where(c, np.float32(1.5), xi.astype(np.float32)))
    assert_same(dlcore.where(T(c), T(xi), 7), np.where(c, xi, np.int32(7)))
    assert_same(dlcore.where(T(c), 2, T(xd)), np.where(c, 2.0, xd))
    assert_same(dlcore.where(T(c), 1, 0), np.where(c, 1, 0).astype(np.int64))
    assert_same(dlcore.where(T(c), T(c), True), np.where(c, c, True))


def test_where_nonbool_condition_and_nan(backend, rng):
    ci = rng.integers(-2, 3, 41).astype(np.int64)
    cf = np.array([0.0, np.nan, -0.0, 2.0, 0.5] * 8 + [0.0], np.float32)
    a = rng.standard_normal(41).astype(np.float32)
    b = np.full(41, np.nan, np.float32)
    assert_same(dlcore.where(T(ci), T(a), T(b)), np.where(ci, a, b))
    assert_same(dlcore.where(T(cf), T(a), T(b)), np.where(cf, a, b))


def test_where_noncontiguous_and_parallel(backend, threads, rng):
    c = rng.random((331, 317)) < 0.3
    a = rng.standard_normal((317, 331)).astype(np.float32)
    b = rng.standard_normal((331, 634)).astype(np.float32)
    got = dlcore.where(T(c), T(a).T, T(b)[:, ::-2])
    assert_same(got, np.where(c, a.T, b[:, ::-2]))
    c1 = rng.random(100003) < 0.5
    x = rng.standard_normal(100003)
    assert_same(dlcore.where(T(c1), T(x), T(-x)), np.where(c1, x, -x))
    assert_same(dlcore.where(T(x) > 0, T(x), 0.0), np.where(x > 0, x, 0.0))


# ---------------------------------------------------------------------------
# CPU state left behind by the kernels
# ---------------------------------------------------------------------------

def _x87_ok():
    """True when long double (x87) arithmetic works. A kernel that runs MMX instructions
    without EMMS leaves every x87 register tagged in use; the next long double load then
    overflows the x87 register stack and yields NaN (NumPy longdouble, C long double)."""
    with np.errstate(all="ignore"):
        a = np.array([1.5, 2.5], np.float32).astype(np.longdouble)
        b = a * np.longdouble(3) + a
    return not np.isnan(a).any() and not np.isnan(b).any() and b.tolist() == [6.0, 10.0]


@pytest.mark.parametrize("dt", DTYPES, ids=lambda d: np.dtype(d).name)
def test_x87_fpu_state_clean_after_elementwise(isa, rng, dt):
    bad = []
    x, y = data(rng, (5, 37), dt), data(rng, (37,), dt)
    tx, ty = T(x), T(y)
    for op in BINARY:
        call(op, tx, ty)
        call(op, tx, 2)
        if not _x87_ok():
            bad.append(op)
            _x87_ok()
    for op in ("neg", "abs", "sign", "square", "reciprocal", "exp", "log", "sqrt", "rsqrt", "logical_not"):
        try:
            getattr(tx, op)()
        except TypeError:
            assert np.dtype(dt) == np.bool_
        if not _x87_ok():
            bad.append(op)
            _x87_ok()
    if np.dtype(dt) != np.bool_:
        tx.clip(-1, 1)
    dlcore.where(tx > ty, tx, ty)
    if not _x87_ok():
        bad.append("clip/where")
    assert not bad, "long double arithmetic gives NaN after: " + ", ".join(bad)
