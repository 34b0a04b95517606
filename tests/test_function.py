"""minigrad.Function: a user's own differentiable function, in the form of the library's ops."""

from __future__ import annotations

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value
from minigrad.ops.registry import data_of


class Cube(mg.Function):
    """x**3.  Gradient: gx = 3 g x**2."""

    name = "cube"
    forward = staticmethod(lambda x: x * x * x)
    grads = (lambda g, out, x: 3.0 * g * x * x,)
    jvps = (lambda t, out, x: 3.0 * t * x * x,)


class Hypot(mg.Function):
    """sqrt(x**2 + y**2), elementwise with broadcasting.  Gradient: gx = g x / out,
    gy = g y / out."""

    name = "hypot"
    forward = staticmethod(np.hypot)
    grads = (lambda g, out, x, y: g * x / out, lambda g, out, x, y: g * y / out)
    jvps = (lambda t, out, x, y: t * x / out, lambda t, out, x, y: t * y / out)


class Scale(mg.Function):
    """k x, with the parameter k.  Gradient: gx = k g."""

    name = "scale"
    forward = staticmethod(lambda x, k: k * x)
    grads = (lambda g, out, x, k: k * g,)
    jvps = (lambda t, out, x, k: k * t,)


class Relu6(mg.Function):
    """min(max(x, 0), 6); the forward keeps its mask.  Gradient: g where 0 < x < 6."""

    name = "relu6"
    calls = 0

    @staticmethod
    def forward(x, saved):
        Relu6.calls += 1
        saved.mask = (x > 0) & (x < 6)
        return np.clip(x, 0.0, 6.0)

    grads = (lambda g, out, x, saved: g * saved.mask,)
    jvps = (lambda t, out, x, saved: t * saved.mask,)


class NumpySigmoid(mg.Function):
    """1 / (1 + e**-x) with its rule in numpy, declared so.  Gradient: g e**-x / (1 + e**-x)**2."""

    name = "numpy_sigmoid"
    once_differentiable = True
    forward = staticmethod(lambda x: 1.0 / (1.0 + np.exp(-x)))
    grads = (lambda g, out, x: g * np.exp(-x) / (1.0 + np.exp(-x)) ** 2,)
    jvps = (lambda t, out, x: t * np.exp(-x) / (1.0 + np.exp(-x)) ** 2,)


def test_function_on_numbers_and_arrays():
    x = Value(2.0)
    y = Cube.apply(x)
    assert type(y.data) is float and y.data == 8.0 and y.op == "cube"
    y.backward()
    assert type(x.grad) is float and x.grad == 12.0
    a = Value(np.array([[1.0, -2.0]], dtype=np.float32))
    (Cube.apply(a) * 2.0).sum().backward()
    assert a.grad.dtype == np.float32
    np.testing.assert_array_equal(a.grad, 6.0 * a.data**2)
    # plain data in: just the forward, nothing recorded
    assert Cube.apply(3.0) == 27.0
    np.testing.assert_array_equal(Cube.apply(np.array([2.0])), [8.0])


def test_function_numpy_scalar_results_for_floats_become_floats():
    class Exp(mg.Function):
        """e**x with numpy.  Gradient: g out."""

        forward = staticmethod(np.exp)
        grads = (lambda g, out, x: g * out,)

    out = Exp.apply(Value(1.0))
    assert type(out.data) is float and out.data == math.e
    assert Exp.name == "Exp"  # the class name when no name is given


def test_function_broadcasting_is_handled_by_the_engine():
    x = Value(np.array([[3.0], [1.0]]))  # (2, 1)
    y = Value(np.array([4.0, 0.5, -2.0]))  # (3,)
    out = Hypot.apply(x, y)
    assert out.shape == (2, 3)
    out.sum().backward()
    h = np.hypot(x.data, y.data)
    np.testing.assert_allclose(x.grad, (x.data / h).sum(axis=1, keepdims=True), rtol=1e-15)
    np.testing.assert_allclose(y.grad, (y.data / h).sum(axis=0), rtol=1e-15)
    assert mg.gradcheck(lambda a, b: Hypot.apply(a, b), x.data, y.data)


