"""`Module`: the base of every network piece, holding parameters, buffers and sub-modules.

A module finds what it holds by looking at its own attributes, in the order they were set:

- a `Value` made directly (a leaf, not the result of an op) is a parameter, like PyTorch's
  `nn.Parameter`. It is trained while it requires grad; a frozen one (`requires_grad_(False)`)
  stays a parameter: listed, saved and loaded, and skipped by optimizers (it gets no gradient);
- a `Module` is a child;
- a list, tuple or dict is walked item by item: micrograd's `self.w = [Value(...), ...]`, a list
  of layers, `self.heads = {"a": Linear(4, 1)}`;
- a numpy array given to `register_buffer` is a buffer: state that is saved but not trained
  (BatchNorm's running statistics). Keep a constant there, or as a plain float or array.

Names are dotted paths, as in PyTorch: `layers.0.neurons.1.w.0`, `heads.a.weight`, `0.weight`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

import numpy as np

from minigrad.nn.args import NUMERIC_KINDS, call_checked, raise_named_input_error
from minigrad.nn.hooks import ModuleHooks
from minigrad.value import Value

# Attributes the module machinery keeps for itself (containers keep their items in `_modules`
# and list them in their own `_members`): never walked as members.
_INTERNAL = frozenset({"training", "_buffer_names", "_modules"})


class IncompatibleKeys(NamedTuple):
    """What `load_state_dict` did not match: PyTorch's (missing_keys, unexpected_keys)."""

    missing_keys: list[str]
    unexpected_keys: list[str]

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (
            f"IncompatibleKeys(missing_keys={self.missing_keys!r}, "
            f"unexpected_keys={self.unexpected_keys!r})"
        )


def _held(name: str, obj: Any) -> Iterator[tuple[str, Any]]:
    """(name, Value or Module) for `obj` and, for a list, tuple or dict, its items."""
    if isinstance(obj, Module) or (isinstance(obj, Value) and obj._op is None):
        yield name, obj
    elif isinstance(obj, (list, tuple)):
        for i, item in enumerate(obj):
            if isinstance(item, (Value, Module, list, tuple, dict)):
                yield from _held(f"{name}.{i}", item)
    elif isinstance(obj, dict):
        for key, item in obj.items():
            if isinstance(item, (Value, Module, list, tuple, dict)):
                yield from _held(f"{name}.{key}", item)


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _cast(data: Any, dtype: np.dtype) -> Any:
    """`data` in `dtype`; a single float64 number is a Python float, as Values keep them."""
    if np.ndim(data) == 0 and dtype == np.float64:
        return float(data)
    return np.asarray(data, dtype=dtype).copy()


def _problem_list(title: str, groups: dict[str, list[str]]) -> str:
    """Every problem on its own line, under its group's heading (a large model can have dozens;
    one line of them all is unreadable)."""
    count = sum(len(items) for items in groups.values())
    lines = [f"{title}: {count} problem{'s' if count != 1 else ''}. Nothing was loaded."]
    for heading, items in groups.items():
        if items:
            lines.append(f"  {heading} ({len(items)}):")
            lines.extend(f"    {item}" for item in items)
    return "\n".join(lines)


