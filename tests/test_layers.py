"""Layers import downward only (DESIGN.md): a lower layer never imports a higher one."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import REPO

PACKAGE = REPO / "annolab"

# What each layer may import from annolab. Modules not listed here (workspace, project, cli,
# __init__) are the public face on top and may import anything.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "paths": set(),
    "schema": {"errors"},
    "widgets": {"schema", "errors"},
    "datasets": {"schema", "errors"},
    "resources": {"errors", "paths"},
    "store": {"schema", "errors", "paths"},
    "io": {"store", "schema", "errors", "paths"},
    "quality": {"store", "schema", "errors", "paths"},
    # The workflow uses quality's rules and metrics; quality never imports the workflow.
    "workflow": {"quality", "store", "schema", "errors", "paths"},
    "dashboards": {"quality", "schema", "errors"},
    # Personas annotate through the store and measure themselves with quality's metrics.
    "personas": {"quality", "store", "schema", "resources", "errors", "paths"},
    "session": {"workflow", "quality", "io", "store", "schema", "widgets", "errors", "paths"},
    "annotate": {"session", "workflow", "store", "schema", "widgets", "errors", "paths"},
}


def _layer(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node but those under ``if TYPE_CHECKING:``: type hints may name a higher layer's
    classes (a session is handed its project) without importing it when the code runs."""
    nodes: list[ast.AST] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        nodes.append(node)
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
            stack.extend(node.orelse)
            continue
        stack.extend(ast.iter_child_nodes(node))
    return nodes


def _imported_layers(path: Path) -> set[str]:
    found: set[str] = set()
    for node in _runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "annolab" and len(parts) > 1:
                found.add(parts[1])
    return found


def test_every_layer_imports_only_downward() -> None:
    violations = []
    for path in sorted(PACKAGE.rglob("*.py")):
        layer = _layer(path)
        if layer not in ALLOWED:
            continue
        upward = _imported_layers(path) - ALLOWED[layer] - {layer}
        if upward:
            violations.append(f"{path.relative_to(REPO)} imports {sorted(upward)}")
    assert violations == []


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from annolab.store import tables\n    import annolab.io\n")
    assert _imported_layers(module) == {"store", "io"}


def test_type_checking_imports_do_not_count(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
        "    from annolab.project import Project\n"
    )
    assert _imported_layers(module) == set()
