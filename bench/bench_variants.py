"""Kernel variants side by side: each family's textbook version (the oracle the tests trust) next
to the optimized one, so a reader sees what the optimizations bought.

    cd /work/main && PYTHONPATH=python python bench/bench_variants.py [--threads 1,2] [--quick] [--json out.json]

  * GEMM: the triple loop (variant="naive") vs packed panels + a register-blocked microkernel
    (BLIS; csrc/cpu/gemm.cpp), square sizes;
  * conv2d forward: the direct 7-deep loop (variant="naive") vs im2col / implicit GEMM on the
    packed GEMM (csrc/cpu/conv.cpp), the MNIST CNN's two layers at batch 64.
Columns "dlcore" (optimized) and "dlcore naive"; NumPy and PyTorch beside them for scale.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402

import dlcore  # noqa: E402
import dlcore.functional as F  # noqa: E402

torch = T.torch


def gemm_case(n, rng):
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)

    def build():
        da, db = dlcore.tensor(a), dlcore.tensor(b)
        fns = {"dlcore": lambda: da @ db, "dlcore naive": lambda: da.matmul(db, variant="naive"),
               "numpy": lambda: a @ b}
        if torch is not None:
            ta, tb = torch.from_numpy(a), torch.from_numpy(b)
            fns["torch"] = lambda: ta @ tb
        ref = a.astype(np.float64) @ b
        for name, fn in fns.items():
            np.testing.assert_allclose(T.as_numpy(fn()), ref, rtol=1e-3, atol=1e-3 * np.sqrt(n), err_msg=name)
        return fns
    return {"name": f"gemm {n}", "shape": f"{n}x{n}x{n}", "flops": 2 * n ** 3, "build": build}


def conv_case(name, n, c, hw, oc, k, rng):
    x = rng.standard_normal((n, c, hw, hw), dtype=np.float32)
    w = (rng.standard_normal((oc, c, k, k)) / np.sqrt(c * k * k)).astype(np.float32)
    oh = hw - k + 1

    def build():
        dx, dw = dlcore.tensor(x), dlcore.tensor(w)
        fns = {"dlcore": lambda: F.conv2d(dx, dw), "dlcore naive": lambda: F.conv2d(dx, dw, variant="naive")}
        if torch is not None:
            tx, tw = torch.from_numpy(x), torch.from_numpy(w)
            fns["torch"] = lambda: torch.nn.functional.conv2d(tx, tw)
        ref = T.as_numpy(fns["dlcore naive"]())
        for cname, fn in fns.items():
            np.testing.assert_allclose(T.as_numpy(fn()), ref, rtol=1e-4, atol=1e-4, err_msg=cname)
        return fns
    return {"name": f"conv {name}", "shape": f"{n}x{c}x{hw}x{hw} * {oc}x{c}x{k}x{k}",
            "flops": 2 * n * oc * oh * oh * c * k * k, "build": build}


def cases(quick=False, seed=0):
    rng = np.random.default_rng(seed)
    sizes = (128, 256) if quick else (128, 256, 512)
    return [gemm_case(n, rng) for n in sizes] + [conv_case("mnist conv1", 64, 1, 28, 10, 5, rng),
                                                  conv_case("mnist conv2", 64, 10, 12, 20, 5, rng)]


def main(argv=None):
    T.bench_main(__doc__, "kernel variants, float32", cases, argv)


if __name__ == "__main__":
    main()
