"""Normalization layers, with PyTorch's names, buffers and updates: `BatchNorm1d`,
`BatchNorm2d`, `LayerNorm`.

Each normalizes x to zero mean and unit variance over some axes and then scales and shifts it:

    y = (x - mean) / sqrt(var + eps) * weight + bias            (var biased: divided by n)

The forward is written with minigrad's own ops (mean, subtraction, sqrt, division), so the
gradient, including the parts through the mean and the variance, and second derivatives come
from the engine. `eps` keeps it finite on constant inputs, where var is 0.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import ops
from minigrad.nn.args import as_input, float_dtype, positive_int
from minigrad.nn.module import Module
from minigrad.value import Value


def _data(x: Any) -> np.ndarray:
    # ops on constants (a numpy input) give plain arrays, not Values
    return np.asarray(x.data if isinstance(x, Value) else x)


def _normalize(x: Any, axes: tuple[int, ...], eps: float) -> tuple[Value, Value, Value]:
    """(x - mean) / sqrt(var + eps) over `axes`, with the batch mean and biased variance."""
    mean = ops.mean(x, axis=axes, keepdims=True)
    centered = x - mean
    var = ops.mean(centered * centered, axis=axes, keepdims=True)
    return centered / ops.sqrt(var + eps), mean, var


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ in the input layouts they take."""

    layouts: dict[int, str] = {}

    def __init__(
        self,
        num_features: int,
        eps: float = 1e-5,
        momentum: float | None = 0.1,
        affine: bool = True,
        track_running_stats: bool = True,
        dtype: Any = np.float64,
        *,
        bias: bool = True,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        self.num_features = positive_int(name, "num_features", num_features)
        if not eps > 0:
            raise ValueError(f"{name}: eps must be positive, got {eps!r}")
        if momentum is not None and not 0.0 <= momentum <= 1.0:
            raise ValueError(f"{name}: momentum must be in [0, 1] or None, got {momentum!r}")
        dtype = float_dtype(name, dtype)
        self.eps, self.momentum = float(eps), None if momentum is None else float(momentum)
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        c = self.num_features
        self.weight = Value(np.ones(c, dtype=dtype), label="weight") if affine else None
        with_bias = affine and bias
        self.bias = Value(np.zeros(c, dtype=dtype), label="bias") if with_bias else None
        track = self.track_running_stats
        self.register_buffer("running_mean", np.zeros(c, dtype=dtype) if track else None)
        self.register_buffer("running_var", np.ones(c, dtype=dtype) if track else None)
        self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64) if track else None)

    def _dtype(self) -> np.dtype | None:
        for held in (self.weight, self.running_mean):
            if held is not None:
                return held.dtype
        return None

    def _check(self, x: Any) -> None:
        layout = self.layouts.get(x.ndim)
        if layout is None or x.shape[1] != self.num_features:
            expected = " or ".join(self.layouts.values())
            raise ValueError(
                f"{type(self).__name__}({self.num_features}) expects input {expected} with "
                f"C = {self.num_features}, got shape {x.shape}"
            )

    def forward(self, x: Any) -> Value:
        x = as_input(x, self._dtype())
        self._check(x)
        axes = (0, *range(2, x.ndim))
        shape = (1, self.num_features) + (1,) * (x.ndim - 2)
        if self.training or self.running_mean is None:  # the statistics of this batch
            count = x.size // self.num_features
            if count == 1:  # no variance to compute (eval without running stats too, as PyTorch)
                raise ValueError(
                    f"{type(self).__name__}({self.num_features}): expected more than 1 value "
                    f"per channel when training, got input shape {x.shape}"
                )
            out, mean, var = _normalize(x, axes, self.eps)
            if self.training and self.running_mean is not None:
                self._update_running_stats(_data(mean).reshape(-1), _data(var).reshape(-1), count)
        else:  # eval: the running statistics, constants
            scale = 1.0 / np.sqrt(self.running_var + self.eps)
            out = (x - self.running_mean.reshape(shape)) * scale.reshape(shape)
        if self.weight is not None:
            out = out * self.weight.reshape(shape)
        if self.bias is not None:
            out = out + self.bias.reshape(shape)
        return out

    def _update_running_stats(self, mean: np.ndarray, var: np.ndarray, count: int) -> None:
        """running <- (1 - momentum) running + momentum batch, with the unbiased variance;
        momentum=None: the cumulative average over all batches seen. In place, as PyTorch."""
        self.num_batches_tracked += 1
        if self.momentum is None:
            factor = 1.0 / float(self.num_batches_tracked)
        else:
            factor = self.momentum
        self.running_mean *= 1.0 - factor
        self.running_mean += factor * mean
        self.running_var *= 1.0 - factor
        self.running_var += (factor * count / (count - 1)) * var

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches tracked."""
        if self.running_mean is not None:
            self.running_mean[...] = 0.0
            self.running_var[...] = 1.0
            self.num_batches_tracked[...] = 0

    def extra_repr(self) -> str:
        return (
            f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
            f"affine={self.affine}, bias={self.bias is not None}, "
            f"track_running_stats={self.track_running_stats}"
        )


class BatchNorm1d(_BatchNorm):
    """Batch normalization of (N, C) or (N, C, L) inputs, per channel C.

    Training: each channel normalized by the batch's mean and (biased) variance over N (and L);
    the running mean and the unbiased running variance are updated with `momentum` (None: a
    cumulative average), and `num_batches_tracked` counts the batches. Eval: the running
    statistics are used instead (with `track_running_stats=False`, always the batch's).
    Then y = x_hat * weight + bias (`affine=True`: weight starts at 1 and, unless `bias=False`,
    bias at 0).

    Gradient: through x_hat, the batch mean and the batch variance (by the engine).
    """

    layouts = {2: "(N, C)", 3: "(N, C, L)"}


class BatchNorm2d(_BatchNorm):
    """Batch normalization of (N, C, H, W) inputs, per channel C over N, H and W; otherwise
    as `BatchNorm1d` (same arguments, parameters and buffers).

    Gradient: through x_hat, the batch mean and the batch variance (by the engine).
    """

    layouts = {4: "(N, C, H, W)"}


class LayerNorm(Module):
    """Layer normalization over the last axes, given by `normalized_shape` (an int or a tuple):

        y = (x - mean) / sqrt(var + eps) * weight + bias,   mean and biased var over those axes

    the same in training and eval. `elementwise_affine=True` gives a weight (starting at 1) and,
    unless `bias=False`, a bias (starting at 0), both of shape `normalized_shape`.

    Gradient: through x_hat, the mean and the variance (by the engine).
    """

    def __init__(
        self,
        normalized_shape: int | tuple[int, ...],
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        if isinstance(normalized_shape, (int, np.integer)):
            normalized_shape = (normalized_shape,)
        shape = tuple(positive_int("LayerNorm", "normalized_shape", n) for n in normalized_shape)
        if not shape:
            raise ValueError("LayerNorm: normalized_shape must name at least one axis, got ()")
        if not eps > 0:
            raise ValueError(f"LayerNorm: eps must be positive, got {eps!r}")
        dtype = float_dtype("LayerNorm", dtype)
        self.normalized_shape, self.eps = shape, float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        affine = self.elementwise_affine
        self.weight = Value(np.ones(shape, dtype=dtype), label="weight") if affine else None
        with_bias = affine and bias
        self.bias = Value(np.zeros(shape, dtype=dtype), label="bias") if with_bias else None

    def forward(self, x: Any) -> Value:
        x = as_input(x, None if self.weight is None else self.weight.dtype)
        k = len(self.normalized_shape)
        if x.shape[x.ndim - k :] != self.normalized_shape or x.ndim < k:
            raise ValueError(
                f"LayerNorm({self.normalized_shape}) expects input (*, "
                f"{', '.join(map(str, self.normalized_shape))}) (its last axes "
                f"{self.normalized_shape}), got shape {x.shape}"
            )
        out, _, _ = _normalize(x, tuple(range(x.ndim - k, x.ndim)), self.eps)
        if self.weight is not None:
            out = out * self.weight
        if self.bias is not None:
            out = out + self.bias
        return out

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, "
            f"elementwise_affine={self.elementwise_affine}, bias={self.bias is not None}"
        )
