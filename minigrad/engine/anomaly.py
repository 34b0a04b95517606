"""Anomaly checks, on inside `detect_anomaly()`:

- NaN and Inf: the first op whose forward or backward makes one raises FloatingPointError,
  naming that op, instead of the loss turning NaN far downstream (`check_finite`). `where`
  picking a -inf from an input (attention's masks) makes none.
- Changes between the forward and the backward pass: a gradient rule reads the data of its
  inputs (`g * y` for x * y) and sometimes its result (`g * out` for exp) when backward runs,
  not when the op ran. Change `y.data` in place in between and the gradients are silently
  wrong. So each node made in anomaly mode gets a fingerprint (a CRC-32 of the bytes) of every
  input its rules read, taken when the op runs (`remember_data`), and the reference backward
  compares them before it applies the rules (`check_unchanged`): a difference raises
  RuntimeError naming the op, the node and the input, as PyTorch refuses such a backward.

Outside anomaly mode nothing is fingerprinted: hashing every input of every op would cost a
pass over all the data of the forward, and the check a second one in the backward.
"""

from __future__ import annotations

import dis
import functools
import inspect
import weakref
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.engine.graph import inputs_of
from minigrad.value import Value


def check_finite(
    result: Any, op: Any, params: Any, inputs: Sequence[Any], where: str, node: Value | None = None
) -> None:
    """Raise FloatingPointError if `result` (the forward's or a rule's) holds a NaN or Inf."""
    data = result.data if isinstance(result, Value) else result
    if data is None or np.all(np.isfinite(data)):
        return
    bad = "NaN" if np.any(np.isnan(data)) else "Inf"
    if bad == "Inf" and where == "forward" and op.name in _PICKS and _any_inf(inputs):
        return  # picked from an input, not made here (a -inf mask fill, as attention's)
    label = f" (label {node.label!r})" if node is not None and node.label else ""
    named = [repr(x.label) for x in inputs if isinstance(x, Value) and x.label]
    label += f" on input {', '.join(named)}" if named else ""
    shapes = shapes_text(x.data if isinstance(x, Value) else x for x in inputs)
    detail = f" with {params}" if params else ""
    raise FloatingPointError(
        f"anomaly: the {where} of op {op.name!r}{detail}{label} produced {bad}; "
        f"input shapes: {shapes}, result shape: {np.shape(data)}"
    )


# Ops whose result is made of entries of their inputs: an Inf there was in an input already,
# flagged where an op made it, or a constant put there on purpose (attention masks with -inf).
_PICKS = frozenset({"where"})


def _any_inf(inputs: Sequence[Any]) -> bool:
    datas = (x.data if isinstance(x, Value) else x for x in inputs)
    return any(np.any(np.isinf(d)) for d in datas if d is not None)


# ----- changes between forward and backward -------------------------------------------------
RESULT = -1  # the position standing for the node's own result (`out` in the rules)

# id(node) -> (a weak reference to node, ((position, fingerprint), ...)). Weak, and keyed by id,
# as the gradient hooks' table (engine/hooks.py): the entry goes when the node does, and keeps
# no graph alive. Not a slot on Value: nodes made outside anomaly mode pay nothing for it.
_fingerprints: dict[int, tuple[weakref.ref, tuple]] = {}


def fingerprint(data: Any) -> Any:
    """Something that changes whenever `data` does: a float's exact bits, an array's shape,
    dtype and CRC-32 of its bytes (cheap: one pass, no copy for a contiguous array)."""
    if type(data) is float:
        return data.hex()
    arr = np.ascontiguousarray(data)
    return arr.shape, arr.dtype.str, zlib.crc32(arr.reshape(-1).view(np.uint8))


