"""Module hooks, as in PyTorch: watch (or change) what goes into a layer, what comes out, and
the gradients flowing back through it.

- `register_forward_pre_hook(hook)`: `hook(module, args)` before forward; it may return new
  positional arguments (a tuple, or one value).
- `register_forward_hook(hook)`: `hook(module, args, output)` after forward; it may return a
  new output.
- `register_full_backward_hook(hook)`: `hook(module, grad_input, grad_output)` once backward
  has the gradients with respect to the module's inputs: `grad_output` holds the gradients of
  the loss with respect to the module's output(s), `grad_input` those with respect to its
  positional Value inputs (None for an input that needs none). It may return a new
  `grad_input` tuple, which backward then passes on instead.

Each returns a handle whose `remove()` takes the hook off again. How the backward hook sees
the gradients: while it is registered, each call wraps the module's Value inputs and outputs in
`identity` nodes and puts gradient hooks (`Value.register_hook`) on them, so the gradients are
caught at the module's borders; a pass calls the module's hook when the last input's gradient
is complete (Kahn order: the outputs' gradients always come first).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from minigrad.autodiff.common import Identity
from minigrad.engine import apply
from minigrad.value import Value

_ids = itertools.count()


class RemovableHandle:
    """What a `register_*_hook` returns: `handle.remove()` (or leaving a `with` block) takes the
    hook off again."""

    def __init__(self, table: dict, key: int) -> None:
        self._table = table
        self.id = key

    def remove(self) -> None:
        self._table.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


class _Hooks:
    """A module's hooks, in the order they were registered (kept out of the parameter walk:
    this is not a Value, Module, list or dict)."""

    def __init__(self) -> None:
        self.pre: dict[int, Callable] = {}
        self.forward: dict[int, Callable] = {}
        self.backward: dict[int, Callable] = {}

    def __bool__(self) -> bool:
        return bool(self.pre or self.forward or self.backward)


class ModuleHooks:
    """The hook methods of `nn.Module` (a mixin; see the module docstring)."""

    _hooks: _Hooks | None = None

    def _hook_table(self, kind: str, hook: Callable) -> RemovableHandle:
        if not callable(hook):
            raise TypeError(
                f"{type(self).__name__}.register_{kind}_hook: expected a callable, got "
                f"{type(hook).__name__}"
            )
        if self._hooks is None:
            self._hooks = _Hooks()
        table = getattr(
            self._hooks, {"forward_pre": "pre", "full_backward": "backward"}.get(kind, kind)
        )
        key = next(_ids)
        table[key] = hook
        return RemovableHandle(table, key)

    def register_forward_pre_hook(self, hook: Callable) -> RemovableHandle:
        """`hook(module, args)` runs before forward; a result other than None replaces args."""
        return self._hook_table("forward_pre", hook)

    def register_forward_hook(self, hook: Callable) -> RemovableHandle:
        """`hook(module, args, output)` runs after forward; a result other than None replaces
        the output."""
        return self._hook_table("forward", hook)

    def register_full_backward_hook(self, hook: Callable) -> RemovableHandle:
        """`hook(module, grad_input, grad_output)` runs in backward once the gradients with
        respect to the module's inputs are complete; a tuple returned replaces grad_input."""
        return self._hook_table("full_backward", hook)

    def _call_with_hooks(self, args: tuple, kwargs: dict) -> Any:
        hooks = self._hooks
        for hook in list(hooks.pre.values()):
            result = hook(self, args)
            if result is not None:
                args = result if isinstance(result, tuple) else (result,)
        watch = _BackwardCall(self, args) if hooks.backward else None
        if watch is not None:
            args = watch.inputs(args)
        out = self.forward(*args, **kwargs)
        for hook in list(hooks.forward.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out if watch is None else watch.outputs(out)


class _BackwardCall:
    """The borders of one call of a module with backward hooks: identity nodes on its Value
    inputs and outputs, whose gradient hooks collect grad_input and grad_output."""

    # It keeps no Value of the graph: the border nodes' hooks refer to it, and the engine keeps
    # those hooks as long as their nodes live, so a reference back would keep the graph alive.
    def __init__(self, module: Any, args: tuple) -> None:
        self.module = module
        self.n_inputs = len(args)
        self.watched = [i for i, x in enumerate(args) if _tracked(x)]
        self.n_outputs = 0
        self._reset()

    def inputs(self, args: tuple) -> tuple:
        """The arguments, each Value that requires grad through a watched identity node."""
        return tuple(
            _watched(x, self._input_arrived, i) if i in self.watched else x
            for i, x in enumerate(args)
        )

    def _reset(self) -> None:
        self.grad_input: list = [None] * self.n_inputs
        self.grad_output: list = [None] * self.n_outputs
        self.waiting = set(self.watched)

    def outputs(self, out: Any) -> Any:
        many = isinstance(out, (tuple, list))
        outs = list(out) if many else [out]
        self.n_outputs = len(outs)
        self.grad_output = [None] * self.n_outputs
        outs = [
            _watched(o, self._output_arrived, k) if _tracked(o) else o for k, o in enumerate(outs)
        ]
        return type(out)(outs) if many else outs[0]

    def _output_arrived(self, k: int, g: Any) -> None:
        if len(self.waiting) < len(self.watched):  # a pass that never finished: start over
            self._reset()
        self.grad_output[k] = g

    def _input_arrived(self, i: int, g: Any) -> Any:
        self.grad_input[i] = g
        self.waiting.discard(i)
        if self.waiting:
            return None
        grad_input, grad_output = tuple(self.grad_input), tuple(self.grad_output)
        self._reset()
        for hook in list(self.module._hooks.backward.values()):
            result = hook(self.module, grad_input, grad_output)
            if result is not None:
                grad_input = self._replacement(result, grad_input, i)
        return grad_input[i]

    def _replacement(self, result: Any, old: tuple, last: int) -> tuple:
        name = type(self.module).__name__
        if not isinstance(result, (tuple, list)) or len(result) != len(old):
            raise TypeError(
                f"{name} backward hook: must return None or a tuple of {len(old)} gradients "
                f"(one per input), got {result!r:.80}"
            )
        for i in self.watched:
            if i != last and result[i] is not old[i]:
                raise RuntimeError(
                    f"{name} backward hook: replacing the gradient of input {i} is not "
                    f"possible, backward has passed it on already (only input {last}'s, the "
                    "last to be complete, can still be replaced)"
                )
        return tuple(result)


def _tracked(x: Any) -> bool:
    return isinstance(x, Value) and x.requires_grad


def _watched(x: Value, arrived: Callable, index: int) -> Value:
    """x through an identity node whose gradient is reported to `arrived(index, g)`."""
    border = apply(Identity, x)
    border.register_hook(lambda g: arrived(index, g))
    return border
