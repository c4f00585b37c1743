"""Cross-cutting reliability: kernels called from several Python threads at once, next to NumPy's
BLAS pool, and memory that stays flat over many training steps."""
import gc
import threading
import weakref

import numpy as np
import pytest

import dlcore
import dlcore.functional as F
from dlcore import nn, optim


def _in_threads(work, n=4, timeout=120):
    errors, threads = [], []

    def run(i):
        try:
            work(i)
        except BaseException as e:  # reported in the main thread
            errors.append(e)
    for i in range(n):
        threads.append(threading.Thread(target=run, args=(i,)))
        threads[-1].start()
    for t in threads:
        t.join(timeout)
        assert not t.is_alive(), "a thread hung (deadlock?)"
    if errors:
        raise errors[0]


def test_kernels_from_several_python_threads_give_correct_results():
    rng = np.random.default_rng(0)
    data = [(rng.standard_normal((64, 80)).astype(np.float32), rng.standard_normal((80, 48)).astype(np.float32),
             rng.standard_normal((2, 3, 12, 12)).astype(np.float32), rng.standard_normal((4, 3, 3, 3)).astype(np.float32))
            for _ in range(4)]
    expected = []
    for a, b, x, w in data:
        expected.append((dlcore.tensor(a) @ dlcore.tensor(b), F.conv2d(dlcore.tensor(x), dlcore.tensor(w), padding=1),
                         F.softmax(dlcore.tensor(a), 1)))

    def work(i):
        a, b, x, w = data[i]
        ta, tb, tx, tw = (dlcore.tensor(v) for v in (a, b, x, w))
        for _ in range(25):
            got = (ta @ tb, F.conv2d(tx, tw, padding=1), F.softmax(ta, 1))
            for g, e in zip(got, expected[i]):
                np.testing.assert_array_equal(g.numpy(), e.numpy())
    _in_threads(work)


def test_no_deadlock_beside_numpy_blas():
    a = np.random.default_rng(1).standard_normal((300, 300))
    t = dlcore.tensor(a.astype(np.float32))

    def work(i):
        for _ in range(10):
            if i % 2:
                a @ a
            else:
                (t @ t).sum().item()
    _in_threads(work)


def test_thread_count_is_honoured():
    before = dlcore.get_num_threads()
    try:
        dlcore.set_num_threads(1)
        assert dlcore.get_num_threads() == 1
        x = dlcore.randn(256, 256)
        np.testing.assert_allclose((x @ x).numpy(), x.numpy() @ x.numpy(), rtol=1e-4, atol=1e-3)
    finally:
        dlcore.set_num_threads(before)


def _rss_bytes():
    with open("/proc/self/statm") as f:
        import os
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


DEVICES = ["cpu"] + (["cuda"] if dlcore.cuda.is_available() else [])


def _mnist_cnn(device):
    """The course notes' MNIST CNN, dropout included (its masks come from the seeded generator)."""
    return nn.Sequential(nn.Conv2d(1, 10, 5), nn.MaxPool2d(2), nn.ReLU(), nn.Conv2d(10, 20, 5), nn.Dropout2d(0.5),
                         nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(320, 50, activation="relu"),
                         nn.Dropout(0.5), nn.Linear(50, 10)).to(device)


@pytest.mark.parametrize("device", DEVICES)
def test_training_memory_stays_flat(device):
    """Training steps of the MNIST CNN: after a warm-up, the process RSS (and on cuda the caching
    allocator's live bytes) must not grow with the number of steps."""
    steps = 1000
    batch = 8 if device == "cpu" else 4  # the emulated device runs a step some fifty times slower
    dlcore.manual_seed(0)
    model = _mnist_cnn(device)
    opt = optim.Adam(model.parameters(), lr=1e-3)
    x = dlcore.rand(batch, 1, 28, 28, device=device)
    y = dlcore.tensor(np.arange(batch) % 10, device=device)

    def train(n):
        for _ in range(n):
            loss = F.cross_entropy(model(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        gc.collect()

    train(steps // 10)
    rss0 = _rss_bytes()
    live0 = dlcore.cuda.memory_stats()["allocated_bytes"] if device == "cuda" else None
    train(steps)
    grown = _rss_bytes() - rss0
    assert grown < 8 << 20, f"RSS grew by {grown / 2**20:.1f} MiB over {steps} steps"
    if device == "cuda":
        assert dlcore.cuda.memory_stats()["allocated_bytes"] == live0


@pytest.mark.parametrize("device", DEVICES)
def test_same_seed_gives_bitwise_identical_losses(device, threads):
    """Two runs from the same seed -- initial weights, shuffling, dropout masks -- give the same
    losses bit for bit on one device and thread count (every reduction has a fixed order)."""
    images = np.random.default_rng(0).random((24, 1, 28, 28), dtype=np.float32)
    labels = np.arange(24) % 10

    def run():
        dlcore.manual_seed(7)
        model = _mnist_cnn(device)
        opt = optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
        loader = dlcore.data.DataLoader(dlcore.data.TensorDataset(images, labels), 8, shuffle=True, seed=3)
        losses = []
        for x, y in loader:
            loss = F.cross_entropy(model(x.to(device)), y.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return losses

    first = run()
    assert run() == first and len(set(first)) > 1


@pytest.mark.parametrize("device", DEVICES)
def test_reference_cycles_through_the_graph_are_freed(device):
    """A hook that refers to its own tensor makes a cycle through the autograd graph: the
    collector frees it, and with it the tensor's memory."""
    live0 = dlcore.cuda.memory_stats()["allocated_bytes"] if device == "cuda" else None
    x = dlcore.ones(1 << 16, device=device, requires_grad=True)
    y = (x * 2).relu()
    y.register_hook(lambda g, y=y: g * (y.shape[0] > 0))  # y -> hook -> y
    y.sum().backward()
    ref = weakref.ref(y)
    del y
    gc.collect()
    assert ref() is None
    np.testing.assert_array_equal(x.grad.cpu().numpy(), np.full(1 << 16, 2.0, np.float32))
    del x
    gc.collect()
    if device == "cuda":
        assert dlcore.cuda.memory_stats()["allocated_bytes"] == live0
