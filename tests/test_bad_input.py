"""Bad input to every public callable of dlcore gives a clean Python exception whose message names
the function and what it expected: wrong ranks and shapes, wrong dtypes, tensors on two devices,
zero or negative sizes, out-of-range labels and indices, non-finite hyper-parameters. Never a crash,
a hang or a silent result.

The public callables are enumerated by introspection (each module's __all__, the Tensor methods that
take arguments); test_every_public_callable_has_a_bad_input_case fails when one of them has no case
in CASES below and is not in NO_BAD_INPUT (with the reason), so a new function cannot escape the
sweep."""
import inspect
import math
import re
import types

import numpy as np
import pytest

import dlcore
import dlcore.functional as F
from dlcore import autograd, data, nn, optim, training
from dlcore.data import transforms
from dlcore.nn import init
from dlcore.optim import lr_scheduler

NAN, INF = math.nan, math.inf


# ---- the public surface -------------------------------------------------------------------------

def _public(prefix, module):
    """prefix.name for each callable in module.__all__ that is not a submodule."""
    return {f"{prefix}.{n}" for n in module.__all__
            if callable(getattr(module, n)) and not isinstance(getattr(module, n), types.ModuleType)}


def _tensor_methods():
    """Tensor.name for each public method (and indexing) that takes an argument besides self."""
    names = set()
    for n in dir(dlcore.Tensor):
        if n.startswith("_") and n not in ("__getitem__", "__setitem__"):
            continue
        attr = inspect.getattr_static(dlcore.Tensor, n)
        if isinstance(attr, property) or not callable(getattr(dlcore.Tensor, n)):
            continue
        if len(inspect.signature(getattr(dlcore.Tensor, n)).parameters) > 1:
            names.add(f"Tensor.{n}")
    return names


def public_callables():
    return (_public("dlcore", dlcore) | _public("F", F) | _public("nn", nn) | _public("init", init)
            | _public("optim", optim) | _public("lr_scheduler", lr_scheduler) | _public("data", data)
            | _public("transforms", transforms) | _public("training", training) | _public("autograd", autograd)
            | _tensor_methods())


# Callables that take no argument, or no argument that can be wrong; each with the reason.
NO_BAD_INPUT = {
    "dlcore.DType": "the dtype objects' class; dtypes come from dlcore.dtype(name), which is covered",
    "dlcore.Device": "the device objects' class; devices come from dlcore.device(name), which is covered",
    "dlcore.get_num_threads": "takes no argument",
    "dlcore.cpu_info": "takes no argument",
    "dlcore.no_grad": "takes no argument",
    "dlcore.enable_grad": "takes no argument",
    "dlcore.is_grad_enabled": "takes no argument",
    "autograd.no_grad": "takes no argument",
    "autograd.enable_grad": "takes no argument",
    "autograd.is_grad_enabled": "takes no argument",
    "autograd.GradcheckError": "an exception class",
    "autograd.Node": "built by the ops themselves, never by users",
    "data.IDXError": "an exception class",
    "data.DownloadError": "an exception class",
    "data.data_dirs": "takes no argument",
    "data.Dataset": "an abstract base class without constructor arguments",
    "training.History": "takes no argument",
    "training.Callback": "a base class without constructor arguments",
    "optim.NonNeg": "takes no argument",
    "transforms.Compose": "takes any callables; a non-callable fails when called, as a TypeError of Python's",
    "Tensor.register_hook": "takes any callable",
    "Tensor.requires_grad_": "takes any truth value",
    "dlcore.set_grad_enabled": "takes any truth value",
    "autograd.set_grad_enabled": "takes any truth value",
    "data.mnist": "takes flags only (any truth value); missing and hostile files: test_data.py, test_hostile_files.py",
    "data.fashion_mnist": "takes flags only (any truth value); missing and hostile files: test_data.py, "
                          "test_hostile_files.py",
    "data.mnist_5k": "takes a flag only (any truth value)",
    "data.digits": "takes a flag only (any truth value)",
}

# ---- the cases ------------------------------------------------------------------------------------

CASES = []


def bad(key, exc, match, fn, *marks):
    """One case: fn() must raise exc (one class or a tuple) with a message matching the regex match
    (searched case-insensitively)."""
    CASES.append(pytest.param(key, exc, match, fn, marks=marks))


def t(*shape, dtype="float32", device="cpu"):
    return dlcore.zeros(*shape, dtype=dtype, device=device)


def labels(*values):
    return dlcore.tensor(list(values), dtype="int64")


def cuda(*shape, dtype="float32"):
    return t(*shape, dtype=dtype, device="cuda")


def param(*shape):
    p = nn.Parameter(dlcore.randn(*shape))
    p.grad = dlcore.ones(*shape)
    return p


def sgd():
    return optim.SGD([param(2)], lr=0.1)


# -- top-level dlcore: factories, conversions and tensor functions
bad("dlcore.tensor", (TypeError, ValueError), r"\[tensor\]", lambda: dlcore.tensor([[1.0], [2.0, 3.0]]))
bad("dlcore.tensor", (ValueError, TypeError), r"dtype", lambda: dlcore.tensor([1.0], dtype="float16"))
bad("dlcore.Tensor", (ValueError, TypeError), r"tensor", lambda: dlcore.Tensor({"a": 1}))
bad("dlcore.from_numpy", TypeError, r"from_numpy.*dtype", lambda: dlcore.from_numpy(np.zeros(3, np.complex64)))
bad("dlcore.from_numpy", TypeError, r"from_numpy", lambda: dlcore.from_numpy([1, 2]))
bad("dlcore.from_dlpack", TypeError, r"dlpack", lambda: dlcore.from_dlpack(3))
for _f in ("zeros", "ones", "empty", "rand", "randn"):
    bad(f"dlcore.{_f}", ValueError, r"negative|expected", lambda f=_f: getattr(dlcore, f)(2, -1))
    bad(f"dlcore.{_f}", (ValueError, TypeError), r"dtype", lambda f=_f: getattr(dlcore, f)(2, dtype="complex"))
bad("dlcore.full", ValueError, r"negative|expected", lambda: dlcore.full((-2,), 1.0))
bad("dlcore.full", TypeError, r"full|fill", lambda: dlcore.full((2,), "x"))
bad("dlcore.arange", ValueError, r"arange.*step", lambda: dlcore.arange(0, 5, 0))
bad("dlcore.arange", ValueError, r"arange", lambda: dlcore.arange(0, NAN))
for _f in ("zeros_like", "ones_like", "empty_like", "rand_like", "randn_like"):
    bad(f"dlcore.{_f}", (ValueError, TypeError), r"dtype", lambda f=_f: getattr(dlcore, f)(t(2), dtype="complex"))
bad("dlcore.full_like", TypeError, r"full|fill", lambda: dlcore.full_like(t(2), "x"))
bad("dlcore.manual_seed", TypeError, r"manual_seed.*seed", lambda: dlcore.manual_seed(1.5))
bad("dlcore.manual_seed", TypeError, r"manual_seed.*seed", lambda: dlcore.manual_seed("x"))
bad("dlcore.device", ValueError, r"device", lambda: dlcore.device("gpu0"))
bad("dlcore.dtype", (ValueError, TypeError), r"dtype", lambda: dlcore.dtype("float16"))
bad("dlcore.where", ValueError, r"where.*broadcast", lambda: dlcore.where(t(3, dtype="bool"), t(2), t(3)))
bad("dlcore.where", ValueError, r"where.*device", lambda: dlcore.where(t(3, dtype="bool"), t(3), cuda(3)))
bad("dlcore.clip", TypeError, r"clip.*real number.*Tensor", lambda: dlcore.clip(t(3), t(2), None))
bad("dlcore.clip", TypeError, r"clip", lambda: dlcore.clip(t(3), "a", None))
bad("dlcore.addmm", ValueError, r"addmm|matmul", lambda: dlcore.addmm(t(2, 2), t(2, 3), t(4, 2)))
bad("dlcore.linear", ValueError, r"matmul.*inner dimensions", lambda: dlcore.linear(t(2, 3), t(4, 5)))
bad("dlcore.linear", ValueError, r"matmul.*device", lambda: dlcore.linear(t(2, 3), cuda(4, 3)))
bad("dlcore.linear", ValueError, r"unknown activation 'nope'", lambda: dlcore.linear(t(2, 3), t(4, 3), activation="nope"))
bad("dlcore.maximum", ValueError, r"maximum.*broadcast", lambda: dlcore.maximum(t(2), t(3)))
bad("dlcore.minimum", ValueError, r"minimum.*device", lambda: dlcore.minimum(t(3), cuda(3)))
bad("dlcore.broadcast_to", ValueError, r"expand.*cannot expand", lambda: dlcore.broadcast_to(t(3), (2, 4)))
bad("dlcore.broadcast_to", ValueError, r"expand.*invalid size -1", lambda: dlcore.broadcast_to(t(3), (-1, 3)))
bad("dlcore.reshape", ValueError, r"reshape", lambda: dlcore.reshape(t(6), 4, 2))
bad("dlcore.reshape", ValueError, r"reshape", lambda: dlcore.reshape(t(6), -1, -1))
bad("dlcore.transpose", IndexError, r"transpose|dim", lambda: dlcore.transpose(t(2, 3), 0, 2))
bad("dlcore.permute", ValueError, r"permute", lambda: dlcore.permute(t(2, 3), 0, 0))
bad("dlcore.permute", (ValueError, IndexError), r"permute", lambda: dlcore.permute(t(2, 3), 0))
bad("dlcore.squeeze", IndexError, r"squeeze|dim", lambda: dlcore.squeeze(t(2, 3), 5))
bad("dlcore.unsqueeze", IndexError, r"unsqueeze|dim", lambda: dlcore.unsqueeze(t(2, 3), 4))
bad("dlcore.flatten", IndexError, r"flatten|dim", lambda: dlcore.flatten(t(2, 3), 3))
bad("dlcore.flatten", ValueError, r"flatten", lambda: dlcore.flatten(t(2, 3, 4), 2, 1))
for _f in ("cat", "concatenate", "stack"):
    bad(f"dlcore.{_f}", ValueError, r"(cat|stack).*non-empty", lambda f=_f: getattr(dlcore, f)([]))
    bad(f"dlcore.{_f}", ValueError, r"(cat|stack).*expected( tensors of one)? shape", lambda f=_f: getattr(dlcore, f)([t(2, 3), t(3, 3)], 1))
    bad(f"dlcore.{_f}", ValueError, r"(cat|stack).*on cuda.*on cpu", lambda f=_f: getattr(dlcore, f)([t(2), cuda(2)]))
