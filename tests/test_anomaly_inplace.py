"""Anomaly mode refuses a backward through data changed since the forward pass.

A gradient rule reads its inputs' data (and sometimes its result) when backward runs, so
`a.data[0] = 100` between the forward and the backward silently changes the gradients. Inside
`detect_anomaly()` each node fingerprints what its rules read, and the reference backward
compares before applying them (minigrad/engine/anomaly.py). The property tested over the whole
registry: after any input is changed, backward either raises naming the change, or gives
exactly the gradients of the unchanged inputs (the rules did not read it). Outside anomaly
mode nothing is checked (the README says why: the cost).
"""

from __future__ import annotations

import gc

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import nn
from minigrad.engine import anomaly
from minigrad.ops import REGISTRY
from tests.strategies import case_for

CHANGED = "was changed after the forward pass"


# ----- the newcomer's example ------------------------------------------------------------------
def test_changing_an_input_read_by_a_rule_is_refused_naming_op_and_input():
    a = mg.Value(np.array([1.0, 2.0]), label="a")
    with mg.detect_anomaly():
        loss = (a * a).sum()
        a.data[0] = 100.0
        with pytest.raises(RuntimeError) as info:
            loss.backward()
    message = str(info.value)
    assert CHANGED in message and "input 0 (label 'a', shape (2,)) of op '*'" in message
    assert "reads it" in message
    assert a.grad is None  # refused before any rule ran


def test_outside_anomaly_mode_the_change_is_not_checked():
    # What the README warns about: the gradient is computed from the changed data.
    a = mg.Value(np.array([1.0, 2.0]))
    loss = (a * a).sum()
    a.data[0] = 100.0
    loss.backward()
    np.testing.assert_array_equal(a.grad, [200.0, 4.0])


def test_replacing_data_is_a_change_too_and_floats_are_watched():
    x = mg.Value(3.0, label="x")
    with mg.detect_anomaly():
        y = x * x
        x.data = 4.0
        with pytest.raises(RuntimeError, match=r"input 0 \(label 'x', a number\) of op '\*'"):
            y.backward()


def test_a_changed_result_read_by_its_own_rule_is_refused():
    x = mg.Value(np.array([0.5, 1.5]))
    with mg.detect_anomaly():
        y = x.exp()  # exp's rule is g * out: it reads its result
        y.label = "y"
        y.data[1] = 0.0
        with pytest.raises(RuntimeError, match=r"its result .* of op 'exp' \(label 'y'\)"):
            y.backward(np.ones(2))


def test_a_changed_constant_array_is_refused():
    x = mg.Value(np.array([1.0, 2.0]))
    w = np.array([3.0, 4.0])
    with mg.detect_anomaly():
        loss = (x * w).sum()
        w[0] = -1.0
        with pytest.raises(RuntimeError, match=r"input 1 \(a constant, shape \(2,\)\) of op '\*'"):
            loss.backward()


def test_an_input_no_rule_reads_may_change():
    a, b = mg.Value(np.array([1.0, 2.0])), mg.Value(np.array([3.0, 4.0]))
    with mg.detect_anomaly():
        loss = (a + b).sum() + (a - b).sum()  # + and - pass g on: they read no input
        a.data[:] = 7.0
        loss.backward()
    np.testing.assert_array_equal(a.grad, [2.0, 2.0])
    np.testing.assert_array_equal(b.grad, [0.0, 0.0])


def test_an_input_that_needs_no_gradient_is_not_read_for_its_own_rule():
    # x * w with only x trained: x's rule (g * w) reads w, not x
    x = mg.Value(np.array([1.0, 2.0]))
    w = mg.Value(np.array([3.0, 4.0]), requires_grad=False, label="w")
    with mg.detect_anomaly():
        loss = (x * w).sum()
        x.data[0] = 5.0
        loss.backward()
        np.testing.assert_array_equal(x.grad, [3.0, 4.0])
        loss = (x * w).sum()
        w.data[0] = 5.0
        with pytest.raises(RuntimeError, match="label 'w'"):
            loss.backward()


def test_create_graph_backward_is_checked_too():
    x = mg.Value(np.array([1.0, 2.0]), label="x")
    with mg.detect_anomaly():
        loss = (x.tanh() * x).sum()
        x.data *= 2.0
        with pytest.raises(RuntimeError, match=CHANGED):
            loss.backward(create_graph=True)


def test_changing_data_after_backward_and_running_forward_again_is_fine():
    model = nn.Linear(3, 2, rng=0)
    opt = mg.optim.SGD(model.parameters(), lr=0.1)
    x = np.ones((4, 3))
    with mg.detect_anomaly():
        for _ in range(3):  # step() changes the weights in place: after backward, as it should
            loss = (model(x) ** 2).mean()
            opt.zero_grad()
            loss.backward()
            opt.step()


