"""conv, pool, pad, flatten and einsum beyond the registry's suite: the tie rule of max pooling,
unbatched inputs, gradients of gradients through a small CNN, a second backward after the
forward's saved columns were used, graph names, and every bad input's message.

The comparisons against PyTorch are in tests/test_conv_ops_torch.py.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import minigrad.ops as ops
from minigrad import Value
from minigrad.engine import gradients

RNG = np.random.default_rng(12)


def _normal(*shape):
    return RNG.standard_normal(shape)


# ----- max pooling's tie rule -------------------------------------------------------------------
def test_max_pool2d_tie_goes_to_the_first_maximum_in_window_order():
    # window 1: all equal -> (0, 0); window 2: 2 at (0, 1) and (1, 0) -> (0, 1), the first
    # row by row
    x = Value(np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 1.0, 2.0, 1.0]]]]))
    out = ops.max_pool2d(x, 2)
    np.testing.assert_array_equal(out.data, [[[[1.0, 2.0]]]])
    out.backward(np.array([[[[3.0, 5.0]]]]))
    np.testing.assert_array_equal(x.grad, [[[[3.0, 0.0, 0.0, 5.0], [0.0, 0.0, 0.0, 0.0]]]])


def test_max_pool_tie_after_relu_sends_the_whole_gradient_to_one_entry():
    x = Value(np.zeros((1, 1, 6)))
    ops.max_pool1d(ops.relu(x), 3).sum().backward()
    np.testing.assert_array_equal(x.grad, 0.0)  # relu'(0) = 0 blocks it
    y = Value(np.zeros((1, 1, 6)))
    ops.max_pool1d(y, 3).sum().backward()
    np.testing.assert_array_equal(y.grad, [[[1.0, 0.0, 0.0, 1.0, 0.0, 0.0]]])


def test_max_pool_overlapping_windows_add_their_gradients():
    # stride 1: the maximum 9 is in all three windows of size 3 that cover it
    x = Value(np.array([[[1.0, 9.0, 2.0, 3.0, 0.0]]]))
    out = ops.max_pool1d(x, 3, stride=1)
    np.testing.assert_array_equal(out.data, [[[9.0, 9.0, 3.0]]])
    out.backward(np.array([[[1.0, 10.0, 100.0]]]))
    np.testing.assert_array_equal(x.grad, [[[0.0, 11.0, 0.0, 100.0, 0.0]]])


def test_max_pool_padding_is_never_the_maximum():
    x = Value(-np.arange(1.0, 5.0).reshape(1, 1, 2, 2))  # all negative, padding -inf
    out = ops.max_pool2d(x, 3, stride=1, padding=1)
    np.testing.assert_array_equal(out.data, np.full((1, 1, 2, 2), -1.0))
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [[[[4.0, 0.0], [0.0, 0.0]]]])


def test_max_pool_nan_propagates_and_its_last_nan_gets_the_gradient():
    x = Value(np.array([[[1.0, np.nan, 3.0, 4.0, np.nan, np.nan, 2.0]]]))
    out = ops.max_pool1d(x, 3, stride=2)
    np.testing.assert_array_equal(out.data, [[[np.nan, np.nan, np.nan]]])
    out.backward(np.array([[[1.0, 10.0, 100.0]]]))
    np.testing.assert_array_equal(x.grad, [[[0.0, 1.0, 0.0, 0.0, 10.0, 100.0, 0.0]]])


def test_avg_pool_counts_the_padding():
    x = np.ones((1, 1, 3))
    np.testing.assert_allclose(ops.avg_pool1d(x, 3, stride=1, padding=1), [[[2 / 3, 1.0, 2 / 3]]])


# ----- unbatched inputs (as PyTorch) ------------------------------------------------------------
@pytest.mark.parametrize(
    "name, shape, args",
    [
        ("conv1d", (2, 7), (_normal(3, 2, 3),)),
        ("conv2d", (2, 5, 6), (_normal(3, 2, 2, 3),)),
        ("conv_transpose2d", (2, 3, 4), (_normal(2, 3, 2, 2),)),
        ("max_pool2d", (2, 5, 6), (2,)),
        ("avg_pool1d", (3, 7), (3,)),
    ],
)
def test_unbatched_input_is_a_batch_of_one(name, shape, args):
    fn = getattr(ops, name)
    x = _normal(*shape)
    single, batch = Value(x), Value(x[None])
    out = fn(single, *args)
    np.testing.assert_array_equal(out.data, fn(batch, *args).data[0])
    g = _normal(*out.shape)
    out.backward(g)
    fn(batch, *args).backward(g[None])
    np.testing.assert_array_equal(single.grad, batch.grad[0])


# ----- gradients of gradients and the saved columns --------------------------------------------
def _small_cnn(x, w1, w2):
    h = ops.max_pool2d(ops.tanh(ops.conv2d(x, w1, padding=1)), 2)
    return (ops.conv2d(h, w2, stride=2, groups=2) ** 2).sum()


def test_second_derivative_of_a_small_cnn_matches_finite_differences():
    x, w1, w2 = _normal(2, 2, 6, 6), _normal(4, 2, 3, 3) * 0.5, _normal(2, 2, 2, 2)
    leaves = [Value(a) for a in (x, w1, w2)]
    first = gradients(_small_cnn(*leaves), leaves, create_graph=True)
    direction = [_normal(*a.shape) for a in (x, w1, w2)]
    along = sum((g * d).sum() for g, d in zip(first, direction))
    second = gradients(along, leaves)  # a Hessian-vector product

    def first_plain(values):
        vs = [Value(a) for a in values]
        return gradients(_small_cnn(*vs), vs)

    eps = 1e-6
    probe = [_normal(*a.shape) for a in (x, w1, w2)]
    ahead = first_plain([a + eps * p for a, p in zip((x, w1, w2), probe)])
    behind = first_plain([a - eps * p for a, p in zip((x, w1, w2), probe)])
    numeric = sum(np.sum((a - b) * d) for a, b, d in zip(ahead, behind, direction)) / (2 * eps)
    analytic = sum(np.sum(s * p) for s, p in zip(second, probe))
    assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-6)


def test_conv_second_backward_without_the_saved_columns_gives_the_same_gradients():
    x, w, b = Value(_normal(2, 3, 5, 5)), Value(_normal(4, 3, 3, 3)), Value(_normal(4))
    out = ops.conv2d(x, w, b, stride=2, padding=1, dilation=1)
    g = _normal(*out.shape)
    out.backward(g)
    once = [v.grad.copy() for v in (x, w, b)]
    out.backward(g)  # the forward's columns were let go: recomputed from x
    for v, first in zip((x, w, b), once):
        np.testing.assert_allclose(v.grad, 2 * first, rtol=1e-13, atol=1e-13)


def test_float32_stays_float32_through_conv_and_pool_gradients_of_gradients():
    x = Value(_normal(1, 2, 5, 5).astype(np.float32))
    w = Value(_normal(2, 2, 3, 3).astype(np.float32))
    loss = ops.avg_pool2d(ops.max_pool2d(ops.conv2d(x, w, padding="same"), 2, 1), 2).sum()
    gx, gw = gradients(loss, [x, w], create_graph=True)
    assert gx.dtype == gw.dtype == np.float32
    (hx,) = gradients((gw * gw).sum(), [x])
    assert hx.dtype == np.float32


def test_graph_names_show_the_geometry():
    x, w = Value(_normal(1, 2, 6, 6)), Value(_normal(2, 1, 3, 3))
    conv = ops.conv2d(x, w, stride=2, padding=1, groups=2)
    assert conv._op.describe(conv._params) == "conv2d(stride=2, padding=1, groups=2)"
    same = ops.conv2d(x, Value(_normal(2, 2, 2, 2)), padding="same")
    assert same._op.describe(same._params) == "conv2d(padding=((0, 1), (0, 1)))"
    pool = ops.max_pool2d(x, 3, stride=2, padding=1)
    assert pool._op.describe(pool._params) == "max_pool2d(3, stride=2, padding=1)"
    summed = ops.einsum("ij,jk", Value(_normal(2, 3)), _normal(3, 4))
    assert summed._op.describe(summed._params) == "einsum(ij,jk->ik)"


def test_flatten_of_value_is_the_flatten_op_with_its_defaults():
    x = Value(_normal(2, 3, 4))
    np.testing.assert_array_equal(x.flatten().data, ops.flatten(x).data)
    assert ops.flatten(x, 1).shape == (2, 12)
    assert ops.flatten(x, 0, 1).shape == (6, 4)
    assert ops.flatten(Value(2.0)).shape == (1,)


# ----- bad input: the op, the layout expected and the shapes given ------------------------------
def _raises(kind, fn, *words):
    with pytest.raises(kind) as info:
        fn()
    message = str(info.value)
    for word in words:
        assert word in message, f"{word!r} not in {message!r}"
    return message


X2 = np.zeros((2, 3, 8, 8))
W2 = np.zeros((4, 3, 3, 3))


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: ops.conv2d(np.zeros((8, 8)), W2), ["conv2d", "(N, C, H, W)", "(8, 8)"]),
        (lambda: ops.conv1d(X2, W2), ["conv1d", "(N, C, L)", "(2, 3, 8, 8)"]),
        (lambda: ops.conv2d(X2, np.zeros((4, 3, 3))), ["conv2d", "(out, in/groups, kh, kw)"]),
        (lambda: ops.conv2d(X2, np.zeros((4, 2, 3, 3))), ["conv2d", "3 channels", "(4, 2, 3, 3)"]),
        (lambda: ops.conv2d(X2, W2, groups=2), ["conv2d", "groups=2", "(2, 3, 8, 8)"]),
        (
            lambda: ops.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((3, 2, 1, 1)), groups=2),
            ["groups=2", "output channels (3)"],
        ),
        (lambda: ops.conv2d(X2, W2, np.zeros(3)), ["conv2d", "bias of shape (4,)", "(3,)"]),
        (
            lambda: ops.conv2d(X2, np.zeros((4, 3, 9, 3))),
            ["conv2d", "kernel spans 9", "(2, 3, 8, 8)"],
        ),
        (lambda: ops.conv2d(X2, W2, dilation=4), ["conv2d", "spans 9", "dilation (4, 4)"]),
        (lambda: ops.conv2d(X2, W2, padding="same", stride=2), ["conv2d", "'same'", "stride 1"]),
        (lambda: ops.conv2d(X2, W2, padding="full"), ["conv2d", "'valid', 'same'"]),
        (lambda: ops.conv2d(X2, W2, padding=-1), ["conv2d", "padding", "non-negative"]),
        (
            lambda: ops.conv_transpose2d(X2, np.zeros((3, 4, 3, 3)), output_padding=1),
            ["conv_transpose2d", "output_padding", "stride"],
        ),
        (
            lambda: ops.conv_transpose2d(X2, np.zeros((4, 3, 3, 3))),
            ["conv_transpose2d", "(in, out/groups, kh, kw)", "in = 3"],
        ),
        (
            lambda: ops.conv2d_weight(X2, (4, 3, 3, 3), np.zeros((2, 4, 5, 5))),
            ["conv2d_weight", "(2, 4, 6, 6)", "(2, 4, 5, 5)"],
        ),
        (lambda: ops.max_pool2d(np.zeros((2, 8)), 2), ["max_pool2d", "(N, C, H, W)", "(2, 8)"]),
        (lambda: ops.max_pool2d(X2, 3, padding=2), ["max_pool2d", "half the kernel", "(2, 2)"]),
        (lambda: ops.avg_pool2d(X2, 9), ["avg_pool2d", "spans 9", "(2, 3, 8, 8)"]),
        (lambda: ops.avg_pool1d(np.zeros((1, 1, 4)), (2, 2)), ["avg_pool1d", "kernel_size"]),
        (lambda: ops.conv2d(X2, W2, dilation=(1, 1, 1)), ["conv2d", "dilation", "one per"]),
        (lambda: ops.pad(np.zeros((2, 3)), ((1, 1), (1, 1), (1, 1))), ["pad", "(2, 3)", "2 axes"]),
        (lambda: ops.pad(np.zeros(3), -1), ["pad", "non-negative"]),
        (lambda: ops.flatten(np.zeros((2, 3)), 2), ["flatten", "start_dim=2", "2 dimensions"]),
        (lambda: ops.flatten(np.zeros((2, 3, 4)), 2, 1), ["flatten", "after end_dim"]),
        (lambda: ops.einsum("ij,jk->ik", np.zeros((2, 3))), ["einsum", "2 operand terms"]),
        (
            lambda: ops.einsum("ij,jk", np.zeros((2, 3)), np.zeros((4, 2))),
            ["einsum", "size 3 and 4"],
        ),
        (lambda: ops.einsum("ij->ii", np.zeros((2, 2))), ["einsum", "repeated in the output"]),
        (lambda: ops.einsum("ij->k", np.zeros((2, 2))), ["einsum", "in no operand"]),
        (lambda: ops.einsum("ijk", np.zeros((2, 2))), ["einsum", "names 3 axes", "(2, 2)"]),
        (lambda: ops.einsum("...ij->ij", np.zeros((2, 2, 2))), ["einsum", "needs '...'"]),
        (lambda: ops.einsum("i1", np.zeros((2, 2))), ["einsum", "only letters"]),
    ],
)
def test_bad_input_value_error_names_the_op_and_the_shapes(call, words):
    _raises(ValueError, call, *words)


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda: ops.conv2d(X2, W2, stride=1.5), ["conv2d", "stride", "1.5"]),
        (lambda: ops.conv2d(X2, W2, stride=True), ["conv2d", "stride"]),
        (lambda: ops.conv2d(X2, W2, dilation=(1, "2")), ["conv2d", "dilation", "2 ints"]),
        (lambda: ops.max_pool2d(X2, 2.0), ["max_pool2d", "kernel_size", "2.0"]),
        (lambda: ops.pad(np.zeros(3), 1.5), ["pad", "integers"]),
        (lambda: ops.einsum(np.zeros(2), [0]), ["einsum", "sublist form"]),
        (lambda: ops.flatten(np.zeros(3), 0.0), ["flatten", "start_dim"]),
    ],
)
def test_bad_input_type_error_names_the_op(call, words):
    _raises(TypeError, call, *words)


@pytest.mark.parametrize("value", [0, -1])
@pytest.mark.parametrize("what", ["stride", "dilation"])
def test_conv_stride_and_dilation_must_be_positive(value, what):
    message = _raises(
        ValueError,
        lambda: ops.conv1d(np.zeros((1, 1, 5)), np.zeros((1, 1, 2)), **{what: value}),
        "conv1d",
    )
    assert re.search(f"{what} must be positive", message)


@pytest.mark.parametrize("kernel", [0, -2, (2, 0)])
def test_pool_kernel_size_must_be_positive(kernel):
    _raises(ValueError, lambda: ops.avg_pool2d(X2, kernel), "avg_pool2d", "kernel_size", "positive")
