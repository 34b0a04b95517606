"""minigrad.onnx.export, checked by running the written file in ONNX Runtime: the outputs equal
minigrad's (float32 to 1e-5, float64 to 1e-7) on random inputs, at the example's batch size and
at others when the batch is dynamic, and onnx.checker accepts every file: networks, naming,
what cannot be exported and the arguments. Each op family: tests/test_onnx_ops.py. Skipped,
saying why, when onnx or onnxruntime is not installed (pip install -e ".[onnx]")."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn
from minigrad.engine import apply
from minigrad.ops.registry import Op
from tests.onnx_check import F32, F64, check_export, mo, onnx, rand, session


def mlp(dtype=F32):
    mg.manual_seed(0)
    return nn.Sequential(
        nn.Linear(6, 16, dtype=dtype),
        nn.ReLU(),
        nn.Linear(16, 16, dtype=dtype),
        nn.Tanh(),
        nn.Linear(16, 3, dtype=dtype),
        nn.LogSoftmax(axis=-1),
    )


# ----- networks --------------------------------------------------------------------------------
def test_export_mlp_matches_minigrad_at_other_batch_sizes(tmp_path):
    rng = np.random.default_rng(0)
    model, path = mlp(), tmp_path / "mlp.onnx"
    feeds = [rand(rng, n, 6) for n in (4, 1, 9)]
    proto = check_export(model, rand(rng, 4, 6), path, feeds)
    (inp,), (out,) = proto.graph.input, proto.graph.output
    assert (inp.name, out.name) == ("input", "output")
    assert [d.dim_param or d.dim_value for d in inp.type.tensor_type.shape.dim] == ["batch", 6]
    assert [d.dim_param or d.dim_value for d in out.type.tensor_type.shape.dim] == ["batch", 3]
    weights = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}
    assert sorted(weights) == sorted(model.state_dict())
    for name, array in model.state_dict().items():
        np.testing.assert_array_equal(weights[name], array)
    assert [n.op_type for n in proto.graph.node] == [
        "Gemm", "Relu", "Gemm", "Tanh", "Gemm", "LogSoftmax"
    ]  # fmt: skip


def test_export_float64_mlp_keeps_float64(tmp_path):
    rng = np.random.default_rng(1)
    feeds = [rand(rng, n, 6, dtype=F64) for n in (2, 5)]
    proto = check_export(mlp(F64), feeds[0], tmp_path / "m.onnx", feeds)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.DOUBLE


def test_export_fixed_batch_writes_static_shapes(tmp_path):
    rng = np.random.default_rng(2)
    x = rand(rng, 3, 6)
    proto = check_export(mlp(), x, tmp_path / "m.onnx", [x, rand(rng, 3, 6)], dynamic_batch=False)
    dims = proto.graph.input[0].type.tensor_type.shape.dim
    assert [d.dim_value for d in dims] == [3, 6] and not any(d.dim_param for d in dims)
    with pytest.raises(Exception, match="(?i)dimension|shape|invalid"):
        session(tmp_path / "m.onnx").run(None, {"input": rand(rng, 5, 6)})


def test_export_batchnorm_eval_layernorm_and_mode_restored(tmp_path):
    rng = np.random.default_rng(3)
    model = nn.Sequential(
        nn.Linear(4, 6, dtype=F32),
        nn.BatchNorm1d(6, dtype=F32),
        nn.ReLU(),
        nn.LayerNorm(6, dtype=F32),
    )
    for _ in range(3):  # running statistics away from 0 and 1
        model(rand(rng, 8, 4) * 3 + 1)
    assert model.training
    check_export(model, rand(rng, 5, 4), tmp_path / "bn.onnx", [rand(rng, n, 4) for n in (5, 2)])
    model.train()
    mo.export(model, rand(rng, 5, 4), tmp_path / "bn.onnx")
    assert all(m.training for m in model.modules())  # export ran in eval mode, then restored it


def example(name):
    """An example script of examples/, loaded from its file."""
    path = Path(__file__).resolve().parent.parent / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def digits_cnn():
    """The model of examples/cnn_digits.py (its own function)."""
    mg.manual_seed(2)
    return example("cnn_digits").cnn(F32)


def test_export_digits_cnn(tmp_path):
    rng = np.random.default_rng(11)
    model = digits_cnn()
    for _ in range(2):
        model(rand(rng, 16, 1, 8, 8) + 0.5)  # running statistics of its own
    feeds = [rand(rng, n, 1, 8, 8) for n in (4, 1, 13)]
    proto = check_export(model, feeds[0], tmp_path / "cnn.onnx", feeds)
    types = [n.op_type for n in proto.graph.node]
    assert types.count("Conv") == 2 and types.count("MaxPool") == 2 and types.count("Gemm") == 2
    assert "BatchNormalization" not in types  # BatchNorm in eval mode: its elementwise ops


def test_export_frozen_layer_dropout_and_no_grad(tmp_path):
    """Frozen parameters are initializers too, dropout is off (eval mode), and an export
    inside no_grad still records the graph."""
    rng = np.random.default_rng(18)
    mg.manual_seed(9)
    model = nn.Sequential(
        nn.Linear(3, 4, dtype=F32), nn.Dropout(0.5), nn.ReLU(), nn.Linear(4, 2, dtype=F32)
    )
    model[0].requires_grad_(False)
    feeds = [rand(rng, n, 3) for n in (2, 5)]
    with mg.no_grad():
        proto = check_export(model, mg.Value(feeds[0]), tmp_path / "m.onnx", feeds)
    assert [t.name for t in proto.graph.initializer] == ["0.weight", "0.bias", "3.weight", "3.bias"]
    assert [n.op_type for n in proto.graph.node] == ["Gemm", "Relu", "Gemm"]


class SequenceClassifier(nn.Module):
    """A recurrent layer (any of RNN, LSTM, GRU), then a linear head on the last step."""

    def __init__(self, layer, **options):
        super().__init__()
        mg.manual_seed(3)
        self.rnn = layer(3, 8, dtype=F32, **options)
        self.head = nn.Linear(8 * (2 if options.get("bidirectional") else 1), 4, dtype=F32)
        self.batch_first = options.get("batch_first", False)

    def forward(self, x):
        out, state = self.rnn(x)
        last = out[:, -1] if self.batch_first else out[-1]
        return self.head(last), state


LAYERS = {
    "lstm": (nn.LSTM, {"batch_first": True}),
    "lstm_2_layers_bidirectional": (
        nn.LSTM, {"batch_first": True, "num_layers": 2, "bidirectional": True}
    ),
    "lstm_time_major": (nn.LSTM, {}),
    "gru_2_layers": (nn.GRU, {"batch_first": True, "num_layers": 2}),
    "gru_bidirectional_no_bias": (nn.GRU, {"bidirectional": True, "bias": False}),
    "rnn_relu": (nn.RNN, {"batch_first": True, "nonlinearity": "relu"}),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_export_recurrent_layers(tmp_path, name):
    layer, options = LAYERS[name]
    model = SequenceClassifier(layer, **options)
    batch_first = options.get("batch_first", False)
    rng = np.random.default_rng(14)
    shape = (lambda n: (n, 6, 3)) if batch_first else (lambda n: (6, n, 3))
    feeds = [rand(rng, *shape(n)) for n in (2, 1, 5)]
    names = ["scores", "h_n", "c_n"] if layer is nn.LSTM else ["scores", "h_n"]
    proto = check_export(
        model, feeds[0], tmp_path / "seq.onnx", feeds, batch_axis=0 if batch_first else 1,
        output_names=names,
    )  # fmt: skip
    directions = 2 if options.get("bidirectional") else 1
    count = options.get("num_layers", 1) * directions
    assert [n.op_type for n in proto.graph.node].count(layer.__name__) == count
    if name == "lstm_time_major":  # the batch taken on axis 0, the time: lstm_scan's result
        with pytest.raises(mo.ExportError, match="batch_axis=1"):  # (L + 1, N, H) is cut at L
            mo.export(model, feeds[0], tmp_path / "wrong.onnx")


class SelfAttention(nn.Module):
    """nn.MultiheadAttention over x, optionally causal, with or without its weights."""

    def __init__(self, causal, need_weights, batch_first, **options):
        super().__init__()
        mg.manual_seed(5)
        self.attn = nn.MultiheadAttention(8, 2, batch_first=batch_first, dtype=F32, **options)
        self.causal, self.need_weights = causal, need_weights

    def forward(self, x):
        length = x.shape[1] if self.attn.batch_first else x.shape[0]
        mask = np.triu(np.ones((length, length), bool), 1) if self.causal else None
        return self.attn(x, x, x, attn_mask=mask, need_weights=self.need_weights)


ATTENTION = {
    "weights": dict(causal=False, need_weights=True, batch_first=True),
    "causal": dict(causal=True, need_weights=False, batch_first=True),
    "causal_time_major_weights": dict(causal=True, need_weights=True, batch_first=False),
    "no_bias": dict(causal=False, need_weights=False, batch_first=True, bias=False),
}


@pytest.mark.parametrize("name", sorted(ATTENTION))
def test_export_multihead_attention(tmp_path, name):
    options = ATTENTION[name]
    model = SelfAttention(**options)
    rng = np.random.default_rng(16)
    shape = (lambda n: (n, 5, 8)) if options["batch_first"] else (lambda n: (5, n, 8))
    feeds = [rand(rng, *shape(n)) for n in (2, 1, 4)]
    axis = 0 if options["batch_first"] else 1
    proto = check_export(model, feeds[0], tmp_path / "attn.onnx", feeds, batch_axis=axis)
    types = [n.op_type for n in proto.graph.node]
    assert "Softmax" in types and types.count("MatMul") >= 2
    assert len(proto.graph.output) == (2 if options["need_weights"] else 1)


class Tokens(nn.Module):
    """Token and position embeddings, one attention step, a linear read-out."""

    def __init__(self):
        super().__init__()
        mg.manual_seed(0)
        self.emb = nn.Embedding(10, 8, padding_idx=0, dtype=F32)
        self.pos = nn.Embedding(6, 8, dtype=F32)
        self.out = nn.Linear(8, 10, dtype=F32)

    def forward(self, tokens):
        h = self.emb(tokens) + self.pos(np.arange(tokens.shape[1]))
        weights = (h @ h.transpose(0, 2, 1) / np.sqrt(8.0)).softmax(axis=-1)
        return self.out(weights @ h)


def test_export_embedding_takes_int64_token_input(tmp_path):
    rng = np.random.default_rng(4)
    tokens = rng.integers(1, 10, size=(3, 6))
    tokens[0, 0] = 0  # a padding token in the example (its where() exports as the lookup)
    feeds = [rng.integers(0, 10, size=(n, 6)) for n in (3, 1, 7)]
    proto = check_export(Tokens(), tokens, tmp_path / "tok.onnx", feeds)
    assert proto.graph.input[0].type.tensor_type.elem_type == onnx.TensorProto.INT64
    gathers = [n for n in proto.graph.node if n.op_type == "Gather"]
    assert any(list(n.input) == ["emb.weight", "input"] for n in gathers)
    feeds = [rng.integers(0, 10, size=(3, 6)) for _ in range(2)]
    check_export(Tokens(), tokens, tmp_path / "fixed.onnx", feeds, dynamic_batch=False)


def test_export_transformer_example(tmp_path):
    """examples/transformer_reverse.py's Reverser (token and position Embeddings, two encoder
    blocks of MultiheadAttention, LayerNorm and a feed-forward, a Linear head), with every
    parameter moved off its initial value so LayerNorm's scale and shift count too."""
    mg.manual_seed(8)
    model = example("transformer_reverse").Reverser()
    rng = np.random.default_rng(17)
    for p in model.parameters():
        p.data = (p.data + rng.normal(size=p.shape) * 0.1).astype(F32)
    digits = rng.integers(0, 10, size=(4, 8))
    feeds = [rng.integers(0, 10, size=(n, 8)) for n in (4, 1, 9)]
    proto = check_export(model, digits, tmp_path / "reverse.onnx", feeds, output_names=["scores"])
    types = [n.op_type for n in proto.graph.node]
    assert types.count("Softmax") == 2 and types.count("Gather") == 2  # 2 blocks, 2 lookups
    dims = proto.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param or d.dim_value for d in dims] == ["batch", 8, 10]


