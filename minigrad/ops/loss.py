"""Fused ops for networks: the affine map of a `Linear` layer, and softmax cross-entropy.

Both are built from smaller ops elsewhere, and both are fused here because training spends its
time in them:

- `linear(x, w, b) = x @ w.T + b` is one node instead of three (transpose, matmul, add), with
  the weight kept in PyTorch's (out, in) layout;
- `softmax_cross_entropy` against integer labels, composed from log_softmax and indexing, takes
  three nodes and a scatter in backward; fused it is one node whose gradient is the textbook
  "softmax minus one-hot", from the softmax its forward saved, and it can take the batch's mean
  or sum in the same node.
"""

from __future__ import annotations

import numpy as np

from minigrad.engine import apply, apply3
from minigrad.ops.registry import Domain, Op, data_of, register


def _rows(a, n):
    """`a` as a matrix of rows of length n (leading axes flattened), for batched inputs."""
    return a if np.ndim(data_of(a)) == 2 else reshape(a, (-1, n))


def _grad_weight(g, out, x, w, b):
    if type(g) is np.ndarray and type(x) is np.ndarray and g.ndim == 2 and x.ndim == 2:
        return g.T @ x  # Speed: plain matrices (the usual backward) go straight to numpy
    n_out, n_in = np.shape(data_of(w))
    return _rows(g, n_out).T @ _rows(x, n_in)


def _grad_bias(g, out, x, w, b):
    if type(g) is np.ndarray and g.ndim == 2:
        # Speed: plain matrices (the usual backward) go straight to numpy's reduction, without
        # ndarray.sum's Python wrapper
        return np.add.reduce(g, axis=0)
    return _rows(g, np.shape(data_of(w))[0]).sum(axis=0)


def _linear(x, w, b):
    # The shapes are checked here, on the data: the usual call then takes no second look at them
    # (a bias of shape (1,) or () would broadcast silently)
    if (
        type(x) is not np.ndarray
        or type(w) is not np.ndarray
        or type(b) is not np.ndarray
        or w.ndim != 2
        or b.shape != w.shape[:1]
        or x.ndim < 1
        or x.shape[-1] != w.shape[1]
    ):
        raise ValueError("need x (..., in), weight (out, in) and bias (out,)")
    out = x @ w.T
    if b.dtype == out.dtype:
        out += b  # Speed: in place on the fresh product, one array less
        return out
    return out + b  # (a bias of a wider float type widens the result, as numpy's + does)


@register("linear", Domain("linear"))
class Affine(Op):
    """x @ w.T + b, with x (..., in), w (out, in), b (out,).
    Gradient: gx = g @ w, gw = g.T @ x, gb = g summed over the batch axes."""

    name = "linear"
    forward = staticmethod(_linear)
    grads = (lambda g, out, x, w, b: g @ w, _grad_weight, _grad_bias)
    jvps = (
        lambda t, out, x, w, b: t @ transpose(w),
        lambda t, out, x, w, b: x @ transpose(t),
        lambda t, out, x, w, b: t,
    )


def _shape(a):
    # Speed: `.shape` of arrays and array Values directly (np.shape costs a call and a check)
    d = a.data if hasattr(a, "_op") else a
    return d.shape if type(d) is np.ndarray else np.shape(d)


def linear(x, weight, bias):
    """The affine map of a fully connected layer: x @ weight.T + bias (torch's F.linear).

    x has shape (..., in) (or (in,)), weight (out, in), bias (out,); any other shapes are an
    error naming them."""
    return apply3(Affine, x, weight, bias)


def _at_labels(x, labels):
    """The index of each row's entry at its label: x[_at_labels(x, labels)] picks them."""
    if x.ndim == 2:  # the common case, cheaper than take_along_axis
        return np.arange(len(labels)), labels
    return (*np.indices(labels.shape, sparse=True), labels)


class _Saved:
    """What a forward keeps for its backward: e**shifted and its row sums, whose ratio is the
    softmax, and the index of the labels. Speed: the backward then needs no exp, max or sum."""

    __slots__ = ("exp", "total", "at")

    def __init__(self) -> None:
        self.exp = self.total = self.at = None

    def __repr__(self) -> str:  # anomaly messages print the params: keep the arrays out of them
        return "<softmax saved by the forward>"


