"""trace_backward: the chain rule step by step, checked on the tree-age lesson and small graphs."""

import numpy as np
import pytest

import minigrad as mg
from minigrad.trace import BackwardTrace


def tree_age_plain():
    """The tree-age network from plain Values (issue 3's lesson): 2-2-1, identity, zero biases."""
    w = [
        mg.Value(v, label=f"w{i}")
        for i, v in enumerate((0.1375, 0.4, 0.95, 0.9, 1.0, 0.25), start=1)
    ]
    x1 = mg.Value(5.0, requires_grad=False, label="x1")
    x2 = mg.Value(7.0, requires_grad=False, label="x2")
    h1 = w[0] * x1 + w[1] * x2
    h1.label = "h1"
    h2 = w[2] * x1 + w[3] * x2
    h2.label = "h2"
    prediction = w[4] * h1 + w[5] * h2
    prediction.label = "prediction"
    loss = (prediction - 5.0) ** 2
    loss.label = "loss"
    return w, prediction, loss


def step_of(report, node):
    (step,) = [s for s in report.steps if s.node == node]
    return step


def input_of(step, name):
    (inp,) = [i for i in step.inputs if i.name == name]
    return inp


def test_tree_age_trace_shows_the_lesson_numbers():
    w, prediction, loss = tree_age_plain()
    assert prediction.data == pytest.approx(6.25)
    report = mg.trace_backward(loss)
    assert isinstance(report, BackwardTrace)
    # dL/dprediction = 2 (6.25 - 5) = 2.5: the upstream gradient arriving at the prediction
    first = report.steps[0]
    assert first.node == "loss" and first.op == "**"
    assert input_of(first, "v1").local == pytest.approx(2.5)
    assert step_of(report, "prediction").upstream == pytest.approx(2.5)
    # dprediction/dh1 = w5 = 1: the local derivative of w5 * h1 with respect to h1
    mul_h1 = [s for s in report.steps if any(i.name == "h1" for i in s.inputs)][0]
    assert input_of(mul_h1, "h1").local == pytest.approx(1.0)
    assert input_of(mul_h1, "w5").local == pytest.approx(3.4875)  # = h1
    # dh1/dw1 = x1 = 5, and dL/dw1 = 2.5 * 1 * 5 = 12.5
    mul_w1 = [s for s in report.steps if any(i.name == "w1" for i in s.inputs)][0]
    assert input_of(mul_w1, "w1").local == pytest.approx(5.0)
    assert input_of(mul_w1, "w1").contribution == pytest.approx(12.5)
    assert report.leaf_grads["w1"] == pytest.approx(12.5)
    assert report.grad("w1") == pytest.approx(12.5)
    assert list(report.leaf_grads) == ["w1", "w2", "w3", "w4", "w5", "w6"]
    expected = [12.5, 17.5, 3.125, 4.375, 8.71875, 27.625]
    assert [report.leaf_grads[f"w{i}"] for i in range(1, 7)] == pytest.approx(expected)
    # a fresh trace fills .grad exactly as backward() does
    assert [p.grad for p in w] == pytest.approx(expected)


def test_tree_age_trace_text():
    *_, loss = tree_age_plain()
    text = str(mg.trace_backward(loss))
    lines = text.splitlines()
    assert lines[0].startswith("Backward, one gradient rule per step")
    assert lines[1].split() == [
        "step",
        "node",
        "op",
        "upstream",
        "g",
        "input",
        "local",
        "d(node)/d(input)",
        "added",
        "to",
        "input.grad",
    ]
    assert lines[3].split() == ["1", "loss", "**", "1", "v1", "2.5", "2.5"]
    assert lines[4].split() == ["2", "v1", "-", "2.5", "prediction", "1", "2.5"]
    rows = [line.split() for line in lines]
    assert ["w1", "5", "=", "x1", "12.5"] in [r[-5:] for r in rows]
    assert ["h1", "1", "=", "w5", "2.5"] in [r[-5:] for r in rows]
    assert "  w1 = 12.5" in lines and "  w5 = 8.71875" in lines and "  w6 = 27.625" in lines


