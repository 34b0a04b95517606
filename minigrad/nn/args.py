"""Argument checks and input conversion the layers share (sizes, dtypes, inputs)."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.value import Value


def positive_int(layer: str, what: str, n: Any) -> int:
    """`n` as an int, if it is a positive integer (not a bool); else a ValueError."""
    if isinstance(n, (bool, np.bool_)) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{layer}: {what} must be a positive integer, got {n!r}")
    return int(n)


def float_dtype(layer: str, dtype: Any) -> np.dtype:
    """`dtype` as a numpy float dtype; else a TypeError."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"{layer}: dtype must be a float type, got {dtype}")
    return dtype


def as_input(x: Any, dtype: np.dtype | None) -> Any:
    """A Value as it is; anything else a constant array (in the layer's dtype, if it has one,
    as `Linear` does: a float64 array given to a float32 layer is converted)."""
    if isinstance(x, Value):
        return x
    x = np.asarray(x)
    if dtype is not None and x.dtype != dtype:
        x = x.astype(dtype)
    return x
