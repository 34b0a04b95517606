"""minigrad/allocator.py: on glibc, importing minigrad tells malloc to keep freed memory, so a
training loop does not page-fault its arrays back in every step. Each case runs in a fresh
Python, since the setting is the process's."""

import os

import pytest

from minigrad.allocator import on_glibc
from tests.child import run_child

pytestmark = pytest.mark.skipif(not on_glibc(), reason="the allocator setting is glibc's (Linux)")

# A step's worth of arrays, freed together at its end: 16 blocks of 256 KB (the size of W3's
# batch-512 activations). glibc's default gives the freed top of its heap back to the system,
# so each round faults its pages in again; with the memory kept, rounds after the first don't.
LOOP = """
import json, resource
import numpy as np
import minigrad
from minigrad import allocator

def rounds(n):
    for _ in range(n):
        arrays = [np.ones(32768) for _ in range(16)]  # 16 x 256 KB, written
        del arrays

rounds(3)
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
rounds(20)
faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / 20
print(json.dumps({"kept": allocator.kept, "faults": faults}))
"""


def _run(monkeypatch, variables: dict) -> dict:
    """LOOP in a fresh Python with these environment variables, and no other MALLOC_*_
    or MINIGRAD_MALLOC."""
    for name in [k for k in os.environ if k.startswith("MALLOC_")] + ["MINIGRAD_MALLOC"]:
        monkeypatch.delenv(name, raising=False)
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return run_child(LOOP, timeout=120)


def test_import_keeps_freed_memory_and_the_loop_stops_faulting(monkeypatch):
    kept = _run(monkeypatch, {})
    default = _run(monkeypatch, {"MINIGRAD_MALLOC": "default"})
    assert kept["kept"] is True
    assert default["kept"] is False
    # 16 x 256 KB is 1,024 pages a round: the default gives most of them back and faults them
    # in again; kept, a round reuses the same memory
    assert default["faults"] > 500, default
    assert kept["faults"] < 20, kept


def test_glibc_variables_set_by_the_user_are_left_alone(monkeypatch):
    result = _run(monkeypatch, {"MALLOC_TRIM_THRESHOLD_": str(2**20)})
    assert result["kept"] is False
