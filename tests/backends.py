"""The backends every kernel test runs on: the CPU once per ISA, and the cuda
device (a GPU, or the SIMT emulator). The `backend` fixture activates one;
tensor() and array() move data to and from its device."""
import numpy as np

import dlcore

NAMES = [f"cpu-{isa}" for isa in dlcore.cpu_info()["supported_isas"]] + (
    ["cuda"] if dlcore.cuda.is_available() else [])

_device = "cpu"


def activate(name):
    """Selects a backend by name ('cpu-avx2', 'cuda') and returns its device."""
    global _device
    if name.startswith("cpu-"):
        dlcore.set_cpu_isa(name[4:])
        _device = "cpu"
    else:
        _device = name
    return _device


def device():
    return _device


def tensor(a):
    """A tensor on the active backend holding a copy of NumPy array a (dtype and shape kept)."""
    a = np.array(a, copy=True)
    t = dlcore.from_numpy(a)
    assert np.dtype(t.numpy().dtype) == a.dtype and t.shape == a.shape
    return t if _device == "cpu" else t.to(_device)


def array(t):
    """A private NumPy copy of tensor t, from any device."""
    return np.array(t.cpu().numpy(), copy=True)