bad("dlcore.split", ValueError, r"split", lambda: dlcore.split(t(6), 0))
bad("dlcore.split", ValueError, r"split", lambda: dlcore.split(t(6), [2, 2]))
bad("dlcore.chunk", ValueError, r"chunk", lambda: dlcore.chunk(t(6), 0))
bad("dlcore.unbind", IndexError, r"unbind|dim", lambda: dlcore.unbind(t(2, 3), 2))
for _f in ("add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge", "matmul"):
    bad(f"dlcore.{_f}", ValueError, rf"{_f}|broadcast", lambda f=_f: getattr(dlcore, f)(t(2, 3), t(4, 5)))
bad("dlcore.add", ValueError, r"add.*device", lambda: dlcore.add(t(3), cuda(3)))
bad("dlcore.matmul", ValueError, r"matmul.*device", lambda: dlcore.matmul(t(2, 2), cuda(2, 2)))
bad("dlcore.matmul", ValueError, r"matmul", lambda: dlcore.matmul(t(()), t(3)))
for _f in ("logical_and", "logical_or", "logical_xor"):
    bad(f"dlcore.{_f}", ValueError, rf"{_f}.*broadcast", lambda f=_f: getattr(dlcore, f)(t(3, dtype="bool"),
                                                                                        t(2, dtype="bool")))
for _f in ("logical_not", "reciprocal", "exp", "log", "sqrt", "rsqrt"):
    bad(f"dlcore.{_f}", TypeError, r"tensor", lambda f=_f: getattr(dlcore, f)("x"))
for _f in ("neg", "abs", "sign", "square"):
    bad(f"dlcore.{_f}", TypeError, rf"{_f}.*bool", lambda f=_f: getattr(dlcore, f)(t(3, dtype="bool")))
for _f in ("sum", "mean", "var", "std", "amax", "amin", "max", "min", "argmax", "argmin"):
    bad(f"dlcore.{_f}", IndexError, r"dim", lambda f=_f: getattr(dlcore, f)(t(2, 3), 2))
for _f in ("amax", "amin", "max", "min", "argmax", "argmin"):
    bad(f"dlcore.{_f}", ValueError, r"(amax|amin|argmax|argmin).*zero-size", lambda f=_f: getattr(dlcore, f)(t(0)))
bad("dlcore.var", ValueError, r"var.*correction", lambda: dlcore.var(t(3), correction=-1))
bad("dlcore.std", ValueError, r"(std|var).*correction", lambda: dlcore.std(t(3), correction=-1))
bad("dlcore.contiguous", TypeError, r"tensor", lambda: dlcore.contiguous(object()))
bad("dlcore.clone", TypeError, r"tensor", lambda: dlcore.clone(object()))
bad("dlcore.set_num_threads", ValueError, r"thread", lambda: dlcore.set_num_threads(0))
bad("dlcore.set_num_threads", ValueError, r"thread", lambda: dlcore.set_num_threads(-3))
bad("dlcore.set_cpu_isa", ValueError, r"isa", lambda: dlcore.set_cpu_isa("sse9"))

# -- Tensor methods
bad("Tensor.__getitem__", IndexError, r"index|bounds", lambda: t(2, 3)[2])
bad("Tensor.__getitem__", IndexError, r"getitem.*too many indices", lambda: t(2, 3)[0, 0, 0])
bad("Tensor.__getitem__", (TypeError, IndexError), r"getitem.*expected int, slice", lambda: t(2, 3)["a"])
bad("Tensor.__getitem__", ValueError, r"step", lambda: t(4)[::0])
bad("Tensor.__getitem__", IndexError, r"index|bounds", lambda: t(4)[labels(0, 7)])
bad("Tensor.__setitem__", IndexError, r"index|bounds", lambda: t(2, 3).__setitem__(5, 1.0))
bad("Tensor.__setitem__", ValueError, r"broadcast|shape", lambda: t(2, 3).__setitem__(0, t(4)))
for _m in ("add", "sub", "mul", "div", "pow", "eq", "ne", "lt", "le", "gt", "ge", "maximum", "minimum", "matmul"):
    bad(f"Tensor.{_m}", ValueError, rf"{_m}|broadcast", lambda m=_m: getattr(t(2, 3), m)(t(4, 5)))
for _m in ("logical_and", "logical_or", "logical_xor"):
    bad(f"Tensor.{_m}", ValueError, rf"{_m}.*broadcast", lambda m=_m: getattr(t(3, dtype="bool"), m)(t(2, dtype="bool")))
for _m in ("size", "stride"):
    bad(f"Tensor.{_m}", IndexError, rf"{_m}.*dim", lambda m=_m: getattr(t(2, 3), m)(5))
for _m in ("sum", "mean", "var", "std", "amax", "amin", "max", "min", "argmax", "argmin", "softmax",
           "log_softmax", "unbind", "chunk", "split"):
    _arg = {"chunk": (2, 5), "split": (1, 5)}.get(_m, (5,))
    bad(f"Tensor.{_m}", IndexError, r"dim", lambda m=_m, a=_arg: getattr(t(2, 3), m)(*a))
bad("Tensor.as_strided", ValueError, r"as_strided", lambda: t(4).as_strided((3, 3), (3, 1)))
bad("Tensor.as_strided", ValueError, r"as_strided", lambda: t(4).as_strided((2,), (-1,)))
bad("Tensor.astype", (ValueError, TypeError), r"dtype", lambda: t(2).astype("complex"))
bad("Tensor.to", (ValueError, TypeError), r"dtype|device", lambda: t(2).to("float16"))
bad("Tensor.to", ValueError, r"device", lambda: t(2).to(device="tpu"))
bad("Tensor.cuda", (ValueError, IndexError), r"cuda|device", lambda: t(2).cuda(7))
bad("Tensor.backward", (ValueError, RuntimeError), r"backward|scalar|grad", lambda: dlcore.zeros(2, requires_grad=True).backward())
bad("Tensor.backward", ValueError, r"backward.*shape", lambda: (dlcore.ones(2, requires_grad=True) * 2).backward(t(3)))
bad("Tensor.broadcast_to", ValueError, r"expand.*cannot expand", lambda: t(3).broadcast_to((4, 2)))
bad("Tensor.expand", ValueError, r"expand|broadcast", lambda: t(3).expand(4, 2))
bad("Tensor.expand_as", ValueError, r"expand|broadcast", lambda: t(3).expand_as(t(4, 2)))
bad("Tensor.clamp", TypeError, r"clip.*real number", lambda: t(3).clamp(t(2)))
bad("Tensor.clip", TypeError, r"clip", lambda: t(3).clip("a"))
bad("Tensor.copy_", ValueError, r"copy_.*broadcast|copy_.*shape", lambda: t(3).copy_(t(4)))
bad("Tensor.copy_", RuntimeError, r"copy_|in-place", lambda: dlcore.ones(3, requires_grad=True).copy_(t(3)))
bad("Tensor.fill_", TypeError, r"fill", lambda: t(3).fill_("x"))
bad("Tensor.fill_", TypeError, r"fill", lambda: t(3).fill_(t(2)))
bad("Tensor.flatten", ValueError, r"flatten", lambda: t(2, 3, 4).flatten(2, 0))
bad("Tensor.permute", ValueError, r"permute", lambda: t(2, 3).permute(1, 1))
bad("Tensor.reshape", ValueError, r"reshape", lambda: t(6).reshape(5))
bad("Tensor.view", ValueError, r"view", lambda: t(2, 3).T.view(6))
bad("Tensor.view", ValueError, r"view|reshape", lambda: t(6).view(4))
bad("Tensor.squeeze", IndexError, r"squeeze|dim", lambda: t(2).squeeze(3))
bad("Tensor.transpose", IndexError, r"transpose|dim", lambda: t(2).transpose(0, 3))
bad("Tensor.unsqueeze", IndexError, r"unsqueeze|dim", lambda: t(2).unsqueeze(-4))


def _grad_of_used():
    x = dlcore.ones(2, requires_grad=True)
    return autograd.grad((x * 2).sum(), [t(2)])


# -- autograd
bad("autograd.backward", (ValueError, RuntimeError), r"backward", lambda: autograd.backward(t(2)))
bad("autograd.grad", (ValueError, RuntimeError), r"grad", _grad_of_used)
bad("autograd.gradcheck", (ValueError, TypeError), r"gradcheck", lambda: autograd.gradcheck(lambda x: x, [t(2)]))

# -- dlcore.functional: activations
for _f in ("relu", "elu", "selu", "silu", "softplus", "gelu", "sigmoid", "tanh", "hardtanh", "hardsigmoid",
           "heaviside", "leaky_relu"):
    bad(f"F.{_f}", TypeError, rf"{_f}.*(float|dtype)", lambda f=_f: getattr(F, f)(t(3, dtype="int64")))
