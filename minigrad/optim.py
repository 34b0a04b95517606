"""Optimizers and learning-rate schedules, with PyTorch's update formulas step for step.

An optimizer holds the parameters (Values) and updates their `.data` from their `.grad`:

    loss.backward(); optimizer.step(); optimizer.zero_grad()

The same code updates single-number parameters (Python floats, micrograd style) and array
parameters (in place, keeping float32 as float32, state included). A parameter whose `.grad` is
None is skipped. Notation: w a parameter, g its gradient, lr the learning rate, t the step count.

`state_dict()` holds only numpy arrays, numbers, strings, lists and dicts (it saves with
`minigrad.io.save`), and loading it makes training continue exactly as if never interrupted.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.value import Value

__all__ = [
    "Optimizer",
    "SGD",
    "Adam",
    "AdamW",
    "RMSprop",
    "LRScheduler",
    "StepLR",
    "ExponentialLR",
    "CosineAnnealingLR",
    "LinearLR",
]


def _zeros(x: Any) -> Any:
    return 0.0 if type(x) is float else np.zeros_like(x)


def _copy(x: Any) -> Any:
    # Numbers stay Python numbers: a step count turned into a 0-d int64 array would make the
    # bias correction a numpy float64 after loading, which promotes float32 updates.
    return x if type(x) in (float, int) else np.array(x, copy=True)


class Optimizer:
    """Base class: parameter groups (each a dict with 'params' and its hyperparameters), the
    per-parameter `state`, `zero_grad()` and saving. Subclasses define `step()`."""

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self.defaults = dict(defaults)
        if hasattr(params, "parameters") and callable(params.parameters):
            params = params.parameters()  # a Module
        if isinstance(params, Value):
            raise TypeError(
                f"{type(self).__name__}: params must be an iterable of Values (for "
                "example model.parameters()), got a single Value; wrap it in a list"
            )
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        self.param_groups: list[dict[str, Any]] = []
        self.state: dict[Value, dict[str, Any]] = {}
        seen: set[int] = set()
        for group in groups:
            group = {**self.defaults, **group}
            group["params"] = list(group["params"])
            for p in group["params"]:
                if not isinstance(p, Value):
                    raise TypeError(
                        f"{type(self).__name__}: expected Values to optimize, got "
                        f"{type(p).__name__}"
                    )
                if id(p) in seen:
                    raise ValueError(f"{type(self).__name__}: a parameter appears twice")
                seen.add(id(p))
            self._check_hyper(group)
            self.param_groups.append(group)

    def _check_hyper(self, group: dict[str, Any]) -> None:
        if not 0 <= group["lr"] < math.inf:  # also refuses nan, which fails every comparison
            raise ValueError(
                f"{type(self).__name__}: lr must be >= 0 and finite, got {group['lr']}"
            )
        if not group.get("weight_decay", 0.0) >= 0:
            raise ValueError(
                f"{type(self).__name__}: weight_decay must be >= 0, got {group['weight_decay']}"
            )

    def parameters(self) -> list[Value]:
        return [p for group in self.param_groups for p in group["params"]]

    @property
    def lr(self) -> float:
        """The learning rate of the first parameter group (set it to change every group's)."""
        return self.param_groups[0]["lr"]

    @lr.setter
    def lr(self, value: float) -> None:
        if not 0 <= value < math.inf:
            raise ValueError(f"{type(self).__name__}: lr must be >= 0 and finite, got {value}")
        for group in self.param_groups:
            group["lr"] = float(value)

    def zero_grad(self) -> None:
        """Forget the gradients: `.grad = None` for every parameter."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self) -> None:
        raise NotImplementedError

    # ----- saving --------------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """{'state': {index: {name: array or number}}, 'param_groups': [{hyper..., 'params':
        [indices]}]}, parameters numbered in order across groups, as in PyTorch. Copies."""
        index = {id(p): i for i, p in enumerate(self.parameters())}
        state = {index[id(p)]: {k: _copy(v) for k, v in s.items()} for p, s in self.state.items()}
        groups = []
        for group in self.param_groups:
            saved = {
                k: (list(v) if isinstance(v, tuple) else v)
                for k, v in group.items()
                if k != "params"
            }
            saved["params"] = [index[id(p)] for p in group["params"]]
            groups.append(saved)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore hyperparameters and per-parameter state saved by `state_dict()`.

        Everything is checked first (group and parameter counts, state shapes and dtypes); on a
        mismatch a ValueError lists the problems and nothing changes."""
        name = type(self).__name__
        if not isinstance(state_dict, dict) or set(state_dict) != {"state", "param_groups"}:
            raise ValueError(
                f"{name}.load_state_dict: expected a dict with keys 'state' and "
                "'param_groups' (from state_dict())"
            )
        params = self.parameters()
        groups = list(state_dict["param_groups"])
        problems = []
        if len(groups) != len(self.param_groups):
            problems.append(
                f"{len(groups)} parameter groups saved, optimizer has {len(self.param_groups)}"
            )
        else:
            for i, (saved, group) in enumerate(zip(groups, self.param_groups)):
                n_saved, n_have = len(list(saved["params"])), len(group["params"])
                if n_saved != n_have:
                    problems.append(f"group {i}: {n_saved} parameters saved, {n_have} here")
        new_state = {}
        for key, entry in dict(state_dict["state"]).items():
            i = int(key)
            if not 0 <= i < len(params):
                problems.append(f"state for parameter {i}, but there are {len(params)}")
                continue
            p = params[i]
            restored = {}
            for k, v in dict(entry).items():
                if (
                    isinstance(v, np.ndarray)
                    and v.ndim == 0
                    and (type(p.data) is float or v.dtype.kind in "biu")
                ):
                    v = v.item()  # a scalar parameter's state is a Python float; a count an int
                if isinstance(v, np.ndarray) and v.shape == p.shape and v.ndim:
                    if v.dtype != p.dtype:
                        problems.append(
                            f"parameter {i} state {k!r}: dtype {v.dtype}, parameter has {p.dtype}"
                        )
                    v = v.copy()
                elif isinstance(v, np.ndarray) and v.ndim:
                    problems.append(
                        f"parameter {i} state {k!r}: shape {v.shape}, parameter has {p.shape}"
                    )
                elif isinstance(v, np.generic):
                    v = v.item()
                restored[k] = v
            new_state[p] = restored
        if problems:
            raise ValueError(
                f"{name}.load_state_dict: " + "; ".join(problems) + ". Nothing was loaded."
            )
        for saved, group in zip(groups, self.param_groups):
            for k, v in saved.items():
                if k == "params":
                    continue
                default = self.defaults.get(k)
                if isinstance(default, tuple):
                    v = tuple(float(x) for x in v)
                elif isinstance(default, bool):
                    v = bool(v)
                elif isinstance(v, np.generic):
                    v = v.item()
                group[k] = v
        self.state = new_state

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines) + "\n)"


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
                    if p.grad is not None:
                        p.data -= lr * p.grad
                continue
            dampening, nesterov = group["dampening"], group["nesterov"]
            for p in group["params"]:
                g = p.grad
                if g is None:
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
                if g is None:
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
                if g is None:
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


