"""The Tensor: a thin Python face over dlcore._C.Tensor (storage, dtype, shape,
strides, offset). Every operation is one call into the op layer; views share
storage; NumPy and DLPack exchange data without copies on the CPU."""
import numbers
from collections import namedtuple

import numpy as np

from . import _C
from ._dtype import CPU, DType, Device, device as _device, dtype as _dtype, float32, int64, bool_, to_numpy_dtype

__all__ = ["Tensor", "tensor", "from_numpy", "from_dlpack", "zeros", "ones", "full", "empty", "arange", "rand",
           "randn", "zeros_like", "ones_like", "full_like", "empty_like", "rand_like", "randn_like", "manual_seed",
           "where", "clip", "addmm", "linear", "maximum", "minimum", "broadcast_to", "reshape", "transpose", "permute", "squeeze",
           "unsqueeze", "flatten"]

_DTYPE_NAMES = ("bool", "int32", "int64", "float32", "float64")
MinMax = namedtuple("MinMax", ["values", "indices"])


def _wrap(t):
    out = Tensor.__new__(Tensor)
    out._t = t
    return out


def _shape_arg(shape):
    """reshape(2, 3) and reshape((2, 3)) alike."""
    if len(shape) == 1 and not isinstance(shape[0], numbers.Integral):
        shape = shape[0]
    return [int(s) for s in shape]


_PY_NUMBERS = (float, int, bool)


def _py_scalar(x, op="fill"):
    """A NumPy scalar as the Python number of its kind, so promotion sees int vs float."""
    if type(x) in _PY_NUMBERS:  # the common case, without the slow abstract-class checks
        return x
    if isinstance(x, (bool, np.bool_)):
        return bool(x)
    if isinstance(x, numbers.Integral):
        return int(x)
    if isinstance(x, numbers.Real):
        return float(x)
    raise TypeError(f"[{op}] expected a real number, got {type(x).__name__}")


def _is_scalar(x):
    return type(x) in _PY_NUMBERS or (isinstance(x, (numbers.Number, np.bool_)) and not isinstance(x, Tensor))


def _dims(dim):
    if dim is None:
        return None
    if isinstance(dim, numbers.Integral):
        return [int(dim)]
    return [int(d) for d in dim]


