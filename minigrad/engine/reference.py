"""The reference backward: reverse-mode autodiff as the algorithm, written for a reader.

1. Count how often each node of the graph is used as an input (`count_uses`).
2. Start at the root with the seed gradient (1.0 for a loss). A node's gradient is the sum of
   what its uses sent it, so it is complete once all of its uses have been visited: those nodes
   are "ready" (Kahn's algorithm: no recursion, so a graph a million ops deep is fine).
3. For a ready node: run its hooks, add its gradient to `.grad`, and apply its op's gradient
   rules (vector-Jacobian products): one gradient per input, summed back over the axes that
   broadcasting added (`fit`), added to that input's pending gradient.
4. Repeat until nothing is ready. Each pending gradient is dropped as soon as it has been used.

In anomaly mode, step 3 first checks that the data the node's rules read has not changed since
its forward ran (engine/anomaly.py). With `create_graph=True` the rules run on Values, so the
gradients are themselves recorded and can be differentiated again. This path is what
`create_graph`, traces, anomaly mode, hooks and forward mode use; `engine/fast.py` is the same
algorithm, optimized for the common case, and a test requires both to give the same gradients
bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from minigrad.engine.anomaly import check_finite, check_unchanged
from minigrad.engine.graph import count_uses, fit, needs_grad
from minigrad.engine.hooks import run_hooks
from minigrad.engine.record import mode
from minigrad.value import Value


def backward_reference(
    root: Value,
    seed: Any,
    create_graph: bool = False,
    accumulate: bool = True,
    wanted: set | None = None,
    on_rule: Callable[..., None] | None = None,
) -> dict:
    """Send `seed` back from root through the graph. With `accumulate`, add each node's
    gradient to its `.grad`; return the gradients of the nodes in `wanted`. `on_rule(node, g,
    grads)` sees every rule applied (for traces)."""
    uses = count_uses(root)
    pending = {root: seed}  # gradient received so far, per node
    ready = [root]  # nodes all of whose uses have been visited
    found = {}
    saved, mode.grad_enabled = mode.grad_enabled, create_graph  # rules record only if asked
    try:
        while ready:
            node = ready.pop()
            g = pending.pop(node, None)  # None: no gradient reached this node
            if g is not None:
                g = run_hooks(node, g)
                if accumulate:
                    node.grad = g if node.grad is None else node.grad + g
                if wanted is not None and node in wanted:
                    found[node] = g
            inputs = node.parents
            grads = local_gradients(node, g, create_graph, on_rule)
            for x, gx in zip(inputs, grads):
                if not needs_grad(x):
                    continue
                if gx is not None:
                    gx = fit(gx, x, g)
                    pending[x] = gx if x not in pending else pending[x] + gx
                uses[x] -= 1
                if uses[x] == 0:
                    ready.append(x)
    finally:
        mode.grad_enabled = saved
    return found


def local_gradients(
    node: Value, g: Any, create_graph: bool, on_rule: Callable[..., None] | None
) -> tuple:
    """The op's rules at this node: one gradient per input (None: none needed or reached)."""
    inputs = node.parents
    if g is None or node._op is None:
        return (None,) * len(inputs)
    if mode.anomaly:
        check_unchanged(node)  # the data its rules read, as the forward saw it
    needs = [x.requires_grad for x in inputs]
    params = node._params or {}
    if create_graph:  # rules on Values: their results are recorded, differentiable again
        # A NaN born inside the rule's own ops (a '/' in sqrt's rule) is reported below, under
        # this op's name, not as that '/'.
        anomaly, mode.anomaly = mode.anomaly, False
        try:
            grads = node._op.vjp(g, node, inputs, needs, params)
        finally:
            mode.anomaly = anomaly
    else:
        grads = node._op.vjp(g, node.data, [x.data for x in inputs], needs, params)
    if mode.anomaly:
        for gx in grads:
            if gx is not None:
                check_finite(gx, node._op, node._params, inputs, "backward", node)
    if on_rule is not None:
        on_rule(node, g, grads)
    return grads
