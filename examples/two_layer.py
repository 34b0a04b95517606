"""A two-layer network learns a pattern no single neuron can: the output is 1 when exactly one
of the first two inputs is 1 (XOR; the third input is always 1, a bias in disguise).

    python examples/two_layer.py

3 inputs -> 4 hidden sigmoid units -> 1 sigmoid output, sum-of-squares loss, 1500 full-batch
gradient descent steps. Prints the predictions next to the targets and the falling loss.
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad import losses, nn, optim

X = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=np.float64)
Y = np.array([[0], [1], [1], [0]], dtype=np.float64)


def train_two_layer(iterations: int = 1500, lr: float = 1.0, seed: int = 1):
    """Train from seeded random weights; returns (model, predictions, losses per step)."""
    mg.manual_seed(seed)
    model = nn.Sequential(nn.Linear(3, 4), nn.Sigmoid(), nn.Linear(4, 1), nn.Sigmoid())
    optimizer = optim.SGD(model.parameters(), lr=lr)
    history = []
    for _ in range(iterations):
        loss = losses.sse_loss(model(X), Y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        history.append(loss.item())
    with mg.no_grad():
        predictions = model(X).data[:, 0]
    return model, predictions, history


def main() -> None:
    model, predictions, history = train_two_layer()
    print(model)
    for x, target, p in zip(X, Y[:, 0], predictions):
        print(f"  input {x.astype(int).tolist()}  target {target:.0f}  prediction {p:.3f}")
    marks = [0, 9, 99, 499, 999, len(history) - 1]
    print(
        "loss (sum of squares) at steps " + ", ".join(f"{i + 1}: {history[i]:.4f}" for i in marks)
    )
    print(f"largest miss: {np.max(np.abs(predictions - Y[:, 0])):.3f}")


if __name__ == "__main__":
    main()
