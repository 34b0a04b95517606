"""Module features: buffers, frozen parameters, containers (lists, dicts, ModuleList,
ModuleDict), dtype conversion, apply, load_state_dict as PyTorch's, modes and repr."""

from collections import OrderedDict

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, optim


class Scaled(nn.Module):
    """A parameter, a saved buffer, a non-persistent buffer and an integer buffer."""

    def __init__(self, n=3):
        super().__init__()
        self.weight = mg.Value(np.arange(1.0, n + 1))
        self.register_buffer("shift", np.full(n, 0.5))
        self.register_buffer("scratch", np.zeros(n), persistent=False)
        self.register_buffer("count", np.array(0, dtype=np.int64))

    def forward(self, x):
        return self.weight * x + self.shift


# ----- buffers -----------------------------------------------------------------------------------
def test_buffers_are_listed_saved_and_not_parameters():
    m = Scaled()
    assert [n for n, _ in m.named_parameters()] == ["weight"]
    assert [n for n, _ in m.named_buffers()] == ["shift", "scratch", "count"]
    assert len(m.buffers()) == 3 and m.buffers()[0] is m.shift
    state = m.state_dict()
    assert list(state) == ["weight", "shift", "count"]  # non-persistent buffers are not saved
    assert state["count"].dtype == np.int64 and state["count"].shape == ()
    state["shift"][:] = 9.0  # a copy
    assert np.all(m.shift == 0.5)
    np.testing.assert_array_equal(m(np.ones(3)).data, [1.5, 2.5, 3.5])


