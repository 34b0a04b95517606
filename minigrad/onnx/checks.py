"""What `export` checks before it runs anything: its arguments, the example inputs, the opset,
and the one error it raises for a model it cannot write (`ExportError`)."""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from minigrad.value import Value

# ONNX Runtime 1.16 and later run opset 17 (LayerNormalization is there, the Reduce ops still
# take their axes as an attribute except ReduceSum); 13 is the first opset whose Squeeze,
# Unsqueeze and ReduceSum take axes as an input, which is how this exporter writes them.
DEFAULT_OPSET = 17
MIN_OPSET = 13


class ExportError(ValueError):
    """A model (or an op in it) that minigrad.onnx cannot write; no file has been written."""


def import_onnx() -> Any:
    """The `onnx` package, or an ImportError that says how to install it."""
    try:
        import onnx
    except ImportError as err:
        raise ImportError(
            "minigrad.onnx.export needs the onnx package: pip install onnx onnxruntime "
            '(or pip install -e ".[onnx]" in a minigrad checkout)'
        ) from err
    return onnx


def check_path(path: Any) -> str:
    """The output path as a string; its directory must exist (nothing is created)."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"export: path must be a str or os.PathLike, got {type(path).__name__}")
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise ValueError(f"export: the folder of {path!r} does not exist")
    if os.path.isdir(path):
        raise ValueError(f"export: {path!r} is a folder, give a file name such as model.onnx")
    return path


def check_opset(opset: Any, newest: int) -> int:
    """The opset to write: `DEFAULT_OPSET` for None, else an int from MIN_OPSET to `newest`
    (the newest the installed onnx package knows)."""
    if opset is None:
        return DEFAULT_OPSET
    if isinstance(opset, bool) or not isinstance(opset, (int, np.integer)):
        raise TypeError(f"export: opset must be an int or None, got {type(opset).__name__}")
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(
            f"export: opset {opset} is not supported; give one from {MIN_OPSET} to {newest} "
            f"(the newest the installed onnx package knows), default {DEFAULT_OPSET}"
        )
    return int(opset)


def example_arrays(example_input: Any) -> list[np.ndarray]:
    """The example as a list of arrays: a tuple gives several inputs, anything else one.

    Float arrays (float16/32/64) become Values the model is run on; integer arrays (token ids
    for an Embedding) are passed to the model as they are and become int64 inputs."""
    items = example_input if isinstance(example_input, tuple) else (example_input,)
    if not items:
        raise ValueError("export: example_input is an empty tuple; give at least one input")
    arrays = []
    for i, item in enumerate(items):
        arr = np.asarray(item.data if isinstance(item, Value) else item)
        if arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        elif arr.dtype.kind != "f":
            raise TypeError(
                f"export: input {i} must hold floats or integers, got dtype {arr.dtype} "
                f"(shape {arr.shape})"
            )
        arrays.append(arr)
    return arrays


def check_names(names: Any, count: int, what: str, default: str) -> list[str]:
    """`count` distinct names: the given ones, or `default` ('input_0', ... when several)."""
    if names is None:
        return [default] if count == 1 else [f"{default}_{i}" for i in range(count)]
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if not all(isinstance(n, str) and n for n in names):
        raise TypeError(f"export: {what} must be non-empty strings, got {names!r}")
    if len(names) != count:
        raise ValueError(f"export: {len(names)} {what} given for {count} {what.split('_')[0]}s")
    if len(set(names)) != len(names):
        raise ValueError(f"export: {what} must be distinct, got {names!r}")
    return names


def check_batch(arrays: list[np.ndarray], dynamic_batch: Any, batch_axis: Any) -> int | None:
    """The example's batch size when the batch is dynamic (None otherwise): every input with
    more than `batch_axis` axes must have the same size along it."""
    if not isinstance(dynamic_batch, (bool, np.bool_)):
        raise TypeError(f"export: dynamic_batch must be True or False, got {dynamic_batch!r}")
    if not dynamic_batch:
        return None
    if isinstance(batch_axis, bool) or not isinstance(batch_axis, (int, np.integer)):
        raise TypeError(f"export: batch_axis must be an int, got {batch_axis!r}")
    if batch_axis < 0:
        raise ValueError(f"export: batch_axis must be 0 or more, got {batch_axis}")
    sizes = {a.shape[batch_axis] for a in arrays if a.ndim > batch_axis}
    shapes = [a.shape for a in arrays]
    if not sizes:
        raise ValueError(
            f"export: dynamic_batch=True needs an input with a batch axis {batch_axis}, got "
            f"inputs of shapes {shapes}; pass dynamic_batch=False"
        )
    if len(sizes) > 1:
        raise ValueError(
            f"export: the inputs disagree on the batch size along axis {batch_axis}: shapes "
            f"{shapes}"
        )
    size = sizes.pop()
    if size == 0:
        raise ValueError(f"export: the example's batch is empty (shapes {shapes})")
    return size
