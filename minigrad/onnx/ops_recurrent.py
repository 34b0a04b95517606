"""The recurrent scans (rnn_scan, lstm_scan, gru_scan) as ONNX's own RNN, LSTM and GRU ops.

minigrad's layers project every step's input at once, xw = x @ W_ih.T + b (a Reshape, the
fused linear and a Reshape back), and then run the recurrence as one scan op. ONNX's ops take
x and W_ih themselves, so when the scan's input is exactly that projection (and nothing else
uses it), the three nodes are folded into the ONNX op: X = x, W = W_ih, B = [b, b_hh]. Any other
xw is passed as X with W a permutation matrix (an exact product).

Gate orders differ: PyTorch (and minigrad) stack the LSTM's row blocks as i, f, g, o and the
GRU's as r, z, n; ONNX wants i, o, f, c and z, r, h. The blocks are reordered with a Gather
of rows (ONNX Runtime folds it into the weights when it loads the model). The GRU uses
linear_before_reset=1, which is PyTorch's formula (the reset gate multiplies the hidden
projection including its bias). Every scan is one direction: a bidirectional layer's reverse
direction is a scan of x[::-1], written as a Slice.
"""

from __future__ import annotations

import numpy as np

from minigrad.onnx.builder import Emit, converts
from minigrad.onnx.trace import Graph, Node
from minigrad.ops.gru import GRUScan
from minigrad.ops.loss import Affine
from minigrad.ops.lstm import LSTMScan
from minigrad.ops.recurrent import RNNScan
from minigrad.ops.shape import Reshape

# PyTorch's gate blocks, listed in the order ONNX wants them
ONNX_ORDER = {RNNScan: (0,), LSTMScan: (0, 3, 1, 2), GRUScan: (1, 0, 2)}


def fuse_projections(graph: Graph) -> None:
    """Mark each scan whose xw is reshape(linear(reshape(x), W_ih, b)) with x (L, N, H_in):
    node.fused = (x, W_ih, b) graph indices, and the three nodes skipped."""
    users = [0] * len(graph.nodes)
    for node in graph.nodes:
        for i in node.parents:
            users[i] += 1
    for i in graph.outputs:
        users[i] += 1
    for node in graph.nodes:
        if node.kind == "op" and node.value._op in ONNX_ORDER:
            chain = _projection(graph, node, users)
            if chain is not None:
                *skipped, x, weight, bias = chain
                for k in skipped:
                    graph.nodes[k].skip = True
                node.fused = (x, weight, bias)


def _projection(graph: Graph, scan: Node, users: list[int]) -> tuple | None:
    nodes = graph.nodes
    xw = nodes[scan.parents[0]]
    if xw.value._op is not Reshape or users[xw.index] != 1:
        return None
    linear = nodes[xw.parents[0]]
    if linear.value._op is not Affine or users[linear.index] != 1:
        return None
    rows = nodes[linear.parents[0]]
    if rows.value._op is not Reshape or users[rows.index] != 1 or len(rows.dims) != 2:
        return None
    x = nodes[rows.parents[0]]
    if len(x.dims) != 3 or x.dims[:2] != xw.dims[:2]:
        return None
    return (xw.index, linear.index, rows.index, x.index, linear.parents[1], linear.parents[2])


def _rows(op: type, hidden: int) -> list[int]:
    """The rows of a (gates * H, ...) weight in ONNX's gate order."""
    return [b * hidden + j for b in ONNX_ORDER[op] for j in range(hidden)]


@converts(RNNScan, LSTMScan, GRUScan, dynamic=("saved",))
def scan(c: Emit) -> None:
    op, b = c.node.value._op, c.b
    hidden = int(c.dims[-1])
    rows = _rows(op, hidden)
    order = b.ints(rows)

    def reordered(name: str) -> str:  # a stack of gate blocks in ONNX's order, with a leading 1
        return b.unsqueeze(b.add("Gather", [name, order], axis=0), (0,))

    ins = [c.tensor(p) for p in c.parents[1:]]  # the states and W_hh (and the GRU's b_hh)
    zeros = lambda: b.const(np.zeros(len(rows)), c.dtype, "zeros")  # noqa: E731
    if c.node.fused is not None:
        x, weight, bias = (c.tensor(c.nodes[i]) for i in c.node.fused)
        w_bias = b.add("Gather", [bias, order], axis=0)
    else:
        x = c.tensor(c.parents[0])
        weight = b.initializer(np.eye(len(rows), dtype=c.dtype)[rows], "gate_order")
        w_bias = zeros()
    if op is GRUScan:
        h0, w_hh, b_hh = ins
        r_bias = b.add("Gather", [b_hh, order], axis=0)
    elif op is LSTMScan:
        h0, c0, w_hh = ins
        r_bias = zeros()
    else:
        h0, w_hh = ins
        r_bias = zeros()
    bias = b.unsqueeze(b.add("Concat", [w_bias, r_bias], axis=0), (0,))
    w = b.unsqueeze(weight, (0,)) if c.node.fused is None else reordered(weight)
    inputs = [x, w, reordered(w_hh), bias, "", b.unsqueeze(h0, (0,))]
    _write(c, op, inputs, hidden, None if op is not LSTMScan else b.unsqueeze(c0, (0,)))


def _write(c: Emit, op: type, inputs: list[str], hidden: int, c0: str | None) -> None:
    """The ONNX node, and its Y (L, 1, N, H) as minigrad's result: (L, N, H), and for the LSTM
    the last cell state appended, (L + 1, N, H)."""
    b = c.b
    if op is LSTMScan:
        y, _, y_c = b.add_many("LSTM", [*inputs, c0], 3, hidden_size=hidden)
        b.add("Concat", [b.squeeze(y, (1,)), y_c], c.out, axis=0)
    elif op is GRUScan:
        y, _ = b.add_many("GRU", inputs, 2, hidden_size=hidden, linear_before_reset=1)
        b.squeeze(y, (1,), c.out)
    else:
        activation = {"tanh": "Tanh", "relu": "Relu"}[c.params.get("nonlinearity", "tanh")]
        y, _ = b.add_many("RNN", inputs, 2, hidden_size=hidden, activations=[activation])
        b.squeeze(y, (1,), c.out)
