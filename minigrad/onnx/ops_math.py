"""Arithmetic, elementwise functions, reductions, softmax and matrix products as ONNX nodes.

Most minigrad ops are one ONNX op of the same meaning (numpy broadcasting is ONNX's too).
Composed here: `var` (the mean of squared deviations, times n / (n - ddof)) and `logsumexp`
(shifted by the max, as minigrad computes it, so it does not overflow). The fused `linear` is a
Gemm for a batch of rows, and MatMul + Add for inputs with more axes (a sequence).
"""

from __future__ import annotations

import numpy as np

from minigrad.onnx.builder import CONVERTERS, Converter, Emit, converts
from minigrad.onnx.trace import batch_row
from minigrad.ops.arithmetic import Add, Div, Mul, Neg, Pow, Sub
from minigrad.ops.elementwise import (
    Abs,
    Clip,
    Cos,
    Exp,
    LeakyRelu,
    Log,
    Maximum,
    Minimum,
    Relu,
    Sigmoid,
    Sin,
    Softplus,
    Sqrt,
    Tanh,
    Where,
)
from minigrad.ops.linalg import MatMul
from minigrad.ops.loss import Affine
from minigrad.ops.reduce import LogSumExp, Max, Mean, Min, Sum, Var
from minigrad.ops.softmax import LogSoftmax, Softmax

# minigrad op -> the ONNX op that computes the same thing from the same inputs
ONE_TO_ONE = {
    Add: "Add",
    Sub: "Sub",
    Mul: "Mul",
    Div: "Div",
    Pow: "Pow",
    Neg: "Neg",
    Exp: "Exp",
    Log: "Log",
    Sqrt: "Sqrt",
    Abs: "Abs",
    Tanh: "Tanh",
    Sigmoid: "Sigmoid",
    Relu: "Relu",
    Sin: "Sin",
    Cos: "Cos",
    Maximum: "Max",
    Minimum: "Min",
    MatMul: "MatMul",
}


def _one_to_one(op_type: str):
    def convert(c: Emit) -> None:
        c.b.add(op_type, c.ins, c.out)

    convert.__name__ = f"convert_{op_type}"
    return convert


for _op, _type in ONE_TO_ONE.items():
    CONVERTERS[_op] = Converter(_one_to_one(_type))
del _op, _type


@converts(LeakyRelu)
def leaky_relu(c: Emit) -> None:
    c.b.add("LeakyRelu", c.ins, c.out, alpha=float(c.params["slope"]))


@converts(Softplus)
def softplus(c: Emit) -> None:
    """Softplus for float32 (ONNX Runtime's is stable for large inputs); for other dtypes,
    which it has no kernel for, max(x, 0) + log(1 + e**-|x|), as minigrad computes it."""
    if c.dtype == np.float32:
        c.b.add("Softplus", c.ins, c.out)
        return
    b, x = c.b, c.ins[0]
    tail = b.add("Exp", [b.add("Neg", [b.add("Abs", [x])])])
    tail = b.add("Log", [b.add("Add", [tail, b.const(1.0, c.dtype)])])
    b.add("Add", [b.add("Relu", [x]), tail], c.out)


@converts(Clip)
def clip(c: Emit) -> None:
    lo, hi = c.params["lo"], c.params["hi"]
    bounds = ["" if v is None else c.b.const(v, c.dtype) for v in (lo, hi)]
    c.b.add("Clip", [c.ins[0], *bounds], c.out)


@converts(Where, dynamic=("cond",))
def where(c: Emit) -> None:
    """Where(mask, x, y) with the mask a constant; a mask repeated along the batch (a causal
    mask broadcast to (N, heads, L, L)) is written as one row, which Where broadcasts. A mask
    that changes with the input's values is written only when x and y are equal in both runs
    (an Embedding's padding rows: that where is there for the gradient only), as x itself."""
    cond = np.asarray(c.params["cond"], dtype=bool)
    if "cond" in c.node.changed:
        cond = batch_row(cond, np.asarray(c.node.other_params["cond"], dtype=bool), c.n)
        if cond is None and _same_branches(c):
            c.b.add("Identity", [c.tensor(c.parents[0])], c.out)
            return
        if cond is None:
            raise c.refuse(
                "its mask changes with the input's values (a mask must be a constant, or one "
                "row repeated along the batch, to export)"
            )
    c.b.add("Where", [c.b.initializer(cond, "mask"), *c.ins], c.out)


