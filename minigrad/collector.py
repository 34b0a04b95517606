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

What: at import, the thresholds become (THRESHOLD0, 10, THRESHOLD2). A full collection then
waits for 2,000 x 10 x 100 = 2 million net new objects instead of 70,000 (and, as before, for
everything alive to have grown by a quarter), and young collections look at 2,000 objects, few
enough to stay in the processor's caches. The same chain took 0.82 us per link in forward.
Cyclic garbage made by other code is still collected: young collections still run (each
2,000 new objects instead of 700); only garbage old enough to reach the oldest generation
waits longer for its collection. Like
`allocator.py`, this changes the whole process.

Left alone when the environment variable MINIGRAD_GC is "default", when the collector is
disabled, and when the thresholds are not CPython's (700, 10, 10) when minigrad is imported
(the program, or its Python version, chose others).
"""

from __future__ import annotations

import gc
import os

THRESHOLD0 = 2000  # net new container objects between young collections (CPython: 700)
THRESHOLD2 = 100  # middle collections between full ones (CPython: 10)
INTERPRETER_DEFAULT = (700, 10, 10)

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
    gc.set_threshold(THRESHOLD0, INTERPRETER_DEFAULT[1], THRESHOLD2)
    tuned = True
    return True