def test_nested_buffers_are_named_by_path_and_none_is_skipped():
    model = nn.Sequential(nn.Linear(3, 3), Scaled())
    model[1].register_buffer("unused", None)
    assert [n for n, _ in model.named_buffers()] == ["1.shift", "1.scratch", "1.count"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.shift", "1.count"]


def test_buffers_round_trip_through_save_and_load(tmp_path):
    a, b = Scaled(), Scaled()
    a.shift[:] = [1.0, 2.0, 3.0]
    a.count += 7
    a.save(tmp_path / "m.npz")
    assert b.load(tmp_path / "m.npz") is b
    np.testing.assert_array_equal(b.shift, [1.0, 2.0, 3.0])
    assert b.count == 7 and b.count.dtype == np.int64
    assert np.all(b.scratch == 0)  # not persistent: not in the file, untouched


def test_register_buffer_checks_name_and_value():
    m = Scaled()
    with pytest.raises(ValueError, match="attribute 'weight' already exists"):
        m.register_buffer("weight", np.zeros(1))
    with pytest.raises(ValueError, match="without '.'"):
        m.register_buffer("a.b", np.zeros(1))
    with pytest.raises(TypeError, match=r"a buffer is a numpy array \(or None\), got a Value"):
        m.register_buffer("v", mg.Value(np.zeros(1)))
    with pytest.raises(TypeError, match="expected numbers, got dtype <U1"):
        m.register_buffer("s", np.array(["a"]))
    m.register_buffer("shift", np.ones(3))  # registering again replaces it
    assert np.all(m.shift == 1)


# ----- frozen parameters -------------------------------------------------------------------------
def test_frozen_parameter_stays_named_saved_and_loaded(tmp_path):
    model = nn.Sequential(nn.Linear(3, 2, rng=0), nn.Linear(2, 1, rng=1))
    model[0].weight.requires_grad_(False)
    names = [n for n, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias"]
    assert "0.weight" in model.state_dict()
    model.save(tmp_path / "m.npz")
    other = nn.Sequential(nn.Linear(3, 2, rng=5), nn.Linear(2, 1, rng=6))
    other.load(tmp_path / "m.npz")
    np.testing.assert_array_equal(other[0].weight.data, model[0].weight.data)


def test_optimizer_skips_frozen_parameters_and_module_requires_grad():
    model = nn.Sequential(nn.Linear(3, 4, rng=0), nn.Tanh(), nn.Linear(4, 1, rng=1))
    assert model[0].requires_grad_(False) is model[0]
    frozen = {id(p): p.data.copy() for p in model[0].parameters()}
    opt = optim.Adam(model.parameters(), lr=0.1)
    x = np.random.default_rng(0).normal(size=(8, 3))
    for _ in range(3):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        assert model[0].weight.grad is None and model[2].weight.grad is not None
        opt.step()
    for p in model[0].parameters():
        np.testing.assert_array_equal(p.data, frozen[id(p)])
    before = model[2].weight.data.copy()
    model.requires_grad_(True)
    opt.zero_grad()
    (model(x) ** 2).mean().backward()
    opt.step()
    assert not np.array_equal(model[0].weight.data, frozen[id(model[0].weight)])
    assert not np.array_equal(model[2].weight.data, before)


@pytest.mark.parametrize(
    "make",
    [
        lambda ps: optim.SGD(ps, lr=0.1),
        lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
        lambda ps: optim.Adam(ps, lr=0.1),
        lambda ps: optim.AdamW(ps, lr=0.1),
        lambda ps: optim.RMSprop(ps, lr=0.1),
    ],
)
def test_optimizers_skip_a_parameter_frozen_after_its_gradient_was_computed(make):
    model = nn.Linear(3, 2, rng=0)
    opt = make(model.parameters())
    model(np.ones((4, 3))).sum().backward()
    model.weight.requires_grad_(False)  # its .grad is still there
    weight, bias = model.weight.data.copy(), model.bias.data.copy()
    opt.step()
    np.testing.assert_array_equal(model.weight.data, weight)
    assert not np.array_equal(model.bias.data, bias)


def test_micrograd_style_scalar_lists_keep_working():
    model = nn.MLP(2, [3, 1])
    named = [n for n, _ in model.named_parameters()]
    assert len(named) == len(model.parameters()) == 13
    model.layers[0].neurons[0].w[0].requires_grad_(False)
    assert [n for n, _ in model.named_parameters()] == named
    assert all(type(p.data) is float for p in model.parameters())


# ----- containers --------------------------------------------------------------------------------
def test_plain_dict_and_nested_list_attributes_are_found_trained_saved_and_shown(tmp_path):
    class Heads(nn.Module):
        def __init__(self, seed):
            super().__init__()
            self.heads = {"a": nn.Linear(4, 1, rng=seed), "b": nn.Linear(4, 2, rng=seed + 1)}
            self.grid = [[mg.Value(1.0)], (mg.Value(2.0),)]
            self.drop = {"d": nn.Dropout(0.5)}

        def forward(self, x):
            return self.heads["a"](x).sum() * self.grid[0][0] + self.heads["b"](x).sum()

    model = Heads(0)
    names = [n for n, _ in model.named_parameters()]
    assert names == [
        "grid.0.0",
        "grid.1.0",
        "heads.a.weight",
        "heads.a.bias",
        "heads.b.weight",
        "heads.b.bias",
    ]
    assert "(heads.a): Linear(in_features=4, out_features=1, bias=True)" in repr(model)
    model.eval()
    assert model.drop["d"].training is False
    before = model.heads["a"].weight.data.copy()
    opt = optim.SGD(model.parameters(), lr=0.1)
    model(np.ones((2, 4))).backward()
    opt.step()
    np.testing.assert_allclose(model.heads["a"].weight.data, before - 0.1 * 2.0)
    model.save(tmp_path / "h.npz")
    other = Heads(10).load(tmp_path / "h.npz")
    np.testing.assert_array_equal(other.heads["a"].weight.data, model.heads["a"].weight.data)


def test_module_list_api_and_names():
    blocks = nn.ModuleList([nn.Linear(2, 2), nn.ReLU()])
    blocks.append(nn.Linear(2, 3)).extend([nn.Tanh()])
    blocks.insert(1, nn.Sigmoid())
    assert [type(b).__name__ for b in blocks] == ["Linear", "Sigmoid", "ReLU", "Linear", "Tanh"]
    assert len(blocks) == 5 and isinstance(blocks[-2], nn.Linear)
    assert [n for n, _ in blocks.named_parameters()] == ["0.weight", "0.bias", "3.weight", "3.bias"]
    del blocks[1]  # renumbered, as PyTorch
    assert [n for n, _ in blocks.named_parameters()] == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert isinstance(blocks.pop(), nn.Tanh) and len(blocks) == 3
    blocks[1] = nn.LeakyReLU(0.2)
    assert isinstance(blocks[1], nn.LeakyReLU)
    part = blocks[1:]
    assert isinstance(part, nn.ModuleList) and [n for n, _ in part.named_parameters()][0] == (
        "1.weight"
    )
    assert len(blocks + part) == 5
    blocks += [nn.Identity()]
    assert len(blocks) == 4
    with pytest.raises(TypeError, match="did you pass a class"):
        blocks.append(nn.ReLU)
    with pytest.raises(IndexError, match="index 9 is out of range for 4 modules"):
        blocks[9]
    with pytest.raises(NotImplementedError):
        blocks(1.0)


def test_module_list_inside_a_model_is_trained_and_switched_to_eval():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.Linear(3, 3), nn.Dropout(0.3), nn.Linear(3, 1)])

        def forward(self, x):
            for layer in self.layers:
                x = layer(x)
            return x

    net = Net()
    assert [n for n, _ in net.named_parameters()] == [
        "layers.0.weight",
        "layers.0.bias",
        "layers.2.weight",
        "layers.2.bias",
    ]
    net.eval()
    assert not net.layers[1].training
    assert repr(net) == (
        "Net(\n"
        "  (layers): ModuleList(\n"
        "    (0): Linear(in_features=3, out_features=3, bias=True)\n"
        "    (1): Dropout(p=0.3)\n"
        "    (2): Linear(in_features=3, out_features=1, bias=True)\n"
        "  )\n"
        ")"
    )


