"""Reverse mode as functions: grad, value_and_grad, vjp, jacrev (alias jacobian), hessian.

`grad(f)` gives a function returning df/dx. Called at plain numbers or arrays it returns plain
data; called at a Value that requires grad, or inside another transform, it builds the gradient
as a Value with `create_graph=True`, so `grad(grad(f))` is the second derivative. Every
transform takes `argnums` (an int, or a tuple for several arguments, as in JAX) and passes
keyword arguments through to f.

One backward pass gives the gradient of one number with respect to every input: a vector-
Jacobian product u^T J. So `jacrev` builds a Jacobian of f: R^n -> R^m row by row, one pass per
output entry (m passes), and wins when m is small; `jacfwd` (forward mode) builds it column by
column, one pass per input entry (n passes).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad.autodiff.common import (
    assemble,
    basis,
    check_argnums,
    fresh,
    inside_transform,
    is_tracked,
    outputs,
    parse_argnums,
    running,
    scalar_output,
    substitute,
)
from minigrad.engine import gradients
from minigrad.value import Value, to_data

Argnums = int | Sequence[int]


def _inputs(args: tuple, nums: tuple[int, ...], what: str) -> tuple[list, list[Value], bool]:
    """The arguments with fresh nodes at `nums`, those nodes, and whether results must stay
    Values (nested: inside a transform, or at a Value that requires grad)."""
    check_argnums(nums, args, what)
    nested = inside_transform() or any(is_tracked(args[i]) for i in nums)
    leaves = [fresh(args[i], what) for i in nums]
    return substitute(args, nums, leaves), leaves, nested


def value_and_grad(f: Callable, argnums: Argnums = 0) -> Callable:
    """A function returning (f(*args), df/dargs[argnums]) for a single-number f.

    >>> value_and_grad(lambda x, y: x * y, argnums=(0, 1))(3.0, 4.0)
    (12.0, (4.0, 3.0))
    """
    nums, single = parse_argnums(argnums, "value_and_grad")

    def value_and_grad_f(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        args, leaves, nested = _inputs(args, nums, "grad")
        with running():
            out = scalar_output(f(*args, **kwargs), "grad")
        grads = gradients(out, leaves, create_graph=nested)
        value = out if nested else out.data
        return value, (grads[0] if single else tuple(grads))

    return value_and_grad_f


def grad(f: Callable, argnums: Argnums = 0) -> Callable:
    """The gradient of a single-number f with respect to argument(s) `argnums`; composes.

    >>> grad(lambda x: x ** 3)(2.0), grad(grad(lambda x: x ** 3))(2.0)
    (12.0, 12.0)
    """
    vg = value_and_grad(f, argnums)

    def grad_f(*args: Any, **kwargs: Any) -> Any:
        return vg(*args, **kwargs)[1]

    return grad_f


def vjp(f: Callable, *primals: Any) -> tuple[Any, Callable]:
    """(f(*primals), vjp_fn): vjp_fn(u) is u^T J, the gradient of <u, f> with respect to each
    primal, as a tuple (one backward pass per call; call it as often as you like).

    >>> out, vjp_fn = vjp(lambda x, y: x * y, 3.0, 4.0)
    >>> out, vjp_fn(1.0)
    (12.0, (4.0, 3.0))
    """
    nums = tuple(range(len(primals)))
    args, leaves, nested = _inputs(primals, nums, "vjp")
    with running():
        outs, many = outputs(f(*args), "vjp")

    def vjp_fn(cotangent: Any) -> tuple:
        cotangents = _cotangents(cotangent, outs, many)
        total = None
        for out, u in zip(outs, cotangents):
            grads = gradients(out, leaves, gradient=u, create_graph=nested)
            total = grads if total is None else [a + b for a, b in zip(total, grads)]
        return tuple(total)

    result = [o if nested else o.data for o in outs]
    return (tuple(result) if many else result[0]), vjp_fn


def _cotangents(cotangent: Any, outs: list[Value], many: bool) -> list:
    given = list(cotangent) if many and isinstance(cotangent, (tuple, list)) else [cotangent]
    if len(given) != len(outs):
        raise ValueError(
            f"vjp_fn: f returned {len(outs)} outputs, so it needs as many cotangents, "
            f"got {len(given)}"
        )
    for k, (u, out) in enumerate(zip(given, outs)):
        shape = u.shape if isinstance(u, Value) else np.shape(to_data(u, "vjp_fn"))
        if shape != out.shape:
            raise ValueError(
                f"vjp_fn: cotangent {k} has shape {shape} but the output has shape {out.shape}"
            )
    return given


def jacrev(f: Callable, argnums: Argnums = 0) -> Callable:
    """The Jacobian of f by reverse mode: one backward pass per output entry.

    Shape f(x).shape + x.shape; a tuple over argnums when argnums is a tuple, and a tuple over
    outputs when f returns a tuple (then of tuples, as JAX: J[output][argnum]).

    >>> import numpy as np
    >>> jacrev(lambda v: v * v)(np.array([1.0, 2.0]))
    array([[2., 0.],
           [0., 4.]])
    """
    nums, single = parse_argnums(argnums, "jacrev")

    def jacrev_f(*args: Any, **kwargs: Any) -> Any:
        args, leaves, nested = _inputs(args, nums, "jacrev")
        with running():
            outs, many = outputs(f(*args, **kwargs), "jacrev")
        blocks = []
        for out in outs:
            rows = [
                gradients(out, leaves, gradient=basis(out.data, i), create_graph=nested)
                for i in range(out.size)
            ]
            per_input = tuple(
                assemble([r[j] for r in rows], out.shape, leaf.shape, False, nested, leaf.data)
                for j, leaf in enumerate(leaves)
            )
            blocks.append(per_input[0] if single else per_input)
        return tuple(blocks) if many else blocks[0]

    return jacrev_f


jacobian = jacrev  # the name it had first; jacrev says which mode it uses


def hessian(f: Callable, argnums: Argnums = 0) -> Callable:
    """The second derivatives of a single-number f: the Jacobian of its gradient (reverse over
    reverse). With argnums=(0, 1, ...) every block, H[i][j] = d2f / dx_i dx_j, of shape
    x_i.shape + x_j.shape, as a tuple of tuples (as JAX).

    >>> hessian(lambda x, y: x * x * y, argnums=(0, 1))(3.0, 2.0)
    ((4.0, 6.0), (6.0, 0.0))
    """
    return jacrev(grad(f, argnums), argnums)


__all__ = ["grad", "value_and_grad", "vjp", "jacrev", "jacobian", "hessian"]
