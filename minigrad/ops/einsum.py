"""einsum: sums of products named by index letters, numpy's notation ('ij,jk->ik').

    out[output letters] = sum over the other letters of  prod_i operand_i[letters_i]

The gradient with respect to one operand is again an einsum: of g (with the output's letters)
and the other operands, producing that operand's letters. Two cases need a helper operand:
- a letter only this operand has (summed inside it alone, 'ij->i'): g is the same all along that
  axis, so a ones vector carries the letter into the result;
- a letter repeated inside the operand (a diagonal, 'ii->i'): only the diagonal entries were
  used, so the result gets a fresh letter there, tied to the first by an identity matrix
  (gradient zero off the diagonal).
As every gradient is an einsum, it differentiates again to any order.

Supported: any letters a-z A-Z, repeated letters within an operand, '...' (broadcast axes,
aligned from the right as in numpy; size-1 axes broadcast), implicit output (no '->': the
'...' axes, then the letters used once, in ASCII order, as numpy does). Not supported (a clear
error instead): numpy's sublist form einsum(x, [0, 1], y, [1, 2]).

Speed: the order in which to contract three or more operands (and whether numpy may use BLAS)
is found once per subscripts and shapes with np.einsum_path, and kept.
"""

from __future__ import annotations

import string
from collections import Counter
from functools import lru_cache

import numpy as np

from minigrad.engine import apply
from minigrad.ops.registry import Domain, Op, data_of, register

_LETTERS = string.ascii_letters


@lru_cache(maxsize=512)
def _path(subscripts: str, shapes: tuple) -> list | bool:
    """The contraction order for these subscripts and shapes (False for one operand)."""
    if len(shapes) < 2:
        return False
    stand_ins = [np.broadcast_to(np.zeros(()), shape) for shape in shapes]
    return np.einsum_path(subscripts, *stand_ins, optimize="greedy")[0]


def _einsum(*operands, subscripts):
    return np.einsum(subscripts, *operands, optimize=_path(subscripts, _shapes(operands)))


def _shapes(operands) -> tuple:
    return tuple(np.shape(data_of(x)) for x in operands)


def _split(subscripts: str) -> tuple[list[str], str]:
    inputs, output = subscripts.split("->")
    return inputs.split(","), output


def _dtype(inputs):
    return np.result_type(*(data_of(x) for x in inputs))


def _operand_grad(g, inputs, terms, output, i):
    """d sum(g * einsum) / d operand i: an einsum of g, the other operands and helpers."""
    shape = np.shape(data_of(inputs[i]))
    dtype = _dtype(inputs)
    parts = [(output, g)] + [(t, x) for j, (t, x) in enumerate(zip(terms, inputs)) if j != i]
    covered = set("".join(t for t, _ in parts))
    spare = iter(c for c in _LETTERS if c not in covered and c not in terms[i])
    result = []
    for axis, letter in enumerate(terms[i]):
        if letter in result:  # a repeated letter: the diagonal, via an identity matrix
            fresh = next(spare)
            result.append(fresh)
            parts.append((letter + fresh, np.eye(shape[axis], dtype=dtype)))
            continue
        result.append(letter)
        if letter not in covered:  # summed inside this operand alone: g spreads along it
            parts.append((letter, np.ones(shape[axis], dtype=dtype)))
            covered.add(letter)
    subscripts = ",".join(t for t, _ in parts) + "->" + "".join(result)
    return apply(Einsum, *(x for _, x in parts), subscripts=subscripts)


@register("einsum", Domain("einsum"))
class Einsum(Op):
    """out[output letters] = sum over the other letters of prod_i operand_i[letters_i].
    Gradient: g_i = einsum(g, the other operands -> operand i's letters) (ones for letters
    only operand i has, an identity for its repeated letters)."""

    name = "einsum"
    forward = staticmethod(_einsum)

    @classmethod
    def vjp(cls, g, out, inputs, needs, params):
        terms, output = _split(params["subscripts"])
        return tuple(
            _operand_grad(g, inputs, terms, output, i) if need else None
            for i, need in enumerate(needs)
        )

    @classmethod
    def jvp(cls, tangents, out, inputs, params):
        """Multilinear: the tangent is the sum over operands of the einsum with that operand
        replaced by its tangent."""
        total = None
        for i, t in enumerate(tangents):
            if t is None:
                continue
            operands = list(inputs)
            operands[i] = t
            share = apply(Einsum, *operands, subscripts=params["subscripts"])
            total = share if total is None else total + share
        return total

    @classmethod
    def describe(cls, params):
        return f"einsum({params['subscripts']})" if params else cls.name


