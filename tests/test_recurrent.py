"""nn.RNN, nn.LSTM, nn.GRU and their cells: PyTorch's outputs and gradients from the same
state_dict (float64, 1e-7, when PyTorch is installed), the fused layers against stepping the
cells, finite differences, long sequences, truncated BPTT, dtypes, and errors."""

import gc
import weakref

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

KINDS = ["RNN", "LSTM", "GRU"]
STACKS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True},
    {"bias": False},
]


def torch_or_skip():
    torch = pytest.importorskip("torch", reason="PyTorch is needed for the parity tests")
    torch.set_num_threads(1)
    return torch


def twin(kind, *args, **kwargs):
    """A PyTorch layer (float64) and the minigrad one with its state_dict loaded."""
    torch = torch_or_skip()
    theirs = getattr(torch.nn, kind)(*args, **kwargs).double()
    ours = getattr(nn, kind)(*args, **kwargs)
    state = {k: v.detach().numpy() for k, v in theirs.state_dict().items()}
    assert list(state) == [name for name, _ in ours.named_parameters()]
    ours.load_state_dict(state)
    return torch, theirs, ours


def loss_of(out, state, lib):
    """A loss that weighs every output and state entry differently (so each gradient counts)."""
    states = state if isinstance(state, tuple) else (state,)
    total = (out * out).sum() + (out * 0.3).sum()
    for k, s in enumerate(states):
        total = total + (s * s * s).sum() * (k + 1.0)
    return total


def assert_close(a, b, what):
    np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-7, atol=1e-9, err_msg=what)


def compare(kind, args, kwargs, x, states=None):
    """Forward, states and all gradients (input, initial states, parameters) against PyTorch."""
    torch, theirs, ours = twin(kind, *args, **kwargs)
    xt = torch.tensor(x, requires_grad=True)
    xm = mg.Value(x)
    st = sm = None
    if states is not None:
        st = tuple(torch.tensor(s, requires_grad=True) for s in states)
        sm = tuple(mg.Value(s) for s in states)
        if kind != "LSTM":
            st, sm = st[0], sm[0]
    out_t, state_t = theirs(xt, st)
    out_m, state_m = ours(xm, sm)
    assert out_m.shape == tuple(out_t.shape)
    assert_close(out_m.data, out_t.detach().numpy(), "output")
    pairs = zip(state_m, state_t) if kind == "LSTM" else [(state_m, state_t)]
    for m, t in pairs:
        assert m.shape == tuple(t.shape)
        assert_close(m.data, t.detach().numpy(), "final state")
    loss_of(out_t, state_t, torch).backward()
    loss_of(out_m, state_m, mg).backward()
    assert_close(xm.grad, xt.grad.numpy(), "input gradient")
    if states is not None:
        for m, t in zip(sm if kind == "LSTM" else [sm], st if kind == "LSTM" else [st]):
            assert_close(m.grad, t.grad.numpy(), "initial state gradient")
    ours_params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert_close(ours_params[name].grad, p.grad.numpy(), f"gradient of {name}")


def states_for(kind, rows, batch, hidden, rng):
    shape = (rows, batch, hidden) if batch else (rows, hidden)
    count = 2 if kind == "LSTM" else 1
    return tuple(rng.uniform(-0.8, 0.8, shape) for _ in range(count))


# ----- PyTorch parity -----------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("stack", STACKS, ids=lambda s: ",".join(f"{k}={v}" for k, v in s.items()))
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("with_state", [False, True])
def test_layer_matches_torch(kind, stack, batch_first, with_state):
    rng = np.random.default_rng(len(kind) + 10 * len(stack) + batch_first)
    steps, batch, n_in, hidden = 6, 3, 4, 5
    shape = (batch, steps, n_in) if batch_first else (steps, batch, n_in)
    x = rng.normal(size=shape)
    rows = stack.get("num_layers", 1) * (2 if stack.get("bidirectional") else 1)
    states = states_for(kind, rows, batch, hidden, rng) if with_state else None
    compare(kind, (n_in, hidden), dict(stack, batch_first=batch_first), x, states)


def test_rnn_relu_matches_torch():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 2, 3))
    states = states_for("RNN", 2, 2, 4, rng)
    compare("RNN", (3, 4), {"nonlinearity": "relu", "num_layers": 2}, x, states)


