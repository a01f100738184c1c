"""annolab: label in a notebook cell, work as a team over Postgres, measure quality.

>>> import annolab as al
>>> ws = al.connect()  # doctest: +SKIP

``import annolab`` loads only this file and the errors: each name below is imported the first
time it is used (PEP 562), so a cell that only draws a widget never pays for SQLAlchemy,
psycopg, polars or Altair, and a kernel's first cell stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from annolab.errors import (
    AnnolabError,
    AssignmentError,
    ConnectError,
    DataError,
    LayoutError,
    PersonaError,
    StoreError,
    ValidationError,
    WorkflowError,
    debug,
)

if TYPE_CHECKING:
    from annolab import dashboards, datasets, quality, widgets
    from annolab import workflow as workflows
    from annolab.project import AddedTasks, Project
    from annolab.schema import Label, LabelSchema, validate_payload
    from annolab.schema.layout import Layout
    from annolab.widgets import (
        NER,
        BBox,
        Classify,
        Correction,
        Errors,
        LayoutWidget,
        Pairwise,
        Preview,
        Ranking,
        Rubric,
    )
    from annolab.workflow.spec import Workflow
    from annolab.workspace import Workspace, connect

__version__ = "0.1.0"

# name -> (module, attribute); attribute None means the module itself.
_LAZY: dict[str, tuple[str, str | None]] = {
    "dashboards": ("annolab.dashboards", None),
    "datasets": ("annolab.datasets", None),
    "quality": ("annolab.quality", None),
    "widgets": ("annolab.widgets", None),
    "workflows": ("annolab.workflow", None),
    "AddedTasks": ("annolab.project", "AddedTasks"),
    "Project": ("annolab.project", "Project"),
    "Label": ("annolab.schema", "Label"),
    "LabelSchema": ("annolab.schema", "LabelSchema"),
    "Layout": ("annolab.schema.layout", "Layout"),
    "validate_payload": ("annolab.schema", "validate_payload"),
    "NER": ("annolab.widgets", "NER"),
    "BBox": ("annolab.widgets", "BBox"),
    "Classify": ("annolab.widgets", "Classify"),
    "Preview": ("annolab.widgets", "Preview"),
    "LayoutWidget": ("annolab.widgets", "LayoutWidget"),
    "Pairwise": ("annolab.widgets", "Pairwise"),
    "Ranking": ("annolab.widgets", "Ranking"),
    "Rubric": ("annolab.widgets", "Rubric"),
    "Errors": ("annolab.widgets", "Errors"),
    "Correction": ("annolab.widgets", "Correction"),
    "Workflow": ("annolab.workflow.spec", "Workflow"),
    "Workspace": ("annolab.workspace", "Workspace"),
    "connect": ("annolab.workspace", "connect"),
}


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    """jupyter_server's entry point: the extension itself is ``annolab.lab``, imported only
    by the server, so ``import annolab`` never loads jupyter_server."""
    return [{"module": "annolab.lab"}]


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """Where the prebuilt JupyterLab extension is, for ``jupyter labextension develop``."""
    return [{"src": "labextension", "dest": "annolab"}]


def __getattr__(name: str) -> Any:
    try:
        module_name, attribute = _LAZY[name]
    except KeyError:
        msg = f"module 'annolab' has no attribute {name!r}"
        raise AttributeError(msg) from None
    module = importlib.import_module(module_name)
    value = module if attribute is None else getattr(module, attribute)
    globals()[name] = value  # the next use is an ordinary attribute
    return value


def __dir__() -> list[str]:
    # What Tab completes on ``al.``: the public names (and subpackages already imported), not
    # this file's own helpers (importlib, Any, TYPE_CHECKING).
    loaded = [name for name, value in globals().items() if getattr(value, "__package__", None)]
    return sorted({*__all__, *_LAZY, "__version__", *(n for n in loaded if n != "importlib")})


__all__ = [
    "NER",
    "AddedTasks",
    "AnnolabError",
    "AssignmentError",
    "BBox",
    "Classify",
    "ConnectError",
    "Correction",
    "DataError",
    "Errors",
    "Label",
    "LabelSchema",
    "Layout",
    "LayoutError",
    "LayoutWidget",
    "Pairwise",
    "PersonaError",
    "Preview",
    "Project",
    "Ranking",
    "Rubric",
    "StoreError",
    "ValidationError",
    "Workflow",
    "WorkflowError",
    "Workspace",
    "__version__",
    "connect",
    "dashboards",
    "datasets",
    "debug",
    "quality",
    "validate_payload",
    "widgets",
    "workflows",
]
