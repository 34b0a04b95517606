"""`jvp_code(f, primals, tangents)`: forward mode written out as the program it runs."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from minigrad.autodiff.forward import _pairs, _seed, fit_tangent, run_jvp
from minigrad.codegen.backward import (
    inputs_and_params,
    program_names,
    rule_expression,
    shown,
    uses_rules,
)
from minigrad.codegen.program import Program, is_array, literal
from minigrad.value import Value


def _needs_fit(raw: Any, data: Any) -> bool:
    if isinstance(raw, Value):
        raw = raw.data
    if type(raw) is float and type(data) is float:
        return False
    return not (
        is_array(raw) and is_array(data) and raw.shape == data.shape and raw.dtype == data.dtype
    )


def jvp_code(f: Callable, primals: Sequence[Any], tangents: Sequence[Any]) -> Program:
    """The straight-line Python program that `jvp(f, primals, tangents)` runs.

    One line per forward rule applied (each input's share of a node's tangent, `t_h1 = t_w1 *
    x1`, then `t_h1 = t_h1 + w1 * t_x1`), in the order the values are computed, with the nodes'
    names as in `draw_graph` (give the primals as labelled Values to name them); it ends with
    the output's tangent. Running it on the forward values (`program.run()`) gives jvp's
    tangents exactly.
    """
    primals, tangents = _pairs(primals, tangents)
    plain = [
        Value(p.data, requires_grad=False, label=p.label) if isinstance(p, Value) else p
        for p in primals
    ]
    steps: list = []
    outs, _, many, _, args = run_jvp(
        f, plain, tangents, on_rule=lambda node, ts, raw, t: steps.append((node, ts, raw))
    )
    if many:
        raise TypeError("jvp_code: f must return one Value, not a tuple")
    out = outs[0]
    names = program_names(out)
    program = Program("forward mode: one line per forward rule, in the order values are computed")
    for k, (leaf, t) in enumerate(zip(args, tangents)):
        if leaf not in names:
            continue  # the output does not depend on it
        seed = _seed(t, leaf, k)
        name = program.name(leaf, names[leaf])
        text = literal(seed) if type(seed) is float else None
        program.add(f"t_{name} = {text or program.constant(f'tangent_{name}', seed)}")
        program.variables[leaf] = f"t_{name}"
    for node, ts, raw in steps:
        if node in names:
            _step(program, node, ts, raw, names)
    program.add("")
    result = program.variables.get(out)
    program.add(f"tangent_out = {result if result is not None else 0.0}")
    return program


def _step(program: Program, node: Value, ts: list, raw: Any, names: dict) -> None:
    op, parents = node._op, node.parents
    target = f"t_{program.name(node, names[node])}"
    program.add(f"# {names[node]} = {shown(node, names)}")
    if uses_rules(op):
        first = True
        for i, (rule, t) in enumerate(zip(op.jvps, ts)):
            if t is None or rule is None:
                continue
            share = rule_expression(program, rule, program.variables[parents[i]], node, names)
            program.add(f"{target} = {share}" if first else f"{target} = {target} + {share}")
            first = False
    else:
        given = [program.variables[p] if t is not None else "None" for p, t in zip(parents, ts)]
        op_name, out = program.helper(op.__name__, op), program.name(node, names[node])
        inputs, params = inputs_and_params(program, node, names)
        program.add(f"{target} = {op_name}.jvp([{', '.join(given)}], {out}, {inputs}, {params})")
    if _needs_fit(raw, node.data):
        fit = program.helper("fit_tangent", fit_tangent)
        program.add(f"{target} = {fit}({target}, {program.name(node, names[node])})")
    program.variables[node] = target
