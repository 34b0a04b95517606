"""The engine: recording ops into a graph, and walking it backwards to get gradients.

Forward: `apply(op, *inputs)` runs an op's forward on the inputs' data and, when some input
requires grad and grad mode is on, returns a Value that remembers the op and its parents.

Backward: `backward(root)` counts, without recursion, how often each node of the graph is used,
then visits nodes from the root down, each once all of its uses have been visited (Kahn's
algorithm): its gradient `g` is then complete, so the op's rule can turn it into one gradient per
input. Gradients that came from broadcasting are summed back to the input's shape here, and only
here. With `create_graph=True` the same rules run on Values, so the gradients are themselves
differentiable.

Speed (issue 6) shapes a few things here, each marked "Speed:" where it is done: `apply1`,
`apply2` and `operator`, the ops' fast path; plain numbers kept raw in the graph; pending
gradients and use counts in slots of the Value; an unrolled backward for the common one- and
two-input ops; no reference cycles anywhere, so a dropped graph is freed at once and Python's
cyclic collector has no work.
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
        self._grad_enabled = True
        self._anomaly = False
        # Speed: one flag for the ops' fast path, "recording and no anomaly checks", so it costs
        # one thread-local lookup per op instead of two.
        self.fast = True
        self.saved: list[bool] = []

    @property
    def grad_enabled(self) -> bool:
        return self._grad_enabled

    @grad_enabled.setter
    def grad_enabled(self, on: bool) -> None:
        self._set(on, self._anomaly)

    @property
    def anomaly(self) -> bool:
        return self._anomaly

    @anomaly.setter
    def anomaly(self, on: bool) -> None:
        self._set(self._grad_enabled, on)

    def _set(self, grad_enabled: bool, anomaly: bool) -> None:
        was_fast = self.fast
        self._grad_enabled, self._anomaly = grad_enabled, anomaly
        self.fast = grad_enabled and not anomaly
        if self.fast != was_fast:
            _count_slow_threads(-1 if self.fast else 1)


mode = _Mode()

# Speed: even one thread-local lookup per op shows in the scalar engine. While no thread is in
# no_grad, anomaly mode or a backward pass, `all_fast` says so and the ops skip the lookup;
# otherwise each thread reads its own `mode.fast`, so threads never see each other's modes.
all_fast = True
_slow_threads = 0
_slow_lock = threading.Lock()


def _count_slow_threads(change: int) -> None:
    global all_fast, _slow_threads
    with _slow_lock:
        _slow_threads += change
        all_fast = _slow_threads == 0


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
def _record(data: Any, op: Any, x: Any, y: Any, more: tuple, params: dict | None) -> Value:
    """A Value made by `op` from inputs x, y, *more (Values, or raw constants; y None for a
    one-input op), without Value.__init__: the data is already valid, and this runs per op."""
    v = Value.__new__(Value)
    v.data = data
    v.grad = None
    v.requires_grad = True
    v._x = x
    v._y = y
    v._rest = (more, params) if more or params is not None else None
    v._op = op
    v._g = None
    return v


def constant(data: Any) -> Value:
    """A leaf that needs no gradient (results computed only from constants, or under no_grad)."""
    v = _record(data, None, None, None, (), None)
    v.requires_grad = False
    return v


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
    kept = []  # what the graph keeps: the Values, and plain inputs raw (see parents)
    has_value = False
    record = False
    # Speed: one loop, no comprehension (a comprehension is a function call in Python 3.11).
    for x in inputs:
        if isinstance(x, Value):
            has_value = True
            record = record or x.requires_grad
            datas.append(x.data)
            kept.append(x)
        else:
            d = _as_input(x)
            datas.append(d)
            kept.append(d)
    try:
        out = op.forward(*datas, **params)
    except (ValueError, IndexError, TypeError) as err:
        raise type(err)(f"{op.name}: {err} (input shapes: {_shapes(datas)})") from err
    if type(out) is not float and type(out) is not np.ndarray:
        out = np.asarray(out)  # numpy reductions give numpy scalars: keep them as 0-d arrays
    if not has_value:
        return out
    if not (all_fast or mode.fast):
        if mode.anomaly:
            _check_finite(out, op, params, inputs, "forward")
        record = record and mode.grad_enabled
    if not record:
        return constant(out)
    if len(kept) == 1:
        return _record(out, op, kept[0], None, (), params or None)
    return _record(out, op, kept[0], kept[1], tuple(kept[2:]), params or None)


# Speed: the scalar engine spends most of its time here. These two (and `operator`, the Value
# methods `+ - * / ** @`) skip `apply`'s generality (argument tuples, the params dict, the loop)
# for the usual case: ops without parameters on Values and Python floats or float arrays, with
# grad mode on and anomaly mode off. Anything else goes through `apply`, so errors and modes
# behave exactly the same.
def apply1(op: Any, x: Any) -> Any:
    """`apply(op, x)` for an op with one input and no parameters."""
    if isinstance(x, Value) and x.requires_grad and (all_fast or mode.fast):
        try:
            out = op.forward(x.data)
        except (ValueError, IndexError, TypeError):
            return apply(op, x)  # raises again, with the op's name and the shapes
        if type(out) is not float and type(out) is not np.ndarray:
            out = np.asarray(out)
        return _record(out, op, x, None, (), None)
    return apply(op, x)


def apply2(op: Any, x: Any, y: Any) -> Any:
    """`apply(op, x, y)` for an op with two inputs and no parameters."""
    if isinstance(x, Value):
        xd = x.data
        need = x.requires_grad
    elif type(x) is float or type(x) is np.ndarray and x.dtype.kind == "f":
        xd = x
        need = False
    elif type(x) is int:
        xd = x = float(x)  # `2 * v`: a weak scalar, as a float
        need = False
    else:
        return apply(op, x, y)
    if isinstance(y, Value):
        yd = y.data
        need = need or y.requires_grad
    elif type(y) is float or type(y) is np.ndarray and y.dtype.kind == "f":
        yd = y
    elif type(y) is int:
        yd = y = float(y)  # `v * 2`: a weak scalar, as a float
    else:
        return apply(op, x, y)
    if not need or not (all_fast or mode.fast):
        return apply(op, x, y)
    try:
        out = op.forward(xd, yd)
    except (ValueError, IndexError, TypeError):
        return apply(op, x, y)  # raises again, with the op's name and the shapes
    if type(out) is not float and type(out) is not np.ndarray:
        out = np.asarray(out)
    return _record(out, op, x, y, (), None)


def operator(op: Any, name: str) -> Callable[[Value, Any], Any]:
    """The Value method `name` of a two-input op: `self op other`, or for a reflected name
    (`__radd__`...) `other op self`. `Value.__add__ = operator(Add, "__add__")`.

    Speed: these run once per op of a scalar graph. Knowing that one input is a Value, the method
    tests the usual other input first (a float, a Value, an int), computes + and * without a call
    and records the node itself: a fifth less time per op than `apply2`. Anything else (arrays
    as the other input, grad modes, errors) goes through `apply2`, so it behaves the same.
    """
    forward = op.forward
    add, mul = op is Add, op is Mul
    reflected = name.startswith("__r")

    def method(self: Value, other: Any) -> Any:
        if type(other) is float:
            od = other
            need = self.requires_grad
        elif type(other) is Value:
            od = other.data
            need = self.requires_grad or other.requires_grad
        elif type(other) is int:
            od = other = float(other)  # `v * 2`: a weak scalar, as a float
            need = self.requires_grad
        else:
            return apply2(op, other, self) if reflected else apply2(op, self, other)
        if reflected:
            x, y = other, self
            xd, yd = od, self.data
        else:
            x, y = self, other
            xd, yd = self.data, od
        if not need or not (all_fast or mode.fast):
            return apply2(op, x, y)
        try:
            out = xd + yd if add else xd * yd if mul else forward(xd, yd)
        except (ValueError, IndexError, TypeError):
            return apply2(op, x, y)  # raises again, with the op's name and the shapes
        if type(out) is not float and type(out) is not np.ndarray:
            out = np.asarray(out)  # a 0-d array times a float gives a numpy scalar
        # _record(out, op, x, y, (), None), written out: one call less per op
        v = Value.__new__(Value)
        v.data = out
        v.grad = None
        v.requires_grad = True
        v._x = x
        v._y = y
        v._rest = None
        v._op = op
        v._g = None
        return v

    method.__name__, method.__qualname__ = name, f"Value.{name}"
    method.__doc__ = op.__doc__
    return method


def apply3(op: Any, x: Any, y: Any, z: Any) -> Any:
    """`apply(op, x, y, z)` for an op with three inputs and no parameters (the fused `linear`),
    on Values and float arrays. Speed: as `apply2`, written out (one call less per layer)."""
    if isinstance(x, Value):
        xd = x.data
        need = x.requires_grad
    elif type(x) is np.ndarray and x.dtype.kind == "f":
        xd = x
        need = False
    else:
        return apply(op, x, y, z)
    if isinstance(y, Value) and isinstance(z, Value):
        need = need or y.requires_grad or z.requires_grad
    else:
        return apply(op, x, y, z)
    if not need or not (all_fast or mode.fast):
        return apply(op, x, y, z)
    try:
        out = op.forward(xd, y.data, z.data)
    except (ValueError, IndexError, TypeError):
        return apply(op, x, y, z)  # raises again, with the op's name and the shapes
    if type(out) is not np.ndarray and type(out) is not float:
        out = np.asarray(out)
    return _record(out, op, x, y, (z,), None)


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


def _check_finite(
    result: Any, op: Any, params: Any, inputs: Sequence[Any], where: str, node: Value | None = None
) -> None:
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
# Backward keeps its bookkeeping in slots of the nodes (`_g`, `_n`), so two passes through the
# same nodes at once (two threads sharing a model) would mix their counts: passes take turns.
_backward_lock = threading.RLock()


def topo_order(root: Value) -> list[Value]:
    """Nodes that need a gradient, every node after all of its parents."""
    with _backward_lock:
        return _topo_order(root)


def _topo_order(root: Value) -> list[Value]:
    nodes = _graph_of(root)
    order = []
    ready = [root]
    while ready:
        node = ready.pop()
        order.append(node)
        for x in _inputs(node):
            if isinstance(x, Value) and x.requires_grad:
                x._n -= 1
                if x._n == 0:
                    ready.append(x)
    for node in nodes:
        node._g = None
    order.reverse()
    return order


# Marks a node as part of the graph of the backward pass under way, not yet reached by a
# gradient (in its `_g` slot, which later holds its pending gradient).
_IN_GRAPH = object()


def _graph_of(root: Value) -> list[Value]:
    """The nodes reachable from root that need a gradient, each marked _IN_GRAPH, with `_n` set
    to the number of times nodes of the graph use it (the root's is 0).

    A node's turn in backward comes when all its uses have been visited (Kahn's algorithm).
    Speed: no recursion or iterator per node, and no sort (sorting by creation order touched
    every node in random memory order, a third of a scalar backward). The mark doubles as the
    "seen" set.
    """
    root._g = _IN_GRAPH
    root._n = 0
    nodes = [root]
    for node in nodes:  # the list grows while we walk it: a breadth-first walk
        x = node._x
        if x is None:
            continue  # a leaf
        if isinstance(x, Value) and x.requires_grad:
            if x._g is None:
                x._g = _IN_GRAPH
                x._n = 1
                nodes.append(x)
            else:
                x._n += 1
        y = node._y
        if isinstance(y, Value) and y.requires_grad:
            if y._g is None:
                y._g = _IN_GRAPH
                y._n = 1
                nodes.append(y)
            else:
                y._n += 1
        if node._rest is None:
            continue
        for z in node._rest[0]:
            if isinstance(z, Value) and z.requires_grad:
                if z._g is None:
                    z._g = _IN_GRAPH
                    z._n = 1
                    nodes.append(z)
                else:
                    z._n += 1
    return nodes


def _inputs(node: Value) -> tuple:
    """The op's inputs (Values or raw constants) as a tuple; () for a leaf."""
    if node._x is None:
        return ()
    if node._y is None:
        return (node._x,)
    if node._rest is None:
        return (node._x, node._y)
    return (node._x, node._y, *node._rest[0])


