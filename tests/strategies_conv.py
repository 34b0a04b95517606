"""Test cases (see tests/strategies.py) for the ops of convolutional networks: conv1d/2d, their
transposes and weight gradients, max and average pooling, pad, flatten and einsum.

Each case comes with a numpy reference written as plainly as possible, independent of the
library's im2col: convolutions loop over output (or input) positions, pools over windows,
einsum is numpy's own on the subscripts as the user wrote them. Shapes stay small (N <= 2,
C <= 3, sides <= 6) so the registry's suite stays fast.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

import minigrad.ops as ops
from minigrad.ops.registry import Domain
from tests.strategies import Case, broadcastable_shapes, domain_input

MAX_SPATIAL = 6


def _dims(name: str) -> int:
    return 1 if "1d" in name else 2


@st.composite
def _geometry(draw, d: int, padding_forms: bool = True):
    """kernel, stride, dilation per axis, and a padding argument with its (before, after)
    pairs."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(d))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(d))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(d))
    forms = ["int", "tuple", "valid"] + (["same"] if stride == (1,) * d else [])
    form = draw(st.sampled_from(forms)) if padding_forms else "int"
    if form == "same":
        totals = [dl * (k - 1) for k, dl in zip(kernel, dilation)]
        return kernel, stride, dilation, "same", tuple((t // 2, t - t // 2) for t in totals)
    if form == "valid":
        return kernel, stride, dilation, "valid", ((0, 0),) * d
    pads = tuple(draw(st.integers(0, 2)) for _ in range(d))
    padding = pads if form == "tuple" else pads[0]
    pads = pads if form == "tuple" else (pads[0],) * d
    return kernel, stride, dilation, padding, tuple((p, p) for p in pads)


def _sizes(draw, kernel, dilation, pairs):
    """Spatial sizes at which the (dilated) kernel fits the padded input."""
    return tuple(
        draw(st.integers(max(1, dl * (k - 1) + 1 - lo - hi), MAX_SPATIAL))
        for k, dl, (lo, hi) in zip(kernel, dilation, pairs)
    )


def _out_sizes(size, kernel, stride, dilation, pairs):
    return tuple(
        (n + lo + hi - dl * (k - 1) - 1) // s + 1
        for n, k, s, dl, (lo, hi) in zip(size, kernel, stride, dilation, pairs)
    )


def _taps(position, kernel, stride, dilation):
    """The padded input's entries one window reads, as slices."""
    return tuple(
        slice(p * s, p * s + dl * (k - 1) + 1, dl)
        for p, k, s, dl in zip(position, kernel, stride, dilation)
    )


def numpy_conv(x, w, b, stride, pairs, dilation, groups):
    """out[n, o, p] = sum over the window of x_padded * w[o], channel group by group."""
    xp = np.pad(x, ((0, 0), (0, 0)) + pairs)
    kernel = w.shape[2:]
    out_shape = _out_sizes(x.shape[2:], kernel, stride, dilation, pairs)
    per_in, per_out = x.shape[1] // groups, w.shape[0] // groups
    out = np.zeros((x.shape[0], w.shape[0], *out_shape))
    axes = tuple(range(1, 2 + len(kernel)))
    for o in range(w.shape[0]):
        group = xp[:, (o // per_out) * per_in : (o // per_out + 1) * per_in]
        for pos in np.ndindex(*out_shape):
            window = group[(slice(None), slice(None)) + _taps(pos, kernel, stride, dilation)]
            out[(slice(None), o) + pos] = np.sum(window * w[o], axis=axes)
    if b is not None:
        out += b.reshape((-1,) + (1,) * len(kernel))
    return out


def numpy_conv_transpose(x, w, b, stride, pads, output_padding, groups, dilation):
    """Every x[n, i, p] * w[i, c] added at the window p reads, then the padding cut off."""
    kernel, size_in = w.shape[2:], x.shape[2:]
    per_in, per_out = w.shape[0] // groups, w.shape[1]
    full = tuple(
        (n - 1) * s + dl * (k - 1) + 1 + e
        for n, s, dl, k, e in zip(size_in, stride, dilation, kernel, output_padding)
    )
    out = np.zeros((x.shape[0], per_out * groups, *full))
    for i in range(x.shape[1]):
        first = (i // per_in) * per_out
        for pos in np.ndindex(*size_in):
            taps = _taps(pos, kernel, stride, dilation)
            column = x[(slice(None), i) + pos].reshape((-1,) + (1,) * (1 + len(kernel)))
            contribution = column * w[i][None]  # (N, out/G, *kernel)
            out[(slice(None), slice(first, first + per_out)) + taps] += contribution
    out = out[(slice(None), slice(None)) + tuple(slice(p, n - p) for p, n in zip(pads, full))]
    if b is not None:
        out = out + b.reshape((-1,) + (1,) * len(kernel))
    return out


def numpy_conv_weight(x, weight_size, g, stride, pairs, dilation, groups):
    """gw[o, c, k] = sum over n and output positions of g[n, o, p] * x_padded at p's tap k."""
    xp = np.pad(x, ((0, 0), (0, 0)) + pairs)
    kernel, per_in = weight_size[2:], weight_size[1]
    per_out = weight_size[0] // groups
    gw = np.zeros(weight_size)
    for o in range(weight_size[0]):
        group = xp[:, (o // per_out) * per_in : (o // per_out + 1) * per_in]
        for pos in np.ndindex(*g.shape[2:]):
            window = group[(slice(None), slice(None)) + _taps(pos, kernel, stride, dilation)]
            gw[o] += np.tensordot(g[(slice(None), o) + pos], window, axes=(0, 0))
    return gw


@st.composite
def _channels(draw):
    """groups, input channels and output channels (C <= 3)."""
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    per_in = 1 if groups > 1 else draw(st.integers(1, 3))
    return groups, groups * per_in, groups * draw(st.integers(1, 2))


@st.composite
def conv_case(draw, name: str, domain: Domain) -> Case:
    """x (N, C, *spatial) or unbatched, w (out, C/groups, *kernel), maybe a bias; every
    padding form, stride, dilation and groups."""
    d = _dims(name)
    fn = getattr(ops, name)
    groups, c_in, c_out = draw(_channels())
    kernel, stride, dilation, padding, pairs = draw(_geometry(d))
    size = _sizes(draw, kernel, dilation, pairs)
    batched = draw(st.integers(0, 4)) > 0
    lead = (draw(st.integers(1, 2)),) if batched else ()
    x = draw(domain_input(domain, 0, lead + (c_in, *size), 3, allow_float=False))
    w = draw(domain_input(domain, 1, (c_out, c_in // groups, *kernel), 3, allow_float=False))
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)

    def reference(x, w, b=None):
        xb = x if batched else x[None]
        out = numpy_conv(xb, w, b, stride, pairs, dilation, groups)
        return out if batched else out[0]

    text = f"{name}({args}, batched={batched}"
    if draw(st.booleans()):
        b = draw(domain_input(domain, 2, (c_out,), 3, allow_float=False))
        return Case([x, w, b], lambda x, w, b: fn(x, w, b, **args), text + ", bias)", reference)
    return Case([x, w], lambda x, w: fn(x, w, **args), text + ")", reference)


@st.composite
def conv_transpose_case(draw, name: str, domain: Domain) -> Case:
    """x (N, in, *spatial), w (in, out/groups, *kernel), maybe a bias; output_padding below
    max(stride, dilation), as PyTorch requires."""
    d = _dims(name)
    fn = getattr(ops, name)
    groups, c_in, c_out = draw(_channels())
    kernel, stride, dilation, _, _ = draw(_geometry(d, padding_forms=False))
    size = tuple(draw(st.integers(1, 4)) for _ in range(d))
    extra = tuple(draw(st.integers(0, max(s, dl) - 1)) for s, dl in zip(stride, dilation))
    full = [
        (n - 1) * s + dl * (k - 1) + 1 + e
        for n, s, dl, k, e in zip(size, stride, dilation, kernel, extra)
    ]
    pads = tuple(draw(st.integers(0, (n - 1) // 2)) for n in full)
    x = draw(domain_input(domain, 0, (draw(st.integers(1, 2)), c_in, *size), 3, allow_float=False))
    w = draw(domain_input(domain, 1, (c_in, c_out // groups, *kernel), 3, allow_float=False))
    args = dict(stride=stride, padding=pads, output_padding=extra, groups=groups, dilation=dilation)

    def reference(x, w, b=None):
        return numpy_conv_transpose(x, w, b, stride, pads, extra, groups, dilation)

    if draw(st.booleans()):
        b = draw(domain_input(domain, 2, (c_out,), 3, allow_float=False))
        return Case(
            [x, w, b], lambda x, w, b: fn(x, w, b, **args), f"{name}({args}, bias)", reference
        )
    return Case([x, w], lambda x, w: fn(x, w, **args), f"{name}({args})", reference)


@st.composite
def conv_weight_case(draw, name: str, domain: Domain) -> Case:
    """x (N, C, *spatial) and an output gradient g of the matching shape."""
    d = _dims(name)
    fn = getattr(ops, name)
    groups, c_in, c_out = draw(_channels())
    kernel, stride, dilation, padding, pairs = draw(_geometry(d))
    size = _sizes(draw, kernel, dilation, pairs)
    n = draw(st.integers(1, 2))
    out = _out_sizes(size, kernel, stride, dilation, pairs)
    weight_size = (c_out, c_in // groups, *kernel)
    x = draw(domain_input(domain, 0, (n, c_in, *size), 2, allow_float=False))
    g = draw(domain_input(domain, 1, (n, c_out, *out), 2, allow_float=False))
    args = dict(stride=stride, padding=padding, dilation=dilation, groups=groups)
    return Case(
        [x, g],
        lambda x, g: fn(x, weight_size, g, **args),
        f"{name}(weight_size={weight_size}, {args})",
        lambda x, g: numpy_conv_weight(x, weight_size, g, stride, pairs, dilation, groups),
    )


def numpy_pool(x, kind, kernel, stride, pads):
    """The max (padding -inf) or mean (padding 0, counted) of every window, one at a time."""
    fill = -np.inf if kind == "max" else 0.0
    xp = np.pad(x, ((0, 0), (0, 0)) + tuple((p, p) for p in pads), constant_values=fill)
    ones = (1,) * len(kernel)
    out_shape = _out_sizes(x.shape[2:], kernel, stride, ones, tuple((p, p) for p in pads))
    out = np.zeros(x.shape[:2] + out_shape)
    reduce = np.max if kind == "max" else np.mean
    axes = tuple(range(2, 2 + len(kernel)))
    for pos in np.ndindex(*out_shape):
        window = xp[(slice(None), slice(None)) + _taps(pos, kernel, stride, ones)]
        out[(slice(None), slice(None)) + pos] = reduce(window, axis=axes)
    return out


@st.composite
def pool_case(draw, name: str, domain: Domain) -> Case:
    """x (N, C, *spatial) or unbatched, with distinct entries (no ties: a finite difference
    across a tie measures nothing); kernel, stride (None: the kernel) and padding."""
    d = _dims(name)
    fn = getattr(ops, name)
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(d))
    stride = draw(st.none() | st.tuples(*[st.integers(1, 3)] * d))
    pads = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    size = tuple(draw(st.integers(max(1, k - 2 * p), MAX_SPATIAL)) for k, p in zip(kernel, pads))
    batched = draw(st.integers(0, 4)) > 0
    lead = (draw(st.integers(1, 2)),) if batched else ()
    lead += (draw(st.integers(1, 3)),)
    x = draw(domain_input(domain, 0, lead + size, 1, allow_float=False))
    # ints or tuples, as a user may pass them
    kernel_arg = kernel[0] if len(set(kernel)) == 1 and draw(st.booleans()) else kernel
    args = dict(kernel_size=kernel_arg, stride=stride, padding=pads)
    kind = "max" if name.startswith("max") else "avg"

    def reference(x):
        xb = x if batched else x[None]
        out = numpy_pool(xb, kind, kernel, stride or kernel, pads)
        return out if batched else out[0]

    return Case([x], lambda x: fn(x, **args), f"{name}({args}, batched={batched})", reference)


@st.composite
def pad_case(draw, name: str, domain: Domain) -> Case:
    """Every form of np.pad's pad_width: an int, (n,), (before, after), one pair per axis,
    one (n,) per axis; a constant fill."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    widths = st.integers(0, 2)
    form = draw(st.sampled_from(["int", "one", "pair", "pairs", "singles"]))
    pad_width = {
        "int": lambda: draw(widths),
        "one": lambda: (draw(widths),),
        "pair": lambda: (draw(widths), draw(widths)),
        "pairs": lambda: tuple((draw(widths), draw(widths)) for _ in shape),
        "singles": lambda: tuple((draw(widths),) for _ in shape),
    }[form]()
    fill = draw(st.sampled_from([0, 0.0, 1.5, -2]))
    x = draw(domain_input(domain, 0, shape, 1, allow_float=False))
    return Case(
        [x],
        lambda x: ops.pad(x, pad_width, constant_values=fill),
        f"pad(pad_width={pad_width!r}, constant_values={fill!r})",
        lambda x: np.pad(x, pad_width, constant_values=fill),
    )


@st.composite
def flatten_case(draw, name: str, domain: Domain) -> Case:
    """Any start_dim <= end_dim, negative ones included; 0-d inputs flatten to (1,)."""
    shape = tuple(draw(st.lists(st.integers(1, 3), min_size=0, max_size=4)))
    ndim = max(len(shape), 1)
    start, end = sorted(draw(st.lists(st.integers(0, ndim - 1), min_size=2, max_size=2)))
    start_dim = draw(st.sampled_from([start, start - ndim]))
    end_dim = draw(st.sampled_from([end, end - ndim]))
    target = shape[:start] + (-1,) + shape[end + 1 :] if shape else (1,)
    x = draw(domain_input(domain, 0, shape, 1, allow_float=False))
    return Case(
        [x],
        lambda x: ops.flatten(x, start_dim, end_dim),
        f"flatten(start_dim={start_dim}, end_dim={end_dim})",
        lambda x: np.reshape(x, target),
    )


# Subscripts covering the rules: contractions, implicit output, repeated letters (diagonals,
# traces), letters only one operand has, '...' with broadcasting, three operands.
EINSUM_TEMPLATES = [
    "ij,jk->ik",
    "ij,jk",
    "bij,bjk->bik",
    "ii->",
    "ii->i",
    "ii",
    "i,j->ij",
    "ij->",
    "ij->i",
    "ij->ji",
    "ij,jk,kl->il",
    "i,i->",
    "iij->j",
    "ii,ij->j",
    "iji->j",
    "ij,ij->ij",
    "bn,anm,bm->ba",
    "...ij,...jk->...ik",
    "...a,b...",
    "...ii->...i",
    "i...->...",
]


@st.composite
def einsum_case(draw, name: str, domain: Domain) -> Case:
    """A template with random letter sizes (1 to 3); '...' axes mutually broadcastable; in
    'ij,ij->ij' one operand may have size 1 where the other has more (numpy broadcasts)."""
    subscripts = draw(st.sampled_from(EINSUM_TEMPLATES))
    terms = subscripts.split("->")[0].split(",")
    sizes = {c: draw(st.integers(1, 3)) for c in sorted(set(subscripts) - set(".,->"))}
    with_dots = [t for t in terms if "..." in t]
    dots = iter(
        draw(broadcastable_shapes(len(with_dots), max_dims=2, max_side=3)).input_shapes
        if with_dots
        else ()
    )
    shapes = []
    for term in terms:
        head, _, tail = term.partition("...")
        middle = next(dots) if "..." in term else ()
        shapes.append(tuple(sizes[c] for c in head) + middle + tuple(sizes[c] for c in tail))
    if subscripts == "ij,ij->ij" and draw(st.booleans()):
        shapes[1] = (1, shapes[1][1])
    xs = [
        draw(domain_input(domain, i, s, len(terms), allow_float=False))
        for i, s in enumerate(shapes)
    ]
    return Case(
        xs,
        lambda *xs: ops.einsum(subscripts, *xs),
        f"einsum({subscripts!r})",
        lambda *xs: np.einsum(subscripts, *xs),
    )


CASE_BUILDERS = {
    "conv": conv_case,
    "conv_transpose": conv_transpose_case,
    "conv_weight": conv_weight_case,
    "pool": pool_case,
    "pad": pad_case,
    "flatten": flatten_case,
    "einsum": einsum_case,
}
