"""Each op family minigrad.onnx.export writes, run in ONNX Runtime against minigrad at several
batch sizes (dynamic) and with a fixed batch: arithmetic, elementwise, reductions, softmax,
shapes and indexing, matmul and linear, conv/pool/pad/flatten/einsum, the recurrent scans.
Skipped, saying why, when onnx or onnxruntime is not installed."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad as mg
from tests.onnx_check import F32, F64, check_export, mo, rand

CONV_OPS = {
    "conv2d_groups_dilation": lambda x, w, b: mg.ops.conv2d(
        x, w, b, stride=(2, 1), padding=(1, 2), dilation=(1, 2), groups=2
    ),
    "conv2d_same": lambda x, w, b: mg.ops.conv2d(x, w, None, padding="same", groups=2),
    "pools": lambda x, w, b: (
        mg.ops.max_pool2d(x, 2)
        + mg.ops.avg_pool2d(x, 2)
        + mg.ops.max_pool2d(x, 3, stride=2, padding=1)[..., :3, :4]
        + mg.ops.avg_pool2d(x, 3, stride=2, padding=1)[..., :3, :4]
    ),
    "pad_flatten": lambda x, w, b: (
        mg.ops.flatten(mg.ops.pad(x, ((0, 0), (0, 0), (1, 2), (0, 3)), constant_values=0.5), 1)
        + mg.ops.flatten(x, 2, 3).sum()
    ),
    "einsum": lambda x, w, b: mg.ops.einsum("nchw,nchw->nc", x, x) + mg.ops.einsum("nchw->nc", x),
    "conv_transpose2d": lambda x, w, b: mg.ops.conv_transpose2d(
        x, w.reshape(4, 3, 3, 3), None, stride=2, padding=1, output_padding=1
    ),
    "conv1d_pools1d": lambda x, w, b: conv1d_pools1d(x.reshape(x.shape[0], 4, -1), w, b),
}


def conv1d_pools1d(x, w, b):
    w1 = w.reshape(6, 6, 3)[:, :4]
    h = mg.ops.conv1d(x, w1)
    strided = mg.ops.conv1d(x, w1, b, padding=1, stride=2, dilation=2)[..., :27]
    return strided + mg.ops.max_pool1d(h, 2) + mg.ops.avg_pool1d(h, 2, padding=1)[..., :27]


@pytest.mark.parametrize("name", sorted(CONV_OPS))
def test_export_conv_pool_pad_einsum(tmp_path, name):
    """float32 only: ONNX Runtime's CPU Conv, ConvTranspose and AveragePool have no float64
    kernels (the files are valid ONNX all the same)."""
    rng = np.random.default_rng(12)
    w, b = mg.Value(rand(rng, 6, 2, 3, 3)), mg.Value(rand(rng, 6))
    f = lambda x: CONV_OPS[name](x, w, b)  # noqa: E731
    feeds = [rand(rng, n, 4, 7, 8) for n in (2, 1, 5)]
    check_export(f, feeds[0], tmp_path / "f.onnx", feeds)


SCANS = {"rnn_tanh": (1, "RNN"), "rnn_relu": (1, "RNN"), "lstm": (4, "LSTM"), "gru": (3, "GRU")}


def scan_model(kind, fused, rng, hidden=5, features=3):
    """A one-layer recurrence over x (N, L, features), as minigrad's layers write it when
    `fused` (reshape, linear, reshape, then the scan), else with xw from a plain matmul."""
    gates, _ = SCANS[kind]
    w_ih = mg.Value(rand(rng, gates * hidden, features) * 0.5)
    b = mg.Value(rand(rng, gates * hidden) * 0.5)
    w_hh = mg.Value(rand(rng, gates * hidden, hidden) * 0.5)
    b_hh = mg.Value(rand(rng, gates * hidden) * 0.5)

    def model(x):
        seq = x.transpose(1, 0, 2)  # (L, N, features)
        if fused:
            rows = mg.ops.linear(seq.reshape(-1, features), w_ih, b)
            xw = rows.reshape(seq.shape[0], seq.shape[1], gates * hidden)
        else:
            xw = seq @ w_ih.T + b
        h0 = np.zeros((x.shape[0], hidden), F32)
        if kind == "lstm":
            return mg.ops.lstm_scan(xw, h0, np.full((x.shape[0], hidden), 0.5, F32), w_hh)
        if kind == "gru":
            return mg.ops.gru_scan(xw, h0 + 0.25, w_hh, b_hh)
        return mg.ops.rnn_scan(xw, h0, w_hh, kind.split("_")[1])

    return model


@pytest.mark.parametrize("fused", [True, False], ids=["projection_fused", "gate_order_matrix"])
@pytest.mark.parametrize("kind", sorted(SCANS))
def test_export_recurrent_scans_as_onnx_rnn_ops(tmp_path, kind, fused):
    """float32 only: ONNX Runtime's RNN, LSTM and GRU have no float64 kernels."""
    rng = np.random.default_rng(13)
    model = scan_model(kind, fused, rng)
    feeds = [rand(rng, n, 7, 3) for n in (2, 1, 5)]
    proto = check_export(model, feeds[0], tmp_path / "rnn.onnx", feeds)
    types = [n.op_type for n in proto.graph.node]
    assert types.count(SCANS[kind][1]) == 1
    projected = "Gemm" in types or "MatMul" in types
    assert projected != fused  # fused: the projection went into the ONNX op's W


