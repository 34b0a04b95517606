"""What an op is, and the registry of all of them with the domain each is tested on.

An op is a small class with two pieces, written once:
- `forward(*inputs, **params)`: the computation on plain floats / numpy arrays;
- `grads`: one rule per input, `rule(g, out, *inputs, **params)`, giving the gradient of the
  loss with respect to that input from the upstream gradient `g` (a vector-Jacobian product).
  Rules are written with operators and minigrad's own functions, so the same line runs on plain
  data (a normal backward) and on Values (`create_graph=True`, gradients of gradients).
A rule may return its gradient in the output's broadcast shape: the engine sums it back to the
input's shape. Ops with a variable number of inputs (concat, stack) override `vjp` instead.

Forward mode (`minigrad.jvp`) needs a third piece, next to `grads`:
- `jvps`: one rule per input, `rule(t, out, *inputs, **params)`, giving that input's share of
  the output's tangent from the input's tangent `t` (a Jacobian-vector product), written with
  minigrad's ops as well, `None` for an input that is not differentiable. The output's tangent
  is the sum of the shares of the inputs that have a tangent (`Op.jvp`); for an elementwise op
  the Jacobian is diagonal, so its forward rule is its gradient rule with `t` in place of `g`.
Ops that override `vjp` override `jvp` too.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Domain:
    """Where an op is tested against finite differences.

    kind: how test inputs are drawn. 'unary' (one array of any shape), 'binary' (two mutually
        broadcastable arrays), 'reduce' (one array, with an axis and keepdims), 'axis' (one
        array with one axis), or the op's own name for a case written in tests/strategies.py.
    ranges: (low, high) for the values of each input (log wants positives).
    kinks: points where the op has no derivative; test inputs keep away from them, because a
        finite difference straddling a kink is wrong, not the rule.
    second_order: whether the gradient rule is itself smooth enough to check its gradient.
    params: for each parameter, the choices a test may take.
    """

    kind: str
    ranges: tuple[tuple[float, float], ...] = ((-3.0, 3.0),)
    kinks: tuple[float, ...] = ()
    second_order: bool = True
    params: dict[str, tuple[Any, ...]] = field(default_factory=dict)


class Op:
    """Base of every op: a name for graphs, a forward, one gradient rule per input (`grads`)
    and one forward-mode rule per input (`jvps`)."""

    name = "op"
    grads: tuple = ()
    jvps: tuple = ()
    domain: Domain
    # True when the op's gradients are just its `grads` rules (vjp not overridden): the engine
    # then calls the rules itself, skipping vjp's generality (set for each subclass below).
    rules_only = True

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.rules_only = cls.vjp.__func__ is Op.vjp.__func__

    @staticmethod
    def forward(*inputs: Any, **params: Any) -> Any:
        raise NotImplementedError

    @classmethod
    def vjp(cls, g: Any, out: Any, inputs: Any, needs: Any, params: dict) -> tuple:
        """Gradients for all inputs: the rule of each input that needs one, None for the rest
        (and for an input whose rule is None: not differentiable, no gradient)."""
        return tuple(
            rule(g, out, *inputs, **params) if need and rule is not None else None
            for rule, need in zip(cls.grads, needs)
        )

    @classmethod
    def jvp(cls, tangents: Any, out: Any, inputs: Any, params: dict) -> Any:
        """The output's tangent: the sum of each input's share, `rule(t, out, *inputs,
        **params)` for every input whose tangent t is not None; None when no input has one."""
        if not cls.jvps:
            raise NotImplementedError(
                f"op {cls.name!r} has no forward-mode rule: give the class `jvps`, one rule "
                f"per input, rule(t, out, *inputs, **params)"
            )
        total = None
        for rule, t in zip(cls.jvps, tangents):
            if t is None or rule is None:
                continue
            share = rule(t, out, *inputs, **params)
            if share is not None:
                total = share if total is None else total + share
        return total

    @classmethod
    def describe(cls, params: dict | None) -> str:
        """The op as a graph shows it: its name, with its parameters if it has any."""
        if not params:
            return cls.name
        args = ", ".join(f"{k}={v!r}" for k, v in params.items() if v is not None)
        return f"{cls.name}({args})" if args else cls.name


REGISTRY: dict[str, type[Op]] = {}


def register(public_name: str, domain: Domain):
    """Class decorator: file the op under the name of its public function, with its domain."""

    def decorate(op: type[Op]) -> type[Op]:
        if public_name in REGISTRY:
            raise ValueError(f"op {public_name!r} registered twice")
        op.domain = domain
        REGISTRY[public_name] = op
        return op

    return decorate


def data_of(x: Any) -> Any:
    """The plain data of a Value, or `x` itself: for the non-differentiable parts of a rule
    (masks, signs, counts), which must stay constants when the rule runs on Values."""
    return x.data if hasattr(x, "_op") else x
