"""dlcore: a small deep-learning library whose every hot path is a hand-written
kernel (C++ with OpenMP and SIMD on the CPU, CUDA on NVIDIA GPUs)."""
from . import _C
from ._dtype import DType, Device, bool_, device, dtype, float32, float64, int32, int64
from .tensor import *  # noqa: F401,F403  (Tensor, factories, functions)
from .tensor import __all__ as _tensor_all
from .functions import *  # noqa: F401,F403  (dlcore.exp(x), dlcore.sum(x, dim), ...)
from .functions import __all__ as _functions_all
from . import autograd
from .autograd import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from . import cuda
from . import functional
from . import nn
from . import data
from . import optim
from .checkpoint import load_checkpoint, save_checkpoint
from .training import evaluate, fit, plot_history, predict

__version__ = "0.1.0"


def set_num_threads(n):
    """Sets the number of OpenMP threads dlcore's CPU kernels use (default: DLCORE_NUM_THREADS, else all cores)."""
    _C.set_num_threads(int(n))


def get_num_threads():
    return _C.num_threads()


def cpu_info():
    """What the CPU backend runs: the ISA chosen (override with DLCORE_CPU_ISA), those
    available, the thread count and whether OpenMP is on."""
    return {"isa": _C.cpu_isa(), "supported_isas": list(_C.supported_cpu_isas()),
            "num_threads": _C.num_threads(), "openmp": _C.openmp()}


def set_cpu_isa(name):
    """Switches the CPU kernels to 'baseline', 'avx2' or 'avx512' (if supported) at run time."""
    _C.set_cpu_isa(name)


__all__ = ["DType", "Device", "bool_", "device", "dtype", "float32", "float64", "int32", "int64", "cuda", "functional",
           "autograd", "nn", "data", "optim", "fit", "evaluate", "predict", "plot_history", "save_checkpoint",
           "load_checkpoint", "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
           "set_num_threads", "get_num_threads", "cpu_info", "set_cpu_isa"] + list(_tensor_all) + list(_functions_all)
