"""Aggregation behind the dashboards: from annotation rows to the few rows a chart draws.

Everything here is polars, so a million annotations reduce to a few thousand rows in well
under a second; no chart is ever handed raw annotations.

Agreement is pairwise exact-match F1 pooled over pairs of annotators of one item (the ``exact``
rows of ``annolab.quality.span_agreement``). A span is the unit ``(item, start, end, label)``; a
choice is ``(item, label)`` with no offsets, where the same formula is pairwise percent
agreement (and, per label, specific agreement). For one annotation of item ``i`` by ``u`` with
``S_iu`` units, ``m_i`` annotators on the item, ``S_i`` units on it from everyone and ``c`` the
number of annotators who gave each of its units:

    matched = sum over its units of (c - 1)
    compared = S_iu (m_i - 1) + (S_i - S_iu)

and the agreement of any set of annotations is 2 sum(matched) / sum(compared): each pair of
annotators of an item counts its shared units twice and each side's units once per peer. Over
all annotations this is exactly span_agreement's pooled F1.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl

import annolab.kinds
from annolab.errors import QualityError
from annolab.kinds._common import no_label_units

NONE_LABEL = "(none)"
# Statuses that stand for an annotator's answer (drafts, superseded and rejected ones do not).
COUNTED_STATUSES = ("submitted", "approved")
# Kinds that are people (or stand in for them); gold, consensus and model rows are references.
ANNOTATOR_KINDS = ("human", "persona")

_KIND = r'"kind":\s*"([a-z]+)"'

# The time axis: the finest step that keeps a chart to at most this many points per series.
_MAX_BUCKETS = 400
_STEPS = (("1h", "hour", 3_600), ("1d", "day", 86_400), ("1w", "week", 604_800))


def annotation_rows(
    annotations: object, *, kinds: tuple[str, ...] | None = ANNOTATOR_KINDS
) -> pl.DataFrame:
    """One row per counted annotation: the latest of each (item, user), of the given kinds.

    Columns: ``row`` (an id), ``item``, ``user``, ``kind``, ``at`` (created_at, when given),
    ``time_spent``, ``step`` and ``payload``. ``kinds=None`` keeps every kind.
    """
    df = _to_frame(annotations)
    missing = [c for c in ("user", "payload") if c not in df.columns]
    item = "task_id" if "task_id" in df.columns else "external_id"
    if item not in df.columns:
        missing.append("task_id")
    if missing:
        have = ", ".join(repr(c) for c in df.columns) or "none"
        msg = (
            f"the annotations frame lacks {', '.join(repr(m) for m in missing)}; its columns are "
            f"{have}. Pass project.annotations() (or a frame with task_id, user and payload)"
        )
        raise QualityError(msg)
    lazy = df.lazy()
    if "status" in df.columns:
        lazy = lazy.filter(pl.col("status").is_in(COUNTED_STATUSES))
    kind = pl.col("kind") if "kind" in df.columns else pl.lit("human")
    lazy = lazy.with_columns(kind.alias("kind"))
    if kinds is not None:
        lazy = lazy.filter(pl.col("kind").is_in(kinds))
    columns = [
        pl.col(item).alias("item"),
        pl.col("user"),
        pl.col("kind"),
        _optional(df, "created_at", pl.Datetime("us", "UTC")).alias("at"),
        _optional(df, "time_spent", pl.Float64).cast(pl.Float64).alias("time_spent"),
        _optional(df, "step", pl.String).fill_null("(none)").alias("step"),
        pl.col("payload"),
    ]
    order = [c for c in ("updated_at", "created_at", "version") if c in df.columns]
    latest = (
        lazy.with_row_index("_i")
        .group_by(item, "user")
        .agg(pl.col("_i").sort_by(order).last() if order else pl.col("_i").last())
        .select("_i")
    )
    picked = lazy.with_row_index("_i").join(latest, on="_i", how="semi")
    # Revisions are rare: when no (item, user) repeats, sorting a million payloads is waste.
    repeats = lazy.select(pl.len() - pl.struct(item, "user").n_unique()).collect().item()
    chosen = picked if repeats else lazy
    return chosen.select(columns).with_row_index("row").collect()


def _to_frame(frame: object) -> pl.DataFrame:
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    msg = f"expected a polars DataFrame of annotations, got a {type(frame).__name__}"
    raise QualityError(msg)


def _optional(df: pl.DataFrame, column: str, dtype: Any) -> pl.Expr:
    if column in df.columns:
        if column == "created_at" and df.schema[column] == pl.Datetime("us"):
            return pl.col(column).dt.replace_time_zone("UTC")
        return pl.col(column)
    return pl.lit(None, dtype=dtype)


def units(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per unit an annotation gives: ``row, item, user, start, end, label``.

    Spans give (start, end, label), a choice its label, choices each of their labels (start and
    end null). Boxes and other payloads give none. Each kind's ``label_units`` facet reads them:
    JSON in annolab's canonical form (Postgres ``jsonb::text`` or ``json.dumps``) with regular
    expressions, several times faster than a JSON parser on a million rows; anything else with
    the parser.
    """
    payload = pl.col("payload")
    payloads = rows.select(
        "row",
        # annolab's JSON puts "kind" first; the slice keeps the scan short.
        payload.str.slice(0, 24).str.extract(_KIND).alias("kind"),
        "payload",
    )
    if payloads["kind"].null_count():
        payloads = payloads.with_columns(pl.col("kind").fill_null(payload.str.extract(_KIND)))
    # Each kind reads its own labels (annolab.kinds); kinds it does not know give none.
    parts = []
    for (name,), some in payloads.partition_by("kind", as_dict=True).items():
        kind = annolab.kinds.find(name)
        if kind is not None:
            parts.append(kind.label_units(some.lazy().select("row", "payload")))
    if not parts:
        parts.append(no_label_units(payloads.lazy().select("row", "payload")))
    found = pl.concat(parts).collect()
    # ``row`` is the position in ``rows``, so a gather finds each unit's item and user.
    # Labels as categories: grouping on them is half the cost of grouping on strings.
    return found.select(
        "row",
        rows["item"].gather(found["row"]).alias("item"),
        rows["user"].gather(found["row"]).alias("user"),
        "start",
        "end",
        pl.col("label").cast(pl.Categorical),
    )


