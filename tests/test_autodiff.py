"""grad, value_and_grad, jacobian, hessian, and create_graph=True: derivatives of derivatives."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value


def test_autodiff_grad_of_a_number_is_a_number():
    d = mg.grad(lambda x: x.sin())(0.5)
    assert type(d) is float and d == pytest.approx(math.cos(0.5), rel=1e-15)
    assert mg.grad(lambda x: x * x * x)(2) == 12.0


def test_autodiff_grad_of_an_array():
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    d = mg.grad(lambda v: (v * v).sum() * 0.5 + v.exp().mean())(x)
    assert isinstance(d, np.ndarray) and d.shape == (2, 2) and d.dtype == np.float64
    np.testing.assert_allclose(d, x + np.exp(x) / 4, rtol=1e-14)


def test_autodiff_grad_at_values():
    # At a Value that requires grad: the gradient is a Value, differentiable again.
    v = Value(3.0)
    d = mg.grad(lambda x: x * x)(v)
    assert isinstance(d, Value) and d.data == 6.0 and d.requires_grad
    d.backward()
    assert v.grad == 2.0
    # At a constant Value: its data is the point, the gradient is plain.
    for c in (Value(3.0, requires_grad=False), Value(3.0).detach()):
        assert mg.grad(lambda x: x * x)(c) == 6.0
    const = Value(np.array([1.0, -2.0]), requires_grad=False)
    np.testing.assert_array_equal(mg.grad(lambda x: (x**3).sum())(const), [3.0, 12.0])
    value, g = mg.value_and_grad(lambda x: x.exp())(Value(0.0, requires_grad=False))
    assert (value, g) == (1.0, 1.0)


def test_autodiff_grad_composes_second_and_third_derivatives():
    d2 = mg.grad(mg.grad(lambda x: x.sin()))
    d3 = mg.grad(d2)
    for x in (-1.3, 0.0, 0.4, 2.5):
        assert d2(x) == pytest.approx(-math.sin(x), abs=1e-15)
        assert d3(x) == pytest.approx(-math.cos(x), abs=1e-15)
    quartic = lambda x: x**4 - 2.0 * x**3  # noqa: E731
    d = mg.grad(quartic)
    assert d(1.5) == pytest.approx(4 * 1.5**3 - 6 * 1.5**2, rel=1e-14)
    assert mg.grad(d)(1.5) == pytest.approx(12 * 1.5**2 - 12 * 1.5, rel=1e-14)
    assert mg.grad(mg.grad(d))(1.5) == pytest.approx(24 * 1.5 - 12, rel=1e-14)
    assert mg.grad(mg.grad(mg.grad(d)))(1.5) == pytest.approx(24.0, rel=1e-14)


def test_autodiff_second_derivative_of_an_array_function():
    x = np.array([0.3, -0.7, 1.1])
    # d/dx sum(grad(sum(tanh))) = -2 tanh(x) (1 - tanh(x)^2)
    d2 = mg.grad(lambda v: mg.grad(lambda w: w.tanh().sum())(v).sum())(x)
    t = np.tanh(x)
    np.testing.assert_allclose(d2, -2 * t * (1 - t**2), rtol=1e-13)


def test_autodiff_argnums():
    f = lambda x, y, z: x * y**2 + z  # noqa: E731
    assert mg.grad(f)(2.0, 3.0, 1.0) == 9.0
    assert mg.grad(f, 1)(2.0, 3.0, 1.0) == 12.0
    gx, gz = mg.grad(f, (0, 2))(2.0, 3.0, 1.0)
    assert (gx, gz) == (9.0, 1.0)
    (gy,) = mg.grad(f, argnums=(1,))(2.0, 3.0, 1.0)
    assert gy == 12.0
    with pytest.raises(TypeError, match="argnums"):
        mg.grad(f, 3)(2.0, 3.0, 1.0)


def test_autodiff_value_and_grad():
    value, g = mg.value_and_grad(lambda x: (x**2).sum())(np.array([1.0, 2.0]))
    assert value == 5.0
    np.testing.assert_array_equal(g, [2.0, 4.0])
    value, (ga, gb) = mg.value_and_grad(lambda a, b: a * b, (0, 1))(3.0, 4.0)
    assert (value, ga, gb) == (12.0, 4.0, 3.0)


def test_autodiff_grad_needs_a_scalar_function():
    with pytest.raises(ValueError, match="single number"):
        mg.grad(lambda x: x * 2.0)(np.array([1.0, 2.0]))


def test_autodiff_grad_of_a_function_not_depending_on_x_is_zero():
    assert mg.grad(lambda x, y: y * 2.0)(1.0, 5.0) == 0.0
    np.testing.assert_array_equal(mg.grad(lambda x: Value(1.0) * 3.0)(np.ones(2)), [0.0, 0.0])


def test_autodiff_jacobian_against_hand_computed():
    a = np.array([[1.0, 2.0, -1.0], [0.5, 0.0, 3.0]])
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(mg.jacobian(lambda v: a @ v)(x), a, rtol=1e-15)
    # f(x) = (x0 * x1, sin(x2), x0 + x2**2)
    f = lambda v: mg.stack([v[0] * v[1], v[2].sin(), v[0] + v[2] ** 2])  # noqa: E731
    expected = np.array(
        [
            [x[1], x[0], 0.0],
            [0.0, 0.0, math.cos(x[2])],
            [1.0, 0.0, 2 * x[2]],
        ]
    )
    jac = mg.jacobian(f)(x)
    assert jac.shape == (3, 3)
    np.testing.assert_allclose(jac, expected, rtol=1e-15)
    # Shapes: out.shape + x.shape.
    m = np.arange(6.0).reshape(2, 3)
    assert mg.jacobian(lambda v: v * 2.0)(m).shape == (2, 3, 2, 3)
    np.testing.assert_array_equal(mg.jacobian(lambda v: v.sum())(m), np.ones((2, 3)))
    assert mg.jacobian(lambda v: v * v)(3.0) == 6.0


def test_autodiff_hessian_of_a_quadratic_form():
    rng = np.random.default_rng(7)
    a = rng.standard_normal((4, 4))
    x = rng.standard_normal(4)
    hess = mg.hessian(lambda v: v @ (a @ v))(x)
    assert hess.shape == (4, 4)
    np.testing.assert_allclose(hess, a + a.T, rtol=1e-13, atol=1e-14)


def test_autodiff_hessian_of_a_nonlinear_function():
    x = np.array([0.7, -0.4])
    # f = x0^2 x1 + exp(x1):  H = [[2 x1, 2 x0], [2 x0, exp(x1)]]
    hess = mg.hessian(lambda v: v[0] ** 2 * v[1] + v[1].exp())(x)
    np.testing.assert_allclose(hess, [[2 * x[1], 2 * x[0]], [2 * x[0], math.exp(x[1])]], rtol=1e-14)


def test_autodiff_create_graph_stores_differentiable_values():
    x = Value(2.0)
    y = x**3
    y.backward(create_graph=True)
    gx = x.grad
    assert isinstance(gx, Value) and gx.data == 12.0 and gx.requires_grad
    x.zero_grad()
    gx.backward()
    assert x.grad == 12.0  # d(3 x^2)/dx = 6 x


def test_autodiff_double_backward_by_hand():
    # The PyTorch double-backward pattern:
    #   z = x^2 y + e^y;  gx = dz/dx = 2xy;  gy = dz/dy = x^2 + e^y
    #   u = gx * gy  (computed from the first gradients, with create_graph=True)
    #   du/dx = 2y (x^2 + e^y) + 2xy * 2x;  du/dy = 2x (x^2 + e^y) + 2xy e^y
    xv, yv = 1.5, -0.5
    x, y = Value(xv), Value(yv)
    z = x * x * y + y.exp()
    z.backward(create_graph=True)
    gx, gy = x.grad, y.grad
    assert gx.data == pytest.approx(2 * xv * yv, rel=1e-15)
    assert gy.data == pytest.approx(xv**2 + math.exp(yv), rel=1e-15)
    u = gx * gy
    x.zero_grad()
    y.zero_grad()
    u.backward()
    e = math.exp(yv)
    assert x.grad == pytest.approx(2 * yv * (xv**2 + e) + 4 * xv**2 * yv, rel=1e-14)
    assert y.grad == pytest.approx(2 * xv * (xv**2 + e) + 2 * xv * yv * e, rel=1e-14)


def test_autodiff_create_graph_on_arrays_against_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    a, w = rng.standard_normal((3, 4)), rng.standard_normal((4, 2))

    def f(x, m, lib):
        h = (x @ m).tanh() if lib is None else torch.tanh(x @ m)
        return (h * h).sum() + (x.exp().sum() if lib is None else torch.exp(x).sum())

    x, m = Value(a), Value(w)
    f(x, m, None).backward(create_graph=True)
    gx = x.grad
    x.zero_grad()
    m.zero_grad()
    (gx * gx).sum().backward()
    tx = torch.tensor(a, requires_grad=True)
    tm = torch.tensor(w, requires_grad=True)
    (tgx,) = torch.autograd.grad(f(tx, tm, torch), tx, create_graph=True)
    np.testing.assert_allclose(gx.data, tgx.detach().numpy(), rtol=1e-12)
    (tgx * tgx).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(m.grad, tm.grad.numpy(), rtol=1e-12)


def test_autodiff_hessian_with_argnums_gives_every_block():
    # f = x^2 y z + y^3 + sin(z) x: every second derivative by hand
    def f(x, y, z):
        return x * x * y * z + y**3 + z.sin() * x

    x, y, z = 0.5, -1.5, 2.0
    blocks = mg.hessian(f, argnums=(0, 1, 2))(x, y, z)
    expected = [
        [2 * y * z, 2 * x * z, 2 * x * y + math.cos(z)],
        [2 * x * z, 6 * y, x * x],
        [2 * x * y + math.cos(z), x * x, -math.sin(z) * x],
    ]
    assert isinstance(blocks, tuple) and all(isinstance(row, tuple) for row in blocks)
    for i in range(3):
        for j in range(3):
            assert type(blocks[i][j]) is float
            assert blocks[i][j] == pytest.approx(expected[i][j], rel=1e-14, abs=1e-15)
    # Arrays: blocks of shape x_i.shape + x_j.shape
    a, b = np.array([1.0, 2.0]), np.array([[0.5, -1.0, 3.0]])
    h = mg.hessian(lambda a, b: (a.reshape(2, 1) * b).sum() ** 2, argnums=(0, 1))(a, b)
    assert [[blk.shape for blk in row] for row in h] == [
        [(2, 2), (2, 1, 3)],
        [(1, 3, 2), (1, 3, 1, 3)],
    ]
    sb, sa = b.sum(), a.sum()
    np.testing.assert_allclose(h[0][0], np.full((2, 2), 2 * sb * sb), rtol=1e-14)
    np.testing.assert_allclose(h[1][1], np.full((1, 3, 1, 3), 2 * sa * sa), rtol=1e-14)
    np.testing.assert_allclose(h[0][1], np.full((2, 1, 3), 2 * sb * sa + 2 * sa * sb), rtol=1e-14)
    np.testing.assert_allclose(h[1][0], np.transpose(h[0][1], (1, 2, 0)), rtol=1e-14)


def test_autodiff_keyword_arguments_pass_through():
    f = lambda x, k=1.0: k * x * x  # noqa: E731
    assert mg.grad(f)(3.0, k=5.0) == 30.0
    assert mg.value_and_grad(f)(3.0, k=2.0) == (18.0, 12.0)
    np.testing.assert_array_equal(mg.jacrev(lambda v, k: v * k)(np.ones(2), k=3.0), 3 * np.eye(2))
    np.testing.assert_array_equal(mg.jacfwd(lambda v, k: v * k)(np.ones(2), k=3.0), 3 * np.eye(2))
    assert mg.hessian(f)(1.0, k=4.0) == 8.0


@pytest.mark.parametrize(
    "returned, named",
    [(True, "bool"), (np.True_, "bool"), ("0.5", "str"), (None, "NoneType"), ([1.0], "list")],
)
def test_autodiff_grad_of_a_non_number_is_a_type_error_naming_it(returned, named):
    with pytest.raises(TypeError, match=f"single-number Value or float, got {named}"):
        mg.grad(lambda x: returned)(1.0)


def test_autodiff_argnums_must_be_ints():
    with pytest.raises(TypeError, match="argnums must be an int or a non-empty tuple"):
        mg.grad(lambda x: x, argnums="0")
    with pytest.raises(TypeError, match="argnums includes -1"):
        mg.grad(lambda x: x, argnums=-1)(1.0)


def test_autodiff_jacobian_with_argnums():
    ja, jb = mg.jacobian(lambda a, b: a * b, argnums=(0, 1))(np.array([1.0, 2.0]), 3.0)
    np.testing.assert_array_equal(ja, 3 * np.eye(2))
    np.testing.assert_array_equal(jb, [1.0, 2.0])
