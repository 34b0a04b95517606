"""A rule as a line of Python: the lambda's own expression with the program's names put in.

`lambda g, out, x, y: g * y`, applied at node h1 = w1 * x1 with upstream gradient g_h1, reads
`g_h1 * x1`. The expression is found in the rule's source file (the lambda whose compiled code
is the rule's own), its parameter names are replaced by the expressions of the arguments, and
the other names it uses (`div`, `np`, `_in_dtype`) are looked up where the rule was defined, so
the program can import them. A rule that is a named function, or a lambda whose source cannot be
found (typed at a prompt, a closure), becomes a call to the rule itself.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import linecache
import types
from collections.abc import Callable
from typing import Any


@functools.cache
def _parsed(filename: str) -> ast.Module | None:
    source = "".join(linecache.getlines(filename))
    try:
        return ast.parse(source)
    except (SyntaxError, ValueError):
        return None


def _span(code: types.CodeType) -> tuple | None:
    """Where the rule's expression is in its file: ((line, column), (end line, end column))
    of its instructions (zero-width ones, the function's own bookkeeping, left out)."""
    spans = [
        ((line, col), (end_line, end_col))
        for line, end_line, col, end_col in code.co_positions()
        if line is not None and col is not None and (line, col) != (end_line, end_col)
    ]
    if not spans:
        return None  # python -X no_debug_ranges: no columns
    return min(a for a, _ in spans), max(b for _, b in spans)


def _encloses(node: ast.expr, span: tuple) -> bool:
    start, end = span
    return (node.lineno, node.col_offset) <= start and end <= (node.end_lineno, node.end_col_offset)


@functools.cache
def lambda_source(rule: Callable) -> ast.Lambda | None:
    """The rule's lambda in its source file, or None (not a lambda, no source, a closure): the
    innermost lambda whose expression holds every instruction of the rule's code."""
    code = getattr(rule, "__code__", None)
    if code is None or rule.__name__ != "<lambda>" or code.co_freevars:
        return None
    try:
        filename = inspect.getsourcefile(rule)
    except TypeError:
        return None
    tree = _parsed(filename) if filename else None
    span = _span(code)
    if tree is None or span is None:
        return None
    found = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.Lambda)
        and node.lineno == code.co_firstlineno
        and _encloses(node.body, span)
        and [a.arg for a in node.args.args] == list(code.co_varnames[: code.co_argcount])
    ]
    if not found:
        return None
    return min(found, key=lambda n: (n.body.end_lineno - n.body.lineno, n.body.col_offset * -1))


def parameters(rule: Callable) -> list[str]:
    """The rule's parameter names, in order."""
    return list(inspect.signature(rule).parameters)


class _Rename(ast.NodeTransformer):
    def __init__(self, args: dict[str, ast.expr], free: Callable[[str], str]) -> None:
        self.args = args
        self.free = free

    def visit_Name(self, node: ast.Name) -> ast.expr:
        if node.id in self.args:
            return self.args[node.id]
        return ast.copy_location(ast.Name(id=self.free(node.id), ctx=node.ctx), node)


def inline(rule: Callable, args: dict[str, str], helper: Callable[[str, Any], str]) -> str | None:
    """The rule's expression with each parameter replaced by `args[name]` (Python expressions),
    and each other name by `helper(name, object)` (what the program calls it); None when the
    rule cannot be inlined."""
    node = lambda_source(rule)
    if node is None:
        return None
    params = [a.arg for a in node.args.args]
    if set(params) != set(args) or node.args.vararg or node.args.kwarg:
        return None
    replacements = {name: ast.parse(expr, mode="eval").body for name, expr in args.items()}

    def free(name: str) -> str:
        if name in rule.__globals__:
            return helper(name, rule.__globals__[name])
        if hasattr(builtins, name):
            return name
        raise NameError(name)

    try:
        body = _Rename(replacements, free).visit(ast.parse(ast.unparse(node.body), mode="eval"))
    except NameError:
        return None
    return ast.unparse(body.body)


def call(rule: Callable, positional: list[str], keywords: dict[str, str], name: str) -> str:
    """A call of the rule by the name the program gives it."""
    parts = positional + [f"{k}={v}" for k, v in keywords.items()]
    return f"{name}({', '.join(parts)})"
