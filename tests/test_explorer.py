"""explore(): the step-through page, checked without a browser (its data, its offline and
escaping guarantees, its SVG hooks, its Jupyter display). tests/test_explorer_browser.py drives
the same pages in Chromium."""

import html
import json
import re
import shutil

import numpy as np
import pytest

import minigrad as mg
from minigrad import viz
from minigrad.lessons import tree_age_network
from minigrad.trace import _fmt
from minigrad.viz.explorer_data import summary

HAS_DOT = shutil.which("dot") is not None


def tree_age_loss():
    """The tree-age lesson's graph: 2-2-1 network, tree of width 5, length 7, age 5."""
    model = tree_age_network()
    x1 = mg.Value(5.0, requires_grad=False, label="x1")
    x2 = mg.Value(7.0, requires_grad=False, label="x2")
    prediction = model([x1, x2])
    prediction.label = "prediction"
    loss = mg.losses.mse_loss(prediction, mg.Value(5.0, requires_grad=False, label="age"))
    loss.label = "loss"
    return model, loss


def embedded_json(page):
    text = re.search(r'<script type="application/json" id="mg-data">(.*?)</script>', page, re.S)
    return json.loads(text.group(1))


def test_backward_steps_are_trace_backwards_rows():
    model, loss = tree_age_loss()
    page = viz.explore(loss, modules=model)
    report = mg.trace_backward(tree_age_loss()[1], modules=tree_age_network())
    steps = page.data["backward"]
    assert len(steps) == len(report.steps) == 14
    for shown, row in zip(steps, report.steps):
        assert (shown["step"], shown["name"], shown["op"]) == (row.step, row.node, row.op)
        assert shown["upstream"]["full"] == _fmt(row.upstream)
        assert [i["name"] for i in shown["inputs"]] == [i.name for i in row.inputs]
        assert [i["local"] for i in shown["inputs"]] == [_fmt(i.local) for i in row.inputs]
        assert [i["added"]["full"] for i in shown["inputs"]] == [
            _fmt(i.contribution) for i in row.inputs
        ]
    # the .grad an input holds after its last contribution is its gradient
    last = {}
    for s in steps:
        for i in s["inputs"]:
            last[i["name"]] = i["gradNow"]["value"]
    assert {n: last[n] for n in report.leaf_grads} == report.leaf_grads
    assert last["w1"] == 12.5 and last["w5"] == 8.71875


def test_explore_leaves_the_gradients_alone():
    model, loss = tree_age_loss()
    viz.explore(loss)
    assert loss.grad is None and all(p.grad is None for p in model.parameters())
    loss.backward()
    before = [p.grad for p in model.parameters()]
    page = viz.explore(loss)
    assert [p.grad for p in model.parameters()] == before  # a replay, not a second pass
    root = next(n for n in page.data["nodes"] if n["kind"] == "root")
    assert root["grads"] == [[1, summary(1.0)]]


def test_forward_steps_follow_the_graph_and_show_its_data():
    _, loss = tree_age_loss()
    data = viz.explore(loss).data
    done = {n["name"] for n in data["nodes"] if n["op"] is None}
    for step in data["forward"]:
        assert all(i["name"] in done for i in step["inputs"])  # inputs computed first
        done.add(step["name"])
    assert data["forward"][-1]["name"] == "loss" and data["forward"][-1]["out"] == "1.5625"
    assert len(data["forward"]) == sum(n["op"] is not None for n in data["nodes"])
    first = {n["id"]: n["forward"] for n in data["nodes"]}
    assert all(first[s["node"]] == k for k, s in enumerate(data["forward"], start=1))


def test_page_is_offline_and_self_contained():
    model, loss = tree_age_loss()
    page = viz.explore(loss, modules=model).html
    assert not re.search(r"https?://", page)  # no address at all, not even a namespace
    assert not re.search(r"<(script|img|link|iframe)\b[^>]*\b(src|href)=", page, re.I)
    assert "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page  # the browser is told to load nothing
    assert page.count("<script") == 2  # the data and the inline script
    assert "innerHTML" not in page and "eval(" not in page  # text goes in as text only
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page or "mg-nosvg" in page


