"""backward: seeding, errors, accumulation, reuse, constants, no_grad, a 1,000,000-deep chain."""

import atexit
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value
from minigrad.engine import apply, gradients, is_grad_enabled, topo_order
from minigrad.ops import Op

ROOT = Path(__file__).resolve().parent.parent

# ----- seeding and errors ----------------------------------------------------------------------


def test_engine_backward_seeds_one_for_a_scalar():
    a = Value(3.0)
    b = a * 4.0
    b.backward()
    assert b.grad == 1.0 and type(b.grad) is float
    assert a.grad == 4.0 and type(a.grad) is float


def test_engine_backward_seeds_ones_for_a_one_element_array():
    a = Value(np.array([[3.0]]))
    b = a * 4.0
    b.backward()
    np.testing.assert_array_equal(b.grad, [[1.0]])
    np.testing.assert_array_equal(a.grad, [[4.0]])
    assert a.grad.shape == (1, 1)


def test_engine_backward_of_a_non_scalar_needs_a_gradient():
    a = Value(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"shape \(2,\).*gradient="):
        (a * 2.0).backward()
    assert a.grad is None


def test_engine_backward_with_an_explicit_gradient():
    a = Value(np.array([1.0, 2.0, 3.0]))
    b = a * a
    b.backward(np.array([1.0, 10.0, 100.0]))
    np.testing.assert_array_equal(a.grad, [2.0, 40.0, 600.0])
    c = Value(np.array([1.0, 2.0]))
    (c * 3.0).backward(gradient=Value(np.array([1.0, -1.0])))
    np.testing.assert_array_equal(c.grad, [3.0, -3.0])
    d = Value(np.array([1.0, 2.0]))
    (d * 3.0).backward([2, 1])  # a list (even of ints) is turned into a float array
    np.testing.assert_array_equal(d.grad, [6.0, 3.0])
    assert d.grad.dtype == np.float64


@pytest.mark.parametrize("gradient", [np.ones(3), np.ones((2, 1)), np.ones((1, 2)), 1.0])
def test_engine_backward_gradient_of_the_wrong_shape(gradient):
    a = Value(np.array([1.0, 2.0]))
    with pytest.raises(ValueError, match=r"gradient has shape .* Value has shape \(2,\)"):
        (a * 2.0).backward(gradient)
    assert a.grad is None


def test_engine_backward_of_a_constant_raises():
    with pytest.raises(RuntimeError, match="does not require grad"):
        (Value(2.0, requires_grad=False) * 3.0).backward()


# ----- accumulation ------------------------------------------------------------------------------


def test_engine_grads_reach_leaves_and_intermediates():
    a = Value(2.0)
    b = a * 3.0  # 6
    c = b * b  # 36
    d = c + b  # 42
    d.backward()
    assert d.grad == 1.0
    assert c.grad == 1.0
    assert b.grad == 2 * 6.0 + 1.0
    assert a.grad == 13.0 * 3.0


def test_engine_backward_twice_adds():
    a = Value(np.array([1.0, -2.0]))
    b = Value(5.0)
    out = (a * b).sum()
    out.backward()
    out.backward()
    np.testing.assert_array_equal(a.grad, [10.0, 10.0])
    assert b.grad == 2 * (1.0 - 2.0)
    assert out.grad == 2.0


def test_engine_zero_grad_then_backward_starts_afresh():
    a = Value(2.0)
    out = a * a
    out.backward()
    a.zero_grad()
    out.zero_grad()
    assert a.grad is None
    out.backward()
    assert a.grad == 4.0


def test_engine_reuse_counts_every_use():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0
    b = Value(3.0)
    (b * b * b).backward()
    assert b.grad == 27.0
    c = Value(np.array([1.0, 2.0]))
    (c + c + c).sum().backward()
    np.testing.assert_array_equal(c.grad, [3.0, 3.0])


def test_engine_diamond_counts_each_path_once():
    a = Value(2.0)
    b = a * 3.0  # path 1
    c = a.exp()  # path 2
    d = b * c  # 3a * e^a
    d.backward()
    assert a.grad == pytest.approx(3 * np.exp(2.0) + 6.0 * np.exp(2.0), rel=1e-15)
    assert b.grad == pytest.approx(np.exp(2.0), rel=1e-15)
    assert c.grad == 6.0
    # A wider diamond: one node feeding four consumers that meet again.
    x = Value(1.5)
    top = x * 2.0
    out = (top + top) * (top - 1.0) + top.sin()
    out.backward()
    expected_top = 2 * (3.0 - 1.0) + 2 * 3.0 + np.cos(3.0)
    assert top.grad == pytest.approx(expected_top, rel=1e-14)
    assert x.grad == pytest.approx(2 * expected_top, rel=1e-14)


