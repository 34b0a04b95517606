"""W7: one training step of an LSTM and of a GRU, 32 inputs -> 128 hidden units.

A fixed batch of 32 sequences of 35 steps (time-major, (35, 32, 32)), float32: the layer's
output (35, 32, 128), the mean squared error against a fixed target, backward, SGD (lr 0.1) on
the layer's four parameters. All implementations start from the same weights (PyTorch's
layout, W_ih (G*128, 32), W_hh (G*128, 128), b_ih, b_hh, with G = 4 gates for the LSTM, 3 for
the GRU) and see the same batch. The reference is backpropagation through time written by
hand in numpy: the input projection of all steps in one matmul, per step one matmul and the
gates on whole arrays, the weight gradients of all steps in one matmul each.
"""

from __future__ import annotations

import numpy as np
from harness import Case

LR = 0.1
STEPS, BATCH, N_IN, HIDDEN = 35, 32, 32, 128


def make_problem(gates: int, seed: int = 7):
    """[W_ih, W_hh, b_ih, b_hh] (uniform as torch's default init), inputs and target."""
    rng = np.random.default_rng(seed)
    bound = 1 / np.sqrt(HIDDEN)
    rows = gates * HIDDEN
    shapes = [(rows, N_IN), (rows, HIDDEN), (rows,), (rows,)]
    params = [rng.uniform(-bound, bound, size=s).astype(np.float32) for s in shapes]
    x = rng.normal(size=(STEPS, BATCH, N_IN)).astype(np.float32)
    target = rng.normal(scale=0.3, size=(STEPS, BATCH, HIDDEN)).astype(np.float32)
    return params, x, target


def _sigmoid_(a):
    a *= -1.0
    np.exp(a, out=a)
    a += 1.0
    np.reciprocal(a, out=a)


def _sgd(params, grads):
    for p, g in zip(params, grads):
        p -= LR * g  # in place


def numpy_lstm_builder(problem):
    """The reference LSTM: forward keeping the gates, BPTT by hand, SGD."""

    def build():
        params, x, target = problem
        w_ih, w_hh, b_ih, b_hh = (p.copy() for p in params)
        h4, hid = 4 * HIDDEN, HIDDEN
        x2 = x.reshape(-1, N_IN)

        def step():
            with np.errstate(over="ignore"):
                xw = (x2 @ w_ih.T + (b_ih + b_hh)).reshape(STEPS, BATCH, h4)
                acts = np.empty_like(xw)
                hs = np.empty((STEPS, BATCH, hid), np.float32)
                cs, tcs = np.empty_like(hs), np.empty_like(hs)
                h = c = np.zeros((BATCH, hid), np.float32)
                for t in range(STEPS):
                    a = acts[t]
                    np.matmul(h, w_hh.T, out=a)
                    a += xw[t]
                    _sigmoid_(a[:, : 2 * hid])
                    np.tanh(a[:, 2 * hid : 3 * hid], out=a[:, 2 * hid : 3 * hid])
                    _sigmoid_(a[:, 3 * hid :])
                    c = np.multiply(a[:, hid : 2 * hid], c, out=cs[t])
                    c += a[:, :hid] * a[:, 2 * hid : 3 * hid]
                    np.tanh(c, out=tcs[t])
                    h = np.multiply(a[:, 3 * hid :], tcs[t], out=hs[t])
            diff = hs - target
            loss = np.mean(diff * diff)
            gh = diff * np.float32(2.0 / diff.size)
            dacts = np.empty_like(acts)
            dh_next = np.zeros((BATCH, hid), np.float32)
            dc = np.zeros((BATCH, hid), np.float32)
            for t in range(STEPS - 1, -1, -1):
                i, f = acts[t, :, :hid], acts[t, :, hid : 2 * hid]
                g, o = acts[t, :, 2 * hid : 3 * hid], acts[t, :, 3 * hid :]
                tc = tcs[t]
                c_prev = cs[t - 1] if t else np.zeros_like(tc)
                dh = gh[t] + dh_next
                dc = dc + dh * o * (1 - tc * tc)
                d = dacts[t]
                np.multiply(dc * g, i * (1 - i), out=d[:, :hid])
                np.multiply(dc * c_prev, f * (1 - f), out=d[:, hid : 2 * hid])
                np.multiply(dc * i, 1 - g * g, out=d[:, 2 * hid : 3 * hid])
                np.multiply(dh * tc, o * (1 - o), out=d[:, 3 * hid :])
                dc = dc * f
                dh_next = d @ w_hh
            d2 = dacts.reshape(-1, h4)
            g_ih = d2.T @ x2
            g_hh = dacts[1:].reshape(-1, h4).T @ hs[:-1].reshape(-1, hid)
            g_b = d2.sum(axis=0)
            _sgd([w_ih, w_hh, b_ih, b_hh], [g_ih, g_hh, g_b, g_b])
            return (loss,)

        return step

    return build


