"""lstm_scan: the LSTM recurrence over a whole sequence as one op (see recurrent.py for why).

With a = xw_t + h_{t-1} @ W.T cut into quarters in PyTorch's order i, f, g, o:

    i, f, o = sigmoid(a_i), sigmoid(a_f), sigmoid(a_o);  g = tanh(a_g)
    c_t = f * c_{t-1} + i * g;   h_t = o * tanh(c_t)

The result is h_1 .. h_L followed by the last cell state c_L: shape (L + 1, N, H), so one node
gives the layer its output, h_n and c_n.
"""

from __future__ import annotations

import numpy as np

from minigrad.engine import apply
from minigrad.ops.recurrent import (
    GatedScan,
    Saved,
    cat,
    check_scan,
    is_plain,
    sigmoid_,
    sum_present,
    weight_grad,
)
from minigrad.ops.registry import Domain, data_of, register


def _forward(xw, h0, c0, w, saved=None):
    steps, n, hidden = check_scan("lstm_scan", xw, (h0, c0), w, 4)
    dtype = np.result_type(xw, h0, c0, w)
    out = np.empty((steps + 1, n, hidden), dtype)
    acts = np.empty((steps, n, 4 * hidden), dtype)  # i, f, g, o of every step
    cells = np.empty((steps, n, hidden), dtype)
    tanh_c = np.empty((steps, n, hidden), dtype)
    w_t, c = w.T, c0
    with np.errstate(over="ignore"):  # see sigmoid_
        for t in range(steps):
            a = acts[t]
            np.matmul(h0 if t == 0 else out[t - 1], w_t, out=a)
            a += xw[t]
            sigmoid_(a[:, : 2 * hidden])
            np.tanh(a[:, 2 * hidden : 3 * hidden], out=a[:, 2 * hidden : 3 * hidden])
            sigmoid_(a[:, 3 * hidden :])
            i, f, g, o = _quarters(a, hidden)
            c_new = np.multiply(f, c, out=cells[t])
            c_new += i * g
            np.tanh(c_new, out=tanh_c[t])
            np.multiply(o, tanh_c[t], out=out[t])
            c = c_new
    out[steps] = c
    if saved is not None:
        saved.arrays = (acts, cells, tanh_c)
    return out


def _quarters(a, hidden):
    return (a[..., k * hidden : (k + 1) * hidden] for k in range(4))


def cell_step(a, c):
    """One LSTM step from the gate pre-activations a (N, 4H) and c_{t-1}: (h_t, c_t, and what
    backward needs: i, f, g, o, tanh(c_t)), with minigrad's ops (recorded on Values)."""
    hidden = np.shape(data_of(a))[-1] // 4
    a_i, a_f, a_g, a_o = _quarters(a, hidden)
    i, f, g, o = sigmoid(a_i), sigmoid(a_f), tanh(a_g), sigmoid(a_o)
    c_new = f * c + i * g
    tc = tanh(c_new)
    return o * tc, c_new, (i, f, g, o, tc)


def _step_back(dh, dc, c_prev, i, f, g, o, tc, out=None):
    """One step of backpropagation through time. dh: the gradient of h_t; dc: of c_t through
    later steps. Returns the gradients of the pre-activations a_t and of c_{t-1}."""
    dc = dc + dh * o * (1.0 - tc * tc)
    parts = [dc * g * i * (1.0 - i), dc * c_prev * f * (1.0 - f)]
    parts += [dc * i * (1.0 - g * g), dh * tc * o * (1.0 - o)]
    return cat(parts, out), dc * f


