"""OneCycleLR: the 1cycle policy (Smith and Topin), with PyTorch's phases and formulas.

Stepped once per batch, not per epoch. Each group's lr rises from initial_lr = max_lr /
div_factor to max_lr over the first pct_start of the steps, then falls to min_lr = initial_lr /
final_div_factor; with `cycle_momentum`, the momentum (SGD's `momentum`, Adam's beta1) moves the
opposite way between max_momentum and base_momentum. With `three_phase=True` the lr comes back
down to initial_lr symmetrically before falling to min_lr.

Inside a phase running from step a to step b, with p = (step - a) / (b - a):

    cos:    end + (start - end) * (1 + cos(pi * p)) / 2
    linear: start + (end - start) * p
"""

from __future__ import annotations

import math
from typing import Any

from minigrad.optim.lr_scheduler import LRScheduler
from minigrad.optim.optimizer import Optimizer


def _per_group(name: str, optimizer: Optimizer, value: Any) -> list[float]:
    groups = len(optimizer.param_groups)
    if isinstance(value, (list, tuple)):
        if len(value) != groups:
            raise ValueError(
                f"OneCycleLR: expected {groups} values of {name} (one per parameter group), "
                f"got {len(value)}"
            )
        return [float(v) for v in value]
    return [float(value)] * groups


def _positive_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(f"OneCycleLR: expected a positive integer {name}, got {value!r}")
    return value


class OneCycleLR(LRScheduler):
    """The 1cycle schedule over `total_steps` (or `epochs * steps_per_epoch`) steps.

    >>> import minigrad as mg
    >>> opt = mg.optim.SGD([mg.Value(1.0)], lr=0.1)
    >>> sched = OneCycleLR(opt, max_lr=1.0, total_steps=10)
    >>> round(opt.lr, 6), opt.param_groups[0]["momentum"]
    (0.04, 0.95)
    """

    def __init__(
        self,
        optimizer: Optimizer,
        max_lr: float | list[float],
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float | list[float] = 0.85,
        max_momentum: float | list[float] = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
        last_epoch: int = -1,
    ) -> None:
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: expected an Optimizer, got {type(optimizer).__name__}")
        if total_steps is not None:
            self.total_steps = _positive_int("total_steps", total_steps)
        elif epochs is not None and steps_per_epoch is not None:
            epochs = _positive_int("epochs", epochs)
            self.total_steps = epochs * _positive_int("steps_per_epoch", steps_per_epoch)
        else:
            raise ValueError("OneCycleLR: give total_steps, or epochs and steps_per_epoch")
        if isinstance(pct_start, bool) or not 0.0 <= pct_start <= 1.0:
            raise ValueError(f"OneCycleLR: pct_start must lie in [0, 1], got {pct_start!r}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(
                f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}"
            )
        self.anneal_strategy = anneal_strategy
        self._schedule_phases = self._phases(float(pct_start), bool(three_phase))
        if last_epoch == -1:
            for group, top in zip(optimizer.param_groups, _per_group("max_lr", optimizer, max_lr)):
                group["initial_lr"] = top / div_factor
                group["max_lr"] = top
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = bool(cycle_momentum)
        if self.cycle_momentum:
            self._start_momentum(optimizer, max_momentum, base_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)

    def _phases(self, pct_start: float, three_phase: bool) -> list[dict[str, Any]]:
        """(last step, lr from, lr to, momentum from, momentum to) of each phase."""
        total = self.total_steps
        rise = {
            "end_step": pct_start * total - 1,
            "start_lr": "initial_lr",
            "end_lr": "max_lr",
            "start_momentum": "max_momentum",
            "end_momentum": "base_momentum",
        }
        if not three_phase:
            fall = dict(rise, end_step=total - 1, start_lr="max_lr", end_lr="min_lr")
            fall.update(start_momentum="base_momentum", end_momentum="max_momentum")
            return [rise, fall]
        back = dict(rise, end_step=2 * pct_start * total - 2, start_lr="max_lr")
        back.update(end_lr="initial_lr", start_momentum="base_momentum")
        back["end_momentum"] = "max_momentum"
        annihilate = dict(rise, end_step=total - 1, end_lr="min_lr")
        annihilate.update(start_momentum="max_momentum", end_momentum="max_momentum")
        return [rise, back, annihilate]

    def _start_momentum(self, optimizer, max_momentum, base_momentum, last_epoch) -> None:
        if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
            raise ValueError(
                f"OneCycleLR: cycle_momentum needs an optimizer with momentum or betas, "
                f"{type(optimizer).__name__} has neither (pass cycle_momentum=False)"
            )
        self.use_beta1 = "betas" in optimizer.defaults
        if last_epoch != -1:
            return
        tops = _per_group("max_momentum", optimizer, max_momentum)
        bases = _per_group("base_momentum", optimizer, base_momentum)
        for group, top, base in zip(optimizer.param_groups, tops, bases):
            self._set_momentum(group, top)
            group["max_momentum"], group["base_momentum"] = top, base

    def _set_momentum(self, group: dict[str, Any], momentum: float) -> None:
        if self.use_beta1:
            group["betas"] = (momentum, *group["betas"][1:])
        else:
            group["momentum"] = momentum

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _set(self, step: int) -> None:
        if step > self.total_steps:
            raise ValueError(
                f"OneCycleLR: stepped {step} times, but total_steps is {self.total_steps}"
            )
        phases = self._schedule_phases
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, phase in enumerate(phases):
                end_step = phase["end_step"]
                if step <= end_step or i == len(phases) - 1:
                    length = end_step - start_step  # a phase without steps is at its end
                    pct = (step - start_step) / length if length else 1.0
                    break
                start_step = end_step
            group["lr"] = self._anneal(group[phase["start_lr"]], group[phase["end_lr"]], pct)
            if self.cycle_momentum:
                start, end = group[phase["start_momentum"]], group[phase["end_momentum"]]
                self._set_momentum(group, self._anneal(start, end, pct))