def sum_to(g: Any, like: Any) -> Any:
    """Undo broadcasting: sum `g` down to the shape of `like` (data), and match its dtype."""
    if type(g) is np.ndarray and type(like) is np.ndarray:  # Speed: the usual case first
        if g.shape != like.shape:
            g = sum_to_shape(g, like.shape)
        return g if g.dtype == like.dtype else g.astype(like.dtype)
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
    if lead > 0 and g.shape[lead:] == shape:  # Speed: only new leading axes (a bias): one sum
        return g.sum(axis=tuple(range(lead)))
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
        data = root.data
        if type(data) is float:
            seed = 1.0
        elif data.ndim == 0:  # Speed: a loss is usually 0-d; np.array is cheaper than np.ones
            seed = np.array(1.0, data.dtype)
        else:
            seed = np.ones(data.shape, data.dtype)
    else:
        seed = gradient.data if isinstance(gradient, Value) else to_data(gradient, "gradient")
        if np.shape(seed) != root.shape:
            raise ValueError(
                f"backward(): gradient has shape {np.shape(seed)} but the Value has shape "
                f"{root.shape}; they must match"
            )
        seed = sum_to(seed, root.data)
        if seed is gradient and type(seed) is np.ndarray:
            seed = seed.copy()  # `.grad` never shares memory with the caller's array
        if create_graph and isinstance(gradient, Value):
            return gradient
    return constant(seed) if create_graph else seed


