"""Fused ops for networks: the affine map of a `Linear` layer, and softmax cross-entropy.

Both are built from smaller ops elsewhere, and both are fused here because training spends its
time in them:

- `linear(x, w, b) = x @ w.T + b` is one node instead of three (transpose, matmul, add), with
  the weight kept in PyTorch's (out, in) layout;
- `softmax_cross_entropy` against integer labels, composed from log_softmax and indexing, takes
  three nodes and a scatter in backward; fused it is one node whose gradient is the textbook
  "softmax minus one-hot".
"""

from __future__ import annotations

import numpy as np

from minigrad.engine import apply
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
        return g.sum(axis=0)  # Speed: plain matrices (the usual backward) go straight to numpy
    return _rows(g, np.shape(data_of(w))[0]).sum(axis=0)


def _linear(x, w, b):
    out = x @ w.T
    if out.dtype == np.result_type(out, b) and out.ndim:
        out += b  # in place on the fresh product: one array less
        return out
    return out + b


@register("linear", Domain("linear"))
class Affine(Op):
    """x @ w.T + b, with x (..., in), w (out, in), b (out,).
    Gradient: gx = g @ w, gw = g.T @ x, gb = g summed over the batch axes."""

    name = "linear"
    forward = staticmethod(_linear)
    grads = (lambda g, out, x, w, b: g @ w, _grad_weight, _grad_bias)


def linear(x, weight, bias):
    """The affine map of a fully connected layer: x @ weight.T + bias (torch's F.linear).

    x has shape (..., in) (or (in,)), weight (out, in), bias (out,)."""
    sx, sw, sb = (np.shape(data_of(a)) for a in (x, weight, bias))
    if len(sw) != 2 or sb != sw[:1] or len(sx) < 1 or sx[-1] != sw[1]:
        raise ValueError(
            f"linear: need x (..., in), weight (out, in) and bias (out,), got shapes {sx}, "
            f"{sw} and {sb}"
        )
    return apply(Affine, x, weight, bias)


def _at_labels(x, labels):
    """The index of each row's entry at its label: x[_at_labels(x, labels)] picks them."""
    if x.ndim == 2:  # the common case, cheaper than take_along_axis
        return np.arange(len(labels)), labels
    return (*np.indices(labels.shape, sparse=True), labels)


def _forward(x, labels):
    shifted = x - x.max(axis=-1, keepdims=True)  # e**shifted <= 1: no overflow
    return np.log(np.exp(shifted).sum(axis=-1)) - shifted[_at_labels(x, labels)]


def _one_hot(labels, like):
    out = np.zeros(np.shape(like), dtype=np.result_type(like))
    np.put_along_axis(out, labels[..., None], 1.0, axis=-1)
    return out


def _grad_logits(g, out, x, labels):
    if type(x) is np.ndarray and type(g) is np.ndarray:
        # The usual backward, in place on one fresh array: (softmax(x) - onehot) * g.
        p = np.exp(x - x.max(axis=-1, keepdims=True))
        p /= p.sum(axis=-1, keepdims=True)
        p[_at_labels(x, labels)] -= 1.0
        p *= g[..., None]
        return p
    # On Values (create_graph): the same formula, recorded, so it can be differentiated again.
    return unsqueeze(g, -1) * (softmax(x, -1) - _one_hot(labels, data_of(x)))


@register("softmax_cross_entropy", Domain("softmax_cross_entropy"))
class SoftmaxCrossEntropy(Op):
    """Per row: logsumexp(x) - x[label] = -log softmax(x)[label].
    Gradient: gx = g * (softmax(x) - onehot(label))."""

    name = "softmax_cross_entropy"
    forward = staticmethod(_forward)
    grads = (_grad_logits,)

    @classmethod
    def describe(cls, params):
        return cls.name


def softmax_cross_entropy(logits, labels):
    """-log softmax(logits)[label] for each row of `logits` (shape (..., C)), one loss per row.

    `labels` holds integer classes in [0, C) with shape logits.shape[:-1].
    """
    x = data_of(logits)
    shape = np.shape(x)
    if len(shape) == 0:
        raise ValueError("softmax_cross_entropy: logits must have a class axis, got a scalar")
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"softmax_cross_entropy: labels must be integers, got dtype {labels.dtype}"
        )
    if labels.shape != shape[:-1]:
        raise ValueError(
            f"softmax_cross_entropy: logits of shape {shape} need labels of shape {shape[:-1]}, "
            f"got {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= shape[-1]):
        raise ValueError(
            f"softmax_cross_entropy: labels must lie in [0, {shape[-1]}), got values from "
            f"{labels.min()} to {labels.max()}"
        )
    return apply(SoftmaxCrossEntropy, logits, labels=labels.astype(np.intp, copy=False))


from minigrad.ops.shape import reshape, unsqueeze  # noqa: E402
from minigrad.ops.softmax import softmax  # noqa: E402
