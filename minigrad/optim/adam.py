"""Adam and AdamW, with PyTorch's update formulas (bias correction, amsgrad, L2 or decoupled
weight decay)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.optim.optimizer import Optimizer, _zeros


class Adam(Optimizer):
    """Adam (PyTorch's, with L2 weight decay added to the gradient):

        g <- g + weight_decay * w
        m <- beta1 * m + (1 - beta1) * g;      v <- beta2 * v + (1 - beta2) * g**2
        w <- w - lr / (1 - beta1**t) * m / (sqrt(v) / sqrt(1 - beta2**t) + eps)

    `amsgrad=True` uses the running maximum of v instead of v.
    """

    decoupled = False

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
    ) -> None:
        b1, b2 = betas
        if not (0.0 <= b1 < 1.0 and 0.0 <= b2 < 1.0):
            raise ValueError(f"{type(self).__name__}: betas must lie in [0, 1), got {betas}")
        if eps < 0:
            raise ValueError(f"{type(self).__name__}: eps must be >= 0, got {eps}")
        super().__init__(
            params,
            dict(
                lr=float(lr),
                betas=(float(b1), float(b2)),
                eps=float(eps),
                weight_decay=float(weight_decay),
                amsgrad=bool(amsgrad),
            ),
        )

    def step(self) -> None:
        for group in self.param_groups:
            lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
            wd, amsgrad = group["weight_decay"], group["amsgrad"]
            for p in group["params"]:
                g = p.grad
                if g is None or not p.requires_grad:  # frozen: skipped
                    continue
                if wd and self.decoupled:
                    p.data *= 1.0 - lr * wd
                elif wd:
                    g = g + wd * p.data
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {
                        "step": 0,
                        "exp_avg": _zeros(p.data),
                        "exp_avg_sq": _zeros(p.data),
                    }
                    if amsgrad:
                        state["max_exp_avg_sq"] = _zeros(p.data)
                t = state["step"] = state["step"] + 1
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m *= b1  # in place for arrays; rebinding for floats, hence the stores below
                m += (1.0 - b1) * g
                v *= b2
                v += (1.0 - b2) * (g * g)
                state["exp_avg"], state["exp_avg_sq"] = m, v
                if amsgrad:
                    vmax = state["max_exp_avg_sq"]
                    if type(vmax) is float:
                        vmax = state["max_exp_avg_sq"] = max(vmax, v)
                    else:
                        np.maximum(vmax, v, out=vmax)
                    v = vmax
                denom = v**0.5 / math.sqrt(1.0 - b2**t) + eps
                p.data -= (lr / (1.0 - b1**t)) * (m / denom)


class AdamW(Adam):
    """Adam with decoupled weight decay (PyTorch's AdamW): first w <- w * (1 - lr *
    weight_decay), then the Adam step on the plain gradient. Default weight_decay 0.01."""

    decoupled = True

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad)
