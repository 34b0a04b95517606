"""The switches a user turns: `no_grad`, `enable_grad`, `detect_anomaly`, `reference_mode`.

Each sets one field of the thread's mode (minigrad/engine/record.py) inside a `with` block or a
decorated function and restores it afterwards. `no_grad` works as `@no_grad`, `@no_grad()` and
`with no_grad():`, as `torch.no_grad` does.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from minigrad.engine.record import mode


class _Switch:
    """Sets `mode.<field>` to `value` in a `with` block or around a decorated function."""

    field = ""
    value: Any = None

    def __new__(cls, func: Callable | None = None):
        switch = super().__new__(cls)
        if func is not None:  # `@no_grad` without parentheses: decorate at once
            if not callable(func):
                raise TypeError(f"{cls.__name__}() takes no arguments, got {func!r}")
            return switch(func)
        return switch

    def __enter__(self) -> None:
        mode.saved.append(getattr(mode, self.field))
        setattr(mode, self.field, self.value)

    def __exit__(self, *exc: object) -> None:
        setattr(mode, self.field, mode.saved.pop())

    def __call__(self, func: Callable) -> Callable:
        @functools.wraps(func)
        def switched(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return func(*args, **kwargs)

        return switched


class no_grad(_Switch):
    """Record nothing: `with minigrad.no_grad(): ...`, `@minigrad.no_grad` or
    `@minigrad.no_grad()` on a function."""

    field, value = "grad_enabled", False


class enable_grad(_Switch):
    """Record again, inside a `no_grad` block."""

    field, value = "grad_enabled", True


class detect_anomaly(_Switch):
    """Inside this block, the first op whose forward or backward makes a NaN or an Inf raises
    `FloatingPointError` naming that op (not the loss at the end). Off by default and free then.
    """

    field, value = "anomaly", True


class reference_mode(_Switch):
    """Run everything on the engine's reference path: every op through `apply`, every backward
    through `engine.reference.backward_reference` (the algorithm as written for a reader), and
    none of the fast path's shortcuts. The results are the same, bit for bit; only slower. The
    environment variable MINIGRAD_REFERENCE=1 turns it on for a whole program."""

    field, value = "reference", True


def is_grad_enabled() -> bool:
    return mode.grad_enabled
