"""Comparison helpers of the kernel tests against float64 references: NaN and inf where the
reference has them, finite values within a tolerance (an array, derived by each test from the
dtype and the function's conditioning)."""
import numpy as np

import dlcore
from dlcore.tensor import _wrap

K = 8.0  # ulp-sized steps a composed kernel may take (see each test module's docstring)


def eps(dtype):
    return float(np.finfo(dtype).eps)


def tiny(dtype):
    return float(np.finfo(dtype).tiny)


def wrap(c):
    """A dlcore.Tensor around a dlcore._C.Tensor (what the _C kernels return)."""
    return _wrap(c)


def assert_close(got, ref, tol, what):
    got = np.asarray(got)
    ref = np.asarray(ref, np.float64)
    assert got.shape == ref.shape, f"[{what}] shape {got.shape}, expected {ref.shape}"
    np.testing.assert_array_equal(np.isnan(got), np.isnan(ref), err_msg=f"[{what}] NaN positions differ")
    inf = np.isinf(ref)
    np.testing.assert_array_equal(got[inf], ref[inf].astype(got.dtype), err_msg=f"[{what}] inf results differ")
    fin = np.isfinite(ref)
    err = np.abs(got[fin].astype(np.float64) - ref[fin])
    tol = np.broadcast_to(np.asarray(tol, np.float64), ref.shape)[fin]
    bad = err > tol
    if bad.any():
        i = int(np.argmax(err - tol))
        raise AssertionError(f"[{what}] {int(bad.sum())} of {err.size} out of tolerance; worst: got "
                             f"{got[fin][i]!r}, expected {ref[fin][i]!r}, |err| {err[i]:.3g} > tol {tol[i]:.3g}")


def acc_err(n):
    """Relative error of a float64 sum of n terms: ours (4 eps64 sqrt(n)) plus NumPy's pairwise
    reference (eps64 (log2 n + 2))."""
    e = float(np.finfo(np.float64).eps)
    return 4 * e * np.sqrt(max(n, 1)) + e * (np.log2(max(n, 1)) + 2)


def numeric_grad(fn, x, h=1e-5):
    """d fn(x) / dx by central differences, one element at a time (fn returns a scalar objective)."""
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        e = np.zeros_like(x)
        e[i] = h
        g[i] = (fn(x + e) - fn(x - e)) / (2 * h)
    return g


def fd_tolerance(f_abs, h, scale):
    """Central differences of a function whose third derivative is bounded by `scale`: truncation
    h^2 / 6 * scale plus rounding eps sum|f| / h, times 4."""
    return 4 * (h * h / 6 * scale + eps(np.float64) * (f_abs + 1) / h)
