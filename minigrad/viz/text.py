"""Text for pictures: numbers, arrays and ops as short labels, and DOT string literals."""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.value import Value


def fmt_number(x: float, digits: int = 4) -> str:
    """A number to `digits` significant digits: 6.25, 0.1375, -3.333, 1.235e+05 (and -0.0,
    which relu's gradient rule can make, as plain 0)."""
    return f"{x + 0.0:.{digits}g}"


def fmt_data(x: Any, entries: int = 6, digits: int = 4) -> str:
    """A float, or an array as its shape and dtype, then its entries when there are at most
    `entries` of them, otherwise its min / mean / max. Used for data and gradients alike."""
    if type(x) is float:
        return f"{x + 0.0:.{digits}g}"
    if isinstance(x, Value):  # a gradient stored as a Value (backward with create_graph=True)
        x = x.data
    if isinstance(x, (float, int, np.floating)):
        return fmt_number(float(x), digits)
    x = np.asarray(x)
    head = f"{x.shape} {x.dtype}"
    if x.size == 0:
        return head + " (empty)"
    if x.size <= entries:
        body = np.array2string(
            x, separator=", ", formatter={"float_kind": lambda v: fmt_number(v, digits)}
        )
        return head + " " + " ".join(body.split())
    return (
        f"{head} min {fmt_number(float(x.min()), digits)} "
        f"mean {fmt_number(float(x.mean()), digits)} max {fmt_number(float(x.max()), digits)}"
    )


def fmt_edge(g: Any) -> str:
    """A gradient along an edge: the number for a scalar, shape and norm for an array."""
    if isinstance(g, Value):
        g = g.data
    if isinstance(g, (float, int, np.floating)) or np.size(g) == 1:
        return fmt_number(float(np.asarray(g).reshape(())))
    return f"{np.shape(g)} norm {fmt_number(float(np.linalg.norm(g)))}"


def describe_op(v: Value) -> str:
    """The op that made `v` as pictures show it: 'tanh', 'sum(axis=1)' (parameters left at
    None or False are omitted, so `keepdims=False` does not clutter every reduction)."""
    params = {k: p for k, p in (v._params or {}).items() if p is not None and p is not False}
    return v._op.describe(params)


def dot_string(text: str) -> str:
    """A DOT string literal: quotes and backslashes escaped, newlines as DOT's centred breaks."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n") + '"'


def dot_attrs(attrs: dict[str, str]) -> str:
    """Graphviz attributes as `key="value", ...` text."""
    return ", ".join(f"{k}={dot_string(v)}" for k, v in attrs.items())
