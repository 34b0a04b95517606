"""Every differentiable operation, one family per file. Importing this package registers them."""

from minigrad.ops.arithmetic import add, div, mul, neg, pow, sub
from minigrad.ops.conv import (
    conv1d,
    conv1d_weight,
    conv2d,
    conv2d_weight,
    conv_transpose1d,
    conv_transpose2d,
)
from minigrad.ops.einsum import einsum
from minigrad.ops.elementwise import (
    abs,
    clip,
    cos,
    exp,
    leaky_relu,
    log,
    maximum,
    minimum,
    relu,
    sigmoid,
    sin,
    softplus,
    sqrt,
    tanh,
    where,
)
from minigrad.ops.gru import gru_scan
from minigrad.ops.linalg import matmul
from minigrad.ops.loss import linear, softmax_cross_entropy
from minigrad.ops.lstm import lstm_scan
from minigrad.ops.pad import flatten, pad
from minigrad.ops.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from minigrad.ops.recurrent import rnn_scan
from minigrad.ops.reduce import logsumexp, max, mean, min, sum, var
from minigrad.ops.registry import REGISTRY, Domain, Op, register
from minigrad.ops.shape import (
    broadcast_to,
    concat,
    getitem,
    reshape,
    scatter_add,
    squeeze,
    stack,
    transpose,
    unsqueeze,
)
from minigrad.ops.softmax import log_softmax, softmax

__all__ = [
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "pow",
    "exp",
    "log",
    "sqrt",
    "abs",
    "tanh",
    "sigmoid",
    "relu",
    "leaky_relu",
    "softplus",
    "sin",
    "cos",
    "clip",
    "maximum",
    "minimum",
    "where",
    "sum",
    "mean",
    "max",
    "min",
    "var",
    "logsumexp",
    "softmax",
    "log_softmax",
    "reshape",
    "transpose",
    "squeeze",
    "unsqueeze",
    "broadcast_to",
    "getitem",
    "scatter_add",
    "concat",
    "stack",
    "matmul",
    "softmax_cross_entropy",
    "linear",
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv1d_weight",
    "conv2d_weight",
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "pad",
    "flatten",
    "einsum",
    "rnn_scan",
    "lstm_scan",
    "gru_scan",
    "REGISTRY",
    "Domain",
    "Op",
    "register",
]
