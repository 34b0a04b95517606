"""The explorer in a real browser: Debian's Chromium, headless, driven by Playwright.

The tree-age page is opened from a file:// URL and stepped through to the end with the arrow
key; at every backward step the numbers the page shows (upstream gradient, each local
derivative, each product added to an input's .grad, the .grad it then holds, and the node
labels' grad lines) are compared with `trace_backward`'s as printed. The page must log no
console error and request nothing but its own file. A node of an array graph is clicked and
its shape, dtype, min and max checked. Skips, saying why, where Playwright or Chromium is
missing (`.ci/run` installs both: chromium from apt, Playwright from the `browser` extra).
"""

import os
import shutil

import numpy as np
import pytest

import minigrad as mg
from minigrad import viz
from minigrad.lessons import tree_age_network
from minigrad.trace import _fmt
from minigrad.viz.text import fmt_data, fmt_number

sync_api = pytest.importorskip(
    "playwright.sync_api", reason='Playwright is not installed: pip install -e ".[browser]"'
)

CHROMIUM = os.environ.get("MINIGRAD_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def tree_age_loss():
    model = tree_age_network()
    x1 = mg.Value(5.0, requires_grad=False, label="x1")
    x2 = mg.Value(7.0, requires_grad=False, label="x2")
    h1, h2 = model.layers[0]([x1, x2])
    h1.label, h2.label = "h1", "h2"
    prediction = model.layers[1]([h1, h2])
    prediction.label = "prediction"
    loss = mg.losses.mse_loss(prediction, mg.Value(5.0, requires_grad=False, label="age"))
    loss.label = "loss"
    return model, loss


@pytest.fixture(scope="module")
def browser():
    if not os.path.exists(CHROMIUM):
        pytest.skip(
            f"no Chromium at {CHROMIUM}: apt-get install chromium (or set MINIGRAD_CHROMIUM)"
        )
    with sync_api.sync_playwright() as playwright:
        try:
            chromium = playwright.chromium.launch(
                executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"]
            )
        except Exception as err:  # a browser that cannot start is a missing browser here
            pytest.skip(f"Chromium at {CHROMIUM} does not start under Playwright: {err}")
        yield chromium
        chromium.close()


class Watched:
    """A page with every console message, page error and request it made."""

    def __init__(self, browser, path):
        self.url = path.as_uri()
        self.errors, self.requests = [], []
        self.page = browser.new_page(viewport={"width": 1300, "height": 850})
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda err: self.errors.append(str(err)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(self.url)

    def text(self, selector):
        return self.page.inner_text(selector).strip()

    def check_clean(self):
        assert self.errors == []
        assert self.requests == [self.url]  # the file itself, nothing else
        self.page.close()


def grad_lines(page):
    """Value node id (n0, n1, ...; not the ops' o0, ...) -> its label's last line ('grad ...')."""
    return page.evaluate(
        """() => Object.fromEntries([...document.querySelectorAll('#mg-graph g.node[id^=n]')]
            .map(g => [g.id, [...g.querySelectorAll('text')].pop().textContent]))"""
    )


def test_tree_age_page_shows_trace_backwards_numbers_at_every_step(browser, tmp_path):
    model, loss = tree_age_loss()
    explorer = viz.explore(loss, tmp_path / "tree_age.html", modules=model)
    report = mg.trace_backward(loss, modules=model, accumulate=False)
    data = explorer.data
    names = {n["id"]: n["name"] for n in data["nodes"]}
    forward = len(data["forward"])
    watched = Watched(browser, explorer.path)
    page = watched.page
    assert watched.text("#mg-counter") == f"Start · step 0 of {forward + len(report.steps)}"
    assert set(grad_lines(page).values()) == {"grad ·"}  # nothing computed backward yet
    for _ in range(forward):
        page.keyboard.press("ArrowRight")
    assert watched.text("#mg-forward-out") == "1.5625"  # the loss, last of the forward pass
    running = {}
    for row in report.steps:
        page.keyboard.press("ArrowRight")
        assert watched.text("#mg-counter").startswith(f"Backward {row.step} / {len(report)}")
        assert watched.text("#mg-upstream") == _fmt(row.upstream)
        shown = page.eval_on_selector_all(
            "#mg-inputs tr.mg-input-row",
            "rows => rows.map(r => ['.mg-name', '.mg-local', '.mg-added', '.mg-gradnow']"
            ".map(c => r.querySelector(c).textContent))",
        )
        expected = []
        for i in row.inputs:
            running[i.name] = running.get(i.name, 0.0) + i.contribution
            expected.append([i.name, _fmt(i.local), _fmt(i.contribution), _fmt(running[i.name])])
        assert shown == expected, f"step {row.step}"
        # the picture: this node and its op highlighted, its inputs' grad lines filled in
        active = page.eval_on_selector_all("#mg-graph g.mg-active", "gs => gs.map(g => g.id)")
        assert {names.get(a) for a in active if a.startswith("n")} == {row.node}
        lines = grad_lines(page)
        for node_id, name in names.items():
            if name in {i.name for i in row.inputs}:
                assert lines[node_id] == "grad " + fmt_number(running[name])
        flowing = page.eval_on_selector_all("#mg-graph g.edge.mg-flow", "gs => gs.length")
        assert flowing == 1 + len(row.inputs)  # op -> node, and one edge per input
    # at the end every node shows the gradient a real backward pass gives (constants: none)
    loss.backward()
    lines = grad_lines(page)
    values = {name: v for v, name in viz.node_names(loss, model).items()}
    for node_id, name in names.items():
        grad = values[name].grad
        assert lines[node_id] == ("grad ·" if grad is None else "grad " + fmt_data(grad)), name
    assert lines[next(k for k, n in names.items() if n == "w1")] == "grad 12.5"
    page.keyboard.press("ArrowRight")  # past the end: stays on the last step
    assert watched.text("#mg-counter").startswith(f"Backward {len(report)} / {len(report)}")
    page.keyboard.press("Home")
    assert watched.text("#mg-counter").startswith("Start")
    watched.check_clean()


def test_buttons_table_rows_and_collapsing_modules(browser, tmp_path):
    model, loss = tree_age_loss()
    explorer = viz.explore(loss, tmp_path / "tree_age.html", modules=model)
    forward, backward = len(explorer.data["forward"]), len(explorer.data["backward"])
    watched = Watched(browser, explorer.path)
    page = watched.page
    page.click("#mg-next")
    page.click("#mg-next")
    page.click("#mg-prev")
    assert watched.text("#mg-counter") == f"Forward 1 / {forward} · step 1 of {forward + backward}"
    page.click("#mg-last")
    assert watched.text("#mg-counter").startswith(f"Backward {backward} / {backward}")
    page.click("#mg-table tbody tr[data-step='3']")
    assert watched.text("#mg-counter").startswith(f"Backward 3 / {backward}")
    assert page.eval_on_selector_all("#mg-table tr.mg-now", "rs => rs.length") >= 1
    page.click("#mg-play")
    sync_api.expect(page.locator("#mg-counter")).to_contain_text("Backward 4 /", timeout=5000)
    page.click("#mg-play")  # pause
    assert "play" in watched.text("#mg-play")
    layer = next(c for c in explorer.data["clusters"] if c["path"] == "layers.0")
    page.check(f"#mg-modules input[data-title='{layer['title']}']")
    hidden = page.evaluate(
        "ids => ids.map(id => getComputedStyle(document.getElementById(id)).display)",
        layer["members"],
    )
    assert set(hidden) == {"none"}
    assert page.locator("#mg-graph rect.mg-collapsed").count() == 1
    page.uncheck(f"#mg-modules input[data-title='{layer['title']}']")
    assert page.locator("#mg-graph rect.mg-collapsed").count() == 0
    watched.check_clean()


def test_clicking_an_array_node_shows_its_shape_dtype_and_range(browser, tmp_path):
    x = mg.Value(np.linspace(-3, 4, 24).reshape(4, 6).astype(np.float32), label="x")
    w = mg.Value(np.linspace(0.5, -0.5, 6).astype(np.float32), label="w")
    loss = (x * w).tanh().mean()
    explorer = viz.explore(loss, tmp_path / "arrays.html")
    x_id = next(n["id"] for n in explorer.data["nodes"] if n["name"] == "x")
    w_id = next(n["id"] for n in explorer.data["nodes"] if n["name"] == "w")
    watched = Watched(browser, explorer.path)
    page = watched.page
    page.click(f"#mg-graph g#{x_id}")
    assert watched.text("#mg-node-name").startswith("x")
    shown = {c: watched.text(f"#mg-node-data .mg-{c}") for c in ("shape", "dtype", "min", "max")}
    assert shown == {
        "shape": "(4, 6)",
        "dtype": "float32",
        "min": fmt_number(float(x.data.min()), 6),
        "max": fmt_number(float(x.data.max()), 6),
    }
    assert page.locator("#mg-node-data table.mg-heat tr").count() == 4
    assert page.locator("#mg-node-data table.mg-heat tr:first-child td").count() == 6
    page.keyboard.press("End")
    page.click(f"#mg-graph g#{w_id}")
    loss.backward()
    assert watched.text("#mg-node-grad .mg-shape") == "(6,)"
    assert watched.text("#mg-node-grad .mg-max") == fmt_number(float(w.grad.max()), 6)
    watched.check_clean()


def test_the_notebook_display_runs_the_page_inside_its_iframe(browser, tmp_path):
    model, loss = tree_age_loss()
    explorer = viz.explore(loss, modules=model)
    notebook = tmp_path / "notebook.html"  # what a notebook puts in its output cell
    notebook.write_text(f"<!DOCTYPE html><html><body>{explorer._repr_html_()}</body></html>")
    watched = Watched(browser, notebook)
    frame = watched.page.frame_locator("iframe")
    total = len(explorer.data["forward"]) + len(explorer.data["backward"])
    sync_api.expect(frame.locator("#mg-counter")).to_have_text(f"Start · step 0 of {total}")
    frame.locator("#mg-last").click()
    sync_api.expect(frame.locator("#mg-upstream")).to_have_text(
        explorer.data["backward"][-1]["upstream"]["full"]
    )
    assert frame.locator("#mg-graph svg g.node").count() > 0
    watched.check_clean()
