import numpy as np
import pytest

import dlcore

ISAS = dlcore.cpu_info()["supported_isas"]


@pytest.fixture(params=ISAS)
def isa(request):
    """Runs a test once per CPU ISA this machine supports (baseline, avx2, avx512)."""
    previous = dlcore.cpu_info()["isa"]
    dlcore.set_cpu_isa(request.param)
    yield request.param
    dlcore.set_cpu_isa(previous)


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
