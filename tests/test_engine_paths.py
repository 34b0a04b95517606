"""The fast path is only an optimization of the reference path: random programs over the whole
op registry give the same `.grad` on every node through both, bit for bit.

A program chains a few registered ops (each drawn with its own test case from
tests/strategies.py). Each op input is, at random, a fresh leaf, a leaf that needs no gradient,
a raw constant (a float or an array, on either side), or scaled by the previous op's summed
result (so nodes are reused and scalars broadcast). The loss weights every result with a raw
array, on the left or the right. The same program then runs twice: as usual, and inside
`reference_mode()` (every op through `apply`, backward through the reference path); float32 and
float64, with and without `inputs=`, twice in a row (accumulation).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minigrad as mg
from minigrad import engine
from minigrad.engine import reference_mode, topo_order
from minigrad.ops import REGISTRY
from tests.strategies import case_for

NAMES = sorted(REGISTRY)


class Blocked(mg.Function):
    """x + 0 * y, with no gradient for y: the nodes behind y are in the graph, but no gradient
    reaches them (unless another use of theirs sends one).  Gradient: gx = g, gy: none."""

    name = "blocked"
    forward = staticmethod(lambda x, y: x + 0.0 * y)
    grads = (lambda g, out, x, y: g, None)


@st.composite
def programs(draw):
    """A list of steps: (case, one role per input), the program's dtype and its loss weights."""
    names = draw(st.lists(st.sampled_from(NAMES), min_size=1, max_size=3))
    steps = []
    for name in names:
        case = draw(case_for(name))
        roles = [
            draw(st.sampled_from(["leaf", "leaf", "scaled", "frozen", "raw", "shared"]))
            for _ in case.inputs
        ]
        steps.append((name, case, roles))
    dtype = draw(st.sampled_from([np.float64, np.float32]))
    seed = draw(st.integers(0, 2**16))
    left = draw(st.lists(st.booleans(), min_size=len(steps), max_size=len(steps)))
    subset = draw(st.sampled_from(["all", "leaves", "first"]))
    blocked = draw(st.lists(st.booleans(), min_size=len(steps), max_size=len(steps)))
    return steps, dtype, seed, left, subset, blocked


def _cast(x, dtype):
    return x if type(x) is float else np.asarray(x, dtype=dtype)


def run_program(program):
    """Build and differentiate the program; return (loss, every Value made, the leaves)."""
    steps, dtype, seed, left, subset, blocked = program
    rng = np.random.default_rng(seed)
    made, leaves = [], []
    previous = None
    total = None
    for (_name, case, roles), on_left, block in zip(steps, left, blocked):
        args = []
        first_leaf = None
        for x, role in zip(case.inputs, roles):
            x = _cast(x, dtype)
            if role == "raw":
                args.append(x)
                continue
            leaf = mg.Value(x, requires_grad=role != "frozen")
            made.append(leaf)
            if leaf.requires_grad:
                leaves.append(leaf)
            if role == "shared" and first_leaf is not None and first_leaf.shape == leaf.shape:
                leaf = first_leaf  # the same Value in two input slots: `a * a`
            elif role == "scaled" and previous is not None:
                leaf = leaf * previous  # a scalar broadcast onto an input, reused by every step
                made.append(leaf)
            if first_leaf is None:
                first_leaf = leaf
            args.append(leaf)
        out = case.call(*args)
        if not isinstance(out, mg.Value):
            continue  # every input raw: just the computation
        made.append(out)
        if block and previous is not None:
            dead = mg.exp(previous) * 2.0  # reached by no gradient through Blocked
            out = Blocked.apply(out, dead)
            made.extend([dead, out])
        weights = _cast(rng.standard_normal(out.shape), dtype) if out.shape else 0.5
        term = (weights * out if on_left else out * weights).sum()
        previous = mg.tanh(term)
        made.extend([term, previous])
        total = term if total is None else total + term
    return total, made, leaves


