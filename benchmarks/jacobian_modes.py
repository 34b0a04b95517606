"""Forward against reverse mode: the Jacobian of f: R^n -> R^m by jacfwd and by jacrev.

    python benchmarks/jacobian_modes.py [--quick]

f(x) = tanh(A x) + 0.1 A x^2 with a random A (m, n), the function of examples/jacobian_modes.py.
jacfwd takes n passes (one jvp per input entry: a column of J each), jacrev m passes (one
backward per output entry: a row each, after one recorded forward). Each size is timed as the
best of several runs, one BLAS thread; the table prints both times, the time per pass, and the
winner: the mode with fewer passes, by about the ratio of the pass counts.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
from pathlib import Path

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # before numpy loads
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import minigrad as mg  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "jacobian_modes.py"
SIZES = [(1000, 10), (10, 1000), (1000, 1), (1, 1000), (100, 100), (30, 30)]
QUICK = [(300, 3), (3, 300), (30, 30)]


def _example():
    spec = importlib.util.spec_from_file_location("jacobian_modes_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def measure(n: int, m: int, repeats: int) -> dict:
    example = _example()
    f, jacobian = example.make_function(n, m)
    x = np.random.default_rng(1).standard_normal(n)
    for mode in (mg.jacfwd, mg.jacrev):  # checked before timing
        np.testing.assert_allclose(mode(f)(x), jacobian(x), rtol=1e-12, atol=1e-14)
    return {
        "n": n,
        "m": m,
        "jacfwd": example.best_time(mg.jacfwd(f), x, repeats),
        "jacrev": example.best_time(mg.jacrev(f), x, repeats),
    }


def table(rows: list[dict]) -> str:
    lines = [
        "| n | m | jacfwd (n passes) | per pass | jacrev (m passes) | per pass | faster |",
        "|---:|---:|---:|---:|---:|---:|:---|",
    ]
    for r in rows:
        fwd, rev = r["jacfwd"], r["jacrev"]
        winner = "jacfwd" if fwd < rev else "jacrev"
        lines.append(
            f"| {r['n']} | {r['m']} | {fwd * 1e3:.1f} ms | {fwd / r['n'] * 1e6:.0f} us "
            f"| {rev * 1e3:.1f} ms | {rev / r['m'] * 1e6:.0f} us "
            f"| {winner}, {max(fwd, rev) / min(fwd, rev):.1f}x |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="three small sizes")
    args = parser.parse_args(argv)
    sizes, repeats = (QUICK, 2) if args.quick else (SIZES, 5)
    rows = []
    for n, m in sizes:
        print(f"n = {n}, m = {m} ...", file=sys.stderr)
        rows.append(measure(n, m, repeats))
    print(
        "Jacobian of f: R^n -> R^m, f(x) = tanh(A x) + 0.1 A x^2 (best of "
        f"{repeats} runs, one thread)\n"
    )
    print(table(rows))


if __name__ == "__main__":
    main()
