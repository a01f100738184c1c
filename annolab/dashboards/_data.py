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
import re
from dataclasses import dataclass
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
_SHORT_NAME = re.compile(r"[a-z]{1,13}").fullmatch

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
    # Counting hashes is half the cost of counting pairs; two pairs of one hash only look like a
    # repeat, which takes the exact path.
    repeats = lazy.select(pl.len() - pl.struct(item, "user").hash().n_unique()).collect().item()
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


def units(rows: pl.DataFrame, *, users: bool = True) -> pl.DataFrame:
    """One row per unit an annotation gives: ``row, item, user, start, end, label``.

    Spans give (start, end, label), a choice its label, choices each of their labels (start and
    end null). Boxes and other payloads give none. Each kind's ``label_units`` facet reads them:
    JSON in annolab's canonical form (Postgres ``jsonb::text`` or ``json.dumps``) with regular
    expressions, several times faster than a JSON parser on a million rows; anything else with
    the parser. ``users=False`` leaves out the ``user`` column.
    """
    found = payload_units(rows)
    # ``row`` is the position in ``rows``, so a gather finds each unit's item and user.
    # Labels as categories: grouping on them is half the cost of grouping on strings.
    return found.select(
        "row",
        rows["item"].gather(found["row"]).alias("item"),
        *([rows["user"].gather(found["row"]).alias("user")] if users else []),
        "start",
        "end",
        pl.col("label").cast(pl.Categorical),
    )


def payload_units(rows: pl.DataFrame) -> pl.DataFrame:
    """``row, start, end, label`` of each unit the payloads of ``rows`` give (labels as text)."""
    payloads = _payload_kinds(rows)
    # Each kind reads its own labels (annolab.kinds); kinds it does not know give none.
    parts = []
    for (name,), some in payloads.partition_by("kind", as_dict=True).items():
        kind = annolab.kinds.find(name)
        if kind is not None:
            parts.append(kind.label_units(some.lazy().select("row", "payload")))
    if not parts:
        parts.append(no_label_units(payloads.lazy().select("row", "payload")))
    return pl.concat(parts).collect()


def _payload_kinds(rows: pl.DataFrame) -> pl.DataFrame:
    """``row``, ``kind`` (the payload's, or null) and ``payload`` of each row."""
    payload = pl.col("payload")
    # annolab's JSON puts "kind" first: a payload that starts with a kind's name is of that kind,
    # and a test of its first bytes costs a tenth of a regular expression per row.
    prefixed = [
        pl.when(payload.str.starts_with(f'{{"kind": "{name}"')).then(pl.lit(name))
        for name in _labelled_kinds()
    ]
    payloads = rows.select(
        "row", pl.coalesce([*prefixed, pl.lit(None, pl.String)]).alias("kind"), "payload"
    )
    rest = payloads["kind"].is_null()
    if not rest.any():
        return payloads
    # The others (other kinds, other key orders) as the regular expression reads them; the
    # slice keeps the scan short where "kind" comes first.
    others = payloads.filter(rest).select(
        payload.str.slice(0, 24).str.extract(_KIND).alias("kind"), payload
    )
    if others["kind"].null_count():
        others = others.with_columns(pl.col("kind").fill_null(payload.str.extract(_KIND)))
    kinds = payloads["kind"].scatter(rest.arg_true(), others["kind"])
    return payloads.with_columns(kinds)


def _labelled_kinds() -> list[str]:
    """The kinds whose payloads give units and whose name ``_KIND`` reads in 24 characters."""
    found = []
    for name in annolab.kinds.names():
        kind = annolab.kinds.find(name)
        # '{"kind": "' and the closing quote leave 13 of the 24 characters for the name.
        if kind is not None and kind.label_units is not no_label_units and _SHORT_NAME(name):
            found.append(name)
    return found


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


