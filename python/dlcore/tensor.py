"""The Tensor: a thin Python face over dlcore._C.Tensor (storage, dtype, shape,
strides, offset). Every operation is one call into the op layer; views share
storage; NumPy and DLPack exchange data without copies on the CPU. When an input
requires a gradient, each differentiable op also records its backward (see
autograd.py): the formulas below, written as kernel calls on dlcore._C tensors."""
import numbers
from collections import namedtuple

import numpy as np

from . import _C
from .autograd import _mode, needs_grad, record
from ._dtype import CPU, DType, Device, device as _device, dtype as _dtype, float32, int64, bool_, to_numpy_dtype

__all__ = ["Tensor", "tensor", "from_numpy", "from_dlpack", "zeros", "ones", "full", "empty", "arange", "rand",
           "randn", "zeros_like", "ones_like", "full_like", "empty_like", "rand_like", "randn_like", "manual_seed",
           "where", "clip", "addmm", "linear", "maximum", "minimum", "broadcast_to", "reshape", "transpose", "permute", "squeeze",
           "unsqueeze", "flatten", "cat", "concatenate", "stack", "split", "chunk", "unbind", "index_select",
           "index_add"]

_DTYPE_NAMES = ("bool", "int32", "int64", "float32", "float64")
MinMax = namedtuple("MinMax", ["values", "indices"])


