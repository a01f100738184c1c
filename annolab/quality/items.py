"""Agreement item by item: where annotators (people or personas) part ways."""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Any

import polars as pl

from annolab.quality._frames import require_columns, require_no_nulls, to_polars
from annolab.quality._matching import check_iou, credit
from annolab.quality._payloads import read_annotations, sorted_names
from annolab.quality.gold import resolve_kind

__all__ = ["item_agreement"]


def item_agreement(
    frame: object,
    *,
    kind: str | None = None,
    iou: float = 0.5,
    item: str = "item",
    annotator: str = "annotator",
    value: str = "value",
) -> pl.DataFrame:
    """The mean agreement of every pair of annotators on each item, one row per item.

    Credit per pair is that of ``gold_accuracy``: 1 or 0 for categories, overlap F1 for spans
    (same label, sharing a code point), IoU-weighted F1 for boxes; two empty answers agree
    fully. Columns: ``item``, ``annotators``, ``pairs``, ``agreement`` (mean credit, null with
    fewer than two annotators) and ``exact`` (every pair gave the same answer). Items come in
    the order they first appear.

    >>> import polars as pl
    >>> frame = pl.DataFrame({"item": [1, 1, 1, 2, 2], "annotator": ["a", "b", "c", "a", "b"],
    ...                       "value": ["x", "x", "y", "z", "z"]})
    >>> item_agreement(frame).rows()
    [(1, 3, 3, 0.3333333333333333, False), (2, 2, 1, 1.0, True)]
    """
    threshold = check_iou(iou)
    df = to_polars(frame)
    require_columns(df, {"item": item, "annotator": annotator, "value": value})
    require_no_nulls(df, {"item": item, "annotator": annotator})
    found = resolve_kind(kind, df[value], value)
    grouped: dict[Any, dict[Any, Any]] = defaultdict(dict)
    for it, who, parsed in read_annotations(
        df, item=item, annotator=annotator, value=value, kind=found
    ):
        grouped[it][who] = parsed  # the last of repeated answers counts, as in the queue
    rows = []
    for it, answers in grouped.items():
        names = sorted_names(answers)
        marks = [
            credit(found, answers[a], answers[b], threshold) for a, b in combinations(names, 2)
        ]
        mean = sum(score for score, _ in marks) / len(marks) if marks else None
        exact = all(right for _, right in marks) if marks else None
        rows.append((it, len(names), len(marks), mean, exact))
    schema: dict[str, Any] = {
        "item": df.schema[item],
        "annotators": pl.Int64,
        "pairs": pl.Int64,
        "agreement": pl.Float64,
        "exact": pl.Boolean,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")
