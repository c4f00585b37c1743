"""Module-level forms of the Tensor methods: dlcore.exp(x) is x.exp(). Kept in
their own module since sum, max, min and abs would shadow Python's builtins."""
from .tensor import _as_tensor


def _method_function(name):
    def fn(x, *args, **kwargs):
        return getattr(_as_tensor(x), name)(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"dlcore.{name}(x, ...) is x.{name}(...)."
    return fn


_FUNCTIONS = ("matmul", "add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or",
              "logical_xor", "logical_not", "neg", "abs", "sign", "square", "reciprocal", "exp", "log", "sqrt",
              "rsqrt", "sum", "mean", "var", "std", "amax", "amin", "max", "min", "argmax", "argmin", "contiguous",
              "clone")
for _name in _FUNCTIONS:
    globals()[_name] = _method_function(_name)
__all__ = list(_FUNCTIONS)