bad("F.relu", TypeError, r"relu", lambda: F.relu(cuda(3, dtype="bool")))
bad("F.leaky_relu", ValueError, r"leaky_relu.*slope|finite", lambda: F.leaky_relu(t(3), NAN))
bad("F.elu", ValueError, r"elu.*alpha|finite", lambda: F.elu(t(3), INF))
bad("F.softplus", ValueError, r"softplus.*beta", lambda: F.softplus(t(3), beta=0))
bad("F.gelu", ValueError, r"gelu.*approximate", lambda: F.gelu(t(3), approximate="fast"))
bad("F.hardtanh", ValueError, r"hardtanh.*min_val", lambda: F.hardtanh(t(3), 1.0, -1.0))
bad("F.prelu", ValueError, r"prelu.*weight|prelu.*channel", lambda: F.prelu(t(2, 3), t(4)))
bad("F.prelu", ValueError, r"prelu.*device", lambda: F.prelu(cuda(2, 3), t(3)))
bad("F.swish", ValueError, r"swish.*beta|swish.*channel", lambda: F.swish(t(2, 3), t(4)))
bad("F.swish", ValueError, r"swish.*finite|beta", lambda: F.swish(t(2, 3), NAN))
bad("F.activation", ValueError, r"activation.*unknown", lambda: F.activation(t(3), "relu6"))
# softmax and losses on class scores
bad("F.softmax", IndexError, r"softmax.*dim", lambda: F.softmax(t(2, 3), 2))
bad("F.softmax", TypeError, r"softmax.*float", lambda: F.softmax(t(2, 3, dtype="int64"), 1))
bad("F.log_softmax", IndexError, r"log_softmax.*dim", lambda: F.log_softmax(t(2, 3), -3))
bad("F.cross_entropy", IndexError, r"cross_entropy.*target 7.*expected", lambda: F.cross_entropy(t(3, 4), labels(0, 1, 7)))
bad("F.cross_entropy", IndexError, r"cross_entropy.*target -1", lambda: F.cross_entropy(cuda(3, 4), labels(0, 1, -1).cuda()))
bad("F.cross_entropy", ValueError, r"cross_entropy.*shape", lambda: F.cross_entropy(t(3, 4), labels(0, 1)))
bad("F.cross_entropy", ValueError, r"cross_entropy.*shape|rank", lambda: F.cross_entropy(t(()), labels(0)))
bad("F.cross_entropy", TypeError, r"cross_entropy.*dtype|cross_entropy.*int", lambda: F.cross_entropy(t(3, 4), t(3, dtype="bool")))
bad("F.cross_entropy", ValueError, r"cross_entropy.*device", lambda: F.cross_entropy(cuda(3, 4), labels(0, 1, 2)))
bad("F.cross_entropy", ValueError, r"cross_entropy.*weight", lambda: F.cross_entropy(t(3, 4), labels(0, 1, 2), t(3)))
bad("F.cross_entropy", ValueError, r"cross_entropy.*reduction", lambda: F.cross_entropy(t(3, 4), labels(0, 1, 2),
                                                                                       reduction="avg"))
bad("F.cross_entropy", ValueError, r"cross_entropy.*label_smoothing",
    lambda: F.cross_entropy(t(3, 4), labels(0, 1, 2), label_smoothing=1.5))
bad("F.cross_entropy", ValueError, r"cross_entropy.*label_smoothing",
    lambda: F.cross_entropy(t(3, 4), labels(0, 1, 2), label_smoothing=NAN))
bad("F.nll_loss", IndexError, r"nll_loss.*target 4", lambda: F.nll_loss(t(3, 4), labels(0, 1, 4)))
bad("F.nll_loss", ValueError, r"nll_loss.*shape", lambda: F.nll_loss(t(3, 4), labels(0)))
bad("F.nll_loss", ValueError, r"nll_loss.*weight", lambda: F.nll_loss(t(3, 4), labels(0, 1, 2), weight=t(2, 2)))
bad("F.multi_margin_loss", IndexError, r"multi_margin_loss.*target", lambda: F.multi_margin_loss(t(3, 4), labels(0, 1, 9)))
bad("F.multi_margin_loss", ValueError, r"multi_margin_loss.*p", lambda: F.multi_margin_loss(t(3, 4), labels(0, 1, 2), p=3))
bad("F.multi_margin_loss", ValueError, r"multi_margin_loss.*shape", lambda: F.multi_margin_loss(t(3, 4, 5), labels(0)))
bad("F.multi_margin_loss", ValueError, r"multi_margin_loss.*margin", lambda: F.multi_margin_loss(t(3, 4), labels(0, 1, 2),
                                                                                                margin=NAN))
# losses of an input and a target of its shape
for _f in ("mse_loss", "l1_loss", "smooth_l1_loss", "huber_loss", "binary_cross_entropy",
           "binary_cross_entropy_with_logits", "kl_div"):
    bad(f"F.{_f}", ValueError, rf"{_f}.*broadcast|{_f}.*shape", lambda f=_f: getattr(F, f)(t(2, 3), t(4, 5)))
    bad(f"F.{_f}", ValueError, rf"{_f}.*reduction", lambda f=_f: getattr(F, f)(t(2, 3), t(2, 3), reduction="avg"))
    bad(f"F.{_f}", TypeError, rf"{_f}.*(float|dtype)", lambda f=_f: getattr(F, f)(t(2, dtype="int64"), t(2, dtype="int64")))
bad("F.mse_loss", ValueError, r"mse_loss.*device", lambda: F.mse_loss(t(3), cuda(3)))
bad("F.smooth_l1_loss", ValueError, r"smooth_l1_loss.*beta", lambda: F.smooth_l1_loss(t(3), t(3), beta=-1.0))
bad("F.huber_loss", ValueError, r"huber_loss.*delta", lambda: F.huber_loss(t(3), t(3), delta=0.0))
bad("F.huber_loss", ValueError, r"huber_loss.*delta", lambda: F.huber_loss(t(3), t(3), delta=NAN))
bad("F.binary_cross_entropy", ValueError, r"binary_cross_entropy.*weight",
    lambda: F.binary_cross_entropy(t(2, 3), t(2, 3), weight=t(4)))
bad("F.binary_cross_entropy_with_logits", ValueError, r"binary_cross_entropy_with_logits.*pos_weight",
    lambda: F.binary_cross_entropy_with_logits(t(2, 3), t(2, 3), pos_weight=t(4)))
bad("F.cosine_similarity", ValueError, r"cosine_similarity.*broadcast|shape",
    lambda: F.cosine_similarity(t(2, 3), t(2, 4)))
bad("F.cosine_similarity", IndexError, r"cosine_similarity.*dim", lambda: F.cosine_similarity(t(2, 3), t(2, 3), dim=2))
bad("F.cosine_similarity", ValueError, r"cosine_similarity.*eps", lambda: F.cosine_similarity(t(2, 3), t(2, 3), eps=-1))
bad("F.cosine_proximity_loss", ValueError, r"cosine_proximity_loss.*reduction",
    lambda: F.cosine_proximity_loss(t(2, 3), t(2, 3), reduction="avg"))
bad("F.cosine_proximity_loss", ValueError, r"cosine_similarity.*broadcast|shape",
    lambda: F.cosine_proximity_loss(t(2, 3), t(2, 4)))
bad("F.l1_penalty", ValueError, r"l1_penalty.*lam", lambda: F.l1_penalty(t(3), NAN))
bad("F.l1_penalty", TypeError, r"l1_penalty.*float|dtype", lambda: F.l1_penalty(t(3, dtype="int64")))
bad("F.l2_penalty", ValueError, r"l2_penalty.*lam", lambda: F.l2_penalty(t(3), -1.0))
# normalization
bad("F.batch_norm", ValueError, r"batch_norm.*(N, C|rank|dims)", lambda: F.batch_norm(t(3), None, None, training=True))
bad("F.batch_norm", ValueError, r"batch_norm.*running_mean|shape",
    lambda: F.batch_norm(t(4, 3), t(2), dlcore.ones(3), training=True))
bad("F.batch_norm", ValueError, r"batch_norm.*weight|shape", lambda: F.batch_norm(t(4, 3), None, None, t(5), training=True))
bad("F.batch_norm", ValueError, r"batch_norm.*momentum", lambda: F.batch_norm(t(4, 3), t(3), dlcore.ones(3),
                                                                             training=True, momentum=NAN))
bad("F.batch_norm", ValueError, r"batch_norm.*eps", lambda: F.batch_norm(t(4, 3), None, None, training=True, eps=-1e-5))
bad("F.batch_norm", ValueError, r"batch_norm.*device", lambda: F.batch_norm(cuda(4, 3), t(3), dlcore.ones(3)))
bad("F.batch_norm", ValueError, r"batch_norm.*more than one|batch_norm.*value",
    lambda: F.batch_norm(t(1, 3), None, None, training=True))
bad("F.layer_norm", ValueError, r"layer_norm.*shape", lambda: F.layer_norm(t(2, 3), [4]))
bad("F.layer_norm", ValueError, r"layer_norm.*shape|weight", lambda: F.layer_norm(t(2, 3), [3], t(4)))
bad("F.layer_norm", ValueError, r"layer_norm.*eps", lambda: F.layer_norm(t(2, 3), [3], eps=NAN))
bad("F.layer_norm", TypeError, r"layer_norm.*float|dtype", lambda: F.layer_norm(t(2, 3, dtype="int64"), [3]))
# dropout
for _f in ("dropout", "dropout2d"):
    bad(f"F.{_f}", ValueError, rf"{_f}.*p in \[0, 1\].*1.5", lambda f=_f: getattr(F, f)(t(2, 3, 4, 4), 1.5))
    bad(f"F.{_f}", ValueError, rf"{_f}.*p in \[0, 1\]", lambda f=_f: getattr(F, f)(t(2, 3, 4, 4), -0.5))
    bad(f"F.{_f}", ValueError, rf"{_f}.*p in \[0, 1\].*nan", lambda f=_f: getattr(F, f)(t(2, 3, 4, 4), NAN))
