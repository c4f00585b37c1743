"""Hostile files, fuzzed: the IDX reader, the dataset cache and the checkpoint loader (.npz and
.safetensors) given random bytes, truncated or corrupted copies of valid files, headers that claim
absurd sizes, object arrays (which would need pickle) and states of the wrong shape or dtype. Each
must end in a clean exception that names the file and says what is wrong: never a crash, a hang,
an absurd allocation or a silently wrong result.

The explicit @example cases are the failures the fuzzing found (and regressions for them)."""
import gzip
import io
import json
import os
import struct
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import dlcore
from dlcore import data, nn, optim
from dlcore.data import IDXError, read_idx, write_idx

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


def _write(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    return path


# ---- IDX -----------------------------------------------------------------------------------------

def _idx(array):
    """The IDX bytes of array (write_idx's format, checked against it below)."""
    buf = io.BytesIO()
    code = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}
    a = np.ascontiguousarray(array)
    buf.write(struct.pack(">HBB", 0, code[a.dtype.type], a.ndim) + struct.pack(f">{a.ndim}I", *a.shape))
    buf.write(a.astype(a.dtype.newbyteorder(">")).tobytes())
    return buf.getvalue()


VALID_IDX = _idx(np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4))


def _read_cleanly(path):
    """read_idx(path) either returns an array whose size matches its header, or raises an IDXError
    naming the file."""
    try:
        out = read_idx(path)
    except IDXError as e:
        assert str(path) in str(e), f"the message does not name the file: {e}"
        return None
    assert isinstance(out, np.ndarray)
    return out


def test_idx_writer_and_reader_agree_on_the_test_bytes(tmp_path):
    path = tmp_path / "ref.idx"
    write_idx(path, np.arange(24, dtype=np.uint8).reshape(2, 3, 4))
    assert path.read_bytes() == VALID_IDX


@FUZZ
@given(content=st.binary(max_size=300), compress=st.booleans())
@example(content=b"", compress=False)
@example(content=b"\x00\x00\x08", compress=False)
@example(content=b"\x00\x00\x08\x00", compress=False)  # zero dims
@example(content=b"\x00\x00\x07\x01\x00\x00\x00\x01\x00", compress=False)  # unknown type code
# a header claiming 2^40 elements: refused before anything is allocated
@example(content=struct.pack(">HBB", 0, 0x08, 2) + struct.pack(">II", 1 << 20, 1 << 20), compress=False)
@example(content=struct.pack(">HBB", 0, 0x0E, 4) + struct.pack(">4I", *(0xFFFFFFFF,) * 4), compress=True)
def test_idx_random_bytes(tmp_path, content, compress):
    path = _write(tmp_path, "random.idx" + (".gz" if compress else ""), gzip.compress(content) if compress else content)
    _read_cleanly(path)


@FUZZ
@given(cut=st.integers(0, len(VALID_IDX) - 1), compress=st.booleans())
def test_idx_truncated(tmp_path, cut, compress):
    body = VALID_IDX[:cut]
    if compress:  # a gzip stream cut short
        body = gzip.compress(VALID_IDX)[:cut]
    path = _write(tmp_path, "cut.idx", body)
    with pytest.raises(IDXError, match="cut.idx"):
        read_idx(path)


@FUZZ
@given(flips=st.lists(st.tuples(st.integers(0, len(VALID_IDX) - 1), st.integers(1, 255)), min_size=1, max_size=4))
def test_idx_corrupted_bytes(tmp_path, flips):
    body = bytearray(VALID_IDX)
    for i, x in flips:
        body[i] ^= x
    out = _read_cleanly(_write(tmp_path, "flipped.idx", bytes(body)))
    if out is not None:  # a flip in the data bytes: still an array of the size the header says
        ndim = body[3]
        assert out.shape == struct.unpack(f">{ndim}I", bytes(body[4:4 + 4 * ndim]))


