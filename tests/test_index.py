"""Row gather and scatter-add (index_select, index_add) and the integer / bool array indexing built
on them, on every backend, against NumPy (np.take, np.add.at, NumPy's own indexing); gradients by
float64 central differences."""
import numpy as np
import pytest

import backends
import dlcore
from dlcore.autograd import gradcheck

T = backends.tensor
N = backends.array
DTYPES = (np.float32, np.float64, np.int32, np.int64, np.bool_)


def values(rng, shape, dtype):
    if dtype == np.bool_:
        return rng.random(shape) < 0.5
    return (rng.standard_normal(shape) * 10).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape, dim", [((7,), 0), ((5, 3), 0), ((5, 3), 1), ((2, 13, 3), 1), ((4, 3, 1), -1),
                                        ((3, 0, 2), 0), ((1, 1), 0)])
def test_index_select_is_np_take(backend, rng, dtype, shape, dim):
    x = values(rng, shape, dtype)
    n = shape[dim]
    for idx in ([], list(range(n)), [n - 1, 0, n - 1, -1] if n else []):
        got = N(dlcore.index_select(T(x), dim, idx))
        np.testing.assert_array_equal(got, np.take(x, np.asarray(idx, np.int64), axis=dim))


@pytest.mark.parametrize("dtype", (np.float32, np.float64, np.int32, np.int64))
def test_index_add_accumulates_repeats_like_np_add_at(backend, rng, dtype):
    base = values(rng, (4, 6, 3), dtype)
    idx = np.array([5, 0, 5, 5, -1, 2])
    src = values(rng, (4, 6, 3), dtype)
    got = N(dlcore.index_add(T(base), 1, T(idx), T(src)))
    want = base.copy()
    np.add.at(want, (slice(None), idx % 6), src)
    np.testing.assert_allclose(got, want, rtol=1e-6)
    np.testing.assert_array_equal(N(dlcore.index_add(T(base), 1, [], T(src[:, :0]))), base)


def test_index_select_of_a_non_contiguous_view(backend, rng):
    x = rng.standard_normal((6, 5)).astype(np.float32)
    view = T(x).transpose(0, 1)[::2]
    np.testing.assert_array_equal(N(view.index_select(1, [4, 1])), x.T[::2][:, [4, 1]])


def test_large_gather_splits_over_threads(backend, threads, rng):
    x = rng.standard_normal((3000, 70)).astype(np.float32)
    idx = rng.integers(-3000, 3000, 5000)
    np.testing.assert_array_equal(N(dlcore.index_select(T(x), 0, idx)), x[idx])
    g = rng.standard_normal((5000, 70)).astype(np.float32)
    want = np.zeros_like(x)
    np.add.at(want, idx, g)
    np.testing.assert_allclose(N(dlcore.index_add(T(np.zeros_like(x)), 0, idx, T(g))), want, rtol=1e-5, atol=1e-5)


KEYS = [
    lambda a: [0, 2, -1],                          # rows
    lambda a: (slice(None), [1, 1, 0]),            # columns, repeated
    lambda a: (Ellipsis, [3, 0]),                  # the last dim
    lambda a: (np.arange(3), [1, 0, 2]),           # one element per row: probs[range(N), y]
    lambda a: (np.array([[0], [2]]), [0, 3]),      # broadcast index arrays
    lambda a: a > 0,                               # a full bool mask
    lambda a: (a[:, 0, 0] > 0,),                   # a mask over the first dim
    lambda a: (1, slice(None), [0, 3]),            # an int is an index array too: apart, their dims go first
    lambda a: ([0, 2], slice(1, 3), [[4], [0]]),   # arrays apart
    lambda a: (None, [2, 0]),                      # a new dim before the indexed one
    lambda a: (slice(0, 2), np.array([[1, 2], [0, 0]])),  # a 2-d index array
    lambda a: np.array([], np.int64),              # no rows
]


@pytest.mark.parametrize("make_key", KEYS)
def test_array_indexing_is_numpys(backend, rng, make_key):
    a = rng.standard_normal((3, 4, 5)).astype(np.float32)
    key = make_key(a)
    got = T(a)[tuple(T(k) if isinstance(k, np.ndarray) and k.dtype == np.bool_ else k for k in key)
               if isinstance(key, tuple) else key]
    np.testing.assert_array_equal(N(got), a[key])


