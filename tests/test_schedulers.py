"""The schedules MultiStepLR, LambdaLR, OneCycleLR and ReduceLROnPlateau: their formulas written
out, PyTorch's schedulers step for step (when PyTorch is installed), errors, and resuming."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import optim


def sgd(lr=0.1, groups=1, **kwargs):
    params = [{"params": [mg.Value(np.ones(2))]} for _ in range(groups)]
    for i, group in enumerate(params):
        group["lr"] = lr * (i + 1)
    return optim.SGD(params, lr=lr, **kwargs)


def run(sched, opt, steps, metric=None):
    """The lrs of every group after construction and after each step."""
    got = [[g["lr"] for g in opt.param_groups]]
    for k in range(steps):
        sched.step() if metric is None else sched.step(metric[k])
        got.append([g["lr"] for g in opt.param_groups])
    return got


def torch_run(make, steps, groups=1, lr=0.1, optimizer="SGD", metric=None, **opt_kwargs):
    """The same with PyTorch's optimizer and scheduler; also the momentum/beta1 per step."""
    torch = pytest.importorskip("torch", reason="PyTorch is needed to compare schedules")
    params = [
        {"params": [torch.nn.Parameter(torch.ones(2))], "lr": lr * (i + 1)} for i in range(groups)
    ]
    opt = getattr(torch.optim, optimizer)(params, lr=lr, **opt_kwargs)
    sched = make(torch.optim.lr_scheduler, opt)
    lrs, moms = [[g["lr"] for g in opt.param_groups]], [momenta(opt)]
    for k in range(steps):
        opt.step()
        sched.step() if metric is None else sched.step(metric[k])
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append(momenta(opt))
    return lrs, moms


def momenta(opt):
    return [g["betas"][0] if "betas" in g else g.get("momentum") for g in opt.param_groups]


def ours_run(make, steps, groups=1, lr=0.1, optimizer="SGD", metric=None, **opt_kwargs):
    params = [{"params": [mg.Value(np.ones(2))], "lr": lr * (i + 1)} for i in range(groups)]
    opt = getattr(optim, optimizer)(params, lr=lr, **opt_kwargs)
    sched = make(optim, opt)
    lrs, moms = [[g["lr"] for g in opt.param_groups]], [momenta(opt)]
    for k in range(steps):
        sched.step() if metric is None else sched.step(metric[k])
        lrs.append([g["lr"] for g in opt.param_groups])
        moms.append(momenta(opt))
    return lrs, moms


def assert_same_as_torch(make, steps, **kwargs):
    theirs = torch_run(make, steps, **kwargs)
    ours = ours_run(make, steps, **kwargs)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-12, atol=1e-15, err_msg="lr")
    np.testing.assert_allclose(ours[1], theirs[1], rtol=1e-12, atol=1e-15, err_msg="momentum")


# ----- MultiStepLR -------------------------------------------------------------------------------
def test_multistep_lr_formula():
    opt = sgd(groups=2)
    got = run(optim.MultiStepLR(opt, milestones=[5, 2], gamma=0.5), opt, 7)
    factors = [1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25]
    np.testing.assert_allclose(got, [[0.1 * f, 0.2 * f] for f in factors], rtol=1e-15)


def test_multistep_lr_matches_torch_with_a_repeated_milestone():
    assert_same_as_torch(lambda o, opt: o.MultiStepLR(opt, [2, 4, 4, 7], gamma=0.3), 9, groups=2)


# ----- LambdaLR ----------------------------------------------------------------------------------
def test_lambda_lr_one_function_per_group():
    opt = sgd(groups=2)
    sched = optim.LambdaLR(opt, [lambda e: 0.5**e, lambda e: 1.0 / (e + 1)])
    got = run(sched, opt, 3)
    expected = [[0.1 * 0.5**e, 0.2 / (e + 1)] for e in range(4)]
    np.testing.assert_allclose(got, expected, rtol=1e-15)


def test_lambda_lr_matches_torch():
    assert_same_as_torch(lambda o, opt: o.LambdaLR(opt, lambda e: 0.9**e + 0.01 * e), 6, groups=2)


def test_lambda_lr_state_dict_leaves_the_functions_out_and_resumes(tmp_path):
    opt = sgd()
    sched = optim.LambdaLR(opt, lambda e: 0.5**e)
    sched.step()
    sched.step()
    state = sched.state_dict()
    assert "lr_lambdas" not in state
    mg.save({"s": state}, tmp_path / "s.npz")
    opt2 = sgd()
    sched2 = optim.LambdaLR(opt2, lambda e: 0.5**e)
    sched2.load_state_dict(mg.load(tmp_path / "s.npz")["s"])
    assert opt2.lr == pytest.approx(0.1 * 0.25)
    sched.step()
    sched2.step()
    assert opt2.lr == opt.lr == pytest.approx(0.1 * 0.125)


