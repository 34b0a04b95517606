"""minigrad: reverse-mode autodiff for numbers and numpy arrays, small enough to read.

>>> import minigrad as mg
>>> x = mg.Value(3.0)
>>> y = x * x + 2 * x
>>> y.backward(); x.grad
8.0
"""

from minigrad.value import Value  # noqa: I001  (Value first: the engine and ops build on it)
from minigrad.engine import detect_anomaly, enable_grad, is_grad_enabled, no_grad
from minigrad.ops import (
    abs,
    add,
    broadcast_to,
    clip,
    concat,
    cos,
    div,
    exp,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    pow,
    relu,
    reshape,
    sigmoid,
    sin,
    softmax,
    softplus,
    sqrt,
    squeeze,
    stack,
    sub,
    sum,
    tanh,
    transpose,
    unsqueeze,
    var,
    where,
)
from minigrad.autodiff import grad, hessian, jacobian, value_and_grad
from minigrad.gradcheck import GradcheckError, gradcheck
from minigrad.io import load, save
from minigrad.random import manual_seed
from minigrad import data, losses, nn, optim, train
from minigrad import viz
from minigrad.viz import draw_graph
from minigrad.trace import trace_backward

__version__ = "0.1.0"

__all__ = [
    "Value",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "grad",
    "value_and_grad",
    "jacobian",
    "hessian",
    "gradcheck",
    "GradcheckError",
    "save",
    "load",
    "manual_seed",
    "data",
    "losses",
    "nn",
    "optim",
    "train",
    "viz",
    "draw_graph",
    "trace_backward",
    "abs",
    "clip",
    "concat",
    "cos",
    "exp",
    "leaky_relu",
    "log",
    "log_softmax",
    "logsumexp",
    "matmul",
    "maximum",
    "mean",
    "minimum",
    "relu",
    "reshape",
    "sigmoid",
    "sin",
    "softmax",
    "softplus",
    "sqrt",
    "stack",
    "sum",
    "tanh",
    "transpose",
    "where",
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "pow",
    "max",
    "min",
    "var",
    "squeeze",
    "unsqueeze",
    "broadcast_to",
]
