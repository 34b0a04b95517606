"""Anomaly mode: inside `minigrad.detect_anomaly()`, the first op whose forward or backward makes a
NaN or an Inf raises FloatingPointError naming that op, the labels involved and the shapes.

The point of the mode is to find where a NaN *started*: each test builds a chain in which the bad
value appears in the middle, and checks the error names the middle op, not the loss at the end.
"""

import math
import threading
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value
from minigrad.engine import mode


def _chain_with_log_of_a_negative(x):
    """x -> 2x -> 2x - 5 -> log (negative for x < 2.5: the NaN starts here) -> exp -> sum."""
    shifted = x * 2.0 - 5.0
    shifted.label = "shifted"
    return shifted.log().exp().sum()


# ----- forward ---------------------------------------------------------------------------------
@pytest.mark.parametrize("data", [np.array([1.0, 3.0, 4.0]), 1.0], ids=["array", "scalar"])
def test_forward_nan_is_caught_at_the_op_where_it_started(data):
    x = Value(data)
    with mg.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        _chain_with_log_of_a_negative(x)
    message = str(info.value)
    assert "'log'" in message and "forward" in message and "NaN" in message
    assert "'shifted'" in message  # the labelled input of the op
    assert "'exp'" not in message and "'sum'" not in message
    shape = str(np.shape(data))
    assert f"input shapes: {shape}" in message and f"result shape: {shape}" in message


def test_forward_inf_is_caught_and_named_inf():
    x = Value(1000.0, label="big")
    with mg.detect_anomaly(), pytest.raises(FloatingPointError, match="'exp'.*'big'.*Inf"):
        x.exp() - 1.0


def test_forward_anomaly_names_the_op_parameters():
    x = Value(np.array([[1.0, 2.0], [3.0, 4.0]]))
    with mg.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        (x.sum(axis=0) - 10.0).sqrt()
    assert "'sqrt'" in str(info.value) and "(2,)" in str(info.value)
    with mg.detect_anomaly(), pytest.raises(FloatingPointError) as info:
        (x * np.inf).logsumexp(axis=1)
    assert "'*'" in str(info.value)  # inf * 1 is already Inf: caught before logsumexp


def test_forward_on_constants_is_checked_as_well():
    with mg.detect_anomaly(), pytest.raises(FloatingPointError, match="'log'"):
        Value(-1.0, requires_grad=False).log()


def test_finite_results_pass_untouched():
    x = Value(np.array([3.0, 4.0]))
    with mg.detect_anomaly():
        loss = _chain_with_log_of_a_negative(x)
        loss.backward()
    np.testing.assert_allclose(loss.data, 1.0 + 3.0)
    np.testing.assert_allclose(x.grad, [2.0, 2.0])


# ----- backward --------------------------------------------------------------------------------
def test_backward_inf_is_caught_at_the_op_where_it_started():
    # sqrt is finite at 0 but its derivative 1 / (2 sqrt(0)) is infinite.
    x = Value(0.0, label="x")
    with mg.detect_anomaly():
        root = x.sqrt()
        root.label = "root"
        loss = root * 3.0 + 1.0  # forward is fine: 1.0
        with pytest.raises(FloatingPointError) as info:
            loss.backward()
    message = str(info.value)
    assert "backward" in message and "'sqrt'" in message and "Inf" in message
    assert "'root'" in message and "'x'" in message
    assert "'+'" not in message and "'*'" not in message


def test_backward_anomaly_in_an_array_graph_names_shapes():
    x = Value(np.array([0.0, 4.0]))
    with mg.detect_anomaly():
        loss = (x.sqrt() * 3.0).sum()
        # numpy warns about 1 / 0 in the rule itself; the anomaly error is what matters here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            with pytest.raises(FloatingPointError) as info:
                loss.backward()
    assert "'sqrt'" in str(info.value) and "(2,)" in str(info.value)


