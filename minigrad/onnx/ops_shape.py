"""Shape ops and indexing as ONNX nodes: Reshape, Transpose, Squeeze, Unsqueeze, Expand,
Concat, and `x[index]` as Slice + Squeeze + Unsqueeze (ints, slices, None, ...) or Gather (one
integer array, as an Embedding's lookup).

Where a target shape follows the batch (`Flatten`'s reshape to (N, -1)), the batch entry is
written as ONNX's 0 ("copy this input size") or -1 when that is exact, and otherwise computed
from the input's shape at run time, so the graph runs at any batch size.
"""

from __future__ import annotations

import numpy as np

from minigrad.onnx.builder import INT64_MAX, INT64_MIN, Emit, converts
from minigrad.onnx.trace import Batch
from minigrad.ops.shape import (
    BroadcastTo,
    Concat,
    GetItem,
    Reshape,
    Squeeze,
    Stack,
    Transpose,
    Unsqueeze,
)


@converts(Reshape, dynamic=("shape",))
def reshape(c: Emit) -> None:
    reshape_to(c, list(c.param_dims("shape")))


def reshape_to(c: Emit, target: list) -> None:
    """Reshape to `target` (ints, -1 and Batch(k)); sizes that follow the batch are written as
    0 (copy the input's size) or -1 where that is exact, else computed at run time."""
    if 0 in target:
        raise c.refuse("a reshape to a shape with a zero size is not supported")
    source = c.in_dims()
    for i, d in enumerate(target):  # a batch size kept in place: ONNX's 0 copies it
        if isinstance(d, Batch) and i < len(source) and source[i] == d:
            target[i] = 0
    loose = [i for i, d in enumerate(target) if isinstance(d, Batch)]
    if len(loose) == 1 and -1 not in target:
        target[loose[0]] = -1  # the only size left open: ONNX infers it
    c.b.add("Reshape", [c.ins[0], c.b.shape_tensor(tuple(target))], c.out)


@converts(Transpose)
def transpose(c: Emit) -> None:
    c.b.add("Transpose", c.ins, c.out, perm=[int(a) for a in c.params["axes"]])


def _normalize(axis, ndim: int) -> tuple:
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted(int(a) % ndim for a in axes))


@converts(Squeeze)
def squeeze(c: Emit) -> None:
    source, axis = c.in_dims(), c.params["axis"]
    if axis is None:
        axes = tuple(i for i, d in enumerate(source) if d == 1)
    else:
        axes = _normalize(axis, len(source))
    if axes:
        c.b.squeeze(c.ins[0], axes, c.out)
    else:
        c.b.add("Identity", c.ins, c.out)


@converts(Unsqueeze)
def unsqueeze(c: Emit) -> None:
    c.b.unsqueeze(c.ins[0], _normalize(c.params["axis"], len(c.dims)), c.out)


@converts(BroadcastTo, dynamic=("shape",))
def broadcast_to(c: Emit) -> None:
    target, source = list(c.param_dims("shape")), c.in_dims()
    offset = len(target) - len(source)
    for i, d in enumerate(target):  # Expand broadcasts both ways: 1 keeps the input's size
        if isinstance(d, Batch) and i >= offset and source[i - offset] == d:
            target[i] = 1
    c.b.add("Expand", [c.ins[0], c.b.shape_tensor(tuple(target))], c.out)


@converts(Concat)
def concat(c: Emit) -> None:
    c.b.add("Concat", c.ins, c.out, axis=int(c.params["axis"]))


@converts(Stack)
def stack(c: Emit) -> None:
    axis = int(c.params["axis"]) % len(c.dims)
    pieces = [c.b.unsqueeze(x, (axis,)) for x in c.ins]
    c.b.add("Concat", pieces, c.out, axis=axis)


@converts(GetItem)
def getitem(c: Emit) -> None:
    fed = c.fed("index")
    if fed is not None:  # the integer input itself: an Embedding's lookup
        c.b.add("Gather", [c.ins[0], fed], c.out, axis=0)
        return
    index = c.params["index"]
    parts = list(index) if isinstance(index, tuple) else [index]
    parts = [_plain(p) for p in parts]
    parts = _expand_ellipsis(c, parts)
    arrays = [i for i, p in enumerate(parts) if isinstance(p, np.ndarray)]
    if not arrays:
        _basic(c, parts, c.out)
        return
    if len(arrays) > 1 or any(not isinstance(p, slice) for p in parts if p is not parts[arrays[0]]):
        raise c.refuse(
            "indexing with an integer array is exported only as the one array among slices "
            "(x[idx], x[:, idx]); not with other arrays, ints or None in the same index"
        )
    where = arrays[0]
    indices = parts[where]
    parts[where] = slice(None)
    sliced = _basic(c, parts, None)
    name = c.b.initializer(indices.astype(np.int64), "indices")
    c.b.add("Gather", [sliced, name], c.out, axis=where)


def _plain(p):
    """0-d integer arrays as ints, 1-d boolean masks as the integer positions they keep."""
    if isinstance(p, np.ndarray) and p.ndim == 0 and p.dtype.kind in "iu":
        return int(p)
    if isinstance(p, np.ndarray) and p.dtype.kind == "b" and p.ndim == 1:
        return np.flatnonzero(p)
    return p


def _expand_ellipsis(c: Emit, parts: list) -> list:
    ndim = len(c.in_dims())
    for p in parts:
        if isinstance(p, np.ndarray) and p.dtype.kind == "b":
            raise c.refuse("indexing with a boolean mask of more than one axis is not supported")
    used = sum(1 for p in parts if p is not None and p is not Ellipsis)
    fill = [slice(None)] * (ndim - used)
    for i, p in enumerate(parts):
        if p is Ellipsis:
            return parts[:i] + fill + [q for q in parts[i + 1 :] if q is not Ellipsis]
    return parts + fill


def _basic(c: Emit, parts: list, output: str | None) -> str:
    """Slice what slices and ints select, Squeeze the ints' axes, Unsqueeze where None is."""
    starts, ends, axes, steps, dropped, added = [], [], [], [], [], []
    axis = place = 0
    for p in parts:
        if p is None:
            added.append(place)
            place += 1
            continue
        if isinstance(p, slice):
            if p != slice(None):
                step = 1 if p.step is None else int(p.step)
                if p.start is not None:
                    starts.append(int(p.start))
                else:
                    starts.append(0 if step > 0 else INT64_MAX)
                if p.stop is not None:
                    ends.append(int(p.stop))
                else:
                    ends.append(INT64_MAX if step > 0 else INT64_MIN)
                axes.append(axis)
                steps.append(step)
            place += 1
        else:  # an int: a slice of one, then its axis dropped
            i = int(p)
            starts.append(i)
            ends.append(i + 1 if i != -1 else INT64_MAX)
            axes.append(axis)
            steps.append(1)
            dropped.append(axis)
        axis += 1
    stages = []
    if axes:
        stages.append(("Slice", [c.b.ints(v) for v in (starts, ends, axes, steps)]))
    if dropped:
        stages.append(("Squeeze", [c.b.ints(dropped)]))
    if added:
        stages.append(("Unsqueeze", [c.b.ints(added)]))
    x = c.ins[0]
    if not stages and output is None:
        return x  # nothing to select before a Gather
    if not stages:
        stages.append(("Identity", []))
    for k, (op_type, extra) in enumerate(stages):
        x = c.b.add(op_type, [x, *extra], output if k == len(stages) - 1 else None)
    return x
