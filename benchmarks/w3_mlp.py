"""W3 and W4: one training step of a ReLU MLP on a fixed batch.

Forward, softmax cross-entropy against integer labels, backward, SGD (lr 0.01). W3 is
64-128-128-10 at batch 64 and 512, float32 and float64: per-op overhead matters. W4 is
1024-1024-1024-1024 at batch 256, float32: matmul-bound. All implementations start from the same
weights (stored here as (in, out) matrices) and see the same batch.
"""

from __future__ import annotations

import numpy as np
from harness import Case

LR = 0.01


def make_problem(sizes: list[int], batch: int, dtype, seed: int = 3):
    """Weights [W1, b1, W2, b2, ...] (uniform as torch's default init), inputs and labels."""
    rng = np.random.default_rng(seed)
    params = []
    for nin, nout in zip(sizes[:-1], sizes[1:]):
        bound = 1 / np.sqrt(nin)
        params.append(rng.uniform(-bound, bound, size=(nin, nout)).astype(dtype))
        params.append(rng.uniform(-bound, bound, size=nout).astype(dtype))
    x = rng.normal(size=(batch, sizes[0])).astype(dtype)
    labels = rng.integers(0, sizes[-1], size=batch)
    return params, x, labels


def numpy_builder(problem):
    """The reference: forward and backward written by hand in numpy."""

    def build():
        params, x, labels = problem
        params = [p.copy() for p in params]
        rows = np.arange(len(labels))

        def step():
            # forward, keeping each layer's input and pre-activation
            inputs, pre = [], []
            a = x
            for i in range(0, len(params), 2):
                inputs.append(a)
                z = a @ params[i] + params[i + 1]
                pre.append(z)
                a = np.maximum(z, 0) if i + 2 < len(params) else z
            shifted = a - a.max(axis=1, keepdims=True)
            exp = np.exp(shifted)
            total = exp.sum(axis=1, keepdims=True)
            loss = np.mean(np.log(total[:, 0]) - shifted[rows, labels])
            # backward: softmax minus one-hot, over the batch
            g = exp / total
            g[rows, labels] -= 1
            g /= len(labels)
            grads = [None] * len(params)
            for i in range(len(params) - 2, -1, -2):
                if i + 2 < len(params):
                    g = g * (pre[i // 2] > 0)  # relu'(0) = 0
                grads[i] = inputs[i // 2].T @ g
                grads[i + 1] = g.sum(axis=0)
                if i > 0:
                    g = g @ params[i].T
            for p, gp in zip(params, grads):
                p -= LR * gp
            return (loss,)

        return step

    return build


def torch_builder(problem):
    """torch.nn: Sequential of Linear and ReLU, F.cross_entropy, optim.SGD."""

    def build():
        import torch

        params, x, labels = problem
        layers = []
        for i in range(0, len(params), 2):
            w = params[i]
            linear = torch.nn.Linear(*w.shape, dtype=torch.from_numpy(w).dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(w.T.copy()))
                linear.bias.copy_(torch.from_numpy(params[i + 1]))
            layers += [linear, torch.nn.ReLU()]
        model = torch.nn.Sequential(*layers[:-1])
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


def minigrad_builder(problem, parameters_only: bool = False):
    """minigrad.nn: Sequential of Linear and ReLU, losses.cross_entropy, optim.SGD.

    `loss.backward()` fills in `.grad` of every node, intermediates included (issue 2);
    with `parameters_only`, `loss.backward(inputs=parameters)` fills in only the parameters'
    (PyTorch's default), and keeps no memory for the intermediates' gradients.
    The first two steps also check that parameters and gradients keep the batch's dtype
    (float32 must stay float32 end to end).
    """

    def build():
        from minigrad import losses, nn, optim

        params, x, labels = problem
        layers = []
        for i in range(0, len(params), 2):
            layers += [nn.Linear(*params[i].shape), nn.ReLU()]
        model = nn.Sequential(*layers[:-1])
        load_parameters(model.parameters(), params, weight_in_out=_linear_is_in_out(nn))
        opt = optim.SGD(model.parameters(), lr=LR)
        checks_left = [2]
        only = model.parameters() if parameters_only else None

        def step():
            loss = losses.cross_entropy(model(x), labels)
            opt.zero_grad()
            loss.backward(inputs=only)
            opt.step()
            if checks_left[0]:
                checks_left[0] -= 1
                _check_dtypes(model.parameters(), x.dtype)
            return (loss.data,)

        return step

    return build


def _linear_is_in_out(nn) -> bool:
    """Whether minigrad's Linear stores its weight as (in, out), probed on a non-square one."""
    shape = tuple(nn.Linear(3, 2).parameters()[0].data.shape)
    if shape not in [(3, 2), (2, 3)]:
        raise ValueError(f"Linear(3, 2) has a first parameter of shape {shape}")
    return shape == (3, 2)


def load_parameters(parameters, arrays, weight_in_out: bool) -> None:
    """Give the parameters (weight, bias, weight, bias, ...) our arrays, in their layout."""
    if len(parameters) != len(arrays):
        raise ValueError(f"{len(parameters)} parameters, expected {len(arrays)}")
    for p, a in zip(parameters, arrays):
        if a.ndim == 2 and not weight_in_out:
            a = a.T
        p.data = np.ascontiguousarray(a).reshape(np.shape(p.data)).copy()


def _check_dtypes(parameters, dtype) -> None:
    for p in parameters:
        for name, array in [("data", p.data), ("grad", p.grad)]:
            if np.asarray(array).dtype != dtype:
                raise TypeError(f"a parameter's {name} is {np.asarray(array).dtype}, not {dtype}")


def _builders(problem) -> dict:
    return {
        "numpy": numpy_builder(problem),
        "minigrad": minigrad_builder(problem),
        "minigrad-params": minigrad_builder(problem, parameters_only=True),
        "torch": torch_builder(problem),
    }


def _tolerance(dtype) -> float:
    # float32 losses summed in a different order differ by a few ulps (~1e-7 relative)
    return 1e-5 if dtype == np.float32 else 1e-9


def cases_w3(quick: bool) -> list[Case]:
    """Batch 64 and 512, float32 and float64."""
    result = []
    for batch in [64, 512]:
        for dtype in [np.float32, np.float64]:
            name = np.dtype(dtype).name
            problem = make_problem([64, 128, 128, 10], batch, dtype)
            result.append(
                Case(
                    workload="W3",
                    key=f"b{batch}-{name}",
                    label=f"batch {batch}, {name}",
                    unit="ms/step",
                    scale=1e3,
                    per=1,
                    builders=_builders(problem),
                    rtol=_tolerance(dtype),
                    memory_steps=20,
                )
            )
    return result


def cases_w4(quick: bool) -> list[Case]:
    """Batch 256, float32: fewer samples, each step is tens of milliseconds."""
    problem = make_problem([1024, 1024, 1024, 1024], 256, np.float32)
    return [
        Case(
            workload="W4",
            key="b256-float32",
            label="batch 256, float32",
            unit="ms/step",
            scale=1e3,
            per=1,
            builders=_builders(problem),
            rtol=_tolerance(np.float32),
            budget=1.5,
            memory_steps=3,
        )
    ]
