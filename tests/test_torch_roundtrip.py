"""Moving a model between minigrad and PyTorch through state_dict: a minigrad model's state_dict
({k: torch.from_numpy(np.asarray(v))}) loads with strict=True into the PyTorch model of the same
layout and gives the same outputs (float64, to 1e-10); a PyTorch model's state_dict loads back
into the minigrad model, again with the same outputs. Skipped, saying why, without PyTorch."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn

try:
    import torch
except ImportError:
    torch = None
needs_torch = pytest.mark.skipif(torch is None, reason="PyTorch is needed for the round trips")
tnn = torch.nn if torch is not None else None
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "to_pytorch.py"

TOL = dict(rtol=1e-10, atol=1e-10)


def to_torch(state):
    return {k: torch.from_numpy(np.array(v)) for k, v in state.items()}


def to_minigrad(state):
    return {k: v.detach().numpy() for k, v in state.items()}


def outputs(result):
    """Every array in a (possibly nested) result, minigrad's or PyTorch's, None left out."""
    if result is None:
        return []
    if isinstance(result, (tuple, list)):
        return [a for item in result for a in outputs(item)]
    data = result.data if isinstance(result, mg.Value) else result.detach()
    return [np.asarray(data)]


def same_outputs(ours, theirs, *inputs):
    got = outputs(ours(*[mg.Value(x) if x.dtype.kind == "f" else x for x in inputs]))
    with torch.no_grad():
        want = outputs(theirs(*[torch.from_numpy(x) for x in inputs]))
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape
        np.testing.assert_allclose(g, w, **TOL)


def round_trip(ours, theirs, make_other, *inputs):
    """minigrad -> PyTorch (strict), same outputs; then a fresh PyTorch model -> minigrad."""
    result = theirs.load_state_dict(to_torch(ours.state_dict()), strict=True)
    assert result.missing_keys == [] and result.unexpected_keys == []
    for mode in ("train", "eval"):
        getattr(ours, mode)(), getattr(theirs, mode)()
        same_outputs(ours, theirs, *inputs)
    other = make_other()
    other.train()
    with torch.no_grad():
        other(*[torch.from_numpy(x) for x in inputs])  # BatchNorm statistics of its own
    other.eval()
    ours.load_state_dict(to_minigrad(other.state_dict()), strict=True)
    ours.eval()
    same_outputs(ours, other, *inputs)
    assert list(ours.state_dict()) == list(other.state_dict())


@needs_torch
def test_mlp_round_trip():
    mg.manual_seed(0)
    ours = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 3))

    def make():
        return tnn.Sequential(
            tnn.Linear(5, 16), tnn.ReLU(), tnn.Linear(16, 8), tnn.Tanh(), tnn.Linear(8, 3)
        ).double()

    x = np.random.default_rng(0).normal(size=(7, 5))
    round_trip(ours, make(), make, x)


def cnn_pair():
    """The digits CNN's layout: conv 16 + BN + pool, conv 32 + pool, linear 64, linear 10."""
    mg.manual_seed(1)
    ours = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.BatchNorm2d(16),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(128, 64),
        nn.ReLU(),
        nn.Linear(64, 10),
    )

    def make():
        return tnn.Sequential(
            tnn.Conv2d(1, 16, 3, padding=1),
            tnn.BatchNorm2d(16),
            tnn.ReLU(),
            tnn.MaxPool2d(2),
            tnn.Conv2d(16, 32, 3, padding=1),
            tnn.ReLU(),
            tnn.MaxPool2d(2),
            tnn.Flatten(),
            tnn.Linear(128, 64),
            tnn.ReLU(),
            tnn.Linear(64, 10),
        ).double()

    return ours, make


@needs_torch
def test_cnn_round_trip_with_batchnorm_statistics():
    ours, make = cnn_pair()
    rng = np.random.default_rng(2)
    ours.train()
    for _ in range(3):  # running statistics and num_batches_tracked away from their start
        ours(rng.normal(size=(6, 1, 8, 8)) * 2.0 + 1.0)
    assert int(ours.state_dict()["1.num_batches_tracked"]) == 3
    round_trip(ours, make(), make, rng.normal(size=(5, 1, 8, 8)))


@needs_torch
def test_cnn_state_dict_keys_shapes_and_dtypes_are_pytorchs():
    ours, make = cnn_pair()
    theirs = make().state_dict()
    mine = ours.state_dict()
    assert list(mine) == list(theirs)
    for k, v in theirs.items():
        assert mine[k].shape == tuple(v.shape), k
        assert torch.from_numpy(np.array(mine[k])).dtype == v.dtype, k


RECURRENT = {
    "lstm_2_layers_bidirectional": ("LSTM", {"num_layers": 2, "bidirectional": True}),
    "lstm_batch_first": ("LSTM", {"batch_first": True}),
    "gru_2_layers_bidirectional": ("GRU", {"num_layers": 2, "bidirectional": True}),
    "gru_no_bias_batch_first": ("GRU", {"bias": False, "batch_first": True}),
    "rnn_relu": ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
}


@needs_torch
@pytest.mark.parametrize("name", sorted(RECURRENT))
def test_recurrent_round_trip(name):
    kind, options = RECURRENT[name]
    mg.manual_seed(4)
    ours = getattr(nn, kind)(3, 6, **options)

    def make():
        return getattr(tnn, kind)(3, 6, **options).double()

    shape = (4, 7, 3) if options.get("batch_first") else (7, 4, 3)
    x = np.random.default_rng(5).normal(size=shape)
    round_trip(ours, make(), make, x)


@needs_torch
@pytest.mark.parametrize("batch_first", [True, False])
def test_multihead_attention_round_trip(batch_first):
    mg.manual_seed(6)
    ours = nn.MultiheadAttention(8, 2, batch_first=batch_first)

    def make():
        return tnn.MultiheadAttention(8, 2, batch_first=batch_first).double()

    x = np.random.default_rng(7).normal(size=(3, 5, 8) if batch_first else (5, 3, 8))

    class SelfAttention:  # both frameworks' layers called as self-attention, weights averaged
        def __init__(self, layer):
            self.layer = layer

        def __call__(self, x):
            return self.layer(x, x, x)

        def __getattr__(self, name):
            return getattr(self.layer, name)

    round_trip(SelfAttention(ours), SelfAttention(make()), lambda: SelfAttention(make()), x)
    assert list(ours.state_dict()) == ["in_proj_weight", "in_proj_bias", "out_proj.weight",
                                       "out_proj.bias"]  # fmt: skip


def load_example():
    spec = importlib.util.spec_from_file_location("example_to_pytorch", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_torch
def test_example_to_pytorch_round_trip():
    figures = load_example().round_trip(epochs=1, seed=0, samples=400)
    assert figures["PyTorch accuracy on arrival"] == figures["minigrad accuracy"] > 0.2  # of 0.1
    assert figures["max score difference on arrival"] < 1e-4  # float32 scores of size ~10
    assert figures["PyTorch accuracy after training"] > figures["minigrad accuracy"]
    assert figures["minigrad accuracy back home"] == figures["PyTorch accuracy after training"]
    assert figures["max score difference back home"] < 1e-4
    onnx_diff = figures["onnx max score difference"]
    assert np.isnan(onnx_diff) or onnx_diff < 1e-4


def test_example_to_pytorch_says_what_to_install_without_torch(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "torch", None)  # import torch now raises ImportError
    assert load_example().main([]) == 1
    assert "pip install torch" in capsys.readouterr().out
