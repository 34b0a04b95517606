"""Issue 6's targets for minigrad, checked against one run's results."""

from __future__ import annotations

from harness import Case, Result
from report import is_flat

Groups = dict[str, list[tuple[Case, dict[str, Result]]]]


def _ok(results: dict[str, Result], *names: str) -> bool:
    return all(name in results and results[name].ok for name in names)


def _line(text: str, measured: str, passed: bool | None) -> str:
    verdict = {True: "pass", False: "**FAIL**", None: "not measured"}[passed]
    return f"| {text} | {measured} | {verdict} |"


def _speedup(groups, workload, key, slow, target) -> tuple[str, bool | None]:
    for case, results in groups.get(workload, []):
        if case.key == key and _ok(results, slow, "minigrad"):
            speedup = results[slow].median / results["minigrad"].median
            return f"{speedup:.2f}x", speedup >= target  # 2 decimals: 4.96x is not 5.0x
    return "", None


def _ratio(groups, workload, key, limit) -> tuple[str, bool | None]:
    for case, results in groups.get(workload, []):
        if case.key == key and _ok(results, case.reference, "minigrad"):
            ratio = results["minigrad"].median / results[case.reference].median
            return f"{ratio:.2f}x", ratio <= limit
    return "", None


def _peak_ratio(groups, limit) -> tuple[str, bool | None]:
    for case, results in groups.get("W3", []):
        if case.key == "b512-float32" and _ok(results, "numpy", "minigrad"):
            ours, theirs = results["minigrad"].memory, results["numpy"].memory
            if ours and theirs and "peak_mb" in ours and "peak_mb" in theirs:
                ratio = ours["peak_mb"] / theirs["peak_mb"]
                return f"{ratio:.2f}x", ratio <= limit
    return "", None


def _flat(flat: dict[str, dict], marks: tuple[int, int]) -> tuple[str, bool | None]:
    memory = flat.get("minigrad")
    if not memory or "marks_mb" not in memory:
        return "", None
    before, after = (memory["marks_mb"][str(m)] for m in marks)
    return f"{after - before:+.1f} MB", is_flat(before, after)


def targets(groups: Groups, flat: dict[str, dict], marks: tuple[int, int]) -> str:
    """A markdown table: each target of issue 6, minigrad's measure and pass/fail."""
    rows = [
        (
            "W1: >= 8x faster than micrograd per step",
            _speedup(groups, "W1", "demo", "micrograd", 8),
        ),
        (
            "W2: N = 1,000,000, >= 5x faster per link than torch",
            _speedup(groups, "W2", "n1000000", "torch", 5),
        ),
    ]
    for batch, limit in [(64, 1.3), (512, 1.1)]:
        for dtype in ["float32", "float64"]:
            rows.append(
                (
                    f"W3 batch {batch} {dtype}: <= {limit}x numpy",
                    _ratio(groups, "W3", f"b{batch}-{dtype}", limit),
                )
            )
    rows += [
        ("W4: <= 1.05x numpy", _ratio(groups, "W4", "b256-float32", 1.05)),
        ("W5: <= 2x numpy per op", _ratio(groups, "W5", "ops", 2.0)),
        ("Memory: W3 batch 512 float32 peak RSS <= 1.5x numpy's", _peak_ratio(groups, 1.5)),
        (f"Memory: flat from step {marks[0]} to step {marks[1]:,}", _flat(flat, marks)),
    ]
    lines = [
        "## Issue 6 targets for minigrad",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    lines += [_line(text, measured, passed) for text, (measured, passed) in rows]
    return "\n".join(lines)


def _versus(groups, workload, key, other, limit) -> tuple[str, bool | None]:
    """minigrad's time over `other`'s (torch's) in one case."""
    for case, results in groups.get(workload, []):
        if case.key == key and _ok(results, other, "minigrad"):
            ratio = results["minigrad"].median / results[other].median
            return f"{ratio:.2f}x", ratio <= limit
    return "", None


def targets_w6(groups: Groups) -> str:
    """Issue 12's speed targets (W6), as the table above."""
    rows = [
        ("W6 LeNet-5: <= 1.2x numpy", _ratio(groups, "W6", "b64-float32", 1.2)),
        ("W6 LeNet-5: <= 3x torch", _versus(groups, "W6", "b64-float32", "torch", 3.0)),
        ("W6 LeNet-5: faster than MyGrad", _versus(groups, "W6", "b64-float32", "mygrad", 1.0)),
    ]
    lines = [
        "## Issue 12 targets for minigrad",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    lines += [_line(text, measured, passed) for text, (measured, passed) in rows]
    return "\n".join(lines)


def targets_w7(groups: Groups) -> str:
    """Issue 13's speed targets (W7), as the table above."""
    rows = [
        ("W7 LSTM: <= 1.2x numpy", _ratio(groups, "W7", "lstm", 1.2)),
        ("W7 GRU: <= 1.2x numpy", _ratio(groups, "W7", "gru", 1.2)),
        ("W7 LSTM: <= 2x torch", _versus(groups, "W7", "lstm", "torch", 2.0)),
        ("W7 GRU: no slower than torch", _versus(groups, "W7", "gru", "torch", 1.0)),
    ]
    lines = [
        "## Issue 13 targets for minigrad",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
    ]
    lines += [_line(text, measured, passed) for text, (measured, passed) in rows]
    return "\n".join(lines)
