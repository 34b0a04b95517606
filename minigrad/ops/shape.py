"""Shape ops: reshape, transpose, squeeze, unsqueeze, broadcast_to, indexing, concat, stack.

None of these change a number, they only move numbers around; so each gradient moves `g` back
to where the numbers came from. Indexing is the only one that can meet the same entry twice
(`x[[0, 0]]`): its gradient scatter-adds, so repeated indices accumulate.
"""

from __future__ import annotations

import numpy as np

from minigrad.engine import apply
from minigrad.ops.registry import Domain, Op, data_of, register


def _shape_of(x):
    return np.shape(data_of(x))


@register("reshape", Domain("reshape"))
class Reshape(Op):
    """x with a new shape, same entries in the same (C) order.  Gradient: g reshaped back."""

    name = "reshape"
    forward = staticmethod(lambda x, shape: np.reshape(x, shape))
    grads = (lambda g, out, x, shape: reshape(g, _shape_of(x)),)
    jvps = (lambda t, out, x, shape: reshape(t, shape),)


def _inverse(axes):
    return tuple(int(i) for i in np.argsort(axes))


@register("transpose", Domain("transpose"))
class Transpose(Op):
    """x with its axes permuted (reversed by default).  Gradient: g with the inverse
    permutation."""

    name = "transpose"
    forward = staticmethod(lambda x, axes: np.transpose(x, axes))
    grads = (lambda g, out, x, axes: transpose(g, *_inverse(axes)),)
    jvps = (lambda t, out, x, axes: transpose(t, *axes),)


@register("squeeze", Domain("squeeze"))
class Squeeze(Op):
    """x without (some of) its size-1 axes.  Gradient: g reshaped back."""

    name = "squeeze"
    forward = staticmethod(lambda x, axis: np.squeeze(x, axis))
    grads = (lambda g, out, x, axis: reshape(g, _shape_of(x)),)
    jvps = (lambda t, out, x, axis: squeeze(t, axis),)


@register("unsqueeze", Domain("unsqueeze"))
class Unsqueeze(Op):
    """x with a new size-1 axis at `axis`.  Gradient: g reshaped back."""

    name = "unsqueeze"
    forward = staticmethod(lambda x, axis: np.expand_dims(x, axis))
    grads = (lambda g, out, x, axis: reshape(g, _shape_of(x)),)
    jvps = (lambda t, out, x, axis: unsqueeze(t, axis),)


@register("broadcast_to", Domain("broadcast_to"))
class BroadcastTo(Op):
    """x repeated along new or size-1 axes to `shape`.  Gradient: g summed back over them
    (the engine's unbroadcasting does exactly that)."""

    name = "broadcast_to"
    forward = staticmethod(lambda x, shape: np.broadcast_to(x, shape))
    grads = (lambda g, out, x, shape: g,)
    jvps = (lambda t, out, x, shape: broadcast_to(t, shape),)


def _is_basic(index):
    """True when the index only selects (ints, slices, None, ...): no entry is taken twice."""
    parts = index if isinstance(index, tuple) else (index,)
    return all(
        p is None
        or p is Ellipsis
        or isinstance(p, (int, np.integer, slice))
        or (isinstance(p, np.ndarray) and p.dtype == bool)
        for p in parts
    )


def _scatter_add(g, index, shape):
    """zeros(shape) with g added at x[index]; repeated indices add up."""
    dtype = getattr(g, "dtype", np.float64)
    result = np.zeros(shape, dtype=dtype)
    if _is_basic(index):
        result[index] = g
    else:
        np.add.at(result, index, g)
    return result


def _take(x, index):
    if type(x) is float:  # a single number indexes like a 0-d array: v[()], v[None], v[...]
        out = np.asarray(x)[index]
        return float(out) if out.ndim == 0 else out
    return x[index]


@register("getitem", Domain("getitem"))
class GetItem(Op):
    """x[index] (ints, slices, None, ..., int and bool arrays).  Gradient: g added back at the
    indexed places, repeated indices accumulating."""

    name = "getitem"
    forward = staticmethod(_take)
    grads = (lambda g, out, x, index: scatter_add(g, index, _shape_of(x)),)
    jvps = (lambda t, out, x, index: getitem(t, index),)

    @classmethod
    def describe(cls, params):
        return f"[{_index_text(params['index'])}]"


@register("scatter_add", Domain("scatter_add"))
class ScatterAdd(Op):
    """zeros(shape) with g added at [index] (the gradient of indexing).
    Gradient: the upstream gradient read back at [index]."""

    name = "scatter_add"
    forward = staticmethod(_scatter_add)
    grads = (lambda g, out, x, index, shape: getitem(g, index),)
    jvps = (lambda t, out, x, index, shape: scatter_add(t, index, shape),)