def _forward(x, labels, reduction="none", saved=None):
    # Speed: ufunc.reduce skips the Python wrapper of ndarray.max/.sum (a few us per call).
    shifted = x - np.maximum.reduce(x, axis=-1, keepdims=True)  # e**shifted <= 1: no overflow
    exp = np.exp(shifted)
    total = np.add.reduce(exp, axis=-1)
    at = _at_labels(x, labels)
    if saved is not None:
        saved.exp, saved.total, saved.at = exp, total, at
    rows = np.log(total) - shifted[at]
    if reduction == "none":
        return rows
    # Speed: the batch's sum or mean in the same node, one node less in forward and backward;
    # np.add.reduce is rows.sum() without its Python wrapper.
    loss = np.add.reduce(rows, axis=None)
    return loss / rows.size if reduction == "mean" else loss


def _one_hot(labels, like):
    out = np.zeros(np.shape(like), dtype=np.result_type(like))
    np.put_along_axis(out, labels[..., None], 1.0, axis=-1)
    return out


def _grad_logits(g, out, x, labels, reduction="none", saved=None):
    if type(x) is np.ndarray and not hasattr(g, "_op"):
        # The usual backward, in place on one fresh array: (softmax(x) - onehot) * g, from
        # what the forward saved (it is only read: a second backward finds it unchanged).
        if saved is None or saved.exp is None:
            saved = _Saved()
            _forward(x, labels, saved=saved)
        p = saved.exp / saved.total[..., None]
        p[saved.at] -= 1.0
        if reduction == "none":
            p *= g[..., None] if type(g) is np.ndarray else g  # g is a number for a single row
        else:
            p *= g / labels.size if reduction == "mean" else g
        return p
    # On Values (create_graph): the same formula, recorded, so it can be differentiated again.
    if reduction == "none":
        g = unsqueeze(g, -1)
    elif reduction == "mean":
        g = g / labels.size
    return g * (softmax(x, -1) - _one_hot(labels, data_of(x)))


def _jvp_logits(t, out, x, labels, reduction="none", saved=None):
    # Each row's loss changes by <softmax(x) - onehot, t_row>; then the rows' mean or sum.
    on_data = type(x) is np.ndarray and not hasattr(t, "_op")
    if on_data and saved is not None and saved.exp is not None:
        p = saved.exp / saved.total[..., None]  # the softmax the forward saved
    else:
        p = softmax(x, -1)
    rows = sum(t * (p - _one_hot(labels, data_of(x))), -1)
    if reduction == "none":
        return rows
    return mean(rows) if reduction == "mean" else sum(rows)


@register("softmax_cross_entropy", Domain("softmax_cross_entropy"))
class SoftmaxCrossEntropy(Op):
    """Per row: logsumexp(x) - x[label] = -log softmax(x)[label] (or their mean or sum).
    Gradient: gx = g * (softmax(x) - onehot(label)) (g / rows for the mean)."""

    name = "softmax_cross_entropy"
    forward = staticmethod(_forward)
    grads = (_grad_logits,)
    jvps = (_jvp_logits,)

    @classmethod
    def describe(cls, params):
        reduction = (params or {}).get("reduction", "none")
        return cls.name if reduction == "none" else f"{cls.name}({reduction})"


def softmax_cross_entropy(logits, labels, reduction="none"):
    """-log softmax(logits)[label] for each row of `logits` (shape (..., C)), one loss per row,
    or their 'mean' or 'sum' (`reduction`).

    `labels` holds integer classes in [0, C) with shape logits.shape[:-1].
    """
    shape = _shape(logits)
    if len(shape) == 0:
        raise ValueError("softmax_cross_entropy: logits must have a class axis, got a scalar")
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"softmax_cross_entropy: labels must be integers, got dtype {labels.dtype}")
    if labels.shape != shape[:-1]:
        raise ValueError(
            f"softmax_cross_entropy: logits of shape {shape} need labels of shape {shape[:-1]}, "
            f"got {labels.shape}"
        )
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(
            f"softmax_cross_entropy: reduction must be 'none', 'mean' or 'sum', got {reduction!r}"
        )
    index = labels.astype(np.intp, copy=False)
    # Speed: one reduction (no wrapper) for both bounds: seen as unsigned, a negative label is a
    # huge one.
    if index.size and np.maximum.reduce(index.view(np.uintp), axis=None) >= shape[-1]:
        raise ValueError(
            f"softmax_cross_entropy: labels must lie in [0, {shape[-1]}), got values from "
            f"{labels.min()} to {labels.max()}"
        )
    return apply(SoftmaxCrossEntropy, logits, labels=index, reduction=reduction, saved=_Saved())


from minigrad.ops.reduce import mean, sum  # noqa: E402
from minigrad.ops.shape import reshape, transpose, unsqueeze  # noqa: E402
from minigrad.ops.softmax import softmax  # noqa: E402
