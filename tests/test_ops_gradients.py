"""Every registered op's gradient against central finite differences, walking the registry.

For each op, Hypothesis draws cases from tests/strategies.py (random shapes, broadcasting,
Python-float scalars where the op takes them) and a random upstream gradient g. The analytic
vector-Jacobian product from backward must match d(sum(g * f(x)))/dx computed entry by entry
with central differences in float64. Second order (for domains with second_order=True): the
gradient of sum(r * vjp(x)) taken through `create_graph=True` must match a finite difference of
the plain first-order vjp along a random direction. Along the way: inputs are never mutated,
gradients have their inputs' shapes and dtypes (a Python float for a Python float), and the
same case in float32 gives float32 results and gradients, also as Values (create_graph=True).

The checks themselves are minigrad/testing/checks.py, which `minigrad.testing.check_op` runs on
users' own functions; forward mode is checked in tests/test_forward_mode.py.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from minigrad.ops import REGISTRY
from minigrad.testing.checks import check_first_order, check_float32, check_second_order
from tests.strategies import case_for

NAMES = sorted(REGISTRY)
SECOND_ORDER = sorted(n for n in NAMES if REGISTRY[n].domain.second_order)
KIND = {n: REGISTRY[n].domain.kind for n in NAMES}
# Kinds whose ops map Python floats to a Python float (scalars stay floats all the way through).
SCALAR_KINDS = ("unary", "binary", "reduce", "where")
# Kinds where Python floats are weak scalars next to float32 arrays (elementwise, as in numpy).
WEAK_FLOAT_KINDS = ("unary", "binary", "where")


def _seed(data) -> np.random.Generator:
    return np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))


@pytest.mark.parametrize("name", NAMES)
@given(data=st.data())
def test_op_gradient_matches_finite_differences_and_float32_stays(name, data):
    case = data.draw(case_for(name), label="case")
    rng = _seed(data)
    check_first_order(case, rng, name, floats_stay_floats=KIND[name] in SCALAR_KINDS)
    # The same case in float32 (drawn once: drawing costs more than checking).
    check_float32(case, rng, name, floats_are_weak=KIND[name] in WEAK_FLOAT_KINDS)


@pytest.mark.parametrize("name", SECOND_ORDER)
@given(data=st.data())
def test_op_second_order_matches_finite_differences(name, data):
    case = data.draw(case_for(name), label="case")
    check_second_order(case, _seed(data), name)
