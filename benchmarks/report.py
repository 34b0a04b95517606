"""Printing: the machine header, one markdown table per workload, and issue 6's targets."""

from __future__ import annotations

import datetime
import os
import platform
import subprocess
from importlib import metadata

from harness import REPO_ROOT, Case, Result


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _minigrad_revision() -> str:
    def git(*args: str) -> str:
        done = subprocess.run(["git", *args], cwd=REPO_ROOT, capture_output=True, text=True)
        return done.stdout.strip()

    try:
        commit = git("rev-parse", "--short", "HEAD") or "no commit"
        dirty = git("status", "--porcelain", "--", "minigrad")
    except OSError:
        return "unknown"
    return commit + (" + uncommitted changes in minigrad/" if dirty else "")


def _load() -> str:
    try:
        return " ".join(f"{load:.2f}" for load in os.getloadavg()) + " (1, 5, 15 min)"
    except OSError:
        return "unknown"


def busy_note(groups) -> str | None:
    """A warning when timed samples got much less CPU than wall time (a busy machine)."""
    shares = [
        result.cpu_share
        for cases in groups.values()
        for _, results in cases
        for result in results.values()
        if result.ok
    ]
    if not shares or min(shares) >= 0.9:
        return None
    return (
        f"Note: in some cases this process was on a CPU for only {min(shares):.0%} of the timed "
        "wall time (column CPU): other processes were running. Absolute times are inflated; "
        "ratios within a case suffer less, as implementations take turns."
    )


def header(threads: str, quick: bool) -> str:
    """Date, machine and versions, as a few markdown lines."""
    import numpy

    cores = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cores
    now = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    lines = [
        f"# minigrad benchmarks ({'quick' if quick else 'full'} run)",
        "",
        f"- date: {now}",
        f"- machine: {_cpu_model()}, {cores} cores ({usable} usable), {platform.system()}",
        f"- Python {platform.python_version()}, numpy {numpy.__version__}, "
        f"torch {_version('torch')}, micrograd {_version('micrograd')}, "
        f"mygrad {_version('mygrad')}",
        f"- minigrad: {REPO_ROOT} at {_minigrad_revision()}",
        f"- threads per library (BLAS, torch): {threads}",
        f"- load average at start: {_load()}",
    ]
    return "\n".join(lines)


def _fmt(seconds: float, case: Case) -> str:
    value = seconds * case.scale
    return f"{value:.3g}" if value < 100 else f"{value:.0f}"


def _memory_cells(result: Result) -> list[str]:
    memory = result.memory
    if memory is None:
        return ["", ""]
    if "error" in memory:
        return [memory["error"], ""]
    growth = memory.get("growth_mb")
    return [f"{memory['peak_mb']:.0f}", "" if growth is None else f"{growth:+.1f}"]


def table(title: str, groups: list[tuple[Case, dict[str, Result]]]) -> str:
    """One markdown table for a workload: a row per case and implementation."""
    unit = groups[0][0].unit
    reference = groups[0][0].reference
    lines = [
        f"## {title}",
        "",
        f"| case | implementation | median {unit} | min | max | vs {reference} | samples | CPU "
        "| peak RSS MB | RSS growth MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for case, results in groups:
        label = case.label
        ref = results.get(case.reference)
        for name, result in results.items():
            shown = f"{name} (reference)" if name == case.reference else name
            if result.ok:
                ratio = f"{result.median / ref.median:.2f}x" if ref and ref.ok else ""
                cells = [
                    _fmt(result.median, case),
                    _fmt(min(result.samples), case),
                    _fmt(max(result.samples), case),
                    ratio,
                    f"{len(result.samples)} x {result.inner}",
                    f"{result.cpu_share:.0%}",
                ]
            else:
                cells = [result.status, "", "", "", "", ""]
            row = [label, shown, *cells, *_memory_cells(result)]
            lines.append("| " + " | ".join(row) + " |")
            label = ""
    return "\n".join(lines)


def flat_table(case: Case, flat: dict[str, dict], marks: tuple[int, int]) -> str:
    """RSS after step marks[0] and marks[1] of W3 batch 512, each implementation fresh."""
    first, last = marks
    lines = [
        f"## Memory over {last:,} steps: W3 {case.label}",
        "",
        f"| implementation | RSS after step {first} MB | after step {last:,} MB "
        "| change MB | flat |",
        "|---|---|---|---|---|",
    ]
    for name, memory in flat.items():
        if "error" in memory:
            lines.append(f"| {name} | {memory['error']} | | | |")
            continue
        before, after = memory["marks_mb"][str(first)], memory["marks_mb"][str(last)]
        verdict = "yes" if is_flat(before, after) else "NO"
        lines.append(f"| {name} | {before:.1f} | {after:.1f} | {after - before:+.1f} | {verdict} |")
    return "\n".join(lines)


def is_flat(before: float, after: float) -> bool:
    """Flat: grew by less than 1 MB or 1%, whichever is larger (allocator slack)."""
    return after - before < max(1.0, 0.01 * before)
