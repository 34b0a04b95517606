"""What both backward paths share: a node's inputs, the order of the graph, and how a rule's
result becomes an input's gradient (summed back over broadcast axes, in the input's dtype).

Keeping these in one place is what makes the reference path and the fast path agree: neither
decides how a gradient is shaped, cast or stored; both call `fit` here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.value import Value


def inputs_of(node: Value) -> tuple:
    """The op's inputs (Values, or raw constants kept as plain data) as a tuple; () for a leaf."""
    if node._x is None:
        return ()
    if node._y is None:
        return (node._x,)
    if node._rest is None:
        return (node._x, node._y)
    return (node._x, node._y, *node._rest[0])


def needs_grad(x: Any) -> bool:
    """Whether backward sends a gradient to input x (a raw constant never needs one)."""
    return isinstance(x, Value) and x.requires_grad


def count_uses(root: Value) -> dict[Value, int]:
    """For every node that root depends on and that needs a gradient: how many times nodes of
    the graph use it as an input (a node used twice, as in `a * a`, counts twice)."""
    uses = {root: 0}
    todo = [root]
    while todo:
        node = todo.pop()
        for x in inputs_of(node):
            if needs_grad(x):
                if x not in uses:
                    uses[x] = 0
                    todo.append(x)
                uses[x] += 1
    return uses


def topo_order(root: Value) -> list[Value]:
    """Nodes that need a gradient, every node after all of its inputs (Kahn's algorithm run from
    the root: a node is placed once all of its uses have been placed; then reversed)."""
    uses = count_uses(root)
    order = []
    ready = [root]
    while ready:
        node = ready.pop()
        order.append(node)
        for x in inputs_of(node):
            if needs_grad(x):
                uses[x] -= 1
                if uses[x] == 0:
                    ready.append(x)
    order.reverse()
    return order


def fit(gx: Any, x: Value, g: Any) -> Any:
    """A rule's result gx as input x's gradient: summed back to x's shape (undoing broadcasting),
    in x's dtype; and for a leaf, never memory shared with another node's gradient (optimizers
    may change `.grad` in place, while add's rule passes `g` itself on and reshape a view of it).
    """
    xd = x.data
    if type(gx) is np.ndarray and type(xd) is np.ndarray:  # Speed: the usual case first
        if gx.shape != xd.shape:
            gx = sum_to_shape(gx, xd.shape)
        if gx.dtype is not xd.dtype and gx.dtype != xd.dtype:  # `is`: the usual case, quickly
            gx = gx.astype(xd.dtype)
        if x._op is None and (gx is g or gx.base is not None):
            gx = gx.copy()
        return gx
    if type(gx) is float and type(xd) is float:
        return gx
    return sum_to(gx, xd)  # Values (create_graph), numbers, numpy scalars


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
