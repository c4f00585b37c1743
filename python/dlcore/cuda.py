"""The cuda device: available when dlcore was built with nvcc (the _C_cuda module)
and a CUDA device with a working driver is present."""
from . import _C

try:
    from . import _C_cuda as _backend
except ImportError:  # built without nvcc
    _backend = None

_registered = False


def _register():
    global _registered
    if not _registered and _backend is not None and _backend.device_count() > 0:
        _registered = bool(_backend.register(_C._register_backend))
    return _registered


def is_built():
    """Whether this dlcore was built with its CUDA module."""
    return _backend is not None


def is_available():
    """Whether tensors can be placed on 'cuda' now."""
    return _register()


def device_count():
    return _backend.device_count() if _backend is not None else 0


def _require(op):
    if not is_available():
        raise RuntimeError(f"[{op}] CUDA is not available: "
                           + ("no CUDA device or driver was found" if is_built()
                              else "dlcore was built without CUDA (nvcc not found at build time)"))


def synchronize(device=0):
    _require("synchronize")
    _backend.synchronize(device)


def get_device_properties(device=0):
    """name, capability, multiprocessors, free_bytes, total_bytes of a device."""
    _require("get_device_properties")
    return _backend.device_info(device)


def runtime_version():
    """The CUDA runtime version dlcore was linked with (e.g. 13000), or None without CUDA."""
    return _backend.runtime_version() if _backend is not None else None
