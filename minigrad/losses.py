"""Loss functions: how far a prediction is from its target, as a Value to call backward on.

Every loss takes `(prediction, target, reduction='mean')` in PyTorch's order. The prediction is
a Value (or a list of scalar Values, micrograd style, which is stacked into one); the target is
a number, a list, a numpy array (a constant) or a Value. `reduction` is 'mean' (the average
over all entries), 'sum', or 'none' (one loss per entry).

Prediction and target must have the same shape: (n, 1) against (n,) raises instead of
broadcasting to an (n, n) table of differences, the classic silent bug.

Notation below: p prediction, t target, d = p - t, g the upstream gradient.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import ops
from minigrad.ops.loss import softmax_cross_entropy
from minigrad.value import Value

__all__ = [
    "sse_loss",
    "mse_loss",
    "l1_loss",
    "mae_loss",
    "huber_loss",
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "nll_loss",
    "hinge_loss",
    "l1_penalty",
    "l2_penalty",
]

_REDUCTIONS = ("mean", "sum", "none")


def _prediction(name: str, pred: Any) -> Any:
    """A Value (or a constant array): lists of Values are stacked into one array Value."""
    if isinstance(pred, Value):
        return pred
    if isinstance(pred, (list, tuple)) and pred and any(isinstance(p, Value) for p in pred):
        return ops.stack(list(pred))
    if isinstance(pred, (list, tuple, np.ndarray, float, int, np.number)):
        return np.asarray(pred, dtype=np.float64) if not isinstance(pred, np.ndarray) else pred
    raise TypeError(
        f"{name}: prediction must be a Value, a list of Values or an array, "
        f"got {type(pred).__name__}"
    )


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Value) else x


def _target(name: str, target: Any, pred: Any) -> Any:
    """The target as a Value or an array of the prediction's float type, same shape."""
    if isinstance(target, (list, tuple)) and any(isinstance(t, Value) for t in target):
        target = ops.stack(list(target))
    if not isinstance(target, Value):
        target = np.asarray(target)
        if target.dtype.kind not in "biuf":
            raise TypeError(f"{name}: target must hold numbers, got dtype {target.dtype}")
        dtype = np.result_type(_data(pred))
        if target.dtype != dtype:
            target = target.astype(dtype)
        if target.ndim == 0:
            target = float(target)
    if np.shape(_data(pred)) != np.shape(_data(target)):
        raise ValueError(
            f"{name}: prediction shape {np.shape(_data(pred))} and target shape "
            f"{np.shape(_data(target))} differ; make them equal (for example reshape the "
            "target with .reshape(-1, 1), or the prediction with .reshape(-1)) instead of "
            "relying on broadcasting"
        )
    return target


