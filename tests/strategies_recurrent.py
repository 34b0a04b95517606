"""Hypothesis cases for the recurrent scans (rnn_scan, lstm_scan, gru_scan), each with a plain
numpy loop as its reference forward. tests/strategies.py adds them to CASE_BUILDERS.

Small sizes: 1-3 steps, batch 1-2, hidden 1-3 (a finite difference per input entry runs the
whole scan again). The relu RNN is drawn only where every pre-activation keeps KINK_MARGIN away
from relu's kink at 0, where a finite difference measures nothing useful.
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

import minigrad.ops as ops
from minigrad.ops.registry import Domain


def _helpers():
    # Imported when a case is drawn: tests/strategies.py imports this file at its end.
    from tests.strategies import KINK_MARGIN, Case, domain_input

    return KINK_MARGIN, Case, domain_input


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def rnn_reference(xw, h0, w, nonlinearity):
    h, out, pre = h0, [], []
    for t in range(len(xw)):
        a = xw[t] + h @ w.T
        pre.append(a)
        h = np.tanh(a) if nonlinearity == "tanh" else np.maximum(a, 0.0)
        out.append(h)
    return np.stack(out), np.stack(pre)


def lstm_reference(xw, h0, c0, w):
    hidden = h0.shape[-1]
    h, c, out = h0, c0, []
    for t in range(len(xw)):
        a = xw[t] + h @ w.T
        i, f = _sigmoid(a[:, :hidden]), _sigmoid(a[:, hidden : 2 * hidden])
        g, o = np.tanh(a[:, 2 * hidden : 3 * hidden]), _sigmoid(a[:, 3 * hidden :])
        c = f * c + i * g
        h = o * np.tanh(c)
        out.append(h)
    return np.stack([*out, c])


def gru_reference(xw, h0, w, b):
    hidden = h0.shape[-1]
    h, out = h0, []
    for t in range(len(xw)):
        hp = h @ w.T + b
        r = _sigmoid(xw[t, :, :hidden] + hp[:, :hidden])
        z = _sigmoid(xw[t, :, hidden : 2 * hidden] + hp[:, hidden : 2 * hidden])
        n = np.tanh(xw[t, :, 2 * hidden :] + r * hp[:, 2 * hidden :])
        h = (1 - z) * n + z * h
        out.append(h)
    return np.stack(out)


def _sizes(draw):
    return draw(st.integers(1, 3)), draw(st.integers(1, 2)), draw(st.integers(1, 3))


@st.composite
def rnn_scan_case(draw, name: str, domain: Domain):
    """xw (L, N, H), h0 (N, H), W_hh (H, H); tanh or relu."""
    kink_margin, Case, domain_input = _helpers()
    steps, n, hidden = _sizes(draw)
    nonlinearity = draw(st.sampled_from(["tanh", "relu"]))
    xw = draw(domain_input(domain, 0, (steps, n, hidden), 3, allow_float=False))
    h0 = draw(domain_input(domain, 1, (n, hidden), 3, allow_float=False))
    w = draw(domain_input(domain, 2, (hidden, hidden), 3, allow_float=False))
    if nonlinearity == "relu":
        assume(np.min(np.abs(rnn_reference(xw, h0, w, "relu")[1])) > kink_margin)
    return Case(
        [xw, h0, w],
        lambda xw, h0, w: ops.rnn_scan(xw, h0, w, nonlinearity),
        f"rnn_scan(nonlinearity={nonlinearity!r})",
        lambda xw, h0, w: rnn_reference(xw, h0, w, nonlinearity)[0],
    )


@st.composite
def lstm_scan_case(draw, name: str, domain: Domain):
    """xw (L, N, 4H), h0 and c0 (N, H), W_hh (4H, H)."""
    _, Case, domain_input = _helpers()
    steps, n, hidden = _sizes(draw)
    xw = draw(domain_input(domain, 0, (steps, n, 4 * hidden), 4, allow_float=False))
    h0 = draw(domain_input(domain, 1, (n, hidden), 4, allow_float=False))
    c0 = draw(domain_input(domain, 2, (n, hidden), 4, allow_float=False))
    w = draw(domain_input(domain, 3, (4 * hidden, hidden), 4, allow_float=False))
    return Case([xw, h0, c0, w], ops.lstm_scan, "lstm_scan", lstm_reference)


@st.composite
def gru_scan_case(draw, name: str, domain: Domain):
    """xw (L, N, 3H), h0 (N, H), W_hh (3H, H), b_hh (3H,)."""
    _, Case, domain_input = _helpers()
    steps, n, hidden = _sizes(draw)
    xw = draw(domain_input(domain, 0, (steps, n, 3 * hidden), 4, allow_float=False))
    h0 = draw(domain_input(domain, 1, (n, hidden), 4, allow_float=False))
    w = draw(domain_input(domain, 2, (3 * hidden, hidden), 4, allow_float=False))
    b = draw(domain_input(domain, 3, (3 * hidden,), 4, allow_float=False))
    return Case([xw, h0, w, b], ops.gru_scan, "gru_scan", gru_reference)


RECURRENT_CASES = {
    "rnn_scan": rnn_scan_case,
    "lstm_scan": lstm_scan_case,
    "gru_scan": gru_scan_case,
}
