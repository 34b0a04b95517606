"""Elementwise functions: exp, log, sqrt, abs, tanh, sigmoid, relu, leaky_relu, softplus, sin,
cos, clip, maximum, minimum, where.

Each forward takes a Python float (computed with `math`, much cheaper than numpy on one number)
or a numpy array. Subgradients at kinks: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope;
clip passes the gradient on its closed interval [lo, hi]; maximum/minimum split a tie evenly
(half the gradient to each side), as PyTorch does.

Forward mode: each output entry depends only on the same entry of each input (after
broadcasting), so the Jacobian is diagonal and a forward rule is the gradient rule with the
tangent `t` in place of `g`: `jvps = grads` in every class below.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.engine import apply, apply1, apply2
from minigrad.ops.registry import Domain, Op, data_of, register


def _exp(x):
    if type(x) is float:
        try:
            return math.exp(x)
        except OverflowError:
            return math.inf
    return np.exp(x)


@register("exp", Domain("unary"))
class Exp(Op):
    """e**x.  Gradient: gx = g * e**x = g * out."""

    name = "exp"
    forward = staticmethod(_exp)
    grads = (lambda g, out, x: g * out,)
    jvps = grads


def _log(x):
    if type(x) is float:
        if x > 0:
            return math.log(x)
        return -math.inf if x == 0 else math.nan
    with np.errstate(divide="ignore", invalid="ignore"):  # log(0) = -inf, log(-1) = nan
        return np.log(x)


@register("log", Domain("unary", ranges=((0.2, 5.0),)))
class Log(Op):
    """Natural logarithm ln(x).  Gradient: gx = g / x."""

    name = "log"
    forward = staticmethod(_log)
    grads = (lambda g, out, x: div(g, x),)
    jvps = grads


def _sqrt(x):
    if type(x) is float:
        return math.sqrt(x) if x >= 0 else math.nan
    with np.errstate(invalid="ignore"):
        return np.sqrt(x)


@register("sqrt", Domain("unary", ranges=((0.2, 5.0),)))
class Sqrt(Op):
    """Square root.  Gradient: gx = g / (2 sqrt(x)) = g / (2 out)."""

    name = "sqrt"
    forward = staticmethod(_sqrt)
    grads = (lambda g, out, x: div(g, 2.0 * out),)
    jvps = grads


def _sign(x):
    x = data_of(x)
    if type(x) is float:
        return (x > 0) - (x < 0)
    return np.sign(x)


def _in_dtype(c, *like):
    """A constant factor of a rule (a mask, a share) in the dtype of `like`: a bool or float64
    array would turn float32 gradients into float64 when the rule runs on Values."""
    if type(c) is not np.ndarray:
        return c
    if c.dtype.kind == "b":
        for v in like:  # Speed: a loop, not any(generator) (a function call in Python 3.11)
            if hasattr(v, "_op"):
                break
        else:
            return c  # on plain arrays, g * mask keeps g's dtype already (no copy needed)
    return c.astype(np.result_type(*(data_of(v) for v in like)), copy=False)


@register("abs", Domain("unary", kinks=(0.0,), second_order=False))
class Abs(Op):
    """|x|.  Gradient: gx = g * sign(x), with abs'(0) = 0."""

    name = "abs"
    forward = staticmethod(lambda x: math.fabs(x) if type(x) is float else np.abs(x))
    grads = (lambda g, out, x: g * _sign(x),)
    jvps = grads


@register("tanh", Domain("unary"))
class Tanh(Op):
    """Hyperbolic tangent.  Gradient: gx = g * (1 - tanh(x)**2) = g * (1 - out**2)."""

    name = "tanh"
    forward = staticmethod(lambda x: math.tanh(x) if type(x) is float else np.tanh(x))
    grads = (lambda g, out, x: g * (1.0 - out * out),)
    jvps = grads


def _sigmoid(x):
    # Never exponentiate a large positive number: for x < 0 use e**x / (1 + e**x).
    if type(x) is float:
        if x >= 0:
            return 1.0 / (1.0 + math.exp(-x))
        e = math.exp(x)
        return e / (1.0 + e)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0, e) / (1.0 + e)


