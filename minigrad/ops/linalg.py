"""Matrix product `x @ y` with numpy's rules: 1-d vectors, 2-d matrices, and stacks of matrices
whose leading (batch) axes broadcast.

For 2-d and batched inputs: gx = g @ y^T and gy = x^T @ g (^T swaps the last two axes). A 1-d
input is a row (left) or a column (right) vector that numpy drops from the result again, so its
rules put that axis back first. Batch axes that were broadcast are summed by the engine.
The product is bilinear, so its forward rules are products too: t_x @ y and x @ t_y.
"""

from __future__ import annotations

import numpy as np

from minigrad.engine import apply2
from minigrad.ops.registry import Domain, Op, data_of, register


def _check(x, y):
    sx, sy = np.shape(x), np.shape(y)
    if not sx or not sy:
        raise ValueError(f"needs arrays of at least 1 dimension, got shapes {sx} and {sy}")
    kx = sx[-1]
    ky = sy[-2] if len(sy) > 1 else sy[0]
    if kx != ky:
        raise ValueError(
            f"shapes {sx} and {sy} are not aligned: the left's last axis has {kx} "
            f"entries, the right's {'second-to-last' if len(sy) > 1 else 'only'} axis has {ky}"
        )
    try:
        np.broadcast_shapes(sx[:-2], sy[:-2])
    except ValueError:
        raise ValueError(f"the batch axes of shapes {sx} and {sy} do not broadcast") from None


def _matmul(x, y):
    try:
        return np.matmul(x, y)
    except ValueError:
        _check(x, y)  # Speed: shapes are checked only when numpy refuses, for a clearer message
        raise


def _mT(x):
    """Swap the last two axes."""
    n = np.ndim(data_of(x))
    return transpose(x, *range(n - 2), n - 1, n - 2)


def _grad_left(g, out, x, y):
    if type(g) is np.ndarray and type(y) is np.ndarray and g.ndim == 2 and y.ndim == 2:
        return g @ y.T  # Speed: plain matrices (the usual backward) go straight to numpy
    nx, ny = np.ndim(data_of(x)), np.ndim(data_of(y))
    if ny == 1:  # out[..., i] = sum_k x[..., i, k] y[k]
        return g * y if nx == 1 else unsqueeze(g, -1) * y
    if nx == 1:  # out[..., j] = sum_k x[k] y[..., k, j]
        return getitem(matmul(y, unsqueeze(g, -1)), (Ellipsis, 0))
    return matmul(g, _mT(y))


def _grad_right(g, out, x, y):
    if type(g) is np.ndarray and type(x) is np.ndarray and g.ndim == 2 and x.ndim == 2:
        return x.T @ g  # Speed: plain matrices (the usual backward) go straight to numpy
    nx, ny = np.ndim(data_of(x)), np.ndim(data_of(y))
    if nx == 1:
        return g * x if ny == 1 else unsqueeze(x, -1) * unsqueeze(g, -2)
    if ny == 1:
        return getitem(matmul(_mT(x), unsqueeze(g, -1)), (Ellipsis, 0))
    return matmul(_mT(x), g)


@register("matmul", Domain("matmul"))
class MatMul(Op):
    """x @ y.  Gradient: gx = g @ y^T, gy = x^T @ g (with 1-d and batch axes handled)."""

    name = "matmul"
    forward = staticmethod(_matmul)
    grads = (_grad_left, _grad_right)
    jvps = (lambda t, out, x, y: matmul(t, y), lambda t, out, x, y: matmul(x, t))


def matmul(x, y):
    """Matrix product x @ y, with numpy's rules for 1-d and batched inputs."""
    return apply2(MatMul, x, y)


from minigrad.ops.shape import getitem, transpose, unsqueeze  # noqa: E402
