"""Redraw the pictures the README shows: `python docs/make_pictures.py` (needs Graphviz and the
plot extra). Every picture comes from minigrad's public functions, so the README shows what a
user gets.

- graph.svg / graph.png: the tree-age lesson after one backward pass (`draw_graph` with edge
  gradients, backward numbering and the model's modules as boxes);
- legend.svg / legend.png: what the node shapes and colours mean;
- loss.png: training and validation loss on noisy moons, stopped early, best epoch marked;
- decision_boundary.png: micrograd's moons demo (a 2-16-16-1 MLP of single-number Values).
"""

from __future__ import annotations

import runpy
from pathlib import Path

import minigrad as mg
from minigrad import viz
from minigrad.__main__ import GRAPH_TITLE, lesson_pass
from minigrad.plot import decision_boundary, plot_history

HERE = Path(__file__).resolve().parent


def graph_pictures() -> None:
    model, *_, loss = lesson_pass()
    report = mg.trace_backward(loss, modules=model)
    graph = viz.draw_graph(
        loss, edge_grads=True, order=True, modules=model, trace=report, title=GRAPH_TITLE
    )
    for suffix in ("svg", "png"):
        viz.save(graph, HERE / f"graph.{suffix}")
        viz.save(viz.legend(), HERE / f"legend.{suffix}")


def loss_picture() -> None:
    mg.manual_seed(0)
    X, y = mg.data.make_moons(150, noise=0.3, seed=0)
    model = mg.nn.Sequential(
        mg.nn.Linear(2, 32), mg.nn.ReLU(), mg.nn.Linear(32, 32), mg.nn.ReLU(), mg.nn.Linear(32, 1)
    )
    history = mg.train.fit(
        model,
        mg.losses.binary_cross_entropy_with_logits,
        mg.optim.Adam(model.parameters(), lr=0.01),
        X,
        y.reshape(-1, 1).astype(float),
        epochs=300,
        batch_size=32,
        validation_split=0.25,
        patience=15,
        rng=0,
        verbose=False,
    )
    plot_history(
        history,
        HERE / "loss.png",
        title=f"Noisy moons, 2-32-32-1 MLP, Adam (stopped: {history.stop_reason})",
    )


def boundary_picture() -> None:
    moons = runpy.run_path(str(HERE.parent / "examples" / "moons.py"))
    model, _ = moons["train_moons"]()
    X, y = mg.data.make_moons(100, noise=0.1, seed=1)
    decision_boundary(
        model,
        X,
        2 * y - 1,
        HERE / "decision_boundary.png",
        title="micrograd's moons demo in minigrad: 2-16-16-1 MLP, hinge loss",
    )


if __name__ == "__main__":
    graph_pictures()
    loss_picture()
    boundary_picture()
    print("wrote", ", ".join(sorted(p.name for p in HERE.iterdir() if p.suffix != ".py")))
