"""Shared Hypothesis strategies: shapes, arrays inside an op's domain, and one test case per op.

A `Case` is what the gradient suite needs to check one op: the differentiable inputs (Python
floats or float64 arrays) and `call(*inputs)`, which applies the op's public function with its
other arguments (axis, index, shape, cond, ...) fixed. `call` works on Values (recorded) and on
plain data (just the forward, which is how finite differences evaluate it).

`CASE_BUILDERS` maps every `Domain.kind` to a builder; tests/test_registry.py fails when an op
declares a kind that is missing here, so a new op cannot slip through untested.

Input values come from a fine grid over the domain's range: entries of one array are distinct,
and two inputs drawn for the same op use interleaved grid points, so they never tie either
(a tie is a kink of max/min/maximum/minimum, where a finite difference measures nothing useful).
Grid points closer than KINK_MARGIN to a declared kink are left out. (Those generic parts live
in minigrad/testing/strategies.py, which `minigrad.testing.check_op` shares with this suite.)
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad.ops as ops
from minigrad.ops.registry import REGISTRY, Domain

# The generic part (Case, shapes, values in a domain, the unary/binary/reduce/axis builders)
# lives in minigrad.testing.strategies, shared with `minigrad.testing.check_op`.
from minigrad.testing.strategies import (  # noqa: F401  (re-exported for the test files)
    GRID,
    KINK_MARGIN,
    MAX_DIMS,
    MAX_SIDE,
    Case,
    arrays_in,
    axes_for,
    axis_cases,
    binary_cases,
    broadcastable_shapes,
    domain_input,
    grid_values,
    params_for,
    reduce_cases,
    reduced_count,
    shapes,
    unary_cases,
    value_in,
)


def _lse(x, axis=None, keepdims=False):
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


# numpy's (or the textbook's) forward of each op with a generic kind, called as the op is.
NUMPY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
    "pow": np.power, "neg": np.negative, "maximum": np.maximum, "minimum": np.minimum,
    "exp": np.exp, "log": np.log, "sqrt": np.sqrt, "abs": np.abs, "tanh": np.tanh,
    "sin": np.sin, "cos": np.cos, "sigmoid": lambda x: 1.0 / (1.0 + np.exp(-x)),
    "relu": lambda x: np.maximum(x, 0.0), "softplus": lambda x: np.log1p(np.exp(x)),
    "leaky_relu": lambda x, slope: np.where(x > 0, x, slope * x),
    "clip": lambda x, lo, hi: np.clip(x, lo, hi),
    "sum": np.sum, "mean": np.mean, "max": np.max, "min": np.min, "var": np.var,
    "logsumexp": _lse,
    "softmax": lambda x, axis: np.exp(x) / np.sum(np.exp(x), axis=axis, keepdims=True),
    "log_softmax": lambda x, axis: x - _lse(x, axis, keepdims=True),
}  # fmt: skip


# ----- one builder per Domain.kind ------------------------------------------------------------
def unary_case(name: str, domain: Domain) -> st.SearchStrategy[Case]:
    return unary_cases(getattr(ops, name), domain, NUMPY.get(name), name)


def binary_case(name: str, domain: Domain) -> st.SearchStrategy[Case]:
    return binary_cases(getattr(ops, name), domain, NUMPY.get(name), name)


def reduce_case(name: str, domain: Domain) -> st.SearchStrategy[Case]:
    return reduce_cases(getattr(ops, name), domain, NUMPY.get(name), name)


def axis_case(name: str, domain: Domain) -> st.SearchStrategy[Case]:
    return axis_cases(getattr(ops, name), domain, NUMPY.get(name), name)


@st.composite
def where_case(draw, name: str, domain: Domain) -> Case:
    shape_c, shape_x, shape_y = draw(broadcastable_shapes(3)).input_shapes
    cond = draw(hnp.arrays(bool, shape_c) | (st.booleans() if shape_c == () else st.nothing()))
    x = draw(domain_input(domain, 0, shape_x, 2))
    y = draw(domain_input(domain, 1, shape_y, 2))
    return Case(
        [x, y],
        lambda x, y: ops.where(cond, x, y),
        f"where(cond={cond!r})",
        lambda x, y: np.where(cond, x, y),
    )


def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


@st.composite
def reshape_case(draw, name: str, domain: Domain) -> Case:
    shape = draw(shapes())
    size = math.prod(shape)
    ndim = draw(st.integers(0 if size == 1 else 1, MAX_DIMS + 1))
    target, rest = [], size
    for _ in range(max(ndim - 1, 0)):
        d = draw(st.sampled_from(_divisors(rest)))
        target.append(d)
        rest //= d
    if ndim:
        target.append(rest)
    target = draw(st.permutations(target))
    if target and draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    x = draw(domain_input(domain, 0, shape, 1, allow_float=False))
    reference = lambda x: np.reshape(x, target)  # noqa: E731
    if draw(st.booleans()):
        return Case([x], lambda x: ops.reshape(x, *target), f"reshape(*{target})", reference)
    return Case(
        [x], lambda x: ops.reshape(x, tuple(target)), f"reshape({tuple(target)})", reference
    )


@st.composite
def transpose_case(draw, name: str, domain: Domain) -> Case:
    # Mostly 3-d with explicit axes: only there are permutations that are not their own inverse.
    shape = draw(shapes() | shapes(min_dims=3))
    ndim = len(shape)
    x = draw(domain_input(domain, 0, shape, 1, allow_float=False))
    if draw(st.integers(0, 3)) == 0:
        return Case([x], lambda x: ops.transpose(x), "transpose()", np.transpose)
    axes = [draw(st.sampled_from([a, a - ndim])) for a in draw(st.permutations(range(ndim)))]
    return Case(
        [x], lambda x: ops.transpose(x, *axes), f"transpose(*{axes})", lambda x: x.transpose(axes)
    )


@st.composite
def squeeze_case(draw, name: str, domain: Domain) -> Case:
    shape = list(draw(shapes(max_dims=2)))
    for _ in range(draw(st.integers(1, 2))):
        shape.insert(draw(st.integers(0, len(shape))), 1)
    ndim = len(shape)
    ones = [a for a, n in enumerate(shape) if n == 1]
    axis = draw(
        st.one_of(
            st.none(),
            st.sampled_from(ones).flatmap(lambda a: st.sampled_from([a, a - ndim])),
            st.lists(st.sampled_from(ones), unique=True, min_size=1).map(tuple),
        )
    )
    x = draw(domain_input(domain, 0, tuple(shape), 1, allow_float=False))
    return Case(
        [x], lambda x: ops.squeeze(x, axis), f"squeeze(axis={axis!r})", lambda x: x.squeeze(axis)
    )


@st.composite
def unsqueeze_case(draw, name: str, domain: Domain) -> Case:
    shape = draw(shapes())
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    x = draw(domain_input(domain, 0, shape, 1, allow_float=False))
    return Case(
        [x],
        lambda x: ops.unsqueeze(x, axis),
        f"unsqueeze(axis={axis})",
        lambda x: np.expand_dims(x, axis),
    )


@st.composite
def broadcast_to_case(draw, name: str, domain: Domain) -> Case:
    target = draw(shapes())
    kept = list(target[draw(st.integers(0, len(target))) :])
    for a in range(len(kept)):
        if draw(st.booleans()):
            kept[a] = 1
    x = draw(domain_input(domain, 0, tuple(kept), 1))
    as_list = draw(st.booleans())
    shape = list(target) if as_list else target
    return Case(
        [x],
        lambda x: ops.broadcast_to(x, shape),
        f"broadcast_to({shape!r})",
        lambda x: np.broadcast_to(x, target),
    )


# ----- indexing ---------------------------------------------------------------------------------
@st.composite
def basic_part(draw, n: int):
    """An int or a slice for an axis of length n."""
    if draw(st.booleans()):
        return draw(st.integers(-n, n - 1))
    bound = st.none() | st.integers(-n - 1, n + 1)
    step = draw(st.sampled_from([None, 1, 2, -1, -2, 3]))
    return slice(draw(bound), draw(bound), step)


@st.composite
def int_index_array(draw, n: int, index_shape: tuple[int, ...]):
    """Integer indices into an axis of length n, drawn from few values so repeats are common;
    sometimes a Python list, sometimes an array."""
    arr = draw(hnp.arrays(np.int64, index_shape, elements=st.integers(-n, n - 1)))
    if arr.ndim == 1 and draw(st.booleans()):
        return [int(i) for i in arr]
    return arr


@st.composite
def indices(draw, shape: tuple[int, ...]):
    """An index valid for an array of `shape` under numpy's rules: ints, slices, None,
    Ellipsis, lists and int arrays (repeated entries included), bool masks."""
    ndim = len(shape)
    style = draw(
        st.sampled_from(["basic", "ints", "mask", "full_mask"]) if ndim else st.just("basic")
    )
    if style == "full_mask":
        lead = draw(st.integers(1, ndim))
        mask = draw(hnp.arrays(bool, shape[:lead]))
        return mask if draw(st.booleans()) else (mask, Ellipsis)
    # The parts cover the first `head` axes and, after an Ellipsis, the last `tail` ones.
    head = draw(st.integers(0, ndim))
    ellipsis = head < ndim and draw(st.booleans())
    tail = draw(st.integers(0, ndim - head)) if ellipsis else 0
    covered = list(range(head)) + list(range(ndim - tail, ndim))
    parts = [draw(basic_part(shape[a])) for a in covered]
    if style == "ints" and covered:
        index_shape = draw(shapes(min_dims=0, max_dims=2, max_side=3))
        chosen = draw(
            st.lists(st.integers(0, len(covered) - 1), min_size=1, max_size=2, unique=True)
        )
        for j in chosen:
            parts[j] = draw(int_index_array(shape[covered[j]], index_shape))
    elif style == "mask" and covered:
        j = draw(st.integers(0, len(covered) - 1))
        parts[j] = draw(hnp.arrays(bool, (shape[covered[j]],)))
    if ellipsis:
        parts.insert(head, Ellipsis)
    for _ in range(draw(st.integers(0, 2))):
        parts.insert(draw(st.integers(0, len(parts))), None)
    if len(parts) == 1 and draw(st.booleans()):
        return parts[0]
    return tuple(parts)


def _plain(index):
    """The index as the ops store it: lists become integer arrays."""
    if isinstance(index, tuple):
        return tuple(_plain(p) for p in index)
    return np.asarray(index) if isinstance(index, list) else index


@st.composite
def getitem_case(draw, name: str, domain: Domain) -> Case:
    shape = draw(shapes())
    index = draw(indices(shape))
    x = draw(domain_input(domain, 0, shape, 1, allow_float=False))
    return Case(
        [x], lambda x: ops.getitem(x, index), f"getitem(index={index!r})", lambda x: x[index]
    )


@st.composite
def scatter_add_case(draw, name: str, domain: Domain) -> Case:
    shape = draw(shapes())
    index = _plain(draw(indices(shape)))
    g_shape = np.empty(shape)[index].shape
    g = draw(domain_input(domain, 0, g_shape, 1, allow_float=False))
    return Case(
        [g],
        lambda g: ops.scatter_add(g, index, shape),
        f"scatter_add(index={index!r}, shape={shape})",
        lambda g: _numpy_scatter_add(g, index, shape),
    )


def _numpy_scatter_add(g, index, shape):
    out = np.zeros(shape)
    np.add.at(out, index, g)
    return out


# ----- joins and matmul ------------------------------------------------------------------------
@st.composite
def concat_case(draw, name: str, domain: Domain) -> Case:
    shape = list(draw(shapes(min_dims=1)))
    ndim = len(shape)
    axis = draw(st.integers(-ndim, ndim - 1))
    count = draw(st.integers(1, 3))
    xs = []
    for i in range(count):
        shape[axis] = draw(st.integers(1, MAX_SIDE))
        xs.append(draw(domain_input(domain, i, tuple(shape), count)))
    return Case(
        xs,
        lambda *xs: ops.concat(xs, axis=axis),
        f"concat(axis={axis})",
        lambda *xs: np.concatenate(xs, axis=axis),
    )


@st.composite
def stack_case(draw, name: str, domain: Domain) -> Case:
    shape = draw(shapes())
    axis = draw(st.integers(-len(shape) - 1, len(shape)))
    count = draw(st.integers(1, 3))
    xs = [draw(domain_input(domain, i, shape, count)) for i in range(count)]
    return Case(
        xs,
        lambda *xs: ops.stack(list(xs), axis=axis),
        f"stack(axis={axis})",
        lambda *xs: np.stack(xs, axis=axis),
    )


@st.composite
def matmul_case(draw, name: str, domain: Domain) -> Case:
    """1-d, 2-d and batched operands (batch axes broadcast against each other)."""
    left, right = (
        draw(st.sampled_from(["1", "2", "batch"])),
        draw(st.sampled_from(["1", "2", "batch"])),
    )
    n, k, m = (draw(st.integers(1, MAX_SIDE)) for _ in range(3))
    batch_x, batch_y = draw(
        broadcastable_shapes(2, min_dims=0, max_dims=2, max_side=3)
    ).input_shapes
    shape_x = {"1": (k,), "2": (n, k), "batch": batch_x + (n, k)}[left]
    shape_y = {"1": (k,), "2": (k, m), "batch": batch_y + (k, m)}[right]
    x = draw(domain_input(domain, 0, shape_x, 2, allow_float=False))
    y = draw(domain_input(domain, 1, shape_y, 2, allow_float=False))
    return Case([x, y], lambda x, y: ops.matmul(x, y), "matmul", np.matmul)


@st.composite
def softmax_cross_entropy_case(draw, name: str, domain: Domain) -> Case:
    """Logits of shape (..., C), integer labels in [0, C) of shape (...), and the reduction
    ('none': one loss per row, or their 'mean' or 'sum', taken inside the fused op)."""
    shape = draw(shapes(min_dims=1))
    labels = draw(hnp.arrays(np.int64, shape[:-1], elements=st.integers(0, shape[-1] - 1)))
    reduction = draw(st.sampled_from(["none", "mean", "sum"]))
    x = draw(domain_input(domain, 0, shape, 1, allow_float=False))

    def expected(x):
        rows = -np.take_along_axis(NUMPY["log_softmax"](x, -1), labels[..., None], -1)[..., 0]
        return {"none": rows, "mean": np.mean(rows), "sum": np.sum(rows)}[reduction]

    return Case(
        [x],
        lambda x: ops.softmax_cross_entropy(x, labels, reduction=reduction),
        f"softmax_cross_entropy(labels={labels!r}, reduction={reduction!r})",
        expected,
    )


@st.composite
def linear_case(draw, name: str, domain: Domain) -> Case:
    """x (..., in) or (in,), weight (out, in), bias (out,)."""
    n_in, n_out = draw(st.integers(1, MAX_SIDE)), draw(st.integers(1, MAX_SIDE))
    lead = draw(shapes(max_dims=2))
    x = draw(domain_input(domain, 0, lead + (n_in,), 3, allow_float=False))
    w = draw(domain_input(domain, 1, (n_out, n_in), 3, allow_float=False))
    b = draw(domain_input(domain, 2, (n_out,), 3, allow_float=False))
    return Case(
        [x, w, b], lambda x, w, b: ops.linear(x, w, b), "linear", lambda x, w, b: x @ w.T + b
    )


CASE_BUILDERS: dict[str, Callable[[str, Domain], st.SearchStrategy[Case]]] = {
    "unary": unary_case,
    "binary": binary_case,
    "reduce": reduce_case,
    "axis": axis_case,
    "where": where_case,
    "reshape": reshape_case,
    "transpose": transpose_case,
    "squeeze": squeeze_case,
    "unsqueeze": unsqueeze_case,
    "broadcast_to": broadcast_to_case,
    "getitem": getitem_case,
    "scatter_add": scatter_add_case,
    "concat": concat_case,
    "stack": stack_case,
    "matmul": matmul_case,
    "softmax_cross_entropy": softmax_cross_entropy_case,
    "linear": linear_case,
}

# Convolution, pooling, pad, flatten and einsum: their builders and numpy references
from tests.strategies_conv import CASE_BUILDERS as _CONV_CASE_BUILDERS  # noqa: E402

CASE_BUILDERS.update(_CONV_CASE_BUILDERS)


def case_for(name: str) -> st.SearchStrategy[Case]:
    """Test cases for the registered op `name`, from the builder of its domain's kind."""
    domain = REGISTRY[name].domain
    return CASE_BUILDERS[domain.kind](name, domain)


# The recurrent scans' cases live in their own file (it imports the helpers above).
from tests.strategies_recurrent import RECURRENT_CASES  # noqa: E402

CASE_BUILDERS.update(RECURRENT_CASES)
