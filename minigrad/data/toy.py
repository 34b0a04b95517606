"""Small generated problems: ``make_moons`` (two interleaving half circles) and ``xor``."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .checks import RandomLike, as_generator, is_int

__all__ = ["make_moons", "xor"]


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
    if not is_int(n) or n < 1:
        raise ValueError(f"n must be a positive integer, got n={n!r}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got noise={noise}")
    gen = as_generator(seed)
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
