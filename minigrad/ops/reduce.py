"""Reductions over `axis` (None for all, an int, or a tuple) with `keepdims`, as in numpy:
sum, mean, max, min, var, logsumexp.

Every rule first puts the reduced axes back into `g` (`_expand`), so it lines up with `x`.
Forward rules go the other way: the tangent has x's shape and is reduced like x.
max/min split the gradient evenly among tied maxima (minima), like PyTorch's amax/amin.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.engine import apply
from minigrad.ops.registry import Domain, Op, data_of, register

_REDUCE = Domain("reduce", params={"keepdims": (False, True)})


def _axes(axis, ndim):
    """The reduced axes as a tuple of non-negative ints."""
    if axis is None or ndim == 0:  # numpy lets axis=0 or -1 "reduce" a 0-d array: no axes
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(int(a) % ndim for a in axes)


def _keep_float(result, x):
    """A reduction of a Python float gives a Python float back: numpy would return a numpy
    scalar (a 0-d float64 array once stored), which would then turn float32 arrays it meets
    into float64, and take the scalar engine off its fast path."""
    return float(result) if type(x) is float else result


def _expand(g, x, axis, keepdims):
    """Reshape g so that it broadcasts against x: size-1 axes where x was reduced."""
    if keepdims:
        return g
    shape = list(np.shape(data_of(x)))
    for a in _axes(axis, len(shape)):
        shape[a] = 1
    if not hasattr(g, "_op"):
        return np.reshape(g, shape)  # Speed: plain data (the usual backward) straight to numpy
    return reshape(g, tuple(shape))


def _count(x, out):
    """How many entries of x went into each entry of the result."""
    return np.size(data_of(x)) // np.size(data_of(out))


def _spread(g, x, axis, keepdims):
    g = _expand(g, x, axis, keepdims)
    if not hasattr(g, "_op"):
        # Speed: plain data straight to numpy; a filled array costs less than a broadcast view
        # here (np.broadcast_to's Python wrapper), and is writable.
        return np.full(np.shape(x), g)
    return broadcast_to(g, np.shape(data_of(x)))


@register("sum", _REDUCE)
class Sum(Op):
    """sum of x over axis.  Gradient: gx = g, copied along the summed axes."""

    name = "sum"
    forward = staticmethod(
        lambda x, axis, keepdims: _keep_float(np.sum(x, axis=axis, keepdims=keepdims), x)
    )
    grads = (lambda g, out, x, axis, keepdims: _spread(g, x, axis, keepdims),)
    jvps = (lambda t, out, x, axis, keepdims: sum(t, axis, keepdims),)


@register("mean", _REDUCE)
class Mean(Op):
    """mean of x over axis (n entries each).  Gradient: gx = g / n, copied along the axes."""

    name = "mean"
    forward = staticmethod(lambda x, axis, keepdims: _mean(x, axis, keepdims))
    grads = (lambda g, out, x, axis, keepdims: _mean_grad(g, out, x, axis, keepdims),)
    jvps = (lambda t, out, x, axis, keepdims: mean(t, axis, keepdims),)


def _mean(x, axis, keepdims):
    if type(x) is np.ndarray and axis is None and not keepdims and x.size and x.dtype.itemsize >= 4:
        return x.sum() / x.size  # Speed: what np.mean computes here, without its wrapper's cost
    return _keep_float(np.mean(x, axis=axis, keepdims=keepdims), x)


def _mean_grad(g, out, x, axis, keepdims):
    if axis is None and type(x) is np.ndarray and not hasattr(g, "_op"):
        return np.full(x.shape, g / x.size)  # Speed: the usual `loss = mean(...)`, in one step
    return _spread(g / _count(x, out), x, axis, keepdims)


def _winners_share(out, x, axis, keepdims):
    # The winners share g evenly: ties split it (a subgradient; the sum stays g).
    winners = data_of(x) == data_of(_expand(out, x, axis, keepdims))
    share = winners / np.sum(winners, axis=_axes(axis, np.ndim(data_of(x))), keepdims=True)
    # In x's dtype: a float64 share would make float32 gradients float64 under create_graph.
    return share.astype(np.result_type(data_of(x)), copy=False)


def _extreme_grad(g, out, x, axis, keepdims):
    return _expand(g, x, axis, keepdims) * _winners_share(out, x, axis, keepdims)


def _extreme_jvp(t, out, x, axis, keepdims):
    # The same subgradient as the rule above: the winners' tangents, averaged over ties.
    return sum(t * _winners_share(out, x, axis, keepdims), axis, keepdims)


_EXTREME = Domain("reduce", params={"keepdims": (False, True)}, second_order=False)


@register("max", _EXTREME)
class Max(Op):
    """max of x over axis.  Gradient: g to the maximal entries (split evenly on ties)."""

    name = "max"
    forward = staticmethod(
        lambda x, axis, keepdims: _keep_float(np.max(x, axis=axis, keepdims=keepdims), x)
    )
    grads = (_extreme_grad,)
    jvps = (_extreme_jvp,)


@register("min", _EXTREME)
class Min(Op):
    """min of x over axis.  Gradient: g to the minimal entries (split evenly on ties)."""

    name = "min"
    forward = staticmethod(
        lambda x, axis, keepdims: _keep_float(np.min(x, axis=axis, keepdims=keepdims), x)
    )
    grads = (_extreme_grad,)
    jvps = (_extreme_jvp,)


def _var_grad(g, out, x, axis, keepdims, ddof):
    n = _count(x, out)
    centered = x - mean(x, axis, keepdims=True)
    return _expand(g, x, axis, keepdims) * centered * (2.0 / (n - ddof))


def _var_jvp(t, out, x, axis, keepdims, ddof):
    n = _count(x, out)
    centered = x - mean(x, axis, keepdims=True)
    return sum(t * centered, axis, keepdims) * (2.0 / (n - ddof))


@register("var", Domain("reduce", params={"keepdims": (False, True), "ddof": (0, 1)}))
class Var(Op):
    """variance mean((x - mean(x))**2) over axis, divided by n - ddof.
    Gradient: gx = g * 2 (x - mean(x)) / (n - ddof)."""

    name = "var"
    forward = staticmethod(
        lambda x, axis, keepdims, ddof: _keep_float(
            np.var(x, axis=axis, keepdims=keepdims, ddof=ddof), x
        )
    )
    grads = (_var_grad,)
    jvps = (_var_jvp,)


def _logsumexp(x, axis, keepdims):
    # log(sum(e**x)) = m + log(sum(e**(x - m))) with m the max: nothing overflows.
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):  # a row of only -inf: log(0) = -inf, as for log
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return _keep_float(out if keepdims else np.squeeze(out, axis=_axes(axis, np.ndim(x))), x)


@register("logsumexp", _REDUCE)
class LogSumExp(Op):
    """log(sum(e**x)) over axis, without overflow.  Gradient: gx = g * e**(x - out)
    (the softmax of x)."""

    name = "logsumexp"
    forward = staticmethod(_logsumexp)
    grads = (
        lambda g, out, x, axis, keepdims: (
            _expand(g, x, axis, keepdims) * exp(x - _expand(out, x, axis, keepdims))
        ),
    )
    jvps = (
        lambda t, out, x, axis, keepdims: sum(
            t * exp(x - _expand(out, x, axis, keepdims)), axis, keepdims
        ),
    )


def _check_ddof(ddof, x, axis):
    n = math.prod(np.shape(data_of(x))[a] for a in _axes(axis, np.ndim(data_of(x))))
    if n - ddof <= 0:
        raise ValueError(f"var: ddof={ddof} leaves no degrees of freedom for {n} entries")


def sum(x, axis=None, keepdims=False):  # noqa: A001
    """Sum over axis (None: all entries)."""
    return apply(Sum, x, axis=axis, keepdims=keepdims)


def mean(x, axis=None, keepdims=False):
    """Mean over axis (None: all entries)."""
    return apply(Mean, x, axis=axis, keepdims=keepdims)


def max(x, axis=None, keepdims=False):  # noqa: A001
    """Maximum over axis (ties share the gradient evenly)."""
    return apply(Max, x, axis=axis, keepdims=keepdims)


def min(x, axis=None, keepdims=False):  # noqa: A001
    """Minimum over axis (ties share the gradient evenly)."""
    return apply(Min, x, axis=axis, keepdims=keepdims)


def var(x, axis=None, keepdims=False, ddof=0):
    """Variance over axis, as numpy: divides by n - ddof (ddof=0 by default; PyTorch's
    unbiased default is ddof=1)."""
    _check_ddof(ddof, x, axis)
    return apply(Var, x, axis=axis, keepdims=keepdims, ddof=ddof)


def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) over axis, stable for large inputs."""
    return apply(LogSumExp, x, axis=axis, keepdims=keepdims)


from minigrad.ops.elementwise import exp  # noqa: E402
from minigrad.ops.shape import broadcast_to, reshape  # noqa: E402
