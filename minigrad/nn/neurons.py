"""Networks at single-number granularity: `Neuron`, `Layer`, `MLP`, as micrograd has them.

Every weight and bias is its own scalar `Value`, so a drawn graph shows each one and each
gradient can be read off by hand. A neuron computes

    out = activation(b + w_1 x_1 + ... + w_n x_n)          (forward)
    d out / d w_i = activation'(.) * x_i,  d out / d b = activation'(.)   (gradient)

The code is micrograd-compatible: `Neuron(nin, nonlin=True)`, `Layer(nin, nout)`,
`MLP(nin, nouts)` with ReLU hidden layers and a linear last layer, called on a list of numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from minigrad.nn.module import Module
from minigrad.ops import stack
from minigrad.random import RandomLike, get_generator
from minigrad.value import Value

ACTIVATIONS = ("relu", "tanh", "sigmoid", "identity")


def _check_activation(activation: str) -> str:
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {', '.join(map(repr, ACTIVATIONS))}, got {activation!r}"
        )
    return activation


def _check_count(what: str, n: Any) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"{what} must be a positive integer, got {n!r}")
    return int(n)


def _weight_rows(nin: int, nout: int, init: Callable | None, rng: RandomLike) -> list[list]:
    """Initial weights as nout rows of nin floats.

    micrograd's choice by default: uniform on [-1, 1]. `init` is one of `minigrad.nn.init`'s
    functions (fan_in = nin, fan_out = nout)."""
    if init is None:
        return get_generator(rng).uniform(-1.0, 1.0, size=(nout, nin)).tolist()
    holder = Value(np.zeros((nout, nin)), requires_grad=False)
    init(holder, rng=rng)
    return holder.data.tolist()


class Neuron(Module):
    """One neuron: out = activation(w . x + b), each weight a scalar Value.

    `nonlin=True` (micrograd's flag) means ReLU, `nonlin=False` identity; `activation=` names
    one of 'relu', 'tanh', 'sigmoid', 'identity' and takes precedence.

    >>> n = Neuron(2, activation='identity')
    >>> n.w[0].data, n.w[1].data, n.b.data = 2.0, -1.0, 0.5
    >>> n([3.0, 4.0]).data   # 0.5 + 2*3 - 1*4
    2.5
    """

    def __init__(
        self,
        nin: int,
        nonlin: bool = True,
        activation: str | None = None,
        init: Callable | None = None,
        rng: RandomLike = None,
        _weights: Sequence[float] | None = None,
    ) -> None:
        super().__init__()
        nin = _check_count("nin", nin)
        if _weights is None:
            _weights = _weight_rows(nin, 1, init, rng)[0]
        self.w = [Value(wi, label=f"w{i}") for i, wi in enumerate(_weights)]
        self.b = Value(0.0, label="b")
        self.activation = _check_activation(
            activation if activation is not None else ("relu" if nonlin else "identity")
        )
        self.nonlin = self.activation != "identity"

    def forward(self, x: Sequence[Any]) -> Value:
        if isinstance(x, np.ndarray):
            x = x.tolist()
        if len(x) != len(self.w):
            raise ValueError(f"Neuron expects {len(self.w)} inputs, got {len(x)}")
        # Start from the bias: no constant 0 node, one add per input.
        act = self.b
        for wi, xi in zip(self.w, x):
            act = act + wi * xi
        name = self.activation
        if name == "relu":
            return act.relu()
        if name == "tanh":
            return act.tanh()
        if name == "sigmoid":
            return act.sigmoid()
        return act

    def parameters(self) -> list[Value]:
        return [*self.w, self.b]

    def extra_repr(self) -> str:
        return f"{len(self.w)}, activation={self.activation!r}"


class Layer(Module):
    """`nout` neurons, each connected to all `nin` inputs.

    Called on a list of `nin` numbers/Values: one neuron gives a Value, several a list.
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        nonlin: bool = True,
        activation: str | None = None,
        init: Callable | None = None,
        rng: RandomLike = None,
    ) -> None:
        super().__init__()
        nin, nout = _check_count("nin", nin), _check_count("nout", nout)
        rows = _weight_rows(nin, nout, init, rng)
        self.neurons = [
            Neuron(nin, nonlin=nonlin, activation=activation, _weights=row) for row in rows
        ]

    def forward(self, x: Sequence[Any]) -> Value | list[Value]:
        if isinstance(x, np.ndarray):
            x = x.tolist()
        outs = [n(x) for n in self.neurons]
        return outs[0] if len(outs) == 1 else outs

    def parameters(self) -> list[Value]:
        return [p for n in self.neurons for p in n.parameters()]

    def extra_repr(self) -> str:
        n = self.neurons[0]
        return f"{len(n.w)}, {len(self.neurons)}, activation={n.activation!r}"

    def __repr__(self) -> str:
        return f"Layer({self.extra_repr()})"  # one line, not one per neuron


class MLP(Module):
    """A multi-layer perceptron of scalar neurons: sizes nin -> nouts[0] -> ... -> nouts[-1].

    Hidden layers use `activation` (ReLU by default), the last layer `output_activation`
    (identity by default: a linear output, as in micrograd).

    Called on one sample (a list of nin numbers): a Value for one output, else a list.
    Called on a 2-d numpy array of samples (n, nin): a Value of shape (n, nout), so the model
    also works with `minigrad.train.fit` and the array losses.

    >>> model = MLP(2, [16, 16, 1])
    >>> len(model.parameters())   # (2*16 + 16) + (16*16 + 16) + (16 + 1)
    337
    """

    def __init__(
        self,
        nin: int,
        nouts: Sequence[int],
        activation: str = "relu",
        output_activation: str = "identity",
        init: Callable | None = None,
        rng: RandomLike = None,
    ) -> None:
        super().__init__()
        if isinstance(nouts, (int, np.integer)) or not len(nouts):
            raise ValueError(f"nouts must be a non-empty list of layer sizes, got {nouts!r}")
        _check_activation(activation)
        _check_activation(output_activation)
        sizes = [_check_count("nin", nin)] + [_check_count("layer size", n) for n in nouts]
        last = len(nouts) - 1
        if rng is not None:
            rng = get_generator(rng)  # one stream for all layers (an int would repeat itself)
        self.layers = [
            Layer(
                sizes[i],
                sizes[i + 1],
                init=init,
                rng=rng,
                activation=output_activation if i == last else activation,
            )
            for i in range(len(nouts))
        ]

    def forward(self, x: Any) -> Any:
        if isinstance(x, np.ndarray) and x.ndim == 2:
            return self._forward_batch(x)
        if isinstance(x, np.ndarray):
            x = x.tolist()
        for layer in self.layers:
            x = layer(x)
        return x

    def _forward_batch(self, X: np.ndarray) -> Value:
        rows = []
        for sample in X.tolist():
            out = sample
            for layer in self.layers:
                out = layer(out)
            rows.append(stack(out) if isinstance(out, list) else stack([out]))
        return stack(rows)

    def parameters(self) -> list[Value]:
        return [p for layer in self.layers for p in layer.parameters()]

    def extra_repr(self) -> str:
        return ""
