"""The IDX file format of MNIST: a 4-byte magic (two zero bytes, a type code, the number of
dimensions), the dimensions as big-endian uint32, then the values in row-major order, big-endian.
Files may be gzip-compressed. The reader checks every field against the file's real size before
allocating anything, so a corrupt, truncated or hostile file gives an IDXError, never an absurd
allocation."""
import gzip
import os
import struct

import numpy as np

__all__ = ["IDXError", "read_idx", "write_idx"]

# type code -> big-endian NumPy dtype
_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_CODES = {np.dtype(v).newbyteorder("="): k for k, v in _TYPES.items()}
_MAX_BYTES = 1 << 34  # 16 GiB: far above any IDX dataset; a larger header is corrupt
# Deflate expands at most 1032-fold, so a gzip'd file of n bytes holds at most 1032 n bytes of
# data: a header claiming more is refused before reading, instead of decompressing a gzip bomb.
_MAX_GZIP_RATIO = 1032


class IDXError(ValueError):
    """A file that is not a valid IDX file (the message says what is wrong)."""


def _read(stream, n):
    """Up to n bytes, read in 1 MiB pieces: memory grows with the data really there, never with
    what a header claims."""
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(min(n - got, 1 << 20))
        if not chunk:
            break
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def read_idx(path):
    """The array stored in an IDX file (gzip'd or not), in native byte order."""
    path = os.fspath(path)
    with open(path, "rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
        raw.seek(0)
        stream = gzip.GzipFile(fileobj=raw) if gzipped else raw
        room = os.fstat(raw.fileno()).st_size * _MAX_GZIP_RATIO if gzipped else None
        try:
            return _parse(stream, path, room)
        except (OSError, EOFError) as e:  # gzip.BadGzipFile is an OSError
            raise IDXError(f"[read_idx] {path}: corrupt gzip data ({e})") from None


def _parse(stream, path, room):
    """The array of an IDX stream; room: the most data bytes the file can hold (None: unknown)."""
    magic = _read(stream, 4)
    if len(magic) < 4:
        raise IDXError(f"[read_idx] {path}: {len(magic)} bytes, too short for the 4-byte IDX magic")
    zero, code, ndim = struct.unpack(">HBB", magic)
    if zero != 0 or code not in _TYPES:
        raise IDXError(f"[read_idx] {path}: bad magic {magic.hex()} (expected 0000, a type code in "
                       f"{', '.join(hex(c) for c in _TYPES)}, then the number of dims)")
    if ndim == 0:
        raise IDXError(f"[read_idx] {path}: the header declares 0 dimensions")
    dims = _read(stream, 4 * ndim)
    if len(dims) < 4 * ndim:
        raise IDXError(f"[read_idx] {path}: truncated header ({ndim} dims need {4 * ndim} bytes, got {len(dims)})")
    shape = struct.unpack(f">{ndim}I", dims)
    dtype = np.dtype(_TYPES[code])
    expected = dtype.itemsize
    for s in shape:
        expected *= s
        if expected > _MAX_BYTES:
            raise IDXError(f"[read_idx] {path}: the header's shape {shape} would need more than {_MAX_BYTES} bytes")
    if room is not None and expected > room:
        raise IDXError(f"[read_idx] {path}: the header's shape {shape} of {dtype.name} needs {expected} bytes of data, "
                       f"more than a gzip file of this size can hold ({room})")
    data = _read(stream, expected)
    if len(data) != expected or stream.read(1):
        size = f"{len(data)}" if len(data) != expected else "more than that"
        raise IDXError(f"[read_idx] {path}: the header's shape {shape} of {dtype.name} needs {expected} bytes of "
                       f"data, the file has {size}")
    return np.frombuffer(data, dtype).reshape(shape).astype(dtype.newbyteorder("="))


def write_idx(path, array, compress=None):
    """Writes array as an IDX file (gzip'd when compress, or when the name ends in .gz)."""
    a = np.ascontiguousarray(array)
    code = _CODES.get(a.dtype)
    if code is None:
        raise IDXError(f"[write_idx] IDX cannot store dtype {a.dtype}; expected one of "
                       f"{', '.join(str(d) for d in _CODES)}")
    if a.ndim == 0 or a.ndim > 255:
        raise IDXError(f"[write_idx] expected 1 to 255 dims, got {a.ndim}")
    body = struct.pack(">HBB", 0, code, a.ndim) + struct.pack(f">{a.ndim}I", *a.shape) + \
        a.astype(_TYPES[code]).tobytes()
    path = os.fspath(path)
    if compress or (compress is None and path.endswith(".gz")):
        body = gzip.compress(body)
    with open(path, "wb") as f:
        f.write(body)