@pytest.mark.parametrize("kind", KINDS)
def test_unbatched_input_matches_torch(kind):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 3))
    compare(kind, (3, 2), {"bidirectional": True}, x, states_for(kind, 2, 0, 2, rng))
    compare(kind, (3, 2), {}, x)


def test_state_dict_loads_into_torch_both_ways():
    torch = torch_or_skip()
    ours = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    theirs = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True).double()
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(3).normal(size=(5, 2, 3))
    out_t, _ = theirs(torch.from_numpy(x))
    assert_close(ours(x)[0].data, out_t.detach().numpy(), "output")
    names = [
        f"{w}_l{layer}{s}"
        for layer in range(2)
        for s in ("", "_reverse")
        for w in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    assert list(ours.state_dict()) == names


CELL_CASES = [
    (kind, variant)
    for kind in ["RNNCell", "LSTMCell", "GRUCell"]
    for variant in ["state", "no state", "unbatched", "no bias"]
] + [("RNNCell", "relu")]


@pytest.mark.parametrize(("kind", "variant"), CELL_CASES)
def test_cell_matches_torch(kind, variant):
    torch = torch_or_skip()
    kwargs = {"bias": variant != "no bias"}
    if variant == "relu":
        kwargs["nonlinearity"] = "relu"
    theirs = getattr(torch.nn, kind)(3, 4, **kwargs).double()
    ours = getattr(nn, kind)(3, 4, **kwargs)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    rng = np.random.default_rng(4)
    batch = () if variant == "unbatched" else (2,)
    x = rng.normal(size=(*batch, 3))
    xt, xm = torch.tensor(x, requires_grad=True), mg.Value(x)
    count = 2 if kind == "LSTMCell" else 1
    if variant == "no state":
        st = sm = None
    else:
        raw = [rng.uniform(-0.8, 0.8, (*batch, 4)) for _ in range(count)]
        st = [torch.tensor(s, requires_grad=True) for s in raw]
        sm = [mg.Value(s) for s in raw]
    arg_t = (tuple(st) if count == 2 else st[0]) if st is not None else None
    arg_m = (tuple(sm) if count == 2 else sm[0]) if sm is not None else None
    out_t, out_m = theirs(xt, arg_t), ours(xm, arg_m)
    outs_t = out_t if count == 2 else (out_t,)
    outs_m = out_m if count == 2 else (out_m,)
    for m, t in zip(outs_m, outs_t):
        assert m.shape == tuple(t.shape)
        assert_close(m.data, t.detach().numpy(), "cell output")
    loss_of(outs_t[0], tuple(outs_t[1:]), torch).backward()
    loss_of(outs_m[0], tuple(outs_m[1:]), mg).backward()
    assert_close(xm.grad, xt.grad.numpy(), "input gradient")
    for m, t in zip(sm or [], st or []):
        assert_close(m.grad, t.grad.numpy(), "state gradient")
    params = dict(ours.named_parameters())
    for name, p in theirs.named_parameters():
        assert_close(params[name].grad, p.grad.numpy(), name)


# ----- without PyTorch --------------------------------------------------------------------------
@pytest.mark.parametrize("kind", KINDS)
def test_layer_equals_stepping_its_cell(kind):
    """The fused scan and a Python loop of the cell (small ops) give the same numbers."""
    layer = getattr(nn, kind)(3, 4)
    cell = getattr(nn, kind + "Cell")(3, 4)
    cell.load_state_dict({k[: -len("_l0")]: v for k, v in layer.state_dict().items()})
    rng = np.random.default_rng(5)
    x = rng.normal(size=(7, 2, 3))
    xs, xc = mg.Value(x), mg.Value(x)
    out, state = layer(xs)
    h, hs = None, []
    for t in range(7):
        h = cell(xc[t], h)
        hs.append(h[0] if kind == "LSTM" else h)
    stepped = mg.stack(hs)
    np.testing.assert_allclose(out.data, stepped.data, rtol=1e-12, atol=1e-14)
    last = state[1] if kind == "LSTM" else state
    ref_last = h[1] if kind == "LSTM" else h
    np.testing.assert_allclose(last.data[0], ref_last.data, rtol=1e-12, atol=1e-14)
    ((out * out).sum() + last.sum()).backward()
    ((stepped * stepped).sum() + ref_last.sum()).backward()
    np.testing.assert_allclose(xs.grad, xc.grad, rtol=1e-10, atol=1e-13)
    cell_grads = {k: p.grad for k, p in cell.named_parameters()}
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad, cell_grads[name[:-3]], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("kind", KINDS)
def test_layer_gradients_match_finite_differences(kind):
    layer = getattr(nn, kind)(2, 3, num_layers=2, bidirectional=True, rng=0)
    rng = np.random.default_rng(6)
    x = rng.normal(size=(3, 2, 2))
    h0 = rng.uniform(-0.5, 0.5, (4, 2, 3))
    state = (h0, h0 * 0.5) if kind == "LSTM" else h0

    names = [name for name, _ in layer.named_parameters()]

    def f(x, *weights):  # the layer with these Values as its parameters
        for name, w in zip(names, weights):
            setattr(layer, name, w)
        out, _ = layer(x, state)
        return (out * out).sum()

    assert mg.gradcheck(f, x, *[p.data.copy() for p in layer.parameters()])


def test_long_sequence_backpropagates_is_few_nodes_and_is_freed_at_once():
    lstm = nn.LSTM(3, 8, rng=0)
    x = mg.Value(np.random.default_rng(7).normal(size=(1000, 2, 3)))
    gc.disable()
    try:
        out, (h, c) = lstm(x)
        loss = (out * out).mean() + c.sum()
        nodes, stack = set(), [loss]
        while stack:  # the whole graph, however long the sequence
            v = stack.pop()
            if id(v) not in nodes:
                nodes.add(id(v))
                stack.extend(v.parents)
        assert len(nodes) < 25, f"{len(nodes)} nodes for one LSTM layer"
        loss.backward()
        assert x.grad.shape == (1000, 2, 3) and np.all(np.isfinite(x.grad))
        assert np.abs(x.grad[0]).max() > 0  # the first step still gets a gradient
        alive = weakref.ref(out)
        del out, h, c, loss, v, stack
        assert alive() is None, "the graph of a sequence must be freed without the collector"
    finally:
        gc.enable()


def test_truncated_bptt_with_detach():
    """Chunk 2 backpropagates into its own steps only: the same gradients as starting it
    from a constant state with chunk 1's numbers."""
    gru = nn.GRU(2, 3, rng=1)
    x = np.random.default_rng(8).normal(size=(8, 1, 2))
    _, h = gru(x[:4])
    h = h.detach()
    out, _ = gru(x[4:], h)
    (out * out).sum().backward()
    grads = [p.grad.copy() for p in gru.parameters()]
    gru.zero_grad()
    out2, _ = gru(x[4:], h.data.copy())
    (out2 * out2).sum().backward()
    for a, p in zip(grads, gru.parameters()):
        np.testing.assert_array_equal(a, p.grad)
    assert h.grad is None and not h.requires_grad


def test_float32_stays_float32():
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=np.float32)
    out, (h, c) = lstm(np.ones((5, 2, 3)))  # float64 input is converted, as Linear does
    assert out.dtype == h.dtype == c.dtype == np.float32
    ((out * out).sum() + c.sum()).backward()
    assert all(p.grad.dtype == np.float32 for p in lstm.parameters())
    cell = nn.GRUCell(3, 4, dtype=np.float32)
    assert cell(np.ones((2, 3))).dtype == np.float32


