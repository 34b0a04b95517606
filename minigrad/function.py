"""Your own differentiable functions, written the way minigrad writes its ops.

Subclass `Function` and give it what every op in minigrad/ops has: a `forward` on plain data
(Python floats and numpy arrays), one gradient rule per input in `grads`, optionally one
forward-mode rule per input in `jvps`, and a `name` for pictures:

>>> import minigrad as mg
>>> class Cube(mg.Function):
...     '''x**3.  Gradient: gx = 3 g x**2.'''
...     name = "cube"
...     forward = staticmethod(lambda x: x * x * x)
...     grads = (lambda g, out, x: 3.0 * g * x * x,)   # g: the gradient arriving at the output
...     jvps = (lambda t, out, x: 3.0 * t * x * x,)    # t: the input's tangent (forward mode)
>>> y = Cube.apply(mg.Value(2.0))
>>> y.backward(); y.data, y.parents[0].grad
(8.0, 12.0)

The rules:
- `rule(g, out, *inputs, **params)`: `out` is the forward's result, `inputs` the inputs, `params`
  the keyword arguments given to `apply` (`Cube.apply(x, k=2.0)` calls `forward(x, k=2.0)` and
  `rule(g, out, x, k=2.0)`). Return the gradient for that input (None for none); in the output's
  broadcast shape is fine, the engine sums it back to the input's shape, as for every op.
- Written with operators and minigrad's functions (`mg.exp`, `mg.where`, ...), the same lines
  run on plain data in a normal backward and on Values under `create_graph=True`, so gradients
  of gradients come for free. Written in plain numpy instead, declare it:
  `once_differentiable = True`; then differentiating its gradient again (`grad(grad(f))`,
  a backward through a `.grad` made with `create_graph=True`) raises an error naming the
  function, instead of the silent zero a numpy rule would give.
- Anything the forward wants to keep for the rules (a mask, a factorization): give forward a
  parameter called `saved`; `apply` passes a fresh namespace per call, and the rules get the
  same one (`lambda g, out, x, saved: g * saved.mask`). It holds plain data: constants to a
  second differentiation, so rules that must differentiate again should use `out` and inputs.
- Without `jvps`, forward mode (`mg.jvp`, `mg.jacfwd`) through the function raises an error
  naming it. A function of a variable number of inputs overrides `vjp` (and `jvp`), as
  `ops.shape.Concat` does.

Inputs may be Values, numbers or arrays; Python floats in give a Python float out. The function
works everywhere an op does: `draw_graph`, `trace_backward`, `no_grad`, anomaly mode, forward
mode, `minigrad.testing.check_op` (which tests it as the library's ops are tested).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.engine import apply
from minigrad.ops.registry import Op, data_of
from minigrad.value import Value


class Saved:
    """A namespace for what a forward keeps for its rules: `saved.mask = x > 0`."""

    def __repr__(self) -> str:  # graphs and anomaly messages print params: keep arrays out
        return f"<saved: {', '.join(vars(self)) or 'nothing'}>"


class Function(Op):
    """Base class of a user-defined differentiable function (see the module docstring).

    Class attributes: `name`, `forward`, `grads`, optionally `jvps`, `once_differentiable`.
    Call it with `YourFunction.apply(*inputs, **params)`.
    """

    once_differentiable = False
    keeps = False  # whether forward takes `saved` (set for each subclass)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" not in cls.__dict__:
            cls.name = cls.__name__
        forward = cls.__dict__.get("forward")
        if forward is None:
            return  # an intermediate base class; apply checks for a forward
        if isinstance(forward, staticmethod):
            forward = forward.__func__
        if not callable(forward):
            raise TypeError(f"Function {cls.__name__}: forward must be a function")
        cls.keeps = "saved" in inspect.signature(forward).parameters
        cls.forward = staticmethod(_floats_stay_floats(forward))
        for what in ("grads", "jvps"):
            rules = cls.__dict__.get(what, ())
            if not isinstance(rules, (tuple, list)) or not all(
                r is None or callable(r) for r in rules
            ):
                raise TypeError(
                    f"Function {cls.__name__}: {what} must be a tuple of rules (functions or "
                    f"None), one per input, got {rules!r}"
                )
        if cls.jvps and len(cls.jvps) != len(cls.grads) and not _own_vjp(cls):
            raise TypeError(
                f"Function {cls.__name__}: {len(cls.grads)} gradient rules but "
                f"{len(cls.jvps)} forward rules; give one of each per input"
            )

    @classmethod
    def apply(cls, *inputs: Any, **params: Any) -> Any:
        """Run the function on `inputs` (Values, numbers, arrays), recording it when an input
        requires grad; keyword arguments are its parameters."""
        if "forward" not in vars(cls) and cls.forward is Op.forward:
            raise TypeError(f"Function {cls.__name__} has no forward")
        if not _own_vjp(cls) and len(inputs) != len(cls.grads):
            raise TypeError(
                f"{cls.name}: takes {len(cls.grads)} input{'s' if len(cls.grads) != 1 else ''} "
                f"(one gradient rule each), got {len(inputs)}; parameters go by keyword"
            )
        if cls.keeps:
            if "saved" in params:
                raise TypeError(f"{cls.name}: 'saved' is filled in by apply, do not pass it")
            params["saved"] = Saved()
        return apply(cls, *inputs, **params)

    @classmethod
    def vjp(cls, g: Any, out: Any, inputs: Any, needs: Any, params: dict) -> tuple:
        on_values = isinstance(g, Value) or isinstance(out, Value)
        if on_values and cls.once_differentiable:
            grads = _guarded_grads(cls, g, out, inputs, needs, params)
        elif on_values:
            grads = _on_values(cls, "gradient", Op.vjp.__func__, g, out, inputs, needs, params)
        else:
            grads = Op.vjp.__func__(cls, g, out, inputs, needs, params)
        for i, (gx, x) in enumerate(zip(grads, inputs)):
            if gx is not None:
                _check_shape(cls, i, gx, x, out)
        return grads

    @classmethod
    def jvp(cls, tangents: Any, out: Any, inputs: Any, params: dict) -> Any:
        if not cls.jvps:
            raise NotImplementedError(
                f"jvp: the function {cls.name!r} has no forward-mode rule: give "
                f"{cls.__name__} `jvps = (...)`, one rule(t, out, *inputs, **params) per "
                "input, or differentiate it in reverse mode (grad, jacrev)"
            )
        if isinstance(out, Value) and cls.once_differentiable:
            return _guarded_tangent(cls, tangents, out, inputs, params)
        if isinstance(out, Value):
            (t,) = _on_values(cls, "forward", _jvp_as_tuple, tangents, out, inputs, None, params)
            return t
        return Op.jvp.__func__(cls, tangents, out, inputs, params)

    @classmethod
    def describe(cls, params: dict | None) -> str:
        shown = {k: v for k, v in (params or {}).items() if k != "saved"}
        return Op.describe.__func__(cls, shown)


def _own_vjp(cls: type) -> bool:
    """Whether the function overrides vjp (a variable number of inputs, as concat)."""
    return cls.vjp.__func__ is not Function.vjp.__func__


def _floats_stay_floats(forward: Callable) -> Callable:
    """The forward, with a numpy scalar result for Python-float inputs turned into a Python
    float: scalars stay floats (the fast scalar path), as for the library's ops."""

    @functools.wraps(forward)
    def forward_of_data(*inputs: Any, **params: Any) -> Any:
        out = forward(*inputs, **params)
        if type(out) is not float and all(type(x) is float for x in inputs):
            if isinstance(out, np.floating) or (isinstance(out, np.ndarray) and out.shape == ()):
                if out.dtype == np.float64:
                    return float(out)
        return out

    return forward_of_data


