"""gru_scan: the GRU recurrence over a whole sequence as one op (see recurrent.py for why).

PyTorch's GRU, gates in the order r, z, n; the reset gate multiplies the hidden projection
including its bias, so b_hh is an input here (the layer adds b_ih into xw):

    hp = h_{t-1} @ W.T + b_hh
    r = sigmoid(xw_r + hp_r),  z = sigmoid(xw_z + hp_z),  n = tanh(xw_n + r * hp_n)
    h_t = (1 - z) * n + z * h_{t-1}
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


def _thirds(a, hidden):
    return (a[..., k * hidden : (k + 1) * hidden] for k in range(3))


def _forward(xw, h0, w, b, saved=None):
    steps, n, hidden = check_scan("gru_scan", xw, (h0,), w, 3)
    if np.shape(b) != (3 * hidden,):
        raise ValueError(f"gru_scan needs b_hh of shape ({3 * hidden},), got {np.shape(b)}")
    dtype = np.result_type(xw, h0, w, b)
    out = np.empty((steps, n, hidden), dtype)
    acts = np.empty((steps, n, 3 * hidden), dtype)  # r, z, n of every step
    hps = np.empty((steps, n, 3 * hidden), dtype)  # the hidden projections
    w_t, two = w.T, 2 * hidden
    with np.errstate(over="ignore"):  # see sigmoid_
        for t in range(steps):
            h, hp, a = h0 if t == 0 else out[t - 1], hps[t], acts[t]
            np.matmul(h, w_t, out=hp)
            hp += b
            np.add(xw[t, :, :two], hp[:, :two], out=a[:, :two])
            sigmoid_(a[:, :two])
            r, z, n_t = _thirds(a, hidden)
            np.multiply(r, hp[:, two:], out=n_t)
            n_t += xw[t, :, two:]
            np.tanh(n_t, out=n_t)
            h_new = np.subtract(h, n_t, out=out[t])
            h_new *= z
            h_new += n_t
    if saved is not None:
        saved.arrays = (acts, hps)
    return out


def cell_step(xw_t, hp, h):
    """One GRU step from the input projection xw_t (N, 3H), the hidden projection hp (N, 3H,
    bias included) and h_{t-1}: (h_t, and what backward needs: r, z, n, hp_n), with
    minigrad's ops (recorded on Values)."""
    hidden = np.shape(data_of(h))[-1]
    x_r, x_z, x_n = _thirds(xw_t, hidden)
    h_r, h_z, h_n = _thirds(hp, hidden)
    r, z = sigmoid(x_r + h_r), sigmoid(x_z + h_z)
    n = tanh(x_n + r * h_n)
    return n + z * (h - n), (r, z, n, h_n)


def _step_back(dh, h_prev, r, z, n, hp_n, out_x=None, out_h=None):
    """One step of backpropagation through time from dh, the gradient of h_t: the gradients of
    xw_t and of hp_t (the pre-activations), and the part of h_{t-1}'s that skips W."""
    da_n = dh * (1.0 - z) * (1.0 - n * n)
    da_r = da_n * hp_n * r * (1.0 - r)
    da_z = dh * (h_prev - n) * z * (1.0 - z)
    return cat([da_r, da_z, da_n], out_x), cat([da_r, da_z, da_n * r], out_h), dh * z