@FUZZ
@given(dims=st.lists(st.integers(0, 2 ** 32 - 1), min_size=1, max_size=6), code=st.sampled_from([8, 9, 11, 12, 13, 14]))
@example(dims=[1 << 20, 1 << 20], code=8)  # 2^40 elements
@example(dims=[2 ** 32 - 1] * 6, code=14)
def test_idx_headers_claiming_any_size_are_checked_against_the_file(tmp_path, dims, code):
    header = struct.pack(">HBB", 0, code, len(dims)) + struct.pack(f">{len(dims)}I", *dims)
    path = _write(tmp_path, "claims.idx", header + b"\x00" * 16)
    out = _read_cleanly(path)
    if out is not None:
        assert out.shape == tuple(dims) and out.nbytes <= 16


def test_idx_gzip_bomb_is_refused_before_decompressing(tmp_path):
    # 64 MiB of zeros compress to about 64 KiB: a header claiming 2^30 bytes cannot be in there
    header = struct.pack(">HBB", 0, 0x08, 1) + struct.pack(">I", 1 << 30)
    path = tmp_path / "bomb.idx.gz"
    with gzip.open(path, "wb") as f:
        f.write(header)
        f.write(bytes(64 << 20))
    tracemalloc.start()
    try:
        with pytest.raises(IDXError, match=r"bomb\.idx\.gz.*more than a gzip file of this size can hold"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 << 20


# ---- the dataset cache ------------------------------------------------------------------------------

def _dataset_dir(tmp_path, monkeypatch, images, labels):
    root = tmp_path / "data"
    (root / "mnist").mkdir(parents=True, exist_ok=True)
    (root / "mnist" / "t10k-images-idx3-ubyte").write_bytes(images)
    (root / "mnist" / "t10k-labels-idx1-ubyte").write_bytes(labels)
    monkeypatch.setenv("DLCORE_DATA", str(root))
    monkeypatch.setenv("DLCORE_CACHE", str(tmp_path / "cache"))
    return root / "mnist"


GOOD_IMAGES = _idx(np.zeros((3, 28, 28), np.uint8))
GOOD_LABELS = _idx(np.array([1, 2, 3], np.uint8))


@FUZZ
@given(content=st.binary(max_size=200), which=st.sampled_from(["images", "labels"]))
@example(content=_idx(np.zeros((4,), np.uint8)), which="labels")  # 4 labels for 3 images
@example(content=_idx(np.zeros((3, 28), np.uint8)), which="images")  # images of the wrong rank
@example(content=_idx(np.zeros((3, 28, 28), np.uint8)), which="labels")  # labels of the wrong rank
@example(content=_idx(np.full((3,), 200, np.uint8)), which="labels")  # labels beyond the 10 classes
@example(content=_idx(np.zeros((3, 28, 28), np.float64)), which="images")  # pixels that are not bytes
def test_dataset_files_in_the_cache_are_checked(tmp_path, monkeypatch, content, which):
    images, labels = (content, GOOD_LABELS) if which == "images" else (GOOD_IMAGES, content)
    folder = _dataset_dir(tmp_path, monkeypatch, images, labels)
    try:
        ds = data.mnist(train=False, download=False)
    except (IDXError, ValueError) as e:
        assert str(folder) in str(e), f"the message does not name the file: {e}"
        return
    x, y = ds.arrays
    assert x.shape[1:] == (1, 28, 28) and x.shape[0] == y.shape[0] and ((0 <= y) & (y < 10)).all()


def test_a_partial_download_that_fails_its_checksum_is_deleted(tmp_path):
    src = _write(tmp_path, "src", b"hostile bytes")
    dst = tmp_path / "cache" / "file.gz"
    with pytest.raises(data.DownloadError, match=r"file://.*src.*SHA-256"):
        data.download(f"file://{src}", str(dst), sha256="0" * 64, progress=False)
    assert not dst.exists() and not os.path.exists(str(dst) + ".part")


# ---- checkpoints -------------------------------------------------------------------------------------

def _model():
    dlcore.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A valid checkpoint (model, optimizer) as bytes, in both formats."""
    folder = tmp_path_factory.mktemp("ckpt")
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    model(dlcore.randn(5, 3)).sum().backward()
    opt.step()
    out = {}
    for suffix in (".npz", ".safetensors"):
        path = folder / ("good" + suffix)
        dlcore.save_checkpoint(path, model, opt)
        out[suffix] = path.read_bytes()
    return out


def _load_cleanly(path):
    """load_checkpoint either succeeds or raises a ValueError / KeyError / TypeError naming the file."""
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.01)
    try:
        dlcore.load_checkpoint(path, model, opt)
    except (ValueError, KeyError, TypeError) as e:
        assert str(path) in str(e), f"the message does not name the file: {type(e).__name__}: {e}"
        return False
    return True


@FUZZ
@given(content=st.binary(max_size=400), suffix=st.sampled_from([".npz", ".safetensors"]))
@example(content=b"", suffix=".npz")
@example(content=b"PK\x03\x04", suffix=".npz")  # a zip's magic, then nothing
@example(content=b"\x93NUMPY\x01\x00", suffix=".npz")  # a bare .npy header, cut
@example(content=b"", suffix=".safetensors")
@example(content=struct.pack("<Q", 1 << 40) + b"{}", suffix=".safetensors")  # a header of 2^40 bytes
@example(content=struct.pack("<Q", 2) + b"{}", suffix=".safetensors")  # a header without meta
def test_checkpoint_random_bytes(tmp_path, content, suffix):
    assert not _load_cleanly(_write(tmp_path, "random" + suffix, content))


@FUZZ
@given(cut=st.floats(0, 1, exclude_max=True), suffix=st.sampled_from([".npz", ".safetensors"]))
@example(cut=0.5, suffix=".npz")
@example(cut=0.99, suffix=".npz")
def test_checkpoint_truncated(tmp_path, saved, cut, suffix):
    body = saved[suffix]
    assert not _load_cleanly(_write(tmp_path, "cut" + suffix, body[:int(len(body) * cut)]))


@FUZZ
@given(flips=st.lists(st.tuples(st.floats(0, 1, exclude_max=True), st.integers(1, 255)), min_size=1, max_size=3),
       suffix=st.sampled_from([".npz", ".safetensors"]))
def test_checkpoint_corrupted_bytes(tmp_path, saved, flips, suffix):
    body = bytearray(saved[suffix])
    for where, x in flips:
        body[int(len(body) * where)] ^= x
    _load_cleanly(_write(tmp_path, "flipped" + suffix, bytes(body)))


def _npz(path, **arrays):
    with open(path, "wb") as f:
        np.savez(f, **arrays)
    return path


def _valid_meta(saved, tmp_path):
    with np.load(_write(tmp_path, "good.npz", saved[".npz"]), allow_pickle=False) as f:
        return json.loads(str(f["meta"])), {k: f[k] for k in f.files if k != "meta"}


def test_checkpoint_with_object_arrays_is_refused_without_unpickling(tmp_path, saved):
    meta, arrays = _valid_meta(saved, tmp_path)
    key = next(iter(arrays))
    arrays[key] = np.array([{"__reduce__": "os.system"}], dtype=object)
    path = _npz(tmp_path / "objects.npz", meta=np.array(json.dumps(meta)), **arrays)
    with pytest.raises(ValueError, match=r"objects\.npz.*(pickle|object)"):
        dlcore.load_checkpoint(path, _model())
    with pytest.raises(ValueError, match=r"objects2\.npz"):
        dlcore.load_checkpoint(_npz(tmp_path / "objects2.npz", meta=np.array([meta], dtype=object)), _model())


def _mutations():
    """Ways to break a valid checkpoint's content while keeping it a well-formed file."""
    def reshape(arrays, key):
        arrays[key] = arrays[key].reshape(-1)[:-1] if arrays[key].size > 1 else np.zeros((2, 2), np.float32)

    def retype(arrays, key):
        arrays[key] = arrays[key].astype(np.int64)

    def nonfinite(arrays, key):
        arrays[key] = np.full_like(arrays[key], np.nan)

    def drop(arrays, key):
        del arrays[key]

    def text(arrays, key):
        arrays[key] = np.array("a string")

    return {"reshape": reshape, "retype": retype, "drop": drop, "text": text, "nonfinite": nonfinite}


MUTATIONS = _mutations()


@FUZZ
@given(mutation=st.sampled_from(sorted(MUTATIONS)), index=st.integers(0, 100))
@example(mutation="reshape", index=0)
@example(mutation="retype", index=0)
@example(mutation="drop", index=0)
@example(mutation="text", index=0)
def test_checkpoint_arrays_of_the_wrong_shape_or_dtype(tmp_path, saved, mutation, index):
    meta, arrays = _valid_meta(saved, tmp_path)
    key = sorted(arrays)[index % len(arrays)]
    MUTATIONS[mutation](arrays, key)
    path = _npz(tmp_path / "mutated.npz", meta=np.array(json.dumps(meta)), **arrays)
    loaded = _load_cleanly(path)
    # only a NaN-filled state loads (NaN is a float like any other); nothing else may
    assert loaded == (mutation == "nonfinite"), f"{mutation} of {key} loaded silently"


META_EDITS = {
    "not json": lambda m: "{",
    "a list": lambda m: json.dumps([m]),
    "no format": lambda m: json.dumps({k: v for k, v in m.items() if k != "format"}),
    "no model": lambda m: json.dumps({k: v for k, v in m.items() if k != "model"}),
    "model is a list": lambda m: json.dumps({**m, "model": [1, 2]}),
    "model is a string": lambda m: json.dumps({**m, "model": "weights"}),
    "tensor ref to nothing": lambda m: json.dumps({**m, "model": {k: {"__tensor__": "/missing"} for k in m["model"]}}),
    "tensor ref not a string": lambda m: json.dumps({**m, "model": {k: {"__tensor__": [1]} for k in m["model"]}}),
    "rng missing": lambda m: json.dumps({k: v for k, v in m.items() if k != "rng"}),
    "rng not numbers": lambda m: json.dumps({**m, "rng": ["a", "b"]}),
    "rng negative": lambda m: json.dumps({**m, "rng": ["-1", "0"]}),
    "rng too large": lambda m: json.dumps({**m, "rng": [str(1 << 70), "0"]}),
    "optimizer is a number": lambda m: json.dumps({**m, "optimizer": 3}),
    "optimizer groups missing": lambda m: json.dumps({**m, "optimizer": {"state": {}}}),
    "extra missing": lambda m: json.dumps({k: v for k, v in m.items() if k != "extra"}),
    "deeply nested": lambda m: "[" * 100000 + "]" * 100000,
}


@pytest.mark.parametrize("edit", sorted(META_EDITS))
def test_checkpoint_meta_documents_that_are_wrong(tmp_path, saved, edit):
    meta, arrays = _valid_meta(saved, tmp_path)
    path = _npz(tmp_path / "meta.npz", meta=np.array(META_EDITS[edit](meta)), **arrays)
    assert not _load_cleanly(path)


@pytest.mark.parametrize("edit", sorted(META_EDITS))
def test_checkpoint_meta_documents_that_are_wrong_in_safetensors(tmp_path, saved, edit):
    safetensors = pytest.importorskip("safetensors.numpy")
    meta, arrays = _valid_meta(saved, tmp_path)
    path = tmp_path / "meta.safetensors"
    safetensors.save_file({k[1:]: v for k, v in arrays.items()}, str(path), metadata={"meta": META_EDITS[edit](meta)})
    assert not _load_cleanly(path)


def test_npz_members_that_are_not_arrays(tmp_path, saved):
    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("meta.npy", b"this is not an npy file")
    assert not _load_cleanly(path)


def _npy_claiming(shape, data=b"\x00" * 64):
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": "<f4", "fortran_order": False, "shape": shape})
    return buf.getvalue() + data


@pytest.mark.parametrize("shape", [(1 << 28,), (1 << 20, 1 << 20)])
def test_npz_member_headers_claiming_huge_arrays_are_refused_before_allocating(tmp_path, shape):
    path = tmp_path / "claims.npz"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("meta.npy", _npy_claiming(shape))
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match=r"claims\.npz.*member meta\.npy claims"):
            dlcore.load_checkpoint(path, _model())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20, f"{peak} bytes allocated for a {path.stat().st_size}-byte file"
