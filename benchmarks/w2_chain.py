"""W2: a chain of N links `y = y * 1.0001 + 0.0001` from one scalar leaf, then backward.

Times are per link (forward and backward). This is pure per-op overhead on single numbers, and
deep: a recursive topological sort fails here (micrograd does, at N = 1,000).
"""

from __future__ import annotations

from harness import Case

SCALE, SHIFT = 1.0001, 0.0001
CHECK_LINKS = 1_000  # the check runs at this depth: the code is the same at every N


def floats_builder(n: int):
    """The floor: the chain on a float, and its derivative by hand (each link scales by SCALE)."""

    def build():
        def step():
            y = 1.0
            for _ in range(n):
                y = y * SCALE + SHIFT
            grad = 1.0
            for _ in range(n):
                grad = grad * SCALE
            return y, grad

        return step

    return build


def values_builder(import_value, n: int):
    """The chain on a scalar Value of the class `import_value()` returns; (y, dy/dx)."""

    def build():
        value_class = import_value()

        def step():
            x = value_class(1.0)
            y = x
            for _ in range(n):
                y = y * SCALE + SHIFT
            y.backward()
            return y.data, x.grad

        return step

    return build


def torch_builder(n: int):
    """The chain on 0-d float64 tensors (float64 to match Python floats)."""

    def build():
        import torch

        def step():
            x = torch.tensor(1.0, dtype=torch.float64, requires_grad=True)
            y = x
            for _ in range(n):
                y = y * SCALE + SHIFT
            y.backward()
            return y.item(), x.grad.item()

        return step

    return build


def _micrograd_value():
    from micrograd.engine import Value

    return Value


def _minigrad_value():
    from minigrad import Value

    return Value


def _builders(n: int) -> dict:
    return {
        "floats": floats_builder(n),
        "minigrad": values_builder(_minigrad_value, n),
        "torch": torch_builder(n),
        "micrograd": values_builder(_micrograd_value, n),
    }


def cases(quick: bool) -> list[Case]:
    """N = 1,000, 100,000 and 1,000,000 (quick: 1,000 and 10,000)."""
    sizes = [1_000, 10_000] if quick else [1_000, 100_000, 1_000_000]
    result = []
    for n in sizes:
        deep = n > CHECK_LINKS
        result.append(
            Case(
                workload="W2",
                key=f"n{n}",
                label=f"N = {n:,}",
                unit="us/link",
                scale=1e6,
                per=n,
                builders=_builders(n),
                check_builders=_builders(CHECK_LINKS) if deep else None,
                check_fraction=min(1.0, CHECK_LINKS / n),
                check_label=f"in the check at N = {CHECK_LINKS:,}" if deep else "",
                rtol=1e-9,
                min_samples={100_000: 3, 1_000_000: 3}.get(n),
                memory_steps=0 if n > 100_000 else 1,  # RSS grows linearly with N
            )
        )
    return result
