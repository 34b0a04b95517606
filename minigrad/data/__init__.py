"""Data helpers: minibatches, splits, scaling, one-hot labels and small bundled datasets.

Everything here is plain numpy and imports nothing else from minigrad (the files import each
other relatively), so the folder also works on its own: copy `data/` and `datasets/` side by
side next to a script.

>>> X, y = load_iris()
>>> X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, rng=0, stratify=y)
>>> X_train, X_test = standardize(X_train, X_test)
>>> for Xb, yb in batches(X_train, y_train, batch_size=32, rng=0):
...     pass  # one optimisation step per minibatch

Randomness: every function that shuffles takes ``rng``, either an int seed (same seed, same
result) or a ``numpy.random.Generator`` (to share one stream across calls). ``None`` means fresh,
unpredictable randomness.

The files, one kind of helper each:

- ``splits.py``: ``batches`` (minibatches of one epoch) and ``train_test_split``;
- ``preprocessing.py``: ``Standardizer``, ``standardize`` and ``one_hot``;
- ``bundled.py``: ``Dataset`` and the loaders of the datasets shipped in ``minigrad/datasets/``
  (``load_iris``, ``load_digits``), with their file formats;
- ``toy.py``: small generated problems, ``make_moons`` and ``xor``;
- ``checks.py``: the argument checks and the ``rng`` handling they share.
"""

from .bundled import DATASETS_DIR, Dataset, load_digits, load_iris
from .preprocessing import Standardizer, one_hot, standardize
from .splits import batches, train_test_split
from .toy import make_moons, xor

__all__ = [
    "DATASETS_DIR",
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
