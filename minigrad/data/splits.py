"""Minibatches and train/test splits: ``batches`` and ``train_test_split``."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import ArrayLike

from .checks import RandomLike, as_generator, check_same_length, is_int

__all__ = ["batches", "train_test_split"]


def batches(
    X: ArrayLike,
    y: ArrayLike,
    batch_size: int,
    shuffle: bool = True,
    rng: RandomLike = None,
    drop_last: bool = False,
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Yield ``(Xb, yb)`` minibatches that together cover every sample exactly once.

    One call is one epoch: call it again for the next epoch (with ``shuffle=True`` each call
    draws a new order, unless you pass the same int seed again). All batches have
    ``batch_size`` samples except possibly the last, which is smaller; ``drop_last=True`` skips
    that short batch (useful when a model wants equal batches).

    Arguments are checked at call time, before the first batch is requested, so a mistake shows
    up where it was made.

    >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [yb.tolist() for _, yb in batches(X, y, batch_size=2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    X, y = np.asarray(X), np.asarray(y)
    check_same_length(X, y)
    if not is_int(batch_size) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got batch_size={batch_size!r}")
    n = len(X)
    order = as_generator(rng).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    return _iterate_batches(X, y, order, batch_size, stop)


def _iterate_batches(
    X: np.ndarray, y: np.ndarray, order: np.ndarray, batch_size: int, stop: int
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    # A separate generator so that `batches` itself runs (and validates) eagerly.
    for start in range(0, stop, batch_size):
        idx = order[start : start + batch_size]
        yield X[idx], y[idx]


def _test_count(test_size: float | int, n: int) -> int:
    """Number of test samples for ``test_size`` (a fraction in (0, 1) or a count)."""
    if is_int(test_size):
        n_test = int(test_size)
        if not 1 <= n_test <= n - 1:
            raise ValueError(
                f"test_size as a count must be between 1 and n_samples - 1 = {n - 1}, "
                f"got test_size={test_size}"
            )
        return n_test
    if isinstance(test_size, (float, np.floating)):
        if not 0.0 < test_size < 1.0:
            raise ValueError(
                "test_size as a fraction must be strictly between 0 and 1, "
                f"got test_size={test_size}"
            )
        # Round the test part up (as scikit-learn does), then make sure both parts are non-empty.
        # The inner round stops float error from rounding up a whole count: 0.14 * 50 is 7.000...1.
        n_test = math.ceil(round(test_size * n, 9))
        if not 1 <= n_test <= n - 1:
            raise ValueError(
                f"test_size={test_size} of n_samples={n} leaves an empty train or test set"
            )
        return n_test
    raise TypeError(f"test_size must be a float fraction or an int count, got {test_size!r}")


def _stratified_test_counts(counts: np.ndarray, n_test: int) -> np.ndarray:
    """Split ``n_test`` among classes in proportion to ``counts`` (largest-remainder method).

    Each class gets the floor of its exact share; the samples left over go to the classes with
    the largest fractional parts (ties to the earlier class). A class never gets more test
    samples than it has, and the total is exactly ``n_test``.
    """
    exact = counts * n_test / counts.sum()
    per_class = np.floor(exact).astype(np.int64)
    left_over = n_test - int(per_class.sum())
    by_remainder = np.argsort(-(exact - per_class), kind="stable")
    per_class[by_remainder[:left_over]] += 1
    return per_class


def train_test_split(
    X: ArrayLike,
    y: ArrayLike,
    test_size: float | int = 0.3,
    shuffle: bool = True,
    rng: RandomLike = None,
    stratify: ArrayLike | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split samples into a train part and a test part: ``X_train, X_test, y_train, y_test``.

    ``test_size`` is a fraction of the samples in (0, 1) (rounded up to whole samples) or a
    number of samples. With ``shuffle=False`` the last samples form the test set, which is
    right for time series and wrong for data sorted by class (like the bundled iris).

    ``stratify`` takes one class label per sample (usually ``y`` itself): each class is then
    split separately so that train and test keep the class proportions of the whole set, as
    closely as whole samples allow. Stratifying needs ``shuffle=True``.

    >>> X, y = np.arange(20).reshape(10, 2), np.array([0] * 5 + [1] * 5)
    >>> X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.4, rng=0, stratify=y)
    >>> X_tr.shape, X_te.shape, np.bincount(y_te).tolist()
    ((6, 2), (4, 2), [2, 2])
    """
    X, y = np.asarray(X), np.asarray(y)
    check_same_length(X, y)
    n = len(X)
    n_test = _test_count(test_size, n)

    if stratify is None:
        order = as_generator(rng).permutation(n) if shuffle else np.arange(n)
        train_idx, test_idx = order[: n - n_test], order[n - n_test :]
    else:
        if not shuffle:
            raise ValueError("stratify needs shuffle=True (a stratified split is a random one)")
        labels = np.asarray(stratify)
        if labels.shape != (n,):
            raise ValueError(
                f"stratify must hold one label per sample, shape ({n},), got shape {labels.shape}"
            )
        gen = as_generator(rng)
        classes, class_of_sample, counts = np.unique(
            labels, return_inverse=True, return_counts=True
        )
        per_class = _stratified_test_counts(counts, n_test)
        train_parts, test_parts = [], []
        for k in range(len(classes)):
            members = gen.permutation(np.flatnonzero(class_of_sample == k))
            test_parts.append(members[: per_class[k]])
            train_parts.append(members[per_class[k] :])
        # Mix the classes so that neither part comes out sorted by class.
        train_idx = gen.permutation(np.concatenate(train_parts))
        test_idx = gen.permutation(np.concatenate(test_parts))

    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]
