"""Argument checks for convolution and pooling: sizes, strides, padding and layouts.

Every public conv/pool function normalizes its arguments here before anything is computed, so
bad input gets one clear error naming the op, the layout it expects and the shapes it was given
(never a numpy traceback from inside a window). Normalized forms: a tuple of one positive int
per spatial axis for kernel sizes, strides and dilations, and a (before, after) pair per axis
for padding.
"""

from __future__ import annotations

import numpy as np

from minigrad.ops.registry import data_of

LAYOUTS = {1: "(N, C, L)", 2: "(N, C, H, W)"}
UNBATCHED = {1: "(C, L)", 2: "(C, H, W)"}
WEIGHTS = {1: "(out, in/groups, k)", 2: "(out, in/groups, kh, kw)"}


def shape_of(x) -> tuple[int, ...]:
    return np.shape(data_of(x))


def ints(op: str, what: str, value, d: int, minimum: int = 1) -> tuple[int, ...]:
    """`value` (an int, or a tuple/list of d ints) as a tuple of d ints >= minimum."""
    items = tuple(value) if isinstance(value, (tuple, list)) else (value,) * d
    expected = f"an int or a tuple of {d} ints" if d > 1 else "an int"
    if not all(
        isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in items
    ):
        raise TypeError(f"{op}: {what} must be {expected}, got {value!r}")
    if len(items) != d:
        raise ValueError(f"{op}: {what} must be {expected} (one per spatial axis), got {value!r}")
    if any(v < minimum for v in items):
        kind = "positive" if minimum == 1 else "non-negative"
        raise ValueError(f"{op}: {what} must be {kind}, got {value!r}")
    return tuple(int(v) for v in items)


def batched(op: str, x, d: int) -> bool:
    """Whether x is batched (N, C, *spatial); False for an unbatched (C, *spatial) input,
    which the op then treats as a batch of one (as PyTorch does)."""
    shape = shape_of(x)
    if len(shape) == d + 2:
        return True
    if len(shape) == d + 1:
        return False
    raise ValueError(
        f"{op}: expected an input {LAYOUTS[d]} (or unbatched {UNBATCHED[d]}), got shape {shape}"
    )


def padding_pairs(
    op: str, padding, d: int, kernel: tuple, dilation: tuple, stride: tuple
) -> tuple[tuple[int, int], ...]:
    """Padding as (before, after) per spatial axis, from an int, a tuple of d ints, 'valid'
    (none) or 'same' (the output as long as the input; stride 1 only, as in PyTorch: an odd
    total puts the extra entry after, as PyTorch does)."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * d
        if padding != "same":
            raise ValueError(
                f"{op}: padding must be 'valid', 'same', an int or a tuple, got {padding!r}"
            )
        if any(s != 1 for s in stride):
            raise ValueError(f"{op}: padding='same' needs stride 1, got stride {stride}")
        totals = [dl * (k - 1) for k, dl in zip(kernel, dilation)]
        return tuple((t // 2, t - t // 2) for t in totals)
    return tuple((p, p) for p in ints(op, "padding", padding, d, minimum=0))


def check_fits(op: str, size: tuple, pads: tuple, kernel: tuple, dilation: tuple, shape) -> None:
    """The (dilated) kernel must fit in the padded input."""
    for axis, (n, (lo, hi), k, dl) in enumerate(zip(size, pads, kernel, dilation)):
        span = dl * (k - 1) + 1
        if span > n + lo + hi:
            raise ValueError(
                f"{op}: the kernel spans {span} entries along spatial axis {axis} (kernel "
                f"{kernel}, dilation {dilation}), more than the padded input's {n + lo + hi} "
                f"(input shape {tuple(shape)}, padding {pads})"
            )


def check_conv(op: str, x_shape: tuple, w_shape: tuple, b_shape, groups: int, d: int) -> None:
    """Layouts and channel counts of a convolution: x (N, C, *spatial), w (out, C/groups,
    *kernel), b (out,) or None; groups must divide C and out."""
    given = f"input shape {x_shape}, weight shape {w_shape}"
    if len(w_shape) != d + 2:
        raise ValueError(f"{op}: expected a weight {WEIGHTS[d]}, got {given}")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    channels, out = x_shape[1], w_shape[0]
    if channels % groups or out % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide the input channels ({channels}) and the output "
            f"channels ({out}); {given}"
        )
    if w_shape[1] * groups != channels:
        raise ValueError(
            f"{op}: an input of {channels} channels with groups={groups} needs a weight "
            f"{WEIGHTS[d]} with in/groups = {channels // groups}; {given}"
        )
    if b_shape is not None and tuple(b_shape) != (out,):
        raise ValueError(f"{op}: expected a bias of shape ({out},), got {tuple(b_shape)}; {given}")


TRANSPOSED_WEIGHTS = {1: "(in, out/groups, k)", 2: "(in, out/groups, kh, kw)"}


def check_transpose(op: str, x_shape: tuple, w_shape: tuple, b_shape, groups: int, d: int) -> None:
    """Layouts and channel counts of a transposed convolution: x (N, in, *spatial), w
    (in, out/groups, *kernel), b (out,) or None; groups must divide in."""
    given = f"input shape {x_shape}, weight shape {w_shape}"
    if len(w_shape) != d + 2:
        raise ValueError(f"{op}: expected a weight {TRANSPOSED_WEIGHTS[d]}, got {given}")
    if not isinstance(groups, (int, np.integer)) or isinstance(groups, bool) or groups < 1:
        raise ValueError(f"{op}: groups must be a positive int, got {groups!r}")
    if x_shape[1] != w_shape[0]:
        raise ValueError(
            f"{op}: an input of {x_shape[1]} channels needs a weight {TRANSPOSED_WEIGHTS[d]} "
            f"with in = {x_shape[1]}; {given}"
        )
    if w_shape[0] % groups:
        raise ValueError(
            f"{op}: groups={groups} must divide the input channels ({w_shape[0]}); {given}"
        )
    out = w_shape[1] * groups
    if b_shape is not None and tuple(b_shape) != (out,):
        raise ValueError(f"{op}: expected a bias of shape ({out},), got {tuple(b_shape)}; {given}")


def pool_args(op: str, shape: tuple, kernel_size, stride, padding, d: int):
    """A pool's kernel, stride (default: the kernel) and padding as (before, after) pairs; the
    padding at most half the kernel (PyTorch's rule: every window keeps a real entry) and the
    kernel no larger than the padded input."""
    kernel = ints(op, "kernel_size", kernel_size, d)
    stride = kernel if stride is None else ints(op, "stride", stride, d)
    pads = ints(op, "padding", padding, d, minimum=0)
    if any(p > k // 2 for p, k in zip(pads, kernel)):
        raise ValueError(
            f"{op}: padding must be at most half the kernel size, got padding {pads} for "
            f"kernel_size {kernel}"
        )
    pairs = tuple((p, p) for p in pads)
    check_fits(op, shape[2:], pairs, kernel, (1,) * d, shape)
    return kernel, stride, pairs
