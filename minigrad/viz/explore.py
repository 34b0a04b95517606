"""`explore(root)`: step through the forward pass and then the backward pass in a browser.

The page is one self-contained HTML file that works offline: the graph of `root` as SVG (drawn
by the Graphviz program `dot`, or in-process by the `svg` extra), the numbers of every step as
JSON, and the script and style inline, with a Content-Security-Policy that forbids every network
request. The backward steps are the rows of `trace_backward`: at each one the page highlights
the node, its op and the edges its gradient flows along, shows the upstream gradient, each local
derivative and the product added to each input's `.grad`, and fills in the `.grad` shown on the
nodes. Clicking a node shows its op, data and gradient (for arrays: shape, dtype, min, max and a
heat map of a corner).

In Jupyter (classic, JupyterLab, VS Code) the returned `Explorer` displays inline: its
`_repr_html_` is an iframe whose `srcdoc` holds the page, so the page's script runs without any
extension (scripts inside a plain HTML output do not run in JupyterLab).

>>> import minigrad as mg
>>> x = mg.Value(3.0, label="x"); y = x * x; y.label = "y"
>>> page = mg.viz.explore(y)
>>> len(page.data["forward"]), len(page.data["backward"])
(1, 1)
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from minigrad.value import Value
from minigrad.viz.dot import DEFAULT_MAX_NODES, Plan, build, check_arguments, plan
from minigrad.viz.explorer_data import page_data, summary
from minigrad.viz.render import svg_of
from minigrad.viz.text import fmt_number

__all__ = ["explore", "Explorer"]

_ASSETS = Path(__file__).resolve().parent / "assets"

# The page may load nothing at all: scripts and styles are inline, pictures data: URLs.
_POLICY = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:"


class Explorer:
    """The explorer page of one graph: `.html` (the page), `.data` (its steps as a dict),
    `.save(path)`, `.path` (where `explore(..., path=)` wrote it), and an inline display in
    Jupyter."""

    #: The height of the inline frame in notebooks, in CSS pixels.
    height = 760

    def __init__(self, page: str, data: dict[str, Any], renderer: str):
        self.html = page
        self.data = data
        self.renderer = renderer
        self.path: Path | None = None

    def save(self, path: str | Path) -> Path:
        """Write the page (UTF-8); open it in any browser, no server needed."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.html, encoding="utf-8")
        self.path = path
        return path

    def _repr_html_(self) -> str:
        return (
            f'<iframe srcdoc="{html.escape(self.html, quote=True)}" '
            f'style="width: 100%; height: {self.height}px; border: 1px solid #d0d7de; '
            'border-radius: 6px" sandbox="allow-scripts" '
            'title="minigrad graph explorer"></iframe>'
        )

    def __repr__(self) -> str:
        where = f", written to {self.path}" if self.path else ""
        return (
            f"<Explorer: {len(self.data['nodes'])} nodes, {len(self.data['forward'])} forward "
            f"and {len(self.data['backward'])} backward steps{where}>"
        )


def explore(
    root: Value,
    path: str | Path | None = None,
    *,
    modules: Any = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    rankdir: str = "LR",
    title: str | None = None,
    gradient: Any = None,
) -> Explorer:
    """An interactive page stepping through the forward and backward pass of `root`.

    Args:
        root: the Value to explore (usually the loss). Its `.grad` and every other node's are
            left as they are: the backward steps are a replay by `trace_backward`.
        path: where to write the page (an .html file); None only builds it.
        modules: a model: its modules become boxes that can be collapsed, and its dotted
            parameter names name unlabelled parameters (as in `draw_graph`).
        max_nodes: draw at most this many Values, the ones nearest the root (as in
            `draw_graph`); steps at nodes not drawn still show their numbers.
        rankdir: 'LR' (inputs on the left) or 'TB' (inputs on top).
        title: the page's heading.
        gradient: the seed for a root that is not a single number, as in `backward`.

    Returns:
        an `Explorer`: shown inline in Jupyter, `.save(path)` writes it, `.html` is the page.
    """
    check_arguments("explore", root, rankdir, max_nodes)
    report = _trace(root, gradient, modules)
    what = plan(root, max_nodes, modules)
    if report is not None:
        what.steps = {s.value: s.step for s in report.steps}
    title = title or f"minigrad: the graph of {what.names[root]}, step by step"
    data = page_data(what, report, title)
    svg, renderer = svg_of(_explorer_dot(what, data, rankdir))
    page = _page(data, svg, renderer)
    explorer = Explorer(page, data, renderer)
    if path is not None:
        explorer.save(path)
    return explorer


