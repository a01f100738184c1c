"""A project's agreement and per-annotator quality as polars frames, from its annotation rows.

These take the frames ``Project.annotations()`` and ``Project.tasks()`` return (payloads as JSON
text) and run the metrics of ``annolab.quality`` on them; they back ``project.agreement()`` and
``project.quality_report()``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl

import annolab.kinds
from annolab.errors import QualityError
from annolab.quality._frames import to_polars
from annolab.quality._result import AgreementResult
from annolab.quality.boxes import box_agreement
from annolab.quality.categorical import cohen_kappa, fleiss_kappa, percent_agreement
from annolab.quality.krippendorff import krippendorff_alpha
from annolab.quality.profiles import annotator_profiles
from annolab.quality.ranking import pairwise_agreement, ranking_agreement, rubric_agreement
from annolab.quality.spans import span_agreement

__all__ = ["agreement_frame", "quality_report"]

# Statuses that stand for an annotator's answer; drafts, superseded and rejected ones do not.
COUNTED_STATUSES = ("submitted", "approved")
ANNOTATOR_KINDS = ("human", "persona")

AGREEMENT_SCHEMA: dict[str, Any] = {
    "metric": pl.String,
    "match": pl.String,
    "label": pl.String,
    "value": pl.Float64,
    "n_items": pl.Int64,
    "n_annotators": pl.Int64,
    "reason": pl.String,
}

REPORT_COLUMNS = (
    "annotator",
    "kind",
    "annotations",
    "items",
    "peer_items",
    "agreement",
    "gold_items",
    "gold_accuracy",
    "seconds_per_task",
    "tasks_per_hour",
)


def counted(annotations: object, kinds: str | Sequence[str] | None) -> pl.DataFrame:
    """The latest counted annotation of each (task, user) of the given kinds, with columns
    ``item``, ``annotator``, ``kind``, ``value`` (the payload) and ``time_spent``."""
    df = to_polars(annotations, "annotations")
    item = "task_id" if "task_id" in df.columns else "external_id"
    missing = [c for c in (item, "user", "payload") if c not in df.columns]
    if missing:
        have = ", ".join(repr(c) for c in df.columns) or "none"
        msg = (
            f"the annotations frame lacks {', '.join(repr(m) for m in missing)}; its columns are "
            f"{have}. Pass project.annotations()"
        )
        raise QualityError(msg)
    lazy = df.lazy().with_columns(
        (pl.col("kind") if "kind" in df.columns else pl.lit("human")).alias("kind")
    )
    if "status" in df.columns:
        lazy = lazy.filter(pl.col("status").is_in(COUNTED_STATUSES))
    if kinds is not None:
        wanted = [kinds] if isinstance(kinds, str) else list(kinds)
        lazy = lazy.filter(pl.col("kind").is_in(wanted))
    order = [c for c in ("updated_at", "created_at", "version") if c in df.columns]
    if order:
        lazy = lazy.sort(order)
    time = pl.col("time_spent") if "time_spent" in df.columns else pl.lit(None, pl.Float64)
    return (
        lazy.select(
            pl.col(item).alias("item"),
            pl.col("user").alias("annotator"),
            "kind",
            pl.col("payload").alias("value"),
            time.cast(pl.Float64).alias("time_spent"),
        )
        .unique(["item", "annotator"], keep="last", maintain_order=True)
        .collect()
    )


def _payload_kind(values: pl.Series) -> str | None:
    first = values.drop_nulls().head(1).to_list()
    if not first:
        return None
    payload = json.loads(first[0]) if isinstance(first[0], str) else first[0]
    kind = payload.get("kind") if isinstance(payload, dict) else None
    return str(kind) if kind is not None else None


def agreement_frame(
    annotations: object,
    *,
    kind: str | Sequence[str] = "human",
    tasks: object | None = None,
) -> pl.DataFrame:
    """Agreement between the annotators of ``kind``, overall and per label, one row per figure.

    Columns ``metric``, ``match``, ``label`` (null: all labels), ``value``, ``n_items``,
    ``n_annotators``, ``reason`` (why a value is NaN). The latest submitted or approved
    annotation of each (task, annotator) counts.

    - spans: ``span_f1`` rows from ``span_agreement`` (match ``exact``, ``overlap``, ``token``;
      token F1 splits the task text on whitespace when ``tasks`` is given, else counts
      characters);
    - one choice: ``percent_agreement``, ``cohen_kappa`` (two annotators only), ``fleiss_kappa``
      and ``krippendorff_alpha`` (nominal) overall, and per label Krippendorff's alpha of
      "this label or not";
    - several choices: per label Krippendorff's alpha of "this label or not";
    - ratings: ``krippendorff_alpha`` (ordinal) and ``percent_agreement``;
    - boxes: ``box_f1`` rows from ``box_agreement`` (boxes of a label matched at IoU >= 0.5),
      overall and per label;
    - rankings: ``kendall_tau`` (mean tau-b of pairs of annotators), ``krippendorff_alpha``
      (ordinal, over the rank of each output of each item), ``percent_agreement`` of whole
      orders, and per output id ranked on two or more items its ordinal alpha
      (``ranking_agreement``);
    - pairwise preferences: ``percent_agreement`` and ``krippendorff_alpha`` (nominal) of the
      verdict, and per criterion the nominal alpha of its verdict (``pairwise_agreement``);
    - rubrics: per criterion ``krippendorff_alpha`` (ordinal) of its scores
      (``rubric_agreement``);
    - any other registered kind (text, a kind added later): its answers compared whole,
      ``percent_agreement`` and ``krippendorff_alpha`` (nominal).

    >>> agreement_frame(proj.annotations(), tasks=proj.tasks())  # doctest: +SKIP
    """
    rows = counted(annotations, kind)
    n_annotators = rows["annotator"].n_unique()
    found = _payload_kind(rows["value"])
    if found is None:
        return pl.DataFrame(schema=AGREEMENT_SCHEMA)
    measured = _MEASURED.get(found)
    if measured is not None:
        return measured(rows, tasks, n_annotators)
    if annolab.kinds.find(found) is not None:
        return _whole_rows(rows, found)
    msg = (
        f"agreement_frame measures registered payload kinds ({', '.join(annolab.kinds.names())}), "
        f"not {found!r}"
    )
    raise QualityError(msg)


def _field(rows: pl.DataFrame, key: str, dtype: pl.DataType) -> pl.DataFrame:
    """The payloads' ``key`` as the value column."""
    decoded = pl.col("value").str.json_decode(pl.Struct({key: dtype}))
    return rows.with_columns(decoded.struct.field(key).alias("value"))


