"""Comparison helpers of the kernel tests against float64 references: NaN and inf where the
reference has them, finite values within a tolerance (an array, derived by each test from the
dtype and the function's conditioning)."""
import numpy as np

import dlcore

K = 8.0  # ulp-sized steps a composed kernel may take (see each test module's docstring)


def eps(dtype):
    return float(np.finfo(dtype).eps)


def tiny(dtype):
    return float(np.finfo(dtype).tiny)


def wrap(c):
    """A dlcore.Tensor around a dlcore._C.Tensor (what the _C kernels return)."""
    t = dlcore.Tensor.__new__(dlcore.Tensor)
    t._t = c
    return t


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
