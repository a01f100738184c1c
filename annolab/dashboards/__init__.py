"""Quality dashboards: functions from annotation frames to Altair charts.

Every function aggregates in polars first, so a chart embeds at most a few thousand rows however
many annotations there are. Agreement is pairwise exact-match F1 among the human and persona
annotators (span_agreement's ``exact`` rows; for choices, pairwise percent agreement). Charts
save with ``chart.save("x.png")`` or ``"x.svg"`` (needs vl-convert-python).

Charts draw with no network in JupyterLab, Notebook 7 and HTML exported with nbconvert:
importing this package switches Altair to annolab's renderer, which carries Vega, Vega-Lite and
vega-embed inside each chart's HTML (about 410 KB a chart; see ``_render``). A renderer chosen
before the import is left alone. To go back to Altair's own (it loads Vega from a CDN), after
``import annolab``::

    import altair as alt
    alt.renderers.enable("default")

and ``alt.renderers.enable("annolab")`` turns it on again.

>>> import annolab as al
>>> al.dashboards.project(proj.annotations(), proj.tasks())  # doctest: +SKIP
>>> al.dashboards.annotator(proj.annotations(), "ana")  # doctest: +SKIP
>>> al.dashboards.persona_vs_human(proj.annotations())  # doctest: +SKIP
"""

from __future__ import annotations

from annolab.dashboards import _render
from annolab.dashboards.annotator import (
    annotator,
    habits_table,
    input_and_edits,
    quality_trend,
    time_on_task,
    time_per_task,
    volume,
)
from annolab.dashboards.personas import persona_vs_human
from annolab.dashboards.project import (
    agreement_over_time,
    agreement_per_label,
    bottlenecks,
    label_confusion,
    progress,
    project,
    task_status,
)

# Altair is imported by the chart modules above already, so this adds no import time.
_render.enable_unless_chosen()

__all__ = [
    "agreement_over_time",
    "agreement_per_label",
    "annotator",
    "bottlenecks",
    "habits_table",
    "input_and_edits",
    "label_confusion",
    "persona_vs_human",
    "progress",
    "project",
    "quality_trend",
    "task_status",
    "time_on_task",
    "time_per_task",
    "volume",
]
