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
    # Both entries of b are wrong (by b0 = 1 and b1 = 2); the worst is named:
    # d/db1 = sum(a[:, 1]) + 2 b1 = -0.75 + 4 = 3.25; backward gives -0.75 + 6 = 5.25
    assert "input 1, entry (1,)" in message and "worst of 2 entries" in message
    analytic, numeric = _numbers(message)
    assert analytic == pytest.approx(5.25, rel=1e-12)
    assert numeric == pytest.approx(3.25, rel=1e-6)
    with pytest.raises(GradcheckError, match=r"input 0, entry \(1, 0\)"):  # |error| = |x|
        mg.gradcheck(lambda a: bad_square(a).sum(), x)


def test_gradcheck_vector_output(bad_ops):
    _, bad_linear = bad_ops
    x = np.array([0.3, -0.2, 0.9])
    assert mg.gradcheck(lambda v: M @ v, x) is True
    with pytest.raises(GradcheckError, match="input 0"):
        mg.gradcheck(lambda v: bad_linear(v), x)
    # Only the middle column is wrong (the output entry 1 is zeroed out here).
    with pytest.raises(GradcheckError, match=r"entry \(1,\)"):
        mg.gradcheck(lambda v: bad_linear(v) * np.array([1.0, 0.0]), x, seed=3)


def test_gradcheck_catches_a_wrong_backward_without_a_custom_op():
    # detach() hides one factor from backward: analytic x, numeric 2 x.
    x = np.array([1.0, -2.0])
    with pytest.raises(GradcheckError) as info:
        mg.gradcheck(lambda v: (v * v.detach()).sum(), x)
    analytic, numeric = _numbers(str(info.value))
    # the worst of the two wrong entries: x1 = -2 (analytic -2, numeric -4)
    assert analytic == -2.0 and numeric == pytest.approx(-4.0, rel=1e-6)
    assert "entry (1,)" in str(info.value)


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


def test_gradcheck_vector_output_names_the_jacobian_entry(bad_ops):
    # J of bad_linear is M with its middle column negated: the worst entry is J[0, 1],
    # analytic -2 against numeric M[0, 1] = 2 (J[1, 1] is off by 2 too, but |1| < |2| measured
    # in tolerances)
    _, bad_linear = bad_ops
    with pytest.raises(GradcheckError) as info:
        mg.gradcheck(bad_linear, np.array([0.3, -0.2, 0.9]))
    message = str(info.value)
    assert "input 0, entry (1,), output entry (0,)" in message
    assert _numbers(message) == [-2.0, pytest.approx(2.0, rel=1e-6)]
    # tuple outputs: the output is named too
    with pytest.raises(GradcheckError, match=r"input 0, entry \(1,\), output 1 entry \(0,\)"):
        mg.gradcheck(lambda v: (M @ v, bad_linear(v)), np.array([0.3, -0.2, 0.9]))


class HalfSecondOrder(mg.Function):
    """x**3 whose rule treats one factor x as a constant: right first derivative 3 x**2,
    wrong second (3 x instead of 6 x).  Gradient: gx = 3 g x data(x)."""

    name = "half_second_order"
    forward = staticmethod(lambda x: x * x * x)
    grads = (lambda g, out, x: 3.0 * g * x * (x.data if isinstance(x, Value) else x),)


def test_gradgradcheck_true_on_correct_second_derivatives():
    rng = np.random.default_rng(4)
    a, b = rng.standard_normal((2, 3)), rng.standard_normal(3)
    assert mg.gradgradcheck(lambda x, y: ((x * y).sin() + x.exp()).sum(), a, b) is True
    assert mg.gradgradcheck(lambda x: (x @ M.T).tanh(), a) is True  # vector output
    assert mg.gradgradcheck(lambda x, y: x * y * y + y.exp(), 0.5, -1.5) is True


def test_gradgradcheck_catches_a_wrong_second_derivative():
    x = np.array([0.5, -1.0, 2.0])
    assert mg.gradcheck(lambda v: HalfSecondOrder.apply(v).sum(), x) is True  # first order ok
    with pytest.raises(GradcheckError) as info:
        mg.gradgradcheck(lambda v: HalfSecondOrder.apply(v).sum(), x, grad_outputs=1.0)
    message = str(info.value)
    # the Jacobian of the gradient 3 x^2 is diag(6 x); backward of the rule gives diag(3 x):
    # the worst entry is the largest x (x2 = 2: 6 against 12)
    assert message.startswith(
        "gradgradcheck: input 0, entry (2,), of the gradient of input 0 entry (2,): "
    )
    assert "backward of backward gives 6," in message
    assert "finite differences of backward give 12" in message


def test_gradgradcheck_names_a_once_differentiable_function():
    class NumpyCube(mg.Function):
        """x**3, rule in numpy.  Gradient: 3 g x**2."""

        name = "numpy_cube"
        once_differentiable = True
        forward = staticmethod(lambda x: x**3)
        grads = (lambda g, out, x: 3.0 * g * np.square(x),)

    with pytest.raises(RuntimeError, match="numpy_cube"):
        mg.gradgradcheck(lambda v: NumpyCube.apply(v).sum(), np.array([1.0, 2.0]))