def _rating_rows(rows: pl.DataFrame, tasks: object | None, n_annotators: int) -> pl.DataFrame:
    values = _field(rows, "value", pl.Int64())
    figures = [
        _row("krippendorff_alpha", None, krippendorff_alpha(values, level="ordinal")),
        _row("percent_agreement", None, percent_agreement(values)),
    ]
    return pl.DataFrame(figures, schema=AGREEMENT_SCHEMA, orient="row")


def _box_rows(rows: pl.DataFrame, tasks: object | None, n_annotators: int) -> pl.DataFrame:
    boxes = _field(
        rows,
        "boxes",
        pl.List(pl.Struct(dict.fromkeys(_BOX, pl.Float64()) | {"label": pl.String()})),
    )
    table = box_agreement(boxes)
    items = rows.group_by("item").len().filter(pl.col("len") >= 2).height
    return table.select(
        pl.lit("box_f1").alias("metric"),
        pl.lit("iou").alias("match"),
        "label",
        pl.col("f1").alias("value"),
        pl.lit(items, pl.Int64).alias("n_items"),
        pl.lit(n_annotators, pl.Int64).alias("n_annotators"),
        "reason",
    )


def _whole_rows(rows: pl.DataFrame, name: str) -> pl.DataFrame:
    """Any other kind, compared as whole answers (its agreement units, scores aside): nominal
    Krippendorff's alpha and percent agreement."""
    units = annolab.kinds.get(name).units
    values = rows.with_columns(
        pl.col("value")
        .map_elements(lambda v: repr(sorted(units(json.loads(v)))), return_dtype=pl.String)
        .alias("value")
    )
    figures = [
        _row("percent_agreement", None, percent_agreement(values)),
        _row("krippendorff_alpha", None, krippendorff_alpha(values)),
    ]
    return pl.DataFrame(figures, schema=AGREEMENT_SCHEMA, orient="row")


