"""backward_code / jvp_code: the passes as straight-line programs that reproduce the engine's
numbers exactly when run on the forward values."""

from __future__ import annotations

import doctest
import re

import numpy as np
import pytest

import minigrad as mg
import minigrad.codegen
from minigrad import Value, losses, nn
from minigrad.lessons import tree_age_network


def _same(a, b) -> bool:
    """Equal bit for bit, with the same type (a float for a float) and dtype."""
    if type(a) is float or type(b) is float:
        return type(a) is type(b) and a == b
    return a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)


def _check_every_grad(root: Value, program) -> None:
    names = program.run()
    root.backward()
    assert program.variables, "the program computes no gradient"
    for node, variable in program.variables.items():
        assert _same(names[variable], node.grad), f"{variable} differs from .grad"


def test_backward_code_of_the_tree_age_network():
    model = tree_age_network()
    prediction = model([5.0, 7.0])
    loss = losses.mse_loss(prediction, 5.0)
    program = mg.backward_code(loss)
    text = str(program)
    # the lesson's steps, as lines: dL/dw1 = dL/dh1 * x1 (x1 = 5), dL/dw2 = dL/dh1 * x2 (x2 = 7)
    assert re.search(r"^g_w1 = g_v\d+ \* 5\.0$", text, re.M)
    assert re.search(r"^g_w2 = g_v\d+ \* 7\.0$", text, re.M)
    assert text.rstrip().endswith("}") and "# the leaves' gradients" in text
    assert program.run()["leaf_grads"]["w1"] == 12.5
    _check_every_grad(loss, program)
    # every gradient variable is a Python float, as in the scalar engine
    assert all(type(n.grad) is float for n in program.variables)


def test_backward_code_follows_trace_backward_order():
    model = tree_age_network()
    loss = losses.mse_loss(model([5.0, 7.0]), 5.0)
    steps = re.findall(r"^# step (\d+): (\S+) = ", str(mg.backward_code(loss)), re.M)
    report = mg.trace_backward(loss, accumulate=False)
    assert [name for _, name in steps] == [s.node for s in report.steps]
    assert [int(k) for k, _ in steps] == list(range(1, len(report.steps) + 1))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_backward_code_of_an_array_mlp(dtype):
    rng = np.random.default_rng(0)
    model = nn.Sequential(
        nn.Linear(4, 8, dtype=dtype, rng=rng),
        nn.Tanh(),
        nn.Linear(8, 8, dtype=dtype, rng=rng),
        nn.ReLU(),
        nn.Linear(8, 3, dtype=dtype, rng=rng),
    )
    x = rng.standard_normal((6, 4)).astype(dtype)
    labels = np.array([0, 2, 1, 1, 0, 2])
    loss = losses.cross_entropy(model(x), labels) + 0.1 * (model[0].weight ** 2).sum()
    program = mg.backward_code(loss, modules=model)
    text = str(program)
    assert "'0.weight': " in text and "'4.bias': " in text  # the parameters' dotted names
    assert "g_v" in text and "_grad_weight(" in text
    _check_every_grad(loss, program)


def test_backward_code_of_a_convolution():
    rng = np.random.default_rng(1)
    model = nn.Sequential(
        nn.Conv2d(2, 3, 3, padding=1, rng=rng),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(3 * 2 * 2, 2, rng=rng),
    )
    x = rng.standard_normal((2, 2, 5, 5))
    out = model(x)
    loss = (out * out).mean()
    program = mg.backward_code(loss, modules=model)
    assert "conv2d" in str(program)
    _check_every_grad(loss, program)


def test_backward_code_sums_broadcast_gradients_and_adds_reused_nodes():
    a = Value(np.array([[1.0], [2.0]]), label="a")
    b = Value(np.array([0.5, -1.0, 3.0]), label="b")
    c = a * b  # (2, 3): a's gradient is summed over the columns, b's over the rows
    d = (c * c + c).sum()
    d.label = "d"
    program = mg.backward_code(d)
    text = str(program)
    assert "sum_to(" in text and "from minigrad.engine.graph import sum_to" in text
    assert re.search(r"^g_v\d+ = g_v\d+ \+ ", text, re.M)  # c's second use adds
    _check_every_grad(d, program)


def test_backward_code_runs_as_plain_python():
    x = Value(np.array([0.3, -1.2, 2.0]), label="x")
    y = (x.exp() / (1.0 + x * x)).sum()
    program = mg.backward_code(y)
    names = program.namespace()
    exec(str(program), names)  # the text alone, with the forward values it names
    np.testing.assert_array_equal(
        names["leaf_grads"]["x"], mg.grad(lambda v: (v.exp() / (1.0 + v * v)).sum())(x.data)
    )


