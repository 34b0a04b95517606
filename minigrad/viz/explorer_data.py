"""What the explorer's page shows, as plain JSON-ready data: the nodes, the forward steps and
the backward steps (the rows of `trace_backward`, with the `.grad` each input holds after them).

Every number is formatted here, in Python, the way minigrad prints it (`trace_backward`'s 6
significant digits for the step panel, `draw_graph`'s 4 for node labels), so the page shows
exactly the numbers of the printed trace and its script does no arithmetic.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.value import Value
from minigrad.viz.dot import Plan
from minigrad.viz.text import describe_op, fmt_data, fmt_edge, fmt_number
from minigrad.viz.walk import forward_order, kind_of

# The largest corner of an array shown as a table / heat map when a node is clicked.
PREVIEW_ROWS, PREVIEW_COLS = 8, 8


def full(x: Any) -> str:
    """A number to 6 significant digits, an array as its shape and norm: `trace_backward`'s
    table format (a gradient stored as a Value is shown by its data)."""
    if isinstance(x, Value):
        x = x.data
    if type(x) is float or np.size(x) == 1:
        return fmt_number(float(np.asarray(x).reshape(())), 6)
    return fmt_edge(x)


def _finite(x: float) -> float | None:
    """JSON has no NaN or infinity: those become null (their text still says nan / inf)."""
    return x if math.isfinite(x) else None


def summary(x: Any) -> dict[str, Any]:
    """The data or gradient of a node as the page shows it: 'text' (4 digits, as on the node),
    'full' (6 digits, as in the trace), and for arrays shape, dtype, min, max, mean, norm and a
    corner of at most 8 x 8 entries (the first matrix of a higher-dimensional array)."""
    if isinstance(x, Value):
        x = x.data
    if type(x) is float or np.ndim(x) == 0:
        value = float(np.asarray(x))
        return {"text": fmt_number(value), "full": full(value), "value": _finite(value)}
    x = np.asarray(x)
    out: dict[str, Any] = {
        "text": fmt_data(x),
        "full": full(x),
        "shape": list(x.shape),
        "dtype": str(x.dtype),
    }
    if x.size == 0:
        return out
    numbers = x.astype(np.float64)
    for name, value in (
        ("min", numbers.min()),
        ("max", numbers.max()),
        ("mean", numbers.mean()),
        ("norm", np.linalg.norm(numbers)),
    ):
        out[name] = fmt_number(float(value), 6)
    out["preview"] = _preview(numbers)
    return out


def _preview(x: np.ndarray) -> dict[str, Any]:
    """The top-left corner of the array's first matrix, as texts and (for colours) numbers."""
    matrix = x.reshape(1, -1) if x.ndim == 1 else x.reshape((-1,) + x.shape[-2:])[0]
    corner = matrix[:PREVIEW_ROWS, :PREVIEW_COLS]
    note = []
    if x.ndim > 2:
        note.append(f"the first matrix, [{', '.join(['0'] * (x.ndim - 2))}, :, :]")
    if corner.shape != matrix.shape:
        (r, c), (m, n) = corner.shape, matrix.shape
        note.append(f"the top-left {r} x {c} of {m} x {n}")
    return {
        "rows": [[fmt_number(float(v), 3) for v in row] for row in corner],
        "values": [[_finite(float(v)) for v in row] for row in corner],
        "note": "; ".join(note),
    }


def page_data(what: Plan, report: Any, title: str) -> dict[str, Any]:
    """Everything the page's script needs: nodes, edges, clusters, forward and backward steps."""
    ids = {v: f"n{k}" for k, v in enumerate(what.drawn)}
    backward, grads = _backward_steps(what, report, ids) if report is not None else ([], {})
    forward = _forward_steps(what, ids)
    first_seen = {step["node"]: n for n, step in enumerate(forward, start=1)}
    nodes = []
    for k, v in enumerate(what.drawn):
        node = {
            "id": f"n{k}",
            "name": what.names[v],
            "kind": kind_of(v, what.root),
            "op": None if v.is_leaf else describe_op(v),
            "inputs": [what.names[p] for p in v.parents],
            "data": summary(v.data),
            "forward": first_seen.get(f"n{k}", 0),
            "grads": grads.get(v, []),
        }
        nodes.append(node)
    return {
        "title": title,
        "nodes": nodes,
        "edges": _edges(what),
        "clusters": _clusters(what, ids),
        "forward": forward,
        "backward": backward,
        "hidden": what.hidden,
        "maxNodes": what.max_nodes,
        "traced": report is not None,
    }


