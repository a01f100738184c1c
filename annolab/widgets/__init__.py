"""annolab's notebook widgets: pure views of a payload that never touch the database.

Each widget is ``annolab/widgets/<name>.py`` with its front end in ``widgets/src/<name>/``,
built into ``annolab/static/<name>.js``.
"""

from __future__ import annotations

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