bad("F.dropout", TypeError, r"dropout.*float|dtype", lambda: F.dropout(t(3, dtype="int64"), 0.5))
bad("F.dropout2d", ValueError, r"dropout2d.*(C, H, W)|rank|shape", lambda: F.dropout2d(t(3), 0.5))
# convolution
bad("F.conv2d", ValueError, r"conv2d.*\(N, C, H, W\).*\(3, 4\)", lambda: F.conv2d(t(3, 4), t(2, 3, 1, 1)))
bad("F.conv2d", ValueError, r"conv2d.*weight", lambda: F.conv2d(t(1, 3, 5, 5), t(2, 4, 3, 3)))
bad("F.conv2d", ValueError, r"conv2d.*weight", lambda: F.conv2d(t(1, 3, 5, 5), t(2, 3, 3)))
bad("F.conv2d", ValueError, r"conv2d.*stride", lambda: F.conv2d(t(1, 3, 5, 5), t(2, 3, 3, 3), stride=0))
bad("F.conv2d", ValueError, r"conv2d.*stride", lambda: F.conv2d(t(1, 3, 5, 5), t(2, 3, 3, 3), stride=-1))
bad("F.conv2d", ValueError, r"conv2d.*padding", lambda: F.conv2d(t(1, 3, 5, 5), t(2, 3, 3, 3), padding=-1))
bad("F.conv2d", ValueError, r"conv2d.*padding", lambda: F.conv2d(t(1, 3, 5, 5), t(2, 3, 3, 3), padding="full"))
bad("F.conv2d", ValueError, r"conv2d.*dilation", lambda: F.conv2d(t(1, 3, 5, 5), t(2, 3, 3, 3), dilation=0))
bad("F.conv2d", ValueError, r"conv2d.*groups", lambda: F.conv2d(t(1, 3, 5, 5), t(2, 3, 3, 3), groups=0))
bad("F.conv2d", ValueError, r"conv2d.*groups", lambda: F.conv2d(t(1, 4, 5, 5), t(3, 2, 3, 3), groups=2))
bad("F.conv2d", ValueError, r"conv2d.*kernel|conv2d.*larger|conv2d.*output", lambda: F.conv2d(t(1, 3, 2, 2), t(2, 3, 3, 3)))
bad("F.conv2d", ValueError, r"conv2d.*bias", lambda: F.conv2d(t(1, 3, 5, 5), t(2, 3, 3, 3), t(3)))
bad("F.conv2d", ValueError, r"conv2d.*variant", lambda: F.conv2d(t(1, 3, 5, 5), t(2, 3, 3, 3), variant="winograd"))
bad("F.conv2d", TypeError, r"conv2d.*float|conv2d.*dtype", lambda: F.conv2d(t(1, 3, 5, 5, dtype="int64"),
                                                                            t(2, 3, 3, 3, dtype="int64")))
bad("F.conv2d", TypeError, r"conv2d.*dtype", lambda: F.conv2d(t(1, 3, 5, 5), t(2, 3, 3, 3, dtype="float64")))
bad("F.conv2d", ValueError, r"conv2d.*device", lambda: F.conv2d(cuda(1, 3, 5, 5), t(2, 3, 3, 3)))
bad("F.conv2d", TypeError, r"conv2d.*stride", lambda: F.conv2d(t(1, 3, 5, 5), t(2, 3, 3, 3), stride="a"))
bad("F.conv1d", ValueError, r"conv1d.*\(N, C, L\)", lambda: F.conv1d(t(3, 4), t(2, 3, 1)))
bad("F.conv1d", ValueError, r"conv1d.*stride", lambda: F.conv1d(t(1, 3, 5), t(2, 3, 3), stride=0))
bad("F.conv1d", ValueError, r"conv1d.*stride", lambda: F.conv1d(t(1, 3, 5), t(2, 3, 3), stride=(1, 1)))
bad("F.conv2d_backward_input", ValueError, r"conv2d_backward_input.*input_shape|shape",
    lambda: F.conv2d_backward_input(t(1, 2, 3, 3), t(2, 3, 3, 3), [1, 3, 9, 9]))
bad("F.conv2d_backward_input", ValueError, r"conv2d_backward_input.*stride",
    lambda: F.conv2d_backward_input(t(1, 2, 3, 3), t(2, 3, 3, 3), [1, 3, 5, 5], stride=0))
bad("F.conv2d_backward_weight", ValueError, r"conv2d_backward_weight.*shape",
    lambda: F.conv2d_backward_weight(t(1, 2, 3, 3), t(1, 3, 5, 5), [2, 3, 4, 4]))
bad("F.conv2d_backward_weight", ValueError, r"conv2d_backward_weight.*kernel of size >= 1",
    lambda: F.conv2d_backward_weight(t(1, 2, 3, 3), t(1, 3, 5, 5), [2, 3, -3, 3]))
bad("F.conv1d_backward_input", ValueError, r"conv1d_backward_input.*shape",
    lambda: F.conv1d_backward_input(t(1, 2, 3), t(2, 3, 3), [1, 3, 9]))
bad("F.conv1d_backward_weight", ValueError, r"conv1d_backward_weight.*shape",
    lambda: F.conv1d_backward_weight(t(1, 2, 3), t(1, 3, 5), [2, 3, 4]))
# pooling
for _f in ("max_pool2d", "avg_pool2d"):
    bad(f"F.{_f}", ValueError, rf"{_f}.*kernel_size", lambda f=_f: getattr(F, f)(t(1, 1, 4, 4), 0))
    bad(f"F.{_f}", ValueError, rf"{_f}.*kernel_size", lambda f=_f: getattr(F, f)(t(1, 1, 4, 4), -2))
    bad(f"F.{_f}", ValueError, rf"{_f}.*stride", lambda f=_f: getattr(F, f)(t(1, 1, 4, 4), 2, stride=0))
    bad(f"F.{_f}", ValueError, rf"{_f}.*padding", lambda f=_f: getattr(F, f)(t(1, 1, 4, 4), 2, padding=-1))
    bad(f"F.{_f}", ValueError, rf"{_f}.*padding", lambda f=_f: getattr(F, f)(t(1, 1, 4, 4), 2, padding=2))
    bad(f"F.{_f}", ValueError, rf"{_f}.*\(N, C, H, W\)|{_f}.*shape", lambda f=_f: getattr(F, f)(t(4), 2))
    bad(f"F.{_f}", ValueError, rf"{_f}.*kernel|{_f}.*output|{_f}.*larger", lambda f=_f: getattr(F, f)(t(1, 1, 2, 2), 3))
    bad(f"F.{_f}", TypeError, rf"{_f}.*kernel_size", lambda f=_f: getattr(F, f)(t(1, 1, 4, 4), "2"))
bad("F.max_pool2d", ValueError, r"max_pool2d.*dilation", lambda: F.max_pool2d(t(1, 1, 4, 4), 2, dilation=0))
bad("F.max_pool2d", ValueError, r"max_pool2d.*kernel_size", lambda: F.max_pool2d(cuda(1, 1, 4, 4), 0))
bad("F.adaptive_avg_pool2d", ValueError, r"adaptive_avg_pool2d.*output_size", lambda: F.adaptive_avg_pool2d(t(1, 1, 4, 4), 0))
bad("F.adaptive_avg_pool2d", ValueError, r"adaptive_avg_pool2d.*output_size", lambda: F.adaptive_avg_pool2d(t(1, 1, 4, 4), -1))
bad("F.adaptive_avg_pool2d", ValueError, r"adaptive_avg_pool2d.*shape", lambda: F.adaptive_avg_pool2d(t(4), 1))
bad("F.max_pool2d_backward", ValueError, r"max_pool2d_backward.*shape",
    lambda: F.max_pool2d_backward(t(1, 1, 2, 2), t(1, 1, 2, 2, dtype="int64"), [1, 1, 9, 9], 2))
bad("F.max_pool2d_backward", ValueError, r"max_pool2d_backward.*int64 indices",
    lambda: F.max_pool2d_backward(t(1, 1, 2, 2), t(1, 1, 2, 2), [1, 1, 4, 4], 2))
bad("F.max_pool2d_backward", IndexError, r"max_pool2d_backward.*ind",
    lambda: F.max_pool2d_backward(t(1, 1, 2, 2), dlcore.full((1, 1, 2, 2), 99, dtype="int64"), [1, 1, 4, 4], 2))
bad("F.avg_pool2d_backward", ValueError, r"avg_pool2d_backward.*shape",
    lambda: F.avg_pool2d_backward(t(1, 1, 2, 2), [1, 1, 9, 9], 2))
bad("F.adaptive_avg_pool2d_backward", ValueError, r"adaptive_avg_pool2d_backward.*shape",
    lambda: F.adaptive_avg_pool2d_backward(t(1, 1, 2, 2), [1, 2, 4, 4]))
