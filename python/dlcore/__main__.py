"""`python -m dlcore`: a short tour of what this build of dlcore can do."""
import time

import numpy as np

import dlcore


def main():
    info = dlcore.cpu_info()
    print(f"dlcore {dlcore.__version__}: CPU kernels for {info['isa']} "
          f"(available: {', '.join(info['supported_isas'])}), {info['num_threads']} OpenMP thread(s)")
    cuda = ("available, " + str(dlcore.cuda.device_count()) + " device(s)") if dlcore.cuda.is_available() else (
        "built, no device" if dlcore.cuda.is_built() else "not built")
    print(f"CUDA: {cuda}")

    dlcore.manual_seed(0)
    x = dlcore.randn(4, 3)
    print("\nx = dlcore.randn(4, 3)\n", x, sep="")
    print("x.T.shape, x.T.strides:", x.T.shape, x.T.strides, "(a view: no copy)")
    print("x[1:, ::2] =", x[1:, ::2].tolist())
    b = dlcore.tensor([1.0, 10.0, 100.0])
    print("x * b (broadcast) row 0 =", (x * b)[0].tolist())
    print("x.sum(dim=0) =", x.sum(dim=0).tolist())
    print("x.max(dim=1) =", x.max(dim=1))
    print("softmax rows sum to", (x.exp() / x.exp().sum(1, keepdim=True)).sum(1).tolist())

    a = np.asarray(x)  # shares memory with x
    a[0, 0] = 42.0
    print("after writing through np.asarray(x):", x[0, 0].item())

    n = 1 << 24
    big = dlcore.rand(n)
    ref = big.numpy()
    for name, fn, npfn in (("exp", dlcore.exp, np.exp), ("sum", dlcore.sum, np.sum)):
        fn(big)
        t0 = time.perf_counter()
        fn(big)
        t1 = time.perf_counter()
        npfn(ref)
        t2 = time.perf_counter()
        print(f"{name} of {n} float32: dlcore {1e3 * (t1 - t0):.2f} ms, NumPy {1e3 * (t2 - t1):.2f} ms")


if __name__ == "__main__":
    main()
