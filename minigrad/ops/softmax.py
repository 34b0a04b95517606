"""softmax and log_softmax along one axis, both shifted by the max so e**x never overflows."""

from __future__ import annotations

import numpy as np

from minigrad.engine import apply
from minigrad.ops.registry import Domain, Op, register


def _softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


@register("softmax", Domain("axis"))
class Softmax(Op):
    """e**x / sum(e**x) along axis.  Gradient: gx = out * (g - sum(g * out, axis))."""

    name = "softmax"
    forward = staticmethod(_softmax)
    grads = (lambda g, out, x, axis: out * (g - sum(g * out, axis, keepdims=True)),)
    jvps = grads  # the Jacobian diag(out) - out out^T is symmetric: J t has J^T g's formula


@register("log_softmax", Domain("axis"))
class LogSoftmax(Op):
    """x - logsumexp(x) along axis.  Gradient: gx = g - e**out * sum(g, axis).
    Forward: t - sum(e**out * t, axis)."""

    name = "log_softmax"
    forward = staticmethod(_log_softmax)
    grads = (lambda g, out, x, axis: g - exp(out) * sum(g, axis, keepdims=True),)
    jvps = (lambda t, out, x, axis: t - sum(exp(out) * t, axis, keepdims=True),)


def _check_axis(x, axis):
    ndim = np.ndim(x.data if hasattr(x, "_op") else x)
    if ndim == 0:
        raise ValueError("softmax/log_softmax need an array of at least 1 dimension, got a scalar")
    if not -ndim <= axis < ndim:
        raise ValueError(f"axis {axis} is out of range for an array of {ndim} dimensions")


def softmax(x, axis=-1):
    """Probabilities along axis: e**x / sum(e**x)."""
    _check_axis(x, axis)
    return apply(Softmax, x, axis=axis)


def log_softmax(x, axis=-1):
    """Log-probabilities along axis: x - logsumexp(x), stable for large inputs."""
    _check_axis(x, axis)
    return apply(LogSoftmax, x, axis=axis)


from minigrad.ops.elementwise import exp  # noqa: E402
from minigrad.ops.reduce import sum  # noqa: E402