def test_module_dict_api_and_names():
    heads = nn.ModuleDict({"a": nn.Linear(4, 1)})
    heads["b"] = nn.Linear(4, 2)
    heads.update([("c", nn.ReLU())])
    assert list(heads) == ["a", "b", "c"] and "b" in heads and len(heads) == 3
    assert list(heads.keys()) == ["a", "b", "c"]
    assert [type(v).__name__ for v in heads.values()] == ["Linear", "Linear", "ReLU"]
    assert [n for n, _ in heads.named_parameters()] == ["a.weight", "a.bias", "b.weight", "b.bias"]
    assert isinstance(heads.pop("c"), nn.ReLU) and list(heads) == ["a", "b"]
    del heads["a"]
    assert [k for k, _ in heads.items()] == ["b"]
    with pytest.raises(KeyError, match=r"no module 'z'; keys: \['b'\]"):
        heads["z"]
    with pytest.raises(ValueError, match="keys must be strings"):
        heads[3] = nn.ReLU()
    with pytest.raises(TypeError, match=r"ModuleDict\['x'\] is a int, not a Module"):
        heads["x"] = 3
    heads.clear()
    assert len(heads) == 0


def test_sequential_pytorch_api_names_and_ordered_dict():
    seq = nn.Sequential(OrderedDict(conv=nn.Linear(2, 2), act=nn.ReLU()))
    assert [n for n, _ in seq.named_parameters()] == ["conv.weight", "conv.bias"]
    assert "(act): ReLU()" in repr(seq)
    assert isinstance(seq[1], nn.ReLU)
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and [n for n, _ in tail.named_parameters()] == [
        "2.weight",
        "2.bias",
    ]  # a slice keeps the names, as PyTorch
    x = np.ones((4, 2))
    np.testing.assert_array_equal(seq(x).data, tail(seq[0](x)).data)
    seq.insert(0, nn.Identity())
    assert [n for n, _ in seq.named_parameters()][0] == "1.weight"
    del seq[0]
    assert [n for n, _ in seq.named_parameters()][0] == "0.weight"


# ----- conversions and apply ---------------------------------------------------------------------
def test_to_float_double_convert_parameters_grads_and_float_buffers_in_place():
    m = Scaled()
    weight = m.weight
    m(np.ones(3)).sum().backward()
    assert m.float() is m and m.weight is weight
    assert m.weight.dtype == np.float32 and m.weight.grad.dtype == np.float32
    assert m.shift.dtype == np.float32 and m.scratch.dtype == np.float32
    assert m.count.dtype == np.int64  # integer buffers stay
    assert m(np.ones(3, dtype=np.float32)).dtype == np.float32
    m.double()
    assert m.weight.dtype == np.float64 and m.shift.dtype == np.float64
    scalar = nn.MLP(2, [2, 1]).to(np.float32)
    assert all(p.dtype == np.float32 for p in scalar.parameters())
    scalar.to("float64")
    assert all(type(p.data) is float for p in scalar.parameters())  # numbers again
    with pytest.raises(TypeError, match="dtype must be a float type, got int32"):
        m.to(np.int32)