def numpy_gru_builder(problem):
    """The reference GRU: forward keeping the gates and hidden projections, BPTT, SGD."""

    def build():
        params, x, target = problem
        w_ih, w_hh, b_ih, b_hh = (p.copy() for p in params)
        h3, hid = 3 * HIDDEN, HIDDEN
        x2 = x.reshape(-1, N_IN)

        def step():
            with np.errstate(over="ignore"):
                xw = (x2 @ w_ih.T + b_ih).reshape(STEPS, BATCH, h3)
                acts, hps = np.empty_like(xw), np.empty_like(xw)
                hs = np.empty((STEPS, BATCH, hid), np.float32)
                h = np.zeros((BATCH, hid), np.float32)
                for t in range(STEPS):
                    hp, a = hps[t], acts[t]
                    np.matmul(h, w_hh.T, out=hp)
                    hp += b_hh
                    np.add(xw[t, :, : 2 * hid], hp[:, : 2 * hid], out=a[:, : 2 * hid])
                    _sigmoid_(a[:, : 2 * hid])
                    n = a[:, 2 * hid :]
                    np.multiply(a[:, :hid], hp[:, 2 * hid :], out=n)
                    n += xw[t, :, 2 * hid :]
                    np.tanh(n, out=n)
                    h_new = np.subtract(h, n, out=hs[t])
                    h_new *= a[:, hid : 2 * hid]
                    h_new += n
                    h = h_new
            diff = hs - target
            loss = np.mean(diff * diff)
            gh = diff * np.float32(2.0 / diff.size)
            dx, dhp = np.empty_like(acts), np.empty_like(hps)
            dh_next = np.zeros((BATCH, hid), np.float32)
            for t in range(STEPS - 1, -1, -1):
                r, z, n = acts[t, :, :hid], acts[t, :, hid : 2 * hid], acts[t, :, 2 * hid :]
                h_prev = hs[t - 1] if t else np.zeros_like(n)
                dh = gh[t] + dh_next
                da_n = dh * (1 - z) * (1 - n * n)
                da_r = da_n * hps[t, :, 2 * hid :] * r * (1 - r)
                da_z = dh * (h_prev - n) * z * (1 - z)
                dx[t, :, :hid] = da_r
                dx[t, :, hid : 2 * hid] = da_z
                dx[t, :, 2 * hid :] = da_n
                dhp[t, :, : 2 * hid] = dx[t, :, : 2 * hid]
                np.multiply(da_n, r, out=dhp[t, :, 2 * hid :])
                dh_next = dh * z + dhp[t] @ w_hh
            dx2, dhp2 = dx.reshape(-1, h3), dhp.reshape(-1, h3)
            g_ih, g_bih = dx2.T @ x2, dx2.sum(axis=0)
            g_hh = dhp[1:].reshape(-1, h3).T @ hs[:-1].reshape(-1, hid)
            g_bhh = dhp2.sum(axis=0)
            _sgd([w_ih, w_hh, b_ih, b_hh], [g_ih, g_hh, g_bih, g_bhh])
            return (loss,)

        return step

    return build


def torch_builder(problem, kind: str):
    """torch.nn.LSTM / torch.nn.GRU, F.mse_loss, optim.SGD."""

    def build():
        import torch

        params, x, target = problem
        layer = getattr(torch.nn, kind)(N_IN, HIDDEN)
        with torch.no_grad():
            for p, a in zip(layer.parameters(), params):
                p.copy_(torch.from_numpy(a))
        opt = torch.optim.SGD(layer.parameters(), lr=LR)
        inputs, targets = torch.from_numpy(x), torch.from_numpy(target)

        def step():
            out, _ = layer(inputs)
            loss = torch.nn.functional.mse_loss(out, targets)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return (loss.item(),)

        return step

    return build


def minigrad_builder(problem, kind: str, parameters_only: bool = False):
    """minigrad.nn.LSTM / GRU (float32), losses.mse_loss, optim.SGD; with `parameters_only`,
    `loss.backward(inputs=parameters)` (no .grad kept for the intermediates)."""

    def build():
        from minigrad import losses, nn, optim

        params, x, target = problem
        layer = getattr(nn, kind)(N_IN, HIDDEN, dtype=np.float32)
        names = ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"]
        layer.load_state_dict({k: a.copy() for k, a in zip(names, params)})
        opt = optim.SGD(layer.parameters(), lr=LR)
        only = layer.parameters() if parameters_only else None
        checks_left = [2]

        def step():
            out, _ = layer(x)
            loss = losses.mse_loss(out, target)
            opt.zero_grad()
            loss.backward(inputs=only)
            opt.step()
            if checks_left[0]:
                checks_left[0] -= 1
                for p in layer.parameters():
                    if p.dtype != np.float32 or p.grad.dtype != np.float32:
                        raise TypeError(f"a parameter is {p.dtype}/{p.grad.dtype}, not float32")
            return (loss.data,)

        return step

    return build


def cases(quick: bool) -> list[Case]:
    result = []
    for kind, gates, reference in [("LSTM", 4, numpy_lstm_builder), ("GRU", 3, numpy_gru_builder)]:
        problem = make_problem(gates)
        result.append(
            Case(
                workload="W7",
                key=kind.lower(),
                label=f"{kind}(32 -> 128), batch 32 x 35 steps, float32",
                unit="ms/step",
                scale=1e3,
                per=1,
                builders={
                    "numpy": reference(problem),
                    "minigrad": minigrad_builder(problem, kind),
                    "minigrad-params": minigrad_builder(problem, kind, parameters_only=True),
                    "torch": torch_builder(problem, kind),
                },
                rtol=1e-5,
                budget=1.5,
                memory_steps=10,
            )
        )
    return result