def test_export_sine_lstm_example_in_float32(tmp_path):
    """examples/sine_lstm.py's Forecaster (LSTM then Linear, float64) made float32 with
    .float(), as ONNX Runtime's LSTM wants; its sequence length follows the example."""
    mg.manual_seed(10)
    model = example("sine_lstm").Forecaster().float()
    rng = np.random.default_rng(19)
    feeds = [rand(rng, n, 12, 1) for n in (3, 1, 6)]
    proto = check_export(model, feeds[0], tmp_path / "sine.onnx", feeds)
    assert [n.op_type for n in proto.graph.node].count("LSTM") == 1


def test_export_several_inputs_and_nested_outputs_with_names(tmp_path):
    rng = np.random.default_rng(5)
    w = mg.Value(rand(rng, 4, 3), label="w")

    def f(x, y):
        h = x @ w
        return h.relu(), (h * y, None)

    feeds = [(rand(rng, n, 4), rand(rng, n, 3)) for n in (2, 5)]
    proto = check_export(
        f, feeds[0], tmp_path / "f.onnx", feeds, input_names=["x", "y"], output_names=["a", "b"]
    )
    assert [i.name for i in proto.graph.input] == ["x", "y"]
    assert [o.name for o in proto.graph.output] == ["a", "b"]
    assert [t.name for t in proto.graph.initializer] == ["w"]