def backward(
    root: Value,
    gradient: Any = None,
    create_graph: bool = False,
    inputs: Value | Sequence[Value] | None = None,
) -> None:
    """Accumulate d(root)/d(node) into `.grad` of every node that requires grad, or with
    `inputs=` (as in PyTorch) only into the `.grad` of those Values: the others, intermediates
    included, are left alone, and no memory is kept for their gradients."""
    if not root.requires_grad:
        raise RuntimeError(
            "backward(): this Value does not require grad (it was computed from constants "
            "or under no_grad), so there is nothing to differentiate"
        )
    seed = _seed(root, gradient, create_graph)
    if inputs is None:
        run_backward(root, seed, create_graph, accumulate=True)
        return
    # Only these: their gradients come back from the pass, which stores none (Speed: and the
    # pass keeps its one `accumulate` check per node)
    inputs = _check_inputs(inputs)
    found = run_backward(root, seed, create_graph, accumulate=False, wanted=set(inputs))
    for x in inputs:
        g = found.get(x)
        if g is None:
            continue
        old = x.grad
        if old is None:
            x.grad = g
        elif create_graph or isinstance(old, Value):
            # `.grad + g` records only when gradients must be differentiable again, as in the pass
            with enable_grad() if create_graph else no_grad():
                x.grad = old + g
        else:
            x.grad = old + g


