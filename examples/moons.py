"""micrograd's classic demo: a 2-16-16-1 network of single-number Values separates two moons.

    python examples/moons.py

Every weight is its own scalar Value (337 of them), exactly as in micrograd's demo notebook:
an SVM-style hinge loss max(0, 1 - y * score) on labels -1/+1, plus L2 regularization 1e-4 *
sum(w**2), and full-batch SGD whose learning rate decays linearly from 1.0 to 0.1 over 100
steps. Prints the training accuracy as it goes (it ends at or above 0.97).
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad import data, losses, nn, optim


def accuracy(scores: list, y: np.ndarray) -> float:
    """Fraction of points on the right side: sign(score) == label."""
    return float(np.mean([(s.data > 0) == (yi > 0) for s, yi in zip(scores, y)]))


def train_moons(
    steps: int = 100, n: int = 100, seed: int = 1, alpha: float = 1e-4, verbose: bool = False
):
    """Returns (model, list of (loss, training accuracy) per step). The learning rate decays
    from 1.0 to 0.1 over the `steps` steps (micrograd's 1.0 - 0.9 k / 100 for 100 steps)."""
    mg.manual_seed(seed)
    X, y = data.make_moons(n, noise=0.1, seed=seed)
    y = 2.0 * y - 1.0  # labels -1 / +1 for the hinge loss
    inputs = X.tolist()
    model = nn.MLP(2, [16, 16, 1])  # ReLU hidden layers, linear output
    optimizer = optim.SGD(model.parameters(), lr=1.0)
    schedule = optim.LinearLR(optimizer, start_factor=1.0, end_factor=0.1, total_iters=steps)
    trace = []
    for k in range(steps):
        scores = [model(x) for x in inputs]  # one Value per point
        loss = losses.hinge_loss(scores, y) + alpha * losses.l2_penalty(model)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        schedule.step()
        trace.append((loss.item(), accuracy(scores, y)))
        if verbose:
            print(f"step {k:3d}  loss {trace[-1][0]:.4f}  accuracy {trace[-1][1]:.0%}")
    return model, trace


def main() -> None:
    model, trace = train_moons(verbose=True)
    print(f"{len(model.parameters())} parameters; final training accuracy {trace[-1][1]:.2f}")


if __name__ == "__main__":
    main()
