"""What a generated program is made of: names for the graph's nodes, the helpers it imports,
the constants it is given, its lines; and `Program`, which holds the text and can run it."""

from __future__ import annotations

import builtins
import keyword
import math
import re
import sys
import types
from typing import Any

import numpy as np

from minigrad.value import Value

_RESERVED = set(keyword.kwlist) | set(dir(builtins)) | {"leaf_grads", "tangent_out"}
_HELPERS_FIRST = {"np", "math", "sum_to", "fit_tangent"}  # node names keep away from these


def identifier(text: str) -> str:
    """A Python name close to `text` (a label like 'layers.0.w' becomes layers_0_w)."""
    name = re.sub(r"\W", "_", text) or "v"
    return "_" + name if name[0].isdigit() else name


def literal(value: Any) -> str | None:
    """Python source that evaluates to exactly `value` (numbers, strings, None, slices and
    tuples of them), or None when it has none (arrays, objects)."""
    if value is None or value is Ellipsis or type(value) in (bool, int, str):
        return repr(value) if value is not Ellipsis else "..."
    if type(value) is float:
        return repr(value) if math.isfinite(value) else None
    if type(value) in (tuple, list):
        parts = [literal(v) for v in value]
        if any(p is None for p in parts):
            return None
        inner = ", ".join(parts) + ("," if len(parts) == 1 and type(value) is tuple else "")
        return f"({inner})" if type(value) is tuple else f"[{inner}]"
    if type(value) is slice:
        parts = [literal(v) for v in (value.start, value.stop, value.step)]
        return None if any(p is None for p in parts) else f"slice({', '.join(parts)})"
    return None


class Program:
    """A generated straight-line program: `str(program)` is its text; `program.run()` runs it
    on the forward values it was made from (or `values=` of your own) and returns every name it
    defined. `program.namespace()` is what it needs besides its imports."""

    def __init__(self, title: str) -> None:
        self.title = title
        self.lines: list[str] = []
        self.imports: dict[str, str] = {}  # import line -> "" (ordered set)
        self.given: dict[str, Any] = {}  # names the program is given: forward values, constants
        self.helpers: dict[str, Any] = {}  # names of helpers (imported or given)
        self.variables: dict[Value, str] = {}  # node -> the name of its gradient (or tangent)
        self._names: dict[Value, str] = {}
        self._taken = set(_RESERVED)

    # ----- names ------------------------------------------------------------------------------
    def _fresh(self, base: str) -> str:
        name, k = base, 2
        while name in self._taken:
            name, k = f"{base}_{k}", k + 1
        self._taken.add(name)
        return name

    def name(self, node: Value, shown: str) -> str:
        """The program's name for node's forward value (from its name in pictures)."""
        if node not in self._names:
            base = identifier(shown)
            while (
                base in self._taken
                or base in _HELPERS_FIRST
                or f"g_{base}" in self._taken
                or f"t_{base}" in self._taken
            ):
                base += "_"
            self._names[node] = self._fresh(base)
            self._taken.update({f"g_{base}", f"t_{base}", f"gs_{base}"})
            self.given[self._names[node]] = node.data
        return self._names[node]

    def constant(self, base: str, value: Any) -> str:
        """A name for a constant the program is given (an array, an index, ...); one name per
        object."""
        for name, given in self.given.items():
            if given is value:
                return name
        name = self._fresh(identifier(base))
        self.given[name] = value
        return name

    def helper(self, name: str, obj: Any) -> str:
        """The program's name for a helper a rule uses: imported when it can be."""
        for known, other in self.helpers.items():
            if other is obj:
                return known
        if hasattr(builtins, name) and getattr(obj, "__module__", "").startswith("minigrad"):
            name = f"mg_{name}"  # minigrad's sum, max, abs, pow next to Python's
        program_name = self._fresh(name)
        self.helpers[program_name] = obj
        line = _import_line(obj, program_name)
        if line is not None:
            self.imports[line] = ""
        return program_name

    def value(self, x: Any, node_names: dict, base: str) -> str:
        """An expression for input x of a rule: its name, or a literal for a plain number."""
        if isinstance(x, Value) and x in node_names:
            if x.is_leaf and not x.requires_grad and literal(x.data) is not None:
                return literal(x.data)
            return self.name(x, node_names[x])
        data = x.data if isinstance(x, Value) else x
        text = literal(data)
        return text if text is not None else self.constant(base, data)

    def param(self, value: Any, base: str) -> str:
        text = literal(value)
        return text if text is not None else self.constant(base, value)

    # ----- text and running --------------------------------------------------------------------
    def add(self, line: str) -> None:
        self.lines.append(line)

    @property
    def text(self) -> str:
        given = ", ".join(n for n in self.given if n not in self.helpers)
        head = [f"# {line}" if line else "#" for line in self.title.splitlines()]
        head.append(f"# Given: {given}." if given else "# Given: nothing.")
        local = [n for n, obj in self.helpers.items() if _import_line(obj, n) is None]
        if local:
            head.append(f"# Helpers defined outside a module: {', '.join(local)}.")
        return "\n".join([*head, *self.imports, "", *self.lines]) + "\n"

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<Program: {len(self.lines)} lines>\n{self.text}"

    def namespace(self, values: dict[str, Any] | None = None) -> dict[str, Any]:
        names = dict(self.given)
        names.update({n: obj for n, obj in self.helpers.items()})
        names.update(values or {})
        return names

    def run(self, values: dict[str, Any] | None = None) -> dict[str, Any]:
        """Execute the text; returns the names it defined (gradients or tangents included)."""
        names = self.namespace(values)
        exec(compile(self.text, f"<{self.title.splitlines()[0]}>", "exec"), names)
        return names


def _import_line(obj: Any, name: str) -> str | None:
    """`import numpy as np`, `from minigrad.ops.arithmetic import div`, or None when obj
    cannot be imported by name (defined in __main__, inside a function, ...)."""
    if isinstance(obj, types.ModuleType):
        module = obj.__name__
        return f"import {module}" if module == name else f"import {module} as {name}"
    module = getattr(obj, "__module__", None)
    qualname = getattr(obj, "__qualname__", None)
    if not module or not qualname or module == "__main__" or "<" in qualname or "." in qualname:
        return None
    if getattr(sys.modules.get(module), qualname, None) is not obj:
        return None
    if module == "builtins":
        return None
    return f"from {module} import {qualname}" + ("" if qualname == name else f" as {name}")


def is_array(x: Any) -> bool:
    return type(x) is np.ndarray