def _check_inputs(inputs: Any) -> list[Value]:
    if isinstance(inputs, Value):
        inputs = [inputs]
    try:
        inputs = list(inputs)
    except TypeError:
        raise TypeError(
            f"backward(): inputs must be a Value or a sequence of Values, got "
            f"{type(inputs).__name__}"
        ) from None
    if not inputs:
        raise ValueError("backward(): inputs is empty; leave it out to fill in every .grad")
    for i, x in enumerate(inputs):
        if not isinstance(x, Value):
            raise TypeError(f"backward(): inputs[{i}] has type {type(x).__name__}, not Value")
        if not x.requires_grad:
            raise ValueError(
                f"backward(): inputs[{i}] does not require grad, so it can get no gradient"
            )
    return inputs


def gradients(
    output: Value, inputs: Sequence[Value], gradient: Any = None, create_graph: bool = False
) -> list[Any]:
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


def run_backward(
    root: Value,
    seed: Any,
    create_graph: bool,
    accumulate: bool,
    wanted: set | None = None,
    on_rule: Callable[..., None] | None = None,
) -> dict:
    """The backward pass itself: with `accumulate`, add to `.grad` of every node; return the
    gradients of the nodes in `wanted` in a dict. `on_rule(node, g, grads)` sees every rule
    applied (for traces).

    Nodes are visited from the root down, each once all its uses have been visited: then its
    gradient is complete. It waits in the node's `_g` slot until then, goes to `.grad`, and
    through the op's rules to the op's inputs. Speed: the slots are cheaper than dicts.
    """
    with _backward_lock:
        return _run_backward(root, seed, create_graph, accumulate, wanted, on_rule)