def annotation_scores(rows: pl.DataFrame, found: pl.DataFrame, *, by_label: bool) -> pl.DataFrame:
    """Per annotation (and label): ``matched`` and ``compared`` with its peers (module docstring).

    Columns ``row`` (, ``label``), ``matched``, ``compared``, ``peers`` (m_i - 1). Annotations
    with no peer drop out; with ``by_label`` an annotation gets a row for each label on its item.
    """
    peers = rows.lazy().group_by("item").agg((pl.len() - 1).alias("peers"))
    entries = found.lazy().with_columns(
        (pl.len().over("item", "start", "end", "label") - 1).alias("same")
    )
    group = ["row", "label"] if by_label else ["row"]
    item_group = ["item", "label"] if by_label else ["item"]
    own = entries.group_by(group).agg(pl.col("same").sum().alias("matched"), pl.len().alias("own"))
    on_item = entries.group_by(item_group).agg(pl.len().alias("on_item"))
    base = rows.lazy().select("row", "item").join(peers, on="item").filter(pl.col("peers") > 0)
    # Per label, an annotation is compared on each label its item has; overall, on the item.
    base = base.join(on_item, on="item", how="inner" if by_label else "left")
    return (
        base.join(own, on=group, how="left")
        .with_columns(
            pl.col("matched").fill_null(0),
            pl.col("own").fill_null(0),
            pl.col("on_item").fill_null(0),
        )
        .select(
            *group,
            "matched",
            (pl.col("own") * pl.col("peers") + pl.col("on_item") - pl.col("own")).alias("compared"),
            "peers",
        )
        .collect()
    )


