"""SGD: stochastic gradient descent, with PyTorch's momentum, dampening, Nesterov and weight
decay."""

from __future__ import annotations

from typing import Any

from minigrad.optim.optimizer import Optimizer, _copy


class SGD(Optimizer):
    """Stochastic gradient descent, optionally with momentum and weight decay (PyTorch's):

        g <- g + weight_decay * w
        b <- g on the first step, then  b <- momentum * b + (1 - dampening) * g
        g <- g + momentum * b  (nesterov)  or  g <- b
        w <- w - lr * g

    With the defaults this is the textbook rule w <- w - lr * dL/dw.
    """

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0.0,
        dampening: float = 0.0,
        weight_decay: float = 0.0,
        nesterov: bool = False,
    ) -> None:
        if momentum < 0:
            raise ValueError(f"SGD: momentum must be >= 0, got {momentum}")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: nesterov needs momentum > 0 and dampening = 0")
        super().__init__(
            params,
            dict(
                lr=float(lr),
                momentum=float(momentum),
                dampening=float(dampening),
                weight_decay=float(weight_decay),
                nesterov=bool(nesterov),
            ),
        )

    def step(self) -> None:
        for group in self.param_groups:
            lr, momentum, wd = group["lr"], group["momentum"], group["weight_decay"]
            if not momentum and not wd:  # the plain rule, the hot path
                for p in group["params"]:
                    if p.grad is not None and p.requires_grad:  # frozen: skipped
                        p.data -= lr * p.grad
                continue
            dampening, nesterov = group["dampening"], group["nesterov"]
            for p in group["params"]:
                g = p.grad
                if g is None or not p.requires_grad:  # frozen: skipped
                    continue
                if wd:
                    g = g + wd * p.data  # a new object: p.grad is never changed
                if momentum:
                    state = self.state.get(p)
                    if state is None:
                        buf = _copy(g)
                        self.state[p] = {"momentum_buffer": buf}
                    else:
                        buf = state["momentum_buffer"]
                        buf *= momentum  # in place for arrays
                        buf += (1.0 - dampening) * g
                        state["momentum_buffer"] = buf  # needed for floats
                    g = g + momentum * buf if nesterov else buf
                p.data -= lr * g