# ----- every layer -----------------------------------------------------------------------------
def _layer_cases():
    rng = np.random.default_rng(0)
    mask = np.triu(np.ones((3, 3), bool), 1)
    return [
        ("conv2d", nn.Conv2d(2, 3, 3, padding=1), lambda m, x: m(x), (2, 2, 5, 5)),
        ("max_pool2d", nn.MaxPool2d(2), lambda m, x: m(x), (1, 2, 4, 4)),
        ("avg_pool1d", nn.AvgPool1d(2), lambda m, x: m(x), (1, 2, 4)),
        ("BatchNorm2d", nn.BatchNorm2d(2), lambda m, x: m(x), (3, 2, 2, 2)),
        ("LayerNorm", nn.LayerNorm(4), lambda m, x: m(x), (3, 4)),
        ("lstm_scan", nn.LSTM(3, 4), lambda m, x: m(x)[0], (5, 2, 3)),
        ("gru_scan", nn.GRU(3, 4, bidirectional=True), lambda m, x: m(x)[0], (5, 2, 3)),
        ("rnn_scan", nn.RNN(3, 4), lambda m, x: m(x)[0], (5, 2, 3)),
        ("LSTMCell", nn.LSTMCell(3, 4), lambda m, x: m(x)[1], (2, 3)),
        ("attention", nn.MultiheadAttention(4, 2), lambda m, x: m(x, x, x, attn_mask=mask)[0],
         (3, 2, 4)),
    ], rng  # fmt: skip


@pytest.mark.parametrize("target", ["input", "weight"])
def test_every_layer_refuses_a_changed_input_or_parameter(target):
    cases, rng = _layer_cases()
    for name, layer, call, shape in cases:
        x = mg.Value(rng.normal(size=shape), label="input")
        with mg.detect_anomaly():  # masked attention runs here: its -inf fill is no anomaly
            loss = (call(layer, x) ** 2).sum()
            params = layer.parameters()
            changed = x if target == "input" or not params else params[0]
            changed.data.reshape(-1)[0] += 0.25
            with pytest.raises(RuntimeError, match=CHANGED) as info:
                loss.backward()
        assert changed.label is None or f"label {changed.label!r}" in str(info.value), name


def test_embedding_weight_changed_is_refused():
    emb = nn.Embedding(5, 3, rng=0)
    with mg.detect_anomaly():
        loss = (emb(np.array([1, 2, 1])) ** 2).sum()
        emb.weight.data[1, 0] = 9.0
        with pytest.raises(RuntimeError, match="label 'weight'"):
            loss.backward()


# ----- the registry: changed inputs are refused, or they do not matter -------------------------
def _values(case):
    return [mg.Value(np.array(x, copy=True) if type(x) is not float else x) for x in case.inputs]


def _gradients(case, xs, upstream, change=None):
    with mg.detect_anomaly():
        out = case.call(*xs)
        root = (out * upstream).sum() if np.ndim(out.data) else out * float(upstream)
        if change is not None:
            change()
        root.backward()
    return [x.grad for x in xs]


@pytest.mark.parametrize("name", sorted(REGISTRY))
@settings(max_examples=10)
@given(data=st.data())
def test_a_changed_input_is_refused_or_does_not_change_the_gradients(name, data):
    case = data.draw(case_for(name), label="case")
    i = data.draw(st.integers(0, len(case.inputs) - 1), label="changed input")
    assume(np.size(case.inputs[i]) > 0)  # an empty array has nothing to change
    upstream = np.random.default_rng(0).normal(size=np.shape(case.call(*case.inputs)))
    expected = _gradients(case, _values(case), upstream)
    xs = _values(case)

    def change():
        if type(xs[i].data) is float:
            xs[i].data = xs[i].data + 0.25
        else:
            xs[i].data.reshape(-1)[0] += 0.25  # in place

    try:
        got = _gradients(case, xs, upstream, change)
    except RuntimeError as err:
        assert CHANGED in str(err) and "of op '" in str(err)
        return
    for g, e in zip(got, expected):  # not refused: then the rules never read it
        np.testing.assert_array_equal(g, e)


# ----- bookkeeping -----------------------------------------------------------------------------
def test_fingerprints_only_in_anomaly_mode_and_gone_with_the_graph():
    before = len(anomaly._fingerprints)
    x = mg.Value(np.ones((3, 3)))
    loss = (x @ x).tanh().sum()
    assert len(anomaly._fingerprints) == before  # outside anomaly mode: nothing kept
    with mg.detect_anomaly():
        loss = (x @ x).tanh().sum()
        assert len(anomaly._fingerprints) == before + 3
    gc.disable()
    try:
        del loss  # no cycle through the table: the entries go with the nodes, at once
        assert len(anomaly._fingerprints) == before
    finally:
        gc.enable()


def test_a_graph_made_outside_anomaly_mode_is_not_checked_inside_it():
    a = mg.Value(np.array([1.0, 2.0]))
    loss = (a * a).sum()
    a.data[0] = 100.0
    with mg.detect_anomaly():
        loss.backward()  # nothing was fingerprinted when it was made
    np.testing.assert_array_equal(a.grad, [200.0, 4.0])


def test_attention_masks_make_no_anomaly_but_an_inf_made_before_where_still_does():
    q = mg.Value(np.random.default_rng(1).normal(size=(1, 3, 4)))
    with mg.detect_anomaly():
        mg.scaled_dot_product_attention(q, q, q, is_causal=True).sum().backward()
        x = mg.Value(np.array([1.0, 1000.0]))
        with np.errstate(over="ignore"), pytest.raises(FloatingPointError, match="'exp'"):
            mg.where(np.array([True, False]), x.exp(), 0.0)