def _vjp(g, out, xw, h0, w, b, needs, saved):
    steps = len(data_of(out))
    hidden = np.shape(data_of(h0))[-1]
    plain = is_plain(g, out, xw, h0, w, b) and saved is not None and saved.arrays is not None
    if plain:
        acts, hps = saved.arrays
        dx_all, dh_all = np.empty_like(acts), np.empty_like(hps)

        def step(t):  # h_{t-1}, r, z, n, hp_n from what the forward saved
            h_prev = h0 if t == 0 else out[t - 1]
            return (h_prev, *_thirds(acts[t], hidden), hps[t, :, 2 * hidden :])

        hs = out
    else:
        dx_all = dh_all = None
        steps_saved, hs, h = [], [], h0
        for t in range(steps):  # the forward again, recorded: its activations are Values
            h_new, keep = cell_step(xw[t], h @ w.T + b, h)
            steps_saved.append((h, *keep))
            hs.append(h_new)
            h = h_new
        hs = stack(hs)

        def step(t):
            return steps_saved[t]

    dxs, dhps = [None] * steps, [None] * steps
    dh_next = None
    for t in reversed(range(steps)):
        dh = g[t] if dh_next is None else g[t] + dh_next
        outs = (dx_all[t], dh_all[t]) if plain else (None, None)
        dxs[t], dhps[t], skip = _step_back(dh, *step(t), *outs)
        dh_next = skip + dhps[t] @ w
    if not plain:
        dx_all, dh_all = stack(dxs), stack(dhps)
    gw = weight_grad(dh_all, h0, hs, 3 * hidden) if needs[2] else None
    gb = dh_all.reshape(-1, 3 * hidden).sum(axis=0) if needs[3] else None
    return dx_all, dh_next if needs[1] else None, gw, gb


def _jvp(tangents, xw, h0, w, b):
    """The output's tangent, carried forward step by step along the recurrence."""
    t_xw, t_h, t_w, t_b = tangents
    hidden = np.shape(data_of(h0))[-1]
    h, result = h0, []
    for t in range(len(data_of(xw))):
        hp = h @ w.T + b
        h_new, (r, z, n, hp_n) = cell_step(xw[t], hp, h)
        t_hp = [t_h @ w.T if t_h is not None else None, h @ t_w.T if t_w is not None else None]
        t_hp = sum_present([*t_hp, t_b], like=hp)
        tx_r, tx_z, tx_n = _thirds(t_xw[t], hidden) if t_xw is not None else (0.0, 0.0, 0.0)
        th_r, th_z, th_n = _thirds(t_hp, hidden)
        t_r = (tx_r + th_r) * r * (1.0 - r)
        t_z = (tx_z + th_z) * z * (1.0 - z)
        t_n = (tx_n + t_r * hp_n + r * th_n) * (1.0 - n * n)
        t_new = t_n + t_z * (h - n) - z * t_n
        t_h = t_new if t_h is None else t_new + z * t_h
        result.append(t_h)
        h = h_new
    return stack(result)


@register(
    "gru_scan",
    Domain("gru_scan", ranges=((-2.0, 2.0), (-1.0, 1.0), (-0.8, 0.8), (-1.0, 1.0))),
)
class GRUScan(GatedScan):
    """h_t of PyTorch's GRU for t = 1..L (gates r, z, n; n = tanh(xw_n + r * (h @ W_n.T +
    b_n))); the result stacks h_t. Gradient: backpropagation through time, per step from the
    last, with dh = g_t + (the part of step t+1's that reaches h_t):
    da_n = dh * (1 - z) * (1 - n**2), da_r = da_n * hp_n * r(1-r), da_z = dh * (h_{t-1} - n) *
    z(1-z); gxw_t = [da_r, da_z, da_n], ghp_t = [da_r, da_z, da_n * r],
    dh_{t-1} = dh * z + ghp_t @ W; gW = sum_t ghp_t.T @ h_{t-1}, gb = sum_t ghp_t."""

    name = "gru_scan"
    forward = staticmethod(_forward)
    backward = staticmethod(_vjp)
    tangent = staticmethod(_jvp)


def gru_scan(xw, h0, w_hh, b_hh):
    """The GRU recurrence over a sequence: xw (L, N, 3H) the projected inputs (b_ih added), h0
    (N, H), W_hh (3H, H), b_hh (3H,). Returns every h_t, shape (L, N, H)."""
    return apply(GRUScan, xw, h0, w_hh, b_hh, saved=Saved())


from minigrad.ops.elementwise import sigmoid, tanh  # noqa: E402
from minigrad.ops.shape import stack  # noqa: E402
