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
    # Plugin hooks (pluggy): the bottom layer every layer that calls a hook may import.
    "hooks": {"errors"},
    "schema": {"errors"},
    # The registry of payload kinds: each kind's model comes from schema; consumers above ask it.
    "kinds": {"hooks", "schema", "errors"},
    "widgets": {"schema", "errors"},
    "datasets": {"schema", "errors"},
    "resources": {"errors", "paths"},
    "store": {"schema", "errors", "paths"},
    "io": {"hooks", "kinds", "store", "schema", "errors", "paths"},
    "quality": {"hooks", "kinds", "store", "schema", "errors", "paths"},
    # The workflow uses quality's rules and metrics; quality never imports the workflow.
    "workflow": {"hooks", "kinds", "quality", "store", "schema", "errors", "paths"},
    "dashboards": {"kinds", "quality", "schema", "errors"},
    # Personas annotate through the store and measure themselves with quality's metrics.
    "personas": {"kinds", "quality", "store", "schema", "resources", "errors", "paths"},
    "session": {
        "hooks",
        "kinds",
        "workflow",
        "quality",
        "io",
        "store",
        "schema",
        "widgets",
        "errors",
        "paths",
    },
    "annotate": {"kinds", "session", "workflow", "store", "schema", "widgets", "errors", "paths"},
    # The delivery worker: sends what the store's trigger enqueued.
    "webhooks": {"store", "schema", "errors"},
}

# Upper layers a layer may import inside a function only, run when asked and never at import: a
# kind's widget facet hands back its widget class, and widgets sit above the kinds.
# Layout.load finds a layout file by name (resources: the user's folder, then annolab's) only
# when called; a layout built from a dict or YAML text never touches the disk.
LAZY: dict[str, set[str]] = {"kinds": {"widgets"}, "schema": {"resources"}}


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


def _outside_functions(tree: ast.AST) -> list[ast.AST]:
    """The runtime nodes run at import: those of ``_runtime_nodes`` outside any function body."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inside.update(id(child) for child in ast.walk(node) if child is not node)
    return [node for node in _runtime_nodes(tree) if id(node) not in inside]


def _imported_layers(path: Path, *, at_import: bool = False) -> set[str]:
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in _outside_functions(tree) if at_import else _runtime_nodes(tree):
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
        lazy = LAZY.get(layer, set())
        upward = _imported_layers(path) - ALLOWED[layer] - lazy - {layer}
        eager = _imported_layers(path, at_import=True) & lazy
        if upward:
            violations.append(f"{path.relative_to(REPO)} imports {sorted(upward)}")
        if eager:
            violations.append(f"{path.relative_to(REPO)} imports {sorted(eager)} at import time")
    assert violations == []


def test_a_lazy_layer_counts_only_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "import annolab.schema\ndef f():\n    from annolab.widgets import ner\n"
        "g = lambda: __import__('x')\nfrom annolab.widgets import bbox\n"
    )
    assert _imported_layers(module, at_import=True) == {"schema", "widgets"}
    module.write_text("def f():\n    from annolab.widgets import ner\n")
    assert _imported_layers(module, at_import=True) == set()
    assert _imported_layers(module) == {"widgets"}


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