def test_dropout_only_between_layers_and_only_in_training():
    x = np.random.default_rng(9).normal(size=(5, 2, 3))
    lstm = nn.LSTM(3, 4, num_layers=2, dropout=0.5, rng=0)
    plain = nn.LSTM(3, 4, num_layers=2)
    plain.load_state_dict(lstm.state_dict())
    train_out = lstm(x)[0].data
    assert not np.allclose(train_out, plain(x)[0].data)
    lstm.eval()
    np.testing.assert_array_equal(lstm(x)[0].data, plain(x)[0].data)
    one = nn.GRU(3, 4, dropout=0.5)  # one layer: nothing between layers, no dropout
    twin = nn.GRU(3, 4)
    twin.load_state_dict(one.state_dict())
    np.testing.assert_array_equal(one(x)[0].data, twin(x)[0].data)


def test_reprs_and_parameter_shapes_as_pytorch():
    lstm = nn.LSTM(10, 20, num_layers=2, batch_first=True, dropout=0.25, bidirectional=True)
    assert repr(lstm) == (
        "LSTM(10, 20, num_layers=2, batch_first=True, dropout=0.25, bidirectional=True)"
    )
    shapes = {k: v.shape for k, v in lstm.state_dict().items()}
    assert shapes["weight_ih_l0"] == (80, 10) and shapes["weight_ih_l1_reverse"] == (80, 40)
    assert shapes["weight_hh_l1"] == (80, 20) and shapes["bias_hh_l0_reverse"] == (80,)
    assert repr(nn.GRUCell(3, 4, bias=False)) == "GRUCell(3, 4, bias=False)"
    assert repr(nn.RNNCell(3, 4, nonlinearity="relu")) == "RNNCell(3, 4, nonlinearity=relu)"
    bound = 1 / np.sqrt(20)
    assert all(np.abs(p.data).max() <= bound for p in lstm.parameters())