class _Join(Op):
    """Shared by concat and stack: gradients are the pieces of g each input became; the
    output's tangent is the inputs' tangents joined the same way (zeros for inputs without)."""

    @classmethod
    def vjp(cls, g, out, inputs, needs, params):
        axis = params["axis"]
        pieces = cls.pieces(inputs, axis, np.ndim(data_of(out)))
        lead = (slice(None),) * (axis % np.ndim(data_of(out)))
        return tuple(
            getitem(g, lead + (piece,)) if need else None for piece, need in zip(pieces, needs)
        )

    @classmethod
    def jvp(cls, tangents, out, inputs, params):
        if all(t is None for t in tangents):
            return None
        filled = [
            np.zeros(_shape_of(x), dtype=np.result_type(data_of(x))) if t is None else t
            for t, x in zip(tangents, inputs)
        ]
        return cls.join(filled, params["axis"])


@register("concat", Domain("concat"))
class Concat(_Join):
    """Inputs joined end to end along an existing axis.  Gradient: g cut back into the
    inputs' pieces."""

    name = "concat"
    forward = staticmethod(lambda *xs, axis: np.concatenate(xs, axis=axis))
    join = staticmethod(lambda xs, axis: concat(xs, axis))

    @staticmethod
    def pieces(inputs, axis, ndim):
        ends = np.cumsum([_shape_of(x)[axis] for x in inputs])
        return [slice(int(end - _shape_of(x)[axis]), int(end)) for x, end in zip(inputs, ends)]


@register("stack", Domain("stack"))
class Stack(_Join):
    """Inputs of one shape stacked along a new axis.  Gradient: g's slice at each position."""

    name = "stack"
    forward = staticmethod(lambda *xs, axis: np.stack(xs, axis=axis))
    join = staticmethod(lambda xs, axis: stack(xs, axis))

    @staticmethod
    def pieces(inputs, axis, ndim):
        return list(range(len(inputs)))


def _index_text(index):
    parts = index if isinstance(index, tuple) else (index,)
    words = []
    for p in parts:
        if isinstance(p, slice):
            words.append(
                ":".join("" if v is None else str(v) for v in (p.start, p.stop, p.step)).rstrip(":")
                or ":"
            )
        elif isinstance(p, np.ndarray):
            words.append(f"<{p.dtype} array {p.shape}>")
        else:
            words.append("..." if p is Ellipsis else repr(p))
    return ", ".join(words)


def _clean_index(index):
    """Values and lists in an index become plain integer/bool arrays."""
    if isinstance(index, tuple):
        return tuple(_clean_index(p) for p in index)
    if hasattr(index, "_op"):
        index = index.data
    if isinstance(index, (list, np.ndarray)):
        arr = np.asarray(index)
        if arr.dtype.kind == "f":
            if not np.all(arr == np.round(arr)):
                raise IndexError(f"index arrays must hold integers or bools, got {arr}")
            arr = arr.astype(np.intp)
        return arr
    if isinstance(index, float):
        raise IndexError(f"an index must be an integer, got the float {index!r}")
    return index


def _normalize_shape(shape):
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = shape[0]
    return tuple(int(s) for s in shape)


def reshape(x, *shape):
    """x with a new shape: `reshape(x, 2, 3)` or `reshape(x, (2, 3))`; -1 infers one size."""
    return apply(Reshape, x, shape=_normalize_shape(shape))


def transpose(x, *axes):
    """x with permuted axes (reversed when none are given), as numpy.transpose."""
    ndim = np.ndim(data_of(x))
    axes = _normalize_shape(axes) if axes and axes != (None,) else tuple(reversed(range(ndim)))
    valid = sorted(a % ndim for a in axes) == list(range(ndim)) if ndim else axes == ()
    if not valid:
        raise ValueError(f"transpose: axes {axes} are not a permutation of {ndim} axes")
    return apply(Transpose, x, axes=tuple(a % ndim for a in axes))


def squeeze(x, axis=None):
    """x without its size-1 axes (or only the given ones, which must have size 1)."""
    return apply(Squeeze, x, axis=axis)


def unsqueeze(x, axis):
    """x with a new size-1 axis inserted at `axis`."""
    return apply(Unsqueeze, x, axis=axis)


def broadcast_to(x, shape):
    """x repeated along new leading or size-1 axes to `shape`, as numpy.broadcast_to."""
    shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
    return apply(BroadcastTo, x, shape=tuple(int(s) for s in shape))


def getitem(x, index):
    """x[index]: ints, slices, None, Ellipsis, lists and int/bool arrays (numpy rules)."""
    return apply(GetItem, x, index=_clean_index(index))


def scatter_add(g, index, shape):
    """zeros(shape) with g added at [index]; repeated indices add up."""
    return apply(ScatterAdd, g, index=index, shape=tuple(shape))


def _check_join(name, values):
    if isinstance(values, np.ndarray) or hasattr(values, "_op"):
        raise TypeError(f"{name}: expects a list or tuple of Values/arrays, got one array")
    values = list(values)
    if not values:
        raise ValueError(f"{name}: needs at least one input")
    return values


def concat(values, axis=0):
    """Join Values (or arrays) along an existing axis, as numpy.concatenate."""
    values = _check_join("concat", values)
    return apply(Concat, *values, axis=axis)


def stack(values, axis=0):
    """Stack Values (or arrays) of one shape along a new axis, as numpy.stack."""
    values = _check_join("stack", values)
    return apply(Stack, *values, axis=axis)
