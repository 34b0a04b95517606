"""Stable numerics: the ops that exponentiate give finite values and finite gradients at inputs of
+-1000, in float32 and float64, and numpy never warns (every warning is an error in this file).

The expected numbers are the exact limits: at x = 1000, e**-x underflows to 0 in both float32 and
float64, so sigmoid is exactly 1, softplus exactly x, and so on.
"""

import importlib.util
import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value

pytestmark = pytest.mark.filterwarnings("error")  # any numpy RuntimeWarning fails the test

DTYPES = [np.float32, np.float64]
BIG = np.array([-1000.0, 1000.0, 0.0, -1.0, 1.0])


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _run(f, data, upstream=None):
    """Forward f on a Value of `data`, backward with an upstream gradient; return (out, grad)."""
    x = Value(data)
    out = f(x)
    if upstream is None:
        upstream = np.ones(out.shape, dtype=out.dtype)
    out.backward(upstream)
    return out, x


def _check_finite_and_typed(out, x, dtype):
    assert np.all(np.isfinite(out.data)), out.data
    assert np.all(np.isfinite(x.grad)), x.grad
    assert out.dtype == dtype and x.grad.dtype == dtype
    assert x.grad.shape == x.shape


# ----- elementwise -----------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES)
def test_sigmoid_at_plus_minus_1000(dtype):
    out, x = _run(mg.sigmoid, BIG.astype(dtype))
    _check_finite_and_typed(out, x, dtype)
    np.testing.assert_array_equal(out.data[:2], [0.0, 1.0])
    np.testing.assert_allclose(
        out.data[2:], [0.5, 1 / (1 + math.e), 1 / (1 + math.exp(-1))], rtol=1e-6
    )
    np.testing.assert_array_equal(x.grad[:3], [0.0, 0.0, 0.25])


@pytest.mark.parametrize("dtype", DTYPES)
def test_tanh_at_plus_minus_1000(dtype):
    out, x = _run(mg.tanh, BIG.astype(dtype))
    _check_finite_and_typed(out, x, dtype)
    np.testing.assert_array_equal(out.data[:3], [-1.0, 1.0, 0.0])
    np.testing.assert_array_equal(x.grad[:3], [0.0, 0.0, 1.0])


@pytest.mark.parametrize("dtype", DTYPES)
def test_softplus_at_plus_minus_1000(dtype):
    out, x = _run(mg.softplus, BIG.astype(dtype))
    _check_finite_and_typed(out, x, dtype)
    np.testing.assert_array_equal(out.data[:2], [0.0, 1000.0])
    np.testing.assert_allclose(out.data[2], math.log(2), rtol=1e-6)
    np.testing.assert_array_equal(x.grad[:3], [0.0, 1.0, 0.5])  # the sigmoid


@pytest.mark.parametrize(
    "f", [mg.sigmoid, mg.tanh, mg.softplus], ids=["sigmoid", "tanh", "softplus"]
)
@pytest.mark.parametrize("x0", [-1000.0, 1000.0, -1e300, 1e300])
def test_scalar_paths_are_stable_too(f, x0):
    out, x = _run(f, x0, upstream=1.0)
    assert type(out.data) is float and type(x.grad) is float
    assert math.isfinite(out.data) and math.isfinite(x.grad)


def test_sigmoid_matches_the_textbook_formula_where_that_is_safe():
    xs = np.linspace(-30, 30, 61)
    np.testing.assert_allclose(mg.sigmoid(Value(xs)).data, 1 / (1 + np.exp(-xs)), rtol=1e-12)
    for x0 in (-30.0, -1.0, 0.0, 2.5, 30.0):
        assert mg.sigmoid(Value(x0)).data == pytest.approx(1 / (1 + math.exp(-x0)), rel=1e-12)


# ----- reductions along an axis ----------------------------------------------------------------
ROWS = np.array([[-1000.0, 1000.0, 0.0], [1000.0, 1000.0, -1000.0], [-1000.0, -1000.0, -1000.0]])


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_at_plus_minus_1000(dtype):
    out, x = _run(lambda v: v.logsumexp(axis=1), ROWS.astype(dtype))
    _check_finite_and_typed(out, x, dtype)
    np.testing.assert_allclose(
        out.data, [1000.0, 1000.0 + math.log(2), -1000.0 + math.log(3)], rtol=1e-6
    )
    # The gradient is the softmax of each row.
    # (float32 holds 1000 + log 2 only to about 6e-5, hence its looser tolerance.)
    expected = [[0.0, 1.0, 0.0], [0.5, 0.5, 0.0], [1 / 3, 1 / 3, 1 / 3]]
    rtol = 1e-4 if dtype == np.float32 else 1e-9
    np.testing.assert_allclose(x.grad, expected, rtol=rtol, atol=1e-30)


