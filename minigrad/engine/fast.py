"""The fast backward: `engine/reference.py`'s algorithm, optimized for the common case.

It decides nothing the reference does not: the same Kahn order (the same ready stack, inputs
in the same order), the same rules, the same `fit` of each rule's result to its input, the
same sums. tests/test_engine_paths.py runs random programs through both and requires the same
`.grad` on every node, bit for bit. It runs only on plain data (no `create_graph`, traces,
anomaly checks or hooks: those take the reference path). Its tricks, each marked "Speed:":

- Bookkeeping in slots of the nodes instead of dicts: `_g` holds the pending gradient (or the
  mark `_IN_GRAPH`: in the graph, not reached yet), `_n` the count of unvisited uses.
- Scalar `+` and `*` (most nodes of a scalar graph) have their rules written out inline.
- A node used several times adds its later gradients in place, into the sum the pass made.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.engine.graph import fit
from minigrad.value import Value

# Marks a node as part of the graph of the pass under way, not yet reached by a gradient (in
# its `_g` slot, which later holds its pending gradient).
_IN_GRAPH = object()


def backward_fast(root: Value, seed: Any, accumulate: bool, wanted: set | None) -> dict:
    """`backward_reference(root, seed, False, accumulate, wanted)` on plain data, faster.

    One loop of about 85 lines, over the 60 the code aims for, on purpose: a scalar graph runs
    its body once per node, and one more function call per node (about 30-40 ns on a 2026
    Xeon) would be 5-7% of W2's 1.2 us per link (two nodes). The less common cases call out
    (`_vjp_three`, `_vjp_plain`, `_pass_on`)."""
    found = {}
    summed: set = set()  # nodes whose pending gradient is a sum this pass made (_add_pending)
    nodes = _mark_graph(root)
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
                node.grad = g if old is None else _add_grad(old, g)
            if wanted is not None and node in wanted:
                found[node] = g
            op = node._op
            if op is None:
                continue
            if (op is Mul or op is Add) and type(g) is float:
                # Speed: scalar + and *, their rules written out: d(x+y) = g, g; d(x*y) = g*y,
                # g*x (as in ops/arithmetic.py). A float sum or product comes only from floats,
                # so `fit` has nothing to do. x's edge and y's are written out one after the
                # other (a loop over the two would build a tuple per node).
                x, y = node._x, node._y
                x_value = isinstance(x, Value)
                y_value = isinstance(y, Value)
                if x_value and x.requires_grad:
                    gx = g if op is Add else g * y.data if y_value else g * y
                    pending = x._g
                    x._g = gx if pending is _IN_GRAPH else pending + gx
                    if x._n == 1:
                        ready.append(x)
                    else:
                        x._n -= 1
                if y_value and y.requires_grad:
                    gy = g if op is Add else g * x.data if x_value else g * x
                    pending = y._g
                    y._g = gy if pending is _IN_GRAPH else pending + gy
                    if y._n == 1:
                        ready.append(y)
                    else:
                        y._n -= 1
                continue
            rest = node._rest
            if rest is not None and op.rules_only and rest[1] is None and len(rest[0]) == 1:
                _vjp_three(node, op.grads, g, rest[0][0], ready, summed)
                continue
            if not op.rules_only or rest is not None:
                _vjp_plain(node, op, g, ready, summed)
                continue
            # Speed: one or two inputs without parameters (most array nodes): the rules called
            # directly, and + and * on arrays written out (as in ops/arithmetic.py)
            x, y = node._x, node._y
            rules = op.grads
            if y is None:
                if x.requires_grad:  # (not if switched off after the op was recorded)
                    rule = rules[0]
                    gx = None if rule is None else rule(g, node.data, x.data)
                    _pass_on(x, gx, g, ready, summed)
                    gx = None  # let go of the array at once (see below)
                continue
            x_value, y_value = isinstance(x, Value), isinstance(y, Value)
            xd = x.data if x_value else x  # a raw constant is kept as plain data
            yd = y.data if y_value else y
            if x_value and x.requires_grad:
                rule = rules[0]
                gx = g if op is Add else g * yd if op is Mul else _rule(rule, g, node, xd, yd)
                _pass_on(x, gx, g, ready, summed)
                gx = None  # the local lets go of the array at once (freed once used, not later)
            if y_value and y.requires_grad:
                rule = rules[1]
                gy = g if op is Add else g * xd if op is Mul else _rule(rule, g, node, xd, yd)
                _pass_on(y, gy, g, ready, summed)
                gy = None
    except BaseException:
        for node in nodes:
            node._g = None  # a failed pass leaves nothing pending behind
        raise
    return found


def _rule(rule: Any, g: Any, node: Value, xd: Any, yd: Any) -> Any:
    """A two-input rule's result; None for a rule that is None (no gradient for that input)."""
    return None if rule is None else rule(g, node.data, xd, yd)


