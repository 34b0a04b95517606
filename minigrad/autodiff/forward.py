"""Forward mode: `jvp`, `jacfwd`, `hvp`. Tangents are carried forward with the values.

`jvp(f, primals, tangents)` evaluates f once. Every node an op records is handed, right after it
is made, to a listener (`engine.mode.on_record`), which gives the node its tangent from its
inputs' tangents through the op's forward rules (`Op.jvp`, one `jvps` rule per input): the
directional derivative J v, computed alongside f itself, with no backward pass. One pass gives
one column of the Jacobian; `jacfwd` takes one per input entry.

Levels (as in JAX). Transforms nest: `jvp(grad(f), (x,), (v,))` is a Hessian-vector product
(forward over reverse), `jvp` of a `jvp` gives second directional derivatives. Each running
`jvp` is a level with its own tangents, keyed by node. A tangent rule is itself computed with
minigrad's ops; when the level is nested (inside another transform, or at Values that require
grad) the rule runs on the Values, so its results are recorded in turn: the outer levels give
them tangents (tangents of tangents) and an outer `grad` can differentiate them. The nodes a
level's rules make are seen by the levels outside it only, never by itself. At the outermost
level with plain inputs the rules run on plain data (nothing else needs them), which is faster.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from minigrad.autodiff.common import (
    as_value,
    assemble,
    basis,
    check_argnums,
    fresh,
    inside_transform,
    is_tracked,
    outputs,
    parse_argnums,
    running,
    substitute,
    zeros_like,
)
from minigrad.autodiff.reverse import grad
from minigrad.engine import check_finite, enable_grad, mode
from minigrad.ops import broadcast_to
from minigrad.value import Value, to_data


class _Level:
    """One running `jvp`: the tangent of every node it has seen (a missing node's is zero)."""

    def __init__(self, nested: bool, on_rule: Callable | None = None) -> None:
        self.tangents: dict[Value, Any] = {}
        self.nested = nested  # rules on Values (recorded), else on plain data
        self.on_rule = on_rule  # on_rule(node, input tangents, rule's tangent, fitted): jvp_code

    def track(self, node: Value) -> None:
        """Give a newly recorded node its tangent, from its inputs' tangents."""
        inputs = node.parents
        tangents = [self.tangents.get(x) for x in inputs]
        if all(t is None for t in tangents):
            return  # nothing this level perturbs reaches the node
        op, params = node._op, node._params or {}
        if self.nested:
            t = op.jvp(tangents, node, inputs, params)
        else:
            t = op.jvp(tangents, node.data, [x.data for x in inputs], params)
        if t is None:
            return
        raw, t = t, fit_tangent(t, node.data, op.name)
        if mode.anomaly:
            check_finite(t, op, node._params, inputs, "forward-mode rule", node)
        self.tangents[node] = t
        if self.on_rule is not None:
            self.on_rule(node, tangents, raw, t)


class _Levels(threading.local):
    def __init__(self) -> None:
        self.levels: list[_Level] = []  # running jvps, outermost first
        self.visible = 0  # how many of them (from the outermost) see a node recorded now


_levels = _Levels()


def _listen(node: Value) -> None:
    """The engine's on_record: every level that sees the node gives it a tangent, innermost
    first; what level k's rules record is seen by levels 0..k-1 only."""
    seen = _levels.visible
    try:
        for k in range(seen - 1, -1, -1):
            _levels.visible = k
            _levels.levels[k].track(node)
    finally:
        _levels.visible = seen


@contextlib.contextmanager
def _pushed(level: _Level) -> Iterator[None]:
    visible, listener = _levels.visible, mode.on_record
    _levels.levels.append(level)
    _levels.visible = len(_levels.levels)
    if listener is not _listen:  # (setting the mode costs a few microseconds: only once)
        mode.on_record = _listen
    try:
        yield
    finally:
        _levels.levels.pop()
        _levels.visible = visible
        if listener is not _listen:
            mode.on_record = listener


def fit_tangent(t: Any, like: Any, name: str = "jvp") -> Any:
    """A rule's result as the tangent of a node with data `like`: broadcast to its shape (a
    rule may give it in an input's shape), in its dtype, a float for a float."""
    if type(t) is type(like) and (
        type(t) is float or (t.shape == like.shape and t.dtype == like.dtype)
    ):
        return t  # Speed: the usual case, already fitting
    shape = np.shape(like)
    if isinstance(t, Value):
        return t if t.shape == shape else broadcast_to(t, shape)
    if type(like) is float:
        if type(t) is float:
            return t
        if np.size(t) != 1:
            raise ValueError(f"{name}: the forward rule gave shape {np.shape(t)} for a number")
        return float(np.asarray(t).reshape(()))
    t = np.asarray(t)
    if t.shape != shape:
        try:
            t = np.broadcast_to(t, shape)
        except ValueError:
            raise ValueError(
                f"{name}: the forward rule gave a tangent of shape {t.shape} for an output of "
                f"shape {shape}"
            ) from None
    return t if t.dtype == like.dtype else t.astype(like.dtype)


def _seed(t: Any, leaf: Value, k: int) -> Any:
    """The tangent given for primal k, checked against it: its shape, in its dtype."""
    if t is None:
        return None
    if is_tracked(t):
        data = t.data
    else:
        data = to_data(t.data if isinstance(t, Value) else t, "jvp: tangent")
    if np.shape(data) != leaf.shape:
        raise ValueError(
            f"jvp: tangent {k} has shape {np.shape(data)} but its primal has shape {leaf.shape}"
        )
    return t if is_tracked(t) else fit_tangent(data, leaf.data)


def run_jvp(
    f: Callable,
    primals: Sequence[Any],
    tangents: Sequence[Any],
    kwargs: dict | None = None,
    on_rule: Callable | None = None,
) -> tuple[list[Value], list[Any], bool, bool, list[Value]]:
    """f at fresh nodes for the primals, with the tangents carried along (None: zero).
    Returns (outputs, their tangents, f returned a tuple, nested, the fresh inputs)."""
    nested = inside_transform() or any(is_tracked(x) for x in (*primals, *tangents))
    level = _Level(nested, on_rule)
    with contextlib.nullcontext() if mode.grad_enabled else enable_grad():
        # forward mode needs the ops recorded, even inside no_grad
        args = [fresh(p, "jvp") for p in primals]  # seen by the outer levels only
        seeds = [_seed(t, a, k) for k, (t, a) in enumerate(zip(tangents, args))]
        with running(), _pushed(level):
            for a, t in zip(args, seeds):
                if t is not None:
                    level.tangents[a] = t
            outs, many = outputs(f(*args, **(kwargs or {})), "jvp")
    touts = [level.tangents.get(o) for o in outs]
    touts = [zeros_like(o.data) if t is None else t for o, t in zip(outs, touts)]
    return outs, touts, many, nested, args


def _pairs(primals: Any, tangents: Any) -> tuple[tuple, tuple]:
    for name, given in (("primals", primals), ("tangents", tangents)):
        if not isinstance(given, (tuple, list)):
            raise TypeError(
                f"jvp: {name} must be a tuple or list (one entry per argument of f), got "
                f"{type(given).__name__}; write jvp(f, (x,), (v,))"
            )
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp: {len(primals)} primals but {len(tangents)} tangents; give one tangent per primal"
        )
    if any(t is None for t in tangents):
        raise TypeError("jvp: a tangent is None; give zeros for an argument that does not move")
    return tuple(primals), tuple(tangents)


