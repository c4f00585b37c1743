"""End-to-end training steps and per-op overhead: dlcore vs PyTorch CPU, float32.

    cd /work/main && PYTHONPATH=python python bench/bench_train.py [--threads 1,2] [--quick] [--json out.json]

A step is forward, loss, backward and the optimizer's update, on one batch that stays in
memory (so data loading is not timed):
  * MLP 784-100-10 (ReLU) with SGD, the course notes' first network;
  * MLP 784-512-512-10 (ReLU) with Adam;
  * the classic MNIST CNN (conv 1->10 k5, max-pool, ReLU, conv 10->20 k5, dropout2d, max-pool,
    ReLU, dense 320->50 ReLU, dropout, dense 50->10) with SGD + momentum;
each at batch 64 and 256, with both libraries' models built from the same weights (checked:
the first step's loss agrees). "images/s" is batch / time. Then the per-op cost of the Python
layers on tiny inputs: an add of two 1-element tensors, a 4x4 matmul, and a Linear(4, 4)
forward + backward -- the overhead a small network pays on every op.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _timing as T  # noqa: E402

import dlcore  # noqa: E402
from dlcore import nn, optim  # noqa: E402
import dlcore.functional as F  # noqa: E402

torch = T.torch


def mlp(sizes, lib):
    layers = []
    for i, (a, b) in enumerate(zip(sizes, sizes[1:])):
        last = i == len(sizes) - 2
        if lib == "dlcore":
            layers.append(nn.Linear(a, b, activation=None if last else "relu"))
        else:
            layers += [torch.nn.Linear(a, b)] + ([] if last else [torch.nn.ReLU()])
    return nn.Sequential(*layers) if lib == "dlcore" else torch.nn.Sequential(*layers)


def cnn(lib):
    if lib == "dlcore":
        return nn.Sequential(nn.Conv2d(1, 10, 5), nn.MaxPool2d(2), nn.ReLU(), nn.Conv2d(10, 20, 5),
                             nn.Dropout2d(0.5), nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(),
                             nn.Linear(320, 50, activation="relu"), nn.Dropout(0.5), nn.Linear(50, 10))
    t = torch.nn
    return t.Sequential(t.Conv2d(1, 10, 5), t.MaxPool2d(2), t.ReLU(), t.Conv2d(10, 20, 5), t.Dropout2d(0.5),
                        t.MaxPool2d(2), t.ReLU(), t.Flatten(), t.Linear(320, 50), t.ReLU(), t.Dropout(0.5),
                        t.Linear(50, 10))


NETWORKS = {  # name -> (model builder, optimizer builder, input shape of one sample)
    "MLP 784-100-10 SGD": (lambda lib: mlp([784, 100, 10], lib),
                           lambda lib, p: (optim.SGD if lib == "dlcore" else torch.optim.SGD)(p, lr=0.01),
                           (784,)),
    "MLP 784-512-512-10 Adam": (lambda lib: mlp([784, 512, 512, 10], lib),
                                lambda lib, p: (optim.Adam if lib == "dlcore" else torch.optim.Adam)(p, lr=1e-3),
                                (784,)),
    "MNIST CNN SGD+momentum": (cnn,
                               lambda lib, p: (optim.SGD if lib == "dlcore" else torch.optim.SGD)(p, lr=0.01,
                                                                                                  momentum=0.5),
                               (1, 28, 28)),
}


def step_case(name, batch, rng):
    make_model, make_opt, shape = NETWORKS[name]
    x = rng.random((batch,) + shape, dtype=np.float32)
    y = rng.integers(0, 10, batch)

    def build():
        dlcore.manual_seed(0)
        model = make_model("dlcore").to(T.DEVICE[0])
        opt = make_opt("dlcore", model.parameters())
        xd, yd = T.dl(x), T.dl(y)

        def dl_step():
            loss = F.cross_entropy(model(xd), yd)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return loss
        fns = {"dlcore": dl_step}
        if torch is not None:
            tmodel = make_model("torch")
            with torch.no_grad():  # the same weights
                for (_, p), tp in zip(model.named_parameters(), tmodel.parameters()):
                    tp.copy_(torch.from_numpy(T.as_numpy(p)))
            topt = make_opt("torch", tmodel.parameters())
            xt, yt = torch.from_numpy(x), torch.from_numpy(y)

            def torch_step():
                loss = torch.nn.functional.cross_entropy(tmodel(xt), yt)
                topt.zero_grad()
                loss.backward()
                topt.step()
                return loss
            model.eval(), tmodel.eval()  # the check runs without dropout
            with torch.no_grad(), dlcore.no_grad():
                a = F.cross_entropy(model(xd), yd).item()
                b = torch.nn.functional.cross_entropy(tmodel(xt), yt).item()
            model.train(), tmodel.train()
            assert abs(a - b) <= 1e-4 * (1 + abs(b)), f"{name}: loss {a} vs torch {b} from the same weights"
            fns["torch"] = torch_step
        return fns

    return {"name": f"{name} B{batch}", "shape": f"{batch}x{'x'.join(map(str, shape))}", "build": build,
            "images": batch}


def overhead_cases():
    def tiny_add():
        a, b = T.dl(np.ones(1, np.float32)), T.dl(np.ones(1, np.float32))
        fns = {"dlcore": lambda: a + b, "numpy": (lambda u, v: lambda: u + v)(np.ones(1), np.ones(1))}
        if torch is not None:
            ta, tb = torch.ones(1), torch.ones(1)
            fns["torch"] = lambda: ta + tb
        return fns

    def tiny_matmul():
        a = np.random.default_rng(0).random((4, 4), dtype=np.float32)
        da = T.dl(a)
        fns = {"dlcore": lambda: da @ da, "numpy": lambda: a @ a}
        if torch is not None:
            ta = torch.from_numpy(a)
            fns["torch"] = lambda: ta @ ta
        return fns

    def tiny_linear():
        layer = nn.Linear(4, 4).to(T.DEVICE[0])
        x = T.dl(np.ones((2, 4), np.float32))

        def dl():
            layer(x).sum().backward()
        fns = {"dlcore": dl}
        if torch is not None:
            tl = torch.nn.Linear(4, 4)
            tx = torch.ones(2, 4)
            fns["torch"] = lambda: tl(tx).sum().backward()
        return fns

    return [{"name": "tiny add", "shape": "1 + 1", "build": tiny_add},
            {"name": "tiny matmul", "shape": "4x4 @ 4x4", "build": tiny_matmul},
            {"name": "tiny Linear fwd+bwd", "shape": "2x4 -> 4", "build": tiny_linear}]


def cases(quick=False, seed=0):
    rng = np.random.default_rng(seed)
    batches = (64,) if quick else (64, 256)
    return [step_case(name, b, rng) for name in NETWORKS for b in batches] + overhead_cases()


def main(argv=None):
    rows = T.bench_main(__doc__, "training steps and per-op overhead, float32", cases, argv)
    return rows


if __name__ == "__main__":
    main()
