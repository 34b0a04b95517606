"""Convolutions in PyTorch's layouts: conv1d/conv2d, their transposes, and their weight
gradients, each an op of its own.

    out[n, o, p] = sum_{c, k} x_padded[n, c, p * stride + k * dilation] * w[o, c, k] + b[o]

(c running over the input channels of o's group). The three ops are one trilinear form,
T(x, w, g) = <g, conv(x, w)>, seen from its three sides:

- `conv(x, w)`: the form's gradient with respect to g;
- `conv_transpose(g, w)`: with respect to x (the input gradient: windows of g*w added back
  where they came from);
- `conv_weight(x, g)`: with respect to w (the weight gradient: x correlated with g).

So each op's gradients are the other two (conv's input gradient is a conv_transpose, whose input
gradient is a conv again, ...), always with the same stride, padding, dilation and groups: the
rules are written with these ops and differentiate again to any order.

Computation (windows.py): the input's windows copied once into columns (im2col), then one BLAS
matrix product per group for the forward and for the weight gradient; the transpose multiplies
first and adds the windows back over the kernel offsets (col2im). Speed: the forward keeps its
columns for the weight gradient of the backward, which then needs no second im2col.
"""

from __future__ import annotations

from minigrad.engine import apply
from minigrad.ops.conv_args import (
    LAYOUTS,
    batched,
    check_conv,
    check_fits,
    check_transpose,
    ints,
    padding_pairs,
    shape_of,
)
from minigrad.ops.registry import Domain, Op, register
from minigrad.ops.windows import convolve, convolve_transpose, convolve_weight, out_size


class _Saved:
    """What a conv forward keeps for its backward: its im2col columns (dropped once used)."""

    __slots__ = ("cols",)

    def __init__(self) -> None:
        self.cols = None

    def __repr__(self) -> str:  # anomaly messages print the params: keep the arrays out
        return "<columns saved by the forward>"


# ----- gradient and forward-mode rules (the same lines run on arrays and on Values) ------------
def _geometry(stride, padding, dilation, groups):
    return {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}


def _spatial(a):
    return shape_of(a)[2:]


def _conv_of(x, w, geometry):
    return apply(CONV[len(_spatial(w))], x, w, **geometry, saved=None)


def _conv_like(x, w, geometry, like):
    """conv(x, w) cut to the spatial size of `like`. A transposed convolution with an
    output_padding of stride or more has last entries that took nothing from its input: a conv
    over them has more windows than that input has entries, and those windows belong to none."""
    result = _conv_of(x, w, geometry)
    if _spatial(result) == _spatial(like):
        return result
    return getitem(result, (slice(None), slice(None), *(slice(0, n) for n in _spatial(like))))


def _transpose_of(x, w, geometry, size):
    return apply(TRANSPOSE[len(_spatial(w))], x, w, **geometry, size=size)


def _weight_of(x, g, geometry, kernel):
    return apply(WEIGHT[len(kernel)], x, g, **geometry, kernel=kernel)


def _channel_sum(g):
    return g.sum(axis=(0, *range(2, len(shape_of(g)))))


def _along_channels(t, like):
    """A bias tangent (C,) broadcast over the output `like` (N, C, *spatial)."""
    shape = shape_of(like)
    return broadcast_to(reshape(t, (-1,) + (1,) * (len(shape) - 2)), shape)


def _conv_dx(g, out, x, w, b=None, *, stride, padding, dilation, groups, saved=None):
    return _transpose_of(g, w, _geometry(stride, padding, dilation, groups), _spatial(x))


def _conv_dw(g, out, x, w, b=None, *, stride, padding, dilation, groups, saved=None):
    cols = None if saved is None or hasattr(g, "_op") else saved.cols
    if cols is not None:  # Speed: the forward's columns, used once, then let go
        saved.cols = None
        geometry = _geometry(stride, padding, dilation, groups)
        return convolve_weight(x, g, kernel=w.shape[2:], **geometry, cols=cols)
    return _weight_of(x, g, _geometry(stride, padding, dilation, groups), _spatial(w))


def _conv_db(g, out, x, w, b, **params):
    return _channel_sum(g)


def _conv_tx(t, out, x, w, b=None, *, stride, padding, dilation, groups, saved=None):
    return _conv_of(t, w, _geometry(stride, padding, dilation, groups))


