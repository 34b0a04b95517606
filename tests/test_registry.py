"""Completeness: every public op is registered with a test domain the strategies can draw from,
so an op added without a test case fails here instead of going untested."""

import inspect

import pytest

import minigrad
import minigrad.ops as ops
from minigrad.ops import REGISTRY, Domain, Op
from tests.strategies import CASE_BUILDERS

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
