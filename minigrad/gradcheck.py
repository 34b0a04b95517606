"""Check derivatives against finite differences: `gradcheck` (first order) and `gradgradcheck`
(second order).

Both compare whole Jacobians, in float64. The analytic one comes from backward, one pass per
output entry (a unit upstream gradient each); the numeric one from central differences,
(f(x + eps e_i) - f(x - eps e_i)) / (2 eps), one pair of evaluations per input entry. Every
entry must satisfy |analytic - numeric| <= atol + rtol |numeric|; when some do not, the error
names the worst one (the largest error measured in tolerances): which input and entry, which
output entry, and both derivatives of that entry.

`gradgradcheck` does the same for the gradient itself: the function x -> vjp(x, u) (backward
with a fixed random upstream gradient u, `create_graph=True`) is checked by backward through it
against finite differences of the plain first-order backward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.engine import gradients, no_grad
from minigrad.value import Value


class GradcheckError(AssertionError):
    """Backward and finite differences disagree; the message names where."""


def _as_float64(x: Any) -> Any:
    data = x.data if isinstance(x, Value) else Value(x).data
    return data if type(data) is float else np.array(data, dtype=np.float64)


def _outputs(out: Any, what: str) -> list[Value]:
    outs = list(out) if isinstance(out, (tuple, list)) else [out]
    for o in outs:
        if not isinstance(o, Value):
            raise TypeError(f"{what}: f must return a Value, got {type(o).__name__}")
    return outs


def _unit(out: Value, j: int) -> Any:
    if type(out.data) is float:
        return 1.0
    seed = np.zeros(out.size)
    seed[j] = 1.0
    return seed.reshape(out.shape)


def _analytic(outs: list[Value], leaves: list[Value]) -> list[list[np.ndarray]]:
    """J[k][n]: d output k / d input n as a matrix (output entries x input entries), by one
    backward pass per output entry."""
    jac = []
    for out in outs:
        rows = [
            gradients(out, leaves, gradient=_unit(out, j)) if out.requires_grad else None
            for j in range(out.size)
        ]
        jac.append(
            [
                np.array(
                    [np.zeros(leaf.size) if r is None else np.ravel(r[n]) for r in rows],
                    dtype=np.float64,
                ).reshape(out.size, leaf.size)
                for n, leaf in enumerate(leaves)
            ]
        )
    return jac


def _numeric(evaluate: Callable, datas: list, sizes: list[int], eps: float) -> list:
    """The same matrices by central differences of `evaluate(datas) -> outputs as arrays`."""
    jac = [[np.zeros((m, np.size(d))) for d in datas] for m in sizes]
    for n, data in enumerate(datas):
        flat = np.array(data, dtype=np.float64).reshape(-1)
        for i in range(flat.size):
            values = []
            for step in (eps, -eps):
                moved = flat.copy()
                moved[i] += step
                trial = list(datas)
                trial[n] = float(moved[0]) if type(data) is float else moved.reshape(np.shape(data))
                values.append(evaluate(trial))
            for k, (ahead, behind) in enumerate(zip(*values)):
                jac[k][n][:, i] = (np.ravel(ahead) - np.ravel(behind)) / (2 * eps)
    return jac


def _worst(analytic: list, numeric: list, atol: float, rtol: float) -> tuple | None:
    """(ratio, k, n, j, i, analytic, numeric, failing count) of the entry furthest outside its
    tolerance, or None when every entry is within."""
    worst, failing = None, 0
    for k, (a_rows, n_rows) in enumerate(zip(analytic, numeric)):
        for n, (a, num) in enumerate(zip(a_rows, n_rows)):
            if a.size == 0:
                continue
            ratio = np.abs(a - num) / (atol + rtol * np.abs(num))
            failing += int(np.sum(ratio > 1.0))
            j, i = np.unravel_index(np.argmax(ratio), ratio.shape)
            if ratio[j, i] > 1.0 and (worst is None or ratio[j, i] > worst[0]):
                worst = (float(ratio[j, i]), k, n, int(j), int(i), a[j, i], num[j, i])
    return None if worst is None else (*worst, failing)


def _check(
    what: str, record: Callable, evaluate: Callable, inputs: tuple, eps, atol, rtol, how: str
) -> bool:
    datas = [_as_float64(x) for x in inputs]
    leaves = [Value(d) for d in datas]
    outs = record(leaves)
    analytic = _analytic(outs, leaves)
    numeric = _numeric(evaluate, datas, [o.size for o in outs], eps)
    found = _worst(analytic, numeric, atol, rtol)
    if found is None:
        return True
    _, k, n, j, i, a, num, failing = found
    where = tuple(int(e) for e in np.unravel_index(i, np.shape(datas[n])))
    text = f"{what}: input {n}, entry {where}"
    out_where = tuple(int(e) for e in np.unravel_index(j, outs[k].shape))
    if how != "backward":  # the outputs checked are the gradients of the inputs
        text += f", of the gradient of input {k} entry {out_where}"
    elif len(outs) > 1:
        text += f", output {k} entry {out_where}"
    elif outs[k].size > 1:
        text += f", output entry {out_where}"
    raise GradcheckError(
        f"{text}: {how} gives {a:.8g}, finite differences{' of backward' * (how != 'backward')} "
        f"give {num:.8g} (the worst of {failing} entr{'y' if failing == 1 else 'ies'} outside "
        f"atol + rtol |numeric|; eps={eps}, atol={atol}, rtol={rtol})"
    )


def gradcheck(
    f: Callable,
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """True if f's backward agrees with central finite differences at `inputs`, entry by entry
    of the Jacobian; else raise GradcheckError naming the worst entry (input, entry, output
    entry) with its analytic and numeric derivative. f returns a Value (or a tuple of them).
    `seed` is unused (kept for calls written for the earlier random projection)."""

    def evaluate(datas: list) -> list:
        with no_grad():
            outs = _outputs(f(*[Value(d, requires_grad=False) for d in datas]), "gradcheck")
        return [np.asarray(o.data, dtype=np.float64) for o in outs]

    def record(leaves: list) -> list:
        return _outputs(f(*leaves), "gradcheck")

    return _check("gradcheck", record, evaluate, inputs, eps, atol, rtol, "backward")


def gradgradcheck(
    f: Callable,
    *inputs: Any,
    grad_outputs: Any = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """True if the second derivatives of f agree with finite differences of its first
    derivatives, else GradcheckError naming the worst entry, as `gradcheck`.

    What is checked is the function x -> u^T J(x), the gradient of <u, f(x)> with respect to
    every input, for an upstream gradient u (`grad_outputs`: random normal numbers from `seed`
    by default, as PyTorch's gradgradcheck): its Jacobian by backward through the gradient
    (`create_graph=True`) against central differences of the plain backward."""
    datas = [_as_float64(x) for x in inputs]
    shape = _outputs(f(*[Value(d) for d in datas]), "gradgradcheck")[0].shape
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        u = float(rng.standard_normal()) if shape == () else rng.standard_normal(shape)
    else:
        u = grad_outputs.data if isinstance(grad_outputs, Value) else np.asarray(grad_outputs)

    def first_order(leaves: list, create_graph: bool) -> list:
        (out,) = _outputs(f(*leaves), "gradgradcheck")[:1]
        return gradients(out, leaves, gradient=u, create_graph=create_graph)

    def evaluate(datas: list) -> list:
        grads = first_order([Value(d) for d in datas], False)
        return [np.asarray(g, dtype=np.float64) for g in grads]

    def record(leaves: list) -> list:
        return [g if isinstance(g, Value) else Value(g) for g in first_order(leaves, True)]

    return _check(
        "gradgradcheck", record, evaluate, inputs, eps, atol, rtol, "backward of backward"
    )
