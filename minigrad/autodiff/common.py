"""What the transforms share: `argnums`, fresh inputs, the checks on what f returns, and the
count of transforms running (which tells an inner transform that its results must stay Values).

Nesting. `grad(grad(f))`, `jvp(grad(f), ...)` and `grad(lambda x: jvp(f, ...)[1])` all run one
transform inside another. The inner one must then give Values, differentiable again, instead
of plain numbers: it does when one of its inputs is a Value that requires grad, or when any
transform is running on this thread (f may close over the outer transform's input, as in
`grad(lambda x: grad(lambda y: x * y)(1.0))`).

Fresh inputs. Each transform differentiates with respect to its own new node, never the Value
it was given: in `grad(lambda x: grad(lambda y: x * y)(x))(2.0)` the inner derivative is d/dy
(x y) = x, not d/dx (x x) = 2x (what JAX calls perturbation confusion). A Value that requires
grad goes in through `identity`, a recorded node, so the outer transforms still see through it.
"""

from __future__ import annotations

import contextlib
import numbers
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from minigrad.engine import apply, constant
from minigrad.ops import reshape, stack
from minigrad.ops.registry import Op
from minigrad.value import Value, to_data


class _Running(threading.local):
    def __init__(self) -> None:
        self.depth = 0  # transforms running on this thread


_running = _Running()


@contextlib.contextmanager
def running() -> Iterator[None]:
    """Count a transform as running while its function is evaluated."""
    _running.depth += 1
    try:
        yield
    finally:
        _running.depth -= 1


def inside_transform() -> bool:
    return _running.depth > 0


class Identity(Op):
    """x, as a node of its own: the fresh input of a transform.  Gradient: gx = g."""

    name = "identity"
    forward = staticmethod(lambda x: x)
    grads = (lambda g, out, x: g,)
    jvps = (lambda t, out, x: t,)


def parse_argnums(argnums: Any, what: str) -> tuple[tuple[int, ...], bool]:
    """(the argument numbers, whether a single int was given)."""
    if isinstance(argnums, (int, np.integer)) and not isinstance(argnums, bool):
        return (int(argnums),), True
    if isinstance(argnums, (tuple, list)) and argnums:
        if all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in argnums):
            return tuple(int(i) for i in argnums), False
    raise TypeError(f"{what}: argnums must be an int or a non-empty tuple of ints, got {argnums!r}")


def check_argnums(nums: tuple[int, ...], args: tuple, what: str) -> None:
    for i in nums:
        if i < 0 or i >= len(args):
            raise TypeError(
                f"{what}: argnums includes {i} but the function got {len(args)} positional "
                f"argument{'s' if len(args) != 1 else ''}"
            )


def is_tracked(x: Any) -> bool:
    """A Value that requires grad: an outer transform (or the user) may differentiate it."""
    return isinstance(x, Value) and x.requires_grad


def fresh(x: Any, what: str) -> Value:
    """A new node standing for input x (a number, an array, a list, or a Value)."""
    label = x.label if isinstance(x, Value) else None  # kept for pictures and programs
    if is_tracked(x):
        node = apply(Identity, x)
        node.label = label
        return node
    try:
        return Value(x.data if isinstance(x, Value) else x, label=label)
    except (TypeError, ValueError) as err:
        raise type(err)(f"{what}: {err}") from None


def substitute(args: tuple, nums: Sequence[int], new: Sequence[Any]) -> list:
    args = list(args)
    for i, x in zip(nums, new):
        args[i] = x
    return args


def _describe(out: Any) -> str:
    text = repr(out)
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{type(out).__name__} ({text})"


def as_output(out: Any, what: str) -> Value:
    """What f returned, as a Value (plain numbers and arrays become constants); a TypeError
    naming it for anything else (bools, strings, None, lists, ...)."""
    if isinstance(out, Value):
        return out
    numeric = isinstance(out, (numbers.Real, np.number)) and not isinstance(out, (bool, np.bool_))
    if numeric or (isinstance(out, np.ndarray) and out.dtype.kind in "fiu"):
        return constant(to_data(out))
    raise TypeError(f"{what}: the function must return a Value or a number, got {_describe(out)}")


def scalar_output(out: Any, what: str) -> Value:
    """f's result for grad: a single-number Value or float, else a clear error."""
    if isinstance(out, (tuple, list)):
        raise TypeError(
            f"{what}: the function must return a single-number Value or float, got "
            f"{_describe(out)}; for several outputs use jacrev() or vjp()"
        )
    try:
        value = as_output(out, what)
    except TypeError:
        raise TypeError(
            f"{what}: the function must return a single-number Value or float, got {_describe(out)}"
        ) from None
    if value.size != 1:
        raise ValueError(
            f"{what}: the function must return a single number, got shape {value.shape}; "
            "use jacrev() or jacfwd() for vector outputs"
        )
    return value


def outputs(out: Any, what: str) -> tuple[list[Value], bool]:
    """f's result as a list of Values, and whether it was a tuple (or list) of them."""
    if isinstance(out, (tuple, list)):
        if not out:
            raise ValueError(f"{what}: the function returned an empty {type(out).__name__}")
        return [as_output(o, what) for o in out], True
    return [as_output(out, what)], False


def plain(x: Any) -> Any:
    """The data of a result for the caller who gave plain numbers (a float stays a float)."""
    return x.data if isinstance(x, Value) else x


def as_value(x: Any) -> Value:
    return x if isinstance(x, Value) else constant(x)


def zeros_like(data: Any) -> Any:
    return 0.0 if type(data) is float else np.zeros_like(data)


def basis(like: Any, i: int) -> Any:
    """The i-th unit vector in the shape and dtype of `like` (data; 1.0 for a float)."""
    if type(like) is float:
        return 1.0
    e = np.zeros(like.size, dtype=like.dtype)
    e[i] = 1.0
    return e.reshape(like.shape)


def assemble(pieces: list, lead: tuple, tail: tuple, last: bool, nested: bool, like: Any) -> Any:
    """One Jacobian block of shape lead + tail from its rows (last=False: pieces[i] is row i,
    of shape `tail`) or its columns (last=True: pieces[k] is column k, of shape `lead`)."""
    shape = lead + tail
    if nested:
        block = stack([as_value(p) for p in pieces], axis=-1 if last else 0)
        return reshape(block, shape)
    block = np.stack([np.asarray(p) for p in pieces], axis=-1 if last else 0)
    block = block.reshape(shape).astype(np.result_type(like), copy=False)
    return float(block) if shape == () else block
