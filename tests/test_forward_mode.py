"""Forward mode: every registered op's forward rules, jvp and its compositions.

Walking the registry as the gradient suite does: each op's jvp (its `jvps` rules, carried
forward with the values) must match a central difference along a random tangent, and agree with
its own gradient rules through <u, J v> = <J^T u, v>; float32 tangents stay float32. A
completeness test fails for an op without forward rules.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import minigrad as mg
from minigrad import Value
from minigrad.ops import REGISTRY, Op
from minigrad.testing.checks import check_forward_mode
from tests.strategies import case_for

NAMES = sorted(REGISTRY)
KIND = {n: REGISTRY[n].domain.kind for n in NAMES}
WEAK_FLOAT_KINDS = ("unary", "binary", "where")


def _has_forward_rules(op: type[Op]) -> bool:
    return op.jvp.__func__ is not Op.jvp.__func__ or len(op.jvps) == len(op.grads) > 0


@pytest.mark.parametrize("name", NAMES)
def test_forward_mode_every_registered_op_has_forward_rules(name):
    op = REGISTRY[name]
    assert _has_forward_rules(op), (
        f"op {name!r} has no forward-mode rules: give {op.__name__} `jvps = (...)`, one "
        f"rule(t, out, *inputs, **params) per input (as many as its {len(op.grads)} grads), "
        "or override jvp()"
    )


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_forward_mode_op_matches_finite_differences_and_its_gradient(name, data):
    case = data.draw(case_for(name), label="case")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    check_forward_mode(case, rng, name, floats_are_weak=KIND[name] in WEAK_FLOAT_KINDS)


# ----- jvp itself ------------------------------------------------------------------------------
def test_jvp_of_numbers_and_arrays():
    out, t = mg.jvp(lambda x, y: x * y + x.sin(), (0.5, 3.0), (1.0, 0.0))
    assert type(out) is float and type(t) is float
    assert out == 0.5 * 3.0 + math.sin(0.5)
    assert t == pytest.approx(3.0 + math.cos(0.5), rel=1e-15)
    x = np.array([[0.2, -1.0], [1.5, 0.3]])
    v = np.array([[1.0, 0.5], [-2.0, 0.0]])
    out, t = mg.jvp(lambda a: (a @ a).tanh(), (x,), (v,))
    np.testing.assert_allclose(out, np.tanh(x @ x), rtol=1e-15)
    expected = (1 - np.tanh(x @ x) ** 2) * (v @ x + x @ v)
    np.testing.assert_allclose(t, expected, rtol=1e-14)
    assert isinstance(t, np.ndarray) and t.flags.writeable


def test_jvp_broadcasting_and_dtypes():
    x = np.arange(3.0, dtype=np.float32).reshape(3, 1)
    b = np.array([1.0, 2.0], dtype=np.float32)
    out, t = mg.jvp(lambda x, b: x + b, (x, b), (np.ones_like(x), np.zeros_like(b)))
    assert out.shape == t.shape == (3, 2) and t.dtype == np.float32
    np.testing.assert_array_equal(t, np.ones((3, 2)))
    # A float64 tangent for a float32 primal is taken in the primal's dtype.
    _, t = mg.jvp(lambda x: x * 2.0, (x,), (np.ones((3, 1)),))
    assert t.dtype == np.float32


def test_jvp_output_not_depending_on_the_inputs_has_zero_tangent():
    out, t = mg.jvp(lambda x: Value(np.ones(2)) * 3.0, (1.0,), (1.0,))
    np.testing.assert_array_equal(t, [0.0, 0.0])
    assert mg.jvp(lambda x: 4.0, (1.0,), (1.0,)) == (4.0, 0.0)


def test_jvp_tuple_outputs_and_identity():
    (a, b), (ta, tb) = mg.jvp(lambda x: (x * x, x.exp()), (1.0,), (2.0,))
    assert (a, ta) == (1.0, 4.0) and tb == pytest.approx(2 * math.e)
    assert mg.jvp(lambda x: x, (3.0,), (5.0,)) == (3.0, 5.0)


def test_jvp_works_inside_no_grad_and_under_anomaly_mode():
    with mg.no_grad():
        assert mg.jvp(lambda x: x * x, (3.0,), (1.0,)) == (9.0, 6.0)
    with mg.detect_anomaly(), pytest.raises(FloatingPointError, match="forward-mode rule"):
        # sqrt(0) is fine, its tangent 1 / (2 sqrt(0)) is not
        mg.jvp(lambda x: x.sqrt(), (0.0,), (1.0,))


def test_jvp_rejects_bad_arguments():
    with pytest.raises(TypeError, match="tuple or list"):
        mg.jvp(lambda x: x, 1.0, 1.0)
    with pytest.raises(ValueError, match="2 primals but 1 tangents"):
        mg.jvp(lambda x, y: x, (1.0, 2.0), (1.0,))
    with pytest.raises(ValueError, match=r"tangent 0 has shape \(3,\) but its primal has shape"):
        mg.jvp(lambda x: x, (np.ones(2),), (np.ones(3),))
    with pytest.raises(TypeError, match="got bool"):
        mg.jvp(lambda x: True, (1.0,), (1.0,))


def test_jvp_leaves_no_listener_behind():
    from minigrad.engine import mode

    mg.jvp(lambda x: x * x, (1.0,), (1.0,))
    assert mode.on_record is None
    with pytest.raises(ZeroDivisionError):
        mg.jvp(lambda x: 1 / 0, (1.0,), (1.0,))
    assert mode.on_record is None


# ----- Jacobians and compositions ----------------------------------------------------------------
def _f(v):
    return mg.stack([v[0] * v[1], v[2].sin(), v[0] + v[2] ** 2, (v * v).sum().sqrt()])


def test_jacfwd_equals_jacrev_and_the_formula():
    x = np.array([0.5, -1.0, 2.0])
    fwd, rev = mg.jacfwd(_f)(x), mg.jacrev(_f)(x)
    norm = np.sqrt(np.sum(x * x))
    expected = np.array(
        [
            [x[1], x[0], 0.0],
            [0.0, 0.0, math.cos(x[2])],
            [1.0, 0.0, 2 * x[2]],
            list(x / norm),
        ]
    )
    np.testing.assert_allclose(fwd, expected, rtol=1e-14)
    np.testing.assert_allclose(rev, expected, rtol=1e-14)
    assert mg.jacobian is mg.jacrev


def test_jacfwd_and_jacrev_with_argnums_and_tuple_outputs():
    def f(a, w, b):
        return (a @ w + b).tanh(), (w * w).sum()

    rng = np.random.default_rng(1)
    a, w, b = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal(4)
    fwd = mg.jacfwd(f, argnums=(0, 1, 2))(a, w, b)
    rev = mg.jacrev(f, argnums=(0, 1, 2))(a, w, b)
    shapes = [[(2, 4, 2, 3), (2, 4, 3, 4), (2, 4, 4)], [(2, 3), (3, 4), (4,)]]
    for o in range(2):
        for j in range(3):
            assert fwd[o][j].shape == rev[o][j].shape == shapes[o][j]
            np.testing.assert_allclose(fwd[o][j], rev[o][j], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(fwd[1][1], 2 * w, rtol=1e-15)


def test_hvp_is_forward_over_reverse_and_matches_the_hessian():
    rng = np.random.default_rng(2)
    a = rng.standard_normal((4, 4))
    x, v = rng.standard_normal(4), rng.standard_normal(4)

    def f(x):
        return (x @ (a @ x)) + x.exp().sum()

    hess = a + a.T + np.diag(np.exp(x))
    np.testing.assert_allclose(mg.hvp(f, x, v), hess @ v, rtol=1e-13)
    np.testing.assert_allclose(mg.hessian(f)(x), hess, rtol=1e-13)
    np.testing.assert_allclose(mg.jacfwd(mg.grad(f))(x), hess, rtol=1e-13)


def test_jvp_of_jvp_gives_second_directional_derivatives():
    def f(x):
        return (x * x * x).sin()

    def d1(x):
        return mg.jvp(f, (x,), (1.0,))[1]

    x = 0.7
    second = mg.jvp(d1, (x,), (1.0,))[1]
    expected = -math.sin(x**3) * 9 * x**4 + math.cos(x**3) * 6 * x
    assert second == pytest.approx(expected, rel=1e-14)
    third = mg.jvp(lambda y: mg.jvp(d1, (y,), (1.0,))[1], (x,), (1.0,))[1]
    assert third == pytest.approx(mg.grad(mg.grad(mg.grad(f)))(x), rel=1e-12)


def test_grad_of_jvp_is_reverse_over_forward():
    v = np.array([1.0, -2.0, 0.5])

    def directional(x):
        return mg.jvp(lambda y: (y * y * y).sum(), (x,), (v,))[1]  # 3 sum(x^2 v)

    x = np.array([0.3, 1.2, -0.4])
    np.testing.assert_allclose(mg.grad(directional)(x), 6 * x * v, rtol=1e-14)


def test_transforms_do_not_confuse_perturbations():
    # d/dx [ d/dy (x y) at y = x ] = d/dx x = 1 (not d/dx d/dx x^2 = 2)
    assert mg.grad(lambda x: mg.grad(lambda y: x * y)(x))(2.0) == 1.0
    assert mg.jvp(lambda x: mg.jvp(lambda y: x * y, (x,), (1.0,))[1], (2.0,), (1.0,))[1] == 1.0
    # Closing over the outer input works too: d/dx [ d/dy (x y) at y = 1 ] = 1
    assert mg.grad(lambda x: mg.grad(lambda y: x * y)(1.0))(3.0) == 1.0
    assert mg.jvp(lambda x: mg.grad(lambda y: x * y * y)(1.0), (3.0,), (1.0,))[1] == 2.0


def test_vjp_returns_the_value_and_a_reusable_function():
    x = np.array([1.0, 2.0, 3.0])
    out, vjp_fn = mg.vjp(lambda a, k: a * a * k, x, 2.0)
    np.testing.assert_array_equal(out, 2 * x * x)
    ga, gk = vjp_fn(np.array([1.0, 0.0, 1.0]))
    np.testing.assert_array_equal(ga, [4.0, 0.0, 12.0])
    assert gk == 10.0
    ga, _ = vjp_fn(np.ones(3))
    np.testing.assert_array_equal(ga, 4 * x)
    with pytest.raises(ValueError, match=r"cotangent 0 has shape \(2,\)"):
        vjp_fn(np.ones(2))


def test_vjp_composes_with_grad():
    # u^T J for f(x) = x^2 (elementwise), summed: d/dx sum(u * 2x) = 2u
    u = np.array([1.0, -1.0])
    g = mg.grad(lambda x: mg.vjp(lambda y: y * y, x)[1](u)[0].sum())(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(g, 2 * u)


def test_jvp_through_backward_with_create_graph_inside():
    # jvp of a function that itself calls backward(create_graph=True)
    def slope(x):
        y = x * x * x
        y.backward(create_graph=True)
        return x.grad

    assert mg.jvp(slope, (2.0,), (1.0,)) == (12.0, 12.0)


def test_compositions_agree_through_a_small_cnn():
    # forward over reverse (hvp, jacfwd of grad), reverse over reverse (hessian) and reverse
    # over forward (grad of jvp) give one Hessian, through conv, tanh, flatten, linear and the
    # fused cross-entropy
    rng = np.random.default_rng(5)
    model = mg.nn.Sequential(
        mg.nn.Conv2d(1, 2, 3, rng=rng), mg.nn.Tanh(), mg.nn.Flatten(), mg.nn.Linear(8, 3, rng=rng)
    )
    x = rng.standard_normal((2, 1, 4, 4))
    v = rng.standard_normal(x.shape)
    labels = np.array([0, 2])

    def f(inputs):
        return mg.losses.cross_entropy(model(inputs), labels)

    hess = mg.hessian(f)(x).reshape(x.size, x.size)
    np.testing.assert_allclose(hess, hess.T, atol=1e-15)
    hv = hess @ v.reshape(-1)
    np.testing.assert_allclose(mg.hvp(f, x, v).reshape(-1), hv, rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(
        mg.jacfwd(mg.grad(f))(x).reshape(x.size, x.size), hess, rtol=1e-10, atol=1e-15
    )
    reverse_over_forward = mg.grad(lambda a: mg.jvp(f, (a,), (v,))[1])(x)
    np.testing.assert_allclose(reverse_over_forward.reshape(-1), hv, rtol=1e-10, atol=1e-15)


def test_transform_and_function_docstring_examples_run():
    import doctest

    import minigrad.autodiff.forward
    import minigrad.autodiff.reverse
    import minigrad.function

    for module in (minigrad.autodiff.reverse, minigrad.autodiff.forward, minigrad.function):
        result = doctest.testmod(module, verbose=False)
        assert result.attempted >= 3 and result.failed == 0, module.__name__