def test_tree_age_trace_with_the_lessons_network():
    from minigrad.lessons import tree_age_network
    from minigrad.losses import mse_loss

    model = tree_age_network()
    loss = mse_loss(model([5.0, 7.0]), 5.0)
    report = mg.trace_backward(loss, modules=model)
    assert report.grad("w1") == pytest.approx(12.5)
    assert report.grad("b3") == pytest.approx(2.5)  # dL/dprediction reaches the output bias


def test_rows_are_records_one_per_input_edge():
    x = mg.Value(3.0, label="x")
    y = x * x
    y.label = "y"
    report = mg.trace_backward(y)
    assert report.rows == [
        {
            "step": 1,
            "node": "y",
            "op": "*",
            "upstream": 1.0,
            "input": "x",
            "local": 3.0,
            "contribution": 3.0,
        },
        {
            "step": 1,
            "node": "y",
            "op": "*",
            "upstream": 1.0,
            "input": "x",
            "local": 3.0,
            "contribution": 3.0,
        },
    ]
    assert report.leaf_grads == {"x": 6.0}  # two uses, summed
    assert len(report) == 1 and "1 steps" in repr(report)


def test_trace_after_backward_replays_without_doubling_gradients():
    w, _, loss = tree_age_plain()
    loss.backward()
    report = mg.trace_backward(loss)
    assert report.filled is False
    assert w[0].grad == pytest.approx(12.5)  # not 25
    assert report.grad("w1") == pytest.approx(12.5)
    mg.trace_backward(loss, accumulate=True)
    assert w[0].grad == pytest.approx(25.0)


def test_trace_steps_follow_backward_order_and_match_graph_numbers():
    a = mg.Value(0.5, label="a")
    b = (a * 2.0).tanh()
    b.label = "b"
    c = b * a
    c.label = "c"
    report = mg.trace_backward(c)
    assert [s.node for s in report.steps] == ["c", "b", "v3"]
    src = report.graph().source
    assert 'label="#1  c\\n' in src and 'label="#2  b\\n' in src and 'label="#3  v3\\n' in src
    assert "[label=" in src and "-> o0 [label=" in src  # edge gradients from the trace


def test_array_trace_shows_shapes_and_norms():
    W = mg.Value(np.array([[1.0, 2.0], [3.0, 4.0]]), label="W")
    x = mg.Value(np.array([1.0, -1.0]), requires_grad=False, label="x")
    y = (W @ x).sum()
    y.label = "y"
    report = mg.trace_backward(y)
    text = str(report)
    assert "(2,) norm 1.414" in text  # the sum's gradient, ones of shape (2,)
    assert "Jacobian" in text
    assert "W = (2, 2) norm 2" in text  # rows of x: [[1, -1], [1, -1]]
    assert report.steps[1].inputs[0].local is None
    np.testing.assert_allclose(report.grad("W"), [[1.0, -1.0], [1.0, -1.0]])


def test_trace_errors_are_clear():
    with pytest.raises(TypeError, match="expected a Value"):
        mg.trace_backward(2.0)
    with pytest.raises(RuntimeError, match="does not require grad"):
        mg.trace_backward(mg.Value(1.0, requires_grad=False) * 2.0)
    v = mg.Value(np.ones(3)) * 2.0
    with pytest.raises(ValueError, match=r"shape \(3,\), not a single number"):
        mg.trace_backward(v)
    with pytest.raises(ValueError, match="must match"):
        mg.trace_backward(v, gradient=np.ones(2))
    report = mg.trace_backward(v, gradient=np.ones(3))
    assert report.steps[0].inputs[0].contribution.tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(KeyError, match="no leaf named 'nope'"):
        report.grad("nope")


def test_products_name_the_other_factor_as_the_local_derivative():
    *_, loss = tree_age_plain()
    report = mg.trace_backward(loss)
    mul_w1 = [s for s in report.steps if any(i.name == "w1" for i in s.inputs)][0]
    assert input_of(mul_w1, "w1").equals == "x1"
    mul_h1 = [s for s in report.steps if any(i.name == "h1" for i in s.inputs)][0]
    assert input_of(mul_h1, "h1").equals == "w5"
    text = str(report)
    assert "5 = x1" in text and "1 = w5" in text and "3.4875 = h1" in text
