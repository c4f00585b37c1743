"""The cuda device.

Two backends can provide it, chosen by the environment variable DLCORE_CUDA
(read on first use):
  auto (default)  the real GPU backend (dlcore._C_cuda, built when nvcc was
                  found), when a CUDA device and driver are present;
  emulate         the same CUDA kernels built for the CPU SIMT emulator
                  (dlcore._C_cuda_emu): no GPU needed, no performance meaning,
                  but every kernel runs as CUDA code, with checks a GPU lacks;
  off             no cuda device.
"""
import os

from . import _C

_backend = None
_chosen = False


def _load():
    global _backend, _chosen
    if _chosen:
        return _backend
    _chosen = True
    mode = os.environ.get("DLCORE_CUDA", "auto").strip().lower()
    if mode not in ("auto", "emulate", "off"):
        raise ValueError(f"[cuda] DLCORE_CUDA must be auto, emulate or off, got {mode!r}")
    if mode == "emulate":
        from . import _C_cuda_emu as backend
    elif mode == "auto":
        try:
            from . import _C_cuda as backend
        except ImportError:  # built without nvcc
            return None
    else:
        return None
    if backend.device_count() > 0 and backend.register(_C._register_backend):
        _backend = backend
    return _backend


def is_built():
    """Whether this dlcore was built with its nvcc-compiled CUDA module."""
    try:
        from . import _C_cuda  # noqa: F401
    except ImportError:
        return False
    return True


def is_available():
    """Whether tensors can be placed on 'cuda' now (a GPU, or DLCORE_CUDA=emulate)."""
    return _load() is not None


def is_emulated():
    """Whether the cuda device is the CPU SIMT emulator."""
    return is_available() and _backend.emulated()


def device_count():
    return _backend.device_count() if is_available() else 0


def _require(op):
    if not is_available():
        raise RuntimeError(f"[{op}] CUDA is not available: "
                           + ("no CUDA device or driver was found" if is_built()
                              else "dlcore was built without nvcc")
                           + " (DLCORE_CUDA=emulate runs the CUDA kernels on the CPU)")
    return _backend


def synchronize(device=0):
    _require("synchronize").synchronize(device)


def get_device_properties(device=0):
    """name, capability, multiprocessors, free_bytes, total_bytes of a device."""
    return _require("get_device_properties").device_info(device)


def memory_stats(device=0):
    """The caching allocator's bytes: allocated (in tensors), reserved (allocated + cached), peak allocated."""
    return _require("memory_stats").memory_stats(device)


def reset_peak_memory_stats(device=0):
    _require("reset_peak_memory_stats").reset_peak_memory_stats(device)


def empty_cache():
    """Returns the cached, unused device memory to the driver."""
    _require("empty_cache").empty_cache()


class Event:
    """A point in a device's stream of work, for timing it as torch.cuda.Event does:
    start.record(); <launches>; end.record(); start.elapsed_time(end) is the device time between
    them in milliseconds (it waits for end). On the emulated device, the host time."""

    def __init__(self, device=0):
        self._device = device
        self._event = _require("Event").Event()

    def record(self):
        self._event.record(self._device)

    def synchronize(self):
        self._event.synchronize()

    def elapsed_time(self, end):
        if not isinstance(end, Event):
            raise TypeError(f"[cuda.Event.elapsed_time] expected an Event, got {type(end).__name__}")
        return self._event.elapsed_ms(end._event)


def runtime_version():
    """The CUDA runtime version dlcore was linked with (e.g. 13000), or None without CUDA."""
    try:
        from . import _C_cuda
    except ImportError:
        return None
    return _C_cuda.runtime_version()
