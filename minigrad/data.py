"""Data helpers: minibatches, splits, scaling, one-hot labels and small bundled datasets.

Everything here is plain numpy and imports nothing else from minigrad, so the file also works
on its own (copy it next to a script, or load it by path).

>>> X, y = load_iris()
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, rng=0, stratify=y)
>>> X_train, X_test = standardize(X_train, X_test)
>>> for Xb, yb in batches(X_train, y_train, batch_size=32, rng=0):
...     pass  # one optimisation step per minibatch

Randomness: every function that shuffles takes ``rng``, either an int seed (same seed, same
result) or a ``numpy.random.Generator`` (to share one stream across calls). ``None`` means fresh,
unpredictable randomness.

The bundled datasets live in ``datasets/`` beside this file, in two simple text formats that any
editor or spreadsheet can read; lines starting with ``#`` are comments:

- ``iris.csv``: a header row of column names, then one flower per row: four measurements and the
  species name.
- ``digits.csv.gz``: gzip-compressed, one image per row: the label, then 64 integer cells 0..16
  of the 8x8 image, row by row.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import overload

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = [
    "Dataset",
    "Standardizer",
    "batches",
    "load_digits",
    "load_iris",
    "make_moons",
    "one_hot",
    "standardize",
    "train_test_split",
    "xor",
]

DATASETS_DIR = Path(__file__).resolve().parent / "datasets"

RandomLike = int | np.random.Generator | None


def _as_generator(rng: RandomLike) -> np.random.Generator:
    """Turn an int seed, a Generator or None into a Generator (a Generator is used as is)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be an int seed, a numpy.random.Generator or None, got {rng!r}")


def _check_same_length(X: np.ndarray, y: np.ndarray) -> None:
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(
            f"X and y must be arrays with one entry per sample, got shapes {X.shape} and {y.shape}"
        )
    if len(X) != len(y):
        raise ValueError(
            f"X and y must have the same number of samples, got len(X)={len(X)} and len(y)={len(y)}"
        )


def _is_int(n: object) -> bool:
    return isinstance(n, (int, np.integer)) and not isinstance(n, bool)


# --------------------------------------------------------------------------------------------
# Minibatches and splits
# --------------------------------------------------------------------------------------------


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
    _check_same_length(X, y)
    if not _is_int(batch_size) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got batch_size={batch_size!r}")
    n = len(X)
    order = _as_generator(rng).permutation(n) if shuffle else np.arange(n)
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
    if _is_int(test_size):
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
    _check_same_length(X, y)
    n = len(X)
    n_test = _test_count(test_size, n)

    if stratify is None:
        order = _as_generator(rng).permutation(n) if shuffle else np.arange(n)
        train_idx, test_idx = order[: n - n_test], order[n - n_test :]
    else:
        if not shuffle:
            raise ValueError("stratify needs shuffle=True (a stratified split is a random one)")
        labels = np.asarray(stratify)
        if labels.shape != (n,):
            raise ValueError(
                f"stratify must hold one label per sample, shape ({n},), got shape {labels.shape}"
            )
        gen = _as_generator(rng)
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


# --------------------------------------------------------------------------------------------
# Scaling and labels
# --------------------------------------------------------------------------------------------


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
    if not _is_int(num_classes) or num_classes < 0:
        raise ValueError(f"num_classes must be a non-negative integer, got {num_classes!r}")
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"labels must lie in [0, num_classes={num_classes}), got values from "
            f"{labels.min()} to {labels.max()}"
        )
    out = np.zeros((*labels.shape, num_classes), dtype=np.float64)
    np.put_along_axis(out, labels[..., None], 1.0, axis=-1)
    return out


# --------------------------------------------------------------------------------------------
# Datasets
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class Dataset:
    """A loaded dataset: features ``X`` (one row per sample), integer labels ``y``, and names.

    It unpacks like a pair, so both styles work::

        X, y = load_iris()
        iris = load_iris(); iris.X, iris.target_names[iris.y[0]]
    """

    X: NDArray[np.float64]
    y: NDArray[np.int64]
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]
    name: str = ""

    def __iter__(self) -> Iterator[np.ndarray]:
        return iter((self.X, self.y))

    def __len__(self) -> int:
        return len(self.X)

    def __repr__(self) -> str:
        return (
            f"Dataset({self.name!r}: X {self.X.dtype}{self.X.shape}, y {self.y.dtype}"
            f"{self.y.shape}, {len(self.target_names)} classes {list(self.target_names)})"
        )


