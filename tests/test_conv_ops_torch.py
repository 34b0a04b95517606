"""conv, pool, einsum, pad and flatten against PyTorch in float64, to 1e-7: outputs, the
gradient of every input, and gradients of gradients. Skipped when PyTorch is not installed."""

from __future__ import annotations

import numpy as np
import pytest

import minigrad.ops as ops
from minigrad import Value
from minigrad.engine import gradients

torch = pytest.importorskip("torch", reason="PyTorch is only needed for these cross-checks")
F = torch.nn.functional

TOL = dict(rtol=1e-7, atol=1e-7)
RNG = np.random.default_rng(7)


def _both(*shape):
    """The same float64 numbers as a minigrad Value and a torch tensor requiring grad."""
    a = RNG.standard_normal(shape)
    return Value(a), torch.tensor(a, requires_grad=True)


def _compare(ours, theirs, leaves, tensors):
    """Same output; then the same gradient for every input under one random upstream g."""
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), **TOL)
    g = RNG.standard_normal(ours.shape)
    ours.backward(g)
    theirs.backward(torch.tensor(g))
    for i, (leaf, tensor) in enumerate(zip(leaves, tensors)):
        np.testing.assert_allclose(leaf.grad, tensor.grad.numpy(), **TOL, err_msg=f"input {i}")


CONV_CASES = [
    # (d, N, C, out, spatial, kernel, keywords)
    (1, 2, 3, 4, (9,), (3,), {}),
    (1, 2, 4, 6, (10,), (3,), dict(stride=2, padding=1, dilation=2, groups=2)),
    (1, 1, 3, 3, (7,), (2,), dict(padding="same", groups=3)),
    (2, 2, 3, 4, (7, 6), (3, 3), {}),
    (2, 2, 3, 5, (8, 7), (3, 2), dict(stride=(2, 1), padding=(1, 0))),
    (2, 1, 4, 4, (9, 9), (3, 3), dict(stride=2, padding=2, dilation=2, groups=4)),
    (2, 2, 6, 4, (6, 7), (2, 3), dict(padding="same", dilation=(1, 2), groups=2)),
    (2, 2, 2, 3, (5, 5), (2, 2), dict(padding="same")),  # even kernel: more padding after
    (2, 1, 3, 2, (6, 8), (3, 5), dict(padding="valid", stride=(1, 3))),
    (2, 3, 1, 6, (28, 28), (5, 5), dict(padding=2)),  # LeNet's first layer
]


# PyTorch warns that it copies the input for 'same' with an even kernel: nothing to fix here
@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("d, n, c, out, size, kernel, keywords", CONV_CASES)
def test_conv_matches_pytorch(d, n, c, out, size, kernel, keywords, bias):
    groups = keywords.get("groups", 1)
    x, tx = _both(n, c, *size)
    w, tw = _both(out, c // groups, *kernel)
    leaves, tensors = [x, w], [tx, tw]
    if bias:
        b, tb = _both(out)
        leaves, tensors = leaves + [b], tensors + [tb]
    ours = getattr(ops, f"conv{d}d")(*leaves, **keywords)
    theirs = getattr(F, f"conv{d}d")(*tensors, **keywords)
    _compare(ours, theirs, leaves, tensors)


def test_conv2d_unbatched_matches_pytorch():
    x, tx = _both(3, 6, 5)
    w, tw = _both(2, 3, 3, 2)
    _compare(ops.conv2d(x, w, stride=2), F.conv2d(tx, tw, stride=2), [x, w], [tx, tw])


TRANSPOSE_CASES = [
    (1, 2, 4, 3, (5,), (3,), dict(stride=2, padding=1, output_padding=1, groups=2)),
    (1, 1, 2, 2, (4,), (2,), dict(stride=1, dilation=3, output_padding=2)),
    (2, 2, 3, 2, (4, 3), (3, 3), {}),
    (2, 2, 4, 3, (3, 4), (3, 2), dict(stride=(2, 3), padding=(1, 0), output_padding=(1, 2))),
    (2, 1, 4, 2, (4, 4), (2, 2), dict(stride=2, dilation=2, groups=2)),
]


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("d, n, c_in, per_group, size, kernel, keywords", TRANSPOSE_CASES)
def test_conv_transpose_matches_pytorch(d, n, c_in, per_group, size, kernel, keywords, bias):
    groups = keywords.get("groups", 1)
    x, tx = _both(n, c_in, *size)
    w, tw = _both(c_in, per_group, *kernel)
    leaves, tensors = [x, w], [tx, tw]
    if bias:
        b, tb = _both(per_group * groups)
        leaves, tensors = leaves + [b], tensors + [tb]
    ours = getattr(ops, f"conv_transpose{d}d")(*leaves, **keywords)
    theirs = getattr(F, f"conv_transpose{d}d")(*tensors, **keywords)
    _compare(ours, theirs, leaves, tensors)


@pytest.mark.parametrize("d, n, c, out, size, kernel, keywords", CONV_CASES[:7])
def test_conv_weight_matches_pytorch_nn_grad(d, n, c, out, size, kernel, keywords):
    if keywords.get("padding") == "same":
        pytest.skip("torch.nn.grad takes integer padding only")
    groups = keywords.get("groups", 1)
    weight_size = (out, c // groups, *kernel)
    x, tx = _both(n, c, *size)
    out_shape = getattr(F, f"conv{d}d")(
        tx, torch.zeros(weight_size, dtype=torch.float64), **keywords
    ).shape
    g, tg = _both(*out_shape)
    ours = getattr(ops, f"conv{d}d_weight")(x, weight_size, g, **keywords)
    theirs = getattr(torch.nn.grad, f"conv{d}d_weight")(tx, weight_size, tg, **keywords)
    _compare(ours, theirs, [x, g], [tx, tg])


def test_conv_gradients_of_gradients_match_pytorch():
    """d/d(x, w) of |d loss / d x|^2 + |d loss / d w|^2 through strided, dilated, grouped conv."""
    x, tx = _both(2, 4, 7, 6)
    w, tw = _both(6, 2, 3, 2)
    keywords = dict(stride=(2, 1), padding=1, dilation=(1, 2), groups=2)
    loss = ops.tanh(ops.conv2d(x, w, **keywords)).sum()
    gx, gw = gradients(loss, [x, w], create_graph=True)
    ours = gradients((gx * gx).sum() + (gw * gw).sum(), [x, w])
    tloss = torch.tanh(F.conv2d(tx, tw, **keywords)).sum()
    tgx, tgw = torch.autograd.grad(tloss, [tx, tw], create_graph=True)
    theirs = torch.autograd.grad((tgx**2).sum() + (tgw**2).sum(), [tx, tw])
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b.numpy(), **TOL)


POOL_CASES = [
    (1, (2, 3, 9), dict(kernel_size=2)),
    (1, (2, 2, 10), dict(kernel_size=3, stride=2, padding=1)),
    (1, (1, 2, 7), dict(kernel_size=3, stride=1)),
    (2, (2, 3, 8, 8), dict(kernel_size=2)),
    (2, (2, 2, 7, 9), dict(kernel_size=3, stride=2, padding=1)),
    (2, (1, 2, 6, 7), dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1))),
    (2, (2, 1, 5, 5), dict(kernel_size=3, stride=1)),  # overlapping windows
    (1, (1, 2, 7), dict(kernel_size=1, stride=3)),  # gaps between the windows
    (2, (1, 2, 6, 6), dict(kernel_size=2, stride=3)),
    (2, (2, 2, 6, 6), dict(kernel_size=2, stride=2)),  # windows tiling the input exactly
]


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("d, shape, keywords", POOL_CASES)
def test_pool_matches_pytorch(kind, d, shape, keywords, ties):
    a = RNG.standard_normal(shape)
    if ties:  # ReLU-like inputs: many windows of equal values
        a = np.maximum(np.round(a), 0.0)
    x, tx = Value(a), torch.tensor(a, requires_grad=True)
    ours = getattr(ops, f"{kind}_pool{d}d")(x, **keywords)
    theirs = getattr(F, f"{kind}_pool{d}d")(tx, **keywords)
    _compare(ours, theirs, [x], [tx])