def _trace(root: Value, gradient: Any, modules: Any) -> Any:
    """trace_backward's replay of the backward pass (None when root needs no gradient)."""
    from minigrad.trace import trace_backward  # trace draws with viz: imported when used

    if not root.requires_grad:
        return None
    if gradient is None and root.size != 1:
        raise ValueError(
            f"explore: the root has shape {root.shape}, not a single number; pass gradient= "
            "(an array of that shape, the seed of backward) or reduce it first, e.g. .sum()"
        )
    return trace_backward(root, gradient, accumulate=False, modules=modules)


def _explorer_dot(what: Plan, data: dict[str, Any], rankdir: str) -> str:
    """DOT text of the picture: each node shows '#step  name', its data, and a grad line as
    wide as the widest gradient it will show (the page writes the gradient in as it steps)."""
    widest = {}
    for node in data["nodes"]:
        texts = [g["text"] for _, g in node["grads"]] or [""]
        widest[node["id"]] = max(texts, key=len)
    ids = {v: f"n{k}" for k, v in enumerate(what.drawn)}

    def label_of(v: Value) -> str:
        label = what.names[v]
        if v in what.steps:
            label = f"#{what.steps[v]}  {label}"
        d = v.data
        label += "\ndata " + (fmt_number(d) if type(d) is float else summary(d)["text"])
        return label + "\ngrad " + (widest[ids[v]] or "?")

    return build(what, label_of, rankdir=rankdir, ids=True).source


def clean_svg(svg: str) -> str:
    """An SVG document made fit to sit inside HTML: no XML prolog, doctype or comments (they
    name the Graphviz version and a DTD's web address), no namespace declarations (HTML does not
    need them), and the root element's fixed size kept only as its viewBox."""
    svg = re.sub(r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->", "", svg, flags=re.S)
    svg = re.sub(r'\s+xmlns(:\w+)?="[^"]*"', "", svg)
    svg = re.sub(r'(<svg\b[^>]*?)\s(width|height)="[^"]*"', r"\1", svg, count=1)
    svg = re.sub(r'(<svg\b[^>]*?)\s(width|height)="[^"]*"', r"\1", svg, count=1)
    return svg.strip()


def json_for_script(data: dict[str, Any]) -> str:
    """JSON that is safe inside a <script> element: no '<', '>' or '&' (so no '</script>')."""
    text = json.dumps(data, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _page(data: dict[str, Any], svg: str | None, renderer: str) -> str:
    """The whole HTML page: template, style, picture, data and script."""
    if svg is None:
        picture = (
            '<p class="mg-nosvg">No picture of the graph: '
            f"{html.escape(renderer)}. Install the Graphviz program (apt-get install graphviz, "
            'brew install graphviz, conda install graphviz) or pip install "minigrad[svg]". '
            "The steps below still work.</p>"
        )
    else:
        picture = clean_svg(svg)
    template = (_ASSETS / "explorer.html").read_text(encoding="utf-8")
    parts = {
        "POLICY": html.escape(_POLICY, quote=False),  # no double quote in it
        "TITLE": html.escape(data["title"]),
        "STYLE": (_ASSETS / "explorer.css").read_text(encoding="utf-8"),
        "PICTURE": picture,
        "DATA": json_for_script(data),
        "SCRIPT": "\n".join(
            (_ASSETS / name).read_text(encoding="utf-8") for name in ("panels.js", "explorer.js")
        ),
    }
    return re.sub(r"/\*@(\w+)@\*/", lambda m: parts[m.group(1)], template)
