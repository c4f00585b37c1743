"""`python -m dlcore.bench`: every kernel family and the end-to-end training steps, against NumPy
and PyTorch in the same run and against this machine's own limits.

    python -m dlcore.bench [families...] [--threads 1,2] [--device cpu|cuda] [--quick] [--json out.json]
                           [--markdown report.md] [--compare baseline.json] [--threshold 0.1]

(from a source tree: PYTHONPATH=python python bench). Families: machine (the FMA peak of each
thread count and the memory bandwidth, which the other rows are measured against), gemm, conv,
pool, pointwise (activations, softmax + cross-entropy, batch norm), elementwise, reduce, index (row
gather and scatter-add), optim, recurrent, train (training steps of the intro networks and per-op
overhead), variants (each kernel's textbook version beside the optimized one: what the
optimizations bought); default: all.

Each family is the cases() of bench/bench_<family>.py, run by bench/_timing.py: every result is
checked against NumPy before it is timed, every contender is pinned to the same thread count
(dlcore's OpenMP, NumPy's BLAS via threadpoolctl, torch's pool), samples are medians over rounds
that interleave the contenders. A row with flops is compute-bound and gets a % of the FMA peak;
one with bytes is memory-bound and gets a % of the bandwidth. --compare flags every row whose
dlcore time grew by more than --threshold over the baseline JSON of an earlier run.

--device cuda runs dlcore's side of every case on the cuda device (a GPU, or the SIMT emulator
under DLCORE_CUDA=emulate, whose times mean nothing but that the harness works): results are
still checked against NumPy, and each call is timed alone with CUDA events after a synchronize
and an L2 flush; the limit is the device's bandwidth (a + b on 64M floats), measured the same
way. PyTorch CPU is no peer for a GPU, so cuda rows have no ratio; the variants family is CPU-only.
"""
import argparse
import importlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402

import dlcore  # noqa: E402

FAMILIES = ["machine", "gemm", "conv", "pool", "pointwise", "elementwise", "reduce", "index", "optim", "recurrent",
            "train", "variants"]


def device_limits(quick):
    """{1: {"gflops": None, "gbps": bandwidth}} of the cuda device: a + b on two arrays of 64M
    floats (16M with --quick; 1M on the emulator), timed with CUDA events after an L2 flush."""
    n = 1 << 20 if dlcore.cuda.is_emulated() else (1 << 24 if quick else 1 << 26)
    a, b = dlcore.rand(n, device="cuda"), dlcore.rand(n, device="cuda")
    seconds = T.measure_cuda({"add": lambda: a + b}, rounds=3 if quick else 5)["add"].median
    limits = {1: {"gflops": None, "gbps": 12 * n / seconds / 1e9}}
    info = dlcore.cuda.get_device_properties()
    T.print_table(["device", "bandwidth GB/s"], [[info["name"], f"{limits[1]['gbps']:.1f}"]],
                  title="device limits (float32 a + b, CUDA events)")
    return limits


def machine_limits(threads, quick):
    """{threads: {"gflops": FMA peak, "gbps": bandwidth}} measured by dlcore itself: the FMA probe
    (an unrolled chain of independent FMAs per thread) and an add of two 64 MiB arrays (2 reads + 1
    write per element: a triad's traffic)."""
    import numpy as np
    limits = {}
    n = (1 << 22) if quick else (1 << 24)
    a, b = dlcore.rand(n), dlcore.rand(n)
    from bench_gemm import fma_peak
    for t in threads:
        gflops = fma_peak(t)
        with T.pinned_threads(t):
            seconds = T.measure(lambda: a + b, min_time=0.02 if quick else 0.1, rounds=3 if quick else 5)
            limits[t] = {"gflops": gflops, "gbps": 12 * n / seconds / 1e9}
    del a, b
    rows = [[str(t), f"{v['gflops']:.0f}", f"{v['gbps']:.1f}"] for t, v in limits.items()]
    T.print_table(["threads", "FMA peak GF/s", "bandwidth GB/s"], rows,
                  title=f"machine limits ({dlcore.cpu_info()['isa']}, float32; numpy {np.__version__})")
    return limits


def percent_of_limit(row, limits):
    r = row.get("dlcore")
    lim = limits.get(row["threads"])
    if r is None or lim is None:
        return None
    if row.get("flops") and lim["gflops"]:
        return 100 * row["flops"] / r.median / 1e9 / lim["gflops"]
    if row.get("nbytes"):
        return 100 * row["nbytes"] / r.median / 1e9 / lim["gbps"]
    return None


def run(args):
    T.use_device(args.device)
    threads = T.parse_threads(args.threads)[:1] if T.on_cuda() else T.parse_threads(args.threads)
    families = args.families or [f for f in FAMILIES if not (T.on_cuda() and f == "variants")]
    unknown = [f for f in families if f not in FAMILIES]
    if unknown:
        raise SystemExit(f"unknown families {unknown}; choose from {FAMILIES}")
    if T.on_cuda() and "variants" in families:
        raise SystemExit("the variants family compares CPU kernels: run it without --device cuda")
    min_time = 0.01 if args.quick else 0.05
    rounds = 3 if args.quick else 7
    if args.quick:
        T.GATE["total_max_s"] = min(T.GATE["total_max_s"], 8.0)
    limits = device_limits(args.quick) if T.on_cuda() else machine_limits(threads, args.quick)
    results = {"device": args.device, "machine": {str(t): v for t, v in limits.items()}, "families": {}}
    for fam in families:
        if fam == "machine":
            continue
        module = importlib.import_module(f"bench_{fam}")
        print(f"\n### {fam}: {module.__doc__.strip().splitlines()[0]}", flush=True)
        rows = T.run_cases(module.cases(args.quick), threads, min_time=min_time, rounds=rounds)
        T.report(rows, fam)
        out = []
        for r in rows:
            d = {k: r.get(k) for k in ("name", "shape", "nbytes", "flops", "threads")}
            for c in dict.fromkeys(T.available_contenders([r]) + ["numpy", "torch"]):
                d[c] = r[c].median if r.get(c) is not None else None
            d["pct_of_limit"] = percent_of_limit(r, limits)
            out.append(d)
        results["families"][fam] = out
    return results