class Tensor:
    """An n-dimensional array on a device (cpu, cuda) with a dtype."""

    __slots__ = ("_t",)
    __array_priority__ = 1000  # numpy_array + tensor calls Tensor.__radd__

    def __init__(self, data, dtype=None, device=None):
        self._t = tensor(data, dtype=dtype, device=device)._t

    # ---- attributes ----------------------------------------------------------
    @property
    def shape(self):
        return self._t.shape

    @property
    def dtype(self):
        return self._t.dtype

    @property
    def device(self):
        return self._t.device

    @property
    def ndim(self):
        return self._t.ndim

    @property
    def strides(self):
        """Strides in elements (NumPy's are in bytes)."""
        return self._t.strides

    @property
    def itemsize(self):
        return self._t.dtype.itemsize

    @property
    def nbytes(self):
        return self._t.numel * self._t.dtype.itemsize

    @property
    def T(self):
        return _wrap(_C.permute(self._t, list(range(self._t.ndim - 1, -1, -1))))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[dim]

    def dim(self):
        return self._t.ndim

    def numel(self):
        return self._t.numel

    def stride(self, dim=None):
        return self.strides if dim is None else self.strides[dim]

    def element_size(self):
        return self._t.dtype.itemsize

    def data_ptr(self):
        return self._t.data_ptr

    def is_contiguous(self):
        return self._t.is_contiguous()

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("[len] len() of a 0-d tensor")
        return self.shape[0]

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    # ---- conversion ----------------------------------------------------------
    def numpy(self):
        """A NumPy array sharing this tensor's memory (CPU tensors only)."""
        return _C.to_numpy(self._t)

    def __array__(self, dtype=None, copy=None):
        a = self.numpy()
        if dtype is not None and np.dtype(dtype) != a.dtype:
            if copy is False:
                raise ValueError("[__array__] a dtype change needs a copy, but copy=False was given")
            return a.astype(dtype)
        return a.copy() if copy else a

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        if dl_device is not None and tuple(dl_device) != self.__dlpack_device__():
            raise BufferError(f"[__dlpack__] the tensor is on {self.device}; cross-device export is not supported")
        if any(s < 0 for s in self.strides):
            # PyTorch cannot take negative strides (it aborts); copy first.
            raise BufferError("[__dlpack__] a view with negative strides cannot be exported; call .contiguous() first")
        t = _C.clone(self._t) if copy else self._t
        if self.device.type == "cuda":
            # dlcore's kernels run on its own stream: finish them before any consumer stream reads.
            from . import cuda
            cuda.synchronize(self.device.index)
        versioned = max_version is not None and max_version[0] >= 1
        return _C.to_dlpack(t, versioned)

    def __dlpack_device__(self):
        d = self.device
        return (1, 0) if d.type == "cpu" else (2, d.index)

    def item(self):
        if self.numel() != 1:
            raise ValueError(f"[item] expected a tensor with one element, got shape {self.shape}")
        return self.cpu().numpy().reshape(()).item()

    def tolist(self):
        return self.cpu().numpy().tolist()

    def __bool__(self):
        if self.numel() != 1:
            raise ValueError(f"[bool] the truth value of a tensor with {self.numel()} elements is ambiguous")
        return bool(self.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.dtype.is_floating_point or self.dtype == bool_:
            raise TypeError(f"[index] only integer tensors can be used as an index, got {self.dtype}")
        return int(self.item())

    def to(self, *args, dtype=None, device=None):
        """to(dtype), to(device), to(device, dtype): a copy when anything changes."""
        for a in args:
            if isinstance(a, (DType, np.dtype, type)) or (isinstance(a, str) and a in _DTYPE_NAMES):
                dtype = a
            else:
                device = a
        t = self._t
        if device is not None:
            t = _C.to_device(t, _device(device))
        if dtype is not None:
            t = _C.astype(t, _dtype(dtype))
        return _wrap(t)

    def cpu(self):
        return self.to(CPU)

    def cuda(self, index=0):
        return self.to(Device(f"cuda:{index}"))

    def astype(self, dtype):
        return _wrap(_C.astype(self._t, _dtype(dtype)))

    def float(self):
        return self.astype(float32)

    def double(self):
        return self.astype("float64")

    def long(self):
        return self.astype(int64)

    def int(self):
        return self.astype("int32")

    def bool(self):
        return self.astype(bool_)

    def __repr__(self):
        extra = ""
        if self.dtype not in (float32, int64, bool_):
            extra += f", dtype={self.dtype!r}"
        if self.device.type != "cpu":
            extra += f", device='{self.device}'"
        body = np.array2string(self.cpu().numpy(), separator=", ", prefix="tensor(")
        return f"tensor({body}{extra})"

    # ---- copies and in-place writes ------------------------------------------
    def contiguous(self):
        return _wrap(_C.contiguous(self._t))

    def clone(self):
        return _wrap(_C.clone(self._t))

    def copy_(self, src):
        if _is_scalar(src):
            _C.fill(self._t, _py_scalar(src))
        else:
            _C.copy_into(self._t, _as_tensor(src, like=self)._t)
        return self

    def fill_(self, value):
        _C.fill(self._t, _py_scalar(value))
        return self

    def zero_(self):
        return self.fill_(0)

    # ---- views ---------------------------------------------------------------
    def reshape(self, *shape):
        return _wrap(_C.reshape(self._t, _shape_arg(shape)))

    def view(self, *shape):
        return _wrap(_C.view(self._t, _shape_arg(shape)))

    def permute(self, *dims):
        return _wrap(_C.permute(self._t, _shape_arg(dims)))

    def transpose(self, dim0, dim1):
        return _wrap(_C.transpose(self._t, dim0, dim1))

    def expand(self, *shape):
        return _wrap(_C.expand(self._t, _shape_arg(shape)))

    def expand_as(self, other):
        return self.expand(other.shape)

    def broadcast_to(self, shape):
        return self.expand(shape)

    def squeeze(self, dim=None):
        return _wrap(_C.squeeze(self._t, _dims(dim)))

    def unsqueeze(self, dim):
        return _wrap(_C.unsqueeze(self._t, dim))

    def flatten(self, start_dim=0, end_dim=-1):
        return _wrap(_C.flatten(self._t, start_dim, end_dim))

    def as_strided(self, shape, strides, offset=None):
        return _wrap(_C.as_strided(self._t, list(shape), list(strides), self._t.offset if offset is None else offset))

    def __getitem__(self, key):
        return _wrap(_index(self._t, key))

    def __setitem__(self, key, value):
        Tensor.copy_(_wrap(_index(self._t, key)), value)

    # ---- arithmetic ----------------------------------------------------------
    def __add__(self, o): return _binary("add", self, o)
    def __radd__(self, o): return _binary("add", o, self)
    def __sub__(self, o): return _binary("sub", self, o)
    def __rsub__(self, o): return _binary("sub", o, self)
    def __mul__(self, o): return _binary("mul", self, o)
    def __rmul__(self, o): return _binary("mul", o, self)
    def __truediv__(self, o): return _binary("div", self, o)
    def __rtruediv__(self, o): return _binary("div", o, self)
    def __pow__(self, o): return _binary("pow", self, o)
    def __rpow__(self, o): return _binary("pow", o, self)
    def __eq__(self, o): return _binary("eq", self, o)
    def __ne__(self, o): return _binary("ne", self, o)
    def __lt__(self, o): return _binary("lt", self, o)
    def __le__(self, o): return _binary("le", self, o)
    def __gt__(self, o): return _binary("gt", self, o)
    def __ge__(self, o): return _binary("ge", self, o)
    def __and__(self, o): return _binary("logical_and", self, o)
    def __rand__(self, o): return _binary("logical_and", o, self)
    def __or__(self, o): return _binary("logical_or", self, o)
    def __ror__(self, o): return _binary("logical_or", o, self)
    def __xor__(self, o): return _binary("logical_xor", self, o)
    def __rxor__(self, o): return _binary("logical_xor", o, self)
    def __invert__(self):
        if self.dtype != bool_:
            raise TypeError(f"[invert] ~ is defined for bool tensors, got {self.dtype}")
        return _wrap(_C.logical_not(self._t))
    def __matmul__(self, o): return _wrap(_C.matmul(self._t, _as_tensor(o, like=self)._t))
    def __rmatmul__(self, o): return _wrap(_C.matmul(_as_tensor(o, like=self)._t, self._t))
    def __neg__(self): return _wrap(_C.neg(self._t))
    def __pos__(self): return self
    def __abs__(self): return _wrap(_C.abs(self._t))
    __hash__ = object.__hash__

    def __iadd__(self, o): return self.copy_(self + o)
    def __isub__(self, o): return self.copy_(self - o)
    def __imul__(self, o): return self.copy_(self * o)
    def __itruediv__(self, o): return self.copy_(self / o)

    def add(self, o): return _binary("add", self, o)
    def sub(self, o): return _binary("sub", self, o)
    def mul(self, o): return _binary("mul", self, o)
    def div(self, o): return _binary("div", self, o)
    def pow(self, o): return _binary("pow", self, o)
    def matmul(self, o, variant="fast"):
        """self @ o; variant="naive" runs the textbook triple loop (the oracle) instead of the packed kernel."""
        return _wrap(_C.matmul(self._t, _as_tensor(o, like=self)._t, variant))
    def maximum(self, o): return _binary("maximum", self, o)
    def minimum(self, o): return _binary("minimum", self, o)
    def eq(self, o): return _binary("eq", self, o)
    def ne(self, o): return _binary("ne", self, o)
    def lt(self, o): return _binary("lt", self, o)
    def le(self, o): return _binary("le", self, o)
    def gt(self, o): return _binary("gt", self, o)
    def ge(self, o): return _binary("ge", self, o)
    def logical_and(self, o): return _binary("logical_and", self, o)
    def logical_or(self, o): return _binary("logical_or", self, o)
    def logical_xor(self, o): return _binary("logical_xor", self, o)

    def neg(self): return _wrap(_C.neg(self._t))
    def abs(self): return _wrap(_C.abs(self._t))
    def sign(self): return _wrap(_C.sign(self._t))
    def square(self): return _wrap(_C.square(self._t))
    def reciprocal(self): return _wrap(_C.reciprocal(self._t))
    def exp(self): return _wrap(_C.exp(self._t))
    def log(self): return _wrap(_C.log(self._t))
    def sqrt(self): return _wrap(_C.sqrt(self._t))
    def rsqrt(self): return _wrap(_C.rsqrt(self._t))
    def logical_not(self): return _wrap(_C.logical_not(self._t))

    def clip(self, min=None, max=None):
        return _wrap(_C.clip(self._t, None if min is None else _py_scalar(min, "clip"),
                             None if max is None else _py_scalar(max, "clip")))

    clamp = clip

    # ---- reductions ----------------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        return _wrap(_C.sum(self._t, _dims(dim), keepdim))

    def mean(self, dim=None, keepdim=False):
        return _wrap(_C.mean(self._t, _dims(dim), keepdim))

    def var(self, dim=None, correction=1, keepdim=False):
        return _wrap(_C.var(self._t, _dims(dim), int(correction), keepdim))

    def std(self, dim=None, correction=1, keepdim=False):
        return self.var(dim, correction, keepdim).sqrt()

    def amax(self, dim=None, keepdim=False):
        return _wrap(_C.amax(self._t, _dims(dim), keepdim))

    def amin(self, dim=None, keepdim=False):
        return _wrap(_C.amin(self._t, _dims(dim), keepdim))

    def max(self, dim=None, keepdim=False):
        """The maximum; with an int dim, the (values, indices) pair along it, as in PyTorch."""
        if dim is None or not isinstance(dim, numbers.Integral):
            return self.amax(dim, keepdim)
        return MinMax(self.amax(dim, keepdim), self.argmax(dim, keepdim))

    def min(self, dim=None, keepdim=False):
        if dim is None or not isinstance(dim, numbers.Integral):
            return self.amin(dim, keepdim)
        return MinMax(self.amin(dim, keepdim), self.argmin(dim, keepdim))

    def argmax(self, dim=None, keepdim=False):
        return _wrap(_C.argmax(self._t, dim, keepdim))

    def argmin(self, dim=None, keepdim=False):
        return _wrap(_C.argmin(self._t, dim, keepdim))


# ---- helpers -------------------------------------------------------------------

_BINARY = {name: (getattr(_C, name), getattr(_C, name + "_scalar")) for name in (
    "add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge",
    "logical_and", "logical_or", "logical_xor")}


def _binary(name, a, b):
    fn, fn_scalar = _BINARY[name]
    if isinstance(a, Tensor):
        if isinstance(b, Tensor):
            return _wrap(fn(a._t, b._t))
        if _is_scalar(b):
            return _wrap(fn_scalar(a._t, _py_scalar(b), False))
        return _wrap(fn(a._t, _as_tensor(b, like=a)._t))
    if _is_scalar(a):
        return _wrap(fn_scalar(b._t, _py_scalar(a), True))
    return _wrap(fn(_as_tensor(a, like=b)._t, b._t))


def _as_tensor(x, like=None):
    """x itself if a Tensor, else a new tensor on like's device (arrays, lists)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, tuple)) or _is_scalar(x):
        return tensor(x, device=None if like is None else like.device)
    raise TypeError(f"[tensor] expected a Tensor, number, list or NumPy array, got {type(x).__name__}")


def _index(t, key):
    """Basic indexing (ints, slices, None, ...) as a chain of views."""
    if not isinstance(key, tuple):
        key = (key,)
    consuming = 0
    for k in key:
        if isinstance(k, (Tensor, np.ndarray, list)) or (isinstance(k, (bool, np.bool_))):
            raise IndexError("[getitem] indexing with tensors, arrays, lists or bools (advanced indexing) is not "
                             f"supported yet; got {type(k).__name__}")
        if k is not None and k is not Ellipsis:
            consuming += 1
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError("[getitem] an index can only have a single ellipsis ('...')")
    if consuming > t.ndim:
        raise IndexError(f"[getitem] too many indices for a tensor of dimension {t.ndim}: {consuming} given")
    dim = 0
    for k in key:
        if k is None:
            t = _C.unsqueeze(t, dim)
            dim += 1
        elif k is Ellipsis:
            dim += t.ndim - dim - consuming
        elif isinstance(k, slice):
            start = None if k.start is None else int(k.start)
            stop = None if k.stop is None else int(k.stop)
            t = _C.slice(t, dim, start, stop, 1 if k.step is None else int(k.step))
            dim += 1
            consuming -= 1
        elif isinstance(k, numbers.Integral) or (isinstance(k, Tensor) and k.ndim == 0):
            t = _C.select(t, dim, int(k))
            consuming -= 1
        else:
            raise IndexError(f"[getitem] expected int, slice, None or ..., got {type(k).__name__}")
    return t


# ---- factories ------------------------------------------------------------------

def _default_dtype_for(arr):
    """dlcore's dtype for a NumPy array built from Python data."""
    k = arr.dtype.kind
    if k == "b":
        return bool_
    if k in "iu":
        return int64
    if k == "f":
        return float32
    raise TypeError(f"[tensor] cannot make a tensor from data of NumPy dtype {arr.dtype}")


def tensor(data, dtype=None, device=None):
    """A new tensor holding a copy of `data` (nested lists, numbers, NumPy arrays, tensors).
    Python floats become float32, ints int64; NumPy arrays keep float64/int32 and other
    integer types become int64."""
    if isinstance(data, Tensor):
        out = data.clone()
        return out.to(dtype=dtype, device=device) if (dtype or device) else out
    if hasattr(data, "__dlpack__") and not isinstance(data, np.ndarray):
        return from_dlpack(data).clone().to(dtype=dtype, device=device)
    arr = np.asarray(data)
    if dtype is not None:
        dt = _dtype(dtype)
    elif isinstance(data, np.ndarray) and arr.dtype in (np.float64, np.int32):
        dt = _dtype(arr.dtype)
    else:
        dt = _default_dtype_for(arr)
    arr = np.asarray(arr, dtype=to_numpy_dtype(dt), order="C")
    out = _C.empty(list(arr.shape), dt, CPU)
    _C.copy_into(out, _C.from_numpy(arr))
    t = _wrap(out)
    return t if device is None else t.to(device)


def from_numpy(array):
    """A tensor sharing `array`'s memory (no copy). Read-only arrays are copied, since
    dlcore tensors are writable."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"[from_numpy] expected a NumPy array, got {type(array).__name__}")
    if not array.flags.writeable:
        array = array.copy()
    if not array.dtype.isnative:
        raise TypeError(f"[from_numpy] expected native byte order, got {array.dtype}; use array.astype(array.dtype.newbyteorder('='))")
    return _wrap(_C.from_numpy(array))


def from_dlpack(obj):
    """A tensor sharing the memory of any DLPack producer (NumPy, PyTorch, CuPy, ...)."""
    if isinstance(obj, Tensor):
        return _wrap(obj._t)  # the same memory, no capsule needed
    if hasattr(obj, "__dlpack__"):
        try:
            capsule = obj.__dlpack__(max_version=(1, 0))
        except TypeError:
            capsule = obj.__dlpack__()
    elif type(obj).__name__ == "PyCapsule":
        capsule = obj
    else:
        raise TypeError(f"[from_dlpack] expected an object with __dlpack__ or a DLPack capsule, got {type(obj).__name__}")
    return _wrap(_C.from_dlpack_capsule(capsule))


def _factory_device(device):
    return CPU if device is None else _device(device)


def empty(*shape, dtype=float32, device=None):
    return _wrap(_C.empty(_shape_arg(shape), _dtype(dtype), _factory_device(device)))


def full(shape, fill_value, dtype=None, device=None):
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    if dtype is None:
        dtype = bool_ if isinstance(fill_value, bool) else int64 if isinstance(fill_value, numbers.Integral) else float32
    return _wrap(_C.full([int(s) for s in shape], _py_scalar(fill_value, "full"), _dtype(dtype),
                         _factory_device(device)))


def zeros(*shape, dtype=float32, device=None):
    return full(_shape_arg(shape), 0, dtype, device)


def ones(*shape, dtype=float32, device=None):
    return full(_shape_arg(shape), 1, dtype, device)


def arange(start, stop=None, step=1, dtype=None, device=None):
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dtype = int64 if all(isinstance(v, numbers.Integral) for v in (start, stop, step)) else float32
    return _wrap(_C.arange(_py_scalar(start, "arange"), _py_scalar(stop, "arange"), _py_scalar(step, "arange"),
                           _dtype(dtype), _factory_device(device)))


def rand(*shape, dtype=float32, device=None):
    """Uniform in [0, 1) from the global counter-based generator (see manual_seed)."""
    return _wrap(_C.rand(_shape_arg(shape), _dtype(dtype), _factory_device(device)))


def randn(*shape, dtype=float32, device=None):
    """Standard normal from the global counter-based generator (see manual_seed)."""
    return _wrap(_C.randn(_shape_arg(shape), _dtype(dtype), _factory_device(device)))


def _like(fn, t, dtype, device, *args):
    return fn(t.shape, *args, dtype=t.dtype if dtype is None else dtype, device=t.device if device is None else device)


def empty_like(t, dtype=None, device=None):
    return _like(lambda s, dtype, device: empty(s, dtype=dtype, device=device), t, dtype, device)


def zeros_like(t, dtype=None, device=None):
    return _like(lambda s, dtype, device: zeros(s, dtype=dtype, device=device), t, dtype, device)


def ones_like(t, dtype=None, device=None):
    return _like(lambda s, dtype, device: ones(s, dtype=dtype, device=device), t, dtype, device)


def full_like(t, fill_value, dtype=None, device=None):
    return _like(lambda s, v, dtype, device: full(s, v, dtype=dtype, device=device), t, dtype, device, fill_value)


def rand_like(t, dtype=None, device=None):
    return _like(lambda s, dtype, device: rand(s, dtype=dtype, device=device), t, dtype, device)


def randn_like(t, dtype=None, device=None):
    return _like(lambda s, dtype, device: randn(s, dtype=dtype, device=device), t, dtype, device)


def manual_seed(seed):
    """Seeds the global generator: every later rand/randn draw is then reproducible."""
    _C.manual_seed(int(seed) & 0xFFFFFFFFFFFFFFFF)


# ---- functions mirroring the methods ---------------------------------------------

def where(cond, a, b):
    """Elementwise `a if cond else b`, broadcasting all three; a or b may be numbers."""
    like = cond if isinstance(cond, Tensor) else (a if isinstance(a, Tensor) else b)
    if _is_scalar(a) and isinstance(b, Tensor):
        a = full((), _py_scalar(a), dtype=_scalar_dtype_against(a, b), device=b.device)
    if _is_scalar(b) and isinstance(a, Tensor):
        b = full((), _py_scalar(b), dtype=_scalar_dtype_against(b, a), device=a.device)
    c, a, b = (_as_tensor(x, like=like) for x in (cond, a, b))
    return _wrap(_C.where(c._t, a._t, b._t))


def _scalar_dtype_against(s, t):
    """The dtype a Python scalar takes beside tensor t (it only lifts the category)."""
    if isinstance(s, float) and not t.dtype.is_floating_point:
        return float32
    if isinstance(s, numbers.Integral) and not isinstance(s, bool) and t.dtype == bool_:
        return int64
    return t.dtype


def clip(x, min=None, max=None):
    return x.clip(min, max)


def addmm(input, mat1, mat2, *, beta=1, alpha=1):
    """beta * input + alpha * (mat1 @ mat2), input broadcast to the result (PyTorch's addmm), in one pass."""
    return _wrap(_C.gemm(mat1._t, _as_tensor(mat2, like=mat1)._t, _as_tensor(input, like=mat1)._t, float(alpha),
                         float(beta), None, False, "identity"))


def linear(x, weight, bias=None, activation=None):
    """activation(x @ weight.T + bias): a dense layer as one fused GEMM (weight is (out, in),
    as in PyTorch). activation: None or the name of one of dlcore.functional's activations
    ("relu", "sigmoid", "tanh", "gelu", "gelu_tanh", "silu", "elu", "leaky_relu", ...), with
    PyTorch's default parameters; it runs on each tile of the result while it is in cache.
    weight.T is a view: nothing is copied."""
    return _wrap(_C.gemm(x._t, weight.T._t, None, 1.0, 0.0, None if bias is None else bias._t, False,
                         activation or "identity"))


def maximum(a, b):
    return _binary("maximum", a, b)


def minimum(a, b):
    return _binary("minimum", a, b)


def broadcast_to(x, shape):
    return x.expand(shape)


def reshape(x, *shape):
    return x.reshape(*shape)


def transpose(x, dim0, dim1):
    return x.transpose(dim0, dim1)


def permute(x, *dims):
    return x.permute(*dims)


def squeeze(x, dim=None):
    return x.squeeze(dim)


def unsqueeze(x, dim):
    return x.unsqueeze(dim)


def flatten(x, start_dim=0, end_dim=-1):
    return x.flatten(start_dim, end_dim)

