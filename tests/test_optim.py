"""minigrad.optim: each optimizer against its update formula written out, step by step."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim

W0 = np.array([[0.5, -1.0, 2.0], [0.0, 1.5, -0.25]])
GRADS = [
    np.array([[0.1, -0.2, 0.3], [0.4, 0.0, -0.6]]),
    np.array([[-0.5, 0.25, 0.1], [0.2, -0.3, 0.05]]),
    np.array([[0.3, 0.3, -0.1], [-0.4, 0.1, 0.2]]),
    np.array([[0.05, -0.6, 0.0], [0.1, 0.2, -0.3]]),
]


def run(make, grads=GRADS, w0=W0, dtype=np.float64):
    """Apply the optimizer to one array parameter with the given gradients; data per step."""
    p = mg.Value(w0.astype(dtype))
    opt = make([p])
    out = []
    for g in grads:
        p.grad = g.astype(dtype)
        opt.step()
        out.append(p.data.copy())
    return out


def assert_steps(got, expected, rtol=1e-13):
    assert len(got) == len(expected)
    for k, (a, b) in enumerate(zip(got, expected)):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=1e-15, err_msg=f"step {k + 1}")


# ----- SGD ---------------------------------------------------------------------------------------
def test_sgd_plain_rule():
    w, expected = W0.copy(), []
    for g in GRADS:
        w = w - 0.1 * g
        expected.append(w)
    assert_steps(run(lambda p: optim.SGD(p, lr=0.1)), expected)


def test_sgd_momentum_dampening_weight_decay():
    lr, mu, damp, wd = 0.1, 0.9, 0.2, 0.01
    w, buf, expected = W0.copy(), None, []
    for g in GRADS:
        g = g + wd * w
        buf = g.copy() if buf is None else mu * buf + (1 - damp) * g
        w = w - lr * buf
        expected.append(w)
    got = run(lambda p: optim.SGD(p, lr=lr, momentum=mu, dampening=damp, weight_decay=wd))
    assert_steps(got, expected)


def test_sgd_nesterov():
    lr, mu = 0.05, 0.8
    w, buf, expected = W0.copy(), None, []
    for g in GRADS:
        buf = g.copy() if buf is None else mu * buf + g
        w = w - lr * (g + mu * buf)
        expected.append(w)
    assert_steps(run(lambda p: optim.SGD(p, lr=lr, momentum=mu, nesterov=True)), expected)


# ----- Adam, AdamW -------------------------------------------------------------------------------
def adam_reference(lr, b1, b2, eps, wd=0.0, decoupled=False, amsgrad=False):
    w = W0.copy()
    m, v, vmax = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    expected = []
    for t, g in enumerate(GRADS, start=1):
        if decoupled:
            w = w * (1 - lr * wd)
        else:
            g = g + wd * w
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        vmax = np.maximum(vmax, v)
        vv = vmax if amsgrad else v
        denom = np.sqrt(vv) / math.sqrt(1 - b2**t) + eps
        w = w - lr / (1 - b1**t) * (m / denom)
        expected.append(w)
    return expected


def test_adam_formula():
    got = run(lambda p: optim.Adam(p, lr=0.01, betas=(0.8, 0.95), eps=1e-6))
    assert_steps(got, adam_reference(0.01, 0.8, 0.95, 1e-6))


def test_adam_weight_decay_and_amsgrad():
    got = run(lambda p: optim.Adam(p, lr=0.02, weight_decay=0.1, amsgrad=True))
    assert_steps(got, adam_reference(0.02, 0.9, 0.999, 1e-8, wd=0.1, amsgrad=True))


def test_adamw_decoupled_weight_decay():
    got = run(lambda p: optim.AdamW(p, lr=0.01))
    assert_steps(got, adam_reference(0.01, 0.9, 0.999, 1e-8, wd=0.01, decoupled=True))
    assert optim.AdamW([mg.Value(1.0)]).param_groups[0]["weight_decay"] == 0.01


def test_adam_first_step_moves_each_weight_by_lr():
    # with bias correction, step 1 is lr * g / (|g| + eps'): about lr in the sign of g
    got = run(lambda p: optim.Adam(p, lr=0.001), grads=GRADS[:1])[0]
    g = GRADS[0]
    np.testing.assert_allclose(got - W0, np.where(g != 0, -0.001 * np.sign(g), 0.0), atol=1e-7)


# ----- RMSprop -----------------------------------------------------------------------------------
def rmsprop_reference(lr, alpha, eps, wd=0.0, momentum=0.0, centered=False):
    w = W0.copy()
    s, a, buf = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w)
    expected = []
    for g in GRADS:
        g = g + wd * w
        s = alpha * s + (1 - alpha) * g * g
        if centered:
            a = alpha * a + (1 - alpha) * g
            denom = np.sqrt(s - a * a) + eps
        else:
            denom = np.sqrt(s) + eps
        if momentum > 0:
            buf = momentum * buf + g / denom
            w = w - lr * buf
        else:
            w = w - lr * g / denom
        expected.append(w)
    return expected


def test_rmsprop_formula():
    got = run(lambda p: optim.RMSprop(p, lr=0.01))
    assert_steps(got, rmsprop_reference(0.01, 0.99, 1e-8))


def test_rmsprop_centered_momentum_weight_decay():
    got = run(
        lambda p: optim.RMSprop(
            p, lr=0.01, alpha=0.9, momentum=0.5, centered=True, weight_decay=0.1
        )
    )
    assert_steps(got, rmsprop_reference(0.01, 0.9, 1e-8, wd=0.1, momentum=0.5, centered=True))


# ----- scalars, dtypes, bookkeeping ---------------------------------------------------------------
MAKERS = {
    "sgd": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
    "nesterov": lambda p: optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "adam": lambda p: optim.Adam(p, lr=0.01, amsgrad=True),
    "adamw": lambda p: optim.AdamW(p, lr=0.01),
    "rmsprop": lambda p: optim.RMSprop(p, lr=0.01, momentum=0.5, centered=True),
}


@pytest.mark.parametrize("name", list(MAKERS))
def test_scalar_parameters_follow_the_same_formula(name):
    array_steps = run(MAKERS[name])
    params = [mg.Value(float(x)) for x in W0.ravel()]
    opt = MAKERS[name](params)
    for k, g in enumerate(GRADS):
        for p, gi in zip(params, g.ravel()):
            p.grad = float(gi)
        opt.step()
        assert all(type(p.data) is float for p in params)
        np.testing.assert_allclose(
            [p.data for p in params], array_steps[k].ravel(), rtol=1e-13, atol=1e-15
        )


@pytest.mark.parametrize("name", list(MAKERS))
def test_float32_parameters_and_state_stay_float32(name):
    p = mg.Value(W0.astype(np.float32))
    opt = MAKERS[name]([p])
    for g in GRADS:
        p.grad = g.astype(np.float32)
        opt.step()
    assert p.data.dtype == np.float32
    for value in opt.state[p].values():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32
    np.testing.assert_allclose(p.data, run(MAKERS[name])[-1], rtol=1e-5, atol=1e-6)


def test_step_skips_parameters_without_gradient_and_never_changes_grads():
    a, b = mg.Value(np.ones(2)), mg.Value(np.ones(2))
    opt = optim.SGD([a, b], lr=0.5, momentum=0.9, weight_decay=0.1)
    grad = np.array([1.0, 2.0])
    a.grad = grad
    opt.step()
    opt.step()
    np.testing.assert_array_equal(b.data, [1.0, 1.0])
    np.testing.assert_array_equal(grad, [1.0, 2.0])
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_param_groups_and_lr_property():
    a, b = mg.Value(1.0), mg.Value(1.0)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.5}], lr=0.1)
    a.grad = b.grad = 1.0
    opt.step()
    assert (a.data, b.data) == (0.9, 0.5)
    assert opt.lr == 0.1
    opt.lr = 0.2
    assert [g["lr"] for g in opt.param_groups] == [0.2, 0.2]


def test_optimizer_accepts_a_module_and_rejects_bad_input():
    model = mg.nn.Linear(2, 2)
    assert optim.Adam(model).parameters() == model.parameters()
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="got a single Value; wrap it in a list"):
        optim.SGD(mg.Value(1.0), lr=0.1)
    with pytest.raises(ValueError, match="a parameter appears twice"):
        p = mg.Value(1.0)
        optim.SGD([p, p], lr=0.1)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        optim.SGD([mg.Value(1.0)], lr=-1)
    with pytest.raises(ValueError, match="nesterov needs momentum > 0"):
        optim.SGD([mg.Value(1.0)], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match=r"betas must lie in \[0, 1\)"):
        optim.Adam([mg.Value(1.0)], betas=(0.9, 1.0))


# ----- saving and resuming ------------------------------------------------------------------------
def plain_types_only(obj):
    if isinstance(obj, dict):
        return all(isinstance(k, (str, int)) and plain_types_only(v) for k, v in obj.items())
    if isinstance(obj, list):
        return all(plain_types_only(v) for v in obj)
    return isinstance(obj, (np.ndarray, int, float, str, bool))


@pytest.mark.parametrize("name", list(MAKERS))
@pytest.mark.parametrize("scalar", [False, True])
def test_state_dict_resumes_bit_for_bit_through_npz(name, scalar, tmp_path):
    def params():
        if scalar:
            return [mg.Value(float(x)) for x in W0.ravel()]
        return [mg.Value(W0.astype(np.float32)), mg.Value(np.array([0.5, -0.5]))]

    def set_grads(ps, g):
        if scalar:
            for p, gi in zip(ps, g.ravel()):
                p.grad = float(gi)
        else:
            ps[0].grad = g.astype(np.float32)
            ps[1].grad = g[0, :2].copy()

    ps = params()
    opt = MAKERS[name](ps)
    for g in GRADS[:2]:
        set_grads(ps, g)
        opt.step()
    state = opt.state_dict()
    assert plain_types_only(state)
    mg.save({"opt": state, "params": [np.asarray(p.data) for p in ps]}, tmp_path / "o.npz")

    for g in GRADS[2:]:  # the uninterrupted run
        set_grads(ps, g)
        opt.step()

    saved = mg.load(tmp_path / "o.npz")
    qs = params()
    for q, data in zip(qs, saved["params"]):
        q.data = float(data) if scalar else data
    resumed = MAKERS[name](qs)
    resumed.load_state_dict(saved["opt"])
    for g in GRADS[2:]:
        set_grads(qs, g)
        resumed.step()
    for p, q in zip(ps, qs):
        assert np.asarray(p.data).dtype == np.asarray(q.data).dtype
        np.testing.assert_array_equal(p.data, q.data)


def test_load_state_dict_checks_before_changing_anything():
    p = mg.Value(np.ones((2, 2)))
    opt = optim.Adam([p], lr=0.1)
    p.grad = np.ones((2, 2))
    opt.step()
    state = opt.state_dict()
    other = optim.Adam([mg.Value(np.ones(3))], lr=0.5)
    with pytest.raises(ValueError, match=r"shape \(2, 2\), parameter has \(3,\).*Nothing was "):
        other.load_state_dict(state)
    assert other.state == {} and other.lr == 0.5
    with pytest.raises(ValueError, match="2 parameter groups saved"):
        opt.load_state_dict({"state": {}, "param_groups": state["param_groups"] * 2})
    with pytest.raises(ValueError, match="expected a dict with keys 'state' and 'param_groups'"):
        opt.load_state_dict({"lr": 1})


# ----- schedules ----------------------------------------------------------------------------------
def lrs(scheduler, opt, epochs):
    out = []
    for _ in range(epochs):
        out.append(opt.lr)
        opt.step()
        scheduler.step()
    return out


def sgd():
    return optim.SGD([mg.Value(1.0)], lr=0.1)


def test_step_lr():
    opt = sgd()
    got = lrs(optim.StepLR(opt, step_size=3, gamma=0.5), opt, 8)
    assert got == pytest.approx([0.1] * 3 + [0.05] * 3 + [0.025] * 2)


def test_exponential_lr():
    opt = sgd()
    got = lrs(optim.ExponentialLR(opt, gamma=0.9), opt, 5)
    assert got == pytest.approx([0.1 * 0.9**k for k in range(5)])


def test_cosine_annealing_lr():
    opt = sgd()
    got = lrs(optim.CosineAnnealingLR(opt, T_max=4, eta_min=0.01), opt, 5)
    expected = [0.01 + 0.09 * (1 + math.cos(math.pi * k / 4)) / 2 for k in range(5)]
    assert got == pytest.approx(expected)
    assert got[-1] == pytest.approx(0.01)


def test_linear_lr_micrograd_decay():
    opt = optim.SGD([mg.Value(1.0)], lr=1.0)
    got = lrs(optim.LinearLR(opt, start_factor=1.0, end_factor=0.1, total_iters=100), opt, 102)
    assert got[:100] == pytest.approx([1.0 - 0.9 * k / 100 for k in range(100)])
    assert got[100:] == pytest.approx([0.1, 0.1])


def test_scheduler_state_dict_resumes():
    opt = sgd()
    sched = optim.StepLR(opt, step_size=2, gamma=0.1)
    for _ in range(3):
        sched.step()
    state = sched.state_dict()
    opt2 = sgd()
    sched2 = optim.StepLR(opt2, step_size=2, gamma=0.1)
    sched2.load_state_dict(state)
    assert sched2.last_epoch == 3 and opt2.lr == pytest.approx(0.01)
    sched.step()
    sched2.step()
    assert opt.lr == opt2.lr == pytest.approx(0.001)
    assert plain_types_only(state)


def test_zero_grad_set_to_none_or_zeros_in_place():
    w = mg.Value(np.ones((2, 3), dtype=np.float32))
    s, unused = mg.Value(2.0), mg.Value(np.ones(2))
    opt = optim.SGD([w, s, unused], lr=0.1)
    (w * s).sum().backward()
    grad_array = w.grad
    opt.zero_grad(set_to_none=False)  # zeros, in the same array, as PyTorch's grad.zero_()
    assert w.grad is grad_array and w.grad.dtype == np.float32
    np.testing.assert_array_equal(w.grad, np.zeros((2, 3)))
    assert s.grad == 0.0 and type(s.grad) is float
    assert unused.grad is None  # no gradient yet: stays None
    opt.zero_grad()  # the default, set_to_none=True
    assert w.grad is None and s.grad is None
