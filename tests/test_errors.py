"""A user's mistake meets a message in their own terms: each test checks the exception type and
the words that tell the user what went wrong (the shapes involved, the argument at fault).

Engine errors come first; the networks' errors (layers, optimizers, losses) follow, skipped until
those modules exist.
"""

import importlib.util
import math
import re
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value


def _has(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


needs_nn = pytest.mark.skipif(not _has("minigrad.nn.layers"), reason="minigrad.nn not written yet")
needs_optim = pytest.mark.skipif(not _has("minigrad.optim"), reason="minigrad.optim not written")
needs_losses = pytest.mark.skipif(not _has("minigrad.losses"), reason="minigrad.losses not written")


def _shape_words(*shapes: tuple) -> list[str]:
    """Both the numpy spelling (3,4) and the Python one (3, 4) are fine in a message."""
    return [(str(s), str(s).replace(" ", "")) for s in shapes]


def _names_shapes(message: str, *shapes: tuple) -> bool:
    return all(a in message or b in message for a, b in _shape_words(*shapes))


# ----- shapes ----------------------------------------------------------------------------------
def test_matmul_mismatch_names_both_shapes_and_the_op():
    a, b = Value(np.ones((3, 4))), Value(np.ones((5, 2)))
    with pytest.raises(ValueError) as info:
        a @ b
    message = str(info.value)
    assert message.startswith("matmul: ") and message.count("matmul") == 1, message
    assert _names_shapes(message, (3, 4), (5, 2))
    assert "4" in message and "5" in message  # the two sizes that should agree


def test_matmul_with_a_plain_array_on_either_side_names_both_shapes():
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(5, 2\)"):
        Value(np.ones((3, 4))) @ np.ones((5, 2))
    with pytest.raises(ValueError, match=r"matmul.*\(3, 4\).*\(5, 2\)"):
        np.ones((3, 4)) @ Value(np.ones((5, 2)))


def test_matmul_of_a_scalar_says_it_needs_an_array():
    with pytest.raises(ValueError, match="at least 1 dimension"):
        Value(2.0) @ Value(np.ones(3))


@pytest.mark.parametrize(
    "op, symbol",
    [
        (lambda a, b: a + b, "+"),
        (lambda a, b: a - b, "-"),
        (lambda a, b: a * b, "*"),
        (lambda a, b: a / b, "/"),
        (lambda a, b: a**b, "**"),
        (mg.maximum, "maximum"),
        (mg.minimum, "minimum"),
    ],
    ids=["add", "sub", "mul", "div", "pow", "maximum", "minimum"],
)
def test_binary_op_on_shapes_that_do_not_broadcast_names_both_and_the_op(op, symbol):
    a, b = Value(np.ones((3, 4))), Value(np.full((5, 2), 2.0))
    with pytest.raises(ValueError) as info:
        op(a, b)
    message = str(info.value)
    assert message.startswith(symbol + ":"), message
    assert "broadcast" in message
    assert _names_shapes(message, (3, 4), (5, 2))


def test_shape_error_with_a_plain_array_operand_names_its_shape_too():
    with pytest.raises(ValueError) as info:
        Value(np.ones(3)) + np.ones(4)
    assert _names_shapes(str(info.value), (3,), (4,))


def test_failed_op_records_nothing_and_keeps_inputs_usable():
    a = Value(np.ones((3, 4)))
    with pytest.raises(ValueError):
        a + np.ones(5)
    b = (a * 2.0).sum()
    b.backward()
    np.testing.assert_array_equal(a.grad, np.full((3, 4), 2.0))


# ----- backward --------------------------------------------------------------------------------
def test_backward_on_a_non_scalar_without_gradient_says_so():
    y = Value(np.ones((2, 3))) * 2.0
    with pytest.raises(ValueError) as info:
        y.backward()
    message = str(info.value)
    assert "(2, 3)" in message
    assert "gradient" in message and "sum" in message  # both ways out are named


def test_backward_on_a_one_element_array_needs_no_gradient():
    x = Value(np.array([3.0]))
    (x * x).backward()
    np.testing.assert_array_equal(x.grad, [6.0])


def test_backward_with_a_gradient_of_the_wrong_shape_names_both_shapes():
    y = Value(np.ones((2, 3))) * 2.0
    with pytest.raises(ValueError) as info:
        y.backward(np.ones((3, 2)))
    message = str(info.value)
    assert "gradient" in message
    assert "(3, 2)" in message and "(2, 3)" in message


def test_backward_with_a_broadcastable_but_different_gradient_still_refuses():
    # (3,) would broadcast against (2, 3), but a seed must have the output's exact shape.
    y = Value(np.ones((2, 3))) * 2.0
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        y.backward(np.ones(3))


def test_backward_with_a_non_numeric_gradient_names_it():
    y = Value(np.ones(2)) * 2.0
    with pytest.raises(TypeError, match="gradient.*str"):
        y.backward("ones")


@pytest.mark.parametrize("how", ["requires_grad=False", "no_grad", "detach"])
def test_backward_from_a_value_that_does_not_require_grad_says_why(how):
    if how == "requires_grad=False":
        y = Value(np.ones(3), requires_grad=False).sum()
    elif how == "no_grad":
        x = Value(np.ones(3))
        with mg.no_grad():
            y = (x * 2.0).sum()
    else:
        y = (Value(2.0) * 3.0).detach()
    with pytest.raises(RuntimeError) as info:
        y.backward()
    assert "does not require grad" in str(info.value)
    assert "no_grad" in str(info.value)


# ----- making Values ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "data, error, words",
    [
        ("3.0", TypeError, ["str", "'3.0'"]),
        (None, TypeError, ["NoneType"]),
        (1 + 2j, TypeError, ["complex"]),
        ([1 + 2j, 3.0], TypeError, ["complex"]),
        (np.array([1j]), TypeError, ["complex"]),
        (np.complex64(1), TypeError, ["complex"]),
        ([[1.0, 2.0], [3.0]], ValueError, ["ragged", "[[1.0, 2.0], [3.0]]"]),
        (["a", "b"], TypeError, ["<U1"]),
        ([1.0, None], TypeError, ["object"]),
        (object(), TypeError, ["object"]),
        ({"a": 1}, TypeError, ["dict"]),
    ],
    ids=[
        "str",
        "None",
        "complex",
        "complex-list",
        "complex-array",
        "complex64",
        "ragged",
        "str-list",
        "None-in-list",
        "object",
        "dict",
    ],
)
def test_value_from_unusable_data_names_what_was_given(data, error, words):
    with pytest.raises(error) as info:
        Value(data)
    message = str(info.value)
    assert message.startswith("Value:"), message
    for word in words:
        assert word in message, (word, message)


