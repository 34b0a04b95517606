"""Redraw the pictures the README shows: `python docs/make_pictures.py` (needs Graphviz and the
plot extra; the explorer's screenshot needs the browser extra and Chromium). Every picture comes
from minigrad's public functions, so the README shows what a user gets.

- graph.svg / graph.png / graph.dot: the tree-age lesson after one backward pass (`draw_graph`
  with edge gradients, backward numbering and the model's modules as boxes);
- legend.svg / legend.png / legend.dot: what the node shapes and colours mean;
- explorer.html / explorer.png: the tree-age explorer (`viz.explore`), and a screenshot of it
  in the middle of the backward pass;
- loss.png: training and validation loss on noisy moons, stopped early, best epoch marked;
- decision_boundary.png: micrograd's moons demo (a 2-16-16-1 MLP of single-number Values).

The text outputs (DOT, SVG, HTML) are what `text_pictures()` returns, and
tests/test_docs_pictures.py fails when the committed files differ from a fresh run.
"""

from __future__ import annotations

import os
import runpy
import shutil
from pathlib import Path

import minigrad as mg
from minigrad import viz
from minigrad.__main__ import EXPLORER_TITLE, GRAPH_TITLE, lesson_pass
from minigrad.plot import decision_boundary, plot_history
from minigrad.viz.render import svg_of

HERE = Path(__file__).resolve().parent

# The backward step the README's screenshot of the explorer shows.
SCREENSHOT_STEP = 5


def tree_age_graph() -> viz.Graph:
    model, *_, loss = lesson_pass()
    report = mg.trace_backward(loss, modules=model)
    return viz.draw_graph(
        loss, edge_grads=True, order=True, modules=model, trace=report, title=GRAPH_TITLE
    )


def tree_age_explorer() -> viz.Explorer:
    model, *_, loss = lesson_pass()
    return viz.explore(loss, modules=model, title=EXPLORER_TITLE)


def text_pictures() -> dict[str, str]:
    """File name -> text of every text output: the DOT sources and the explorer page always,
    the SVGs when the Graphviz program draws them."""
    graph, legend = tree_age_graph(), viz.legend()
    texts = {
        "graph.dot": graph.source,
        "legend.dot": legend.source,
        "explorer.html": tree_age_explorer().html,
    }
    for name, picture in (("graph.svg", graph), ("legend.svg", legend)):
        svg, renderer = svg_of(picture.source)
        if renderer == "dot":
            texts[name] = svg
    return texts


def write_text_pictures() -> None:
    for name, text in text_pictures().items():
        (HERE / name).write_text(text, encoding="utf-8")


def png_pictures() -> None:
    viz.save(tree_age_graph(), HERE / "graph.png")
    viz.save(viz.legend(), HERE / "legend.png")


def explorer_screenshot() -> None:
    """explorer.png: the page at backward step SCREENSHOT_STEP, in headless Chromium."""
    chromium = os.environ.get("MINIGRAD_CHROMIUM") or shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        print('skipped explorer.png: Playwright is not installed (pip install -e ".[browser]")')
        return
    if chromium is None:
        print("skipped explorer.png: no Chromium (apt-get install chromium)")
        return
    steps = len(tree_age_explorer().data["forward"]) + SCREENSHOT_STEP
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1700, "height": 900})
        page.goto((HERE / "explorer.html").as_uri())
        for _ in range(steps):
            page.keyboard.press("ArrowRight")
        page.screenshot(path=str(HERE / "explorer.png"))
        browser.close()


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
    write_text_pictures()
    png_pictures()
    explorer_screenshot()
    loss_picture()
    boundary_picture()
    print("wrote", ", ".join(sorted(p.name for p in HERE.iterdir() if p.suffix != ".py")))
