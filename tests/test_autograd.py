"""Autograd: the engine's semantics (accumulation, branches, retain_graph, no_grad, hooks,
detach, grad()), the course notes' computational-graph examples, and a float64 central-difference
gradcheck of every differentiable op of the library on the CPU and on the cuda device."""
import gc
import weakref

import numpy as np
import pytest

import dlcore
import dlcore.functional as F
from dlcore.autograd import GradcheckError, gradcheck

DEVICES = ["cpu"] + (["cuda"] if dlcore.cuda.is_available() else [])


def leaf(a, device="cpu"):
    return dlcore.tensor(np.asarray(a, np.float64), device=device).requires_grad_()


class Const:
    """An input of an OPS entry that is data (a target, running statistics), not differentiated."""

    def __init__(self, array):
        self.array = array


# ---- the course notes' examples ----------------------------------------------------------

def test_patterns_in_the_backward_flow():
    """f = 2 (x y + max(z, w)) at x=3, y=-4, z=2, w=-1: add distributes, max routes, mul swaps."""
    x, y, z, w = (leaf(v) for v in (3.0, -4.0, 2.0, -1.0))
    f = 2 * (x * y + dlcore.maximum(z, w))
    f.backward()
    assert f.item() == -20
    assert (x.grad.item(), y.grad.item(), z.grad.item(), w.grad.item()) == (-8, 6, 2, 0)


def test_sigmoid_neuron_example():
    """f = 1 / (1 + exp(-(w0 x0 + w1 x1 + w2))) with w = (2, -3, -3), x = (-1, -2)."""
    w0, x0, w1, x1, w2 = (leaf(v) for v in (2.0, -1.0, -3.0, -2.0, -3.0))
    f = 1 / (1 + (-(w0 * x0 + w1 * x1 + w2)).exp())
    f.backward()
    got = [t.grad.item() for t in (w0, x0, w1, x1, w2)]
    s = 1 / (1 + np.exp(-1.0))
    ds = s * (1 - s)
    np.testing.assert_allclose(got, [-1 * ds, 2 * ds, -2 * ds, -3 * ds, ds], rtol=1e-12)


def test_gradients_add_at_branches():
    x = leaf([1.0, 2.0, 3.0])
    y = x * x + x.exp() + x  # x used three times
    y.sum().backward()
    a = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(x.grad.numpy(), 2 * a + np.exp(a) + 1, rtol=1e-12)


# ---- engine semantics -------------------------------------------------------------------

def test_grad_accumulates_across_backward_calls_and_zeroes():
    x = leaf([1.0, -2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3 + 2, 3 - 4])
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])


def test_shared_gradient_gets_its_own_memory():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()  # add hands the same gradient to both
    assert a.grad.data_ptr() != b.grad.data_ptr()
    (a + b).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), [2, 2])
    np.testing.assert_array_equal(b.grad.numpy(), [2, 2])


def test_non_scalar_backward_needs_a_gradient():
    x = leaf([1.0, 2.0, 3.0])
    y = x * 2
    with pytest.raises(RuntimeError, match=r"\[backward\] a gradient can be implied only"):
        y.backward()
    y.backward(dlcore.tensor([1.0, 10.0, 100.0], dtype="float64"))
    np.testing.assert_array_equal(x.grad.numpy(), [2, 20, 200])
    with pytest.raises(ValueError, match=r"\[backward\] expected a gradient of shape \(3,\)"):
        (x * 2).backward(dlcore.ones(2, dtype="float64"))


def test_graph_is_freed_unless_retained():
    x = leaf([1.0, 2.0])
    y = (x * x).sum()
    y.backward(retain_graph=True)
    y.backward()
    np.testing.assert_array_equal(x.grad.numpy(), [4, 8])
    with pytest.raises(RuntimeError, match="already freed"):
        y.backward()


def test_backward_of_something_without_graph_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        dlcore.ones(2).sum().backward()


def test_no_grad_enable_grad_and_set_grad_enabled():
    x = leaf([1.0])
    with dlcore.no_grad():
        y = x * 2
        with dlcore.enable_grad():
            z = x * 2
    assert not y.requires_grad and y.grad_fn is None
    assert z.requires_grad and z.grad_fn is not None

    @dlcore.no_grad()
    def f(t):
        return t * 2
    assert not f(x).requires_grad
    assert dlcore.is_grad_enabled()
    with dlcore.set_grad_enabled(False):
        assert not (x * 2).requires_grad
    assert dlcore.is_grad_enabled()


