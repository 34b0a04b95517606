"""Fuzzing: Hypothesis writes random programs out of the registered ops and checks each one.

A program starts from one to three inputs of mutually broadcastable shapes and applies a few
ops, each to values already made (inputs or earlier results, so values get reused, diamonds
form) or to constants. The ops come from the registry, every op of kind 'unary', 'binary',
'reduce' or 'axis', called with parameters from its domain. For every program:

- it runs, or stops with one of the documented errors (a shape that does not broadcast, an axis
  out of range, a variance without degrees of freedom), each with its message;
- its gradients agree with central finite differences (`minigrad.gradcheck`, in float64);
- run again on float32 inputs, the result and every gradient stay float32, with the inputs'
  shapes; and no input is modified.

Finite differences are only valid where the function is smooth, so each op's inputs are kept
inside its domain: a value outside the op's range is first squashed into it with
`centre + half_width * tanh(v)` (itself recorded and differentiated), and an op whose inputs sit
near one of its kinks (relu at 0, clip at its bounds, a tie in max/min/maximum/minimum) is
skipped. These decisions are taken once, on the drawn float64 data, and then frozen, so
gradcheck evaluates one fixed smooth function.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from strategies import axes_for, params_for

import minigrad as mg
from minigrad import ops
from minigrad.ops.registry import REGISTRY

KINDS = ("unary", "binary", "reduce", "axis")
FUZZ_OPS = sorted(name for name, op in REGISTRY.items() if op.domain.kind in KINDS)
MARGIN = 0.02  # how far from a kink or a tie an input must stay
INSIDE = 0.05  # a value counts as inside a range when it is this fraction away from both ends

# The errors a program may stop with: (exception type, what its message must say).
DOCUMENTED = [
    (ValueError, r"could not be broadcast|do not broadcast"),
    (ValueError, r"axis -?\d+ is out of (range|bounds)"),
    (ValueError, r"no degrees of freedom"),
]


def test_the_fuzzer_draws_from_every_op_of_its_kinds():
    # If an op of these kinds is added, it is fuzzed without touching this file.
    assert {
        "add",
        "mul",
        "div",
        "pow",
        "exp",
        "log",
        "relu",
        "clip",
        "sum",
        "max",
        "var",
        "logsumexp",
        "softmax",
        "log_softmax",
    } <= set(FUZZ_OPS)
    for name in FUZZ_OPS:
        assert callable(getattr(ops, name)), name


# ----- a program: a list of frozen steps -------------------------------------------------------
@dataclass
class Step:
    """One op applied to earlier slots (ints) or constants, after squashing some operands."""

    name: str
    operands: list  # slot numbers (int) or constants (float / np.ndarray)
    squash: list  # per operand: None, or (centre, half_width)
    params: dict = field(default_factory=dict)

    def text(self, slot: int) -> str:
        args = []
        for operand, sq in zip(self.operands, self.squash):
            arg = f"v{operand}" if isinstance(operand, int) else _const_text(operand)
            args.append(arg if sq is None else f"squash({arg}, {sq[0]:g}+-{sq[1]:g})")
        params = "".join(f", {k}={v!r}" for k, v in self.params.items())
        return f"v{slot} = {self.name}({', '.join(args)}{params})"


def _const_text(c: Any) -> str:
    return repr(c) if type(c) is float else f"const{list(np.shape(c))}"


def _squash(v: Any, centre: float, half: float) -> Any:
    return centre + half * mg.tanh(v)


def run_program(steps: list[Step], leaves: list, dtype: Any = np.float64) -> Any:
    """Apply the steps to the leaves (Values or plain data); constants take `dtype`."""
    slots = list(leaves)
    for step in steps:
        args = []
        for operand, sq in zip(step.operands, step.squash):
            v = slots[operand] if isinstance(operand, int) else _as_dtype(operand, dtype)
            args.append(v if sq is None else _squash(v, *sq))
        slots.append(getattr(ops, step.name)(*args, **step.params))
    return slots[-1]


def _as_dtype(c: Any, dtype: Any) -> Any:
    return c if type(c) is float else c.astype(dtype)


# ----- drawing a program -----------------------------------------------------------------------
def _data(v: Any) -> Any:
    return v.data if isinstance(v, mg.Value) else v


def _inside(d: Any, low: float, high: float) -> bool:
    pad = INSIDE * (high - low)
    return bool(np.all((d > low + pad) & (d < high - pad)))


def _near_kink(d: Any, name: str, params: dict) -> bool:
    kinks = list(REGISTRY[name].domain.kinks)
    if name == "clip":  # the kinks of clip are its actual bounds
        kinks = [b for b in (params.get("lo"), params.get("hi")) if b is not None]
    return any(np.any(np.abs(np.asarray(d) - k) < MARGIN) for k in kinks)


def _tied(name: str, datas: list, params: dict) -> bool:
    """Ties make max/min/maximum/minimum non-differentiable: finite differences see a kink."""
    try:
        if name in ("maximum", "minimum"):
            return bool(np.any(np.abs(np.subtract(datas[0], datas[1])) < MARGIN))
        if name in ("max", "min"):
            d = np.asarray(datas[0]) * (1 if name == "max" else -1)
            top = np.max(d, axis=params["axis"], keepdims=True)
            close = np.sum(d > top - MARGIN, axis=params["axis"], keepdims=True)
            return bool(np.any(close > 1))
    except ValueError:  # shapes or an axis that do not fit: the op raises its documented error
        return False
    return False


@st.composite
def programs(draw: Callable) -> tuple[list, list[Step], list[tuple[str, str]]]:
    """Inputs, steps, and the documented errors met on the way: (what happened, pattern)."""
    n_inputs = draw(st.integers(1, 3))
    shapes = draw(
        hnp.mutually_broadcastable_shapes(num_shapes=n_inputs, min_dims=0, max_dims=3, max_side=3)
    ).input_shapes
    leaves = []
    for shape in shapes:
        if shape == () and draw(st.booleans()):
            leaves.append(draw(st.floats(-2.5, 2.5)))  # a scalar Value holds a Python float
        else:
            leaves.append(draw(hnp.arrays(np.float64, shape, elements=st.floats(-2.5, 2.5))))
    values = [mg.Value(x) for x in leaves]  # each step runs once here, on the drawn data
    steps: list[Step] = []
    errors: list[tuple[str, str]] = []
    target = draw(st.integers(2, 7))
    for _ in range(3 * target):  # a drawn step may be skipped (a kink, a tie): draw more
        if len(steps) == target:
            break
        name = draw(st.sampled_from(FUZZ_OPS))
        step = _draw_step(draw, name, values)
        if step is None:
            continue
        try:
            out = run_program([step], values)
        except tuple(e for e, _ in DOCUMENTED) as err:
            known = [p for e, p in DOCUMENTED if isinstance(err, e) and re.search(p, str(err))]
            assert known, f"undocumented error from {step.text(len(values))}: {err!r}"
            errors.append((f"{step.text(len(values))} -> {err}", known[0]))
            continue
        values.append(out)
        steps.append(step)
    if not steps:
        steps.append(Step("tanh", [len(values) - 1], [None]))  # always something to check
    return leaves, steps, errors


def _draw_step(draw: Callable, name: str, values: list) -> Step | None:
    domain = REGISTRY[name].domain
    kind = domain.kind
    first = draw(st.integers(0, len(values) - 1))
    operands: list = [first]
    if kind == "binary":
        operands.append(_draw_second(draw, values, first))
    params = dict(draw(params_for(domain)))
    ndim = np.ndim(_data(values[first]))
    if kind == "reduce":
        params["axis"] = draw(axes_for(ndim)) if type(_data(values[first])) is not float else None
        if draw(st.integers(0, 19)) == 0:
            params["axis"] = ndim  # sometimes out of range on purpose: a documented error
    elif kind == "axis":
        # one past either end now and then, on purpose (and a 0-d input is refused too)
        params["axis"] = draw(st.integers(-ndim - 1, ndim))
        if ndim == 0:
            return None  # softmax of a scalar: its own documented error, tested in test_errors
    squash = []
    datas = []
    for i, operand in enumerate(operands):
        d = _data(values[operand]) if isinstance(operand, int) else operand
        low, high = domain.ranges[min(i, len(domain.ranges) - 1)]
        if _inside(d, low, high):
            squash.append(None)
        else:
            centre, half = (low + high) / 2, (0.5 - INSIDE) * (high - low)
            squash.append((centre, half))
            d = centre + half * np.tanh(d)
        if _near_kink(d, name, params):
            return None
        datas.append(d)
    if _tied(name, datas, params):
        return None
    return Step(name, operands, squash, params)


def _draw_second(draw: Callable, values: list, first: int) -> Any:
    """An earlier value (maybe the same one: x * x), or a constant of a fitting shape."""
    choice = draw(st.sampled_from(["value", "value", "float", "array"]))
    if choice == "value":
        return draw(st.integers(0, len(values) - 1))
    if choice == "float":
        return draw(st.floats(-2.5, 2.5))
    shape = np.shape(_data(values[first]))
    const_shape = draw(hnp.broadcastable_shapes(shape, min_dims=0, max_dims=3, max_side=3))
    return draw(hnp.arrays(np.float64, const_shape, elements=st.floats(-2.5, 2.5)))


# ----- the property --------------------------------------------------------------------------
def _program_text(leaves: list, steps: list[Step]) -> str:
    lines = [
        f"v{i} = input {'float' if type(x) is float else list(x.shape)}"
        for i, x in enumerate(leaves)
    ]
    lines += [step.text(len(leaves) + i) for i, step in enumerate(steps)]
    return "\n".join(lines)


@given(programs())
def test_random_programs_have_correct_gradients_of_the_right_shape_and_dtype(drawn):
    leaves, steps, errors = drawn
    note(_program_text(leaves, steps))
    event(f"{len(steps)} steps")
    for _, pattern in errors:
        event(f"documented error: {pattern}")
    note("documented errors met: " + ("; ".join(text for text, _ in errors) or "none"))

    # Gradients agree with finite differences, in float64.
    originals = [np.copy(x) for x in leaves]
    assert mg.gradcheck(lambda *xs: run_program(steps, list(xs)), *leaves, atol=1e-5, rtol=1e-3)

    # float32 in, float32 out: the result and every gradient keep the inputs' type and shape.
    inputs = [mg.Value(x if type(x) is float else x.astype(np.float32)) for x in leaves]
    out = run_program(steps, inputs, np.float32)
    # (A result that is a Python float came from Python floats only: nothing to keep float32.)
    assert type(out.data) is float or out.dtype == np.float32, out.dtype
    out.backward(np.ones(out.shape, dtype=out.dtype) if out.shape else None)
    for x, v in zip(leaves, inputs):
        if v.grad is None:
            continue  # the result does not depend on this input
        if type(x) is float:
            assert type(v.grad) is float
        else:
            assert v.grad.dtype == np.float32 and v.grad.shape == x.shape
        assert np.all(np.isfinite(v.grad))

    # Nothing touched the inputs.
    for x, original in zip(leaves, originals):
        assert np.array_equal(x, original)


@pytest.mark.parametrize("name", FUZZ_OPS)
def test_each_fuzzed_op_alone_on_a_squashed_input(name):
    """A fixed smoke test per op, so a broken op fails by name even if Hypothesis misses it."""
    domain = REGISTRY[name].domain
    x = np.array([[0.3, -1.7, 2.2], [1.1, -0.4, 0.8]])
    operands = [0] if domain.kind != "binary" else [0, np.array([0.6, 1.3, -0.9])]
    params = {k: v[0] for k, v in domain.params.items()}
    if domain.kind in ("reduce", "axis"):
        params["axis"] = -1
    squash = []
    for i in range(len(operands)):
        low, high = domain.ranges[min(i, len(domain.ranges) - 1)]
        squash.append(((low + high) / 2, (0.5 - INSIDE) * (high - low)))
    step = Step(name, operands, squash, params)
    assert mg.gradcheck(lambda v: run_program([step], [v]), x)
    assert math.isfinite(float(np.sum(run_program([step], [mg.Value(x)]).data)))


# ----- what the fuzzer found, kept as plain regression tests ---------------------------------
@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "var", "logsumexp"])
def test_found_by_fuzzing_reducing_a_python_float_gives_a_python_float(name):
    # It used to give a 0-d float64 array, which then turned float32 arrays into float64.
    s = getattr(mg.Value(2.0), name)()
    assert type(s.data) is float
    assert (mg.Value(np.ones(3, dtype=np.float32)) * s).dtype == np.float32


@pytest.mark.parametrize("name", ["sum", "max", "min", "logsumexp"])
@pytest.mark.parametrize("axis", [0, -1])
@pytest.mark.parametrize("keepdims", [False, True])
def test_found_by_fuzzing_reducing_a_0d_array_along_axis_0_has_a_gradient(name, axis, keepdims):
    # numpy accepts axis=0 / -1 for a 0-d array; the backward used to fail with an IndexError.
    x = mg.Value(np.array(1.5))
    out = getattr(x, name)(axis=axis, keepdims=keepdims)
    out.backward()
    assert out.shape == () and x.grad.shape == () and x.grad == 1.0
