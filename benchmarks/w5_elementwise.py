"""W5: 200 chained cheap elementwise ops on an array of 1,000 floats, a sum, and backward.

The ops cycle through `* 1.0001`, `+ 0.1`, `tanh`, `exp` (values stay within about [0.4, 2.8]).
Times are per op, forward and backward together: this measures per-op overhead on arrays.
"""

from __future__ import annotations

import numpy as np
from harness import Case

OPS = 200
SIZE = 1_000


def make_input(seed: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """The input array, and a fixed random direction to summarise its gradient by."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, size=SIZE), rng.normal(size=SIZE)


def apply_op(y, i: int):
    """The i-th op of the cycle, for anything with * + and tanh/exp methods."""
    kind = i % 4
    if kind == 0:
        return y * 1.0001
    if kind == 1:
        return y + 0.1
    if kind == 2:
        return y.tanh()
    return y.exp()


def numpy_builder(x0, direction):
    """The reference: the same ops in numpy, and their derivatives by hand."""

    def build():
        def step():
            saved = []  # tanh and exp outputs, the only values their derivatives need
            y = x0
            for i in range(OPS):
                kind = i % 4
                if kind == 0:
                    y = y * 1.0001
                elif kind == 1:
                    y = y + 0.1
                elif kind == 2:
                    y = np.tanh(y)
                    saved.append(y)
                else:
                    y = np.exp(y)
                    saved.append(y)
            total = y.sum()
            g = np.ones_like(y)
            for i in reversed(range(OPS)):
                kind = i % 4
                if kind == 0:
                    g = g * 1.0001
                elif kind == 2:
                    g = g * (1 - saved.pop() ** 2)
                elif kind == 3:
                    g = g * saved.pop()
            return total, g @ direction

        return step

    return build


def minigrad_builder(x0, direction):
    """minigrad Values on arrays."""

    def build():
        from minigrad import Value

        def step():
            x = Value(x0)
            y = x
            for i in range(OPS):
                y = apply_op(y, i)
            total = y.sum()
            total.backward()
            return total.data, x.grad @ direction

        return step

    return build


def torch_builder(x0, direction):
    """torch tensors (float64, as the input)."""

    def build():
        import torch

        def step():
            x = torch.from_numpy(x0).requires_grad_()
            y = x
            for i in range(OPS):
                y = apply_op(y, i)
            total = y.sum()
            total.backward()
            return total.item(), x.grad.numpy() @ direction

        return step

    return build


def cases(quick: bool) -> list[Case]:
    """The one W5 case: 200 ops on 1,000 float64s."""
    x0, direction = make_input()
    builders = {
        "numpy": numpy_builder(x0, direction),
        "minigrad": minigrad_builder(x0, direction),
        "torch": torch_builder(x0, direction),
    }
    return [
        Case(
            workload="W5",
            key="ops",
            label=f"{OPS} ops on {SIZE:,} float64",
            unit="us/op",
            scale=1e6,
            per=OPS,
            builders=builders,
            rtol=1e-9,
            memory_steps=20,
        )
    ]
