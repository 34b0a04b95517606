"""The classic first lesson, ready to import: predicting a tree's age from its width and length.

The network has 2 inputs (x1 = width, x2 = length), 2 hidden neurons and 1 output, all with the
identity activation and zero biases, and six weights:

    h1 = w1 * x1 + w2 * x2          (w1 = 0.1375, w2 = 0.4)
    h2 = w3 * x1 + w4 * x2          (w3 = 0.95,   w4 = 0.9)
    prediction = w5 * h1 + w6 * h2  (w5 = 1.0,    w6 = 0.25)

For a tree of width 5 and length 7 (true age 5): h1 = 3.4875, h2 = 11.05, prediction 6.25;
MSE (6.25 - 5)**2 = 1.5625; dL/dprediction = 2 (6.25 - 5) = 2.5;
dL/dw1 = dL/dprediction * w5 * x1 = 2.5 * 1.0 * 5 = 12.5; one SGD step with learning rate 0.02
moves w1 to 0.1375 - 0.02 * 12.5 = -0.1125 (and every other weight and bias likewise), and the
next prediction is -3.33: a step that large overshoots, the lesson about learning rates.

>>> lesson = tree_age_lesson()
>>> lesson["prediction"], lesson["loss"], lesson["dL/dw1"]
(6.25, 1.5625, 12.5)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad.losses import mse_loss
from minigrad.nn.neurons import MLP
from minigrad.optim import SGD

__all__ = [
    "TREE_AGE_WEIGHTS",
    "TREES",
    "lesson_weights",
    "tree_age_network",
    "tree_age_lesson",
    "trees",
]

#: (w1, w2, w3, w4, w5, w6) of the lesson, in the order described above.
TREE_AGE_WEIGHTS = (0.1375, 0.4, 0.95, 0.9, 1.0, 0.25)

#: A small table of trees: (width, length, age in years). Age grows with both measurements,
#: roughly age = 0.5 width + 0.35 length, with the irregularity of real trees.
TREES = (
    (5.0, 7.0, 5.0),
    (3.0, 4.0, 3.0),
    (8.0, 10.0, 8.0),
    (2.0, 3.0, 2.0),
    (6.0, 9.0, 6.0),
    (10.0, 12.0, 9.0),
    (4.0, 6.0, 4.0),
    (7.0, 8.0, 6.0),
)


def trees() -> tuple[np.ndarray, np.ndarray]:
    """TREES as arrays: X of shape (8, 2) (width, length) and ages y of shape (8, 1)."""
    table = np.array(TREES, dtype=np.float64)
    return table[:, :2], table[:, 2:]


def lesson_weights(model: MLP) -> list:
    """w1..w6 of the lesson's 2-2-1 network, in the lesson's order: h1 = w1 x1 + w2 x2,
    h2 = w3 x1 + w4 x2, prediction = w5 h1 + w6 h2."""
    hidden, output = model.layers[0].neurons, model.layers[1].neurons[0]
    return [hidden[0].w[0], hidden[0].w[1], hidden[1].w[0], hidden[1].w[1], *output.w]


def tree_age_network(weights: tuple[float, ...] = TREE_AGE_WEIGHTS) -> MLP:
    """The 2-2-1 identity-activation network of the lesson, with the given w1..w6 and zero
    biases. Weights are labelled 'w1'..'w6' and biases 'b1', 'b2' (hidden), 'b3' (output), so
    a drawn graph reads like the textbook figure."""
    if len(weights) != 6:
        raise ValueError(f"tree_age_network: expected 6 weights w1..w6, got {len(weights)}")
    model = MLP(2, [2, 1], activation="identity")
    for i, (param, value) in enumerate(zip(lesson_weights(model), weights), start=1):
        param.data, param.label = float(value), f"w{i}"
    hidden, output = model.layers[0].neurons, model.layers[1].neurons[0]
    for i, neuron in enumerate([*hidden, output], start=1):
        neuron.b.data, neuron.b.label = 0.0, f"b{i}"
    return model


def tree_age_lesson(
    width: float = 5.0, length: float = 7.0, age: float = 5.0, lr: float = 0.02
) -> dict[str, Any]:
    """Feedforward, loss, backpropagation and one SGD step on one tree, with every number.

    Returns a dict: 'prediction', 'loss' (MSE), 'dL/dprediction', 'dL/dw1', 'w1' (after the
    step), 'next_prediction', and 'model' (the network after the step).
    """
    model = tree_age_network()
    prediction = model([width, length])
    loss = mse_loss(prediction, age)
    loss.backward()
    w1 = model.layers[0].neurons[0].w[0]
    figures = {
        "prediction": prediction.data,
        "loss": loss.data,
        "dL/dprediction": prediction.grad,
        "dL/dw1": w1.grad,
    }
    SGD(model.parameters(), lr=lr).step()
    figures["w1"] = w1.data
    figures["next_prediction"] = model([width, length]).data
    figures["model"] = model
    return figures
