"""minigrad.nn: scalar neurons (micrograd-compatible), array layers, init, Module plumbing."""

import math

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.nn import init


def set_neuron(neuron, weights, bias):
    for w, value in zip(neuron.w, weights):
        w.data = value
    neuron.b.data = bias


# ----- single-number granularity -------------------------------------------------------------
def test_neuron_identity_forward_and_gradients_by_hand():
    n = nn.Neuron(2, activation="identity")
    set_neuron(n, [2.0, -1.0], 0.5)
    out = n([3.0, 4.0])
    assert out.data == 0.5 + 2.0 * 3.0 - 1.0 * 4.0
    out.backward()
    assert [w.grad for w in n.w] == [3.0, 4.0]  # d out / d w_i = x_i
    assert n.b.grad == 1.0


@pytest.mark.parametrize(
    "activation, f, df",
    [
        ("relu", lambda z: max(z, 0.0), lambda z: float(z > 0)),
        ("tanh", math.tanh, lambda z: 1 - math.tanh(z) ** 2),
        (
            "sigmoid",
            lambda z: 1 / (1 + math.exp(-z)),
            lambda z: (1 / (1 + math.exp(-z))) * (1 - 1 / (1 + math.exp(-z))),
        ),
        ("identity", lambda z: z, lambda z: 1.0),
    ],
)
@pytest.mark.parametrize("z_sign", [1.0, -1.0])
def test_neuron_activation_values_and_gradients(activation, f, df, z_sign):
    n = nn.Neuron(2, activation=activation)
    set_neuron(n, [0.5 * z_sign, 0.25 * z_sign], 0.1 * z_sign)
    x = [1.5, -0.5]
    z = 0.1 * z_sign + 0.5 * z_sign * 1.5 + 0.25 * z_sign * -0.5
    out = n(x)
    assert out.data == pytest.approx(f(z), abs=1e-15)
    out.backward()
    assert n.w[0].grad == pytest.approx(df(z) * 1.5, abs=1e-15)
    assert n.b.grad == pytest.approx(df(z), abs=1e-15)


def test_neuron_nonlin_flag_matches_micrograd():
    assert nn.Neuron(3).activation == "relu"
    assert nn.Neuron(3, nonlin=False).activation == "identity"
    assert nn.Neuron(3, nonlin=False).nonlin is False
    assert nn.Neuron(3, nonlin=False, activation="tanh").activation == "tanh"