# ----- ops ---------------------------------------------------------------------------------------
W = np.random.default_rng(7).normal(size=(4, 5))
OPS = {
    "arithmetic": lambda x: (x * 2.0 + 1.0) / (abs(x) + 1.0) - x**2.0 + (-x) + 3.0 ** (x * 0.1),
    "elementwise": lambda x: (
        x.tanh()
        + x.sigmoid()
        + x.relu()
        + x.leaky_relu(0.1)
        + x.softplus()
        + x.sin()
        + x.cos()
        + (abs(x) + 0.5).sqrt()
        + (abs(x) + 1.0).log()
        + x.exp()
    ),
    "softplus_far_out": lambda x: (x * 60.0).softplus(),
    "clip_max_min": lambda x: (
        x.clip(-0.5, 0.5)
        + x.clip(lo=0.1)
        + x.clip(hi=0.2)
        + mg.maximum(x, 0.2)
        + mg.minimum(x, x * 0.5)
    ),
    "where": lambda x: mg.where(np.array([True, False, True, False]), x, x * 3.0),
    "reductions": lambda x: (
        x.sum(axis=1, keepdims=True)
        + x.mean(axis=-1, keepdims=True)
        + x.max(axis=1, keepdims=True)
        + x.min(axis=(1,), keepdims=True)
        + x.var(axis=1, keepdims=True)
        + x.var(axis=1, ddof=1, keepdims=True)
        + x.logsumexp(axis=1, keepdims=True)
        + x.logsumexp(axis=1).unsqueeze(1)
    ),
    "reductions_over_the_batch": lambda x: (
        x.sum()
        + x.mean()
        + x.var()
        + x.var(axis=0, ddof=1).sum()
        + x.max()
        + x.logsumexp()
        + x.min(axis=0)
    ),
    "softmax": lambda x: x.softmax(-1) + x.log_softmax(axis=1) + x.softmax(0),
    "reshape_transpose_concat": lambda x: mg.concat(
        [x.reshape(x.shape[0], 2, 2).transpose(0, 2, 1).reshape(-1, 4), x], axis=1
    ),
    "squeeze_unsqueeze": lambda x: (
        x.unsqueeze(1).unsqueeze(-1).squeeze(1).squeeze(-1)
        + x.unsqueeze(0).unsqueeze(2).squeeze()[None].squeeze(0)
    ),
    "stack": lambda x: (
        mg.stack([x, x * 2.0], axis=1).reshape(x.shape[0], -1)
        + mg.stack([x, x], axis=-1).sum(axis=-1).mean()
    ),
    "broadcast_to": lambda x: x.unsqueeze(1).broadcast_to((x.shape[0], 3, 4)) * 2.0,
    "index_ints_slices": lambda x: (
        x[:, 1]
        + x[:, -1]
        + x[..., 2]
        + x[:, ::-1][:, 0]
        + x[:, 1:3].sum(axis=1)
        + x[:, ::-2].sum(axis=1)
        + x[:, -2::-1].sum(axis=1)
        + x[:, 3:0:-1].sum(axis=1)
    ),
    "index_none_arrays_masks": lambda x: (
        x[:, None, 1:][:, 0] * x[:, [0, 2, 3]] + x[:, np.array([True, False, True, True])]
    ),
    "matmul_mixed_dtypes": lambda x: x @ mg.Value(W) + (x @ W.astype(x.dtype)),
    "linear_on_a_sequence": lambda x: mg.ops.linear(
        x.reshape(x.shape[0], 2, 2),
        mg.Value(W[:3, :2].astype(x.dtype)),
        mg.Value(W[0, :3].astype(x.dtype)),
    ),
    "sizes_from_the_batch": lambda x: (
        (x.reshape(x.shape[0] * 2, 2) * 1.5).reshape(-1, 4)
        - (x.sum(axis=0) / x.shape[0]).sum()
        + mg.Value(np.zeros((x.shape[0], 1), x.dtype))
    ),
}


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("name", sorted(OPS))
def test_export_op_family_matches_minigrad(tmp_path, name, dtype):
    rng = np.random.default_rng(8)
    sizes = (3, 2, 6) if "batch" in name or "squeeze" in name else (3, 1, 6)  # var(ddof=1)
    feeds = [rand(rng, n, 4, dtype=dtype) for n in sizes]
    check_export(OPS[name], feeds[0], tmp_path / "f.onnx", feeds)
    fixed = [rand(rng, 3, 4, dtype=dtype) for _ in range(2)]
    check_export(OPS[name], fixed[0], tmp_path / "g.onnx", fixed, dynamic_batch=False)


@pytest.mark.parametrize("opset", [13, 18, 21])
def test_export_opsets(tmp_path, opset):
    rng = np.random.default_rng(10)
    f = OPS["reductions"]
    proto = check_export(f, rand(rng, 3, 4), tmp_path / "f.onnx", [rand(rng, 2, 4)], opset=opset)
    assert [o.version for o in proto.opset_import] == [opset]
    assert mo.export(f, rand(rng, 3, 4), tmp_path / "d.onnx").opset_import[0].version == 17
