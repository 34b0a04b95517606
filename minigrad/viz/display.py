"""Rich displays for notebooks: the HTML that Jupyter shows for a Value, a BackwardTrace, a
Module and a History (their `_repr_html_` methods call these functions).

Every text that comes from the user (labels, names, reprs) is HTML-escaped here. No script, no
external resource: the output is plain HTML and inline CSS, the same in every notebook front
end, and it falls back to the object's repr where HTML is not shown.
"""

from __future__ import annotations

import base64
import io
from html import escape
from typing import Any

import numpy as np

from minigrad.value import Value
from minigrad.viz.text import fmt_number

# At most this many rows and columns of an array are shown (a corner of its first matrix).
ROWS, COLS = 6, 8

_BOX = (
    'style="font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; '
    'font-size: 12px; line-height: 1.4"'
)
_CELL = 'style="padding: 1px 6px; text-align: right; border: 1px solid #d0d7de"'
_HEAD = 'style="padding: 1px 6px; text-align: left; border-bottom: 1px solid #d0d7de"'
_MUTED = 'style="color: #59636e"'


def _num(x: float, digits: int = 6) -> str:
    return fmt_number(float(x), digits)


def array_html(x: Any) -> str:
    """A number, or an array as its shape, dtype, min/mean/max and a table of its top-left
    corner (the first matrix of a higher-dimensional array), as HTML."""
    if isinstance(x, Value):
        x = x.data
    if type(x) is float or np.ndim(x) == 0:
        return f"<code>{_num(float(np.asarray(x)))}</code>"
    x = np.asarray(x)
    head = f"<code>{escape(str(x.shape))} {escape(str(x.dtype))}</code>"
    if x.size == 0:
        return head + " (empty)"
    numbers = x.astype(np.float64)
    stats = (
        f" <span {_MUTED}>min {_num(numbers.min())}, mean {_num(numbers.mean())}, "
        f"max {_num(numbers.max())}</span>"
    )
    matrix = numbers.reshape(1, -1) if x.ndim == 1 else numbers.reshape((-1,) + x.shape[-2:])[0]
    corner = matrix[:ROWS, :COLS]
    rows = "".join(
        "<tr>" + "".join(f"<td {_CELL}>{_num(v, 4)}</td>" for v in row) + "</tr>" for row in corner
    )
    cut = corner.shape != matrix.shape or x.ndim > 2
    note = f"<div {_MUTED}>(a corner: the first {corner.shape[0]} x {corner.shape[1]})</div>"
    return (
        f'{head}{stats}<table style="border-collapse: collapse; margin: 2px 0">{rows}</table>'
        + (note if cut else "")
    )


def value_html(v: Value) -> str:
    """A Value: its label, op, data (a preview for arrays), grad and requires_grad."""
    title = "Value" + (f" <b>{escape(v.label)}</b>" if v.label else "")
    made = f"made by <code>{escape(v.op)}</code>" if v.op else "a leaf"
    grad = "None" if v.grad is None else array_html(v.grad)
    rows = [
        ("data", array_html(v.data)),
        ("grad", grad),
        ("op", made),
        ("requires_grad", str(bool(v.requires_grad))),
    ]
    body = "".join(
        f'<tr><th {_HEAD}>{name}</th><td style="padding: 1px 6px">{cell}</td></tr>'
        for name, cell in rows
    )
    return f"<div {_BOX}><div>{title}</div><table>{body}</table></div>"