# ----- reading the subscripts -------------------------------------------------------------------
def _error(subscripts, message):
    return ValueError(f"einsum: {message} (subscripts {subscripts!r})")


def _check_text(subscripts, n_operands):
    if not isinstance(subscripts, str):
        raise TypeError(
            "einsum: the first argument must be a subscripts string such as 'ij,jk->ik' (numpy's "
            "sublist form einsum(x, [0, 1], ...) is not supported), got "
            f"{type(subscripts).__name__}"
        )
    if n_operands == 0:
        raise ValueError(f"einsum: no operands given for subscripts {subscripts!r}")
    text = subscripts.replace(" ", "")
    if text.count("->") > 1:
        raise _error(subscripts, "at most one '->'")
    bad = set(text.replace("...", "").replace("->", "").replace(",", "")) - set(_LETTERS)
    if bad:
        raise _error(subscripts, f"only letters, ',', '->' and '...' may appear, got {sorted(bad)}")
    lhs, arrow, rhs = text.partition("->")
    terms = lhs.split(",")
    if len(terms) != n_operands:
        raise _error(subscripts, f"{len(terms)} operand terms for {n_operands} operands")
    for term in terms + [rhs]:
        if term.count("...") > 1:
            raise _error(subscripts, f"'...' at most once per term, got {term!r}")
    return terms, rhs if arrow else None


def _expand(subscripts, terms, shapes):
    """The terms with '...' written out as spare letters (aligned from the right)."""
    spare = [c for c in _LETTERS if c not in subscripts]
    counts = []
    for term, shape in zip(terms, shapes):
        named = len(term.replace("...", ""))
        extra = len(shape) - named
        if extra < 0 or (extra and "..." not in term):
            raise _error(
                subscripts, f"term {term!r} names {named} axes, its operand has shape {shape}"
            )
        counts.append(extra)
    width = max(counts)
    if width > len(spare):
        raise _error(subscripts, f"too many axes: {width} broadcast axes and few letters left")
    ellipsis = "".join(spare[:width])
    expanded = [t.replace("...", ellipsis[width - n :]) for t, n in zip(terms, counts)]
    return expanded, ellipsis


def _output(subscripts, terms, explicit, ellipsis):
    if explicit is None:  # numpy's implicit output: '...', then the letters used once
        counts = Counter("".join(terms))
        once = sorted(c for c, n in counts.items() if n == 1 and c not in ellipsis)
        return ellipsis + "".join(once)
    if ellipsis and "..." not in explicit:
        raise _error(subscripts, "the operands have '...' axes, so the output needs '...' too")
    output = explicit.replace("...", ellipsis)
    if len(set(output)) != len(output):
        raise _error(subscripts, f"a letter is repeated in the output {explicit!r}")
    missing = set(output) - set("".join(terms))
    if missing:
        raise _error(subscripts, f"output letters {sorted(missing)} are in no operand")
    return output


def _check_sizes(subscripts, terms, shapes):
    sizes = {}
    for term, shape in zip(terms, shapes):
        seen = {}
        for letter, n in zip(term, shape):
            if seen.setdefault(letter, n) != n:
                raise _error(
                    subscripts, f"letter {letter!r} repeats in a term with sizes in {shape}"
                )
            if sizes.get(letter, 1) != 1 and n != 1 and sizes[letter] != n:
                raise _error(
                    subscripts,
                    f"letter {letter!r} has size {sizes[letter]} and {n} (shapes {list(shapes)})",
                )
            sizes[letter] = max(sizes.get(letter, 1), n)


def einsum(subscripts: str, *operands):
    """Einstein summation over Values or arrays, as numpy.einsum: 'ij,jk->ik' is a matrix
    product, 'ii->' a trace, 'bij,bjk->bik' batched, '...ij->...ji' swaps the last two axes.

    >>> einsum("ij,j->i", np.eye(2), np.array([3.0, 4.0]))
    array([3., 4.])
    """
    terms, explicit = _check_text(subscripts, len(operands))
    shapes = _shapes(operands)
    terms, ellipsis = _expand(subscripts, terms, shapes)
    output = _output(subscripts, terms, explicit, ellipsis)
    _check_sizes(subscripts, terms, shapes)
    return apply(Einsum, *operands, subscripts=",".join(terms) + "->" + output)
