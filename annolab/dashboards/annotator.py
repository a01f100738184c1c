"""One annotator's dashboard: quality trend against the team, volume, time per task."""

from __future__ import annotations

import altair as alt
import polars as pl

from annolab.dashboards import _data
from annolab.errors import QualityError

WIDTH = 360
HEIGHT = 200


def _rows_of(annotations: pl.DataFrame, user: str) -> pl.DataFrame:
    rows = _data.annotation_rows(annotations)
    if rows.filter(pl.col("user") == user).height == 0:
        known = sorted(rows["user"].unique().to_list())
        shown = ", ".join(repr(u) for u in known[:10]) or "none"
        msg = f"user={user!r} has no counted annotation; the annotators are {shown}"
        raise QualityError(msg)
    return rows


def trend_table(rows: pl.DataFrame, user: str) -> tuple[pl.DataFrame, str]:
    """Agreement with peers per period: ``period``, ``who`` (the user or "team"), ``agreement``."""
    _data.require_times(rows, "quality_trend")
    every, name = _data.time_step(rows["at"])
    scores = _data.annotation_scores(rows, _data.units(rows), by_label=False)
    timed = scores.join(rows.select("row", "user", "at"), on="row").with_columns(
        pl.col("at").dt.truncate(every).alias("period")
    )
    mine = _data.agreement(timed.filter(pl.col("user") == user), ["period"])
    team = _data.agreement(timed, ["period"])
    table = pl.concat(
        [
            mine.with_columns(pl.lit(user).alias("who")),
            team.with_columns(pl.lit("team").alias("who")),
        ]
    ).select("who", "period", "agreement", "annotations")
    return table, name


def quality_trend(annotations: pl.DataFrame, user: str) -> alt.Chart:
    """The annotator's agreement with peers over time, beside the whole team's."""
    table, name = trend_table(_rows_of(annotations, user), user)
    return _trend_chart(table, name)


def _trend_chart(table: pl.DataFrame, name: str) -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(table, title="Agreement with peers")
        .mark_line(point=True)
        .encode(
            x=alt.X("period:T", title=name.capitalize()),
            y=alt.Y("agreement:Q", title="Agreement (pairwise F1)", scale=alt.Scale(domain=[0, 1])),
            color=alt.Color("who:N", title="Who"),
            tooltip=[
                alt.Tooltip("who:N", title="Who"),
                alt.Tooltip("period:T", title=name.capitalize()),
                alt.Tooltip("agreement:Q", title="Agreement", format=".3f"),
                alt.Tooltip("annotations:Q", title="Annotations"),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return chart


def volume_table(rows: pl.DataFrame, user: str) -> tuple[pl.DataFrame, str]:
    """Annotations per period: the user's and the median annotator's (``who``, ``period``)."""
    _data.require_times(rows, "volume")
    every, name = _data.time_step(rows["at"])
    per_user = (
        rows.drop_nulls("at")
        .group_by(pl.col("at").dt.truncate(every).alias("period"), "user")
        .agg(pl.len().alias("annotations"))
    )
    mine = per_user.filter(pl.col("user") == user).select(
        pl.lit(user).alias("who"), "period", pl.col("annotations").cast(pl.Float64)
    )
    team = per_user.group_by("period").agg(
        pl.lit("median annotator").alias("who"), pl.col("annotations").median()
    )
    table = pl.concat([mine, team.select("who", "period", "annotations")]).sort("who", "period")
    return table, name


def volume(annotations: pl.DataFrame, user: str) -> alt.Chart:
    """The annotator's annotations per period, beside the median annotator's."""
    table, name = volume_table(_rows_of(annotations, user), user)
    return _volume_chart(table, name)


def _volume_chart(table: pl.DataFrame, name: str) -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(table, title="Volume")
        .mark_line(point=True)
        .encode(
            x=alt.X("period:T", title=name.capitalize()),
            y=alt.Y("annotations:Q", title=f"Annotations per {name}"),
            color=alt.Color("who:N", title="Who"),
            tooltip=[
                alt.Tooltip("who:N", title="Who"),
                alt.Tooltip("period:T", title=name.capitalize()),
                alt.Tooltip("annotations:Q", title="Annotations"),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return chart


def time_per_task(annotations: pl.DataFrame, user: str) -> alt.Chart:
    """How long the annotator spends per annotation, against the team (share per bin)."""
    return _time_chart(_data.seconds_histogram(_rows_of(annotations, user), user))


def _time_chart(table: pl.DataFrame) -> alt.Chart:
    chart: alt.Chart = (
        alt.Chart(table, title="Time per task")
        .mark_bar(opacity=0.6)
        .encode(
            x=alt.X("start:Q", title="Seconds per annotation", bin="binned"),
            x2="end:Q",
            y=alt.Y("share:Q", title="Share of annotations", stack=None, axis=alt.Axis(format="%")),
            color=alt.Color("who:N", title="Who"),
            tooltip=[
                alt.Tooltip("who:N", title="Who"),
                alt.Tooltip("start:Q", title="From (s)", format=".1f"),
                alt.Tooltip("end:Q", title="To (s)", format=".1f"),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
            ],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )
    return chart


def annotator(annotations: pl.DataFrame, user: str) -> alt.VConcatChart:
    """One annotator's dashboard: agreement with peers over time against the team, volume,
    and time per task.

    >>> al.dashboards.annotator(proj.annotations(), "ana")  # doctest: +SKIP
    """
    rows = _rows_of(annotations, user)
    panels: list[alt.Chart] = []
    if rows["at"].null_count() < rows.height:
        panels.append(_trend_chart(*trend_table(rows, user)))
        panels.append(_volume_chart(*volume_table(rows, user)))
    panels.append(_time_chart(_data.seconds_histogram(rows, user)))
    rows_of_two = [panels[i : i + 2] for i in range(0, len(panels), 2)]
    return alt.vconcat(*(alt.hconcat(*pair) for pair in rows_of_two), title=f"Annotator {user}")