def trace_html(report: Any) -> str:
    """A BackwardTrace: one row per (rule, input) as in its printed table, then the leaves."""
    from minigrad.trace import _fmt  # the table's own number format

    header = (
        "step",
        "node",
        "op",
        "upstream g",
        "input",
        "local d(node)/d(input)",
        "added to input.grad",
    )
    head = "".join(f"<th {_HEAD}>{escape(h)}</th>" for h in header)
    rows = []
    for s in report.steps:
        first = [str(s.step), escape(s.node), escape(s.op), _fmt(s.upstream)]
        inputs = s.inputs or [None]
        for k, i in enumerate(inputs):
            left = first if k == 0 else ["", "", "", ""]
            if i is None:
                right = ["(no input needs a gradient)", "", ""]
            else:
                local = "Jacobian" if i.local is None else _fmt(i.local)
                if i.equals and i.local is not None:
                    local += f" = {escape(i.equals)}"
                right = [escape(i.name), local, _fmt(i.contribution)]
            rows.append("<tr>" + "".join(f"<td {_HEAD}>{c}</td>" for c in left + right) + "</tr>")
    leaves = "".join(
        f"<tr><td {_HEAD}>{escape(n)}</td><td {_HEAD}>{_fmt(g)}</td></tr>"
        for n, g in report.leaf_grads.items()
    )
    return (
        f"<div {_BOX}><div>Backward, one gradient rule per step "
        "(added = upstream g &times; local derivative):</div>"
        f'<table style="border-collapse: collapse"><tr>{head}</tr>{"".join(rows)}</table>'
        '<div style="margin-top: 6px">Gradients of the leaves (d root / d leaf):</div>'
        f'<table style="border-collapse: collapse">{leaves}</table></div>'
    )


def _own_parameters(module: Any) -> list[tuple[str, Value]]:
    """The parameters a module holds itself, not through a child module."""
    children = [name for name, _ in module.named_children()]
    return [
        (name, p)
        for name, p in module.named_parameters()
        if not any(name.startswith(child + ".") for child in children)
    ]


def _count(params: list[Value]) -> str:
    total = sum(p.size for p in params)
    frozen = sum(p.size for p in params if not p.requires_grad)
    text = f"{total:,} parameter{'s' if total != 1 else ''}"
    return text + (f" ({frozen:,} frozen)" if frozen else "")


def _module_line(module: Any, name: str | None, depth: int) -> str:
    head = "" if name is None else f"({escape(name)}): "
    return (
        f'<div style="padding-left: {depth * 18}px">{head}<b>{escape(type(module).__name__)}</b>'
        f"({escape(module.extra_repr())}) <span {_MUTED}>{_count(module.parameters())}</span></div>"
    )


def _parameter_line(name: str, p: Value, depth: int) -> str:
    shape = escape(str(p.shape))
    frozen = "" if p.requires_grad else ", frozen"
    return (
        f'<div style="padding-left: {depth * 18}px; color: #59636e">'
        f"{escape(name)}: {shape} {escape(str(p.dtype))}{frozen}</div>"
    )


def module_html(module: Any) -> str:
    """A model as a PyTorch-like tree: each module's `(name): Type(settings)` with its
    parameter count, under it the shapes of the parameters it holds itself, then its children."""
    lines = []
    stack: list[tuple[Any, int, str | None]] = [(module, 0, None)]
    while stack:
        current, depth, name = stack.pop()
        lines.append(_module_line(current, name, depth))
        lines += [_parameter_line(n, p, depth + 1) for n, p in _own_parameters(current)]
        children = list(current.named_children())
        stack.extend((child, depth + 1, n) for n, child in reversed(children))
    return f"<div {_BOX}>{''.join(lines)}</div>"


def history_html(history: Any) -> str:
    """A History: its summary line and, when matplotlib is installed, its loss curve as an
    inline PNG (else a note saying how to get it)."""
    text = f"<div>History: {escape(history.summary())}</div>"
    if not history.train_loss and not history.val_loss:
        return f"<div {_BOX}>{text}</div>"
    try:
        figure = history.plot()
    except ImportError as err:
        return f"<div {_BOX}>{text}<div {_MUTED}>(no loss curve: {escape(str(err))})</div></div>"
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=96)
    picture = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<div {_BOX}>{text}<img alt="loss curve" src="data:image/png;base64,{picture}"></div>'