def compare(results, baseline_path, threshold):
    """Rows whose dlcore time grew by more than threshold (relative) since the baseline run."""
    with open(baseline_path) as f:
        base = json.load(f)
    if base.get("device", "cpu") != results["device"]:
        raise SystemExit(f"--compare: {baseline_path} was measured on {base.get('device', 'cpu')}, "
                         f"this run on {results['device']}")
    old = {(fam, r["name"], r["threads"]): r["dlcore"] for fam, rows in base.get("families", {}).items() for r in rows}
    worse = []
    for fam, rows in results["families"].items():
        for r in rows:
            before = old.get((fam, r["name"], r["threads"]))
            if before and r["dlcore"] and r["dlcore"] > before * (1 + threshold):
                worse.append((fam, r["name"], r["threads"], before, r["dlcore"]))
    if worse:
        T.print_table(["family", "case", "threads", "baseline", "now", "ratio"],
                      [[f, n, str(t), T.fmt_time(a), T.fmt_time(b), f"{b / a:.2f}"] for f, n, t, a, b in worse],
                      title=f"regressions beyond {100 * threshold:.0f}% against {baseline_path}")
    else:
        print(f"no regression beyond {100 * threshold:.0f}% against {baseline_path}")
    return worse


def markdown(results, path):
    """A report: the machine's limits, then per family a table of times, ratios and % of limit, and
    (with matplotlib) a bar chart of the dlcore/torch time ratio per case."""
    lines = ["# dlcore benchmark report", "", "| threads | FMA peak GF/s | bandwidth GB/s |", "|---|---|---|"]
    lines += [f"| {t} | {v['gflops']:.0f} | {v['gbps']:.1f} |" if v["gflops"] else f"| {t} | - | {v['gbps']:.1f} |"
              for t, v in results["machine"].items()]
    base = os.path.splitext(path)[0]
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    for fam, rows in results["families"].items():
        lines += ["", f"## {fam}", "", "| case | shape | threads | dlcore | numpy | torch | dl/np | dl/torch | % of limit |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in rows:
            pct = f"{r['pct_of_limit']:.0f}%" if r["pct_of_limit"] is not None else "-"
            lines.append(f"| {r['name']} | {r['shape']} | {r['threads']} | {T.fmt_time(r['dlcore'])} | "
                         f"{T.fmt_time(r['numpy'])} | {T.fmt_time(r['torch'])} | {T.fmt_ratio(r['dlcore'], r['numpy'])} | "
                         f"{T.fmt_ratio(r['dlcore'], r['torch'])} | {pct} |")
        charts = [_bar_chart(fam, rows, f"{base}-{fam}.png")]
        if fam == "gemm":
            charts.append(_gemm_curve(rows, f"{base}-gemm-gflops.png"))
        lines += ["", *(f"![{fam}]({os.path.basename(c)})" for c in charts if c)]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print(f"[saved {path}]")


def _pyplot():
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    return plt


def _gemm_curve(rows, path):
    """GF/s against the size of the square products, one line per contender and thread count."""
    rows = [r for r in rows if r["name"].startswith("square ")]
    plt = _pyplot()
    if not rows or plt is None:
        return None
    fig, ax = plt.subplots(figsize=(6, 4))
    for c in ("dlcore", "numpy", "torch"):
        for t in sorted({r["threads"] for r in rows}):
            pts = [(int(r["name"].split()[1]), r["flops"] / r[c] / 1e9) for r in rows if r["threads"] == t and r[c]]
            if pts:
                ax.plot(*zip(*pts), marker="o", label=f"{c} {t}T")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("n (n x n x n product)")
    ax.set_ylabel("GFLOP/s")
    ax.set_title("GEMM float32")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def _bar_chart(fam, rows, path):
    rows = [r for r in rows if r["dlcore"] and r["torch"]]
    plt = _pyplot()
    if not rows or plt is None:
        return None
    labels = [f"{r['name']} ({r['threads']}T)" for r in rows]
    ratios = [r["dlcore"] / r["torch"] for r in rows]
    fig, ax = plt.subplots(figsize=(8, 0.3 * len(rows) + 1.5))
    ax.barh(labels, ratios, color=["tab:green" if v <= 1 else "tab:red" for v in ratios])
    ax.axvline(1.0, color="black", lw=1)
    ax.set_xlabel("time dlcore / PyTorch (< 1: dlcore faster)")
    ax.set_title(fam)
    ax.invert_yaxis()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("families", nargs="*", help=f"any of {FAMILIES} (default: all)")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    ap.add_argument("--quick", action="store_true", help="fewer, smaller cases and shorter samples")
    ap.add_argument("--json", default=None, help="write every median and the machine's limits here")
    ap.add_argument("--markdown", default=None, help="write a markdown report (and bar charts) here")
    ap.add_argument("--compare", default=None, help="a JSON of an earlier run: flag regressions against it")
    ap.add_argument("--threshold", type=float, default=0.10, help="relative slow-down that counts as a regression")
    args = ap.parse_args(argv)
    results = run(args)
    if args.json:
        T.dump_json(args.json, results)
    if args.markdown:
        markdown(results, args.markdown)
    if args.compare:
        return 1 if compare(results, args.compare, args.threshold) else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
