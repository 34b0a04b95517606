"""Predict a tree's age from its width and length: the first lesson, number by number.

    python examples/tree_age.py

A 2-2-1 network with identity activations (see `minigrad.lessons` for which weight is which).
Part 1 does one feedforward, loss, backpropagation and SGD step by hand on one tree and prints
every figure of the lesson. Part 2 trains the same network on a small table of trees until the
loss stops falling by more than a threshold.
"""

from __future__ import annotations

from minigrad import losses, optim, train
from minigrad.lessons import tree_age_lesson, tree_age_network, trees


def one_step(lr: float = 0.02) -> dict:
    """Part 1: the lesson's figures for the tree of width 5, length 7, age 5."""
    return tree_age_lesson(width=5.0, length=7.0, age=5.0, lr=lr)


def train_on_table(
    lr: float = 0.003, min_delta: float = 1e-5, epochs: int = 5000, verbose: bool = False
):
    """Part 2: full-batch SGD on the table until the loss stops falling by more than
    `min_delta` (for 3 epochs in a row). Returns (model, history)."""
    X, y = trees()
    model = tree_age_network()
    history = train.fit(
        model,
        losses.mse_loss,
        optim.SGD(model.parameters(), lr=lr),
        X,
        y,
        epochs=epochs,
        batch_size=None,
        min_delta=min_delta,
        patience=3,
        metrics=None,
        verbose=verbose,
    )
    return model, history


def main() -> None:
    f = one_step()
    print(
        "One tree: width 5, length 7, true age 5; weights w1..w6 = "
        "0.1375, 0.4, 0.95, 0.9, 1.0, 0.25; biases 0"
    )
    print(f"  feedforward: prediction          = {f['prediction']:.4f}")
    print(f"  loss: MSE (prediction - 5)^2     = {f['loss']:.4f}")
    print(f"  dL/dprediction = 2 (6.25 - 5)    = {f['dL/dprediction']:.4f}")
    print(f"  dL/dw1 = 2.5 * w5 * x1           = {f['dL/dw1']:.4f}")
    print(f"  SGD, lr 0.02: w1 = 0.1375 - 0.02 * 12.5 = {f['w1']:.4f}")
    print(
        f"  next prediction (all weights stepped)   = {f['next_prediction']:.4f}"
        "   (overshoot: 0.02 is too large for raw inputs)"
    )

    print("\nA table of trees, full-batch SGD with lr 0.003 until the loss stops improving:")
    model, history = train_on_table(verbose=True)
    print(
        f"  loss {history.train_loss[0]:.4f} -> {history.train_loss[-1]:.4f} after "
        f"{history.epochs} epochs (stopped: {history.stop_reason})"
    )
    X, y = trees()
    pred = model(X).data
    for (width, length), age, p in zip(X, y[:, 0], pred[:, 0]):
        print(f"  width {width:4.1f}  length {length:4.1f}  age {age:4.1f}  predicted {p:5.2f}")


if __name__ == "__main__":
    main()