def test_page_embeds_the_steps_as_json():
    model, loss = tree_age_loss()
    page = viz.explore(loss, modules=model)
    assert embedded_json(page.html) == page.data
    assert page.data["traced"] and page.data["title"].startswith("minigrad: the graph of loss")


def test_labels_are_escaped_everywhere():
    evil = '</script><script>alert("x")</script><b>&amp;'
    x = mg.Value(2.0, label=evil)
    y = x * x
    y.label = "y & <z>"
    page = viz.explore(y, title="<i>title</i>").html
    assert "<b>" not in page and "<i>" not in page and 'alert("x")' not in page
    assert page.count("</script>") == 2
    data = embedded_json(page)
    assert data["nodes"][1]["name"] == evil  # the JSON still holds the exact label
    assert "&lt;i&gt;title&lt;/i&gt;" in page


@pytest.mark.skipif(not HAS_DOT, reason="the Graphviz program 'dot' is not installed")
def test_svg_has_an_id_for_every_node_and_edge_a_step_touches():
    model, loss = tree_age_loss()
    page = viz.explore(loss, modules=model)
    assert page.renderer == "dot"
    ids = set(re.findall(r'<g id="([^"]+)" class="(?:node|edge)"', page.html))
    for step in page.data["forward"] + page.data["backward"]:
        assert step["node"] in ids and "o" + step["node"][1:] in ids
        assert step["edges"] and set(step["edges"]) <= ids
    assert {e["id"] for e in page.data["edges"]} <= ids
    # every node label has a grad line for the page to fill in, as wide as its final gradient
    w1 = next(n for n in page.data["nodes"] if n["name"] == "w1")
    assert re.search(rf'<g id="{w1["id"]}" class="node">.*?>grad 12\.5</text>', page.html, re.S)
    titles = re.findall(
        r'<g id="clust\d+" class="cluster">\s*<title>(cluster_\d+)</title>', page.html
    )
    assert {c["title"] for c in page.data["clusters"]} == set(titles)
    assert "<?xml" not in page.html and "<!--" not in page.html


def test_without_a_renderer_the_page_still_has_its_steps(monkeypatch):
    monkeypatch.setattr(viz.render, "has_dot", lambda: False)
    monkeypatch.setattr(viz.render, "svg_in_process", lambda source: None)
    _, loss = tree_age_loss()
    page = viz.explore(loss)
    assert page.renderer.startswith("neither")
    assert "<svg" not in page.html and 'class="mg-nosvg"' in page.html
    assert "apt-get install graphviz" in page.html and not re.search(r"https?://", page.html)
    assert len(embedded_json(page.html)["backward"]) == 14


def test_array_nodes_carry_shape_dtype_range_and_a_preview():
    x = mg.Value(np.arange(-6.0, 14.0).reshape(2, 10).astype(np.float32), label="x")
    w = mg.Value(np.linspace(-1, 1, 10).astype(np.float32), label="w")
    loss = (x * w).tanh().sum()
    data = viz.explore(loss).data
    node = next(n for n in data["nodes"] if n["name"] == "x")["data"]
    assert node["shape"] == [2, 10] and node["dtype"] == "float32"
    assert (node["min"], node["max"], node["mean"]) == ("-6", "13", "3.5")
    assert node["preview"]["rows"][0][:3] == ["-6", "-5", "-4"]
    assert np.shape(node["preview"]["values"]) == (2, 8)
    assert node["preview"]["note"] == "the top-left 2 x 8 of 2 x 10"
    grad = next(n for n in data["nodes"] if n["name"] == "w")["grads"][-1][1]
    loss.backward()
    assert grad["shape"] == [10] and grad["norm"] == _fmt(float(np.linalg.norm(w.grad)))
    assert grad["min"] == _fmt(float(w.grad.min()))
    step = data["backward"][-1]
    assert step["inputs"][0]["local"] == "Jacobian"
    assert summary(np.array([np.nan, 1.0]))["preview"]["values"] == [[None, 1.0]]  # JSON-safe


