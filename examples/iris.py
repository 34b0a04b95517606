"""Classify iris flowers (3 species) from 4 measurements.

    python examples/iris.py

4-8-3 network (ReLU hidden layer), cross-entropy loss, Adam with learning rate 0.0005, 200
epochs of minibatches of 5, standardized features, a stratified 70/30 train/test split.
Prints the held-out accuracy (at least 0.93).
"""

from __future__ import annotations

import minigrad as mg
from minigrad import data, losses, nn, optim, train


def train_iris(epochs: int = 200, seed: int = 1, verbose: bool = False):
    """Returns (model, history, test accuracy)."""
    mg.manual_seed(seed)
    X, y = data.load_iris()
    X_train, X_test, y_train, y_test = data.train_test_split(
        X, y, test_size=0.3, rng=seed, stratify=y
    )
    X_train, X_test = data.standardize(X_train, X_test)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    history = train.fit(
        model,
        losses.cross_entropy,
        optim.Adam(model.parameters(), lr=0.0005),
        X_train,
        y_train,
        epochs=epochs,
        batch_size=5,
        rng=seed,
        verbose=verbose,
    )
    test = train.evaluate(model, losses.cross_entropy, X_test, y_test)
    return model, history, test["accuracy"]


def main() -> None:
    model, history, test_accuracy = train_iris(verbose=True)
    print(model)
    print(
        f"train loss {history.train_loss[0]:.3f} -> {history.train_loss[-1]:.3f}, "
        f"train accuracy {history.train_accuracy[-1]:.3f}"
    )
    print(f"held-out accuracy (45 flowers never seen in training): {test_accuracy:.3f}")


if __name__ == "__main__":
    main()
