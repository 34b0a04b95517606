"""The two shape ops of convolutional networks: `pad` (constant borders, numpy's np.pad
convention) and `flatten` (merge a run of axes, as torch.flatten).

Like the ops of shape.py they move numbers without changing them: pad's gradient is g with
the borders cut off (the borders are constants), flatten's is g reshaped back.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.engine import apply
from minigrad.ops.registry import Domain, Op, data_of, register


def _shape_of(x):
    return np.shape(data_of(x))


def _middle(widths, shape):
    """The index of the original entries inside the padded array."""
    return tuple(slice(lo, lo + n) for (lo, _), n in zip(widths, shape))


def _pad(x, pad_width, constant_values):
    return np.pad(x, pad_width, mode="constant", constant_values=constant_values)


@register("pad", Domain("pad"))
class Pad(Op):
    """x with pad_width[i] = (before, after) entries of constant_values added along axis i.
    Gradient: gx = g[before_0 : before_0 + n_0, ...] (the borders are constants)."""

    name = "pad"
    forward = staticmethod(_pad)
    grads = (lambda g, out, x, pad_width, constant_values: _unpad(g, pad_width, x),)
    jvps = (lambda t, out, x, pad_width, constant_values: _pad_zeros(t, pad_width),)


def _unpad(g, pad_width, x):
    return getitem(g, _middle(pad_width, _shape_of(x)))


def _pad_zeros(t, pad_width):
    return apply(Pad, t, pad_width=pad_width, constant_values=0.0)


def _widths(pad_width, shape):
    """np.pad's forms (an int, (before, after), or one pair per axis) as one pair per axis."""
    given = np.asarray(pad_width)
    if given.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must hold integers, got {pad_width!r}")
    try:
        widths = np.broadcast_to(given, (len(shape), 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit an input of shape {shape}: give an int, "
            f"(before, after), or one (before, after) pair for each of its {len(shape)} axes"
        ) from None
    if np.any(widths < 0):
        raise ValueError(f"pad: pad widths must be non-negative, got {pad_width!r}")
    return tuple((int(lo), int(hi)) for lo, hi in widths)


def pad(x, pad_width, constant_values=0):
    """x with constant borders, as np.pad(x, pad_width, constant_values=...): pad_width is an
    int (every side of every axis), a pair (before, after) for every axis, or one pair per axis.

    >>> pad(np.array([1.0, 2.0]), (1, 2))
    array([0., 1., 2., 0., 0.])
    """
    if hasattr(constant_values, "_op"):
        raise TypeError(
            "pad: constant_values is a constant (no gradient flows to it): pass numbers"
        )
    widths = _widths(pad_width, _shape_of(x))
    return apply(Pad, x, pad_width=widths, constant_values=constant_values)


def _flat_shape(shape, start_dim, end_dim):
    if not shape:
        return (1,)
    return shape[:start_dim] + (math.prod(shape[start_dim : end_dim + 1]),) + shape[end_dim + 1 :]


@register("flatten", Domain("flatten"))
class Flatten(Op):
    """x with axes start_dim..end_dim merged into one, in C order (as torch.flatten).
    Gradient: gx = g reshaped back to x's shape."""

    name = "flatten"
    forward = staticmethod(
        lambda x, start_dim, end_dim: np.reshape(x, _flat_shape(np.shape(x), start_dim, end_dim))
    )
    grads = (lambda g, out, x, start_dim, end_dim: reshape(g, _shape_of(x)),)
    jvps = (
        lambda t, out, x, start_dim, end_dim: apply(
            Flatten, t, start_dim=start_dim, end_dim=end_dim
        ),
    )


def _axis(name, axis, ndim):
    if not isinstance(axis, (int, np.integer)) or isinstance(axis, bool):
        raise TypeError(f"flatten: {name} must be an int, got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"flatten: {name}={axis} is out of range for {ndim} dimensions")
    return int(axis) % ndim


def flatten(x, start_dim=0, end_dim=-1):
    """x with the axes from start_dim to end_dim (both included) merged into one, as
    torch.flatten: by default everything (a single number gives shape (1,)); `flatten(x, 1)`
    keeps the batch axis, as nn.Flatten does."""
    shape = _shape_of(x)
    ndim = max(len(shape), 1)
    start, end = _axis("start_dim", start_dim, ndim), _axis("end_dim", end_dim, ndim)
    if start > end:
        raise ValueError(
            f"flatten: start_dim ({start_dim}) must not come after end_dim ({end_dim}) for "
            f"shape {shape}"
        )
    return apply(Flatten, x, start_dim=start, end_dim=end)


from minigrad.ops.shape import getitem, reshape  # noqa: E402