def test_neuron_checks_input_length_and_activation_name():
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        nn.Neuron(2)([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="activation must be one of .* got 'gelu'"):
        nn.Neuron(2, activation="gelu")
    with pytest.raises(ValueError, match="nin must be a positive integer"):
        nn.Neuron(0)


def test_layer_returns_value_for_one_neuron_and_list_for_several():
    assert isinstance(nn.Layer(3, 1)([1.0, 2.0, 3.0]), mg.Value)
    outs = nn.Layer(3, 4)([1.0, 2.0, 3.0])
    assert isinstance(outs, list) and len(outs) == 4
    assert all(type(o.data) is float for o in outs)


def test_mlp_micrograd_demo_interface():
    mg.manual_seed(0)
    model = nn.MLP(2, [16, 16, 1])
    params = model.parameters()
    assert len(params) == 2 * 16 + 16 + 16 * 16 + 16 + 16 + 1
    assert all(type(p.data) is float for p in params)
    # micrograd's order: each neuron's weights then its bias, layer by layer
    first = model.layers[0].neurons[0]
    assert params[:3] == [first.w[0], first.w[1], first.b]
    # ReLU hidden layers, linear last layer
    assert [layer.neurons[0].activation for layer in model.layers] == ["relu", "relu", "identity"]
    out = model([0.5, -1.0])
    assert isinstance(out, mg.Value) and type(out.data) is float
    loss = (1 + -1.0 * out).relu() + 1e-4 * sum(p * p for p in params)
    model.zero_grad()
    loss.backward()
    before = [p.data for p in params]
    for p in params:
        p.data -= 0.1 * p.grad
    assert all(type(p.data) is float for p in params)
    assert any(p.data != b for p, b in zip(params, before))
    model.zero_grad()
    assert all(p.grad is None for p in params)


def test_mlp_default_weights_uniform_minus_one_one_and_zero_biases():
    mg.manual_seed(3)
    model = nn.MLP(4, [50, 1])
    w = np.array([w.data for n in model.layers[0].neurons for w in n.w])
    assert w.min() >= -1.0 and w.max() <= 1.0 and w.std() > 0.4
    assert all(n.b.data == 0.0 for layer in model.layers for n in layer.neurons)


def test_mlp_batch_forward_equals_per_sample():
    mg.manual_seed(1)
    model = nn.MLP(3, [4, 2], activation="tanh")
    X = np.random.default_rng(0).normal(size=(5, 3))
    batch = model(X)
    assert batch.shape == (5, 2)
    for row, x in zip(batch.data, X):
        assert row.tolist() == [o.data for o in model(list(x))]


def test_mlp_output_activation_and_named_parameters():
    model = nn.MLP(2, [3, 1], activation="sigmoid", output_activation="sigmoid")
    assert model.layers[1].neurons[0].activation == "sigmoid"
    names = [name for name, _ in model.named_parameters()]
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert names[-1] == "layers.1.neurons.0.b"
    assert len(names) == len(model.parameters()) == 13
    with pytest.raises(ValueError, match="nouts must be a non-empty list"):
        nn.MLP(2, 3)


def test_mlp_gradients_match_finite_differences_through_inputs():
    mg.manual_seed(2)
    model = nn.MLP(3, [4, 1], activation="tanh")
    assert mg.gradcheck(lambda a, b, c: model([a, b, c]), 0.3, -0.2, 0.9)


def test_mlp_accepts_init_function():
    model = nn.MLP(3, [2], init=lambda v, rng=None: init.constant(v, 0.5))
    assert all(w.data == 0.5 for n in model.layers[0].neurons for w in n.w)


# ----- array granularity ------------------------------------------------------------------------
def test_linear_forward_and_gradients_by_formula():
    layer = nn.Linear(3, 2, rng=0)
    W, b = layer.weight.data, layer.bias.data
    assert W.shape == (2, 3) and b.shape == (2,)
    bound = 1 / math.sqrt(3)
    assert np.all(np.abs(W) <= bound) and np.all(np.abs(b) <= bound)
    x = np.random.default_rng(1).normal(size=(5, 3))
    out = layer(x)
    np.testing.assert_allclose(out.data, x @ W.T + b, rtol=1e-15)
    g = np.random.default_rng(2).normal(size=(5, 2))
    out.backward(g)
    np.testing.assert_allclose(layer.weight.grad, g.T @ x, rtol=1e-13)
    np.testing.assert_allclose(layer.bias.grad, g.sum(axis=0), rtol=1e-13)


def test_linear_input_array_is_a_constant():
    layer = nn.Linear(2, 2)
    out = layer(np.ones((3, 2)))
    assert out.op == "linear"  # one fused node: x @ W.T + b
    leaves = [p for p in out.parents if not p.requires_grad]
    assert leaves and all(leaf.grad is None for leaf in leaves)
    out.sum().backward()
    assert all(leaf.grad is None for leaf in leaves)


def test_linear_float32_end_to_end_and_input_conversion():
    layer = nn.Linear(4, 3, dtype=np.float32)
    assert layer.weight.dtype == np.float32 and layer.bias.dtype == np.float32
    out = layer(np.ones((2, 4)))  # float64 input is converted to the layer's float32
    assert out.dtype == np.float32
    out.sum().backward()
    assert layer.weight.grad.dtype == np.float32 and layer.bias.grad.dtype == np.float32


def test_linear_errors_name_the_problem():
    with pytest.raises(
        ValueError,
        match=r"expects inputs whose last axis has 3 entries, got "
        r"shape \(5, 4\)",
    ):
        nn.Linear(3, 2)(np.ones((5, 4)))
    with pytest.raises(ValueError, match="nout must be a positive integer"):
        nn.Linear(3, 0)
    with pytest.raises(TypeError, match="dtype must be a float type"):
        nn.Linear(3, 2, dtype=np.int32)
    with pytest.raises(ValueError, match=r"linear: need x \(..., in\), weight \(out, in\)"):
        mg.ops.linear(np.ones((2, 3)), np.ones((4, 3)), np.ones(3))


def test_fused_linear_op_gradients_batched_and_second_order():
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(2, 3)), rng.normal(size=2)
    for shape in [(5, 3), (3,), (2, 4, 3)]:
        x = rng.normal(size=shape)
        np.testing.assert_allclose(mg.ops.linear(x, mg.Value(w), b).data, x @ w.T + b)
        assert mg.gradcheck(mg.ops.linear, x, w, b)
    x = rng.normal(size=(4, 3))
    hess = mg.hessian(lambda v: (mg.ops.linear(x, v, b) ** 2).sum())(w)
    np.testing.assert_allclose(hess.reshape(6, 6), np.kron(np.eye(2), 2 * x.T @ x), rtol=1e-12)


