"""The timing harness: build each implementation, check it, warm it up, then time round-robin.

A workload is a list of `Case`s. A case maps implementation names to builders; a builder returns
a `step` callable that does one unit of work (a training step, one chain, one pass of ops) and
returns a tuple of numbers (a loss, a gradient summary) used for the correctness check. The first
builder of a case is the hand-written reference: ratios are taken against it, and an
implementation whose first two steps disagree with it is refused, never timed.
"""

from __future__ import annotations

import gc
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent

Step = Callable[[], tuple]
Builder = Callable[[], Step]


@dataclass
class Case:
    """One row group of a workload table: the same work done by several implementations."""

    workload: str  # "W3"
    key: str  # short id, used to find the case again in a memory child process
    label: str  # shown in the table
    unit: str  # "ms/step", "us/link", "us/op"
    scale: float  # seconds -> unit (1e3 for ms, 1e6 for us)
    per: int  # units of work per step (links, ops); 1 for a training step
    builders: dict[str, Builder]  # the first one is the reference
    check_builders: dict[str, Builder] | None = None  # smaller runs for the check, if costly
    check_fraction: float = 1.0  # work of a check step / work of a timed step
    check_label: str = ""  # how the check differs, shown when it fails ("at N = 1,000")
    rtol: float = 1e-5
    budget: float = 1.0  # seconds of timed samples per implementation (full run)
    min_samples: int | None = None  # at least this many samples, however slow (default 5)
    memory_steps: int = 5  # steps run in the memory child; 0 skips the measurement

    @property
    def reference(self) -> str:
        return next(iter(self.builders))


@dataclass
class Result:
    """What happened to one implementation in one case."""

    name: str
    status: str = "ok"  # "ok", or "unavailable: ...", "failed: ...", "refused: ..."
    samples: list[float] = field(default_factory=list)  # seconds per unit of work
    inner: int = 1  # steps per timed sample
    wall: float = 0.0  # total seconds of the timed samples
    cpu: float = 0.0  # CPU seconds of this process during them (below wall: machine busy)
    memory: dict | str | None = None  # filled in by memory.py

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def cpu_share(self) -> float:
        return self.cpu / self.wall if self.wall else math.nan


def describe_error(exc: BaseException) -> str:
    """A one-line status for an exception: missing imports are 'unavailable', the rest failed."""
    if isinstance(exc, ImportError):
        return f"unavailable: {exc}"
    if isinstance(exc, RecursionError):
        return "failed: RecursionError"  # micrograd's recursive topological sort, in W2
    text = str(exc).splitlines()[0] if str(exc) else ""
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"failed: {type(exc).__name__}" + (f": {text}" if text else "")


def build(builder: Builder) -> Step | str:
    """Build a step, or return a status string saying why it could not be built."""
    try:
        return builder()
    except Exception as exc:  # noqa: BLE001 - any failure becomes a row in the table
        return describe_error(exc)


def run_check(step: Step) -> tuple[tuple[float, ...], float] | str:
    """Run two steps; return their numbers and the time of the second (a first calibration)."""
    try:
        first = tuple(float(v) for v in step())
        start = time.perf_counter()
        second = tuple(float(v) for v in step())
        return first + second, time.perf_counter() - start
    except Exception as exc:  # noqa: BLE001 - RecursionError included
        return describe_error(exc)


def disagreement(values: tuple, reference: tuple, rtol: float) -> str | None:
    """None if the values match the reference to rtol, else a short explanation."""
    close = len(values) == len(reference) and all(
        math.isclose(v, r, rel_tol=rtol, abs_tol=1e-12) for v, r in zip(values, reference)
    )
    if close:
        return None
    shown = ", ".join(f"{v:.8g}" for v in values[:2])
    expected = ", ".join(f"{r:.8g}" for r in reference[:2])
    return f"refused: check gave {shown}, reference {expected} (rtol {rtol:g})"


def time_case(case: Case, names: list[str], quick: bool) -> dict[str, Result]:
    """Check every implementation against the reference, then time those that agree."""
    results = {name: Result(name) for name in names}
    steps: dict[str, Step] = {}
    calibration: dict[str, float] = {}
    reference_values = None
    for name in names:  # the reference comes first
        _use_collector_of(name)
        check_builder = (case.check_builders or case.builders)[name]
        step = build(check_builder)
        outcome = step if isinstance(step, str) else run_check(step)
        if isinstance(outcome, str):
            results[name].status = outcome + (f" ({case.check_label})" if case.check_label else "")
            continue
        values, seconds = outcome
        if reference_values is None:
            if name != case.reference:
                results[name].status = "refused: the reference failed, nothing to check against"
                continue
            reference_values = values
        elif problem := disagreement(values, reference_values, case.rtol):
            results[name].status = problem
            continue
        if case.check_builders is not None:
            step = build(case.builders[name])
            if isinstance(step, str):
                results[name].status = step
                continue
        calibration[name] = seconds / case.check_fraction  # an estimate if the check is smaller
        steps[name] = step
    if steps:
        _time_round_robin(case, steps, calibration, results, quick)
    return results