def test_detach_and_leaf_rules():
    x = leaf([1.0, 2.0])
    y = x * 2
    assert x.is_leaf and not y.is_leaf
    d = y.detach()
    assert d.is_leaf and not d.requires_grad and d.data_ptr() == y.data_ptr()
    with pytest.raises(RuntimeError, match=r"\[requires_grad\] only a leaf"):
        y.requires_grad = False
    with pytest.raises(TypeError, match=r"\[requires_grad\] only floating-point"):
        dlcore.tensor([1, 2]).requires_grad_()
    with pytest.raises(RuntimeError, match=r"\[copy_\] in-place write into a tensor that requires grad"):
        x += 1
    with pytest.raises(RuntimeError, match=r"\[setitem\] in-place"):
        x[0] = 5.0
    with dlcore.no_grad():
        x += 1  # an optimizer's update
    np.testing.assert_array_equal(x.numpy(), [2, 3])


def test_hooks_on_leaves_and_intermediates():
    x = leaf([1.0, 2.0])
    seen = []
    x.register_hook(lambda g: seen.append(g.numpy().copy()))
    y = x * 3
    handle = y.register_hook(lambda g: g * 10)  # replaces the gradient flowing on
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [30, 30])
    np.testing.assert_array_equal(seen[0], [30, 30])
    handle.remove()
    x.grad = None
    (x * 3).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [3, 3])


def test_retain_grad_keeps_an_intermediate_gradient():
    x = leaf([1.0, 2.0])
    y = x * x
    y.retain_grad()
    (y * 5).sum().backward()
    np.testing.assert_array_equal(y.grad.numpy(), [5, 5])
    np.testing.assert_array_equal(x.grad.numpy(), [10, 20])


def test_autograd_grad_returns_without_touching_dot_grad():
    x, w = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    h = x * w
    (gx, gh) = dlcore.autograd.grad((h * h).sum(), (x, h))
    np.testing.assert_array_equal(gx.numpy(), 2 * np.array([3.0, 8.0]) * [3, 4])
    np.testing.assert_array_equal(gh.numpy(), [6, 16])
    assert x.grad is None and w.grad is None
    with pytest.raises(RuntimeError, match="was not used"):
        dlcore.autograd.grad((x * 2).sum(), (w,))


def test_graph_leaves_no_reference_cycle():
    """A recorded graph is freed by reference counting alone once its output is dropped."""
    x = leaf(np.ones(1000))
    gc.disable()
    try:
        y = (x * 2).relu().exp()
        ref = weakref.ref(y)
        node = weakref.ref(y.grad_fn)
        del y
        assert ref() is None and node() is None
    finally:
        gc.enable()


def test_heaviside_has_no_gradient():
    x = leaf([1.0, -1.0])
    with pytest.raises(Exception, match="heaviside"):
        F.heaviside(x).sum().backward()


def test_target_gradient_not_implemented_is_a_clear_error():
    x, t = leaf([0.2, 0.7]), leaf([0.0, 1.0])
    with pytest.raises(NotImplementedError, match=r"\[binary_cross_entropy\] the gradient with respect to the target"):
        F.binary_cross_entropy(x, t)


def test_mixed_dtype_gradients_come_back_in_each_leafs_dtype():
    a = dlcore.tensor([1.0, 2.0], dtype="float32", requires_grad=True)
    b = leaf([3.0, 4.0])
    (a * b).sum().backward()
    assert a.grad.dtype == dlcore.float32 and b.grad.dtype == dlcore.float64
    np.testing.assert_array_equal(a.grad.numpy(), [3, 4])


def test_gradcheck_catches_a_wrong_backward():
    x = leaf([0.5, 1.5])
    assert gradcheck(lambda t: t * t, (x,))

    def wrong(t):  # a hook that doubles the gradient: the analytic result is then wrong
        y = t * t
        if y.requires_grad:
            y.register_hook(lambda g: g * 2)
        return y
    with pytest.raises(GradcheckError, match=r"input 0"):
        gradcheck(wrong, (x,))


# ---- gradcheck of every differentiable op -------------------------------------------------

R = np.random.default_rng(7)


def _pos(*shape):
    return R.uniform(0.5, 2.0, shape)


def _any(*shape):
    return R.standard_normal(shape)


def _away_from_kinks(*shape):
    """Values at least 0.1 from 0 (relu, abs, ... are not differentiable there)."""
    v = R.uniform(0.1, 1.5, shape)
    return v * np.where(R.random(shape) < 0.5, -1, 1)


LABELS = np.array([2, 0, 1])
WEIGHTS = np.array([0.5, 2.0, 1.5, 0.8])  # class weights (and, sliced, element / pos weights)


