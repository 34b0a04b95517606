"""The lessons in docs/notebooks/ run top to bottom in a fresh IPython kernel (nbclient), and their
key numbers are right: each notebook is run with one cell added at its end that prints its
numbers as JSON, and this file checks them against references computed here (trace_backward on
the demo's own graph, the Jacobian's formula and finite differences, the held-out labels)."""

import json
import math
from functools import cache
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import data

NOTEBOOKS = Path(__file__).resolve().parent.parent / "docs" / "notebooks"
NAMES = ["01_tree_age.ipynb", "02_forward_vs_reverse.ipynb", "03_cnn_digits.ipynb"]
MARK = "NOTEBOOK-NUMBERS "


# ----- the files ---------------------------------------------------------------------------------
def test_the_lessons_are_the_notebooks_in_the_folder():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_kept_without_outputs(name):
    notebook = json.loads((NOTEBOOKS / name).read_text(encoding="utf-8"))
    assert notebook["nbformat"] == 4 and notebook["metadata"]["kernelspec"]["name"] == "python3"
    cells = notebook["cells"]
    assert cells[0]["cell_type"] == "markdown" and cells[0]["source"][0].startswith("# Lesson")
    for cell in cells:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, name


# ----- running them ------------------------------------------------------------------------------
@cache
def run(name, probe):
    """The notebook executed with `probe` as an extra last cell: (notebook, what it printed
    after MARK, read as JSON). Run once per test session."""
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (notebook extra)")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is not installed (notebook extra)")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (the notebook extra)")
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    source = f"import json\nprint({MARK!r} + json.dumps({probe}))"
    notebook.cells.append(nbformat.v4.new_code_cell(source))
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()  # a cell that raises (a failed assert in the lesson) fails the test
    printed = stream_text(notebook.cells[-1].outputs)  # a long line may come in pieces
    return notebook, json.loads(printed.split(MARK, 1)[1])


def outputs_of(notebook, starts_with):
    """The outputs of the code cell whose source starts with `starts_with`."""
    (cell,) = [
        c for c in notebook.cells if c.cell_type == "code" and c.source.startswith(starts_with)
    ]
    return cell.outputs


def mimetypes(outputs):
    return {kind for o in outputs for kind in o.get("data", {})}


def stream_text(outputs):
    return "".join(o.get("text", "") for o in outputs if o["output_type"] == "stream")


# ----- lesson 1: the tree's age ------------------------------------------------------------------
TREE_PROBE = """{
    "prediction": prediction.data, "loss": loss.data, "next_prediction": next_prediction,
    "grads": {p.label: p.grad for p in model.parameters()},
    "traced": {name: float(g) for name, g in report.leaf_grads.items()},
    "w1": w1.data,
    "steps": [[s["upstream"]["value"], [[i["name"], i["added"]["value"]] for i in s["inputs"]]]
              for s in explorer.data["backward"]],
}"""


def reference_trace():
    """trace_backward of the demo's tree-age graph (minigrad.__main__.lesson_pass)."""
    from minigrad.__main__ import lesson_pass

    model, _, _, prediction, loss = lesson_pass()
    return prediction, loss, mg.trace_backward(loss, modules=model)


def test_tree_age_lesson_numbers_are_trace_backwards():
    notebook, got = run("01_tree_age.ipynb", TREE_PROBE)
    prediction, loss, report = reference_trace()
    assert (got["prediction"], got["loss"]) == (prediction.data, loss.data) == (6.25, 1.5625)
    assert got["traced"] == report.leaf_grads  # the notebook's trace ...
    assert got["grads"] == report.leaf_grads  # ... and its backward(): every leaf, exactly
    assert got["grads"]["w1"] == 2.5 * 1.0 * 5.0  # dL/dprediction * w5 * x1
    # The explorer's backward steps: upstream g and each product, step by step.
    expected = [[s.upstream, [[i.name, i.contribution] for i in s.inputs]] for s in report.steps]
    for (g, inputs), (g_ref, inputs_ref) in zip(got["steps"], expected, strict=True):
        assert g == g_ref
        assert [added for _, added in inputs] == [added for _, added in inputs_ref]
        for (name, _), (name_ref, _) in zip(inputs, inputs_ref):
            if name_ref in report.leaf_grads:  # the parameters' names are the same (other
                assert name == name_ref  # nodes are named by the labels each one gives)
    assert got["w1"] == pytest.approx(0.1375 - 0.02 * 12.5, abs=1e-15)
    assert math.isclose(got["next_prediction"], mg.lessons.tree_age_lesson()["next_prediction"])


