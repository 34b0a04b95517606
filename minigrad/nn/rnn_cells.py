"""One step of a recurrent network, PyTorch's `RNNCell`, `LSTMCell` and `GRUCell`.

A cell takes one step's input (N, H_in) (or (H_in,) unbatched) and the previous state, and
returns the next state; a Python loop over time steps builds a sequence model by hand (and
`h.detach()` between chunks gives truncated backpropagation through time). The formulas, gate
orders and parameter names (`weight_ih`, `weight_hh`, `bias_ih`, `bias_hh`) are the layers'
(minigrad/nn/recurrent.py), written with minigrad's small ops: a few nodes per step.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.nn.args import as_input, float_dtype, positive_int
from minigrad.nn.module import Module
from minigrad.ops.gru import cell_step as gru_step
from minigrad.ops.lstm import cell_step as lstm_step
from minigrad.random import RandomLike, get_generator
from minigrad.value import Value


def _affine(x: Any, weight: Value, bias: Value | None) -> Any:
    return ops.linear(x, weight, bias) if bias is not None else x @ weight.T


class RNNCellBase(Module):
    """What the cells share: parameters, input and state checks."""

    gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        dtype: Any = np.float64,
        rng: RandomLike = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = positive_int(name, "input_size", input_size)
        self.hidden_size = positive_int(name, "hidden_size", hidden_size)
        self.bias = bool(bias)
        dtype, gen = float_dtype(name, dtype), get_generator(rng)
        rows, bound = self.gates * self.hidden_size, 1.0 / math.sqrt(self.hidden_size)
        shapes = [("weight_ih", (rows, self.input_size)), ("weight_hh", (rows, self.hidden_size))]
        if self.bias:
            shapes += [("bias_ih", (rows,)), ("bias_hh", (rows,))]
        for what, shape in shapes:
            data = gen.uniform(-bound, bound, size=shape).astype(dtype)
            setattr(self, what, Value(data, label=what))
        if not self.bias:
            self.bias_ih = self.bias_hh = None

    def _input(self, input: Any) -> tuple[Any, bool]:
        """The input as (N, H_in), and whether it came unbatched (H_in,)."""
        x = as_input(input, self.weight_ih.dtype)
        shape = tuple(x.shape)
        if len(shape) not in (1, 2) or shape[-1] != self.input_size or 0 in shape:
            raise ValueError(
                f"{type(self).__name__} expects input of shape (N, H_in) or (H_in,) unbatched, "
                f"H_in = input_size = {self.input_size}; got shape {shape}"
            )
        return (ops.unsqueeze(x, 0), True) if len(shape) == 1 else (x, False)

    def _state(self, what: str, state: Any, batch: int, unbatched: bool) -> Any:
        if state is None:
            return np.zeros((batch, self.hidden_size), self.weight_ih.dtype)
        state = as_input(state, self.weight_ih.dtype)
        expected = (self.hidden_size,) if unbatched else (batch, self.hidden_size)
        if tuple(state.shape) != expected:
            form = "(H_out,)" if unbatched else "(N, H_out)"
            raise ValueError(
                f"{type(self).__name__}: {what} must have shape {form} = {expected} for this "
                f"input, got shape {tuple(state.shape)}"
            )
        return ops.unsqueeze(state, 0) if unbatched else state

    def _projections(self, x: Any, h: Any) -> tuple[Any, Any]:
        return _affine(x, self.weight_ih, self.bias_ih), _affine(h, self.weight_hh, self.bias_hh)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


class RNNCell(RNNCellBase):
    """h' = act(x @ W_ih.T + b_ih + h @ W_hh.T + b_hh), act tanh or relu.

    >>> import numpy as np
    >>> cell = RNNCell(3, 4)
    >>> cell(np.ones((2, 3))).shape
    (2, 4)
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        nonlinearity: str = "tanh",
        dtype: Any = np.float64,
        rng: RandomLike = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(
                f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}"
            )
        self.nonlinearity = nonlinearity
        super().__init__(input_size, hidden_size, bias, dtype, rng)

    def forward(self, input: Any, hx: Any = None) -> Any:
        x, unbatched = self._input(input)
        h = self._state("hx", hx, x.shape[0], unbatched)
        xw, hw = self._projections(x, h)
        h_new = ops.tanh(xw + hw) if self.nonlinearity == "tanh" else ops.relu(xw + hw)
        return h_new[0] if unbatched else h_new

    def extra_repr(self) -> str:
        text = super().extra_repr()
        return text + (", nonlinearity=relu" if self.nonlinearity == "relu" else "")


class LSTMCell(RNNCellBase):
    """One LSTM step (gates i, f, g, o): `cell(x, (h, c))` returns `(h', c')`; without a
    state, h and c start at zero."""

    gates = 4

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        x, unbatched = self._input(input)
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(
                f"LSTMCell: hx must be a tuple (h, c) of two arrays, got {type(hx).__name__}"
            )
        h, c = (None, None) if hx is None else hx
        h = self._state("hx[0] (h)", h, x.shape[0], unbatched)
        c = self._state("hx[1] (c)", c, x.shape[0], unbatched)
        xw, hw = self._projections(x, h)
        h_new, c_new, _ = lstm_step(xw + hw, c)
        return (h_new[0], c_new[0]) if unbatched else (h_new, c_new)


class GRUCell(RNNCellBase):
    """One GRU step (gates r, z, n; n = tanh(x W_in.T + b_in + r * (h W_hn.T + b_hn)))."""

    gates = 3

    def forward(self, input: Any, hx: Any = None) -> Any:
        x, unbatched = self._input(input)
        h = self._state("hx", hx, x.shape[0], unbatched)
        xw, hw = self._projections(x, h)
        h_new, _ = gru_step(xw, hw, h)
        return h_new[0] if unbatched else h_new