def test_function_parameters_reach_forward_and_rules_and_pictures():
    x = Value(np.array([1.0, 2.0]), label="x")
    out = Scale.apply(x, k=3.0)
    out.sum().backward()
    np.testing.assert_array_equal(out.data, [3.0, 6.0])
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    assert "scale(k=3.0)" in mg.draw_graph(out).source
    assert mg.grad(lambda v: Scale.apply(v, k=2.5))(1.0) == 2.5


def test_function_forward_keeps_what_the_rules_need():
    Relu6.calls = 0
    x = Value(np.array([-1.0, 3.0, 7.0]))
    out = Relu6.apply(x)
    assert out._params["saved"].mask.tolist() == [False, True, False]
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 0.0])
    assert Relu6.calls == 1  # the rule used the mask, no second forward
    other = Relu6.apply(Value(np.array([1.0, 1.0, 1.0])))
    assert other._params["saved"] is not out._params["saved"]  # fresh per call
    assert "saved" not in mg.draw_graph(out).source
    with pytest.raises(TypeError, match="filled in by apply"):
        Relu6.apply(x, saved=None)


def test_function_rules_with_minigrad_ops_differentiate_again():
    for x in (-1.5, 0.5, 2.0):
        assert mg.grad(mg.grad(Cube.apply))(x) == pytest.approx(6 * x, rel=1e-15)
        assert mg.grad(mg.grad(mg.grad(Cube.apply)))(x) == pytest.approx(6.0, rel=1e-15)
    a = np.array([0.3, -1.2])
    np.testing.assert_allclose(
        mg.hessian(lambda v: Hypot.apply(v[0], v[1]))(a),
        np.array([[a[1] ** 2, -a[0] * a[1]], [-a[0] * a[1], a[0] ** 2]]) / np.hypot(*a) ** 3,
        rtol=1e-14,
    )
    assert mg.gradgradcheck(lambda v, w: Hypot.apply(v, w), a, np.array([0.7, 2.0]))


def test_function_once_differentiable_first_order_works_second_order_raises():
    x = 0.5
    s = 1.0 / (1.0 + math.exp(-x))
    assert mg.grad(NumpySigmoid.apply)(x) == pytest.approx(s * (1 - s), rel=1e-15)
    with pytest.raises(RuntimeError, match="'numpy_sigmoid' is declared once_differentiable"):
        mg.grad(mg.grad(NumpySigmoid.apply))(x)
    # create_graph=True itself works; differentiating the gradient again raises
    v = Value(np.array([0.5, -1.0]))
    NumpySigmoid.apply(v).sum().backward(create_graph=True)
    np.testing.assert_allclose(v.grad.data, [s * (1 - s), 0.19661193324148185], rtol=1e-15)
    with pytest.raises(RuntimeError, match="numpy_sigmoid"):
        v.grad.sum().backward()
    with pytest.raises(RuntimeError, match="numpy_sigmoid"):
        mg.hvp(NumpySigmoid.apply, x, 1.0)
    # plain forward mode is fine (its rules run on data); nested forward mode is guarded
    assert mg.jvp(NumpySigmoid.apply, (x,), (1.0,))[1] == pytest.approx(s * (1 - s))
    with pytest.raises(RuntimeError, match="numpy_sigmoid"):
        mg.grad(lambda y: mg.jvp(NumpySigmoid.apply, (y,), (1.0,))[1])(x)


