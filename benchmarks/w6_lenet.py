"""W6: one training step of LeNet-5 on a fixed batch of 64 1x28x28 images, float32.

conv 6@5x5 (padding 2), ReLU, max-pool 2, conv 16@5x5, ReLU, max-pool 2, flatten, linear
400-120-84-10 (ReLU between), softmax cross-entropy (mean), backward, SGD (lr 0.01). All
implementations start from the same weights (PyTorch's layouts: conv (out, in, kh, kw), linear
(out, in)) and see the same batch.

The reference is written by hand in numpy, as fast as we could make it: it keeps every
activation in a batch-last layout (C, H, W, N), where im2col is 25 copies of long contiguous
runs (5x faster than in (N, C, H, W)), each convolution one BLAS matrix product, its weight
gradient another, its input gradient a product and 25 strided additions (col2im), max pooling
four strided comparisons; it never converts back to (N, C, H, W) except once before the
linear layers. minigrad computes in (N, C, H, W) at every layer boundary (PyTorch's layout,
which its ops promise) and converts inside each convolution.
"""

from __future__ import annotations

import numpy as np
from harness import Case

LR = 0.01
BATCH = 64
# (name, shape) of every parameter, in PyTorch's order and layouts
SHAPES = [
    ("conv1.weight", (6, 1, 5, 5)),
    ("conv1.bias", (6,)),
    ("conv2.weight", (16, 6, 5, 5)),
    ("conv2.bias", (16,)),
    ("fc1.weight", (120, 400)),
    ("fc1.bias", (120,)),
    ("fc2.weight", (84, 120)),
    ("fc2.bias", (84,)),
    ("fc3.weight", (10, 84)),
    ("fc3.bias", (10,)),
]


def make_problem(dtype=np.float32, seed: int = 5):
    """Parameters uniform in +-1/sqrt(fan_in) (PyTorch's default init), images, labels."""
    rng = np.random.default_rng(seed)
    params = []
    for i in range(0, len(SHAPES), 2):
        shape = SHAPES[i][1]
        bound = 1 / np.sqrt(np.prod(shape[1:]))
        params.append(rng.uniform(-bound, bound, size=shape).astype(dtype))
        params.append(rng.uniform(-bound, bound, size=shape[0]).astype(dtype))
    x = rng.normal(size=(BATCH, 1, 28, 28)).astype(dtype)
    labels = rng.integers(0, 10, size=BATCH)
    return params, x, labels


# ----- the numpy reference ---------------------------------------------------------------------
def _im2col(xt, k, out):
    """xt (C, H, W, N) -> columns (C*k*k, out*out*N): one copy per kernel offset."""
    cols = np.empty((xt.shape[0], k, k, out, out, xt.shape[-1]), dtype=xt.dtype)
    for a in range(k):
        for b in range(k):
            cols[:, a, b] = xt[:, a : a + out, b : b + out]
    return cols.reshape(-1, out * out * xt.shape[-1])


def _col2im(gcols, channels, k, out, size, n):
    """The transpose of _im2col: columns added back into (C, size, size, N)."""
    gcols = gcols.reshape(channels, k, k, out, out, n)
    gx = np.zeros((channels, size, size, n), dtype=gcols.dtype)
    for a in range(k):
        for b in range(k):
            gx[:, a : a + out, b : b + out] += gcols[:, a, b]
    return gx


def _pool(a):
    """2x2 max pooling of (C, H, W, N); the offset of each maximum (first one on a tie). The
    maximum first, then where it is, from the last offset to the first (this takes half the
    time of updating both offset by offset)."""
    entries = [a[:, r::2, c::2] for r, c in ((0, 0), (0, 1), (1, 0), (1, 1))]
    best = np.maximum(entries[0], entries[1])
    np.maximum(best, entries[2], out=best)
    np.maximum(best, entries[3], out=best)
    where = np.full(best.shape, 3, dtype=np.uint8)
    for i in (2, 1, 0):
        np.copyto(where, i, where=entries[i] == best)
    return best, where


def _unpool(g, where, shape):
    gx = np.empty(shape, dtype=g.dtype)
    for i, (r, c) in enumerate([(0, 0), (0, 1), (1, 0), (1, 1)]):
        gx[:, r::2, c::2] = np.where(where == i, g, 0)
    return gx


