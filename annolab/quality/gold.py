"""Accuracy of each annotator against gold (or any reference) answers, with partial credit."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import polars as pl

from annolab.errors import QualityError
from annolab.quality._frames import require_columns, require_no_nulls, to_polars
from annolab.quality._matching import check_iou, credit
from annolab.quality._payloads import KINDS, Kind, detect_kind, read_annotations, sorted_names

__all__ = ["gold_accuracy"]


def gold_accuracy(
    frame: object,
    gold: object,
    *,
    kind: str | None = None,
    iou: float = 0.5,
    item: str = "item",
    annotator: str = "annotator",
    value: str = "value",
    gold_value: str | None = None,
) -> pl.DataFrame:
    """Each annotator's accuracy on the items that have a gold answer, one row per annotator.

    ``gold`` is a frame with the ``item`` column and the answer in ``gold_value`` (``value``
    unless told), one row per item. Every annotation of a gold item is scored:

    - categories: 1 when equal to gold, else 0;
    - spans: partial credit, the F1 of overlap matches with the gold spans (same label, sharing a
      code point), exact when the two sets of spans are equal;
    - boxes: partial credit, F1 where each match (same label, IoU >= ``iou``) counts its IoU,
      exact when every box is matched.

    Empty annotations of an empty gold answer score 1. ``kind`` (``"category"``, ``"spans"``,
    ``"boxes"``) is read from the value column unless given. Columns: ``annotator``, ``items``
    (annotations scored), ``exact`` (how many were exactly right), ``accuracy`` (exact / items),
    ``score`` (mean credit; the same as accuracy for categories). NaN for an annotator with no
    gold item.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"item": [1, 2, 1, 2], "annotator": ["ann", "ann", "bob", "bob"],
    ...                       "value": ["cat", "dog", "cat", "cat"]})
    >>> gold = pl.DataFrame({"item": [1, 2], "value": ["cat", "dog"]})
    >>> gold_accuracy(frame, gold).rows()
    [('ann', 2, 2, 1.0, 1.0), ('bob', 2, 1, 0.5, 0.5)]
    """
    threshold = check_iou(iou)
    df = to_polars(frame)
    require_columns(df, {"item": item, "annotator": annotator, "value": value})
    require_no_nulls(df, {"item": item, "annotator": annotator})
    found = resolve_kind(kind, df[value], value)
    answers = read_reference(
        gold, item=item, value=gold_value or value, kind=found, argument="gold", frame=df
    )
    annotations = read_annotations(df, item=item, annotator=annotator, value=value, kind=found)
    scores: dict[Any, list[tuple[float, bool]]] = defaultdict(list)
    for it, who, parsed in annotations:
        scores[who]  # every annotator gets a row, even with no gold item
        if it in answers:
            scores[who].append(credit(found, parsed, answers[it], threshold))
    rows = []
    for who in sorted_names(scores):
        marks = scores[who]
        exact = sum(1 for _, right in marks if right)
        n = len(marks)
        nan = float("nan")
        mean = sum(score for score, _ in marks) / n if n else nan
        rows.append((who, n, exact, exact / n if n else nan, mean))
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "annotator": df.schema[annotator],
        "items": pl.Int64,
        "exact": pl.Int64,
        "accuracy": pl.Float64,
        "score": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


def resolve_kind(kind: str | None, values: pl.Series, column: str) -> Kind:
    if kind is None:
        return detect_kind(values, column)
    if kind in KINDS:
        return kind
    msg = f"kind={kind!r} is not a kind of annotation; use one of {', '.join(KINDS)}"
    raise QualityError(msg)


def read_reference(
    reference: object,
    *,
    item: str,
    value: str,
    kind: Kind,
    argument: str,
    frame: pl.DataFrame,
) -> dict[Any, Any]:
    """item -> answer from a gold or consensus frame: one answer per item, same item type."""
    ref = to_polars(reference, argument)
    require_columns(ref, {"item": item, "value": value}, argument)
    require_no_nulls(ref, {"item": item})
    if ref.schema[item] != frame.schema[item]:
        msg = (
            f"{argument}'s item column {item!r} holds {ref.schema[item]} but the frame's holds "
            f"{frame.schema[item]}; the same item must have the same id in both"
        )
        raise QualityError(msg)
    repeated = ref.filter(pl.col(item).is_duplicated())
    if repeated.height:
        msg = (
            f"{argument} has {repeated.height} rows for item {repeated[item][0]!r}; it needs "
            "one answer per item"
        )
        raise QualityError(msg)
    rows = read_annotations(ref, item=item, annotator=None, value=value, kind=kind)
    return {it: parsed for it, _, parsed in rows}