@register("sigmoid", Domain("unary"))
class Sigmoid(Op):
    """Logistic sigmoid 1 / (1 + e**-x).  Gradient: gx = g * out * (1 - out)."""

    name = "sigmoid"
    forward = staticmethod(_sigmoid)
    grads = (lambda g, out, x: g * out * (1.0 - out),)
    jvps = grads


@register("relu", Domain("unary", kinks=(0.0,), second_order=False))
class Relu(Op):
    """max(x, 0).  Gradient: gx = g where x > 0, else 0 (relu'(0) = 0)."""

    name = "relu"
    forward = staticmethod(lambda x: max(x, 0.0) if type(x) is float else np.maximum(x, 0))
    grads = (lambda g, out, x: _relu_grad(g, x),)
    jvps = grads


def _relu_grad(g, x):
    if type(g) is np.ndarray and type(x) is np.ndarray and g.shape == x.shape:
        # Speed: plain arrays, the usual backward. The mask is made in g's dtype first: numpy
        # multiplies two float arrays in its vector loop, a float array by a bool one in a
        # slower converting loop (15 us against 23 us at 512 x 128 float32, 34 against 46 in
        # float64). The same numbers as g * (x > 0).
        mask = (x > 0).astype(g.dtype)
        mask *= g
        return mask
    return g * _in_dtype(data_of(x) > 0, x)


def _leaky(x, slope):
    if type(x) is float:
        return x if x > 0 else slope * x
    return np.where(x > 0, x, slope * x)


@register(
    "leaky_relu", Domain("unary", kinks=(0.0,), second_order=False, params={"slope": (0.01, 0.2)})
)
class LeakyRelu(Op):
    """x if x > 0 else slope * x.  Gradient: gx = g * (1 if x > 0 else slope)."""

    name = "leaky_relu"
    forward = staticmethod(_leaky)
    grads = (lambda g, out, x, slope: g * _in_dtype(where(data_of(x) > 0, 1.0, slope), x),)
    jvps = grads


def _softplus(x):
    # log(1 + e**x) without overflow: max(x, 0) + log(1 + e**-|x|).
    if type(x) is float:
        return max(x, 0.0) + math.log1p(math.exp(-math.fabs(x)))
    return np.logaddexp(x, 0.0)


@register("softplus", Domain("unary"))
class Softplus(Op):
    """log(1 + e**x).  Gradient: gx = g * sigmoid(x)."""

    name = "softplus"
    forward = staticmethod(_softplus)
    grads = (lambda g, out, x: g * sigmoid(x),)
    jvps = grads


@register("sin", Domain("unary"))
class Sin(Op):
    """sin(x).  Gradient: gx = g * cos(x)."""

    name = "sin"
    forward = staticmethod(lambda x: math.sin(x) if type(x) is float else np.sin(x))
    grads = (lambda g, out, x: g * cos(x),)
    jvps = grads


@register("cos", Domain("unary"))
class Cos(Op):
    """cos(x).  Gradient: gx = -g * sin(x)."""

    name = "cos"
    forward = staticmethod(lambda x: math.cos(x) if type(x) is float else np.cos(x))
    grads = (lambda g, out, x: -g * sin(x),)
    jvps = grads


def _clip(x, lo, hi):
    if type(x) is float:
        if lo is not None and x < lo:
            return float(lo)
        return float(hi) if hi is not None and x > hi else x
    return np.clip(x, lo, hi)


def _inside(x, lo, hi):
    x = data_of(x)
    inside = True if lo is None else x >= lo
    return inside if hi is None else inside & (x <= hi)


@register(
    "clip",
    Domain(
        "unary",
        kinks=(-1.0, 1.0),
        second_order=False,
        params={"lo": (-1.0, None), "hi": (1.0, None)},
    ),
)
class Clip(Op):
    """min(max(x, lo), hi).  Gradient: gx = g where lo <= x <= hi, else 0."""

    name = "clip"
    forward = staticmethod(_clip)
    grads = (lambda g, out, x, lo, hi: g * _in_dtype(_inside(x, lo, hi), x),)
    jvps = grads


