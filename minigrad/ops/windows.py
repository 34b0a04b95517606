"""Sliding windows on plain numpy arrays: the numeric core shared by convolution and pooling.

A convolution reads, for every output position, a window of the (padded) input; `unfold`
copies all those windows into one array (im2col), so that the whole convolution is one BLAS
matrix product, and `fold` is its transpose: it adds window entries back to where they came
from (col2im). Both loop over the kernel's offsets only (25 steps for a 5x5 kernel), each step
moving one strided slice of every window at once; nothing loops over pixels or samples.

Speed: these work in a batch-last layout (C, *spatial, N). There the batch axis is contiguous,
so every slice that `unfold` and `fold` move is long runs of memory (N samples times a row of
outputs) instead of a few numbers per row: measured on LeNet-5's layers, 2.5x to 5.5x faster
than the same loops in (N, C, *spatial). Going to that layout is one copy (none for an array
that is batch-last already); coming back is a view (`batch_first`).
"""

from __future__ import annotations

import itertools
import math
from functools import lru_cache

import numpy as np


def out_size(size: int, kernel: int, stride: int, dilation: int, pad_total: int) -> int:
    """How many windows fit along an axis of `size` entries plus `pad_total` of padding."""
    return (size + pad_total - dilation * (kernel - 1) - 1) // stride + 1


def batch_last(x: np.ndarray, pads: tuple) -> np.ndarray:
    """x (N, C, *spatial) as (C, *padded spatial, N), zero-padded ((before, after) per spatial
    axis); a contiguous array (x's own memory if it is batch-last and unpadded)."""
    n, c, *size = x.shape
    padded = [s + lo + hi for s, (lo, hi) in zip(size, pads)]
    order = (1, *range(2, x.ndim), 0)
    if not any(lo or hi for lo, hi in pads):
        return np.ascontiguousarray(x.transpose(order))  # no copy if x is batch-last already
    result = np.zeros((c, *padded, n), dtype=x.dtype)
    inside = tuple(slice(lo, lo + s) for s, (lo, _) in zip(size, pads))
    result[(slice(None), *inside)] = x.transpose(order)
    return result


def batch_first(xt: np.ndarray, crop: tuple | None = None) -> np.ndarray:
    """The inverse of `batch_last`: (C, *spatial, N) seen as (N, C, *spatial), taking only
    `crop` ((start, size) per spatial axis) when given.

    Speed: a view, not a copy. Its memory stays batch-last, which elementwise ops and pooling
    keep (numpy's ufuncs follow their inputs' memory order), so the next convolution's
    `batch_last` of it is free, as are those of the gradients coming back the same way."""
    if crop is not None:
        xt = xt[(slice(None), *(slice(lo, lo + s) for lo, s in crop))]
    return xt.transpose(xt.ndim - 1, *range(xt.ndim - 1))


def zeros_in_layout(shape: tuple, like: np.ndarray, dtype, zero: bool = True) -> np.ndarray:
    """zeros(shape) (or uninitialized, zero=False) whose memory runs through the axes in the
    same order as `like`'s (a batch-last array gets a batch-last array)."""
    order = sorted(range(like.ndim), key=lambda axis: -abs(like.strides[axis]))
    make = np.zeros if zero else np.empty
    return make([shape[axis] for axis in order], dtype=dtype).transpose(np.argsort(order))


@lru_cache(maxsize=256)
def window_slices(kernel: tuple, stride: tuple, dilation: tuple, out: tuple, lead: int = 1):
    """For every kernel offset, in window order: the offset, and the entries every window
    takes there as slices of the padded input, after `lead` whole leading axes (1 for the
    channels of the batch-last layout). Speed: made once per geometry."""
    result = []
    for offset in itertools.product(*map(range, kernel)):
        parts = zip(offset, stride, dilation, out)
        spatial = tuple(slice(o * d, o * d + s * (n - 1) + 1, s) for o, s, d, n in parts)
        result.append((offset, (slice(None),) * lead + spatial))
    return tuple(result)