def _conv_tw(t, out, x, w, b=None, *, stride, padding, dilation, groups, saved=None):
    return _conv_of(x, t, _geometry(stride, padding, dilation, groups))


def _bias_t(t, out, *inputs, **params):
    return _along_channels(t, out)


class _Conv(Op):
    forward = staticmethod(convolve)
    grads = (_conv_dx, _conv_dw, _conv_db)
    jvps = (_conv_tx, _conv_tw, _bias_t)

    @classmethod
    def describe(cls, params):
        return _describe(cls.name, params)


@register("conv1d", Domain("conv"))
class Conv1d(_Conv):
    """out[n, o, l] = sum_{c, k} x_padded[n, c, l * stride + k * dilation] * w[o, c, k] + b[o].
    Gradient: gx = conv_transpose1d(g, w), gw = conv1d_weight(x, g), gb = g summed over
    (N, L)."""

    name = "conv1d"


@register("conv2d", Domain("conv"))
class Conv2d(_Conv):
    """out[n, o, i, j] = sum_{c, a, b} x_padded[n, c, i*sh + a*dh, j*sw + b*dw] * w[o, c, a, b]
    + bias[o].  Gradient: gx = conv_transpose2d(g, w), gw = conv2d_weight(x, g), gb = g
    summed over (N, H, W)."""

    name = "conv2d"


def _transpose_dx(h, out, x, w, b=None, *, stride, padding, dilation, groups, size):
    return _conv_like(h, w, _geometry(stride, padding, dilation, groups), x)


def _transpose_dw(h, out, x, w, b=None, *, stride, padding, dilation, groups, size):
    return _weight_of(h, x, _geometry(stride, padding, dilation, groups), _spatial(w))


def _transpose_tx(t, out, x, w, b=None, *, stride, padding, dilation, groups, size):
    return _transpose_of(t, w, _geometry(stride, padding, dilation, groups), size)


def _transpose_tw(t, out, x, w, b=None, *, stride, padding, dilation, groups, size):
    return _transpose_of(x, t, _geometry(stride, padding, dilation, groups), size)


class _Transpose(Op):
    forward = staticmethod(convolve_transpose)
    grads = (_transpose_dx, _transpose_dw, _conv_db)
    jvps = (_transpose_tx, _transpose_tw, _bias_t)

    @classmethod
    def describe(cls, params):
        return _describe(cls.name, params)


@register("conv_transpose1d", Domain("conv_transpose"))
class ConvTranspose1d(_Transpose):
    """The transpose of conv1d: each x[n, o, l] * w[o, c, k] added at
    out[n, c, l * stride + k * dilation - padding] (+ b[c]).
    Gradient: gx = conv1d(g, w), gw = conv1d_weight(g, x), gb = g summed over (N, L)."""

    name = "conv_transpose1d"


@register("conv_transpose2d", Domain("conv_transpose"))
class ConvTranspose2d(_Transpose):
    """The transpose of conv2d: each x[n, o, i, j] * w[o, c, a, b] added at
    out[n, c, i*sh + a*dh - ph, j*sw + b*dw - pw] (+ bias[c]).
    Gradient: gx = conv2d(g, w), gw = conv2d_weight(g, x), gb = g summed over (N, H, W)."""

    name = "conv_transpose2d"


def _weight_dx(h, out, x, g, *, kernel, stride, padding, dilation, groups):
    return _transpose_of(g, h, _geometry(stride, padding, dilation, groups), _spatial(x))


def _weight_dg(h, out, x, g, *, kernel, stride, padding, dilation, groups):
    return _conv_like(x, h, _geometry(stride, padding, dilation, groups), g)


def _weight_tx(t, out, x, g, *, kernel, stride, padding, dilation, groups):
    return _weight_of(t, g, _geometry(stride, padding, dilation, groups), kernel)


def _weight_tg(t, out, x, g, *, kernel, stride, padding, dilation, groups):
    return _weight_of(x, t, _geometry(stride, padding, dilation, groups), kernel)


class _Weight(Op):
    forward = staticmethod(convolve_weight)
    grads = (_weight_dx, _weight_dg)
    jvps = (_weight_tx, _weight_tg)

    @classmethod
    def describe(cls, params):
        return _describe(cls.name, params)


@register("conv1d_weight", Domain("conv_weight"))
class Conv1dWeight(_Weight):
    """The weight gradient of conv1d: gw[o, c, k] = sum_{n, l} g[n, o, l] *
    x_padded[n, c, l * stride + k * dilation].
    Gradient: gx = conv_transpose1d(g, h), gg = conv1d(x, h) (h: the upstream gradient)."""

    name = "conv1d_weight"