def test_operand_of_an_op_that_is_a_string_is_refused_with_its_role():
    with pytest.raises(TypeError, match="operand.*str"):
        Value(1.0) + "2"


@pytest.mark.parametrize("label", [3, 1.5, b"x", ["x"]])
def test_label_that_is_not_a_string_is_refused(label):
    with pytest.raises(TypeError, match=f"label must be a string.*{type(label).__name__}"):
        Value(1.0, label=label)


def test_label_string_or_none_is_accepted():
    assert Value(1.0, label="w1").label == "w1"
    assert Value(1.0).label is None


# ----- log/sqrt/pow of negatives: numpy's nan, silently ---------------------------------------
NAN_CASES = {
    "log(-1)": lambda x: x.log(),
    "sqrt(-1)": lambda x: x.sqrt(),
    "(-1)**0.5": lambda x: x**0.5,
    "(-1)**Value(0.5)": lambda x: x ** Value(0.5),
    "2**x with x = -1, then log": lambda x: (2.0**x).log() * x.log(),
}


@pytest.mark.parametrize("name", NAN_CASES)
@pytest.mark.parametrize("kind", ["scalar", "array", "float32"])
def test_log_sqrt_pow_of_a_negative_give_nan_without_a_warning(name, kind):
    data = {
        "scalar": -1.0,
        "array": np.array([-1.0, -4.0]),
        "float32": np.array([-1.0, -4.0], dtype=np.float32),
    }[kind]
    x = Value(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = NAN_CASES[name](x)
        assert np.all(np.isnan(y.data))
        y.sum().backward() if kind != "scalar" else y.backward()
    assert np.shape(x.grad) == np.shape(data)
    if kind == "float32":
        assert y.dtype == np.float32 and x.grad.dtype == np.float32


@pytest.mark.parametrize("data", [0.0, np.array([0.0, 0.0])], ids=["scalar", "array"])
def test_log_of_zero_is_minus_inf_without_a_warning(data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = Value(data).log()
    assert np.all(y.data == -math.inf)


def test_zero_to_a_negative_power_is_inf_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert (Value(0.0) ** -1.0).data == math.inf
        assert np.all((Value(np.zeros(2)) ** -1.0).data == math.inf)


def test_scalar_division_by_zero_follows_numpy_instead_of_raising():
    assert (Value(1.0) / 0.0).data == math.inf
    assert (Value(-1.0) / 0.0).data == -math.inf
    assert math.isnan((Value(0.0) / 0.0).data)


# ----- other engine errors with useful messages ------------------------------------------------
def test_item_of_a_multi_element_value_names_its_shape():
    with pytest.raises(ValueError, match=r"one-element.*\(2,\)"):
        Value(np.ones(2)).item()


def test_truth_value_of_an_array_value_is_ambiguous_and_says_what_to_use():
    with pytest.raises(ValueError, match=r"ambiguous.*any\(\).*all\(\)"):
        bool(Value(np.ones(2)))


def test_reshape_to_an_incompatible_size_names_the_op_and_the_input_shape():
    with pytest.raises(ValueError, match=re.escape("reshape:") + ".*" + re.escape("(2, 3)")):
        Value(np.ones((2, 3))).reshape(4, 2)


def test_softmax_of_a_scalar_and_a_bad_axis_are_explained():
    with pytest.raises(ValueError, match="at least 1 dimension"):
        Value(1.0).softmax()
    with pytest.raises(ValueError, match="axis 2 is out of range.*2 dimensions"):
        Value(np.ones((2, 2))).softmax(axis=2)


def test_var_with_no_degrees_of_freedom_is_explained():
    with pytest.raises(ValueError, match="ddof=1.*1 entries"):
        Value(np.ones(1)).var(ddof=1)


def test_clip_without_bounds_is_explained():
    with pytest.raises(ValueError, match="lo.*hi"):
        Value(1.0).clip()


@pytest.mark.parametrize(
    "make, error, words",
    [
        (lambda: Value(np.ones(3))[5], IndexError, ["getitem:", "5", "size 3", "(3,)"]),
        (
            lambda: Value(np.ones((2, 3))).broadcast_to((4, 3)),
            ValueError,
            ["broadcast_to:", "(4,3)", "(2, 3)"],
        ),
        (
            lambda: mg.concat([Value(np.ones((2, 3))), Value(np.ones((2, 4)))]),
            ValueError,
            ["concat:", "(2, 3), (2, 4)"],
        ),
        (lambda: Value(np.ones((2, 3))).squeeze(0), ValueError, ["squeeze:", "(2, 3)"]),
        (
            lambda: Value(np.ones((2, 3))).transpose(0, 0),
            ValueError,
            ["transpose:", "(0, 0)", "permutation"],
        ),
    ],
    ids=["getitem", "broadcast_to", "concat", "squeeze", "transpose"],
)
def test_shape_op_errors_name_the_op_and_the_input_shapes(make, error, words):
    with pytest.raises(error) as info:
        make()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_index_with_a_float_is_explained():
    with pytest.raises(IndexError, match="integer.*1.5"):
        Value(np.ones(3))[1.5]


def test_concat_of_nothing_and_of_a_single_array_are_explained():
    with pytest.raises(ValueError, match="concat.*at least one"):
        mg.concat([])
    with pytest.raises(TypeError, match="stack.*list or tuple"):
        mg.stack(Value(np.ones((2, 2))))


# ----- networks: layers and losses -------------------------------------------------------------
@needs_nn
@pytest.mark.parametrize(
    "x",
    [np.ones((3, 5)), Value(np.ones((3, 5))), np.ones(5), [1.0, 2.0, 3.0, 4.0, 5.0]],
    ids=["array", "Value", "1-d", "list"],
)
def test_linear_given_the_wrong_number_of_features_says_what_it_expected(x):
    from minigrad import nn

    with pytest.raises(ValueError) as info:
        nn.Linear(4, 8)(x)
    message = str(info.value)
    assert "Linear(4, 8)" in message and "4 entries" in message
    assert "(5,)" in message or "(3, 5)" in message


@needs_nn
def test_neuron_and_mlp_given_the_wrong_number_of_inputs_say_so():
    from minigrad import nn

    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        nn.Neuron(2)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        nn.MLP(2, [3, 1])([1.0, 2.0, 3.0])


@needs_nn
@pytest.mark.parametrize("p", [1.0, -0.1, 1.5, float("nan"), float("inf")])
def test_dropout_probability_outside_zero_to_one_is_refused(p):
    from minigrad import nn

    with pytest.raises(ValueError, match=r"Dropout: p must be a probability in \[0, 1\)"):
        nn.Dropout(p)


@needs_nn
@pytest.mark.parametrize("p", ["0.5", None, True, [0.5]])
def test_dropout_probability_that_is_not_a_number_is_named(p):
    from minigrad import nn

    with pytest.raises(TypeError, match=r"Dropout: p must be a number, got "):
        nn.Dropout(p)


@needs_nn
@pytest.mark.parametrize("p", [0.0, 0.5, 0.999])
def test_dropout_probability_inside_the_range_is_accepted(p):
    from minigrad import nn

    assert nn.Dropout(p).p == p


LOSS_CASES = [
    ("mse_loss", (4, 1), (4,)),
    ("l1_loss", (4,), (4, 1)),
    ("sse_loss", (2, 3), (3, 2)),
    ("huber_loss", (5,), (4,)),
    ("binary_cross_entropy", (4, 1), (4,)),
    ("binary_cross_entropy_with_logits", (4,), (4, 1)),
    ("hinge_loss", (4, 1), (4,)),
    ("cross_entropy", (4, 3), (4, 2)),
]


@needs_losses
@pytest.mark.parametrize(
    "name, pred_shape, target_shape", LOSS_CASES, ids=[c[0] for c in LOSS_CASES]
)
def test_loss_with_mismatched_prediction_and_target_names_both_shapes(
    name, pred_shape, target_shape
):
    from minigrad import losses

    pred = Value(np.full(pred_shape, 0.5))
    target = np.ones(target_shape)
    with pytest.raises(ValueError) as info:
        getattr(losses, name)(pred, target)
    message = str(info.value)
    assert message.startswith(name + ":"), message
    assert str(pred_shape) in message and str(target_shape) in message


@needs_losses
def test_cross_entropy_label_out_of_range_names_the_range():
    from minigrad import losses

    with pytest.raises(ValueError, match=r"\[0, 3\).*3"):
        losses.cross_entropy(Value(np.zeros((4, 3))), np.array([0, 1, 2, 3]))


@needs_losses
def test_loss_with_an_unknown_reduction_lists_the_valid_ones():
    from minigrad import losses

    with pytest.raises(ValueError, match="'mean', 'sum' or 'none'.*'avg'"):
        losses.mse_loss(Value(np.ones(2)), np.ones(2), reduction="avg")


# ----- networks: optimizers --------------------------------------------------------------------
OPTIMIZERS = ["SGD", "Adam", "AdamW", "RMSprop"]


@needs_optim
@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("params", [[], (), "empty-model", "empty-generator"])
def test_optimizer_given_no_parameters_says_so(name, params):
    from minigrad import nn, optim

    if params == "empty-model":
        params = nn.Sequential(nn.ReLU())
    elif params == "empty-generator":
        params = (p for p in [])
    with pytest.raises(ValueError, match=f"{name}: .*empty parameter list"):
        getattr(optim, name)(params, lr=0.1)


@needs_optim
@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize(
    "bad, type_name", [(np.ones(2), "ndarray"), (3.0, "float"), ("w", "str"), (None, "NoneType")]
)
def test_optimizer_given_a_non_value_names_its_type(name, bad, type_name):
    from minigrad import optim

    with pytest.raises(TypeError, match=f"{name}: expected Values.*{type_name}"):
        getattr(optim, name)([Value(np.ones(2)), bad], lr=0.1)


@needs_optim
def test_optimizer_given_a_single_value_says_to_wrap_it_in_a_list():
    from minigrad import optim

    with pytest.raises(TypeError, match="single Value.*list"):
        optim.SGD(Value(np.ones(2)), lr=0.1)


@needs_optim
@pytest.mark.parametrize("name", OPTIMIZERS)
@pytest.mark.parametrize("lr", [-0.1, -1e-12, float("nan"), float("inf")])
def test_optimizer_with_a_negative_nan_or_infinite_learning_rate_is_refused(name, lr):
    from minigrad import optim

    with pytest.raises(ValueError) as info:
        getattr(optim, name)([Value(np.ones(2))], lr=lr)
    message = str(info.value)
    assert message.startswith(f"{name}: lr must be >= 0"), message
    assert str(lr) in message


@needs_optim
@pytest.mark.parametrize("name", OPTIMIZERS)
def test_optimizer_with_a_zero_learning_rate_is_allowed_and_changes_nothing(name):
    from minigrad import optim

    w = Value(np.array([1.0, -2.0]))
    opt = getattr(optim, name)([w], lr=0.0)
    (w * w).sum().backward()
    opt.step()
    np.testing.assert_array_equal(w.data, [1.0, -2.0])


@needs_optim
def test_setting_a_bad_learning_rate_later_is_refused_too():
    from minigrad import optim

    opt = optim.SGD([Value(np.ones(2))], lr=0.1)
    with pytest.raises(ValueError, match="lr must be >= 0"):
        opt.lr = float("nan")
    assert opt.lr == 0.1