# ----- learning-rate schedules ------------------------------------------------------------------
class LRScheduler:
    """Base of the schedules: `step()` once per epoch sets each group's lr from its base lr
    (closed forms, so a schedule can be resumed from `last_epoch`)."""

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}"
            )
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group.setdefault("initial_lr", group["lr"])
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def lr_at(self, base_lr: float, epoch: int) -> float:
        raise NotImplementedError

    def step(self) -> None:
        """Advance one epoch and set the learning rates."""
        self.last_epoch += 1
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base, self.last_epoch)

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {
            k: (list(v) if isinstance(v, (list, tuple)) else v)
            for k, v in vars(self).items()
            if k != "optimizer"
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        for k, v in state_dict.items():
            if isinstance(v, np.generic):
                v = v.item()
            setattr(self, k, [float(x) for x in v] if k == "base_lrs" else v)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = self.lr_at(base, self.last_epoch)


class StepLR(LRScheduler):
    """lr = base_lr * gamma ** (epoch // step_size): divide by 1/gamma every step_size epochs."""

    def __init__(
        self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1
    ) -> None:
        if step_size < 1:
            raise ValueError(f"StepLR: step_size must be >= 1, got {step_size}")
        self.step_size, self.gamma = int(step_size), float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)


class ExponentialLR(LRScheduler):
    """lr = base_lr * gamma ** epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1) -> None:
        self.gamma = float(gamma)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma**epoch


class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2: from base_lr
    down to eta_min over T_max epochs along half a cosine."""

    def __init__(
        self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1
    ) -> None:
        if T_max < 1:
            raise ValueError(f"CosineAnnealingLR: T_max must be >= 1, got {T_max}")
        self.T_max, self.eta_min = int(T_max), float(eta_min)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        cos = math.cos(math.pi * epoch / self.T_max)
        return self.eta_min + (base_lr - self.eta_min) * (1.0 + cos) / 2.0


class LinearLR(LRScheduler):
    """lr = base_lr * f, with f going linearly from start_factor to end_factor over
    total_iters epochs and staying there (micrograd's demo decays 1.0 -> 0.1 this way)."""

    def __init__(
        self,
        optimizer: Optimizer,
        start_factor: float = 1.0 / 3,
        end_factor: float = 1.0,
        total_iters: int = 5,
        last_epoch: int = -1,
    ) -> None:
        if total_iters < 1:
            raise ValueError(f"LinearLR: total_iters must be >= 1, got {total_iters}")
        self.start_factor, self.end_factor = float(start_factor), float(end_factor)
        self.total_iters = int(total_iters)
        super().__init__(optimizer, last_epoch)

    def lr_at(self, base_lr: float, epoch: int) -> float:
        done = min(epoch, self.total_iters) / self.total_iters
        return base_lr * (self.start_factor + (self.end_factor - self.start_factor) * done)