def test_engine_scalar_add_and_mul_rules_written_out():
    # backward writes out + and * on floats: constants on either side, a shared input, an input
    # that needs no gradient, and one switched off after recording; every .grad a plain float.
    a, b = Value(1.5), Value(-2.0)
    k = Value(4.0, requires_grad=False)
    ab = a * b
    out = (2.0 * a + b * 3.0) * ab + k * a + 1.0 + a  # (2a + 3b) ab + k a + 1 + a
    out.backward()
    assert a.grad == 2 * -3.0 + -3.0 * -2.0 + 4.0 + 1.0  # 2ab + (2a + 3b) b + k + 1
    assert b.grad == 3 * -3.0 + -3.0 * 1.5  # 3ab + (2a + 3b) a
    assert ab.grad == -3.0 and k.grad is None
    assert all(type(v.grad) is float for v in (a, b, ab, out))
    c, d = Value(2.0), Value(5.0)
    cd = c * d
    c.requires_grad = False
    cd.backward()
    assert c.grad is None and d.grad == 2.0


def test_engine_many_uses_add_up_without_touching_other_nodes_grads():
    # A node used several times gets its uses' gradients summed, from the third use on in place
    # into the sum the pass made. + passes its g on unchanged, so a first pending gradient is
    # also another node's .grad: that one must not change.
    x = Value(np.array([1.0, 2.0], dtype=np.float32))
    h = x * 1.0
    s = h + h
    t = s + h
    t.sum().backward()
    for node, expected in [(t, 1.0), (s, 1.0), (h, 3.0), (x, 3.0)]:
        np.testing.assert_array_equal(node.grad, [expected, expected])
        assert node.grad.dtype == np.float32
    w = Value(np.array([0.5, -1.0]))
    total = w * 1.0
    for k in range(2, 7):
        total = total + w * float(k)
    total.sum().backward()
    np.testing.assert_array_equal(w.grad, [21.0, 21.0])
    (total * 2.0).sum().backward()  # a second pass adds to .grad again
    np.testing.assert_array_equal(w.grad, [63.0, 63.0])


def test_engine_broadcast_gradients_sum_to_the_input_shape():
    a = Value(np.array([[1.0], [2.0]]))  # (2, 1)
    b = Value(np.array([10.0, 20.0, 30.0]))  # (3,)
    s = Value(2.0)
    (a * b * s).sum().backward()
    np.testing.assert_array_equal(a.grad, [[120.0], [120.0]])
    np.testing.assert_array_equal(b.grad, [6.0, 6.0, 6.0])
    assert s.grad == 3 * 60.0 and type(s.grad) is float


# ----- constants ---------------------------------------------------------------------------------


def test_engine_requires_grad_false_gets_no_grad_and_records_nothing():
    k = Value(np.array([1.0, 2.0]), requires_grad=False)
    c = (k * 2.0).exp()  # computed only from constants
    assert c.requires_grad is False and c.parents == () and c.op == ""
    a = Value(np.array([3.0, 4.0]))
    out = (c * a).sum()
    assert out.requires_grad is True
    out.backward()
    assert k.grad is None and c.grad is None
    np.testing.assert_allclose(a.grad, np.exp([2.0, 4.0]))
    # The walk never visits them: no gradient work is spent on constants.
    order = topo_order(out)
    assert all(node.requires_grad for node in order)
    assert not any(node is k or node is c for node in order)
    assert [node.op for node in order] == ["", "*", "sum"] and order[0] is a


class CountingMul(Op):
    """x * y, remembering which gradient rules ran.  Gradient: gx = g * y, gy = g * x."""

    name = "counting_mul"
    ran: list = []
    forward = staticmethod(lambda x, y: x * y)
    grads = (
        lambda g, out, x, y: CountingMul.ran.append("x") or g * y,
        lambda g, out, x, y: CountingMul.ran.append("y") or g * x,
    )


def test_engine_constants_cost_no_gradient_work():
    CountingMul.ran.clear()
    a = Value(np.array([1.0, 2.0]))
    k = Value(np.array([3.0, 4.0]), requires_grad=False)
    apply(CountingMul, a, k).sum().backward()
    assert CountingMul.ran == ["x"]  # no rule for the constant k
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])
    CountingMul.ran.clear()
    b = Value(2.0)
    out = apply(CountingMul, apply(CountingMul, k, k), 1.0) * b  # a constant branch
    out.sum().backward()
    assert CountingMul.ran == []
    assert b.grad == 9.0 + 16.0


def test_engine_plain_numbers_become_constant_parents():
    a = Value(2.0)
    out = a * 3.0 + np.array([1.0, 2.0])
    assert [p.requires_grad for p in out.parents] == [True, False]
    out.sum().backward()
    assert out.parents[1].grad is None
    assert a.grad == 6.0


