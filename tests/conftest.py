import os

# The cuda device exists in every test run: the GPU when there is one, else
# the SIMT emulator running the same CUDA kernels on the CPU.
if "DLCORE_CUDA" not in os.environ:
    try:
        from dlcore import _C_cuda
        os.environ["DLCORE_CUDA"] = "auto" if _C_cuda.device_count() > 0 else "emulate"
    except ImportError:
        os.environ["DLCORE_CUDA"] = "emulate"

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import dlcore  # noqa: E402
import backends  # noqa: E402

ISAS = dlcore.cpu_info()["supported_isas"]


@pytest.fixture(params=ISAS)
def isa(request):
    """Runs a test once per CPU ISA this machine supports (baseline, avx2, avx512)."""
    previous = dlcore.cpu_info()["isa"]
    dlcore.set_cpu_isa(request.param)
    yield request.param
    dlcore.set_cpu_isa(previous)


@pytest.fixture(params=backends.NAMES)
def backend(request):
    """Runs a kernel test once per backend: the CPU per ISA, and cuda. Tensors made with
    backends.tensor() land on its device; the fixture's value is that device."""
    previous = dlcore.cpu_info()["isa"]
    device = backends.activate(request.param)
    yield device
    backends.activate("cpu-" + previous)


@pytest.fixture(params=[1, 2])
def threads(request):
    """Runs a test with 1 and with 2 CPU threads (the partitioning code differs)."""
    previous = dlcore.get_num_threads()
    dlcore.set_num_threads(request.param)
    yield request.param
    dlcore.set_num_threads(previous)


@pytest.fixture
def rng():
    return np.random.default_rng(1234)