def _vjp_three(node: Value, rules: tuple, g: Any, z: Any, ready: list, summed: set) -> None:
    """Three inputs, rules only, no parameters (the fused `linear`): the rules called directly.

    Speed: as the one- and two-input case above, without `_vjp_plain`'s lists and loop."""
    x, y = node._x, node._y
    out = node.data
    # Each input's data (a raw constant is kept as plain data) and whether it needs a gradient
    x_needs = y_needs = z_needs = False
    if isinstance(x, Value):
        xd, x_needs = x.data, x.requires_grad
    else:
        xd = x
    if isinstance(y, Value):
        yd, y_needs = y.data, y.requires_grad
    else:
        yd = y
    if isinstance(z, Value):
        zd, z_needs = z.data, z.requires_grad
    else:
        zd = z
    # x's edge, y's and z's written out (a loop over the three would build tuples per node)
    if x_needs:
        rule = rules[0]
        _pass_on(x, None if rule is None else rule(g, out, xd, yd, zd), g, ready, summed)
    if y_needs:
        rule = rules[1]
        _pass_on(y, None if rule is None else rule(g, out, xd, yd, zd), g, ready, summed)
    if z_needs:
        rule = rules[2]
        _pass_on(z, None if rule is None else rule(g, out, xd, yd, zd), g, ready, summed)


def _vjp_plain(node: Value, op: Any, g: Any, ready: list, summed: set) -> None:
    """Ops with parameters, more than two inputs, or a `vjp` of their own (concat, stack)."""
    inputs = inputs_of(node)
    datas = []
    for v in inputs:  # Speed: a loop, not a comprehension (a function call in Python 3.11)
        datas.append(v.data if isinstance(v, Value) else v)
    params = node._rest[1] if node._rest is not None else None
    out = node.data
    if not op.rules_only:
        needs = [isinstance(v, Value) and v.requires_grad for v in inputs]
        grads = op.vjp(g, out, datas, needs, params or {})
        for v, gv, need in zip(inputs, grads, needs):
            if need:
                _pass_on(v, gv, g, ready, summed)
        return
    for rule, v in zip(op.grads, inputs):
        if isinstance(v, Value) and v.requires_grad:
            if rule is None:  # not differentiable in this input: no gradient, one use visited
                _pass_on(v, None, g, ready, summed)
                continue
            # Speed: no empty keyword dict to unpack for ops without parameters
            gv = rule(g, out, *datas, **params) if params else rule(g, out, *datas)
            _pass_on(v, gv, g, ready, summed)
            gv = None


def _pass_on(x: Value, gx: Any, g: Any, ready: list, summed: set) -> None:
    """Add a rule's result gx (None: no gradient) to input x's pending gradient, and count this
    use of x as visited: x is ready when it was its last."""
    if gx is not None:
        # Speed: `fit` is called only when it has something to do. The usual gradient, an
        # array of x's shape and dtype, is kept as it is, as `fit` would keep it (a call less
        # per input of most array ops): for an intermediate node always, for a leaf when it
        # is a fresh array (not g passed on, not a view of another array).
        xd = x.data
        if (
            type(gx) is not np.ndarray
            or type(xd) is not np.ndarray
            or gx.shape != xd.shape
            or gx.dtype is not xd.dtype
            or x._op is None
            and (gx is g or gx.base is not None)
        ):
            gx = fit(gx, x, g)
        pending = x._g
        x._g = gx if pending is _IN_GRAPH else _add_pending(x, pending, gx, summed)
    n = x._n
    if n == 1:
        ready.append(x)
    else:
        x._n = n - 1


def _pass_nothing(node: Value, ready: list) -> None:
    """A node no gradient reached: count its uses of its inputs as visited all the same."""
    for x in inputs_of(node):
        if isinstance(x, Value) and x.requires_grad:
            x._n -= 1
            if x._n == 0:
                ready.append(x)


def _add_pending(x: Value, pending: Any, gx: Any, summed: set) -> Any:
    """x's pending gradient after one more use's gradient gx (x is used several times).

    Speed: the first sum is a fresh array that only x's slot holds, so later uses add into it in
    place (no new array per use; the same numbers as `pending + gx`). Only that sum: a first
    pending gradient may be another node's `.grad` as well (+ passes its g on unchanged).
    """
    if x in summed:
        pending += gx  # an array: in place, same shape and dtype (both fitted to x)
        return pending
    total = pending + gx
    if type(total) is np.ndarray:
        summed.add(x)
    return total


def _add_grad(old: Any, g: Any) -> Any:
    """`.grad + g` for a node already holding a gradient from an earlier pass; a `.grad` left
    as a Value by `create_graph` stays one, without recording (as in the reference)."""
    if isinstance(old, Value):
        with no_grad():
            return old + g
    return old + g


def _mark_graph(root: Value) -> list[Value]:
    """The nodes root depends on that need a gradient, each marked _IN_GRAPH, with `_n` set to
    the number of times nodes of the graph use it (`graph.count_uses`, in slots).

    Speed: a breadth-first walk over a list that grows while it is walked, no recursion or
    iterator per node; the mark doubles as the "seen" set; x and y unrolled, as above.
    """
    root._g = _IN_GRAPH
    root._n = 0
    nodes = [root]
    for node in nodes:
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
        if node._rest is not None:
            for z in node._rest[0]:
                if isinstance(z, Value) and z.requires_grad:
                    if z._g is None:
                        z._g = _IN_GRAPH
                        z._n = 1
                        nodes.append(z)
                    else:
                        z._n += 1
    return nodes


from minigrad.engine.graph import inputs_of  # noqa: E402
from minigrad.engine.modes import no_grad  # noqa: E402
from minigrad.ops.arithmetic import Add, Mul  # noqa: E402  (the ops import the engine)
