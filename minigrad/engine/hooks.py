"""Gradient hooks: `v.register_hook(fn)` calls `fn(grad)` when backward has v's whole gradient,
before it goes to `v.grad` and on to v's inputs; a hook may return a replacement gradient (as a
PyTorch tensor hook does). Any hook anywhere sends backward down the reference path, so the
fast path never has to look for them.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad.value import Value

# id(node) -> (a weak reference to node, its hooks in the order they were registered). Weak: a
# hook does not keep its node (or the graph behind it) alive; the entry goes when the node does.
# (Keyed by id, not a WeakKeyDictionary: that compares keys with ==, which Values compute
# elementwise.)
_hooks: dict[int, tuple[weakref.ref, list[Callable]]] = {}


def _hooks_of(node: Value) -> list[Callable]:
    entry = _hooks.get(id(node))
    return entry[1] if entry is not None and entry[0]() is node else []


class RemovableHandle:
    """What `register_hook` returns: `handle.remove()` takes the hook off again."""

    def __init__(self, node: Value, fn: Callable) -> None:
        self._node = weakref.ref(node)
        self._fn = fn

    def remove(self) -> None:
        node = self._node()
        fns = _hooks_of(node) if node is not None else []
        if self._fn in fns:
            fns.remove(self._fn)
            if not fns:
                del _hooks[id(node)]


def register_hook(node: Value, fn: Callable[[Any], Any]) -> RemovableHandle:
    """Call `fn(grad)` with node's gradient in every backward pass that reaches it."""
    if not callable(fn):
        raise TypeError(f"register_hook: expected a callable, got {type(fn).__name__}")
    if not node.requires_grad:
        raise RuntimeError("register_hook: this Value does not require grad, so it gets none")
    fns = _hooks_of(node)
    if not fns:
        key = id(node)
        # (the table bound as a default: at interpreter exit the module's globals may be gone)
        forget = lambda _, key=key, table=_hooks: table.pop(key, None)  # noqa: E731
        _hooks[key] = (weakref.ref(node, forget), fns)
    fns.append(fn)
    return RemovableHandle(node, fn)


def any_hooks() -> bool:
    return len(_hooks) > 0


def run_hooks(node: Value, g: Any) -> Any:
    """node's gradient after its hooks (each sees the previous one's result)."""
    for fn in list(_hooks_of(node)):
        replaced = fn(g)
        if replaced is not None:
            replaced = _like(replaced, g)
            if getattr(replaced, "shape", ()) != getattr(g, "shape", ()):
                raise ValueError(
                    f"hook {getattr(fn, '__name__', fn)!r} returned a gradient of shape "
                    f"{getattr(replaced, 'shape', ())}, but the Value's gradient has shape "
                    f"{getattr(g, 'shape', ())}"
                )
            g = replaced
    return g


def _like(replaced: Any, g: Any) -> Any:
    """A hook's result as the same kind of gradient as g (a float, an array of g's dtype, or a
    Value when gradients are Values)."""
    if isinstance(g, Value):
        return replaced if isinstance(replaced, Value) else constant(to_data(replaced))
    replaced = replaced.data if isinstance(replaced, Value) else replaced
    if type(g) is float:
        return float(replaced)
    return np.asarray(replaced, dtype=g.dtype)


from minigrad.engine.record import constant  # noqa: E402
from minigrad.value import to_data  # noqa: E402