def _broadcasting(loss, a, b):
    """A regression loss whose target broadcasts with the input (which warns, as in PyTorch)."""
    with pytest.warns(UserWarning, match="broadcast"):
        return loss(a, b)

# name -> (function of tensors, list of input arrays)
OPS = {
    "add_broadcast": (lambda a, b: a + b, [_any(3, 4), _any(4)]),
    "sub_scalar": (lambda a: 2.5 - a, [_any(3)]),
    "mul_broadcast": (lambda a, b: a * b, [_any(2, 3, 1), _any(3, 4)]),
    "div": (lambda a, b: a / b, [_any(3, 2), _pos(3, 2)]),
    "rdiv_scalar": (lambda a: 3 / a, [_pos(4)]),
    "pow_tensor": (lambda a, b: a ** b, [_pos(3), _any(3)]),
    "pow_scalar": (lambda a: a ** 3, [_any(4)]),
    "rpow_scalar": (lambda a: 2 ** a, [_any(4)]),
    "maximum": (lambda a, b: dlcore.maximum(a, b), [_any(5), _any(5)]),
    "minimum": (lambda a, b: dlcore.minimum(a, b), [_any(5), _any(5)]),
    "neg": (lambda a: -a, [_any(3)]),
    "abs": (lambda a: abs(a), [_away_from_kinks(4)]),
    "square": (lambda a: a.square(), [_any(4)]),
    "reciprocal": (lambda a: a.reciprocal(), [_pos(4)]),
    "exp": (lambda a: a.exp(), [_any(4)]),
    "log": (lambda a: a.log(), [_pos(4)]),
    "sqrt": (lambda a: a.sqrt(), [_pos(4)]),
    "rsqrt": (lambda a: a.rsqrt(), [_pos(4)]),
    "clip": (lambda a: a.clip(-0.5, 0.5), [np.array([-1.0, -0.3, 0.2, 0.9])]),
    "where": (lambda a, b: dlcore.where(a > 0, a, b), [_away_from_kinks(5), _any(5)]),
    "sum_dims": (lambda a: a.sum((0, 2)), [_any(2, 3, 4)]),
    "sum_all": (lambda a: a.sum(), [_any(2, 3)]),
    "mean_keepdim": (lambda a: a.mean(1, keepdim=True), [_any(3, 4)]),
    "var": (lambda a: a.var(1), [_any(3, 5)]),
    "std_all": (lambda a: a.std(), [_any(6)]),
    "amax": (lambda a: a.amax(1), [_any(3, 5)]),
    "amin_all": (lambda a: a.amin(), [_any(7)]),
    "max_dim_values": (lambda a: a.max(0).values, [_any(4, 3)]),
    "matmul": (lambda a, b: a @ b, [_any(3, 4), _any(4, 2)]),
    "matmul_batched_broadcast": (lambda a, b: a @ b, [_any(2, 3, 4), _any(4, 5)]),
    "matmul_vector_matrix": (lambda a, b: a @ b, [_any(4), _any(4, 3)]),
    "matmul_matrix_vector": (lambda a, b: a @ b, [_any(3, 4), _any(4)]),
    "matmul_dot": (lambda a, b: a @ b, [_any(5), _any(5)]),
    "addmm": (lambda c, a, b: dlcore.addmm(c, a, b, beta=0.5, alpha=2.0), [_any(3), _any(2, 4), _any(4, 3)]),
    "linear_3d_input": (lambda x, w, b: dlcore.linear(x, w, b), [_any(2, 3, 4), _any(5, 4), _any(5)]),
    "linear_relu": (lambda x, w, b: dlcore.linear(x, w, b, "relu"), [_any(4, 3), _any(5, 3), _any(5)]),
    "linear_sigmoid": (lambda x, w, b: dlcore.linear(x, w, b, "sigmoid"), [_any(4, 3), _any(5, 3), _any(5)]),
    "linear_gelu": (lambda x, w: dlcore.linear(x, w, None, "gelu"), [_any(4, 3), _any(5, 3)]),
    "reshape": (lambda a: a.reshape(6, 2) * 1, [_any(3, 4)]),
    "permute": (lambda a: a.permute(2, 0, 1) * 1, [_any(2, 3, 4)]),
    "transpose_T": (lambda a: a.T @ a, [_any(3, 2)]),
    "expand": (lambda a: a.expand(3, 4) * 1, [_any(1, 4)]),
    "squeeze_unsqueeze": (lambda a: a.squeeze(1).unsqueeze(0) * 1, [_any(3, 1, 2)]),
    "flatten": (lambda a: a.flatten(1) * 1, [_any(2, 3, 2)]),
    "getitem": (lambda a: a[1:, ::2] * 1, [_any(3, 5)]),
    "getitem_int_none": (lambda a: a[1, None] * 1, [_any(3, 5)]),
    "cat": (lambda a, b: dlcore.cat([a, b], 1), [_any(2, 3), _any(2, 2)]),
    "stack": (lambda a, b: dlcore.stack([a, b], 0), [_any(2, 3), _any(2, 3)]),
    "split": (lambda a: dlcore.split(a, [1, 3], 1)[1] * 2, [_any(2, 4)]),
    "chunk_both": (lambda a: (lambda p: p[0] * p[1])(a.chunk(2, 0)), [_any(4, 2)]),
    "unbind": (lambda a: a.unbind(1)[2], [_any(2, 3)]),
    "contiguous_clone": (lambda a: a.T.contiguous().clone(), [_any(3, 2)]),
    "relu": (F.relu, [_away_from_kinks(6)]),
    "leaky_relu": (lambda a: F.leaky_relu(a, 0.2), [_away_from_kinks(6)]),
    "prelu_per_channel": (F.prelu, [_away_from_kinks(2, 3, 2), _any(3)]),
    "elu": (F.elu, [_away_from_kinks(6)]),
    "selu": (F.selu, [_away_from_kinks(6)]),
    "silu": (F.silu, [_any(6)]),
    "swish_learned_beta": (F.swish, [_any(2, 3), _pos(3)]),
    "softplus": (lambda a: F.softplus(a, 2.0), [_any(6)]),
    "gelu": (F.gelu, [_any(6)]),
    "gelu_tanh": (lambda a: F.gelu(a, "tanh"), [_any(6)]),
    "sigmoid": (F.sigmoid, [_any(6)]),
    "tanh": (F.tanh, [_any(6)]),
    "hardtanh": (F.hardtanh, [np.array([-2.0, -0.5, 0.3, 1.7])]),
    "hardsigmoid": (F.hardsigmoid, [np.array([-4.0, -0.5, 0.3, 3.5])]),
    "softmax": (lambda a: F.softmax(a, 1), [_any(3, 4)]),
    "log_softmax_dim0": (lambda a: F.log_softmax(a, 0), [_any(3, 4)]),
    "cross_entropy": (lambda a: F.cross_entropy(a, dlcore.tensor(LABELS, device=a.device), label_smoothing=0.1),
                      [_any(3, 4)]),
    "cross_entropy_soft_sum": (lambda a, t: F.cross_entropy(a, t, reduction="sum"),
                               [_any(3, 4), Const(R.dirichlet(np.ones(4), 3))]),
    "nll_loss": (lambda a: F.nll_loss(F.log_softmax(a, 1), dlcore.tensor(LABELS, device=a.device)), [_any(3, 4)]),
    "cross_entropy_weighted": (lambda a: F.cross_entropy(a, dlcore.tensor(LABELS, device=a.device),
                                                         dlcore.tensor(WEIGHTS, device=a.device), label_smoothing=0.1),
                               [_any(3, 4)]),
    "nll_loss_weighted": (lambda a: F.nll_loss(F.log_softmax(a, 1), dlcore.tensor(LABELS, device=a.device),
                                               dlcore.tensor(WEIGHTS, device=a.device)), [_any(3, 4)]),
    "mse_loss_both": (F.mse_loss, [_any(3, 2), _any(3, 2)]),
    "mse_loss_broadcast_both": (lambda a, b: _broadcasting(F.mse_loss, a, b), [_any(3, 1), _any(4)]),
    "l1_loss_both": (F.l1_loss, [_any(5), _any(5) + 3]),
    "smooth_l1_loss": (lambda a, b: F.smooth_l1_loss(a, b, beta=0.5), [_any(6), _any(6)]),
    "huber_loss_none": (lambda a, b: F.huber_loss(a, b, reduction="none", delta=0.7), [_any(6), _any(6)]),
    "binary_cross_entropy": (F.binary_cross_entropy, [R.uniform(0.1, 0.9, 5), Const(R.uniform(0, 1, 5))]),
    "binary_cross_entropy_with_logits": (F.binary_cross_entropy_with_logits, [_any(5), Const(R.uniform(0, 1, 5))]),
    "binary_cross_entropy_with_logits_weighted": (
        lambda a, t: F.binary_cross_entropy_with_logits(a, t, dlcore.tensor(WEIGHTS[:2], device=a.device),
                                                        pos_weight=dlcore.tensor(WEIGHTS[1:3], device=a.device)),
        [_any(3, 2), Const(R.uniform(0, 1, (3, 2)))]),
    "kl_div_batchmean": (lambda a, t: F.kl_div(F.log_softmax(a, 1), t, reduction="batchmean"),
                         [_any(2, 3), Const(R.dirichlet(np.ones(3), 2))]),
    "multi_margin_loss_squared": (lambda a: F.multi_margin_loss(a, dlcore.tensor(LABELS, device=a.device), p=2),
                             [_any(3, 4)]),
    "multi_margin_loss_weighted": (lambda a: F.multi_margin_loss(a, dlcore.tensor(LABELS, device=a.device),
                                                                 weight=dlcore.tensor(WEIGHTS, device=a.device)),
                                   [_any(3, 4)]),
    "cosine_similarity": (lambda a, b: F.cosine_similarity(a, b), [_any(3, 4), _any(3, 4)]),
    "cosine_proximity_loss": (lambda a, b: F.cosine_proximity_loss(a, b), [_any(3, 4), _any(3, 4)]),
    "l1_penalty": (lambda w: F.l1_penalty(w, 0.3), [_away_from_kinks(4)]),
    "l2_penalty": (lambda w: F.l2_penalty(w, 0.3), [_any(4)]),
    "batch_norm_train": (lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True),
                         [_any(4, 3, 2, 2), _pos(3), _any(3)]),
    "batch_norm_eval": (lambda x, w, b, mean, var: F.batch_norm(x, mean, var, w, b),
                        [_any(4, 3), _pos(3), _any(3), Const(_any(3)), Const(_pos(3))]),
    "layer_norm": (lambda x, w, b: F.layer_norm(x, (2, 3), w, b), [_any(4, 2, 3), _pos(2, 3), _any(2, 3)]),
    "dropout": (lambda x: F.dropout(x, 0.4, seed=5), [_any(4, 5)]),
    "dropout2d": (lambda x: F.dropout2d(x, 0.5, seed=5), [_any(2, 3, 2, 2)]),
    "conv2d_stride_pad_dilation": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1, dilation=2),
                                   [_any(2, 3, 7, 6), _any(4, 3, 3, 2), _any(4)]),
    "conv2d_groups": (lambda x, w: F.conv2d(x, w, groups=2, padding="same"), [_any(1, 4, 5, 5), _any(6, 2, 3, 3)]),
    "conv1d": (lambda x, w, b: F.conv1d(x, w, b, padding=1), [_any(2, 2, 7), _any(3, 2, 3), _any(3)]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, 2, padding=1), [_any(2, 2, 6, 5)]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 2, ceil_mode=True, count_include_pad=False), [_any(1, 2, 5, 5)]),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, 1), [_any(2, 3, 4, 4)]),
    "lstm_cell": (F.lstm_cell, [_any(3, 8) * 2, _any(3, 2)]),
    "lstm_cell_h_only": (lambda g, c: F.lstm_cell(g, c)[0], [_any(2, 12), _any(2, 3)]),
    "lstm_cell_c_only": (lambda g, c: F.lstm_cell(g, c)[1], [_any(2, 12), _any(2, 3)]),
    "gru_cell": (F.gru_cell, [_any(3, 6) * 2, _any(3, 6), _any(3, 2)]),
    "index_select": (lambda x: F.index_select(x, 0, [2, 0, 2, -1]), [_any(3, 4)]),
    "index_add": (lambda x, s: F.index_add(x, 1, [0, 0, 3], s), [_any(2, 4), _any(2, 3)]),
    "getitem_arrays": (lambda x: x[[1, 1, 0], [3, 0, 3]], [_any(2, 4)]),
}


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("name", sorted(OPS))
def test_gradcheck(name, device):
    fn, arrays = OPS[name]
    inputs = [dlcore.tensor(a.array, device=device) if isinstance(a, Const) else leaf(a, device) for a in arrays]
    assert gradcheck(fn, inputs)


def test_every_functional_op_is_gradchecked():
    """A differentiable function added to dlcore.functional must get a gradcheck entry above."""
    covered = " ".join(OPS)
    skip = {"heaviside", "activation", "reshape", "flatten", "transpose", "permute", "squeeze", "unsqueeze",
            "concatenate", "where", "linear", "swish", "cat", "stack", "split", "chunk", "unbind"}
    for name in F.__all__:
        if "_backward" in name or name in skip:
            continue
        assert name in covered, f"{name} has no gradcheck"