def test_export_output_that_is_an_input_or_a_parameter(tmp_path):
    rng = np.random.default_rng(6)
    w = mg.Value(rand(rng, 3), label="w")
    feeds = [rand(rng, n, 3) for n in (2, 4)]
    proto = check_export(lambda x: (x * w, x, w), feeds[0], tmp_path / "f.onnx", feeds)
    assert [o.name for o in proto.graph.output] == ["output_0", "output_1", "output_2"]


def test_export_flatten_reshape_leaves_the_batch_open(tmp_path):
    rng = np.random.default_rng(9)
    model = nn.Sequential(nn.Flatten(), nn.Linear(12, 2, dtype=F32))
    proto = check_export(model, rand(rng, 2, 3, 4), tmp_path / "f.onnx", [rand(rng, 5, 3, 4)])
    (reshape,) = [n for n in proto.graph.node if n.op_type == "Reshape"]
    shape = {t.name: onnx.numpy_helper.to_array(t) for t in proto.graph.initializer}[
        reshape.input[1]
    ]
    assert shape.tolist() in ([0, -1], [-1, 12], [0, 12])  # never the example's 2


# ----- what cannot be exported -----------------------------------------------------------------
class Cube(Op):
    """x**3 as a user's own op.  Gradient: 3 x**2 g."""

    name = "cube"
    forward = staticmethod(lambda x: x**3)
    grads = (lambda g, out, x: 3.0 * x * x * g,)