class Module(ModuleHooks):
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
        # Speed: the usual call (one input, a Value or an array of numbers; no keywords, no
        # hooks) costs these tests and forward(x), less than passing *args and **kwargs on.
        # Every other call, and the input checks, are in nn/args.py (`call_checked`).
        if kwargs or self._hooks is not None or len(args) != 1:
            return call_checked(self, args, kwargs)
        (x,) = args
        if type(x) is np.ndarray and x.dtype.kind not in NUMERIC_KINDS:
            return call_checked(self, args, kwargs)
        try:
            return self.forward(x)
        except (TypeError, ValueError) as err:
            raise_named_input_error(self, err, args, kwargs)
            raise

    # ----- walking the tree --------------------------------------------------------------
    def _members(self) -> Iterator[tuple[str, Any]]:
        """(name, Value or Module) held directly; containers override this."""
        for name, attr in vars(self).items():
            if name not in _INTERNAL:
                yield from _held(name, attr)

    def _direct_buffers(self) -> Iterator[tuple[str, np.ndarray | None, bool]]:
        """(name, array or None, persistent) for the buffers registered on this module."""
        for name, persistent in vars(self).get("_buffer_names", {}).items():
            yield name, getattr(self, name, None), persistent

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their names (a module held twice is given once)."""
        seen: set[int] = set()
        for name, member in self._members():
            if isinstance(member, Module) and id(member) not in seen:
                seen.add(id(member))
                yield name, member

    def children(self) -> Iterator[Module]:
        for _, child in self.named_children():
            yield child

    def named_modules(
        self, memo: set[int] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and every module inside it, depth first (each once, unless
        `remove_duplicate=False`)."""
        if memo is None:
            memo = set()
        if remove_duplicate:
            if id(self) in memo:
                return
            memo.add(id(self))
        yield prefix, self
        for name, member in self._members():
            if isinstance(member, Module):
                yield from member.named_modules(memo, _join(prefix, name), remove_duplicate)

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def _named_members(
        self, direct: Callable, prefix: str, recurse: bool, remove_duplicate: bool
    ) -> Iterator[tuple[str, Any]]:
        modules = self.named_modules(prefix=prefix, remove_duplicate=remove_duplicate)
        seen: set[int] = set()
        for path, module in modules if recurse else [(prefix, self)]:
            for name, item in direct(module):
                if remove_duplicate:
                    if id(item) in seen:
                        continue
                    seen.add(id(item))
                yield _join(path, name), item

    def named_parameters(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Value]]:
        """(dotted name, Value) for every parameter, frozen ones too, each once, in definition
        order: a module's own parameters first, then its children's."""
        direct = lambda m: ((n, v) for n, v in m._members() if isinstance(v, Value))
        return self._named_members(direct, prefix, recurse, remove_duplicate)

    def parameters(self, recurse: bool = True) -> list[Value]:
        """Every parameter, as a list (the order `named_parameters` gives)."""
        return [p for _, p in self.named_parameters(recurse=recurse)]

    def register_buffer(self, name: str, array: Any, persistent: bool = True) -> None:
        """Keep `array` (a numpy array, or None) as the attribute `name`: saved in
        `state_dict()` (unless `persistent=False`), converted by `to()`, never trained."""
        if not isinstance(name, str):
            raise TypeError(f"register_buffer: name must be a string, got {type(name).__name__}")
        if not name or "." in name:
            raise ValueError(f"register_buffer: name must be non-empty, without '.', got {name!r}")
        names = vars(self).setdefault("_buffer_names", {})
        if name not in names and (name in _INTERNAL or hasattr(self, name)):
            raise ValueError(f"register_buffer: attribute {name!r} already exists")
        if isinstance(array, (Value, Module)):
            hint = " (pass its .data)" if isinstance(array, Value) else ""
            raise TypeError(
                f"register_buffer({name!r}): a buffer is a numpy array (or None), got a "
                f"{type(array).__name__}{hint}"
            )
        if array is not None:
            array = np.asarray(array)
            if array.dtype.kind not in "biuf":
                raise TypeError(
                    f"register_buffer({name!r}): expected numbers, got dtype {array.dtype}"
                )
        names[name] = bool(persistent)
        setattr(self, name, array)

    def named_buffers(
        self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True
    ) -> Iterator[tuple[str, np.ndarray]]:
        """(dotted name, array) for every buffer that is not None."""
        direct = lambda m: ((n, b) for n, b, _ in m._direct_buffers() if b is not None)
        return self._named_members(direct, prefix, recurse, remove_duplicate)

    def buffers(self, recurse: bool = True) -> list[np.ndarray]:
        return [b for _, b in self.named_buffers(recurse=recurse)]

    def add_module(self, name: str, module: Module | None) -> None:
        """Set `module` as the attribute `name` (PyTorch's way to add a child by name)."""
        if not isinstance(name, str) or not name or "." in name:
            raise ValueError(f"add_module: name must be non-empty, without '.', got {name!r}")
        if module is not None and not isinstance(module, Module):
            raise TypeError(f"add_module({name!r}): expected a Module, got {type(module).__name__}")
        setattr(self, name, module)

    def zero_grad(self) -> None:
        """Forget the gradients of every parameter (set `.grad` to None)."""
        for p in self.parameters():
            p.grad = None

    def num_parameters(self) -> int:
        """How many numbers the parameters hold."""
        return sum(p.size for p in self.parameters())

    # ----- modes and conversions -----------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active, batch statistics) for this module and all inside it;
        returns self."""
        if not isinstance(mode, (bool, np.bool_)):
            raise ValueError(f"train: mode must be True or False, got {mode!r}")
        for module in self.modules():
            module.training = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (dropout off, running statistics); returns self."""
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Freeze (False) or unfreeze (True) every parameter inside; returns self."""
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    def apply(self, fn: Callable[[Module], Any]) -> Module:
        """Call `fn` on every sub-module (children first, as PyTorch) and then on self."""
        for child in self.children():
            child.apply(fn)
        fn(self)
        return self

    def to(self, dtype: Any) -> Module:
        """Convert every floating parameter (and its gradient) and floating buffer to `dtype`,
        in place; integer buffers such as `num_batches_tracked` stay. Returns self."""
        try:
            dtype = np.dtype(dtype)
        except TypeError as err:
            raise TypeError(f"Module.to: expected a numpy float dtype, got {dtype!r}") from err
        if dtype.kind != "f":
            raise TypeError(f"Module.to: dtype must be a float type, got {dtype}")
        for p in self.parameters():
            p.data = _cast(p.data, dtype)
            if p.grad is not None:
                p.grad = _cast(p.grad, dtype)
        for module in self.modules():
            for name, buffer, _ in list(module._direct_buffers()):
                if buffer is not None and buffer.dtype.kind == "f":
                    setattr(module, name, buffer.astype(dtype))
        return self

    def double(self) -> Module:
        """`to(np.float64)`."""
        return self.to(np.float64)

    def float(self) -> Module:
        """`to(np.float32)`."""
        return self.to(np.float32)

    # ----- saving --------------------------------------------------------------------------
    def _state_entries(self) -> Iterator[tuple[str, Module, str | Value, Any]]:
        """(key, module, parameter Value or buffer name, current data), in PyTorch's order:
        each module's parameters, then its persistent buffers, then its children's."""
        for path, module in self.named_modules(remove_duplicate=False):
            for name, member in module._members():
                if isinstance(member, Value):
                    yield _join(path, name), module, member, member.data
            for name, buffer, persistent in module._direct_buffers():
                if persistent and buffer is not None:
                    yield _join(path, name), module, name, buffer

    def state_dict(self) -> dict[str, np.ndarray]:
        """A copy of every parameter and persistent buffer as a numpy array, keyed by dotted
        name. A single-number parameter becomes a 0-d float64 array."""
        return {key: np.array(data, copy=True) for key, _, _, data in self._state_entries()}

    def load_state_dict(self, state_dict: Mapping, strict: bool = True) -> IncompatibleKeys:
        """Copy arrays from `state_dict` into the parameters and buffers of the same names.

        Values are converted to each parameter's dtype (a float32 array loads into a float64
        parameter), as PyTorch does. Everything is checked first: missing and unexpected keys
        (allowed with `strict=False`) and shape mismatches are reported in one ValueError, and
        then nothing has been changed. Returns (missing_keys, unexpected_keys).
        """
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"load_state_dict: expected a dict, got {type(state_dict).__name__}")
        entries = {key: (module, slot, data) for key, module, slot, data in self._state_entries()}
        missing = [k for k in entries if k not in state_dict]
        unexpected = [k for k in state_dict if k not in entries]
        arrays, shapes, kinds = {}, [], []
        for key, (_, _, data) in entries.items():
            if key not in state_dict:
                continue
            new = state_dict[key]
            new = np.asarray(new.data if isinstance(new, Value) else new)
            if new.dtype.kind not in "biuf":
                kinds.append(f"{key}: expected numbers, got dtype {new.dtype}")
            elif new.shape != np.shape(data):
                shapes.append(f"{key}: expected shape {np.shape(data)}, got shape {new.shape}")
            arrays[key] = new
        problems = {
            "missing keys": [repr(k) for k in missing] if strict else [],
            "unexpected keys": [repr(k) for k in unexpected] if strict else [],
            "wrong shapes": shapes,
            "not numbers": kinds,
        }
        if any(problems.values()):
            raise ValueError(_problem_list(f"load_state_dict into {type(self).__name__}", problems))
        for key, new in arrays.items():
            module, slot, data = entries[key]
            if isinstance(slot, Value):
                slot.data = float(new) if type(data) is float else np.array(new, dtype=data.dtype)
            else:
                setattr(module, slot, np.array(new, dtype=data.dtype))
        return IncompatibleKeys(missing, unexpected)

    def save(self, path: Any) -> None:
        """Write `state_dict()` to an `.npz` file (see `minigrad.io.save`)."""
        from minigrad.io import save

        save(self.state_dict(), path)

    def load(self, path: Any, strict: bool = True) -> Module:
        """Read parameters and buffers saved by `save` (checked as in `load_state_dict`);
        returns self."""
        from minigrad.io import load

        state = load(path)
        try:
            self.load_state_dict(state, strict=strict)
        except ValueError as err:
            raise ValueError(f"load {os.fspath(path)!r}: {err}") from None
        return self

    # ----- repr --------------------------------------------------------------------------
    def extra_repr(self) -> str:
        """The text inside the parentheses of this module's repr line (override it)."""
        return ""

    def __repr__(self) -> str:
        extra = self.extra_repr()
        lines = extra.split("\n") if extra else []
        children = [
            f"({name}): " + repr(m).replace("\n", "\n  ")
            for name, m in self._members()
            if isinstance(m, Module)
        ]
        if len(lines) == 1 and not children:
            return f"{type(self).__name__}({extra})"
        if not lines and not children:
            return f"{type(self).__name__}()"
        return f"{type(self).__name__}(\n  " + "\n  ".join(lines + children) + "\n)"

    def _repr_html_(self) -> str:
        """Jupyter's display: the module tree with parameter shapes and counts."""
        from minigrad.viz.display import module_html

        return module_html(self)