def test_apply_visits_children_first_then_self():
    model = nn.Sequential(nn.Linear(2, 2), nn.Sequential(nn.ReLU(), nn.Linear(2, 1)))
    seen = []
    assert model.apply(lambda m: seen.append(type(m).__name__)) is model
    assert seen == ["Linear", "ReLU", "Linear", "Sequential", "Sequential"]

    def zero_linear(m):
        if isinstance(m, nn.Linear):
            nn.init.zeros(m.weight)

    model.apply(zero_linear)
    assert all(np.all(m.weight.data == 0) for m in model.modules() if isinstance(m, nn.Linear))


# ----- load_state_dict ---------------------------------------------------------------------------
def test_load_state_dict_converts_dtype_keeping_the_parameters():
    model = nn.Linear(3, 2, rng=0)
    weight = model.weight
    state = {k: v.astype(np.float32) for k, v in nn.Linear(3, 2, rng=1).state_dict().items()}
    result = model.load_state_dict(state)
    assert result.missing_keys == [] and result.unexpected_keys == []
    assert repr(result) == "<All keys matched successfully>"
    assert model.weight is weight and model.weight.dtype == np.float64
    np.testing.assert_array_equal(model.weight.data, state["weight"].astype(np.float64))
    m = Scaled()
    m.load_state_dict({"weight": np.ones(3, dtype=np.float32), "shift": [1, 2, 3], "count": 4})
    assert m.shift.dtype == np.float64 and m.count.dtype == np.int64 and m.count == 4


def test_load_state_dict_non_strict_returns_missing_and_unexpected():
    model = nn.Linear(3, 2, rng=0)
    bias = model.bias.data.copy()
    result = model.load_state_dict({"weight": np.zeros((2, 3)), "extra": np.zeros(1)}, False)
    missing, unexpected = result
    assert missing == ["bias"] and unexpected == ["extra"]
    assert "missing_keys=['bias']" in repr(result)
    assert np.all(model.weight.data == 0)
    np.testing.assert_array_equal(model.bias.data, bias)


def test_load_state_dict_shape_problems_raise_even_when_not_strict_and_change_nothing():
    m = Scaled()
    with pytest.raises(ValueError) as err:
        m.load_state_dict(
            {"weight": np.zeros(3), "shift": np.zeros(4), "count": np.array(["x"])}, strict=False
        )
    text = str(err.value)
    assert "shift: expected shape (3,), got shape (4,)" in text
    assert "count: expected numbers, got dtype <U1" in text
    assert "missing" not in text and "Nothing was loaded" in text
    np.testing.assert_array_equal(m.weight.data, [1.0, 2.0, 3.0])
    with pytest.raises(TypeError, match="expected a dict, got list"):
        m.load_state_dict([1, 2])


def test_shared_module_is_saved_under_both_names_and_counted_once():
    block = nn.Linear(2, 2)
    model = nn.Sequential(block, nn.ReLU(), block)
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias"]
    assert list(model.state_dict()) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    model.load_state_dict(model.state_dict())
    assert len(list(model.modules())) == 3  # Sequential, Linear, ReLU


# ----- modes and repr ----------------------------------------------------------------------------
def test_train_eval_reach_dict_and_list_members_and_check_the_flag():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.parts = {"drop": nn.Dropout(0.5), "list": [nn.Dropout(0.1)]}

    net = Net().eval()
    assert not net.parts["drop"].training and not net.parts["list"][0].training
    net.train()
    assert net.parts["list"][0].training
    with pytest.raises(ValueError, match="mode must be True or False"):
        net.train("no")


def test_repr_puts_extra_text_on_its_own_line_when_there_are_children():
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(2, 3)

        def extra_repr(self):
            return "scale=2"

    assert repr(Block()) == (
        "Block(\n  scale=2\n  (fc): Linear(in_features=2, out_features=3, bias=True)\n)"
    )
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_flatten_matches_pytorch_semantics():
    x = np.arange(2 * 3 * 4 * 5.0).reshape(2, 3, 4, 5)
    assert nn.Flatten()(x).shape == (2, 60)
    assert nn.Flatten(0, -1)(x).shape == (120,)
    assert nn.Flatten(1, 2)(mg.Value(x)).shape == (2, 12, 5)
    assert nn.Flatten(-2)(x).shape == (2, 3, 20)
    np.testing.assert_array_equal(nn.Flatten(2, 2)(x), x)
    with pytest.raises(ValueError, match=r"cannot merge axes 1 to -1 of an input of shape \(4,\)"):
        nn.Flatten()(np.ones(4))
    with pytest.raises(ValueError, match="cannot merge axes 2 to 1"):
        nn.Flatten(2, 1)(x)
