"""matmul / @ against NumPy on every backend: 1-D and batched operands with
broadcasting, transposed and strided views (passed without copies), empty
sizes, every numeric dtype, and the errors."""
import math

import numpy as np
import pytest

import backends
import dlcore
from dlcore.tensor import _wrap

T, N = backends.tensor, backends.array


def tol(dtype, k):
    """Dot products of length k: each of the k roundings may err by eps/2 of a partial sum."""
    if np.dtype(dtype).kind in "iu":
        return dict(rtol=0, atol=0)
    eps = np.finfo(dtype).eps
    return dict(rtol=2 * eps * max(k, 1), atol=2 * eps * max(k, 1))


def check(a, b, got):
    ref = np.matmul(a.astype(np.float64), b.astype(np.float64)) if a.dtype.kind == "f" else np.matmul(a, b)
    k = a.shape[-1]
    np.testing.assert_allclose(N(got), ref.astype(got.numpy().dtype if got.device == "cpu" else ref.dtype),
                               **tol(a.dtype, k))
    assert got.shape == ref.shape


SHAPES = [
    ((3,), (3,)), ((4,), (4, 5)), ((4, 5), (5,)), ((1, 1), (1, 1)), ((7, 13), (13, 5)), ((2, 3, 4), (4, 6)),
    ((2, 1, 3, 4), (5, 4, 6)), ((6,), (2, 6, 3)), ((2, 4, 6), (6,)), ((17, 31), (31, 1)), ((1, 64), (64, 97)),
]


