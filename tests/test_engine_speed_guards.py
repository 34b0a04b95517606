"""Guards for the engine's speed design, none of them timing-based.

- A training step makes one Value per op it records, and none for the numbers mixed into ops.
- A forward and backward create no reference cycles: the graph is freed the moment it is
  dropped, and Python's cyclic garbage collector finds nothing to do.
- Inputs that need no gradient cost no gradient work (their rule is never called).
- A leaf's `.grad` never shares memory with another node's gradient.
- A recorded node sets only the slots it uses (the collector visits every set slot).
- A gradient array is freed as soon as backward has used it (with `inputs=`, which keeps no
  intermediate's `.grad`).
"""

from __future__ import annotations

import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import engine, losses, nn, optim
from minigrad.ops.linalg import MatMul
from minigrad.ops.registry import Op


def _live_values():
    return sum(1 for o in gc.get_objects() if type(o) is mg.Value)


def _values_made(step):
    """How many Values `step()` creates and keeps (the graph it returns), and its result."""
    gc.collect()
    start = _live_values()
    result = step()
    return _live_values() - start, result


def _ops_in(root):
    return sum(1 for node in engine.topo_order(root) if node._op is not None)


def _scalar_step(model, points, labels):
    def step():
        scores = [model(x) for x in points]
        losses_ = [(1 + -y * s).relu() for y, s in zip(labels, scores)]
        total = sum(losses_) * (1.0 / len(losses_)) + 1e-4 * sum(p * p for p in model.parameters())
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= 0.05 * p.grad
        return total

    return step


def _array_step(model, opt, x, labels):
    def step():
        loss = losses.cross_entropy(model(x), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()
        return loss

    return step


def _moons(n=8):
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 2)).tolist(), [1.0 if i % 2 else -1.0 for i in range(n)]


def test_scalar_training_step_makes_one_value_per_op():
    model = nn.MLP(2, [4, 4, 1], rng=0)
    step = _scalar_step(model, *_moons())
    step()
    made, total = _values_made(step)
    # Plain numbers in ops (1 + ..., -y * s, 1e-4 * ...) are kept raw, not wrapped in Values.
    assert made == _ops_in(total)


def test_array_training_step_makes_one_value_per_op():
    model = nn.Sequential(nn.Linear(5, 8, rng=0), nn.ReLU(), nn.Linear(8, 3, rng=1))
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = np.random.default_rng(1).normal(size=(6, 5))
    step = _array_step(model, opt, x, np.array([0, 1, 2, 0, 1, 2]))
    step()
    made, loss = _values_made(step)
    assert made == _ops_in(loss)


def _collected_after(step):
    """Run step() with the collector off, drop everything, then count what gc.collect() finds."""
    step()  # warm-up: first-call caches are not graphs
    gc.collect()
    gc.disable()
    try:
        result = step()
        del result
        return gc.collect()
    finally:
        gc.enable()


def test_scalar_forward_backward_leaves_no_reference_cycles():
    model = nn.MLP(2, [4, 4, 1], rng=0)
    assert _collected_after(_scalar_step(model, *_moons())) == 0


def test_array_forward_backward_leaves_no_reference_cycles():
    model = nn.Sequential(nn.Linear(5, 8, rng=0), nn.ReLU(), nn.Linear(8, 3, rng=1))
    opt = optim.SGD(model.parameters(), lr=0.1)
    x = np.random.default_rng(1).normal(size=(6, 5))
    assert _collected_after(_array_step(model, opt, x, np.array([0, 1, 2, 0, 1, 2]))) == 0


def test_create_graph_backward_leaves_no_reference_cycles():
    def step():
        x = mg.Value(np.linspace(0.5, 1.5, 4))
        y = (x * x).tanh().sum()
        y.backward(create_graph=True)
        second = x.grad.sum()
        x.zero_grad()
        second.backward()
        return second

    assert _collected_after(step) == 0


def test_dropped_graph_is_freed_at_once():
    x = mg.Value(1.0)
    y = x
    for _ in range(1000):
        y = y * 1.0001 + 0.0001
    y.backward()
    count = sum(1 for o in gc.get_objects() if type(o) is mg.Value)
    del y
    assert count - sum(1 for o in gc.get_objects() if type(o) is mg.Value) >= 2000


@pytest.mark.parametrize("constant_side", [0, 1])
def test_constant_matmul_input_gets_no_gradient_work(monkeypatch, constant_side):
    calls = [0, 0]
    left, right = MatMul.grads

    def counted(i, rule):
        def wrapped(*args):
            calls[i] += 1
            return rule(*args)

        return wrapped

    monkeypatch.setattr(MatMul, "grads", (counted(0, left), counted(1, right)))
    data = [np.ones((3, 4)), np.ones((4, 2))]
    w = mg.Value(data[1 - constant_side])
    args = [None, None]
    args[constant_side] = data[constant_side]  # a plain array: a constant
    args[1 - constant_side] = w
    (args[0] @ args[1]).sum().backward()
    assert calls[constant_side] == 0 and calls[1 - constant_side] == 1
    const = mg.Value(data[constant_side], requires_grad=False)
    args[constant_side] = const
    (args[0] @ args[1]).sum().backward()
    assert calls[constant_side] == 0 and const.grad is None