@functools.cache
def _positions_read(op: type) -> tuple[frozenset | None, ...]:
    """For each of the op's gradient rules, the positions of the inputs it reads (RESULT for
    `out`), found in the rule's code: an argument a rule never loads cannot change its result.
    One None for the whole op when that cannot be told (it overrides `vjp`, or a rule is not
    plain Python code): then every input and the result count as read."""
    if not getattr(op, "rules_only", False) or not op.grads:
        return (None,)
    found = []
    for rule in op.grads:
        code = getattr(rule, "__code__", None)
        if rule is None:
            found.append(frozenset())
            continue
        if code is None or code.co_flags & inspect.CO_VARARGS:  # inputs as *args: unknown
            return (None,)
        names = code.co_varnames[: code.co_argcount]  # g, out, the inputs, the params
        loaded = set()
        for ins in dis.get_instructions(code):
            if ins.opname.startswith("LOAD"):  # LOAD_FAST, LOAD_DEREF, LOAD_CLOSURE...
                loaded.update(ins.argval if isinstance(ins.argval, tuple) else (ins.argval,))
        positions = {RESULT} if len(names) > 1 and names[1] in loaded else set()
        positions.update(i for i, name in enumerate(names[2 : 2 + len(op.grads)]) if name in loaded)
        found.append(frozenset(positions))
    return tuple(found)


def remember_data(node: Value, datas: Sequence[Any]) -> Value:
    """Fingerprint what the rules of `node` will read (inputs' `datas` as the forward saw them,
    and its result); returns node."""
    rules = _positions_read(node._op)
    inputs = inputs_of(node)
    if rules == (None,):
        read = {RESULT, *range(len(datas))}
    else:  # the rules that will run: those of the inputs that need a gradient
        read = set()
        for rule, x in zip(rules, inputs):
            if isinstance(x, Value) and x.requires_grad:
                read |= rule
    taken = tuple(
        (i, fingerprint(node.data if i == RESULT else datas[i]))
        for i in sorted(read)
        if i == RESULT or i < len(datas)
    )
    key = id(node)
    _fingerprints[key] = (weakref.ref(node, lambda _, key=key: _fingerprints.pop(key, None)), taken)
    return node


def check_unchanged(node: Value) -> None:
    """Raise RuntimeError if data the rules of `node` read changed since its forward ran."""
    entry = _fingerprints.get(id(node))
    if entry is None or entry[0]() is not node:
        return  # made outside anomaly mode
    inputs = inputs_of(node)
    for i, taken in entry[1]:
        x = node if i == RESULT else inputs[i]
        if fingerprint(x.data if isinstance(x, Value) else x) != taken:
            raise RuntimeError(_changed_message(node, i, x))


def _viewed(x: Any) -> Any:
    """The Value whose data x's data is a view of (reshapes, transposes, slices: x's data is
    that memory), followed up the graph; x itself if it owns its data."""
    while isinstance(x, Value) and x._op is not None and _is_view(x.data):
        up = [p for p in inputs_of(x) if isinstance(p, Value) and _is_view(x.data, p.data)]
        if not up:
            break
        x = up[0]
    return x


def _is_view(data: Any, of: Any = None) -> bool:
    if type(data) is not np.ndarray or data.base is None:
        return False
    return of is None or type(of) is np.ndarray and np.shares_memory(data, of)


def _changed_message(node: Value, i: int, x: Any) -> str:
    data = x.data if isinstance(x, Value) else x
    about = ["a number" if type(data) is float else f"shape {np.shape(data)}"]
    if i == RESULT:
        what = "its result (the node's own .data)"
    else:
        if not isinstance(x, Value) or x._op is None and not x.requires_grad and x.label is None:
            about.insert(0, "a constant")
        elif x.label:
            about.insert(0, f"label {x.label!r}")
        origin = _viewed(x)
        if origin is not x:  # a reshape or transpose of the Value that was changed
            name = f"label {origin.label!r}" if origin.label else f"shape {origin.shape}"
            about.append(f"a view of the Value with {name}")
        what = f"input {i} ({', '.join(about)})"
    named = f" (label {node.label!r})" if node.label else ""
    return (
        f"anomaly: {what} of op {node._op.name!r}{named} was changed after the forward pass "
        "(in place, or its .data replaced): the op's gradient rule reads it, so backward "
        "would give wrong gradients. Change data only after backward, or run the forward "
        "pass again after changing it."
    )


from minigrad.engine.record import shapes_text  # noqa: E402
