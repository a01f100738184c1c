"""The project dashboard and its panels: progress, agreement, confusion, bottlenecks."""

from __future__ import annotations

import altair as alt
import polars as pl

from annolab.dashboards import _data
from annolab.errors import QualityError

WIDTH = 360
HEIGHT = 220


def progress(annotations: pl.DataFrame) -> alt.Chart:
    """Cumulative annotations over time, one line per kind of annotator.

    >>> progress(proj.annotations())  # doctest: +SKIP
    """
    rows = _data.annotation_rows(annotations, kinds=None)
    _data.require_times(rows, "progress")
    return _progress_chart(*progress_table(rows))


def progress_table(rows: pl.DataFrame) -> tuple[pl.DataFrame, str]:
    """Annotations per period and kind with the running total, and the period's name."""
    every, name = _data.time_step(rows["at"])
    return _progress_plan(rows, every).collect(), name


def _progress_plan(rows: pl.DataFrame, every: str) -> pl.LazyFrame:
    # Lazy, so that dropping the rows without a time copies two columns, not every payload.
    return (
        rows.lazy()
        .drop_nulls("at")
        .group_by(pl.col("at").dt.truncate(every).alias("period"), "kind")
        .agg(pl.len().alias("annotations"))
        .sort("kind", "period")
        .with_columns(pl.col("annotations").cum_sum().over("kind").alias("total"))
    )


