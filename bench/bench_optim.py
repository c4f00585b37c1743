"""Fused optimizer steps: every dlcore.optim optimizer's one-call multi-tensor step against
PyTorch's foreach and fused CPU optimizers, and against the machine's measured memory
bandwidth, float32, in one run.

    cd /work/main && PYTHONPATH=python python bench/bench_optim.py [--threads 1,2] [--quick] [--json out.json]

(--quick: the MLP list only, 4 MiB bandwidth probe, 3 rounds of 10 ms samples)

Parameter lists:
  mlp     the 6 tensors of an MLP 784-512-512-10 (0.67M parameters)
  10M     10 layers of a 1000 x 1000 weight and a bias: 20 tensors, 10.01M parameters
Steps (the same hyper-parameters for both libraries) and the bytes per parameter a step must
move -- every parameter, gradient and state tensor read once, parameter and state written once:
  sgd        SGD, lr 1e-2: p, g read, p written: 3 x 4 B
  momentum   SGD, momentum 0.9: p, g, buf read, p, buf written: 5 x 4 B
  nesterov   SGD, Nesterov momentum 0.9: 5 x 4 B
  adagrad    Adagrad, lr 1e-2: p, g, sum read, p, sum written: 5 x 4 B
  rmsprop    RMSprop, lr 1e-2, alpha 0.99: p, g, square_avg read, p, square_avg written: 5 x 4 B
  adadelta   Adadelta, lr 1, rho 0.9: p, g, square_avg, acc_delta read, three written: 7 x 4 B
  adam       Adam, lr 1e-3, betas (0.9, 0.999): p, g, exp_avg, exp_avg_sq read, three written: 7 x 4 B
  adamw      AdamW, as adam with weight decay 1e-2 (decoupled): 7 x 4 B
Contenders: dlcore.optim's step() (one fused kernel call per step), torch.optim with
foreach=True, and with fused=True where this PyTorch build has the CPU kernel. Each step's
result is checked against torch.optim's before timing (the same first step from the same state).
On the CPU all contenders then step the same parameter, gradient and state memory, dlcore's
(shared through DLPack): which physical pages a buffer gets moves a one-thread step by up to
~20% on these machines, and would otherwise decide the ratio.

GB/s counts those bytes once per step; "% bw" is dlcore's GB/s over the measured bandwidth of
the same thread count: the best of x *= 1 in place on 64 MiB by dlcore, NumPy and torch (each
element read and written once, as in a step; a copy to another buffer would also read every
destination line before writing it, traffic its GB/s leaves out). dl/x is a time ratio, the
median over the rounds of dlcore's time / x's time within a round (paired: the memory bandwidth
these machines give one thread drifts by 10-20% between rounds); < 1 means dlcore is faster.
Timing, thread pinning and the noise gate are bench/_timing.py's.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402

import dlcore  # noqa: E402
from dlcore import _C, optim  # noqa: E402

torch = T.torch

LISTS = {"mlp": [(512, 784), (512,), (512, 512), (512,), (10, 512), (10,)],
         "10M": [s for _ in range(10) for s in ((1000, 1000), (1000,))]}
BW_SIZE = 1 << 24
QUICK_BW_SIZE = 1 << 22
# name: (optimizer class name, shared by dlcore.optim and torch.optim; its arguments; bytes per parameter)
STEPS = {
    "sgd": ("SGD", {"lr": 1e-2}, 3 * 4),
    "momentum": ("SGD", {"lr": 1e-2, "momentum": 0.9}, 5 * 4),
    "nesterov": ("SGD", {"lr": 1e-2, "momentum": 0.9, "nesterov": True}, 5 * 4),
    "adagrad": ("Adagrad", {"lr": 1e-2}, 5 * 4),
    "rmsprop": ("RMSprop", {"lr": 1e-2, "alpha": 0.99}, 5 * 4),
    "adadelta": ("Adadelta", {"lr": 1.0, "rho": 0.9}, 7 * 4),
    "adam": ("Adam", {"lr": 1e-3, "betas": (0.9, 0.999)}, 7 * 4),
    "adamw": ("AdamW", {"lr": 1e-3, "betas": (0.9, 0.999), "weight_decay": 1e-2}, 7 * 4),
}


def dlcore_step(kind, params, grads):
    """A dlcore.optim step over copies of the parameters (their gradients set once)."""
    cls, kwargs, _ = STEPS[kind]
    dp = [T.dl(a, requires_grad=True) for a in params]
    for t, g in zip(dp, grads):
        t.grad = T.dl(g)
    opt = getattr(optim, cls)(dp, **kwargs)
    opt.step()
    return opt.step, dp


def torch_step(kind, params, grads, **variant):
    """A torch.optim step over copies of the parameters, or None when the variant is unsupported."""
    cls, kwargs, _ = STEPS[kind]
    tp = [torch.tensor(a, requires_grad=True) for a in params]
    for t, g in zip(tp, grads):
        t.grad = torch.tensor(g)
    try:
        opt = getattr(torch.optim, cls)(tp, **kwargs, **variant)
        opt.step()
    except (RuntimeError, NotImplementedError, TypeError, ValueError):
        return None
    return opt.step, tp


VARIANTS = {"torch foreach": {"foreach": True}, "torch fused": {"fused": True}}


def build(kind, shapes, rng):
    """The contenders' step functions, each checked against torch's first step; on the CPU they are
    then rebuilt over shared memory (shared_steps)."""
    params = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    grads = [rng.standard_normal(s, dtype=np.float32) for s in shapes]
    step, ours = dlcore_step(kind, params, grads)
    fns = {"dlcore": step}
    if torch is None:
        return fns
    for name, variant in VARIANTS.items():
        made = torch_step(kind, params, grads, **variant)
        if made is None:
            continue
        step, tp = made
        for ours_p, theirs in zip(ours, tp):  # the same first step from the same state
            np.testing.assert_allclose(T.as_numpy(ours_p), T.as_numpy(theirs), rtol=1e-5, atol=1e-6,
                                       err_msg=f"{kind} vs {name}")
        fns[name] = step
    return shared_steps(kind, params, grads, list(fns)) if T.DEVICE[0] == "cpu" else fns


def shared_steps(kind, params, grads, contenders):
    """The contenders' steps over ONE set of parameters, gradients and state tensors (dlcore's,
    seen by torch through DLPack). Where an allocator's pages happen to lie moves a one-thread
    step by up to ~20% on these machines; on shared memory the ratio compares the kernels."""
    cls, kwargs, _ = STEPS[kind]
    dp = [T.dl(a, requires_grad=True) for a in params]
    for d, g in zip(dp, grads):
        d.grad = T.dl(g)
    tp = [torch.from_dlpack(d.detach()).requires_grad_() for d in dp]
    for t, d in zip(tp, dp):
        t.grad = torch.from_dlpack(d.grad)
    opts = {}
    for c in contenders:
        opt = getattr(optim, cls)(dp, **kwargs) if c == "dlcore" else getattr(torch.optim, cls)(tp, **kwargs, **VARIANTS[c])
        opt.step()  # creates the state
        opts[c] = opt
    ref = opts["dlcore"]
    for c, opt in opts.items():
        if opt is ref:
            continue
        for p, d in zip(tp, dp):
            for name, v in ref.state[d].items():
                if name != "step":  # the state tensors, named as in torch.optim
                    assert name in opt.state[p], f"{kind}: {c} has no state {name!r}"
                    opt.state[p][name] = torch.from_dlpack(v.detach())
    return {c: opt.step for c, opt in opts.items()}


def bandwidth(n, threads, min_time, rounds):
    """The best GB/s of x *= 1 in place over n float32 by dlcore (scale_), NumPy and torch, per
    thread count: a read and a write of every element, like an optimizer step's (a copy to
    another buffer would also read each destination line before writing it, uncounted)."""
    a = np.random.default_rng(0).standard_normal(n, dtype=np.float32)
    da = T.dl(a)
    fns = {"dlcore": lambda: _C.scale_([da._t], 1.0), "numpy": lambda: np.multiply(a, np.float32(1), out=a)}
    if torch is not None:
        ta = torch.from_numpy(a.copy())
        fns["torch"] = lambda: ta.mul_(1.0)
    res = T.measure_contenders(fns, threads, min_time, rounds)
    return {t: max(8 * n / r.median / 1e9 for (c, u), r in res.items() if u == t) for t in threads}


def cases(quick=False, seed=0):
    """The steps as python -m dlcore.bench runs them: torch is torch.optim's fused step (its
    foreach step where fused is unsupported); GB/s counts the bytes a step must move."""
    out = []
    for list_name in (["mlp"] if quick else list(LISTS)):
        shapes = LISTS[list_name]
        n = sum(int(np.prod(s)) for s in shapes)
        for kind in STEPS:
            def make(kind=kind, shapes=shapes):
                fns = build(kind, shapes, np.random.default_rng(seed))
                fused, foreach = fns.pop("torch fused", None), fns.pop("torch foreach", None)
                if fused or foreach:
                    fns["torch"] = fused or foreach
                return fns
            out.append({"name": f"{kind} {list_name}", "shape": f"{len(shapes)} x, {n / 1e6:.2f}M",
                        "nbytes": STEPS[kind][2] * n, "build": make})
    return out


def main(argv=None):
    args = T.parse_bench_args(__doc__, argv)
    threads, min_time, rounds = args.threads, args.min_time, args.rounds
    bw = bandwidth(QUICK_BW_SIZE if args.quick else BW_SIZE, threads, min_time, rounds)
    rng = np.random.default_rng(0)
    contenders = ("dlcore", "torch foreach", "torch fused")
    rows, dump = [], []
    for list_name in (["mlp"] if args.quick else list(LISTS)):
        shapes = LISTS[list_name]
        n = sum(int(np.prod(s)) for s in shapes)
        for kind in STEPS:
            T.wait_quiet(max(threads), max_wait=3)
            fns = build(kind, shapes, rng)
            res = T.measure_contenders(fns, threads, min_time, rounds)
            for t in threads:
                med = {c: res[(c, t)].median if (c, t) in res else None for c in contenders}
                gbs = STEPS[kind][2] * n / med["dlcore"] / 1e9
                rows.append([kind, f"{list_name} ({len(shapes)} x, {n / 1e6:.2f}M)", str(t)] +
                            [T.fmt_time(med[c]) for c in contenders] +
                            [f"{gbs:.1f}", f"{100 * gbs / bw[t]:.0f}%"] +
                            [T.fmt_ratio(T.paired_ratio(res[("dlcore", t)], res.get((c, t))), 1) for c in contenders[1:]])
                dump.append({"step": kind, "list": list_name, "params": n, "threads": t,
                             **{c: res[(c, t)].to_dict() for c in contenders if (c, t) in res}})
    T.print_table(["step", "parameters", "threads"] + [f"{c} time" for c in contenders] +
                  ["dlcore GB/s", "% bw", "dl/foreach", "dl/fused"], rows,
                  title="optimizer steps, float32 (median time per step; dl/x = median per-round time ratio, <1: dlcore faster); "
                        "measured bandwidth " + ", ".join(f"{bw[t]:.1f} GB/s at {t} thread(s)" for t in threads),
                  align="lll" + "r" * 9)
    print(f"noise: {T.GATE['noisy_tries']} noisy sample tries retaken, {T.GATE['forced']} kept although noisy, "
          f"{T.GATE['waited_s']:.0f} s waited for a quiet box")
    T.dump_json(args.json, {"title": "optimizer steps", "rows": dump, "bandwidth_gbs": bw,
                            "settings": {"threads": threads, "min_time": min_time, "rounds": rounds,
                                         "quick": args.quick}})


if __name__ == "__main__":
    main()
