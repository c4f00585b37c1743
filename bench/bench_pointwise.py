"""Pointwise and row-kernel benchmarks: activations, fused softmax + cross-entropy, batch norm,
float32, against the machine's measured memory bandwidth and against PyTorch CPU, in one run.

    cd /work/main && PYTHONPATH=python python bench/bench_pointwise.py [--threads 1,2] [--quick] [--json out.json]

Cases:
  bw copy, bw add   the bandwidth probe, on 64 MiB operands: a copy (dlcore and torch clone, NumPy
               np.copyto) and an add a + b (two reads, one write), on the same thread count as the
               kernels; the best GB/s of any of them is the "measured bandwidth"
  relu, sigmoid, tanh, gelu, silu      forward, (N,) float32
  sigmoid_bwd  dx from (dy, y)
  ce           cross-entropy forward (mean over N) of (N, C) logits and int64 labels:
               N=256, C=10; N=256, C=1000; N=1024, C=50000
  ce_fwd_bwd   the forward and the backward (torch: autograd's backward of the same loss)
  bn_train     batch norm, training (batch statistics, running statistics updated), (N, C, H, W)
               and (N, C); bn_eval: with the running statistics

GB/s counts the bytes an ideal kernel reads plus writes once (4 B per float32, 8 per int64 label);
"% bw" is dlcore's GB/s over the measured bandwidth of the same thread count (the largest of the
probe's GB/s). dl/np and dl/torch are time ratios: < 1 means dlcore is faster. The numpy column is a
plain NumPy implementation of the same math (single-threaded). Every contender's result is
checked against a float64 NumPy reference before timing; each is timed on its own thread count
with every pool pinned (bench/_timing.py).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402

import dlcore  # noqa: E402
import dlcore.functional as F  # noqa: E402
from dlcore import _C  # noqa: E402

torch = T.torch

ACT_SIZES = [1 << 16, 1 << 24]
QUICK_ACT_SIZES = [1 << 20]
BW_SIZE = 1 << 24  # 64 MiB of float32 per operand: far beyond the caches
QUICK_BW_SIZE = 1 << 22
CE_SHAPES = [(256, 10), (256, 1000), (1024, 50000)]
QUICK_CE_SHAPES = [(256, 10), (256, 1000)]
BN_SHAPES = [(64, 64, 32, 32), (4096, 256)]
QUICK_BN_SHAPES = [(16, 32, 32, 32), (1024, 256)]


def _check(name, fns, ref, rtol, atol):
    for c, fn in fns.items():
        got = T.as_numpy(fn())
        np.testing.assert_allclose(got.astype(np.float64), ref, rtol=rtol, atol=atol, err_msg=f"{name} ({c})")


def _fns(dl_fn, np_fn, torch_fn):
    fns = {"dlcore": dl_fn, "numpy": np_fn}
    if torch is not None and torch_fn is not None:
        fns["torch"] = torch_fn
    return fns


def bandwidth_cases(n, rng):
    def build_copy():
        a = rng.standard_normal(n, dtype=np.float32)
        da, out = T.dl(a), np.empty_like(a)
        ta = torch.from_numpy(a).clone() if torch is not None else None
        fns = _fns(lambda: da.clone(), lambda: np.copyto(out, a) or out, (lambda: ta.clone()) if ta is not None else None)
        _check("copy", fns, a.astype(np.float64), 0, 0)
        return fns

    def build_add():
        a, b = rng.standard_normal(n, dtype=np.float32), rng.standard_normal(n, dtype=np.float32)
        da, db, out = T.dl(a), T.dl(b), np.empty_like(a)
        tc = (torch.from_numpy(a).clone(), torch.from_numpy(b).clone()) if torch is not None else None
        fns = _fns(lambda: da + db, lambda: np.add(a, b, out=out),
                   (lambda: tc[0] + tc[1]) if tc is not None else None)
        _check("add", fns, a.astype(np.float64) + b, 1e-6, 0)
        return fns

    return [{"name": "bw copy", "shape": T.fmt_size(n), "nbytes": 8 * n, "build": build_copy, "probe": True},
            {"name": "bw add", "shape": T.fmt_size(n), "nbytes": 12 * n, "build": build_add, "probe": True}]


def _sigmoid64(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


def activation_cases(n, rng):
    from math import sqrt
    from scipy.special import erf  # NumPy has no erf
    acts = [
        ("relu", F.relu, lambda x: np.maximum(x, 0), "relu", lambda x: np.maximum(x, 0)),
        ("sigmoid", F.sigmoid, lambda x: 1 / (1 + np.exp(-x)), "sigmoid", _sigmoid64),
        ("tanh", F.tanh, np.tanh, "tanh", np.tanh),
        ("gelu", F.gelu, lambda x: 0.5 * x * (1 + erf(x / np.float32(sqrt(2)))), "gelu",
         lambda x: 0.5 * x * (1 + erf(x / sqrt(2)))),
        ("silu", F.silu, lambda x: x / (1 + np.exp(-x)), "silu", lambda x: x * _sigmoid64(x)),
    ]
    out = []
    for name, dl_op, np_op, torch_name, ref in acts:
        def build(dl_op=dl_op, np_op=np_op, torch_name=torch_name, ref=ref):
            a = rng.uniform(-8, 8, n).astype(np.float32)
            da = T.dl(a)
            ta = torch.from_numpy(a).clone() if torch is not None else None
            tf = getattr(torch.nn.functional, torch_name) if torch is not None else None
            fns = _fns(lambda: dl_op(da), lambda: np_op(a), (lambda: tf(ta)) if ta is not None else None)
            with np.errstate(over="ignore"):
                _check(name, fns, ref(a.astype(np.float64)), 1e-4, 1e-5)  # torch approximates silu/gelu
            return fns
        out.append({"name": name, "shape": T.fmt_size(n), "nbytes": 8 * n, "build": build})

    def build_sigmoid_bwd():
        y = rng.uniform(0, 1, n).astype(np.float32)
        g = rng.standard_normal(n, dtype=np.float32)
        dy_, dg = T.dl(y), T.dl(g)
        ty, tg = (torch.from_numpy(y).clone(), torch.from_numpy(g).clone()) if torch is not None else (None, None)
        fns = _fns(lambda: _wrap(_C.sigmoid_backward(dg._t, dy_._t)), lambda: g * y * (1 - y),
                   (lambda: torch.ops.aten.sigmoid_backward(tg, ty)) if ty is not None else None)
        y64 = y.astype(np.float64)
        _check("sigmoid_bwd", fns, g * y64 * (1 - y64), 1e-5, 1e-6)
        return fns
    out.append({"name": "sigmoid_bwd", "shape": T.fmt_size(n), "nbytes": 12 * n, "build": build_sigmoid_bwd})
    return out


def _wrap(c):
    t = dlcore.Tensor.__new__(dlcore.Tensor)
    t._t = c
    return t


def ce_reference(x, y):
    x = x.astype(np.float64)
    m = x.max(1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(x - m).sum(1))
    return (lse - x[np.arange(len(y)), y]).mean()


def ce_cases(shapes, rng):
    out = []
    for n, c in shapes:
        def build(n=n, c=c):
            x = (rng.standard_normal((n, c)) * 3).astype(np.float32)
            y = rng.integers(0, c, n)
            dx, dy = T.dl(x), T.dl(y)

            def np_ce():
                m = x.max(1, keepdims=True)
                lse = m[:, 0] + np.log(np.exp(x - m).sum(1))
                return np.float32((lse - x[np.arange(n), y]).mean())
            tx, ty = (torch.from_numpy(x).clone(), torch.from_numpy(y).clone()) if torch is not None else (None, None)
            fns = _fns(lambda: F.cross_entropy(dx, dy), np_ce,
                       (lambda: torch.nn.functional.cross_entropy(tx, ty)) if tx is not None else None)
            _check("ce", fns, np.float64(ce_reference(x, y)), 1e-5, 0)
            return fns
        out.append({"name": "ce", "shape": f"{n}x{c}", "nbytes": 4 * n * c + 8 * n, "build": build})

        def build_fb(n=n, c=c):
            x = (rng.standard_normal((n, c)) * 3).astype(np.float32)
            y = rng.integers(0, c, n)
            dx, dy = T.dl(x), T.dl(y)
            one = T.dl(np.float32(1))

            def dl_fb():
                loss, stats = _C.cross_entropy(dx._t, dy._t, "mean", 0.0, -100)
                return _wrap(_C.cross_entropy_backward(one._t, dx._t, dy._t, stats, "mean", 0.0, -100))

            def np_fb():
                m = x.max(1, keepdims=True)
                e = np.exp(x - m)
                p = e / e.sum(1, keepdims=True)
                p[np.arange(n), y] -= 1
                return p / n

            fns = _fns(dl_fb, np_fb, None)
            if torch is not None:
                tx, ty = torch.from_numpy(x).clone().requires_grad_(), torch.from_numpy(y).clone()

                def torch_fb():
                    tx.grad = None
                    torch.nn.functional.cross_entropy(tx, ty).backward()
                    return tx.grad
                fns["torch"] = torch_fb
            x64 = x.astype(np.float64)
            p = np.exp(x64 - x64.max(1, keepdims=True))
            p /= p.sum(1, keepdims=True)
            p[np.arange(n), y] -= 1
            _check("ce_fwd_bwd", fns, p / n, 1e-4, 1e-9)
            return fns
        # reads x twice (forward, backward), writes dx once
        out.append({"name": "ce_fwd_bwd", "shape": f"{n}x{c}", "nbytes": 12 * n * c + 16 * n, "build": build_fb})
    return out


def bn_cases(shapes, rng):
    out = []
    for shape in shapes:
        for training in (True, False):
            def build(shape=shape, training=training):
                C = shape[1]
                x = (rng.standard_normal(shape) * 2 + 1).astype(np.float32)
                w, b = rng.standard_normal(C).astype(np.float32), rng.standard_normal(C).astype(np.float32)
                rm0, rv0 = np.zeros(C, np.float32), np.ones(C, np.float32)
                axes = (0,) + tuple(range(2, len(shape)))
                cview = (1, C) + (1,) * (len(shape) - 2)
                dx_, dw, db = T.dl(x), T.dl(w), T.dl(b)
                drm, drv = T.dl(rm0), T.dl(rv0)

                def np_bn():
                    if training:
                        mean, var = x.mean(axis=axes), x.var(axis=axes)
                    else:
                        mean, var = rm0, rv0
                    return (x - mean.reshape(cview)) / np.sqrt(var.reshape(cview) + 1e-5) * w.reshape(cview) + \
                        b.reshape(cview)
                fns = _fns(lambda: F.batch_norm(dx_, drm, drv, dw, db, training=training), np_bn, None)
                if torch is not None:
                    tx, tw, tb = (torch.from_numpy(a).clone() for a in (x, w, b))
                    trm, trv = torch.from_numpy(rm0).clone(), torch.from_numpy(rv0).clone()
                    fns["torch"] = lambda: torch.nn.functional.batch_norm(tx, trm, trv, tw, tb, training=training)
                x64 = x.astype(np.float64)
                mean = x64.mean(axis=axes) if training else rm0.astype(np.float64)
                var = x64.var(axis=axes) if training else rv0.astype(np.float64)
                ref = (x64 - mean.reshape(cview)) / np.sqrt(var.reshape(cview) + 1e-5) * w.reshape(cview) + \
                    b.reshape(cview)
                _check("bn", fns, ref, 1e-4, 1e-5)
                return fns
            out.append({"name": "bn_train" if training else "bn_eval", "shape": "x".join(map(str, shape)),
                        "nbytes": 8 * int(np.prod(shape)), "build": build})
    return out


def cases(quick, seed=0):
    rng = np.random.default_rng(seed)
    out = bandwidth_cases(QUICK_BW_SIZE if quick else BW_SIZE, rng)
    for n in (QUICK_ACT_SIZES if quick else ACT_SIZES):
        out += activation_cases(n, rng)
    out += ce_cases(QUICK_CE_SHAPES if quick else CE_SHAPES, rng)
    out += bn_cases(QUICK_BN_SHAPES if quick else BN_SHAPES, rng)
    return out


def bandwidth_report(rows):
    """The measured bandwidth per thread count (the best probe GB/s) and dlcore's share of it per case."""
    probes = {}
    for r in rows:
        if r["name"].startswith("bw "):
            for c in T.available_contenders():
                if r.get(c) is not None:
                    probes[r["threads"]] = max(probes.get(r["threads"], 0.0), r["nbytes"] / r[c].median / 1e9)
    table = []
    for r in rows:
        if r["name"].startswith("bw ") or r.get("dlcore") is None:
            continue
        gbs = r["nbytes"] / r["dlcore"].median / 1e9
        table.append([r["name"], r["shape"], str(r["threads"]), f"{gbs:.1f}", f"{probes[r['threads']]:.1f}",
                      f"{100 * gbs / probes[r['threads']]:.0f}%",
                      T.fmt_ratio(r["dlcore"].median, r["torch"].median if r.get("torch") else None)])
    T.print_table(["op", "shape", "threads", "dlcore GB/s", "measured bw GB/s", "% bw", "dl/torch"], table,
                  title="dlcore against the measured memory bandwidth (best of the copy/add probes, same threads)")
    return probes


def main(argv=None):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts (default 1,2)")
    ap.add_argument("--quick", action="store_true", help="smaller cases, 3 rounds of 10 ms samples")
    ap.add_argument("--json", default=None, help="also write all samples and the environment here")
    args = ap.parse_args(argv)
    threads = T.parse_threads(args.threads)
    min_time, rounds = (0.01, 3) if args.quick else (0.05, 7)
    if args.quick:
        T.GATE["total_max_s"] = min(T.GATE["total_max_s"], 8.0)
    print(f"dlcore {dlcore.cpu_info()}, numpy {np.__version__}, torch {torch.__version__ if torch else 'n/a'}; "
          f"threads {threads}, {rounds} rounds of >= {min_time * 1e3:.0f} ms samples", file=sys.stderr)
    rows = T.run_cases(cases(args.quick), threads, min_time=min_time, rounds=rounds)
    T.report(rows, "pointwise float32", None)
    probes = bandwidth_report(rows)
    if args.json:
        T.report(rows, "pointwise float32", args.json,
                 extra={"bandwidth_gbs": probes,
                        "settings": {"threads": threads, "min_time": min_time, "rounds": rounds, "quick": args.quick}})


if __name__ == "__main__":
    main()
