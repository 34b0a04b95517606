"""Recurrent scans: a whole sequence through an RNN, LSTM or GRU recurrence, as one op.

The layers (minigrad/nn/recurrent.py) first project the inputs of all time steps at once,
xw = x @ W_ih.T + b (one matmul for the sequence); these ops then run the recurrence over time,
with PyTorch's gate order and formulas (xw_t is the step-t slice, W = W_hh):

    rnn_scan:   h_t = act(xw_t + h_{t-1} @ W.T), act tanh or relu
    lstm_scan:  i, f, g, o = sig, sig, tanh, sig of the quarters of xw_t + h_{t-1} @ W.T
                c_t = f * c_{t-1} + i * g,   h_t = o * tanh(c_t)
    gru_scan:   hp = h_{t-1} @ W.T + b_hh;  r, z = sig(xw_t[r, z] + hp[r, z])
                n = tanh(xw_t[n] + r * hp[n]),   h_t = (1 - z) * n + z * h_{t-1}

Why one op for the sequence: written with the small ops, a step is about fifteen graph nodes,
and their bookkeeping would cost more than the numbers. Here a layer is one node; per step the
forward does one matmul and the gate nonlinearities on whole (N, 4H) arrays, and backward
(backpropagation through time) one matmul, with the weight gradient of all steps in one matmul
at the end. A 1,000-step sequence is one node: nothing recursive, and freed with its node.

Gradient rules: the plain backward reads the gate activations its forward saved (in the
`saved` parameter, as softmax_cross_entropy does). On Values (create_graph=True) the forward is
run again with minigrad's own ops and the same backward lines run on Values, so second
derivatives come out right; forward mode (jvp) runs the tangents along the recurrence.

This file holds rnn_scan and what the three share; lstm_scan is in lstm.py, gru_scan in gru.py.
"""

from __future__ import annotations

import numpy as np

from minigrad.engine import apply
from minigrad.ops.registry import Domain, Op, data_of, register


class Saved:
    """What a scan's forward keeps for its backward: the gate activations of every step (and the
    LSTM's cell states and their tanh). Only read by the backward, so two backwards agree."""

    __slots__ = ("arrays",)

    def __init__(self) -> None:
        self.arrays: tuple | None = None

    def __repr__(self) -> str:  # graphs and anomaly messages print the params
        return "<gates saved by the forward>"


def is_plain(*xs) -> bool:
    """True when no argument is a Value: the rule runs on numpy arrays (a normal backward)."""
    return not any(hasattr(x, "_op") for x in xs)


def sigmoid_(a: np.ndarray) -> np.ndarray:
    """1 / (1 + e**-a) in place. For a < -88 (float32) e**-a overflows to inf and the result is
    exactly 0, the right limit: the callers silence the overflow warning."""
    # not np.negative(a, out=a): numpy 2.4 gets it wrong in place on some float32 column views
    # (one column of a 4-wide array; found by a fuzz of the in-place calls used here)
    np.multiply(a, -1.0, out=a)
    np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)
    return a


def cat(parts: list, out: np.ndarray | None = None):
    """Join along the last axis: into `out` for numpy arrays, as a recorded concat for Values."""
    if is_plain(*parts):
        return np.concatenate(parts, axis=-1, out=out)
    return concat(parts, axis=-1)


def check_scan(name: str, xw, states, w, gates: int) -> tuple[int, int, int]:
    """(steps, batch, hidden) after checking xw (L, N, gates*H), each state (N, H), W (gates*H,
    H)."""
    sx, sw = np.shape(xw), np.shape(w)
    shapes = ", ".join(str(np.shape(s)) for s in states)
    ok = len(sx) == 3 and sx[0] >= 1 and len(sw) == 2 and sw[0] == gates * sw[1]
    ok = ok and sx[2] == sw[0] and all(np.shape(s) == (sx[1], sw[1]) for s in states)
    if not ok:
        raise ValueError(
            f"{name} needs xw (L, N, {gates}*H) with L >= 1, states (N, H) and W_hh "
            f"({gates}*H, H); got xw {sx}, states {shapes}, W_hh {sw}"
        )
    return sx[0], sx[1], sw[1]


def weight_grad(d, h0, hs, hidden_gates: int):
    """sum over steps of d_t.T @ h_{t-1} (the gradient of W_hh), with h_{t-1} = h0 for t = 0
    and hs[t - 1] after: one matmul for all the steps after the first."""
    gw = d[0].T @ h0
    if len(data_of(d)) > 1:
        width = np.shape(data_of(h0))[-1]
        gw = gw + d[1:].reshape(-1, hidden_gates).T @ hs[:-1].reshape(-1, width)
    return gw


def sum_present(terms, like):
    """The sum of the terms that are not None (zeros like `like` if all are None)."""
    present = [x for x in terms if x is not None]
    if not present:
        return np.zeros(np.shape(data_of(like)), np.result_type(data_of(like)))
    total = present[0]
    for x in present[1:]:
        total = total + x
    return total