def _run_backward(
    root: Value,
    seed: Any,
    create_graph: bool,
    accumulate: bool,
    wanted: set | None,
    on_rule: Callable[..., None] | None,
) -> dict:
    found = {}
    summed = set()  # nodes whose pending gradient is a sum this pass made (see _add_pending)
    nodes = _graph_of(root)
    # The general path: gradients as Values, traces, anomaly checks, ops with their own vjp.
    general = create_graph or on_rule is not None or mode.anomaly
    # Rules record only when their results must be differentiable again. Speed: the plain path
    # works on plain data only, which never records, so grad mode is set only when something
    # else runs (switching it costs two locked updates per pass).
    saved = _rule_mode(create_graph) if general else None
    root._g = seed
    ready = [root]
    try:
        while ready:
            node = ready.pop()
            g = node._g
            node._g = None  # dropped as soon as it is used
            if g is _IN_GRAPH:  # no gradient reached it: its inputs get none from it
                _pass_nothing(node, ready)
                continue
            if accumulate:
                old = node.grad
                if old is None:
                    node.grad = g
                else:
                    if saved is None and isinstance(old, Value):  # a .grad from create_graph
                        saved = _rule_mode(create_graph)
                    node.grad = old + g
            if wanted is not None and node in wanted:
                found[node] = g
            op = node._op
            if op is None:
                continue
            if (op is Mul or op is Add) and type(g) is float and not general:
                # Speed: scalar + and * (most nodes of a scalar graph), their rules written out:
                # d(x+y) = g, g; d(x*y) = g*y, g*x (as in ops/arithmetic.py). A float sum or
                # product comes only from floats (an array or numpy scalar gives an array), so
                # the results need no summing to a shape or dtype. Tested first: + and * always
                # have two inputs, no parameters and only rules. x's and y's edges are written out
                # one after the other, like the unrolled path below (a loop over the two would
                # build a tuple per node).
                x, y = node._x, node._y
                x_value = isinstance(x, Value)
                y_value = isinstance(y, Value)
                if x_value and x.requires_grad:
                    gx = g if op is Add else g * y.data if y_value else g * y
                    pending = x._g
                    x._g = gx if pending is _IN_GRAPH else pending + gx
                    n = x._n
                    if n == 1:
                        ready.append(x)
                    else:
                        x._n = n - 1
                if y_value and y.requires_grad:
                    gy = g if op is Add else g * x.data if x_value else g * x
                    pending = y._g
                    y._g = gy if pending is _IN_GRAPH else pending + gy
                    n = y._n
                    if n == 1:
                        ready.append(y)
                    else:
                        y._n = n - 1
                continue
            if general or not op.rules_only:
                if saved is None:  # an op with its own vjp
                    saved = _rule_mode(create_graph)
                _vjp_general(node, g, create_graph, on_rule, ready, summed)
                continue
            if node._rest is not None:  # parameters or more than two inputs
                _vjp_plain(node, g, ready, summed)
                continue
            # Speed: the plain path for one or two inputs without parameters (most nodes),
            # unrolled: each input that needs a gradient gets its rule's result, summed back to
            # its own shape, added to its pending gradient; its turn comes after its last use
            # (its count of unvisited uses is 1: it is not written back, as it is done with).
            x, y = node._x, node._y
            if y is None:
                if not x.requires_grad:  # switched off after the op was recorded
                    continue
                gx = op.grads[0](g, node.data, x.data)
                if gx is not None:
                    if type(gx) is not float or type(x.data) is not float:
                        gx = _fit(gx, x, g)
                    pending = x._g
                    x._g = gx if pending is _IN_GRAPH else _add_pending(x, pending, gx, summed)
                    # the locals let go of the arrays at once: a gradient is freed as soon as
                    # it has been used, not when the next node's rule has made its own
                    gx = pending = None
                n = x._n
                if n == 1:
                    ready.append(x)
                else:
                    x._n = n - 1
                continue
            if isinstance(x, Value):
                xd, x_needs = x.data, x.requires_grad
            else:
                xd, x_needs = x, False  # a raw constant needs nothing
            if isinstance(y, Value):
                yd, y_needs = y.data, y.requires_grad
            else:
                yd, y_needs = y, False
            # Speed: + and * on arrays also skip their rules' calls (as above, and as in
            # ops/arithmetic.py)
            if x_needs:
                gx = g if op is Add else g * yd if op is Mul else op.grads[0](g, node.data, xd, yd)
                if gx is not None:
                    if type(gx) is not float or type(xd) is not float:
                        gx = _fit(gx, x, g)
                    pending = x._g
                    x._g = gx if pending is _IN_GRAPH else _add_pending(x, pending, gx, summed)
                    gx = pending = None
                n = x._n
                if n == 1:
                    ready.append(x)
                else:
                    x._n = n - 1
            if y_needs:
                gy = g if op is Add else g * xd if op is Mul else op.grads[1](g, node.data, xd, yd)
                if gy is not None:
                    if type(gy) is not float or type(yd) is not float:
                        gy = _fit(gy, y, g)
                    pending = y._g
                    y._g = gy if pending is _IN_GRAPH else _add_pending(y, pending, gy, summed)
                    gy = pending = None
                n = y._n
                if n == 1:
                    ready.append(y)
                else:
                    y._n = n - 1
    except BaseException:
        for node in nodes:
            node._g = None  # a failed pass leaves nothing pending behind
        raise
    finally:
        if saved is not None:
            mode.grad_enabled = saved
    return found


