"""Saving and loading state dicts as `.npz` files, without pickle.

A `.npz` file is a zip archive of `.npy` arrays. Pickle would let a file run code when it is
loaded, so minigrad never writes it and always reads with `allow_pickle=False`. Everything that is
not an array is described instead by a small JSON text, kept in the archive as a uint8 array:

- every numpy array is stored as it is, under a readable name: the path of keys leading to it,
  joined by "/" (a model's `"fc.weight"` stays `"fc.weight"`; an optimizer's first moment becomes
  `"state/0/exp_avg"`). A "/" or "%" inside a key is written `%2F` or `%25`, so a path is never
  ambiguous, and `np.load(path)["fc.weight"]` works without minigrad;
- the JSON text records the shape of the tree: which containers (dict, list, tuple) hold what,
  the type of every dict key (so `{0: ...}` comes back with the int 0, not the string "0"), and
  plain Python values (None, bools, ints, floats, strings) inline. Python writes floats with
  enough digits to read back the very same float, so a learning rate survives exactly.

>>> import numpy as np, os, tempfile, minigrad as mg
>>> path = os.path.join(tempfile.mkdtemp(), "ckpt.npz")
>>> state = {"w": np.arange(3.0), "opt": {"state": {0: {"step": 3}}, "lr": 0.01}}
>>> mg.save(state, path)
>>> back = mg.load(path)
>>> back["opt"]["state"][0]["step"], back["opt"]["lr"], back["w"]
(3, 0.01, array([0., 1., 2.]))
"""

from __future__ import annotations

import json
import os
import secrets
import zipfile
from typing import Any

import numpy as np

# The name of the JSON description inside the archive. Escaped key paths always follow a "%" with
# "25" or "2F", so no array's name can be this one.
META = "%minigrad"
FORMAT = "minigrad-state"
VERSION = 1


def save(state_dict: dict, path: str | os.PathLike) -> None:
    """Write `state_dict` (a dict, possibly nested) to `path` as an `.npz` file, exactly.

    Values may be numpy arrays and numpy scalars (stored as arrays, dtype and shape kept), and
    None, bools, ints, floats, strings, lists, tuples and dicts of them. Anything else (a Value,
    an object array, a function) raises TypeError naming its key. The file is written to a
    temporary name first and then renamed, so a crash while saving never leaves a half-written
    checkpoint in place of a good one. The path is used as given (no ".npz" is appended).
    """
    if not isinstance(state_dict, dict):
        raise TypeError(f"save: expected a dict (a state_dict), got {type(state_dict).__name__}")
    arrays: dict[str, np.ndarray] = {}
    tree = _encode(state_dict, [], arrays)
    meta = json.dumps({"format": FORMAT, "version": VERSION, "tree": tree})
    arrays[META] = np.frombuffer(meta.encode("utf-8"), dtype=np.uint8)

    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"save: cannot write {path!r}: no folder {folder!r}")
    # A fresh name next to the target (same file system, so the rename is atomic), created
    # like any file so it gets the usual permissions.
    tmp = os.path.join(folder, f".{os.path.basename(path)}.{secrets.token_hex(6)}.tmp")
    try:
        with open(tmp, "xb") as f:
            _write_npz(f, arrays)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path: str | os.PathLike) -> dict:
    """Read a file written by `save` and return the same nested dict, never running any code.

    A plain `.npz` from `np.savez` (no minigrad description inside) loads as a flat dict of its
    arrays. A missing file raises FileNotFoundError; a truncated or corrupt one raises ValueError
    naming the file.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"load: no such file: {path!r}")
    reason = _not_an_archive(path)
    if reason is not None:
        raise ValueError(
            f"load: {path!r} is not a minigrad save file: {reason} (minigrad saves .npz "
            "archives, written by minigrad.save or Module.save)"
        )
    try:
        with np.load(path, allow_pickle=False) as archive:
            # Read every member now: a damaged member fails here, inside the try, not later.
            arrays = {name: _member(archive, name) for name in archive.files}
        if META not in arrays:
            return arrays
        meta = json.loads(arrays.pop(META).tobytes().decode("utf-8"))
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError("its description is not minigrad's")
        if meta.get("version") != VERSION:
            raise ValueError(
                f"format version {meta.get('version')!r}; this minigrad reads version {VERSION}"
            )
        used: set[str] = set()
        state = _decode(meta["tree"], arrays, used)
        if used != set(arrays):
            raise ValueError(f"arrays not in its description: {sorted(set(arrays) - used)}")
    except (
        ValueError,
        KeyError,
        TypeError,
        OSError,
        EOFError,
        zipfile.BadZipFile,
        RecursionError,
    ) as err:  # RecursionError: a description nested absurdly deep
        raise ValueError(
            f"load: cannot read {path!r}: the file is truncated, corrupt or not a minigrad "
            f"save file ({type(err).__name__}: {err})"
        ) from err
    if not isinstance(state, dict):
        raise ValueError(f"load: cannot read {path!r}: it does not hold a dict")
    return state


def _not_an_archive(path: str) -> str | None:
    """Why the file at `path` cannot be an `.npz`, from its first bytes (None: it is a zip
    archive). numpy's own message would suggest `allow_pickle=True`, which minigrad never uses."""
    with open(path, "rb") as f:
        head = f.read(6)
    if head.startswith(b"PK"):  # every zip archive starts so
        return None
    if not head:
        return "it is empty (truncated or corrupt, if it was one)"
    if head.startswith(b"\x93NUMPY"):
        return "it is a single numpy array (an .npy file, from np.save; np.load reads it)"
    if head[:1] == b"\x80":  # the pickle protocol's first byte
        return "it holds pickled Python objects, which minigrad never loads (they can run code)"
    return "it is not an .npz (zip) archive"


