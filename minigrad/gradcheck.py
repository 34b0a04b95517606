"""Check backward against finite differences.

For each input entry x_i, the numeric derivative is the central difference
(f(x + eps e_i) - f(x - eps e_i)) / (2 eps), computed in float64. A function with an array
output is reduced to a number by a fixed random projection sum(r * f(x)), which checks the
whole Jacobian (a vector-Jacobian product) with one backward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.engine import no_grad
from minigrad.value import Value


class GradcheckError(AssertionError):
    """Backward and finite differences disagree; the message names where."""


def _as_float64(x: Any) -> Any:
    data = x.data if isinstance(x, Value) else Value(x).data
    return data if type(data) is float else np.array(data, dtype=np.float64)


def _projected(f: Callable, datas: list, projection: Any) -> float:
    with no_grad():
        out = f(*[Value(d, requires_grad=False) for d in datas])
    out = out.data if isinstance(out, Value) else out
    return float(np.sum(np.asarray(out, dtype=np.float64) * projection))


def gradcheck(
    f: Callable,
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """True if f's backward agrees with central finite differences at `inputs`, else raise
    GradcheckError naming the input, the entry, the analytic and the numeric value."""
    datas = [_as_float64(x) for x in inputs]
    leaves = [Value(d) for d in datas]
    out = f(*leaves)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: f must return a Value, got {type(out).__name__}")
    rng = np.random.default_rng(seed)
    projection = 1.0 if out.size == 1 else rng.standard_normal(out.shape)
    if out.requires_grad:
        (out * projection).sum().backward()

    for n, (leaf, data) in enumerate(zip(leaves, datas)):
        analytic = np.zeros(np.shape(data)) if leaf.grad is None else np.asarray(leaf.grad)
        flat = np.array(data, dtype=np.float64).reshape(-1)
        for i in range(flat.size):
            numeric = _central_difference(f, datas, n, flat, i, eps, projection)
            got = float(analytic.reshape(-1)[i])
            if not abs(got - numeric) <= atol + rtol * abs(numeric):
                where = tuple(int(k) for k in np.unravel_index(i, np.shape(data)))
                raise GradcheckError(
                    f"gradcheck: input {n}, entry {where}: backward gives {got:.8g}, "
                    f"finite differences give {numeric:.8g} (eps={eps}, atol={atol}, rtol={rtol})"
                )
    return True


def _central_difference(
    f: Callable, datas: list, n: int, flat: np.ndarray, i: int, eps: float, projection: Any
) -> float:
    values = []
    for step in (eps, -eps):
        moved = flat.copy()
        moved[i] += step
        trial = list(datas)
        trial[n] = float(moved[0]) if type(datas[n]) is float else moved.reshape(np.shape(datas[n]))
        values.append(_projected(f, trial, projection))
    return (values[0] - values[1]) / (2 * eps)
