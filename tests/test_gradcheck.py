"""gradcheck: True when backward is right, a GradcheckError that says where when it is wrong."""

import inspect
import re

import numpy as np
import pytest

import minigrad as mg
from minigrad import GradcheckError, Value
from minigrad.engine import apply
from minigrad.ops import REGISTRY, Domain, Op, register

M = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -3.0]])


class BadSquare(Op):
    """x**2 with a deliberately wrong rule.  Gradient: 3 x (the right one is 2 x)."""

    name = "bad_square"
    forward = staticmethod(lambda x: x * x)
    grads = (lambda g, out, x: g * 3.0 * x,)


_FLIP = np.array([1.0, -1.0, 1.0])


class BadLinear(Op):
    """M @ x with the middle entry of its VJP negated.  Gradient: (M^T g) * [1, -1, 1]."""

    name = "bad_linear"
    forward = staticmethod(lambda x: M @ x)
    grads = (lambda g, out, x: (M.T @ g) * _FLIP,)


@pytest.fixture
def bad_ops():
    """Register the wrong ops for one test only, and take them out of REGISTRY afterwards."""
    register("bad_square", Domain("unary"))(BadSquare)
    register("bad_linear", Domain("unary"))(BadLinear)
    try:
        yield (lambda x: apply(BadSquare, x)), (lambda x: apply(BadLinear, x))
    finally:
        del REGISTRY["bad_square"]
        del REGISTRY["bad_linear"]
    assert "bad_square" not in REGISTRY and "bad_linear" not in REGISTRY


def test_gradcheck_true_on_correct_functions():
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    assert mg.gradcheck(lambda x, y: ((x * y).sin() + x.exp()).sum(), a, b) is True
    assert mg.gradcheck(lambda x: x.tanh() @ M.T, a) is True  # vector-valued output
    assert mg.gradcheck(lambda x, y: x * y + y.exp(), 0.5, -1.5) is True  # Python floats
    assert mg.gradcheck(lambda x: (x * 2.0).sum(), a.astype(np.float32)) is True


def _numbers(message):
    return [float(s) for s in re.findall(r"gives? (-?[\d.e+-]+?)(?:,? |$)", message)]


def test_gradcheck_names_input_entry_analytic_and_numeric(bad_ops):
    bad_square, _ = bad_ops
    x = np.array([[0.5, -1.0], [2.0, 0.25]])
    y = np.array([1.0, 2.0])
    with pytest.raises(GradcheckError) as info:
        mg.gradcheck(lambda a, b: (a * b).sum() + bad_square(b).sum(), x, y)
    message = str(info.value)
    assert "input 1" in message and "entry (0,)" in message
    # d/db0 = sum(a[:, 0]) + 2 b0 = 2.5 + 2; backward gives 2.5 + 3 = 5.5
    analytic, numeric = _numbers(message)
    assert analytic == pytest.approx(5.5, rel=1e-12)
    assert numeric == pytest.approx(4.5, rel=1e-6)
    with pytest.raises(GradcheckError, match=r"input 0, entry \(0, 0\)"):
        mg.gradcheck(lambda a: bad_square(a).sum(), x)


def test_gradcheck_vector_output_through_the_projection(bad_ops):
    _, bad_linear = bad_ops
    x = np.array([0.3, -0.2, 0.9])
    assert mg.gradcheck(lambda v: M @ v, x) is True
    with pytest.raises(GradcheckError, match="input 0"):
        mg.gradcheck(lambda v: bad_linear(v), x)
    # Only the middle column is wrong, whatever the projection is.
    with pytest.raises(GradcheckError, match=r"entry \(1,\)"):
        mg.gradcheck(lambda v: bad_linear(v) * np.array([1.0, 0.0]), x, seed=3)


def test_gradcheck_catches_a_wrong_backward_without_a_custom_op():
    # detach() hides one factor from backward: analytic x, numeric 2 x.
    x = np.array([1.0, -2.0])
    with pytest.raises(GradcheckError) as info:
        mg.gradcheck(lambda v: (v * v.detach()).sum(), x)
    analytic, numeric = _numbers(str(info.value))
    assert analytic == 1.0 and numeric == pytest.approx(2.0, rel=1e-6)
    assert "entry (0,)" in str(info.value)


def test_gradcheck_scalar_input_entry_is_empty():
    with pytest.raises(GradcheckError, match=r"input 0, entry \(\)"):
        mg.gradcheck(lambda v: v * v.detach(), 3.0)


def test_gradcheck_honours_tolerances():
    f = lambda v: (v * v.detach()).sum()  # noqa: E731
    x = np.array([1.0, -2.0])
    # |x - 2x| = |x| <= rtol * |2x| once rtol >= 0.5
    assert mg.gradcheck(f, x, rtol=0.6) is True
    assert mg.gradcheck(f, x, atol=2.5) is True
    with pytest.raises(GradcheckError):
        mg.gradcheck(f, x, rtol=0.4)


def test_gradcheck_leaves_inputs_alone_and_needs_a_value():
    x = np.array([1.0, 2.0])
    mg.gradcheck(lambda v: (v**2).sum(), x)
    np.testing.assert_array_equal(x, [1.0, 2.0])
    with pytest.raises(TypeError, match="must return a Value"):
        mg.gradcheck(lambda v: 3.0, x)
    v = Value(x)
    assert mg.gradcheck(lambda w: w.sum(), v) is True
    assert v.grad is None  # the check works on its own copies


def test_gradcheck_documented_defaults():
    params = inspect.signature(mg.gradcheck).parameters
    assert (params["eps"].default, params["atol"].default, params["rtol"].default) == (
        1e-6,
        1e-5,
        1e-3,
    )
    assert issubclass(GradcheckError, AssertionError)  # a failed check fails a plain test
