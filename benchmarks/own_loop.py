"""W3 as a user's training loop sees it: each implementation alone in a fresh process, a loop of
its own, at one BLAS thread and at the libraries' default thread count.

`python benchmarks/own_loop.py [--batch 512] [--dtype float32] [--rounds 3] [--steps 300]`

`run.py` times implementations in turns inside one long-lived process, whose heap the earlier
workloads have already grown. A user's script is a fresh process running one model. The
difference matters for how memory is got: in a fresh process glibc gives freed memory at the
top of the heap back to the system (its trim threshold), so the next step takes it again and
page-faults it in, page by page. Each row therefore also shows minor page faults per step, and
the same loop with glibc told to keep its memory (MALLOC_TRIM_THRESHOLD_ and
MALLOC_MMAP_THRESHOLD_ set in the child's environment: "no trim").

Importing minigrad does the same for its process (minigrad/allocator.py), so in the rows
"as started" minigrad's children keep their memory and numpy's and torch's do not: that is
what a user's script sees. The "no trim" rows compare all of them with memory kept. Run with
MINIGRAD_MALLOC=default in the environment to see minigrad as it was without that.

Rounds alternate the implementations (numpy, minigrad, minigrad-params, torch, ...), so a busy
machine disturbs them alike; the table gives the median over rounds of each round's median.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
IMPLEMENTATIONS = ["numpy", "minigrad", "minigrad-params", "torch"]
THREAD_VARIABLES = ["OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"]
NO_TRIM = {"MALLOC_TRIM_THRESHOLD_": str(2**30), "MALLOC_MMAP_THRESHOLD_": str(2**30)}


def child(impl: str, batch: int, dtype_name: str, steps: int) -> None:
    """Run `steps` steps of one implementation after a warm-up; print one JSON line."""
    import resource
    import time

    import numpy as np

    sys.path.insert(0, str(HERE))
    import w3_mlp

    problem = w3_mlp.make_problem([64, 128, 128, 10], batch, np.dtype(dtype_name).type)
    builders = w3_mlp._builders(problem)
    step = builders[impl]()
    for _ in range(20):
        step()
    times = []
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    print(json.dumps({"ms": statistics.median(times) * 1e3, "faults": faults / steps}))


def run_child(impl: str, args: argparse.Namespace, threads: str, no_trim: bool) -> dict | None:
    env = dict(os.environ)
    for variable in THREAD_VARIABLES:
        env.pop(variable, None)
        if threads != "default":
            env[variable] = threads
    if no_trim:
        env.update(NO_TRIM)
    command = [sys.executable, __file__, "--child", impl, str(args.batch), args.dtype]
    command.append(str(args.steps))
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(f"  {impl}: failed: {done.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(args: argparse.Namespace) -> dict:
    """{(threads, no_trim, impl): [per-round results]}, rounds alternating implementations."""
    results: dict = {}
    for round_number in range(args.rounds):
        for threads in ("1", "default"):
            for no_trim in (False, True):
                for impl in args.peers:
                    print(
                        f"round {round_number + 1}: threads {threads}, "
                        f"{'no trim' if no_trim else 'as started'}, {impl}",
                        file=sys.stderr,
                    )
                    result = run_child(impl, args, threads, no_trim)
                    if result is not None:
                        results.setdefault((threads, no_trim, impl), []).append(result)
    return results


def table(results: dict, args: argparse.Namespace) -> str:
    lines = [
        f"W3 batch {args.batch} {args.dtype}, each implementation alone in a fresh process, "
        f"{args.steps} steps per round, {args.rounds} rounds",
        "",
        "| threads | malloc | implementation | median ms/step | vs numpy | page faults/step |",
        "|---|---|---|---|---|---|",
    ]
    for threads in ("1", "default"):
        for no_trim in (False, True):
            base = results.get((threads, no_trim, "numpy"))
            base_ms = statistics.median(r["ms"] for r in base) if base else None
            for impl in args.peers:
                rows = results.get((threads, no_trim, impl))
                if not rows:
                    continue
                ms = statistics.median(r["ms"] for r in rows)
                faults = statistics.median(r["faults"] for r in rows)
                ratio = f"{ms / base_ms:.2f}x" if base_ms else ""
                malloc = "no trim" if no_trim else "as started"
                lines.append(
                    f"| {threads} | {malloc} | {impl} | {ms:.3f} | {ratio} | {faults:.0f} |"
                )
    return "\n".join(lines)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        impl, batch, dtype_name, steps = sys.argv[2:6]
        child(impl, int(batch), dtype_name, int(steps))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--peers", default=",".join(IMPLEMENTATIONS))
    args = parser.parse_args()
    args.peers = [p.strip() for p in args.peers.split(",") if p.strip()]
    print(table(measure(args), args))


if __name__ == "__main__":
    main()
