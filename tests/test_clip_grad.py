"""nn.utils.clip_grad_norm_ and clip_grad_value_: the formulas written out, PyTorch's results
(when installed), in place and dtype-keeping, errors."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

GRADS = [np.array([[3.0, -4.0], [1.0, 0.5]]), np.array([-2.0, 6.0, 0.25]), np.array(1.5)]


def params_with(grads, dtype=np.float64):
    params = []
    for g in grads:
        p = mg.Value(np.zeros_like(g, dtype=dtype))
        p.grad = g.astype(dtype)
        params.append(p)
    return params


@pytest.mark.parametrize("norm_type", [1.0, 2.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.5, 100.0])
def test_clip_grad_norm_formula(norm_type, max_norm):
    params = params_with(GRADS)
    flat = np.concatenate([g.ravel() for g in GRADS])
    if norm_type == math.inf:
        total = np.abs(flat).max()
    else:
        total = np.sum(np.abs(flat) ** norm_type) ** (1 / norm_type)
    arrays = [p.grad for p in params]
    got = nn.utils.clip_grad_norm_(params, max_norm, norm_type=norm_type)
    assert type(got) is float and got == pytest.approx(total, rel=1e-13)
    factor = min(1.0, max_norm / (total + 1e-6))
    for p, g, a in zip(params, GRADS, arrays):
        assert p.grad is a  # in place
        np.testing.assert_allclose(p.grad, g * factor, rtol=1e-13)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_clip_grad_norm_matches_torch(norm_type):
    torch = pytest.importorskip("torch", reason="PyTorch is needed to compare clipping")
    tparams = []
    for g in GRADS:
        t = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.float64))
        t.grad = torch.from_numpy(g.copy())
        tparams.append(t)
    expected = torch.nn.utils.clip_grad_norm_(tparams, 1.0, norm_type=norm_type)
    params = params_with(GRADS)
    got = nn.utils.clip_grad_norm_(params, 1.0, norm_type=norm_type)
    assert got == pytest.approx(float(expected), rel=1e-12)
    for p, t in zip(params, tparams):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)


def test_clip_grad_value_matches_torch_and_the_formula():
    params = params_with(GRADS)
    nn.utils.clip_grad_value_(params, 1.0)
    for p, g in zip(params, GRADS):
        np.testing.assert_array_equal(p.grad, np.clip(g, -1.0, 1.0))
    torch = pytest.importorskip("torch", reason="PyTorch is needed to compare clipping")
    t = torch.nn.Parameter(torch.zeros(2, 2, dtype=torch.float64))
    t.grad = torch.from_numpy(GRADS[0].copy())
    torch.nn.utils.clip_grad_value_([t], 1.0)
    np.testing.assert_array_equal(params[0].grad, t.grad.numpy())


def test_clip_keeps_float32_skips_missing_grads_and_takes_scalars():
    params = params_with(GRADS, np.float32)
    untouched = mg.Value(np.ones(3, dtype=np.float32))  # .grad None: skipped
    scalar = mg.Value(2.0)
    scalar.grad = 8.0
    total = nn.utils.clip_grad_norm_([*params, untouched, scalar], 1.0)
    flat = np.concatenate([g.ravel() for g in GRADS] + [np.array([8.0])])
    assert total == pytest.approx(np.linalg.norm(flat), rel=1e-6)
    assert all(p.grad.dtype == np.float32 for p in params) and untouched.grad is None
    assert type(scalar.grad) is float and scalar.grad == pytest.approx(8.0 / total, rel=1e-5)
    nn.utils.clip_grad_value_(scalar, 0.1)
    assert scalar.grad == 0.1
    assert nn.utils.clip_grad_norm_([untouched], 1.0) == 0.0


def test_clip_after_a_real_backward_and_a_value_grad():
    w = mg.Value(np.array([1.0, 2.0, 2.0]))
    (w * w * 10.0).sum().backward()  # grad 20 w, norm 60
    assert nn.utils.clip_grad_norm_(w, 6.0) == pytest.approx(60.0)
    np.testing.assert_allclose(w.grad, [2.0, 4.0, 4.0], rtol=1e-6)
    v = mg.Value(np.array([1.0, -3.0]))
    (v * v).sum().backward(create_graph=True)  # .grad is a Value
    nn.utils.clip_grad_norm_([v], 1.0)
    np.testing.assert_allclose(v.grad.data, np.array([2.0, -6.0]) / (np.sqrt(40) + 1e-6))
    nn.utils.clip_grad_value_([v], 0.2)
    np.testing.assert_allclose(v.grad.data, [0.2, -0.2])
    assert isinstance(v.grad, mg.Value)


def test_clip_errors():
    w = params_with(GRADS[:1])
    with pytest.raises(TypeError, match="parameters must be a Value or an iterable"):
        nn.utils.clip_grad_norm_(3.0, 1.0)
    with pytest.raises(TypeError, match=r"parameters\[1\] is a ndarray, not a Value"):
        nn.utils.clip_grad_norm_([w[0], np.ones(2)], 1.0)
    with pytest.raises(ValueError, match="max_norm must be >= 0"):
        nn.utils.clip_grad_norm_(w, -1.0)
    with pytest.raises(ValueError, match="norm_type must be > 0"):
        nn.utils.clip_grad_norm_(w, 1.0, norm_type=0)
    with pytest.raises(ValueError, match="clip_value must be >= 0"):
        nn.utils.clip_grad_value_(w, -0.5)
    w[0].grad[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="not finite"):
        nn.utils.clip_grad_norm_(w, 1.0, error_if_nonfinite=True)


def test_fit_clips_before_every_step_as_a_hand_written_loop():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(16, 3)), rng.normal(size=(16, 2)) * 50.0  # large gradients
    models = [nn.Linear(3, 2, rng=0), nn.Linear(3, 2, rng=0)]
    opts = [mg.optim.SGD(m.parameters(), lr=0.1) for m in models]
    mg.train.fit(
        models[0], mg.losses.mse_loss, opts[0], X, y, epochs=3, batch_size=8, shuffle=False,
        metrics=None, clip_grad_norm=0.5, verbose=False,
    )  # fmt: skip
    for _ in range(3):
        for start in (0, 8):
            loss = mg.losses.mse_loss(models[1](X[start : start + 8]), y[start : start + 8])
            opts[1].zero_grad()
            loss.backward()
            assert nn.utils.clip_grad_norm_(models[1].parameters(), 0.5) > 0.5  # it clips
            opts[1].step()
    for a, b in zip(models[0].parameters(), models[1].parameters()):
        np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(ValueError, match="fit: clip_grad_norm must be > 0"):
        mg.train.fit(models[0], mg.losses.mse_loss, opts[0], X, y, clip_grad_norm=0.0)
