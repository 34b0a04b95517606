"""Convolutional networks' ops as ONNX nodes: Conv, ConvTranspose, MaxPool, AveragePool, Pad,
flatten (a Reshape) and einsum (Einsum).

The layouts are the same (PyTorch's (N, C, *spatial), weights (out, in/groups, *kernel)), so
each op is one node: minigrad keeps padding as (before, after) per axis, ONNX as all the
befores then all the afters. Average pooling counts the padding, as minigrad (and PyTorch by
default) does: count_include_pad=1.
"""

from __future__ import annotations

from minigrad.onnx.builder import Emit, converts
from minigrad.onnx.ops_shape import reshape_to
from minigrad.ops.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from minigrad.ops.einsum import Einsum
from minigrad.ops.pad import Flatten, Pad
from minigrad.ops.pool import AvgPool1d, AvgPool2d, MaxPool1d, MaxPool2d


def _pads(pairs) -> list[int]:
    """((before, after), ...) per axis as ONNX's [befores..., afters...]."""
    return [int(lo) for lo, _ in pairs] + [int(hi) for _, hi in pairs]


def _kernel(c: Emit) -> list[int]:
    return [int(k) for k in c.parents[1].dims[2:]]


@converts(Conv1d, Conv2d, dynamic=("saved",))
def conv(c: Emit) -> None:
    p = c.params
    c.b.add(
        "Conv",
        c.ins,
        c.out,
        kernel_shape=_kernel(c),
        strides=list(p["stride"]),
        pads=_pads(p["padding"]),
        dilations=list(p["dilation"]),
        group=int(p["groups"]),
    )


@converts(ConvTranspose1d, ConvTranspose2d)
def conv_transpose(c: Emit) -> None:
    """ConvTranspose with the output size minigrad computed, given as output_padding (the
    part of it the stride leaves over)."""
    p = c.params
    kernel, size = _kernel(c), [int(n) for n in p["size"]]
    extra = [
        n - ((m - 1) * s - lo - hi + dl * (k - 1) + 1)
        for n, m, s, (lo, hi), dl, k in zip(
            size, c.in_dims()[2:], p["stride"], p["padding"], p["dilation"], kernel
        )
    ]
    c.b.add(
        "ConvTranspose",
        c.ins,
        c.out,
        kernel_shape=kernel,
        strides=list(p["stride"]),
        pads=_pads(p["padding"]),
        dilations=list(p["dilation"]),
        group=int(p["groups"]),
        output_padding=extra,
    )


@converts(MaxPool1d, MaxPool2d, dynamic=("saved",))
def max_pool(c: Emit) -> None:
    """MaxPool: its padding never wins a window, as minigrad's -inf padding."""
    p = c.params
    c.b.add(
        "MaxPool",
        c.ins,
        c.out,
        kernel_shape=list(p["kernel"]),
        strides=list(p["stride"]),
        pads=_pads(p["padding"]),
    )


@converts(AvgPool1d, AvgPool2d)
def avg_pool(c: Emit) -> None:
    p = c.params
    c.b.add(
        "AveragePool",
        c.ins,
        c.out,
        kernel_shape=list(p["kernel"]),
        strides=list(p["stride"]),
        pads=_pads(p["padding"]),
        count_include_pad=1,
    )


@converts(Pad)
def pad(c: Emit) -> None:
    value = c.b.const(float(c.params["constant_values"]), c.dtype)
    widths = c.b.ints(_pads(c.params["pad_width"]))
    c.b.add("Pad", [c.ins[0], widths, value], c.out, mode="constant")


@converts(Flatten)
def flatten(c: Emit) -> None:
    reshape_to(c, list(c.dims))


@converts(Einsum)
def einsum(c: Emit) -> None:
    c.b.add("Einsum", c.ins, c.out, equation=c.params["subscripts"].replace(" ", ""))
