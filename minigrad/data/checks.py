"""The checks and the ``rng`` handling shared by the data helpers (internal: not re-exported)."""

from __future__ import annotations

import numpy as np

RandomLike = int | np.random.Generator | None


def as_generator(rng: RandomLike) -> np.random.Generator:
    """Turn an int seed, a Generator or None into a Generator (a Generator is used as is)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or (isinstance(rng, (int, np.integer)) and not isinstance(rng, bool)):
        return np.random.default_rng(rng)
    raise TypeError(f"rng must be an int seed, a numpy.random.Generator or None, got {rng!r}")


def check_same_length(X: np.ndarray, y: np.ndarray) -> None:
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(
            f"X and y must be arrays with one entry per sample, got shapes {X.shape} and {y.shape}"
        )
    if len(X) != len(y):
        raise ValueError(
            f"X and y must have the same number of samples, got len(X)={len(X)} and len(y)={len(y)}"
        )


def is_int(n: object) -> bool:
    return isinstance(n, (int, np.integer)) and not isinstance(n, bool)
