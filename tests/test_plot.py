"""Training pictures: loss curves with the best epoch, decision boundaries, the missing extra."""

import sys

import numpy as np
import pytest

import minigrad as mg
from minigrad import plot
from minigrad.train import History

pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")


def history():
    return History(
        train_loss=[1.0, 0.5, 0.3, 0.25, 0.24],
        val_loss=[1.1, 0.6, 0.4, 0.45, 0.5],
        metrics={
            "train_accuracy": [0.5, 0.7, 0.8, 0.85, 0.9],
            "val_accuracy": [0.5, 0.6, 0.7, 0.65, 0.6],
        },
        stop_reason="val_loss_rising",
        best_epoch=3,
        epochs=5,
        steps=10,
    )


def line_data(ax):
    return {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}


def test_plot_history_draws_losses_metrics_and_the_best_epoch(tmp_path):
    fig = plot.plot_history(history(), tmp_path / "loss.png")
    loss_ax, metric_ax = fig.axes
    lines = line_data(loss_ax)
    assert lines["training loss"] == [1.0, 0.5, 0.3, 0.25, 0.24]
    assert lines["validation loss"] == [1.1, 0.6, 0.4, 0.45, 0.5]
    assert lines["best epoch 3: 0.4"] == [0.4]  # marked on the validation curve
    vertical = [
        list(line.get_xdata())
        for line in loss_ax.get_lines()
        if len(set(line.get_xdata())) == 1 and len(line.get_xdata()) == 2
    ]
    assert vertical == [[3, 3], [5, 5]]  # the best epoch, and where training stopped
    assert "stopped after epoch 5" in lines
    assert loss_ax.get_title() == "Training (stopped: val_loss_rising)"
    assert loss_ax.get_yscale() == "linear"
    assert line_data(metric_ax)["val accuracy"] == [0.5, 0.6, 0.7, 0.65, 0.6]
    assert (tmp_path / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_history_plot_calls_plot_history_and_writes_svg(tmp_path):
    fig = history().plot(tmp_path / "curve.svg", metrics=False, title="mine")
    assert len(fig.axes) == 1 and fig.axes[0].get_title() == "mine"
    assert "<svg" in (tmp_path / "curve.svg").read_text()[:500]


def test_plot_history_training_only_and_log_scale():
    h = History(train_loss=[100.0, 1.0, 0.01], best_epoch=3, epochs=3, stop_reason="max_steps")
    fig = plot.plot_history(h)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"  # losses span four decades
    assert "best epoch 3: 0.01" in line_data(ax)
    with pytest.raises(ValueError, match="no losses"):
        plot.plot_history(History())
    with pytest.raises(ValueError, match="no suffix"):
        plot.plot_history(h, "curve")


def test_decision_boundary_of_an_array_model(tmp_path):
    X = np.array([[0.0, 1.0], [1.0, 0.0], [0.2, 0.9], [0.9, 0.1]])
    y = np.array([0, 1, 0, 1])
    model = mg.nn.Linear(2, 1)
    model.weight.data[:] = [[1.0, -1.0]]  # score x1 - x2: class 1 below the diagonal
    model.bias.data[:] = 0.0
    fig = plot.decision_boundary(model, X, y, tmp_path / "db.png", resolution=30)
    (ax,) = fig.axes
    assert ax.get_title() == "Decision boundary (accuracy on these points 100.0%)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["class 0", "class 1"]
    assert (tmp_path / "db.png").stat().st_size > 1000


def test_decision_boundary_of_a_single_number_mlp_matches_point_by_point():
    mg.manual_seed(3)
    model = mg.nn.MLP(2, [8, 1])
    points = np.random.default_rng(0).uniform(-3, 3, (40, 2))
    at_once = plot._predict(model, points)
    one_by_one = np.array([[model(list(p)).data] for p in points])
    np.testing.assert_allclose(at_once, one_by_one, rtol=1e-12)
    labels = np.where(one_by_one[:, 0] > 0, 1, -1)  # hinge-style labels
    assert 0 < np.sum(labels > 0) < len(labels)
    fig = plot.decision_boundary(model, points, labels, resolution=20)
    assert "100.0%" in fig.axes[0].get_title()
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["label -1", "label +1"]


def test_decision_boundary_multiclass_and_point_by_point_models():
    X = np.array([[-1.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    y = np.array([0, 1, 2])

    def scores(p):  # a plain callable that takes one point only: class = nearest centre
        if isinstance(p, np.ndarray):
            raise TypeError("one point, please")
        return [-((p[0] - cx) ** 2) - (p[1] - cy) ** 2 for cx, cy in X.tolist()]

    fig = plot.decision_boundary(scores, X, y, resolution=15)
    assert "100.0%" in fig.axes[0].get_title()


def test_decision_boundary_errors():
    model = mg.nn.Linear(2, 1)
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        plot.decision_boundary(model, np.zeros((3, 3)), np.zeros(3))
    with pytest.raises(ValueError, match="3 points but 2 labels"):
        plot.decision_boundary(model, np.zeros((3, 2)), np.zeros(2))


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match=r'pip install -e "\.\[plot\]"'):
        history().plot()
    with pytest.raises(ImportError, match=r"minigrad\[plot\]"):
        plot.decision_boundary(mg.nn.Linear(2, 1), np.zeros((2, 2)), np.zeros(2))
