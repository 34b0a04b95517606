"""The checks behind the gradient suite, one function per property, for any `Case`.

- `check_first_order`: the recorded forward is the plain forward (and numpy's, when the case
  has a reference); backward's vector-Jacobian product with a random upstream gradient g matches
  d sum(g * f(x)) / dx by central differences in float64, entry by entry; gradients have their
  inputs' shapes and dtypes (a Python float for a Python float); inputs are never mutated.
- `check_float32`: the same case in float32 gives float32 results and gradients (also as
  Values, with create_graph=True), close to the float64 ones.
- `check_second_order`: the gradient of sum(r * vjp(x)) taken through create_graph=True
  matches a finite difference of the plain first-order vjp along a random direction.
- `check_forward_mode`: jvp's tangent J v matches (f(x + eps v) - f(x - eps v)) / (2 eps), and
  agrees with backward through <u, J v> = <J^T u, v>; float32 tangents stay float32.

Each raises AssertionError with a message that names the function, the input and the entry.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from minigrad.autodiff import jvp
from minigrad.engine import gradients
from minigrad.testing.strategies import Case
from minigrad.value import Value

EPS = 1e-6
ATOL = 1e-5
RTOL = 1e-4


def random_like(rng: np.random.Generator, x: Any) -> Any:
    """Standard normal numbers in the shape of x (a float for a float)."""
    if type(x) is float:
        return float(rng.standard_normal())
    return rng.standard_normal(np.shape(x))


def project(out: Any, g: Any) -> float:
    """sum(g * out) in float64: the number whose gradient is the VJP with g."""
    return float(np.sum(np.asarray(out, dtype=np.float64) * g))


def _moved(x: Any, flat_index: int, step: float) -> Any:
    if type(x) is float:
        return x + step
    moved = np.array(x, dtype=np.float64)
    moved.reshape(-1)[flat_index] += step
    return moved


def numeric_vjp(case: Case, g: Any, i: int) -> Any:
    """d sum(g * f(inputs)) / d inputs[i], entry by entry, by central differences."""
    x = case.inputs[i]
    result = np.zeros(np.shape(x))
    for j in range(np.size(x)):
        values = []
        for step in (EPS, -EPS):
            trial = list(case.inputs)
            trial[i] = _moved(x, j, step)
            values.append(project(case.call(*trial), g))
        result.reshape(-1)[j] = (values[0] - values[1]) / (2 * EPS)
    return float(result) if type(x) is float else result


def assert_close(analytic: Any, numeric: Any, scale: float, what: str, how: str = "backward"):
    """Entrywise |analytic - numeric| <= ATOL * scale + RTOL * |numeric|, else an error naming
    the worst entry."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    tol = ATOL * scale + RTOL * np.abs(numeric)
    bad = np.abs(analytic - numeric) > tol
    if np.any(bad):
        worst = np.unravel_index(np.argmax(np.abs(analytic - numeric) - tol), analytic.shape)
        where = tuple(int(i) for i in worst)
        raise AssertionError(
            f"{what}: at {where} {how} gives {float(analytic[where])!r}, finite differences "
            f"{float(numeric[where])!r}\nanalytic:\n{analytic}\nnumeric:\n{numeric}"
        )


def plain_vjp(case: Case, inputs: list, g: Any) -> list:
    leaves = [Value(x) for x in inputs]
    return gradients(case.call(*leaves), leaves, gradient=g)


