"""The engine: recording ops into a graph, and walking it backwards to get gradients.

Forward: `apply(op, *inputs)` runs an op's forward on the inputs' data and, when some input
requires grad and grad mode is on, returns a Value that remembers the op and its parents.

Backward: `backward(root)` orders the graph without recursion (a depth-first walk with an explicit
stack), then visits nodes from the root down. Each node's gradient `g` is complete by the time it
is visited (every consumer came earlier), so the op's rule can turn it into one gradient per
input. Gradients that came from broadcasting are summed back to the input's shape here, and only
here. With `create_graph=True` the same rules run on Values, so the gradients are themselves
differentiable.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from minigrad.value import Value, to_data


# ----- grad mode and anomaly mode (thread-local, so two threads can train independently) -----
class _Mode(threading.local):
    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.saved: list[bool] = []


mode = _Mode()


def is_grad_enabled() -> bool:
    return mode.grad_enabled


class _GradSwitch(contextlib.ContextDecorator):
    """Sets grad mode inside a `with` block or a decorated function, then restores it."""

    enabled = True

    def __enter__(self) -> None:
        mode.saved.append(mode.grad_enabled)
        mode.grad_enabled = self.enabled

    def __exit__(self, *exc: object) -> None:
        mode.grad_enabled = mode.saved.pop()


class no_grad(_GradSwitch):
    """Record nothing: `with minigrad.no_grad(): ...` or `@minigrad.no_grad()` on a function."""

    enabled = False


class enable_grad(_GradSwitch):
    """Record again, inside a `no_grad` block."""

    enabled = True


# ----- forward: recording ---------------------------------------------------------------------
def _new_value(data: Any, op: Any, parents: tuple, params: dict | None) -> Value:
    # Bypass __init__: the data is already valid, and this runs once per recorded op.
    v = Value.__new__(Value)
    v.data = data
    v.grad = None
    v.requires_grad = op is not None
    v.label = None
    v.parents = parents
    v._op = op
    v._params = params
    return v


def constant(data: Any) -> Value:
    """A leaf that needs no gradient (numbers and arrays mixed into an op are wrapped so)."""
    return _new_value(data, None, (), None)


def _as_input(x: Any) -> Any:
    """Plain input of an op: Python/numpy scalars become floats (weak scalars, as in numpy and
    PyTorch: they never change a float32 array's dtype), arrays and lists become float arrays."""
    if type(x) is float or type(x) is np.ndarray and x.dtype.kind == "f":
        return x
    if isinstance(x, (int, float, np.number, np.bool_)):
        return float(x)
    return to_data(x, "operand")


def apply(op: Any, *inputs: Any, **params: Any) -> Any:
    """Run `op` forward on `inputs`; record it in the graph when an input requires grad.

    Called on plain numbers/arrays only, it is just the computation (that is how gradient rules
    run in a normal backward); called with any Value, it returns a Value.
    """
    datas = []
    has_value = False
    record = False
    for x in inputs:
        if isinstance(x, Value):
            has_value = True
            record = record or x.requires_grad
            datas.append(x.data)
        else:
            datas.append(_as_input(x))
    try:
        out = op.forward(*datas, **params)
    except (ValueError, IndexError, TypeError) as err:
        raise type(err)(f"{op.name}: {err} (input shapes: {_shapes(datas)})") from err
    if type(out) is not float and type(out) is not np.ndarray:
        out = np.asarray(out)  # numpy reductions give numpy scalars: keep them as 0-d arrays
    if not has_value:
        return out
    if mode.anomaly:
        _check_finite(out, op, params, inputs, "forward")
    if record and mode.grad_enabled:
        parents = tuple(
            x if isinstance(x, Value) else constant(d) for x, d in zip(inputs, datas)
        )
        return _new_value(out, op, parents, params or None)
    return constant(out)


def _shapes(datas: Iterable[Any]) -> str:
    return ", ".join(str(np.shape(d)) for d in datas)


# ----- anomaly detection ----------------------------------------------------------------------
class detect_anomaly(contextlib.ContextDecorator):
    """Inside this block, the first op whose forward or backward makes a NaN or an Inf raises
    `FloatingPointError` naming that op (not the loss at the end). Off by default and free then.
    """

    def __enter__(self) -> None:
        mode.saved.append(mode.anomaly)
        mode.anomaly = True

    def __exit__(self, *exc: object) -> None:
        mode.anomaly = mode.saved.pop()


def _check_finite(result: Any, op: Any, params: Any, inputs: Sequence[Any], where: str,
                  node: Value | None = None) -> None:
    data = result.data if isinstance(result, Value) else result
    if data is None or np.all(np.isfinite(data)):
        return
    bad = "NaN" if np.any(np.isnan(data)) else "Inf"
    label = f" (label {node.label!r})" if node is not None and node.label else ""
    named = [repr(x.label) for x in inputs if isinstance(x, Value) and x.label]
    label += f" on input {', '.join(named)}" if named else ""
    shapes = _shapes(x.data if isinstance(x, Value) else x for x in inputs)
    detail = f" with {params}" if params else ""
    raise FloatingPointError(
        f"anomaly: the {where} of op {op.name!r}{detail}{label} produced {bad}; "
        f"input shapes: {shapes}, result shape: {np.shape(data)}"
    )


# ----- backward ---------------------------------------------------------------------------------
def topo_order(root: Value) -> list[Value]:
    """Nodes that need a gradient, every node after all of its parents (iterative DFS)."""
    order = []
    seen = {root}
    stack = [(root, iter(root.parents))]
    while stack:
        node, parents = stack[-1]
        for p in parents:
            if p.requires_grad and p not in seen:
                seen.add(p)
                stack.append((p, iter(p.parents)))
                break
        else:
            stack.pop()
            order.append(node)
    return order


def sum_to(g: Any, like: Any) -> Any:
    """Undo broadcasting: sum `g` down to the shape of `like` (data), and match its dtype."""
    if type(like) is float:
        if type(g) is float:
            return g
        if isinstance(g, Value):
            return g.sum() if g.ndim else g
        return float(np.sum(g))
    if isinstance(g, Value):
        return g if g.shape == like.shape else sum_to_shape(g, like.shape)
    if type(g) is float:
        return np.full(like.shape, g, dtype=like.dtype)
    if g.shape != like.shape:
        g = sum_to_shape(g, like.shape)
    if g.dtype != like.dtype:
        g = g.astype(like.dtype)
    return g


def sum_to_shape(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum the broadcast axes of `g` (an array or a Value) so that it has `shape`."""
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape) if g.shape != shape else g


def _seed(root: Value, gradient: Any, create_graph: bool) -> Any:
    if gradient is None:
        if root.size != 1:
            raise ValueError(
                f"backward(): the Value has shape {root.shape}, not a single number; pass "
                "gradient= (an array of that shape) or reduce it first, e.g. .sum()"
            )
        seed = 1.0 if type(root.data) is float else np.ones_like(root.data)
    else:
        seed = gradient.data if isinstance(gradient, Value) else to_data(gradient, "gradient")
        if np.shape(seed) != root.shape:
            raise ValueError(
                f"backward(): gradient has shape {np.shape(seed)} but the Value has shape "
                f"{root.shape}; they must match"
            )
        seed = sum_to(seed, root.data)
        if create_graph and isinstance(gradient, Value):
            return gradient
    return constant(seed) if create_graph else seed


def backward(root: Value, gradient: Any = None, create_graph: bool = False) -> None:
    """Accumulate d(root)/d(node) into `.grad` of every node that requires grad."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward(): this Value does not require grad (it was computed from constants "
            "or under no_grad), so there is nothing to differentiate"
        )
    run_backward(root, _seed(root, gradient, create_graph), create_graph, accumulate=True)


def gradients(output: Value, inputs: Sequence[Value], gradient: Any = None,
              create_graph: bool = False) -> list[Any]:
    """d(output)/d(input) for each input, returned rather than stored in `.grad`.

    An input the output does not depend on gets zeros. With `create_graph=True` the results are
    Values that can be differentiated again.
    """
    if not output.requires_grad:
        found = {}
    else:
        seed = _seed(output, gradient, create_graph)
        found = run_backward(output, seed, create_graph, accumulate=False, wanted=set(inputs))
    result = []
    for x in inputs:
        g = found.get(x)
        if g is None:
            g = 0.0 if type(x.data) is float else np.zeros_like(x.data)
            g = constant(g) if create_graph else g
        result.append(g)
    return result


def run_backward(root: Value, seed: Any, create_graph: bool, accumulate: bool,
                 wanted: set | None = None,
                 on_rule: Callable[..., None] | None = None) -> dict:
    """The backward pass itself. `on_rule(node, g, grads)` sees every rule applied (for traces)."""
    order = topo_order(root)
    pending = {root: seed}
    found = {}
    saved = mode.grad_enabled
    # Rules record only when their results must be differentiable again.
    mode.grad_enabled = create_graph
    try:
        for node in reversed(order):
            g = pending.pop(node, None)  # dropped as soon as it is used
            if g is None:
                continue
            if accumulate:
                node.grad = g if node.grad is None else node.grad + g
            if wanted is not None and node in wanted:
                found[node] = g
            op = node._op
            if op is None:
                continue
            parents = node.parents
            needs = [p.requires_grad for p in parents]
            if create_graph:
                grads = op.vjp(g, node, parents, needs, node._params or {})
            else:
                inputs = [p.data for p in parents]
                grads = op.vjp(g, node.data, inputs, needs, node._params or {})
            if mode.anomaly:
                for gp in grads:
                    if gp is not None:
                        _check_finite(gp, op, node._params, parents, "backward", node)
            if on_rule is not None:
                on_rule(node, g, grads)
            for p, gp, need in zip(parents, grads, needs):
                if gp is None or not need:
                    continue
                gp = sum_to(gp, p.data)
                prev = pending.get(p)
                pending[p] = gp if prev is None else prev + gp
    finally:
        mode.grad_enabled = saved
    return found
