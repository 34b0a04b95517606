"""Training pictures with matplotlib (an optional extra: `pip install -e ".[plot]"`).

- `plot_history(history, path)`: training and validation loss per epoch, the metrics beside it,
  the best epoch and the epoch training stopped at marked, and why it stopped.
  `History.plot(path)` calls it.
- `decision_boundary(model, X, y, path)`: the regions a 2-D classifier assigns to each class,
  with the data on top.

Both return a `matplotlib.figure.Figure` (shown inline by Jupyter) and save it when given a
path; the format follows the suffix (.png, .svg, .pdf). They build figures without pyplot, so
they work on machines without a display and leave pyplot's global state alone.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from minigrad.engine import no_grad

__all__ = ["plot_history", "decision_boundary", "require_matplotlib"]

PLOT_EXTRA_HINT = (
    'matplotlib is needed for plots; it is an optional extra: pip install -e ".[plot]" '
    '(from a clone) or pip install "minigrad[plot]"'
)

_TRAIN_COLOR = "#1f5fbf"
_VAL_COLOR = "#d9730d"
_BEST_COLOR = "#2a9d3a"


def require_matplotlib() -> Any:
    """Import matplotlib's Figure class, or raise ImportError naming the extra to install."""
    try:
        from matplotlib.figure import Figure
    except ImportError as err:
        raise ImportError(PLOT_EXTRA_HINT) from err
    return Figure


def _save(fig: Any, path: str | Path | None) -> None:
    if path is None:
        return
    path = Path(path)
    if not path.suffix:
        raise ValueError(f"{path} has no suffix; use .png, .svg or .pdf")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120, bbox_inches="tight")


def _series(history: Any, name: str) -> list[float]:
    values = getattr(history, name, None)
    return [float(v) for v in values] if values else []


def plot_history(
    history: Any,
    path: str | Path | None = None,
    *,
    metrics: bool = True,
    log_scale: bool | None = None,
    title: str | None = None,
) -> Any:
    """Loss curves of a training run, one point per epoch, with the best epoch marked.

    Args:
        history: a `minigrad.train.History` (or anything with lists `train_loss`, optionally
            `val_loss`, a dict `metrics` of lists, `best_epoch` and `stop_reason`).
        path: where to save the figure (.png, .svg, .pdf); None only returns it.
        metrics: draw the recorded metrics (accuracy...) in a second panel.
        log_scale: a logarithmic loss axis; by default used when the positive losses span more
            than two orders of magnitude.
        title: the figure's title (default: 'Training', with why it stopped).

    Returns:
        the matplotlib Figure.
    """
    Figure = require_matplotlib()
    train = _series(history, "train_loss")
    val = _series(history, "val_loss")
    if not train and not val:
        raise ValueError("plot_history: the history has no losses to plot (no epoch ran?)")
    recorded = {
        k: [float(v) for v in vs]
        for k, vs in (getattr(history, "metrics", None) or {}).items()
        if vs
    }
    panels = 2 if metrics and recorded else 1
    fig = Figure(figsize=(5.2 * panels, 3.6), layout="constrained")
    axes = fig.subplots(1, panels, squeeze=False)[0]
    best = getattr(history, "best_epoch", None)
    reason = getattr(history, "stop_reason", "")
    _draw_losses(axes[0], train, val, log_scale)
    _mark_best_and_stop(axes[0], val if val else train, max(len(train), len(val)), best, reason)
    axes[0].set_title(title or ("Training" + (f" (stopped: {reason})" if reason else "")))
    if panels == 2:
        _draw_metrics(axes[1], recorded, best)
    _save(fig, path)
    return fig


def _draw_losses(ax: Any, train: list[float], val: list[float], log_scale: bool | None) -> None:
    """The training and validation loss curves; a log axis when asked, or by default when the
    positive losses span more than two orders of magnitude."""
    epochs = range(1, max(len(train), len(val)) + 1)
    if train:
        ax.plot(epochs[: len(train)], train, color=_TRAIN_COLOR, lw=1.8, label="training loss")
    if val:
        ax.plot(epochs[: len(val)], val, color=_VAL_COLOR, lw=1.8, label="validation loss")
    losses = [v for v in train + val if v > 0 and np.isfinite(v)]
    if log_scale is None:
        log_scale = bool(losses) and max(losses) / min(losses) > 100
    if log_scale and losses:
        ax.set_yscale("log")


