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


def call_checked(module: Any, args: tuple, kwargs: dict) -> Any:
    """`module(*args, **kwargs)` in general (`Module.__call__` takes this path for all but the
    usual call). Inputs of strings, objects or complex numbers get an error naming the module
    and the dtype: an array as the first argument (the input) is tested before forward; the
    other arguments, and lists, only when forward fails (the layers' conversion refuses them)."""
    x = args[0] if args else None
    if type(x) is np.ndarray and x.dtype.kind not in NUMERIC_KINDS or kwargs:
        if (error := non_numeric_error(module, args, kwargs)) is not None:
            raise error
    try:
        if module._hooks:  # forward and backward hooks (nn/hooks.py)
            return module._call_with_hooks(args, kwargs)
        return module.forward(*args, **kwargs)
    except (TypeError, ValueError) as err:
        raise_named_input_error(module, err, args, kwargs)
        raise


def raise_named_input_error(module: Any, err: Exception, args: tuple, kwargs: dict) -> None:
    """After forward failed with err: if an input holds strings, objects or complex numbers,
    raise the error that names the module, the argument and the dtype instead."""
    error = non_numeric_error(module, args, kwargs)
    if error is not None:
        raise error from err