def test_export_user_op_error_names_op_label_and_supported_ops_and_writes_nothing(tmp_path):
    def f(x):
        h = apply(Cube, x * 2.0)
        h.label = "cubed"
        return h

    path = tmp_path / "f.onnx"
    with pytest.raises(mo.ExportError) as info:
        mo.export(f, np.ones((2, 3)), path)
    text = str(info.value)
    assert "'cube'" in text and "'cubed'" in text and "Ops that export: abs, add" in text
    assert os.listdir(tmp_path) == []
    path.write_bytes(b"old")
    with pytest.raises(mo.ExportError):
        mo.export(f, np.ones((2, 3)), path)
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["f.onnx"]


def test_export_loss_is_refused_with_a_hint(tmp_path):
    model = mlp(F64)
    with pytest.raises(mo.ExportError, match="it is a loss: export the model"):
        mo.export(lambda x: mg.losses.cross_entropy(model(x), np.array([0, 1])), np.ones((2, 6)),
                  tmp_path / "f.onnx", dynamic_batch=False)  # fmt: skip


def test_export_refuses_what_would_freeze_the_example(tmp_path):
    path = tmp_path / "f.onnx"
    with pytest.raises(mo.ExportError, match="does not depend on input 'input'|do not depend"):
        mo.export(lambda x: mg.Value(x.data) * 2.0, np.ones((2, 3)), path)
    with pytest.raises(mo.ExportError, match="changes with the input's values"):
        mo.export(lambda x: x * np.sign(x.data), np.arange(6.0).reshape(3, 2) - 2, path,
                  dynamic_batch=False)  # fmt: skip
    with pytest.raises(mo.ExportError, match="changes with the batch size.*dynamic_batch=False"):
        mo.export(lambda x: x[: x.shape[0] - 1], np.ones((4, 3)), path)
    with pytest.raises(mo.ExportError, match="integer input 'input' is not used as the indices"):
        mo.export(lambda t: mg.Value(np.ones(3)) * float(t.sum()), np.array([1, 2]), path)
    assert os.listdir(tmp_path) == []
    most = lambda x: x[: x.shape[0] - 1]  # noqa: E731
    x = np.ones((4, 3))
    check_export(most, x, path, [x * 2.0], dynamic_batch=False)


