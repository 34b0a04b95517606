"""`MultiheadAttention`, PyTorch's: parameter names, layouts, masks and return value.

    q, k, v = query @ W_q.T + b_q, key @ W_k.T + b_k, value @ W_v.T + b_v
    head_i = softmax(q_i @ k_i^T / sqrt(E / num_heads) + mask) @ v_i   (q_i: head i's columns)
    output = concat(heads) @ out_proj.weight.T + out_proj.bias

W_q, W_k, W_v are the three row blocks of `in_proj_weight` (3E, E) (or `q_proj_weight`,
`k_proj_weight`, `v_proj_weight` when kdim or vdim differ from E), b the blocks of
`in_proj_bias`; `out_proj` is a Linear. Inputs are (L, N, E) ((N, L, E) with batch_first=True,
(L, E) unbatched). The result is `(output, weights)`: the attention weights averaged over the
heads, (N, L, S) (or per head, (N, num_heads, L, S), with average_attn_weights=False), None with
need_weights=False.

Masks follow PyTorch's MultiheadAttention (the opposite of scaled_dot_product_attention's
booleans): in `attn_mask` ((L, S) or (N * num_heads, L, S)) and `key_padding_mask` ((N, S)) a
True entry is *not* attended to; float masks are added to the scores. A query that may attend to
no key gets zeros and a zero gradient (PyTorch's MultiheadAttention: NaN), see
minigrad/ops/attention.py.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from minigrad import ops
from minigrad.nn.args import as_input, float_dtype, positive_int
from minigrad.nn.layers import Linear
from minigrad.nn.module import Module
from minigrad.ops.attention import attend, split_mask
from minigrad.random import RandomLike, get_generator
from minigrad.value import Value

NAME = "MultiheadAttention"


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(x.data if isinstance(x, Value) else x))


def _array(x: Any) -> np.ndarray:
    """A mask as a plain array (masks are constants: no gradient flows into them)."""
    return np.asarray(x.data if isinstance(x, Value) else x)


class MultiheadAttention(Module):
    """Attention with num_heads heads of embed_dim / num_heads features each (see above).

    >>> import numpy as np
    >>> mha = MultiheadAttention(8, 2, batch_first=True)
    >>> out, weights = mha(np.ones((3, 5, 8)), np.ones((3, 6, 8)), np.ones((3, 6, 8)))
    >>> out.shape, weights.shape
    ((3, 5, 8), (3, 5, 6))
    """

    def __init__(
        self,
        embed_dim: int,
        num_heads: int,
        dropout: float = 0.0,
        bias: bool = True,
        add_bias_kv: bool = False,
        add_zero_attn: bool = False,
        kdim: int | None = None,
        vdim: int | None = None,
        batch_first: bool = False,
        dtype: Any = np.float64,
        rng: RandomLike = None,
    ) -> None:
        super().__init__()
        self.embed_dim = positive_int(NAME, "embed_dim", embed_dim)
        self.num_heads = positive_int(NAME, "num_heads", num_heads)
        if self.embed_dim % self.num_heads:
            raise ValueError(
                f"{NAME}: embed_dim ({embed_dim}) must be divisible by num_heads ({num_heads})"
            )
        if isinstance(dropout, bool) or not 0.0 <= dropout < 1.0:
            raise ValueError(f"{NAME}: dropout must be a probability in [0, 1), got {dropout!r}")
        self.kdim = positive_int(NAME, "kdim", kdim) if kdim is not None else self.embed_dim
        self.vdim = positive_int(NAME, "vdim", vdim) if vdim is not None else self.embed_dim
        self.head_dim = self.embed_dim // self.num_heads
        self.dropout, self.batch_first = float(dropout), bool(batch_first)
        self.add_zero_attn = bool(add_zero_attn)
        self.rng = rng if rng is None else get_generator(rng)
        self._make_parameters(float_dtype(NAME, dtype), get_generator(rng), bias, add_bias_kv)

    def _make_parameters(self, dtype, gen, bias: bool, add_bias_kv: bool) -> None:
        """PyTorch's init: Xavier-uniform projections, zero biases, Xavier-normal bias_k/v."""
        e = self.embed_dim

        def xavier(rows: int, cols: int) -> np.ndarray:
            bound = math.sqrt(6.0 / (rows + cols))
            return gen.uniform(-bound, bound, size=(rows, cols)).astype(dtype)

        self.same_dims = self.kdim == e and self.vdim == e
        if self.same_dims:
            self.in_proj_weight = Value(xavier(3 * e, e), label="in_proj_weight")
        else:
            self.q_proj_weight = Value(xavier(e, e), label="q_proj_weight")
            self.k_proj_weight = Value(xavier(e, self.kdim), label="k_proj_weight")
            self.v_proj_weight = Value(xavier(e, self.vdim), label="v_proj_weight")
        self.in_proj_bias = Value(np.zeros(3 * e, dtype), label="in_proj_bias") if bias else None
        self.bias_k = self.bias_v = None
        if add_bias_kv:
            std = math.sqrt(1.0 / e)
            self.bias_k = Value(gen.normal(0.0, std, (1, 1, e)).astype(dtype), label="bias_k")
            self.bias_v = Value(gen.normal(0.0, std, (1, 1, e)).astype(dtype), label="bias_v")
        self.out_proj = Linear(e, e, bias=bias, dtype=dtype, rng=gen)
        if bias:
            self.out_proj.bias.data[...] = 0.0

    # ----- projections -------------------------------------------------------------------
    def _weights(self) -> tuple:
        e = self.embed_dim
        if self.same_dims:
            w = self.in_proj_weight
            return w[:e], w[e : 2 * e], w[2 * e :]
        return self.q_proj_weight, self.k_proj_weight, self.v_proj_weight

    def _project(self, query: Any, key: Any, value: Any) -> tuple:
        e, b = self.embed_dim, self.in_proj_bias
        if self.same_dims and query is key and key is value:  # self-attention: one matmul
            qkv = self._affine(query, self.in_proj_weight, b)
            return qkv[..., :e], qkv[..., e : 2 * e], qkv[..., 2 * e :]
        w_q, w_k, w_v = self._weights()
        biases = (None, None, None) if b is None else (b[:e], b[e : 2 * e], b[2 * e :])
        return tuple(
            self._affine(x, w, bias)
            for x, w, bias in zip((query, key, value), (w_q, w_k, w_v), biases)
        )

    @staticmethod
    def _affine(x: Any, w: Any, b: Any) -> Any:
        return ops.linear(x, w, b) if b is not None else x @ w.T

    def _heads(self, x: Any) -> Any:
        """(N, T, E) -> (N, num_heads, T, head_dim)."""
        n, t, _ = x.shape
        return ops.transpose(ops.reshape(x, (n, t, self.num_heads, self.head_dim)), 0, 2, 1, 3)

    # ----- forward -----------------------------------------------------------------------
    def forward(
        self,
        query: Any,
        key: Any,
        value: Any,
        key_padding_mask: Any = None,
        need_weights: bool = True,
        attn_mask: Any = None,
        average_attn_weights: bool = True,
        is_causal: bool = False,
    ) -> tuple[Any, Any]:
        dtype = self.out_proj.weight.dtype
        same = query is key and key is value
        query, key, value = (as_input(x, dtype) for x in (query, key, value))
        if same:
            key = value = query
        unbatched = self._check_inputs(query, key, value)
        if unbatched:
            query, key, value = (ops.unsqueeze(x, 1) for x in (query, key, value))
        if not self.batch_first or unbatched:  # to (N, T, E); self-attention stays shared
            moved = [ops.transpose(x, 1, 0, 2) for x in ((query,) if same else (query, key, value))]
            query, key, value = moved * 3 if same else moved
        if is_causal and attn_mask is None:
            raise ValueError(
                f"{NAME}: is_causal=True is a hint about attn_mask: give attn_mask too"
            )
        q, k, v = self._project(query, key, value)
        n, length = q.shape[0], q.shape[1]
        keep, additive = self._masks(attn_mask, key_padding_mask, n, length, k.shape[1], unbatched)
        k, v = self._extra_keys(k, v)
        q, k, v = self._heads(q), self._heads(k), self._heads(v)
        if self.add_zero_attn:
            zeros = np.zeros((n, self.num_heads, 1, self.head_dim), dtype)
            k, v = ops.concat([k, zeros], axis=2), ops.concat([v, zeros], axis=2)
        p = self.dropout if self.training else 0.0
        heads, weights = attend(q, k, v, keep, additive, p, rng=self.rng)
        out = ops.reshape(ops.transpose(heads, 0, 2, 1, 3), (n, length, self.embed_dim))
        out = self.out_proj(out)
        out = ops.transpose(out, 1, 0, 2) if not self.batch_first or unbatched else out
        if unbatched:
            out = out[:, 0]
        if not need_weights:
            return out, None
        if average_attn_weights:
            weights = ops.mean(weights, axis=1)
        return out, weights[0] if unbatched else weights

    def _masks(self, attn_mask, key_padding_mask, n, length, keys, unbatched) -> tuple:
        """attn_mask and key_padding_mask as one (keep, additive) pair for the weights
        (N, num_heads, L, S'), S' counting the keys add_bias_kv and add_zero_attn append."""
        h = self.num_heads
        weights = (n, h, length, keys)
        parts = []
        if attn_mask is not None:
            shape = _shape(attn_mask)
            if shape == (length, keys):
                mask = _array(attn_mask).reshape(1, 1, length, keys)
            elif shape == (n * h, length, keys):
                mask = _array(attn_mask).reshape(weights)
            else:
                raise ValueError(
                    f"{NAME}: attn_mask must have shape (L, S) = {(length, keys)} or "
                    f"(N * num_heads, L, S) = {(n * h, length, keys)}, got {shape}"
                )
            parts.append(mask)
        if key_padding_mask is not None:
            shape = _shape(key_padding_mask)
            expected = (keys,) if unbatched else (n, keys)
            if shape != expected:
                form = "(S,)" if unbatched else "(N, S)"
                raise ValueError(
                    f"{NAME}: key_padding_mask must have shape {form} = {expected}, got {shape}"
                )
            mask = _array(key_padding_mask)
            parts.append(mask.reshape(n, 1, 1, keys))
        keep = additive = None
        dtype = self.out_proj.weight.dtype
        for mask in parts:  # PyTorch's convention: True is masked out
            k, a = split_mask(NAME, ~mask if mask.dtype == bool else mask, weights, dtype)
            keep = k if keep is None else (keep if k is None else keep & k)
            additive = a if additive is None else (additive if a is None else additive + a)
        extra = (self.bias_k is not None) + self.add_zero_attn
        if extra:  # the appended keys are never masked
            widths = lambda m: [(0, 0)] * (m.ndim - 1) + [(0, extra)]  # noqa: E731
            keep = None if keep is None else np.pad(keep, widths(keep), constant_values=True)
            additive = None if additive is None else np.pad(additive, widths(additive))
        return keep, additive

    def _extra_keys(self, k: Any, v: Any) -> tuple[Any, Any]:
        """add_bias_kv: one more key and value, bias_k and bias_v, for every sample."""
        if self.bias_k is None:
            return k, v
        n = k.shape[0]
        extra = [ops.broadcast_to(b, (n, 1, self.embed_dim)) for b in (self.bias_k, self.bias_v)]
        return ops.concat([k, extra[0]], axis=1), ops.concat([v, extra[1]], axis=1)

    def _check_inputs(self, query: Any, key: Any, value: Any) -> bool:
        """Whether the inputs came unbatched, after checking their shapes."""
        sq, sk, sv = _shape(query), _shape(key), _shape(value)
        layout, key_layout = (
            ("(N, L, E)", "(N, S, E)") if self.batch_first else ("(L, N, E)", "(S, N, E)")
        )
        problem = ""
        if not (len(sq) == len(sk) == len(sv) and len(sq) in (2, 3)):
            problem = "query, key and value need the same number of dimensions, 3 or 2"
        elif (sq[-1], sk[-1], sv[-1]) != (self.embed_dim, self.kdim, self.vdim):
            problem = (
                f"features must be embed_dim={self.embed_dim}, kdim={self.kdim}, vdim={self.vdim}"
            )
        elif sk[:-1] != sv[:-1]:
            problem = "key and value need the same sequence length and batch"
        elif len(sq) == 3 and sq[1 - self.batch_first] != sk[1 - self.batch_first]:
            problem = "query and key need the same batch size"
        if problem:
            raise ValueError(
                f"{NAME} expects query {layout}, key and value {key_layout} with "
                f"batch_first={self.batch_first} (or (L, E) unbatched): {problem}; got query "
                f"{sq}, key {sk}, value {sv}"
            )
        return len(sq) == 2