def check_first_order(
    case: Case, rng: np.random.Generator, name: str, floats_stay_floats: bool = True
) -> None:
    """Forward and first-order gradients of one case (see the module docstring).
    `floats_stay_floats`: Python floats in must give a Python float out (the scalar path)."""
    before = copy.deepcopy(case.inputs)
    leaves = [Value(x) for x in case.inputs]
    out = case.call(*leaves)
    assert isinstance(out, Value) and out.requires_grad, f"{name}: no recorded Value came out"
    _unchanged(case.inputs, before, name, "the forward")
    # The recorded forward is the plain forward.
    plain = case.call(*case.inputs)
    assert np.shape(out.data) == np.shape(plain), f"{name}: recorded and plain shapes differ"
    np.testing.assert_array_equal(out.data, plain, err_msg=f"{name}: recorded != plain forward")
    if case.reference is not None:  # ... and it computes what numpy computes.
        expected = case.reference(*case.inputs)
        assert np.shape(plain) == np.shape(expected), f"{name}: shape differs from numpy's"
        np.testing.assert_allclose(plain, expected, rtol=1e-12, atol=1e-12, err_msg=name)
    assert out.dtype == np.float64, f"{name}: float64 inputs gave {out.dtype}"
    floats_only = all(type(x) is float for x in case.inputs)
    if floats_only and floats_stay_floats and np.ndim(plain) == 0:
        assert type(out.data) is float, f"{name}: Python floats in, a Python float out"

    g = random_like(rng, out.data)
    out.backward(g)
    scale = 1.0 + float(np.max(np.abs(plain), initial=0.0)) * np.size(plain) ** 0.5
    for i, (x, leaf) in enumerate(zip(case.inputs, leaves)):
        assert leaf.grad is not None, f"{name}: input {i} got no gradient"
        if type(x) is float:
            assert type(leaf.grad) is float, f"{name}: input {i} is a float, grad is a " + str(
                type(leaf.grad)
            )
        else:
            assert leaf.grad.shape == x.shape and leaf.grad.dtype == x.dtype, (
                f"{name}: input {i} has shape {x.shape} {x.dtype}, its gradient "
                f"{leaf.grad.shape} {leaf.grad.dtype}"
            )
        assert_close(leaf.grad, numeric_vjp(case, g, i), scale, f"{name}, input {i}")
    # Neither the forward nor the backward touched the inputs.
    _unchanged(case.inputs, before, name, "backward")


def _unchanged(inputs: list, before: list, name: str, by: str) -> None:
    for i, (x, old) in enumerate(zip(inputs, before)):
        assert type(x) is type(old), f"{name}: input {i} changed type in {by}"
        assert np.array_equal(x, old), f"{name}: input {i} was changed by {by}"


def check_float32(
    case: Case, rng: np.random.Generator, name: str, floats_are_weak: bool = True
) -> None:
    """float32 inputs give a float32 result and float32 gradients, close to the float64 ones.
    `floats_are_weak`: Python floats among the inputs keep float32 (elementwise ops, as numpy);
    when False, cases mixing them with arrays are skipped."""
    floats = [x for x in case.inputs if type(x) is float]
    if len(floats) == len(case.inputs):
        return  # only Python floats: float64 by definition
    if floats and not floats_are_weak:
        return
    single = [x if type(x) is float else x.astype(np.float32) for x in case.inputs]
    leaves = [Value(x) for x in single]
    out = case.call(*leaves)
    assert out.dtype == np.float32, f"{name}: float32 inputs gave {out.dtype}"
    g = random_like(rng, out.data)
    g = g if type(g) is float else g.astype(np.float32)
    out.backward(g)
    reference = plain_vjp(case, case.inputs, g)
    for leaf, x, ref in zip(leaves, single, reference):
        if type(x) is float:
            continue
        assert leaf.grad.dtype == np.float32 and leaf.grad.shape == x.shape, (
            f"{name}: a float32 input got a {leaf.grad.dtype} gradient of shape {leaf.grad.shape}"
        )
        np.testing.assert_allclose(
            leaf.grad, ref, rtol=1e-3, atol=1e-3 * (1 + np.max(np.abs(ref), initial=0.0))
        )
    # Gradients that are Values (create_graph=True) stay float32 as well.
    leaves = [Value(x) for x in single]
    case.call(*leaves).backward(g, create_graph=True)
    for leaf, x in zip(leaves, single):
        if type(x) is not float:
            assert leaf.grad.dtype == np.float32, (
                f"{name}: create_graph=True gives a {leaf.grad.dtype} gradient for float32 input"
            )


def _second(case: Case, inputs: list, g: Any, r: list) -> float:
    """sum_i sum(r_i * vjp_i(inputs)) with the plain (first-order) backward."""
    return sum(project(v, ri) for v, ri in zip(plain_vjp(case, inputs, g), r))