@register("conv2d_weight", Domain("conv_weight"))
class Conv2dWeight(_Weight):
    """The weight gradient of conv2d: gw[o, c, a, b] = sum_{n, i, j} g[n, o, i, j] *
    x_padded[n, c, i*sh + a*dh, j*sw + b*dw].
    Gradient: gx = conv_transpose2d(g, h), gg = conv2d(x, h) (h: the upstream gradient)."""

    name = "conv2d_weight"


CONV = {1: Conv1d, 2: Conv2d}
TRANSPOSE = {1: ConvTranspose1d, 2: ConvTranspose2d}
WEIGHT = {1: Conv1dWeight, 2: Conv2dWeight}


def _describe(name, params):
    """The op's name with its geometry where it is not the default: conv2d(stride=2, padding=1)."""
    params = dict(params or {})
    pads = params.get("padding", ())
    if all(lo == hi for lo, hi in pads):  # PyTorch's form: one number per axis
        params["padding"] = tuple(lo for lo, _ in pads)
    shown = []
    for key, default in (("stride", 1), ("padding", 0), ("dilation", 1), ("groups", 1)):
        value = params.get(key, default)
        items = value if isinstance(value, tuple) else (value,)
        if any(item != default for item in items):
            one = len(set(items)) == 1 and not isinstance(items[0], tuple)
            shown.append(f"{key}={items[0] if one else value}")
    return f"{name}({', '.join(shown)})" if shown else name


# ----- the public functions -------------------------------------------------------------------
def conv1d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """1-d convolution (a cross-correlation, as in PyTorch) of x (N, C, L) with w
    (out, C/groups, k), plus b (out,) if given: shape (N, out, L_out), L_out =
    (L + padding - dilation * (k - 1) - 1) // stride + 1.

    padding: an int, a 1-tuple, 'valid' (none) or 'same' (L_out = L; stride 1 only). An
    unbatched x (C, L) gives (out, L_out), as in PyTorch.

    >>> conv1d(np.array([[[1.0, 2.0, 3.0]]]), np.array([[[1.0, -1.0]]]))
    array([[[-1., -1.]]])
    """
    return _conv_call("conv1d", 1, x, w, b, stride, padding, dilation, groups)


def conv2d(x, w, b=None, stride=1, padding=0, dilation=1, groups=1):
    """2-d convolution (a cross-correlation, as in PyTorch) of x (N, C, H, W) with w
    (out, C/groups, kh, kw), plus b (out,) if given: shape (N, out, H_out, W_out), each side
    (size + padding - dilation * (kernel - 1) - 1) // stride + 1.

    stride, dilation: an int or a pair; padding: an int, a pair, 'valid' (none) or 'same'
    (output as large as the input; stride 1 only). An unbatched x (C, H, W) gives
    (out, H_out, W_out), as in PyTorch.
    """
    return _conv_call("conv2d", 2, x, w, b, stride, padding, dilation, groups)


def _conv_call(op, d, x, w, b, stride, padding, dilation, groups):
    if not batched(op, x, d):
        result = _conv_call(op, d, unsqueeze(x, 0), w, b, stride, padding, dilation, groups)
        return squeeze(result, 0)
    x_shape, w_shape = shape_of(x), shape_of(w)
    check_conv(op, x_shape, w_shape, None if b is None else shape_of(b), groups, d)
    stride = ints(op, "stride", stride, d)
    dilation = ints(op, "dilation", dilation, d)
    pads = padding_pairs(op, padding, d, w_shape[2:], dilation, stride)
    check_fits(op, x_shape[2:], pads, w_shape[2:], dilation, x_shape)
    inputs = (x, w) if b is None else (x, w, b)
    geometry = _geometry(stride, pads, dilation, int(groups))
    return apply(CONV[d], *inputs, **geometry, saved=_Saved())


