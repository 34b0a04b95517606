"""The ONNX graph under construction: nodes, initializers, unique names, and the small pieces
every converter needs (int64 constants, the batch size at run time, shape tensors, reductions
written the way the chosen opset wants them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from minigrad.onnx.checks import ExportError
from minigrad.onnx.trace import Batch, Node, describe, dims_of

INT64_MAX = np.iinfo(np.int64).max
INT64_MIN = np.iinfo(np.int64).min


class Builder:
    """Collects ONNX nodes and initializers; `names` maps graph node indices to tensor names."""

    def __init__(self, onnx: Any, opset: int) -> None:
        self.onnx = onnx
        self.helper = onnx.helper
        self.opset = opset
        self.nodes: list = []
        self.initializers: list = []
        self.names: dict[int, str] = {}  # graph node index -> tensor name
        self._taken: set[str] = set()
        self._cache: dict[Any, str] = {}
        self.batch_source: tuple[str, int] | None = None  # (input name, axis) for Shape
        self.node_label = "node"  # prefix of ONNX node names: the minigrad node being written

    # ----- names -------------------------------------------------------------------------
    def fresh(self, hint: str) -> str:
        """A tensor or node name not used yet, made from `hint`."""
        hint = "".join(c if c.isalnum() or c in "._" else "_" for c in hint) or "t"
        name, i = hint, 1
        while name in self._taken:
            name, i = f"{hint}_{i}", i + 1
        self._taken.add(name)
        return name

    def reserve(self, name: str) -> str:
        """Take an exact name (an input, an output, a parameter); it must be free."""
        if name in self._taken:
            raise ValueError(f"export: the name {name!r} is used twice")
        self._taken.add(name)
        return name

    # ----- nodes and constants ---------------------------------------------------------------
    def add(self, op_type: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        """Append one node; returns its (first) output's name."""
        out = output or self.fresh(f"{self.node_label}.{op_type}")
        node = self.helper.make_node(
            op_type, inputs, [out], name=self.fresh(f"{self.node_label}/{op_type}"), **attrs
        )
        self.nodes.append(node)
        return out

    def add_many(self, op_type: str, inputs: list[str], count: int, **attrs: Any) -> list[str]:
        """Append one node with `count` outputs (an LSTM's Y, Y_h, Y_c); returns their names."""
        outs = [self.fresh(f"{self.node_label}.{op_type}.{i}") for i in range(count)]
        node = self.helper.make_node(
            op_type, inputs, outs, name=self.fresh(f"{self.node_label}/{op_type}"), **attrs
        )
        self.nodes.append(node)
        return outs

    def initializer(self, array: np.ndarray, name: str, exact: bool = False) -> str:
        """An initializer holding `array` (its dtype kept), under `name` (or a fresh name)."""
        name = self.reserve(name) if exact else self.fresh(name)
        arr = np.array(array, order="C")  # (ascontiguousarray would make a 0-d array 1-d)
        self.initializers.append(self.onnx.numpy_helper.from_array(arr, name))
        return name

    def const(self, value: Any, dtype: Any, hint: str = "const") -> str:
        """A float constant in `dtype` (a Python float becomes a 0-d tensor); cached by value
        for scalars, so repeated `* 2.0` share one initializer."""
        arr = np.asarray(value, dtype=dtype)
        key = ("const", arr.dtype.str, float(arr)) if arr.ndim == 0 else None
        if key is not None and key in self._cache:
            return self._cache[key]
        name = self.initializer(arr, hint)
        if key is not None:
            self._cache[key] = name
        return name

    def ints(self, values: Any) -> str:
        """A 1-d int64 constant (axes, shapes, starts...), one initializer per distinct tuple."""
        values = tuple(int(v) for v in values)
        key = ("ints", values)
        if key not in self._cache:
            self._cache[key] = self.initializer(np.array(values, dtype=np.int64), "ints")
        return self._cache[key]

    def once(self, key: Any, make: Callable[[], str]) -> str:
        """`make()`'s tensor name, made the first time `key` is asked for, then remembered."""
        if key not in self._cache:
            self._cache[key] = make()
        return self._cache[key]

    def cast(self, name: str, dtype: Any) -> str:
        """`name` converted to a float dtype (one Cast per tensor and dtype)."""
        to = self.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
        key = ("cast", name, to)
        if key not in self._cache:
            self._cache[key] = self.add("Cast", [name], to=to)
        return self._cache[key]

    # ----- sizes that follow the batch ---------------------------------------------------------
    def batch_size(self) -> str:
        """A 1-d int64 tensor [N]: the batch size of this run, read from the input's shape."""
        if "batch" not in self._cache:
            source, axis = self.batch_source
            shape = self.add("Shape", [source])
            self._cache["batch"] = self.add("Gather", [shape, self.ints([axis])], axis=0)
        return self._cache["batch"]

    def shape_tensor(self, dims: tuple) -> str:
        """A 1-d int64 tensor of `dims`: a constant if no entry is Batch(k), otherwise the
        static runs and k * N concatenated at run time."""
        if not any(isinstance(d, Batch) for d in dims):
            return self.ints(dims)
        key = ("shape", dims)
        if key in self._cache:
            return self._cache[key]
        pieces, run = [], []
        for d in dims:
            if isinstance(d, Batch):
                if run:
                    pieces.append(self.ints(run))
                    run = []
                n = self.batch_size()
                pieces.append(n if d.k == 1 else self.add("Mul", [n, self.ints([d.k])]))
            else:
                run.append(d)
        if run:
            pieces.append(self.ints(run))
        out = pieces[0] if len(pieces) == 1 else self.add("Concat", pieces, axis=0)
        self._cache[key] = out
        return out

    def count(self, x: str, axes: tuple, dims: tuple, dtype: Any) -> str:
        """How many entries of x (of shape `dims`) the axes hold, as a 0-d float tensor."""
        if not any(isinstance(dims[a], Batch) for a in axes):
            return self.const(float(np.prod([dims[a] for a in axes])), dtype)
        shape = self.add("Shape", [x])
        sizes = self.add("Gather", [shape, self.ints(axes)], axis=0)
        total = self.reduce("ReduceProd", sizes, (0,), keepdims=False)
        return self.cast(total, dtype)

    # ----- ops whose form changed between opsets ------------------------------------------------
    def reduce(
        self, op_type: str, x: str, axes: tuple, keepdims: bool, output: str | None = None
    ) -> str:
        """A Reduce* node over `axes` (never empty here): axes as an input for ReduceSum from
        opset 13 and for the others from opset 18, as an attribute before."""
        keep = int(bool(keepdims))
        if op_type == "ReduceSum" or self.opset >= 18:
            return self.add(op_type, [x, self.ints(axes)], output, keepdims=keep)
        return self.add(op_type, [x], output, axes=list(axes), keepdims=keep)

    def squeeze(self, x: str, axes: tuple, output: str | None = None) -> str:
        return self.add("Squeeze", [x, self.ints(axes)], output)

    def unsqueeze(self, x: str, axes: tuple, output: str | None = None) -> str:
        return self.add("Unsqueeze", [x, self.ints(axes)], output)


