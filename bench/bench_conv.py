"""Convolution microbenchmarks: dlcore vs NumPy (im2col with sliding_window_view + matmul)
vs torch when importable, float32, NCHW.

    cd /work/main && PYTHONPATH=python python bench/bench_conv.py [--threads 1,2] [--quick] [--json out.json]

Cases: the layers of the course notes' MNIST CNN (LeNet-like) at batch 64 -- conv1 1->10 k5
on 28x28, conv2 10->20 k5 on 12x12 -- a CIFAR-like layer (batch 64, 32->64 channels, 3x3 pad 1,
32x32) and a ResNet-like one (batch 32, 64->64, 3x3 pad 1, 56x56), each forward,
backward-input (dx) and backward-weight (dw); --quick runs the LeNet layers only. GF/s counts the
convolution's 2 * N * OC * OH * OW * (C / groups) * KH * KW flops for every pass. Results
are checked against a float64 NumPy reference first. dl/np and dl/torch are time ratios
(< 1: dlcore faster).
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


def np_conv(x, w, pad):
    """y = conv2d(x, w) (stride 1) by im2col: the patches as a strided view, one tensordot."""
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    patches = swv(xp, w.shape[2:], axis=(2, 3))  # (N, C, OH, OW, KH, KW)
    return np.tensordot(patches, w, axes=([1, 4, 5], [1, 2, 3])).transpose(0, 3, 1, 2)


def np_conv_dx(dy, w, pad, x_shape):
    """dx: the full convolution of dy with the flipped kernel."""
    k = w.shape[2]
    dyp = np.pad(dy, ((0, 0), (0, 0), (k - 1 - pad, k - 1 - pad), (k - 1 - pad, k - 1 - pad)))
    return np_conv(dyp, w[:, :, ::-1, ::-1].transpose(1, 0, 2, 3), 0)[:, :, :x_shape[2], :x_shape[3]]


def np_conv_dw(dy, x, pad, k):
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    patches = swv(xp, (k, k), axis=(2, 3))  # (N, C, OH, OW, KH, KW)
    return np.tensordot(dy, patches, axes=([0, 2, 3], [0, 2, 3]))


def case(name, n, c, hw, oc, k, pad, rng, pass_):
    x = rng.standard_normal((n, c, hw, hw), dtype=np.float32)
    w = (rng.standard_normal((oc, c, k, k)) / np.sqrt(c * k * k)).astype(np.float32)
    oh = hw + 2 * pad - k + 1
    dy = rng.standard_normal((n, oc, oh, oh), dtype=np.float32)
    flops = 2 * n * oc * oh * oh * c * k * k

    def build():
        dx_, dw_, ddy = T.dl(x), T.dl(w), T.dl(dy)
        if pass_ == "fwd":
            fns = {"dlcore": lambda: F.conv2d(dx_, dw_, padding=pad), "numpy": lambda: np_conv(x, w, pad)}
            ref = np_conv(x.astype(np.float64), w.astype(np.float64), pad)
        elif pass_ == "dx":
            fns = {"dlcore": lambda: F.conv2d_backward_input(ddy, dw_, x.shape, padding=pad),
                   "numpy": lambda: np_conv_dx(dy, w, pad, x.shape)}
            ref = np_conv_dx(dy.astype(np.float64), w.astype(np.float64), pad, x.shape)
        else:
            fns = {"dlcore": lambda: F.conv2d_backward_weight(ddy, dx_, w.shape, padding=pad),
                   "numpy": lambda: np_conv_dw(dy, x, pad, k)}
            ref = np_conv_dw(dy.astype(np.float64), x.astype(np.float64), pad, k)
        if torch is not None:
            tx, tw, tdy = (torch.from_numpy(v).clone() for v in (x, w, dy))
            g = torch.nn.grad
            fns["torch"] = {"fwd": lambda: torch.nn.functional.conv2d(tx, tw, padding=pad),
                            "dx": lambda: g.conv2d_input(x.shape, tw, tdy, padding=pad),
                            "dw": lambda: g.conv2d_weight(tx, w.shape, tdy, padding=pad)}[pass_]
        scale = np.abs(ref).max() + 1
        for cname, fn in fns.items():
            np.testing.assert_allclose(T.as_numpy(fn()), ref, rtol=1e-4, atol=1e-4 * scale, err_msg=f"{name} {cname}")
        return fns

    return {"name": f"{name} {pass_}", "shape": f"{n}x{c}x{hw}x{hw} * {oc}x{c}x{k}x{k}", "flops": flops,
            "build": build}


def cases(quick=False, seed=0):
    rng = np.random.default_rng(seed)
    layers = [("mnist conv1", 64, 1, 28, 10, 5, 0), ("mnist conv2", 64, 10, 12, 20, 5, 0)]
    if not quick:
        layers += [("cifar 3x3", 64, 32, 32, 64, 3, 1), ("resnet 3x3", 32, 64, 56, 64, 3, 1)]
    return [case(name, n, c, hw, oc, k, pad, rng, p) for name, n, c, hw, oc, k, pad in layers
            for p in ("fwd", "dx", "dw")]


def main(argv=None):
    T.bench_main(__doc__, "conv2d float32", cases, argv)


if __name__ == "__main__":
    main()
