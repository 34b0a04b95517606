"""Metrics for training: `accuracy`, and `evaluate` (a model's loss and metrics on a data set).

`fit` takes metrics by name ('accuracy') or as functions `metric(pred, target) -> float`;
`_metric_functions` turns what was given into a dict of functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import losses as _losses
from minigrad.engine import no_grad

__all__ = ["accuracy", "evaluate"]


def accuracy(pred: Any, target: Any, threshold: float = 0.5) -> float:
    """Fraction of correct predictions.

    - Several outputs per sample, shape (n, C): the class is the argmax, compared with integer
      labels (n,) or with the argmax of one-hot/probability targets (n, C).
    - One output per sample: labels -1/+1 are compared by sign; 0/1 labels with
      `pred > threshold` (0.5 for probabilities; use 0 for logits).
    """
    p = np.asarray(getattr(pred, "data", pred))
    t = np.asarray(getattr(target, "data", target))
    if (p.ndim >= 2 and p.shape[-1] > 1) or (p.ndim == 1 and t.ndim == 0):
        classes = p.argmax(axis=-1)
        if t.shape == p.shape:
            t = t.argmax(axis=-1)
        if t.shape != classes.shape:
            raise ValueError(
                f"accuracy: predictions of shape {p.shape} need labels of shape "
                f"{classes.shape} or {p.shape}, got {t.shape}"
            )
        return float(np.mean(classes == t))
    if p.size != t.size:
        raise ValueError(f"accuracy: {p.size} predictions but {t.size} targets")
    p, t = p.reshape(-1), t.reshape(-1)
    if np.any(t < 0):  # -1/+1 labels (hinge loss)
        return float(np.mean((p > 0) == (t > 0)))
    return float(np.mean((p > threshold) == (t > 0.5)))


def _metric_functions(metrics: Any, loss_fn: Callable) -> dict[str, Callable]:
    if metrics is None:
        return {}
    if isinstance(metrics, str):
        metrics = (metrics,)
    # Losses that take raw scores: a score above 0 means the positive class.
    logit_losses = (_losses.binary_cross_entropy_with_logits, _losses.hinge_loss)
    threshold = 0.0 if loss_fn in logit_losses else 0.5
    items = metrics.items() if isinstance(metrics, dict) else [(m, m) for m in metrics]
    found = {}
    for name, fn in items:
        if fn == "accuracy":
            found[name] = lambda p, t: accuracy(p, t, threshold)
        elif callable(fn):
            found[name if isinstance(name, str) else fn.__name__] = fn
        else:
            raise ValueError(
                f"fit: unknown metric {fn!r}; use 'accuracy' or a function "
                "metric(pred, target) -> float"
            )
    return found


def evaluate(
    model: Callable, loss_fn: Callable, X: Any, y: Any, metrics: Any = ("accuracy",)
) -> dict[str, float]:
    """Loss and metrics of `model` on (X, y), without recording a graph, in eval mode."""
    return _evaluate(model, loss_fn, X, y, _metric_functions(metrics, loss_fn))


def _evaluate(
    model: Any, loss_fn: Callable, X: Any, y: Any, metric_fns: dict[str, Callable]
) -> dict[str, float]:
    was_training = getattr(model, "training", None)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with no_grad():
            pred = model(X)
            result = {"loss": float(np.asarray(loss_fn(pred, y).data))}
            for name, fn in metric_fns.items():
                result[name] = float(fn(pred, y))
    finally:
        if was_training and hasattr(model, "train"):
            model.train()
    return result
