"""Checkpoints: a model, its optimizer and schedule, the data loader's position and the random
generator's state in one file, so that a resumed run reproduces the losses of an uninterrupted
one exactly on the same device.

The file is a NumPy .npz (or a .safetensors file when the name says so and the safetensors
package is installed): every tensor as an array under a path-like key ("model/fc1.weight",
"optimizer/state/3/exp_avg"), and everything else as one JSON document under "meta". Loading
never unpickles: np.load(allow_pickle=False) and json."""
import json
import math
import os
import zipfile

import numpy as np

from . import _C
from .tensor import Tensor

__all__ = ["save_checkpoint", "load_checkpoint"]

_FORMAT = "dlcore-checkpoint-1"


def _split(tree, prefix, arrays):
    """Tensors of a nested dict into arrays[prefix/...]; the rest returned as JSON-ready data."""
    if isinstance(tree, Tensor):
        arrays[prefix] = np.ascontiguousarray(tree.detach().cpu().numpy())
        return {"__tensor__": prefix}
    if isinstance(tree, dict):
        return {str(k): _split(v, f"{prefix}/{k}", arrays) for k, v in tree.items()}
    if isinstance(tree, (list, tuple)):
        return [_split(v, f"{prefix}/{i}", arrays) for i, v in enumerate(tree)]
    if isinstance(tree, (np.integer, np.floating, np.bool_)):
        return tree.item()
    if tree is None or isinstance(tree, (bool, int, float, str)):
        return tree
    raise TypeError(f"[save_checkpoint] cannot store a {type(tree).__name__} at {prefix}")


def _join(tree, arrays, path):
    if isinstance(tree, dict):
        if "__tensor__" in tree:
            key = tree["__tensor__"]
            if not isinstance(key, str) or key not in arrays:
                raise ValueError(f"[load_checkpoint] {path}: the document refers to an array {key!r} the file lacks")
            return arrays[key]
        return {k: _join(v, arrays, path) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_join(v, arrays, path) for v in tree]
    return tree


def save_checkpoint(path, model, optimizer=None, scheduler=None, loader=None, **extra):
    """Writes model (its state_dict), optimizer, scheduler and loader states, dlcore's generator
    state and any extra JSON-able values (epoch=..., history=...) to path."""
    seed, offset = _C.rng_state()
    state = {"format": _FORMAT, "model": model.state_dict(), "rng": [str(seed), str(offset)], "extra": extra}
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler), ("loader", loader)):
        if obj is not None:
            state[name] = obj.state_dict()
    arrays = {}
    meta = json.dumps(_split(state, "", arrays))
    path = os.fspath(path)
    tmp = path + ".tmp"
    if path.endswith(".safetensors"):
        from safetensors.numpy import save_file
        save_file(arrays, tmp, metadata={"meta": meta})
    else:
        with open(tmp, "wb") as f:
            np.savez(f, meta=np.array(meta), **{"t" + k: v for k, v in arrays.items()})
    os.replace(tmp, path)  # a crash while writing never leaves a half-written checkpoint
    return path


# Deflate expands at most 1032-fold: a member claiming more than this times its compressed size lies.
_MAX_DEFLATE_RATIO = 1032


def _check_npz_sizes(raw):
    """Refuses an .npz member whose .npy header claims more data than the member can hold, before
    np.load allocates the array the header describes (it would, whatever the file really holds)."""
    with zipfile.ZipFile(raw) as z:
        for info in z.infolist():
            with z.open(info) as member:
                version = np.lib.format.read_magic(member)
                read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                               else np.lib.format.read_array_header_2_0)
                shape, _, dtype = read_header(member)
            claimed = math.prod(shape) * dtype.itemsize
            room = info.compress_size * (_MAX_DEFLATE_RATIO if info.compress_type != zipfile.ZIP_STORED else 1)
            if claimed > room:
                raise ValueError(f"member {info.filename} claims {shape} of {dtype} ({claimed} bytes), more than its "
                                 f"{info.compress_size} bytes can hold")


def _read(path):
    """The JSON document and the arrays of a checkpoint file, joined back into one tree."""
    try:
        if path.endswith(".safetensors"):
            from safetensors import safe_open
            with safe_open(path, framework="numpy") as f:
                meta = (f.metadata() or {}).get("meta")
                arrays = {k: f.get_tensor(k) for k in f.keys()}
        else:
            # opened here so that it is closed whatever np.load makes of the bytes
            with open(path, "rb") as raw:
                if raw.read(4) != b"PK\x03\x04":
                    raise ValueError("no zip signature: not an .npz archive")
                raw.seek(0)
                _check_npz_sizes(raw)
                raw.seek(0)
                with np.load(raw, allow_pickle=False) as f:  # an object array raises: no unpickling
                    meta = str(f["meta"]) if "meta" in f.files else None
                    arrays = {k[1:]: f[k] for k in f.files if k != "meta"}
        if meta is None:
            raise ValueError("no 'meta' document")
        state = json.loads(meta)
    except FileNotFoundError:
        raise FileNotFoundError(f"[load_checkpoint] {path}: no such file") from None
    except Exception as e:  # noqa: BLE001  any failure to parse untrusted bytes means a bad file: zip, npy,
        # safetensors, JSON (even its recursion limit) each raise their own kinds of error
        raise ValueError(f"[load_checkpoint] {path} is not a readable dlcore checkpoint "
                         f"({type(e).__name__}: {e})") from None
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        found = f"format {state.get('format')!r}" if isinstance(state, dict) else f"a JSON {type(state).__name__}"
        raise ValueError(f"[load_checkpoint] {path} is not a dlcore checkpoint ({found}, expected {_FORMAT!r})")
    state = _join(state, arrays, path)
    for key, kind in (("model", dict), ("extra", dict), ("rng", list)):
        if not isinstance(state.get(key), kind):
            raise ValueError(f"[load_checkpoint] {path}: expected {key!r} as a JSON {kind.__name__}, "
                             f"got {type(state.get(key)).__name__}")
    rng = state["rng"]
    if len(rng) != 2 or not all(isinstance(v, str) and v.isdigit() and int(v) < 1 << 64 for v in rng):
        raise ValueError(f"[load_checkpoint] {path}: expected the generator state as two integers in [0, 2^64), "
                         f"got {rng!r}")
    return state


def load_checkpoint(path, model, optimizer=None, scheduler=None, loader=None, restore_rng=True):
    """Restores what save_checkpoint wrote into the given objects (and dlcore's generator state);
    returns the extra values. A file that is not a checkpoint, or whose states do not fit the given
    objects, raises an error naming the file."""
    path = os.fspath(path)
    state = _read(path)
    for name, obj in (("model", model), ("optimizer", optimizer), ("scheduler", scheduler), ("loader", loader)):
        if obj is None:
            continue
        if name not in state:
            raise KeyError(f"[load_checkpoint] {path} holds no {name} state")
        try:
            obj.load_state_dict(state[name])
        except (ValueError, KeyError, TypeError, IndexError, AttributeError) as e:
            raise ValueError(f"[load_checkpoint] {path}: its {name} state does not fit the given {name} "
                             f"({type(e).__name__}: {e})") from None
    if restore_rng:
        _C.set_rng_state(int(state["rng"][0]), int(state["rng"][1]))
    return state["extra"]
