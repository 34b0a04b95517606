"""W1: micrograd's demo step. MLP 2-16-16-1 of single-number Values on 100 two-moons points.

Loss: SVM hinge `relu(1 - y * score)` averaged, plus 1e-4 times the L2 norm of the parameters;
then backward and an SGD update. Every implementation starts from the same weights.
"""

from __future__ import annotations

import numpy as np
from harness import Case

SIZES = [2, 16, 16, 1]
POINTS = 100
ALPHA = 1e-4
LR = 0.05


def make_moons(n: int = POINTS, noise: float = 0.1, seed: int = 1) -> tuple[list, list]:
    """Two interleaved half circles, as sklearn's make_moons; labels are -1.0 and 1.0."""
    rng = np.random.default_rng(seed)
    top, bottom = n // 2, n - n // 2
    angles_top = np.linspace(0, np.pi, top)
    angles_bottom = np.linspace(0, np.pi, bottom)
    xs = np.concatenate([np.cos(angles_top), 1 - np.cos(angles_bottom)])
    ys = np.concatenate([np.sin(angles_top), 0.5 - np.sin(angles_bottom)])
    points = np.stack([xs, ys], axis=1) + rng.normal(scale=noise, size=(n, 2))
    labels = np.concatenate([-np.ones(top), np.ones(bottom)])
    return points.tolist(), labels.tolist()


def initial_weights(seed: int = 2) -> list[list[tuple[list[float], float]]]:
    """Per layer, per neuron: (weights, bias), as micrograd's init (uniform(-1, 1), bias 0)."""
    rng = np.random.default_rng(seed)
    return [
        [(rng.uniform(-1, 1, size=nin).tolist(), 0.0) for _ in range(nout)]
        for nin, nout in zip(SIZES[:-1], SIZES[1:])
    ]


def floats_builder(points, labels, weights):
    """The floor: plain Python floats, forward and backward written by hand."""

    def build():
        ws = [[list(w) for w, _ in layer] for layer in weights]
        bs = [[b for _, b in layer] for layer in weights]
        last = len(ws) - 1
        inv_n = 1.0 / len(points)

        def step():
            gws = [[[0.0] * len(w) for w in layer] for layer in ws]
            gbs = [[0.0] * len(layer) for layer in bs]
            data_loss = 0.0
            for x, y in zip(points, labels):
                activations = [x]
                a = x
                for i, (layer_w, layer_b) in enumerate(zip(ws, bs)):
                    z = [b + sum(wi * ai for wi, ai in zip(w, a)) for w, b in zip(layer_w, layer_b)]
                    a = z if i == last else [zj if zj > 0 else 0.0 for zj in z]
                    activations.append(a)
                margin = 1.0 - y * a[0]
                if margin <= 0:
                    continue  # relu'(0) = 0: no gradient from this point
                data_loss += margin
                g = [-y * inv_n]
                for i in range(last, -1, -1):
                    inputs, outputs = activations[i], activations[i + 1]
                    if i != last:
                        g = [gj if oj > 0 else 0.0 for gj, oj in zip(g, outputs)]
                    g_inputs = [0.0] * len(inputs)
                    for w, gw, j in zip(ws[i], gws[i], range(len(g))):
                        gj = g[j]
                        if gj == 0.0:
                            continue
                        gbs[i][j] += gj
                        for k, ak in enumerate(inputs):
                            gw[k] += gj * ak
                            g_inputs[k] += gj * w[k]
                    g = g_inputs
            reg_loss = 0.0
            for layer_w, layer_gw, layer_b, layer_gb in zip(ws, gws, bs, gbs):
                for w, gw in zip(layer_w, layer_gw):
                    for k, wk in enumerate(w):
                        reg_loss += wk * wk
                        gw[k] += 2 * ALPHA * wk
                for j, bj in enumerate(layer_b):
                    reg_loss += bj * bj
                    layer_gb[j] += 2 * ALPHA * bj
            for layer_w, layer_gw, layer_b, layer_gb in zip(ws, gws, bs, gbs):
                for w, gw in zip(layer_w, layer_gw):
                    for k in range(len(w)):
                        w[k] -= LR * gw[k]
                for j in range(len(layer_b)):
                    layer_b[j] -= LR * layer_gb[j]
            return (data_loss * inv_n + ALPHA * reg_loss,)

        return step

    return build


def values_builder(import_mlp, points, labels, weights):
    """micrograd's demo code, run with the MLP class that `import_mlp()` returns."""

    def build():
        mlp_class = import_mlp()
        model = mlp_class(SIZES[0], SIZES[1:])
        flat = [v for layer in weights for w, b in layer for v in [*w, b]]
        parameters = model.parameters()
        if len(parameters) != len(flat):
            raise ValueError(f"{len(parameters)} parameters, expected {len(flat)}")
        for p, v in zip(parameters, flat):
            p.data = v

        def step():
            scores = [model(x) for x in points]
            losses = [(1 + -y * score).relu() for y, score in zip(labels, scores)]
            data_loss = sum(losses) * (1.0 / len(losses))
            reg_loss = ALPHA * sum(p * p for p in model.parameters())
            total_loss = data_loss + reg_loss
            model.zero_grad()
            total_loss.backward()
            for p in model.parameters():
                p.data -= LR * p.grad
            return (total_loss.data,)

        return step

    return build


def _micrograd_mlp():
    from micrograd.nn import MLP

    return MLP


def _minigrad_mlp():
    from minigrad.nn import MLP

    return MLP


def cases(quick: bool) -> list[Case]:
    """The one W1 case: floats (reference), micrograd, minigrad."""
    points, labels = make_moons()
    weights = initial_weights()
    builders = {
        "floats": floats_builder(points, labels, weights),
        "micrograd": values_builder(_micrograd_mlp, points, labels, weights),
        "minigrad": values_builder(_minigrad_mlp, points, labels, weights),
    }
    return [
        Case(
            workload="W1",
            key="demo",
            label="MLP 2-16-16-1, 100 points",
            unit="ms/step",
            scale=1e3,
            per=1,
            builders=builders,
            rtol=1e-9,
            budget=4.0,
            memory_steps=1 if quick else 3,
        )
    ]