# tensor ops under functional's roof
bad("F.linear", ValueError, r"matmul.*inner dimensions", lambda: F.linear(t(2, 3), t(4, 5)))
bad("F.reshape", ValueError, r"reshape", lambda: F.reshape(t(6), 4))
bad("F.flatten", ValueError, r"flatten", lambda: F.flatten(t(2, 3, 4), 2, 1))
bad("F.transpose", IndexError, r"transpose|dim", lambda: F.transpose(t(2), 0, 1))
bad("F.permute", ValueError, r"permute", lambda: F.permute(t(2, 3), 1, 1))
bad("F.squeeze", IndexError, r"squeeze|dim", lambda: F.squeeze(t(2), 1))
bad("F.unsqueeze", IndexError, r"unsqueeze|dim", lambda: F.unsqueeze(t(2), 3))
bad("F.cat", ValueError, r"cat", lambda: F.cat([t(2, 3), t(2, 4)]))
for _f in ("F.index_select", "dlcore.index_select", "Tensor.index_select"):
    _sel = {"F": F.index_select, "dlcore": dlcore.index_select,
            "Tensor": lambda x, d, i: x.index_select(d, i)}[_f.split(".")[0]]
    bad(_f, IndexError, r"\[index_select\] index 3 is out of bounds", lambda s=_sel: s(t(3, 2), 0, [0, 3]))
    bad(_f, ValueError, r"\[index_select\] expected a 1-D index", lambda s=_sel: s(t(3, 2), 0, [[0]]))
    bad(_f, TypeError, r"\[index_select\] expected an integer index", lambda s=_sel: s(t(3, 2), 0, [0.5]))
    bad(_f, IndexError, r"index_select.*dim", lambda s=_sel: s(t(3, 2), 2, [0]))
    bad(_f, (ValueError, RuntimeError), r"index_select.*device",
        lambda s=_sel: s(t(3, 2), 0, dlcore.tensor([0], device="cuda")))
for _f in ("F.index_add", "dlcore.index_add", "Tensor.index_add"):
    _add = {"F": F.index_add, "dlcore": dlcore.index_add,
            "Tensor": lambda x, d, i, src: x.index_add(d, i, src)}[_f.split(".")[0]]
    bad(_f, ValueError, r"\[index_add\] expected source of shape \(2, 2\)",
        lambda a=_add: a(t(3, 2), 0, [0, 1], t(3, 2)))
    bad(_f, IndexError, r"\[index_add\] index -4 is out of bounds", lambda a=_add: a(t(3, 2), 0, [-4], t(1, 2)))
    bad(_f, TypeError, r"\[index_add\] expected a numeric tensor", lambda a=_add: a(t(3, dtype="bool"), 0, [0],
                                                                                   t(1, dtype="bool")))
    bad(_f, (ValueError, RuntimeError), r"index_add.*device", lambda a=_add: a(t(3, 2), 0, [0], cuda(1, 2)))
bad("F.concatenate", ValueError, r"concatenate|cat", lambda: F.concatenate([t(2, 3), t(2)]))
bad("F.stack", ValueError, r"stack", lambda: F.stack([t(2), t(3)]))
bad("F.split", ValueError, r"split", lambda: F.split(t(6), [4, 4]))
bad("F.chunk", ValueError, r"chunk", lambda: F.chunk(t(6), -1))
bad("F.unbind", IndexError, r"unbind|dim", lambda: F.unbind(t(2), 1))
bad("F.where", ValueError, r"where.*broadcast", lambda: F.where(t(2, dtype="bool"), t(3), t(3)))
# fused recurrent cells
bad("F.lstm_cell", ValueError, r"lstm_cell.*4 \* hidden|lstm_cell.*shape", lambda: F.lstm_cell(t(2, 7), t(2, 2)))
bad("F.lstm_cell", ValueError, r"lstm_cell.*shape", lambda: F.lstm_cell(t(2, 8), t(3, 2)))
bad("F.lstm_cell", ValueError, r"lstm_cell.*device", lambda: F.lstm_cell(t(2, 8), cuda(2, 2)))
bad("F.gru_cell", ValueError, r"gru_cell.*3 \* hidden|gru_cell.*shape", lambda: F.gru_cell(t(2, 6), t(2, 6), t(2, 3)))
bad("F.gru_cell", ValueError, r"gru_cell.*shape", lambda: F.gru_cell(t(2, 6), t(2, 9), t(2, 2)))
bad("F.gru_cell", TypeError, r"gru_cell.*dtype|float", lambda: F.gru_cell(t(2, 6), t(2, 6), t(2, 2, dtype="float64")))

# -- dlcore.nn: containers and layers (constructor arguments, then the input they get)
bad("nn.Module", TypeError, r"Module|register|parameter", lambda: nn.Module().register_parameter("w", 3))
bad("nn.Parameter", TypeError, r"Parameter|tensor", lambda: nn.Parameter("weights"))
bad("nn.Sequential", TypeError, r"add_module.*expected a Module", lambda: nn.Sequential(nn.ReLU(), 3))
bad("nn.ModuleList", TypeError, r"add_module.*expected a Module", lambda: nn.ModuleList([nn.ReLU(), "x"]))
bad("nn.ModuleDict", TypeError, r"add_module.*expected a Module", lambda: nn.ModuleDict({"a": 3}))
bad("nn.Identity", TypeError, r"Identity", lambda: nn.Identity()(1, 2))
for _c in ("Linear", "Dense"):
    bad(f"nn.{_c}", ValueError, r"Linear.*in_features|Dense.*in_features", lambda c=_c: getattr(nn, c)(0, 3))
    bad(f"nn.{_c}", ValueError, r"Linear.*out_features|Dense.*out_features", lambda c=_c: getattr(nn, c)(3, -1))
    bad(f"nn.{_c}", ValueError, r"(Linear|Dense).*unknown activation 'x'", lambda c=_c: getattr(nn, c)(3, 2, activation="x")(t(1, 3)))
bad("nn.Linear", ValueError, r"Linear.*\(\.\.\., 3\).*\(2, 4\)", lambda: nn.Linear(3, 2)(t(2, 4)))
bad("nn.Linear", ValueError, r"matmul.*device", lambda: nn.Linear(3, 2)(cuda(2, 3)))
bad("nn.Flatten", IndexError, r"flatten|dim", lambda: nn.Flatten(3)(t(2, 3)))
for _c, _x in (("Conv2d", lambda: t(1, 3, 5, 5)), ("Conv1d", lambda: t(1, 3, 5))):
    bad(f"nn.{_c}", ValueError, rf"{_c}.*in_channels", lambda c=_c: getattr(nn, c)(0, 2, 3))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*out_channels", lambda c=_c: getattr(nn, c)(3, -2, 3))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*kernel_size", lambda c=_c: getattr(nn, c)(3, 2, 0))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*kernel_size", lambda c=_c: getattr(nn, c)(3, 2, -3))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*stride", lambda c=_c: getattr(nn, c)(3, 2, 3, stride=0))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*padding", lambda c=_c: getattr(nn, c)(3, 2, 3, padding=-1))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*groups", lambda c=_c: getattr(nn, c)(3, 2, 3, groups=2))
    bad(f"nn.{_c}", ValueError, r"conv.d.*padding.*'same', 'valid'",
        lambda c=_c, x=_x: getattr(nn, c)(3, 2, 3, padding="full")(x()))
    bad(f"nn.{_c}", ValueError, r"conv.*weight|conv.*channels", lambda c=_c, x=_x: getattr(nn, c)(4, 2, 1)(x()))
bad("nn.Conv2d", ValueError, r"conv2d.*\(N, C, H, W\)", lambda: nn.Conv2d(3, 2, 1)(t(3, 5)))
bad("nn.Conv2d", ValueError, r"conv2d.*device", lambda: nn.Conv2d(3, 2, 1)(cuda(1, 3, 5, 5)))
for _c in ("MaxPool2d", "AvgPool2d"):
    bad(f"nn.{_c}", ValueError, rf"{_c}.*kernel_size", lambda c=_c: getattr(nn, c)(0))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*stride", lambda c=_c: getattr(nn, c)(2, stride=-1))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*padding", lambda c=_c: getattr(nn, c)(2, padding=-1))
    bad(f"nn.{_c}", ValueError, r"pool2d.*\(N, C, H, W\)|pool2d.*shape", lambda c=_c: getattr(nn, c)(2)(t(4)))
bad("nn.MaxPool2d", ValueError, r"MaxPool2d.*dilation", lambda: nn.MaxPool2d(2, dilation=0))
bad("nn.AdaptiveAvgPool2d", ValueError, r"AdaptiveAvgPool2d.*output_size", lambda: nn.AdaptiveAvgPool2d(0))
bad("nn.AdaptiveAvgPool2d", ValueError, r"AdaptiveAvgPool2d.*output_size", lambda: nn.AdaptiveAvgPool2d((2, -1)))
for _c in ("Dropout", "Dropout2d"):
    bad(f"nn.{_c}", ValueError, rf"{_c}.*p in \[0, 1\]", lambda c=_c: getattr(nn, c)(1.5))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*p in \[0, 1\]", lambda c=_c: getattr(nn, c)(NAN))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*p in \[0, 1\]", lambda c=_c: getattr(nn, c)(-0.1))
for _c in ("BatchNorm1d", "BatchNorm2d"):
    bad(f"nn.{_c}", ValueError, rf"{_c}.*num_features", lambda c=_c: getattr(nn, c)(0))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*eps", lambda c=_c: getattr(nn, c)(3, eps=-1))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*momentum", lambda c=_c: getattr(nn, c)(3, momentum=NAN))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*momentum", lambda c=_c: getattr(nn, c)(3, momentum=1.5))
