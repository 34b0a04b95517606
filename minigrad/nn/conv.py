"""Convolution layers, PyTorch's `Conv1d` and `Conv2d`: names, layouts, defaults and init.

    out[n, o, p] = bias[o] + sum over c, k of w[o, c, k] * x_padded[n, c', p*stride + k*dilation]

with c' running over the input channels of o's group (a cross-correlation, as every framework
computes it), by `minigrad.ops.conv1d`/`conv2d`, whose input gradient is itself a (transposed)
convolution, so second derivatives come for free.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.nn import init
from minigrad.nn.args import as_input, float_dtype, positive_int
from minigrad.nn.module import Module
from minigrad.ops.conv import conv1d, conv2d
from minigrad.ops.conv_args import LAYOUTS, UNBATCHED, ints
from minigrad.random import RandomLike, get_generator
from minigrad.value import Value


class _ConvNd(Module):
    """What Conv1d and Conv2d share; `d` is the number of spatial axes."""

    d = 0
    op = staticmethod(conv1d)

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] = 1,
        padding: str | int | tuple[int, ...] = 0,
        dilation: int | tuple[int, ...] = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        dtype: Any = np.float64,
        rng: RandomLike = None,
    ) -> None:
        super().__init__()
        name, d = type(self).__name__, self.d
        self.in_channels = positive_int(name, "in_channels", in_channels)
        self.out_channels = positive_int(name, "out_channels", out_channels)
        self.groups = positive_int(name, "groups", groups)
        for what, n in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if n % self.groups:
                raise ValueError(f"{name}: {what} ({n}) must be divisible by groups ({groups})")
        self.kernel_size = ints(name, "kernel_size", kernel_size, d)
        self.stride = ints(name, "stride", stride, d)
        self.dilation = ints(name, "dilation", dilation, d)
        self.padding = self._check_padding(padding)
        if padding_mode != "zeros":
            raise ValueError(
                f"{name}: padding_mode must be 'zeros' (the only one minigrad has), got "
                f"{padding_mode!r}"
            )
        self.padding_mode = padding_mode
        self._init_parameters(bias, float_dtype(name, dtype), rng)

    def _check_padding(self, padding: Any) -> str | tuple[int, ...]:
        name = type(self).__name__
        if isinstance(padding, str):
            if padding not in ("valid", "same"):
                raise ValueError(
                    f"{name}: padding must be 'valid', 'same', an int or a tuple, got {padding!r}"
                )
            if padding == "same" and any(s != 1 for s in self.stride):
                raise ValueError(f"{name}: padding='same' needs stride 1, got {self.stride}")
            return padding
        return ints(name, "padding", padding, self.d, minimum=0)

    def _init_parameters(self, bias: bool, dtype: np.dtype, rng: RandomLike) -> None:
        """PyTorch's default: kaiming_uniform with a = sqrt(5), that is U(-1/sqrt(fan_in),
        1/sqrt(fan_in)) with fan_in = in_channels/groups * kernel entries; the bias likewise."""
        gen = get_generator(rng)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = Value(np.zeros(shape, dtype=dtype), label="weight")
        init.kaiming_uniform(self.weight, a=math.sqrt(5), nonlinearity="leaky_relu", rng=gen)
        if bias:
            bound = 1.0 / math.sqrt(math.prod(shape[1:]))
            b = gen.uniform(-bound, bound, size=self.out_channels).astype(dtype)
            self.bias: Value | None = Value(b, label="bias")
        else:
            self.bias = None

    def forward(self, x: Any) -> Value:
        x = as_input(x, self.weight.dtype)
        if x.ndim not in (self.d + 1, self.d + 2) or x.shape[-self.d - 1] != self.in_channels:
            raise ValueError(
                f"{type(self).__name__}({self.in_channels}, {self.out_channels}, kernel_size="
                f"{self.kernel_size}) expects input {LAYOUTS[self.d]} or {UNBATCHED[self.d]} "
                f"with C = {self.in_channels}, got shape {x.shape}"
            )
        return self.op(
            x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups
        )

    def extra_repr(self) -> str:
        text = (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}"
        )
        if isinstance(self.padding, str) or any(self.padding):
            text += f", padding={self.padding}"
        if any(dl != 1 for dl in self.dilation):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        return text


class Conv1d(_ConvNd):
    """1-d convolution over (N, C, L) inputs (or unbatched (C, L)): weight (out_channels,
    in_channels/groups, k), bias (out_channels,), output (N, out_channels, L_out) with
    L_out = (L + 2 padding - dilation (k - 1) - 1) // stride + 1.

    `padding`: an int, a 1-tuple, 'valid' (none) or 'same' (L_out = L; stride 1 only).
    Gradient: dx is the transposed convolution of g with the weight; dw correlates x with g;
    db sums g over the batch and positions.

    >>> Conv1d(2, 4, kernel_size=3, padding=1)(np.ones((5, 2, 10))).shape
    (5, 4, 10)
    """

    d = 1
    op = staticmethod(conv1d)


class Conv2d(_ConvNd):
    """2-d convolution over (N, C, H, W) inputs (or unbatched (C, H, W)): weight
    (out_channels, in_channels/groups, kh, kw), bias (out_channels,), output (N, out_channels,
    H_out, W_out), each side (size + 2 padding - dilation (k - 1) - 1) // stride + 1.

    `kernel_size`, `stride`, `dilation`: an int or a pair; `padding`: an int, a pair, 'valid'
    or 'same' (output as large as the input; stride 1 only). `groups` splits the channels
    into independent convolutions (groups = in_channels: depthwise).
    Gradient: dx is the transposed convolution of g with the weight; dw correlates x with g;
    db sums g over the batch and positions.

    >>> Conv2d(1, 16, kernel_size=3, padding=1)(np.ones((5, 1, 8, 8))).shape
    (5, 16, 8, 8)
    """

    d = 2
    op = staticmethod(conv2d)
