"""`Module`: the base of every network piece, holding parameters and sub-modules.

A module finds its parameters by looking at its own attributes, in the order they were set:
a `Value` that requires grad is a parameter, a `Module` is a child, and a list or tuple of them
(micrograd's `self.w = [Value(...), ...]`, or a list of layers) is walked item by item. Names are
dotted paths, as in PyTorch: `layers.0.neurons.1.w.0`, `0.weight`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from minigrad.value import Value


class Module:
    """Base class: subclasses set parameters/sub-modules as attributes and define `forward`.

    >>> import minigrad as mg
    >>> class Scale(mg.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.k = mg.Value(2.0)
    ...     def forward(self, x):
    ...         return self.k * x
    >>> Scale()(3.0).data, [name for name, _ in Scale().named_parameters()]
    (6.0, ['k'])
    """

    training: bool = True

    def __init__(self) -> None:
        self.training = True

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    # ----- walking the tree --------------------------------------------------------------
    def _members(self) -> Iterator[tuple[str, Any]]:
        """(name, Value or Module) for direct members, lists and tuples expanded."""
        for name, attr in vars(self).items():
            if isinstance(attr, (Value, Module)):
                yield name, attr
            elif isinstance(attr, (list, tuple)):
                for i, item in enumerate(attr):
                    if isinstance(item, (Value, Module)):
                        yield f"{name}.{i}", item

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their names."""
        for name, member in self._members():
            if isinstance(member, Module):
                yield name, member

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """This module and every module inside it, depth first."""
        yield prefix, self
        for name, child in self.named_children():
            yield from child.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Value]]:
        """(dotted name, Value) for every trainable Value, each once, in definition order."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            path, module = stack.pop()
            children = []
            for name, member in module._members():
                full = f"{path}.{name}" if path else name
                if isinstance(member, Module):
                    children.append((full, member))
                elif member.requires_grad and id(member) not in seen:
                    seen.add(id(member))
                    yield full, member
            stack.extend(reversed(children))

    def parameters(self) -> list[Value]:
        """Every trainable Value, as a list (the order `named_parameters` gives)."""
        return [p for _, p in self.named_parameters()]

    def zero_grad(self) -> None:
        """Forget the gradients of every parameter (set `.grad` to None)."""
        for p in self.parameters():
            p.grad = None

    def num_parameters(self) -> int:
        """How many numbers the parameters hold."""
        return sum(p.size for p in self.parameters())

    # ----- modes -------------------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active) for this module and all inside it; returns self."""
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (dropout off); returns self."""
        return self.train(False)

    # ----- saving --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter as a numpy array, keyed by dotted name.

        A single-number parameter becomes a 0-d float64 array."""
        return {name: np.array(p.data, copy=True) for name, p in self.named_parameters()}

    def load_state_dict(self, state_dict: dict, strict: bool = True) -> None:
        """Copy arrays from `state_dict` into the parameters of the same names.

        Everything is checked first: missing keys, unexpected keys (both skipped when
        `strict=False`) and shape or dtype mismatches are all reported in one ValueError, and
        then nothing has been changed.
        """
        if not isinstance(state_dict, dict):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        params = dict(self.named_parameters())
        problems = []
        if strict:
            missing = [k for k in params if k not in state_dict]
            unexpected = [k for k in state_dict if k not in params]
            if missing:
                problems.append(f"missing keys: {missing}")
            if unexpected:
                problems.append(f"unexpected keys: {unexpected}")
        mismatched = []
        for name, p in params.items():
            if name not in state_dict:
                continue
            new = np.asarray(state_dict[name])
            if new.shape != p.shape or new.dtype != p.dtype:
                mismatched.append(
                    f"{name}: expected shape {p.shape} dtype {p.dtype}, "
                    f"got shape {new.shape} dtype {new.dtype}"
                )
        if mismatched:
            problems.append("mismatched: " + "; ".join(mismatched))
        if problems:
            raise ValueError(
                f"load_state_dict into {type(self).__name__}: "
                + ". ".join(problems)
                + ". Nothing was loaded."
            )
        for name, p in params.items():
            if name in state_dict:
                new = np.asarray(state_dict[name])
                p.data = float(new) if type(p.data) is float else new.copy()

    def save(self, path: Any) -> None:
        """Write `state_dict()` to an `.npz` file (see `minigrad.io.save`)."""
        from minigrad.io import save

        save(self.state_dict(), path)

    def load(self, path: Any) -> Module:
        """Read parameters saved by `save` (checked as in `load_state_dict`); returns self."""
        from minigrad.io import load

        self.load_state_dict(load(path))
        return self

    # ----- repr --------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr line (override it)."""
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        head = f"{type(self).__name__}({self.extra_repr()}"
        if not children:
            return head + ")"
        lines = [head]
        for name, child in children:
            text = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {text}")
        return "\n".join(lines) + "\n)"
