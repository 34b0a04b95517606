"""The public API is consistent: every registered op is a top-level function of `minigrad`, and
every op of one Value is also a method (or an operator) that computes what the function does.

The lists below are the exceptions, each with its reason. A new op that is neither reachable nor
listed fails here, so the decision is made when the op is added, not found later by a user.
"""

import inspect
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
import minigrad.ops as ops
from minigrad import Value
from minigrad.ops import REGISTRY
from tests.strategies import case_for

MACHINERY = {"REGISTRY", "Domain", "Op", "register"}  # minigrad.ops.__all__ that are not ops
OPS = sorted((set(ops.__all__) - MACHINERY) | set(REGISTRY))

# Registered ops that are not top-level functions `mg.<name>`, by design.
NOT_TOP_LEVEL = {
    "getitem": "written x[index]; numpy and PyTorch have no function of that name either",
    "scatter_add": "the gradient of x[index]; torch.scatter_add(input, dim, index, src) is "
    "another operation, so the top-level name would mislead",
    "linear": "the fused x @ weight.T + bias of nn.Linear (PyTorch's F.linear, not torch.linear)",
    "softmax_cross_entropy": "the fused op behind losses.cross_entropy, the public name",
    "rnn_scan": "the fused recurrence behind nn.RNN, its public form (PyTorch has none either)",
    "lstm_scan": "the fused recurrence behind nn.LSTM, its public form",
    "gru_scan": "the fused recurrence behind nn.GRU, its public form",
    "conv1d_weight": "the weight gradient of conv1d (PyTorch: torch.nn.grad.conv1d_weight)",
    "conv2d_weight": "the weight gradient of conv2d (PyTorch: torch.nn.grad.conv2d_weight)",
}

# Ops whose method form is an operator: `a + b` is Value.__add__, `-a` Value.__neg__, ...
OPERATORS = {
    "add": "__add__",
    "sub": "__sub__",
    "mul": "__mul__",
    "div": "__truediv__",
    "pow": "__pow__",
    "matmul": "__matmul__",
    "neg": "__neg__",
    "getitem": "__getitem__",
}

# Registered ops that are not Value methods, by design.
NOT_METHODS = {
    # Several Values in, none of them the one the op belongs to: a function only.
    "maximum": "two inputs, symmetric (numpy: np.maximum only)",
    "minimum": "two inputs, symmetric (numpy: np.minimum only)",
    "where": "three inputs: where(condition, x, y)",
    "concat": "a list of Values in",
    "stack": "a list of Values in",
    "einsum": "any number of operands: einsum(subscripts, *operands)",
    "conv1d": "input, weight and bias in (torch.Tensor has no conv method either)",
    "conv2d": "input, weight and bias in",
    "conv_transpose1d": "input, weight and bias in",
    "conv_transpose2d": "input, weight and bias in",
    "conv1d_weight": "internal: input and upstream gradient in (see NOT_TOP_LEVEL)",
    "conv2d_weight": "internal: input and upstream gradient in (see NOT_TOP_LEVEL)",
    # Internal fused ops, reached through their public homes (see NOT_TOP_LEVEL).
    "scatter_add": "internal: the gradient of x[index]",
    "linear": "three inputs (x, weight, bias); nn.Linear is its public form",
    "softmax_cross_entropy": "a loss: losses.cross_entropy(logits, labels)",
    "rnn_scan": "several inputs (xw, h0, W_hh); nn.RNN is its public form",
    "lstm_scan": "several inputs (xw, h0, c0, W_hh); nn.LSTM is its public form",
    "gru_scan": "several inputs (xw, h0, W_hh, b_hh); nn.GRU is its public form",
}

TOP_LEVEL = [name for name in OPS if name not in NOT_TOP_LEVEL]
METHODS = [name for name in OPS if name not in NOT_METHODS and name not in OPERATORS]


