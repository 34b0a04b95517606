"""Modules as boxes: which nodes of a graph belong to which module of a model, and the nested
`subgraph cluster_k { ... }` blocks that draw them."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from minigrad.engine import topo_order
from minigrad.value import Value
from minigrad.viz.text import dot_string

# Unary ops that end a neuron or layer: when their input lies in a module's cluster, so do they.
_ACTIVATIONS = {"tanh", "relu", "sigmoid", "leaky_relu", "softplus"}


def named_parameters(modules: Any) -> list[tuple[Value, str]]:
    """(parameter, dotted name) pairs from a model with `named_parameters()`, a dict of
    name -> Value, or an iterable of (name, Value) pairs."""
    if hasattr(modules, "named_parameters"):
        pairs = modules.named_parameters()
    elif isinstance(modules, dict):
        pairs = modules.items()
    elif isinstance(modules, Iterable):
        pairs = modules
    else:
        raise TypeError(
            "draw_graph(modules=...): expected a model with named_parameters(), a dict of "
            f"name -> Value, or (name, Value) pairs; got {type(modules).__name__}"
        )
    result = []
    for name, p in pairs:
        if not isinstance(p, Value):
            raise TypeError(f"draw_graph(modules=...): parameter {name!r} is not a Value")
        result.append((p, str(name)))
    return result


def module_path(param_name: str) -> str:
    """The dotted path of the module owning a parameter: 'layers.0.neurons.1.w.0' ->
    'layers.0.neurons.1' (list indices and the attribute name dropped), '0.weight' -> '0',
    'weight' -> '' (the model itself)."""
    parts = param_name.split(".")
    while parts and parts[-1].isdigit():
        parts.pop()
    return ".".join(parts[:-1])


def _resolve(model: Any, path: str) -> Any:
    """The object at a dotted path inside `model` (attributes, and indices into lists)."""
    obj = model
    for part in path.split(".") if path else []:
        try:
            obj = obj[int(part)] if part.isdigit() else getattr(obj, part)
        except (AttributeError, IndexError, KeyError, TypeError):
            return None
    return obj


def clusters(
    root: Value, modules: Any
) -> tuple[dict[Value, str], dict[str, str], dict[str, str | None]]:
    """Which module each node belongs to, each module's label and its enclosing module."""
    member = _members(root, modules)
    labels, parent_of = _module_tree(modules, list(dict.fromkeys(member.values())))
    return member, labels, parent_of


def _members(root: Value, modules: Any) -> dict[Value, str]:
    """The module path of each node that belongs to one.

    Parameters belong to the module that owns them. A Value made by an op belongs to module M
    when one of its inputs is a parameter of M (w * x, x @ W, ... + b), when all of its inputs
    that need a gradient lie in M and there are at least two (the sum inside a neuron), or when
    it is an activation of a Value in M. Anything else (the loss) stays outside.
    """
    member: dict[Value, str] = {}
    for p, name in named_parameters(modules):
        member.setdefault(p, module_path(name))
    if not root.requires_grad:
        return member
    for v in topo_order(root):
        if v.is_leaf or v in member:
            continue
        owner = next((member[p] for p in v.parents if p.is_leaf and p in member), None)
        if owner is None:
            inside = [member.get(p) for p in v.parents if p.requires_grad]
            if inside and inside[0] is not None and inside.count(inside[0]) == len(inside):
                if len(inside) >= 2 or v.op in _ACTIVATIONS:
                    owner = inside[0]
        if owner is not None:
            member[v] = owner
    return member


def _module_tree(modules: Any, paths: list[str]) -> tuple[dict[str, str], dict[str, str | None]]:
    """Each module's label ('layers.0 (Layer)') and the module enclosing it: the nearest
    ancestor on its dotted path that is a module itself (not a list)."""
    labels: dict[str, str] = {}
    parent_of: dict[str, str | None] = {}
    pending = list(paths)
    while pending:
        path = pending.pop(0)
        if path in labels:
            continue
        obj = _resolve(modules, path)
        kind = type(obj).__name__ if obj is not None else "module"
        labels[path] = f"{path} ({kind})" if path else kind
        parent_of[path] = None
        parts = path.split(".") if path else []
        while parts:
            parts.pop()
            up = ".".join(parts)
            up_obj = _resolve(modules, up)
            if up and up_obj is not None and hasattr(up_obj, "named_parameters"):
                parent_of[path] = up
                pending.append(up)
                break
    return labels, parent_of


def shown_modules(
    members: dict[str, list[str]], labels: dict[str, str], parent_of: dict[str, str | None]
) -> dict[str | None, list[str]]:
    """The modules that get a box (those with drawn nodes, and those enclosing them), as
    enclosing module -> its child modules, in the order modules appear in the model."""
    shown = set()
    for path in members:
        while path is not None and path not in shown:
            shown.add(path)
            path = parent_of.get(path)
    children: dict[str | None, list[str]] = {}
    for path in labels:  # labels keep the order modules first appear in named_parameters()
        if path in shown:
            children.setdefault(parent_of[path], []).append(path)
    return children


def emit_clusters(
    body: list[str],
    members: dict[str, list[str]],
    labels: dict[str, str],
    parent_of: dict[str, str | None],
) -> None:
    """Write nested `subgraph cluster_k { ... }` blocks, depth-first with an explicit stack
    (k is the module's position in `labels`)."""
    children = shown_modules(members, labels, parent_of)
    ids = {path: k for k, path in enumerate(labels)}
    stack: list[tuple[str, bool]] = [(p, True) for p in reversed(children.get(None, []))]
    while stack:
        path, opening = stack.pop()
        indent = "\t" * (1 + sum(1 for _ in _ancestors(path, parent_of)))
        if not opening:
            body.append(f"{indent}}}\n")
            continue
        body.append(f"{indent}subgraph cluster_{ids[path]} {{\n")
        body.append(
            f'{indent}\tlabel={dot_string(labels[path])} style="rounded,dashed" '
            f'color="#1f5fbf" fontcolor="#1f5fbf" fontsize=12\n'
        )
        nodes = members.get(path, [])
        for i in range(0, len(nodes), 12):
            body.append(f"{indent}\t{' '.join(nodes[i : i + 12])}\n")
        stack.append((path, False))
        stack.extend((c, True) for c in reversed(children.get(path, [])))


def _ancestors(path: str, parent_of: dict) -> Iterable[str]:
    up = parent_of.get(path)
    while up is not None:
        yield up
        up = parent_of.get(up)