def _row(
    metric: str, label: str | None, result: AgreementResult, match: str | None = None
) -> dict[str, Any]:
    return {
        "metric": metric,
        "match": match,
        "label": label,
        "value": result.value,
        "n_items": result.n_items,
        "n_annotators": result.n_annotators,
        "reason": result.reason,
    }


def _guarded(
    metric: str, label: str | None, compute: Callable[[], AgreementResult], n_annotators: int
) -> dict[str, Any]:
    """A metric's row, or NaN with the metric's own refusal as the reason (fleiss on uneven
    items, cohen on three annotators)."""
    try:
        return _row(metric, label, compute())
    except QualityError as exc:
        refused = AgreementResult(float("nan"), 0, n_annotators, reason=str(exc))
        return _row(metric, label, refused)


def _span_rows(rows: pl.DataFrame, tasks: object | None, n_annotators: int) -> pl.DataFrame:
    frame = rows
    tokens = "chars"
    if tasks is not None:
        texts = to_polars(tasks, "tasks").select(pl.col("task_id").alias("item"), "text")
        frame = rows.join(texts, on="item", how="left")
        tokens = "whitespace"
    table = span_agreement(frame, tokens=tokens)
    items = rows.group_by("item").len().filter(pl.col("len") >= 2).height if rows.height else 0
    return table.select(
        pl.lit("span_f1").alias("metric"),
        "match",
        "label",
        pl.col("f1").alias("value"),
        pl.lit(items, pl.Int64).alias("n_items"),
        pl.lit(n_annotators, pl.Int64).alias("n_annotators"),
        "reason",
    )


def _choice_rows(values: pl.DataFrame, n_annotators: int) -> pl.DataFrame:
    figures = [
        _row("percent_agreement", None, percent_agreement(values)),
        _guarded("cohen_kappa", None, lambda: cohen_kappa(values), n_annotators),
        _guarded("fleiss_kappa", None, lambda: fleiss_kappa(values), n_annotators),
        _row("krippendorff_alpha", None, krippendorff_alpha(values)),
    ]
    for label in sorted(values["value"].drop_nulls().unique().to_list()):
        binary = values.with_columns((pl.col("value") == label).alias("value"))
        figures.append(_row("krippendorff_alpha", label, krippendorff_alpha(binary)))
    return pl.DataFrame(figures, schema=AGREEMENT_SCHEMA, orient="row")


def _choice_kind_rows(rows: pl.DataFrame, tasks: object | None, n_annotators: int) -> pl.DataFrame:
    return _choice_rows(_field(rows, "label", pl.String()), n_annotators)


def _choices_kind_rows(rows: pl.DataFrame, tasks: object | None, n_annotators: int) -> pl.DataFrame:
    return _choices_rows(_field(rows, "labels", pl.List(pl.String())))


def _choices_rows(decoded: pl.DataFrame) -> pl.DataFrame:
    labels = sorted(decoded["value"].explode().drop_nulls().unique().to_list())
    figures = []
    for label in labels:
        binary = decoded.with_columns(pl.col("value").list.contains(label).alias("value"))
        figures.append(_row("krippendorff_alpha", label, krippendorff_alpha(binary)))
    return pl.DataFrame(figures, schema=AGREEMENT_SCHEMA, orient="row")