def _progress_chart(table: pl.DataFrame, name: str) -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(table, title="Annotations submitted")
        .mark_line(point=True)
        .encode(
            x=alt.X("period:T", title=name.capitalize()),
            y=alt.Y("total:Q", title="Annotations so far"),
            color=alt.Color("kind:N", title="Kind"),
            tooltip=[
                alt.Tooltip("period:T", title=name.capitalize()),
                alt.Tooltip("kind:N", title="Kind"),
                alt.Tooltip("annotations:Q", title=f"In this {name}"),
                alt.Tooltip("total:Q", title="So far"),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return chart


def task_status(tasks: pl.DataFrame) -> alt.Chart:
    """How many tasks are in each status (pending, in progress, completed, escalated, ...)."""
    if "status" not in tasks.columns:
        msg = "task_status needs the tasks frame's status column; pass project.tasks()"
        raise QualityError(msg)
    table = tasks.group_by("status").agg(pl.len().alias("tasks")).sort("status")
    chart: alt.Chart = (
        alt.Chart(table, title="Tasks by status")
        .mark_bar()
        .encode(
            x=alt.X("tasks:Q", title="Tasks"),
            y=alt.Y("status:N", title="Status", sort="-x"),
            tooltip=[
                alt.Tooltip("status:N", title="Status"),
                alt.Tooltip("tasks:Q", title="Tasks"),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return chart


def agreement_over_time(annotations: pl.DataFrame) -> alt.Chart:
    """Pairwise agreement (exact F1) of the annotations made in each period, with their peers."""
    rows = _data.annotation_rows(annotations)
    _data.require_times(rows, "agreement_over_time")
    every, name = _data.time_step(rows["at"])
    scores = _data.annotation_scores(rows, _data.units(rows), by_label=False)
    return _over_time_chart(_data.over_time(rows, scores, every), name)


def _over_time_chart(table: pl.DataFrame, name: str) -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(table, title="Agreement over time")
        .mark_line(point=True)
        .encode(
            x=alt.X("period:T", title=name.capitalize()),
            y=alt.Y("agreement:Q", title="Agreement (pairwise F1)", scale=alt.Scale(domain=[0, 1])),
            tooltip=[
                alt.Tooltip("period:T", title=name.capitalize()),
                alt.Tooltip("agreement:Q", title="Agreement", format=".3f"),
                alt.Tooltip("annotations:Q", title="Annotations"),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return chart


def agreement_per_label(annotations: pl.DataFrame) -> alt.Chart:
    """Pairwise agreement (exact F1) per label, worst first."""
    rows = _data.annotation_rows(annotations)
    table = _data.label_agreement(rows, _data.units(rows))
    return _label_bars(table, "Agreement per label")


def _label_bars(table: pl.DataFrame, title: str) -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(table, title=title)
        .mark_bar()
        .encode(
            x=alt.X("agreement:Q", title="Agreement (pairwise F1)", scale=alt.Scale(domain=[0, 1])),
            y=alt.Y("label:N", title="Label", sort="x"),
            tooltip=[
                alt.Tooltip("label:N", title="Label"),
                alt.Tooltip("agreement:Q", title="Agreement", format=".3f"),
                alt.Tooltip("annotations:Q", title="Annotations"),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return chart


def label_confusion(annotations: pl.DataFrame) -> alt.Chart:
    """Heat map of what pairs of annotators gave at the same place: label against label."""
    rows = _data.annotation_rows(annotations)
    return _confusion_chart(_data.label_confusion(rows, _data.units(rows)))


def _confusion_chart(table: pl.DataFrame) -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(table, title="Confusion between annotators")
        .mark_rect()
        .encode(
            x=alt.X("label_b:N", title="Other annotator's label"),
            y=alt.Y("label_a:N", title="One annotator's label"),
            color=alt.Color("pairs:Q", title="Pairs", scale=alt.Scale(type="log")),
            tooltip=[
                alt.Tooltip("label_a:N", title="One said"),
                alt.Tooltip("label_b:N", title="The other said"),
                alt.Tooltip("pairs:Q", title="Pairs"),
            ],
        )
        .properties(width=HEIGHT, height=HEIGHT)
    )
    return chart


def bottlenecks(annotations: pl.DataFrame, events: pl.DataFrame | None = None) -> alt.Chart:
    """Where time goes: median wait before each task event (with ``events``), else the
    annotator hours spent in each workflow step."""
    if events is not None and events.height:
        return _event_waits(events)
    return _step_hours_chart(step_hours(_data.annotation_rows(annotations)))


def step_hours(rows: pl.DataFrame) -> pl.DataFrame:
    """Per workflow step: annotator hours, median seconds per annotation, annotations."""
    return _step_hours_plan(rows).collect()


def _step_hours_plan(rows: pl.DataFrame) -> pl.LazyFrame:
    return (
        rows.lazy()
        .group_by("step")
        .agg(
            (pl.col("time_spent").sum() / 3600).alias("hours"),
            pl.col("time_spent").median().alias("median_seconds"),
            pl.len().alias("annotations"),
        )
        .sort("hours", "step", descending=[True, False])
    )


def _step_hours_chart(table: pl.DataFrame) -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(table, title="Annotator hours per step")
        .mark_bar()
        .encode(
            x=alt.X("hours:Q", title="Hours spent annotating"),
            y=alt.Y("step:N", title="Workflow step", sort="-x"),
            tooltip=[
                alt.Tooltip("step:N", title="Step"),
                alt.Tooltip("hours:Q", title="Hours", format=".1f"),
                alt.Tooltip("median_seconds:Q", title="Median seconds each", format=".1f"),
                alt.Tooltip("annotations:Q", title="Annotations"),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return chart


def _event_waits(events: pl.DataFrame) -> alt.Chart:
    table = event_waits(events)
    chart: alt.Chart = (
        alt.Chart(table, title="Median wait before each task event")
        .mark_bar()
        .encode(
            x=alt.X("median_hours:Q", title="Median hours since the task's previous event"),
            y=alt.Y("action:N", title="Event", sort="-x"),
            tooltip=[
                alt.Tooltip("action:N", title="Event"),
                alt.Tooltip("median_hours:Q", title="Median hours", format=".2f"),
                alt.Tooltip("events:Q", title="Events"),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return chart


def event_waits(events: pl.DataFrame) -> pl.DataFrame:
    """Per action on tasks: the median hours since the same task's previous event.

    ``events`` has the columns of the event log (``at``, ``action``, ``entity``, ``entity_id``).
    """
    missing = {"at", "action", "entity", "entity_id"} - set(events.columns)
    if missing:
        msg = f"the events frame lacks {sorted(missing)}; it needs at, action, entity, entity_id"
        raise QualityError(msg)
    return (
        events.lazy()
        .filter(pl.col("entity") == "task")
        .sort("at")
        .with_columns(
            (
                (pl.col("at") - pl.col("at").shift(1).over("entity_id")).dt.total_seconds() / 3600
            ).alias("hours")
        )
        .drop_nulls("hours")
        .group_by("action")
        .agg(pl.col("hours").median().alias("median_hours"), pl.len().alias("events"))
        .sort("median_hours", descending=True)
        .collect()
    )


def project(
    annotations: pl.DataFrame,
    tasks: pl.DataFrame | None = None,
    events: pl.DataFrame | None = None,
) -> alt.VConcatChart:
    """The project dashboard: progress, agreement over time and per label, confusion between
    annotators, bottlenecks (and tasks by status when ``tasks`` is given).

    The annotations' payloads are read once and every panel aggregates from that.

    >>> import annolab as al
    >>> chart = al.dashboards.project(proj.annotations(), proj.tasks())  # doctest: +SKIP
    >>> chart.save("exports/project.png")  # doctest: +SKIP
    """
    everyone = _data.annotation_rows(annotations, kinds=None)
    people = everyone.filter(pl.col("kind").is_in(_data.ANNOTATOR_KINDS))
    people = people.drop("row").with_row_index("row")
    timed = everyone["at"].null_count() < everyone.height
    every, name = _data.time_step(people["at"]) if timed else (None, "")
    progress_every, progress_name = _data.time_step(everyone["at"])
    agreement = _data.agreement_plans(people, _data.units(people, users=False), every)
    waits = events if events is not None and events.height else None
    plans = {"per_label": agreement.per_label, "confusion": agreement.confusion}
    if agreement.over_time is not None:
        plans["over_time"] = agreement.over_time
        plans["progress"] = _progress_plan(everyone, progress_every)
    if waits is None:
        plans["steps"] = _step_hours_plan(people)
    # The tables do not depend on one another: collected together, they share both cores.
    tables = dict(zip(plans, pl.collect_all(list(plans.values())), strict=True))
    panels: list[alt.Chart] = []
    if "over_time" in tables:
        panels.append(_progress_chart(tables["progress"], progress_name))
        panels.append(_over_time_chart(tables["over_time"], name))
    panels.append(_label_bars(tables["per_label"], "Agreement per label"))
    panels.append(_confusion_chart(tables["confusion"]))
    if waits is not None:
        panels.append(_event_waits(waits))
    else:
        panels.append(_step_hours_chart(tables["steps"]))
    if tasks is not None:
        panels.append(task_status(tasks))
    rows_of_two = [panels[i : i + 2] for i in range(0, len(panels), 2)]
    return alt.vconcat(*(alt.hconcat(*pair) for pair in rows_of_two), title="Project quality")
