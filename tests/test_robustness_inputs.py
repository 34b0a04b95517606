"""The edges a newcomer hit (issue 17): probabilities outside [0, 1] in binary_cross_entropy,
layers given strings, `mg.load` of a file that is not a save, a load mismatch of a large model,
and Python's `sum(v)` over an array Value."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

import minigrad as mg
from minigrad import convert, losses, nn

# ----- binary_cross_entropy --------------------------------------------------------------------


@pytest.mark.parametrize(
    "pred, words",
    [
        (1.5, ["got 1.5;"]),
        ([0.2, -0.1, 2.0], ["got -0.1 at index (1,)", "(2 of 3 entries outside)"]),
        ([[0.5, np.nan]], ["got nan at index (0, 1)"]),
        (np.array([0.3, 1.0000001], np.float32), ["got 1.0000001 at index (1,)"]),
    ],
)
def test_binary_cross_entropy_refuses_predictions_outside_0_1(pred, words):
    target = np.ones(np.shape(pred))
    with pytest.raises(ValueError) as info:
        losses.binary_cross_entropy(mg.Value(pred), target)
    message = str(info.value)
    assert message.startswith("binary_cross_entropy: predictions must be probabilities in [0, 1]")
    for w in words:
        assert w in message, (w, message)
    assert "binary_cross_entropy_with_logits" in message  # where raw scores belong


def test_binary_cross_entropy_takes_the_ends_of_the_range():
    # 0 and 1 are probabilities: the clamped log gives PyTorch's 100 per wrong certain answer
    loss = losses.binary_cross_entropy(mg.Value([0.0, 1.0, 1.0]), [0.0, 1.0, 0.0])
    np.testing.assert_allclose(loss.data, 100.0 / 3)
    torch = pytest.importorskip("torch", reason="cross-check with PyTorch's refusal")
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        torch.nn.functional.binary_cross_entropy(torch.tensor([1.5]), torch.tensor([1.0]))


# ----- layers given strings, objects, complex numbers ------------------------------------------
def _every_layer():
    """(module, input shape) for every Module class minigrad.nn exports."""
    return {
        nn.Linear: (nn.Linear(2, 3), (4, 2)),
        nn.Conv1d: (nn.Conv1d(2, 3, 2), (1, 2, 5)),
        nn.Conv2d: (nn.Conv2d(2, 3, 2), (1, 2, 5, 5)),
        nn.MaxPool1d: (nn.MaxPool1d(2), (1, 2, 4)),
        nn.MaxPool2d: (nn.MaxPool2d(2), (1, 2, 4, 4)),
        nn.AvgPool1d: (nn.AvgPool1d(2), (1, 2, 4)),
        nn.AvgPool2d: (nn.AvgPool2d(2), (1, 2, 4, 4)),
        nn.BatchNorm1d: (nn.BatchNorm1d(2), (3, 2)),
        nn.BatchNorm2d: (nn.BatchNorm2d(2), (3, 2, 2, 2)),
        nn.LayerNorm: (nn.LayerNorm(2), (3, 2)),
        nn.Embedding: (nn.Embedding(5, 2), (3,)),
        nn.RNN: (nn.RNN(2, 3), (4, 1, 2)),
        nn.LSTM: (nn.LSTM(2, 3), (4, 1, 2)),
        nn.GRU: (nn.GRU(2, 3), (4, 1, 2)),
        nn.RNNCell: (nn.RNNCell(2, 3), (1, 2)),
        nn.LSTMCell: (nn.LSTMCell(2, 3), (1, 2)),
        nn.GRUCell: (nn.GRUCell(2, 3), (1, 2)),
        nn.MultiheadAttention: (nn.MultiheadAttention(4, 2), (3, 1, 4)),
        nn.ReLU: (nn.ReLU(), (2, 2)),
        nn.Tanh: (nn.Tanh(), (2, 2)),
        nn.Sigmoid: (nn.Sigmoid(), (2, 2)),
        nn.Identity: (nn.Identity(), (2, 2)),
        nn.Softplus: (nn.Softplus(), (2, 2)),
        nn.LeakyReLU: (nn.LeakyReLU(), (2, 2)),
        nn.Softmax: (nn.Softmax(-1), (2, 2)),
        nn.LogSoftmax: (nn.LogSoftmax(-1), (2, 2)),
        nn.Flatten: (nn.Flatten(), (2, 2, 2)),
        nn.Dropout: (nn.Dropout(0.5), (2, 2)),
        nn.Dropout2d: (nn.Dropout2d(0.5), (1, 2, 2, 2)),
        nn.Neuron: (nn.Neuron(2), (2,)),
        nn.Layer: (nn.Layer(2, 3), (2,)),
        nn.MLP: (nn.MLP(2, [3, 1]), (2,)),
        nn.Sequential: (nn.Sequential(nn.Linear(2, 2)), (3, 2)),
        nn.ModuleList: None,  # containers without a forward of their own
        nn.ModuleDict: None,
        nn.Module: None,
    }


def test_every_module_class_of_nn_is_covered():
    exported = {getattr(nn, name) for name in nn.__all__}
    classes = {c for c in exported if isinstance(c, type) and issubclass(c, nn.Module)}
    assert classes == set(_every_layer())


BAD = {
    "strings": lambda shape: np.full(shape, "a"),
    "objects": lambda shape: np.full(shape, None, dtype=object),
    "complex": lambda shape: np.ones(shape, complex),
    "list of strings": lambda shape: np.full(shape, "a").tolist(),
    "list of None": lambda shape: np.full(shape, None, dtype=object).tolist(),
}
DTYPES = {"strings": "<U1", "objects": "object", "complex": "complex128"}
DTYPES.update({"list of strings": "<U1", "list of None": "object"})


@pytest.mark.parametrize("kind", sorted(BAD))
def test_a_layer_given_non_numbers_names_itself_and_the_dtype(kind):
    for cls, entry in _every_layer().items():
        if entry is None:
            continue
        layer, shape = entry
        bad = BAD[kind](shape)
        if cls is nn.Identity and kind.startswith("list"):
            assert layer(bad) is bad  # returns what it is given, touching nothing
            continue
        args = (bad,) * 3 if cls is nn.MultiheadAttention else (bad,)
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # no ComplexWarning: complex is refused, not cast
            with pytest.raises(TypeError) as info:
                layer(*args)
        message = str(info.value)
        assert message.startswith(f"{cls.__name__}: expected numbers"), message
        assert f"dtype {DTYPES[kind]}" in message and str(np.shape(bad)) in message, message


def test_a_keyword_argument_of_strings_is_named_and_a_failing_numeric_call_is_untouched():
    mha = nn.MultiheadAttention(4, 2)
    x = np.ones((3, 1, 4))
    with pytest.raises(TypeError, match=r"MultiheadAttention: .*dtype <U1 as attn_mask"):
        mha(x, x, x, attn_mask=np.full((3, 3), "x"))
    with pytest.raises(TypeError, match=r"MultiheadAttention: .*dtype <U1 as argument 1"):
        mha(x, np.full((3, 1, 4), "k"), x)  # only the first argument is tested up front
    with pytest.raises(TypeError, match=r"LSTM: .*dtype object as argument 1"):
        nn.LSTM(2, 3)(np.ones((4, 1, 2)), (np.full((1, 1, 3), None), np.zeros((1, 1, 3))))
    # a numeric input with another problem keeps its own message
    with pytest.raises(ValueError, match=r"Linear.*expects"):
        nn.Linear(2, 3)(np.ones((4, 5)))


def test_a_user_module_gets_the_same_check():
    class Scale(nn.Module):
        def forward(self, x, factor=2.0):
            return mg.Value(x) * factor

    with pytest.raises(TypeError, match=r"Scale: expected numbers.*dtype <U3"):
        Scale()(np.array(["abc"]))
    assert Scale()(np.ones(2), factor=3.0).data.tolist() == [3.0, 3.0]


# ----- mg.load of something that is not a save --------------------------------------------------
def _files(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    npy = tmp_path / "array.npy"
    np.save(npy, np.arange(3))
    pickled = tmp_path / "model.pkl"
    pickled.write_bytes(pickle.dumps({"weight": [1, 2]}))
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    return {
        text: "not an .npz (zip) archive",
        npy: "a single numpy array (an .npy file",
        pickled: "pickled Python objects, which minigrad never loads",
        empty: "it is empty",
    }


def test_load_of_a_file_that_is_not_a_save_says_so_naming_it(tmp_path):
    for path, reason in _files(tmp_path).items():
        for load in (mg.load, lambda p: nn.Linear(2, 1).load(p)):
            with pytest.raises(ValueError) as info:
                load(path)
            message = str(info.value)
            assert f"load: {str(path)!r} is not a minigrad save file: " in message
            assert reason in message and "allow_pickle" not in message, message


def test_load_of_an_npz_with_an_object_array_gives_no_pickle_advice(tmp_path):
    path = tmp_path / "objects.npz"
    np.savez(path, a=np.array([{}], dtype=object))
    with pytest.raises(ValueError) as info:
        mg.load(path)
    message = str(info.value)
    assert str(path) in message and "'a' is an object array" in message
    assert "allow_pickle" not in message


# ----- a load mismatch of a large model ---------------------------------------------------------
def _big_model():
    blocks = [nn.Sequential(nn.Conv2d(4, 4, 3, padding=1), nn.BatchNorm2d(4)) for _ in range(12)]
    return nn.Sequential(*blocks, nn.Flatten(), nn.Linear(16, 2))


def test_load_mismatch_of_a_large_model_lists_one_problem_per_line_grouped(tmp_path):
    model = _big_model()
    before = model.state_dict()
    state = dict(before)
    missing = [k for k in state if k.endswith("running_mean")][:8]
    for k in missing:
        del state[k]
    state.update({f"extra.{i}": np.zeros(1) for i in range(5)})
    state["3.1.running_var"] = np.ones(5)
    state["13.weight"] = np.ones((3, 16))
    state["4.0.bias"] = np.array(["x"] * 4)
    mg.save(state, tmp_path / "bad.npz")
    with pytest.raises(ValueError) as info:
        model.load(tmp_path / "bad.npz")
    lines = str(info.value).splitlines()
    assert lines[0] == (
        f"load {str(tmp_path / 'bad.npz')!r}: load_state_dict into Sequential: 16 problems. "
        "Nothing was loaded."
    )
    assert lines[1] == "  missing keys (8):"
    assert lines[2:10] == [f"    {k!r}" for k in missing]
    assert lines[10] == "  unexpected keys (5):"
    assert lines[11:16] == [f"    'extra.{i}'" for i in range(5)]
    assert lines[16:19] == [
        "  wrong shapes (2):",
        "    3.1.running_var: expected shape (4,), got shape (5,)",
        "    13.weight: expected shape (2, 16), got shape (3, 16)",
    ]
    assert lines[19:] == ["  not numbers (1):", "    4.0.bias: expected numbers, got dtype <U1"]
    for k, v in model.state_dict().items():  # all or nothing
        np.testing.assert_array_equal(v, before[k])


# ----- Python's sum over an array Value --------------------------------------------------------
def test_iterating_a_long_value_warns_once_pointing_to_sum(monkeypatch):
    monkeypatch.setattr(convert, "_warned", False)
    v = mg.Value(np.arange(2000.0))
    with pytest.warns(UserWarning, match=r"shape \(2000,\).*use v.sum\(\)") as record:
        total = sum(v)
    assert len(record) == 1 and record[0].filename == __file__  # points at the caller's line
    assert total.data == v.sum().data  # the same answer, only slowly
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        sum(v)  # once: the second time is silent
        monkeypatch.setattr(convert, "_warned", False)
        a, b = mg.Value(np.ones((2, 3)))  # unpacking a few rows: no warning at all
        assert [row.shape for row in mg.Value(np.ones((99, 2)))][-1] == (2,)