def _wrap(t):
    out = _new(Tensor)
    out._t = t
    out._requires_grad = False
    out.grad = None
    out.grad_fn = None
    out._out_nr = 0
    out._hooks = None
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

    # grad_fn: the autograd Node that made this tensor (None for leaves), _out_nr: which of its
    # outputs it is; _hooks: a leaf's gradient hooks.
    __slots__ = ("_t", "_requires_grad", "grad", "grad_fn", "_out_nr", "_hooks", "__weakref__")
    __array_priority__ = 1000  # numpy_array + tensor calls Tensor.__radd__

    def __init__(self, data, dtype=None, device=None, requires_grad=False):
        self._t = tensor(data, dtype=dtype, device=device)._t
        self.grad = self.grad_fn = self._hooks = None
        self._out_nr = 0
        self._requires_grad = False
        if requires_grad:
            self.requires_grad = True

    # ---- autograd ------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag):
        if self.grad_fn is not None:
            raise RuntimeError("[requires_grad] only a leaf's requires_grad can be set; use .detach() to cut a "
                               "tensor from its graph")
        if flag and not self.dtype.is_floating_point:
            raise TypeError(f"[requires_grad] only floating-point tensors can require grad, got {self.dtype}")
        self._requires_grad = bool(flag)

    def requires_grad_(self, flag=True):
        self.requires_grad = flag
        return self

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def data(self):
        """This tensor's values with no graph attached (shares memory)."""
        return self.detach()

    @data.setter
    def data(self, value):
        self._t = value._t

    def detach(self):
        """The same memory, cut from the graph: a leaf that does not require grad."""
        return _wrap(self._t)

    def backward(self, gradient=None, retain_graph=False):
        """Accumulates d self / d leaf into every leaf's .grad (gradient: d loss / d self, implied 1 for a
        single-element tensor). The graph is freed unless retain_graph=True."""
        from .autograd import backward
        backward(self, gradient, retain_graph)

    def register_hook(self, hook):
        """hook(grad) runs when this tensor's gradient is computed; it may return a replacement."""
        if not self._requires_grad:
            raise RuntimeError("[register_hook] the tensor does not require grad")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            if self.grad_fn.hooks is None:
                self.grad_fn.hooks = {}
            hooks = self.grad_fn.hooks.setdefault(self._out_nr, [])
        hooks.append(hook)
        return _HookHandle(hooks, hook)

    def retain_grad(self):
        """Keeps this non-leaf tensor's gradient in .grad after backward (leaves always keep theirs)."""
        if self.grad_fn is None:
            return
        import weakref
        ref = weakref.ref(self)

        def keep(g):
            t = ref()
            if t is not None:
                t.grad = g.clone() if t.grad is None else t.grad + g
        self.register_hook(keep)

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
        return self.permute(list(range(self._t.ndim - 1, -1, -1)))

    @property
    def mT(self):
        return self.transpose(-2, -1)

    def size(self, dim=None):
        return self.shape if dim is None else self.shape[_dim_index(int(dim), self.ndim, "size")]

    def dim(self):
        return self._t.ndim

    def numel(self):
        return self._t.numel

    def stride(self, dim=None):
        return self.strides if dim is None else self.strides[_dim_index(int(dim), self.ndim, "stride")]

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
        """to(dtype), to(device), to(device, dtype): a copy when anything changes, else self."""
        for a in args:
            if isinstance(a, (DType, np.dtype, type)) or (isinstance(a, str) and a in _DTYPE_NAMES):
                dtype = a
            else:
                device = a
        t = self._t
        if device is not None and _device(device) != t.device:
            t = _C.to_device(t, _device(device))
        if dtype is not None and _dtype(dtype) != t.dtype:
            t = _C.astype(t, _dtype(dtype))
        if t is self._t:
            return self
        src = self._t
        return _op("to", t, (self,), lambda g: _like_source(g, src))

    def cpu(self):
        return self.to(CPU)

    def cuda(self, index=0):
        return self.to(Device(f"cuda:{index}"))

    def astype(self, dtype):
        """A copy converted to dtype (always a new tensor, as in NumPy)."""
        src = self._t
        return _op("astype", _C.astype(src, _dtype(dtype)), (self,), lambda g: _like_source(g, src))

    def float(self):
        return self.to(float32)

    def double(self):
        return self.to("float64")

    def long(self):
        return self.to(int64)

    def int(self):
        return self.to("int32")

    def bool(self):
        return self.to(bool_)

    def __repr__(self):
        extra = ""
        if self.dtype not in (float32, int64, bool_):
            extra += f", dtype={self.dtype!r}"
        if self.device.type != "cpu":
            extra += f", device='{self.device}'"
        if self.grad_fn is not None:
            extra += f", grad_fn={self.grad_fn!r}"
        elif self._requires_grad:
            extra += ", requires_grad=True"
        body = np.array2string(self.cpu().numpy(), separator=", ", prefix="tensor(")
        return f"tensor({body}{extra})"

    # ---- copies and in-place writes ------------------------------------------
    def contiguous(self):
        out = _C.contiguous(self._t)
        if out is self._t or out.data_ptr == self._t.data_ptr:
            return self
        return _op("contiguous", out, (self,), _identity)

    def clone(self):
        return _op("clone", _C.clone(self._t), (self,), _identity)

    def copy_(self, src):
        _check_inplace(self, "copy_")
        if _is_scalar(src):
            _C.fill(self._t, _py_scalar(src))
        else:
            _C.copy_into(self._t, _as_tensor(src, like=self)._t)
        return self

    def fill_(self, value):
        _check_inplace(self, "fill_")
        _C.fill(self._t, _py_scalar(value))
        return self

    def zero_(self):
        return self.fill_(0)

    # ---- views ---------------------------------------------------------------
    def reshape(self, *shape):
        return _reshaped(_C.reshape(self._t, _shape_arg(shape)), self, "reshape")

    def view(self, *shape):
        return _reshaped(_C.view(self._t, _shape_arg(shape)), self, "view")

    def permute(self, *dims):
        dims = _shape_arg(dims)
        inverse = [0] * len(dims)
        for i, d in enumerate(dims):
            inverse[d % len(dims)] = i
        return _op("permute", _C.permute(self._t, dims), (self,), lambda g: _C.permute(g, inverse))

    def transpose(self, dim0, dim1):
        return _op("transpose", _C.transpose(self._t, dim0, dim1), (self,), lambda g: _C.transpose(g, dim0, dim1))

    def expand(self, *shape):
        src_shape = self.shape
        return _op("expand", _C.expand(self._t, _shape_arg(shape)), (self,), lambda g: _sum_to(g, src_shape))

    def expand_as(self, other):
        return self.expand(other.shape)

    def broadcast_to(self, shape):
        return self.expand(shape)

    def squeeze(self, dim=None):
        return _reshaped(_C.squeeze(self._t, _dims(dim)), self, "squeeze")

    def unsqueeze(self, dim):
        return _reshaped(_C.unsqueeze(self._t, dim), self, "unsqueeze")

    def flatten(self, start_dim=0, end_dim=-1):
        return _reshaped(_C.flatten(self._t, start_dim, end_dim), self, "flatten")

    def as_strided(self, shape, strides, offset=None):
        if needs_grad(self):
            raise RuntimeError("[as_strided] is not differentiable (its views may overlap); call it on .detach()")
        return _wrap(_C.as_strided(self._t, list(shape), list(strides), self._t.offset if offset is None else offset))

    def __getitem__(self, key):
        if _has_index_arrays(key):
            return _advanced_getitem(self, key)
        shape, dtype, device = self.shape, self.dtype, self.device

        def backward(g):  # the gradient lands in the indexed part of a zero tensor of the input's shape
            out = _C.full(list(shape), 0, dtype, device)
            _C.copy_into(_index(out, key), g)
            return out
        return _op("getitem", _index(self._t, key), (self,), backward)

    def __setitem__(self, key, value):
        _check_inplace(self, "setitem")
        Tensor.copy_(_wrap(_index(self._t, key, "setitem")), value)

    def index_select(self, dim, index):
        return index_select(self, dim, index)

    def index_add(self, dim, index, source):
        return index_add(self, dim, index, source)

    def split(self, split_size_or_sections, dim=0):
        return split(self, split_size_or_sections, dim)

    def chunk(self, chunks, dim=0):
        return chunk(self, chunks, dim)

    def unbind(self, dim=0):
        return unbind(self, dim)

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
    def __matmul__(self, o):
        if isinstance(o, Tensor) and not (_mode.enabled and (self._requires_grad or o._requires_grad)):
            return _wrap(_C.matmul(self._t, o._t, "fast"))  # the common case first: nothing to record
        return _matmul(self, _as_tensor(o, like=self))

    def __rmatmul__(self, o): return _matmul(_as_tensor(o, like=self), self)
    def __neg__(self): return self.neg()
    def __pos__(self): return self
    def __abs__(self): return self.abs()
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
        return _matmul(self, _as_tensor(o, like=self), variant)
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

    def neg(self): return _unary("neg", self)
    def abs(self): return _unary("abs", self)
    def sign(self): return _unary("sign", self)
    def square(self): return _unary("square", self)
    def reciprocal(self): return _unary("reciprocal", self)
    def exp(self): return _unary("exp", self)
    def log(self): return _unary("log", self)
    def sqrt(self): return _unary("sqrt", self)
    def rsqrt(self): return _unary("rsqrt", self)
    def logical_not(self): return _wrap(_C.logical_not(self._t))

    def clip(self, min=None, max=None):
        lo = None if min is None else _py_scalar(min, "clip")
        hi = None if max is None else _py_scalar(max, "clip")
        x = self._t

        def backward(g):  # the gradient passes where lo <= x <= hi
            inside = _C.logical_and(_C.ge_scalar(x, lo if lo is not None else -np.inf, False),
                                    _C.le_scalar(x, hi if hi is not None else np.inf, False))
            return _C.mul(g, _C.astype(inside, g.dtype))
        return _op("clip", _C.clip(x, lo, hi), (self,), backward)

    clamp = clip

    # ---- activations as methods (dlcore.functional has them all) -------------
    def relu(self):
        from .functional import relu
        return relu(self)

    def sigmoid(self):
        from .functional import sigmoid
        return sigmoid(self)

    def tanh(self):
        from .functional import tanh
        return tanh(self)

    def softmax(self, dim):
        from .functional import softmax
        return softmax(self, dim)

    def log_softmax(self, dim):
        from .functional import log_softmax
        return log_softmax(self, dim)

    # ---- reductions ----------------------------------------------------------
    def sum(self, dim=None, keepdim=False):
        dims, shape = _dims(dim), self.shape
        return _op("sum", _C.sum(self._t, dims, keepdim), (self,),
                   lambda g: _expand_reduced(g, shape, dims, keepdim))

    def mean(self, dim=None, keepdim=False):
        dims, shape = _dims(dim), self.shape
        out = _C.mean(self._t, dims, keepdim)
        count = max(self.numel() // max(out.numel, 1), 1)
        return _op("mean", out, (self,),
                   lambda g: _expand_reduced(_C.mul_scalar(g, 1.0 / count, False), shape, dims, keepdim))

    def var(self, dim=None, correction=1, keepdim=False):
        dims, shape, x = _dims(dim), self.shape, self._t
        out = _C.var(x, dims, int(correction), keepdim)

        def backward(g):  # 2 (x - mean) / (n - correction)
            count = self.numel() // max(out.numel, 1)
            centred = _C.sub(x, _C.mean(x, dims, True))
            scale = 2.0 / (count - correction) if count > correction else float("nan")
            return _C.mul(centred, _expand_reduced(_C.mul_scalar(g, scale, False), shape, dims, keepdim))
        return _op("var", out, (self,), backward)

    def std(self, dim=None, correction=1, keepdim=False):
        return self.var(dim, correction, keepdim).sqrt()

    def amax(self, dim=None, keepdim=False):
        return _extreme("amax", self, _dims(dim), keepdim)

    def amin(self, dim=None, keepdim=False):
        return _extreme("amin", self, _dims(dim), keepdim)

    def max(self, dim=None, keepdim=False):
        """The maximum; with an int dim, the (values, indices) pair along it, as in PyTorch. The
        gradient of a maximum shared by several entries is split evenly among them."""
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


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


_new = object.__new__


# ---- autograd helpers: the backward formulas work on dlcore._C tensors ----------------------

def _op(name, out_t, inputs, backward):
    """The kernel result out_t as a Tensor; when an input needs a gradient, it records `backward`."""
    out = _wrap(out_t)
    if needs_grad(*inputs):
        record(name, out, inputs, backward)
    return out


def _identity(g):
    return g


def _check_inplace(t, op):
    if t._requires_grad and _mode.enabled:
        raise RuntimeError(f"[{op}] in-place write into a tensor that requires grad (a leaf, or part of a "
                           "recorded graph); do it under dlcore.no_grad(), or write x = x + y instead of x += y")


def _like_source(g, src):
    """g moved back to src's device and dtype (the backward of to / astype)."""
    if g.device != src.device:
        g = _C.to_device(g, src.device)
    return g if g.dtype == src.dtype else _C.astype(g, src.dtype)


def _reshaped(out_t, x, name):
    shape = x.shape
    return _op(name, out_t, (x,), lambda g: _C.reshape(g, list(shape)))


def _sum_to(g, shape):
    """g summed over the dims that broadcasting added or stretched, to the given shape."""
    shape = tuple(shape)
    if tuple(g.shape) == shape:
        return g
    lead = g.ndim - len(shape)
    dims = list(range(lead)) + [lead + i for i, s in enumerate(shape) if s == 1 and g.shape[lead + i] != 1]
    return _C.reshape(_C.sum(g, dims, True), list(shape)) if dims else _C.reshape(g, list(shape))


def _expand_reduced(g, shape, dims, keepdim):
    """The gradient of a reduction over dims, sent back to every element of the input's shape."""
    if not keepdim:
        nd = len(shape)
        reduced = set(range(nd)) if dims is None else {d % nd for d in dims} if nd else set()
        g = _C.reshape(g, [1 if i in reduced else s for i, s in enumerate(shape)])
    return _C.expand(g, list(shape))


def _extreme(name, x, dims, keepdim):
    """amax / amin: the gradient goes to the entries equal to the result, split evenly among ties."""
    out = getattr(_C, name)(x._t, dims, keepdim)
    src, shape = x._t, x.shape

    def backward(g):
        hit = _C.astype(_C.eq(src, _expand_reduced(out, shape, dims, keepdim)), g.dtype)
        count = _C.sum(hit, dims, True)
        return _C.div(_C.mul(hit, _expand_reduced(g, shape, dims, keepdim)), count)
    return _op(name, out, (x,), backward)


_UNARY_GRADS = {  # d/dx of each unary op, from its input x and output y
    "neg": lambda g, x, y: _C.neg(g),
    "abs": lambda g, x, y: _C.mul(g, _C.sign(x)),
    "sign": lambda g, x, y: _C.mul_scalar(g, 0.0, False),
    "square": lambda g, x, y: _C.mul(g, _C.mul_scalar(x, 2.0, False)),
    "reciprocal": lambda g, x, y: _C.neg(_C.mul(g, _C.mul(y, y))),
    "exp": lambda g, x, y: _C.mul(g, y),
    "log": lambda g, x, y: _C.div(g, x),
    "sqrt": lambda g, x, y: _C.div(_C.mul_scalar(g, 0.5, False), y),
    "rsqrt": lambda g, x, y: _C.mul(_C.mul_scalar(g, -0.5, False), _C.mul(y, _C.mul(y, y))),
}


def _unary(name, x):
    src = x._t
    out = getattr(_C, name)(src)
    grad = _UNARY_GRADS[name]
    return _op(name, out, (x,), lambda g: grad(g, src, out))


def _binary_grads(name, g, a, b, out, need_a, need_b):
    """(d/da, d/db) of a binary op, before reduction to the operands' shapes."""
    if name == "add":
        return g, g
    if name == "sub":
        return g, (_C.neg(g) if need_b else None)
    if name == "mul":
        return (_C.mul(g, b) if need_a else None), (_C.mul(g, a) if need_b else None)
    if name == "div":
        ga = _C.div(g, b) if need_a else None
        return ga, (_C.neg(_C.mul(g, _C.div(out, b))) if need_b else None)
    if name == "pow":  # a^b: b a^(b-1) and a^b log a
        ga = _C.mul(g, _C.mul(b, _C.pow(a, _C.sub_scalar(b, 1, False)))) if need_a else None
        return ga, (_C.mul(g, _C.mul(out, _C.log(a))) if need_b else None)
    # maximum / minimum: the gradient goes to the winner, half to each on a tie
    wins = _C.astype(_C.gt(a, b) if name == "maximum" else _C.lt(a, b), g.dtype)
    share = _C.add(wins, _C.mul_scalar(_C.astype(_C.eq(a, b), g.dtype), 0.5, False))
    ga = _C.mul(g, share) if need_a else None
    return ga, (_C.sub(g, _C.mul(g, share)) if need_b else None)


_DIFFERENTIABLE = frozenset(("add", "sub", "mul", "div", "pow", "maximum", "minimum"))


# ---- helpers -------------------------------------------------------------------

_BINARY = {name: (getattr(_C, name), getattr(_C, name + "_scalar")) for name in (
    "add", "sub", "mul", "div", "pow", "maximum", "minimum", "eq", "ne", "lt", "le", "gt", "ge",
    "logical_and", "logical_or", "logical_xor")}


def _binary(name, a, b):
    fn, fn_scalar = _BINARY[name]
    if isinstance(a, Tensor) and isinstance(b, Tensor) and not (
            _mode.enabled and (a._requires_grad or b._requires_grad) and name in _DIFFERENTIABLE):
        return _wrap(fn(a._t, b._t))  # the common case first: two tensors, nothing to record
    if isinstance(a, Tensor) and isinstance(b, Tensor):
        out = fn(a._t, b._t)
    elif isinstance(a, Tensor) and _is_scalar(b):
        out = fn_scalar(a._t, _py_scalar(b), False)
    elif isinstance(b, Tensor) and _is_scalar(a):
        out = fn_scalar(b._t, _py_scalar(a), True)
    else:
        a, b = (a, _as_tensor(b, like=a)) if isinstance(a, Tensor) else (_as_tensor(a, like=b), b)
        out = fn(a._t, b._t)
    ta = a if isinstance(a, Tensor) else None
    tb = b if isinstance(b, Tensor) else None
    if name not in _DIFFERENTIABLE or not needs_grad(ta, tb):
        return _wrap(out)
    # A Python number operand takes part in the formulas as a 0-d tensor of the result's dtype.
    at = ta._t if ta is not None else _C.full([], _py_scalar(a), out.dtype, out.device)
    bt = tb._t if tb is not None else _C.full([], _py_scalar(b), out.dtype, out.device)
    need_a, need_b = ta is not None and ta._requires_grad, tb is not None and tb._requires_grad

    def backward(g):
        ga, gb = _binary_grads(name, g, at, bt, out, need_a, need_b)
        return (_reduce_grad(ga, at) if need_a else None), (_reduce_grad(gb, bt) if need_b else None)
    return record(name, _wrap(out), (ta, tb), backward)


def _reduce_grad(g, like):
    """A gradient of a broadcast result, summed back to the operand's shape and cast to its dtype."""
    g = _sum_to(g, like.shape)
    return g if g.dtype == like.dtype else _C.astype(g, like.dtype)


def _matmul(a, b, variant="fast"):
    """a @ b with NumPy's rules (1-D operands, broadcast batch dims); backward: g @ b^T and a^T @ g."""
    at, bt = a._t, b._t
    out = _C.matmul(at, bt, variant)
    if not needs_grad(a, b):
        return _wrap(out)
    need_a, need_b = a._requires_grad, b._requires_grad

    def backward(g):
        # Back to the matrix forms: a vector a is a row (1, k), a vector b a column (k, 1).
        a2 = at if at.ndim > 1 else _C.unsqueeze(at, 0)
        b2 = bt if bt.ndim > 1 else _C.unsqueeze(bt, 1)
        if bt.ndim == 1:
            g = _C.unsqueeze(g, g.ndim)
        if at.ndim == 1:
            g = _C.unsqueeze(g, g.ndim - 1)
        ga = gb = None
        if need_a:
            ga = _C.reshape(_sum_to(_C.matmul(g, _C.transpose(b2, -1, -2)), a2.shape), list(at.shape))
        if need_b:
            gb = _C.reshape(_sum_to(_C.matmul(_C.transpose(a2, -1, -2), g), b2.shape), list(bt.shape))
        return ga, gb
    return record("matmul", _wrap(out), (a, b), backward)


def _as_tensor(x, like=None):
    """x itself if a Tensor, else a new tensor on like's device (arrays, lists)."""
    if isinstance(x, Tensor):
        return x
    if isinstance(x, (np.ndarray, list, tuple)) or _is_scalar(x):
        return tensor(x, device=None if like is None else like.device)
    raise TypeError(f"[tensor] expected a Tensor, number, list or NumPy array, got {type(x).__name__}")


def _is_index_array(k):
    """An advanced index: a list, an array or tensor of integers or bools (a 0-d integer one is an int)."""
    if isinstance(k, Tensor):
        return k.ndim > 0 or k.dtype == bool_
    if isinstance(k, np.ndarray):
        return k.ndim > 0 or k.dtype == np.bool_
    return isinstance(k, list)


def _has_index_arrays(key):
    return any(_is_index_array(k) for k in (key if isinstance(key, tuple) else (key,)))


def _advanced_getitem(x, key):
    """x[key] with integer or bool arrays among the indices, by NumPy's rules: the basic part of
    the key as views, then the indexed dims (moved to the front when the arrays sit apart) merged
    into one and gathered by the index_select kernel -- differentiable through both. The index
    arrays are broadcast, checked and combined into one row number per result on the host."""
    entries = []  # ("basic", k) or ("array", int64 ndarray), a k-d bool mask giving k arrays
    masks = []    # (position of its first array, mask shape)
    for k in (key if isinstance(key, tuple) else (key,)):
        _reject_bool_scalar(k, "getitem")
        if isinstance(k, numbers.Integral) or (isinstance(k, (Tensor, np.ndarray)) and k.ndim == 0):
            k = np.asarray(int(k), np.int64)  # beside index arrays an int is one more (NumPy's rule)
        if not isinstance(k, (Tensor, np.ndarray, list)):
            entries.append(("basic", k))
            continue
        a = k.cpu().numpy() if isinstance(k, Tensor) else np.asarray(k)
        if a.dtype == np.bool_:
            masks.append((len(entries), a.shape))
            entries += [("array", i.astype(np.int64)) for i in np.nonzero(a)]
        elif a.dtype.kind in "iu" or a.size == 0:
            entries.append(("array", a.astype(np.int64)))
        else:
            raise IndexError(f"[getitem] index arrays must hold integers or bools, got {a.dtype}")
    consuming = sum(1 for kind, k in entries if kind == "array" or (k is not None and k is not Ellipsis))
    if consuming > x.ndim:
        raise IndexError(f"[getitem] too many indices for a tensor of dimension {x.ndim}: {consuming} given")
    dims, dim = [], 0  # the dims of the basic result (arrays replaced by ':') that the arrays index
    for kind, k in entries:
        if kind == "array":
            dims.append(dim)
        dim += 1 if kind == "array" or k is None or isinstance(k, slice) else (
            x.ndim - consuming if k is Ellipsis else 0)
    t = x[tuple(slice(None) if kind == "array" else k for kind, k in entries)] if len(dims) < len(entries) else x
    d = dims[0]
    if dims != list(range(d, d + len(dims))):  # arrays apart: their dims go first (NumPy's rule)
        t = t.permute(*dims, *(i for i in range(t.ndim) if i not in dims))
        d = 0
    arrays = [a for kind, a in entries if kind == "array"]
    sizes = tuple(t.shape[d:d + len(arrays)])
    firsts = [i for i, (kind, _) in enumerate(entries) if kind == "array"]
    for first, shape in masks:
        at = firsts.index(first)
        got = sizes[at:at + len(shape)]
        if tuple(shape) != got:
            raise IndexError(f"[getitem] a bool mask of shape {tuple(shape)} does not match the indexed dims {got}")
    try:
        arrays = np.broadcast_arrays(*arrays) if len(arrays) > 1 else arrays
    except ValueError:
        raise IndexError("[getitem] index arrays of shapes " + ", ".join(str(a.shape) for a in arrays) +
                         " cannot be broadcast together") from None
    for i, (a, n) in enumerate(zip(arrays, sizes)):
        lo, hi = (int(a.min()), int(a.max())) if a.size else (0, -1)
        if lo < -n or hi >= n:
            raise IndexError(f"[getitem] index {lo if lo < -n else hi} is out of bounds for dim {dims[i]} of size {n}")
    rows = np.ravel_multi_index(tuple(a % max(n, 1) for a, n in zip(arrays, sizes)), sizes) if arrays[0].size \
        else np.zeros(arrays[0].shape, np.int64)
    merged = t.reshape(t.shape[:d] + (int(np.prod(sizes)),) + t.shape[d + len(sizes):])
    out = index_select(merged, d, tensor(rows.reshape(-1).astype(np.int64), device=x.device))
    return out.reshape(t.shape[:d] + rows.shape + t.shape[d + len(sizes):])


def _reject_bool_scalar(k, op):
    if isinstance(k, (bool, np.bool_)):
        raise IndexError(f"[{op}] a bool scalar is not a supported index; index with a bool array")


def _index(t, key, op="getitem"):
    """Basic indexing (ints, slices, None, ...) as a chain of views."""
    if not isinstance(key, tuple):
        key = (key,)
    consuming = 0
    for k in key:
        _reject_bool_scalar(k, op)
        if _is_index_array(k):  # getitem takes them elsewhere: only assignments arrive here with them
            raise IndexError(f"[{op}] assignment through integer or bool arrays is not supported; use "
                             f"where() or index_add(), got a {type(k).__name__} index")
        if k is not None and k is not Ellipsis:
            consuming += 1
    if sum(k is Ellipsis for k in key) > 1:
        raise IndexError(f"[{op}] an index can only have a single ellipsis ('...')")
    if consuming > t.ndim:
        raise IndexError(f"[{op}] too many indices for a tensor of dimension {t.ndim}: {consuming} given")
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
            raise IndexError(f"[{op}] expected int, slice, None or ..., got {type(k).__name__}")
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


def _leaf(t, requires_grad):
    return t.requires_grad_() if requires_grad else t


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of `data` (nested lists, numbers, NumPy arrays, tensors).
    Python floats become float32, ints int64; NumPy arrays keep float64/int32 and other
    integer types become int64."""
    if isinstance(data, Tensor):
        out = _wrap(_C.clone(data._t))
        return _leaf(out.to(dtype=dtype, device=device) if (dtype or device) else out, requires_grad)
    if hasattr(data, "__dlpack__") and not isinstance(data, np.ndarray):
        return _leaf(from_dlpack(data).clone().to(dtype=dtype, device=device), requires_grad)
    try:
        arr = np.asarray(data)
    except ValueError as e:  # ragged nesting
        raise ValueError(f"[tensor] expected data of a regular (rectangular) shape: {e}") from None
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
    return _leaf(t if device is None else t.to(device), requires_grad)


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


def empty(*shape, dtype=float32, device=None, requires_grad=False):
    return _leaf(_wrap(_C.empty(_shape_arg(shape), _dtype(dtype), _factory_device(device))), requires_grad)


def full(shape, fill_value, dtype=None, device=None, requires_grad=False):
    if isinstance(shape, numbers.Integral):
        shape = (shape,)
    if dtype is None:
        dtype = bool_ if isinstance(fill_value, bool) else int64 if isinstance(fill_value, numbers.Integral) else float32
    return _leaf(_wrap(_C.full([int(s) for s in shape], _py_scalar(fill_value, "full"), _dtype(dtype),
                               _factory_device(device))), requires_grad)


def zeros(*shape, dtype=float32, device=None, requires_grad=False):
    return full(_shape_arg(shape), 0, dtype, device, requires_grad)


def ones(*shape, dtype=float32, device=None, requires_grad=False):
    return full(_shape_arg(shape), 1, dtype, device, requires_grad)


def arange(start, stop=None, step=1, dtype=None, device=None):
    if stop is None:
        start, stop = 0, start
    if dtype is None:
        dtype = int64 if all(isinstance(v, numbers.Integral) for v in (start, stop, step)) else float32
    return _wrap(_C.arange(_py_scalar(start, "arange"), _py_scalar(stop, "arange"), _py_scalar(step, "arange"),
                           _dtype(dtype), _factory_device(device)))


def rand(*shape, dtype=float32, device=None, requires_grad=False):
    """Uniform in [0, 1) from the global counter-based generator (see manual_seed)."""
    return _leaf(_wrap(_C.rand(_shape_arg(shape), _dtype(dtype), _factory_device(device))), requires_grad)


def randn(*shape, dtype=float32, device=None, requires_grad=False):
    """Standard normal from the global counter-based generator (see manual_seed)."""
    return _leaf(_wrap(_C.randn(_shape_arg(shape), _dtype(dtype), _factory_device(device))), requires_grad)


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
    """Seeds the global generator: every later rand/randn draw is then reproducible. Any integer
    is taken modulo 2**64 (so -1 is 2**64 - 1, as in PyTorch)."""
    if not isinstance(seed, numbers.Integral) or isinstance(seed, bool):
        raise TypeError(f"[manual_seed] expected an integer seed, got {type(seed).__name__}")
    _C.manual_seed(int(seed) & 0xFFFFFFFFFFFFFFFF)


# ---- functions mirroring the methods ---------------------------------------------

def where(cond, a, b):
    """Elementwise `a if cond else b`, broadcasting all three; a or b may be numbers. A numeric
    cond counts as true where it is nonzero (NumPy's rule)."""
    like = cond if isinstance(cond, Tensor) else (a if isinstance(a, Tensor) else b)
    if _is_scalar(a) and isinstance(b, Tensor):
        a = full((), _py_scalar(a), dtype=_scalar_dtype_against(a, b), device=b.device)
    if _is_scalar(b) and isinstance(a, Tensor):
        b = full((), _py_scalar(b), dtype=_scalar_dtype_against(b, a), device=a.device)
    c, a, b = (_as_tensor(x, like=like) for x in (cond, a, b))
    ct, at, bt = c._t, a._t, b._t
    out = _C.where(ct, at, bt)

    def backward(g):
        zero = _C.full([], 0, g.dtype, g.device)
        ga = _reduce_grad(_C.where(ct, g, zero), at) if a._requires_grad else None
        return None, ga, (_reduce_grad(_C.where(ct, zero, g), bt) if b._requires_grad else None)
    return _op("where", out, (c, a, b), backward)


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
    c, m1, m2 = _as_tensor(input, like=mat1), mat1, _as_tensor(mat2, like=mat1)
    alpha, beta = float(alpha), float(beta)
    out = _C.gemm(m1._t, m2._t, c._t, alpha, beta, None, False, "identity")

    def backward(g):
        gc = _reduce_grad(_C.mul_scalar(g, beta, False), c._t) if c._requires_grad else None
        g1 = _C.mul_scalar(_C.matmul(g, _C.transpose(m2._t, 0, 1)), alpha, False) if m1._requires_grad else None
        g2 = _C.mul_scalar(_C.matmul(_C.transpose(m1._t, 0, 1), g), alpha, False) if m2._requires_grad else None
        return gc, g1, g2
    return _op("addmm", out, (c, m1, m2), backward)


# Activations whose derivative the backward kernels take from the output: linear() keeps them
# fused in the GEMM's epilogue when it records a graph. The others need the pre-activation,
# which the fused GEMM never stores, so linear() then runs them as their own op.
_OUTPUT_GRAD_ACTIVATIONS = {"identity": None, "relu": "relu_backward", "sigmoid": "sigmoid_backward",
                            "tanh": "tanh_backward", "elu": "elu_backward", "selu": "selu_backward"}


def linear(x, weight, bias=None, activation=None):
    """activation(x @ weight.T + bias): a dense layer as one fused GEMM (weight is (out, in),
    as in PyTorch). activation: None or the name of one of dlcore.functional's activations
    ("relu", "sigmoid", "tanh", "gelu", "gelu_tanh", "silu", "elu", "leaky_relu", ...), with
    PyTorch's default parameters; it runs on each tile of the result while it is in cache.
    weight.T is a view: nothing is copied. x may have any number of leading dims.

    Backward: g is first taken through the activation's derivative (a kernel on the saved
    output), then dx = g @ weight, dweight = g^T @ x (over all leading dims), dbias = sum of g."""
    act = activation or "identity"
    inputs = (x, weight, bias)
    xt, wt = x._t, weight._t
    bt = None if bias is None else bias._t
    if not needs_grad(*inputs):
        return _wrap(_C.gemm(xt, _C.transpose(wt, 0, 1), None, 1.0, 0.0, bt, False, act))
    if act not in _OUTPUT_GRAD_ACTIVATIONS:
        from . import functional
        return functional.activation(linear(x, weight, bias), act)
    out = _C.gemm(xt, _C.transpose(wt, 0, 1), None, 1.0, 0.0, bt, False, act)
    act_backward = _OUTPUT_GRAD_ACTIVATIONS[act]

    def backward(g):
        if act_backward is not None:
            g = getattr(_C, act_backward)(g, out)
        g2 = _C.reshape(g, [-1, g.shape[-1]])
        gx = _C.reshape(_C.matmul(g2, wt), list(xt.shape)) if x._requires_grad else None
        gw = None
        if weight._requires_grad:
            gw = _C.matmul(_C.transpose(g2, 0, 1), _C.reshape(xt, [-1, xt.shape[-1]]))
        gb = _C.sum(g2, [0], False) if bias is not None and bias._requires_grad else None
        return gx, gw, gb
    return record("linear", _wrap(out), inputs, backward)


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



# ---- joining and splitting ---------------------------------------------------------

def _dim_index(dim, ndim, op):
    if not -ndim <= dim < ndim:
        raise IndexError(f"[{op}] dim {dim} is out of range for {ndim}-d tensors")
    return dim % ndim


def cat(tensors, dim=0):
    """The tensors joined along dim (same dtype and device; equal sizes in the other dims): each is
    copied into its slice of the result by the copy kernel; backward hands each its slice of g."""
    tensors = [t if isinstance(t, Tensor) else tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("[cat] expected a non-empty sequence of tensors")
    first = tensors[0]
    d = _dim_index(int(dim), max(first.ndim, 1), "cat")
    for i, t in enumerate(tensors):
        if t.ndim != first.ndim or t.dtype != first.dtype or t.device != first.device or any(
                a != b for k, (a, b) in enumerate(zip(t.shape, first.shape)) if k != d):
            raise ValueError(f"[cat] tensor {i} has shape {tuple(t.shape)}, {t.dtype} on {t.device}; expected "
                             f"shape {tuple(first.shape)} (any size in dim {d}), {first.dtype} on {first.device}")
    if first.ndim == 0:
        raise ValueError("[cat] zero-dimensional tensors cannot be concatenated; use stack")
    sizes = [t.shape[d] for t in tensors]
    shape = list(first.shape)
    shape[d] = sum(sizes)
    out = _C.empty(shape, first.dtype, first.device)
    starts = np.cumsum([0] + sizes).tolist()
    for t, lo, hi in zip(tensors, starts, starts[1:]):
        _C.copy_into(_C.slice(out, d, lo, hi, 1), t._t)
    return _op("cat", out, tensors,
               lambda g: tuple(_C.slice(g, d, lo, hi, 1) for lo, hi in zip(starts, starts[1:])))


concatenate = cat


def stack(tensors, dim=0):
    """The tensors (all of one shape) along a new dim."""
    tensors = [t if isinstance(t, Tensor) else tensor(t) for t in tensors]
    if not tensors:
        raise ValueError("[stack] expected a non-empty sequence of tensors")
    for i, t in enumerate(tensors):
        if t.shape != tensors[0].shape:
            raise ValueError(f"[stack] expected tensors of one shape; tensor 0 has {tuple(tensors[0].shape)}, "
                             f"tensor {i} has {tuple(t.shape)}")
    d = _dim_index(int(dim), tensors[0].ndim + 1, "stack")
    return cat([t.unsqueeze(d) for t in tensors], d)


def _index_arg(index, x, op):
    """index as an integer tensor on x's device."""
    if isinstance(index, Tensor):
        return index
    a = np.asarray(index)
    if a.dtype.kind not in "iu" and a.size:
        raise TypeError(f"[{op}] expected an integer index, got {a.dtype}")
    return tensor(a.astype(np.int64), device=x.device)


def index_select(x, dim, index):
    """x's entries at the positions `index` (1-D, integers; negative count from the end) along
    dim, repeats allowed: the row-gather kernel. Backward: index_add of g into zeros (repeated
    rows accumulate)."""
    idx = _index_arg(index, x, "index_select")
    shape, dtype, device = list(x.shape), x.dtype, x.device
    return _op("index_select", _C.index_select(x._t, int(dim), idx._t), (x,),
               lambda g: _C.index_add(_C.full(shape, 0, dtype, device), int(dim), idx._t, g))


def index_add(x, dim, index, source):
    """A copy of x with source's rows added at the positions `index` along dim (source has x's
    shape with dim of len(index)); repeated positions accumulate, as np.add.at. Backward: g for
    x, g's rows at `index` for source."""
    idx = _index_arg(index, x, "index_add")
    source = _as_tensor(source, like=x)
    return _op("index_add", _C.index_add(x._t, int(dim), idx._t, source._t), (x, source),
               lambda g: (g, _C.index_select(g, int(dim), idx._t)))


def split(x, split_size_or_sections, dim=0):
    """Views of x along dim: pieces of split_size (the last may be smaller) or of the given sizes.
    One graph node has them all as outputs, so backward assembles one gradient for x."""
    d = _dim_index(int(dim), max(x.ndim, 1), "split")
    n = x.shape[d]
    if isinstance(split_size_or_sections, numbers.Integral):
        size = int(split_size_or_sections)
        if size <= 0:
            raise ValueError(f"[split] expected a positive split size, got {size}")
        sizes = [min(size, n - lo) for lo in range(0, n, size)] or [0]
    else:
        sizes = [int(s) for s in split_size_or_sections]
        if sum(sizes) != n or any(s < 0 for s in sizes):
            raise ValueError(f"[split] sizes {sizes} do not add up to dim {d}'s size {n}")
    starts = np.cumsum([0] + sizes).tolist()
    pieces = tuple(_wrap(_C.slice(x._t, d, lo, hi, 1)) for lo, hi in zip(starts, starts[1:]))
    if not needs_grad(x):
        return pieces
    shape, dtype, device = list(x.shape), x.dtype, x.device

    def backward(grads):
        if not isinstance(grads, list):  # a node of one output receives its gradient alone
            grads = [grads]
        out = _C.empty(shape, dtype, device)
        for g, lo, hi in zip(grads, starts, starts[1:]):
            part = _C.slice(out, d, lo, hi, 1)
            if g is None:
                _C.fill(part, 0)
            else:
                _C.copy_into(part, g)
        return out
    return record("split", pieces, (x,), backward)


def chunk(x, chunks, dim=0):
    """x split into `chunks` pieces of equal size along dim (the last may be smaller)."""
    if int(chunks) <= 0:
        raise ValueError(f"[chunk] expected a positive number of chunks, got {chunks}")
    n = x.shape[_dim_index(int(dim), max(x.ndim, 1), "chunk")]
    return split(x, max(-(-n // int(chunks)), 1), dim)


def unbind(x, dim=0):
    """The slices of x along dim, with that dim removed."""
    d = _dim_index(int(dim), max(x.ndim, 1), "unbind")
    return tuple(p.squeeze(d) for p in split(x, 1, d))