def test_leaf_grads_never_share_memory():
    a = mg.Value(np.ones(3))
    b = mg.Value(np.ones(3))
    c = a + b  # add passes the same upstream gradient to both sides
    c.backward(np.full(3, 2.0))
    assert not np.shares_memory(a.grad, b.grad)
    assert not np.shares_memory(a.grad, c.grad)
    a.grad *= 0.5  # an optimizer may change a gradient in place
    assert b.grad.tolist() == [2.0, 2.0, 2.0] and c.grad.tolist() == [2.0, 2.0, 2.0]


def test_leaf_grad_is_writable_after_a_sum():
    a = mg.Value(np.ones((2, 3)))
    a.sum().backward()  # the sum's gradient is a broadcast (read-only) view
    a.grad *= 2.0
    assert a.grad.tolist() == [[2.0] * 3] * 2


def test_seed_gradient_is_not_shared_with_the_caller():
    a = mg.Value(np.ones(3))
    seed = np.full(3, 1.0)
    a.backward(seed)
    seed[:] = 5.0
    assert a.grad.tolist() == [1.0, 1.0, 1.0]


def test_failed_backward_leaves_nothing_pending():
    x = mg.Value(2.0)
    y = x * 3.0
    z = y * 4.0

    def boom(node, g, grads):
        raise RuntimeError("stop")

    with pytest.raises(RuntimeError, match="stop"):
        engine.run_backward(z, 1.0, False, True, on_rule=boom)
    assert all(n._g is None for n in (x, y, z))
    z.backward()
    assert x.grad == 12.0


def test_fast_mode_shortcut_keeps_modes_per_thread():
    import threading

    inside = threading.Event()
    release = threading.Event()

    def hold_no_grad():
        with mg.no_grad():
            inside.set()
            release.wait(5)

    other = threading.Thread(target=hold_no_grad)
    other.start()
    try:
        inside.wait(5)
        assert engine.record.all_fast is False  # some thread is in no_grad: every op checks its own
        x = mg.Value(2.0)
        assert (x * 3.0).requires_grad and x.relu().requires_grad  # this thread still records
        with mg.no_grad():
            assert not (x * 3.0).requires_grad
    finally:
        release.set()
        other.join()
    assert engine.record.all_fast is True
    with mg.detect_anomaly():
        assert engine.record.all_fast is False
    assert engine.record.all_fast is True


def _set_slots(v):
    return {name for name in mg.Value.__slots__ if name != "__weakref__" and hasattr(v, name)}


def test_recorded_nodes_set_only_the_slots_they_use():
    a, b = mg.Value(2.0), mg.Value(3.0)
    common = {"data", "grad", "requires_grad", "_x", "_y", "_rest", "_op", "_g"}
    for node in [a * b, a + 1.0, a.tanh(), (a * b).relu()]:
        assert _set_slots(node) == common  # no label, no backward count yet
        assert node.label is None and node._rest is None  # no parameters, at most two inputs
    summed = mg.Value(np.ones((2, 3))).sum(axis=0)
    assert summed._rest == ((), {"axis": 0, "keepdims": False})  # the rare parts, in one slot
    assert summed._params == {"axis": 0, "keepdims": False} and summed._more == ()
    y = a * b
    y.backward()
    assert "_n" in _set_slots(y)  # set by the pass, for the pass
    y.label = "y"
    assert y.label == "y" and "_label" in _set_slots(y)


class Probe(Op):
    """x * 1.  Gradient: gx = g * 1, noting how many of its earlier results are still alive."""

    name = "probe"
    results: list = []
    alive: list = []
    forward = staticmethod(lambda x: x * 1.0)
    grads = (lambda g, out, x: Probe.note(g),)

    @staticmethod
    def note(g):
        Probe.alive.append(sum(ref() is not None for ref in Probe.results))
        gx = g * 1.0
        Probe.results.append(weakref.ref(gx))
        return gx


def test_backward_frees_each_gradient_once_it_is_used():
    # probe -> clip -> probe -> clip -> probe: backward alternates the loop's one-input path
    # (probe) with the path for ops with parameters (clip). When a probe's rule runs, the
    # gradients earlier probes returned have been used by the clips and must be gone.
    Probe.results.clear()
    Probe.alive.clear()
    x = mg.Value(np.linspace(-1.0, 1.0, 1000))
    y = engine.apply(Probe, x)
    for _ in range(2):
        y = engine.apply(Probe, mg.clip(y, -10.0, 10.0))
    y.sum().backward(inputs=[x])
    assert Probe.alive == [0, 0, 0]
    np.testing.assert_array_equal(x.grad, np.ones(1000))