def _vjp(g, out, xw, h0, c0, w, needs, saved):
    steps = len(data_of(out)) - 1
    plain = is_plain(g, out, xw, h0, c0, w) and saved is not None and saved.arrays is not None
    if plain:
        acts, cells, tanh_c = saved.arrays
        hidden = cells.shape[-1]
        d_all = np.empty_like(acts)

        def step(t):  # c_{t-1}, i, f, g, o, tanh(c_t) from what the forward saved
            return (c0 if t == 0 else cells[t - 1], *_quarters(acts[t], hidden), tanh_c[t])

        hs = out[:steps]
    else:
        d_all, steps_saved, hs = None, [], []
        h, c = h0, c0
        for t in range(steps):  # the forward again, recorded: its activations are Values
            h, c_new, keep = cell_step(xw[t] + h @ w.T, c)
            steps_saved.append((c, *keep))
            hs.append(h)
            c = c_new
        hs = stack(hs)

        def step(t):
            return steps_saved[t]

    ds = [None] * steps
    d, dc = None, g[steps]  # c_L's gradient enters at the last step
    for t in reversed(range(steps)):
        dh = g[t] if d is None else g[t] + d @ w
        d, dc = _step_back(dh, dc, *step(t), out=d_all[t] if plain else None)
        ds[t] = d
    d_all = d_all if plain else stack(ds)
    gw = weight_grad(d_all, h0, hs, np.shape(data_of(w))[0]) if needs[3] else None
    return d_all, d @ w if needs[1] else None, dc if needs[2] else None, gw


def _jvp(tangents, xw, h0, c0, w):
    """The output's tangent, carried forward step by step along the recurrence."""
    t_xw, t_h, t_c, t_w = tangents
    h, c, result = h0, c0, []
    for t in range(len(data_of(xw))):
        h_new, c_new, (i, f, g, o, tc) = cell_step(xw[t] + h @ w.T, c)
        t_a = [t_xw[t] if t_xw is not None else None]
        t_a += [t_h @ w.T if t_h is not None else None, h @ t_w.T if t_w is not None else None]
        t_i, t_f, t_g, t_o = _quarters(sum_present(t_a, like=xw[t]), np.shape(data_of(h0))[-1])
        t_i, t_f = t_i * i * (1.0 - i), t_f * f * (1.0 - f)
        t_g, t_o = t_g * (1.0 - g * g), t_o * o * (1.0 - o)
        t_c_new = t_f * c + t_i * g + i * t_g
        t_c = t_c_new if t_c is None else t_c_new + f * t_c
        t_h = t_o * tc + o * (1.0 - tc * tc) * t_c
        result.append(t_h)
        h, c = h_new, c_new
    return stack([*result, t_c])


@register(
    "lstm_scan",
    Domain("lstm_scan", ranges=((-2.0, 2.0), (-1.0, 1.0), (-1.0, 1.0), (-0.8, 0.8))),
)
class LSTMScan(GatedScan):
    """h_t, c_t of the LSTM for t = 1..L (PyTorch's gates i, f, g, o); the result is h_1..h_L
    and then c_L. Gradient: backpropagation through time, per step from the last:
    dh = g_t + da_{t+1} @ W, dc = dc_{t+1} + dh * o * (1 - tanh(c_t)**2),
    da_t = [dc * g * i(1-i), dc * c_{t-1} * f(1-f), dc * i * (1-g**2), dh * tanh(c_t) * o(1-o)],
    dc_t-1 = dc * f; gxw_t = da_t, gW = sum_t da_t.T @ h_{t-1}, gh0 = da_1 @ W, gc0 = dc_0."""

    name = "lstm_scan"
    forward = staticmethod(_forward)
    backward = staticmethod(_vjp)
    tangent = staticmethod(_jvp)


def lstm_scan(xw, h0, c0, w_hh):
    """The LSTM recurrence over a sequence: xw (L, N, 4H) the projected inputs (biases added),
    h0 and c0 (N, H), W_hh (4H, H). Returns (L + 1, N, H): h_1 .. h_L, then c_L."""
    return apply(LSTMScan, xw, h0, c0, w_hh, saved=Saved())


from minigrad.ops.elementwise import sigmoid, tanh  # noqa: E402
from minigrad.ops.shape import stack  # noqa: E402
