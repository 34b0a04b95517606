"""Arithmetic: + - * / ** and unary minus, with numpy broadcasting.

Python floats raise where numpy returns inf or nan (1.0 / 0.0, 0.0 ** -1, (-8.0) ** 0.5 is even
complex), so the scalar paths here give numpy's answers instead: a scalar Value behaves like a
0-d array, only faster.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.engine import apply1, apply2
from minigrad.ops.registry import Domain, Op, data_of, register

_BINARY = Domain("binary", ranges=((-3.0, 3.0), (-3.0, 3.0)))


@register("add", _BINARY)
class Add(Op):
    """x + y.  Gradient: gx = g, gy = g."""

    name = "+"
    forward = staticmethod(lambda x, y: x + y)
    grads = (lambda g, out, x, y: g, lambda g, out, x, y: g)
    jvps = (lambda t, out, x, y: t, lambda t, out, x, y: t)


@register("sub", _BINARY)
class Sub(Op):
    """x - y.  Gradient: gx = g, gy = -g."""

    name = "-"
    forward = staticmethod(lambda x, y: x - y)
    grads = (lambda g, out, x, y: g, lambda g, out, x, y: -g)
    jvps = (lambda t, out, x, y: t, lambda t, out, x, y: -t)


@register("mul", _BINARY)
class Mul(Op):
    """x * y.  Gradient: gx = g * y, gy = g * x."""

    name = "*"
    forward = staticmethod(lambda x, y: x * y)
    grads = (lambda g, out, x, y: g * y, lambda g, out, x, y: g * x)
    jvps = (lambda t, out, x, y: t * y, lambda t, out, x, y: x * t)


def _divide(x, y):
    if type(x) is float and type(y) is float:
        try:
            return x / y
        except ZeroDivisionError:  # numpy's answer: +-inf, or nan for 0/0
            return math.copysign(math.inf, x) * math.copysign(1.0, y) if x else math.nan
    return np.divide(x, y)


@register("div", Domain("binary", ranges=((-3.0, 3.0), (0.5, 3.0))))
class Div(Op):
    """x / y.  Gradient: gx = g / y, gy = -g * x / y**2 = -g * out / y."""

    name = "/"
    forward = staticmethod(_divide)
    grads = (lambda g, out, x, y: div(g, y), lambda g, out, x, y: -div(g * out, y))
    jvps = grads  # elementwise: the Jacobian is diagonal, the same formulas with t for g


@register("neg", Domain("unary"))
class Neg(Op):
    """-x.  Gradient: gx = -g."""

    name = "neg"
    forward = staticmethod(lambda x: -x)
    grads = (lambda g, out, x: -g,)
    jvps = (lambda t, out, x: -t,)


def _power(x, y):
    if type(x) is float and type(y) is float:
        try:
            result = x**y
        except (ZeroDivisionError, OverflowError):
            result = None
        if type(result) is float:
            return result
        # complex (negative base, fractional power), or an error: numpy's nan / inf instead
        with np.errstate(all="ignore"):
            return float(np.power(x, y))
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        return np.power(x, y)


def _grad_exponent(g, out, x, y):
    # d(x**y)/dy = x**y * log(x). At x == 0 the limit is 0 (for y > 0); take log(1) there,
    # as PyTorch does, instead of 0 * -inf = nan.
    safe_x = where(data_of(x) == 0, 1.0, x)
    return g * out * log(safe_x)


@register("pow", Domain("binary", ranges=((0.5, 3.0), (-2.0, 2.0))))
class Pow(Op):
    """x ** y.  Gradient: gx = g * y * x**(y-1), gy = g * x**y * log(x)."""

    name = "**"
    forward = staticmethod(_power)
    grads = (lambda g, out, x, y: g * y * pow(x, y - 1.0), _grad_exponent)
    jvps = grads  # elementwise: the same formulas with the tangent t for g


def add(x, y):
    """x + y, elementwise with broadcasting."""
    return apply2(Add, x, y)


def sub(x, y):
    """x - y, elementwise with broadcasting."""
    return apply2(Sub, x, y)


def mul(x, y):
    """x * y, elementwise with broadcasting."""
    return apply2(Mul, x, y)


def div(x, y):
    """x / y, elementwise with broadcasting (x / 0 gives +-inf or nan, as numpy)."""
    return apply2(Div, x, y)


def neg(x):
    """-x."""
    return apply1(Neg, x)


def pow(x, y):  # noqa: A001 - the public name mirrors numpy/PyTorch
    """x ** y, elementwise; either side may be a Value (negative ** fractional gives nan)."""
    return apply2(Pow, x, y)


# Imported at the end to avoid an import cycle: the elementwise family uses arithmetic too.
from minigrad.ops.elementwise import log, where  # noqa: E402
