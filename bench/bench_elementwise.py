"""Elementwise microbenchmarks: dlcore vs NumPy (vs torch when importable), float32.

    cd /work/main && PYTHONPATH=python python bench/bench_elementwise.py [--threads 1,2] [--quick] [--json out.json]

Ops (every call allocates its output, in all three libraries):
  add          a + b                        (N,) + (N,)
  add_bcast    a + row                      (N/1024, 1024) + (1024,)
  mul_scalar   a * 2.5
  exp, log, sqrt
  maximum0     maximum(a, 0)                torch: clamp_min(a, 0)
  where        where(c, a, b), c bool       (c precomputed)
  cast_f64     a.astype(float64)
  transpose    contiguous() of a 2-D transposed view (the view is made once, outside the timing)

GB/s counts the bytes an ideal kernel reads plus writes once (4 B per float32, 8 per float64,
1 per bool).  dl/np and dl/torch are time ratios: < 1 means dlcore is faster.
Inputs are allocated by each library itself (dlcore.tensor / torch.clone copies), so every
contender works on its own (aligned) memory.  Every result is checked against NumPy first.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402

import dlcore  # noqa: E402

torch = T.torch

SIZES = [1 << 10, 1 << 16, 1 << 20, 1 << 24]
QUICK_SIZES = [1 << 10, 1 << 20]
TRANSPOSE = [4096, 1024]
QUICK_TRANSPOSE = [1024]


def _check(name, fns, rtol, atol):
    ref = fns["numpy"]()
    for c, fn in fns.items():
        if c == "numpy":
            continue
        got = T.as_numpy(fn())
        assert got.shape == ref.shape, f"{name} {c}: shape {got.shape} != {ref.shape}"
        assert got.dtype == ref.dtype, f"{name} {c}: dtype {got.dtype} != {ref.dtype}"
        np.testing.assert_allclose(got, ref, rtol=rtol, atol=atol, err_msg=f"{name} ({c})")


def _three(*arrays):
    """The arrays as (numpy, dlcore, torch-or-None) lists, each library owning its memory."""
    dl = [T.dl(a) for a in arrays]
    tc = [torch.from_numpy(a).clone() for a in arrays] if torch is not None else None
    return list(arrays), dl, tc


def _fns(np_fn, dl_fn, torch_fn):
    fns = {"dlcore": dl_fn, "numpy": np_fn}
    if torch is not None and torch_fn is not None:
        fns["torch"] = torch_fn
    return fns


def unary_case(name, n, rng, np_op, dl_op, torch_op, lo, hi, rtol=2e-6, atol=0.0, out_bytes=4):
    def build():
        a = rng.uniform(lo, hi, n).astype(np.float32)
        (na,), (da,), tc = _three(a)
        ta = tc[0] if tc else None
        fns = _fns(lambda: np_op(na), lambda: dl_op(da), (lambda: torch_op(ta)) if tc else None)
        _check(name, fns, rtol, atol)
        return fns
    return {"name": name, "shape": T.fmt_size(n), "nbytes": n * (4 + out_bytes), "build": build}


def cases(quick=False):
    return make_cases(*((QUICK_SIZES, QUICK_TRANSPOSE) if quick else (SIZES, TRANSPOSE)))


def make_cases(sizes, transposes, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for n in sizes:
        def build_add(n=n):
            (na, nb), (da, db), tc = _three(*(rng.standard_normal(n, dtype=np.float32) for _ in range(2)))
            fns = _fns(lambda: na + nb, lambda: da + db, (lambda: tc[0] + tc[1]) if tc else None)
            _check("add", fns, 0, 0)
            return fns
        out.append({"name": "add", "shape": T.fmt_size(n), "nbytes": 12 * n, "build": build_add})

        def build_bcast(n=n):
            a = rng.standard_normal((n // 1024, 1024), dtype=np.float32)
            b = rng.standard_normal(1024, dtype=np.float32)
            (na, nb), (da, db), tc = _three(a, b)
            fns = _fns(lambda: na + nb, lambda: da + db, (lambda: tc[0] + tc[1]) if tc else None)
            _check("add_bcast", fns, 0, 0)
            return fns
        out.append({"name": "add_bcast", "shape": f"{n // 1024}x1024+1024", "nbytes": 8 * n + 4096,
                    "build": build_bcast})

        out.append(unary_case("mul_scalar", n, rng, lambda x: x * 2.5, lambda x: x * 2.5, lambda x: x * 2.5,
                              -10, 10, rtol=0))
        out.append(unary_case("exp", n, rng, np.exp, lambda x: x.exp(), lambda x: torch.exp(x), -20, 20))
        out.append(unary_case("log", n, rng, np.log, lambda x: x.log(), lambda x: torch.log(x), 1e-3, 1e3,
                              atol=1e-6))
        out.append(unary_case("sqrt", n, rng, np.sqrt, lambda x: x.sqrt(), lambda x: torch.sqrt(x), 0, 100))
        out.append(unary_case("maximum0", n, rng, lambda x: np.maximum(x, 0), lambda x: dlcore.maximum(x, 0),
                              lambda x: torch.clamp_min(x, 0), -1, 1, rtol=0))

        def build_where(n=n):
            c = rng.standard_normal(n, dtype=np.float32) > 0
            a = rng.standard_normal(n, dtype=np.float32)
            b = rng.standard_normal(n, dtype=np.float32)
            (nc, na, nb), (dc, da, db), tc = _three(c, a, b)
            fns = _fns(lambda: np.where(nc, na, nb), lambda: dlcore.where(dc, da, db),
                       (lambda: torch.where(tc[0], tc[1], tc[2])) if tc else None)
            _check("where", fns, 0, 0)
            return fns
        out.append({"name": "where", "shape": T.fmt_size(n), "nbytes": 13 * n, "build": build_where})

        out.append(unary_case("cast_f64", n, rng, lambda x: x.astype(np.float64), lambda x: x.astype("float64"),
                              lambda x: x.to(torch.float64), -10, 10, rtol=0, out_bytes=8))

    for m in transposes:
        def build_t(m=m):
            (na,), (da,), tc = _three(rng.standard_normal((m, m), dtype=np.float32))
            nv, dv = na.T, da.T
            tv = tc[0].t() if tc else None
            fns = _fns(lambda: np.ascontiguousarray(nv), lambda: dv.contiguous(),
                       (lambda: tv.contiguous()) if tc else None)
            _check("transpose", fns, 0, 0)
            r = fns["dlcore"]()
            assert r.is_contiguous() and r.data_ptr() != dv.data_ptr()
            return fns
        out.append({"name": "transpose_copy", "shape": f"{m}x{m}", "nbytes": 8 * m * m, "build": build_t})
    return out


def main(argv=None):
    T.bench_main(__doc__, "elementwise float32",
                 cases, argv)


if __name__ == "__main__":
    main()
