"""`backward_code(root)`: the backward pass of a graph, written out as the program it runs."""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from minigrad.codegen.program import Program, is_array, literal
from minigrad.codegen.rules import call, inline, parameters
from minigrad.engine import run_backward, sum_to
from minigrad.function import Function
from minigrad.ops.registry import Op
from minigrad.value import Value, to_data
from minigrad.viz import describe_op, node_names


def uses_rules(op: type[Op]) -> bool:
    """Whether the op's gradients are its `grads` rules (a Function's vjp only checks them)."""
    return op.rules_only or (issubclass(op, Function) and op.vjp.__func__ is Function.vjp.__func__)


def _seed(root: Value, gradient: Any) -> Any:
    if gradient is None:
        if root.size != 1:
            raise ValueError(
                f"backward_code(): the Value has shape {root.shape}, not a single number; pass "
                "gradient= (an array of that shape) or reduce it first, e.g. .sum()"
            )
        return 1.0 if type(root.data) is float else np.ones(root.shape, root.dtype)
    seed = to_data(gradient, "gradient")
    if np.shape(seed) != root.shape:
        raise ValueError(
            f"backward_code(): gradient has shape {np.shape(seed)} but the Value has shape "
            f"{root.shape}"
        )
    return sum_to(seed, root.data)


def rule_expression(program: Program, rule: Any, first: str, node: Value, names: dict) -> str:
    """rule(first, out, *inputs, **params) at `node` as a Python expression."""
    inputs = [program.value(x, names, f"{names[node]}_in{k}") for k, x in enumerate(node.parents)]
    params = {k: program.param(v, f"{names[node]}_{k}") for k, v in (node._params or {}).items()}
    out = program.name(node, names[node])
    wanted = parameters(rule)
    positional = [first, out, *inputs]
    args = dict(zip(wanted, positional))
    args.update({k: v for k, v in params.items() if k in wanted})
    text = inline(rule, args, program.helper) if len(args) == len(wanted) else None
    if text is not None:
        return text
    name = getattr(rule, "__name__", "rule")
    name = "rule" if name == "<lambda>" else name
    return call(rule, positional, params, program.helper(name, rule))


def _fitted(program: Program, expr: str, raw: Any, x: Value, names: dict) -> str:
    """expr summed back to x's shape and dtype, written only where that changes something."""
    xd = x.data
    if type(raw) is float and type(xd) is float:
        return expr
    if is_array(raw) and is_array(xd) and raw.shape == xd.shape and raw.dtype == xd.dtype:
        return expr
    return f"{program.helper('sum_to', sum_to)}({expr}, {program.name(x, names[x])})"


