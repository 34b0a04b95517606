"""Running test code in a fresh Python: for runs that could crash the interpreter, or that
measure the memory of a process of their own."""

import json
import os
import subprocess
import sys
import textwrap


def run_child(code: str, timeout: float, cwd: str | os.PathLike | None = None) -> dict:
    """Run `code` in a fresh Python; it prints one JSON line last, which is returned."""
    # One BLAS thread: on a busy machine OpenBLAS's spinning worker threads make each small
    # matmul ~20x slower, and these children measure memory, not BLAS parallelism.
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
        cwd=cwd,
    )
    assert proc.returncode == 0, (
        f"child Python failed with code {proc.returncode}\n{proc.stdout[-2000:]}\n"
        f"{proc.stderr[-4000:]}"
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])
