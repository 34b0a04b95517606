"""Containers of modules, as PyTorch's: `Sequential`, `ModuleList`, `ModuleDict`.

Each keeps its modules under names ("0", "1", ... or the dict's keys), so their parameters are
named `0.weight`, `blocks.1.bias`, `heads.a.weight`, and `train()`, `eval()`, `to()`, saving
and the repr reach every module inside. Sequential and ModuleList number their items and
renumber them after a deletion or an insertion, as PyTorch does.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from minigrad.nn.module import Module


def _check_module(where: str, module: Any) -> Module:
    if not isinstance(module, Module):
        hint = ""
        if isinstance(module, type) and issubclass(module, Module):
            hint = " (did you pass a class instead of an instance, e.g. ReLU instead of ReLU()?)"
        raise TypeError(f"{where} is a {type(module).__name__}, not a Module{hint}")
    return module


class _Indexed(Module):
    """Modules kept in order under the names "0", "1", ...: what Sequential and ModuleList
    share (len, iteration, indexing, append, extend, insert, pop, deletion)."""

    _modules: dict[str, Module]

    def _members(self) -> Iterator[tuple[str, Any]]:
        yield from super()._members()
        yield from self._modules.items()

    def _renumber(self, modules: Iterable[Module]) -> None:
        self._modules = {str(i): m for i, m in enumerate(modules)}

    def _key(self, index: Any) -> str:
        if isinstance(index, bool) or not hasattr(index, "__index__"):
            raise TypeError(
                f"{type(self).__name__} indices must be integers or slices, got "
                f"{type(index).__name__}"
            )
        n, i = len(self._modules), index.__index__()
        if not -n <= i < n:
            raise IndexError(f"{type(self).__name__}: index {i} is out of range for {n} modules")
        return list(self._modules)[i % n]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[Module]:
        return iter(list(self._modules.values()))

    def __getitem__(self, index: Any) -> Any:
        return self._modules[self._key(index)]

    def __setitem__(self, index: int, module: Module) -> None:
        where = f"{type(self).__name__}[{index}] = ..."
        self._modules[self._key(index)] = _check_module(where, module)

    def __delitem__(self, index: int | slice) -> None:
        modules = list(self._modules.values())
        if isinstance(index, slice):
            del modules[index]
        else:
            del modules[list(self._modules).index(self._key(index))]
        self._renumber(modules)

    def append(self, module: Module) -> Any:
        """Add `module` at the end; returns self."""
        _check_module(f"{type(self).__name__}.append: the item", module)
        self._modules[str(len(self._modules))] = module
        return self

    def extend(self, modules: Iterable[Module]) -> Any:
        """Add every module of `modules` at the end; returns self."""
        modules = list(modules)
        for i, m in enumerate(modules):
            _check_module(f"{type(self).__name__}.extend: item {i}", m)
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        """Put `module` before position `index` (as list.insert)."""
        _check_module(f"{type(self).__name__}.insert: the item", module)
        modules = list(self._modules.values())
        modules.insert(index, module)
        self._renumber(modules)

    def pop(self, index: int = -1) -> Module:
        """Remove and return the module at `index` (the last by default)."""
        module = self[index]
        del self[index]
        return module

    def __iadd__(self, modules: Iterable[Module]) -> Any:
        return self.extend(modules)

    def __add__(self, other: Iterable[Module]) -> Any:
        return type(self)(*self, *other)


class Sequential(_Indexed):
    """Modules applied one after another: Sequential(a, b, c)(x) = c(b(a(x))).

    Parameters are named by position, as in PyTorch: '0.weight', '0.bias', '2.weight', ...;
    `Sequential(OrderedDict(conv=..., relu=...))` names them by the dict's keys instead.

    >>> model = Sequential(Linear(4, 8), ReLU(), Linear(8, 3))
    >>> [name for name, _ in model.named_parameters()]
    ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], Mapping):
            named = list(modules[0].items())
        else:
            named = [(str(i), m) for i, m in enumerate(modules)]
        for key, m in named:
            if not isinstance(key, str) or not key or "." in key:
                raise ValueError(f"Sequential: names must be strings without '.', got {key!r}")
            _check_module(f"Sequential: item {key}", m)
        self._modules = dict(named)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):  # keeps the names, as PyTorch's
            return Sequential(OrderedDict(list(self._modules.items())[index]))
        return super().__getitem__(index)

    def forward(self, x: Any) -> Any:
        for m in self._modules.values():
            x = m(x)
        return x


class ModuleList(_Indexed):
    """A list of modules, registered so that their parameters are found and named
    ('0.weight', '1.weight', ...). It has no forward: loop over it in your own.

    >>> blocks = ModuleList([Linear(2, 2) for _ in range(3)])
    >>> len(blocks), [name for name, _ in blocks.named_parameters()][:2]
    (3, ['0.weight', '0.bias'])
    """

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        self._modules = {}
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return ModuleList(list(self._modules.values())[index])
        return super().__getitem__(index)

    def __add__(self, other: Iterable[Module]) -> ModuleList:
        return ModuleList([*self, *other])


class ModuleDict(Module):
    """A dict of modules under string keys: parameters are named 'key.weight', ...

    >>> heads = ModuleDict({"a": Linear(4, 1), "b": Linear(4, 2)})
    >>> list(heads), [name for name, _ in heads.named_parameters()][:1]
    (['a', 'b'], ['a.weight'])
    """

    def __init__(self, modules: Mapping[str, Module] | Iterable | None = None) -> None:
        super().__init__()
        self._modules: dict[str, Module] = {}
        if modules is not None:
            self.update(modules)

    def _members(self) -> Iterator[tuple[str, Any]]:
        yield from super()._members()
        yield from self._modules.items()

    def __getitem__(self, key: str) -> Module:
        try:
            return self._modules[key]
        except KeyError:
            keys = list(self._modules)
            raise KeyError(f"ModuleDict has no module {key!r}; keys: {keys}") from None

    def __setitem__(self, key: str, module: Module) -> None:
        if not isinstance(key, str) or not key or "." in key:
            raise ValueError(f"ModuleDict: keys must be strings without '.', got {key!r}")
        self._modules[key] = _check_module(f"ModuleDict[{key!r}]", module)

    def __delitem__(self, key: str) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._modules))

    def __contains__(self, key: Any) -> bool:
        return key in self._modules

    def keys(self) -> Iterable[str]:
        return self._modules.keys()

    def values(self) -> Iterable[Module]:
        return self._modules.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._modules.items()

    def pop(self, key: str) -> Module:
        """Remove and return the module under `key`."""
        module = self[key]
        del self._modules[key]
        return module

    def clear(self) -> None:
        self._modules.clear()

    def update(self, modules: Mapping[str, Module] | Iterable) -> None:
        """Add (or replace) the modules of a dict, or of (key, module) pairs."""
        pairs = modules.items() if isinstance(modules, Mapping) else modules
        for i, pair in enumerate(pairs):
            if isinstance(pair, Module) or len(pair) != 2:
                raise TypeError(
                    f"ModuleDict.update: expected a dict or (key, module) pairs, item {i} is a "
                    f"{type(pair).__name__}"
                )
            self[pair[0]] = pair[1]
