"""The subgradients documented at kinks: relu'(0) = 0, abs'(0) = 0, leaky_relu'(0) = slope,
clip passes the gradient on its closed interval, max/min/maximum/minimum split ties evenly."""

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value


def _grad_of(f, x):
    v = Value(x)
    out = f(v)
    out.backward() if out.size == 1 and out.ndim == 0 else out.sum().backward()
    return v.grad


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_subgradient_relu_at_zero_is_zero(dtype):
    x = np.array([-1.0, 0.0, 2.0], dtype=dtype)
    g = _grad_of(lambda v: v.relu(), x)
    assert g.dtype == dtype
    np.testing.assert_array_equal(g, [0.0, 0.0, 1.0])
    assert _grad_of(lambda v: v.relu(), 0.0) == 0.0
    assert _grad_of(lambda v: v.relu(), -0.0) == 0.0
    assert mg.grad(mg.relu)(0.0) == 0.0


def test_subgradient_abs_at_zero_is_zero():
    np.testing.assert_array_equal(_grad_of(abs, np.array([-2.0, 0.0, 3.0])), [-1.0, 0.0, 1.0])
    assert _grad_of(lambda v: v.abs(), 0.0) == 0.0
    assert _grad_of(lambda v: v.abs(), -0.0) == 0.0


@pytest.mark.parametrize("slope", [0.01, 0.2])
def test_subgradient_leaky_relu_at_zero_is_the_slope(slope):
    g = _grad_of(lambda v: v.leaky_relu(slope), np.array([-1.0, 0.0, 2.0]))
    np.testing.assert_array_equal(g, [slope, slope, 1.0])
    assert _grad_of(lambda v: mg.leaky_relu(v, slope), 0.0) == slope
    assert _grad_of(lambda v: v.leaky_relu(), 0.0) == 0.01  # the default slope


def test_subgradient_clip_boundaries_pass_the_gradient():
    x = np.array([-2.0, -1.0, -0.5, 1.0, 1.5])
    np.testing.assert_array_equal(_grad_of(lambda v: v.clip(-1.0, 1.0), x), [0, 1, 1, 1, 0])
    np.testing.assert_array_equal(_grad_of(lambda v: v.clip(lo=-1.0), x), [0, 1, 1, 1, 1])
    np.testing.assert_array_equal(_grad_of(lambda v: v.clip(hi=1.0), x), [1, 1, 1, 1, 0])
    assert _grad_of(lambda v: v.clip(-1.0, 1.0), 1.0) == 1.0
    assert _grad_of(lambda v: v.clip(-1.0, 1.0), -1.0) == 1.0
    assert _grad_of(lambda v: v.clip(-1.0, 1.0), 1.25) == 0.0


def test_subgradient_max_min_reductions_split_ties_evenly():
    x = np.array([1.0, 3.0, 3.0, 2.0, 3.0])
    np.testing.assert_allclose(_grad_of(lambda v: v.max(), x), [0, 1 / 3, 1 / 3, 0, 1 / 3])
    np.testing.assert_allclose(_grad_of(lambda v: v.min(), -x), [0, 1 / 3, 1 / 3, 0, 1 / 3])
    m = np.array([[2.0, 2.0, 1.0], [0.0, 5.0, 5.0], [4.0, 4.0, 4.0]])
    np.testing.assert_allclose(
        _grad_of(lambda v: v.max(axis=1), m), [[0.5, 0.5, 0], [0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]]
    )
    columns = np.array([[1.0, 3.0], [3.0, 3.0], [3.0, 0.0]])
    np.testing.assert_allclose(
        _grad_of(lambda v: v.max(axis=0, keepdims=True), columns), [[0, 0.5], [0.5, 0.5], [0.5, 0]]
    )
    np.testing.assert_allclose(
        _grad_of(lambda v: v.min(axis=(0, 1)), m), [[0, 0, 0], [1, 0, 0], [0, 0, 0]]
    )
    # With an upstream gradient: each row's share of its own g.
    v = Value(m)
    v.max(axis=1).backward(np.array([2.0, 4.0, 3.0]))
    np.testing.assert_allclose(v.grad, [[1, 1, 0], [0, 2, 2], [1, 1, 1]])


def test_subgradient_maximum_minimum_split_ties_evenly():
    for f in (mg.maximum, mg.minimum):
        a, b = Value(2.0), Value(2.0)
        f(a, b).backward()
        assert (a.grad, b.grad) == (0.5, 0.5)
    x = Value(np.array([1.0, 2.0, 3.0]))
    y = Value(2.0)
    mg.maximum(x, y).backward(np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(x.grad, [0.0, 5.0, 100.0])
    assert y.grad == 1.0 + 5.0
    x.zero_grad()
    y.zero_grad()
    mg.minimum(x, y).backward(np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(x.grad, [1.0, 5.0, 0.0])
    assert y.grad == 5.0 + 100.0


def test_subgradient_power_exponent_at_a_zero_base():
    # d(0**y)/dy: the limit 0 for y > 0 (log(0) would give 0 * -inf = nan).
    x, y = Value(np.array([0.0, 2.0])), Value(np.array([2.0, 3.0]))
    (x**y).sum().backward()
    np.testing.assert_allclose(y.grad, [0.0, 8.0 * np.log(2.0)])
    np.testing.assert_allclose(x.grad, [0.0, 12.0])


def test_subgradient_second_derivative_at_kinks_is_zero():
    for f in (mg.relu, mg.abs, lambda v: v.clip(-1.0, 1.0), lambda v: v.leaky_relu(0.2)):
        assert mg.grad(mg.grad(f))(0.5) == 0.0
        first = mg.grad(lambda w, f=f: f(w).sum())
        second = mg.grad(lambda v, first=first: first(v).sum())
        np.testing.assert_array_equal(second(np.array([-0.5, 0.0, 0.5])), [0.0, 0.0, 0.0])
