"""Anomaly checks: with `detect_anomaly()` on, the first op whose forward or backward makes a
NaN or an Inf raises, naming that op, instead of the loss turning NaN far downstream."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from minigrad.value import Value


def check_finite(
    result: Any, op: Any, params: Any, inputs: Sequence[Any], where: str, node: Value | None = None
) -> None:
    """Raise FloatingPointError if `result` (the forward's or a rule's) holds a NaN or Inf."""
    data = result.data if isinstance(result, Value) else result
    if data is None or np.all(np.isfinite(data)):
        return
    bad = "NaN" if np.any(np.isnan(data)) else "Inf"
    label = f" (label {node.label!r})" if node is not None and node.label else ""
    named = [repr(x.label) for x in inputs if isinstance(x, Value) and x.label]
    label += f" on input {', '.join(named)}" if named else ""
    shapes = shapes_text(x.data if isinstance(x, Value) else x for x in inputs)
    detail = f" with {params}" if params else ""
    raise FloatingPointError(
        f"anomaly: the {where} of op {op.name!r}{detail}{label} produced {bad}; "
        f"input shapes: {shapes}, result shape: {np.shape(data)}"
    )


from minigrad.engine.record import shapes_text  # noqa: E402
