"""Pooling in PyTorch's layouts: max_pool1d/2d and avg_pool1d/2d over windows of
`kernel_size`, moved by `stride` (the kernel size by default), on an input padded by `padding`
(at most half the kernel, as in PyTorch: every window keeps a real entry).

- Max pooling pads with -inf and sends each window's gradient to its maximum. On a tie the
  first maximum in window order (row by row) wins, as in PyTorch's CPU kernels: ReLU outputs
  tie at 0 all the time, and one entry gets the whole gradient, not a share. A NaN counts as
  the maximum: it propagates, and the window's last NaN gets the gradient (as in PyTorch).
- Average pooling pads with zeros and divides by the kernel size, padding included (PyTorch's
  default count_include_pad=True).

Both forwards take one strided slice of the input per kernel offset (4 for a 2x2 window), and
the backward adds g back into one slice per offset. Second order: max pooling is piecewise
linear, so its gradient is g routed by the indices of the maxima, a constant: on Values the rule
is `scatter_add(g, maxima, x.shape)`, whose gradient reads the upstream gradient back at the
same places. Average pooling's gradient is a transposed convolution with a constant kernel.
"""

from __future__ import annotations

import math

import numpy as np

from minigrad.engine import apply
from minigrad.ops.conv_args import batched, pool_args, shape_of
from minigrad.ops.registry import Domain, Op, register
from minigrad.ops.windows import out_size, window_slices, zeros_in_layout


class _Saved:
    """What a max-pool forward keeps: the index (in window order) of each window's maximum."""

    __slots__ = ("argmax",)

    def __init__(self) -> None:
        self.argmax = None

    def __repr__(self) -> str:  # anomaly messages print the params: keep the arrays out
        return "<maxima saved by the forward>"


def _padded(x, padding, fill):
    if not any(lo or hi for lo, hi in padding):
        return x
    spatial = tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[2:], padding))
    result = zeros_in_layout(x.shape[:2] + spatial, x, x.dtype)
    result[...] = fill
    inside = tuple(slice(lo, lo + n) for n, (lo, _) in zip(x.shape[2:], padding))
    result[(slice(None), slice(None), *inside)] = x
    return result


def _windows(shape, kernel, stride, padding):
    """(index in window order, slices of the padded input) for every kernel offset."""
    out = tuple(
        out_size(n, k, s, 1, lo + hi)
        for n, k, s, (lo, hi) in zip(shape[2:], kernel, stride, padding)
    )
    slices = window_slices(kernel, stride, (1,) * len(kernel), out, lead=2)
    return [(i, where) for i, (_, where) in enumerate(slices)]


def _unpad(gp, padding, shape):
    inside = tuple(slice(lo, lo + n) for n, (lo, _) in zip(shape[2:], padding))
    return gp[(slice(None), slice(None), *inside)]


def _max_forward(x, *, kernel, stride, padding, saved=None):
    xp = _padded(x, padding, -np.inf)
    entries = [xp[where] for _, where in _windows(x.shape, kernel, stride, padding)]
    # Speed: new arrays keep x's memory order ("K"): a batch-last x (a conv's output) is
    # pooled along long contiguous runs. The maximum first (NaN propagates), then which offset
    # holds it: the first one on a tie, as the offsets are tried from the last to the first.
    best = entries[0].copy(order="K") if len(entries) == 1 else np.maximum(entries[0], entries[1])
    for e in entries[2:]:
        np.maximum(best, e, out=best)
    last = len(entries) - 1
    argmax = np.full_like(best, last, dtype=np.uint8 if last < 256 else np.intp)
    for i in range(last - 1, -1, -1):
        np.copyto(argmax, i, where=np.equal(entries[i], best))
    nan = np.isnan(best)
    if nan.any():  # a window with a NaN: its last NaN gets the gradient, as in PyTorch
        for i, e in enumerate(entries):
            np.copyto(argmax, i, where=np.isnan(e))
    if saved is not None:
        saved.argmax = argmax
    return best


def _argmax(x, kernel, stride, padding, saved):
    if saved is not None and saved.argmax is not None:
        return saved.argmax
    found = _Saved()
    _max_forward(x, kernel=kernel, stride=stride, padding=padding, saved=found)
    return found.argmax