def test_linear_without_bias_and_with_init():
    layer = nn.Linear(3, 2, bias=False, init=init.zeros)
    assert layer.bias is None and len(layer.parameters()) == 1
    assert np.all(layer.weight.data == 0)
    np.testing.assert_array_equal(layer(np.ones((1, 3))).data, [[0.0, 0.0]])


def test_sequential_names_indexing_and_repr():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.Linear(8, 3))
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "3.weight", "3.bias"]
    assert len(model) == 4 and isinstance(model[1], nn.ReLU)
    assert len(model[:2]) == 2
    assert repr(model) == (
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=8, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.2)\n"
        "  (3): Linear(in_features=8, out_features=3, bias=True)\n"
        ")"
    )
    assert model.num_parameters() == 4 * 8 + 8 + 8 * 3 + 3
    with pytest.raises(TypeError, match="did you pass a class"):
        nn.Sequential(nn.ReLU)


def test_activation_modules_match_numpy():
    x = np.array([[-2.0, -0.5, 0.0, 0.5, 3.0]])
    cases = {
        nn.ReLU(): np.maximum(x, 0),
        nn.Tanh(): np.tanh(x),
        nn.Sigmoid(): 1 / (1 + np.exp(-x)),
        nn.Identity(): x,
        nn.Softplus(): np.log1p(np.exp(x)),
        nn.LeakyReLU(0.1): np.where(x > 0, x, 0.1 * x),
        nn.Softmax(): np.exp(x) / np.exp(x).sum(),
        nn.Softmax(dim=0): np.ones_like(x),
        nn.LogSoftmax(): x - np.log(np.exp(x).sum()),
    }
    for module, expected in cases.items():
        out = module(mg.Value(x))
        np.testing.assert_allclose(np.asarray(out.data), expected, rtol=1e-12, err_msg=repr(module))


def test_dropout_inverted_scaling_eval_identity_and_gradient():
    drop = nn.Dropout(0.25, rng=0)
    x = mg.Value(np.ones((200, 50)))
    out = drop(x)
    kept = out.data != 0
    assert abs(1 - kept.mean() - 0.25) < 0.02
    np.testing.assert_allclose(out.data[kept], 1 / 0.75)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, np.where(kept, 1 / 0.75, 0.0))
    drop.eval()
    assert drop(x) is x
    assert nn.Dropout(0.0)(x) is x
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\), got 1.5"):
        nn.Dropout(1.5)


