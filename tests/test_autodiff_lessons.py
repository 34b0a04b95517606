"""The study-autodiff examples, their numbers asserted: vanishing gradients and Jacobian modes."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from minigrad import losses, nn

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def vanishing():
    module = load("vanishing_gradients")
    return module, module.compare()


def test_vanishing_gradients_sigmoid_shrinks_relu_does_not(vanishing):
    _, norms = vanishing
    sig, relu = norms["sigmoid"]["weight"], norms["relu"]["weight"]
    assert len(sig) == len(relu) == 10
    # sigmoid: the first layer's gradient is orders of magnitude below the last's, and every
    # layer further from the output gets less; ReLU keeps the same order of magnitude
    assert sig[0] / sig[-1] < 1e-3
    assert all(a < b for a, b in zip(sig, sig[1:]))
    assert 0.1 < relu[0] / relu[-1] < 10
    assert min(relu) > 100 * max(sig[:5])


def test_vanishing_gradients_hooks_report_the_true_gradients(vanishing):
    module, norms = vanishing
    # The same networks and batch, the gradients at each layer's output computed without hooks:
    # keep every hidden Linear's output and read its .grad after one backward.
    rng = np.random.default_rng(1)
    x, y = rng.standard_normal((64, 32)), rng.standard_normal((64, 1))
    for name, activation in (("sigmoid", nn.Sigmoid), ("relu", nn.ReLU)):
        model = module.mlp(activation)
        outputs, h = [], x
        for layer in model:
            h = layer(h)
            if isinstance(layer, nn.Linear):
                outputs.append(h)
        losses.mse_loss(h, y).backward()
        expected = [float(np.linalg.norm(o.grad)) for o in outputs[:-1]]
        np.testing.assert_allclose(norms[name]["reaching"], expected, rtol=1e-12)
        weights = [m.weight for m in model if isinstance(m, nn.Linear)][:-1]
        np.testing.assert_allclose(
            norms[name]["weight"], [np.linalg.norm(w.grad) for w in weights], rtol=1e-12
        )


def test_vanishing_gradients_prints_the_table_and_plots_on_request(vanishing, capsys, tmp_path):
    module, norms = vanishing
    module.main([])
    out = capsys.readouterr().out
    assert len([line for line in out.splitlines() if line[:5].strip().isdigit()]) == 10
    assert f"{norms['sigmoid']['weight'][0]:.3e}" in out and "at most 1/4" in out
    pytest.importorskip("matplotlib", reason="the picture needs the plot extra")
    path = tmp_path / "norms.png"
    module.main(["--plot", str(path)])
    assert path.stat().st_size > 1000


@pytest.mark.parametrize("n, m", [(40, 2), (2, 40), (7, 7)])
def test_jacobian_modes_agree_with_the_formula(n, m):
    module = load("jacobian_modes")
    row = module.compare(n, m, repeats=1)  # asserts both Jacobians against the formula
    assert (row["n"], row["m"]) == (n, m) and row["jacfwd"] > 0 and row["jacrev"] > 0
    text = module.table([row])
    assert f"({n:4d} x)" in text and f"({m:4d} x)" in text


def test_jacobian_modes_table_names_the_faster_mode():
    module = load("jacobian_modes")
    rows = [{"n": 300, "m": 3, "jacfwd": 0.3, "jacrev": 0.001}]
    assert module.table(rows).splitlines()[-1].endswith("jacrev, 300.0x")


def _readme_section() -> str:
    text = (EXAMPLES.parent / "README.md").read_text()
    return text.split("## Studying autodiff", 1)[1].split("\n## ", 1)[0]


def test_readme_studying_autodiff_code_runs_and_its_program_excerpt_is_true(capsys):
    section = _readme_section()
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    exec(compile(code, "README.md", "exec"), {})
    assert capsys.readouterr().out.startswith("0.4412")
    import minigrad as mg
    from minigrad.lessons import tree_age_network

    loss = losses.mse_loss(tree_age_network()([5.0, 7.0]), 5.0)
    loss.label = "loss"
    program = str(mg.backward_code(loss))
    excerpt = section.split("```text\n", 1)[1].split("```", 1)[0]
    for line in excerpt.splitlines():
        if line != "...":
            assert line in program.splitlines(), line
