"""The datasets shipped with minigrad: ``load_iris`` and ``load_digits``, as a ``Dataset``.

They live in ``minigrad/datasets/``, in two simple text formats that any editor or spreadsheet
can read; lines starting with ``#`` are comments:

- ``iris.csv``: a header row of column names, then one flower per row: four measurements and the
  species name.
- ``digits.csv.gz``: gzip-compressed, one image per row: the label, then 64 integer cells 0..16
  of the 8x8 image, row by row.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

__all__ = ["DATASETS_DIR", "Dataset", "load_digits", "load_iris"]

# The bundled files sit in minigrad/datasets/, beside this package's folder.
DATASETS_DIR = Path(__file__).resolve().parent.parent / "datasets"


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
