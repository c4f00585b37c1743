"""Recurrent layers: an LSTM and a GRU layer, forward + backward, dlcore vs PyTorch CPU, float32,
and dlcore's fused cells against the same layer with its cell composed of pointwise ops.

    cd /work/main && PYTHONPATH=python python bench/bench_recurrent.py [--threads 1,2] [--quick] [--json out.json]

One call: the layer over a (seq 28, batch 64, input 28) sequence with hidden size 128 (an MNIST
row-by-row classifier's recurrent layer), then backward from out.sum() into every parameter
(their gradients reset first). Contenders:
  fused     nn.LSTM / nn.GRU: per step one GEMM h W_hh^T and one fused cell kernel
            (F.lstm_cell / F.gru_cell), forward and backward;
  composed  the same layer with the cell written as F.sigmoid / F.tanh / * / + on slices of the
            gates (about ten kernels and autograd nodes per step): the path the fused kernels
            replace, kept here as the reference;
  torch     torch.nn.LSTM / GRU from the same weights (its CPU path: GEMMs + fused cells in ATen).
Results are checked against each other before timing (outputs and weight gradients).
GF/s counts the GEMMs only: 2 N (input + hidden) gates x hidden per step forward, twice that
backward. f/c and f/t are time ratios: < 1 means the fused layer is faster.
Timing, thread pinning and the noise gate are bench/_timing.py's.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402

import dlcore  # noqa: E402
import dlcore.functional as F  # noqa: E402
from dlcore import nn  # noqa: E402

torch = T.torch

SEQ, BATCH, INPUT, HIDDEN = 28, 64, 28, 128
QUICK = (28, 16, 28, 64)


class ComposedLSTM(nn.LSTM):
    """nn.LSTM with the cell composed of pointwise ops."""

    def _cell(self, xp, state, w_hh, b_hh):
        h, c = state
        i, f, g, o = (F.linear(h, w_hh, b_hh) + xp).chunk(4, 1)
        c = F.sigmoid(f) * c + F.sigmoid(i) * F.tanh(g)
        return [F.sigmoid(o) * F.tanh(c), c]


class ComposedGRU(nn.GRU):
    """nn.GRU with the cell composed of pointwise ops."""

    def _cell(self, xp, state, w_hh, b_hh):
        h = state[0]
        xr, xz, xn = xp.chunk(3, 1)
        hr, hz, hn = F.linear(h, w_hh, b_hh).chunk(3, 1)
        r = F.sigmoid(xr + hr)
        z = F.sigmoid(xz + hz)
        n = F.tanh(xn + r * hn)
        return [n + z * (h - n)]


LAYERS = {"LSTM": (nn.LSTM, ComposedLSTM, 4), "GRU": (nn.GRU, ComposedGRU, 3)}


def flops(kind, seq, batch, inp, hidden):
    gates = LAYERS[kind][2] * hidden
    return 3 * seq * 2 * batch * (inp + hidden) * gates


def _dl_step(model, x):
    params = list(model.parameters())

    def step():
        for p in params:
            p.grad = None
        out, _ = model(x)
        out.sum().backward()
        return out
    return step


def _torch_step(model, x):
    def step():
        model.zero_grad(set_to_none=True)
        out, _ = model(x)
        out.sum().backward()
        return out
    return step


def contenders(kind, sizes, rng):
    """{name: step function} for the fused, composed and torch layers built from one set of weights,
    after checking that their outputs and weight gradients agree."""
    seq, batch, inp, hidden = sizes
    fused_cls, composed_cls, _ = LAYERS[kind]
    x = rng.standard_normal((seq, batch, inp)).astype(np.float32)
    dlcore.manual_seed(0)
    fused = fused_cls(inp, hidden).to(T.DEVICE[0])
    composed = composed_cls(inp, hidden).to(T.DEVICE[0])
    composed.load_state_dict(fused.state_dict())
    xd = T.dl(x)
    fns = {"fused": _dl_step(fused, xd), "composed": _dl_step(composed, xd)}
    outs = {name: T.as_numpy(fn()) for name, fn in fns.items()}
    grads = {name: [T.as_numpy(p.grad) for p in m.parameters()] for name, m in (("fused", fused), ("composed", composed))}
    if torch is not None:
        tmodel = getattr(torch.nn, kind)(inp, hidden)
        with torch.no_grad():
            for name, p in fused.named_parameters():
                getattr(tmodel, name).copy_(torch.from_numpy(T.as_numpy(p)))
        fns["torch"] = _torch_step(tmodel, torch.from_numpy(x))
        outs["torch"] = fns["torch"]().detach().numpy()
        grads["torch"] = [getattr(tmodel, name).grad.numpy() for name, _ in fused.named_parameters()]
    for name in outs:
        np.testing.assert_allclose(outs[name], outs["fused"], rtol=1e-4, atol=1e-5, err_msg=f"{kind} {name} output")
        for g, ref in zip(grads[name], grads["fused"]):
            np.testing.assert_allclose(g, ref, rtol=1e-3, atol=1e-3 * np.abs(ref).max(),
                                       err_msg=f"{kind} {name} gradients")
    return fns


def cases(quick=False, seed=0):
    """The harness's rows (python -m dlcore.bench recurrent): the fused layer as dlcore, torch."""
    rng = np.random.default_rng(seed)
    sizes = QUICK if quick else (SEQ, BATCH, INPUT, HIDDEN)

    def case(kind):
        def build():
            fns = contenders(kind, sizes, rng)
            return {"dlcore": fns["fused"], **({"torch": fns["torch"]} if "torch" in fns else {})}
        return {"name": f"{kind} fwd+bwd", "shape": "x".join(map(str, sizes)), "flops": flops(kind, *sizes),
                "build": build}
    return [case(kind) for kind in LAYERS]