def test_tree_age_lesson_shows_the_table_the_picture_and_the_explorer_inline():
    notebook, _ = run("01_tree_age.ipynb", TREE_PROBE)
    table = outputs_of(notebook, "report = mg.trace_backward")
    assert "text/html" in mimetypes(table)
    explorer = [o for o in outputs_of(notebook, "explorer = ") if "data" in o]
    (page,) = [o["data"]["text/html"] for o in explorer if "text/html" in o["data"]]
    assert page.startswith("<iframe srcdoc=") and "allow-scripts" in page
    picture = mimetypes(outputs_of(notebook, "report.graph("))
    assert "image/svg+xml" in picture or "text/plain" in picture  # SVG, or DOT without Graphviz


# ----- lesson 2: forward against reverse mode ----------------------------------------------------
MODES_PROBE = """{
    "A": A.tolist(), "x": x.tolist(), "v": v.tolist(), "u": u.tolist(),
    "Je1": Je1.tolist(), "u0J": u0J.tolist(), "Jv": mg.jvp(f, (x,), (v,))[1].tolist(),
    "uJ": vjp_fn(u)[0].tolist(), "passes": passes, "Hv": Hv.tolist(), "H": H.tolist(),
}"""


def test_forward_and_reverse_lesson_numbers_are_the_jacobians():
    _, got = run("02_forward_vs_reverse.ipynb", MODES_PROBE)
    A, x, v, u = (np.array(got[k]) for k in ("A", "x", "v", "u"))
    m, n = A.shape

    def f(z):
        return np.tanh(A @ z) + 0.1 * A @ (z * z)

    eps = 1e-6  # central differences, column by column: independent of any formula
    J = np.stack([(f(x + eps * e) - f(x - eps * e)) / (2 * eps) for e in np.eye(n)], axis=1)
    np.testing.assert_allclose(got["Je1"], J[:, 1], rtol=1e-7, atol=1e-9)  # jvp: a column
    np.testing.assert_allclose(got["u0J"], J[0], rtol=1e-7, atol=1e-9)  # vjp: a row
    np.testing.assert_allclose(got["Jv"], J @ v, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(got["uJ"], u @ J, rtol=1e-7, atol=1e-9)
    assert got["passes"] == {
        "jacfwd": {"f": n, "backward": 0},  # one forward pass per input
        "jacrev": {"f": 1, "backward": m},  # one recording, one backward pass per output
    }
    # The Hessian of sum(tanh(A x)^2): A^T diag((2 - 6 t^2)(1 - t^2)) A with t = tanh(A x).
    t = np.tanh(A @ x)
    H = A.T @ (((2 - 6 * t**2) * (1 - t**2))[:, None] * A)
    np.testing.assert_allclose(got["H"], H, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(got["Hv"], H @ v, rtol=1e-10, atol=1e-12)


# ----- lesson 3: a CNN on digits -----------------------------------------------------------------
CNN_PROBE = """{
    "accuracy": test["accuracy"], "predicted": predicted.tolist(), "y_test": y_test.tolist(),
    "epochs": history.epochs, "train_loss": history.train_loss,
    "train_size": len(X_train[:800]), "conv1_grad": list(copy[0].weight.grad.shape),
}"""

#: The run gives 0.962 here; the bound leaves room for other BLAS builds' rounding.
CNN_ACCURACY_BOUND = 0.92


def test_cnn_lesson_trains_to_a_held_out_accuracy_above_the_bound():
    _, got = run("03_cnn_digits.ipynb", CNN_PROBE)
    X, y = data.load_digits()
    _, _, _, y_test = data.train_test_split(X, y, test_size=0.25, rng=0, stratify=y)
    assert got["y_test"] == y_test.tolist()  # really the 450 held-out images
    predicted = np.array(got["predicted"])
    assert got["accuracy"] == pytest.approx(np.mean(predicted == y_test), abs=1e-12)
    assert got["accuracy"] > CNN_ACCURACY_BOUND
    assert got["epochs"] == 5 and got["train_size"] == 800
    assert got["train_loss"][-1] < got["train_loss"][0] / 5
    assert got["conv1_grad"] == [16, 1, 3, 3]


def test_cnn_lesson_draws_the_graph_and_shows_progress_without_carriage_returns():
    notebook, got = run("03_cnn_digits.ipynb", CNN_PROBE)
    picture = mimetypes(outputs_of(notebook, "mg.manual_seed(0)\ncopy = make_cnn()"))
    assert "image/svg+xml" in picture or "text/plain" in picture
    training = outputs_of(notebook, "history = train.fit(")
    text = stream_text(training)
    assert "\r" not in text
    assert f"{got['epochs']} epochs, 125 steps, stopped: epochs" in text  # 800 / 32 per epoch
    if "application/vnd.jupyter.widget-view+json" not in mimetypes(training):
        assert "epoch 5/5  loss" in text  # no widget: plain lines, ending on the last epoch
