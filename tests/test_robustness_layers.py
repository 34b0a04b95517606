"""The layers of issues 12 and 13 under bad input and hard numerics (issue 17).

- Every error case the two issues name, for every layer and op it applies to: its type and the
  key words (the layer or op, the expected layout, the shapes or values given). Cases the
  layer tests already check are repeated here so the list is complete in one place.
- Finite values and finite gradients with numpy's floating-point errors raised: BatchNorm and
  LayerNorm on constant inputs (variance 0), attention with a fully masked row, recurrent
  layers on inputs of +-1000, log_softmax over 10,000 classes, in float64 and float32.
  Underflow stays allowed (numpy's default, and pytest's `-W error::RuntimeWarning` likewise):
  sigmoid(-1000) and e**-1000 round to 0, which is the right answer, not an error.
- float32 models stay float32: outputs, gradients, buffers and Adam's moments, layer by layer.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import minigrad as mg
from minigrad import nn, ops, optim

# numpy's overflow, division by zero and invalid operations raise (underflow rounds to 0)
STRICT = {"over": "raise", "divide": "raise", "invalid": "raise", "under": "ignore"}
strict_warnings = pytest.mark.filterwarnings("error::RuntimeWarning")

X2 = np.ones((1, 3, 5, 5))


def _raises(error, call, *words):
    with pytest.raises(error) as info:
        call()
    message = str(info.value)
    for w in words:
        assert w in message, (w, message)


# ----- the error cases of issue 12 -------------------------------------------------------------
CONV_POOL_VALUE_ERRORS = {
    # wrong number of dimensions
    "Conv1d 1-d input": (
        lambda: nn.Conv1d(2, 4, 3)(np.ones(6)),
        ["Conv1d(2, 4, kernel_size=(3,))", "(N, C, L) or (C, L)", "got shape (6,)"],
    ),
    "Conv2d 2-d input": (
        lambda: nn.Conv2d(3, 8, 3)(np.ones((8, 8))),
        ["Conv2d(3, 8, kernel_size=(3, 3))", "(N, C, H, W) or (C, H, W)", "got shape (8, 8)"],
    ),
    "conv1d op 4-d input": (
        lambda: ops.conv1d(np.ones((1, 4, 5, 5)), np.ones((3, 4, 3))),
        ["conv1d", "(N, C, L)", "(1, 4, 5, 5)"],
    ),
    "conv2d op 3-d weight": (
        lambda: ops.conv2d(X2, np.ones((3, 3, 3))),
        ["conv2d", "(out, in/groups, kh, kw)", "weight shape (3, 3, 3)"],
    ),
    "MaxPool1d 1-d input": (
        lambda: nn.MaxPool1d(2)(np.ones(4)),
        ["MaxPool1d(kernel_size=2", "(N, C, L) or (C, L)", "got shape (4,)"],
    ),
    "MaxPool2d 2-d input": (
        lambda: nn.MaxPool2d(2)(np.ones((4, 4))),
        ["MaxPool2d(kernel_size=2", "(N, C, H, W) or (C, H, W)", "got shape (4, 4)"],
    ),
    "AvgPool1d 4-d input": (
        lambda: nn.AvgPool1d(2)(np.ones((1, 2, 3, 4))),
        ["AvgPool1d(kernel_size=(2,)", "(N, C, L)", "(1, 2, 3, 4)"],
    ),
    "AvgPool2d 5-d input": (
        lambda: nn.AvgPool2d(2)(np.ones((1, 1, 2, 4, 4))),
        ["AvgPool2d(kernel_size=2", "(N, C, H, W)", "(1, 1, 2, 4, 4)"],
    ),
    "max_pool2d op 2-d input": (
        lambda: ops.max_pool2d(np.zeros((2, 8)), 2),
        ["max_pool2d", "(N, C, H, W)", "(2, 8)"],
    ),
    # wrong number of channels
    "Conv1d channels": (
        lambda: nn.Conv1d(2, 4, 3)(np.ones((1, 3, 8))),
        ["Conv1d(2, 4", "(N, C, L)", "C = 2", "got shape (1, 3, 8)"],
    ),
    "Conv2d channels": (
        lambda: nn.Conv2d(3, 8, 3)(np.ones((2, 4, 8, 8))),
        ["Conv2d(3, 8", "(N, C, H, W)", "C = 3", "got shape (2, 4, 8, 8)"],
    ),
    "conv2d op weight channels": (
        lambda: ops.conv2d(np.ones((1, 4, 5, 5)), np.ones((3, 3, 3, 3))),
        ["conv2d", "in/groups = 4", "input shape (1, 4, 5, 5)", "weight shape (3, 3, 3, 3)"],
    ),
    # a kernel larger than the padded input
    "Conv1d kernel too long": (
        lambda: nn.Conv1d(2, 4, 5, padding=1)(np.ones((1, 2, 2))),
        ["conv1d", "the kernel spans 5 entries", "padded input's 4", "input shape (1, 2, 2)"],
    ),
    "Conv1d dilated kernel too long": (
        lambda: nn.Conv1d(2, 4, 3, dilation=3)(np.ones((1, 2, 6))),
        ["conv1d", "spans 7 entries", "dilation (3,)", "(1, 2, 6)"],
    ),
    "Conv2d kernel too large": (
        lambda: nn.Conv2d(3, 8, 3)(np.ones((1, 3, 2, 2))),
        ["conv2d", "the kernel spans 3 entries", "(1, 3, 2, 2)"],
    ),
    "MaxPool1d kernel too long": (
        lambda: nn.MaxPool1d(5)(np.ones((1, 1, 3))),
        ["max_pool1d", "spans 5 entries", "(1, 1, 3)"],
    ),
    "MaxPool2d kernel too large": (
        lambda: nn.MaxPool2d(3)(np.ones((1, 1, 2, 2))),
        ["max_pool2d", "spans 3 entries", "(1, 1, 2, 2)"],
    ),
    "AvgPool2d kernel too large": (
        lambda: nn.AvgPool2d((1, 4))(np.ones((1, 1, 2, 3))),
        ["avg_pool2d", "spans 4 entries along spatial axis 1", "(1, 1, 2, 3)"],
    ),
    "AvgPool1d kernel too long": (
        lambda: ops.avg_pool1d(np.ones((1, 2, 3)), 4),
        ["avg_pool1d", "spans 4 entries", "(1, 2, 3)"],
    ),
    # groups that do not divide the channels
    "Conv2d groups in": (
        lambda: nn.Conv2d(3, 4, 3, groups=2),
        ["Conv2d", "in_channels (3) must be divisible by groups (2)"],
    ),
    "Conv1d groups out": (
        lambda: nn.Conv1d(4, 3, 3, groups=2),
        ["Conv1d", "out_channels (3) must be divisible by groups (2)"],
    ),
    "conv2d op groups": (
        lambda: ops.conv2d(np.ones((1, 4, 5, 5)), np.ones((3, 2, 3, 3)), groups=2),
        ["conv2d", "groups=2 must divide", "(1, 4, 5, 5)", "(3, 2, 3, 3)"],
    ),
    "Conv2d groups 0": (lambda: nn.Conv2d(4, 4, 3, groups=0), ["Conv2d", "groups", "got 0"]),
    # strides and kernel sizes that are not positive
    "Conv2d stride 0": (lambda: nn.Conv2d(3, 4, 3, stride=0), ["Conv2d", "stride", "positive"]),
    "Conv2d stride -1": (
        lambda: nn.Conv2d(3, 4, 3, stride=(1, -1)),
        ["Conv2d", "stride must be positive", "(1, -1)"],
    ),
    "Conv1d kernel 0": (lambda: nn.Conv1d(3, 4, 0), ["Conv1d", "kernel_size must be positive"]),
    "Conv2d kernel 3-tuple": (
        lambda: nn.Conv2d(3, 4, (3, 3, 3)),
        ["Conv2d", "kernel_size", "one per spatial axis", "(3, 3, 3)"],
    ),
    "Conv2d dilation 0": (lambda: nn.Conv2d(3, 4, 3, dilation=0), ["Conv2d", "dilation"]),
    "conv1d op stride 0": (
        lambda: ops.conv1d(np.ones((1, 1, 5)), np.ones((1, 1, 2)), stride=0),
        ["conv1d", "stride must be positive"],
    ),
    "MaxPool2d stride 0": (lambda: nn.MaxPool2d(2, stride=0), ["MaxPool2d", "stride", "positive"]),
    "AvgPool1d kernel -1": (lambda: nn.AvgPool1d(-1), ["AvgPool1d", "kernel_size", "positive"]),
    "AvgPool2d kernel 0": (lambda: nn.AvgPool2d((2, 0)), ["AvgPool2d", "kernel_size", "positive"]),
    "MaxPool1d padding over half": (
        lambda: nn.MaxPool1d(2, padding=2),
        ["MaxPool1d", "padding must be at most half the kernel size"],
    ),
    # Embedding: out of range
    "Embedding index too large": (
        lambda: nn.Embedding(4, 2)(np.array([[0, 4]])),
        ["Embedding(4, 2)", "indices must lie in [0, 4)", "0 to 4", "shape (1, 2)"],
    ),
    "Embedding negative index": (
        lambda: nn.Embedding(10, 3)(np.array([-1, 0, 2])),
        ["Embedding(10, 3)", "[0, 10)", "values from -1 to 2", "shape (3,)"],
    ),
}
CONV_POOL_TYPE_ERRORS = {
    "Conv2d stride 1.5": (
        lambda: nn.Conv2d(3, 4, 3, stride=1.5),
        ["Conv2d", "stride must be an int or a tuple of 2 ints", "1.5"],
    ),
    "Conv2d kernel 2.5": (lambda: nn.Conv2d(3, 4, 2.5), ["Conv2d", "kernel_size", "2.5"]),
    "conv2d op stride True": (lambda: ops.conv2d(X2, np.ones((2, 3, 3, 3)), stride=True),
                              ["conv2d", "stride"]),
    "MaxPool2d stride 1.5": (lambda: nn.MaxPool2d(2, stride=1.5), ["MaxPool2d", "stride", "1.5"]),
    "AvgPool1d kernel 2.0": (lambda: nn.AvgPool1d(2.0), ["AvgPool1d", "kernel_size", "2.0"]),
    "MaxPool1d kernel True": (lambda: nn.MaxPool1d(True), ["MaxPool1d", "kernel_size", "True"]),
    "Embedding float indices": (
        lambda: nn.Embedding(4, 2)(np.array([1.5])),
        ["Embedding(4, 2)", "expects integer indices", "dtype float64", "shape (1,)"],
    ),
    "Embedding list of floats": (
        lambda: nn.Embedding(4, 2)([0.0, 1.0]),
        ["Embedding(4, 2)", "integer indices", "float64", "(2,)"],
    ),
    "Embedding Value": (
        lambda: nn.Embedding(4, 2)(mg.Value(np.array([1.0]))),
        ["Embedding(4, 2)", "got a Value of shape"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CONV_POOL_VALUE_ERRORS))
def test_conv_pool_embedding_value_errors_name_the_layer_layout_and_shapes(case):
    call, words = CONV_POOL_VALUE_ERRORS[case]
    _raises(ValueError, call, *words)


@pytest.mark.parametrize("case", sorted(CONV_POOL_TYPE_ERRORS))
def test_conv_pool_embedding_type_errors_name_the_layer_and_the_value(case):
    call, words = CONV_POOL_TYPE_ERRORS[case]
    _raises(TypeError, call, *words)


def test_normalization_errors_name_the_layer_layout_and_shape():
    _raises(
        ValueError,
        lambda: nn.BatchNorm1d(3)(np.ones(3)),
        "BatchNorm1d(3)",
        "(N, C) or (N, C, L)",
        "C = 3",
        "got shape (3,)",
    )
    _raises(
        ValueError,
        lambda: nn.BatchNorm2d(3)(np.ones((2, 2, 4, 4))),
        "BatchNorm2d(3)",
        "(N, C, H, W)",
        "got shape (2, 2, 4, 4)",
    )
    _raises(
        ValueError,
        lambda: nn.LayerNorm((2, 3))(np.ones((4, 3, 2))),
        "LayerNorm((2, 3))",
        "(*, 2, 3)",
        "got shape (4, 3, 2)",
    )


# ----- the error cases of issue 13 -------------------------------------------------------------
SEQUENCE_ERRORS = {
    # a sequence of the wrong number of dimensions or feature size
    "RNN 4-d": (
        lambda: nn.RNN(3, 4)(np.ones((1, 2, 3, 4))),
        ["RNN expects input of shape (L, N, H_in)", "(L, H_in) unbatched", "(1, 2, 3, 4)"],
    ),
    "RNN features, batch_first": (
        lambda: nn.RNN(3, 4, batch_first=True)(np.ones((2, 5, 4))),
        ["RNN", "(N, L, H_in) with batch_first=True", "input_size = 3", "(2, 5, 4)"],
    ),
    "LSTM 1-d": (lambda: nn.LSTM(3, 4)(np.ones(3)), ["LSTM expects", "(L, N, H_in)", "(3,)"]),
    "LSTM features": (
        lambda: nn.LSTM(3, 4)(np.ones((5, 2, 7))),
        ["LSTM expects input of shape (L, N, H_in)", "(5, 2, 7)"],
    ),
    "GRU features": (
        lambda: nn.GRU(3, 4)(np.ones((5, 2, 2))),
        ["GRU expects", "H_in = input_size = 3", "(5, 2, 2)"],
    ),
    "GRU 4-d, batch_first": (
        lambda: nn.GRU(3, 4, batch_first=True)(np.ones((2, 3, 3, 3))),
        ["GRU", "(N, L, H_in) with batch_first=True", "(2, 3, 3, 3)"],
    ),
    "RNNCell features": (
        lambda: nn.RNNCell(3, 4)(np.ones((2, 2))),
        ["RNNCell expects input of shape (N, H_in) or (H_in,)", "(2, 2)"],
    ),
    "RNNCell 3-d": (lambda: nn.RNNCell(3, 4)(np.ones((2, 2, 3))), ["RNNCell", "(2, 2, 3)"]),
    "LSTMCell features": (lambda: nn.LSTMCell(3, 4)(np.ones((2, 5))), ["LSTMCell", "(2, 5)"]),
    "GRUCell features": (lambda: nn.GRUCell(3, 4)(np.ones((2, 5))), ["GRUCell", "(N, H_in)"]),
    # an initial state of the wrong shape
    "RNN h_0 batch": (
        lambda: nn.RNN(3, 4)(np.ones((5, 2, 3)), np.zeros((1, 3, 4))),
        ["RNN: hx (h_0) must have shape (D * num_layers, N, H_out) = (1, 2, 4)", "(1, 3, 4)"],
    ),
    "LSTM h_0 layers": (
        lambda: nn.LSTM(3, 4, num_layers=2)(
            np.ones((5, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((2, 2, 4)))
        ),
        ["LSTM: h_0 must have shape", "= (2, 2, 4)", "got shape (1, 2, 4)"],
    ),
    "LSTM c_0 batch": (
        lambda: nn.LSTM(3, 4)(np.ones((5, 2, 3)), (np.zeros((1, 2, 4)), np.zeros((1, 3, 4)))),
        ["LSTM: c_0 must have shape", "(1, 2, 4)", "(1, 3, 4)"],
    ),
    "LSTM unbatched h_0": (
        lambda: nn.LSTM(3, 4)(np.ones((5, 3)), (np.zeros((1, 2, 4)), np.zeros((1, 2, 4)))),
        ["LSTM: h_0", "(D * num_layers, H_out) = (1, 4)", "(1, 2, 4)"],
    ),
    "GRU h_0 bidirectional": (
        lambda: nn.GRU(3, 4, bidirectional=True)(np.ones((5, 2, 3)), np.zeros((1, 2, 4))),
        ["GRU: hx (h_0)", "= (2, 2, 4)", "(1, 2, 4)"],
    ),
    "RNNCell hx": (
        lambda: nn.RNNCell(3, 4)(np.ones((2, 3)), np.zeros((3, 4))),
        ["RNNCell: hx must have shape (N, H_out) = (2, 4)", "(3, 4)"],
    ),
    "LSTMCell h": (
        lambda: nn.LSTMCell(3, 4)(np.ones((2, 3)), (np.zeros((2, 5)), np.zeros((2, 4)))),
        ["LSTMCell: hx[0] (h) must have shape (N, H_out) = (2, 4)", "(2, 5)"],
    ),
    "GRUCell hx": (
        lambda: nn.GRUCell(3, 4)(np.ones((2, 3)), np.zeros((2, 5))),
        ["GRUCell: hx must have shape (N, H_out) = (2, 4)", "(2, 5)"],
    ),
    # embed_dim not divisible by num_heads
    "MultiheadAttention heads": (
        lambda: nn.MultiheadAttention(6, 4),
        ["MultiheadAttention", "embed_dim (6) must be divisible by num_heads (4)"],
    ),
    "MultiheadAttention query 1-d": (
        lambda: nn.MultiheadAttention(4, 2)(np.ones(4), np.ones(4), np.ones(4)),
        ["MultiheadAttention expects query (L, N, E)", "query (4,)"],
    ),
    "MultiheadAttention key features": (
        lambda: nn.MultiheadAttention(4, 2)(
            np.ones((3, 2, 4)), np.ones((3, 2, 5)), np.ones((3, 2, 4))
        ),
        ["MultiheadAttention", "features must be embed_dim=4", "key (3, 2, 5)"],
    ),
    # a mask that does not broadcast
    "MultiheadAttention attn_mask": (
        lambda: nn.MultiheadAttention(4, 2)(
            np.ones((3, 2, 4)), np.ones((5, 2, 4)), np.ones((5, 2, 4)), attn_mask=np.ones((3, 4))
        ),
        ["MultiheadAttention: attn_mask must have shape (L, S) = (3, 5)", "(4, 3, 5)", "(3, 4)"],
    ),
    "MultiheadAttention key_padding_mask": (
        lambda: nn.MultiheadAttention(4, 2)(
            np.ones((3, 2, 4)), np.ones((5, 2, 4)), np.ones((5, 2, 4)),
            key_padding_mask=np.ones((2, 4), bool),
        ),
        ["key_padding_mask must have shape (N, S) = (2, 5)", "got (2, 4)"],
    ),
    "scaled_dot_product_attention attn_mask": (
        lambda: mg.scaled_dot_product_attention(
            np.ones((2, 3, 4)), np.ones((2, 5, 4)), np.ones((2, 5, 4)),
            attn_mask=np.ones((2, 3, 4), bool),
        ),
        ["scaled_dot_product_attention", "attn_mask of shape (2, 3, 4) does not broadcast",
         "(..., L, S) = (2, 3, 5)"],
    ),
    "scaled_dot_product_attention 1-d": (
        lambda: mg.scaled_dot_product_attention(np.ones(4), np.ones(4), np.ones(4)),
        ["scaled_dot_product_attention", "query (..., L, E)", "query (4,)"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(SEQUENCE_ERRORS))
def test_sequence_layer_errors_name_the_layer_layout_and_shapes(case):
    call, words = SEQUENCE_ERRORS[case]
    _raises(ValueError, call, *words)


def test_recurrent_state_of_the_wrong_kind_is_a_type_error():
    x = np.ones((5, 2, 3))
    _raises(TypeError, lambda: nn.LSTM(3, 4)(x, np.zeros((1, 2, 4))), "LSTM: hx must be a tuple")
    _raises(
        TypeError,
        lambda: nn.LSTMCell(3, 4)(np.ones((2, 3)), np.zeros((2, 4))),
        "LSTMCell: hx must be a tuple",
    )


# ----- numerics: constant inputs, masked rows, saturation, many classes ------------------------
FLOATS = [np.float64, np.float32]


def _finite(*arrays):
    return all(np.all(np.isfinite(a)) for a in arrays)


@strict_warnings
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("layer", ["BatchNorm1d", "BatchNorm2d", "LayerNorm"])
def test_normalization_of_a_constant_input_is_finite_with_the_exact_gradient(layer, dtype):
    shape = {"BatchNorm1d": (4, 3, 5), "BatchNorm2d": (4, 3, 2, 2), "LayerNorm": (4, 3, 5)}[layer]
    norm = getattr(nn, layer)(5 if layer == "LayerNorm" else 3, dtype=dtype)
    x = mg.Value(np.full(shape, 7.25, dtype))
    g = np.random.default_rng(0).normal(size=shape).astype(dtype)
    with np.errstate(**STRICT):
        out = norm(x)
        (out * g).sum().backward()
    # x - mean is exactly 0: the output is the bias, and d out / d x = (g - mean(g)) / sqrt(eps)
    axes = (-1,) if layer == "LayerNorm" else (0, *range(2, len(shape)))
    expected = (g - g.mean(axis=axes, keepdims=True)) / np.sqrt(dtype(norm.eps))
    assert out.dtype == x.grad.dtype == dtype and np.all(out.data == 0)
    np.testing.assert_allclose(x.grad, expected, rtol=1e-3 if dtype == np.float32 else 1e-9)
    np.testing.assert_array_equal(norm.weight.grad, 0.0)  # sum of g * x_hat, x_hat = 0
    over = (0, 1) if layer == "LayerNorm" else axes  # the axes the bias is broadcast along
    np.testing.assert_allclose(norm.bias.grad, g.sum(axis=over), rtol=1e-5)
    if layer != "LayerNorm":  # eval on the running statistics of that constant batch
        with np.errstate(**STRICT):
            assert _finite(norm.eval()(x).data)
        np.testing.assert_allclose(norm.running_var, 0.9, rtol=1e-6)  # unbiased var 0


@pytest.mark.parametrize("layer, shape", [("BatchNorm1d", (1, 3)), ("BatchNorm2d", (1, 3, 1, 1))])
def test_batchnorm_batch_of_one_in_training_is_an_error_as_in_pytorch(layer, shape):
    _raises(
        ValueError,
        lambda: getattr(nn, layer)(3)(np.ones(shape)),
        f"{layer}(3): expected more than 1 value per channel when training",
        str(shape),
    )
    assert getattr(nn, layer)(3).eval()(np.ones(shape)).shape == shape  # running stats: fine
    # without running statistics eval uses the batch's too: the same error, as PyTorch's
    untracked = getattr(nn, layer)(3, track_running_stats=False).eval()
    _raises(ValueError, lambda: untracked(np.ones(shape)), "more than 1 value per channel")
    torch = pytest.importorskip("torch", reason="PyTorch's behaviour, for comparison")
    for theirs in (
        getattr(torch.nn, layer)(3),
        getattr(torch.nn, layer)(3, track_running_stats=False).eval(),
    ):
        with pytest.raises(ValueError, match="more than 1 value per channel when training"):
            theirs(torch.ones(shape))


def _softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@strict_warnings
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mask_kind", ["bool", "float -inf"])
def test_attention_with_a_fully_masked_row_gives_zeros_and_finite_gradients(dtype, mask_kind):
    rng = np.random.default_rng(1)
    q, k, v = (mg.Value(rng.normal(size=(2, 4, 3)).astype(dtype)) for _ in range(3))
    keep = np.tril(np.ones((4, 4), bool))
    keep[2] = False  # query 2 may attend to nothing
    mask = keep if mask_kind == "bool" else np.where(keep, 0.0, -np.inf).astype(dtype)
    with np.errstate(**STRICT):
        out = mg.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        (out * out).sum().backward()
    assert out.dtype == q.grad.dtype == k.grad.dtype == v.grad.dtype == dtype
    assert _finite(out.data, q.grad, k.grad, v.grad)
    # the documented behaviour: the empty row is zeros, and no gradient flows through it
    np.testing.assert_array_equal(out.data[:, 2], 0.0)
    np.testing.assert_array_equal(q.grad[:, 2], 0.0)
    scores = q.data @ k.data.transpose(0, 2, 1) / np.sqrt(3)
    weights = _softmax(np.where(keep, scores, -np.inf)[:, [0, 1, 3]])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(out.data[:, [0, 1, 3]], weights @ v.data, rtol=tol, atol=tol)
    mha = nn.MultiheadAttention(3, 1, batch_first=True, dtype=dtype)
    with np.errstate(**STRICT):
        o, w = mha(q, k, v, attn_mask=~keep)  # PyTorch's MultiheadAttention: True masks out
        (o * o).sum().backward()
    assert _finite(o.data, w.data, q.grad) and np.all(w.data[:, 2] == 0)


def _saturating(shape, dtype, seed=2):
    signs = np.random.default_rng(seed).choice([-1.0, 1.0], size=shape)
    return (1000.0 * signs).astype(dtype)


@strict_warnings
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_recurrent_layers_on_inputs_of_plus_minus_1000_stay_finite(kind, dtype):
    layer = getattr(nn, kind)(3, 4, num_layers=2, bidirectional=True, dtype=dtype, rng=0)
    x = mg.Value(_saturating((6, 2, 3), dtype))
    with np.errstate(**STRICT):
        out, state = layer(x)
        (out.sum() + (state[0] if kind == "LSTM" else state).sum()).backward()
    grads = [p.grad for p in layer.parameters()]
    assert out.dtype == x.grad.dtype == dtype and all(g.dtype == dtype for g in grads)
    assert _finite(out.data, x.grad, *grads)
    assert np.all(np.abs(out.data) <= 1)  # tanh, sigmoid-gated: saturated, not overflowed
    torch = pytest.importorskip("torch", reason="PyTorch's values for comparison")
    theirs = getattr(torch.nn, kind)(3, 4, num_layers=2, bidirectional=True).double()
    theirs.load_state_dict({k: torch.tensor(v, dtype=torch.float64)
                            for k, v in layer.state_dict().items()})  # fmt: skip
    expected = theirs(torch.tensor(x.data, dtype=torch.float64))[0].detach().numpy()
    np.testing.assert_allclose(out.data, expected, atol=1e-5 if dtype == np.float32 else 1e-12)


@strict_warnings
@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("kind", ["RNNCell", "LSTMCell", "GRUCell"])
def test_recurrent_cells_on_inputs_of_plus_minus_1000_stay_finite(kind, dtype):
    cell = getattr(nn, kind)(3, 4, dtype=dtype, rng=0)
    x = mg.Value(_saturating((2, 3), dtype))
    with np.errstate(**STRICT):
        out = cell(x)
        h = out[0] if kind == "LSTMCell" else out
        h = cell(x, out)[0] if kind == "LSTMCell" else cell(x, h)  # a second step from there
        h.sum().backward()
    assert h.dtype == x.grad.dtype == dtype
    assert _finite(h.data, x.grad, *(p.grad for p in cell.parameters()))


@strict_warnings
@pytest.mark.parametrize("dtype", FLOATS)
def test_log_softmax_over_10000_classes_is_exact_and_finite(dtype):
    rng = np.random.default_rng(3)
    logits = mg.Value((rng.normal(size=(3, 10_000)) * 50).astype(dtype))
    labels = np.array([0, 4_242, 9_999])
    g = rng.normal(size=(3, 10_000)).astype(dtype)
    with np.errstate(**STRICT):
        out = logits.log_softmax(-1)
        (out * g).sum().backward()
        loss = mg.losses.cross_entropy(logits, labels)
    x = logits.data.astype(np.float64)
    shifted = x - x.max(-1, keepdims=True)
    expected = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    tol = 1e-5 if dtype == np.float32 else 1e-12
    assert out.dtype == logits.grad.dtype == loss.dtype == dtype
    np.testing.assert_allclose(out.data, expected, rtol=tol, atol=tol * 100)
    grad = g - np.exp(expected) * g.astype(np.float64).sum(-1, keepdims=True)
    np.testing.assert_allclose(logits.grad, grad, rtol=tol * 10, atol=tol * 10)
    np.testing.assert_allclose(loss.data, -expected[[0, 1, 2], labels].mean(), rtol=tol)


# ----- float32 stays float32: every new layer, its gradients, buffers and Adam's state ---------
def _float32_cases():
    f = np.float32
    return {
        "Conv1d": (nn.Conv1d(2, 3, 3, padding=1, dtype=f), (2, 2, 6)),
        "Conv2d": (nn.Conv2d(2, 3, 3, stride=2, groups=1, dtype=f), (2, 2, 7, 7)),
        "MaxPool1d": (nn.Sequential(nn.Conv1d(2, 2, 1, dtype=f), nn.MaxPool1d(2)), (2, 2, 6)),
        "MaxPool2d": (nn.Sequential(nn.Conv2d(2, 2, 1, dtype=f), nn.MaxPool2d(2)), (2, 2, 4, 4)),
        "AvgPool1d": (nn.Sequential(nn.Conv1d(2, 2, 1, dtype=f), nn.AvgPool1d(3)), (2, 2, 6)),
        "AvgPool2d": (
            nn.Sequential(nn.Conv2d(2, 2, 1, dtype=f), nn.AvgPool2d(2, padding=1)), (2, 2, 4, 4)
        ),
        "BatchNorm1d": (nn.BatchNorm1d(3, dtype=f), (4, 3, 2)),
        "BatchNorm2d": (nn.BatchNorm2d(3, dtype=f), (4, 3, 2, 2)),
        "LayerNorm": (nn.LayerNorm((3, 2), dtype=f), (4, 3, 2)),
        "Embedding": (nn.Embedding(6, 3, dtype=f), None),
        "Dropout2d": (nn.Sequential(nn.Conv2d(2, 2, 1, dtype=f), nn.Dropout2d(0.5)), (2, 2, 3, 3)),
        "Flatten": (nn.Sequential(nn.Flatten(), nn.Linear(8, 2, dtype=f)), (2, 2, 2, 2)),
        "RNN": (nn.RNN(3, 4, num_layers=2, dtype=f), (5, 2, 3)),
        "LSTM": (nn.LSTM(3, 4, bidirectional=True, dtype=f), (5, 2, 3)),
        "GRU": (nn.GRU(3, 4, batch_first=True, dtype=f), (2, 5, 3)),
        "RNNCell": (nn.RNNCell(3, 4, dtype=f), (2, 3)),
        "LSTMCell": (nn.LSTMCell(3, 4, dtype=f), (2, 3)),
        "GRUCell": (nn.GRUCell(3, 4, dtype=f), (2, 3)),
        "MultiheadAttention": (nn.MultiheadAttention(4, 2, dtype=f), (3, 2, 4)),
    }  # fmt: skip


def _first_output(out):
    while isinstance(out, tuple):
        out = out[0]
    return out


@pytest.mark.parametrize("name", sorted(_float32_cases()))
@pytest.mark.parametrize("given", ["float32 Value", "float64 array"])
def test_a_float32_layer_stays_float32_in_outputs_gradients_buffers_and_adam(name, given):
    layer, shape = _float32_cases()[name]
    rng = np.random.default_rng(4)
    if shape is None:
        x = rng.integers(0, 6, size=(2, 5))
    elif given == "float64 array":  # plain data is converted to the layer's dtype
        x = rng.normal(size=shape)
    else:
        x = mg.Value(rng.normal(size=shape).astype(np.float32))
    opt = optim.Adam(layer.parameters(), lr=1e-2)
    for _ in range(2):
        args = (x, x, x) if name == "MultiheadAttention" else (x,)
        out = _first_output(layer(*args))
        assert out.dtype == np.float32, name
        loss = (out * out).mean()
        assert loss.dtype == np.float32
        opt.zero_grad()
        loss.backward()
        opt.step()
    for pname, p in layer.named_parameters():
        assert p.dtype == p.grad.dtype == np.float32, (name, pname)
        state = opt.state[p]
        assert state["exp_avg"].dtype == state["exp_avg_sq"].dtype == np.float32, (name, pname)
    if isinstance(x, mg.Value):
        assert x.grad.dtype == np.float32
    for bname, b in layer.named_buffers():
        expected = np.int64 if bname.endswith("num_batches_tracked") else np.float32
        assert b.dtype == expected, (name, bname)
    saved = {k: v.dtype for k, v in opt.state_dict()["state"][0].items() if hasattr(v, "dtype")}
    assert set(saved.values()) == {np.dtype(np.float32)}


def test_float_converts_a_whole_cnn_with_its_buffers_and_it_trains_in_float32():
    model = nn.Sequential(
        nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(16, 3),
    ).float()  # fmt: skip
    assert {b.dtype for name, b in model.named_buffers() if "running" in name} == {
        np.dtype(np.float32)
    }
    opt = optim.Adam(model.parameters())
    x = np.random.default_rng(5).normal(size=(4, 1, 4, 4))  # float64 data, float32 model
    loss = mg.losses.cross_entropy(model(x), np.array([0, 1, 2, 0]))
    loss.backward()
    opt.step()
    assert loss.dtype == np.float32 and re.match("float32", str(model[0].weight.dtype))
    assert all(s["exp_avg"].dtype == np.float32 for s in opt.state.values())