def _check_shape(cls: type, i: int, gx: Any, x: Any, out: Any) -> None:
    """A rule's result must sum back to its input's shape: x's shape, or a broadcast of it."""
    gshape, xshape = np.shape(data_of(gx)), np.shape(data_of(x))
    lead = len(gshape) - len(xshape)
    if lead >= 0 and all(n == m or n == 1 for n, m in zip(xshape, gshape[lead:])):
        return
    raise ValueError(
        f"{cls.name}: gradient rule {i} returned shape {gshape} for input {i} of shape "
        f"{xshape} (the output has shape {np.shape(data_of(out))}); return it in the input's "
        "shape or the output's broadcast shape"
    )


def _jvp_as_tuple(cls: type, tangents: Any, out: Any, inputs: Any, needs: Any, params: dict):
    return (Op.jvp.__func__(cls, tangents, out, inputs, params),)


def _on_values(cls: type, what: str, method: Callable, first, out, inputs, needs, params) -> tuple:
    """The rules run on Values (to be differentiated again): a rule that leaves minigrad for
    numpy either fails inside numpy or returns plain data, whose derivative would silently be
    zero. Both are errors naming the function."""
    advice = (
        f"write the {what} rules of {cls.name!r} with minigrad ops (mg.exp, mg.where, ...) so "
        f"they differentiate again, or declare {cls.__name__}.once_differentiable = True"
    )
    try:
        results = method(cls, first, out, inputs, needs, params)
    except TypeError as err:
        if "Value" not in str(err) and "ufunc" not in str(err):
            raise
        raise TypeError(f"{cls.name}: a {what} rule failed on Values ({err}): {advice}") from err
    for i, r in enumerate(results):
        if r is not None and not isinstance(r, Value):
            raise RuntimeError(
                f"{cls.name}: {what} rule {i} returned plain data when asked for a result to "
                f"differentiate again, which would silently count as a constant: {advice}"
            )
    return results