def numpy_builder(problem):
    """The reference: forward and backward by hand, batch-last throughout."""

    def build():
        params, x, labels = problem
        params = [p.copy() for p in params]
        w1, b1, w2, b2, f1, c1, f2, c2, f3, c3 = params
        n = len(labels)
        rows = np.arange(n)

        def step():
            # forward (the batch's columns are made every step, as they would be for a new one)
            xt = np.zeros((1, 32, 32, n), dtype=x.dtype)
            xt[:, 2:30, 2:30] = x.transpose(1, 2, 3, 0)
            cols1 = _im2col(xt, 5, 28)
            a1 = (w1.reshape(6, -1) @ cols1).reshape(6, 28, 28, n)
            a1 += b1[:, None, None, None]
            np.maximum(a1, 0, out=a1)
            p1, where1 = _pool(a1)
            cols2 = _im2col(p1, 5, 10)
            a2 = (w2.reshape(16, -1) @ cols2).reshape(16, 10, 10, n)
            a2 += b2[:, None, None, None]
            np.maximum(a2, 0, out=a2)
            p2, where2 = _pool(a2)
            h0 = p2.reshape(400, n).T  # (N, 400) in PyTorch's flatten order
            z1 = h0 @ f1.T + c1
            h1 = np.maximum(z1, 0)
            z2 = h1 @ f2.T + c2
            h2 = np.maximum(z2, 0)
            z3 = h2 @ f3.T + c3
            shifted = z3 - z3.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            total = exp.sum(axis=1, keepdims=True)
            loss = np.mean(np.log(total[:, 0]) - shifted[rows, labels])
            # backward
            g3 = exp / total
            g3[rows, labels] -= 1
            g3 /= n
            g2 = (g3 @ f3) * (z2 > 0)
            g1 = (g2 @ f2) * (z1 > 0)
            g0 = g1 @ f1
            grads = [None] * 4 + [g1.T @ h0, g1.sum(0), g2.T @ h1, g2.sum(0), g3.T @ h2, g3.sum(0)]
            ga2 = _unpool(g0.T.reshape(16, 5, 5, n), where2, a2.shape)
            ga2 *= a2 > 0
            ga2 = ga2.reshape(16, -1)
            grads[2] = (ga2 @ cols2.T).reshape(w2.shape)
            grads[3] = ga2.sum(1)
            gp1 = _col2im(w2.reshape(16, -1).T @ ga2, 6, 5, 10, 14, n)
            ga1 = _unpool(gp1, where1, a1.shape)
            ga1 *= a1 > 0
            ga1 = ga1.reshape(6, -1)
            grads[0] = (ga1 @ cols1.T).reshape(w1.shape)
            grads[1] = ga1.sum(1)
            for p, gp in zip(params, grads):
                p -= LR * gp
            return (loss,)

        return step

    return build


# ----- the libraries ------------------------------------------------------------------------------
def minigrad_builder(problem, parameters_only: bool = False):
    """minigrad.nn: Conv2d, ReLU, MaxPool2d, Flatten, Linear in a Sequential;
    losses.cross_entropy; optim.SGD. The first two steps check that parameters and gradients
    stay float32."""

    def build():
        from minigrad import losses, nn, optim

        params, x, labels = problem
        model = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2, dtype=x.dtype),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5, dtype=x.dtype),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(400, 120, dtype=x.dtype),
            nn.ReLU(),
            nn.Linear(120, 84, dtype=x.dtype),
            nn.ReLU(),
            nn.Linear(84, 10, dtype=x.dtype),
        )
        parameters = model.parameters()
        for p, a in zip(parameters, params):
            if p.data.shape != a.shape:
                raise ValueError(f"a parameter has shape {p.data.shape}, expected {a.shape}")
            p.data = a.copy()
        opt = optim.SGD(parameters, lr=LR)
        only = parameters if parameters_only else None
        checks_left = [2]

        def step():
            loss = losses.cross_entropy(model(x), labels)
            opt.zero_grad()
            loss.backward(inputs=only)
            opt.step()
            if checks_left[0]:
                checks_left[0] -= 1
                for p in parameters:
                    if p.data.dtype != x.dtype or p.grad.dtype != x.dtype:
                        raise TypeError(f"a parameter became {p.data.dtype}/{p.grad.dtype}")
            return (loss.data,)

        return step

    return build


def torch_builder(problem):
    """torch.nn: the same Sequential, F.cross_entropy, optim.SGD, on CPU."""

    def build():
        import torch
        from torch import nn

        params, x, labels = problem
        model = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(6, 16, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(400, 120),
            nn.ReLU(),
            nn.Linear(120, 84),
            nn.ReLU(),
            nn.Linear(84, 10),
        ).to(torch.from_numpy(x).dtype)
        with torch.no_grad():
            for p, a in zip(model.parameters(), params):
                p.copy_(torch.from_numpy(a))
        opt = torch.optim.SGD(model.parameters(), lr=LR)
        inputs, targets = torch.from_numpy(x), torch.from_numpy(labels)

        def step():
            loss = torch.nn.functional.cross_entropy(model(inputs), targets)
            opt.zero_grad()
            loss.backward()
            opt.step()
            return (loss.item(),)

        return step

    return build


def mygrad_builder(problem):
    """MyGrad: its conv_nd and max_pool, relu, softmax_crossentropy; SGD by hand."""

    def build():
        import mygrad as mg
        from mygrad.nnet.activations import relu
        from mygrad.nnet.layers import conv_nd, max_pool
        from mygrad.nnet.losses import softmax_crossentropy

        params, x, labels = problem
        tensors = [mg.tensor(p.copy()) for p in params]
        w1, b1, w2, b2, f1, c1, f2, c2, f3, c3 = tensors

        def step():
            a = conv_nd(x, w1, stride=1, padding=2) + b1[:, None, None]
            a = max_pool(relu(a), (2, 2), 2)
            a = conv_nd(a, w2, stride=1) + b2[:, None, None]
            a = max_pool(relu(a), (2, 2), 2).reshape(len(labels), -1)
            a = relu(mg.matmul(a, f1.T) + c1)
            a = relu(mg.matmul(a, f2.T) + c2)
            loss = softmax_crossentropy(mg.matmul(a, f3.T) + c3, labels)
            loss.backward()
            for t in tensors:
                t.data -= LR * t.grad
            value = float(loss.item())
            loss.null_grad()
            return (value,)

        return step

    return build


def cases(quick: bool) -> list[Case]:
    problem = make_problem()
    return [
        Case(
            workload="W6",
            key="b64-float32",
            label="batch 64, float32",
            unit="ms/step",
            scale=1e3,
            per=1,
            builders={
                "numpy": numpy_builder(problem),
                "minigrad": minigrad_builder(problem),
                "minigrad-params": minigrad_builder(problem, parameters_only=True),
                "torch": torch_builder(problem),
                "mygrad": mygrad_builder(problem),
            },
            rtol=1e-5,  # float32 sums in different orders differ by a few ulps
            memory_steps=20,
        )
    ]
