"""Reduction microbenchmarks: dlcore vs NumPy (vs torch when importable), float32 input.

    cd /work/main && PYTHONPATH=python python bench/bench_reduce.py [--threads 1,2] [--quick] [--json out.json]

Cases
  sum    all          16M
  sum    last axis    4096x4096          (one contiguous run per output)
  sum    first axis   4096x4096          (outputs accumulated across rows)
  mean   last axis    4096x1000          (softmax-like rows)
  amax   last axis    4096x1000
  argmax last axis    4096x1000
  amax   all          16M
  var    axis 0       65536x64           (correction / ddof = 1 in all three)

GB/s counts the input read once plus the output written once, i.e. what an ideal one-pass
kernel moves (var and mean may make more passes).  dl/np and dl/torch are time ratios: < 1
means dlcore is faster.  Results are checked against a float64 NumPy reference first
(float32 sums accumulate differently in each library, hence rtol 1e-5 on positive data).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402

import dlcore  # noqa: E402

torch = T.torch


def case(name, shape, rng, np_fn, dl_fn, torch_fn, ref_fn, out_elems, out_itemsize=4, rtol=1e-5, exact=False,
         data="uniform"):
    n = int(np.prod(shape))

    def build():
        if data == "uniform":
            a = rng.random(shape, dtype=np.float32)
        else:
            a = rng.standard_normal(shape, dtype=np.float32)
        da = T.dl(a)
        ta = torch.from_numpy(a).clone() if torch is not None else None
        fns = {"dlcore": lambda: dl_fn(da), "numpy": lambda: np_fn(a)}
        if ta is not None:
            fns["torch"] = lambda: torch_fn(ta)
        ref = np.asarray(ref_fn(a))
        for c, fn in fns.items():
            got = T.as_numpy(fn())
            assert got.shape == ref.shape, f"{name} {c}: shape {got.shape} != {ref.shape}"
            if exact:
                np.testing.assert_array_equal(got, ref, err_msg=f"{name} ({c})")
            else:
                np.testing.assert_allclose(got, ref, rtol=rtol, atol=0, err_msg=f"{name} ({c})")
        return fns

    label = "x".join(str(s) for s in shape) if len(shape) > 1 else T.fmt_size(n)
    return {"name": name, "shape": label, "nbytes": 4 * n + out_itemsize * out_elems, "build": build}


def cases(quick=False, seed=0):
    rng = np.random.default_rng(seed)
    big = 1 << 22 if quick else 1 << 24
    sq = 2048 if quick else 4096
    f64 = np.float64
    return [
        case("sum all", (big,), rng, np.sum, lambda x: x.sum(), lambda x: x.sum(),
             lambda a: a.sum(dtype=f64), 1),
        case("sum axis=-1", (sq, sq), rng, lambda a: a.sum(-1), lambda x: x.sum(-1), lambda x: x.sum(-1),
             lambda a: a.sum(-1, dtype=f64), sq),
        case("sum axis=0", (sq, sq), rng, lambda a: a.sum(0), lambda x: x.sum(0), lambda x: x.sum(0),
             lambda a: a.sum(0, dtype=f64), sq),
        case("mean axis=-1", (4096, 1000), rng, lambda a: a.mean(-1), lambda x: x.mean(-1), lambda x: x.mean(-1),
             lambda a: a.mean(-1, dtype=f64), 4096),
        case("amax axis=-1", (4096, 1000), rng, lambda a: a.max(-1), lambda x: x.amax(-1), lambda x: x.amax(-1),
             lambda a: a.max(-1), 4096, exact=True, data="normal"),
        case("argmax axis=-1", (4096, 1000), rng, lambda a: a.argmax(-1), lambda x: x.argmax(-1),
             lambda x: x.argmax(-1), lambda a: a.argmax(-1), 4096, out_itemsize=8, exact=True, data="normal"),
        case("amax all", (big,), rng, np.max, lambda x: x.amax(), lambda x: x.amax(), lambda a: a.max(), 1,
             exact=True, data="normal"),
        case("var axis=0", (65536, 64), rng, lambda a: a.var(0, ddof=1), lambda x: x.var(0), lambda x: x.var(0),
             lambda a: a.astype(f64).var(0, ddof=1), 64, rtol=1e-4),
    ]


def main(argv=None):
    T.bench_main(__doc__, "reductions float32", cases, argv)


if __name__ == "__main__":
    main()
