"""`draw_graph(root)`: the computation graph as DOT text, in a `graphviz.Digraph`.

Every Value the root depends on becomes a box, and every op that made a Value becomes an ellipse
between the op's inputs and its result, so the picture reads like the code that built it:

    a ──┐
        (*) ──> c ──> (tanh) ──> d
    b ──┘

The DOT text is built as a plain string, in the order of a breadth-first walk from the root
(node ids `n0, n1, ...` follow that walk, never `id()`; the op that made `n3` is `o3`), so the
same graph always gives the same text and tests can compare it without Graphviz installed. The
walk uses an explicit queue, so a graph of any depth draws without touching the recursion limit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from minigrad.engine import topo_order
from minigrad.value import Value
from minigrad.viz.clusters import clusters, emit_clusters
from minigrad.viz.render import Graph
from minigrad.viz.text import describe_op, dot_attrs, dot_string, fmt_data, fmt_edge, fmt_number
from minigrad.viz.walk import edge_gradients, kind_of, node_names, walk

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


@dataclass
class Plan:
    """What a picture of `root` holds: the Values drawn (walk order, at most max_nodes), their
    names, backward step numbers and modules. Shared by `draw_graph` and the explorer."""

    root: Value
    drawn: list[Value]
    hidden: int
    max_nodes: int | None
    names: dict[Value, str]
    index: dict[Value, int] = field(default_factory=dict)
    steps: dict[Value, int] = field(default_factory=dict)
    member: dict[Value, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    parent_of: dict[str, str | None] = field(default_factory=dict)


def plan(root: Value, max_nodes: int | None, modules: Any = None, order: bool = False) -> Plan:
    """Choose what to draw: the `max_nodes` Values nearest the root, named, numbered in
    backward order when `order`, and placed in the modules of `modules`."""
    everything = walk(root)
    drawn = everything if max_nodes is None else everything[:max_nodes]
    result = Plan(root, drawn, len(everything) - len(drawn), max_nodes, {})
    result.names = node_names(root, modules, everything)
    result.index = {v: k for k, v in enumerate(drawn)}
    if order and root.requires_grad:
        rule_nodes = [v for v in reversed(topo_order(root)) if not v.is_leaf]
        result.steps = {v: k for k, v in enumerate(rule_nodes, start=1)}
    if modules is not None:
        result.member, result.labels, result.parent_of = clusters(root, modules)
    return result


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
    check_arguments("draw_graph", root, rankdir, max_nodes)
    flows = _edge_flows(root, edge_grads, trace)
    what = plan(root, max_nodes, modules, order)

    def label_of(v: Value) -> str:
        return node_label(v, what, show_data, show_grad)

    return build(what, label_of, flows, rankdir=rankdir, title=title)


def check_arguments(caller: str, root: Any, rankdir: str, max_nodes: int | None) -> None:
    """Clear errors for a bad root, rankdir or max_nodes, naming `caller`."""
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"{caller}: rankdir must be 'LR' or 'TB' (or 'RL', 'BT'), got {rankdir!r}")
    if not isinstance(root, Value):
        raise TypeError(f"{caller}: expected a Value, got {type(root).__name__}")
    if max_nodes is not None and max_nodes < 1:
        raise ValueError(f"{caller}: max_nodes must be at least 1 (or None), got {max_nodes}")


def _edge_flows(root: Value, edge_grads: bool, trace: Any) -> Callable[[Value], Any] | None:
    """Where edge labels come from: the trace's recorded gradients, else each node's rule
    recomputed at its `.grad`; None when edges get no labels."""
    if not edge_grads:
        return None
    recorded = getattr(trace, "edge_grads", None) if trace is not None else None
    if recorded is not None:
        return recorded.get
    if root.grad is None:
        raise ValueError(
            "draw_graph(edge_grads=True) needs gradients: call root.backward() or "
            "minigrad.trace_backward(root) first (or pass trace=...)"
        )
    return lambda v: None if v.grad is None else edge_gradients(v)


def node_label(v: Value, what: Plan, show_data: bool, show_grad: bool) -> str:
    """A node's text: '#step  name', then its data and its gradient, one per line."""
    label = what.names[v]
    if v in what.steps:
        label = f"#{what.steps[v]}  {label}"
    if show_data:
        data = v.data
        label += "\ndata " + fmt_number(data) if type(data) is float else ("\n" + fmt_data(data))
    if show_grad and v.grad is not None:
        label += "\ngrad " + fmt_data(v.grad)
    return label