def agreement(scores: pl.DataFrame, by: list[str]) -> pl.DataFrame:
    """Pooled agreement of groups of annotations: ``by`` columns, ``agreement``, ``units``."""
    return (
        scores.group_by(by)
        .agg(
            pl.col("matched").sum().alias("_m"),
            pl.col("compared").sum().alias("units"),
            pl.len().alias("annotations"),
        )
        .filter(pl.col("units") > 0)
        .with_columns((2 * pl.col("_m") / pl.col("units")).alias("agreement"), *_plain(by))
        .drop("_m")
        .sort(by)
    )


def _plain(columns: list[str]) -> list[pl.Expr]:
    """Label columns back to text for the chart (units() makes them categories)."""
    return [pl.col(c).cast(pl.String) for c in columns if c in ("label", "label_a", "label_b")]


def label_agreement(rows: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    """Agreement per label, worst first: ``label``, ``agreement``, ``units``, ``annotations``."""
    scores = annotation_scores(rows, found, by_label=True)
    return agreement(scores, ["label"]).sort("agreement", "label")


def time_step(at: pl.Series) -> tuple[str, str]:
    """The polars interval and its name for bucketing ``at``: hours, days or weeks."""
    low, high = at.min(), at.max()
    if not isinstance(low, dt.datetime) or not isinstance(high, dt.datetime):
        return _STEPS[1][0], _STEPS[1][1]
    seconds = (high - low).total_seconds()
    for every, name, size in _STEPS:
        if seconds / size <= _MAX_BUCKETS:
            return every, name
    return _STEPS[-1][0], _STEPS[-1][1]


def require_times(rows: pl.DataFrame, panel: str) -> None:
    if rows["at"].null_count() == rows.height and rows.height:
        msg = f"{panel} needs the annotations' created_at column, which is missing or empty"
        raise QualityError(msg)


def over_time(rows: pl.DataFrame, scores: pl.DataFrame, every: str) -> pl.DataFrame:
    """Team agreement per time bucket of the annotations: ``period``, ``agreement``, ``units``."""
    timed = scores.join(rows.select("row", "at"), on="row").with_columns(
        pl.col("at").dt.truncate(every).alias("period")
    )
    return agreement(timed.drop_nulls("period"), ["period"])


def label_confusion(rows: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    """Pairs of annotators of one item by what each gave at the same place (offsets or choice).

    ``label_a``, ``label_b``, ``pairs``: both orders are listed, so the table is symmetric;
    ``(none)`` stands for an annotator of the item who gave nothing there. A diagonal cell counts
    agreeing pairs, an off-diagonal cell pairs where one gave ``label_a`` and the other
    ``label_b``.
    """
    place = ["item", "start", "end"]
    annotators = rows.lazy().group_by("item").agg(pl.len().alias("m"))
    counts = (
        found.lazy()
        .group_by([*place, "label"])
        .agg(pl.len().alias("n"))
        .with_columns(
            pl.col("label").cast(pl.String),
            pl.col("n").sum().over(place).alias("total"),
            pl.len().over(place).alias("labels"),
        )
    )
    agreeing = counts.select(
        pl.col("label").alias("label_a"),
        pl.col("label").alias("label_b"),
        (pl.col("n") * (pl.col("n") - 1) // 2).alias("pairs"),
    )
    # Only places given two labels or more can hold a pair of different labels.
    mixed = counts.filter(pl.col("labels") > 1).select(*place, "label", "n")
    differing = (
        mixed.join(mixed, on=place, nulls_equal=True, suffix="_b")
        .filter(pl.col("label") != pl.col("label_b"))
        .select(
            pl.col("label").alias("label_a"),
            "label_b",
            (pl.col("n") * pl.col("n_b")).alias("pairs"),
        )
    )
    missing = counts.join(annotators, on="item").select(
        pl.col("label").alias("label_a"),
        pl.lit(NONE_LABEL).alias("label_b"),
        (pl.col("n") * (pl.col("m") - pl.col("total"))).alias("pairs"),
    )
    mirrored = missing.select(
        pl.col("label_b").alias("label_a"), pl.col("label_a").alias("label_b"), "pairs"
    )
    return (
        pl.concat([agreeing, differing, missing, mirrored])
        .group_by("label_a", "label_b")
        .agg(pl.col("pairs").sum())
        .filter(pl.col("pairs") > 0)
        .sort("label_a", "label_b")
        .collect()
    )


def cross_agreement(
    rows: pl.DataFrame, found: pl.DataFrame, *, group: str, against: str
) -> pl.DataFrame:
    """Agreement per (user of kind ``group``, label) with the annotators of kind ``against``.

    Pairs are (one ``group`` user, one ``against`` user) on an item; pooled F1 as above.
    Columns ``user``, ``label``, ``agreement``, ``units``, ``annotations``.
    """
    kinds = rows.lazy().select("row", "kind")
    entries = found.lazy().join(kinds, on="row")
    others = rows.lazy().filter(pl.col("kind") == against).group_by("item").agg(pl.len().alias("m"))
    theirs = (
        entries.filter(pl.col("kind") == against)
        .group_by("item", "start", "end", "label")
        .agg(pl.len().alias("c"))
    )
    on_item = (
        entries.filter(pl.col("kind") == against).group_by("item", "label").agg(pl.len().alias("s"))
    )
    mine = rows.lazy().filter(pl.col("kind") == group).select("row", "item", "user")
    own = (
        entries.filter(pl.col("kind") == group)
        .join(theirs, on=["item", "start", "end", "label"], how="left", nulls_equal=True)
        .group_by("row", "label")
        .agg(pl.col("c").fill_null(0).sum().alias("matched"), pl.len().alias("own"))
    )
    labels = pl.concat(
        [own.select("row", "label"), mine.join(on_item, on="item").select("row", "label")]
    ).unique()
    return (
        mine.join(others, on="item")
        .join(labels, on="row")
        .join(own, on=["row", "label"], how="left")
        .join(on_item, on=["item", "label"], how="left")
        .with_columns(pl.col("matched", "own", "s").fill_null(0))
        .with_columns(
            (pl.col("own") * pl.col("m") + pl.col("s")).alias("compared"),
        )
        .group_by("user", "label")
        .agg(
            pl.col("matched").sum().alias("_m"),
            pl.col("compared").sum().alias("units"),
            pl.col("row").n_unique().alias("annotations"),
        )
        .filter(pl.col("units") > 0)
        .with_columns((2 * pl.col("_m") / pl.col("units")).alias("agreement"), *_plain(["label"]))
        .drop("_m")
        .sort("user", "label")
        .collect()
    )


def seconds_histogram(rows: pl.DataFrame, user: str, bins: int = 30) -> pl.DataFrame:
    """Share of the user's and of the team's annotations per bin of seconds spent.

    Bins are equal widths up to the team's 99th percentile; longer times go in the last bin.
    Columns ``who`` ("this annotator" or "team"), ``start``, ``end``, ``share``.
    """
    timed = rows.filter(pl.col("time_spent").is_not_null() & pl.col("time_spent").is_not_nan())
    top = timed["time_spent"].quantile(0.99) if timed.height else None
    if not top:
        return pl.DataFrame(
            schema={"who": pl.String, "start": pl.Float64, "end": pl.Float64, "share": pl.Float64}
        )
    width = float(top) / bins
    binned = timed.select(
        pl.col("user"),
        (pl.col("time_spent") / width).floor().clip(0, bins - 1).cast(pl.Int64).alias("bin"),
    )
    both = pl.concat(
        [
            binned.filter(pl.col("user") == user).with_columns(
                pl.lit("this annotator").alias("who")
            ),
            binned.with_columns(pl.lit("team").alias("who")),
        ]
    )
    return (
        both.group_by("who", "bin")
        .agg(pl.len().alias("n"))
        .with_columns((pl.col("n") / pl.col("n").sum().over("who")).alias("share"))
        .select(
            "who",
            (pl.col("bin") * width).alias("start"),
            ((pl.col("bin") + 1) * width).alias("end"),
            "share",
        )
        .sort("who", "start")
    )
