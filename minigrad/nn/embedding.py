"""`Embedding`: a lookup table of vectors, one row per token id, as PyTorch's nn.Embedding.

out[..., :] = weight[indices[...], :]                     (forward)
d weight[i] = sum of g over the positions holding i        (gradient; repeats add up)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from minigrad import ops
from minigrad.nn.args import float_dtype, positive_int
from minigrad.nn.module import Module
from minigrad.random import RandomLike, get_generator
from minigrad.value import Value


class Embedding(Module):
    """A table `weight` of shape (num_embeddings, embedding_dim), drawn from N(0, 1) as in
    PyTorch; called on integer indices of any shape (*), it gives their rows, shape
    (*, embedding_dim).

    `padding_idx`: that row starts at zero and gets no gradient (its entries in the output are
    constants), so it stays what it is while the rest trains; negative counts from the end.

    Gradient: g added into the rows that were looked up, repeated indices accumulating.

    >>> emb = Embedding(10, 3, padding_idx=0)
    >>> emb(np.array([[1, 2, 0]])).shape
    (1, 3, 3)
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        dtype: Any = np.float64,
        rng: RandomLike = None,
    ) -> None:
        super().__init__()
        self.num_embeddings = positive_int("Embedding", "num_embeddings", num_embeddings)
        self.embedding_dim = positive_int("Embedding", "embedding_dim", embedding_dim)
        dtype = float_dtype("Embedding", dtype)
        if padding_idx is not None:
            n = self.num_embeddings
            if isinstance(padding_idx, bool) or not isinstance(padding_idx, (int, np.integer)):
                raise TypeError(f"Embedding: padding_idx must be an int, got {padding_idx!r}")
            if not -n <= padding_idx < n:
                raise ValueError(
                    f"Embedding: padding_idx must be within [-{n}, {n}), got {padding_idx}"
                )
            padding_idx = int(padding_idx) % n
        self.padding_idx = padding_idx
        weight = get_generator(rng).normal(size=(self.num_embeddings, self.embedding_dim))
        weight = weight.astype(dtype)
        if padding_idx is not None:
            weight[padding_idx] = 0.0
        self.weight = Value(weight, label="weight")

    @classmethod
    def from_pretrained(
        cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None
    ) -> Embedding:
        """An Embedding holding a copy of the 2-d array `embeddings` (frozen by default)."""
        data = np.array(embeddings.data if isinstance(embeddings, Value) else embeddings)
        if data.ndim != 2 or data.dtype.kind != "f":
            raise ValueError(
                "Embedding.from_pretrained: expected a 2-d float array (num_embeddings, "
                f"embedding_dim), got shape {data.shape} dtype {data.dtype}"
            )
        layer = cls(*data.shape, padding_idx=padding_idx, dtype=data.dtype, rng=0)
        layer.weight.data = data
        layer.weight.requires_grad = not freeze
        return layer

    def _indices(self, indices: Any) -> np.ndarray:
        if isinstance(indices, Value):
            raise TypeError(
                f"{self!r} expects integer indices (a numpy int array or a list of ints), got a "
                f"Value of shape {indices.shape}: Values hold floats"
            )
        idx = np.asarray(indices)
        if idx.dtype.kind not in "iu":
            raise TypeError(
                f"{self!r} expects integer indices, got dtype {idx.dtype} of shape {idx.shape}"
            )
        if idx.size and (idx.min() < 0 or idx.max() >= self.num_embeddings):
            raise ValueError(
                f"{self!r}: indices must lie in [0, {self.num_embeddings}), got values from "
                f"{idx.min()} to {idx.max()} in indices of shape {idx.shape}"
            )
        return idx

    def forward(self, indices: Any) -> Value:
        idx = self._indices(indices)
        out = ops.getitem(self.weight, idx)
        if self.padding_idx is not None:
            padding = idx == self.padding_idx
            if padding.any():  # the padding row's entries as constants: no gradient reaches it
                out = ops.where(~padding[..., None], out, self.weight.data[idx])
        return out

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else f"{text}, padding_idx={self.padding_idx}"