def _rule_mode(create_graph: bool) -> bool:
    """Set grad mode for running rules: on only when their results must be differentiable
    again. Returns the mode to restore."""
    saved = mode.grad_enabled
    mode.grad_enabled = create_graph
    return saved


def _pass_nothing(node: Value, ready: list) -> None:
    """A node no gradient reached: count its uses of its inputs as visited all the same."""
    for x in _inputs(node):
        if isinstance(x, Value) and x.requires_grad:
            x._n -= 1
            if x._n == 0:
                ready.append(x)


def _pass_on(x: Value, gx: Any, g: Any, ready: list, summed: set) -> None:
    """Add a rule's result gx (None: no gradient) to input x's pending gradient, and count
    this use of x as visited."""
    if gx is not None:
        if isinstance(gx, Value):
            gx = sum_to(gx, x.data)
        elif type(gx) is not float or type(x.data) is not float:
            gx = _fit(gx, x, g)
        pending = x._g
        x._g = gx if pending is _IN_GRAPH else _add_pending(x, pending, gx, summed)
    x._n -= 1
    if x._n == 0:
        ready.append(x)


def _add_pending(x: Value, pending: Any, gx: Any, summed: set) -> Any:
    """x's pending gradient after one more use's gradient gx (x is used several times).

    Speed: the first sum is a fresh array that only x's slot holds, so later uses add into it in
    place (no new array per use). Only that sum: a first pending gradient may be another node's
    `.grad` as well (+ passes its g on unchanged), and changing it would change that one too.
    """
    if x in summed:
        pending += gx  # an array: in place, same shape and dtype (both fitted to x)
        return pending
    total = pending + gx
    if type(total) is np.ndarray:
        summed.add(x)
    return total


