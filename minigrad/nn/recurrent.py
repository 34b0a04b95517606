"""Recurrent layers, PyTorch's `RNN`, `LSTM` and `GRU`: names, layouts, gate orders, results.

A layer reads a sequence x of shape (L, N, H_in) ((N, L, H_in) with batch_first=True, (L, H_in)
unbatched) and returns every step's hidden state of the last layer, (L, N, D * H_out) with
D = 2 if bidirectional, and the last hidden state of every layer and direction,
(num_layers * D, N, H_out) (for the LSTM with the last cell state: `(output, (h_n, c_n))`).

Per layer and direction, the input projection of all L steps is one matmul,
xw = x @ weight_ih.T + bias, and the recurrence over time is one op (`minigrad.ops.rnn_scan`,
`lstm_scan`, `gru_scan`): a handful of graph nodes per layer, whatever L. The reverse direction
runs the same op on the time-reversed sequence. Parameters are named as PyTorch names them
(`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, `..._reverse`), so a PyTorch
state_dict loads as it is, and they start uniform in (-1/sqrt(H_out), 1/sqrt(H_out)).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.nn.args import as_input, float_dtype, positive_int
from minigrad.nn.module import Module
from minigrad.random import RandomLike, get_generator
from minigrad.value import Value


def dropout(x: Any, p: float, rng: RandomLike) -> Any:
    """Inverted dropout of an array Value (as nn.Dropout): keep with probability 1 - p."""
    dtype = x.dtype
    keep = get_generator(rng).random(x.shape) >= p
    return x * (keep.astype(dtype) / dtype.type(1.0 - p))


def project(x: Any, weight: Value, bias: Any) -> Any:
    """x (..., H_in) @ weight.T + bias for every step at once: one matmul over (L * N, H_in)."""
    lead = x.shape[:-1]
    rows = ops.reshape(x, (-1, x.shape[-1]))
    out = ops.linear(rows, weight, bias) if bias is not None else rows @ weight.T
    return ops.reshape(out, (*lead, weight.shape[0]))


class RNNBase(Module):
    """What RNN, LSTM and GRU share: parameters, checks, layers and directions."""

    gates = 1  # blocks of W_ih / W_hh: 1 for RNN, 4 for LSTM (i, f, g, o), 3 for GRU (r, z, n)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = np.float64,
        rng: RandomLike = None,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.input_size = positive_int(name, "input_size", input_size)
        self.hidden_size = positive_int(name, "hidden_size", hidden_size)
        self.num_layers = positive_int(name, "num_layers", num_layers)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float, np.number)):
            raise TypeError(f"{name}: dropout must be a number, got {dropout!r}")
        if not 0.0 <= dropout < 1.0:
            raise ValueError(f"{name}: dropout must be a probability in [0, 1), got {dropout}")
        self.bias, self.batch_first = bool(bias), bool(batch_first)
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.rng = rng if rng is None else get_generator(rng)
        self._make_parameters(float_dtype(name, dtype), get_generator(rng))

    def _make_parameters(self, dtype: np.dtype, gen: np.random.Generator) -> None:
        hidden, rows = self.hidden_size, self.gates * self.hidden_size
        bound = 1.0 / math.sqrt(hidden)
        for layer in range(self.num_layers):
            width = self.input_size if layer == 0 else hidden * self.directions
            for suffix in self._suffixes(layer):
                shapes = [("weight_ih", (rows, width)), ("weight_hh", (rows, hidden))]
                if self.bias:
                    shapes += [("bias_ih", (rows,)), ("bias_hh", (rows,))]
                for what, shape in shapes:
                    data = gen.uniform(-bound, bound, size=shape).astype(dtype)
                    setattr(self, what + suffix, Value(data, label=what + suffix))

    @property
    def directions(self) -> int:
        return 2 if self.bidirectional else 1

    def _suffixes(self, layer: int) -> list[str]:
        return [f"_l{layer}", f"_l{layer}_reverse"][: self.directions]

    def _weights(self, suffix: str) -> tuple:
        get = lambda what: getattr(self, what + suffix) if self.bias else None  # noqa: E731
        return (
            getattr(self, "weight_ih" + suffix),
            getattr(self, "weight_hh" + suffix),
            get("bias_ih"),
            get("bias_hh"),
        )

    # ----- checks ------------------------------------------------------------------------
    def _layout(self) -> str:
        return "(N, L, H_in)" if self.batch_first else "(L, N, H_in)"

    def _check_input(self, x: Any) -> Any:
        """x as (L, N, H_in) time-major, and whether it came unbatched."""
        name, shape = type(self).__name__, tuple(np.shape(x.data if isinstance(x, Value) else x))
        if len(shape) not in (2, 3) or shape[-1] != self.input_size or 0 in shape[:-1]:
            raise ValueError(
                f"{name} expects input of shape {self._layout()} with batch_first="
                f"{self.batch_first} (or (L, H_in) unbatched), H_in = input_size = "
                f"{self.input_size}, L and N >= 1; got shape {shape}"
            )
        return len(shape) == 2

    def _check_state(self, what: str, state: Any, batch: int, unbatched: bool) -> Any:
        rows = self.num_layers * self.directions
        expected = (rows, self.hidden_size) if unbatched else (rows, batch, self.hidden_size)
        given = tuple(np.shape(state.data if isinstance(state, Value) else state))
        if given != expected:
            form = "(D * num_layers, H_out)" if unbatched else "(D * num_layers, N, H_out)"
            raise ValueError(
                f"{type(self).__name__}: {what} must have shape {form} = {expected} for this "
                f"input, got shape {given}"
            )
        state = as_input(state, self._dtype())
        return ops.unsqueeze(state, 1) if unbatched else state

    def _dtype(self) -> np.dtype:
        return self.weight_ih_l0.dtype

    # ----- forward -----------------------------------------------------------------------
    def _run(self, x: Any, states: list) -> tuple[Any, list]:
        """Every layer and direction over x (L, N, H_in) time-major, from the initial states
        (one list per layer and direction of that layer's states, each (N, H)): the output and
        the final states."""
        finals = []
        for layer in range(self.num_layers):
            outputs = []
            for d, suffix in enumerate(self._suffixes(layer)):
                index = layer * self.directions + d
                seq = x if d == 0 else x[::-1]
                out, final = self._scan(seq, [s[index] for s in states], self._weights(suffix))
                outputs.append(out if d == 0 else out[::-1])
                finals.append(final)
            x = outputs[0] if len(outputs) == 1 else ops.concat(outputs, axis=-1)
            if self.training and self.dropout and layer < self.num_layers - 1:
                x = dropout(x, self.dropout, self.rng)
        return x, finals

    def _scan(self, seq: Any, states: list, weights: tuple) -> tuple[Any, tuple]:
        """One layer in one direction: (every h_t, (final states))."""
        raise NotImplementedError

    def forward(self, input: Any, hx: Any = None) -> tuple[Any, Any]:
        x = as_input(input, self._dtype())
        unbatched = self._check_input(x)
        if unbatched:
            x = ops.unsqueeze(x, 1)
        elif self.batch_first:
            x = ops.transpose(x, 1, 0, 2)
        batch = x.shape[1]
        states = self._initial_states(hx, batch, unbatched)
        out, finals = self._run(x, states)
        if unbatched:
            out = out[:, 0]
        elif self.batch_first:
            out = ops.transpose(out, 1, 0, 2)
        stacked = [ops.stack([f[k] for f in finals]) for k in range(len(states))]
        if unbatched:
            stacked = [s[:, 0] for s in stacked]
        return out, stacked[0] if len(stacked) == 1 else tuple(stacked)

    def _initial_states(self, hx: Any, batch: int, unbatched: bool) -> list:
        """The initial states as a list (h0 only, or h0 and c0), each (D * layers, N, H)."""
        if hx is None:
            shape = (self.num_layers * self.directions, batch, self.hidden_size)
            return [np.zeros(shape, self._dtype())]
        return [self._check_state("hx (h_0)", hx, batch, unbatched)]

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        for what, default in [("bias", True), ("batch_first", False), ("dropout", 0.0)] + [
            ("bidirectional", False)
        ]:
            if getattr(self, what) != default:
                text += f", {what}={getattr(self, what)}"
        return text  # as PyTorch's (which leaves the RNN's nonlinearity out)


class RNN(RNNBase):
    """Elman RNN: h_t = act(x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh), act tanh or relu.

    >>> import numpy as np
    >>> rnn = RNN(3, 5, num_layers=2)
    >>> out, h_n = rnn(np.ones((7, 2, 3)))
    >>> out.shape, h_n.shape
    ((7, 2, 5), (2, 2, 5))
    """

    gates = 1

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        nonlinearity: str = "tanh",
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        dtype: Any = np.float64,
        rng: RandomLike = None,
    ) -> None:
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        self.nonlinearity = nonlinearity
        super().__init__(
            input_size,
            hidden_size,
            num_layers,
            bias,
            batch_first,
            dropout,
            bidirectional,
            dtype,
            rng,
        )

    def _scan(self, seq, states, weights):
        w_ih, w_hh, b_ih, b_hh = weights
        xw = project(seq, w_ih, b_ih + b_hh if b_ih is not None else None)
        hs = ops.rnn_scan(xw, states[0], w_hh, self.nonlinearity)
        return hs, (hs[-1],)


class LSTM(RNNBase):
    """Long short-term memory, PyTorch's gates i, f, g, o (the row blocks of W_ih and W_hh):

        i, f, g, o = sig, sig, tanh, sig of x_t @ W_ih.T + b_ih + h_{t-1} @ W_hh.T + b_hh
        c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)

    `lstm(x, (h_0, c_0))` returns `(output, (h_n, c_n))`; without initial states both start at
    zero.
    """

    gates = 4

    def _scan(self, seq, states, weights):
        w_ih, w_hh, b_ih, b_hh = weights
        xw = project(seq, w_ih, b_ih + b_hh if b_ih is not None else None)
        steps = seq.shape[0]
        out = ops.lstm_scan(xw, states[0], states[1], w_hh)  # h_1 .. h_L, then c_L
        return out[:steps], (out[steps - 1], out[steps])

    def _initial_states(self, hx, batch, unbatched):
        if hx is None:
            shape = (self.num_layers * self.directions, batch, self.hidden_size)
            zeros = np.zeros(shape, self._dtype())
            return [zeros, zeros]
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise TypeError(
                f"LSTM: hx must be a tuple (h_0, c_0) of two arrays, got {type(hx).__name__}"
            )
        return [
            self._check_state(what, state, batch, unbatched)
            for what, state in zip(("h_0", "c_0"), hx)
        ]


class GRU(RNNBase):
    """Gated recurrent unit, PyTorch's gates r, z, n and formula:

    r = sig(x_t W_ir.T + b_ir + h_{t-1} W_hr.T + b_hr),  z likewise
    n = tanh(x_t W_in.T + b_in + r * (h_{t-1} W_hn.T + b_hn)),  h_t = (1 - z) * n + z * h_{t-1}
    """

    gates = 3

    def _scan(self, seq, states, weights):
        w_ih, w_hh, b_ih, b_hh = weights
        xw = project(seq, w_ih, b_ih)
        if b_hh is None:
            b_hh = np.zeros(w_hh.shape[0], w_hh.dtype)
        hs = ops.gru_scan(xw, states[0], w_hh, b_hh)
        return hs, (hs[-1],)