def _mark_best_and_stop(
    ax: Any, best_curve: list[float], n_epochs: int, best: int | None, reason: str
) -> None:
    """A dashed line and a dot at the best epoch (on `best_curve`, the validation loss if there
    is one), a dotted line at the epoch training stopped at; then the axes' labels and legend."""
    if best is not None and 1 <= best <= n_epochs:
        ax.axvline(best, color=_BEST_COLOR, ls="--", lw=1.2)
        if best <= len(best_curve):
            value = best_curve[best - 1]
            label = f"best epoch {best}: {value:.4g}"
            ax.plot([best], [value], "o", color=_BEST_COLOR, label=label)
    if reason and n_epochs > 1:
        ax.axvline(
            n_epochs, color="#808080", ls=":", lw=1.2, label=f"stopped after epoch {n_epochs}"
        )
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)


def _draw_metrics(ax: Any, recorded: dict[str, list[float]], best: int | None) -> None:
    """The metrics panel: accuracies solid, other metrics dotted, validation in its color."""
    for name, values in recorded.items():
        color = _VAL_COLOR if name.startswith("val") else _TRAIN_COLOR
        style = "-" if name.endswith("accuracy") else ":"
        epochs = range(1, len(values) + 1)
        ax.plot(epochs, values, style, color=color, lw=1.8, label=name.replace("_", " "))
    if best is not None:
        ax.axvline(best, color=_BEST_COLOR, ls="--", lw=1.2)
    ax.set_xlabel("epoch")
    ax.set_title("Metrics")
    ax.grid(alpha=0.3)
    ax.legend(frameon=False)


def _predict(model: Any, points: np.ndarray) -> np.ndarray:
    """The model's outputs on an (m, 2) array, as an (m, k) array, without recording a graph.

    A model of single-number neurons (Neuron, Layer, MLP) is called once on the two columns of
    the grid: its weights are numbers, so the same code computes every point at once as array
    arithmetic. Other models are called on the (m, 2) array; a model that refuses it is called
    on each point as a list [x1, x2].
    """
    from minigrad.nn.neurons import MLP, Layer, Neuron

    with no_grad():
        if isinstance(model, (Neuron, Layer, MLP)):
            out = model([points[:, 0], points[:, 1]])
            outs = out if isinstance(out, (list, tuple)) else [out]
            return np.column_stack(
                [np.broadcast_to(getattr(v, "data", v), len(points)) for v in outs]
            ).astype(np.float64)
        try:
            out = model(points)
            out = np.asarray(getattr(out, "data", out), dtype=np.float64)
            if out.ndim == 0 or out.shape[0] != len(points) or out.ndim > 2:
                raise ValueError("not one output row per point")
        except (TypeError, ValueError, IndexError):
            rows = []
            for p in points.tolist():
                y = model(p)
                y = y if isinstance(y, (list, tuple)) else [y]
                rows.append([float(getattr(v, "data", v)) for v in y])
            out = np.array(rows, dtype=np.float64)
    return out.reshape(len(points), -1)


def _classes(scores: np.ndarray, threshold: float) -> np.ndarray:
    if scores.shape[1] > 1:
        return scores.argmax(axis=1)
    return (scores[:, 0] > threshold).astype(int)