def _check_reduction(name: str, reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{name}: reduction must be 'mean', 'sum' or 'none', got {reduction!r}")


def _reduce(name: str, loss: Any, reduction: str) -> Any:
    if reduction == "none" or not np.ndim(_data(loss)):
        return loss
    return loss.mean() if reduction == "mean" else loss.sum()


def _pair(name: str, pred: Any, target: Any, reduction: str) -> tuple[Any, Any]:
    _check_reduction(name, reduction)
    pred = _prediction(name, pred)
    return pred, _target(name, target, pred)


# ----- regression -------------------------------------------------------------------------------
def sse_loss(pred: Any, target: Any, reduction: str = "sum") -> Any:
    """Sum of squared errors: sum (p - t)**2.  Gradient: dL/dp = 2 (p - t).

    >>> sse_loss(Value([1.0, 2.0]), [0.0, 4.0]).item()   # 1 + 4
    5.0
    """
    pred, target = _pair("sse_loss", pred, target, reduction)
    d = pred - target
    return _reduce("sse_loss", d * d, reduction)


def mse_loss(pred: Any, target: Any, reduction: str = "mean") -> Any:
    """Mean squared error: mean (p - t)**2.  Gradient: dL/dp = 2 (p - t) / n.

    >>> mse_loss(Value(6.25), 5.0).data   # the tree-age lesson: 1.25**2
    1.5625
    """
    pred, target = _pair("mse_loss", pred, target, reduction)
    d = pred - target
    return _reduce("mse_loss", d * d, reduction)


def l1_loss(pred: Any, target: Any, reduction: str = "mean") -> Any:
    """Mean absolute error: mean |p - t|.  Gradient: dL/dp = sign(p - t) / n (0 where p = t)."""
    pred, target = _pair("l1_loss", pred, target, reduction)
    return _reduce("l1_loss", ops.abs(pred - target), reduction)


mae_loss = l1_loss


def huber_loss(pred: Any, target: Any, delta: float = 1.0, reduction: str = "mean") -> Any:
    """Huber: 0.5 d**2 where |d| < delta, else delta (|d| - delta / 2); d = p - t.
    Gradient: dL/dp = d inside, delta * sign(d) outside (quadratic near 0, linear far out).
    """
    if not delta > 0:
        raise ValueError(f"huber_loss: delta must be > 0, got {delta}")
    pred, target = _pair("huber_loss", pred, target, reduction)
    d = pred - target
    a = ops.abs(d)
    loss = ops.where(_data(a) < delta, 0.5 * d * d, delta * (a - 0.5 * delta))
    return _reduce("huber_loss", loss, reduction)


# ----- classification ---------------------------------------------------------------------------
def _check_unit_interval(name: str, target: Any) -> None:
    t = _data(target)
    if np.any((np.asarray(t) < 0) | (np.asarray(t) > 1)):
        raise ValueError(
            f"{name}: targets must lie in [0, 1], got values from {np.min(t)} to {np.max(t)}"
        )


def _check_probabilities(name: str, pred: Any) -> None:
    """Predictions must be probabilities, as PyTorch requires: log(1 - 1.5) would be NaN, and
    the clamp would turn it into a finite loss with a gradient, silently (NaN is refused too)."""
    p = np.asarray(_data(pred))
    outside = ~((p >= 0) & (p <= 1))
    if np.any(outside):
        where = np.unravel_index(np.argmax(outside), p.shape)
        at = f" at index {tuple(int(i) for i in where)}" if p.ndim else ""
        count = f" ({int(outside.sum())} of {p.size} entries outside)" if p.size > 1 else ""
        raise ValueError(
            f"{name}: predictions must be probabilities in [0, 1], got {p[where]!s}{at}{count}; "
            "apply sigmoid first, or give raw scores to binary_cross_entropy_with_logits"
        )


def binary_cross_entropy(pred: Any, target: Any, reduction: str = "mean") -> Any:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p, each log clamped at -100 as in
    PyTorch, so p of exactly 0 or 1 gives a large but finite loss.
    Gradient: dL/dp = (p - t) / (p (1 - p)) (0 where a log was clamped).
    """
    pred, target = _pair("binary_cross_entropy", pred, target, reduction)
    _check_probabilities("binary_cross_entropy", pred)
    _check_unit_interval("binary_cross_entropy", target)
    loss = -(target * _clamped_log(pred) + (1.0 - target) * _clamped_log(1.0 - pred))
    return _reduce("binary_cross_entropy", loss, reduction)


def _clamped_log(p: Any) -> Any:
    """max(log p, -100). p is first raised to the smallest positive number of its dtype (whose
    log is below -100 in float32 and float64): log(0) would be -inf, and its gradient rule
    0 / 0 = nan even where the clamp passes no gradient on."""
    smallest = float(np.nextafter(0, 1, dtype=p.dtype))
    return ops.maximum(ops.log(ops.clip(p, smallest, None)), -100.0)


def binary_cross_entropy_with_logits(logits: Any, target: Any, reduction: str = "mean") -> Any:
    """Binary cross-entropy of sigmoid(x) against t, computed from the logit x without
    overflow: softplus(x) - t x.  Gradient: dL/dx = sigmoid(x) - t.
    """
    x, target = _pair("binary_cross_entropy_with_logits", logits, target, reduction)
    _check_unit_interval("binary_cross_entropy_with_logits", target)
    loss = ops.softplus(x) - x * target
    return _reduce("binary_cross_entropy_with_logits", loss, reduction)


def _labels(name: str, target: Any, logits_shape: tuple) -> np.ndarray | None:
    """Integer class labels of shape logits_shape[:-1], or None if `target` is not that."""
    if isinstance(target, Value):
        return None
    t = np.asarray(target)
    if t.shape != logits_shape[:-1]:
        return None
    if t.dtype.kind in "iu":
        return t
    if t.dtype.kind == "f" and t.size and np.all(t == np.round(t)):
        return t.astype(np.intp)  # float-typed labels such as 2.0
    if t.dtype.kind == "f" and t.size and logits_shape[:-1] != ():
        raise ValueError(f"{name}: class labels must be integers, got non-integer values")
    return None


def cross_entropy(logits: Any, target: Any, reduction: str = "mean") -> Any:
    """Softmax cross-entropy from raw scores (logits) of shape (n, C) or (C,).

    `target` is either integer class labels of shape (n,) (or one label for (C,)):
        L = -log softmax(x)[label] = logsumexp(x) - x[label];  dL/dx = softmax(x) - onehot,
    or one probability row per sample, the same shape as the logits (one-hot or soft labels):
        L = -sum_c t_c log softmax(x)_c;  dL/dx = softmax(x) * sum(t) - t.
    Both are computed from a shifted log-softmax, stable for logits of any size.

    >>> float(cross_entropy(Value([[0.0, 0.0]]), [1]).data)   # log 2
    0.6931471805599453
    """
    name = "cross_entropy"
    _check_reduction(name, reduction)
    logits = _prediction(name, logits)
    shape = np.shape(_data(logits))
    if len(shape) not in (1, 2):
        raise ValueError(f"{name}: logits must have shape (n, C) or (C,), got {shape}")
    labels = _labels(name, target, shape)
    if labels is not None:
        if reduction != "none" and labels.size:
            # Speed: the op reduces too: one node instead of two, and a scalar g in its backward.
            return softmax_cross_entropy(logits, labels, reduction)
        loss = softmax_cross_entropy(logits, labels)
    else:
        target = _target(name, target, logits)
        loss = -(target * ops.log_softmax(logits, -1)).sum(axis=-1)
    return _reduce(name, loss, reduction)


def nll_loss(log_probs: Any, target: Any, reduction: str = "mean") -> Any:
    """Negative log-likelihood of integer labels given log-probabilities (for example from
    log_softmax), shape (n, C) with labels (n,):  L = -logp[label].
    Gradient: dL/dlogp = -1 at the label, 0 elsewhere.
    """
    name = "nll_loss"
    _check_reduction(name, reduction)
    logp = _prediction(name, log_probs)
    shape = np.shape(_data(logp))
    if len(shape) not in (1, 2):
        raise ValueError(f"{name}: log-probabilities must have shape (n, C) or (C,), got {shape}")
    labels = _labels(name, target, shape)
    if labels is None:
        raise ValueError(
            f"{name}: log-probabilities of shape {shape} need integer labels of "
            f"shape {shape[:-1]}, got shape {np.shape(_data(target))}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= shape[-1]):
        raise ValueError(
            f"{name}: labels must lie in [0, {shape[-1]}), got values from "
            f"{labels.min()} to {labels.max()}"
        )
    picked = logp[np.arange(shape[0]), labels] if len(shape) == 2 else logp[int(labels)]
    return _reduce(name, -picked, reduction)


def hinge_loss(scores: Any, target: Any, margin: float = 1.0, reduction: str = "mean") -> Any:
    """max(0, margin - t * s) for labels t = -1 or +1 and raw scores s (the SVM loss of
    micrograd's demo).  Gradient: dL/ds = -t where t s < margin, else 0.
    """
    s, target = _pair("hinge_loss", scores, target, reduction)
    t = np.asarray(_data(target))
    if t.size and not np.all((t == 1) | (t == -1)):
        raise ValueError(
            "hinge_loss: labels must be -1 or +1, got other values "
            f"{np.unique(t[(t != 1) & (t != -1)])[:5].tolist()}; turn 0/1 labels "
            "into -1/+1 with 2 * y - 1"
        )
    return _reduce("hinge_loss", ops.relu(margin - target * s), reduction)


# ----- regularization ---------------------------------------------------------------------------
def _split_params(name: str, params: Any) -> tuple[list[Value], list[Value]]:
    if hasattr(params, "parameters") and callable(params.parameters):
        params = params.parameters()
    if isinstance(params, Value):
        params = [params]
    scalars, arrays = [], []
    for p in params:
        if not isinstance(p, Value):
            raise TypeError(f"{name}: expected Values (parameters), got {type(p).__name__}")
        (scalars if type(p.data) is float else arrays).append(p)
    if not scalars and not arrays:
        raise ValueError(f"{name}: no parameters given")
    return scalars, arrays


def _penalty(name: str, params: Any, term: Any) -> Any:
    scalars, arrays = _split_params(name, params)
    # Many scalar parameters (micrograd style) are stacked into one array: three nodes, not 2n.
    parts = [term(ops.stack(scalars)).sum()] if scalars else []
    parts += [term(p).sum() for p in arrays]
    total = parts[0]
    for part in parts[1:]:
        total = total + part
    return total


def l1_penalty(params: Any) -> Any:
    """sum |w| over all parameters (a Module or a list of Values): pushes weights to exactly 0.
    Gradient: sign(w). Multiply by a strength, e.g. loss + 1e-4 * l1_penalty(model)."""
    return _penalty("l1_penalty", params, ops.abs)


def l2_penalty(params: Any) -> Any:
    """sum w**2 over all parameters (a Module or a list of Values): keeps weights small.
    Gradient: 2 w. Multiply by a strength, e.g. loss + 1e-4 * l2_penalty(model)."""
    return _penalty("l2_penalty", params, lambda p: p * p)
