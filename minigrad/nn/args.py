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
    as `Linear` does: a float64 array given to a float32 layer is converted). Strings, objects
    (None becomes NaN in a float cast) and complex numbers (their imaginary part would be
    dropped) are refused; `Module.__call__` names the module in that error."""
    if isinstance(x, Value):
        return x
    x = np.asarray(x)
    if x.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"expected numbers, got an array of dtype {x.dtype}")
    if dtype is not None and x.dtype != dtype:
        x = x.astype(dtype)
    return x


# numpy's dtype kinds a layer takes: bool, signed and unsigned ints, floats
NUMERIC_KINDS = "biuf"


def non_numeric_error(module: Any, args: tuple, kwargs: dict) -> TypeError | None:
    """The error for a module given an array (or a list) of strings, objects or complex
    numbers, naming the module, the argument and the dtype; None if every input holds numbers.

    `Module.__call__` tests numpy arrays before calling forward (one type test per argument),
    and calls this only when forward has failed, for lists: a list is converted to find its
    dtype, which would cost the scalar engine too much on every call."""
    named = [(f"argument {i}", x) for i, x in enumerate(args)] + list(kwargs.items())
    for what, x in named:
        if not isinstance(x, (np.ndarray, list, tuple)):
            continue
        try:
            dtype = np.asarray(x).dtype
        except (ValueError, TypeError):  # ragged, or nothing numpy can hold: not ours to name
            continue
        if dtype.kind not in NUMERIC_KINDS:
            kind = "a list" if isinstance(x, (list, tuple)) else "an array"
            hint = " (complex numbers are not supported)" if dtype.kind == "c" else ""
            return TypeError(
                f"{type(module).__name__}: expected numbers (a Value, a float array or a list "
                f"of numbers), got {kind} of dtype {dtype}{hint} as {what}, of shape "
                f"{np.shape(x)}"
            )
    return None
