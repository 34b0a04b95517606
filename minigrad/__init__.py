"""minigrad: reverse-mode autodiff for numbers and numpy arrays, small enough to read.

>>> import minigrad as mg
>>> x = mg.Value(3.0)
>>> y = x * x + 2 * x
>>> y.backward(); x.grad
8.0
"""

from minigrad.value import Value  # noqa: I001  (Value first: the engine and ops build on it)
from minigrad.engine import (
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    reference_mode,
)
from minigrad.ops import (
    abs,
    add,
    avg_pool1d,
    avg_pool2d,
    broadcast_to,
    clip,
    concat,
    conv1d,
    conv2d,
    conv_transpose1d,
    conv_transpose2d,
    cos,
    div,
    einsum,
    exp,
    flatten,
    leaky_relu,
    log,
    log_softmax,
    logsumexp,
    matmul,
    max,
    max_pool1d,
    max_pool2d,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    pad,
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
from minigrad.ops.attention import scaled_dot_product_attention
from minigrad.autodiff import (
    grad,
    hessian,
    hvp,
    jacfwd,
    jacobian,
    jacrev,
    jvp,
    value_and_grad,
    vjp,
)
from minigrad.gradcheck import GradcheckError, gradcheck, gradgradcheck
from minigrad.function import Function
from minigrad.codegen import backward_code, jvp_code
from minigrad.io import load, save
from minigrad.random import manual_seed
from minigrad import data, losses, nn, optim, train
from minigrad import viz
from minigrad.viz import draw_graph
from minigrad.trace import trace_backward
from minigrad.allocator import keep_freed_memory
from minigrad.collector import collect_less_often

keep_freed_memory()  # on glibc: freed memory kept for the next step (see minigrad/allocator.py)
collect_less_often()  # the cyclic collector walks big graphs less often (minigrad/collector.py)

__version__ = "0.1.0"

__all__ = [
    "Value",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "detect_anomaly",
    "reference_mode",
    "grad",
    "value_and_grad",
    "jacobian",
    "jacrev",
    "jacfwd",
    "hessian",
    "jvp",
    "vjp",
    "hvp",
    "Function",
    "backward_code",
    "jvp_code",
    "gradcheck",
    "gradgradcheck",
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
    "conv1d",
    "conv2d",
    "conv_transpose1d",
    "conv_transpose2d",
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "pad",
    "flatten",
    "einsum",
    "scaled_dot_product_attention",
]