def build(
    what: Plan,
    label_of: Callable[[Value], str],
    flows: Callable[[Value], Any] | None = None,
    *,
    rankdir: str = "LR",
    title: str | None = None,
    ids: bool = False,
) -> Graph:
    """The Digraph of a plan, each node's text from `label_of` and each input edge's label from
    `flows(node)[j]`. With `ids`, every node and edge carries an SVG id (`n3`, `o3`, the edge
    `e3_0` from input 0 into `o3`, and `r3` from `o3` to `n3`) for the explorer's script."""
    dot = _new_graph(rankdir, title, len(what.drawn))
    by_kind, members = _declare_nodes(what, label_of, ids)
    edges, cut_ops = _declare_edges(what, flows, ids)
    body = dot.body
    for kind, stmts in by_kind.items():
        if stmts:
            body.append(f"\tsubgraph {kind}s {{\n\t\tnode [{_STYLE_TEXT[kind]}]\n")
            body.extend(f"\t\t{s}\n" for s in stmts)
            body.append("\t}\n")
    if members:
        emit_clusters(body, members, what.labels, what.parent_of)
    if what.hidden:
        hidden = what.hidden
        text = (
            f"... {hidden:,} more node{'s' if hidden != 1 else ''} not drawn\n"
            f"(max_nodes={what.max_nodes}; pass max_nodes=None to draw all)"
        )
        body.append(f"\tmore [label={dot_string(text)}, {_STYLE_TEXT['more']}]\n")
        edges.extend(f"more -> {op} [style=dashed]" for op in cut_ops)
    body.extend(f"\t{e}\n" for e in edges)
    return dot


def _new_graph(rankdir: str, title: str | None, size: int) -> Graph:
    graph_attr = {"rankdir": rankdir, "fontname": "Helvetica", "nodesep": "0.25", "ranksep": "0.35"}
    if title:
        graph_attr.update(label=title, labelloc="t", fontsize="16")
    if size > _BIG:
        # Fewer layout passes for big pictures: `dot` spends most of its time polishing the
        # ranks (nslimit1), the crossings (mclimit) and the positions (nslimit); with these
        # a 3,000-Value MLP graph lays out in about half the time, a little less tidily.
        graph_attr.update(mclimit="0.3", nslimit="0.2", nslimit1="0.2")
    return Graph(
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


def _declare_nodes(
    what: Plan, label_of: Callable[[Value], str], ids: bool
) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """The node statements, one list per kind (each kind's `node [...]` line gives its look
    once instead of on every node), and the node ids of each module's box."""
    by_kind: dict[str, list[str]] = {kind: [] for kind in _KIND_ORDER}
    members: dict[str, list[str]] = {}
    op_texts: dict[Any, str] = {}
    for k, v in enumerate(what.drawn):
        where = what.member.get(v) if what.member else None
        node_id, op_id = (f"id=n{k} ", f"id=o{k} ") if ids else ("", "")
        by_kind[kind_of(v, what.root)].append(f"n{k} [{node_id}label={dot_string(label_of(v))}]")
        if where is not None:
            members.setdefault(where, []).append(f"n{k}")
        if v.is_leaf:
            continue
        if v._params:
            op_text = dot_string(describe_op(v))
        else:
            op_text = op_texts.get(v._op) or op_texts.setdefault(v._op, dot_string(v._op.name))
        by_kind["op"].append(f"o{k} [{op_id}label={op_text}]")
        if where is not None:
            members[where].append(f"o{k}")
    return by_kind, members


def _declare_edges(
    what: Plan, flows: Callable[[Value], Any] | None, ids: bool
) -> tuple[list[str], list[str]]:
    """The edge statements (op to result, each input use to its op, labelled with the gradient
    along it when `flows` gives one) and the ops whose inputs were cut by max_nodes."""
    edges: list[str] = []
    cut_ops: list[str] = []
    index = what.index
    for k, v in enumerate(what.drawn):
        if v.is_leaf:
            continue
        edges.append(f"o{k} -> n{k} [id=r{k}]" if ids else f"o{k} -> n{k}")
        along = flows(v) if flows is not None else None
        was_cut = False
        for j, p in enumerate(v.parents):
            if p not in index:
                was_cut = True
                continue
            attrs = [f"id=e{k}_{j}"] if ids else []
            if along is not None and along[j] is not None:
                attrs.append(f"label={dot_string(fmt_edge(along[j]))}")
            edges.append(f"n{index[p]} -> o{k}" + (f" [{', '.join(attrs)}]" if attrs else ""))
        if was_cut:
            cut_ops.append(f"o{k}")
    return edges, cut_ops


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
        dot.body.append(f"\t{kind} [{dot_attrs({'label': text, **STYLES[kind]})}]\n")
        dot.body.append(f"\t{kind}_text [label={dot_string(KIND_TEXT[kind])} shape=plaintext]\n")
        dot.body.append(f"\t{kind} -> {kind}_text [style=invis]\n")
    # Stack the rows: each kind's example sits above the next.
    kinds = list(examples)
    for a, b in zip(kinds, kinds[1:]):
        dot.body.append(f"\t{a} -> {b} [style=invis]\n")
    dot.graph_attr["rankdir"] = "TB" if rankdir == "LR" else "LR"
    rows = " ".join(f"{{rank=same; {k}; {k}_text}}" for k in kinds)
    dot.body.append(f"\t{rows}\n")
    return dot
