"""Weight initialization: fill a parameter in place with random or fixed numbers.

Each function takes a `Value` (an array or a single number), overwrites its data keeping its
shape and dtype, and returns it, like PyTorch's `torch.nn.init.*_`. Random draws come from
minigrad's seedable generator (`minigrad.manual_seed`) unless `rng=` is given.

For a weight of shape (fan_out, fan_in) (the layout of `Linear.weight`), fan_in counts the
inputs of each neuron and fan_out its outputs; pass `fan_in=`/`fan_out=` for other shapes.

>>> import minigrad as mg
>>> w = mg.nn.init.xavier_uniform(mg.Value(np.zeros((3, 4))), rng=0)
>>> bool(abs(w.data).max() <= (6 / (3 + 4)) ** 0.5)
True
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.random import RandomLike, get_generator
from minigrad.value import Value

__all__ = [
    "uniform",
    "normal",
    "constant",
    "zeros",
    "ones",
    "xavier_uniform",
    "xavier_normal",
    "kaiming_uniform",
    "kaiming_normal",
    "calculate_gain",
]


def _fill(v: Value, values: np.ndarray | float) -> Value:
    if not isinstance(v, Value):
        raise TypeError(f"init: expected a Value to fill, got {type(v).__name__}")
    if type(v.data) is float:
        v.data = float(np.asarray(values).reshape(()))
    else:
        v.data = np.asarray(values, dtype=v.data.dtype).reshape(v.data.shape)
    return v


def _fans(v: Value, fan_in: int | None, fan_out: int | None) -> tuple[int, int]:
    shape = v.shape
    if fan_in is None or fan_out is None:
        if len(shape) < 2:
            raise ValueError(
                f"init: cannot tell fan_in and fan_out from shape {shape}; give a (fan_out, "
                "fan_in) weight or pass fan_in= and fan_out="
            )
        # (fan_out, fan_in, *kernel): trailing axes multiply both, as for convolutions
        receptive = math.prod(shape[2:])
        fan_in = shape[1] * receptive if fan_in is None else fan_in
        fan_out = shape[0] * receptive if fan_out is None else fan_out
    return fan_in, fan_out


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """The gain that keeps activations' variance steady: 1 for identity/sigmoid, 5/3 for tanh,
    sqrt(2) for relu, sqrt(2 / (1 + slope**2)) for leaky_relu."""
    if nonlinearity in ("linear", "identity", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3.0
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else float(param)
        return math.sqrt(2.0 / (1.0 + slope**2))
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}")


def uniform(
    v: Any = None, low: float | None = None, high: float | None = None, rng: RandomLike = None
) -> Any:
    """Draw every entry uniformly from [low, high), by default [0, 1) (the textbook "random
    between 0 and 1").

    Two forms: `uniform(value, low, high)` fills a Value now; `uniform(low, high)` (no Value)
    returns an initializer to pass as `init=`, e.g. `MLP(2, [2, 1], init=init.uniform(0, 1))`.
    """
    if not isinstance(v, Value):
        if v is None:
            bounds = (0.0 if low is None else low, 1.0 if high is None else high)
        else:
            bounds = (v, low if low is not None else (1.0 if high is None else high))
        _check_bounds(*bounds)
        return lambda value, rng=rng: uniform(value, *bounds, rng=rng)
    low, high = (0.0 if low is None else low), (1.0 if high is None else high)
    _check_bounds(low, high)
    return _fill(v, get_generator(rng).uniform(low, high, size=v.shape))


def _check_bounds(low: float, high: float) -> None:
    if not high > low:
        raise ValueError(f"uniform: need low < high, got low={low}, high={high}")


def normal(v: Value, mean: float = 0.0, std: float = 1.0, rng: RandomLike = None) -> Value:
    """Draw every entry from a normal distribution N(mean, std**2)."""
    if std < 0:
        raise ValueError(f"normal: std must be >= 0, got {std}")
    return _fill(v, get_generator(rng).normal(mean, std, size=v.shape))


def constant(v: Value, value: float, rng: RandomLike = None) -> Value:
    """Set every entry to `value`."""
    return _fill(v, np.full(v.shape, float(value)))


def zeros(v: Value, rng: RandomLike = None) -> Value:
    """Set every entry to 0 (the usual start for biases)."""
    return constant(v, 0.0)


def ones(v: Value, rng: RandomLike = None) -> Value:
    """Set every entry to 1."""
    return constant(v, 1.0)


def xavier_uniform(
    v: Value,
    gain: float = 1.0,
    rng: RandomLike = None,
    fan_in: int | None = None,
    fan_out: int | None = None,
) -> Value:
    """Glorot uniform: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(v, fan_in, fan_out)
    bound = gain * math.sqrt(6.0 / (fan_in + fan_out))
    return _fill(v, get_generator(rng).uniform(-bound, bound, size=v.shape))


def xavier_normal(
    v: Value,
    gain: float = 1.0,
    rng: RandomLike = None,
    fan_in: int | None = None,
    fan_out: int | None = None,
) -> Value:
    """Glorot normal: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(v, fan_in, fan_out)
    std = gain * math.sqrt(2.0 / (fan_in + fan_out))
    return _fill(v, get_generator(rng).normal(0.0, std, size=v.shape))


def _kaiming_std(
    v: Value, a: float, mode: str, nonlinearity: str, fan_in: int | None, fan_out: int | None
) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"kaiming: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fans = _fans(v, fan_in, fan_out)
    fan = fans[0] if mode == "fan_in" else fans[1]
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform(
    v: Value,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "relu",
    rng: RandomLike = None,
    fan_in: int | None = None,
    fan_out: int | None = None,
) -> Value:
    """He uniform: U(-b, b) with b = gain * sqrt(3 / fan), gain = sqrt(2) for relu."""
    std = _kaiming_std(v, a, mode, nonlinearity, fan_in, fan_out)
    bound = math.sqrt(3.0) * std
    return _fill(v, get_generator(rng).uniform(-bound, bound, size=v.shape))


def kaiming_normal(
    v: Value,
    a: float = 0.0,
    mode: str = "fan_in",
    nonlinearity: str = "relu",
    rng: RandomLike = None,
    fan_in: int | None = None,
    fan_out: int | None = None,
) -> Value:
    """He normal: N(0, std**2) with std = gain / sqrt(fan), gain = sqrt(2) for relu."""
    std = _kaiming_std(v, a, mode, nonlinearity, fan_in, fan_out)
    return _fill(v, get_generator(rng).normal(0.0, std, size=v.shape))
