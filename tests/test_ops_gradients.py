"""Every registered op's gradient against central finite differences, walking the registry.

For each op, Hypothesis draws cases from tests/strategies.py (random shapes, broadcasting,
Python-float scalars where the op takes them) and a random upstream gradient g. The analytic
vector-Jacobian product from backward must match d(sum(g * f(x)))/dx computed entry by entry
with central differences in float64. Second order (for domains with second_order=True): the
gradient of sum(r * vjp(x)) taken through `create_graph=True` must match a finite difference of
the plain first-order vjp along a random direction. Along the way: inputs are never mutated,
gradients have their inputs' shapes and dtypes (a Python float for a Python float), and the
same case in float32 gives float32 results and gradients, also as Values (create_graph=True).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad import Value
from minigrad.engine import gradients
from minigrad.ops import REGISTRY
from tests.strategies import Case, case_for

EPS = 1e-6
ATOL = 1e-5
RTOL = 1e-4

NAMES = sorted(REGISTRY)
SECOND_ORDER = sorted(n for n in NAMES if REGISTRY[n].domain.second_order)
KIND = {n: REGISTRY[n].domain.kind for n in NAMES}
# Kinds whose ops map Python floats to a Python float (scalars stay floats all the way through).
SCALAR_KINDS = ("unary", "binary", "reduce", "where")


def _random_like(rng: np.random.Generator, x):
    """Standard normal numbers in the shape of x (a float for a float)."""
    if type(x) is float:
        return float(rng.standard_normal())
    return rng.standard_normal(np.shape(x))


def _project(out, g) -> float:
    """sum(g * out) in float64: the number whose gradient is the VJP with g."""
    return float(np.sum(np.asarray(out, dtype=np.float64) * g))


def _moved(x, flat_index: int, step: float):
    if type(x) is float:
        return x + step
    moved = np.array(x, dtype=np.float64)
    moved.reshape(-1)[flat_index] += step
    return moved


def numeric_vjp(case: Case, g, i: int):
    """d sum(g * f(inputs)) / d inputs[i], entry by entry, by central differences."""
    x = case.inputs[i]
    result = np.zeros(np.shape(x))
    for j in range(np.size(x)):
        values = []
        for step in (EPS, -EPS):
            trial = list(case.inputs)
            trial[i] = _moved(x, j, step)
            values.append(_project(case.call(*trial), g))
        result.reshape(-1)[j] = (values[0] - values[1]) / (2 * EPS)
    return float(result) if type(x) is float else result


def assert_close(analytic, numeric, scale: float, what: str) -> None:
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    tol = ATOL * scale + RTOL * np.abs(numeric)
    bad = np.abs(analytic - numeric) > tol
    if np.any(bad):
        where = np.unravel_index(np.argmax(np.abs(analytic - numeric) - tol), analytic.shape)
        raise AssertionError(
            f"{what}: at {where} backward gives {analytic[where]!r}, finite differences "
            f"{numeric[where]!r}\nanalytic:\n{analytic}\nnumeric:\n{numeric}"
        )


def _seed(data) -> np.random.Generator:
    return np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_op_gradient_matches_finite_differences_and_float32_stays(name, data):
    case = data.draw(case_for(name), label="case")
    rng = _seed(data)
    before = copy.deepcopy(case.inputs)
    leaves = [Value(x) for x in case.inputs]
    out = case.call(*leaves)
    assert isinstance(out, Value) and out.requires_grad
    # The recorded forward is the plain forward.
    plain = case.call(*case.inputs)
    assert np.shape(out.data) == np.shape(plain)
    np.testing.assert_array_equal(out.data, plain)
    # ... and it computes what numpy (or the textbook formula) computes.
    expected = case.reference(*case.inputs)
    assert np.shape(plain) == np.shape(expected)
    np.testing.assert_allclose(plain, expected, rtol=1e-12, atol=1e-12)
    assert out.dtype == np.float64
    floats_only = all(type(x) is float for x in case.inputs)
    if floats_only and KIND[name] in SCALAR_KINDS and np.ndim(plain) == 0:
        assert type(out.data) is float, "Python floats in, a Python float out (the fast path)"

    g = _random_like(rng, out.data)
    out.backward(g)
    scale = 1.0 + float(np.max(np.abs(plain), initial=0.0)) * np.size(plain) ** 0.5
    for i, (x, leaf) in enumerate(zip(case.inputs, leaves)):
        assert leaf.grad is not None, f"input {i} got no gradient"
        if type(x) is float:
            assert type(leaf.grad) is float, f"input {i} is a float, grad is {type(leaf.grad)}"
        else:
            assert leaf.grad.shape == x.shape and leaf.grad.dtype == x.dtype
        assert_close(leaf.grad, numeric_vjp(case, g, i), scale, f"{name}, input {i}")
    # Neither the forward nor the backward touched the inputs.
    for x, old in zip(case.inputs, before):
        np.testing.assert_array_equal(x, old)
        assert type(x) is type(old)
    # The same case in float32 (drawn once: drawing costs more than checking).
    check_float32(name, case, rng)


def _plain_vjp(case: Case, inputs: list, g) -> list:
    leaves = [Value(x) for x in inputs]
    return gradients(case.call(*leaves), leaves, gradient=g)


def check_float32(name: str, case: Case, rng: np.random.Generator) -> None:
    """float32 inputs give a float32 result and float32 gradients, close to the float64 ones."""
    floats = [x for x in case.inputs if type(x) is float]
    if len(floats) == len(case.inputs):
        return  # only Python floats: float64 by definition
    if floats and KIND[name] not in ("unary", "binary", "where"):
        return  # Python floats are weak scalars in elementwise ops only (as in numpy)
    single = [x if type(x) is float else x.astype(np.float32) for x in case.inputs]
    leaves = [Value(x) for x in single]
    out = case.call(*leaves)
    assert out.dtype == np.float32, f"{name}: float32 inputs gave {out.dtype}"
    g = _random_like(rng, out.data)
    g = g if type(g) is float else g.astype(np.float32)
    out.backward(g)
    reference = _plain_vjp(case, case.inputs, g)
    for leaf, x, ref in zip(leaves, single, reference):
        if type(x) is float:
            continue
        assert leaf.grad.dtype == np.float32 and leaf.grad.shape == x.shape
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


def _second(case: Case, inputs: list, g, r) -> float:
    """sum_i sum(r_i * vjp_i(inputs)) with the plain (first-order) backward."""
    return sum(_project(v, ri) for v, ri in zip(_plain_vjp(case, inputs, g), r))


@pytest.mark.parametrize("name", SECOND_ORDER)
@given(data=st.data())
def test_op_second_order_matches_finite_differences(name, data):
    case = data.draw(case_for(name), label="case")
    rng = _seed(data)
    leaves = [Value(x) for x in case.inputs]
    out = case.call(*leaves)
    g = _random_like(rng, out.data)
    r = [_random_like(rng, x) for x in case.inputs]
    out.backward(g, create_graph=True)
    first = [leaf.grad for leaf in leaves]
    assert all(isinstance(v, Value) for v in first), "create_graph=True must store Values"
    # The Value gradients hold the same numbers as the plain backward.
    for v, plain in zip(first, _plain_vjp(case, case.inputs, g)):
        np.testing.assert_allclose(v.data, plain, rtol=1e-12, atol=1e-12)

    h = sum((v * ri).sum() for v, ri in zip(first, r))
    analytic = gradients(h, leaves)
    direction = [_random_like(rng, x) for x in case.inputs]
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
