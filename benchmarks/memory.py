"""Peak memory (RSS) of one workload case and implementation, each in a fresh process.

As a script (the child): `python memory.py WORKLOAD KEY IMPL STEPS [--quick] [--flat A,B]`
builds the case, runs STEPS steps and prints one JSON line. The parent side is `measure` and
`measure_flat`.

The peak is read from /proc/self/status (VmHWM), not getrusage: ru_maxrss survives execve, so
a child forked from a large parent would report the parent's size.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _status_mb(field: str) -> float | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def current_rss_mb() -> float | None:
    """Resident memory now, in MB (psutil if /proc is missing and psutil is installed)."""
    rss = _status_mb("VmRSS")
    if rss is None:
        try:
            import psutil
        except ImportError:
            return None
        rss = psutil.Process().memory_info().rss / 2**20
    return rss


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MB."""
    peak = _status_mb("VmHWM")
    if peak is None:  # no /proc: ru_maxrss is in kB on Linux, bytes on macOS
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        peak = peak / 2**20 if sys.platform == "darwin" else peak / 1024
    return peak


def _child(argv: list[str]) -> dict:
    import workloads
    from harness import REPO_ROOT, describe_error

    sys.path.insert(0, str(REPO_ROOT))
    workload, key, name, steps = argv[:4]
    quick = "--quick" in argv
    flat = [int(s) for s in argv[argv.index("--flat") + 1].split(",")] if "--flat" in argv else []
    case = next(c for c in workloads.WORKLOADS[workload](quick) if c.key == key)
    start = current_rss_mb()
    try:
        step = case.builders[name]()
        setup = current_rss_mb()
        marks = {}
        for i in range(1, int(steps) + 1):
            step()
            if i in flat:
                marks[i] = current_rss_mb()
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return {"error": describe_error(exc)}
    peak = peak_rss_mb()
    result = {"start_mb": start, "setup_mb": setup, "peak_mb": peak}
    if setup is not None:
        result["growth_mb"] = peak - setup
    if flat:
        result["marks_mb"] = {str(k): v for k, v in marks.items()}
    return result


def _run(args: list[str], quick: bool, timeout: float) -> dict:
    command = [sys.executable, str(HERE / "memory.py"), *args] + (["--quick"] if quick else [])
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"error": f"child exited with {done.returncode}: {last}"}
    return json.loads(lines[-1])


def measure(case, name: str, quick: bool, timeout: float = 300) -> dict:
    """Peak RSS of `case.memory_steps` steps of one implementation, in its own process."""
    args = [case.workload, case.key, name, str(case.memory_steps)]
    return _run(args, quick, timeout)


def measure_flat(case, name: str, marks: tuple[int, int], quick: bool) -> dict:
    """RSS after step marks[0] and after step marks[1], in a fresh process."""
    args = [case.workload, case.key, name, str(marks[1]), "--flat", f"{marks[0]},{marks[1]}"]
    return _run(args, quick, timeout=600)


if __name__ == "__main__":
    print(json.dumps(_child(sys.argv[1:])))
