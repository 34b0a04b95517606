"""The engine: recording ops into a graph, and walking it backwards to get gradients.

Read it in this order:
- `record.py`: `apply(op, *inputs)` runs an op's forward and, when an input requires grad,
  returns a Value that remembers the op and its inputs; the per-thread mode that decides it.
- `modes.py`: the switches `no_grad`, `enable_grad`, `detect_anomaly`, `reference_mode`.
- `graph.py`: a node's inputs, the order of the graph, and `fit` (a rule's result summed back
  over broadcast axes: the only place broadcasting is undone).
- `reference.py`: the backward pass as the algorithm (Kahn order, each op's rules,
  accumulation), the path of `create_graph`, traces, anomaly mode, hooks and forward mode.
- `fast.py`: the same algorithm optimized for the common case (plain gradients); a test
  requires both to give identical gradients.
- `backprop.py`: `backward`, `gradients`, and the choice of path.
- `hooks.py`, `anomaly.py`: gradient hooks and NaN/Inf checks.
"""

# Recording first: the ops import `apply` and friends from this package while it loads (the
# backward paths below need the ops' Add and Mul).
from minigrad.engine.modes import (
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    reference_mode,
)
from minigrad.engine.record import apply, apply1, apply2, apply3, constant, mode, operator

# isort: split
from minigrad.engine.anomaly import check_finite
from minigrad.engine.backprop import backward, gradients, run_backward
from minigrad.engine.graph import count_uses, fit, inputs_of, sum_to, sum_to_shape, topo_order
from minigrad.engine.hooks import RemovableHandle, register_hook
from minigrad.engine.reference import backward_reference

__all__ = [
    "apply",
    "apply1",
    "apply2",
    "apply3",
    "operator",
    "constant",
    "mode",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "reference_mode",
    "backward",
    "gradients",
    "run_backward",
    "backward_reference",
    "topo_order",
    "count_uses",
    "inputs_of",
    "fit",
    "sum_to",
    "sum_to_shape",
    "check_finite",
    "register_hook",
    "RemovableHandle",
]
