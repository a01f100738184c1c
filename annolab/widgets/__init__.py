"""annolab's notebook widgets: pure views of a payload that never touch the database.

Each widget is ``annolab/widgets/<name>.py`` with its front end in ``widgets/src/<name>/``,
built into ``annolab/static/<name>.js``.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from annolab.widgets._base import AnnotationWidget, WidgetTraitError
    from annolab.widgets.bbox import BBox
    from annolab.widgets.classify import Classify
    from annolab.widgets.correction import Correction
    from annolab.widgets.errors import Errors
    from annolab.widgets.form import Form
    from annolab.widgets.layout import LayoutWidget
    from annolab.widgets.ner import NER
    from annolab.widgets.pairwise import Pairwise
    from annolab.widgets.preview import Preview
    from annolab.widgets.ranking import Ranking
    from annolab.widgets.rubric import Rubric

# Each widget's module is imported when its name is first used (PEP 562): a cell that draws a
# BBox does not pay for the layout schema behind LayoutWidget and Correction.
_MODULES = {
    "AnnotationWidget": "_base",
    "WidgetTraitError": "_base",
    "BBox": "bbox",
    "Classify": "classify",
    "Correction": "correction",
    "Errors": "errors",
    "Form": "form",
    "LayoutWidget": "layout",
    "NER": "ner",
    "Pairwise": "pairwise",
    "Preview": "preview",
    "Ranking": "ranking",
    "Rubric": "rubric",
}


def __getattr__(name: str) -> Any:
    try:
        module = _MODULES[name]
    except KeyError:
        msg = f"module 'annolab.widgets' has no attribute {name!r}"
        raise AttributeError(msg) from None
    value = getattr(importlib.import_module(f"annolab.widgets.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    # The widgets, and the submodules already imported; not this file's own imports.
    modules = {n for n, v in globals().items() if isinstance(v, ModuleType) and n[0] != "_"}
    loaded = modules - {"importlib"}
    return sorted({*__all__, *loaded})


__all__ = [
    "NER",
    "AnnotationWidget",
    "BBox",
    "Classify",
    "Correction",
    "Errors",
    "Form",
    "LayoutWidget",
    "Pairwise",
    "Preview",
    "Ranking",
    "Rubric",
    "WidgetTraitError",
]