def label_agreement(rows: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    """Agreement per label, worst first: ``label``, ``agreement``, ``units``, ``annotations``."""
    return _label_agreement(sorted_units(rows, found)).collect()


def label_confusion(rows: pl.DataFrame, found: pl.DataFrame) -> pl.DataFrame:
    """Pairs of annotators of one item by what each gave at the same place (offsets or choice).

    ``label_a``, ``label_b``, ``pairs``: both orders are listed, so the table is symmetric;
    ``(none)`` stands for an annotator of the item who gave nothing there. A diagonal cell counts
    agreeing pairs, an off-diagonal cell pairs where one gave ``label_a`` and the other
    ``label_b``.
    """
    return _label_confusion(sorted_units(rows, found)).collect()


@dataclass(frozen=True)
class AgreementPlans:
    """The agreement the project dashboard draws, to collect with its other tables: per label,
    per period (None without a time step) and between labels."""

    per_label: pl.LazyFrame
    over_time: pl.LazyFrame | None
    confusion: pl.LazyFrame


def agreement_plans(rows: pl.DataFrame, found: pl.DataFrame, every: str | None) -> AgreementPlans:
    """From ``found = units(rows)``: what ``label_agreement``, ``over_time`` (per ``every``) of
    the per-label scores summed per annotation and ``label_confusion`` give, counting the units
    once for all three."""
    counted = sorted_units(rows, found)
    return AgreementPlans(
        _label_agreement(counted),
        None if every is None else _label_scores_over_time(rows, counted, every),
        _label_confusion(counted),
    )


@dataclass(frozen=True)
class SortedUnits:
    """Units with what agreement needs, sorted so that equal units, places and items are runs.

    ``units``: ``row``, ``label``, ``m`` (the item's annotations; null for a null item, which the
    joins of ``annotation_scores`` drop), ``n`` (how many of the item's units are the same,
    itself included: c in the module docstring) and the runs' numbers ``item_run``, ``place``
    and ``unit``. ``keys``: one row of those per distinct unit. ``per_row``: ``m`` and
    ``on_item`` (all units on the item) of each of the rows, in their order.
    """

    units: pl.DataFrame
    keys: pl.DataFrame
    per_row: pl.DataFrame


def sorted_units(rows: pl.DataFrame, found: pl.DataFrame) -> SortedUnits:
    """``found`` (from ``units(rows)``) counted by sorting: on a million units, numbering runs of
    a sorted frame is several times cheaper than grouping by four columns with a hash table."""
    item = pl.col("item")
    per_row = (
        rows.lazy()
        .select("item", _units_per_row(found, rows.height).alias("own"))
        .select(
            pl.when(item.is_not_null()).then(pl.len().over("item")).alias("m"),
            pl.col("own").sum().over("item").alias("on_item"),
        )
        .collect()
    )
    order = _unit_order(found)
    units = found.select(
        "row", "label", per_row["m"].gather(found["row"]).alias("m"), *order.columns
    ).sort(order.unit)
    first = pl.int_range(pl.len()) == 0
    new_unit = _changed(order.unit, first)
    units = units.select(
        "row",
        "label",
        "m",
        _changed(order.item, first).cum_sum().alias("item_run"),
        _changed(order.place, first).cum_sum().alias("place"),
        new_unit.cum_sum().alias("unit"),
        new_unit.alias("first"),
    )
    # The numbers only grow: flagged sorted, polars counts each run without hashing.
    units = units.with_columns(pl.col("item_run", "place", "unit").set_sorted())
    units = units.with_columns(pl.len().over("unit").alias("n"))
    keys = units.filter("first").drop("row", "first")
    return SortedUnits(units.drop("first"), keys, per_row)


def _units_per_row(found: pl.DataFrame, height: int) -> pl.Series:
    """How many of ``found`` each of ``height`` rows gives."""
    runs = found["row"].sort().rle().struct.unnest()
    return pl.zeros(height, pl.UInt32, eager=True).scatter(runs["value"], runs["len"])


def _changed(columns: list[pl.Expr], first: pl.Expr) -> pl.Expr:
    """Whether a row is the first or differs from the row before in any of ``columns`` (a null
    equals a null)."""
    changed = first
    for column in columns:
        changed = changed | column.ne_missing(column.shift())
    return changed


@dataclass(frozen=True)
class _Order:
    """The columns to sort, what to sort them by so that equal units are adjacent, and what tells
    an item, a place and a unit from the one before once sorted."""

    columns: list[pl.Expr]
    unit: list[pl.Expr]
    place: list[pl.Expr]
    item: list[pl.Expr]


_PACKABLE = (pl.Int8, pl.Int16, pl.Int32, pl.Int64, pl.UInt8, pl.UInt16, pl.UInt32)


def _unit_order(units: pl.DataFrame) -> _Order:
    """How to sort ``units`` so that equal (item, start, end, label) are adjacent.

    Sorting by one integer costs half as much as sorting by four columns: when the item is an
    integer and the ranges fit, the four are packed into one 64-bit number (a null as 0), and
    its leading bits tell items and places apart.
    """
    item, start, end = pl.col("item"), pl.col("start"), pl.col("end")
    label = pl.col("label").to_physical()
    unpacked = _Order([item, start, end], [item, start, end, label], [item, start, end], [item])
    if units.schema["item"] not in _PACKABLE:
        return unpacked
    columns = [item, start, end, label]
    bounds = units.select(
        *(c.min().cast(pl.Int64).alias(f"low{i}") for i, c in enumerate(columns)),
        *(c.max().cast(pl.Int64).alias(f"high{i}") for i, c in enumerate(columns)),
    ).row(0)
    code: pl.Expr = pl.lit(0, pl.UInt64)
    widths = []
    for i, column in enumerate(columns):
        low, high = bounds[i], bounds[i + len(columns)]
        width = 0 if low is None else (high - low + 1).bit_length()
        widths.append(width)
        if sum(widths) > 64 or width > 62:
            return unpacked
        if width:
            code = code * (1 << width) + (column.cast(pl.Int64) - low + 1).fill_null(0).cast(
                pl.UInt64
            )
    key = pl.col("_key")
    return _Order(
        [code.alias("_key")],
        [key],
        [key // (1 << widths[3])],
        [key // (1 << sum(widths[1:]))],
    )


def _label_agreement(counted: SortedUnits) -> pl.LazyFrame:
    """``agreement(annotation_scores(by_label=True), ["label"])`` from the distinct units alone.

    Summed over an item's ``m`` annotations, a label's matched is sum(c - 1) over its units there
    and its compared ``on_item * (m - 1) + m * on_item - on_item`` (on_item its units on the item):
    scoring each annotation is not needed.
    """
    n, m = pl.col("n"), pl.col("m")
    # annotation_scores finds an annotation's own units on an item by label, and a null label
    # equals none: the annotation is compared on the item's unlabelled units but matches none.
    unlabelled = pl.col("label").is_null()
    zero = pl.lit(0, pl.UInt32)
    # An item's units of a label are not adjacent (a place's are): the item's run and the label
    # code make one number to find its first unit of each label by.
    code = (pl.col("label").to_physical().cast(pl.UInt64) + 1).fill_null(0)
    item_label = pl.col("item_run").cast(pl.UInt64) * (1 << 33) + code
    return (
        counted.keys.lazy()
        .filter(m > 1)
        .select(
            "label",
            pl.when(unlabelled).then(zero).otherwise(n * (n - 1)).alias("matched"),
            pl.when(unlabelled).then(n * m).otherwise(n * (m - 1) + m * n - n).alias("compared"),
            pl.when(item_label.is_first_distinct()).then(m).otherwise(zero).alias("annotations"),
        )
        .group_by("label")
        .agg(
            pl.col("matched").sum().alias("_m"),
            pl.col("compared").sum().alias("units"),
            pl.col("annotations").sum(),
        )
        .filter(pl.col("units") > 0)
        .with_columns((2 * pl.col("_m") / pl.col("units")).alias("agreement"), *_plain(["label"]))
        .drop("_m")
        .sort("agreement", "label")
    )


def _label_scores_over_time(rows: pl.DataFrame, counted: SortedUnits, every: str) -> pl.LazyFrame:
    """``over_time`` of ``annotation_scores(by_label=True)`` summed per annotation.

    Summed over the labels on its item, an annotation's matched is sum(c - 1) over its labelled
    units and its compared ``own * (m - 2) + on_item``, with ``own`` its labelled units (null
    labels as in ``_label_agreement``): a period's sums come from its units and annotations.
    """
    m = pl.col("m")
    period = rows["at"].dt.truncate(every)
    # Annotations without peers, or of an item without units, are not scored.
    scored = (
        counted.per_row.lazy()
        .with_columns(period.alias("period"))
        .filter((m > 1) & (pl.col("on_item") > 0))
        .drop_nulls("period")
        .group_by("period")
        .agg(pl.len().alias("annotations"), pl.col("on_item").sum())
    )
    own = (
        counted.units.lazy()
        .select(period.gather(counted.units["row"]).alias("period"), "label", "n", "m")
        .filter((m > 1) & pl.col("label").is_not_null())
        .drop_nulls("period")
        .group_by("period")
        .agg((pl.col("n") - 1).sum().alias("_m"), (m - 2).sum().alias("own"))
    )
    zero = pl.lit(0, pl.UInt32)
    return (
        scored.join(own, on="period", how="left")
        .select(
            "period",
            pl.col("_m").fill_null(zero),
            (pl.col("own").fill_null(zero) + pl.col("on_item")).alias("units"),
            "annotations",
        )
        .filter(pl.col("units") > 0)
        .with_columns((2 * pl.col("_m") / pl.col("units")).alias("agreement"))
        .drop("_m")
        .sort("period")
    )


def _label_confusion(counted: SortedUnits) -> pl.LazyFrame:
    """``label_confusion`` from the distinct units: pairs at a place, summed per pair of labels."""
    n = pl.col("n")
    # Who gave anything at a place: annotations, not units, since one may give a place two
    # labels (overlapping spans) and must then not count as two people.
    givers = counted.units.lazy().group_by("place").agg(pl.col("row").n_unique().alias("total"))
    keys = (
        counted.keys.lazy()
        .join(givers, on="place")
        .with_columns(pl.len().over("place").alias("labels"))
    )
    agreeing = keys.group_by("label").agg((n * (n - 1) // 2).sum().alias("pairs"))
    # Only places given two labels or more can hold a pair of different labels.
    mixed = keys.filter(pl.col("labels") > 1).select("place", "label", "n")
    differing = (
        mixed.join(mixed, on="place", suffix="_b")
        .filter(pl.col("label") != pl.col("label_b"))
        .group_by("label", "label_b")
        .agg((n * pl.col("n_b")).sum().alias("pairs"))
    )
    # Who gave nothing is counted per item, and a null item has no one counted (as a join on a
    # null key finds nothing).
    missing = (
        keys.filter(pl.col("m").is_not_null())
        .group_by("label")
        .agg((n * (pl.col("m") - pl.col("total"))).sum().alias("pairs"))
    )
    label = pl.col("label").cast(pl.String)
    none = pl.lit(NONE_LABEL)
    return (
        pl.concat(
            [
                agreeing.select(label.alias("label_a"), label.alias("label_b"), "pairs"),
                differing.select(
                    label.alias("label_a"), pl.col("label_b").cast(pl.String), "pairs"
                ),
                missing.select(label.alias("label_a"), none.alias("label_b"), "pairs"),
                missing.select(none.alias("label_a"), label.alias("label_b"), "pairs"),
            ]
        )
        .group_by("label_a", "label_b")
        .agg(pl.col("pairs").sum())
        .filter(pl.col("pairs") > 0)
        .sort("label_a", "label_b")
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
