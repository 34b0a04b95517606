"""Hypothesis strategies for gradient tests: shapes, values inside a domain, and test cases.

A `Case` is what a gradient check needs: the differentiable inputs (Python floats or float64
arrays) and `call(*inputs)`, which applies the function with its other arguments (axis,
parameters, ...) fixed. `call` works on Values (recorded) and on plain data (just the forward,
which is how finite differences evaluate it).

Input values come from a fine grid over the domain's range: entries of one array are distinct,
and two inputs drawn for the same function use interleaved grid points, so they never tie
either (a tie is a kink of max/min/maximum/minimum, where a finite difference measures nothing
useful). Grid points closer than KINK_MARGIN to a declared kink are left out.

The builders here serve the generic `Domain` kinds ('unary', 'binary', 'nary', 'reduce',
'axis') for any function; tests/strategies.py adds the library's op-specific ones.
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

from minigrad.ops.registry import Domain

MAX_DIMS = 3
MAX_SIDE = 4
GRID = 4096
KINK_MARGIN = 0.02


@dataclass
class Case:
    """Inputs to differentiate and how to call the function on them; repr says what was
    drawn."""

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
    """Input number i of a function, inside the domain's range for that input."""
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


# ----- cases for the generic kinds --------------------------------------------------------------
def _call_text(name: str, extra: dict) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in extra.items())
    return f"{name}({args})"


def _make(fn: Callable, reference: Callable | None, name: str, inputs: list, params: dict):
    ref = None if reference is None else (lambda *xs: reference(*xs, **params))
    return Case(inputs, lambda *xs: fn(*xs, **params), _call_text(name, params), ref)


@st.composite
def unary_cases(draw, fn: Callable, domain: Domain, reference=None, name: str = "f") -> Case:
    """One input of any shape (a Python float too), and the declared parameters."""
    x = draw(domain_input(domain, 0, draw(shapes()), 1))
    params = draw(params_for(domain))
    return _make(fn, reference, name, [x], params)


@st.composite
def nary_cases(
    draw, fn: Callable, domain: Domain, reference=None, name: str = "f", count: int = 2
) -> Case:
    """`count` inputs of mutually broadcastable shapes (Python floats too)."""
    input_shapes = draw(broadcastable_shapes(count)).input_shapes
    inputs = [draw(domain_input(domain, i, s, count)) for i, s in enumerate(input_shapes)]
    params = draw(params_for(domain))
    return _make(fn, reference, name, inputs, params)


def binary_cases(fn: Callable, domain: Domain, reference=None, name: str = "f"):
    """Two inputs of mutually broadcastable shapes."""
    return nary_cases(fn, domain, reference, name, 2)


@st.composite
def reduce_cases(draw, fn: Callable, domain: Domain, reference=None, name: str = "f") -> Case:
    """One input and a reduction `axis` (None, an int or a tuple), with the parameters."""
    shape = draw(shapes())
    # A scalar may be a Python float; only axis=None reduces one of those.
    x = draw(domain_input(domain, 0, shape, 1))
    axis = None if type(x) is float else draw(axes_for(len(shape)))
    params = dict(draw(params_for(domain)), axis=axis)
    if "ddof" in params:
        assume(reduced_count(shape, axis) > params["ddof"])
    return _make(fn, reference, name, [x], params)


@st.composite
def axis_cases(draw, fn: Callable, domain: Domain, reference=None, name: str = "f") -> Case:
    """One input of at least one dimension and one `axis` (maybe negative)."""
    shape = draw(shapes(min_dims=1))
    x = draw(domain_input(domain, 0, shape, 1))
    params = dict(draw(params_for(domain)), axis=draw(st.integers(-len(shape), len(shape) - 1)))
    return _make(fn, reference, name, [x], params)


GENERIC_KINDS = {
    "unary": unary_cases,
    "binary": binary_cases,
    "reduce": reduce_cases,
    "axis": axis_cases,
}


def cases_for(fn: Callable, domain: Domain, reference=None, name: str = "f"):
    """Test cases for fn on its domain, whose kind is 'unary', 'binary', 'reduce', 'axis' or
    'nary' (as many broadcastable inputs as `domain.ranges` has entries)."""
    if domain.kind == "nary":
        return nary_cases(fn, domain, reference, name, len(domain.ranges))
    if domain.kind not in GENERIC_KINDS:
        raise ValueError(
            f"no test cases for Domain kind {domain.kind!r}: use 'unary', 'binary', 'nary', "
            "'reduce' or 'axis', or pass cases= (a Hypothesis strategy of Case)"
        )
    return GENERIC_KINDS[domain.kind](fn, domain, reference, name)