@dataclass
class Emit:
    """What a converter gets for one minigrad node: the builder, the node, its inputs' graph
    nodes and (`ins`) their tensor names in the node's dtype."""

    b: Builder
    node: Node
    tensor: Callable[[Node], str]  # a graph node's tensor name in this node's dtype
    parents: list[Node]
    int_inputs: list[str]  # the integer graph inputs' names
    n: tuple[int, int] | None  # the two runs' batch sizes (None: a fixed batch)
    nodes: list[Node]  # the whole graph, for converters that fuse a few nodes

    @property
    def ins(self) -> list[str]:
        """The inputs' tensor names (made on first use: a converter may need only some)."""
        return [self.tensor(p) for p in self.parents]

    @property
    def out(self) -> str:
        """The tensor name the converter writes the node's result to."""
        return self.b.names[self.node.index]

    @property
    def params(self) -> dict:
        return self.node.params

    @property
    def dtype(self) -> np.dtype:
        return self.node.value.dtype

    @property
    def dims(self) -> tuple:
        return self.node.dims

    def in_dims(self, i: int = 0) -> tuple:
        return self.parents[i].dims

    def param_dims(self, key: str) -> tuple:
        """A shape parameter (reshape's, broadcast_to's) with Batch(k) where it follows the
        batch between the two runs."""
        mine = tuple(self.params[key])
        return dims_of(mine, tuple(self.node.other_params[key]), self.n, self.node)

    def refuse(self, why: str) -> ExportError:
        """The error for a parameter this converter cannot write (raise it)."""
        return ExportError(f"export: cannot export {describe(self.node)}: {why}")

    def fed(self, key: str) -> str | None:
        """The integer input's name if parameter `key` is that input (Embedding's indices)."""
        j = self.node.fed.get(key)
        return None if j is None else self.int_inputs[j]


@dataclass(frozen=True)
class Converter:
    """How one minigrad op becomes ONNX nodes; `dynamic` lists the parameters it can take
    when they follow the batch size (any other parameter must be the same in both runs)."""

    fn: Callable[[Emit], None]
    dynamic: tuple[str, ...] = ()


CONVERTERS: dict[type, Converter] = {}


def converts(*ops: type, dynamic: tuple[str, ...] = ()) -> Callable:
    """Decorator: file a converter function under the op classes it writes."""

    def decorate(fn: Callable[[Emit], None]) -> Callable[[Emit], None]:
        for op in ops:
            CONVERTERS[op] = Converter(fn, dynamic)
        return fn

    return decorate
