"""annolab: label in a notebook cell, work as a team over Postgres, measure quality.

>>> import annolab as al
>>> ws = al.connect()  # doctest: +SKIP
"""

from __future__ import annotations

from annolab import datasets, widgets
from annolab.errors import (
    AnnolabError,
    ConnectError,
    DataError,
    LayoutError,
    StoreError,
    ValidationError,
)
from annolab.project import AddedTasks, Project
from annolab.schema import Label, LabelSchema, validate_payload
from annolab.workspace import Workspace, connect

__version__ = "0.1.0"

__all__ = [
    "AddedTasks",
    "AnnolabError",
    "ConnectError",
    "DataError",
    "Label",
    "LabelSchema",
    "LayoutError",
    "Project",
    "StoreError",
    "ValidationError",
    "Workspace",
    "__version__",
    "connect",
    "datasets",
    "validate_payload",
    "widgets",
]
