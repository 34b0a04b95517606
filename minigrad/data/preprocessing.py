"""Scaling and labels: ``Standardizer``, ``standardize`` and ``one_hot``."""

from __future__ import annotations

from typing import overload

import numpy as np
from numpy.typing import ArrayLike

from .checks import is_int

__all__ = ["Standardizer", "one_hot", "standardize"]


def _as_float(X: ArrayLike) -> np.ndarray:
    X = np.asarray(X)
    return X if np.issubdtype(X.dtype, np.floating) else X.astype(np.float64)


class Standardizer:
    """Shift and scale each feature (column) to mean 0 and standard deviation 1.

    The mean and standard deviation are learned on the training data only (``fit``) and then
    applied unchanged to any other data (``transform``): using test data to choose the scaling
    would leak information about it into training.

    A feature whose standard deviation is below ``eps`` (a constant column) is only centred:
    its scale is taken as 1, so it becomes all zeros instead of a division by zero.

    >>> s = Standardizer().fit(np.array([[1.0, 5.0], [3.0, 5.0]]))
    >>> s.mean_.tolist(), s.std_.tolist()
    ([2.0, 5.0], [1.0, 1.0])
    >>> s.transform(np.array([[5.0, 7.0]])).tolist()
    [[3.0, 2.0]]
    """

    def __init__(self, eps: float = 1e-12) -> None:
        self.eps = eps
        self.mean_: np.ndarray | None = None
        self.std_: np.ndarray | None = None

    def fit(self, X: ArrayLike) -> Standardizer:
        """Learn ``mean_`` and ``std_`` (the divisor actually used) from ``X``; return self."""
        X = _as_float(X)
        if X.ndim == 0 or len(X) == 0:
            raise ValueError(f"cannot fit a Standardizer on no samples (X has shape {X.shape})")
        self.mean_ = X.mean(axis=0)
        std = X.std(axis=0)
        self.std_ = np.where(std < self.eps, 1.0, std).astype(X.dtype)
        return self

    def transform(self, X: ArrayLike) -> np.ndarray:
        """Return a standardized copy of ``X`` using the statistics learned by ``fit``."""
        if self.mean_ is None or self.std_ is None:
            raise RuntimeError("Standardizer is not fitted yet: call fit(X_train) first")
        X = _as_float(X)
        if X.shape[1:] != self.mean_.shape:
            raise ValueError(
                f"X has features of shape {X.shape[1:]}, but the Standardizer was fitted on "
                f"features of shape {self.mean_.shape}"
            )
        return (X - self.mean_) / self.std_

    def fit_transform(self, X: ArrayLike) -> np.ndarray:
        """``fit(X)`` then ``transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, Z: ArrayLike) -> np.ndarray:
        """Undo ``transform``: map standardized values back to the original units."""
        if self.mean_ is None or self.std_ is None:
            raise RuntimeError("Standardizer is not fitted yet: call fit(X_train) first")
        return _as_float(Z) * self.std_ + self.mean_


@overload
def standardize(X_train: ArrayLike, *, eps: float = ...) -> np.ndarray: ...
@overload
def standardize(
    X_train: ArrayLike, *others: ArrayLike, eps: float = ...
) -> tuple[np.ndarray, ...]: ...
def standardize(
    X_train: ArrayLike, *others: ArrayLike, eps: float = 1e-12
) -> np.ndarray | tuple[np.ndarray, ...]:
    """Standardize ``X_train`` and any ``others`` with the mean and std of ``X_train``.

    Returns new arrays (inputs are never modified): a single array when only ``X_train`` is
    given, else a tuple in the order given. See ``Standardizer`` for the details, and to keep
    the statistics for later data.

    >>> X_train, X_test = standardize(np.array([[0.0], [2.0]]), np.array([[4.0]]))
    >>> X_train.ravel().tolist(), X_test.ravel().tolist()
    ([-1.0, 1.0], [3.0])
    """
    scaler = Standardizer(eps=eps).fit(X_train)
    if not others:
        return scaler.transform(X_train)
    return (scaler.transform(X_train), *(scaler.transform(X) for X in others))


def one_hot(y: ArrayLike, num_classes: int | None = None) -> np.ndarray:
    """Turn integer labels into one-hot rows: label ``k`` becomes a row with a 1.0 at ``k``.

    The result is float64 with shape ``y.shape + (num_classes,)``. ``num_classes`` defaults to
    ``max(y) + 1``; pass it explicitly when a batch may miss the highest classes.

    >>> one_hot([0, 2, 1]).tolist()
    [[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
    """
    y = np.asarray(y)
    if y.size and not np.issubdtype(y.dtype, np.integer):
        if not (np.issubdtype(y.dtype, np.floating) and np.all(y == np.round(y))):
            raise ValueError(f"one_hot needs integer class labels, got dtype {y.dtype}")
    labels = y.astype(np.int64)
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    if not is_int(num_classes) or num_classes < 0:
        raise ValueError(f"num_classes must be a non-negative integer, got {num_classes!r}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in [0, num_classes={num_classes}), got values from "
            f"{labels.min()} to {labels.max()}"
        )
    out = np.zeros((*labels.shape, num_classes), dtype=np.float64)
    np.put_along_axis(out, labels[..., None], 1.0, axis=-1)
    return out
