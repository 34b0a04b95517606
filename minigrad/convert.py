"""`to_data`: how user input (numbers, lists, numpy arrays) becomes the data of a `Value`;
`data_text`, how that data is shown in a repr; and `warn_long_iteration`, the one warning a
`for` loop (or Python's `sum`) over a long array Value gives.

A Python float for a single number, a float numpy array otherwise; float32 and float16 are
kept, every other real type becomes float64, and anything else is an error naming what was given.
`minigrad.value` re-exports to_data (`from minigrad.value import Value, to_data`).
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

__all__ = ["data_text", "to_data", "warn_long_iteration"]


def to_data(x: Any, what: str = "Value") -> float | np.ndarray:
    """Turn user input into Value data: a Python float, or a float numpy array.

    Python ints, bools and floats, and numpy float64, int and bool scalars, become a Python float
    (so `Value(row[0])` on a float64 numpy row is as fast as micrograd's inputs); float32 and
    float16 scalars become 0-d arrays that keep their dtype. Lists and arrays become arrays
    (float32 and float16 are kept, every other real type becomes float64). Complex numbers,
    strings, objects, None and ragged lists raise an error that names what was given.
    """
    if type(x) is float:
        return x
    if isinstance(x, (numbers.Real, np.bool_)) and not isinstance(x, (np.float32, np.float16)):
        return float(x)
    if isinstance(x, np.ndarray):
        arr = x
    elif isinstance(x, np.generic):
        arr = np.asarray(x)
    elif isinstance(x, (list, tuple)):
        try:
            arr = np.array(x)
        except ValueError as err:
            raise ValueError(
                f"{what}: cannot make an array from a ragged (inhomogeneous) nested sequence: "
                f"{_short(x)}"
            ) from err
    elif hasattr(x, "_op"):  # a Value (this module cannot import the class: value.py imports it)
        return x.data
    else:
        raise TypeError(
            f"{what}: expected a number, a list or a numpy array, got {type(x).__name__}: "
            f"{_short(x)}"
        )
    kind = arr.dtype.kind
    if kind == "f":
        return arr
    if kind in "biu":
        return arr.astype(np.float64)
    if kind == "c":
        raise TypeError(f"{what}: complex data is not supported (got dtype {arr.dtype})")
    raise TypeError(
        f"{what}: expected numbers, got an array of dtype {arr.dtype} (from {_short(x)})"
    )


def _short(x: Any, limit: int = 60) -> str:
    text = repr(x)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def data_text(x: Any) -> str:
    """A compact text for a float or an array (a Value's data or grad), used by repr."""
    if x is None:
        return "None"
    if type(x) is float or hasattr(x, "_op"):  # a float, or a Value (a grad of a grad)
        return repr(x)
    if x.size <= 6:
        return np.array2string(x, precision=4, separator=", ")
    return f"array(shape={x.shape}, dtype={x.dtype})"


# Iterating a Value makes one Value (a graph node) per row, and Python's `sum(v)` then one more
# per addition: 20,000 entries took 281 ms against 0.14 ms for `v.sum()`. Said once per process,
# for Values of at least LONG rows (unpacking `a, b = v` or looping over a few rows is fine).
LONG = 100
_warned = False


def warn_long_iteration(shape: tuple[int, ...]) -> None:
    """Warn (once) that iterating a Value of `shape` builds one graph node per row."""
    global _warned
    if _warned or shape[0] < LONG:
        return
    _warned = True
    warnings.warn(
        f"iterating over a Value of shape {shape} makes one Value (a graph node) per row, and "
        "Python's sum() adds them one at a time, which is very slow: use v.sum() or "
        "v.sum(axis=0) instead (or iterate over v.data when no gradient is needed). "
        "This warning is shown once.",
        stacklevel=3,
    )