bad("nn.BatchNorm1d", ValueError, r"BatchNorm1d.*3 channels", lambda: nn.BatchNorm1d(3)(t(4, 5)))
bad("nn.BatchNorm2d", ValueError, r"BatchNorm2d.*3 channels", lambda: nn.BatchNorm2d(3)(t(4, 3)))
bad("nn.LayerNorm", ValueError, r"LayerNorm.*normalized_shape", lambda: nn.LayerNorm(0))
bad("nn.LayerNorm", ValueError, r"LayerNorm.*normalized_shape", lambda: nn.LayerNorm([3, -1]))
bad("nn.LayerNorm", ValueError, r"LayerNorm.*eps", lambda: nn.LayerNorm(3, eps=NAN))
bad("nn.LayerNorm", ValueError, r"layer_norm.*shape", lambda: nn.LayerNorm(3)(t(2, 4)))
bad("nn.PReLU", ValueError, r"PReLU.*num_parameters", lambda: nn.PReLU(0))
bad("nn.PReLU", ValueError, r"PReLU.*init", lambda: nn.PReLU(1, init=NAN))
bad("nn.PReLU", ValueError, r"prelu.*channel|prelu.*weight", lambda: nn.PReLU(4)(t(2, 3)))
bad("nn.Swish", ValueError, r"Swish.*beta", lambda: nn.Swish(beta=INF))
bad("nn.Swish", ValueError, r"Swish.*num_parameters", lambda: nn.Swish(learnable=True, num_parameters=0))
bad("nn.Residual", TypeError, r"Residual.*Module", lambda: nn.Residual(3))
bad("nn.Residual", ValueError, r"Residual.*differ", lambda: nn.Residual(nn.Linear(3, 2))(t(2, 3)))
bad("nn.Maxout", ValueError, r"Maxout.*pieces", lambda: nn.Maxout(3, 2, pieces=0))
bad("nn.Maxout", ValueError, r"in_features >= 1", lambda: nn.Maxout(0, 2))
bad("nn.Maxout", ValueError, r"Maxout|Linear.*\(\.\.\., 3\)", lambda: nn.Maxout(3, 2)(t(2, 5)))
for _c in ("RNN", "LSTM", "GRU"):
    bad(f"nn.{_c}", ValueError, rf"{_c}.*input_size", lambda c=_c: getattr(nn, c)(0, 4))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*hidden_size", lambda c=_c: getattr(nn, c)(3, -4))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*num_layers", lambda c=_c: getattr(nn, c)(3, 4, num_layers=0))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*dropout", lambda c=_c: getattr(nn, c)(3, 4, dropout=1.5))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*expected input of shape", lambda c=_c: getattr(nn, c)(3, 4)(t(5, 2, 2)))
    bad(f"nn.{_c}", ValueError, rf"{_c}.*expected input of shape", lambda c=_c: getattr(nn, c)(3, 4)(t(5, 3)))
bad("nn.RNN", ValueError, r"RNN.*nonlinearity", lambda: nn.RNN(3, 4, nonlinearity="sigmoid"))
bad("nn.LSTM", ValueError, r"LSTM.*expected h_0 of shape|LSTM.*expected .* of shape",
    lambda: nn.LSTM(3, 4)(t(5, 2, 3), (t(1, 2, 5), t(1, 2, 4))))
bad("nn.GRU", ValueError, r"GRU.*expected h_0 of shape|GRU.*expected .* of shape", lambda: nn.GRU(3, 4)(t(5, 2, 3), t(2, 2, 4)))
bad("nn.GRU", ValueError, r"device", lambda: nn.GRU(3, 4)(cuda(5, 2, 3)))
# activation modules take the function's arguments
for _c in ("ReLU", "LeakyReLU", "ELU", "SELU", "SiLU", "Softplus", "GELU", "Sigmoid", "Tanh", "Hardtanh",
           "Hardsigmoid", "Heaviside"):
    bad(f"nn.{_c}", TypeError, rf"{_c}.*(argument|takes)", lambda c=_c: getattr(nn, c)(1, 2, 3, 4, 5))
    bad(f"nn.{_c}", TypeError, r"float|dtype", lambda c=_c: getattr(nn, c)()(t(3, dtype="int64")))
bad("nn.LeakyReLU", ValueError, r"leaky_relu.*slope|finite", lambda: nn.LeakyReLU(NAN)(t(3)))
bad("nn.Softmax", IndexError, r"softmax.*dim", lambda: nn.Softmax(dim=3)(t(2, 3)))
bad("nn.LogSoftmax", IndexError, r"log_softmax.*dim", lambda: nn.LogSoftmax(dim=3)(t(2, 3)))
bad("nn.Softmax", TypeError, r"Softmax.*unexpected argument", lambda: nn.Softmax(axis=1))
bad("nn.LogSoftmax", TypeError, r"LogSoftmax.*unexpected argument", lambda: nn.LogSoftmax(axis=1))
# loss modules: the constructor's options, then a bad batch
# (a loss module's options are checked by its function, on the first batch)
bad("nn.CrossEntropyLoss", ValueError, r"cross_entropy.*reduction",
    lambda: nn.CrossEntropyLoss(reduction="avg")(t(2, 3), labels(0, 1)))
bad("nn.CrossEntropyLoss", ValueError, r"cross_entropy.*label_smoothing",
    lambda: nn.CrossEntropyLoss(label_smoothing=-1)(t(2, 3), labels(0, 1)))
bad("nn.CrossEntropyLoss", IndexError, r"cross_entropy.*target 5", lambda: nn.CrossEntropyLoss()(t(2, 3), labels(0, 5)))
bad("nn.NLLLoss", (ValueError, TypeError), r"nll_loss.*reduction|reduction", lambda: nn.NLLLoss(reduction=None)(t(2, 3), labels(0, 1)))
bad("nn.NLLLoss", IndexError, r"nll_loss.*target", lambda: nn.NLLLoss()(t(2, 3), labels(0, -2)))
for _c, _f in (("MSELoss", "mse_loss"), ("L1Loss", "l1_loss"), ("SmoothL1Loss", "smooth_l1_loss"),
               ("HuberLoss", "huber_loss"), ("BCELoss", "binary_cross_entropy"),
               ("BCEWithLogitsLoss", "binary_cross_entropy_with_logits"), ("KLDivLoss", "kl_div"),
               ("MultiMarginLoss", "multi_margin_loss"), ("CosineProximityLoss", "cosine_proximity_loss")):
    bad(f"nn.{_c}", ValueError, rf"{_f}.*reduction", lambda c=_c: getattr(nn, c)(reduction="avg")(t(2, 3), t(2, 3)))
    bad(f"nn.{_c}", (ValueError, TypeError), r"broadcast|shape|labels", lambda c=_c: getattr(nn, c)()(t(2, 3), t(4, 5)))
bad("nn.SmoothL1Loss", ValueError, r"smooth_l1_loss.*beta", lambda: nn.SmoothL1Loss(beta=NAN)(t(3), t(3)))
bad("nn.HuberLoss", ValueError, r"huber_loss.*delta", lambda: nn.HuberLoss(delta=-1)(t(3), t(3)))
bad("nn.MultiMarginLoss", ValueError, r"multi_margin_loss.*p", lambda: nn.MultiMarginLoss(p=0)(t(2, 3), labels(0, 1)))
bad("nn.CosineProximityLoss", ValueError, r"cosine_similarity.*eps",
    lambda: nn.CosineProximityLoss(eps=-1.0)(t(2, 3), t(2, 3)))

# -- dlcore.nn.init
bad("init.calculate_gain", ValueError, r"calculate_gain.*unknown", lambda: init.calculate_gain("relu6"))
bad("init.calculate_gain", ValueError, r"calculate_gain.*param", lambda: init.calculate_gain("leaky_relu", NAN))
bad("init.uniform_", ValueError, r"uniform_.*expected b >= 1.0", lambda: init.uniform_(t(3), 1.0, -1.0))
bad("init.uniform_", ValueError, r"uniform_.*expected b >= 0.0 and finite, got inf", lambda: init.uniform_(t(3), 0.0, INF))
bad("init.normal_", ValueError, r"normal_.*std", lambda: init.normal_(t(3), 0.0, -1.0))
bad("init.normal_", ValueError, r"normal_.*finite|normal_.*mean", lambda: init.normal_(t(3), NAN, 1.0))
bad("init.constant_", TypeError, r"constant_|fill", lambda: init.constant_(t(3), "x"))
bad("init.zeros_", TypeError, r"zeros_.*tensor", lambda: init.zeros_([1.0, 2.0]))
bad("init.ones_", TypeError, r"ones_.*tensor", lambda: init.ones_(np.zeros(3)))
for _f in ("xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_"):
    bad(f"init.{_f}", ValueError, rf"{_f}.*2 dims", lambda f=_f: getattr(init, f)(t(3)))
for _f in ("xavier_uniform_", "xavier_normal_", "orthogonal_"):
    bad(f"init.{_f}", ValueError, rf"{_f}.*gain", lambda f=_f: getattr(init, f)(t(3, 3), gain=NAN))
for _f in ("kaiming_uniform_", "kaiming_normal_"):
    bad(f"init.{_f}", ValueError, rf"{_f}.*mode", lambda f=_f: getattr(init, f)(t(3, 3), mode="fan_avg"))
    bad(f"init.{_f}", ValueError, r"calculate_gain.*unknown", lambda f=_f: getattr(init, f)(t(3, 3), nonlinearity="x"))
bad("init.sparse_", ValueError, r"sparse_.*2-d", lambda: init.sparse_(t(3, 3, 3), 0.5))
bad("init.sparse_", ValueError, r"sparse_.*sparsity", lambda: init.sparse_(t(3, 3), 1.5))
bad("init.sparse_", ValueError, r"sparse_.*nonzeros", lambda: init.sparse_(t(3, 3), nonzeros=7))
bad("init.sparse_", ValueError, r"sparse_.*std", lambda: init.sparse_(t(3, 3), 0.5, std=-1))
bad("init.sparse_", ValueError, r"sparse_.*sparsity", lambda: init.sparse_(t(3, 3), NAN))