def _member(archive: Any, name: str) -> np.ndarray:
    try:
        return archive[name]
    except ValueError as err:
        if "pickle" not in str(err):
            raise
        # numpy would suggest allow_pickle=True: loading pickled objects can run code
        raise ValueError(
            f"its member {name!r} is an object array (pickled Python objects), which minigrad "
            "never loads"
        ) from None


def _write_npz(file: Any, arrays: dict[str, np.ndarray]) -> None:
    """What np.savez does, minus its keyword arguments: a key named "file" or "allow_pickle"
    would collide with those, so each array is written as a member "<name>.npy" here."""
    with zipfile.ZipFile(file, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        for name, arr in arrays.items():
            with archive.open(name + ".npy", "w", force_zip64=True) as member:
                np.lib.format.write_array(member, arr, allow_pickle=False)


# ----- the tree <-> JSON + arrays ---------------------------------------------------------------
# A node of the JSON tree is a plain JSON value (null, true/false, a number, a string), a JSON
# list for a Python list, or a one-key object tagging everything else:
#   {"tuple": [...]}, {"dict": [[key, value], ...]} (keys are nodes too, kept in order),
#   {"array": name}, {"scalar": name} (a numpy scalar, stored as a 0-d array).
# Python's json keeps int vs float apart (1 vs 1.0) and writes nan/inf as NaN/Infinity.


def _escape(key: Any) -> str:
    text = key if isinstance(key, str) else repr(key)
    return text.replace("%", "%25").replace("/", "%2F")


def _name(path: list[str], arrays: dict) -> str:
    """A unique, readable archive name for the array at `path`."""
    name = "/".join(path)
    unique, n = name, 1
    while unique in arrays:  # only {0: ..} next to {"0": ..}: both would be called "0"
        unique, n = f"{name}%{n}", n + 1
    return unique


def _where(path: list[str]) -> str:
    return "/".join(path) or "the top level"


def _encode(obj: Any, path: list[str], arrays: dict) -> Any:
    # numpy scalars first: np.float64 is also a Python float, but should come back as np.float64
    if isinstance(obj, np.ndarray | np.generic):
        if obj.dtype.hasobject:
            raise TypeError(
                f"save: {_where(path)!r} is an object array; only numbers, bools and strings "
                "can be saved without pickle"
            )
        name = _name(path, arrays)
        arrays[name] = np.asarray(obj)
        return {"array" if isinstance(obj, np.ndarray) else "scalar": name}
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, list):
        return [_encode(x, [*path, str(i)], arrays) for i, x in enumerate(obj)]
    if isinstance(obj, tuple):
        return {"tuple": [_encode(x, [*path, str(i)], arrays) for i, x in enumerate(obj)]}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not (key is None or isinstance(key, (bool, int, float, str))):
                raise TypeError(
                    f"save: a key under {_where(path)!r} is a {type(key).__name__}; keys must be "
                    "strings, ints, floats, bools or None"
                )
            items.append([key, _encode(value, [*path, _escape(key)], arrays)])
        return {"dict": items}
    hint = " (save its .data, or a module's state_dict())" if hasattr(obj, "_op") else ""
    raise TypeError(f"save: cannot save {_where(path)!r}, a {type(obj).__name__}{hint}")


def _decode(node: Any, arrays: dict, used: set) -> Any:
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(x, arrays, used) for x in node]
    ((tag, body),) = node.items()  # exactly one tag; anything else is a corrupt description
    if tag == "tuple":
        return tuple(_decode(x, arrays, used) for x in body)
    if tag == "dict":
        return {key: _decode(value, arrays, used) for key, value in body}
    if tag in ("array", "scalar"):
        used.add(body)
        arr = arrays[body]
        return arr if tag == "array" else arr[()]
    raise ValueError(f"unknown entry {tag!r} in its description")
