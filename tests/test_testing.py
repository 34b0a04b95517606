"""minigrad.testing.check_op: the library's gradient suite on a user's own function."""

from __future__ import annotations

import doctest

import numpy as np
import pytest
from hypothesis import strategies as st

import minigrad as mg
import minigrad.testing
from minigrad.testing import Case, Domain, check_op


class Softsign(mg.Function):
    """x / (1 + |x|).  Gradient: gx = g / (1 + |x|)**2."""

    name = "softsign"
    forward = staticmethod(
        lambda x: x / (1.0 + np.abs(x)) if type(x) is not float else x / (1.0 + abs(x))
    )
    grads = (lambda g, out, x: g / (1.0 + abs(x)) ** 2,)
    jvps = (lambda t, out, x: t / (1.0 + abs(x)) ** 2,)
    domain = Domain("unary", kinks=(0.0,))


class WeightedSum(mg.Function):
    """w * x + y, three broadcastable inputs.  Gradient: gw = g x, gx = g w, gy = g."""

    name = "weighted_sum"
    forward = staticmethod(lambda w, x, y: w * x + y)
    grads = (
        lambda g, out, w, x, y: g * x,
        lambda g, out, w, x, y: g * w,
        lambda g, out, w, x, y: g,
    )
    jvps = (lambda t, out, w, x, y: t * x, lambda t, out, w, x, y: w * t, lambda t, out, w, x, y: t)


def _wrong(**changes):
    """Softsign with some of its pieces replaced."""
    return type("Planted", (Softsign,), {"name": "planted", **changes})


def test_check_op_passes_on_correct_functions():
    check_op(Softsign, max_examples=15)
    check_op(WeightedSum, Domain("nary", ranges=((-2.0, 2.0),) * 3), max_examples=15)
    check_op(
        lambda x, axis, keepdims: (x * x).sum(axis=axis, keepdims=keepdims),
        Domain("reduce", params={"keepdims": (False, True)}),
        reference=lambda x, axis, keepdims: np.sum(x * x, axis=axis, keepdims=keepdims),
        max_examples=15,
        name="sum_of_squares",
    )


def test_check_op_catches_a_wrong_gradient_rule_with_a_readable_report():
    planted = _wrong(grads=(lambda g, out, x: g / (1.0 + abs(x)),))  # the square forgotten
    with pytest.raises(AssertionError) as info:
        check_op(planted, max_examples=15)
    message = str(info.value)
    assert message.startswith("planted, input 0: at ")
    assert "backward gives" in message and "finite differences" in message
    assert "analytic:" in message and "numeric:" in message


def test_check_op_catches_a_wrong_forward_rule():
    planted = _wrong(jvps=(lambda t, out, x: t / (1.0 + abs(x)),))
    with pytest.raises(AssertionError, match="planted, forward mode: at .* jvp gives"):
        check_op(planted, max_examples=15)


def test_check_op_catches_a_wrong_second_order():
    # right first derivative, but one factor is a constant to a second differentiation
    planted = _wrong(
        grads=(lambda g, out, x: g / (1.0 + abs(x)) / (1.0 + abs(mg.ops.registry.data_of(x))),)
    )
    check_op(planted, max_examples=10, second_order=False)  # first order and forward are right
    with pytest.raises(AssertionError, match="planted: second order along a random direction"):
        check_op(planted, max_examples=15)


def test_check_op_catches_float32_lost_and_mutated_inputs():
    to64 = _wrong(forward=staticmethod(lambda x: np.asarray(Softsign.forward(x), np.float64)))
    with pytest.raises(AssertionError, match="planted: float32 inputs gave float64"):
        check_op(to64, max_examples=15, second_order=False)

    def mutating(x):
        if type(x) is np.ndarray:
            x *= 1.0 + 1e-3  # changes the caller's array
        return Softsign.forward(x)

    with pytest.raises(AssertionError, match="planted: input 0 was changed by the forward"):
        check_op(_wrong(forward=staticmethod(mutating)), max_examples=15, second_order=False)


def test_check_op_with_cases_of_your_own():
    cases = st.builds(
        lambda x, w: Case([x, w], lambda x, w: (x @ w).tanh(), "tanh(x @ w)"),
        st.just(np.array([[0.5, -1.0], [0.25, 2.0]])),
        st.sampled_from([np.array([0.3, -0.7]), np.array([[1.0], [0.1]])]),
    )
    check_op(lambda x, w: (x @ w).tanh(), cases=cases, max_examples=4)


def test_check_op_argument_errors():
    with pytest.raises(TypeError, match="give a domain"):
        check_op(lambda x: x)
    with pytest.raises(ValueError, match="no test cases for Domain kind 'conv'"):
        check_op(lambda x: x, Domain("conv"))
    with pytest.raises(TypeError, match="a Function class or a callable"):
        check_op(3.0, Domain("unary"))


def test_check_op_docstring_example_runs():
    result = doctest.testmod(minigrad.testing, verbose=False)
    assert result.attempted >= 3 and result.failed == 0
