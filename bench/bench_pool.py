"""Pooling microbenchmarks: dlcore vs NumPy (window views) vs torch when importable, float32.

    cd /work/main && PYTHONPATH=python python bench/bench_pool.py [--threads 1,2] [--quick] [--json out.json]

Cases: the course notes' MNIST CNN pools at batch 64 (2x2 max over 10x24x24 and 20x8x8), a
CIFAR-sized 3x3 stride-2 max pool with padding, a 2x2 average pool and global average
pooling, forward and backward (max: scattering each gradient to its argmax). GB/s counts
the input read and the output written once. Results are checked against NumPy first.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402

import dlcore  # noqa: E402
import dlcore.functional as F  # noqa: E402

torch = T.torch
swv = np.lib.stride_tricks.sliding_window_view


def np_pool(x, k, s, kind):
    """Non-overlapping or strided windows as a view, reduced over the last two axes (no padding)."""
    win = swv(x, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    return win.max(axis=(4, 5)) if kind == "max" else win.mean(axis=(4, 5))


def case(name, shape, k, s, kind, rng, backward=False):
    x = rng.standard_normal(shape, dtype=np.float32)
    n, c, h, w = shape
    oh = (h - k) // s + 1
    nbytes = 4 * (x.size + n * c * oh * oh) * (2 if backward else 1)

    def build():
        dx = T.dl(x)
        if kind == "global":
            fns = {"dlcore": lambda: F.adaptive_avg_pool2d(dx, 1), "numpy": lambda: x.mean(axis=(2, 3), keepdims=True)}
            ref = x.astype(np.float64).mean(axis=(2, 3), keepdims=True)
            if torch is not None:
                tx = torch.from_numpy(x).clone()
                fns["torch"] = lambda: torch.nn.functional.adaptive_avg_pool2d(tx, 1)
        elif not backward:
            fns = {"dlcore": (lambda: F.max_pool2d(dx, k, s)) if kind == "max" else (lambda: F.avg_pool2d(dx, k, s)),
                   "numpy": lambda: np_pool(x, k, s, kind)}
            ref = np_pool(x.astype(np.float64), k, s, kind)
            if torch is not None:
                tx = torch.from_numpy(x).clone()
                tf = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
                fns["torch"] = lambda: tf(tx, k, s)
        else:  # max pool backward: the gradient of sum(pool(x) * dy)
            _, idx = F.max_pool2d(dx, k, s, return_indices=True)
            dy = rng.standard_normal((n, c, oh, oh), dtype=np.float32)
            ddy = T.dl(dy)
            flat = T.as_numpy(idx).reshape(n * c, -1)
            ref = np.zeros((n * c, h * w))
            np.add.at(ref, (np.arange(n * c)[:, None], flat), dy.reshape(n * c, -1))
            ref = ref.reshape(shape)

            def np_backward():
                out = np.zeros((n * c, h * w), np.float32)
                np.add.at(out, (np.arange(n * c)[:, None], flat), dy.reshape(n * c, -1))
                return out.reshape(shape)
            fns = {"dlcore": lambda: F.max_pool2d_backward(ddy, idx, shape, k, s), "numpy": np_backward}
            if torch is not None:
                tx = torch.from_numpy(x).clone()
                tidx = torch.from_numpy(T.as_numpy(idx).copy())
                tdy = torch.from_numpy(dy)
                fns["torch"] = lambda: torch.ops.aten.max_pool2d_with_indices_backward(tdy, tx, [k, k], [s, s], [0, 0],
                                                                                       [1, 1], False, tidx)
        for cname, fn in fns.items():
            np.testing.assert_allclose(T.as_numpy(fn()), ref, rtol=1e-5, atol=1e-6, err_msg=f"{name} {cname}")
        return fns

    return {"name": name, "shape": "x".join(map(str, shape)), "nbytes": nbytes, "build": build}


def cases(quick=False, seed=0):
    rng = np.random.default_rng(seed)
    out = [case("max 2x2 (conv1)", (64, 10, 24, 24), 2, 2, "max", rng),
           case("max 2x2 (conv2)", (64, 20, 8, 8), 2, 2, "max", rng),
           case("max 2x2 backward", (64, 10, 24, 24), 2, 2, "max", rng, backward=True),
           case("avg 2x2", (64, 10, 24, 24), 2, 2, "avg", rng)]
    if not quick:
        out += [case("max 3x3 s2", (32, 64, 32, 32), 3, 2, "max", rng),
                case("global avg", (32, 256, 8, 8), 8, 8, "global", rng)]
    return out


def main(argv=None):
    T.bench_main(__doc__, "pool2d float32", cases, argv)


if __name__ == "__main__":
    main()
