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
Grid points closer than KINK_MARGIN to a declared kink are left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import minigrad.ops as ops
from minigrad.ops.registry import REGISTRY, Domain

MAX_DIMS = 3
MAX_SIDE = 4
GRID = 4096
KINK_MARGIN = 0.02


@dataclass
class Case:
    """Inputs to differentiate and how to call the op on them; repr says what was drawn."""

    inputs: list
    call: Callable[..., Any]
    text: str
    reference: Callable[..., Any] | None = None  # the same forward, written with numpy

    def __repr__(self) -> str:
        shapes = ", ".join(
            "float" if type(x) is float else f"{x.dtype}{list(x.shape)}" for x in self.inputs
        )
        return f"Case({self.text}; inputs: {shapes})"


# ----- shapes ----------------------------------------------------------------------------------
def shapes(
    min_dims: int = 0, max_dims: int = MAX_DIMS, min_side: int = 1, max_side: int = MAX_SIDE
) -> st.SearchStrategy[tuple[int, ...]]:
    return hnp.array_shapes(
        min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side
    )


def broadcastable_shapes(
    num: int, min_dims: int = 0, max_dims: int = MAX_DIMS, max_side: int = MAX_SIDE
) -> st.SearchStrategy:
    """`num` mutually broadcastable shapes (`.input_shapes`, `.result_shape`)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=num, min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side
    )


# ----- values ----------------------------------------------------------------------------------
@cache
def grid_values(
    low: float, high: float, kinks: tuple[float, ...], slot: int = 0, slots: int = 1
) -> tuple[float, ...]:
    """Grid points in (low, high) at least KINK_MARGIN from every kink; `slot` of `slots`
    interleaved grids, so inputs drawn from different slots never share a value."""
    k = np.arange(GRID)
    points = low + (high - low) * (k * slots + slot + 0.5) / (GRID * slots)
    keep = np.ones(GRID, dtype=bool)
    for kink in kinks:
        keep &= np.abs(points - kink) >= KINK_MARGIN
    return tuple(float(p) for p in points[keep])


def arrays_in(
    shape: tuple[int, ...],
    low: float = -3.0,
    high: float = 3.0,
    kinks: tuple[float, ...] = (),
    slot: int = 0,
    slots: int = 1,
    dtype: Any = np.float64,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays of `shape` with distinct entries in (low, high), kept away from the kinks."""
    values = st.sampled_from(grid_values(low, high, tuple(kinks), slot, slots))
    return hnp.arrays(dtype, shape, elements=values, unique=True)


def value_in(
    shape: tuple[int, ...],
    low: float = -3.0,
    high: float = 3.0,
    kinks: tuple[float, ...] = (),
    slot: int = 0,
    slots: int = 1,
    allow_float: bool = True,
) -> st.SearchStrategy:
    """Like arrays_in, but a shape () may also come out as a plain Python float."""
    arrays = arrays_in(shape, low, high, kinks, slot, slots)
    if shape == () and allow_float:
        floats = st.sampled_from(grid_values(low, high, tuple(kinks), slot, slots))
        return st.one_of(floats, arrays)
    return arrays


def domain_input(
    domain: Domain, i: int, shape: tuple[int, ...], slots: int, allow_float: bool = True
) -> st.SearchStrategy:
    """Input number i of an op, inside the domain's range for that input."""
    low, high = domain.ranges[min(i, len(domain.ranges) - 1)]
    return value_in(shape, low, high, domain.kinks, i, slots, allow_float)


# ----- axes and parameters -------------------------------------------------------------------
def axes_for(ndim: int) -> st.SearchStrategy:
    """A reduction `axis` valid for `ndim` dims: None, an int (maybe negative), or a tuple of
    distinct axes (maybe empty, maybe negative)."""
    if ndim == 0:
        return st.sampled_from([None, ()])
    one = st.integers(-ndim, ndim - 1)
    many = st.lists(st.integers(0, ndim - 1), unique=True, min_size=1, max_size=ndim).flatmap(
        lambda axes: st.tuples(*[st.sampled_from([a, a - ndim]) for a in axes])
    )
    return st.one_of(st.none(), one, st.just(()), many)


def reduced_count(shape: tuple[int, ...], axis: Any) -> int:
    if axis is None:
        return math.prod(shape)
    axes = (axis,) if isinstance(axis, int) else axis
    return math.prod(shape[a] for a in axes)


def params_for(domain: Domain, exclude: tuple[str, ...] = ()) -> st.SearchStrategy[dict]:
    """One choice per declared parameter. A draw where every choice is None is skipped: None
    means 'no such bound' (clip needs at least one)."""
    names = [n for n in domain.params if n not in exclude]
    if not names:
        return st.just({})
    choices = st.fixed_dictionaries({n: st.sampled_from(domain.params[n]) for n in names})
    return choices.filter(lambda p: any(v is not None for v in p.values()))


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


def _numpy(name: str, params: dict):
    ref = NUMPY.get(name)
    return None if ref is None else (lambda *xs: ref(*xs, **params))


def _call_text(name: str, extra: dict) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in extra.items())
    return f"{name}({args})"


# ----- one builder per Domain.kind ------------------------------------------------------------
@st.composite
def unary_case(draw, name: str, domain: Domain) -> Case:
    fn = getattr(ops, name)
    x = draw(domain_input(domain, 0, draw(shapes()), 1))
    params = draw(params_for(domain))
    return Case([x], lambda x: fn(x, **params), _call_text(name, params), _numpy(name, params))


@st.composite
def binary_case(draw, name: str, domain: Domain) -> Case:
    fn = getattr(ops, name)
    shape_x, shape_y = draw(broadcastable_shapes(2)).input_shapes
    x = draw(domain_input(domain, 0, shape_x, 2))
    y = draw(domain_input(domain, 1, shape_y, 2))
    params = draw(params_for(domain))
    return Case(
        [x, y], lambda x, y: fn(x, y, **params), _call_text(name, params), _numpy(name, params)
    )


@st.composite
def reduce_case(draw, name: str, domain: Domain) -> Case:
    fn = getattr(ops, name)
    shape = draw(shapes())
    # A scalar may be a Python float; only axis=None reduces one of those.
    x = draw(domain_input(domain, 0, shape, 1))
    axis = None if type(x) is float else draw(axes_for(len(shape)))
    params = dict(draw(params_for(domain)), axis=axis)
    if "ddof" in params:
        assume(reduced_count(shape, axis) > params["ddof"])
    return Case([x], lambda x: fn(x, **params), _call_text(name, params), _numpy(name, params))


@st.composite
def axis_case(draw, name: str, domain: Domain) -> Case:
    fn = getattr(ops, name)
    shape = draw(shapes(min_dims=1))
    x = draw(domain_input(domain, 0, shape, 1))
    params = dict(draw(params_for(domain)), axis=draw(st.integers(-len(shape), len(shape) - 1)))
    return Case([x], lambda x: fn(x, **params), _call_text(name, params), _numpy(name, params))


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


def case_for(name: str) -> st.SearchStrategy[Case]:
    """Test cases for the registered op `name`, from the builder of its domain's kind."""
    domain = REGISTRY[name].domain
    return CASE_BUILDERS[domain.kind](name, domain)


# The recurrent scans' cases live in their own file (it imports the helpers above).
from tests.strategies_recurrent import RECURRENT_CASES  # noqa: E402

CASE_BUILDERS.update(RECURRENT_CASES)
