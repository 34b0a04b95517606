"""Why deep sigmoid networks stopped learning: the gradient, layer by layer, in numbers.

    python examples/vanishing_gradients.py            # the table
    python examples/vanishing_gradients.py --plot     # and a picture (needs matplotlib)

Two 10-layer MLPs, the same in everything (width 32, He-normal weights, zero biases, the same
batch and mean-squared-error loss) but the activation: sigmoid in one, ReLU in the other. A
backward hook on every Linear layer records the norm of the gradient reaching the layer's output
(`register_full_backward_hook`), and each layer's weight gradient is read from `.grad`.

The chain rule multiplies one factor per layer. Sigmoid's slope is s(1 - s) <= 1/4 (and much
less where it saturates), so the gradient shrinks several times per layer on its way back, and
the first layers of the sigmoid net get gradients many orders of magnitude smaller than the
last: they barely move. ReLU's slope is exactly 1 wherever a unit is on, so with a matching
initialization the gradient keeps its size through all ten layers.
"""

from __future__ import annotations

import argparse

import numpy as np

from minigrad import Value, losses, nn

DEPTH = 10
WIDTH = 32


def mlp(activation: type, depth: int = DEPTH, width: int = WIDTH, seed: int = 0) -> nn.Sequential:
    """depth x (Linear(width, width), activation), then Linear(width, 1); He-normal weights."""
    rng = np.random.default_rng(seed)
    layers: list = []
    for _ in range(depth):
        layer = nn.Linear(width, width, rng=rng, init=nn.init.kaiming_normal)
        layers += [layer, activation()]
    layers.append(nn.Linear(width, 1, rng=rng, init=nn.init.kaiming_normal))
    return nn.Sequential(*layers)


def gradient_norms(model: nn.Sequential, x: np.ndarray, y: np.ndarray) -> dict[str, list]:
    """One backward pass of the MSE loss. For each hidden Linear layer (input side first):
    'weight' = |dL/dW|, 'reaching' = |dL/d(layer output)| seen by a backward hook."""
    hidden = [m for m in model if isinstance(m, nn.Linear)][:-1]
    reaching = {}
    handles = [
        layer.register_full_backward_hook(
            lambda m, grad_in, grad_out, k=k: reaching.__setitem__(k, np.linalg.norm(grad_out[0]))
        )
        for k, layer in enumerate(hidden)
    ]
    model.zero_grad()
    losses.mse_loss(model(Value(x)), y).backward()
    for handle in handles:
        handle.remove()
    return {
        "weight": [float(np.linalg.norm(layer.weight.grad)) for layer in hidden],
        "reaching": [float(reaching[k]) for k in range(len(hidden))],
    }


def compare(depth: int = DEPTH, width: int = WIDTH, batch: int = 64, seed: int = 0) -> dict:
    """The gradient norms of the sigmoid and the ReLU network on the same batch."""
    rng = np.random.default_rng(seed + 1)
    x = rng.standard_normal((batch, width))
    y = rng.standard_normal((batch, 1))
    return {
        name: gradient_norms(mlp(activation, depth, width, seed), x, y)
        for name, activation in (("sigmoid", nn.Sigmoid), ("relu", nn.ReLU))
    }


def table(norms: dict) -> str:
    """One row per layer: the weight gradients' norms, then the norms reaching the outputs."""
    sig, relu = norms["sigmoid"], norms["relu"]
    rows = ["layer   |dL/dW| sigmoid   |dL/dW| relu   gradient reaching the layer: sigmoid   relu"]
    for k in range(len(sig["weight"])):
        rows.append(
            f"{k + 1:5d}   {sig['weight'][k]:15.3e}   {relu['weight'][k]:12.3e}"
            f"   {sig['reaching'][k]:36.3e}   {relu['reaching'][k]:.3e}"
        )
    return "\n".join(rows)


def plot(norms: dict, path: str = "vanishing_gradients.png") -> None:
    """The weight-gradient norms per layer on a log scale, saved to `path` (needs the plot
    extra: pip install minigrad[plot])."""
    from minigrad.plot import require_matplotlib

    fig = require_matplotlib()(figsize=(6, 3.5))
    ax = fig.subplots()
    layers = np.arange(1, len(norms["relu"]["weight"]) + 1)
    for name, marker in (("sigmoid", "o"), ("relu", "s")):
        ax.semilogy(layers, norms[name]["weight"], marker=marker, label=name)
    ax.set_xlabel("layer (1 = nearest the input)")
    ax.set_ylabel("|dL/dW|")
    ax.set_title(f"Gradient norm per layer, {len(layers)}-layer MLP")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--plot",
        nargs="?",
        const="vanishing_gradients.png",
        metavar="PNG",
        help="also draw the norms into this picture (default vanishing_gradients.png)",
    )
    args = parser.parse_args(argv)
    norms = compare()
    print(table(norms))
    for name in ("sigmoid", "relu"):
        w = norms[name]["weight"]
        print(f"{name}: the first layer's weight gradient is {w[0] / w[-1]:.1e} times the last's")
    print("sigmoid's slope is at most 1/4: the chain rule shrinks its gradient at every layer")
    if args.plot is not None:
        plot(norms, args.plot)


if __name__ == "__main__":
    main()
