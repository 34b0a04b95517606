"""Networks at array granularity: `Linear`, activation modules, `Flatten` and `Dropout`.

These work on a whole batch at once (one numpy operation per layer), which is how real training
runs. A numpy array given to a module is a constant: no gradient is computed for it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.nn.args import as_input
from minigrad.nn.containers import Sequential  # noqa: F401  (it lived here; old imports work)
from minigrad.nn.module import Module
from minigrad.random import RandomLike, get_generator
from minigrad.value import Value


class Linear(Module):
    """Fully connected layer: y = x @ W.T + b, with W of shape (nout, nin) as in PyTorch.

    Gradient: dL/dW = g.T @ x, dL/db = g summed over the batch, dL/dx = g @ W.

    By default W and b are drawn from U(-1/sqrt(nin), 1/sqrt(nin)) (PyTorch's default);
    `init=` takes a `minigrad.nn.init` function for W (b then starts at 0). `dtype=np.float32`
    makes a float32 layer; a numpy input of another float type is converted to it.

    >>> layer = Linear(3, 2)
    >>> layer(np.ones((5, 3))).shape
    (5, 2)
    """

    def __init__(
        self,
        nin: int,
        nout: int,
        bias: bool = True,
        dtype: Any = np.float64,
        init: Callable | None = None,
        rng: RandomLike = None,
    ) -> None:
        super().__init__()
        for what, n in (("nin", nin), ("nout", nout)):
            if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
                raise ValueError(f"Linear: {what} must be a positive integer, got {n!r}")
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Linear: dtype must be a float type, got {dtype}")
        self.in_features, self.out_features = int(nin), int(nout)
        gen = get_generator(rng)
        bound = 1.0 / math.sqrt(nin)
        if init is None:
            weight = gen.uniform(-bound, bound, size=(nout, nin)).astype(dtype)
        else:
            weight = init(Value(np.zeros((nout, nin), dtype=dtype)), rng=gen).data
        self.weight = Value(weight, label="weight")
        if bias:
            b = gen.uniform(-bound, bound, size=nout) if init is None else np.zeros(nout)
            self.bias: Value | None = Value(b.astype(dtype), label="bias")
        else:
            self.bias = None

    def forward(self, x: Any) -> Value:
        w = self.weight
        if type(x) is np.ndarray:
            if x.dtype != w.data.dtype:
                x = x.astype(w.data.dtype)
        elif not isinstance(x, Value):
            x = as_input(x, w.data.dtype)  # refuses strings, objects and complex numbers
        if self.bias is None:
            if problem := self._input_problem(x):
                raise ValueError(problem)
            return x @ w.T
        try:
            return ops.linear(x, w, self.bias)  # one fused node: x @ w.T + b
        except ValueError:
            # Speed: ops.linear checks the shapes already; the message naming this layer is
            # only worked out when they are wrong
            if problem := self._input_problem(x):
                raise ValueError(problem) from None
            raise

    def _input_problem(self, x: Any) -> str:
        if x.shape[-1:] == (self.in_features,):
            return ""
        return (
            f"Linear({self.in_features}, {self.out_features}) expects inputs whose last axis "
            f"has {self.in_features} entries, got shape {x.shape}"
        )

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class ReLU(Module):
    """max(x, 0).  Gradient: 1 where x > 0, else 0."""

    def forward(self, x: Any) -> Value:
        return ops.relu(x)


class Tanh(Module):
    """tanh(x).  Gradient: 1 - tanh(x)**2."""

    def forward(self, x: Any) -> Value:
        return ops.tanh(x)


class Sigmoid(Module):
    """1 / (1 + e**-x).  Gradient: s * (1 - s)."""

    def forward(self, x: Any) -> Value:
        return ops.sigmoid(x)


class Identity(Module):
    """x, unchanged.  Gradient: 1."""

    def forward(self, x: Any) -> Any:
        return x


class Softplus(Module):
    """log(1 + e**x), a smooth ReLU.  Gradient: sigmoid(x)."""

    def forward(self, x: Any) -> Value:
        return ops.softplus(x)


class LeakyReLU(Module):
    """x if x > 0 else slope * x.  Gradient: 1 or slope."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x: Any) -> Value:
        return ops.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class Softmax(Module):
    """e**x / sum(e**x) along `axis` (PyTorch's `dim=` also accepted).
    Gradient: s * (g - sum(g * s))."""

    def __init__(self, axis: int = -1, *, dim: int | None = None) -> None:
        super().__init__()
        self.axis = int(dim if dim is not None else axis)

    def forward(self, x: Any) -> Value:
        return ops.softmax(x, self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"


class LogSoftmax(Softmax):
    """x - logsumexp(x) along `axis`, stable.  Gradient: g - softmax(x) * sum(g)."""

    def forward(self, x: Any) -> Value:
        return ops.log_softmax(x, self.axis)


class Flatten(Module):
    """Merge axes start_dim..end_dim into one, as PyTorch's nn.Flatten: by default (N, d1, d2,
    ...) becomes (N, d1 * d2 * ...).  Gradient: reshaped back."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x: Any) -> Any:
        x = as_input(x, None)
        shape, n = x.shape, x.ndim
        start = self.start_dim + n if self.start_dim < 0 else self.start_dim
        end = self.end_dim + n if self.end_dim < 0 else self.end_dim
        if not (0 <= start <= end < n):
            raise ValueError(
                f"{self!r}: cannot merge axes {self.start_dim} to {self.end_dim} of an input of "
                f"shape {shape} ({n} axes)"
            )
        if start == end:
            return x
        return x.reshape(*shape[:start], math.prod(shape[start : end + 1]), *shape[end + 1 :])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Dropout(Module):
    """Inverted dropout: in training, zero each entry with probability p and scale the rest by
    1 / (1 - p), so the expected output equals the input; in eval mode, the identity.
    Gradient: the same mask times g.
    """

    def __init__(self, p: float = 0.5, rng: RandomLike = None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
            raise TypeError(f"Dropout: p must be a number, got {type(p).__name__} {p!r}")
        if not 0.0 <= p < 1.0:  # p = 1 would drop everything: nothing left to learn from
            raise ValueError(f"Dropout: p must be a probability in [0, 1), got {p}")
        self.p = float(p)
        self.rng = rng if rng is None else get_generator(rng)

    def forward(self, x: Any) -> Any:
        if not self.training or self.p == 0.0:
            return x
        data = x.data if isinstance(x, Value) else np.asarray(x)
        shape = self._mask_shape(np.shape(data))
        dtype = data.dtype if isinstance(data, np.ndarray) else np.dtype(np.float64)
        keep = get_generator(self.rng).random(shape) >= self.p
        mask = keep.astype(dtype) / dtype.type(1.0 - self.p)
        return x * (float(mask) if not shape else mask)

    def _mask_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        return shape  # one draw per entry

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Dropout2d(Dropout):
    """Channel dropout: in training, zero each whole channel (an (H, W) map of one sample) with
    probability p and scale the rest by 1 / (1 - p); in eval mode, the identity. Takes
    (N, C, H, W), or (N, C, L) as PyTorch's does (channel-wise 1-d dropout).
    Gradient: the same mask times g.
    """

    def _mask_shape(self, shape: tuple[int, ...]) -> tuple[int, ...]:
        if len(shape) not in (3, 4):
            raise ValueError(
                f"Dropout2d expects input (N, C, H, W) or (N, C, L), got shape {shape}"
            )
        return shape[:2] + (1,) * (len(shape) - 2)
