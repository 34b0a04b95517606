"""The base of every optimizer: parameter groups, per-parameter state, `zero_grad` and saving.

An optimizer holds the parameters (Values) and updates their `.data` from their `.grad`:

    loss.backward(); optimizer.step(); optimizer.zero_grad()

The same code updates single-number parameters (Python floats, micrograd style) and array
parameters (in place, keeping float32 as float32, state included). A parameter whose `.grad` is
None, or that is frozen (`requires_grad` False, even with a gradient left from before), is
skipped. Notation in the subclasses: w a parameter, g its gradient, lr the learning rate,
t the step count.

`state_dict()` holds only numpy arrays, numbers, strings, lists and dicts (it saves with
`minigrad.io.save`), and loading it makes training continue exactly as if never interrupted.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.value import Value


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

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: `.grad = None` for every parameter (the default, as PyTorch's),
        or with `set_to_none=False` zeros in place (a gradient that is None stays None)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                elif type(p.grad) is np.ndarray:
                    p.grad[...] = 0  # in place: same array, shape and dtype
                else:  # a Python float, or a Value from create_graph=True
                    p.grad = 0.0 if type(p.data) is float else np.zeros_like(p.data)

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