def test_dropout_is_seeded_by_manual_seed():
    x = np.ones((4, 6))
    mg.manual_seed(7)
    a = nn.Dropout(0.5)(x).data
    mg.manual_seed(7)
    b = nn.Dropout(0.5)(x).data
    np.testing.assert_array_equal(a, b)


# ----- init ------------------------------------------------------------------------------------
def test_init_uniform_textbook_range_and_dtype():
    v = init.uniform(mg.Value(np.zeros((100, 100), dtype=np.float32)), rng=0)
    assert v.dtype == np.float32
    assert v.data.min() >= 0.0 and v.data.max() < 1.0
    assert abs(v.data.mean() - 0.5) < 0.01
    s = init.uniform(mg.Value(0.0), -2.0, -1.0, rng=0)
    assert type(s.data) is float and -2.0 <= s.data < -1.0
    with pytest.raises(ValueError, match="need low < high"):
        init.uniform(mg.Value(0.0), 1.0, 1.0)


def test_init_xavier_and_kaiming_bounds_and_spreads():
    shape = (300, 200)  # fan_out 300, fan_in 200
    v = mg.Value(np.zeros(shape))
    a = math.sqrt(6 / 500)
    init.xavier_uniform(v, rng=0)
    assert np.abs(v.data).max() <= a and np.abs(v.data).max() > 0.99 * a
    init.xavier_normal(v, rng=0)
    assert v.data.std() == pytest.approx(math.sqrt(2 / 500), rel=0.02)
    init.kaiming_uniform(v, rng=0)
    b = math.sqrt(2) * math.sqrt(3 / 200)
    assert np.abs(v.data).max() <= b and np.abs(v.data).max() > 0.99 * b
    init.kaiming_normal(v, mode="fan_out", rng=0)
    assert v.data.std() == pytest.approx(math.sqrt(2) / math.sqrt(300), rel=0.02)
    init.zeros(v)
    assert np.all(v.data == 0)
    with pytest.raises(ValueError, match="cannot tell fan_in and fan_out from shape"):
        init.xavier_uniform(mg.Value(np.zeros(3)))
    assert init.xavier_uniform(mg.Value(np.zeros(3)), fan_in=3, fan_out=1, rng=0).shape == (3,)


def test_init_repeats_with_manual_seed_and_rng():
    mg.manual_seed(11)
    a = nn.Linear(5, 4).weight.data
    m1 = [p.data for p in nn.MLP(2, [3, 1]).parameters()]
    mg.manual_seed(11)
    b = nn.Linear(5, 4).weight.data
    m2 = [p.data for p in nn.MLP(2, [3, 1]).parameters()]
    np.testing.assert_array_equal(a, b)
    assert m1 == m2
    np.testing.assert_array_equal(
        nn.Linear(5, 4, rng=3).weight.data, nn.Linear(5, 4, rng=3).weight.data
    )
    with pytest.raises(ValueError, match="seed must be a non-negative int"):
        mg.manual_seed(-1)


# ----- Module: state, modes, saving --------------------------------------------------------------
def small_model(seed=0):
    mg.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 4, dtype=np.float32), nn.Tanh(), nn.Linear(4, 2))


def test_state_dict_is_a_copy_and_round_trips_exactly():
    model = small_model(0)
    state = model.state_dict()
    assert list(state) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert state["0.weight"].dtype == np.float32 and state["2.weight"].dtype == np.float64
    model[0].weight.data += 1  # changing the model does not change the saved copy
    other = small_model(1)
    other.load_state_dict(state)
    for (name, p), (_, q) in zip(other.named_parameters(), small_model(0).named_parameters()):
        assert p.data.dtype == q.data.dtype
        np.testing.assert_array_equal(p.data, q.data, err_msg=name)
    state["0.bias"][:] = 99  # loading copies too
    assert not np.any(other[0].bias.data == 99)