def _backward(loss, leaves, subset):
    if subset == "all" or not leaves:
        loss.backward()
    elif subset == "leaves":
        loss.backward(inputs=leaves)
    else:
        loss.backward(inputs=leaves[:1])


def _same(a, b, what):
    assert type(a) is type(b), f"{what}: {type(a).__name__} against {type(b).__name__}"
    if a is None or type(a) is float:
        assert a == b or (a != a and b != b), f"{what}: {a!r} against {b!r}"
        return
    assert a.dtype == b.dtype, f"{what}: dtype {a.dtype} against {b.dtype}"
    assert a.shape == b.shape, f"{what}: shape {a.shape} against {b.shape}"
    assert np.array_equal(a, b, equal_nan=True), f"{what}:\n{a!r}\nagainst\n{b!r}"


@settings(max_examples=60)
@given(programs())
def test_engine_paths_give_identical_gradients(program):
    fast_loss, fast_nodes, fast_leaves = run_program(program)
    with reference_mode():
        ref_loss, ref_nodes, ref_leaves = run_program(program)
    if fast_loss is None or not fast_loss.requires_grad:
        return
    subset = program[4]
    for _ in range(2):  # the second pass adds to .grad: accumulation agrees too
        _backward(fast_loss, fast_leaves, subset)
        with reference_mode():
            _backward(ref_loss, ref_leaves, subset)
    fast_graph, ref_graph = topo_order(fast_loss), topo_order(ref_loss)
    assert [n.op for n in fast_graph] == [n.op for n in ref_graph]
    for k, (a, b) in enumerate(zip(fast_nodes + fast_graph, ref_nodes + ref_graph)):
        _same(a.data, b.data, f"data of node {k} ({a.op or 'leaf'})")
        _same(a.grad, b.grad, f".grad of node {k} ({a.op or 'leaf'})")


def test_engine_paths_gradients_function_agrees():
    # `gradients()` (returned, not stored), with a node that no gradient reaches (relu of a
    # negative input passes zeros; where's unused branch gets none at all).
    def program():
        x = mg.Value(np.array([[-1.0, 2.0], [3.0, -4.0]]))
        y = mg.Value(np.array([0.5, -0.25]))
        dead = mg.exp(y) * 2.0
        z = mg.where(np.array([True, False]), x * y, dead) + x.relu() * 3.0
        return (z * z).sum(), [x, y]

    loss, inputs = program()
    fast = engine.gradients(loss, inputs)
    with reference_mode():
        loss, inputs = program()
        ref = engine.gradients(loss, inputs)
    for a, b in zip(fast, ref):
        _same(a, b, "gradient")


@pytest.mark.skipif(engine.mode.reference, reason="the whole run is on the reference path")
def test_engine_paths_reference_mode_routes_everything():
    # Inside reference_mode every op records through `apply` and backward takes the reference
    # path: a fast-path function that is called fails the test.
    import minigrad.engine.backprop as backward_module

    calls = []
    original = backward_module.backward_fast
    backward_module.backward_fast = lambda *a: calls.append(a) or original(*a)
    try:
        with reference_mode():
            assert not engine.record.all_fast and not engine.mode.fast
            x = mg.Value(2.0)
            (x * x + 1.0).backward()
        assert x.grad == 4.0 and calls == []
        y = mg.Value(2.0)
        (y * y + 1.0).backward()
        assert y.grad == 4.0 and len(calls) == 1
    finally:
        backward_module.backward_fast = original
    assert engine.record.all_fast


@pytest.mark.parametrize("env", ["1", ""])
def test_engine_paths_environment_switch(env, tmp_path):
    # MINIGRAD_REFERENCE=1 starts every thread on the reference path.
    import os
    import subprocess
    import sys

    code = "import minigrad as mg; print(mg.engine.mode.reference, mg.engine.record.all_fast)"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "MINIGRAD_REFERENCE": env},
        capture_output=True,
        text=True,
        check=True,
    )
    assert result.stdout.split() == (["True", "False"] if env else ["False", "True"])