def _result(x: Any, nested: bool) -> Any:
    if nested:
        return as_value(x)
    x = x.data if isinstance(x, Value) else x
    if type(x) is np.ndarray and not x.flags.writeable:
        x = x.copy()  # a broadcast view: give the caller an array of its own
    return x


def jvp(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> tuple[Any, Any]:
    """(f(*primals), J v): the value of f and its directional derivative along the tangents
    (one per primal, of its shape), in one forward pass.

    Plain numbers in, plain numbers out; at Values that require grad (or inside another
    transform) both are Values, differentiable again.

    >>> jvp(lambda x, y: x * y, (3.0, 4.0), (1.0, 0.0))
    (12.0, 4.0)
    """
    primals, tangents = _pairs(primals, tangents)
    outs, touts, many, nested, _ = run_jvp(f, primals, tangents)
    outs = [_result(o, nested) for o in outs]
    touts = [_result(t, nested) for t in touts]
    return (tuple(outs), tuple(touts)) if many else (outs[0], touts[0])


def jacfwd(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """The Jacobian of f by forward mode: one jvp per input entry (columns of J).

    Shape f(x).shape + x.shape, tuples over argnums and outputs as `jacrev`.

    >>> import numpy as np
    >>> jacfwd(lambda v: v * v)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    nums, single = parse_argnums(argnums, "jacfwd")

    def jacfwd_f(*args: Any, **kwargs: Any) -> Any:
        check_argnums(nums, args, "jacfwd")
        primals = [args[i] for i in nums]
        datas = [to_data(p, "jacfwd") for p in primals]

        def partial(*xs: Any) -> Any:
            return f(*substitute(args, nums, xs), **kwargs)

        columns: dict[tuple[int, int], list] = {}
        outs: list[Value] = []
        many = nested = False
        for j, data in enumerate(datas):
            for k in range(np.size(data)):
                tangents = [None] * len(primals)
                tangents[j] = basis(data, k)
                outs, touts, many, nested, _ = run_jvp(partial, primals, tangents)
                for o, t in enumerate(touts):
                    columns.setdefault((o, j), []).append(t)
        blocks = []
        for o, out in enumerate(outs):
            per_input = tuple(
                assemble(columns[o, j], out.shape, np.shape(d), True, nested, out.data)
                for j, d in enumerate(datas)
            )
            blocks.append(per_input[0] if single else per_input)
        return tuple(blocks) if many else blocks[0]

    return jacfwd_f


def hvp(f: Callable, x: Any, v: Any) -> Any:
    """H v, the Hessian of a single-number f at x times the vector v, without forming H:
    forward mode over reverse mode, jvp(grad(f), (x,), (v,)), one pass of each.

    >>> hvp(lambda x: x ** 3, 2.0, 1.0)
    12.0
    """
    return jvp(grad(f), (x,), (v,))[1]


__all__ = ["jvp", "jacfwd", "hvp", "fit_tangent", "run_jvp"]
