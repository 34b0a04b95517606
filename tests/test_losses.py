"""minigrad.losses: every loss against hand-computed values and finite differences."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import losses
from minigrad.ops import softmax_cross_entropy

P = np.array([0.5, -1.0, 2.0, 3.5])
T = np.array([1.0, 1.0, 2.5, 0.5])
D = P - T  # [-0.5, -2.0, -0.5, 3.0]


def value_and_grad(loss_fn, pred, *args, **kwargs):
    v = mg.Value(pred)
    out = loss_fn(v, *args, **kwargs)
    out.backward()
    return out.data, v.grad


# ----- regression ------------------------------------------------------------------------------
def test_mse_by_hand():
    loss, grad = value_and_grad(losses.mse_loss, P, T)
    assert loss == pytest.approx((0.25 + 4.0 + 0.25 + 9.0) / 4, abs=1e-15)
    np.testing.assert_allclose(grad, 2 * D / 4, rtol=1e-15)


def test_sse_by_hand_and_reductions():
    loss, grad = value_and_grad(losses.sse_loss, P, T)
    assert loss == pytest.approx(13.5, abs=1e-15)
    np.testing.assert_allclose(grad, 2 * D, rtol=1e-15)
    np.testing.assert_allclose(losses.sse_loss(mg.Value(P), T, reduction="none").data, D**2)
    assert losses.sse_loss(mg.Value(P), T, reduction="mean").data == pytest.approx(13.5 / 4)


def test_l1_by_hand_and_alias():
    loss, grad = value_and_grad(losses.l1_loss, P, T)
    assert loss == pytest.approx((0.5 + 2.0 + 0.5 + 3.0) / 4)
    np.testing.assert_allclose(grad, np.sign(D) / 4)
    assert losses.mae_loss is losses.l1_loss
    assert losses.l1_loss(mg.Value(P), T, reduction="sum").data == pytest.approx(6.0)


def test_huber_by_hand_both_regimes():
    # delta 1: |d| = 0.5 -> 0.5 * 0.25 = 0.125; |d| = 2 -> 1 * (2 - 0.5) = 1.5; |d| = 3 -> 2.5
    loss = losses.huber_loss(mg.Value(P), T, reduction="none").data
    np.testing.assert_allclose(loss, [0.125, 1.5, 0.125, 2.5], rtol=1e-15)
    _, grad = value_and_grad(losses.huber_loss, P, T, reduction="sum")
    np.testing.assert_allclose(grad, [-0.5, -1.0, -0.5, 1.0])  # d inside, delta*sign(d) out
    loss = losses.huber_loss(mg.Value(P), T, delta=2.5, reduction="sum").data
    assert loss == pytest.approx(0.125 + 2.0 + 0.125 + 2.5 * (3.0 - 1.25))
    with pytest.raises(ValueError, match="delta must be > 0"):
        losses.huber_loss(mg.Value(P), T, delta=0.0)


@pytest.mark.parametrize("name", ["mse_loss", "sse_loss", "l1_loss", "huber_loss"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_regression_losses_gradcheck(name, reduction):
    fn = getattr(losses, name)
    assert mg.gradcheck(lambda p: fn(p, T, reduction=reduction), P)
    assert mg.gradcheck(lambda t: fn(mg.Value(P, requires_grad=False), t, reduction=reduction), T)


def test_scalar_prediction_and_number_target():
    pred = mg.Value(6.25)
    loss = losses.mse_loss(pred, 5)
    assert loss.data == 1.5625 and type(loss.data) is float
    loss.backward()
    assert pred.grad == 2.5


# ----- binary classification ----------------------------------------------------------------------
PROB = np.array([0.9, 0.2, 0.6])
Y01 = np.array([1.0, 0.0, 0.0])


def test_binary_cross_entropy_by_hand():
    expected = -(math.log(0.9) + math.log(0.8) + math.log(0.4)) / 3
    loss, grad = value_and_grad(losses.binary_cross_entropy, PROB, Y01)
    assert loss == pytest.approx(expected, abs=1e-15)
    np.testing.assert_allclose(grad, (PROB - Y01) / (PROB * (1 - PROB)) / 3, rtol=1e-12)
    assert mg.gradcheck(lambda p: losses.binary_cross_entropy(p, Y01), PROB)


def test_binary_cross_entropy_clamps_the_log_at_minus_100_as_pytorch():
    p = mg.Value([0.0, 1.0, 1e-50, 1e-8])
    loss = losses.binary_cross_entropy(p, [1.0, 0.0, 1.0, 1.0], reduction="none")
    np.testing.assert_allclose(loss.data, [100.0, 100.0, 100.0, -math.log(1e-8)], rtol=1e-12)
    loss.sum().backward()
    assert np.all(np.isfinite(p.grad))
    np.testing.assert_allclose(p.grad[3], -1e8, rtol=1e-6)  # unclamped: -t / p
    with pytest.raises(ValueError, match=r"targets must lie in \[0, 1\]"):
        losses.binary_cross_entropy(mg.Value(PROB), [2.0, 0.0, 1.0])


def test_binary_cross_entropy_with_logits_by_hand_and_stable():
    x = np.array([2.0, -1.0, 0.0])
    sig = 1 / (1 + np.exp(-x))
    expected = -np.mean(Y01 * np.log(sig) + (1 - Y01) * np.log(1 - sig))
    loss, grad = value_and_grad(losses.binary_cross_entropy_with_logits, x, Y01)
    assert loss == pytest.approx(expected, abs=1e-15)
    np.testing.assert_allclose(grad, (sig - Y01) / 3, rtol=1e-12)
    assert mg.gradcheck(lambda z: losses.binary_cross_entropy_with_logits(z, Y01), x)
    big = mg.Value([1000.0, -1000.0, 1000.0])
    out = losses.binary_cross_entropy_with_logits(big, [1.0, 0.0, 0.0], reduction="none")
    np.testing.assert_allclose(out.data, [0.0, 0.0, 1000.0], atol=1e-12)
    out.sum().backward()
    np.testing.assert_allclose(big.grad, [0.0, 0.0, 1.0])


def test_hinge_by_hand_with_micrograd_style_list_of_values():
    scores = [mg.Value(2.0), mg.Value(0.5), mg.Value(-0.3)]
    y = [1.0, -1.0, -1.0]
    loss = losses.hinge_loss(scores, y)  # max(0, 1 - y s): 0, 1.5, 0.7
    assert float(loss.data) == pytest.approx((0.0 + 1.5 + 0.7) / 3)
    loss.backward()
    assert [s.grad for s in scores] == pytest.approx([0.0, 1 / 3, 1 / 3])
    assert type(scores[0].grad) is float
    with pytest.raises(ValueError, match="labels must be -1 or \\+1.*2 \\* y - 1"):
        losses.hinge_loss(mg.Value([1.0, 2.0]), [0.0, 1.0])


# ----- multi-class ------------------------------------------------------------------------------
LOGITS = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
LABELS = np.array([1, 0])


def log_softmax(x):
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


def softmax(x):
    return np.exp(log_softmax(x))


def test_cross_entropy_with_labels_by_hand():
    expected = -(log_softmax(LOGITS)[0, 1] + log_softmax(LOGITS)[1, 0]) / 2
    loss, grad = value_and_grad(losses.cross_entropy, LOGITS, LABELS)
    assert loss == pytest.approx(expected, abs=1e-15)
    onehot = np.eye(3)[LABELS]
    np.testing.assert_allclose(grad, (softmax(LOGITS) - onehot) / 2, rtol=1e-12)
    assert mg.gradcheck(lambda x: losses.cross_entropy(x, LABELS), LOGITS)
    assert float(losses.cross_entropy(mg.Value([[0.0, 0.0]]), [1]).data) == pytest.approx(
        math.log(2), abs=1e-15
    )


def test_cross_entropy_one_hot_equals_labels_and_soft_targets_by_hand():
    onehot = np.eye(3)[LABELS]
    a = losses.cross_entropy(mg.Value(LOGITS), LABELS, reduction="none").data
    b = losses.cross_entropy(mg.Value(LOGITS), onehot, reduction="none").data
    np.testing.assert_allclose(a, b, rtol=1e-14)
    soft = np.array([[0.2, 0.5, 0.3], [0.1, 0.1, 0.8]])
    expected = -(soft * log_softmax(LOGITS)).sum(axis=1).sum()
    loss, grad = value_and_grad(losses.cross_entropy, LOGITS, soft, reduction="sum")
    assert loss == pytest.approx(expected, abs=1e-14)
    np.testing.assert_allclose(grad, softmax(LOGITS) - soft, rtol=1e-12)
    assert mg.gradcheck(lambda x: losses.cross_entropy(x, soft), LOGITS)


def test_cross_entropy_single_sample_and_float_labels():
    loss = losses.cross_entropy(mg.Value(LOGITS[0]), 1)
    assert float(loss.data) == pytest.approx(-log_softmax(LOGITS[0])[1])
    loss = losses.cross_entropy(mg.Value(LOGITS), np.array([1.0, 0.0]))
    assert float(loss.data) == pytest.approx(
        float(losses.cross_entropy(mg.Value(LOGITS), LABELS).data)
    )


def test_cross_entropy_is_stable_for_huge_logits():
    x = mg.Value([[1000.0, -1000.0, 0.0], [-1000.0, 1000.0, 999.0]])
    loss = losses.cross_entropy(x, [0, 2], reduction="none")
    np.testing.assert_allclose(loss.data, [0.0, 1.0 + math.log1p(math.exp(-1.0))], atol=1e-12)
    loss.sum().backward()
    assert np.all(np.isfinite(x.grad))


def test_cross_entropy_errors_name_the_problem():
    with pytest.raises(ValueError, match=r"labels must lie in \[0, 3\)"):
        losses.cross_entropy(mg.Value(LOGITS), [0, 3])
    with pytest.raises(ValueError, match=r"prediction shape \(2, 3\) and target shape \(3,\)"):
        losses.cross_entropy(mg.Value(LOGITS), [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match=r"logits must have shape \(n, C\) or \(C,\)"):
        losses.cross_entropy(mg.Value(np.zeros((2, 2, 2))), np.zeros((2, 2), int))


def test_fused_op_matches_composite_and_second_order():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 5))
    labels = rng.integers(0, 5, size=4)
    fused = softmax_cross_entropy(mg.Value(x), labels).data
    np.testing.assert_allclose(fused, -log_softmax(x)[np.arange(4), labels], rtol=1e-14)
    hess = mg.hessian(lambda z: softmax_cross_entropy(z, labels).sum())(x)
    s = softmax(x[0])
    np.testing.assert_allclose(hess[0, :, 0, :], np.diag(s) - np.outer(s, s), atol=1e-12)


def test_nll_loss_by_hand_and_equals_cross_entropy():
    logp = log_softmax(LOGITS)
    loss, grad = value_and_grad(losses.nll_loss, logp, LABELS)
    assert loss == pytest.approx(-(logp[0, 1] + logp[1, 0]) / 2)
    expected = np.zeros_like(logp)
    expected[0, 1] = expected[1, 0] = -0.5
    np.testing.assert_allclose(grad, expected)
    x = mg.Value(LOGITS)
    assert float(losses.nll_loss(x.log_softmax(), LABELS).data) == pytest.approx(
        float(losses.cross_entropy(x, LABELS).data), abs=1e-15
    )
    with pytest.raises(ValueError, match="need integer labels of shape"):
        losses.nll_loss(mg.Value(logp), np.zeros(3, int))


# ----- shapes, reductions, dtypes -----------------------------------------------------------------
def test_shape_mismatch_names_both_shapes():
    with pytest.raises(ValueError, match=r"prediction shape \(4, 1\) and target shape \(4,\)"):
        losses.mse_loss(mg.Value(np.zeros((4, 1))), np.zeros(4))


def test_unknown_reduction():
    with pytest.raises(ValueError, match="reduction must be 'mean', 'sum' or 'none'"):
        losses.l1_loss(mg.Value(P), T, reduction="average")


def test_float32_stays_float32():
    x = mg.Value(LOGITS.astype(np.float32))
    for loss in [
        losses.cross_entropy(x, LABELS),
        losses.mse_loss(x, np.zeros((2, 3))),
        losses.cross_entropy(x, np.eye(3)[LABELS]),
    ]:
        assert loss.dtype == np.float32
    loss = losses.cross_entropy(x, LABELS)
    loss.backward()
    assert x.grad.dtype == np.float32


# ----- penalties ----------------------------------------------------------------------------------
def test_l2_and_l1_penalties_by_hand_on_scalars_and_arrays():
    a, b = mg.Value(3.0), mg.Value(-2.0)
    w = mg.Value(np.array([[1.0, -0.5]]))
    l2 = losses.l2_penalty([a, b, w])
    assert float(l2.data) == pytest.approx(9 + 4 + 1 + 0.25)
    l2.backward()
    assert (a.grad, b.grad) == (6.0, -4.0)
    np.testing.assert_allclose(w.grad, 2 * w.data)
    a.grad = b.grad = w.grad = None
    l1 = losses.l1_penalty([a, b, w])
    assert float(l1.data) == pytest.approx(3 + 2 + 1 + 0.5)
    l1.backward()
    assert (a.grad, b.grad) == (1.0, -1.0)
    np.testing.assert_allclose(w.grad, [[1.0, -1.0]])


def test_penalty_of_a_module_counts_every_parameter():
    model = mg.nn.MLP(2, [3, 1])
    expected = sum(p.data**2 for p in model.parameters())
    assert float(losses.l2_penalty(model).data) == pytest.approx(expected)
    with pytest.raises(ValueError, match="no parameters given"):
        losses.l2_penalty([])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_classification_losses_and_penalties_gradcheck(reduction):
    scores = np.array([0.4, -1.3, 2.2])
    signs = np.array([1.0, 1.0, -1.0])
    checks = [
        (lambda x: losses.hinge_loss(x, signs, reduction=reduction), scores),
        (lambda x: losses.nll_loss(x, LABELS, reduction=reduction), log_softmax(LOGITS)),
        (lambda x: losses.cross_entropy(x, LABELS, reduction=reduction), LOGITS),
        (lambda x: losses.binary_cross_entropy(x, Y01, reduction=reduction), PROB),
        (lambda x: losses.binary_cross_entropy_with_logits(x, Y01, reduction=reduction), scores),
        (lambda x: losses.l1_penalty([x]), scores),
        (lambda x: losses.l2_penalty([x]), scores),
    ]
    for fn, x in checks:
        assert mg.gradcheck(fn, x)
