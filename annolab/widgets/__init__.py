"""annolab's notebook widgets: pure views of a payload that never touch the database.

Each widget is ``annolab/widgets/<name>.py`` with its front end in ``widgets/src/<name>/``,
built into ``annolab/static/<name>.js``.
"""

from __future__ import annotations

from annolab.widgets._base import AnnotationWidget, WidgetTraitError
from annolab.widgets.bbox import BBox
from annolab.widgets.classify import Classify
from annolab.widgets.form import Form
from annolab.widgets.layout import LayoutWidget
from annolab.widgets.ner import NER
from annolab.widgets.preview import Preview

__all__ = [
    "NER",
    "AnnotationWidget",
    "BBox",
    "Classify",
    "Form",
    "LayoutWidget",
    "Preview",
    "WidgetTraitError",
]