def _natural(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def backward_code(root: Value, gradient: Any = None, modules: Any = None) -> Program:
    """The straight-line Python program that root's backward pass runs.

    One line per gradient rule applied, in the order backward applies them (that of
    `trace_backward`), with the nodes' names as in `draw_graph` (labels, parameter names of
    `modules`, else v<k>); each rule is written out as its formula where it is a lambda (the
    gradient of `h1 = w1 * x1` with respect to w1 reads `g_w1 = g_h1 * x1`); broadcast
    gradients are summed back with `sum_to`; a node used twice adds its second gradient. It
    ends with the leaves' gradients. Running it on the forward values (`program.run()`, or
    `exec(str(program), program.namespace())`) gives every `.grad` of `root.backward()`,
    exactly. Gradient hooks are not part of it.
    """
    if not isinstance(root, Value) or not root.requires_grad:
        raise TypeError("backward_code: expected a Value that requires grad (made by some ops)")
    seed = _seed(root, gradient)
    steps = []
    run_backward(
        root,
        seed,
        create_graph=False,
        accumulate=False,
        on_rule=lambda node, g, grads: steps.append((node, grads)),
    )
    names = program_names(root, modules)
    program = Program(f"backward of {names[root]}: one line per gradient rule, in backward's order")
    g_root = f"g_{program.name(root, names[root])}"
    seed_text = literal(seed) if type(seed) is float else None
    if seed_text is None and is_array(seed) and np.all(seed == 1.0):
        np_name = program.helper("np", np)
        seed_text = f"{np_name}.ones({seed.shape}, {np_name}.{seed.dtype})"
    program.add(f"{g_root} = {seed_text or program.constant('seed', seed)}")
    program.variables[root] = g_root
    for k, (node, grads) in enumerate(steps, start=1):
        _step(program, k, node, grads, names)
    leaves = sorted((v for v in program.variables if v.is_leaf), key=lambda v: _natural(names[v]))
    program.add("")
    program.add("# the leaves' gradients")
    program.add("leaf_grads = {")
    shown_names = [names[v] for v in leaves]
    for v in leaves:
        key = names[v] if shown_names.count(names[v]) == 1 else program.name(v, names[v])
        program.add(f"    {key!r}: {program.variables[v]},")
    program.add("}")
    return program


def program_names(root: Value, modules: Any = None) -> dict[Value, str]:
    """The nodes' names as pictures show them, but a model's parameters by their dotted names
    (layers label their weights 'weight': the dotted name tells two apart)."""
    names = node_names(root, modules)
    if modules is not None:
        for name, param in modules.named_parameters():
            if param in names:
                names[param] = name
    return names


_INFIX = {"+", "-", "*", "/", "**"}


def shown(node: Value, names: dict) -> str:
    """The node's op as a comment shows it: `v1 * w`, `tanh(v3)`, `sum(axis=1)(v2)`."""
    args = []
    for x in node.parents:
        text = literal(x.data) if x.is_leaf and not x.requires_grad else None
        args.append(text if text is not None else names.get(x, "?"))
    op = describe_op(node)
    if op in _INFIX and len(args) == 2:
        return f"{args[0]} {op} {args[1]}"
    return f"{op}({', '.join(args)})"


def inputs_and_params(program: Program, node: Value, names: dict) -> tuple[str, str]:
    """A node's inputs as a tuple and its parameters as a dict, in Python source."""
    inputs = [program.value(x, names, f"{names[node]}_in{i}") for i, x in enumerate(node.parents)]
    params = {k: program.param(v, f"{names[node]}_{k}") for k, v in (node._params or {}).items()}
    inputs_text = f"({inputs[0]},)" if len(inputs) == 1 else f"({', '.join(inputs)})"
    return inputs_text, "{" + ", ".join(f"{k!r}: {v}" for k, v in params.items()) + "}"


def _step(program: Program, k: int, node: Value, grads: tuple, names: dict) -> None:
    op, parents = node._op, node.parents
    g = program.variables[node]
    program.add(f"# step {k}: {names[node]} = {shown(node, names)}")
    if uses_rules(op):
        exprs = [
            None if gx is None else rule_expression(program, op.grads[i], g, node, names)
            for i, gx in enumerate(grads)
        ]
    else:
        whole = f"gs_{program.name(node, names[node])}"
        needs = tuple(p.requires_grad for p in parents)
        op_name, out = program.helper(op.__name__, op), program.name(node, names[node])
        inputs, params = inputs_and_params(program, node, names)
        program.add(f"{whole} = {op_name}.vjp({g}, {out}, {inputs}, {needs}, {params})")
        exprs = [None if gx is None else f"{whole}[{i}]" for i, gx in enumerate(grads)]
    for x, expr, raw in zip(parents, exprs, grads):
        if expr is None or not x.requires_grad:
            continue
        expr = _fitted(program, expr, raw, x, names)
        if x in program.variables:
            target = program.variables[x]
            program.add(f"{target} = {target} + {expr}")
        else:
            target = f"g_{program.name(x, names[x])}"
            program.variables[x] = target
            program.add(f"{target} = {expr}")
