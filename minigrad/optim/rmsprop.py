"""RMSprop, with PyTorch's update formula (centered and momentum variants)."""

from __future__ import annotations

from typing import Any

from minigrad.optim.optimizer import Optimizer, _zeros


class RMSprop(Optimizer):
    """RMSprop (PyTorch's):

    g <- g + weight_decay * w;   s <- alpha * s + (1 - alpha) * g**2
    centered: a <- alpha * a + (1 - alpha) * g, and d = sqrt(s - a**2) + eps, else
              d = sqrt(s) + eps
    momentum > 0: b <- momentum * b + g / d, w <- w - lr * b;  else w <- w - lr * g / d
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        momentum: float = 0.0,
        centered: bool = False,
    ) -> None:
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"RMSprop: alpha must lie in [0, 1], got {alpha}")
        if eps < 0 or momentum < 0:
            raise ValueError(f"RMSprop: eps and momentum must be >= 0, got {eps}, {momentum}")
        super().__init__(
            params,
            dict(
                lr=float(lr),
                alpha=float(alpha),
                eps=float(eps),
                weight_decay=float(weight_decay),
                momentum=float(momentum),
                centered=bool(centered),
            ),
        )

    def step(self) -> None:
        for group in self.param_groups:
            lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
            wd, momentum, centered = group["weight_decay"], group["momentum"], group["centered"]
            for p in group["params"]:
                g = p.grad
                if g is None or not p.requires_grad:  # frozen: skipped
                    continue
                if wd:
                    g = g + wd * p.data
                state = self.state.get(p)
                if state is None:
                    state = self.state[p] = {"step": 0, "square_avg": _zeros(p.data)}
                    if momentum > 0:
                        state["momentum_buffer"] = _zeros(p.data)
                    if centered:
                        state["grad_avg"] = _zeros(p.data)
                state["step"] += 1
                s = state["square_avg"]
                s *= alpha
                s += (1.0 - alpha) * (g * g)
                state["square_avg"] = s
                if centered:
                    a = state["grad_avg"]
                    a *= alpha
                    a += (1.0 - alpha) * g
                    state["grad_avg"] = a
                    denom = (s - a * a) ** 0.5 + eps
                else:
                    denom = s**0.5 + eps
                if momentum > 0:
                    buf = state["momentum_buffer"]
                    buf *= momentum
                    buf += g / denom
                    state["momentum_buffer"] = buf
                    p.data -= lr * buf
                else:
                    p.data -= lr * g / denom