def test_index_tensors_on_the_device(backend, rng):
    a = rng.standard_normal((5, 3)).astype(np.float32)
    idx = np.array([4, 0, 4])
    np.testing.assert_array_equal(N(T(a)[T(idx)]), a[idx])
    np.testing.assert_array_equal(N(T(a)[T(a) > 0]), a[a > 0])


def test_gradients(backend, rng):
    x = T(rng.standard_normal((4, 5))).requires_grad_()
    s = T(rng.standard_normal((4, 3))).requires_grad_()
    assert gradcheck(lambda x: dlcore.index_select(x, 1, [4, 0, 4]), [x])
    assert gradcheck(lambda x, s: dlcore.index_add(x, 1, [1, 1, -1], s), [x, s])
    assert gradcheck(lambda x: x[[0, 0, 3], 1:], [x])
    assert gradcheck(lambda x: x[np.arange(4), [1, 2, 1, 0]], [x])
    assert gradcheck(lambda x: x[N(x) > 0.3], [x])
    assert gradcheck(lambda x: x[None, [1, 0], None, [2, 2]], [x])


def test_picking_the_true_class_probability_trains_like_the_course_notes():
    """The course notes' softmax loss written with array indexing: -log p[range(N), y]."""
    rng = np.random.default_rng(0)
    logits = dlcore.tensor(rng.standard_normal((6, 4)), requires_grad=True)
    y = rng.integers(0, 4, 6)
    loss = -dlcore.functional.log_softmax(logits, 1)[np.arange(6), y].mean()
    loss.backward()
    want = dlcore.functional.cross_entropy(logits.detach(), dlcore.tensor(y))
    np.testing.assert_allclose(loss.item(), want.item(), rtol=1e-12)
    p = np.exp(logits.detach().numpy())
    p /= p.sum(1, keepdims=True)
    p[np.arange(6), y] -= 1
    np.testing.assert_allclose(logits.grad.numpy(), p / 6, rtol=1e-10, atol=1e-12)


def test_bad_indices_raise_clear_errors(backend):
    x = T(np.zeros((3, 4), np.float32))
    with pytest.raises(IndexError, match=r"\[index_select\] index 3 is out of bounds for dim 0 of size 3"):
        dlcore.index_select(x, 0, [0, 3])
    with pytest.raises(IndexError, match=r"\[index_select\] index -5 is out of bounds for dim 1 of size 4"):
        dlcore.index_select(x, 1, [-5])
    with pytest.raises(ValueError, match=r"\[index_select\] expected a 1-D index, got shape \(1, 2\)"):
        dlcore.index_select(x, 0, [[0, 1]])
    with pytest.raises(TypeError, match=r"\[index_select\] expected an integer index"):
        dlcore.index_select(x, 0, [0.5])
    with pytest.raises(IndexError, match="index_select"):
        dlcore.index_select(x, 2, [0])
    with pytest.raises(ValueError, match=r"\[index_add\] expected source of shape \(2, 4\)"):
        dlcore.index_add(x, 0, [0, 1], T(np.zeros((3, 4), np.float32)))
    with pytest.raises(TypeError, match=r"\[index_add\] expected a numeric tensor, got bool"):
        dlcore.index_add(T(np.zeros(3, bool)), 0, [0], T(np.ones(1, bool)))
    with pytest.raises(IndexError, match=r"\[getitem\] index 4 is out of bounds for dim 1 of size 4"):
        x[[0, 1], [2, 4]]
    with pytest.raises(IndexError, match=r"\[getitem\] a bool mask of shape \(2,\)"):
        x[np.array([True, False])]
    with pytest.raises(IndexError, match="cannot be broadcast"):
        x[[0, 1], [0, 1, 2]]
    with pytest.raises(IndexError, match="integers or bools"):
        x[np.array([0.0])]
    with pytest.raises(IndexError, match=r"\[setitem\]"):
        x[[0, 1]] = 1.0


def test_mixed_devices_raise():
    with pytest.raises(Exception, match=r"\[index_select\].*device"):
        dlcore._C.index_select(dlcore.zeros(3)._t, 0, dlcore.tensor([0], device="cuda")._t)
