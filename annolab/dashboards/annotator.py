"""One annotator's dashboard: quality trend against the team, volume, time per task, and how
they work (from widget telemetry, ``proj.telemetry()``): time on task, active and idle share,
keyboard against mouse, edit and undo rates, each beside the other annotators."""

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


# --- how people work: widget telemetry ----------------------------------------------------------

TELEMETRY_COLUMNS = (
    "user",
    "task",
    "step",
    "active_ms",
    "idle_ms",
    "keys",
    "pointer",
    "edits",
    "undos",
    "redos",
)


def _share(part: pl.Expr, whole: pl.Expr) -> pl.Expr:
    # A share of nothing is no share at all: null, not 0 or NaN.
    return pl.when(whole > 0).then(part / whole).otherwise(None)


def habits_table(telemetry: pl.DataFrame) -> pl.DataFrame:
    """One row per annotator from ``proj.telemetry()``: ``tasks`` (task steps measured),
    ``seconds_per_task``, ``active_share`` (of the time on task), ``keyboard_share`` (of key
    and pointer presses), ``edits_per_task``, ``undos_per_task`` and ``undos_per_edit``.

    >>> habits_table(proj.telemetry()).select("user", "active_share")  # doctest: +SKIP
    """
    missing = [c for c in TELEMETRY_COLUMNS if c not in telemetry.columns]
    if missing:
        rule = "must be a frame from proj.telemetry(), with " + ", ".join(TELEMETRY_COLUMNS)
        msg = f"telemetry is missing the columns {missing}: it {rule}"
        raise QualityError(msg)
    total = pl.col("active_ms") + pl.col("idle_ms")
    share = _share
    return (
        telemetry.group_by("user")
        .agg(
            pl.struct("task", "step").n_unique().alias("tasks"),
            total.sum().alias("ms"),
            pl.col("active_ms").sum().alias("active_ms"),
            *(pl.col(c).sum() for c in ("keys", "pointer", "edits", "undos", "redos")),
        )
        .select(
            "user",
            "tasks",
            (pl.col("ms") / pl.col("tasks") / 1000).alias("seconds_per_task"),
            share(pl.col("active_ms"), pl.col("ms")).alias("active_share"),
            share(pl.col("keys"), pl.col("keys") + pl.col("pointer")).alias("keyboard_share"),
            (pl.col("edits") / pl.col("tasks")).alias("edits_per_task"),
            (pl.col("undos") / pl.col("tasks")).alias("undos_per_task"),
            share(pl.col("undos"), pl.col("edits")).alias("undos_per_edit"),
        )
        .sort("user")
    )


def _habits_of(telemetry: pl.DataFrame, user: str) -> pl.DataFrame:
    table = habits_table(telemetry)
    if table.filter(pl.col("user") == user).height == 0:
        shown = ", ".join(repr(u) for u in table["user"].to_list()[:10]) or "none"
        msg = f"user={user!r} has no telemetry; the annotators with some are {shown}"
        raise QualityError(msg)
    return table.with_columns(
        pl.when(pl.col("user") == user).then(pl.lit(user)).otherwise(pl.lit("others")).alias("who")
    )


def _habit_bars(
    table: pl.DataFrame, user: str, title: str, fields: list[tuple[str, str, str]]
) -> alt.HConcatChart:
    """Bars per annotator, one small chart per measure in ``fields`` (column, name, format)."""
    colors = alt.Scale(domain=[user, "others"], range=["#d62728", "#9e9e9e"])
    charts = []
    for field, name, fmt in fields:
        chart = (
            alt.Chart(table.select("user", "who", field), title=name.capitalize())
            .mark_bar()
            .encode(
                x=alt.X(f"{field}:Q", title=None, axis=alt.Axis(format=fmt)),
                y=alt.Y("user:N", title=None, sort="-x"),
                color=alt.Color("who:N", title="Who", scale=colors),
                tooltip=[
                    alt.Tooltip("user:N", title="Annotator"),
                    alt.Tooltip(f"{field}:Q", title=name.capitalize(), format=fmt),
                ],
            )
            .properties(width=WIDTH // len(fields), height=HEIGHT)
        )
        charts.append(chart)
    return alt.hconcat(*charts, title=title)


def time_on_task(telemetry: pl.DataFrame, user: str) -> alt.HConcatChart:
    """Seconds per task and the share of it active (input in the last 30 s, tab shown), for
    ``user`` beside the other annotators.

    >>> al.dashboards.time_on_task(proj.telemetry(), "ana")  # doctest: +SKIP
    """
    fields = [
        ("seconds_per_task", "seconds per task", ".1f"),
        ("active_share", "active share", ".0%"),
    ]
    return _habit_bars(_habits_of(telemetry, user), user, "Time on task", fields)


def input_and_edits(telemetry: pl.DataFrame, user: str) -> alt.HConcatChart:
    """Keyboard share of presses, edits and undos per task, and undos per edit, for ``user``
    beside the other annotators.

    >>> al.dashboards.input_and_edits(proj.telemetry(), "ana")  # doctest: +SKIP
    """
    fields = [
        ("keyboard_share", "keyboard share", ".0%"),
        ("edits_per_task", "edits per task", ".1f"),
        ("undos_per_task", "undos per task", ".1f"),
        ("undos_per_edit", "undos per edit", ".2f"),
    ]
    return _habit_bars(_habits_of(telemetry, user), user, "Keyboard, mouse and edits", fields)


def annotator(
    annotations: pl.DataFrame, user: str, *, telemetry: pl.DataFrame | None = None
) -> alt.VConcatChart:
    """One annotator's dashboard: agreement with peers over time against the team, volume,
    time per task and, given ``telemetry`` (``proj.telemetry()``) with rows of theirs, how
    they work: time on task, active share, keyboard against mouse, edit and undo rates.

    >>> al.dashboards.annotator(  # doctest: +SKIP
    ...     proj.annotations(), "ana", telemetry=proj.telemetry()
    ... )
    """
    rows = _rows_of(annotations, user)
    panels: list[alt.Chart | alt.HConcatChart] = []
    if rows["at"].null_count() < rows.height:
        panels.append(_trend_chart(*trend_table(rows, user)))
        panels.append(_volume_chart(*volume_table(rows, user)))
    panels.append(_time_chart(_data.seconds_histogram(rows, user)))
    # Checked (columns) whenever given; drawn only when the annotator has rows of their own.
    if telemetry is not None and user in habits_table(telemetry)["user"].to_list():
        panels.append(time_on_task(telemetry, user))
        panels.append(input_and_edits(telemetry, user))
    rows_of_two = [panels[i : i + 2] for i in range(0, len(panels), 2)]
    return alt.vconcat(*(alt.hconcat(*pair) for pair in rows_of_two), title=f"Annotator {user}")