def _judged_rows(
    figures: Callable[..., pl.DataFrame],
) -> Callable[[pl.DataFrame, object | None, int], pl.DataFrame]:
    """The rows of a kind measured by ``annolab.quality.ranking`` (which reads the payloads
    itself), in AGREEMENT_SCHEMA."""

    def rows_of(rows: pl.DataFrame, tasks: object | None, n_annotators: int) -> pl.DataFrame:
        table = figures(rows.select("item", "annotator", "value"))
        # FIGURES_SCHEMA's columns and types, with AGREEMENT_SCHEMA's match (none: whole answers).
        return table.with_columns(pl.lit(None, pl.String).alias("match")).select(
            list(AGREEMENT_SCHEMA)
        )

    return rows_of


# The figures each kind is measured by; other registered kinds are compared as whole answers.
_MEASURED: dict[str, Callable[[pl.DataFrame, object | None, int], pl.DataFrame]] = {
    "spans": _span_rows,
    "choice": _choice_kind_rows,
    "choices": _choices_kind_rows,
    "rating": _rating_rows,
    "boxes": _box_rows,
    "ranking": _judged_rows(ranking_agreement),
    "pairwise": _judged_rows(pairwise_agreement),
    "rubric": _judged_rows(rubric_agreement),
}
_BOX = ("x", "y", "width", "height")


def quality_report(
    annotations: object, *, gold: object | None = None, kinds: Sequence[str] = ANNOTATOR_KINDS
) -> pl.DataFrame:
    """One row per annotator: volume, agreement with peers, accuracy on gold, speed.

    Columns: ``annotator``, ``kind``, ``annotations``, ``items``, ``peer_items`` (items someone
    else annotated too), ``agreement`` (mean credit against each peer's annotation of the same
    item: overlap F1 for spans, 1 or 0 for categories; see ``annotator_profiles``),
    ``gold_items`` and ``gold_accuracy`` (mean credit against gold), ``seconds_per_task``
    (median ``time_spent``) and ``tasks_per_hour`` (annotations per hour spent). Sorted worst
    agreement first.

    Gold answers are the annotations of kind ``gold`` in ``annotations`` unless ``gold`` is
    given (a frame with ``task_id`` and ``payload``, one row per task). Without any, the gold
    columns are null.

    >>> quality_report(proj.annotations())  # doctest: +SKIP
    """
    rows = counted(annotations, list(kinds))
    if gold is None:
        gold_rows = counted(annotations, "gold").unique("item", keep="last")
    else:
        gold_rows = counted(gold, None).unique("item", keep="last")
    kinds_of = rows.group_by("annotator").agg(pl.col("kind").first())
    if rows.height == 0:
        return pl.DataFrame(
            schema={
                "annotator": pl.String,
                "kind": pl.String,
                **{c: pl.Int64 for c in REPORT_COLUMNS[2:5]},
                "agreement": pl.Float64,
                "gold_items": pl.Int64,
                **{c: pl.Float64 for c in REPORT_COLUMNS[7:]},
            }
        )
    reference = gold_rows.select("item", "value") if gold_rows.height else None
    profiles = annotator_profiles(rows.drop("kind"), gold=reference)
    report = profiles.join(kinds_of, on="annotator").select(
        "annotator",
        "kind",
        "annotations",
        "items",
        "peer_items",
        pl.col("peer_agreement").alias("agreement"),
        "gold_items",
        pl.when(pl.col("gold_items") > 0)
        .then(pl.col("gold_score"))
        .otherwise(None)
        .alias("gold_accuracy"),
        "seconds_per_task",
        "tasks_per_hour",
    )
    return report.sort("agreement", "annotator", nulls_last=True)