def _maxima(argmax, shape, kernel, stride, padding):
    """The index into x (N, C, *spatial) of every window's maximum, one int array per axis."""
    d = len(kernel)
    lead = [np.arange(n).reshape((-1,) + (1,) * (d + 1 - a)) for a, n in enumerate(shape[:2])]
    offsets = np.unravel_index(argmax, kernel)
    spatial = []
    for a, (offset, s, (lo, _)) in enumerate(zip(offsets, stride, padding)):
        start = np.arange(argmax.shape[2 + a]).reshape((-1,) + (1,) * (d - 1 - a)) * s - lo
        spatial.append(start + offset)
    return tuple(lead + spatial)


def _max_grad(g, out, x, *, kernel, stride, padding, saved=None):
    argmax = _argmax(_data(x), kernel, stride, padding, saved)
    shape = shape_of(x)
    if hasattr(g, "_op"):  # on Values: the same routing as an op that differentiates again
        return scatter_add(g, _maxima(argmax, shape, kernel, stride, padding), shape)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(shape[2:], padding))
    overlap = any(s < k for s, k in zip(stride, kernel))
    # the windows tile the input exactly: every entry is written once below
    tiled = all(
        s == k and n == s * m for n, s, k, m in zip(padded, stride, kernel, argmax.shape[2:])
    )
    gp = zeros_in_layout(shape[:2] + padded, _data(x), g.dtype, zero=not tiled)
    for i, where in _windows(shape, kernel, stride, padding):
        if overlap:
            gp[where] += g * (argmax == i)
        else:
            np.multiply(g, argmax == i, out=gp[where])
    return _unpad(gp, padding, shape)


def _max_tangent(t, out, x, *, kernel, stride, padding, saved=None):
    argmax = _argmax(_data(x), kernel, stride, padding, saved)
    return getitem(t, _maxima(argmax, shape_of(x), kernel, stride, padding))


def _avg_forward(x, *, kernel, stride, padding):
    xp = _padded(x, padding, 0.0)
    windows = _windows(x.shape, kernel, stride, padding)
    total = xp[windows[0][1]].copy(order="K")
    for _, where in windows[1:]:
        total += xp[where]
    total *= total.dtype.type(1.0 / len(windows))
    return total


def _avg_grad(g, out, x, *, kernel, stride, padding):
    shape = shape_of(x)
    share = 1.0 / math.prod(kernel)
    if hasattr(g, "_op"):  # on Values: a transposed convolution with a constant kernel
        n, c, *out_shape = shape_of(g)
        w = np.full((1, 1, *kernel), share, dtype=g.dtype)
        ones = (1,) * len(kernel)
        spread = apply(
            TRANSPOSE[len(kernel)],
            reshape(g, (n * c, 1, *out_shape)),
            w,
            stride=stride,
            padding=padding,
            dilation=ones,
            groups=1,
            size=shape[2:],
        )
        return reshape(spread, shape)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(shape[2:], padding))
    gp = zeros_in_layout(shape[:2] + padded, _data(x), g.dtype)
    part = g * g.dtype.type(share)
    for _, where in _windows(shape, kernel, stride, padding):
        gp[where] += part
    return _unpad(gp, padding, shape)


def _avg_tangent(t, out, x, *, kernel, stride, padding):
    return apply(AVG[len(kernel)], t, kernel=kernel, stride=stride, padding=padding)


def _data(x):
    return x.data if hasattr(x, "_op") else x


class _MaxPool(Op):
    forward = staticmethod(_max_forward)
    grads = (_max_grad,)
    jvps = (_max_tangent,)

    @classmethod
    def describe(cls, params):
        return _describe(cls.name, params)


@register("max_pool1d", Domain("pool"))
class MaxPool1d(_MaxPool):
    """out[n, c, l] = max over k of x_padded[n, c, l * stride + k] (padded with -inf).
    Gradient: g goes to each window's maximum (the first in window order on a tie)."""

    name = "max_pool1d"