def conv_transpose1d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed 1-d convolution (PyTorch's, argument order included) of x (N, in, L)
    with w (in, out/groups, k): shape (N, out, (L - 1) * stride - 2 * padding +
    dilation * (k - 1) + output_padding + 1). It is conv1d's input gradient: conv1d's
    weight (out', in', k) serves as its weight directly."""
    return _transpose_call(
        "conv_transpose1d", 1, x, w, b, stride, padding, output_padding, groups, dilation
    )


def conv_transpose2d(x, w, b=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """The transposed 2-d convolution (PyTorch's, argument order included) of x
    (N, in, H, W) with w (in, out/groups, kh, kw): each side (size - 1) * stride -
    2 * padding + dilation * (kernel - 1) + output_padding + 1. It is conv2d's input
    gradient."""
    return _transpose_call(
        "conv_transpose2d", 2, x, w, b, stride, padding, output_padding, groups, dilation
    )


def _transpose_call(op, d, x, w, b, stride, padding, output_padding, groups, dilation):
    if not batched(op, x, d):
        result = _transpose_call(
            op, d, unsqueeze(x, 0), w, b, stride, padding, output_padding, groups, dilation
        )
        return squeeze(result, 0)
    x_shape, w_shape = shape_of(x), shape_of(w)
    check_transpose(op, x_shape, w_shape, None if b is None else shape_of(b), groups, d)
    stride = ints(op, "stride", stride, d)
    dilation = ints(op, "dilation", dilation, d)
    pads = ints(op, "padding", padding, d, minimum=0)
    extra = ints(op, "output_padding", output_padding, d, minimum=0)
    if any(e >= max(s, dl) for e, s, dl in zip(extra, stride, dilation)):
        raise ValueError(
            f"{op}: output_padding must be smaller than stride or dilation, got output_padding "
            f"{extra}, stride {stride}, dilation {dilation}"
        )
    size = tuple(
        (n - 1) * s - 2 * p + dl * (k - 1) + e + 1
        for n, s, p, dl, k, e in zip(x_shape[2:], stride, pads, dilation, w_shape[2:], extra)
    )
    if any(n < 1 for n in size):
        raise ValueError(
            f"{op}: the output would have spatial size {size}: padding {pads} is too large "
            f"for input shape {x_shape} and weight shape {w_shape}"
        )
    inputs = (x, w) if b is None else (x, w, b)
    geometry = _geometry(stride, tuple((p, p) for p in pads), dilation, int(groups))
    return apply(TRANSPOSE[d], *inputs, **geometry, size=size)


def conv1d_weight(x, weight_size, g, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv1d with respect to its weight (torch.nn.grad.conv1d_weight): x
    (N, C, L) correlated with the output gradient g (N, out, L_out); shape weight_size
    (out, C/groups, k)."""
    return _weight_call("conv1d_weight", 1, x, weight_size, g, stride, padding, dilation, groups)


def conv2d_weight(x, weight_size, g, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of conv2d with respect to its weight (torch.nn.grad.conv2d_weight): x
    (N, C, H, W) correlated with the output gradient g (N, out, H_out, W_out); shape
    weight_size (out, C/groups, kh, kw)."""
    return _weight_call("conv2d_weight", 2, x, weight_size, g, stride, padding, dilation, groups)


def _weight_call(op, d, x, weight_size, g, stride, padding, dilation, groups):
    x_shape, g_shape = shape_of(x), shape_of(g)
    if len(x_shape) != d + 2:
        raise ValueError(f"{op}: expected an input {LAYOUTS[d]}, got shape {x_shape}")
    weight_size = ints(op, "weight_size", tuple(weight_size), d + 2)
    check_conv(op, x_shape, weight_size, None, groups, d)
    kernel = weight_size[2:]
    stride = ints(op, "stride", stride, d)
    dilation = ints(op, "dilation", dilation, d)
    pads = padding_pairs(op, padding, d, kernel, dilation, stride)
    check_fits(op, x_shape[2:], pads, kernel, dilation, x_shape)
    out = tuple(
        out_size(n, k, s, dl, lo + hi)
        for n, k, s, dl, (lo, hi) in zip(x_shape[2:], kernel, stride, dilation, pads)
    )
    expected = (x_shape[0], weight_size[0], *out)
    if tuple(g_shape) != expected:
        raise ValueError(
            f"{op}: for input shape {x_shape} and weight size {weight_size} the output gradient "
            f"must have shape {expected} (N, out, *out_size), got {tuple(g_shape)}"
        )
    geometry = _geometry(stride, pads, dilation, int(groups))
    return apply(WEIGHT[d], x, g, **geometry, kernel=kernel)


from minigrad.ops.shape import broadcast_to, getitem, reshape, squeeze, unsqueeze  # noqa: E402
