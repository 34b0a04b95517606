"""Running a model for export: its recorded graph in order, and which sizes follow the batch.

The model runs twice: the second time on the example's own entries along the batch axis,
rotated by one (and, for a dynamic batch, one more of them), with the last one's numbers
rotated too (see `vary`). The two graphs must match node for node. A size that differs between
them is a multiple of the batch size (`Batch(k)`); a constant or an op parameter that differs
either follows the batch in a way the ONNX graph can compute (a reshape to (N, -1), zeros of
shape (N, H)), or would freeze this example's values into the file: then the export stops with
an error naming the node.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigrad.engine import enable_grad
from minigrad.onnx.checks import ExportError
from minigrad.value import Value


@dataclass(frozen=True)
class Batch:
    """A size that is k times the batch size (k = 1: the batch axis itself)."""

    k: int = 1


@dataclass
class Node:
    """One Value of the graph: an input, a parameter, a constant, or the result of an op."""

    index: int
    value: Value  # from the run on the example
    kind: str  # "input", "param", "const" or "op"
    parents: list[int]
    dims: tuple  # the shape, with Batch(k) where a size follows the batch
    other: Value | None = None  # the same node in the second run (None: fixed batch)
    name: str | None = None  # an input's or a parameter's name
    changed: set = field(default_factory=set)  # parameters that differ between the runs
    fed: dict = field(default_factory=dict)  # parameter -> integer input that it is
    row: np.ndarray | None = None  # a constant that repeats along the batch: one row of it
    batch_scalar: int | None = None  # a constant that is k times the batch size
    problem: str | None = None  # why this constant cannot be written (raised where used)
    skip: bool = False  # written by a later node that fuses it (an RNN's input projection)
    fused: tuple | None = None  # what that later node took over (see ops_recurrent.py)

    @property
    def params(self) -> dict:
        return self.value._params or {}

    @property
    def other_params(self) -> dict:
        if self.other is None:
            return self.params
        return self.other._params or {}


@dataclass
class Graph:
    nodes: list[Node]
    outputs: list[int]  # node index of each output
    int_inputs: list[tuple[str, np.ndarray, np.ndarray]]  # name, run one's, run two's array
    input_dims: list[tuple]  # of every input, in order


def run(model: Any, arrays: list[np.ndarray], names: list[str]) -> tuple[list, list[Value]]:
    """Call the model once: float arrays as Values that require grad (so every op on them is
    recorded), integer arrays as they are; returns the arguments and the flattened outputs."""
    args = [
        Value(a, requires_grad=True, label=name) if a.dtype.kind == "f" else a
        for a, name in zip(arrays, names)
    ]
    with enable_grad():
        result = model(*args)
    outputs: list[Value] = []
    _flatten(result, outputs)
    if not outputs:
        raise ExportError("export: the model returned no Value to export")
    return args, outputs


def _flatten(result: Any, into: list[Value]) -> None:
    """Outputs in order: a Value, or tuples and lists of them (an LSTM's (out, (h, c)));
    None (MultiheadAttention's weights with need_weights=False) is left out."""
    if isinstance(result, Value):
        into.append(result)
    elif isinstance(result, (tuple, list)):
        for item in result:
            _flatten(item, into)
    elif result is not None:
        raise ExportError(
            f"export: the model returned a {type(result).__name__}, not a Value (or a tuple of "
            "Values): only what is computed from the input Values can be exported"
        )


def topo_order(outputs: list[Value]) -> list[Value]:
    """Every Value the outputs depend on, each after its parents (iterative: no recursion)."""
    order: list[Value] = []
    seen: set[int] = set()
    for root in outputs:
        stack = [(root, False)]
        while stack:
            v, done = stack.pop()
            if done:
                order.append(v)
                continue
            if id(v) in seen:
                continue
            seen.add(id(v))
            stack.append((v, True))
            stack.extend((p, False) for p in reversed(v.parents) if id(p) not in seen)
    return order


def build(
    runs: list[tuple[list, list[Value]]],
    input_names: list[str],
    param_names: dict[int, str],
    n: tuple[int, int] | None,
) -> Graph:
    """The graph of the first run, compared with the second's when there are two (n: the two
    batch sizes, None for a fixed batch). `param_names` maps id(Value) or id(array) of
    parameters and buffers to their names."""
    (args, outputs), other = runs[0], runs[1] if len(runs) > 1 else None
    order = topo_order(outputs)
    other_order = topo_order(other[1]) if other else None
    if other and len(other_order) != len(order):
        raise depends(f"{len(order)} nodes in one run, {len(other_order)} in the other", n)
    position = {id(v): i for i, v in enumerate(order)}
    other_position = {id(v): i for i, v in enumerate(other_order)} if other else {}
    inputs = {id(a): name for a, name in zip(args, input_names) if isinstance(a, Value)}
    nodes = []
    for i, v in enumerate(order):
        node = Node(i, v, _kind(v, inputs, param_names), [position[id(p)] for p in v.parents], ())
        node.name = inputs.get(id(v)) or param_names.get(id(v))
        if node.name is None and v.is_leaf and isinstance(v.data, np.ndarray):
            node.name = param_names.get(id(v.data))  # a buffer used as a raw array
        if other:
            node.other = other_order[i]
            _match(node, other_position, n)
        node.dims = dims_of(v.shape, node.other.shape if other else v.shape, n, node)
        nodes.append(node)
    int_inputs = [
        (name, a, other[0][j] if other else a)
        for j, (a, name) in enumerate(zip(args, input_names))
        if not isinstance(a, Value)
    ]
    for node in nodes:
        if node.kind == "op":
            _compare_params(node, int_inputs)
        elif node.kind == "const" and other:
            _compare_constant(node, n)
    input_dims = [
        dims_of(np.shape(a), np.shape(b), n, None)
        for a, b in zip(args, other[0] if other else args)
    ]
    return Graph(nodes, [position[id(v)] for v in outputs], int_inputs, input_dims)


def _kind(v: Value, inputs: dict, param_names: dict) -> str:
    if not v.is_leaf:
        return "op"
    if id(v) in inputs:
        return "input"
    if id(v) in param_names or id(v.data) in param_names or v.requires_grad:
        return "param"
    return "const"


def depends(why: str, n: tuple | None, node: Node | None = None, user: Node | None = None):
    """The error for a graph that changes between the two runs (n: the batch sizes, None when
    the batch was fixed and only the example's values changed)."""
    where = f" at {describe(node)}" if node is not None else ""
    if user is not None:
        where += f", an input of {describe(user)}"
    if n is None:
        return ExportError(
            f"export: the model's graph changes with the input's values{where} ({why}): this "
            "example's values would be frozen into the file. Compute it with minigrad ops on "
            "the input Values instead"
        )
    return ExportError(
        f"export: the model's graph changes with the batch size{where} ({why}), so it cannot "
        "be exported with a dynamic batch; pass dynamic_batch=False to fix the batch size (or "
        "batch_axis=1 if the inputs are laid out (L, N, ...), as an RNN's with batch_first=False)"
    )


def describe(node: Node) -> str:
    """How errors name a node: its op, its position in the graph and its label."""
    v = node.value
    what = f"op {op_name(v)!r}" if not v.is_leaf else f"{node.kind} leaf"
    return f"node {node.index} ({what}, label {v.label!r}, shape {v.shape})"


def op_name(v: Value) -> str:
    """The op's public name (as registered, e.g. 'add' for +), else its class name."""
    from minigrad.ops.registry import REGISTRY

    for name, op in REGISTRY.items():
        if op is v._op:
            return name
    return getattr(v._op, "name", None) or type(v._op).__name__


def _match(node: Node, position: dict[int, int], n: tuple[int, int]) -> None:
    v, w = node.value, node.other
    if v._op is not w._op or [position.get(id(p)) for p in w.parents] != node.parents:
        raise depends("a different op or different inputs there in the other run", n, node)
    if v.ndim != w.ndim or v.dtype != w.dtype or (n is None and v.shape != w.shape):
        raise depends(f"shape {v.shape} in one run, {w.shape} in the other", n, node)
    if node.kind == "param" and v is not w:
        if node.name is not None:
            raise depends("a different parameter Value in the other run", n, node)
        node.kind = "const"  # a leaf made afresh by each call (a zero state): a constant


def dims_of(a: tuple, b: tuple, n: tuple[int, int] | None, node: Node | None) -> tuple:
    """The shape `a` with Batch(k) where it differs from `b` as k times the batch sizes."""
    if n is None or tuple(a) == tuple(b):
        return tuple(int(s) for s in a)
    if len(a) != len(b):
        raise depends(f"shape {tuple(a)} at batch {n[0]}, {tuple(b)} at {n[1]}", n, node)
    dims = []
    for sa, sb in zip(a, b):
        if sa == sb:
            dims.append(int(sa))
        elif sa % n[0] == 0 and sb % n[1] == 0 and sa // n[0] == sb // n[1]:
            dims.append(Batch(int(sa // n[0])))
        else:
            raise depends(f"sizes {tuple(a)} at batch {n[0]}, {tuple(b)} at {n[1]}", n, node)
    return tuple(dims)


def same(a: Any, b: Any) -> bool:
    """Equal op parameters or constants (arrays by shape, dtype and entries)."""
    if a is b:
        return True
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return (
            isinstance(a, np.ndarray)
            and isinstance(b, np.ndarray)
            and a.shape == b.shape
            and a.dtype == b.dtype
            and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
        )
    if isinstance(a, (tuple, list)):
        return type(a) is type(b) and len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, slice):
        return isinstance(b, slice) and same((a.start, a.stop, a.step), (b.start, b.stop, b.step))
    if isinstance(a, numbers.Number) and isinstance(b, numbers.Number):
        return a == b or (a != a and b != b)  # nan equals nan here
    if type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _compare_params(node: Node, int_inputs: list) -> None:
    _find_fed(node, int_inputs)
    mine, theirs = node.params, node.other_params
    for key in mine:
        if key not in node.fed and not same(mine[key], theirs.get(key)):
            node.changed.add(key)


def _find_fed(node: Node, int_inputs: list) -> None:
    """Parameters that are an integer input (Embedding's indices): in both runs."""
    mine, theirs = node.params, node.other_params
    for key, value in mine.items():
        if not isinstance(value, np.ndarray) or value.dtype.kind not in "iu":
            continue
        for j, (_, a, b) in enumerate(int_inputs):
            if same(value.astype(np.int64), a) and same(np.asarray(theirs[key], np.int64), b):
                node.fed[key] = j
                break


def _compare_constant(node: Node, n: tuple[int, int] | None) -> None:
    """Is this constant the same in both runs, or one that follows the batch? Otherwise note
    the problem, raised only if a converter needs the constant."""
    a, b = node.value.data, node.other.data
    if same(a, b):
        return
    if n is None:
        node.problem = "a constant that differs between the runs"
        return
    if np.ndim(a) == 0:
        if a / n[0] == b / n[1] and float(a / n[0]).is_integer():
            node.batch_scalar = int(a / n[0])
        else:
            node.problem = f"a constant {a} at batch {n[0]}, {b} at {n[1]}"
        return
    node.row = batch_row(a, b, n)
    if node.row is None:
        node.problem = "a constant that is not one row repeated along the batch"


def batch_row(a: Any, b: Any, n: tuple[int, int] | None) -> np.ndarray | None:
    """`a` cut to size 1 along its batch axes, when `a` and the second run's `b` are that one
    row repeated along them (zeros of shape (N, H), a mask broadcast to (N, heads, L, L));
    None otherwise."""
    a, b = np.asarray(a), np.asarray(b)
    if n is None or a.ndim != b.ndim:
        return None
    try:
        dims = dims_of(a.shape, b.shape, n, None)
    except ExportError:
        return None
    axes = tuple(i for i, d in enumerate(dims) if isinstance(d, Batch))
    if not axes or any(dims[i] != Batch(1) for i in axes):
        return None
    row_a, row_b = _first(a, axes), _first(b, axes)
    nan = a.dtype.kind == "f"
    if not np.array_equal(a, np.broadcast_to(row_a, a.shape), equal_nan=nan):
        return None
    if not np.array_equal(b, np.broadcast_to(row_b, b.shape), equal_nan=nan):
        return None
    return row_a if same(row_a, row_b) else None


def _first(a: np.ndarray, axes: tuple) -> np.ndarray:
    index = tuple(slice(0, 1) if i in axes else slice(None) for i in range(a.ndim))
    return a[index]


def vary(arrays: list[np.ndarray], axis: int, size: int) -> list[np.ndarray]:
    """The second run's inputs: `size` entries along the batch axis (the example's own,
    repeated), rotated by one, and the last entry's numbers rotated among themselves, so that
    no entry is where it was (unless the example repeats itself). Sizes that follow the batch,
    and values that follow the input, then differ between the two runs."""
    varied = []
    for a in arrays:
        if a.ndim <= axis or a.shape[axis] == 0:
            varied.append(a)
            continue
        b = np.roll(np.take(a, np.arange(size) % a.shape[axis], axis=axis), 1, axis=axis)
        last = np.take(b, [size - 1], axis=axis)
        index = [slice(None)] * b.ndim
        index[axis] = slice(size - 1, size)
        b[tuple(index)] = np.roll(last.ravel(), 1).reshape(last.shape)
        varied.append(b)
    return varied