# ----- errors -----------------------------------------------------------------------------------
def test_layer_input_errors_name_layer_layout_and_shape():
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match=r"LSTM expects input of shape \(L, N, H_in\).*\(5, 2, 7"):
        lstm(np.ones((5, 2, 7)))
    with pytest.raises(ValueError, match=r"\(N, L, H_in\) with batch_first=True.*\(2, 3, 3, 3\)"):
        nn.GRU(3, 4, batch_first=True)(np.ones((2, 3, 3, 3)))
    with pytest.raises(ValueError, match=r"RNN expects.*input_size = 3.*got shape \(3,\)"):
        nn.RNN(3, 4)(np.ones(3))


def test_layer_state_errors():
    x = np.ones((5, 2, 3))
    with pytest.raises(ValueError, match=r"GRU: hx \(h_0\) must have shape .* = \(2, 2, 4\).*"):
        nn.GRU(3, 4, num_layers=2)(x, np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match=r"LSTM: c_0 must have shape .*\(1, 2, 4\).*\(1, 3, 4\)"):
        nn.LSTM(3, 4)(x, (np.zeros((1, 2, 4)), np.zeros((1, 3, 4))))
    with pytest.raises(TypeError, match=r"LSTM: hx must be a tuple \(h_0, c_0\)"):
        nn.LSTM(3, 4)(x, np.zeros((1, 2, 4)))
    with pytest.raises(ValueError, match=r"\(D \* num_layers, H_out\) = \(2, 4\)"):
        nn.RNN(3, 4, bidirectional=True)(np.ones((5, 3)), np.zeros((2, 2, 4)))


def test_cell_errors():
    with pytest.raises(ValueError, match=r"LSTMCell expects input of shape \(N, H_in\).*\(2, 5\)"):
        nn.LSTMCell(3, 4)(np.ones((2, 5)))
    with pytest.raises(ValueError, match=r"GRUCell: hx must have shape \(N, H_out\) = \(2, 4\)"):
        nn.GRUCell(3, 4)(np.ones((2, 3)), np.zeros((2, 5)))
    with pytest.raises(ValueError, match=r"LSTMCell: hx\[1\] \(c\) must have shape"):
        nn.LSTMCell(3, 4)(np.ones((2, 3)), (np.zeros((2, 4)), np.zeros((3, 4))))
    with pytest.raises(TypeError, match="LSTMCell: hx must be a tuple"):
        nn.LSTMCell(3, 4)(np.ones((2, 3)), np.zeros((2, 4)))


def test_constructor_errors():
    with pytest.raises(ValueError, match="RNN: nonlinearity must be 'tanh' or 'relu'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match="LSTM: dropout must be a probability"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match="GRU: hidden_size must be a positive integer"):
        nn.GRU(3, 0)
    with pytest.raises(ValueError, match="RNNCell: nonlinearity"):
        nn.RNNCell(3, 4, nonlinearity="gelu")


def test_scan_op_errors_name_the_op_and_layout():
    with pytest.raises(ValueError, match=r"lstm_scan needs xw \(L, N, 4\*H\).*got xw \(2, 1, 6\)"):
        mg.ops.lstm_scan(np.ones((2, 1, 6)), np.ones((1, 2)), np.ones((1, 2)), np.ones((8, 2)))
    with pytest.raises(ValueError, match=r"gru_scan needs b_hh of shape \(6,\)"):
        mg.ops.gru_scan(np.ones((2, 1, 6)), np.ones((1, 2)), np.ones((6, 2)), np.ones(5))
