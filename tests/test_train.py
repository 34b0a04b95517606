"""minigrad.train: fit's loop, each stopping rule triggered on purpose, History, metrics."""

import sys
import types

import numpy as np
import pytest

import minigrad as mg
from minigrad import losses, nn, optim, train


def line_data(n=40, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 1))
    return X, 3 * X - 1


def linear_model(seed=0):
    mg.manual_seed(seed)
    return nn.Linear(1, 1)


def fit_line(**kwargs):
    X, y = line_data()
    model = linear_model()
    opts = dict(epochs=50, batch_size=None, metrics=None, verbose=False)
    opts.update(kwargs)
    lr = opts.pop("lr", 0.3)
    history = train.fit(model, losses.mse_loss, optim.SGD(model.parameters(), lr=lr), X, y, **opts)
    return model, history


def test_runs_all_epochs_and_records_history():
    model, h = fit_line(epochs=20, min_delta=None)
    assert h.stop_reason == "epochs" and h.epochs == 20 and h.steps == 20
    assert len(h.train_loss) == 20 and h.val_loss == [] and h.epoch == list(range(1, 21))
    assert h.train_loss[-1] < h.train_loss[0] / 10
    assert h.best_epoch == int(np.argmin(h.train_loss)) + 1
    assert h.lr == [0.3] * 20


def test_full_batch_loss_is_the_loss_before_each_step():
    X, y = line_data()
    model = linear_model()
    W, b = model.weight.data.copy(), model.bias.data.copy()
    h = train.fit(
        model,
        losses.mse_loss,
        optim.SGD(model.parameters(), lr=0.1),
        X,
        y,
        epochs=1,
        batch_size=None,
        metrics=None,
        verbose=False,
    )
    assert h.train_loss[0] == pytest.approx(np.mean((X @ W.T + b - y) ** 2), rel=1e-14)


def test_minibatches_count_steps():
    _, h = fit_line(epochs=3, batch_size=16)  # 40 samples: 16 + 16 + 8
    assert h.steps == 9


def test_stops_at_target_loss():
    _, h = fit_line(epochs=500, target_loss=1e-4)
    assert h.stop_reason == "target_loss"
    assert h.train_loss[-1] <= 1e-4 < min(h.train_loss[:-1])


def test_stops_when_loss_no_longer_falls_by_min_delta():
    _, h = fit_line(epochs=1000, min_delta=1e-3, patience=2)
    assert h.stop_reason == "min_delta" and h.epochs < 1000
    best_before = min(h.train_loss[:-2])
    assert all(best_before - v <= 1e-3 for v in h.train_loss[-2:])


def test_stops_at_max_steps_even_inside_an_epoch():
    _, h = fit_line(epochs=10, batch_size=8, max_steps=12)  # 5 steps per epoch
    assert h.stop_reason == "max_steps" and h.steps == 12 and h.epochs == 3


def test_stops_on_non_finite_loss():
    with np.errstate(over="ignore", invalid="ignore"):
        _, h = fit_line(epochs=100, lr=1e6)
    assert h.stop_reason == "non_finite_loss"
    assert not np.isfinite(h.train_loss[-1])


def test_stops_when_validation_loss_rises_and_restores_best_weights():
    # Validation targets that disagree with training: the better the fit, the worse validation.
    X, y = line_data()
    Xv = X[:10]
    yv = -3 * Xv - 1
    model = linear_model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    h = train.fit(
        model,
        losses.mse_loss,
        opt,
        X,
        y,
        epochs=200,
        batch_size=None,
        validation=(Xv, yv),
        patience=3,
        metrics=None,
        verbose=False,
    )
    assert h.stop_reason == "val_loss_rising" and h.restored_best
    best = h.best_epoch
    assert h.val_loss[best - 1] == min(h.val_loss)
    assert h.epochs == best + 3
    assert all(v >= h.val_loss[best - 1] for v in h.val_loss[best:])
    restored = train.evaluate(model, losses.mse_loss, Xv, yv, metrics=None)["loss"]
    assert restored == pytest.approx(h.val_loss[best - 1], rel=1e-12)


def test_validation_split_and_accuracy_metrics():
    mg.manual_seed(0)
    X, y = mg.data.make_moons(200, noise=0.1, seed=0)
    model = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2))
    h = train.fit(
        model,
        losses.cross_entropy,
        optim.Adam(model.parameters(), lr=0.02),
        X,
        y,
        epochs=40,
        batch_size=20,
        validation_split=0.25,
        rng=0,
        patience=None,
        verbose=False,
    )
    assert set(h.metrics) == {"train_accuracy", "val_accuracy"}
    assert len(h.val_accuracy) == len(h.train_accuracy) == len(h.val_loss) == 40
    assert h.val_accuracy[-1] >= 0.85 and h.train_accuracy[-1] >= 0.85
    with pytest.raises(AttributeError, match="metrics recorded"):
        h.test_accuracy  # noqa: B018


