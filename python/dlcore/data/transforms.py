"""Data augmentation and normalisation (the course notes' list), applied on the fly to a whole
batch at once with vectorised NumPy: each transform is fn(x, rng) -> x for a batch x of images
(N, C, H, W) (Normalize also takes flat (N, features) batches) and a NumPy generator, and the
DataLoader calls it per batch with its per-epoch generator."""
import numpy as np

from ..functional import _number

__all__ = ["Compose", "Normalize", "RandomShift", "RandomRotation", "RandomHorizontalFlip", "RandomCrop"]


def _check_images(x, op):
    if x.ndim != 4:
        raise ValueError(f"[{op}] expected a batch of images (N, C, H, W), got shape {x.shape}")


class Compose:
    def __init__(self, *transforms):
        self.transforms = transforms

    def __call__(self, x, rng):
        for t in self.transforms:
            x = t(x, rng)
        return x


class Normalize:
    """(x - mean) / std per feature (per pixel, or per channel with per_channel=True), with the
    statistics fitted on the training set: Normalize.fit(train_x)."""

    def __init__(self, mean, std, eps=1e-7):
        eps = _number(eps, "eps", "Normalize", 0, low_open=True)
        mean, std = np.asarray(mean, np.float32), np.asarray(std, np.float32)
        if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std >= 0).all()):
            raise ValueError(f"[Normalize] expected a finite mean and a finite std >= 0, got mean {mean} and std {std}")
        self.mean, self.std = mean, np.maximum(std, eps)

    @classmethod
    def fit(cls, x, per_channel=False):
        x = np.asarray(x, np.float64)
        axes = (0,) + tuple(range(2, x.ndim)) if per_channel else (0,)
        mean, std = x.mean(axes, keepdims=True)[0], x.std(axes, keepdims=True)[0]
        return cls(mean, std)

    def __call__(self, x, rng=None):
        return ((x - self.mean) / self.std).astype(np.float32)


class RandomShift:
    """Translates each image by up to max_shift pixels in each direction (zeros fill the gap)."""

    def __init__(self, max_shift=2):
        self.max_shift = _number(max_shift, "max_shift", "RandomShift", 0, integer=True)

    def __call__(self, x, rng):
        _check_images(x, "RandomShift")
        n, c, h, w = x.shape
        m = self.max_shift
        padded = np.pad(x, ((0, 0), (0, 0), (m, m), (m, m)))
        dy, dx = rng.integers(-m, m + 1, n), rng.integers(-m, m + 1, n)
        rows = (np.arange(h)[None, :] + m - dy[:, None])[:, None, :, None]
        cols = (np.arange(w)[None, :] + m - dx[:, None])[:, None, None, :]
        return padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols]


class RandomRotation:
    """Rotates each image about its centre by a uniform angle in [-degrees, degrees] (bilinear
    sampling, zeros outside)."""

    def __init__(self, degrees=10.0):
        self.degrees = _number(degrees, "degrees", "RandomRotation", 0)

    def __call__(self, x, rng):
        _check_images(x, "RandomRotation")
        n, c, h, w = x.shape
        theta = np.deg2rad(rng.uniform(-self.degrees, self.degrees, n))[:, None, None]
        yy, xx = np.meshgrid(np.arange(h) - (h - 1) / 2, np.arange(w) - (w - 1) / 2, indexing="ij")
        cos, sin = np.cos(theta), np.sin(theta)
        src_y = cos * yy[None] - sin * xx[None] + (h - 1) / 2  # where each output pixel comes from
        src_x = sin * yy[None] + cos * xx[None] + (w - 1) / 2
        y0, x0 = np.floor(src_y).astype(np.int64), np.floor(src_x).astype(np.int64)
        fy, fx = (src_y - y0)[:, None], (src_x - x0)[:, None]
        padded = np.pad(x, ((0, 0), (0, 0), (1, 2), (1, 2)))
        b = np.arange(n)[:, None, None, None]
        ch = np.arange(c)[None, :, None, None]

        def at(yi, xi):
            yi = np.clip(yi + 1, 0, h + 2)[:, None]
            xi = np.clip(xi + 1, 0, w + 2)[:, None]
            return padded[b, ch, yi, xi]
        top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx
        bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx
        return (top * (1 - fy) + bottom * fy).astype(x.dtype)


class RandomHorizontalFlip:
    def __init__(self, p=0.5):
        self.p = _number(p, "p", "RandomHorizontalFlip", 0, 1)

    def __call__(self, x, rng):
        _check_images(x, "RandomHorizontalFlip")
        flip = rng.random(x.shape[0]) < self.p
        out = x.copy()
        out[flip] = x[flip][..., ::-1]
        return out


class RandomCrop:
    """A random size x size window of each image zero-padded by `padding` on every side."""

    def __init__(self, size, padding=0):
        sizes = (size, size) if np.isscalar(size) else tuple(size)
        self.size = tuple(_number(s, "size", "RandomCrop", 1, integer=True) for s in sizes)
        self.padding = _number(padding, "padding", "RandomCrop", 0, integer=True)

    def __call__(self, x, rng):
        _check_images(x, "RandomCrop")
        n, c, h, w = x.shape
        p = self.padding
        th, tw = self.size
        if th > h + 2 * p or tw > w + 2 * p:
            raise ValueError(f"[RandomCrop] a {self.size} crop does not fit images {h}x{w} padded by {p}")
        padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        top, left = rng.integers(0, h + 2 * p - th + 1, n), rng.integers(0, w + 2 * p - tw + 1, n)
        rows = (top[:, None] + np.arange(th)[None, :])[:, None, :, None]
        cols = (left[:, None] + np.arange(tw)[None, :])[:, None, None, :]
        return padded[np.arange(n)[:, None, None, None], np.arange(c)[None, :, None, None], rows, cols]