def check_second_order(case: Case, rng: np.random.Generator, name: str) -> None:
    """Gradients of gradients against finite differences of the first-order gradient."""
    leaves = [Value(x) for x in case.inputs]
    out = case.call(*leaves)
    g = random_like(rng, out.data)
    r = [random_like(rng, x) for x in case.inputs]
    out.backward(g, create_graph=True)
    first = [leaf.grad for leaf in leaves]
    assert all(isinstance(v, Value) for v in first), "create_graph=True must store Values"
    # The Value gradients hold the same numbers as the plain backward.
    for v, plain in zip(first, plain_vjp(case, case.inputs, g)):
        np.testing.assert_allclose(v.data, plain, rtol=1e-12, atol=1e-12, err_msg=name)

    h = sum((v * ri).sum() for v, ri in zip(first, r))
    analytic = gradients(h, leaves)
    direction = [random_like(rng, x) for x in case.inputs]
    along = sum(float(np.sum(a * d)) for a, d in zip(analytic, direction))
    ahead = [x + EPS * d for x, d in zip(case.inputs, direction)]
    behind = [x - EPS * d for x, d in zip(case.inputs, direction)]
    numeric = (_second(case, ahead, g, r) - _second(case, behind, g, r)) / (2 * EPS)
    scale = 1.0 + sum(float(np.sum(np.abs(a))) for a in analytic)
    assert abs(along - numeric) <= ATOL * scale + RTOL * abs(numeric), (
        f"{name}: second order along a random direction: create_graph gives {along!r}, "
        f"finite differences {numeric!r}"
    )
    for a, x in zip(analytic, case.inputs):
        assert np.shape(a) == np.shape(x)


def check_forward_mode(
    case: Case, rng: np.random.Generator, name: str, floats_are_weak: bool = True
) -> None:
    """jvp against central differences along the tangent, and against backward by
    <u, J v> = <J^T u, v>; a float32 case gives float32 tangents."""
    v = [random_like(rng, x) for x in case.inputs]
    out, tangent = jvp(case.call, case.inputs, v)
    plain = case.call(*case.inputs)
    np.testing.assert_array_equal(out, plain, err_msg=f"{name}: jvp's value != the forward")
    assert np.shape(tangent) == np.shape(plain), (
        f"{name}: jvp gives a tangent of shape {np.shape(tangent)} for an output of shape "
        f"{np.shape(plain)}"
    )
    if type(plain) is float:
        assert type(tangent) is float, f"{name}: a float output needs a float tangent"
    ahead = case.call(*[x + EPS * d for x, d in zip(case.inputs, v)])
    behind = case.call(*[x - EPS * d for x, d in zip(case.inputs, v)])
    numeric = (np.asarray(ahead, np.float64) - np.asarray(behind, np.float64)) / (2 * EPS)
    scale = 1.0 + float(np.max(np.abs(plain), initial=0.0)) * np.size(plain) ** 0.5
    assert_close(tangent, numeric, scale, f"{name}, forward mode", "jvp")
    # <u, J v> = <J^T u, v>: the forward rules and the gradient rules describe one Jacobian.
    u = random_like(rng, plain)
    left = project(tangent, u)
    right = sum(project(gx, vi) for gx, vi in zip(plain_vjp(case, case.inputs, u), v))
    tol = ATOL * (1.0 + abs(left) + abs(right))
    assert abs(left - right) <= tol, (
        f"{name}: <u, J v> = {left!r} from jvp but <J^T u, v> = {right!r} from backward: the "
        "forward rules and the gradient rules disagree"
    )
    _check_forward_float32(case, v, name, floats_are_weak)


def _check_forward_float32(case: Case, v: list, name: str, floats_are_weak: bool) -> None:
    floats = [x for x in case.inputs if type(x) is float]
    if len(floats) == len(case.inputs) or (floats and not floats_are_weak):
        return
    single = [x if type(x) is float else x.astype(np.float32) for x in case.inputs]
    tangents = [t if type(t) is float else t.astype(np.float32) for t in v]
    out, tangent = jvp(case.call, single, tangents)
    assert np.asarray(tangent).dtype == np.float32, (
        f"{name}: float32 inputs gave a {np.asarray(tangent).dtype} tangent"
    )