def main(argv=None):
    args = T.parse_bench_args(__doc__, argv)
    sizes = QUICK if args.quick else (SEQ, BATCH, INPUT, HIDDEN)
    rng = np.random.default_rng(0)
    names = ["fused", "composed"] + (["torch"] if torch is not None and not T.on_cuda() else [])
    rows, payload = [], []
    for kind in LAYERS:
        fns = contenders(kind, sizes, rng)
        if T.on_cuda():
            res = {(n, args.threads[0]): r for n, r in T.measure_cuda({n: fns[n] for n in names}, args.rounds).items()}
        else:
            res = T.measure_many({(n, t): (fns[n], t) for n in names for t in args.threads}, args.min_time,
                                 args.rounds)
        for t in args.threads:
            med = {n: res[(n, t)].median for n in names}
            mark = {n: "!" if 2 * res[(n, t)].forced > len(res[(n, t)].samples) else "" for n in names}
            rows.append([f"{kind} fwd+bwd", str(t)] + [T.fmt_time(med[n]) + mark[n] for n in names] +
                        [T.fmt_rate(flops(kind, *sizes), med["fused"]), T.fmt_ratio(med["fused"], med["composed"])] +
                        ([T.fmt_ratio(med["fused"], med["torch"])] if "torch" in med else []))
            payload.append({"layer": kind, "threads": t, **{n: res[(n, t)].to_dict() for n in names}})
    T.print_table(["layer", "threads"] + names + ["fused GF/s", "f/c"] + (["f/t"] if "torch" in names else []), rows,
                  title=f"recurrent layers, seq x batch x input x hidden = {' x '.join(map(str, sizes))}, float32 "
                        "(median time per call)")
    print(f"noise: {T.GATE['noisy_tries']} noisy sample tries retaken, {T.GATE['forced']} kept although noisy")
    T.dump_json(args.json, {"title": "recurrent layers", "sizes": sizes, "rows": payload})
    return rows


if __name__ == "__main__":
    main()
