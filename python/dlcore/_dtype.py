"""dtypes and devices, and their mapping to NumPy."""
import numpy as np

from . import _C

bool_ = _C.DType.bool
int32 = _C.DType.int32
int64 = _C.DType.int64
float32 = _C.DType.float32
float64 = _C.DType.float64
DType = _C.DType
# Printed as in PyTorch: dlcore.float32.
DType.__repr__ = DType.__str__ = DType.__format__ = lambda self, spec="": f"dlcore.{self.name}"
Device = _C.Device

_BY_NAME = {"bool": bool_, "int32": int32, "int64": int64, "float32": float32, "float64": float64}
_TO_NUMPY = {bool_: np.dtype(np.bool_), int32: np.dtype(np.int32), int64: np.dtype(np.int64),
             float32: np.dtype(np.float32), float64: np.dtype(np.float64)}


def dtype(spec):
    """A dlcore dtype from a dlcore dtype, a name ('float32'), a NumPy dtype or a Python type."""
    if isinstance(spec, DType):
        return spec
    if spec is float:
        return float32
    if spec is int:
        return int64
    if spec is bool:
        return bool_
    if isinstance(spec, str) and spec in _BY_NAME:
        return _BY_NAME[spec]
    try:
        npd = np.dtype(spec)
    except TypeError:
        raise TypeError(f"[dtype] expected a dtype (dlcore.float32, 'float32', np.float32, ...), got {spec!r}") from None
    for d, n in _TO_NUMPY.items():
        if n == npd:
            return d
    raise TypeError(f"[dtype] dlcore has no dtype for {npd} (bool, int32, int64, float32, float64)")


def to_numpy_dtype(d):
    return _TO_NUMPY[d]


def device(spec):
    """A Device from 'cpu', 'cuda', 'cuda:N' or a Device. The first cuda device named loads the
    CUDA backend (the GPU module, or the emulator with DLCORE_CUDA=emulate)."""
    if isinstance(spec, str):
        spec = Device(spec)
    elif not isinstance(spec, Device):
        raise TypeError(f"[device] expected 'cpu', 'cuda', 'cuda:N' or a dlcore.Device, got {spec!r}")
    if spec.type == "cuda":
        from . import cuda
        cuda._load()
    return spec


CPU = Device("cpu")