@pytest.mark.parametrize("dtype", DTYPES)
def test_logsumexp_over_everything_and_keepdims(dtype):
    out, x = _run(lambda v: v.logsumexp(), ROWS.astype(dtype))
    _check_finite_and_typed(out, x, dtype)
    np.testing.assert_allclose(out.data, 1000.0 + math.log(3), rtol=1e-6)
    out, x = _run(lambda v: v.logsumexp(axis=0, keepdims=True), ROWS.astype(dtype))
    _check_finite_and_typed(out, x, dtype)
    assert out.shape == (1, 3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_at_plus_minus_1000(dtype):
    upstream = np.array([[1.0, 2.0, 3.0]] * 3, dtype=dtype)
    out, x = _run(mg.softmax, ROWS.astype(dtype), upstream)
    _check_finite_and_typed(out, x, dtype)
    np.testing.assert_allclose(out.data, [[0, 1, 0], [0.5, 0.5, 0], [1 / 3] * 3], atol=1e-7)
    np.testing.assert_allclose(out.data.sum(axis=1), 1.0, rtol=1e-6)
    # gx = out * (g - sum(g * out)): row 2 gives 0.5 * (1 - 1.5), 0.5 * (2 - 1.5), 0.
    np.testing.assert_allclose(x.grad[1], [-0.25, 0.25, 0.0], atol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_log_softmax_at_plus_minus_1000(dtype):
    out, x = _run(mg.log_softmax, ROWS.astype(dtype))
    _check_finite_and_typed(out, x, dtype)
    np.testing.assert_allclose(out.data[0], [-2000.0, 0.0, -1000.0], rtol=1e-6)
    np.testing.assert_allclose(out.data[2], [-math.log(3)] * 3, rtol=1e-6)
    # gx = g - softmax * sum(g), with g = 1: 1 - 3 softmax.
    np.testing.assert_allclose(x.grad[0], [1.0, -2.0, 1.0], rtol=1e-6)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_along_the_first_axis_is_stable_too(dtype):
    out, x = _run(lambda v: mg.log_softmax(v, axis=0), ROWS.T.astype(dtype))
    _check_finite_and_typed(out, x, dtype)
    np.testing.assert_allclose(out.data[:, 0], [-2000.0, 0.0, -1000.0], rtol=1e-6)


def test_logsumexp_of_all_minus_inf_is_minus_inf_without_a_warning():
    out = Value(np.array([-np.inf, -np.inf])).logsumexp()
    assert out.data == -np.inf


def test_chain_of_stable_ops_keeps_gradients_finite():
    # A 1000-wide softplus after a softmax after a sigmoid: every stage sees extreme values.
    x = Value(np.linspace(-1000, 1000, 9))
    y = (mg.softplus(x) + mg.log_softmax(mg.sigmoid(x) * 1000.0)).sum()
    y.backward()
    assert np.isfinite(y.data) and np.all(np.isfinite(x.grad))


# ----- losses (once minigrad.losses exists) ----------------------------------------------------
needs_losses = pytest.mark.skipif(not _has("minigrad.losses"), reason="minigrad.losses not written")


@needs_losses
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_with_logits_at_plus_minus_1000(dtype):
    from minigrad import losses

    target = np.array([1.0, 0.0, 1.0, 1.0, 0.0])
    out, x = _run(
        lambda v: losses.binary_cross_entropy_with_logits(v, target, reduction="none"),
        BIG.astype(dtype),
    )
    _check_finite_and_typed(out, x, dtype)
    # Wrong by 1000 costs 1000; right by 1000 costs (almost exactly) nothing.
    np.testing.assert_allclose(out.data[:3], [1000.0, 1000.0, math.log(2)], rtol=1e-6)
    np.testing.assert_allclose(x.grad[:3], [-1.0, 1.0, -0.5], rtol=1e-6)  # sigmoid(x) - t


@needs_losses
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("target_kind", ["labels", "one-hot"])
def test_cross_entropy_at_plus_minus_1000(dtype, target_kind):
    from minigrad import losses

    labels = np.array([0, 2, 1])
    target = labels if target_kind == "labels" else np.eye(3)[labels]
    out, x = _run(lambda v: losses.cross_entropy(v, target, reduction="none"), ROWS.astype(dtype))
    _check_finite_and_typed(out, x, dtype)
    np.testing.assert_allclose(out.data, [2000.0, 2000.0 + math.log(2), math.log(3)], rtol=1e-6)
    # softmax - one-hot
    expected = [[-1.0, 1.0, 0.0], [0.5, 0.5, -1.0], [1 / 3, -2 / 3, 1 / 3]]
    np.testing.assert_allclose(x.grad, expected, rtol=1e-4 if dtype == np.float32 else 1e-9)


@needs_losses
@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_on_probabilities_exactly_0_and_1_stays_finite(dtype):
    from minigrad import losses

    probs = np.array([0.0, 1.0, 0.0, 1.0], dtype=dtype)
    target = np.array([0.0, 1.0, 1.0, 0.0])
    out, p = _run(lambda v: losses.binary_cross_entropy(v, target, reduction="none"), probs)
    _check_finite_and_typed(out, p, dtype)
    assert np.all(out.data[:2] < 1e-5)  # right and certain: (almost) no loss
    assert np.all(out.data[2:] > 10)  # wrong and certain: a large but finite loss
