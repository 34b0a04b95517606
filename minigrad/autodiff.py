"""Functional autodiff on top of backward: grad, value_and_grad, jacobian, hessian.

`grad(f)` gives a function returning df/dx. Called at plain numbers or arrays it returns plain
data; called at a Value (as happens inside another `grad`) it builds the gradient as a Value
with `create_graph=True`, so `grad(grad(f))` is the second derivative.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad.engine import constant, gradients
from minigrad.ops import reshape, stack
from minigrad.value import Value


def _argnums(argnums: int | Sequence[int]) -> tuple[tuple[int, ...], bool]:
    if isinstance(argnums, int):
        return (argnums,), True
    return tuple(argnums), False


def _prepare(args: tuple, argnums: tuple[int, ...]) -> tuple[list, list[Value], bool]:
    """Wrap the differentiated arguments as Values; nested means one already was a Value."""
    args = list(args)
    leaves = []
    nested = False
    for i in argnums:
        if i >= len(args):
            raise TypeError(f"argnums includes {i} but the function got {len(args)} arguments")
        if isinstance(args[i], Value) and args[i].requires_grad:
            nested = True
            leaf = args[i]
        else:
            leaf = Value(args[i])  # a number, an array, or a constant Value's data
        args[i] = leaf
        leaves.append(leaf)
    return args, leaves, nested


def _check_scalar(out: Any, what: str) -> Value:
    if not isinstance(out, Value):
        out = constant(out)
    if out.size != 1:
        raise ValueError(
            f"{what}: the function must return a single number, got shape "
            f"{out.shape}; use jacobian() for vector outputs"
        )
    return out


def value_and_grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """A function returning (f(*args), df/dargs[argnums]) for a scalar-valued f."""

    def value_and_grad_f(*args: Any) -> tuple[Any, Any]:
        nums, single = _argnums(argnums)
        args, leaves, nested = _prepare(args, nums)
        out = _check_scalar(f(*args), "grad")
        grads = gradients(out, leaves, create_graph=nested)
        value = out if nested else out.data
        return value, (grads[0] if single else tuple(grads))

    return value_and_grad_f


def grad(f: Callable, argnums: int | Sequence[int] = 0) -> Callable:
    """The gradient of a scalar-valued f with respect to argument(s) `argnums`; composes."""
    vg = value_and_grad(f, argnums)

    def grad_f(*args: Any) -> Any:
        return vg(*args)[1]

    return grad_f


def jacobian(f: Callable, argnum: int = 0) -> Callable:
    """The Jacobian of f at args: shape f(x).shape + x.shape (one backward per output entry)."""

    def jacobian_f(*args: Any) -> Any:
        args, (leaf,), nested = _prepare(args, (argnum,))
        out = f(*args)
        if not isinstance(out, Value):
            out = constant(out)
        rows = []
        for i in range(out.size):
            seed = np.zeros(out.size, dtype=out.dtype)
            seed[i] = 1.0
            seed = seed.reshape(out.shape) if out.shape else float(seed[0])
            (row,) = gradients(out, [leaf], gradient=seed, create_graph=nested)
            rows.append(row)
        shape = out.shape + leaf.shape
        if nested:
            return reshape(stack(rows), shape)
        return np.reshape(np.array(rows, dtype=leaf.dtype), shape)

    return jacobian_f


def hessian(f: Callable, argnum: int = 0) -> Callable:
    """The matrix of second derivatives of a scalar-valued f: the Jacobian of its gradient."""
    return jacobian(grad(f, argnum), argnum)