def _guard(cls: type, result: Any, parents: list, what: str) -> Any:
    """A result computed on plain data, as a node that refuses a second differentiation."""
    if result is None:
        return None
    parents = [p for p in parents if isinstance(p, Value)]
    return apply(OnceDifferentiated, *parents, value=result, function=cls.name, what=what)


def _guarded_grads(cls: type, g: Any, out: Any, inputs: Any, needs: Any, params: dict) -> tuple:
    """A once-differentiable function's gradient rules, run on plain data, each result a
    node depending on g, out and the inputs that refuses to be differentiated again."""
    datas = [data_of(x) for x in inputs]
    grads = Op.vjp.__func__(cls, data_of(g), data_of(out), datas, needs, params)
    return tuple(_guard(cls, gx, [g, out, *inputs], "gradient") for gx in grads)


def _guarded_tangent(cls: type, tangents: Any, out: Any, inputs: Any, params: dict) -> Any:
    """The same for its forward rules: the tangent on plain data, guarded."""
    plain = [None if t is None else data_of(t) for t in tangents]
    t = Op.jvp.__func__(cls, plain, data_of(out), [data_of(x) for x in inputs], params)
    return _guard(cls, t, [*tangents, out, *inputs], "tangent")


class OnceDifferentiated(Op):
    """A gradient (or tangent) that a once-differentiable function computed on plain data:
    it holds the number, and differentiating it again raises an error naming the function.
    Gradient: none (an error)."""

    name = "once_differentiable"
    forward = staticmethod(lambda *inputs, value, function, what: value)

    @classmethod
    def vjp(cls, g: Any, out: Any, inputs: Any, needs: Any, params: dict) -> tuple:
        raise RuntimeError(
            f"the function {params['function']!r} is declared once_differentiable (its rules are "
            f"plain numpy), so its {params['what']} cannot be differentiated again: write its "
            "rules with minigrad ops (they then differentiate again) and drop "
            "once_differentiable"
        )

    @classmethod
    def jvp(cls, tangents: Any, out: Any, inputs: Any, params: dict) -> Any:
        cls.vjp(None, out, inputs, None, params)

    @classmethod
    def describe(cls, params: dict | None) -> str:
        params = params or {}
        return f"{params.get('function', '?')}'s {params.get('what', 'gradient')} (once)"