def decision_boundary(
    model: Any,
    X: Any,
    y: Any,
    path: str | Path | None = None,
    *,
    resolution: int = 120,
    threshold: float | None = None,
    title: str | None = None,
) -> Any:
    """The class regions of a classifier of 2-D points, with the data drawn on top.

    Args:
        model: called on an (m, 2) array (array models) or on [x1, x2] (single-number MLPs);
            one output gives a score (class 1 above `threshold`), several give class scores
            (the class is the argmax).
        X: the points, shape (n, 2). y: their labels, shape (n,) or (n, 1): -1/+1, 0/1 or
            class indices.
        path: where to save the figure (.png, .svg, .pdf); None only returns it.
        resolution: grid points along each axis.
        threshold: for one output: the score above which a point is class 1. By default 0 for
            -1/+1 labels or unbounded scores, 0.5 for scores within [0, 1] (probabilities).
        title: the title (default: the accuracy on X).

    Returns:
        the matplotlib Figure.
    """
    Figure = require_matplotlib()
    X, labels = _check_points(X, y, resolution)
    xx, yy = _grid_around(X, resolution)
    scores = _predict(model, np.column_stack([xx.ravel(), yy.ravel()]))
    if threshold is None:
        bounded = scores.min() >= 0 and scores.max() <= 1
        threshold = 0.5 if bounded and not np.any(labels < 0) else 0.0
    regions = _classes(scores, threshold).reshape(xx.shape)
    predicted = _classes(_predict(model, X), threshold)
    # Labels -1/+1 and 0/1 both map to classes 0/1; class indices stay as they are.
    truth = (labels > 0).astype(int) if scores.shape[1] == 1 else labels.astype(int)
    accuracy = float(np.mean(predicted == truth))

    fig = Figure(figsize=(5.0, 4.2), layout="constrained")
    ax = fig.subplots()
    n_classes = max(int(regions.max()), int(truth.max())) + 1
    _draw_regions(ax, xx, yy, regions, scores, threshold, n_classes)
    pm_labels = scores.shape[1] == 1 and bool(np.any(labels < 0))
    _draw_points(ax, X, truth, n_classes, pm_labels)
    ax.set_xlim(xx[0, 0], xx[0, -1])
    ax.set_ylim(yy[0, 0], yy[-1, 0])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.legend(frameon=True, loc="best", fontsize=8)
    ax.set_title(title or f"Decision boundary (accuracy on these points {accuracy:.1%})")
    _save(fig, path)
    return fig


_POINT_COLORS = ["#d9730d", "#1f5fbf", "#2a9d3a", "#9b3fb5", "#c23b3b", "#5d6d7e"]
_REGION_COLORS = ["#f9dcc4", "#cfe2ff", "#cdeccf", "#ead6f2", "#f5d0d0", "#dde3e8"]


def _check_points(X: Any, y: Any, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """decision_boundary's inputs as float64 points (n, 2) and labels (n,), checked."""
    X = np.asarray(getattr(X, "data", X), dtype=np.float64)
    labels = np.asarray(getattr(y, "data", y)).reshape(-1)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"decision_boundary: X must have shape (n, 2), got {X.shape}")
    if len(labels) != len(X):
        raise ValueError(f"decision_boundary: {len(X)} points but {len(labels)} labels")
    if resolution < 2:
        raise ValueError(f"decision_boundary: resolution must be at least 2, got {resolution}")
    return X, labels


def _grid_around(X: np.ndarray, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """A resolution x resolution meshgrid over the points' box, widened by 10% on each side."""
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = 0.1 * np.maximum(hi - lo, 1e-9)
    gx = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    gy = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    return np.meshgrid(gx, gy)


def _draw_regions(
    ax: Any,
    xx: np.ndarray,
    yy: np.ndarray,
    regions: np.ndarray,
    scores: np.ndarray,
    threshold: float,
    n_classes: int,
) -> None:
    """Each class's region in a light color, and the boundary between them as a dark line."""
    from matplotlib.colors import ListedColormap

    levels = np.arange(n_classes + 1) - 0.5
    cmap = ListedColormap([_REGION_COLORS[k % 6] for k in range(n_classes)])
    ax.contourf(xx, yy, regions, levels=levels, cmap=cmap)
    if scores.shape[1] == 1:  # the smooth line where the score crosses the threshold
        score = scores[:, 0].reshape(xx.shape)
        ax.contour(xx, yy, score, levels=[threshold], colors="#404040", linewidths=1.2)
    else:
        ax.contour(xx, yy, regions, levels=levels[1:-1], colors="#404040", linewidths=1.0)


def _draw_points(
    ax: Any, X: np.ndarray, truth: np.ndarray, n_classes: int, pm_labels: bool
) -> None:
    """The data on top, one color per class; `pm_labels`: the legend says -1/+1 labels."""
    for k in range(n_classes):
        mask = truth == k
        if mask.any():
            name = f"label {2 * k - 1:+d}" if pm_labels else f"class {k}"
            ax.scatter(
                X[mask, 0],
                X[mask, 1],
                s=18,
                color=_POINT_COLORS[k % 6],
                edgecolor="white",
                linewidth=0.5,
                label=name,
            )
