"""Completeness: every public op is registered with a test domain the strategies can draw from,
so an op added without a test case fails here instead of going untested."""

import inspect

import numpy as np
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

import minigrad
import minigrad.ops as ops
from minigrad.ops import REGISTRY, Domain, Op
from tests.strategies import (
    CASE_BUILDERS,
    KINK_MARGIN,
    arrays_in,
    case_for,
    indices,
    shapes,
)

# Names in minigrad.ops.__all__ that are the registry machinery, not op functions.
MACHINERY = {"REGISTRY", "Domain", "Op", "register"}
OP_FUNCTIONS = sorted(set(ops.__all__) - MACHINERY)


def test_registry_all_names_resolve():
    for name in ops.__all__:
        assert hasattr(ops, name), f"minigrad.ops.__all__ lists {name!r}, which does not exist"


def test_registry_machinery_is_not_an_op_function():
    assert set(MACHINERY) <= set(ops.__all__)
    for name in OP_FUNCTIONS:
        assert inspect.isfunction(getattr(ops, name)), f"{name!r} is not a function"


@pytest.mark.parametrize("name", OP_FUNCTIONS)
def test_registry_every_public_op_is_registered(name):
    assert name in REGISTRY, f"public op {name!r} is not in REGISTRY (register it with a Domain)"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registry_every_registered_op_is_public(name):
    assert name in ops.__all__, f"registered op {name!r} is not in minigrad.ops.__all__"
    assert callable(getattr(ops, name))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registry_op_has_a_domain_the_strategies_know(name):
    op = REGISTRY[name]
    assert issubclass(op, Op)
    domain = getattr(op, "domain", None)
    assert isinstance(domain, Domain), f"{name!r} has no Domain"
    assert domain.kind in CASE_BUILDERS, (
        f"op {name!r} has Domain.kind {domain.kind!r}, which tests/strategies.py has no case "
        f"builder for: add one to CASE_BUILDERS"
    )
    assert domain.ranges, f"{name!r}: a domain needs at least one input range"
    for low, high in domain.ranges:
        assert low < high, f"{name!r}: empty range ({low}, {high})"
    for param, choices in domain.params.items():
        assert choices, f"{name!r}: parameter {param!r} has no choices"


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_strategies_give_every_op_a_numpy_reference(name):
    case = find(case_for(name), lambda c: True, settings=FIND)
    assert case.reference is not None, (
        f"op {name!r}: its test cases need a numpy reference forward (tests/strategies.py, "
        "NUMPY or the op's case builder)"
    )


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registry_op_docstring_states_its_gradient(name):
    doc = inspect.getdoc(REGISTRY[name]) or ""
    assert doc and doc != inspect.getdoc(Op), f"op {name!r} has no docstring of its own"
    assert "Gradient:" in doc, f"op {name!r}: its docstring needs a 'Gradient:' line"


def test_registry_rejects_a_second_registration():
    with pytest.raises(ValueError, match="registered twice"):
        ops.register("add", Domain("binary"))(type("Again", (Op,), {}))
    assert REGISTRY["add"] is ops.arithmetic.Add


def test_registry_public_package_exports_ops():
    # The top-level names the issue asks for exist and are the ops' own functions.
    for name in ("maximum", "minimum", "where", "concat", "stack"):
        assert getattr(minigrad, name) is getattr(ops, name)


# ----- the strategies draw what they promise (so the gradient suite really covers it) ----------


# A search stops at its first hit (no shrinking: any example will do); the bound only limits how
# long a miss takes to report.
FIND = settings(database=None, max_examples=2000, phases=[Phase.generate], derandomize=True)


def _parts(index):
    return index if isinstance(index, tuple) else (index,)


def _has_repeated_ints(index):
    for p in _parts(index):
        arr = np.asarray(p) if isinstance(p, (list, np.ndarray)) else None
        if arr is not None and arr.dtype.kind == "i" and len(np.unique(arr)) < arr.size:
            return True
    return False


@pytest.mark.parametrize(
    "wanted",
    [
        _has_repeated_ints,
        lambda i: any(isinstance(p, np.ndarray) and p.dtype == bool for p in _parts(i)),
        lambda i: any(isinstance(p, list) for p in _parts(i)),
        lambda i: any(p is Ellipsis for p in _parts(i)),
        lambda i: any(p is None for p in _parts(i)),
        lambda i: any(isinstance(p, slice) and (p.step or 1) < 0 for p in _parts(i)),
        lambda i: sum(isinstance(p, np.ndarray) and p.dtype.kind == "i" for p in _parts(i)) == 2,
    ],
)
def test_strategies_indices_cover_every_kind_of_index(wanted):
    found = find(shapes(min_dims=2).flatmap(indices), wanted, settings=FIND)
    assert wanted(found)


@pytest.mark.parametrize(
    "name, wanted",
    [
        ("matmul", lambda c: c.inputs[0].ndim == 1),
        ("matmul", lambda c: c.inputs[1].ndim == 1),
        (
            "matmul",
            lambda c: (
                c.inputs[0].shape[:-2] != c.inputs[1].shape[:-2]
                and min(c.inputs[0].ndim, c.inputs[1].ndim) >= 3
            ),
        ),
        ("add", lambda c: np.shape(c.inputs[0]) != np.shape(c.inputs[1])),
        ("mul", lambda c: type(c.inputs[0]) is float),
        ("exp", lambda c: type(c.inputs[0]) is np.ndarray and c.inputs[0].shape == ()),
        ("sum", lambda c: "axis=(" in c.text and "-" in c.text and "keepdims=True" in c.text),
        ("getitem", lambda c: "array" in c.text),
        ("concat", lambda c: len(c.inputs) == 3),
    ],
)
def test_strategies_cases_cover_the_interesting_shapes(name, wanted):
    assert wanted(find(case_for(name), wanted, settings=FIND))


@given(data=st.data())
def test_strategies_values_keep_away_from_kinks_and_ties(data):
    shape = data.draw(shapes())
    kinks = (0.0, 1.0)
    x = data.draw(arrays_in(shape, -2.0, 2.0, kinks, slot=0, slots=2))
    y = data.draw(arrays_in(shape, -2.0, 2.0, kinks, slot=1, slots=2))
    for k in kinks:
        assert np.all(np.abs(x - k) >= KINK_MARGIN)
    assert np.all((-2.0 < x) & (x < 2.0))
    assert len(np.unique(x)) == x.size
    assert np.all(np.abs(x - y) > 1e-4)  # far more than the finite-difference step