def test_engine_plain_arrays_in_joins_are_constants():
    a = Value(np.array([1.0, 2.0]))
    out = mg.concat([a, np.array([3.0]), a * 2.0])
    np.testing.assert_array_equal(out.data, [1.0, 2.0, 3.0, 2.0, 4.0])
    assert [p.requires_grad for p in out.parents] == [True, False, True]
    out.backward(np.array([1.0, 10.0, 100.0, 1000.0, 10000.0]))
    np.testing.assert_array_equal(a.grad, [2001.0, 20010.0])
    assert out.parents[1].grad is None
    b = Value(2.0)
    stacked = mg.stack([b, 5.0, np.float64(7.0)])
    stacked.backward(np.array([1.0, 2.0, 3.0]))
    assert b.grad == 1.0 and type(b.grad) is float


def test_engine_gradients_returns_without_storing():
    a, b, unused = Value(2.0), Value(np.array([1.0, 2.0])), Value(np.ones((2, 2)))
    out = (a * b).sum()
    ga, gb, gu = gradients(out, [a, b, unused])
    assert ga == 3.0
    np.testing.assert_array_equal(gb, [2.0, 2.0])
    np.testing.assert_array_equal(gu, np.zeros((2, 2)))
    assert a.grad is None and b.grad is None and out.grad is None


def test_engine_backward_inputs_fills_only_their_grads_as_in_pytorch():
    x, w = Value(np.array([1.0, 2.0])), Value(np.array([3.0, 4.0]))
    h = x * w
    y = (h * h).sum()  # dy/dw = 2 h x = 2 x**2 w, dy/dx = 2 x w**2
    y.backward(inputs=[w])
    np.testing.assert_array_equal(w.grad, [6.0, 32.0])
    assert x.grad is None and h.grad is None and y.grad is None  # nothing kept for the rest
    y.backward(inputs=w)  # a single Value, and a second call adds up
    np.testing.assert_array_equal(w.grad, [12.0, 64.0])
    y.backward(inputs=[x, h])  # an intermediate can be asked for too
    np.testing.assert_array_equal(x.grad, [18.0, 64.0])
    np.testing.assert_array_equal(h.grad, [6.0, 16.0])
    unused = Value(1.0)
    y.backward(inputs=[unused])  # not reached: left alone, like an unrelated leaf
    assert unused.grad is None


def test_engine_backward_inputs_with_create_graph_gives_second_derivatives():
    x = Value(2.0)
    (x**3).backward(create_graph=True, inputs=[x])
    first = x.grad
    assert first.data == 12.0 and first.requires_grad  # 3 x**2, differentiable again
    x.zero_grad()
    first.backward(inputs=[x])
    assert x.grad == 12.0  # 6 x


@pytest.mark.parametrize(
    "inputs, error, words",
    [
        ([], ValueError, "inputs is empty"),
        (3, TypeError, "got int"),
        ([Value(1.0), "w"], TypeError, "inputs[1] has type str"),
        ([Value(1.0, requires_grad=False)], ValueError, "inputs[0] does not require grad"),
    ],
)
def test_engine_backward_inputs_errors_name_the_problem(inputs, error, words):
    y = Value(2.0) * 3.0
    with pytest.raises(error) as info:
        y.backward(inputs=inputs)
    assert words in str(info.value)


# ----- no_grad -----------------------------------------------------------------------------------


def test_engine_no_grad_context_manager():
    a = Value(2.0)
    assert is_grad_enabled()
    with mg.no_grad():
        assert not is_grad_enabled()
        b = a * a
    assert is_grad_enabled()
    assert b.requires_grad is False and b.parents == () and b.op == ""
    assert b.data == 4.0
    with pytest.raises(RuntimeError):
        b.backward()


def test_engine_no_grad_nests_and_restores_after_an_error():
    with mg.no_grad():
        with mg.no_grad():
            pass
        assert not is_grad_enabled()
        with mg.enable_grad():
            assert (Value(1.0) * 2.0).requires_grad
        assert not is_grad_enabled()
    assert is_grad_enabled()
    with pytest.raises(KeyError):
        with mg.no_grad():
            raise KeyError("boom")
    assert is_grad_enabled()


def test_engine_no_grad_decorator():
    @mg.no_grad()
    def double(v):
        assert not is_grad_enabled()
        return v * 2.0

    out = double(Value(1.5))
    assert out.data == 3.0 and out.requires_grad is False and out.parents == ()
    assert is_grad_enabled()
    assert (Value(1.0) * 2.0).requires_grad


