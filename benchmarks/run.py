"""Run the benchmarks: `python benchmarks/run.py [--quick] [--only W1,W3] [--peers ...]`.

Each workload case checks every implementation against the hand-written reference, times them
round-robin in this process, then measures peak RSS of each in its own process. Progress goes to
stderr, the markdown report to stdout. See README.md in this folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import memory  # these modules do not import numpy: threads are limited before it loads
import report
import targets
from harness import REPO_ROOT, time_case

ALL_WORKLOADS = ["W1", "W2", "W3", "W4", "W5", "W6", "W7"]
# minigrad-params: W3 and W4 with `loss.backward(inputs=parameters)` (no intermediates' .grad)
ALL_PEERS = ["minigrad", "minigrad-params", "numpy", "torch", "micrograd", "mygrad"]
FLAT_MARKS = (100, 1000)
THREAD_VARIABLES = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples and sizes (< 1 min)")
    parser.add_argument("--only", default=",".join(ALL_WORKLOADS), help="e.g. W1,W3")
    parser.add_argument(
        "--peers", default=",".join(ALL_PEERS), help="implementations besides the reference"
    )
    parser.add_argument(
        "--threads",
        default="1",
        help="threads for BLAS and torch (default 1; 'default' leaves the libraries' choice)",
    )
    parser.add_argument("--no-memory", action="store_true", help="skip the RSS measurements")
    args = parser.parse_args(argv)
    args.only = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    args.peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    unknown = sorted(set(args.only) - set(ALL_WORKLOADS))
    if unknown:
        parser.error(f"unknown workloads {unknown}; choose from {ALL_WORKLOADS}")
    return args


def limit_threads(threads: str) -> str:
    """Pin BLAS and torch to `threads` before numpy loads; return a description.

    Two thread pools taking turns on few cores spin against each other: on a 2-core machine
    torch ran 2x slower right after a numpy sample. One thread each keeps the turns independent
    and measures what this is about, per-op overhead.
    """
    if threads == "default":
        return "library defaults"
    for variable in THREAD_VARIABLES:
        os.environ[variable] = threads
    return threads


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure_memory(groups: dict, quick: bool) -> tuple[dict, object]:
    """Peak RSS of every implementation that passed its check, each in a fresh process.

    W3 batch 512 float32 runs 1,000 steps instead, giving its peak and the flat-memory check.
    The quick run measures that case only.
    """
    flat, flat_case = {}, None
    for workload, cases in groups.items():
        for case, results in cases:
            is_flat_case = case.workload == "W3" and case.key == "b512-float32"
            if not case.memory_steps or (quick and not is_flat_case):
                continue
            flat_case = case if is_flat_case else flat_case
            for name, result in results.items():
                if not result.ok:
                    continue
                log(f"{workload} {case.label}: memory of {name}")
                if is_flat_case:
                    result.memory = flat[name] = memory.measure_flat(case, name, FLAT_MARKS, quick)
                else:
                    result.memory = memory.measure(case, name, quick)
    return flat, flat_case


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    threads = limit_threads(args.threads)
    sys.path.insert(0, str(REPO_ROOT))  # benchmark this checkout's minigrad
    import workloads  # loads numpy

    began = time.perf_counter()
    groups = {}
    for workload in args.only:
        groups[workload] = []
        for case in workloads.WORKLOADS[workload](args.quick):
            names = [n for n in case.builders if n == case.reference or n in args.peers]
            log(f"{workload} {case.label}: timing {', '.join(names)}")
            results = time_case(case, names, args.quick)
            for result in results.values():
                shown = (
                    f"{result.median * case.scale:.4g} {case.unit}" if result.ok else result.status
                )
                log(f"    {result.name}: {shown}")
            groups[workload].append((case, results))

    flat, flat_case = {}, None
    if not args.no_memory:
        flat, flat_case = measure_memory(groups, args.quick)

    print(report.header(threads, args.quick))
    for workload, cases in groups.items():
        print()
        print(report.table(workloads.TITLES[workload], cases))
    if flat_case is not None:
        print()
        print(report.flat_table(flat_case, flat, FLAT_MARKS))
    if note := report.busy_note(groups):
        print()
        print(note)
    if "minigrad" in args.peers:
        print()
        print(targets.targets(groups, flat, FLAT_MARKS))
        if "W6" in groups:
            print()
            print(targets.targets_w6(groups))
        if "W7" in groups:
            print()
            print(targets.targets_w7(groups))
    print()
    print(f"Run took {time.perf_counter() - began:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