def test_max_pool_double_backward_matches_pytorch():
    """The gradient of max pooling's gradient with respect to g: the same routing, read back."""
    a = np.maximum(np.round(RNG.standard_normal((2, 2, 6, 6))), 0.0)  # with ties
    x, tx = Value(a), torch.tensor(a, requires_grad=True)
    g, tg = _both(2, 2, 3, 3)
    r = RNG.standard_normal(a.shape)
    (gx,) = gradients(ops.max_pool2d(x, 3, stride=2, padding=1), [x], gradient=g, create_graph=True)
    (ours,) = gradients((gx * r).sum(), [g])
    (tgx,) = torch.autograd.grad(F.max_pool2d(tx, 3, 2, 1), [tx], tg, create_graph=True)
    (theirs,) = torch.autograd.grad((tgx * torch.tensor(r)).sum(), [tg])
    np.testing.assert_allclose(ours, theirs.numpy(), **TOL)


@pytest.mark.parametrize(
    "subscripts, shapes",
    [
        ("ij,jk->ik", [(3, 4), (4, 2)]),
        ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
        ("ii->i", [(4, 4)]),
        ("ii", [(3, 3)]),
        ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),  # attention scores
        ("...ij,...jk->...ik", [(2, 3, 4), (4, 2)]),
        ("ij,jk,kl->il", [(2, 3), (3, 4), (4, 5)]),
        ("i,j->ij", [(3,), (4,)]),
        ("iij->j", [(3, 3, 2)]),
    ],
)
def test_einsum_matches_pytorch(subscripts, shapes):
    pairs = [_both(*s) for s in shapes]
    leaves, tensors = [p[0] for p in pairs], [p[1] for p in pairs]
    _compare(ops.einsum(subscripts, *leaves), torch.einsum(subscripts, *tensors), leaves, tensors)


def test_einsum_gradients_of_gradients_match_pytorch():
    x, tx = _both(3, 4)
    y, ty = _both(4, 3)
    gx, gy = gradients(ops.einsum("ij,jk->ik", x, y).tanh().sum(), [x, y], create_graph=True)
    ours = gradients(ops.einsum("ij,ji->", gx, gy), [x, y])
    tgx, tgy = torch.autograd.grad(
        torch.einsum("ij,jk->ik", tx, ty).tanh().sum(), [tx, ty], create_graph=True
    )
    theirs = torch.autograd.grad(torch.einsum("ij,ji->", tgx, tgy), [tx, ty])
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b.numpy(), **TOL)


def test_pad_matches_pytorch():
    x, tx = _both(2, 3, 4)
    # numpy's per-axis pairs (first axis first); torch lists the last axis first
    ours = ops.pad(x, ((0, 0), (1, 2), (3, 0)), constant_values=0.5)
    theirs = F.pad(tx, (3, 0, 1, 2), value=0.5)
    _compare(ours, theirs, [x], [tx])


@pytest.mark.parametrize("start, end", [(0, -1), (1, -1), (1, 2), (-2, -1), (2, 2)])
def test_flatten_matches_pytorch(start, end):
    x, tx = _both(2, 3, 4, 2)
    _compare(ops.flatten(x, start, end), torch.flatten(tx, start, end), [x], [tx])