def test_same_seed_same_run():
    a = fit_line(epochs=5, batch_size=8, rng=3)[1].train_loss
    b = fit_line(epochs=5, batch_size=8, rng=3)[1].train_loss
    assert a == b


def test_custom_metric_and_scalar_mlp_model():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    y = np.array([[1.0], [1.0], [2.0], [0.0]])
    mg.manual_seed(0)
    model = nn.MLP(2, [1], output_activation="identity")
    h = train.fit(
        model,
        losses.mse_loss,
        optim.SGD(model, lr=0.2),
        X,
        y,
        epochs=200,
        batch_size=None,
        metrics={"max_error": lambda p, t: np.abs(p.data - t).max()},
        target_loss=1e-8,
        verbose=False,
    )
    assert h.stop_reason == "target_loss"
    assert h.train_max_error[-1] < 1e-3


def test_accuracy_rules():
    assert train.accuracy(np.array([[0.1, 0.9], [0.8, 0.2]]), np.array([1, 1])) == 0.5
    assert train.accuracy(np.array([[0.1, 0.9]]), np.array([[0.0, 1.0]])) == 1.0
    assert train.accuracy(np.array([0.7, 0.2, 0.6]), np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert train.accuracy(np.array([[0.3], [-2.0]]), np.array([1.0, -1.0])) == 1.0
    assert train.accuracy(np.array([0.2, 0.5, 0.3]), np.array(1)) == 1.0  # one sample
    assert train.accuracy(np.array([0.3, -0.1]), np.array([1, 0]), threshold=0.0) == 1.0
    with pytest.raises(ValueError, match="need labels of shape"):
        train.accuracy(np.zeros((3, 2)), np.zeros(2))


def test_verbose_prints_plain_lines_to_a_log_and_quiet_prints_nothing(capsys):
    fit_line(epochs=3, verbose=True)  # captured output is no terminal: no carriage returns
    out = capsys.readouterr().out  # (every display mode: tests/test_progress.py)
    assert "\r" not in out and "epoch 3/3  loss" in out and "stopped: epochs" in out
    fit_line(epochs=3, verbose=False)
    assert capsys.readouterr().out == ""


def test_bad_arguments_name_the_problem():
    with pytest.raises(ValueError, match="not both"):
        fit_line(validation=(np.zeros((2, 1)), np.zeros((2, 1))), validation_split=0.2)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        fit_line(batch_size=0)
    with pytest.raises(ValueError, match="X has 3 samples but y has 2"):
        train.fit(
            linear_model(),
            losses.mse_loss,
            optim.SGD([mg.Value(1.0)], lr=0.1),
            np.zeros((3, 1)),
            np.zeros((2, 1)),
            verbose=False,
        )
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        fit_line(metrics=("f1",))


def test_history_plot_delegates_to_the_plot_module(monkeypatch):
    calls = []
    fake = types.ModuleType("minigrad.plot")
    fake.plot_history = lambda history, path=None, **kw: calls.append((history, path, kw)) or 7
    monkeypatch.setitem(sys.modules, "minigrad.plot", fake)
    _, h = fit_line(epochs=2)
    assert h.plot("loss.png", title="t") == 7
    assert calls == [(h, "loss.png", {"title": "t"})]
    assert "2 epochs" in repr(h) and "stopped: epochs" in h.summary()


def test_fit_fills_only_the_parameters_grads(monkeypatch):
    # fit backpropagates with inputs= the trained parameters: the intermediates keep no .grad
    # (less memory per step), and a frozen parameter is left out.
    mg.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    model[0].bias.requires_grad_(False)
    seen = []
    original = mg.Value.backward

    def spy(self, gradient=None, create_graph=False, inputs=None):
        seen.append(inputs)
        return original(self, gradient, create_graph, inputs)

    monkeypatch.setattr(mg.Value, "backward", spy)
    X = np.random.default_rng(0).standard_normal((8, 3))
    train.fit(model, losses.mse_loss, optim.SGD(model.parameters(), lr=0.1), X, X[:, :1], epochs=1)
    trained = [p for p in model.parameters() if p.requires_grad]
    assert seen and all(list(map(id, inputs)) == list(map(id, trained)) for inputs in seen)
    assert model[0].bias.grad is None and model[0].weight.grad is not None