# -- dlcore.optim: optimizers
for _c in ("SGD", "Adagrad", "RMSprop", "Adadelta", "Adam", "AdamW"):
    bad(f"optim.{_c}", ValueError, rf"{_c}.*lr.*nan", lambda c=_c: getattr(optim, c)([param(2)], lr=NAN))
    bad(f"optim.{_c}", ValueError, rf"{_c}.*lr", lambda c=_c: getattr(optim, c)([param(2)], lr=-0.1))
    bad(f"optim.{_c}", ValueError, rf"{_c}.*weight_decay", lambda c=_c: getattr(optim, c)([param(2)], weight_decay=INF))
    bad(f"optim.{_c}", ValueError, rf"{_c}.*empty", lambda c=_c: getattr(optim, c)([]))
    bad(f"optim.{_c}", TypeError, rf"{_c}.*leaf", lambda c=_c: getattr(optim, c)([param(2) * 2]))
    bad(f"optim.{_c}", TypeError, rf"{_c}.*leaf|{_c}.*tensor", lambda c=_c: getattr(optim, c)([np.zeros(2)]))
bad("optim.Optimizer", ValueError, r"Optimizer.*empty", lambda: optim.Optimizer([], {}))
bad("optim.SGD", ValueError, r"SGD.*momentum.*inf", lambda: optim.SGD([param(2)], lr=0.1, momentum=INF))
bad("optim.SGD", ValueError, r"SGD.*momentum|SGD.*dampening|SGD.*nesterov",
    lambda: optim.SGD([param(2)], lr=0.1, nesterov=True))
bad("optim.SGD", ValueError, r"SGD.*more than one group", lambda: optim.SGD([{"params": [p := param(2)]},
                                                                           {"params": [p]}], lr=0.1))
bad("optim.RMSprop", ValueError, r"RMSprop.*alpha", lambda: optim.RMSprop([param(2)], alpha=1.5))
bad("optim.RMSprop", ValueError, r"RMSprop.*eps", lambda: optim.RMSprop([param(2)], eps=-1e-8))
bad("optim.Adadelta", ValueError, r"Adadelta.*rho", lambda: optim.Adadelta([param(2)], rho=NAN))
bad("optim.Adagrad", ValueError, r"Adagrad.*lr_decay|Adagrad.*initial_accumulator_value",
    lambda: optim.Adagrad([param(2)], lr_decay=-1))
bad("optim.Adam", ValueError, r"Adam.*betas", lambda: optim.Adam([param(2)], betas=(0.9, 1.0)))
bad("optim.Adam", ValueError, r"Adam.*betas", lambda: optim.Adam([param(2)], betas=(NAN, 0.999)))
bad("optim.Adam", ValueError, r"Adam.*betas", lambda: optim.Adam([param(2)], betas=(0.9,)))
bad("optim.AdamW", ValueError, r"AdamW.*eps", lambda: optim.AdamW([param(2)], eps=NAN))
# learning-rate schedules
bad("lr_scheduler.LRScheduler", TypeError, r"LRScheduler.*optimizer", lambda: lr_scheduler.LRScheduler(None))
bad("lr_scheduler.LinearDecay", ValueError, r"LinearDecay.*total_steps", lambda: lr_scheduler.LinearDecay(sgd(), 0))
bad("lr_scheduler.LinearDecay", ValueError, r"LinearDecay.*end_factor", lambda: lr_scheduler.LinearDecay(sgd(), 5, end_factor=NAN))
bad("lr_scheduler.LinearDecay", ValueError, r"LinearDecay.*end_lr", lambda: lr_scheduler.LinearDecay(sgd(), 5, end_lr=-1.0))
bad("lr_scheduler.LinearWarmup", ValueError, r"LinearWarmup.*warmup_steps", lambda: lr_scheduler.LinearWarmup(sgd(), -3))
bad("lr_scheduler.LinearWarmup", ValueError, r"LinearWarmup.*start_factor",
    lambda: lr_scheduler.LinearWarmup(sgd(), 3, start_factor=NAN))
bad("lr_scheduler.StepLR", ValueError, r"StepLR.*step_size", lambda: lr_scheduler.StepLR(sgd(), 0))
bad("lr_scheduler.StepLR", ValueError, r"StepLR.*gamma", lambda: lr_scheduler.StepLR(sgd(), 2, gamma=NAN))
bad("lr_scheduler.StepLR", ValueError, r"StepLR.*gamma", lambda: lr_scheduler.StepLR(sgd(), 2, gamma=-0.5))
bad("lr_scheduler.MultiStepLR", ValueError, r"MultiStepLR.*milestones", lambda: lr_scheduler.MultiStepLR(sgd(), [3, -1]))
bad("lr_scheduler.MultiStepLR", ValueError, r"MultiStepLR.*gamma", lambda: lr_scheduler.MultiStepLR(sgd(), [3], gamma=INF))
bad("lr_scheduler.ExponentialLR", ValueError, r"ExponentialLR.*gamma", lambda: lr_scheduler.ExponentialLR(sgd(), NAN))
bad("lr_scheduler.ExponentialLR", ValueError, r"ExponentialLR.*gamma", lambda: lr_scheduler.ExponentialLR(sgd(), 0.0))
bad("lr_scheduler.CosineAnnealingLR", ValueError, r"CosineAnnealingLR.*T_max",
    lambda: lr_scheduler.CosineAnnealingLR(sgd(), 0))
bad("lr_scheduler.CosineAnnealingLR", ValueError, r"CosineAnnealingLR.*warmup_steps",
    lambda: lr_scheduler.CosineAnnealingLR(sgd(), 5, warmup_steps=-2))
bad("lr_scheduler.CosineAnnealingLR", ValueError, r"CosineAnnealingLR.*eta_min",
    lambda: lr_scheduler.CosineAnnealingLR(sgd(), 5, eta_min=NAN))
bad("lr_scheduler.ChainedScheduler", ValueError, r"ChainedScheduler.*schedul", lambda: lr_scheduler.ChainedScheduler([]))
bad("lr_scheduler.ChainedScheduler", ValueError, r"ChainedScheduler.*optimizer",
    lambda: lr_scheduler.ChainedScheduler([lr_scheduler.StepLR(sgd(), 2), lr_scheduler.StepLR(sgd(), 2)]))
bad("lr_scheduler.SequentialLR", ValueError, r"SequentialLR.*milestones",
    lambda: lr_scheduler.SequentialLR([lr_scheduler.StepLR(o := sgd(), 2), lr_scheduler.StepLR(o, 3)], []))
bad("lr_scheduler.SequentialLR", ValueError, r"SequentialLR.*milestones",
    lambda: lr_scheduler.SequentialLR([lr_scheduler.StepLR(o := sgd(), 2), lr_scheduler.StepLR(o, 3),
                                       lr_scheduler.StepLR(o, 4)], [5, 2]))
bad("lr_scheduler.SequentialLR", ValueError, r"SequentialLR.*schedul", lambda: lr_scheduler.SequentialLR([], []))
bad("lr_scheduler.ReduceLROnPlateau", ValueError, r"ReduceLROnPlateau.*factor",
    lambda: lr_scheduler.ReduceLROnPlateau(sgd(), factor=1.5))
bad("lr_scheduler.ReduceLROnPlateau", ValueError, r"ReduceLROnPlateau.*mode", lambda: lr_scheduler.ReduceLROnPlateau(sgd(), "avg"))
bad("lr_scheduler.ReduceLROnPlateau", ValueError, r"ReduceLROnPlateau.*patience",
    lambda: lr_scheduler.ReduceLROnPlateau(sgd(), patience=-1))
bad("lr_scheduler.ReduceLROnPlateau", ValueError, r"ReduceLROnPlateau.*threshold",
    lambda: lr_scheduler.ReduceLROnPlateau(sgd(), threshold=NAN))
bad("lr_scheduler.ReduceLROnPlateau", ValueError, r"ReduceLROnPlateau.*min_lr",
    lambda: lr_scheduler.ReduceLROnPlateau(sgd(), min_lr=-1))
# gradient clipping and weight constraints
bad("optim.clip_grad_norm_", ValueError, r"clip_grad_norm_.*max_norm", lambda: optim.clip_grad_norm_([param(2)], NAN))
bad("optim.clip_grad_norm_", ValueError, r"clip_grad_norm_.*max_norm", lambda: optim.clip_grad_norm_([param(2)], -1.0))
bad("optim.clip_grad_norm_", ValueError, r"clip_grad_norm_.*norm_type", lambda: optim.clip_grad_norm_([param(2)], 1.0, 0))
bad("optim.clip_grad_norm_", TypeError, r"clip_grad_norm_.*tensor", lambda: optim.clip_grad_norm_([np.ones(2)], 1.0))
bad("optim.clip_grad_value_", ValueError, r"clip_grad_value_.*clip_value", lambda: optim.clip_grad_value_([param(2)], NAN))
bad("optim.clip_grad_value_", ValueError, r"clip_grad_value_.*clip_value", lambda: optim.clip_grad_value_([param(2)], -1))
bad("optim.clip_grad_value_", TypeError, r"clip_grad_value_.*tensor", lambda: optim.clip_grad_value_([3.0], 1.0))
bad("optim.MaxNorm", ValueError, r"MaxNorm.*max_value", lambda: optim.MaxNorm(-1.0))
bad("optim.MaxNorm", ValueError, r"MaxNorm.*max_value", lambda: optim.MaxNorm(NAN))
bad("optim.MaxNorm", ValueError, r"MaxNorm.*eps", lambda: optim.MaxNorm(2.0, eps=-1))
bad("optim.UnitNorm", ValueError, r"UnitNorm.*eps", lambda: optim.UnitNorm(eps=NAN))

