"""Transition conditions: small expressions over a step's annotations, evaluated safely.

Names available: ``labels`` (every label chosen in the step's annotations, with repeats),
``annotations`` (how many there are), ``items`` (spans or boxes per annotation, a list),
``agreement`` (the step's agreement score, or None). Allowed: literals, lists, comparisons
(``== != < <= > >= in not in``), ``and or not``, arithmetic, and ``len any all min max sum``.
Anything else is refused when the workflow is built, not when a task reaches it.

>>> evaluate("'urgent' in labels and annotations >= 2", {"labels": ["urgent"], "annotations": 2})
True
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from typing import Any

from annolab.errors import WorkflowError

NAMES = frozenset({"labels", "annotations", "items", "agreement"})
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": len,
    "any": any,
    "all": all,
    "min": min,
    "max": max,
    "sum": sum,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.In: lambda a, b: a in b,
    ast.NotIn: lambda a, b: a not in b,
}
_ARITH: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def check(source: str) -> ast.Expression:
    """Parse ``source`` and refuse anything outside the small language above."""
    try:
        tree = ast.parse(source, mode="eval")
    except SyntaxError as exc:
        msg = f"when={source!r} is not an expression: {exc.msg}"
        raise WorkflowError(msg) from exc
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id not in NAMES | set(_FUNCTIONS):
            msg = f"when={source!r} uses {node.id!r}; available: {', '.join(sorted(NAMES))}"
            raise WorkflowError(msg)
        if isinstance(node, ast.Call) and not (
            isinstance(node.func, ast.Name) and node.func.id in _FUNCTIONS and not node.keywords
        ):
            msg = f"when={source!r} calls something other than {', '.join(_FUNCTIONS)}"
            raise WorkflowError(msg)
        allowed = (
            ast.Expression,
            ast.BoolOp,
            ast.And,
            ast.Or,
            ast.UnaryOp,
            ast.Not,
            ast.USub,
            ast.Compare,
            ast.Name,
            ast.Load,
            ast.Constant,
            ast.List,
            ast.Tuple,
            ast.Call,
            ast.BinOp,
            *_COMPARE,
            *_ARITH,
        )
        if not isinstance(node, allowed):
            msg = f"when={source!r} uses {type(node).__name__}, which conditions do not allow"
            raise WorkflowError(msg)
    return tree


def evaluate(source: str, names: Mapping[str, Any]) -> bool:
    """The truth of ``source`` with ``names``; errors become WorkflowError."""
    tree = check(source)
    try:
        return bool(_eval(tree.body, names))
    except (TypeError, ValueError, ZeroDivisionError) as exc:
        msg = f"when={source!r} failed on this task: {exc}"
        raise WorkflowError(msg) from exc


def _eval(node: ast.AST, names: Mapping[str, Any]) -> Any:  # noqa: PLR0911 - one case a node
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_eval(e, names) for e in node.elts]
    if isinstance(node, ast.BoolOp):
        values = (_eval(v, names) for v in node.values)
        return all(values) if isinstance(node.op, ast.And) else any(values)
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, names)
        return (not value) if isinstance(node.op, ast.Not) else -value
    if isinstance(node, ast.BinOp):
        return _ARITH[type(node.op)](_eval(node.left, names), _eval(node.right, names))
    if isinstance(node, ast.Compare):
        left = _eval(node.left, names)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            right = _eval(right_node, names)
            if not _COMPARE[type(op)](left, right):
                return False
            left = right
        return True
    assert isinstance(node, ast.Call)  # check() let nothing else through
    assert isinstance(node.func, ast.Name)
    return _FUNCTIONS[node.func.id](*(_eval(a, names) for a in node.args))


def facts(payloads: list[dict[str, Any]], agreement: float | None) -> dict[str, Any]:
    """The names an expression sees, from the step's stored payloads."""
    labels: list[str] = []
    items: list[int] = []
    for p in payloads:
        if p.get("kind") == "spans":
            labels += [s["label"] for s in p["spans"]]
            items.append(len(p["spans"]))
        elif p.get("kind") == "boxes":
            labels += [b["label"] for b in p["boxes"]]
            items.append(len(p["boxes"]))
        elif p.get("kind") == "choice":
            labels.append(p["label"])
        elif p.get("kind") == "choices":
            labels += list(p["labels"])
    return {"labels": labels, "annotations": len(payloads), "items": items, "agreement": agreement}
