"""annolab: label in a notebook cell, work as a team over Postgres, measure quality.

>>> import annolab as al
>>> ws = al.connect()  # doctest: +SKIP
"""

from __future__ import annotations

from annolab import dashboards, datasets, quality, widgets
from annolab import workflow as workflows
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
)
from annolab.project import AddedTasks, Project
from annolab.schema import Label, LabelSchema, validate_payload
from annolab.widgets import NER, BBox, Classify, Preview
from annolab.workflow.spec import Workflow
from annolab.workspace import Workspace, connect

__version__ = "0.1.0"

__all__ = [
    "NER",
    "AddedTasks",
    "AnnolabError",
    "AssignmentError",
    "BBox",
    "Classify",
    "ConnectError",
    "DataError",
    "Label",
    "LabelSchema",
    "LayoutError",
    "PersonaError",
    "Preview",
    "Project",
    "StoreError",
    "ValidationError",
    "Workflow",
    "WorkflowError",
    "Workspace",
    "__version__",
    "connect",
    "dashboards",
    "datasets",
    "quality",
    "validate_payload",
    "widgets",
    "workflows",
]