def _same_branches(c: Emit) -> bool:
    """x equal to y in both runs (broadcast against each other)."""
    x, y = c.parents
    for a, b in ((x.value, y.value), (x.other, y.other)):
        da, db = np.broadcast_arrays(np.asarray(a.data), np.asarray(b.data))
        if not np.array_equal(da, db):
            return False
    return True


def _axes(c: Emit) -> tuple:
    ndim = len(c.in_dims())
    axis = c.params["axis"]
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(sorted(int(a) % ndim for a in axes))


REDUCTIONS = {Sum: "ReduceSum", Mean: "ReduceMean", Max: "ReduceMax", Min: "ReduceMin"}


def _reduction(op_type: str):
    def convert(c: Emit) -> None:
        axes = _axes(c)
        if not axes:  # a 0-d input: nothing to reduce
            c.b.add("Identity", c.ins, c.out)
        else:
            c.b.reduce(op_type, c.ins[0], axes, c.params["keepdims"], c.out)

    return convert


for _op, _type in REDUCTIONS.items():
    CONVERTERS[_op] = Converter(_reduction(_type))
del _op, _type


@converts(Var)
def var(c: Emit) -> None:
    """mean((x - mean(x))**2), or the sum divided by n - ddof."""
    b, x, axes = c.b, c.ins[0], _axes(c)
    if not axes:
        b.add("Sub", [x, x], c.out)  # the variance of one number
        return
    centered = b.add("Sub", [x, b.reduce("ReduceMean", x, axes, True)])
    squares = b.add("Mul", [centered, centered])
    keep, ddof = c.params["keepdims"], c.params["ddof"]
    if ddof == 0:
        b.reduce("ReduceMean", squares, axes, keep, c.out)
        return
    total = b.reduce("ReduceSum", squares, axes, keep)
    n = b.count(x, axes, c.in_dims(), c.dtype)
    b.add("Div", [total, b.add("Sub", [n, b.const(float(ddof), c.dtype)])], c.out)


@converts(LogSumExp)
def logsumexp(c: Emit) -> None:
    """m + log(sum(e**(x - m))) with m the max over the axes."""
    b, x, axes = c.b, c.ins[0], _axes(c)
    if not axes:
        b.add("Identity", [x], c.out)
        return
    m = b.reduce("ReduceMax", x, axes, True)
    total = b.reduce("ReduceSum", b.add("Exp", [b.add("Sub", [x, m])]), axes, True)
    if c.params["keepdims"]:
        b.add("Add", [b.add("Log", [total]), m], c.out)
    else:
        b.squeeze(b.add("Add", [b.add("Log", [total]), m]), axes, c.out)


@converts(Softmax)
def softmax(c: Emit) -> None:
    c.b.add("Softmax", c.ins, c.out, axis=int(c.params["axis"]))


@converts(LogSoftmax)
def log_softmax(c: Emit) -> None:
    c.b.add("LogSoftmax", c.ins, c.out, axis=int(c.params["axis"]))


@converts(Affine)
def linear(c: Emit) -> None:
    """x @ w.T + b: Gemm (transB) for x of shape (N, in), else MatMul by w's transpose + b."""
    x, w, bias = c.ins
    if len(c.in_dims()) == 2:
        c.b.add("Gemm", [x, w, bias], c.out, transB=1)
        return
    product = c.b.add("MatMul", [x, c.b.add("Transpose", [w], perm=[1, 0])])
    c.b.add("Add", [product, bias], c.out)
