"""Pooling layers, PyTorch's `MaxPool1d`, `MaxPool2d`, `AvgPool1d`, `AvgPool2d`.

Each slides a window of `kernel_size` over the spatial axes every `stride` entries (by default
the kernel size: windows side by side) and keeps the window's maximum or mean, channel by
channel. `padding` adds that many entries on each side (-inf for max, zeros counted in the mean
for avg, as PyTorch's defaults), at most half the kernel. The work is done by
`minigrad.ops.max_pool1d` and friends; the layers hold the sizes and check the layout.
"""

from __future__ import annotations

from typing import Any

from minigrad.nn.args import as_input
from minigrad.nn.module import Module
from minigrad.ops.conv_args import LAYOUTS, UNBATCHED, ints
from minigrad.ops.pool import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d
from minigrad.value import Value


class _PoolNd(Module):
    """What the four pooling layers share; `d` is the number of spatial axes."""

    d = 0
    op = staticmethod(max_pool1d)

    def __init__(
        self,
        kernel_size: int | tuple[int, ...],
        stride: int | tuple[int, ...] | None = None,
        padding: int | tuple[int, ...] = 0,
    ) -> None:
        super().__init__()
        name = type(self).__name__
        kernel = ints(name, "kernel_size", kernel_size, self.d)
        if stride is not None:
            ints(name, "stride", stride, self.d)
        pads = ints(name, "padding", padding, self.d, minimum=0)
        if any(p > k // 2 for p, k in zip(pads, kernel)):
            raise ValueError(
                f"{name}: padding must be at most half the kernel size, got padding {padding!r} "
                f"for kernel_size {kernel_size!r}"
            )
        # Kept as given, as PyTorch keeps them (its repr shows them so)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding

    def forward(self, x: Any) -> Value:
        x = as_input(x, None)
        if x.ndim not in (self.d + 1, self.d + 2):
            raise ValueError(
                f"{self!r} expects input {LAYOUTS[self.d]} or {UNBATCHED[self.d]}, got shape "
                f"{x.shape}"
            )
        return self.op(x, self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool1d(_PoolNd):
    """The maximum of each window of (N, C, L) inputs (or unbatched (C, L)).
    Gradient: g goes to each window's maximum (on a tie, the first one)."""

    d = 1
    op = staticmethod(max_pool1d)


class MaxPool2d(_PoolNd):
    """The maximum of each kh x kw window of (N, C, H, W) inputs (or unbatched (C, H, W)).
    Gradient: g goes to each window's maximum (on a tie, the first one row by row).

    >>> MaxPool2d(2)(np.ones((5, 16, 8, 8))).shape
    (5, 16, 4, 4)
    """

    d = 2
    op = staticmethod(max_pool2d)


class AvgPool1d(_PoolNd):
    """The mean of each window of (N, C, L) inputs (or unbatched (C, L)), padding counted.
    Gradient: g / kernel_size to every entry of the window."""

    d = 1
    op = staticmethod(avg_pool1d)

    def __init__(
        self,
        kernel_size: int | tuple[int],
        stride: int | tuple[int] | None = None,
        padding: int | tuple[int] = 0,
    ) -> None:
        super().__init__(kernel_size, stride, padding)
        # PyTorch's AvgPool1d keeps 1-tuples (its repr shows kernel_size=(3,))
        self.kernel_size = ints("AvgPool1d", "kernel_size", self.kernel_size, 1)
        self.stride = ints("AvgPool1d", "stride", self.stride, 1)
        self.padding = ints("AvgPool1d", "padding", self.padding, 1, minimum=0)


class AvgPool2d(_PoolNd):
    """The mean of each kh x kw window of (N, C, H, W) inputs (or unbatched (C, H, W)),
    padding counted (PyTorch's default count_include_pad=True).
    Gradient: g / (kh * kw) to every entry of the window."""

    d = 2
    op = staticmethod(avg_pool2d)