def test_export_unsupported_parameter_error_names_the_node_and_what_works(tmp_path):
    def f(x):
        picked = x[[0, 1], [1, 2]]  # two integer arrays in one index
        picked.label = "picked"
        return picked

    with pytest.raises(mo.ExportError) as info:
        mo.export(f, np.ones((3, 4)), tmp_path / "f.onnx")
    text = str(info.value)
    assert "op 'getitem'" in text and "'picked'" in text
    assert "only as the one array among slices (x[idx], x[:, idx])" in text
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("dynamic", [True, False])
def test_export_refuses_values_frozen_from_an_example_of_one(tmp_path, dynamic):
    """A batch of one has no other row to compare with: the second run rotates its numbers."""
    x = np.array([[-1.0, 2.0, -3.0, 4.0]])
    with pytest.raises(mo.ExportError, match="changes with"):
        mo.export(lambda v: v * np.sign(v.data), x, tmp_path / "f.onnx", dynamic_batch=dynamic)
    assert os.listdir(tmp_path) == []


def test_export_mask_repeated_along_the_batch(tmp_path):
    """A causal mask broadcast to (N, L, L) is written once, as (1, L, L)."""
    rng = np.random.default_rng(15)

    def f(x):
        scores = x @ x.transpose(0, 2, 1)
        causal = np.broadcast_to(np.tril(np.ones((4, 4), bool)), scores.shape)
        return mg.where(causal, scores, -1e9).softmax(-1) @ x

    feeds = [rand(rng, n, 4, 3) for n in (2, 1, 5)]
    proto = check_export(f, feeds[0], tmp_path / "f.onnx", feeds)
    masks = [t for t in proto.graph.initializer if t.data_type == onnx.TensorProto.BOOL]
    assert [list(t.dims) for t in masks] == [[1, 4, 4]]


def test_export_scalar_mlp_with_a_fixed_size(tmp_path):
    """micrograd's MLP of single-number Values: a graph of 0-d tensors; its input size is
    fixed, which the second run at another size finds out."""
    mg.manual_seed(7)
    model, x = nn.MLP(3, [4, 4, 1]), np.array([0.5, -1.0, 2.0])
    with pytest.raises(mo.ExportError, match="Neuron expects 3 inputs, got 4.*dynamic_batch"):
        mo.export(model, x, tmp_path / "mlp.onnx")
    check_export(model, x, tmp_path / "mlp.onnx", [x, -x], dynamic_batch=False)


def test_export_argument_errors(tmp_path):
    model, x = mlp(), np.ones((2, 6), F32)
    with pytest.raises(ValueError, match="opset 12 is not supported; give one from 13"):
        mo.export(model, x, tmp_path / "m.onnx", opset=12)
    with pytest.raises(ValueError, match="folder of .* does not exist"):
        mo.export(model, x, tmp_path / "nowhere" / "m.onnx")
    with pytest.raises(ValueError, match="2 input_names given for 1 inputs"):
        mo.export(model, x, tmp_path / "m.onnx", input_names=["a", "b"])
    with pytest.raises(TypeError, match="input 0 must hold floats or integers, got dtype <U1"):
        mo.export(model, np.array(["a"]), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="disagree on the batch size"):
        mo.export(lambda a, b: a + b, (np.ones((2, 3)), np.ones((3, 3))), tmp_path / "m.onnx")
    with pytest.raises(TypeError, match="model must be a Module or a callable"):
        mo.export(3, x, tmp_path / "m.onnx")
    assert os.listdir(tmp_path) == []
