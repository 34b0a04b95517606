"""The chain rule, step by step: `trace_backward(root)` records every gradient rule backward runs.

Backward visits the graph from the root down. At each Value made by an op it holds the upstream
gradient `g` (d root / d value, complete because every consumer came first) and applies the
op's rule, which multiplies `g` by the local derivative of the op with respect to each input:

    added to input.grad  =  upstream g  x  local d(value)/d(input)

An input used twice gets two contributions, one per use, and its gradient is their sum. The
report shows one row per rule in the order backward applies them, then the final gradient of
every leaf. For the tree-age network (see `minigrad.lessons`) the rows show dL/dprediction = 2.5,
dprediction/dh1 = w5 = 1, dh1/dw1 = x1 = 5, and the leaves show dL/dw1 = 12.5.

For array graphs a local derivative is a whole Jacobian, so rows show shapes and norms instead
of entries, and 'Jacobian' in place of the local derivative.

>>> import minigrad as mg
>>> x = mg.Value(3.0, label="x"); y = x * x; y.label = "y"
>>> report = mg.trace_backward(y)
>>> [(r["input"], r["local"], r["contribution"]) for r in report.rows]
[('x', 3.0, 3.0), ('x', 3.0, 3.0)]
>>> report.leaf_grads
{'x': 6.0}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from minigrad.engine import run_backward, sum_to, topo_order
from minigrad.value import Value, to_data
from minigrad.viz import describe_op, draw_graph, fmt_edge, fmt_number, node_names

__all__ = ["trace_backward", "BackwardTrace", "TraceStep", "TraceInput"]


@dataclass
class TraceInput:
    """One input of a rule: its name, the local derivative of the op with respect to it (a
    number for scalar graphs, None for arrays) and the gradient this use added to it."""

    name: str
    local: float | None
    contribution: Any
    value: Value = field(repr=False)
    #: For a product `a * b`, the name of the other factor: d(a*b)/da = b, so the table can say
    #: "5 = x1". Empty otherwise.
    equals: str = ""


@dataclass
class TraceStep:
    """One rule applied by backward: at Value `node` (made by `op`), with upstream gradient
    `upstream` = d root / d node, giving a contribution to each input that needs one."""

    step: int
    node: str
    op: str
    upstream: Any
    inputs: list[TraceInput]
    value: Value = field(repr=False)


class BackwardTrace:
    """What `trace_backward` saw. `str(report)` is a table; `report.rows` the same as records.

    Attributes:
        steps: one `TraceStep` per rule, in backward order (step 1 is the root's op).
        leaf_grads: name -> gradient from this pass, for every leaf that needs one.
        edge_grads: Value -> the contribution along each of its input edges (for
            `draw_graph(..., trace=report)`).
        root: the Value traced.
    """

    def __init__(
        self,
        root: Value,
        steps: list[TraceStep],
        leaf_grads: dict[str, Any],
        edge_grads: dict[Value, tuple],
        filled: bool,
    ):
        self.root = root
        self.steps = steps
        self.leaf_grads = leaf_grads
        self.edge_grads = edge_grads
        self.filled = filled

    @property
    def rows(self) -> list[dict[str, Any]]:
        """One record per (rule, input) pair, ready for `pandas.DataFrame(report.rows)`."""
        return [
            {
                "step": s.step,
                "node": s.node,
                "op": s.op,
                "upstream": s.upstream,
                "input": i.name,
                "local": i.local,
                "contribution": i.contribution,
            }
            for s in self.steps
            for i in s.inputs
        ]

    def grad(self, name: str) -> Any:
        """The gradient of the leaf called `name` (KeyError naming the known leaves if absent)."""
        if name not in self.leaf_grads:
            raise KeyError(f"no leaf named {name!r}; leaves: {', '.join(self.leaf_grads)}")
        return self.leaf_grads[name]

    def graph(self, **kwargs: Any):
        """The traced graph drawn with each edge's gradient and the step numbers."""
        kwargs.setdefault("edge_grads", True)
        kwargs.setdefault("order", True)
        return draw_graph(self.root, trace=self, **kwargs)

    def __len__(self) -> int:
        return len(self.steps)

    def __str__(self) -> str:
        header = (
            "step",
            "node",
            "op",
            "upstream g",
            "input",
            "local d(node)/d(input)",
            "added to input.grad",
        )
        table = []
        for s in self.steps:
            first = (str(s.step), s.node, s.op, _fmt(s.upstream))
            if not s.inputs:
                table.append(first + ("(no input needs a gradient)", "", ""))
            for k, i in enumerate(s.inputs):
                local = "Jacobian" if i.local is None else _fmt(i.local)
                if i.equals and i.local is not None:
                    local += f" = {i.equals}"
                left = first if k == 0 else ("", "", "", "")
                table.append(left + (i.name, local, _fmt(i.contribution)))
        widths = [max(len(r[c]) for r in [header, *table]) for c in range(len(header))]

        def line(cells: tuple) -> str:
            return "  ".join(
                c.rjust(w) if n == 0 else c.ljust(w) for n, (c, w) in enumerate(zip(cells, widths))
            ).rstrip()

        out = [
            "Backward, one gradient rule per step (added = upstream g x local derivative):",
            line(header),
            line(tuple("-" * w for w in widths)),
        ]
        out += [line(r) for r in table]
        out.append("")
        out.append("Gradients of the leaves (d root / d leaf, summed over every use):")
        width = max((len(n) for n in self.leaf_grads), default=0)
        out += [f"  {n.ljust(width)} = {_fmt(g)}" for n, g in self.leaf_grads.items()]
        return "\n".join(out)

    def __repr__(self) -> str:
        return f"<BackwardTrace: {len(self.steps)} steps, {len(self.leaf_grads)} leaves>"

    def _repr_html_(self) -> str:
        """Jupyter's display: the table as HTML."""
        from minigrad.viz.display import trace_html

        return trace_html(self)


def _fmt(x: Any) -> str:
    """A number to 6 significant digits (the lesson's 1.5625 and 8.71875 read exactly); an
    array as its shape and norm."""
    if isinstance(x, Value):
        x = x.data
    if type(x) is float or np.size(x) == 1:
        return fmt_number(float(np.asarray(x).reshape(())), 6)
    return fmt_edge(x)


def _natural(name: str) -> list:
    """Sort key putting w2 before w10."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def trace_backward(
    root: Value, gradient: Any = None, *, accumulate: bool | None = None, modules: Any = None
) -> BackwardTrace:
    """Run backward from `root` and record every rule it applies.

    Args:
        root: the Value to differentiate (a single number unless `gradient` is given).
        gradient: the seed d root / d root for a non-scalar root, as in `backward`.
        accumulate: True adds this pass's gradients into `.grad` (exactly as `backward()`),
            False only records (a replay that leaves `.grad` untouched). The default does the
            former when `root.grad` is still None and replays otherwise, so tracing after a
            `backward()` does not double the gradients.
        modules: a model whose dotted parameter names name unlabelled parameters.

    Returns:
        a `BackwardTrace`: print it for the table, or use `.rows`, `.steps`, `.leaf_grads`.
    """
    if not isinstance(root, Value):
        raise TypeError(f"trace_backward: expected a Value, got {type(root).__name__}")
    if not root.requires_grad:
        raise RuntimeError(
            "trace_backward(): this Value does not require grad (it was computed from "
            "constants or under no_grad), so backward has no rule to run"
        )
    if gradient is None:
        if root.size != 1:
            raise ValueError(
                f"trace_backward(): the Value has shape {root.shape}, not a single number; "
                "pass gradient= (an array of that shape) or reduce it first, e.g. .sum()"
            )
        seed = 1.0 if type(root.data) is float else np.ones_like(root.data)
    else:
        seed = to_data(gradient, "gradient")
        if np.shape(seed) != root.shape:
            raise ValueError(
                f"trace_backward(): gradient has shape {np.shape(seed)} but the "
                f"Value has shape {root.shape}; they must match"
            )
        seed = sum_to(seed, root.data)
    if accumulate is None:
        accumulate = root.grad is None

    names = node_names(root, modules)
    leaves = [v for v in topo_order(root) if v.is_leaf]
    steps: list[TraceStep] = []
    edges: dict[Value, tuple] = {}

    def on_rule(node: Value, g: Any, grads: tuple) -> None:
        parents = node.parents
        added = tuple(
            None if gp is None or not p.requires_grad else sum_to(gp, p.data)
            for p, gp in zip(parents, grads)
        )
        edges[node] = added
        local = _local_derivatives(node)
        inputs = [
            TraceInput(
                names[p],
                None if local is None else local[k],
                added[k],
                p,
                _other_factor(node, k, names),
            )
            for k, p in enumerate(parents)
            if added[k] is not None
        ]
        steps.append(TraceStep(len(steps) + 1, names[node], describe_op(node), g, inputs, node))

    found = run_backward(
        root, seed, create_graph=False, accumulate=accumulate, wanted=set(leaves), on_rule=on_rule
    )
    leaf_grads = {
        names[v]: found[v] for v in sorted(leaves, key=lambda v: _natural(names[v])) if v in found
    }
    return BackwardTrace(root, steps, leaf_grads, edges, filled=accumulate)


def _other_factor(node: Value, k: int, names: dict[Value, str]) -> str:
    """In a product of two Values, d(out)/d(input k) is the other input: return its name."""
    if node.op != "*" or len(node.parents) != 2:
        return ""
    return names[node.parents[1 - k]]


def _local_derivatives(node: Value) -> list[float | None] | None:
    """d node / d input for each input of a scalar op: its rule run with upstream g = 1.
    None when the node or an input is an array (the local derivative is then a Jacobian)."""
    if type(node.data) is not float or any(type(p.data) is not float for p in node.parents):
        return None
    needs = [p.requires_grad for p in node.parents]
    grads = node._op.vjp(1.0, node.data, [p.data for p in node.parents], needs, node._params or {})
    return [None if gp is None else float(gp) for gp in grads]