def test_state_dict_of_scalar_network_round_trips():
    a, b = nn.MLP(2, [3, 1]), nn.MLP(2, [3, 1])
    state = a.state_dict()
    assert all(v.shape == () and v.dtype == np.float64 for v in state.values())
    b.load_state_dict(state)
    assert [p.data for p in b.parameters()] == [p.data for p in a.parameters()]
    assert all(type(p.data) is float for p in b.parameters())


def test_load_state_dict_reports_every_problem_and_changes_nothing():
    model = small_model(0)
    before = {k: v.copy() for k, v in model.state_dict().items()}
    bad = model.state_dict()
    del bad["2.bias"]
    bad["extra.weight"] = np.zeros(3)
    bad["0.weight"] = np.zeros((3, 4), dtype=np.float32)  # transposed
    bad["0.bias"] = bad["0.bias"].astype(np.float64) + 1  # another dtype: converted, no problem
    with pytest.raises(ValueError) as err:
        model.load_state_dict(bad)
    text = str(err.value)
    assert "missing keys (1):\n    '2.bias'\n" in text  # one problem per line, grouped
    assert "unexpected keys (1):\n    'extra.weight'\n" in text
    assert "0.weight: expected shape (4, 3), got shape (3, 4)" in text
    assert "0.bias" not in text
    assert "Nothing was loaded" in text
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, before[k])


def test_load_state_dict_non_strict_loads_what_matches():
    model = small_model(0)
    source = small_model(5).state_dict()
    model.load_state_dict({"2.bias": source["2.bias"], "other": np.zeros(1)}, strict=False)
    np.testing.assert_array_equal(model[2].bias.data, source["2.bias"])


def test_save_and_load_through_npz(tmp_path):
    model = small_model(0)
    path = tmp_path / "model.npz"
    model.save(path)
    fresh = small_model(9)
    assert fresh.load(path) is fresh
    for p, q in zip(fresh.parameters(), model.parameters()):
        np.testing.assert_array_equal(p.data, q.data)
        assert p.dtype == q.dtype


def test_train_eval_reach_every_submodule():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.Dropout(0.5)))
    assert model.eval() is model
    assert all(not m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_custom_module_finds_values_modules_and_lists():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = mg.Value(2.0)
            self.frozen = mg.Value(1.0, requires_grad=False)  # a frozen parameter
            self.register_buffer("offset", np.zeros(1))  # a constant, saved
            self.computed = self.scale * 3.0  # not a leaf: not a parameter
            self.blocks = [nn.Linear(2, 2), nn.Linear(2, 1)]
            self.shared = self.blocks[0]  # the same module twice: its parameters count once

        def forward(self, x):
            for block in self.blocks:
                x = block(x)
            return self.scale * x

    net = Net()
    names = [n for n, _ in net.named_parameters()]
    assert names == [
        "scale",
        "frozen",
        "blocks.0.weight",
        "blocks.0.bias",
        "blocks.1.weight",
        "blocks.1.bias",
    ]
    assert net(np.ones((3, 2))).shape == (3, 1)
    assert "(blocks.0): Linear(in_features=2, out_features=2, bias=True)" in repr(net)
    with pytest.raises(NotImplementedError, match="must define forward"):
        nn.Module()(1.0)


def test_init_uniform_factory_form_for_init_argument():
    model = nn.MLP(2, [3, 1], init=init.uniform(0, 1), rng=0)
    weights = [w.data for layer in model.layers for n in layer.neurons for w in n.w]
    assert all(0.0 <= w < 1.0 for w in weights)
    assert len(set(weights)) == len(weights)  # one random stream across layers
    layer = nn.Linear(3, 2, init=init.uniform(-2, -1), rng=0)
    assert np.all((layer.weight.data >= -2) & (layer.weight.data < -1))
    v = init.uniform(low=-1, high=1)(mg.Value(np.zeros(1000)), rng=0)
    assert v.data.min() < -0.9 and v.data.max() > 0.9
    with pytest.raises(ValueError, match="need low < high"):
        init.uniform(1, 0)