def test_lambda_lr_errors():
    with pytest.raises(ValueError, match="expected 2 lr_lambdas"):
        optim.LambdaLR(sgd(groups=2), [lambda e: 1.0])
    with pytest.raises(TypeError, match="lr_lambda 0 is a float"):
        optim.LambdaLR(sgd(), [0.5])


# ----- OneCycleLR --------------------------------------------------------------------------------
def one_cycle_reference(step, total, max_lr, pct=0.3, div=25.0, final_div=1e4):
    """PyTorch's two phases with cosine annealing, written out."""
    initial, top = max_lr / div, max_lr
    low = initial / final_div
    rise_end = pct * total - 1

    def cos(a, b, p):
        return b + (a - b) / 2 * (math.cos(math.pi * p) + 1)

    if step <= rise_end:
        p = step / rise_end
        return cos(initial, top, p), cos(0.95, 0.85, p)
    p = (step - rise_end) / (total - 1 - rise_end)
    return cos(top, low, p), cos(0.85, 0.95, p)


def test_one_cycle_lr_formula_and_momentum():
    opt = sgd()
    sched = optim.OneCycleLR(opt, max_lr=1.0, total_steps=20)
    for step in range(20):
        lr, momentum = one_cycle_reference(step, 20, 1.0)
        assert opt.lr == pytest.approx(lr, rel=1e-12)
        assert opt.param_groups[0]["momentum"] == pytest.approx(momentum, rel=1e-12)
        if step < 19:
            sched.step()
    assert opt.lr == pytest.approx(1.0 / 25 / 1e4)  # min_lr at the last step
    assert max(one_cycle_reference(s, 20, 1.0)[0] for s in range(20)) == pytest.approx(1.0)


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"three_phase": True},
        {"anneal_strategy": "linear"},
        {"anneal_strategy": "linear", "three_phase": True, "pct_start": 0.4},
        {"div_factor": 10.0, "final_div_factor": 100.0, "base_momentum": 0.8},
        {"cycle_momentum": False},
    ],
)
def test_one_cycle_lr_matches_torch_sgd(kwargs):
    assert_same_as_torch(
        lambda o, opt: o.OneCycleLR(opt, max_lr=[0.5, 2.0], total_steps=23, **kwargs),
        23,
        groups=2,
        momentum=0.9,
    )


def test_one_cycle_lr_matches_torch_adam_beta1_and_epochs_times_steps():
    assert_same_as_torch(
        lambda o, opt: o.OneCycleLR(opt, max_lr=0.01, epochs=3, steps_per_epoch=5),
        15,
        optimizer="Adam",
    )


def test_one_cycle_lr_sgd_without_momentum_gets_momentum_as_in_torch():
    opt = sgd()
    optim.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    assert opt.param_groups[0]["momentum"] == 0.95


def test_one_cycle_lr_errors():
    opt = sgd()
    with pytest.raises(ValueError, match="total_steps, or epochs and steps_per_epoch"):
        optim.OneCycleLR(opt, max_lr=1.0)
    with pytest.raises(ValueError, match="positive integer total_steps"):
        optim.OneCycleLR(opt, max_lr=1.0, total_steps=0)
    with pytest.raises(ValueError, match="pct_start must lie in"):
        optim.OneCycleLR(opt, max_lr=1.0, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="anneal_strategy"):
        optim.OneCycleLR(opt, max_lr=1.0, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="expected 1 values of max_lr"):
        optim.OneCycleLR(opt, max_lr=[1.0, 2.0], total_steps=10)

    class Plain(optim.Optimizer):
        def __init__(self, params):
            super().__init__(params, {"lr": 0.1})

    with pytest.raises(ValueError, match="momentum or betas"):
        optim.OneCycleLR(Plain([mg.Value(1.0)]), max_lr=1.0, total_steps=10)
    sched = optim.OneCycleLR(sgd(), max_lr=1.0, total_steps=3)
    for _ in range(3):
        sched.step()  # as in PyTorch, one step past the end is allowed
    with pytest.raises(ValueError, match="stepped 4 times, but total_steps is 3"):
        sched.step()


def test_one_cycle_lr_resumes_from_state_dict(tmp_path):
    opt = sgd(momentum=0.9)
    sched = optim.OneCycleLR(opt, max_lr=1.0, total_steps=12)
    for _ in range(5):
        sched.step()
    mg.save({"o": opt.state_dict(), "s": sched.state_dict()}, tmp_path / "c.npz")
    back = mg.load(tmp_path / "c.npz")
    opt2 = sgd(momentum=0.9)
    opt2.load_state_dict(back["o"])
    sched2 = optim.OneCycleLR(opt2, max_lr=1.0, total_steps=12, last_epoch=4)
    sched2.load_state_dict(back["s"])
    for _ in range(6):
        sched.step()
        sched2.step()
        assert opt2.lr == opt.lr
        assert opt2.param_groups[0]["momentum"] == opt.param_groups[0]["momentum"]


