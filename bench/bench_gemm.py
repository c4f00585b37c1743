"""GEMM microbenchmarks: dlcore vs NumPy (OpenBLAS) vs torch (MKL) when importable, float32.

    cd /work/main && PYTHONPATH=python python bench/bench_gemm.py [--threads 1,2] [--quick] [--json out.json]

Cases: square sizes 64..4096 (NN), the four transpose cases at 1024, and the GEMMs of the
intro networks' training steps: an MLP 784-100-10 at batch 64 (forward 64x100x784, weight
gradient 100x784x64 as a transposed view, the 10-way head) and an MLP 784-512-512-10 at
batch 256 (forward, dX and dW of the first layer, the head).

Each contender is timed on its own (median of rounds of >= min_time samples, after a
warm-up and a pause): NumPy's OpenBLAS pool and an OpenMP pool spin for a while after a
call, and interleaving them makes whichever runs second slower (../shared/notes). Every
result is checked against a float64 NumPy product first. GF/s = 2MNK / time; "% peak" is
dlcore's GF/s over the FP32 FMA peak measured by dlcore's own probe on the same threads
and ISA (dlcore._C.fma_probe); dl/np and dl/torch are time ratios (< 1: dlcore faster).
"""
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402

import dlcore  # noqa: E402

torch = T.torch

SQUARE = [64, 128, 256, 512, 1024, 2048, 4096]
QUICK_SQUARE = [128, 512, 1024]
# (name, M, N, K, transpose A, transpose B)
DL_SHAPES = [
    ("mlp100 fwd B64", 64, 100, 784, False, True),      # x @ W.T, W (100, 784)
    ("mlp100 dW B64", 100, 784, 64, True, False),       # dY.T @ x
    ("mlp100 head B64", 64, 10, 100, False, True),
    ("mlp512 fwd B256", 256, 512, 784, False, True),
    ("mlp512 dX B256", 256, 784, 512, False, False),    # dY @ W
    ("mlp512 dW B256", 512, 784, 256, True, False),
    ("mlp512 head B256", 256, 10, 512, False, True),
    ("big fc 128x4096x4096", 128, 4096, 4096, False, False),
]


def fma_peak(threads):
    """dlcore's measured FP32 FMA peak (GF/s) on `threads` threads, best of 3 runs of ~0.1 s."""
    with T.pinned_threads(threads):
        dlcore._C.fma_probe(1000)
        best = 0.0
        for _ in range(3):
            t0 = time.perf_counter()
            flops = dlcore._C.fma_probe(30_000_000)
            best = max(best, flops / (time.perf_counter() - t0) / 1e9)
    return best


def operands(rng, m, n, k, ta, tb):
    """float32 A (m x k) and B (k x n), as transposed views where asked (no copies)."""
    a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
    b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
    da, db = T.dl(a), T.dl(b)
    na, nb = (a.T if ta else a), (b.T if tb else b)
    da, db = (da.T if ta else da), (db.T if tb else db)
    fns = {"dlcore": lambda: da @ db, "numpy": lambda: na @ nb}
    if torch is not None:
        ta_, tb_ = torch.from_numpy(a).clone(), torch.from_numpy(b).clone()
        ta_, tb_ = (ta_.T if ta else ta_), (tb_.T if tb else tb_)
        fns["torch"] = lambda: ta_ @ tb_
    ref = na.astype(np.float64) @ nb.astype(np.float64)
    for name, fn in fns.items():
        got = T.as_numpy(fn())
        np.testing.assert_allclose(got, ref, rtol=1e-3, atol=1e-3 * np.sqrt(k), err_msg=name)
    return fns


def run(cases, threads, rounds, min_time):
    rows = []
    for t in threads:
        peak = fma_peak(t)
        print(f"FMA peak, {t} thread(s), {dlcore.cpu_info()['isa']}: {peak:.0f} GF/s", file=sys.stderr)
        with T.pinned_threads(t):
            for name, m, n, k, ta, tb in cases:
                fns = operands(np.random.default_rng(0), m, n, k, ta, tb)
                med = {}
                for c, fn in fns.items():
                    time.sleep(0.2)  # let the previous contender's pool go idle
                    med[c] = T.measure(fn, min_time=min_time, rounds=rounds)
                gf = {c: 2.0 * m * n * k / s / 1e9 for c, s in med.items()}
                rows.append({"case": name, "M": m, "N": n, "K": k, "threads": t, "peak_gflops": peak,
                             "seconds": med, "gflops": gf})
                print(f"  {name:<22} {t}T done", file=sys.stderr, flush=True)
    return rows


def report(rows, json_path):
    conts = ["dlcore", "numpy"] + (["torch"] if torch is not None else [])
    for t in sorted({r["threads"] for r in rows}):
        table = []
        for r in rows:
            if r["threads"] != t:
                continue
            table.append([r["case"], f"{r['M']}x{r['N']}x{r['K']}"] + [f"{r['gflops'][c]:.1f}" for c in conts] +
                         [f"{100 * r['gflops']['dlcore'] / r['peak_gflops']:.0f}%"] +
                         [T.fmt_ratio(r["seconds"]["dlcore"], r["seconds"][c]) for c in conts[1:]])
        T.print_table(["case", "MxNxK"] + [f"{c} GF/s" for c in conts] + ["dl % peak"] +
                      [f"dl/{c[:5]}" for c in conts[1:]], table,
                      title=f"GEMM float32 -- {t} thread{'s' if t > 1 else ''} (measured FMA peak "
                            f"{next(r['peak_gflops'] for r in rows if r['threads'] == t):.0f} GF/s; "
                            f"time ratios < 1: dlcore faster)")
    if json_path:
        T.dump_json(json_path, {"title": "gemm", "rows": rows})


def gemm_cases(quick):
    sizes = QUICK_SQUARE if quick else SQUARE
    cases = [(f"square {s}", s, s, s, False, False) for s in sizes]
    cases += [(f"1024 {'T' if ta else 'N'}{'T' if tb else 'N'}", 1024, 1024, 1024, ta, tb)
              for ta, tb in ((True, False), (False, True), (True, True))]
    return cases + (DL_SHAPES[:3] if quick else DL_SHAPES)


def cases(quick=False):
    """The cases as python -m dlcore.bench runs them (interleaved contenders, GF/s per row)."""
    return [{"name": name, "shape": f"{m}x{n}x{k}", "flops": 2 * m * n * k,
             "build": (lambda m=m, n=n, k=k, ta=ta, tb=tb: operands(np.random.default_rng(0), m, n, k, ta, tb))}
            for name, m, n, k, ta, tb in gemm_cases(quick)]


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--quick", action="store_true", help="fewer sizes, 3 rounds of 20 ms samples")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    rows = run(gemm_cases(args.quick), T.parse_threads(args.threads), 3 if args.quick else 5,
               0.02 if args.quick else 0.05)
    report(rows, args.json)


if __name__ == "__main__":
    main()