def _vjp_general(
    node: Value, g: Any, create_graph: bool, on_rule: Callable | None, ready: list, summed: set
) -> None:
    """One node's rules through `op.vjp`, on data or (create_graph) on Values."""
    op = node._op
    parents = node.parents
    needs = [p.requires_grad for p in parents]
    params = node._params or {}
    if create_graph:
        # The rule's own ops (a '/' inside sqrt's rule) are not where a NaN starts: check the
        # rule's results below instead, under this op's name.
        anomaly, mode.anomaly = mode.anomaly, False
        try:
            grads = op.vjp(g, node, parents, needs, params)
        finally:
            mode.anomaly = anomaly
    else:
        grads = op.vjp(g, node.data, [p.data for p in parents], needs, params)
    if mode.anomaly:
        for gp in grads:
            if gp is not None:
                _check_finite(gp, op, node._params, parents, "backward", node)
    if on_rule is not None:
        on_rule(node, g, grads)
    for p, gp, need in zip(parents, grads, needs):
        if need:
            _pass_on(p, gp, g, ready, summed)


def _vjp_plain(node: Value, g: Any, ready: list, summed: set) -> None:
    """One node's rules on plain data, for ops with parameters or more than two inputs: the
    same as `op.vjp`, without building the lists it needs."""
    inputs = _inputs(node)
    datas = []
    for v in inputs:  # Speed: a loop, not a comprehension (a function call in Python 3.11)
        datas.append(v.data if isinstance(v, Value) else v)
    params = node._rest[1]
    out = node.data
    for rule, v in zip(node._op.grads, inputs):
        if not isinstance(v, Value) or not v.requires_grad:
            continue
        # Speed: no empty keyword dict to unpack for ops without parameters
        gv = rule(g, out, *datas, **params) if params else rule(g, out, *datas)
        # Speed: `_pass_on` written out for plain data (a call less per input, about 1% of a W3
        # step)
        if gv is not None:
            if type(gv) is not float or type(v.data) is not float:
                gv = _fit(gv, v, g)
            pending = v._g
            v._g = gv if pending is _IN_GRAPH else _add_pending(v, pending, gv, summed)
        n = v._n
        if n == 1:
            ready.append(v)
        else:
            v._n = n - 1


def _fit(gx: Any, x: Value, g: Any) -> Any:
    """A rule's plain result as x's gradient: summed to x's shape and dtype; and for a leaf,
    never memory shared with another node's gradient (optimizers may change `.grad` in place;
    a rule like add's passes `g` itself on, and reshape passes a view of it)."""
    xd = x.data
    if type(gx) is not np.ndarray or type(xd) is not np.ndarray:
        return sum_to(gx, xd)  # numbers, and numpy scalars
    if gx.shape != xd.shape:
        gx = sum_to_shape(gx, xd.shape)
    if gx.dtype is not xd.dtype and gx.dtype != xd.dtype:  # `is`: the usual case, quickly
        gx = gx.astype(xd.dtype)
    if x._op is None and (gx is g or gx.base is not None):
        gx = gx.copy()
    return gx


from minigrad.ops.arithmetic import Add, Mul  # noqa: E402  (the ops import this module)
