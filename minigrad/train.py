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

`fit` is a few named steps: check the options, prepare the data, then per epoch train
(`_train_epoch`), evaluate, record (`_record_epoch`), show progress (`minigrad.progress.Progress`:
a bar in a terminal or notebook, plain lines in a log) and apply the stopping rules
(`_StopRules`); `_finish` restores the best weights. `History` lives in `minigrad.history`,
`accuracy` and `evaluate` in `minigrad.metrics` (both importable from here).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad.data import batches, train_test_split
from minigrad.history import History
from minigrad.metrics import _evaluate, _metric_functions, accuracy, evaluate
from minigrad.nn.utils import clip_grad_norm_
from minigrad.optim.plateau import ReduceLROnPlateau
from minigrad.progress import Progress
from minigrad.random import RandomLike, get_generator

__all__ = ["History", "fit", "evaluate", "accuracy"]


# ----- the loop ----------------------------------------------------------------------------------
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
    clip_grad_norm: float | None = None,
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
    scheduler: a learning-rate schedule stepped once per epoch; a ReduceLROnPlateau is given
        the epoch's validation loss (the training loss without validation).
    clip_grad_norm: clip the gradients' total norm to this before every step
        (`nn.utils.clip_grad_norm_` on the optimizer's parameters).
    rng: seed or Generator for shuffling and the validation split.
    verbose: show the epochs as they run (tqdm's bar in a terminal or notebook when tqdm is
        installed, plain lines in a log: `minigrad.progress`) and the summary at the end.

    Returns a `History`.

    >>> import numpy as np, minigrad as mg
    >>> X = np.linspace(-1, 1, 20).reshape(-1, 1); y = 3 * X
    >>> model = mg.nn.Linear(1, 1, rng=0)
    >>> h = fit(model, mg.losses.mse_loss, mg.optim.SGD(model.parameters(), lr=0.5), X, y,
    ...         epochs=500, batch_size=None, target_loss=1e-6, metrics=None, verbose=False)
    >>> h.stop_reason, round(float(model.weight.data[0, 0]), 2)
    ('target_loss', 3.0)
    """
    # Longer than 60 lines only for its signature (one line per option) and docstring: the
    # body is the loop over epochs, one call per named step.
    _check_options(epochs, batch_size, max_steps, patience, min_delta, validation, validation_split)
    if clip_grad_norm is not None and not clip_grad_norm > 0:
        raise ValueError(f"fit: clip_grad_norm must be > 0 (or None), got {clip_grad_norm!r}")
    gen = _shuffle_generator(rng)
    X, y, validation = _prepare_data(X, y, validation, validation_split, gen)
    metric_fns = _metric_functions(metrics, loss_fn)
    batch = len(X) if batch_size is None else batch_size
    history = _new_history(metric_fns, with_validation=validation is not None)
    rules = _StopRules(min_delta, patience, target_loss, restore_best)
    progress = Progress(verbose, epochs)

    for epoch in range(1, epochs + 1):
        history.lr.append(float(optimizer.param_groups[0]["lr"]))
        minibatches = batches(X, y, batch, shuffle=shuffle, rng=gen)
        train_loss, train_metrics, out_of_steps = _train_epoch(
            model, loss_fn, optimizer, minibatches, metric_fns, history, max_steps, clip_grad_norm
        )
        val_result = None
        if validation is not None:
            val_result = _evaluate(model, loss_fn, *validation, metric_fns)
        _step_scheduler(scheduler, train_loss, val_result)
        shown = _record_epoch(history, epoch, train_loss, train_metrics, val_result)
        progress.update(epoch, shown, force=epoch == epochs)
        stop = "max_steps" if out_of_steps else ""
        stop = rules.check(stop, epoch, train_loss, val_result, model)
        if stop:
            break
    _finish(history, rules, stop, model)
    progress.close(history.summary())
    return history


def _check_positive(name: str, value: Any, allow_none: bool = True) -> None:
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"fit: {name} must be a positive integer, got {value!r}")


def _check_options(
    epochs: Any,
    batch_size: Any,
    max_steps: Any,
    patience: Any,
    min_delta: Any,
    validation: Any,
    validation_split: Any,
) -> None:
    """fit's argument checks, before any work, so a mistake shows up where it was made."""
    _check_positive("epochs", epochs, allow_none=False)
    _check_positive("batch_size", batch_size)
    _check_positive("max_steps", max_steps)
    _check_positive("patience", patience)
    if min_delta is not None and min_delta < 0:
        raise ValueError(f"fit: min_delta must be >= 0, got {min_delta}")
    if validation is not None and validation_split is not None:
        raise ValueError("fit: give validation=(X_val, y_val) or validation_split=, not both")


def _shuffle_generator(rng: RandomLike) -> np.random.Generator:
    """The Generator for shuffling and the split: from `rng`, or drawn from minigrad's global
    one (so `mg.manual_seed` makes a run repeat) without advancing it more than one draw."""
    if rng is not None:
        return get_generator(rng)
    return np.random.default_rng(get_generator().integers(2**63))


def _prepare_data(
    X: Any, y: Any, validation: Any, validation_split: float | None, gen: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
    """The training arrays and the validation pair (None without one), split off if asked."""
    X, y = np.asarray(X), np.asarray(y)
    if len(X) != len(y):
        raise ValueError(f"fit: X has {len(X)} samples but y has {len(y)}")
    if validation_split is not None:
        if not 0 < validation_split < 1:
            raise ValueError(f"fit: validation_split must lie in (0, 1), got {validation_split}")
        X, Xv, y, yv = train_test_split(X, y, test_size=validation_split, rng=gen)
        validation = (Xv, yv)
    if validation is not None:
        validation = tuple(np.asarray(a) for a in validation)
    return X, y, validation


def _new_history(metric_fns: dict[str, Callable], with_validation: bool) -> History:
    kinds = ("train", "val") if with_validation else ("train",)
    return History(metrics={f"{kind}_{name}": [] for name in metric_fns for kind in kinds})


def _train_epoch(
    model: Any,
    loss_fn: Callable,
    optimizer: Any,
    minibatches: Any,
    metric_fns: dict[str, Callable],
    history: History,
    max_steps: int | None,
    clip_grad_norm: float | None = None,
) -> tuple[float, dict[str, float], bool]:
    """One pass over the minibatches, one optimizer step each.

    Returns the epoch's mean training loss and metrics (weighted by batch size) and whether
    `max_steps` was reached (the epoch then ends early). Counts the steps in `history.steps`.
    """
    if hasattr(model, "train"):
        model.train()
    total, count = 0.0, 0
    metric_sums = dict.fromkeys(metric_fns, 0.0)
    out_of_steps = False
    # Only the parameters get `.grad` (PyTorch's default): no memory is kept for the
    # intermediates' gradients, which a fresh process would page-fault in anew every step.
    trained = [p for p in optimizer.parameters() if p.requires_grad] or None
    for Xb, yb in minibatches:
        pred = model(Xb)
        loss = loss_fn(pred, yb)
        optimizer.zero_grad()
        loss.backward(inputs=trained)
        if clip_grad_norm is not None:
            clip_grad_norm_(optimizer.parameters(), clip_grad_norm)
        optimizer.step()
        history.steps += 1
        n = len(Xb)
        total += float(np.asarray(loss.data)) * n
        count += n
        for name, fn in metric_fns.items():
            metric_sums[name] += fn(pred, yb) * n
        if max_steps is not None and history.steps >= max_steps:
            out_of_steps = True
            break
    return total / count, {name: s / count for name, s in metric_sums.items()}, out_of_steps


def _step_scheduler(scheduler: Any, train_loss: float, val_result: dict | None) -> None:
    """Once per epoch; ReduceLROnPlateau is fed the validation loss (else the training loss)."""
    if scheduler is None:
        return
    if isinstance(scheduler, ReduceLROnPlateau):
        scheduler.step(val_result["loss"] if val_result is not None else train_loss)
    else:
        scheduler.step()


def _record_epoch(
    history: History,
    epoch: int,
    train_loss: float,
    train_metrics: dict[str, float],
    val_result: dict[str, float] | None,
) -> dict[str, float]:
    """Append the epoch's numbers to `history`; returns the ones the progress line shows."""
    history.epochs = epoch
    history.train_loss.append(train_loss)
    shown = {"loss": train_loss}
    for name, value in train_metrics.items():
        history.metrics[f"train_{name}"].append(value)
    if val_result is not None:
        val_result = dict(val_result)
        history.val_loss.append(val_result.pop("loss"))
        shown["val_loss"] = history.val_loss[-1]
        for name, value in val_result.items():
            history.metrics[f"val_{name}"].append(value)
            shown[f"val_{name}"] = value
    return shown


@dataclass
class _StopRules:
    """The stopping rules of the module docstring, and what they remember between epochs."""

    min_delta: float | None
    patience: int | None
    target_loss: float | None
    restore_best: bool
    best_train: float = math.inf
    best_val: float = math.inf
    best_val_epoch: int | None = None
    best_state: Any = None  # the model's state_dict at best_val_epoch (restore_best)
    plateau: int = 0  # epochs since the training loss last fell by more than min_delta
    rising: int = 0  # epochs since the validation loss last improved

    def check(
        self, stop: str, epoch: int, train_loss: float, val_result: dict | None, model: Any
    ) -> str:
        """Why to stop after this epoch ('' to go on). `stop` is a reason already found
        (max_steps): it wins, but the best epoch and the plateau are still brought up to date."""
        if stop:
            pass
        elif not math.isfinite(train_loss):
            stop = "non_finite_loss"
        elif self.target_loss is not None and train_loss <= self.target_loss:
            stop = "target_loss"
        if val_result is not None:
            if val_result["loss"] < self.best_val:
                self.best_val, self.rising, self.best_val_epoch = val_result["loss"], 0, epoch
                if self.restore_best and hasattr(model, "state_dict"):
                    self.best_state = model.state_dict()
            else:
                self.rising += 1
                if not stop and self.patience is not None and self.rising >= self.patience:
                    stop = "val_loss_rising"
        if train_loss < self.best_train - (self.min_delta or 0.0):
            self.best_train, self.plateau = train_loss, 0
        else:
            self.plateau += 1
            if not stop and self.min_delta is not None and self.plateau >= (self.patience or 1):
                stop = "min_delta"
        return stop


def _finish(history: History, rules: _StopRules, stop: str, model: Any) -> None:
    """Restore the best weights if validation stopped the run; fill in best_epoch, stop_reason."""
    if stop == "val_loss_rising" and rules.best_state is not None:
        model.load_state_dict(rules.best_state)
        history.restored_best = True
    if history.val_loss:  # validated: the epoch of the lowest validation loss
        history.best_epoch = rules.best_val_epoch
    else:
        finite = [v if math.isfinite(v) else math.inf for v in history.train_loss]
        history.best_epoch = int(np.argmin(finite)) + 1
    history.stop_reason = stop or "epochs"