def _data_lines(lines: Iterator[str]) -> Iterator[str]:
    """The non-empty lines of a bundled file that are not ``#`` comments, stripped."""
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            yield line


def load_iris() -> Dataset:
    """Fisher's Iris flowers: 150 samples, 4 measurements in cm, 3 species (50 each).

    ``X`` is float64 (150, 4): sepal length, sepal width, petal length, petal width.
    ``y`` is int64 in 0..2, in the order of ``target_names`` (setosa, versicolor, virginica);
    the rows are sorted by species, so shuffle before splitting. Rows 35 and 38 carry the
    corrections to Fisher's published values noted by the UCI repository.

    >>> X, y = load_iris()
    >>> X.shape, np.bincount(y).tolist()
    ((150, 4), [50, 50, 50])
    """
    with open(DATASETS_DIR / "iris.csv", encoding="ascii") as f:
        rows = [line.split(",") for line in _data_lines(f)]
    header, rows = rows[0], rows[1:]
    species = [row[-1] for row in rows]
    target_names = tuple(dict.fromkeys(species))  # in order of first appearance
    X = np.array([[float(v) for v in row[:-1]] for row in rows], dtype=np.float64)
    y = np.array([target_names.index(s) for s in species], dtype=np.int64)
    return Dataset(X, y, tuple(header[:-1]), target_names, "iris")


def load_digits() -> Dataset:
    """Handwritten digits: 1797 images of 8x8 cells, labels 0..9 (about 180 of each).

    ``X`` is float64 (1797, 64) with values 0..16 (ink in each cell), one image per row, cells
    row by row; ``X.reshape(-1, 8, 8)`` gives the images. ``y`` is int64 in 0..9. Divide ``X``
    by 16 (or standardize it) before training.

    >>> X, y = load_digits()
    >>> X.shape, y[:5].tolist()
    ((1797, 64), [0, 1, 2, 3, 4])
    """
    with gzip.open(DATASETS_DIR / "digits.csv.gz", "rt", encoding="ascii") as f:
        table = np.array(
            [[int(v) for v in line.split(",")] for line in _data_lines(f)], dtype=np.int64
        )
    X, y = table[:, 1:].astype(np.float64), table[:, 0]
    feature_names = tuple(f"pixel_{r}_{c}" for r in range(8) for c in range(8))
    return Dataset(X, y, feature_names, tuple(str(d) for d in range(10)), "digits")


def make_moons(
    n: int = 100, noise: float = 0.1, seed: RandomLike = None
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Two interleaving half circles: a small 2-D problem that a line cannot separate.

    Class 0 is the upper half of the unit circle, class 1 the lower half shifted to
    (1, 0.5) so the two arcs hook into each other. Points are spread evenly along each arc
    (``n // 2`` on the upper arc, the rest on the lower), Gaussian noise of standard deviation
    ``noise`` is added, and the samples are shuffled. ``seed`` is an int or a Generator.

    >>> X, y = make_moons(200, noise=0.1, seed=0)
    >>> X.shape, np.bincount(y).tolist()
    ((200, 2), [100, 100])
    """
    if not _is_int(n) or n < 1:
        raise ValueError(f"n must be a positive integer, got n={n!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got noise={noise}")
    gen = _as_generator(seed)
    n_upper = n // 2
    n_lower = n - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    upper = np.column_stack([np.cos(t_upper), np.sin(t_upper)])
    lower = np.column_stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)])
    X = np.concatenate([upper, lower]) + gen.normal(0.0, noise, size=(n, 2))
    y = np.concatenate([np.zeros(n_upper, np.int64), np.ones(n_lower, np.int64)])
    order = gen.permutation(n)
    return X[order], y[order]


def xor() -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """The XOR truth table, the classic problem a single neuron cannot learn.

    >>> X, y = xor()
    >>> X.tolist(), y.tolist()
    ([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]], [0, 1, 1, 0])
    """
    X = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float64)
    y = np.array([0, 1, 1, 0], dtype=np.int64)
    return X, y
