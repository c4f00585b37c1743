"""Dataset, TensorDataset and DataLoader.

A TensorDataset keeps its arrays as NumPy arrays (a dlcore CPU tensor is viewed, not copied), so
a batch is one gather per array -- or, in order, a slice that copies nothing -- wrapped as a
dlcore tensor sharing its memory. Shuffling draws one permutation per epoch from a generator
seeded by (seed, epoch): the same seed gives the same batches, and a run resumed at epoch e sees
what an uninterrupted run would have. With prefetch > 0 a background thread prepares the next
batches (gathers, augmentation, the copy to the device) while the kernels run."""
import queue
import threading

import numpy as np

from ..functional import _number
from ..tensor import Tensor, from_numpy

__all__ = ["Dataset", "TensorDataset", "Subset", "DataLoader", "random_split", "train_val_split"]


class Dataset:
    """Anything with __len__ and __getitem__(i) returning a sample (a tuple of arrays or numbers)."""

    def __len__(self):
        raise NotImplementedError

    def __getitem__(self, i):
        raise NotImplementedError


def _as_array(a):
    if isinstance(a, Tensor):
        if a.device.type != "cpu":
            raise ValueError(f"[TensorDataset] expected CPU tensors (batches are moved by the DataLoader), got {a.device}")
        return a.numpy()
    return np.asarray(a)


class TensorDataset(Dataset):
    """Samples are the rows of equally long arrays (NumPy arrays or CPU tensors): (x[i], y[i], ...)."""

    def __init__(self, *arrays):
        if not arrays:
            raise ValueError("[TensorDataset] expected at least one array")
        self.arrays = tuple(_as_array(a) for a in arrays)
        n = len(self.arrays[0]) if self.arrays[0].ndim else None
        for i, a in enumerate(self.arrays):
            if a.ndim == 0 or len(a) != n:
                expected = f"{n} rows like array 0" if n is not None else "an array of rows (at least 1 dim)"
                raise ValueError(f"[TensorDataset] array {i} has shape {a.shape}; expected {expected}")

    def __len__(self):
        return len(self.arrays[0])

    def __getitem__(self, i):
        return tuple(a[i] for a in self.arrays)


class Subset(Dataset):
    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, np.asarray(indices, np.int64).reshape(-1)
        n = len(dataset)
        bad = self.indices[(self.indices < -n) | (self.indices >= n)]
        if bad.size:
            raise IndexError(f"[Subset] index {bad[0]} is out of range for a dataset of {n} samples "
                             f"(expected -{n} <= index < {n})")

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        return self.dataset[int(self.indices[i])]


def random_split(dataset, lengths, seed=0):
    """Disjoint random parts of the given lengths (or fractions summing to 1). Parts of a
    TensorDataset are TensorDatasets (their batches stay one gather)."""
    n = len(dataset)
    if all(isinstance(v, float) for v in lengths) and abs(sum(lengths) - 1) < 1e-9:
        sizes = [int(np.floor(f * n)) for f in lengths]
        sizes[0] += n - sum(sizes)
    else:
        sizes = [int(v) for v in lengths]
    if sum(sizes) != n or any(s < 0 for s in sizes):
        raise ValueError(f"[random_split] lengths {list(lengths)} do not split a dataset of {n} samples")
    order = np.random.default_rng(seed).permutation(n)
    parts, start = [], 0
    for s in sizes:
        idx = order[start:start + s]
        start += s
        if isinstance(dataset, TensorDataset):
            parts.append(TensorDataset(*(a[idx] for a in dataset.arrays)))
        else:
            parts.append(Subset(dataset, idx))
    return parts


def train_val_split(dataset, val_fraction=0.1, seed=0):
    """(train, validation) parts, the validation part val_fraction of the samples."""
    val_fraction = _number(val_fraction, "val_fraction", "train_val_split", 0, 1, high_open=True)
    n = len(dataset)
    n_val = int(round(n * val_fraction))
    return tuple(random_split(dataset, [n - n_val, n_val], seed))


def default_collate(samples):
    """A batch from a list of samples: each field stacked into one array."""
    if not samples:
        raise ValueError("[default_collate] expected a non-empty list of samples, got an empty one")
    fields = []
    for k in range(len(samples[0])):
        values = [np.asarray(s[k]) for s in samples]
        shapes = {v.shape for v in values}
        if len(shapes) > 1:
            raise ValueError(f"[default_collate] expected field {k} of one shape in every sample, got shapes "
                             f"{sorted(shapes)}")
        fields.append(np.stack(values))
    return tuple(fields)


class DataLoader:
    """Batches of a dataset as tuples of dlcore tensors.

    shuffle / seed: a new order every epoch, reproducible from seed; drop_last: skip a final short
    batch; transform: fn(x, rng) -> x applied to the first array of each batch (NumPy, vectorised:
    see dlcore.data.transforms), rng a generator seeded per epoch; device: where the batches go;
    prefetch: how many batches a background thread prepares ahead (0: none)."""

    def __init__(self, dataset, batch_size=1, shuffle=False, seed=None, drop_last=False, collate_fn=None,
                 transform=None, device=None, prefetch=0):
        batch_size = _number(batch_size, "batch_size", "DataLoader", 1, integer=True)
        prefetch = _number(prefetch, "prefetch", "DataLoader", 0, integer=True)
        if not (hasattr(dataset, "__len__") and hasattr(dataset, "__getitem__")):
            raise TypeError(f"[DataLoader] expected a dataset (with __len__ and __getitem__), got "
                            f"{type(dataset).__name__}")
        self.dataset, self.batch_size, self.shuffle, self.drop_last = dataset, batch_size, shuffle, drop_last
        self.seed = int(np.random.SeedSequence().entropy % (1 << 63)) if seed is None else int(seed)
        self.collate_fn, self.transform, self.device, self.prefetch = collate_fn, transform, device, prefetch
        self.epoch = 0

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def state_dict(self):
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state):
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])

    def _batches(self, epoch):
        n = len(self.dataset)
        rng = np.random.default_rng([self.seed, epoch])
        order = rng.permutation(n) if self.shuffle else None
        stop = n - n % self.batch_size if self.drop_last else n
        for lo in range(0, stop, self.batch_size):
            hi = min(lo + self.batch_size, n)
            arrays = self._gather(order, lo, hi)
            if self.transform is not None:
                arrays = (self.transform(arrays[0], rng),) + tuple(arrays[1:])
            batch = tuple(from_numpy(np.ascontiguousarray(a)) for a in arrays)
            if self.device is not None:
                batch = tuple(t.to(self.device) for t in batch)
            yield batch

    def _gather(self, order, lo, hi):
        if isinstance(self.dataset, TensorDataset):
            if order is None:
                return tuple(a[lo:hi] for a in self.dataset.arrays)  # a view: no copy
            idx = order[lo:hi]
            return tuple(np.take(a, idx, axis=0) for a in self.dataset.arrays)
        idx = range(lo, hi) if order is None else order[lo:hi]
        return (self.collate_fn or default_collate)([self.dataset[int(i)] for i in idx])

    def __iter__(self):
        epoch = self.epoch
        self.epoch += 1
        if self.prefetch <= 0:
            return self._batches(epoch)
        return _prefetched(self._batches(epoch), self.prefetch)


_DONE = object()


def _prefetched(batches, depth):
    """Runs the batch generator in a background thread, `depth` batches ahead."""
    q = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item):  # False once the consumer has gone
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for b in batches:
                if not put(b):
                    return
            put(_DONE)
        except BaseException as e:  # handed to the consumer, raised there
            put(e)

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    try:
        while True:
            item = q.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()
