"""Recognize handwritten digits (8x8 images, 1797 of them) with an array MLP.

    python examples/digits.py

64-128-10 network (ReLU), float32 end to end, cross-entropy, Adam (learning rate 0.001),
minibatches of 32, a stratified 75/25 train/test split, pixels scaled to [0, 1]. Prints the
held-out accuracy (at least 0.96).
"""

from __future__ import annotations

import numpy as np

import minigrad as mg
from minigrad import data, losses, nn, optim, train


def train_digits(epochs: int = 40, seed: int = 0, verbose: bool = False):
    """Returns (model, history, test accuracy)."""
    mg.manual_seed(seed)
    X, y = data.load_digits()
    X = (X / 16.0).astype(np.float32)  # ink 0..16 -> 0..1
    X_train, X_test, y_train, y_test = data.train_test_split(
        X, y, test_size=0.25, rng=seed, stratify=y
    )
    model = nn.Sequential(
        nn.Linear(64, 128, dtype=np.float32), nn.ReLU(), nn.Linear(128, 10, dtype=np.float32)
    )
    history = train.fit(
        model,
        losses.cross_entropy,
        optim.Adam(model.parameters(), lr=1e-3),
        X_train,
        y_train,
        epochs=epochs,
        batch_size=32,
        rng=seed,
        verbose=verbose,
    )
    test = train.evaluate(model, losses.cross_entropy, X_test, y_test)
    return model, history, test["accuracy"]


def main() -> None:
    model, history, test_accuracy = train_digits(verbose=True)
    print(model)
    print(
        f"train loss {history.train_loss[0]:.3f} -> {history.train_loss[-1]:.3f}, "
        f"train accuracy {history.train_accuracy[-1]:.3f}"
    )
    print(f"held-out accuracy ({450} images never seen in training): {test_accuracy:.3f}")


if __name__ == "__main__":
    main()
