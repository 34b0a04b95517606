"""Gradient clipping, as `torch.nn.utils`: call between `loss.backward()` and `optimizer.step()`.

    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), max_norm=1.0)
    optimizer.step()

Both change the parameters' `.grad` in place (arrays stay the same arrays, float32 stays
float32) and skip parameters whose `.grad` is None. Recurrent networks need this: a gradient
through many time steps can grow by a factor per step and blow one update up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from minigrad.value import Value

__all__ = ["clip_grad_norm_", "clip_grad_value_"]


def _with_grads(parameters: Value | Iterable[Value], name: str) -> list[Value]:
    if isinstance(parameters, Value):
        parameters = [parameters]
    try:
        parameters = list(parameters)
    except TypeError:
        raise TypeError(
            f"{name}: parameters must be a Value or an iterable of Values (model.parameters()), "
            f"got {type(parameters).__name__}"
        ) from None
    for i, p in enumerate(parameters):
        if not isinstance(p, Value):
            raise TypeError(f"{name}: parameters[{i}] is a {type(p).__name__}, not a Value")
    return [p for p in parameters if p.grad is not None]


def _data(grad: Any) -> Any:
    return grad.data if isinstance(grad, Value) else grad


def _norm(grad: Any, norm_type: float) -> float:
    g = np.abs(np.asarray(_data(grad), dtype=np.float64))
    if g.size == 0:
        return 0.0
    if norm_type == math.inf:
        return float(g.max())
    return float(np.sum(g**norm_type) ** (1.0 / norm_type))


def _scale(p: Value, factor: float) -> None:
    if type(p.grad) is np.ndarray:
        p.grad *= factor  # in place, keeping the dtype (factor is a Python float)
    else:  # a Python float, or a Value (create_graph=True)
        p.grad = p.grad * factor


def clip_grad_norm_(
    parameters: Value | Iterable[Value],
    max_norm: float,
    norm_type: float | str = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale all gradients together so that their total norm is at most `max_norm`.

    total = (sum over parameters of ||grad||_p ** p) ** (1/p), the p-norm of all gradients as
    one vector (p = inf: the largest |entry|); every gradient is multiplied by
    min(1, max_norm / (total + 1e-6)), PyTorch's formula. Returns the total norm before clipping
    (a Python float). A NaN or infinite total raises RuntimeError with `error_if_nonfinite`.

    >>> import minigrad as mg, numpy as np
    >>> w = mg.Value(np.array([3.0, 4.0])); w.grad = np.array([3.0, 4.0])
    >>> clip_grad_norm_([w], max_norm=1.0), np.round(w.grad, 6)
    (5.0, array([0.6, 0.8]))
    """
    if norm_type == "inf":
        norm_type = math.inf
    norm_type = float(norm_type)
    if not norm_type > 0:
        raise ValueError(f"clip_grad_norm_: norm_type must be > 0 (or inf), got {norm_type}")
    max_norm = float(max_norm)
    if not max_norm >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm must be >= 0, got {max_norm}")
    params = _with_grads(parameters, "clip_grad_norm_")
    if not params:
        return 0.0
    norms = [_norm(p.grad, norm_type) for p in params]
    if norm_type == math.inf:
        total = max(norms)
    else:
        total = float(np.sum(np.asarray(norms) ** norm_type) ** (1.0 / norm_type))
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(
            f"clip_grad_norm_: the total norm of the gradients is {total}, not finite; pass "
            "error_if_nonfinite=False to clip anyway"
        )
    factor = max_norm / (total + 1e-6)
    if factor < 1.0:  # PyTorch multiplies by min(1, factor): by 1, nothing changes
        for p in params:
            _scale(p, factor)
    return total


def clip_grad_value_(parameters: Value | Iterable[Value], clip_value: float) -> None:
    """Clip every gradient entry to [-clip_value, clip_value], in place.

    >>> import minigrad as mg, numpy as np
    >>> w = mg.Value(np.zeros(3)); w.grad = np.array([-5.0, 0.5, 2.0])
    >>> clip_grad_value_(w, 1.0); w.grad
    array([-1. ,  0.5,  1. ])
    """
    clip_value = float(clip_value)
    if not clip_value >= 0:
        raise ValueError(f"clip_grad_value_: clip_value must be >= 0, got {clip_value}")
    for p in _with_grads(parameters, "clip_grad_value_"):
        if type(p.grad) is np.ndarray:
            np.clip(p.grad, -clip_value, clip_value, out=p.grad)
        elif type(p.grad) is float:
            p.grad = min(max(p.grad, -clip_value), clip_value)
        else:
            p.grad = p.grad.clip(-clip_value, clip_value)
