"""`export`: run a model on an example, turn its recorded graph into an ONNX model, check it,
and write it (all or nothing: a failed export leaves no file behind)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import Any

import numpy as np

from minigrad.onnx import ops_conv, ops_math, ops_shape  # noqa: F401  (they fill CONVERTERS)
from minigrad.onnx.builder import CONVERTERS, Builder, Emit
from minigrad.onnx.checks import (
    ExportError,
    check_batch,
    check_names,
    check_opset,
    check_path,
    example_arrays,
    import_onnx,
)
from minigrad.onnx.ops_recurrent import fuse_projections
from minigrad.onnx.trace import (
    Batch,
    Graph,
    Node,
    build,
    depends,
    describe,
    op_name,
    run,
    vary,
)
from minigrad.ops.conv import Conv1dWeight, Conv2dWeight
from minigrad.ops.loss import SoftmaxCrossEntropy
from minigrad.ops.shape import ScatterAdd

# Ops that are left out on purpose, with what to do instead.
HINTS = {
    SoftmaxCrossEntropy: "it is a loss: export the model that computes the logits, not its loss",
    ScatterAdd: "it appears in gradient graphs (indexing's backward), not in a model's forward",
    Conv1dWeight: "it is conv1d's weight gradient, not part of a model's forward",
    Conv2dWeight: "it is conv2d's weight gradient, not part of a model's forward",
}


def export(
    model: Any,
    example_input: Any,
    path: Any,
    input_names: list[str] | None = None,
    output_names: list[str] | None = None,
    dynamic_batch: bool = True,
    opset: int | None = None,
    *,
    batch_axis: int = 0,
) -> Any:
    """Write `model` (a Module, or any callable of Values) as an ONNX file at `path`.

    The model runs once on `example_input` (an array, or a tuple of arrays for several inputs;
    float arrays are given to it as Values, integer arrays such as token ids as they are), in
    eval mode as PyTorch's exporter does; the recorded graph becomes ONNX nodes and the
    parameters initializers named as in `state_dict()`. With `dynamic_batch` the size along
    `batch_axis` of every input (0 by default; 1 for a sequence model with batch_first=False)
    is left free: the model runs a second time at another batch size, and everything that
    follows the batch is computed at run time. `opset` defaults to 17. Returns the ONNX
    ModelProto. An op without an ONNX form raises ExportError before anything is written.

    >>> import numpy as np, minigrad as mg, minigrad.onnx
    >>> model = mg.nn.Sequential(mg.nn.Linear(4, 8), mg.nn.ReLU(), mg.nn.Linear(8, 3))
    >>> proto = mg.onnx.export(model, np.zeros((2, 4)), "mlp.onnx")  # doctest: +SKIP
    """
    path = check_path(path)
    onnx = import_onnx()
    opset = check_opset(opset, onnx.defs.onnx_opset_version())
    if not callable(model):
        raise TypeError(f"export: model must be a Module or a callable, got {type(model).__name__}")
    arrays = example_arrays(example_input)
    input_names = check_names(input_names, len(arrays), "input_names", "input")
    batch = check_batch(arrays, dynamic_batch, batch_axis)
    with _eval_mode(model):
        runs = [run(model, arrays, input_names)]
        size = batch + 1 if batch is not None else _batch_size(arrays, batch_axis)
        runs.append(_second_run(model, vary(arrays, batch_axis, size), input_names, batch_axis))
    sizes = None if batch is None else (batch, batch + 1)
    graph = build(runs, input_names, _parameter_names(model), sizes)
    output_names = check_names(output_names, len(graph.outputs), "output_names", "output")
    _check_inputs_used(graph, runs[0][0], input_names)
    names = (input_names, output_names)
    proto = _model_proto(onnx, graph, model, opset, arrays, names, sizes, batch_axis)
    try:
        onnx.checker.check_model(proto, full_check=True)
    except Exception as err:  # the checker raises several types
        raise ExportError(
            f"export: the ONNX model does not pass onnx.checker (a minigrad.onnx bug): {err}"
        ) from err
    _write_atomically(proto.SerializeToString(), path)
    return proto


def _second_run(model: Any, arrays: list[np.ndarray], names: list[str], axis: int) -> tuple:
    try:
        return run(model, arrays, names)
    except (ValueError, TypeError, IndexError) as err:
        shapes = [a.shape for a in arrays]
        raise ExportError(
            f"export: the model fails on the example's entries along axis {axis} rotated (and "
            f"one more for a dynamic batch: input shapes {shapes}): {err}. Pass "
            "dynamic_batch=False if its batch size is fixed, or batch_axis= for the axis that "
            "is the batch"
        ) from err


def _batch_size(arrays: list[np.ndarray], axis: int) -> int:
    """A fixed batch: the size of the first input with a batch axis (1 if none has one)."""
    return next((a.shape[axis] for a in arrays if a.ndim > axis), 1)


def supported_ops() -> list[str]:
    """The public names of the ops `export` can write."""
    return sorted(_public_name(op) for op in CONVERTERS)


def _public_name(op: type) -> str:
    from minigrad.ops.registry import REGISTRY

    for name, registered in REGISTRY.items():
        if registered is op:
            return name
    return op.__name__


@contextlib.contextmanager
def _eval_mode(model: Any) -> Iterator[None]:
    """Eval mode while exporting (BatchNorm's running statistics, no dropout), then back."""
    from minigrad.nn.module import Module

    if not isinstance(model, Module):
        yield
        return
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for m, training in modes:
            m.training = training


def _parameter_names(model: Any) -> dict[int, str]:
    """id(Value) (and id(array) of buffers kept as arrays) -> its state_dict name."""
    from minigrad.nn.module import Module

    if not isinstance(model, Module):
        return {}
    names = {id(p): name for name, p in model.named_parameters()}
    for name, buf in getattr(model, "named_buffers", lambda: [])():
        names.setdefault(id(buf), name)
    return names


def _check_inputs_used(graph: Graph, args: list, names: list[str]) -> None:
    used = {id(node.value) for node in graph.nodes if node.kind == "input"}
    for arg, name in zip(args, names):
        if hasattr(arg, "_op") and id(arg) not in used:
            raise ExportError(
                f"export: the outputs do not depend on input {name!r} through recorded ops (the "
                "model used its data directly, e.g. x.data or np.asarray(x)), so its values "
                "would be frozen into the file"
            )
    fed = {j for node in graph.nodes for j in node.fed.values()}
    for j, (name, _, _) in enumerate(graph.int_inputs):
        if j not in fed:
            raise ExportError(
                f"export: integer input {name!r} is not used as the indices of an indexing op "
                "(an Embedding's lookup), the only use of integer inputs that can be exported"
            )


def _model_proto(onnx, graph, model, opset, arrays, names, sizes, batch_axis):
    """The ModelProto: inputs, every op's nodes in the graph's order, outputs."""
    helper = onnx.helper
    input_names, output_names = names
    b = Builder(onnx, opset)
    for name in (*input_names, *output_names):
        b.reserve(name)
    infos = []
    for name, arr, dims in zip(input_names, arrays, graph.input_dims):
        infos.append(_value_info(helper, name, arr.dtype, dims))
        if b.batch_source is None and any(isinstance(d, Batch) for d in dims):
            b.batch_source = (name, batch_axis)
    _name_nodes(b, graph, output_names)
    int_names = [name for name, _, _ in graph.int_inputs]
    fuse_projections(graph)
    for node in graph.nodes:
        if node.kind == "op" and not node.skip:
            _convert(b, graph, node, int_names, sizes)
    outputs = []
    for name, k in zip(output_names, graph.outputs):
        node = graph.nodes[k]
        if b.names.get(k) != name:
            b.add("Identity", [_tensor(b, node, node.value.dtype, sizes)], name)
        outputs.append(_value_info(helper, name, node.value.dtype, node.dims))
    title = getattr(model, "__name__", None) or type(model).__name__
    onnx_graph = helper.make_graph(b.nodes, title, infos, outputs, b.initializers)
    opsets = [helper.make_opsetid("", opset)]
    proto = helper.make_model(
        onnx_graph,
        opset_imports=opsets,
        producer_name="minigrad",
        ir_version=helper.find_min_ir_version_for(opsets),
    )
    return proto


def _value_info(helper, name: str, dtype: Any, dims: tuple):
    shape = [("batch" if d == Batch(1) else None) if isinstance(d, Batch) else d for d in dims]
    elem = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    return helper.make_tensor_value_info(name, elem, shape)


def _name_nodes(b: Builder, graph: Graph, output_names: list[str]) -> None:
    """Tensor names: inputs by their names, parameters by their state_dict names, each op's
    result by op and position (or the output's name when it is one)."""
    for name, k in zip(output_names, graph.outputs):
        if graph.nodes[k].kind == "op" and k not in b.names:
            b.names[k] = name
    for node in graph.nodes:
        if node.kind == "input":
            b.names[node.index] = node.name
        elif node.kind == "param":
            data = np.asarray(node.value.data)
            if node.name is not None:
                b.names[node.index] = b.initializer(data, node.name, exact=True)
            else:
                b.names[node.index] = b.initializer(data, node.value.label or "param")
        elif node.kind == "op" and node.index not in b.names:
            b.names[node.index] = b.fresh(f"{op_name(node.value)}_{node.index}")


def _convert(b: Builder, graph: Graph, node: Node, int_names: list[str], sizes) -> None:
    converter = CONVERTERS.get(node.value._op)
    if converter is None:
        hint = HINTS.get(node.value._op)
        why = hint or "minigrad.onnx has no ONNX form for this op"
        raise ExportError(
            f"export: cannot export {describe(node)}: {why}. Ops that export: "
            + ", ".join(supported_ops())
        )
    extra = sorted(node.changed - set(converter.dynamic))
    if extra:
        raise depends(f"its parameter(s) {', '.join(extra)} differ between the runs", sizes, node)
    dtype = node.value.dtype
    parents = [graph.nodes[i] for i in node.parents]
    b.node_label = b.names[node.index]
    tensor = lambda p: _tensor(b, p, dtype, sizes, node)  # noqa: E731
    converter.fn(Emit(b, node, tensor, parents, int_names, sizes, graph.nodes))


def _tensor(b: Builder, node: Node, dtype: Any, sizes: Any, user: Node | None = None) -> str:
    """The tensor name of a graph node, as `dtype`: constants are written in it (a Python
    float is a weak scalar, as in numpy), other tensors of another dtype get a Cast."""
    if node.problem is not None:
        raise depends(node.problem, sizes, node, user)
    if node.kind != "const":
        name = b.names[node.index]
        return name if node.value.dtype == dtype else b.cast(name, dtype)
    return b.once(("node", node.index, np.dtype(dtype).str), lambda: _constant(b, node, dtype))


def _constant(b: Builder, node: Node, dtype: Any) -> str:
    """A constant leaf as a tensor of `dtype`: an initializer, or computed from the batch size
    when it follows the batch."""
    if node.batch_scalar is not None:  # k times the batch size, as a number
        n = b.batch_size()
        if node.batch_scalar != 1:
            n = b.add("Mul", [n, b.ints([node.batch_scalar])])
        return b.cast(b.squeeze(n, (0,)), dtype)
    if node.row is not None:  # repeats along the batch: one row, expanded at run time
        row = b.initializer(node.row.astype(dtype), node.value.label or "const")
        return b.add("Expand", [row, b.shape_tensor(node.dims)])
    data = node.value.data
    if type(data) is float:
        return b.const(data, dtype)
    return b.initializer(np.asarray(data, dtype=dtype), node.value.label or "const")


def _write_atomically(data: bytes, path: str) -> None:
    """Write to a temporary file in the same folder, then rename it over `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