def test_backward_nan_is_caught_when_the_forward_was_fine():
    # d/dy of x**y is x**y log(x): at x = -1 the forward (-1)**2 = 1 is fine, the rule gives NaN.
    x = Value(-1.0, requires_grad=False)
    y = Value(2.0, label="exponent")
    with mg.detect_anomaly():
        out = x**y
        assert out.data == 1.0
        with pytest.raises(FloatingPointError, match=r"backward of op '\*\*'.*NaN"):
            out.backward()


# ----- off by default, restored, thread-local -------------------------------------------------
def test_off_by_default_nan_just_flows():
    assert mode.anomaly is False
    x = Value(np.array([1.0, 3.0]))
    loss = _chain_with_log_of_a_negative(x)
    assert math.isnan(loss.data)
    loss.backward()
    assert np.isnan(x.grad[0]) and np.isfinite(x.grad[1])


def test_mode_is_restored_after_the_block_even_after_an_error():
    with pytest.raises(FloatingPointError), mg.detect_anomaly():
        Value(-1.0).log()
    assert mode.anomaly is False
    assert math.isnan(Value(-1.0).log().data)


def test_nested_blocks_restore_the_outer_state():
    with mg.detect_anomaly():
        with mg.detect_anomaly():
            pass
        assert mode.anomaly is True
    assert mode.anomaly is False


def test_works_as_a_decorator():
    @mg.detect_anomaly()
    def train_step(x):
        return x.log()

    with pytest.raises(FloatingPointError, match="'log'"):
        train_step(Value(-2.0))
    assert mode.anomaly is False


def test_anomaly_mode_is_thread_local():
    """A block in one thread neither turns the mode on in another thread nor is turned off by it."""
    inside = threading.Event()
    checked = threading.Event()
    seen = {}

    def other_thread():
        inside.wait(timeout=10)
        seen["mode"] = mode.anomaly
        seen["value"] = Value(-1.0).log().data  # would raise if the mode leaked into this thread
        checked.set()

    t = threading.Thread(target=other_thread)
    t.start()
    with mg.detect_anomaly():
        inside.set()
        checked.wait(timeout=10)
        with pytest.raises(FloatingPointError):
            Value(-1.0).log()  # still on here
    t.join(timeout=10)
    assert seen["mode"] is False and math.isnan(seen["value"])


def test_anomaly_mode_in_a_thread_stays_in_that_thread():
    errors = []

    def worker():
        with mg.detect_anomaly():
            try:
                Value(-1.0).log()
            except FloatingPointError as err:
                errors.append(err)

    t = threading.Thread(target=worker)
    t.start()
    t.join(timeout=10)
    assert len(errors) == 1
    assert mode.anomaly is False
    assert math.isnan(Value(-1.0).log().data)


@pytest.mark.parametrize(
    "make, op",
    [(lambda x: x.sqrt(), "'sqrt'"), (lambda x: x**0.5, r"'\*\*'"), (lambda x: x.log(), "'log'")],
    ids=["sqrt", "pow", "log"],
)
@pytest.mark.parametrize("data", [-4.0, np.array([4.0, -4.0])], ids=["scalar", "array"])
def test_negatives_under_sqrt_pow_and_log_are_caught_by_name(make, op, data):
    x = Value(data, label="input")
    with mg.detect_anomaly(), pytest.raises(FloatingPointError, match=f"{op}.*'input'.*NaN"):
        make(x) + 1.0


def test_backward_with_create_graph_names_the_op_not_an_op_inside_its_rule():
    # sqrt's rule is g / (2 sqrt(x)): the Inf appears in that '/', but the op to blame is sqrt.
    x = Value(0.0, label="x")
    with mg.detect_anomaly():
        root = x.sqrt()
        root.label = "root"
        with pytest.raises(FloatingPointError) as info:
            root.backward(create_graph=True)
    message = str(info.value)
    assert "backward of op 'sqrt'" in message and "'root'" in message and "Inf" in message
    assert "'/'" not in message


def test_second_derivatives_work_in_anomaly_mode():
    with mg.detect_anomaly():
        assert mg.grad(mg.grad(lambda v: v**3))(2.0) == 12.0
        with pytest.raises(FloatingPointError, match="backward of op 'sqrt'"):
            mg.grad(mg.grad(lambda v: v.sqrt()))(0.0)