def _edges(what: Plan) -> list[dict[str, str]]:
    """Each drawn edge's SVG id and ends: input use j into op k (e{k}_{j}), op k to node k."""
    edges = []
    for k, v in enumerate(what.drawn):
        if v.is_leaf:
            continue
        edges.append({"id": f"r{k}", "from": f"o{k}", "to": f"n{k}"})
        for j, p in enumerate(v.parents):
            if p in what.index:
                edges.append({"id": f"e{k}_{j}", "from": f"n{what.index[p]}", "to": f"o{k}"})
    return edges


def _step_edges(what: Plan, v: Value, uses: list[int]) -> list[str]:
    k = what.index.get(v)
    if k is None:
        return []
    return [f"r{k}"] + [f"e{k}_{j}" for j in uses if v.parents[j] in what.index]


def _forward_steps(what: Plan, ids: dict[Value, str]) -> list[dict[str, Any]]:
    """One step per Value made by an op, each after its inputs: 'out = op(inputs)'."""
    steps = []
    for v in forward_order(what.root):
        steps.append(
            {
                "node": ids.get(v),
                "name": what.names[v],
                "op": describe_op(v),
                "inputs": [
                    {"node": ids.get(p), "name": what.names[p], "data": full(p.data)}
                    for p in v.parents
                ],
                "out": full(v.data),
                "edges": _step_edges(what, v, list(range(len(v.parents)))),
            }
        )
    return steps


def _backward_steps(
    what: Plan, report: Any, ids: dict[Value, str]
) -> tuple[list[dict[str, Any]], dict[Value, list]]:
    """`report.steps` (trace_backward's rows, in backward order) with, for every input, the
    `.grad` it holds once this step's contribution is added; and for every drawn node the
    list of (step, .grad after that step) the page fills the node's grad line from."""
    running: dict[Value, Any] = {}
    grads: dict[Value, list] = {}
    steps = []
    for s in report.steps:
        if s.step == 1:
            grads.setdefault(s.value, []).append([1, summary(s.upstream)])
        added = report.edge_grads[s.value]
        uses = [j for j, a in enumerate(added) if a is not None]
        inputs = []
        for j, i in zip(uses, s.inputs):
            p = i.value
            running[p] = i.contribution if p not in running else running[p] + i.contribution
            now = summary(running[p])
            if p in ids:
                grads.setdefault(p, []).append([s.step, now])
            inputs.append(
                {
                    "node": ids.get(p),
                    "name": i.name,
                    "local": "Jacobian" if i.local is None else full(i.local),
                    "equals": i.equals if i.local is not None else "",
                    "added": summary(i.contribution),
                    "gradNow": now,
                    "edge": f"e{what.index[s.value]}_{j}" if s.value in what.index else None,
                }
            )
        steps.append(
            {
                "step": s.step,
                "node": ids.get(s.value),
                "name": s.node,
                "op": s.op,
                "upstream": summary(s.upstream),
                "inputs": inputs,
                "edges": _step_edges(what, s.value, uses),
            }
        )
    return steps, grads


def _clusters(what: Plan, ids: dict[Value, str]) -> list[dict[str, Any]]:
    """The modules' boxes: SVG title, label, enclosing module and every node and op inside
    (those of the modules inside it too, so collapsing a layer hides its neurons)."""
    if not what.member:
        return []
    inside: dict[str, list[str]] = {}
    for v, path in what.member.items():
        if v not in ids:
            continue
        own = [ids[v]] + ([] if v.is_leaf else ["o" + ids[v][1:]])
        while path is not None:
            inside.setdefault(path, []).extend(own)
            path = what.parent_of.get(path)
    return [
        {
            "title": f"cluster_{k}",
            "path": path,
            "label": label,
            "parent": what.parent_of.get(path),
            "members": inside[path],
        }
        for k, (path, label) in enumerate(what.labels.items())
        if path in inside
    ]
