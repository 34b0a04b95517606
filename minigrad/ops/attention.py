"""Scaled dot-product attention, as PyTorch's `F.scaled_dot_product_attention`, built from
minigrad's ops (matmul, where, softmax), so its gradients, second order included, are theirs:

    weights = softmax(q @ k^T * scale + mask),   out = weights @ v

q (..., L, E), k (..., S, E), v (..., S, Ev) -> out (..., L, Ev); the leading (batch, head) axes
broadcast. `scale` defaults to 1 / sqrt(E).

Masks, as PyTorch's: a boolean `attn_mask` says which keys each query may attend to (True takes
part); a float mask is added to the scores (-inf there masks a key out). `is_causal=True` lets
query i see keys 0..i only. The mask broadcasts to (..., L, S).

A query row with every key masked out (a softmax over nothing) gives a row of zeros, for the
weights and the output, and a zero gradient through it: one empty row (a padded query, say)
leaves the rest of the batch finite and trainable. PyTorch 2.13's scaled_dot_product_attention
gives the same zeros (older versions, and its MultiheadAttention with need_weights=True, give
NaN). Rows with at least one key are exactly PyTorch's.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad.ops.elementwise import where
from minigrad.ops.registry import data_of
from minigrad.ops.shape import transpose
from minigrad.ops.softmax import softmax
from minigrad.random import RandomLike, get_generator

NAME = "scaled_dot_product_attention"


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(data_of(x)))


def _dtype(*xs: Any) -> np.dtype:
    return np.result_type(*(data_of(x) for x in xs))


def check_qkv(name: str, q: Any, k: Any, v: Any) -> tuple[int, ...]:
    """The shape of the attention weights, (..., L, S), after checking the three shapes."""
    sq, sk, sv = _shape(q), _shape(k), _shape(v)
    problem = ""
    if min(len(sq), len(sk), len(sv)) < 2:
        problem = "each needs at least 2 dimensions"
    elif sq[-1] != sk[-1]:
        problem = f"query and key need the same E, got {sq[-1]} and {sk[-1]}"
    elif sk[-2] != sv[-2]:
        problem = f"key and value need the same S, got {sk[-2]} and {sv[-2]}"
    else:
        try:
            batch = np.broadcast_shapes(sq[:-2], sk[:-2], sv[:-2])
        except ValueError:
            problem = "their leading (batch, head) axes do not broadcast"
    if problem:
        raise ValueError(
            f"{name}: expects query (..., L, E), key (..., S, E), value (..., S, Ev): "
            f"{problem}; got query {sq}, key {sk}, value {sv}"
        )
    return (*batch, sq[-2], sk[-2])


def _broadcast_mask(name: str, what: str, mask: np.ndarray, weights: tuple) -> np.ndarray:
    try:
        fits = np.broadcast_shapes(mask.shape, weights) == weights
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{name}: {what} of shape {mask.shape} does not broadcast to the attention "
            f"weights' shape (..., L, S) = {weights}"
        )
    return mask


def split_mask(
    name: str, attn_mask: Any, weights: tuple, dtype: np.dtype
) -> tuple[np.ndarray | None, np.ndarray | None]:
    """A PyTorch-style mask as (keep, additive): the keys that take part (bool, or None for
    all) and a finite float array to add to the scores (or None)."""
    if attn_mask is None:
        return None, None
    mask = np.asarray(data_of(attn_mask))
    _broadcast_mask(name, "attn_mask", mask, weights)
    if mask.dtype == bool:
        return mask, None
    if mask.dtype.kind not in "fiu":
        raise TypeError(f"{name}: attn_mask must be bool or float, got dtype {mask.dtype}")
    out = np.isneginf(mask)
    if not out.any():
        return None, mask.astype(dtype, copy=False)
    return ~out, np.where(out, 0.0, mask).astype(dtype)


def attend(
    q: Any,
    k: Any,
    v: Any,
    keep: np.ndarray | None = None,
    additive: np.ndarray | None = None,
    dropout_p: float = 0.0,
    scale: float | None = None,
    rng: RandomLike = None,
) -> tuple[Any, Any]:
    """(out, weights) of attention with the masks already split (see split_mask): keep says
    which keys take part, additive is added to the scores."""
    e = _shape(q)[-1]
    scale = 1.0 / math.sqrt(e) if scale is None else float(scale)
    n = len(_shape(k))
    scores = (q * scale) @ transpose(k, *range(n - 2), n - 1, n - 2)
    if additive is not None:
        scores = scores + additive
    alive = None
    if keep is not None:
        keep = np.broadcast_to(keep, _shape(scores))
        alive = keep.any(axis=-1, keepdims=True)  # rows with at least one key
        # masked keys get -inf (e**-inf = 0 exactly); a row without keys gets 0 everywhere
        # (a finite softmax), and its weights are zeroed below
        fill = np.where(alive, -np.inf, 0.0).astype(_dtype(scores))
        scores = where(keep, scores, fill)
    weights = softmax(scores, -1)
    if alive is not None and not alive.all():
        weights = weights * alive.astype(_dtype(weights))
    if dropout_p > 0.0:
        kept = get_generator(rng).random(_shape(weights)) >= dropout_p
        weights = weights * (kept.astype(_dtype(weights)) / (1.0 - dropout_p))
    return weights @ v, weights


def scaled_dot_product_attention(
    query: Any,
    key: Any,
    value: Any,
    attn_mask: Any = None,
    dropout_p: float = 0.0,
    is_causal: bool = False,
    scale: float | None = None,
    *,
    rng: RandomLike = None,
) -> Any:
    """softmax(query @ key^T * scale + mask) @ value, as PyTorch's (see the module docstring
    for the masks and what a fully masked row gives). Dropout (probability `dropout_p`) acts
    on the weights whenever dropout_p > 0, as in PyTorch; `rng` seeds it.

    >>> import numpy as np
    >>> q = k = v = np.eye(2)[None]
    >>> scaled_dot_product_attention(q, k, v, is_causal=True).shape
    (1, 2, 2)
    """
    weights = check_qkv(NAME, query, key, value)
    if not 0.0 <= dropout_p < 1.0:
        raise ValueError(f"{NAME}: dropout_p must be a probability in [0, 1), got {dropout_p}")
    if is_causal:
        if attn_mask is not None:
            raise ValueError(f"{NAME}: give attn_mask or is_causal=True, not both (as PyTorch)")
        attn_mask = np.tril(np.ones(weights[-2:], dtype=bool))
    keep, additive = split_mask(NAME, attn_mask, weights, _dtype(query, key, value))
    return attend(query, key, value, keep, additive, dropout_p, scale, rng)[0]
