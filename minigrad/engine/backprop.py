"""The public backward entry points: `backward` (fills `.grad`), `gradients` (returns them),
and `run_backward`, which picks the path: the reference (engine/reference.py) for everything
general, the fast path (engine/fast.py) for plain gradients with nothing watching."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad.engine.fast import backward_fast
from minigrad.engine.graph import sum_to
from minigrad.engine.hooks import any_hooks
from minigrad.engine.record import constant, mode
from minigrad.engine.reference import backward_reference
from minigrad.value import Value, to_data

# The fast path keeps its bookkeeping in slots of the nodes (`_g`, `_n`), so two passes through
# the same nodes at once (two threads sharing a model) would mix their counts: passes take turns.
_backward_lock = threading.RLock()


def run_backward(
    root: Value,
    seed: Any,
    create_graph: bool,
    accumulate: bool,
    wanted: set | None = None,
    on_rule: Callable[..., None] | None = None,
) -> dict:
    """The backward pass: with `accumulate`, add to `.grad` of every node; return the gradients
    of the nodes in `wanted`. `on_rule(node, g, grads)` sees every rule applied (for traces).
    Gradients that are Values, traces, anomaly checks, hooks and `reference_mode` take the
    reference path; the rest the fast one (the same results)."""
    general = create_graph or on_rule is not None or mode.checked_backward or any_hooks()
    with _backward_lock:
        if general or isinstance(seed, Value):
            return backward_reference(root, seed, create_graph, accumulate, wanted, on_rule)
        return backward_fast(root, seed, accumulate, wanted)


def _seed(root: Value, gradient: Any, create_graph: bool) -> Any:
    """d root / d root: 1 for a single number, else the `gradient` given, checked."""
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
    # Only these: their gradients come back from the pass, which stores none, and are added to
    # `.grad` afterwards (so the pass keeps its one `accumulate` check per node)
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


from minigrad.engine.modes import enable_grad, no_grad  # noqa: E402