# -- dlcore.data
bad("data.TensorDataset", ValueError, r"TensorDataset.*at least one", lambda: data.TensorDataset())
bad("data.TensorDataset", ValueError, r"TensorDataset.*rows", lambda: data.TensorDataset(np.zeros((3, 2)), np.zeros(4)))
bad("data.TensorDataset", ValueError, r"TensorDataset.*CPU", lambda: data.TensorDataset(cuda(3)))
bad("data.TensorDataset", ValueError, r"TensorDataset.*dim|TensorDataset.*rows", lambda: data.TensorDataset(np.float32(3)))
bad("data.Subset", IndexError, r"Subset.*ind", lambda: data.Subset(data.TensorDataset(np.zeros(3)), [0, 5]))
bad("data.DataLoader", ValueError, r"DataLoader.*batch_size", lambda: data.DataLoader(data.TensorDataset(np.zeros(3)), 0))
bad("data.DataLoader", ValueError, r"DataLoader.*batch_size", lambda: data.DataLoader(data.TensorDataset(np.zeros(3)), -4))
bad("data.DataLoader", ValueError, r"DataLoader.*prefetch", lambda: data.DataLoader(data.TensorDataset(np.zeros(3)), 2,
                                                                                   prefetch=-1))
bad("data.DataLoader", TypeError, r"DataLoader.*dataset", lambda: data.DataLoader(5, 2))
bad("data.default_collate", ValueError, r"default_collate.*shape|default_collate.*empty",
    lambda: data.default_collate([(np.zeros(2),), (np.zeros(3),)]))
bad("data.default_collate", ValueError, r"default_collate.*empty", lambda: data.default_collate([]))
bad("data.random_split", ValueError, r"random_split.*lengths", lambda: data.random_split(data.TensorDataset(np.zeros(5)), [3, 3]))
bad("data.random_split", ValueError, r"random_split.*lengths", lambda: data.random_split(data.TensorDataset(np.zeros(5)), [6, -1]))
bad("data.train_val_split", ValueError, r"train_val_split.*val_fraction",
    lambda: data.train_val_split(data.TensorDataset(np.zeros(5)), 1.0))
bad("data.train_val_split", ValueError, r"train_val_split.*val_fraction",
    lambda: data.train_val_split(data.TensorDataset(np.zeros(5)), NAN))
bad("data.read_idx", FileNotFoundError, r"no-such-file", lambda: data.read_idx("/nonexistent/no-such-file.idx"))
bad("data.write_idx", data.IDXError, r"write_idx.*dtype", lambda: data.write_idx("/tmp/unused.idx", np.zeros(3, np.int64)))
bad("data.write_idx", data.IDXError, r"write_idx.*dtype bool", lambda: data.write_idx("/tmp/unused.idx", np.zeros(3, bool)))


def _download_with_a_wrong_checksum():
    import tempfile
    with tempfile.TemporaryDirectory() as d:
        with open(f"{d}/src", "wb") as f:
            f.write(b"not the expected bytes")
        data.download(f"file://{d}/src", f"{d}/dst", sha256="0" * 64, progress=False)


bad("data.download", data.DownloadError, r"download.*sha-?256|download.*checksum", _download_with_a_wrong_checksum)
bad("transforms.Normalize", ValueError, r"Normalize.*std", lambda: transforms.Normalize(0.0, -1.0))
bad("transforms.Normalize", ValueError, r"Normalize.*eps|Normalize.*std", lambda: transforms.Normalize(0.0, 1.0, eps=NAN))
bad("transforms.RandomShift", ValueError, r"RandomShift.*max_shift", lambda: transforms.RandomShift(-1))
bad("transforms.RandomShift", ValueError, r"RandomShift.*\(N, C, H, W\)",
    lambda: transforms.RandomShift(1)(np.zeros((3, 4)), np.random.default_rng(0)))
bad("transforms.RandomRotation", ValueError, r"RandomRotation.*degrees", lambda: transforms.RandomRotation(NAN))
bad("transforms.RandomRotation", ValueError, r"RandomRotation.*\(N, C, H, W\)",
    lambda: transforms.RandomRotation(5)(np.zeros(4), np.random.default_rng(0)))
bad("transforms.RandomHorizontalFlip", ValueError, r"RandomHorizontalFlip.*p", lambda: transforms.RandomHorizontalFlip(1.5))
bad("transforms.RandomCrop", ValueError, r"RandomCrop.*size", lambda: transforms.RandomCrop(0))
bad("transforms.RandomCrop", ValueError, r"RandomCrop.*padding", lambda: transforms.RandomCrop(4, padding=-1))
bad("transforms.RandomCrop", ValueError, r"RandomCrop.*does not fit",
    lambda: transforms.RandomCrop(9)(np.zeros((2, 1, 4, 4)), np.random.default_rng(0)))

# -- training, checkpoints
def _loader():
    return data.DataLoader(data.TensorDataset(np.zeros((4, 3), np.float32), np.zeros(4, np.int64)), 2)


bad("dlcore.fit", ValueError, r"fit.*unknown loss", lambda: dlcore.fit(nn.Linear(3, 2), "hinge2", sgd(), _loader()))
bad("dlcore.fit", ValueError, r"fit.*unknown metric", lambda: dlcore.fit(nn.Linear(3, 2), "cross_entropy", sgd(), _loader(),
                                                                         metrics=["auc9"]))
bad("dlcore.fit", ValueError, r"fit.*epochs", lambda: dlcore.fit(nn.Linear(3, 2), "cross_entropy", sgd(), _loader(), epochs=-1))
bad("dlcore.fit", ValueError, r"Linear.*\(\.\.\., 5\)", lambda: dlcore.fit(nn.Linear(5, 2), "cross_entropy", sgd(), _loader(),
                                                                            verbose=0))
bad("dlcore.evaluate", ValueError, r"unknown loss", lambda: dlcore.evaluate(nn.Linear(3, 2), "nope", _loader()))
bad("dlcore.predict", ValueError, r"predict.*batch_size", lambda: dlcore.predict(nn.Linear(3, 2), np.zeros((4, 3)), 0))
bad("dlcore.plot_history", TypeError, r"plot_history.*History|plot_history.*history",
    lambda: dlcore.plot_history(3, "/tmp/unused.png"))
bad("training.fit", ValueError, r"fit.*unknown loss", lambda: training.fit(nn.Linear(3, 2), "hinge2", sgd(), _loader()))
bad("training.evaluate", ValueError, r"unknown metric", lambda: training.evaluate(nn.Linear(3, 2), "mse", _loader(), ["x"]))
bad("training.predict", ValueError, r"predict.*batch_size", lambda: training.predict(nn.Linear(3, 2), np.zeros((4, 3)), -1))
bad("training.plot_history", TypeError, r"plot_history", lambda: training.plot_history(None, "/tmp/unused.png"))
bad("training.accuracy", ValueError, r"accuracy.*shape", lambda: training.accuracy(t(4, 3), labels(0, 1)))
bad("training.EarlyStopping", ValueError, r"callback.*mode|EarlyStopping.*mode", lambda: training.EarlyStopping(mode="avg"))
bad("training.EarlyStopping", ValueError, r"EarlyStopping.*patience", lambda: training.EarlyStopping(patience=-1))
bad("training.EarlyStopping", ValueError, r"EarlyStopping.*min_delta", lambda: training.EarlyStopping(min_delta=NAN))
bad("training.ModelCheckpoint", ValueError, r"callback.*mode|ModelCheckpoint.*mode",
    lambda: training.ModelCheckpoint("/tmp/unused.npz", mode="avg"))
bad("training.LearningRateScheduler", TypeError, r"LearningRateScheduler.*scheduler",
    lambda: training.LearningRateScheduler(0.1))
bad("dlcore.save_checkpoint", TypeError, r"save_checkpoint.*cannot store",
    lambda: dlcore.save_checkpoint("/tmp/unused.npz", nn.Linear(3, 2), epoch=object()))
bad("dlcore.load_checkpoint", (ValueError, FileNotFoundError), r"load_checkpoint.*no-such-file",
    lambda: dlcore.load_checkpoint("/nonexistent/no-such-file.npz", nn.Linear(3, 2)))


# ---- the tests ------------------------------------------------------------------------------------

def _ids():
    seen = {}
    ids = []
    for case in CASES:
        key = case.values[0]
        seen[key] = seen.get(key, 0) + 1
        ids.append(f"{key}-{seen[key]}")
    return ids


def _check(exc, match, fn):
    with pytest.raises(exc) as info:
        fn()
    message = str(info.value)
    assert re.search(match, message, re.IGNORECASE | re.DOTALL), f"unclear message: {message!r}"


@pytest.mark.parametrize("key, exc, match, fn", CASES, ids=_ids())
def test_bad_input_raises_a_clear_error(key, exc, match, fn):
    _check(exc, match, fn)


def test_every_public_callable_has_a_bad_input_case():
    public = public_callables()
    covered = {case.values[0] for case in CASES}
    missing = sorted(public - covered - set(NO_BAD_INPUT))
    assert not missing, f"public callables without a bad-input case (add one to CASES): {missing}"
    stale = sorted((covered | set(NO_BAD_INPUT)) - public)
    assert not stale, f"cases or exemptions for names that are not public: {stale}"
