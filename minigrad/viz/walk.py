"""Walking the graph a picture shows: every Value once, in an order that never depends on memory
addresses, and the names nodes get in pictures and traces."""

from __future__ import annotations

from collections import deque
from typing import Any

from minigrad.engine import sum_to
from minigrad.value import Value
from minigrad.viz.clusters import named_parameters


def walk(root: Value) -> list[Value]:
    """Every Value `root` depends on (constants too), breadth-first from the root, each once.

    The position in this list is the node's id in the picture and its automatic name (`v3`),
    so it must not depend on memory addresses: parents are visited in their recorded order.
    """
    seen = {root}
    order = [root]
    queue = deque([root])
    while queue:
        for p in queue.popleft().parents:
            if p not in seen:
                seen.add(p)
                order.append(p)
                queue.append(p)
    return order


def forward_order(root: Value) -> list[Value]:
    """Every Value made by an op that `root` depends on, each after its inputs: the order a
    program could have computed them in (inputs left to right, depth first, no recursion)."""
    done: set[Value] = set()
    order = []
    stack = [(root, False)]
    while stack:
        v, inputs_done = stack.pop()
        if v in done:
            continue
        if inputs_done or v.is_leaf:
            done.add(v)
            if not v.is_leaf:
                order.append(v)
            continue
        stack.append((v, True))
        stack.extend((p, False) for p in reversed(v.parents) if p not in done)
    return order


def kind_of(v: Value, root: Value) -> str:
    """'root', 'parameter' (a leaf that needs a gradient), 'constant' or 'intermediate'."""
    if v is root:
        return "root"
    if v.is_leaf:
        return "parameter" if v.requires_grad else "constant"
    return "intermediate"


def node_names(
    root: Value, modules: Any = None, order: list[Value] | None = None
) -> dict[Value, str]:
    """The name each node gets in pictures and traces: its `label` when it has one, else its
    dotted parameter name in `modules` (a model), else `v<k>` (`c<k>` for a constant), where k is
    its position in a breadth-first walk from the root."""
    order = walk(root) if order is None else order
    param_names = dict(named_parameters(modules)) if modules is not None else {}
    names = {}
    for k, v in enumerate(order):
        if v.label:
            names[v] = v.label
        elif v in param_names:
            names[v] = param_names[v]
        else:
            names[v] = f"c{k}" if v.is_leaf and not v.requires_grad else f"v{k}"
    return names


def edge_gradients(node: Value) -> tuple:
    """The gradient flowing from `node` back along each edge to its parents (one per use),
    recomputed from the op's rule at g = node.grad and summed to each parent's shape.
    None for parents that need no gradient. Requires a backward pass to have filled `node.grad`.
    """
    g = node.grad.data if isinstance(node.grad, Value) else node.grad
    parents = node.parents
    needs = [p.requires_grad for p in parents]
    grads = node._op.vjp(g, node.data, [p.data for p in parents], needs, node._params or {})
    return tuple(
        None if gp is None or not need else sum_to(gp, p.data)
        for p, gp, need in zip(parents, grads, needs)
    )
