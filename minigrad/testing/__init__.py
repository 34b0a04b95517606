"""Test your own op the way minigrad tests its own: `check_op` runs the library's Hypothesis
gradient suite on it.

>>> import minigrad as mg
>>> from minigrad.testing import Domain, check_op
>>> class Cube(mg.Function):
...     '''x**3.  Gradient: gx = 3 g x**2.'''
...     name = "cube"
...     forward = staticmethod(lambda x: x * x * x)
...     grads = (lambda g, out, x: 3.0 * g * x * x,)
...     jvps = (lambda t, out, x: 3.0 * t * x * x,)
>>> check_op(Cube, Domain("unary"), max_examples=10)

For random shapes (broadcastable ones for several inputs, Python floats included), values
inside the domain you give and random upstream gradients it checks: the gradient against
central finite differences, entry by entry; second order (gradients of gradients) against
finite differences of the gradient; the forward-mode rules (if the function has them) against
finite differences and against the gradient rules through <u, J v> = <J^T u, v>; that float32
inputs give float32 results and gradients; that the inputs are never changed. A failure raises
AssertionError naming the check, the input, the entry, the analytic and the numeric number, and
Hypothesis prints the smallest case it found ("Falsifying example").

Needs Hypothesis (`pip install hypothesis`, part of minigrad's `dev` extra).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

try:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
except ImportError as err:  # pragma: no cover - hypothesis is a dev dependency
    raise ImportError(
        "minigrad.testing needs Hypothesis: pip install hypothesis (or minigrad[dev])"
    ) from err

import numpy as np

from minigrad.ops.registry import Domain, Op
from minigrad.testing.checks import (
    check_first_order,
    check_float32,
    check_forward_mode,
    check_second_order,
)
from minigrad.testing.strategies import Case, cases_for
from minigrad.value import Value

__all__ = ["check_op", "Case", "Domain", "run_checks"]


def run_checks(
    case: Case,
    rng: np.random.Generator,
    name: str,
    *,
    second_order: bool = True,
    forward_mode: bool = True,
    float32: bool = True,
    floats_stay_floats: bool = True,
    floats_are_weak: bool = True,
) -> None:
    """Every check of the suite on one case (see minigrad.testing.checks)."""
    check_first_order(case, rng, name, floats_stay_floats)
    if float32:
        check_float32(case, rng, name, floats_are_weak)
    if second_order:
        check_second_order(case, rng, name)
    if forward_mode:
        check_forward_mode(case, rng, name, floats_are_weak)


def _callable_and_name(fn: Any, name: str | None) -> tuple[Callable, str, type | None]:
    if isinstance(fn, type) and issubclass(fn, Op):
        apply = getattr(fn, "apply", None)
        if apply is None:
            raise TypeError(f"check_op: {fn.__name__} is an Op without apply(); pass a function")
        return apply, name or fn.name, fn
    if not callable(fn):
        raise TypeError(f"check_op: expected a Function class or a callable, got {fn!r}")
    return _on_data_too(fn), name or getattr(fn, "__name__", "f"), None


def _on_data_too(fn: Callable) -> Callable:
    """fn for the suite, which also calls it on plain data (finite differences): plain inputs
    go in as constant Values (so Value methods work) and the data comes out."""

    def call(*inputs: Any, **params: Any) -> Any:
        if any(isinstance(x, Value) for x in inputs):
            return fn(*inputs, **params)
        out = fn(*[Value(x, requires_grad=False) for x in inputs], **params)
        return out.data if isinstance(out, Value) else out

    return call


def check_op(
    fn: Any,
    domain: Domain | None = None,
    *,
    cases: Any = None,
    reference: Callable | None = None,
    second_order: bool | None = None,
    forward_mode: bool | None = None,
    float32: bool = True,
    max_examples: int | None = None,
    name: str | None = None,
) -> None:
    """Run the gradient suite on `fn`, raising AssertionError at the first case that fails.

    Args:
        fn: a `minigrad.Function` subclass (called through its `apply`), or any function of
            Values built from minigrad ops and your functions.
        domain: where to test: `Domain(kind, ranges=..., kinks=..., second_order=...,
            params=...)` with kind 'unary' (one input), 'binary' (two broadcastable inputs),
            'nary' (one broadcastable input per entry of `ranges`), 'reduce' (one input and an
            `axis`) or 'axis'. Defaults to fn's own `domain` attribute.
        cases: instead of a domain, a Hypothesis strategy drawing `Case`s (your own shapes).
        reference: the same forward written with numpy, `reference(*inputs, **params)`,
            compared with fn's forward.
        second_order: check gradients of gradients (default: `domain.second_order`, off for a
            Function declared `once_differentiable`).
        forward_mode: check the forward-mode rules (default: when fn is not a Function class
            or the class has `jvps` or its own `jvp`).
        float32: check that float32 stays float32.
        max_examples: how many cases Hypothesis draws (default: the current profile's).
        name: the name used in reports (default: the Function's `name`, fn's `__name__`).
    """
    call, name, cls = _callable_and_name(fn, name)
    domain = domain if domain is not None else getattr(cls, "domain", None)
    if cases is None:
        if domain is None:
            raise TypeError("check_op: give a domain= (or cases=) to test on")
        cases = cases_for(call, domain, reference, name)
    else:
        cases = cases.map(lambda c: Case(c.inputs, _on_data_too(c.call), c.text, c.reference))
    if second_order is None:
        second_order = domain.second_order if domain is not None else True
        second_order = second_order and not getattr(cls, "once_differentiable", False)
    if forward_mode is None:
        forward_mode = cls is None or bool(cls.jvps) or cls.jvp.__func__ is not Op.jvp.__func__
    options = {"second_order": second_order, "forward_mode": forward_mode, "float32": float32}

    @settings(
        settings(),  # the current profile, with these changes
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        **({} if max_examples is None else {"max_examples": max_examples}),
    )
    @given(data=st.data())
    def check(data: Any) -> None:
        case = data.draw(cases, label="case")
        rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
        run_checks(case, rng, name, **options)

    check()
