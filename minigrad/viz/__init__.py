"""Pictures of the computation graph: `draw_graph(root)` gives a `graphviz.Digraph`.

Node kinds are told apart by shape and colour (`legend()` draws a key):

- parameter: a leaf that needs a gradient (weights, biases, inputs you asked gradients for),
  a blue rounded box;
- constant: a leaf that needs none (data, targets, plain numbers mixed into an op), a grey
  dashed box;
- intermediate: a Value made by an op, a white rounded box;
- root: the Value you drew from (usually the loss), a bold gold box;
- op: the operation, an ellipse showing its name and parameters (`+`, `matmul`, `sum(axis=1)`);
- "N more nodes": where a graph bigger than `max_nodes` was cut, a red note.

The package, file by file: `text` (numbers and ops as labels), `walk` (the nodes and their
names), `clusters` (modules as boxes), `dot` (`draw_graph`, `legend`: DOT text as a plain
string), `render` (`save`, Graphviz or the in-process SVG, and their fallbacks), `explore` and
`explorer_data` (`explore(root)`: the step-through page; its script and style in `assets/`).
"""

from minigrad.viz.clusters import module_path
from minigrad.viz.dot import DEFAULT_MAX_NODES, KIND_TEXT, STYLES, draw_graph, legend
from minigrad.viz.explore import Explorer, explore
from minigrad.viz.render import INSTALL_HINT, Graph, has_dot, save, svg_in_process
from minigrad.viz.text import describe_op, fmt_data, fmt_edge, fmt_number
from minigrad.viz.walk import edge_gradients, forward_order, kind_of, node_names, walk

__all__ = [
    "draw_graph",
    "explore",
    "Explorer",
    "legend",
    "save",
    "node_names",
    "Graph",
    "DEFAULT_MAX_NODES",
    "STYLES",
    "KIND_TEXT",
    "INSTALL_HINT",
    "has_dot",
    "svg_in_process",
    "describe_op",
    "fmt_data",
    "fmt_edge",
    "fmt_number",
    "edge_gradients",
    "forward_order",
    "kind_of",
    "module_path",
    "walk",
]
