"""`fit`: the training loop, with minibatches, validation, early stopping and a history.

One epoch shows every training sample once, in minibatches; each minibatch is one step:

    pred = model(Xb); loss = loss_fn(pred, yb); optimizer.zero_grad(); loss.backward();
    optimizer.step()

After each epoch `fit` records the mean training loss (and metrics), evaluates the validation
set if there is one, and checks the stopping rules, in this order:

- 'non_finite_loss': the training loss became NaN or infinite (the learning rate is too high);
- 'target_loss': the training loss reached `target_loss`;
- 'val_loss_rising': the validation loss has not improved on its best for `patience` epochs
  (overfitting); the weights of the best epoch are restored (`restore_best=True`);
- 'min_delta': the training loss has not fallen by more than `min_delta` below its best for
  `patience` epochs;
- 'max_steps': `max_steps` optimizer steps were taken (checked after every step);
- 'epochs': all `epochs` ran.
"""

from __future__ import annotations

import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigrad import losses as _losses
from minigrad.data import batches, train_test_split
from minigrad.engine import no_grad
from minigrad.random import RandomLike, get_generator

__all__ = ["History", "fit", "evaluate", "accuracy"]


@dataclass
class History:
    """What `fit` saw, one entry per epoch (epochs are numbered from 1).

    `train_loss`, `val_loss` (empty without validation), `metrics` (lists keyed like
    'train_accuracy' and 'val_accuracy', also readable as attributes: `history.val_accuracy`),
    `lr` (the learning rate used in each epoch), `stop_reason`, `best_epoch` (1-based: the epoch
    with the lowest validation loss, or training loss without validation; its values are
    `train_loss[best_epoch - 1]`), `epochs` (how many ran) and `steps` (optimizer steps).
    """

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    lr: list[float] = field(default_factory=list)
    stop_reason: str = ""
    best_epoch: int | None = None
    epochs: int = 0
    steps: int = 0
    restored_best: bool = False

    def __getattr__(self, name: str) -> list[float]:
        metrics = self.__dict__.get("metrics", {})
        if name in metrics:
            return metrics[name]
        raise AttributeError(f"History has no {name!r}; metrics recorded: {list(metrics)}")

    @property
    def epoch(self) -> list[int]:
        """The epoch numbers 1, 2, ..., epochs (an x axis for plots)."""
        return list(range(1, self.epochs + 1))

    def plot(self, path: Any = None, **kwargs: Any) -> Any:
        """Draw the loss (and metric) curves; see `minigrad.plot.plot_history`."""
        from minigrad.plot import plot_history

        return plot_history(self, path, **kwargs)

    def summary(self) -> str:
        """One line: epochs run, why it stopped, the best epoch and the last losses."""
        text = f"{self.epochs} epochs, {self.steps} steps, stopped: {self.stop_reason}"
        if self.train_loss:
            text += f"; last train_loss {self.train_loss[-1]:.6g}"
        if self.val_loss:
            text += f", val_loss {self.val_loss[-1]:.6g}"
        if self.best_epoch is not None:
            text += f"; best epoch {self.best_epoch}"
        return text

    def __repr__(self) -> str:
        return f"History({self.summary()})"


# ----- metrics ----------------------------------------------------------------------------------
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


# ----- the loop ----------------------------------------------------------------------------------
def _check_positive(name: str, value: Any, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"fit: {name} must be a positive integer, got {value!r}")


class _Progress:
    """A single line rewritten in place (carriage return), at most ~10 times a second."""

    def __init__(self, enabled: bool, epochs: int) -> None:
        self.enabled, self.epochs = enabled, epochs
        self.last = 0.0
        self.shown = False

    def update(self, epoch: int, values: dict[str, float], force: bool = False) -> None:
        now = time.perf_counter()
        if not self.enabled or (not force and now - self.last < 0.1):
            return
        self.last = now
        parts = " ".join(f"{k} {v:.4g}" for k, v in values.items())
        sys.stdout.write(f"\repoch {epoch}/{self.epochs}  {parts}   ")
        sys.stdout.flush()
        self.shown = True

    def close(self, message: str) -> None:
        if self.enabled:
            sys.stdout.write(("\n" if self.shown else "") + message + "\n")
            sys.stdout.flush()