def test_max_nodes_and_modules_carry_over():
    mg.manual_seed(0)
    model = mg.nn.MLP(2, [3, 1])
    loss = (model([1.0, -2.0]) - 1.0) ** 2
    data = viz.explore(loss, modules=model, max_nodes=10).data
    assert len(data["nodes"]) == 10 and data["hidden"] > 0 and data["maxNodes"] == 10
    steps = data["backward"]
    assert len(steps) == len(mg.trace_backward(loss, accumulate=False).steps)
    assert any(s["node"] is None for s in steps)  # steps at nodes not drawn keep their numbers
    full = viz.explore(loss, modules=model, max_nodes=None).data
    clusters = {c["path"]: c for c in full["clusters"]}
    assert set(clusters) >= {"layers.0", "layers.0.neurons.0", "layers.1.neurons.0"}
    assert set(clusters["layers.0.neurons.0"]["members"]) <= set(clusters["layers.0"]["members"])
    assert clusters["layers.0.neurons.0"]["parent"] == "layers.0"


def test_jupyter_display_is_an_iframe_holding_the_escaped_page(tmp_path):
    _, loss = tree_age_loss()
    page = viz.explore(loss, tmp_path / "sub" / "explorer.html")
    assert page.path == tmp_path / "sub" / "explorer.html"
    assert page.path.read_text(encoding="utf-8") == page.html
    frame = page._repr_html_()
    assert frame.startswith("<iframe srcdoc=") and 'sandbox="allow-scripts"' in frame
    srcdoc = re.search(r'srcdoc="([^"]*)"', frame).group(1)
    assert html.unescape(srcdoc) == page.html and "<" not in srcdoc
    assert "written to" in repr(page) and "14 backward steps" in repr(page)
    assert mg.viz.explore is viz.explore


def test_roots_without_gradient_or_single_number_and_bad_arguments():
    c = mg.Value(3.0, requires_grad=False) * 2.0  # nothing needs a gradient: no op recorded
    data = viz.explore(c).data
    assert data["backward"] == data["forward"] == [] and not data["traced"]
    assert [n["data"]["full"] for n in data["nodes"]] == ["6"]
    v = mg.Value(np.ones(3)) * 2.0
    with pytest.raises(ValueError, match="explore: the root has shape \\(3,\\).*gradient="):
        viz.explore(v)
    page = viz.explore(v, gradient=np.array([1.0, 2.0, 3.0]))
    assert page.data["backward"][0]["upstream"]["shape"] == [3]
    with pytest.raises(TypeError, match="explore: expected a Value"):
        viz.explore(3.0)
    with pytest.raises(ValueError, match="explore: rankdir"):
        viz.explore(v, rankdir="up")


def test_without_dot_the_in_process_svg_is_used(monkeypatch):
    drawn = []

    def in_process(source):
        drawn.append(source)
        return (
            b'<?xml version="1.0"?>\n<svg width="10pt" height="5pt" viewBox="0 0 10 5" '
            b'xmlns="http://www.w3.org/2000/svg"><g id="n0" class="node"></g></svg>'
        )

    monkeypatch.setattr(viz.render, "has_dot", lambda: False)
    monkeypatch.setattr(viz.render, "svg_in_process", in_process)
    _, loss = tree_age_loss()
    page = viz.explore(loss)
    assert page.renderer == "in-process" and len(drawn) == 1
    assert 'id=n0 label="#1  loss\\ndata 1.562\\ngrad 1"' in drawn[0]  # the DOT it was given
    assert '<svg viewBox="0 0 10 5"><g id="n0" class="node"></g></svg>' in page.html