def test_engine_no_grad_is_thread_local():
    inside = threading.Event()
    checked = threading.Event()
    seen = {}

    def worker():
        with mg.no_grad():
            inside.set()
            checked.wait(5)
            seen["worker"] = (Value(1.0) * 2.0).requires_grad

    thread = threading.Thread(target=worker)
    thread.start()
    assert inside.wait(5)
    # The other thread is inside no_grad right now; this one still records.
    seen["main"] = (Value(1.0) * 2.0).requires_grad
    seen["main_enabled"] = is_grad_enabled()
    checked.set()
    thread.join(5)
    assert seen == {"main": True, "main_enabled": True, "worker": False}


# ----- a very deep graph ------------------------------------------------------------------------

DEEP_CHAIN = textwrap.dedent("""
    import gc, sys, weakref
    sys.setrecursionlimit(1000)  # the walk must not recurse, so the default limit is plenty
    from minigrad import Value
    x = Value(1.0)
    y = x
    for i in range(1_000_000):
        y = y * 1.0001
        if i == 500_000:
            middle = weakref.ref(y)
    y.backward()
    print(repr(x.grad))
    gc.disable()
    del y  # freeing a million nested nodes must not overflow the C stack
    # freed by reference counting alone, at once: the graph holds no reference cycle
    print("freed" if middle() is None else "still-alive")
""")


# Started when this module is imported (at collection), so the ~10 s it takes run on a second
# core alongside the other tests; the test below only collects the result. Killed at exit if the
# test was deselected.
_deep_chain = subprocess.Popen(
    [sys.executable, "-c", DEEP_CHAIN],
    stdout=subprocess.PIPE,
    stderr=subprocess.PIPE,
    text=True,
    cwd=ROOT,
)
atexit.register(_deep_chain.kill)


def test_engine_million_op_chain_backpropagates_and_frees():
    # In a subprocess: a crash (stack overflow in backward or in freeing) fails this test
    # instead of killing pytest.
    stdout, stderr = _deep_chain.communicate(timeout=600)
    assert _deep_chain.returncode == 0, f"exit {_deep_chain.returncode}: {stderr[-2000:]}"
    grad_text, freed = stdout.split()
    assert freed == "freed"
    expected = 1.0001**1e6
    assert float(grad_text) == pytest.approx(expected, rel=1e-9)


def test_engine_two_threads_backward_through_one_shared_parameter():
    # Backward keeps its bookkeeping on the nodes; passes through shared nodes must take turns,
    # or each thread's gradients are silently wrong.
    rng = np.random.default_rng(0)
    w = Value(rng.standard_normal(30))
    xs = [rng.standard_normal(30) for _ in range(6)]

    def f(x):
        return ((w * x).tanh() * (w + x)).sum()

    expected = [gradients(f(x), [w])[0] for x in xs]
    wrong = []

    def work(k):
        for step in range(150):
            i = (k + step) % len(xs)
            if not np.array_equal(gradients(f(xs[i]), [w])[0], expected[i]):
                wrong.append(i)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wrong == []


# ----- gradient hooks (Value.register_hook) --------------------------------------------------
def test_engine_hook_sees_and_replaces_the_gradient():
    x = mg.Value(np.array([1.0, 2.0]))
    y = x * 3.0
    seen = []
    handle = y.register_hook(lambda g: seen.append(g.copy()) or g * 10.0)
    (y * y).sum().backward()
    np.testing.assert_array_equal(seen[0], [6.0, 12.0])  # d(sum y^2)/dy = 2y
    np.testing.assert_array_equal(y.grad, [60.0, 120.0])  # the replacement is stored ...
    np.testing.assert_array_equal(x.grad, [180.0, 360.0])  # ... and flows on
    handle.remove()
    x.grad = y.grad = None
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad, [18.0, 36.0])
    assert len(seen) == 1


def test_engine_hook_on_a_scalar_leaf_and_a_wrong_shape():
    a = mg.Value(2.0)
    a.register_hook(lambda g: 2 * g)
    (a * a).backward()
    assert a.grad == 8.0 and type(a.grad) is float
    b = mg.Value(np.ones(3))
    b.register_hook(lambda g: np.ones(2))
    with pytest.raises(ValueError, match=r"shape \(2,\).*shape \(3,\)"):
        b.sum().backward()


def test_engine_no_grad_with_and_without_parentheses():
    @mg.no_grad
    def bare(x):
        return x * 2.0

    @mg.no_grad()
    def called(x):
        return x * 2.0

    x = mg.Value(1.0)
    for f in (bare, called):
        y = f(x)
        assert not y.requires_grad and y.data == 2.0
        assert mg.is_grad_enabled()
    assert bare.__name__ == "bare"
    with mg.no_grad():
        assert not (x * 2.0).requires_grad
        with mg.enable_grad():
            assert (x * 2.0).requires_grad
    assert (x * 2.0).requires_grad
    with pytest.raises(TypeError, match="no_grad"):
        mg.no_grad(3)
