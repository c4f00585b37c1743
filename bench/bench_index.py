"""Row gather and scatter-add: dlcore vs NumPy (vs torch when importable), float32.

    cd /work/main && PYTHONPATH=python python bench/bench_index.py [--threads 1,2] [--quick] [--json out.json]

Cases
  index_select  a minibatch of 256 rows out of 60000 x 784 (a dataset in memory)
  index_select  4096 random rows, repeats included, of an embedding table 50000 x 128
  index_add     the same 4096 rows added back into a zero table (index_select's backward;
                NumPy: np.add.at, torch: index_add)
  pick          probs[arange(N), y] of 1024 x 1000 (the course notes' loss, one entry per row)

GB/s counts the rows read plus the rows written (index_add: the table read and written once as
well, since the result is a new tensor). dl/np and dl/torch are time ratios: < 1 means dlcore
is faster. Every result is checked against NumPy first.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402

import dlcore  # noqa: E402

torch = T.torch


def _torch(a):
    return torch.from_numpy(a).clone() if torch is not None else None


def select_case(rows, width, k, rng):
    def build():
        table = rng.standard_normal((rows, width), dtype=np.float32)
        idx = rng.integers(0, rows, k)
        dt, di = T.dl(table), T.dl(idx)
        fns = {"dlcore": lambda: dlcore.index_select(dt, 0, di), "numpy": lambda: np.take(table, idx, axis=0)}
        tt, ti = _torch(table), _torch(idx)
        if torch is not None:
            fns["torch"] = lambda: torch.index_select(tt, 0, ti)
        for c, fn in fns.items():
            np.testing.assert_array_equal(T.as_numpy(fn()), table[idx], err_msg=c)
        return fns
    return {"name": "index_select", "shape": f"{k} of {rows}x{width}", "nbytes": 8 * k * width + 8 * k,
            "build": build}


def add_case(rows, width, k, rng):
    def build():
        zeros = np.zeros((rows, width), np.float32)
        src = rng.standard_normal((k, width), dtype=np.float32)
        idx = rng.integers(0, rows, k)
        dz, ds, di = T.dl(zeros), T.dl(src), T.dl(idx)

        def np_add():
            out = zeros.copy()
            np.add.at(out, idx, src)
            return out
        fns = {"dlcore": lambda: dlcore.index_add(dz, 0, di, ds), "numpy": np_add}
        tz, ts, ti = _torch(zeros), _torch(src), _torch(idx)
        if torch is not None:
            fns["torch"] = lambda: tz.index_add(0, ti, ts)
        ref = np_add()
        for c, fn in fns.items():
            np.testing.assert_allclose(T.as_numpy(fn()), ref, rtol=1e-5, atol=1e-5, err_msg=c)
        return fns
    return {"name": "index_add", "shape": f"{k} into {rows}x{width}", "nbytes": 8 * rows * width + 8 * k * width,
            "build": build}


def pick_case(n, classes, rng):
    def build():
        probs = rng.random((n, classes), dtype=np.float32)
        y = rng.integers(0, classes, n)
        rows = np.arange(n)
        dp = T.dl(probs)
        fns = {"dlcore": lambda: dp[rows, y], "numpy": lambda: probs[rows, y]}
        tp, tr, ty = _torch(probs), _torch(rows), _torch(y)
        if torch is not None:
            fns["torch"] = lambda: tp[tr, ty]
        for c, fn in fns.items():
            np.testing.assert_array_equal(T.as_numpy(fn()), probs[rows, y], err_msg=c)
        return fns
    return {"name": "pick", "shape": f"{n}x{classes}[arange, y]", "nbytes": 8 * n + 16 * n, "build": build}


def cases(quick=False, seed=0):
    rng = np.random.default_rng(seed)
    rows = 10000 if quick else 60000
    table = 5000 if quick else 50000
    return [select_case(rows, 784, 256, rng), select_case(table, 128, 4096, rng), add_case(table, 128, 4096, rng),
            pick_case(1024, 1000, rng)]


def main(argv=None):
    T.bench_main(__doc__, "row gather and scatter-add, float32", cases, argv)


if __name__ == "__main__":
    main()