@register("max_pool2d", Domain("pool"))
class MaxPool2d(_MaxPool):
    """out[n, c, i, j] = max over (a, b) of x_padded[n, c, i*sh + a, j*sw + b] (-inf padding).
    Gradient: g goes to each window's maximum (the first in window order on a tie)."""

    name = "max_pool2d"


class _AvgPool(Op):
    forward = staticmethod(_avg_forward)
    grads = (_avg_grad,)
    jvps = (_avg_tangent,)

    @classmethod
    def describe(cls, params):
        return _describe(cls.name, params)


@register("avg_pool1d", Domain("pool"))
class AvgPool1d(_AvgPool):
    """out[n, c, l] = mean over k of x_padded[n, c, l * stride + k] (zeros counted).
    Gradient: g / kernel_size added to every entry of its window."""

    name = "avg_pool1d"


@register("avg_pool2d", Domain("pool"))
class AvgPool2d(_AvgPool):
    """out[n, c, i, j] = mean over (a, b) of x_padded[n, c, i*sh + a, j*sw + b] (zeros
    counted).  Gradient: g / (kh * kw) added to every entry of its window."""

    name = "avg_pool2d"


MAX = {1: MaxPool1d, 2: MaxPool2d}
AVG = {1: AvgPool1d, 2: AvgPool2d}


def _describe(name, params):
    params = params or {}
    kernel, stride = params.get("kernel"), params.get("stride")
    if kernel is None:
        return name
    text = f"{name}({kernel[0] if len(set(kernel)) == 1 else kernel}"
    if stride != kernel:
        text += f", stride={stride[0] if len(set(stride)) == 1 else stride}"
    if any(lo for lo, _ in params.get("padding", ())):
        pads = tuple(lo for lo, _ in params["padding"])
        text += f", padding={pads[0] if len(set(pads)) == 1 else pads}"
    return text + ")"


# ----- the public functions -------------------------------------------------------------------
def max_pool1d(x, kernel_size, stride=None, padding=0):
    """The maximum of each window of x (N, C, L) (or unbatched (C, L)): windows of kernel_size
    entries every `stride` (default kernel_size), x padded with -inf by `padding` on each side
    (at most kernel_size // 2). On a tie the first maximum gets the gradient."""
    return _pool("max_pool1d", MAX, 1, x, kernel_size, stride, padding)


def max_pool2d(x, kernel_size, stride=None, padding=0):
    """The maximum of each window of x (N, C, H, W) (or unbatched (C, H, W)): kernel_size,
    stride (default kernel_size) and padding (-inf, at most half the kernel) each an int or a
    pair. On a tie the first maximum in window order (row by row) gets the gradient.

    >>> max_pool2d(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    array([[[[ 5.,  7.],
             [13., 15.]]]])
    """
    return _pool("max_pool2d", MAX, 2, x, kernel_size, stride, padding)


def avg_pool1d(x, kernel_size, stride=None, padding=0):
    """The mean of each window of x (N, C, L) (or unbatched (C, L)), zero padding counted in
    the mean (PyTorch's default count_include_pad=True)."""
    return _pool("avg_pool1d", AVG, 1, x, kernel_size, stride, padding)


def avg_pool2d(x, kernel_size, stride=None, padding=0):
    """The mean of each window of x (N, C, H, W) (or unbatched (C, H, W)), zero padding
    counted in the mean (PyTorch's default count_include_pad=True)."""
    return _pool("avg_pool2d", AVG, 2, x, kernel_size, stride, padding)


def _pool(op, classes, d, x, kernel_size, stride, padding):
    if not batched(op, x, d):
        return squeeze(_pool(op, classes, d, unsqueeze(x, 0), kernel_size, stride, padding), 0)
    kernel, stride, pads = pool_args(op, shape_of(x), kernel_size, stride, padding, d)
    params = {"kernel": kernel, "stride": stride, "padding": pads}
    if classes is MAX:
        params["saved"] = _Saved()
    return apply(classes[d], x, **params)


from minigrad.ops.conv import TRANSPOSE  # noqa: E402
from minigrad.ops.shape import getitem, reshape, scatter_add, squeeze, unsqueeze  # noqa: E402
