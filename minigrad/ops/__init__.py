"""Every differentiable operation, one family per file. Importing this package registers them."""

from minigrad.ops.arithmetic import add, div, mul, neg, pow, sub
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
from minigrad.ops.linalg import matmul
from minigrad.ops.loss import linear, softmax_cross_entropy
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
    "add", "sub", "mul", "div", "neg", "pow",
    "exp", "log", "sqrt", "abs", "tanh", "sigmoid", "relu", "leaky_relu", "softplus", "sin",
    "cos", "clip", "maximum", "minimum", "where",
    "sum", "mean", "max", "min", "var", "logsumexp", "softmax", "log_softmax",
    "reshape", "transpose", "squeeze", "unsqueeze", "broadcast_to", "getitem", "scatter_add",
    "concat", "stack", "matmul", "softmax_cross_entropy", "linear",
    "REGISTRY", "Domain", "Op", "register",
]