def test_function_undeclared_numpy_rule_fails_loudly_instead_of_a_silent_zero():
    class Sigmoid1(mg.Function):
        """sigmoid, rule in numpy on the Values.  Gradient: g s (1 - s)."""

        forward = staticmethod(lambda x: 1.0 / (1.0 + np.exp(-x)))
        grads = (lambda g, out, x: g * np.exp(-x) / (1.0 + np.exp(-x)) ** 2,)

    class Sigmoid2(mg.Function):
        """sigmoid, rule in numpy on the data.  Gradient: g s (1 - s)."""

        forward = staticmethod(lambda x: 1.0 / (1.0 + np.exp(-x)))
        grads = (lambda g, out, x: data_of(g) * data_of(out) * (1.0 - data_of(out)),)

    for fn in (Sigmoid1, Sigmoid2):
        assert mg.grad(fn.apply)(0.5) == pytest.approx(0.2350037122015945, rel=1e-15)
        with pytest.raises((TypeError, RuntimeError), match=f"{fn.name}.*once_differentiable"):
            mg.grad(mg.grad(fn.apply))(0.5)


def test_function_forward_mode_with_and_without_rules():
    assert mg.jvp(Cube.apply, (2.0,), (0.5,)) == (8.0, 6.0)
    x = np.array([[3.0], [1.0]])
    y = np.array([4.0, 0.5, -2.0])
    np.testing.assert_allclose(
        mg.jacfwd(Hypot.apply, argnums=(0, 1))(x, y)[1],
        mg.jacrev(Hypot.apply, argnums=(0, 1))(x, y)[1],
        rtol=1e-15,
    )

    class NoForward(mg.Function):
        """2 x.  Gradient: 2 g."""

        name = "double"
        forward = staticmethod(lambda x: 2.0 * x)
        grads = (lambda g, out, x: 2.0 * g,)

    assert mg.grad(NoForward.apply)(1.0) == 2.0
    with pytest.raises(NotImplementedError, match="'double' has no forward-mode rule"):
        mg.jvp(NoForward.apply, (1.0,), (1.0,))


def test_function_no_grad_anomaly_and_trace():
    with mg.no_grad():
        out = Cube.apply(Value(2.0))
    assert out.data == 8.0 and not out.requires_grad

    class Sqrt(mg.Function):
        """sqrt x.  Gradient: g / (2 out)."""

        name = "my_sqrt"
        forward = staticmethod(lambda x: np.sqrt(x))
        grads = (lambda g, out, x: g / (2.0 * out),)

    with mg.detect_anomaly(), np.errstate(all="ignore"):
        with pytest.raises(FloatingPointError, match="forward of op 'my_sqrt'"):
            Sqrt.apply(Value(np.array([1.0, -1.0])))
        root = Sqrt.apply(Value(np.array([1.0, 0.0]))).sum()  # a fine forward
        with pytest.raises(FloatingPointError, match="backward of op 'my_sqrt'"):
            root.backward()  # 1 / (2 sqrt(0)) is not
    x = Value(2.0, label="x")
    y = Cube.apply(x)
    y.label = "y"
    report = mg.trace_backward(y)
    assert [(r["node"], r["op"], r["input"], r["local"]) for r in report.rows] == [
        ("y", "cube", "x", 12.0)
    ]


def test_function_errors_name_the_function():
    with pytest.raises(TypeError, match="cube: takes 1 input .* got 2"):
        Cube.apply(Value(1.0), Value(2.0))

    class Wrong(mg.Function):
        """sum of x with a rule of the wrong shape.  Gradient: g (broadcast)."""

        name = "wrong"
        forward = staticmethod(lambda x: np.sum(x))
        grads = (lambda g, out, x: np.ones(5),)

    with pytest.raises(ValueError, match=r"wrong: gradient rule 0 returned shape \(5,\)"):
        Wrong.apply(Value(np.ones(3))).backward()
    with pytest.raises(TypeError, match="grads must be a tuple of rules"):

        class BadRules(mg.Function):
            forward = staticmethod(lambda x: x)
            grads = lambda g, out, x: g  # noqa: E731

    with pytest.raises(TypeError, match="1 gradient rules but 2 forward rules"):

        class BadCount(mg.Function):
            forward = staticmethod(lambda x: x)
            grads = (lambda g, out, x: g,)
            jvps = (lambda t, out, x: t, None)
