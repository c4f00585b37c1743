"""Checkpoints: a model, its optimizer and schedule, the data loader's position and the random
generator's state in one file, so that a resumed run reproduces the losses of an uninterrupted
one exactly on the same device.

The file is a NumPy .npz (or a .safetensors file when the name says so and the safetensors
package is installed): every tensor as an array under a path-like key ("model/fc1.weight",
"optimizer/state/3/exp_avg"), and everything else as one JSON document under "meta". Loading
never unpickles: np.load(allow_pickle=False) and json."""
import json
import os

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


def _join(tree, arrays):
    if isinstance(tree, dict):
        if "__tensor__" in tree:
            return arrays[tree["__tensor__"]]
        return {k: _join(v, arrays) for k, v in tree.items()}
    if isinstance(tree, list):
        return [_join(v, arrays) for v in tree]
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


def load_checkpoint(path, model, optimizer=None, scheduler=None, loader=None, restore_rng=True):
    """Restores what save_checkpoint wrote into the given objects (and dlcore's generator state);
    returns the extra values."""
    path = os.fspath(path)
    try:
        if path.endswith(".safetensors"):
            from safetensors import safe_open
            with safe_open(path, framework="numpy") as f:
                meta = f.metadata()["meta"]
                arrays = {k: f.get_tensor(k) for k in f.keys()}
        else:
            with np.load(path, allow_pickle=False) as f:
                meta = str(f["meta"])
                arrays = {k[1:]: f[k] for k in f.files if k != "meta"}
        state = _join(json.loads(meta), arrays)
    except (OSError, ValueError, KeyError) as e:
        raise ValueError(f"[load_checkpoint] {path} is not a readable dlcore checkpoint ({e})") from None
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        raise ValueError(f"[load_checkpoint] {path} is not a dlcore checkpoint (format {state.get('format')!r})"
                         if isinstance(state, dict) else f"[load_checkpoint] {path} is not a dlcore checkpoint")
    model.load_state_dict(state["model"])
    for name, obj in (("optimizer", optimizer), ("scheduler", scheduler), ("loader", loader)):
        if obj is not None:
            if name not in state:
                raise KeyError(f"[load_checkpoint] {path} holds no {name} state")
            obj.load_state_dict(state[name])
    if restore_rng:
        _C.set_rng_state(int(state["rng"][0]), int(state["rng"][1]))
    return state["extra"]
