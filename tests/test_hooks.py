"""Watching gradients flow: Value.register_hook (engine) and the module hooks (nn/hooks.py),
against hand-computed gradients and PyTorch's hooks in float64."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from minigrad import Value, nn


# ----- Value.register_hook ----------------------------------------------------------------------
def test_value_hook_sees_the_whole_gradient_arriving():
    x = Value(3.0)
    y = x * x  # dy/dx = 6
    z = y * 2.0 + y  # dz/dy = 3, from two uses
    seen = []
    y.register_hook(seen.append)
    z.backward()
    assert seen == [3.0] and y.grad == 3.0 and x.grad == 18.0


def test_value_hook_replacement_flows_on_and_remove_takes_it_off():
    x = Value(np.array([1.0, 2.0]))
    y = x * 3.0
    handle = y.register_hook(lambda g: g * 10.0)
    (y * y).sum().backward()  # dL/dy = 2y = [6, 12]
    np.testing.assert_array_equal(y.grad, [60.0, 120.0])  # .grad holds the replacement
    np.testing.assert_array_equal(x.grad, [180.0, 360.0])
    handle.remove()
    x.grad = y.grad = None
    (y * y).sum().backward()
    np.testing.assert_array_equal(x.grad, [18.0, 36.0])


def test_value_hooks_chain_and_match_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch compares tensor hooks")
    data = np.array([[0.5, -1.0], [2.0, 0.3]])
    x = Value(data)
    h = (x @ x).tanh()
    h.register_hook(lambda g: g * 2.0)
    h.register_hook(lambda g: g + 1.0)  # sees the first hook's result
    (h * h).sum().backward()
    tx = torch.tensor(data, requires_grad=True)
    th = torch.tanh(tx @ tx)
    th.register_hook(lambda g: g * 2.0)
    th.register_hook(lambda g: g + 1.0)
    (th * th).sum().backward()
    np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-12)


def test_value_hook_under_create_graph_gets_values():
    x = Value(2.0)
    y = x * x * x
    got = []
    y.register_hook(lambda g: got.append(g))
    y.backward(create_graph=True)
    assert isinstance(got[0], Value)
    (gx,) = mg.engine.gradients(x.grad, [x])
    assert gx == 12.0


# ----- module hooks -----------------------------------------------------------------------------
def _model(rng):
    model = nn.Sequential(nn.Linear(3, 4, rng=rng), nn.Tanh(), nn.Linear(4, 2, rng=rng))
    return model, rng.standard_normal((5, 3))


def test_forward_pre_hook_and_forward_hook_see_and_change():
    rng = np.random.default_rng(0)
    model, x = _model(rng)
    seen = []
    pre = model[0].register_forward_pre_hook(lambda m, args: seen.append(("pre", args[0].shape)))
    post = model[0].register_forward_hook(
        lambda m, args, out: seen.append(("out", m is model[0], out.shape))
    )
    plain = model(x).data
    assert seen == [("pre", (5, 3)), ("out", True, (5, 4))]
    pre.remove()
    post.remove()
    with model[0].register_forward_pre_hook(lambda m, args: (args[0] * 2.0,)):
        doubled = model(x).data
    np.testing.assert_allclose(doubled, model(2.0 * x).data, rtol=1e-15)
    with model[2].register_forward_hook(lambda m, args, out: out * 0.0 + 1.0):
        np.testing.assert_array_equal(model(x).data, np.ones((5, 2)))
    np.testing.assert_array_equal(model(x).data, plain)  # all hooks gone
    assert not model[0]._hooks


def test_full_backward_hook_gradients_match_pytorch():
    torch = pytest.importorskip("torch", reason="PyTorch compares module backward hooks")
    rng = np.random.default_rng(1)
    model, x = _model(rng)
    got = []
    model[2].register_full_backward_hook(lambda m, gi, go: got.append((m, gi, go)))
    out = model(Value(x))
    loss = (out * out).sum()
    loss.backward()

    tmodel = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    tmodel = tmodel.double()
    with torch.no_grad():
        for mine, theirs in zip([model[0], model[2]], [tmodel[0], tmodel[2]]):
            theirs.weight.copy_(torch.tensor(mine.weight.data))
            theirs.bias.copy_(torch.tensor(mine.bias.data))
    tgot = []
    tmodel[2].register_full_backward_hook(lambda m, gi, go: tgot.append((gi, go)))
    tx = torch.tensor(x, requires_grad=True)
    tout = tmodel(tx)
    (tout * tout).sum().backward()

    (module, grad_input, grad_output), ((tgi,), (tgo,)) = got[0], tgot[0]
    assert len(got) == 1 and module is model[2]
    np.testing.assert_allclose(grad_output[0], tgo.numpy(), rtol=1e-12)
    np.testing.assert_allclose(grad_input[0], tgi.numpy(), rtol=1e-12)
    np.testing.assert_allclose(grad_output[0], 2 * out.data, rtol=1e-15)
    np.testing.assert_allclose(model[0].weight.grad, tmodel[0].weight.grad.numpy(), rtol=1e-12)


def test_full_backward_hook_may_replace_grad_input():
    rng = np.random.default_rng(2)
    model, x = _model(rng)
    model(x).sum().backward()
    plain = model[0].weight.grad.copy()
    model.zero_grad()
    handle = model[2].register_full_backward_hook(lambda m, gi, go: (gi[0] * 0.5,))
    model(x).sum().backward()
    # Everything before layer 2 gets half the gradient; layer 2's own parameters do not change
    np.testing.assert_allclose(model[0].weight.grad, 0.5 * plain, rtol=1e-14)
    handle.remove()
    model.zero_grad()
    model(x).sum().backward()
    np.testing.assert_array_equal(model[0].weight.grad, plain)


class _Product(nn.Module):
    def forward(self, a, b, scale=1.0):
        return a * b * scale


def test_full_backward_hook_with_several_inputs_and_passes():
    m = _Product()
    calls = []
    m.register_full_backward_hook(lambda mod, gi, go: calls.append((gi, go)))
    a, b = Value(np.array([1.0, 2.0])), Value(np.array([3.0, -1.0]))
    out = m(a, b, scale=2.0)
    (out * 3.0).sum().backward()
    (grad_a, grad_b), (grad_out,) = calls[0]
    np.testing.assert_array_equal(grad_out, [3.0, 3.0])
    np.testing.assert_array_equal(grad_a, 6.0 * b.data)
    np.testing.assert_array_equal(grad_b, 6.0 * a.data)
    out.sum().backward()  # a second pass over the same graph: called again, with its numbers
    assert len(calls) == 2 and np.array_equal(calls[1][1][0], [1.0, 1.0])
    # an input that needs no gradient has None; a plain number is not watched
    calls.clear()
    m(a, np.array([1.0, 1.0])).sum().backward()
    assert calls[0][0][1] is None and np.array_equal(calls[0][0][0], [1.0, 1.0])
    # no pass reaches the module: no call
    calls.clear()
    m(a, b)
    (a * 1.0).sum().backward()
    assert calls == []


def test_full_backward_hook_replacing_an_earlier_input_is_an_error():
    m = _Product()
    m.register_full_backward_hook(lambda mod, gi, go: tuple(g * 2.0 for g in gi))
    a, b = Value(1.0), Value(2.0)
    with pytest.raises(RuntimeError, match="replacing the gradient of input"):
        m(a, b).backward()
    m2 = _Product()
    m2.register_full_backward_hook(lambda mod, gi, go: gi[0])
    with pytest.raises(TypeError, match="must return None or a tuple of 2 gradients"):
        m2(Value(1.0), Value(2.0)).backward()
    with pytest.raises(TypeError, match="expected a callable"):
        m.register_forward_hook("not a function")


def test_module_backward_hooks_keep_no_graph_alive():
    import gc
    import weakref

    from minigrad.engine import hooks

    before = len(hooks._hooks)
    model = nn.Sequential(nn.Linear(2, 2, rng=0), nn.Tanh())
    handle = model[0].register_full_backward_hook(lambda m, gi, go: None)
    out = model(Value(np.ones((3, 2))))
    out.sum().backward()
    watch = weakref.ref(out)
    del out
    gc.collect()
    assert watch() is None  # the graph (and its border nodes with their hooks) is freed
    assert len(hooks._hooks) == before  # no hook left behind sends backward down the slow path
    handle.remove()
