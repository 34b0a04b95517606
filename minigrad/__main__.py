"""`python -m minigrad demo [--out DIR]` (or the `minigrad demo` command the install adds): the
first thing to run after installing minigrad.

The demo walks through the tree-age lesson (`minigrad.lessons`): a 2-2-1 network with identity
activations predicts a tree's age from its width and length. It prints the forward pass, the
loss, the chain rule step by step (`trace_backward`) and one SGD update, then trains on a small
table of trees. Into DIR it writes the computation graph (graph.svg), the explorer that steps
through the forward and backward pass in a browser (explorer.html), the chain-rule table
(trace.txt), the loss curve (loss.png) and index.md listing what it wrote. Without the Graphviz
program or matplotlib it writes what it can and says what it skipped and why.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from minigrad import viz
from minigrad.lessons import TREE_AGE_WEIGHTS, lesson_weights, tree_age_network, trees
from minigrad.losses import mse_loss
from minigrad.optim import SGD
from minigrad.trace import trace_backward
from minigrad.train import fit
from minigrad.value import Value

WIDTH, LENGTH, AGE, LR = 5.0, 7.0, 5.0, 0.02


def _section(title: str) -> None:
    print(f"\n== {title} " + "=" * max(0, 70 - len(title)))


def lesson_pass() -> tuple[Any, Value, Value, Value, Value]:
    """The tree-age network's forward pass on the lesson's tree, with readable labels.

    Returns (model, h1, h2, prediction, loss); nothing has run backward yet.
    """
    model = tree_age_network()
    x1 = Value(WIDTH, requires_grad=False, label="x1")
    x2 = Value(LENGTH, requires_grad=False, label="x2")
    h1, h2 = model.layers[0]([x1, x2])
    h1.label, h2.label = "h1", "h2"
    prediction = model.layers[1]([h1, h2])
    prediction.label = "prediction"
    loss = mse_loss(prediction, Value(AGE, requires_grad=False, label="age"))
    loss.label = "loss"
    error = loss.parents[0] if loss.parents else None
    if error is not None and error.op == "-" and error.label is None:
        error.label = "error"  # prediction - age, squared by the loss
    return model, h1, h2, prediction, loss


GRAPH_TITLE = "Tree age: one forward and backward pass (edge labels: gradients)"
EXPLORER_TITLE = "Tree age: step through the forward pass, then the backward pass"


@dataclass
class _Outputs:
    """The folder the demo writes into, and the lists of what it wrote and what it skipped."""

    folder: Path
    written: list[tuple[str, str]] = field(default_factory=list)  # (file name, what it shows)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (what, why)


def demo(out: str | Path = "demo_out") -> dict[str, Any]:
    """Run the demo, printing as it goes; returns {'written': [...], 'skipped': [...]}."""
    outputs = _Outputs(Path(out))
    outputs.folder.mkdir(parents=True, exist_ok=True)
    _introduce()
    model, h1, h2, prediction, loss = lesson_pass()
    _show_forward(model, h1, h2, prediction, loss)
    report = _show_backward(model, prediction, loss, outputs)
    # Draw now, while the weights still hold the values the gradients were computed at.
    graph = viz.draw_graph(
        loss, edge_grads=True, order=True, modules=model, trace=report, title=GRAPH_TITLE
    )
    explorer = viz.explore(loss, modules=model, title=EXPLORER_TITLE)
    _show_update(model, prediction)
    _section("5. Pictures")
    _save_graph(graph, outputs)
    _save_explorer(explorer, outputs)
    _train_on_trees(outputs)
    _write_index(outputs)
    _say_done(outputs)
    return {"written": [n for n, _ in outputs.written], "skipped": [n for n, _ in outputs.skipped]}


def _introduce() -> None:
    print("minigrad demo: predict a tree's age from its width and length.")
    print(
        "A 2-2-1 network, identity activations, zero biases; weights w1..w6 = "
        + ", ".join(f"{w:g}" for w in TREE_AGE_WEIGHTS)
        + "."
    )


def _show_forward(model: Any, h1: Value, h2: Value, prediction: Value, loss: Value) -> None:
    """Sections 1 and 2: the forward pass written out with its numbers, then the loss."""
    w = [p.data for p in lesson_weights(model)]
    _section("1. Forward pass (feedforward)")
    print(f"tree: width x1 = {WIDTH:g}, length x2 = {LENGTH:g}, true age {AGE:g}")
    print(f"h1 = w1*x1 + w2*x2 = {w[0]:g}*{WIDTH:g} + {w[1]:g}*{LENGTH:g} = {h1.data:.6g}")
    print(f"h2 = w3*x1 + w4*x2 = {w[2]:g}*{WIDTH:g} + {w[3]:g}*{LENGTH:g} = {h2.data:.6g}")
    print(
        f"prediction = w5*h1 + w6*h2 = {w[4]:g}*{h1.data:.6g} + {w[5]:g}*{h2.data:.6g} "
        f"= {prediction.data:.6g}"
    )
    _section("2. Loss")
    print(f"MSE = (prediction - age)^2 = ({prediction.data:.6g} - {AGE:g})^2 = {loss.data:.6g}")


def _show_backward(model: Any, prediction: Value, loss: Value, outputs: _Outputs) -> Any:
    """Section 3: backward with the chain-rule table (also written to trace.txt); returns it."""
    _section("3. Backward: the chain rule, one rule per step")
    report = trace_backward(loss, modules=model)
    print(report)
    w1, w5 = lesson_weights(model)[0], lesson_weights(model)[4]
    print(
        "\nReading it: dL/dprediction = 2*(prediction - age) = "
        f"{prediction.grad:.6g}; dprediction/dh1 = w5 = {w5.data:g}; "
        f"dh1/dw1 = x1 = {WIDTH:g};\nso dL/dw1 = {prediction.grad:.6g} * {w5.data:g} * "
        f"{WIDTH:g} = {w1.grad:.6g}."
    )
    (outputs.folder / "trace.txt").write_text(str(report) + "\n")
    outputs.written.append(
        ("trace.txt", "the chain-rule table: one gradient rule per backward step")
    )
    return report


def _show_update(model: Any, prediction: Value) -> None:
    """Section 4: one SGD step on the gradients just computed, and the next prediction."""
    _section(f"4. Update: one SGD step, w = w - {LR:g} * dL/dw")
    params = lesson_weights(model)
    before = [(p.label, p.data, p.grad) for p in params]
    SGD(model.parameters(), lr=LR).step()
    for (name, old, g), p in zip(before, params):
        print(f"{name} = {old:g} - {LR:g} * {g:.6g} = {p.data:.6g}")
    nxt = model([WIDTH, LENGTH]).data
    print("(the biases b1, b2, b3 step the same way)")
    print(
        f"next prediction: {nxt:.6g} (from {prediction.data:.6g}; the target is {AGE:g}): "
        "a step this large overshoots."
    )


def _save_graph(graph: Any, outputs: _Outputs) -> None:
    """graph.svg, or graph.dot (DOT text) with the reason when Graphviz cannot render it."""
    path = viz.save(graph, outputs.folder / "graph.svg", quiet=True)
    if path.suffix == ".svg":
        what = (
            "the computation graph with values, gradients, the "
            "gradient on each edge and the backward order"
        )
        outputs.written.append((path.name, what))
        print(f"wrote {path}")
        return
    what = (
        "the computation graph as DOT text (render it with "
        "Graphviz: dot -Tsvg graph.dot -o graph.svg)"
    )
    outputs.written.append((path.name, what))
    if not viz.has_dot():
        reason = "the Graphviz program 'dot' is not installed"
    else:
        reason = "Graphviz could not render it"
    outputs.skipped.append(("graph.svg", f"{reason}; {viz.INSTALL_HINT}"))
    print(f"wrote {path} (no graph.svg: {reason})")


def _save_explorer(explorer: Any, outputs: _Outputs) -> None:
    """explorer.html, and how to open it."""
    path = explorer.save(outputs.folder / "explorer.html")
    what = "step through the forward and backward pass in a browser (offline, one file)"
    if explorer.renderer not in ("dot", "in-process"):
        what += f"; no picture of the graph in it: {explorer.renderer}"
    outputs.written.append((path.name, what))
    print(f"wrote {path}: open it in a browser ({path.resolve().as_uri()}), use the arrow keys")


def _train_on_trees(outputs: _Outputs) -> None:
    """Section 6: full-batch training on the table of trees, and its loss curve (loss.png)."""
    _section("6. Training on a table of trees until the loss stops improving")
    X, y = trees()
    model = tree_age_network()
    optimizer = SGD(model.parameters(), lr=0.003)
    history = fit(
        model,
        mse_loss,
        optimizer,
        X,
        y,
        epochs=5000,
        batch_size=None,
        min_delta=1e-5,
        patience=3,
        metrics=None,
        verbose=False,
    )
    print(
        f"full-batch SGD, lr 0.003: loss {history.train_loss[0]:.6g} -> "
        f"{history.train_loss[-1]:.6g} after {history.epochs} epochs "
        f"(stopped: {history.stop_reason})"
    )
    try:
        history.plot(outputs.folder / "loss.png", title="Tree age: training loss per epoch")
    except ImportError as err:
        outputs.skipped.append(("loss.png", str(err)))
        print(f"skipped loss.png: {err}")
    else:
        outputs.written.append(("loss.png", "the training loss per epoch, best epoch marked"))
        print(f"wrote {outputs.folder / 'loss.png'}")


def _write_index(outputs: _Outputs) -> None:
    """index.md: what the demo wrote, and what it skipped and why."""
    lines = ["# minigrad demo output", "", "Written by `python -m minigrad demo`.", ""]
    lines += [f"- `{name}`: {what}" for name, what in outputs.written]
    if outputs.skipped:
        lines += ["", "## Skipped", ""]
        lines += [f"- `{name}`: {why}" for name, why in outputs.skipped]
    (outputs.folder / "index.md").write_text("\n".join(lines) + "\n")
    outputs.written.append(("index.md", "this list"))


def _say_done(outputs: _Outputs) -> None:
    _section("Done")
    print(f"In {outputs.folder}/:")
    for name, what in outputs.written:
        print(f"  {name:10s} {what}")
    for name, why in outputs.skipped:
        print(f"  skipped {name}: {why}")


def program_name() -> str:
    """The command as the user typed it, for the usage line: `minigrad` when started by the
    console script that pyproject.toml's [project.scripts] installs, else `python -m minigrad`
    (argparse alone would say `__main__.py`)."""
    return "minigrad" if Path(sys.argv[0]).stem == "minigrad" else "python -m minigrad"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog=program_name(),
        description="minigrad: reverse-mode autodiff for numbers and numpy arrays.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    run = commands.add_parser(
        "demo",
        help="walk through the tree-age lesson and write pictures",
        description="Forward pass, loss, the chain rule step by step and one SGD update on the "
        "tree-age network; then training. Writes graph.svg, explorer.html, trace.txt, "
        "loss.png and index.md into DIR.",
    )
    run.add_argument(
        "--out",
        metavar="DIR",
        default="demo_out",
        help="folder for the pictures (default: ./demo_out)",
    )
    args = parser.parse_args(argv)
    if args.command != "demo":
        parser.print_help()
        return 0 if args.command is None and not argv else 2
    demo(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