# ----- RNN: h_t = act(xw_t + h_{t-1} @ W.T) -----------------------------------------------------
def _rnn_forward(xw, h0, w, nonlinearity="tanh"):
    steps, _, _ = check_scan("rnn_scan", xw, (h0,), w, 1)
    if nonlinearity not in ("tanh", "relu"):
        raise ValueError(f"rnn_scan: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
    out = np.empty(xw.shape, np.result_type(xw, h0, w))
    w_t = w.T
    for t in range(steps):
        h = out[t]
        np.matmul(h0 if t == 0 else out[t - 1], w_t, out=h)
        h += xw[t]
        np.tanh(h, out=h) if nonlinearity == "tanh" else np.maximum(h, 0, out=h)
    return out


def _rnn_slope(out, nonlinearity):
    """act'(pre-activation) from the output: 1 - h**2 for tanh, 1 where h > 0 for relu."""
    if nonlinearity == "tanh":
        return 1.0 - out * out
    positive = data_of(out) > 0
    return positive.astype(np.result_type(data_of(out)))


def _rnn_vjp(g, out, xw, h0, w, needs, nonlinearity):
    slope = _rnn_slope(out, nonlinearity)
    steps = len(data_of(out))
    ds = [None] * steps  # Values only: each step's d, stacked at the end
    plain = is_plain(g, out, w)
    d_all = np.empty_like(data_of(out)) if plain else None
    d = None
    for t in reversed(range(steps)):
        dh = g[t] if d is None else g[t] + d @ w
        if plain:
            d = np.multiply(dh, slope[t], out=d_all[t])
        else:
            d = ds[t] = dh * slope[t]
    d_all = d_all if plain else stack(ds)
    gw = weight_grad(d_all, h0, out, np.shape(data_of(w))[0]) if needs[2] else None
    return d_all, d @ w if needs[1] else None, gw


def _rnn_jvp(tangents, out, xw, h0, w, nonlinearity):
    t_xw, t_h0, t_w = tangents
    slope = _rnn_slope(out, nonlinearity)
    steps = len(data_of(out))
    t_h, result = t_h0, []
    for t in range(steps):
        h_prev = h0 if t == 0 else out[t - 1]
        t_pre = [t_xw[t] if t_xw is not None else None, t_h @ w.T if t_h is not None else None]
        t_pre = sum_present([*t_pre, h_prev @ t_w.T if t_w is not None else None], like=xw[t])
        t_h = t_pre * slope[t]
        result.append(t_h)
    return stack(result)


class GatedScan(Op):
    """Base of the gated scans (`lstm_scan`, `gru_scan`), whose forward keeps its gates in
    `saved` for the rules: a subclass names its family's `backward(g, out, *inputs, needs,
    saved)` and `tangent(tangents, *inputs)`; `saved` is not a parameter to show in graphs."""

    backward = tangent = None

    @classmethod
    def vjp(cls, g, out, inputs, needs, params):
        return cls.backward(g, out, *inputs, needs, params.get("saved"))

    @classmethod
    def jvp(cls, tangents, out, inputs, params):
        if all(t is None for t in tangents):
            return None
        return cls.tangent(tangents, *inputs)

    @classmethod
    def describe(cls, params):
        return cls.name


@register(
    "rnn_scan",
    Domain(
        "rnn_scan",
        ranges=((-1.5, 1.5), (-1.0, 1.0), (-0.8, 0.8)),
        params={"nonlinearity": ("tanh", "relu")},
    ),
)
class RNNScan(Op):
    """h_t = act(xw_t + h_{t-1} @ W.T) for t = 1..L, act tanh or relu; the result stacks h_t.
    Gradient: backpropagation through time, d_t = (g_t + d_{t+1} @ W) * act'(h_t);
    gxw_t = d_t, gh0 = d_1 @ W, gW = sum_t d_t.T @ h_{t-1}."""

    name = "rnn_scan"
    forward = staticmethod(_rnn_forward)

    @classmethod
    def vjp(cls, g, out, inputs, needs, params):
        return _rnn_vjp(g, out, *inputs, needs, params.get("nonlinearity", "tanh"))

    @classmethod
    def jvp(cls, tangents, out, inputs, params):
        if all(t is None for t in tangents):
            return None
        return _rnn_jvp(tangents, out, *inputs, params.get("nonlinearity", "tanh"))


def rnn_scan(xw, h0, w_hh, nonlinearity="tanh"):
    """The Elman recurrence over a sequence: xw (L, N, H) the projected inputs, h0 (N, H), W_hh
    (H, H); returns every h_t, shape (L, N, H)."""
    return apply(RNNScan, xw, h0, w_hh, nonlinearity=nonlinearity)


from minigrad.ops.shape import concat, stack  # noqa: E402