def _tie_share(x, y):
    """1 where x wins, 0 where y wins, 1/2 on a tie (the gradient is split evenly)."""
    x, y = data_of(x), data_of(y)
    return _in_dtype((x > y) + 0.5 * (x == y), x, y)


def _floats(x, y):
    return type(x) is float and type(y) is float


_PAIR = Domain("binary", ranges=((-3.0, 3.0), (-3.0, 3.0)), second_order=False)


@register("maximum", _PAIR)
class Maximum(Op):
    """Elementwise max(x, y).  Gradient: g to the larger input (split evenly on ties)."""

    name = "maximum"
    forward = staticmethod(lambda x, y: max(x, y) if _floats(x, y) else np.maximum(x, y))
    grads = (lambda g, out, x, y: g * _tie_share(x, y), lambda g, out, x, y: g * _tie_share(y, x))
    jvps = grads


@register("minimum", _PAIR)
class Minimum(Op):
    """Elementwise min(x, y).  Gradient: g to the smaller input (split evenly on ties)."""

    name = "minimum"
    forward = staticmethod(lambda x, y: min(x, y) if _floats(x, y) else np.minimum(x, y))
    grads = (lambda g, out, x, y: g * _tie_share(y, x), lambda g, out, x, y: g * _tie_share(x, y))
    jvps = grads


def _where(x, y, cond):
    if type(cond) is bool and type(x) is float and type(y) is float:
        return x if cond else y
    return np.where(cond, x, y)


@register("where", Domain("where", ranges=((-3.0, 3.0), (-3.0, 3.0))))
class Where(Op):
    """cond ? x : y, elementwise (cond is a constant mask).
    Gradient: gx = g where cond, gy = g where not cond."""

    name = "where"
    forward = staticmethod(_where)
    grads = (
        lambda g, out, x, y, cond: g * _in_dtype(cond, g),
        lambda g, out, x, y, cond: g * _in_dtype(np.logical_not(cond), g),
    )
    jvps = grads

    @classmethod
    def describe(cls, params):
        return "where"


def exp(x):
    """e**x."""
    return apply1(Exp, x)


def log(x):
    """Natural logarithm (log(0) = -inf, log of a negative = nan, without a warning)."""
    return apply1(Log, x)


def sqrt(x):
    """Square root (of a negative: nan, without a warning)."""
    return apply1(Sqrt, x)


def abs(x):  # noqa: A001
    """|x| (abs'(0) = 0)."""
    return apply1(Abs, x)


def tanh(x):
    """Hyperbolic tangent."""
    return apply1(Tanh, x)


def sigmoid(x):
    """1 / (1 + e**-x), computed without overflow."""
    return apply1(Sigmoid, x)


def relu(x):
    """max(x, 0) (relu'(0) = 0)."""
    return apply1(Relu, x)


def leaky_relu(x, slope=0.01):
    """x if x > 0 else slope * x."""
    return apply(LeakyRelu, x, slope=float(slope))


def softplus(x):
    """log(1 + e**x), computed without overflow."""
    return apply1(Softplus, x)


def sin(x):
    """sin(x)."""
    return apply1(Sin, x)


def cos(x):
    """cos(x)."""
    return apply1(Cos, x)


def clip(x, lo=None, hi=None):
    """Limit x to [lo, hi] (either bound may be None)."""
    if lo is None and hi is None:
        raise ValueError("clip: give at least one of lo and hi")
    return apply(Clip, x, lo=lo, hi=hi)


def maximum(x, y):
    """Elementwise maximum (ties split the gradient evenly)."""
    return apply2(Maximum, x, y)


def minimum(x, y):
    """Elementwise minimum (ties split the gradient evenly)."""
    return apply2(Minimum, x, y)


def where(cond, x, y):
    """Elementwise `x if cond else y`; `cond` is a boolean mask (a Value's data counts as one)."""
    cond = np.asarray(data_of(cond), dtype=bool)
    return apply(Where, x, y, cond=bool(cond) if cond.ndim == 0 else cond)


from minigrad.ops.arithmetic import div  # noqa: E402