def fit(
    model: Any,
    loss_fn: Callable,
    optimizer: Any,
    X: Any,
    y: Any,
    epochs: int = 100,
    batch_size: int | None = 32,
    validation: tuple[Any, Any] | None = None,
    validation_split: float | None = None,
    shuffle: bool = True,
    min_delta: float | None = None,
    patience: int | None = 5,
    target_loss: float | None = None,
    max_steps: int | None = None,
    metrics: Any = ("accuracy",),
    restore_best: bool = True,
    scheduler: Any = None,
    rng: RandomLike = None,
    verbose: bool = True,
) -> History:
    """Train `model` on (X, y) with `optimizer`, minimizing `loss_fn(model(Xb), yb)`.

    batch_size: samples per step (None: the whole set, full-batch gradient descent).
    validation: (X_val, y_val), or validation_split: the fraction of (X, y) held out for it.
    min_delta, patience, target_loss, max_steps: the stopping rules in the module docstring
        (patience counts epochs; None turns the validation rule off).
    metrics: names ('accuracy') or a dict {name: metric(pred, target)}; recorded per epoch as
        'train_<name>' (over the epoch's minibatches) and 'val_<name>'.
    scheduler: a learning-rate schedule stepped once per epoch.
    rng: seed or Generator for shuffling and the validation split.

    Returns a `History`.

    >>> import numpy as np, minigrad as mg
    >>> X = np.linspace(-1, 1, 20).reshape(-1, 1); y = 3 * X
    >>> model = mg.nn.Linear(1, 1, rng=0)
    >>> h = fit(model, mg.losses.mse_loss, mg.optim.SGD(model.parameters(), lr=0.5), X, y,
    ...         epochs=500, batch_size=None, target_loss=1e-6, metrics=None, verbose=False)
    >>> h.stop_reason, round(float(model.weight.data[0, 0]), 2)
    ('target_loss', 3.0)
    """
    _check_positive("epochs", epochs, allow_none=False)
    _check_positive("batch_size", batch_size)
    _check_positive("max_steps", max_steps)
    _check_positive("patience", patience)
    if min_delta is not None and min_delta < 0:
        raise ValueError(f"fit: min_delta must be >= 0, got {min_delta}")
    if validation is not None and validation_split is not None:
        raise ValueError("fit: give validation=(X_val, y_val) or validation_split=, not both")
    gen = (
        get_generator(rng)
        if rng is not None
        else np.random.default_rng(get_generator().integers(2**63))
    )
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"fit: X has {len(X)} samples but y has {len(y)}")
    if validation_split is not None:
        if not 0 < validation_split < 1:
            raise ValueError(f"fit: validation_split must lie in (0, 1), got {validation_split}")
        X, Xv, y, yv = train_test_split(X, y, test_size=validation_split, rng=gen)
        validation = (Xv, yv)
    if validation is not None:
        Xv, yv = (np.asarray(a) for a in validation)
    metric_fns = _metric_functions(metrics, loss_fn)
    batch = len(X) if batch_size is None else batch_size

    history = History(
        metrics={
            f"{kind}_{name}": []
            for name in metric_fns
            for kind in ("train", "val")
            if kind == "train" or validation
        }
    )
    progress = _Progress(verbose, epochs)
    best_train = best_val = math.inf
    best_state = None
    plateau = rising = 0
    stop = ""

    for epoch in range(1, epochs + 1):
        if hasattr(model, "train"):
            model.train()
        total, count = 0.0, 0
        metric_sums = dict.fromkeys(metric_fns, 0.0)
        history.lr.append(float(optimizer.param_groups[0]["lr"]))
        for Xb, yb in batches(X, y, batch, shuffle=shuffle, rng=gen):
            pred = model(Xb)
            loss = loss_fn(pred, yb)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            history.steps += 1
            n = len(Xb)
            total += float(np.asarray(loss.data)) * n
            count += n
            for name, fn in metric_fns.items():
                metric_sums[name] += fn(pred, yb) * n
            if max_steps is not None and history.steps >= max_steps:
                stop = "max_steps"
                break
        if scheduler is not None:
            scheduler.step()

        train_loss = total / count
        history.epochs = epoch
        history.train_loss.append(train_loss)
        shown = {"loss": train_loss}
        for name in metric_fns:
            history.metrics[f"train_{name}"].append(metric_sums[name] / count)
        if validation is not None:
            result = _evaluate(model, loss_fn, Xv, yv, metric_fns)
            history.val_loss.append(result.pop("loss"))
            shown["val_loss"] = history.val_loss[-1]
            for name, value in result.items():
                history.metrics[f"val_{name}"].append(value)
                shown[f"val_{name}"] = value
        progress.update(epoch, shown, force=epoch == epochs)

        # ----- the stopping rules, in the order documented above -----
        if stop:
            pass
        elif not math.isfinite(train_loss):
            stop = "non_finite_loss"
        elif target_loss is not None and train_loss <= target_loss:
            stop = "target_loss"
        if validation is not None:
            val_loss = history.val_loss[-1]
            if val_loss < best_val:
                best_val, rising = val_loss, 0
                history.best_epoch = epoch
                if restore_best and hasattr(model, "state_dict"):
                    best_state = model.state_dict()
            else:
                rising += 1
                if not stop and patience is not None and rising >= patience:
                    stop = "val_loss_rising"
        if train_loss < best_train - (min_delta or 0.0):
            best_train, plateau = train_loss, 0
        else:
            plateau += 1
            if not stop and min_delta is not None and plateau >= (patience or 1):
                stop = "min_delta"
        if stop:
            break

    if stop == "val_loss_rising" and best_state is not None:
        model.load_state_dict(best_state)
        history.restored_best = True
    if validation is None:
        finite = [v if math.isfinite(v) else math.inf for v in history.train_loss]
        history.best_epoch = int(np.argmin(finite)) + 1
    history.stop_reason = stop or "epochs"
    progress.close(history.summary())
    return history