def unfold(xt: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple, out: tuple):
    """im2col: from xt (C, *padded, N), every window as an array (C, *kernel, *out, N), with
    cols[c, *k, *p, n] = xt[c, *(p * stride + k * dilation), n]."""
    cols = np.empty((xt.shape[0], *kernel, *out, xt.shape[-1]), dtype=xt.dtype)
    for offset, where in window_slices(kernel, stride, dilation, out):
        cols[(slice(None), *offset)] = xt[where]
    return cols


def fold(cols: np.ndarray, kernel: tuple, stride: tuple, dilation: tuple, padded: tuple):
    """col2im, the transpose of `unfold`: cols (C, *kernel, *out, N) added into a zero array
    (C, *padded, N) at the places the windows read. Overlapping windows add up."""
    d = len(kernel)
    out = cols.shape[1 + d : 1 + 2 * d]
    xt = np.zeros((cols.shape[0], *padded, cols.shape[-1]), dtype=cols.dtype)
    for offset, where in window_slices(kernel, stride, dilation, out):
        xt[where] += cols[(slice(None), *offset)]
    return xt


# ----- convolution as matrix products (conv.py's ops compute these) ------------------------------
def conv_columns(x, kernel, stride, padding, dilation, groups, out):
    """x's windows as (groups, in/groups * kernel entries, out positions * N)."""
    cols = unfold(batch_last(x, padding), kernel, stride, dilation, out)
    return cols.reshape(groups, -1, math.prod(out) * x.shape[0])


def _per_group(a, b):
    """a @ b for stacks of one matrix per group; Speed: a plain 2-d product for one group."""
    if a.shape[0] == 1:
        return (a[0] @ b[0])[None]
    return np.matmul(a, b)


def _add_bias(result, b, axis_shape):
    """result + b along the channel axis (b reshaped to `axis_shape`), in place when dtypes
    allow (one array less)."""
    b = np.reshape(b, axis_shape)
    if result.dtype == np.result_type(result, b):
        result += b
        return result
    return result + b


def convolve(x, w, b=None, *, stride, padding, dilation, groups, saved=None):
    kernel = w.shape[2:]
    out = tuple(
        out_size(n, k, s, dl, lo + hi)
        for n, k, s, dl, (lo, hi) in zip(x.shape[2:], kernel, stride, dilation, padding)
    )
    cols = conv_columns(x, kernel, stride, padding, dilation, groups, out)
    n_out = w.shape[0]
    result = _per_group(w.reshape(groups, n_out // groups, -1), cols)  # (G, out/G, P * N)
    result = result.reshape(n_out, *out, x.shape[0])
    if b is not None:
        result = _add_bias(result, b, (n_out,) + (1,) * (len(out) + 1))
    if saved is not None:
        saved.cols = cols
    return batch_first(result)


def convolve_transpose(x, w, b=None, *, stride, padding, dilation, groups, size):
    """The transposed convolution of x (N, w's out, *out) into (N, C, *size)."""
    kernel, out, n = w.shape[2:], x.shape[2:], x.shape[0]
    per_group = w.shape[0] // groups
    xt = batch_last(x, ((0, 0),) * len(out)).reshape(groups, per_group, -1)
    cols = _per_group(w.reshape(groups, per_group, -1).transpose(0, 2, 1), xt)
    channels = groups * w.shape[1]
    cols = cols.reshape(channels, *kernel, *out, n)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(size, padding))
    folded = fold(cols, kernel, stride, dilation, padded)
    result = batch_first(folded, tuple((lo, s) for s, (lo, _) in zip(size, padding)))
    if b is not None:
        result = _add_bias(result, b, (channels,) + (1,) * len(size))
    return result


def convolve_weight(x, g, *, kernel, stride, padding, dilation, groups, cols=None):
    """sum over n and positions of g[n, o, p] * x_padded[n, c, p * stride + k * dilation]."""
    n_out, out = g.shape[1], g.shape[2:]
    if cols is None:
        cols = conv_columns(x, kernel, stride, padding, dilation, groups, out)
    gt = batch_last(g, ((0, 0),) * len(out)).reshape(groups, n_out // groups, -1)
    gw = _per_group(gt, cols.transpose(0, 2, 1))  # (G, out/G, in/G * kernel entries)
    return gw.reshape(n_out, -1, *kernel)