def test_public_api_exception_lists_name_registered_ops():
    for listed in (NOT_TOP_LEVEL, OPERATORS, NOT_METHODS):
        stale = sorted(set(listed) - set(REGISTRY))
        assert not stale, f"{stale} are listed in tests/test_public_api.py but not registered ops"
    both = sorted(set(OPERATORS) & set(NOT_METHODS))
    assert not both, f"{both}: an op is either an operator or not a method, not both"


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_public_api_op_is_a_top_level_function(name):
    assert getattr(mg, name, None) is getattr(ops, name), (
        f"mg.{name} is missing (or is not minigrad.ops.{name}): import it in minigrad/__init__.py"
        " or list it in NOT_TOP_LEVEL with the reason"
    )
    assert name in mg.__all__, f"mg.{name} exists but is not in minigrad.__all__"


@pytest.mark.parametrize("name", sorted(OPERATORS))
def test_public_api_operator_ops_have_their_operator(name):
    dunder = OPERATORS[name]
    assert callable(getattr(Value, dunder, None)), f"Value.{dunder} (the op {name!r}) is missing"


def _after_first(fn):
    params = list(inspect.signature(fn).parameters.values())[1:]
    return [(p.name, p.kind, p.default) for p in params]


@pytest.mark.parametrize("name", METHODS)
def test_public_api_op_of_one_value_is_a_method_with_the_same_parameters(name):
    method = getattr(Value, name, None)
    assert callable(method), (
        f"Value.{name} is missing: add the method to minigrad/value.py, or list {name!r} in "
        "NOT_METHODS (several inputs) with the reason"
    )
    assert _after_first(method) == _after_first(getattr(ops, name)), (
        f"Value.{name}{inspect.signature(method)} and minigrad.ops.{name}"
        f"{inspect.signature(getattr(ops, name))} take different parameters"
    )


@contextmanager
def _recording(name):
    """Replace minigrad.ops.<name> by a function that records its arguments, then calls the op.

    The case builders of tests/strategies.py look the op up when a case is drawn or called, so a
    case drawn and called inside this block tells us the arguments of one valid call."""
    original = getattr(ops, name)
    calls = []

    def record(*args, **kwargs):
        calls.append((args, kwargs))
        return original(*args, **kwargs)

    setattr(ops, name, record)
    try:
        yield calls
    finally:
        setattr(ops, name, original)


@pytest.mark.parametrize("name", METHODS)
@settings(max_examples=10, deadline=None)
@given(data=st.data())
def test_public_api_method_computes_what_the_function_computes(name, data):
    with _recording(name) as calls:
        case = data.draw(case_for(name))
        case.call(*case.inputs)
    assert calls, f"the test case of {name!r} never called minigrad.ops.{name}"
    (x, *args), kwargs = calls[0]
    x = x if isinstance(x, Value) else Value(x)
    by_function = getattr(ops, name)(x, *args, **kwargs)
    by_method = getattr(x, name)(*args, **kwargs)
    assert by_method.op == by_function.op, f"Value.{name} records {by_method.op!r}"
    assert type(by_method.data) is type(by_function.data)
    assert by_method.dtype == by_function.dtype
    np.testing.assert_array_equal(by_method.data, by_function.data)


# ----- the README's "Coming from micrograd" ------------------------------------------------------
def _mlp_weights(**kwargs):
    return np.array([p.data for p in mg.nn.MLP(2, [16, 16, 1], **kwargs).parameters()])


def test_public_api_micrograd_seed_line_no_longer_seeds_but_manual_seed_does():
    import random

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("### Coming from micrograd") :]
    section = section[: section.index("\n## ")]
    assert "`random.seed(1337)` no longer seeds the weights" in section
    assert "`mg.manual_seed(1337)`" in section and "`rng=1337`" in section
    random.seed(1337)
    np.random.seed(1337)
    first = _mlp_weights()
    random.seed(1337)
    np.random.seed(1337)
    assert not np.array_equal(_mlp_weights(), first)  # 304 weights drawn anew: never equal
    mg.manual_seed(1337)
    seeded = _mlp_weights()
    mg.manual_seed(1337)
    np.testing.assert_array_equal(_mlp_weights(), seeded)
    np.testing.assert_array_equal(_mlp_weights(rng=1337), seeded)