# ----- ReduceLROnPlateau -------------------------------------------------------------------------
def test_plateau_patience_cooldown_and_min_lr():
    opt = sgd(lr=1.0)
    sched = optim.ReduceLROnPlateau(opt, patience=2, cooldown=1, min_lr=0.005, factor=0.1)
    losses = [5.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0, 4.0]
    lrs = [lr[0] for lr in run(sched, opt, len(losses), losses)]
    # bad epochs: 0 0 1 2 3 -> cut (cooldown 1) ...; min_lr stops the cuts at 0.005
    expected = [1.0, 1.0, 1.0, 1.0, 1.0, 0.1, 0.1, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01, 0.005]
    assert lrs == pytest.approx(expected)


def test_plateau_improvement_resets_the_count_and_threshold_is_relative():
    opt = sgd(lr=1.0)
    sched = optim.ReduceLROnPlateau(opt, patience=1, threshold=0.1)
    # 9.5 is not 10% below 10: a bad epoch; 8.0 is: the count restarts
    lrs = [lr[0] for lr in run(sched, opt, 5, [10.0, 9.5, 8.0, 7.5, 7.4])]
    assert lrs == pytest.approx([1.0, 1.0, 1.0, 1.0, 1.0, 0.1])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"patience": 2},
        {"patience": 1, "cooldown": 2, "factor": 0.5},
        {"mode": "max", "patience": 1, "threshold_mode": "abs", "threshold": 0.05},
        {"mode": "max", "patience": 0, "threshold": 0.01},
        {"patience": 0, "threshold_mode": "abs", "threshold": 0.2, "min_lr": [0.05, 0.01]},
        {"patience": 0, "factor": 0.9, "eps": 0.02},
    ],
)
def test_plateau_matches_torch(kwargs):
    rng = np.random.default_rng(4)
    metric = list(np.round(3.0 + np.cumsum(rng.normal(0.0, 0.3, 30)), 3))
    assert_same_as_torch(
        lambda o, opt: o.ReduceLROnPlateau(opt, **kwargs), 30, groups=2, metric=metric
    )


def test_plateau_takes_a_value_and_resumes(tmp_path):
    opt = sgd(lr=1.0)
    sched = optim.ReduceLROnPlateau(opt, patience=1)
    for loss in [3.0, 2.0, 2.5]:
        sched.step(mg.Value(loss))
    mg.save({"s": sched.state_dict()}, tmp_path / "p.npz")
    opt2 = sgd(lr=1.0)
    sched2 = optim.ReduceLROnPlateau(opt2, patience=1)
    sched2.load_state_dict(mg.load(tmp_path / "p.npz")["s"])
    assert sched2.best == 2.0 and sched2.num_bad_epochs == 1 and sched2.last_epoch == 3
    sched.step(2.5)
    sched2.step(2.5)
    assert opt.lr == opt2.lr == pytest.approx(0.1)  # the second bad epoch in a row, in both
    assert sched2.num_bad_epochs == sched.num_bad_epochs == 0


def test_plateau_errors():
    with pytest.raises(ValueError, match="factor must be < 1.0"):
        optim.ReduceLROnPlateau(sgd(), factor=1.0)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        optim.ReduceLROnPlateau(sgd(), mode="lowest")
    with pytest.raises(ValueError, match="threshold_mode"):
        optim.ReduceLROnPlateau(sgd(), threshold_mode="relative")
    with pytest.raises(ValueError, match="expected 1 min_lr values"):
        optim.ReduceLROnPlateau(sgd(), min_lr=[0.1, 0.2])
    with pytest.raises(TypeError, match="expected an Optimizer"):
        optim.ReduceLROnPlateau([mg.Value(1.0)])


@pytest.mark.parametrize("with_validation", [True, False])
def test_fit_feeds_reduce_lr_on_plateau_the_validation_loss(with_validation):
    rng = np.random.default_rng(5)
    X, y = rng.normal(size=(40, 3)), rng.normal(size=(40, 1))  # noise: the loss soon stalls
    model = mg.nn.Linear(3, 1, rng=0)
    opt = optim.SGD(model.parameters(), lr=0.2)
    sched = optim.ReduceLROnPlateau(opt, patience=0, threshold=0.05, factor=0.5)
    validation = (X[:10], y[:10]) if with_validation else None
    history = mg.train.fit(
        model, mg.losses.mse_loss, opt, X[10:], y[10:], epochs=12, batch_size=10,
        validation=validation, patience=None, metrics=None, scheduler=sched, verbose=False,
    )  # fmt: skip
    fed = history.val_loss if with_validation else history.train_loss
    replay = optim.ReduceLROnPlateau(
        optim.SGD([mg.Value(1.0)], lr=0.2), patience=0, threshold=0.05, factor=0.5
    )
    expected = [0.2]
    for loss in fed[:-1]:
        replay.step(loss)
        expected.append(replay.optimizer.lr)
    assert history.lr == pytest.approx(expected, rel=1e-15)
    assert min(history.lr) < 0.2  # the rule did reduce the learning rate