def _plan(case: Case, seconds: float, quick: bool) -> tuple[int, int]:
    """Steps per sample and number of samples for a step that takes `seconds`."""
    target_sample = 0.005 if quick else 0.02
    budget = case.budget / 4 if quick else case.budget
    min_samples, max_samples = (3, 7) if quick else (case.min_samples or 5, 25)
    if quick and seconds > 0.5:
        min_samples = 2  # micrograd's W1 step takes a second
    inner = max(1, round(target_sample / seconds))
    samples = int(budget / (inner * seconds))
    return inner, min(max(samples, min_samples), max_samples)


def _time_round_robin(case, steps, calibration, results, quick) -> None:
    """Time samples in turn (A, B, C, B, C, A, ...) so machine noise hits all alike.

    A fast step also gets an untimed step before each sample, so that it does not pay for
    having been pushed out of the caches by the others. Each sample starts after an untimed
    gc.collect() and ends with one inside the timing, so every implementation pays for
    collecting the cyclic garbage it leaves, and none pays for another's. gc.freeze() first
    moves everything alive now (models, imported modules) out of the collector's sight, so
    those collections cost the same whatever peers are imported; the plans are made after it,
    from steps timed as the samples are. minigrad's samples run with the collector's
    thresholds minigrad sets at import, the others' with the interpreter's.
    """
    gc.collect()
    gc.freeze()
    try:
        plans = _plans(case, steps, calibration, results, quick)
        names = list(steps)
        for turn in range(max(samples for _, samples, _ in plans.values())):
            for name in names[turn % len(names) :] + names[: turn % len(names)]:
                inner, samples, warm = plans[name]
                if len(results[name].samples) >= samples:
                    continue
                step = steps[name]
                _use_collector_of(name)
                if warm:
                    step()  # back in the caches after the other implementations' turns
                gc.collect()
                start, start_cpu = time.perf_counter(), time.process_time()
                for _ in range(inner):
                    step()
                gc.collect()
                elapsed = time.perf_counter() - start
                result = results[name]
                result.samples.append(elapsed / inner / case.per)
                result.wall += elapsed
                result.cpu += time.process_time() - start_cpu
    finally:
        gc.unfreeze()


def _plans(case, steps, calibration, results, quick) -> dict[str, tuple[int, int, bool]]:
    """Per implementation: steps per sample, samples, and whether a sample starts with an
    untimed step (fast steps only)."""
    plans = {}
    for name, step in steps.items():
        _use_collector_of(name)
        seconds = _recalibrate(step, calibration[name])
        inner, samples = _plan(case, seconds, quick)
        results[name].inner = inner
        plans[name] = (inner, samples, seconds < 0.02)
    return plans


def _recalibrate(step: Step, seconds: float) -> float:
    """The time of one step as the samples will see it: collected and frozen first, as they are.

    The check's step ran before that, so its time includes collecting whatever the imports and
    the other implementations' checks left (micrograd's W1 check leaves 66 MB of cyclic
    garbage): under the interpreter's thresholds, minigrad's second W1 check step took 0.8 s
    instead of 0.07 s, and the plan gave it 5 samples instead of 25 (measured 2026-12-02).
    Steps under a second are timed again; a fast one gets a warm-up step before."""
    if seconds >= 1.0:
        return seconds
    gc.collect()
    if seconds < 0.05:
        step()
    start = time.perf_counter()
    step()
    return min(seconds, time.perf_counter() - start)


def _use_collector_of(name: str) -> None:
    """Run what follows under the garbage collector's thresholds that implementation `name` has
    in a process of its own: the ones minigrad sets at import (minigrad/collector.py) for
    minigrad, the interpreter's for the others (micrograd's W1 makes 66 MB of garbage a step
    that only the collector frees: under minigrad's thresholds it would not run as it does for
    its users)."""
    collector = sys.modules.get("minigrad.collector")
    if collector is not None and collector.tuned:
        gc.set_threshold(
            *(collector.THRESHOLDS if name.startswith("minigrad") else collector.before)
        )
