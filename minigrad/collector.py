"""Python's cyclic garbage collector, set up for graphs: full collections far less often.

Why: minigrad's graphs hold no reference cycles (a node refers only to its inputs, made before
it; only a `.grad` that `create_graph=True` left as a Value can close a loop), so reference
counting frees a graph as soon as its last Value goes; the collector finds no garbage in them.
It still walks them. CPython's collector counts net new container objects (every Value is
one): each 700 it collects the youngest objects, each 10 of those the middle generation, and
each 10 of those everything alive (thresholds (700, 10, 10)), once that has grown by a
quarter. A forward that builds a large graph in one go therefore walks the whole graph built
so far about a dozen times. Measured on the development machine (2026-12-02, Intel Xeon,
Python 3.11, `gc.freeze()` first as benchmarks/harness.py does), a chain of a million links
(`y = y * 1.0001 + 0.0001`, W2) took 2.1 us per link in forward, 0.53 us with the collector
off: the collector took three quarters of it, most of that in full collections.

What: at import, the thresholds become (700, 10, THRESHOLD2): young and middle collections as
before, full ones 30 times less often. A full collection then waits for 700 x 10 x 300 = 2.1
million net new objects instead of 70,000 (and, as before, for everything alive to have grown
by a quarter). The same chain took 0.8 us per link in forward. Cyclic garbage made by other
code is still collected as soon as before while it is young; only garbage old enough to reach
the oldest generation waits longer. (2,000 as the young threshold as well made the chain no
faster, and minigrad's W1 step 5-8% slower in benchmarks/run.py: its middle collections, of
up to 20,000 objects, took longer.) Like `allocator.py`, this changes the whole process.

Left alone when the environment variable MINIGRAD_GC is "default", when the collector is
disabled, and when the thresholds are not CPython's (700, 10, 10) when minigrad is imported
(the program, or its Python version, chose others).
"""

from __future__ import annotations

import gc
import os

INTERPRETER_DEFAULT = (700, 10, 10)
THRESHOLD2 = 300  # middle collections between full ones (CPython: 10)
THRESHOLDS = (*INTERPRETER_DEFAULT[:2], THRESHOLD2)  # what minigrad sets

# The thresholds in force before minigrad set its own (benchmarks/harness.py runs the other
# libraries with these, as they would run in a process of their own).
before = gc.get_threshold()
# Whether minigrad set the thresholds (set by `collect_less_often`).
tuned = False


def collect_less_often() -> bool:
    """Set the thresholds (see the module's docstring). Returns whether it did; it does nothing
    when opted out, when the collector is off, or when the thresholds were changed."""
    global tuned
    if tuned:
        return True
    if os.environ.get("MINIGRAD_GC", "") == "default" or not gc.isenabled():
        return False
    if gc.get_threshold() != INTERPRETER_DEFAULT:
        return False
    gc.set_threshold(*THRESHOLDS)
    tuned = True
    return True