class _Scaled(mg.Function):
    """k x.  Gradient: k g."""

    name = "scaled"
    forward = staticmethod(lambda x, k: k * x)
    grads = (lambda g, out, x, k: k * g,)
    jvps = (lambda t, out, x, k: k * t,)


def _cube_grad(g, out, x):
    return 3.0 * g * x * x


class _Cube(mg.Function):
    """x**3.  Gradient: 3 g x**2 (a named rule)."""

    name = "cube"
    forward = staticmethod(lambda x: x * x * x)
    grads = (_cube_grad,)


def test_backward_code_of_your_own_functions():
    x = Value(np.array([1.0, -2.0]), label="x")
    y = (_Scaled.apply(_Cube.apply(x), k=2.5)).sum()
    text = str(mg.backward_code(y))
    assert re.search(r"= 2\.5 \* g_v\d+$", text, re.M)  # the lambda, inlined with k
    assert "_cube_grad(g_v" in text
    assert re.search(r"^from \S*test_codegen import _cube_grad$", text, re.M)
    _check_every_grad(y, mg.backward_code(y))
    # a rule without source (made at a prompt) is called by name, and still runs
    typed = eval("lambda g, out, x: g * 2.0")  # noqa: S307
    twice = type(
        "Twice", (mg.Function,), {"forward": staticmethod(lambda x: 2.0 * x), "grads": (typed,)}
    )
    z = Value(3.0, label="z")
    w = twice.apply(z) * z
    program = mg.backward_code(w)
    assert "rule(g_" in str(program)
    _check_every_grad(w, program)


def test_backward_code_errors():
    with pytest.raises(TypeError, match="requires grad"):
        mg.backward_code(Value(1.0, requires_grad=False))
    with pytest.raises(ValueError, match="not a single number"):
        mg.backward_code(Value(np.ones(2)) * 2.0)


# ----- forward mode -------------------------------------------------------------------------------
def test_jvp_code_reproduces_the_tangent_of_an_mlp():
    rng = np.random.default_rng(2)
    model = nn.Sequential(nn.Linear(3, 5, rng=rng), nn.Tanh(), nn.Linear(5, 2, rng=rng))
    x = Value(rng.standard_normal((4, 3)), label="x")
    v = rng.standard_normal((4, 3))

    def f(x):
        return (model(x).softmax(-1) * mg.concat([x, x], axis=1)[:, :2]).sum()

    program = mg.jvp_code(f, (x,), (v,))
    text = str(program)
    assert text.splitlines()[0].startswith("# forward mode") and "t_x = tangent_x" in text
    assert "Concat.jvp([t_x, t_x]" in text
    out, tangent = mg.jvp(f, (x.data,), (v,))
    assert _same(program.run()["tangent_out"], tangent)


def test_jvp_code_of_the_tree_age_network():
    model = tree_age_network()
    x1, x2 = Value(5.0, label="x1"), Value(7.0, label="x2")

    def f(a, b):
        return losses.mse_loss(model([a, b]), 5.0)

    program = mg.jvp_code(f, (x1, x2), (1.0, 0.0))
    text = str(program)
    assert "t_x1 = 1.0" in text and re.search(r"= w1 \* t_x1$", text, re.M)
    assert program.run()["tangent_out"] == mg.jvp(f, (5.0, 7.0), (1.0, 0.0))[1]


def test_jvp_code_of_a_convolution():
    rng = np.random.default_rng(3)
    conv = nn.Conv2d(1, 2, 3, rng=rng)
    x = rng.standard_normal((1, 1, 4, 4))
    v = rng.standard_normal((1, 1, 4, 4))
    program = mg.jvp_code(lambda a: conv(a).tanh(), (x,), (v,))
    assert _same(program.run()["tangent_out"], mg.jvp(lambda a: conv(a).tanh(), (x,), (v,))[1])


def test_codegen_docstring_example_runs():
    result = doctest.testmod(minigrad.codegen, verbose=False)
    assert result.attempted >= 2 and result.failed == 0


def test_backward_code_writes_out_multi_line_rules_and_module_calls():
    # where's rules sit on lines of their own inside a tuple, and call np.logical_not: both are
    # written out as formulas, not as calls of the rule
    a = Value(np.array([[0.5, -1.0], [2.0, -0.3]]), label="a")
    b = Value(np.array([1.5, 0.7]), label="b")
    f = (mg.where(a.data > 0, a, b) * 2.0).sum() + (a - b).sum()
    program = mg.backward_code(f)
    text = str(program)
    assert "rule(" not in text and "Helpers defined outside" not in text
    assert "_in_dtype(np.logical_not(" in text
    assert re.search(r"sum_to\(-g_v\d+, b\)$", text, re.M)  # a - b: gb = -g, summed to b
    _check_every_grad(f, program)