@pytest.mark.parametrize("sa,sb", SHAPES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_matmul_shapes(backend, rng, sa, sb, dtype):
    a, b = rng.standard_normal(sa).astype(dtype), rng.standard_normal(sb).astype(dtype)
    check(a, b, T(a) @ T(b))


@pytest.mark.parametrize("dtype", [np.int32, np.int64])
def test_matmul_integers(backend, rng, dtype):
    a, b = rng.integers(-9, 10, (5, 7)).astype(dtype), rng.integers(-9, 10, (7, 3)).astype(dtype)
    got = T(a) @ T(b)
    assert got.dtype == dlcore.dtype(dtype)
    np.testing.assert_array_equal(N(got), a @ b)


@pytest.mark.parametrize("ta,tb", [(False, False), (True, False), (False, True), (True, True)])
def test_transposed_views(backend, rng, ta, tb):
    # All four transpose cases go to the kernel as strided views.
    a = rng.standard_normal((6, 9) if not ta else (9, 6)).astype(np.float32)
    b = rng.standard_normal((9, 5) if not tb else (5, 9)).astype(np.float32)
    A, B = T(a), T(b)
    A, a = (A.T, a.T) if ta else (A, a)
    B, b = (B.T, b.T) if tb else (B, b)
    check(a, b, A @ B)


def test_strided_and_broadcast_batch_views(backend, rng):
    a = rng.standard_normal((3, 8, 10)).astype(np.float64)
    b = rng.standard_normal((10, 12)).astype(np.float64)
    A, B = T(a), T(b)
    check(a[:, ::2, 1::3], b[1::3, ::-1], A[:, ::2, 1::3] @ B[1::3, ::-1])
    check(a, np.broadcast_to(b, (3, 10, 12)), A @ B.expand(3, 10, 12))


def test_mixed_dtypes_promote(backend, rng):
    a, b = rng.standard_normal((3, 4)).astype(np.float32), rng.integers(0, 5, (4, 2))
    got = T(a) @ T(b)
    assert got.dtype == dlcore.float32
    np.testing.assert_allclose(N(got), a @ b.astype(np.float32), rtol=1e-5)


@pytest.mark.parametrize("sa,sb", [((0, 3), (3, 4)), ((2, 0), (0, 3)), ((3, 4), (4, 0)), ((0, 2, 3), (3, 1))])
def test_empty(backend, sa, sb):
    a, b = np.ones(sa, np.float32), np.ones(sb, np.float32)
    got = T(a) @ T(b)
    np.testing.assert_array_equal(N(got), a @ b)


def test_method_function_and_numpy_operands(rng):
    a, b = rng.standard_normal((2, 3)).astype(np.float32), rng.standard_normal((3, 2)).astype(np.float32)
    for got in (dlcore.tensor(a).matmul(dlcore.tensor(b)), dlcore.matmul(dlcore.tensor(a), dlcore.tensor(b)),
                dlcore.tensor(a) @ b):
        np.testing.assert_allclose(got.numpy(), a @ b, rtol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match=r"^\[matmul\] shapes \(2, 3\) and \(4, 5\) cannot be multiplied"):
        dlcore.ones(2, 3) @ dlcore.ones(4, 5)
    with pytest.raises(ValueError, match=r"^\[matmul\] expected tensors with at least 1 dimension"):
        dlcore.tensor(2.0) @ dlcore.ones(2)
    with pytest.raises(ValueError, match=r"^\[matmul\] shapes \(2,\) and \(5,\) cannot be broadcast"):
        dlcore.ones(2, 3, 4) @ dlcore.ones(5, 4, 6)
    with pytest.raises(TypeError, match=r"^\[matmul\] expected numeric tensors, got bool"):
        dlcore.ones(2, 2, dtype=dlcore.bool_) @ dlcore.ones(2, 2, dtype=dlcore.bool_)


# Shapes that cross the packed kernel's blocks: KC (256 float / 128 double), MC, NR (32/16 on
# AVX-512, 16/8 on AVX2), NC (4096), with ragged edges everywhere; (40, 70, 60) has a B small
# enough to be read in place but for its last, narrow panel. The naive kernel is the oracle.
BLOCK_SHAPES = [(300, 70, 600), (13, 4100, 3), (97, 33, 257), (1, 1000, 1), (1000, 1, 1), (25, 17, 1031),
                (530, 130, 129), (40, 70, 60)]


@pytest.mark.parametrize("shape", BLOCK_SHAPES, ids=str)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_packed_matches_naive_across_blocks(backend, threads, rng, shape, dtype):
    m, n, k = shape
    a = rng.standard_normal((m, k)).astype(dtype)
    b = rng.standard_normal((k, n)).astype(dtype)
    A, B = T(a), T(b)
    fast, naive = A.matmul(B), A.matmul(B, variant="naive")
    ref = a.astype(np.float64) @ b.astype(np.float64)
    np.testing.assert_allclose(N(fast), ref, **tol(dtype, k))
    np.testing.assert_allclose(N(naive), ref, **tol(dtype, k))


@pytest.mark.parametrize("ta,tb", [(True, False), (False, True), (True, True)])
def test_packed_transposes_across_blocks(backend, rng, ta, tb):
    m, n, k = 140, 45, 300
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(np.float32)
    A, B = T(a), T(b)
    if ta:
        A, a = A.T, a.T
    if tb:
        B, b = B.T, b.T
    np.testing.assert_allclose(N(A @ B), a.astype(np.float64) @ b, **tol(np.float32, k))


def test_b_read_in_place_through_its_row_stride(backend, rng):
    a = rng.standard_normal((40, 60)).astype(np.float32)
    b = rng.standard_normal((60, 100)).astype(np.float32)
    B = T(b)[:, 3:73]  # rows 100 apart, 70 wide
    np.testing.assert_allclose(N(T(a) @ B), a.astype(np.float64) @ b[:, 3:73], **tol(np.float32, 60))


def test_strided_output_rows_and_batches(backend, rng):
    # C is written through its strides: a batched result is (B, M, N) contiguous, and
    # the operands are slices with row strides that are not their widths.
    a = rng.standard_normal((3, 50, 80)).astype(np.float32)
    b = rng.standard_normal((80, 90)).astype(np.float32)
    A, B = T(a), T(b)
    got = A[:, 1::2, :70] @ B[:70, ::3]
    np.testing.assert_allclose(N(got), a[:, 1::2, :70].astype(np.float64) @ b[:70, ::3], **tol(np.float32, 70))


def test_variant_name_checked():
    with pytest.raises(ValueError, match=r"^\[matmul\] variant must be 'fast' or 'naive'"):
        dlcore.ones(2, 2).matmul(dlcore.ones(2, 2), variant="tiled")


# ---- the fused epilogue: C = act(alpha * A @ B + beta * C + bias) -----------------------------

def relu(x):
    return np.where(x < 0, 0, x)


@pytest.mark.parametrize("shape", [(7, 5, 3), (64, 100, 784), (130, 45, 300), (3, 4, 0)], ids=str)
@pytest.mark.parametrize("activation", [None, "relu"])
@pytest.mark.parametrize("with_bias", [False, True])
def test_linear(backend, rng, shape, activation, with_bias):
    m, n, k = shape
    x = rng.standard_normal((m, k)).astype(np.float32)
    w = rng.standard_normal((n, k)).astype(np.float32)  # (out, in), as in PyTorch
    b = rng.standard_normal(n).astype(np.float32)
    got = dlcore.linear(T(x), T(w), T(b) if with_bias else None, activation)
    ref = x.astype(np.float64) @ w.T.astype(np.float64) + (b if with_bias else 0)
    if activation == "relu":
        ref = relu(ref)
    np.testing.assert_allclose(N(got), ref, **tol(np.float32, k))


# Every epilogue activation against its formula (PyTorch's default parameters).
def _sigmoid(v):
    return 1 / (1 + np.exp(-v))


EPILOGUE_ACTIVATIONS = {
    "identity": lambda v: v,
    "leaky_relu": lambda v: np.where(v > 0, v, 0.01 * v),
    "elu": lambda v: np.where(v > 0, v, np.expm1(np.minimum(v, 0))),
    "selu": lambda v: 1.0507009873554804934193349852946 * np.where(v > 0, v, 1.6732632423543772848170429916717 *
                                                                  np.expm1(np.minimum(v, 0))),
    "silu": lambda v: v * _sigmoid(v),
    "softplus": lambda v: np.where(v > 20, v, np.log1p(np.exp(np.minimum(v, 20)))),
    "gelu": lambda v: 0.5 * v * (1 + np.vectorize(math.erf)(v / np.sqrt(2))),
    "gelu_tanh": lambda v: 0.5 * v * (1 + np.tanh(np.sqrt(2 / np.pi) * (v + 0.044715 * v ** 3))),
    "sigmoid": _sigmoid,
    "tanh": np.tanh,
    "hardtanh": lambda v: np.clip(v, -1, 1),
    "hardsigmoid": lambda v: np.clip(v / 6 + 0.5, 0, 1),
}


@pytest.mark.parametrize("activation", sorted(EPILOGUE_ACTIVATIONS))
@pytest.mark.parametrize("variant", ["fast", "naive"])
def test_every_epilogue_activation(backend, rng, activation, variant):
    x = rng.standard_normal((37, 50)).astype(np.float32)
    w = (rng.standard_normal((45, 50)) / 3).astype(np.float32)
    b = rng.standard_normal(45).astype(np.float32)
    got = _wrap(dlcore._C.gemm(T(x)._t, T(w).T._t, None, 1.0, 0.0, T(b)._t, False, activation, variant))
    ref = EPILOGUE_ACTIVATIONS[activation](x.astype(np.float64) @ w.T.astype(np.float64) + b)
    np.testing.assert_allclose(N(got), ref, **tol(np.float32, 50))  # each activation has |slope| <= 1.2


@pytest.mark.parametrize("variant", ["fast", "naive"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_alpha_beta_bias_per_row(backend, rng, variant, dtype):
    m, n, k = 50, 70, 300
    a, b = rng.standard_normal((m, k)).astype(dtype), rng.standard_normal((k, n)).astype(dtype)
    c, bias = rng.standard_normal((m, n)).astype(dtype), rng.standard_normal(m).astype(dtype)
    # The C++ API (both kernels implement the same epilogue): alpha, beta, bias per row, ReLU.
    got = _wrap(dlcore._C.gemm(T(a)._t, T(b)._t, T(c)._t, 0.5, -2.0, T(bias)._t, True, "relu", variant))
    ref = relu(0.5 * (a.astype(np.float64) @ b) - 2.0 * c + bias[:, None])
    np.testing.assert_allclose(N(got), ref, **tol(dtype, k))


def test_addmm_broadcast_input_and_beta_zero(backend, rng):
    a, b = rng.standard_normal((33, 20)).astype(np.float32), rng.standard_normal((20, 17)).astype(np.float32)
    row = rng.standard_normal(17).astype(np.float32)
    got = dlcore.addmm(T(row), T(a), T(b), beta=2.0, alpha=3.0)
    np.testing.assert_allclose(N(got), 2.0 * row + 3.0 * (a.astype(np.float64) @ b), **tol(np.float32, 20))
    # beta = 0 never reads the input: NaN there does not leak into the result
    nan_input = T(np.full((33, 17), np.nan, np.float32))
    got = dlcore.addmm(nan_input, T(a), T(b), beta=0.0)
    np.testing.assert_allclose(N(got), a.astype(np.float64) @ b, **tol(np.float32, 20))


def test_relu_epilogue_propagates_nan(backend):
    a = np.array([[np.nan, 1.0], [1.0, 1.0]], np.float32)
    b = np.array([[1.0, -3.0], [1.0, 1.0]], np.float32)
    got = N(dlcore.linear(T(a), T(b.T.copy()), None, "relu"))
    assert np.isnan(got[0, 0]) and np.isnan(got[0, 1]) and got[1, 0] == 2.0 and got[1, 1] == 0.0


def test_epilogue_errors():
    x, w = dlcore.ones(4, 3), dlcore.ones(5, 3)
    with pytest.raises(ValueError, match=r"^\[matmul\] expected a bias of shape \(5,\)"):
        dlcore.linear(x, w, dlcore.ones(4))
    with pytest.raises(ValueError, match=r"^\[matmul\] unknown activation 'swishy' \(expected one of 'identity', 'relu'"):
        dlcore.linear(x, w, None, "swishy")
    with pytest.raises(TypeError, match=r"^\[matmul\] activation 'gelu' needs float32 or float64 operands, got int64"):
        dlcore.linear(dlcore.ones(4, 3, dtype=dlcore.int64), dlcore.ones(5, 3, dtype=dlcore.int64), None, "gelu")
