"""Forward or reverse mode? The Jacobian of f: R^n -> R^m both ways, and which one wins where.

    python examples/jacobian_modes.py

The Jacobian J (m rows, n columns) can be built two ways:

- forward mode (`mg.jacfwd`): one `jvp` per input direction e_k gives the column J e_k, so
  n passes, each carrying a tangent forward alongside the values;
- reverse mode (`mg.jacrev`): one backward pass per output entry e_i gives the row e_i^T J,
  so m passes (after one forward pass that records the graph).

A pass of either kind costs about the same (a few times one evaluation of f), so the count of
passes decides: reverse mode wins when there are few outputs (m << n, as for a loss, one number
from millions of parameters: the reason deep learning trains with backpropagation), forward
mode when there are few inputs (n << m, as for a curve t -> f(t) or a sensitivity with respect
to a handful of parameters). The example checks that both give the same Jacobian as the formula
and times them on three shapes.
"""

from __future__ import annotations

import time

import numpy as np

import minigrad as mg


def make_function(n: int, m: int, seed: int = 0):
    """f(x) = tanh(A x) + 0.1 A (x * x) for a random A (m, n), and its Jacobian by hand:
    J = diag(1 - tanh(A x)**2) A + 0.2 A diag(x)."""
    a = np.random.default_rng(seed).standard_normal((m, n)) / np.sqrt(n)

    def f(x):
        return mg.tanh(mg.matmul(a, x)) + 0.1 * mg.matmul(a, x * x)

    def jacobian(x):
        return (1.0 - np.tanh(a @ x) ** 2)[:, None] * a + 0.2 * a * x[None, :]

    return f, jacobian


def best_time(fn, x, repeats: int = 3) -> float:
    """The fastest of `repeats` runs of fn(x), in seconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - start)
    return min(times)


def compare(n: int, m: int, repeats: int = 3, seed: int = 0) -> dict:
    """Both Jacobians of the n -> m function, checked against the formula, and their times."""
    f, jacobian = make_function(n, m, seed)
    x = np.random.default_rng(seed + 1).standard_normal(n)
    forward, reverse = mg.jacfwd(f)(x), mg.jacrev(f)(x)
    expected = jacobian(x)
    np.testing.assert_allclose(forward, expected, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(reverse, expected, rtol=1e-12, atol=1e-14)
    return {
        "n": n,
        "m": m,
        "jacfwd": best_time(mg.jacfwd(f), x, repeats),
        "jacrev": best_time(mg.jacrev(f), x, repeats),
    }


def table(rows: list[dict]) -> str:
    lines = [
        "    n      m   jacfwd: n passes        jacrev: m passes        faster",
        "-----  -----   ---------------------   ---------------------   ----------------",
    ]
    for r in rows:
        fwd, rev = r["jacfwd"], r["jacrev"]
        winner = "jacfwd" if fwd < rev else "jacrev"
        ratio = max(fwd, rev) / min(fwd, rev)
        lines.append(
            f"{r['n']:5d}  {r['m']:5d}   {fwd * 1e3:8.1f} ms ({r['n']:4d} x)"
            f"   {rev * 1e3:8.1f} ms ({r['m']:4d} x)   {winner}, {ratio:.1f}x"
        )
    return "\n".join(lines)


def main() -> None:
    rows = [compare(n, m) for n, m in ((300, 3), (3, 300), (40, 40))]
    print("The Jacobian of f: R^n -> R^m, f(x) = tanh(A x) + 0.1 A x^2 (both equal the formula)")
    print(table(rows))
    print(
        "Few outputs (m << n): reverse mode, one backward pass per output.\n"
        "Few inputs (n << m): forward mode, one jvp per input.\n"
        "Square: about even; reverse mode's single recorded forward saves it a little."
    )


if __name__ == "__main__":
    main()
