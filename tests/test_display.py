"""Rich notebook displays (`_repr_html_`): Value, BackwardTrace, Module and History."""

import base64
import re
import sys
from html import unescape

import numpy as np
import pytest

import minigrad as mg
from minigrad.lessons import tree_age_network
from minigrad.train import History
from minigrad.viz import display


def cells(html):
    """The texts of the table cells, tags stripped and entities decoded."""
    return [unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", html)]


def test_value_shows_data_grad_and_op():
    a = mg.Value(2.0, label="a")
    b = a * 3.0
    b.label = "b"
    b.backward()
    html = b._repr_html_()
    assert "Value <b>b</b>" in html and "made by <code>*</code>" in html
    assert "<code>6</code>" in html and "<code>1</code>" in html  # data 6, grad 1
    html = a._repr_html_()
    assert "a leaf" in html and "<code>3</code>" in html  # a.grad = 3
    assert "grad</th><td" in mg.Value(1.0)._repr_html_() and ">None<" in mg.Value(1.0)._repr_html_()


def test_value_of_an_array_shows_a_preview_not_only_the_shape():
    x = mg.Value(np.arange(20.0, dtype=np.float32).reshape(2, 10) / 4, label="x")
    html = x._repr_html_()
    assert "(2, 10) float32" in html and "min 0, mean 2.375, max 4.75" in html
    shown = cells(display.array_html(x.data))
    assert shown[:8] == ["0", "0.25", "0.5", "0.75", "1", "1.25", "1.5", "1.75"]
    assert "2.5" in shown and "4.5" not in shown  # 8 of 10 columns: a corner
    assert "a corner: the first 2 x 8" in html
    cube = mg.Value(np.arange(24.0).reshape(2, 3, 4))
    assert cells(display.array_html(cube.data))[:4] == ["0", "1", "2", "3"]
    assert "(empty)" in display.array_html(np.zeros((0, 3)))


def test_value_labels_are_escaped():
    v = mg.Value(1.0, label="<script>alert(1)</script>")
    html = v._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_backward_trace_shows_its_table():
    model = tree_age_network()
    loss = (model([5.0, 7.0]) - 5.0) ** 2
    report = mg.trace_backward(loss, modules=model)
    html = report._repr_html_()
    rows = [cells(r) for r in re.findall(r"<tr>(.*?)</tr>", html)]
    rows = [r for r in rows if r]  # the header rows hold <th> cells only
    fmt = mg.trace._fmt
    expected = []
    for s in report.steps:
        for k, i in enumerate(s.inputs):
            left = [str(s.step), s.node, s.op, fmt(s.upstream)] if k == 0 else [""] * 4
            local = fmt(i.local) + (f" = {i.equals}" if i.equals else "")
            expected.append(left + [i.name, local, fmt(i.contribution)])
    expected += [[name, fmt(g)] for name, g in report.leaf_grads.items()]
    assert rows == expected
    w1 = next(r for r in rows if len(r) == 7 and r[4] == "w1")
    assert (w1[3], w1[5].split(" = ")[0], w1[6]) == ("2.5", "5", "12.5")  # upstream * x1
    assert ["w5", "8.71875"] in rows


def test_module_shows_a_tree_with_shapes_and_counts():
    mg.manual_seed(0)
    model = mg.nn.Sequential(mg.nn.Linear(3, 4), mg.nn.ReLU(), mg.nn.Linear(4, 1))
    html = model._repr_html_()
    text = unescape(re.sub(r"<[^>]+>", "\n", html))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[:3] == ["Sequential", "()", "21 parameters"]
    assert "(0):" in lines and "weight: (4, 3) float64" in lines and "bias: (4,) float64" in lines
    assert lines.count("16 parameters") == 1 and lines.count("5 parameters") == 1
    assert "(in_features=3, out_features=4, bias=True)" in lines
    assert model.num_parameters() == 21
    # nesting: each child is indented one step further than its parent
    pads = [int(p) for p in re.findall(r"padding-left: (\d+)px", html)]
    assert pads[:4] == [0, 18, 36, 36]
    neurons = tree_age_network()._repr_html_()
    assert "(layers.0): <b>Layer</b>" in neurons and "w.0: () float64" in neurons


def test_history_shows_its_loss_curve_as_a_png():
    pytest.importorskip("matplotlib", reason="the plot extra (matplotlib) is not installed")
    history = History(train_loss=[1.0, 0.5, 0.25], epochs=3, stop_reason="max_epochs")
    html = history._repr_html_()
    assert html == display.history_html(history) and "History: 3 epochs" in html
    png = re.search(r'src="data:image/png;base64,([^"]+)"', html).group(1)
    assert base64.b64decode(png)[:8] == b"\x89PNG\r\n\x1a\n"


def test_history_without_matplotlib_says_so(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    history = History(train_loss=[1.0, 0.5], epochs=2, stop_reason="max_epochs")
    html = display.history_html(history)
    assert "<img" not in html and "no loss curve" in html and "matplotlib" in html
    assert "<img" not in display.history_html(History())  # nothing trained: no picture
