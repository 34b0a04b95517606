"""`History`: what `minigrad.train.fit` saw, one entry per epoch, and its summary and plot."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["History"]


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

    def _repr_html_(self) -> str:
        """Jupyter's display: the summary, and the loss curve when matplotlib is installed."""
        from minigrad.viz.display import history_html

        return history_html(self)
