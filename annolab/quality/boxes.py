"""Agreement on bounding boxes between every pair of annotators: matches at an IoU threshold."""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations
from typing import Any

import polars as pl

from annolab.quality._frames import require_columns, require_no_nulls, to_polars
from annolab.quality._matching import box_matches, check_iou
from annolab.quality._payloads import BoxKey, by_item, read_annotations, sorted_names
from annolab.quality.spans import score_row

__all__ = ["box_agreement"]

NO_BOXES = "no boxes on the items compared: there is nothing to agree on"

SCHEMA = {
    "label": pl.String,
    "pairs": pl.Int64,
    "matched": pl.Int64,
    "n_a": pl.Int64,
    "n_b": pl.Int64,
    "precision": pl.Float64,
    "recall": pl.Float64,
    "f1": pl.Float64,
    "mean_iou": pl.Float64,
    "reason": pl.String,
}


def box_agreement(
    frame: object,
    *,
    iou: float = 0.5,
    item: str = "item",
    annotator: str = "annotator",
    value: str = "value",
) -> pl.DataFrame:
    """Pairwise F1 and mean IoU of box annotations, per label and overall.

    Every item's annotators are compared in pairs (a, b), a the one whose name sorts first.
    Within a pair, boxes of the same label are matched one-to-one greedily by descending IoU,
    keeping matches with IoU >= ``iou`` (as COCO evaluation does). Counts of all pairs are pooled:
    ``f1`` = 2 matched / (n_a + n_b), ``precision`` = matched / n_b, ``recall`` = matched / n_a,
    and ``mean_iou`` is the mean IoU of the matches. The overall row comes first, with a null
    label. NaN with a ``reason`` when there is no pair or no box.

    A box with zero or negative width or height raises ``QualityError``.

    >>> import polars as pl
    >>> cat = {"x": 0, "y": 0, "width": 10, "height": 10, "label": "cat"}
    >>> shifted = {"x": 2, "y": 0, "width": 10, "height": 10, "label": "cat"}
    >>> frame = pl.DataFrame({"item": [1, 1], "annotator": ["ann", "bob"],
    ...                       "value": [[cat], [shifted]]})
    >>> box_agreement(frame).select("label", "matched", "f1", "mean_iou").rows()
    [(None, 1, 1.0, 0.6666666666666666), ('cat', 1, 1.0, 0.6666666666666666)]
    >>> box_agreement(frame, iou=0.75)["f1"].to_list()
    [0.0, 0.0]
    """
    threshold = check_iou(iou)
    df = to_polars(frame)
    require_columns(df, {"item": item, "annotator": annotator, "value": value})
    require_no_nulls(df, {"item": item, "annotator": annotator})
    annotations = read_annotations(df, item=item, annotator=annotator, value=value, kind="boxes")
    counts: dict[str | None, list[float]] = defaultdict(lambda: [0, 0, 0, 0.0])
    pairs = 0
    for by_annotator in by_item(annotations, "box_agreement").values():
        names = sorted_names(by_annotator)
        for first, second in combinations(names, 2):
            pairs += 1
            _compare(by_annotator[first], by_annotator[second], threshold, counts)
    rows: list[dict[str, Any]] = []
    for label in [None, *sorted(label for label in counts if label is not None)]:
        matched, n_a, n_b, iou_sum = counts.get(label, [0, 0, 0, 0.0])
        row = score_row("iou", label, pairs=pairs, matched=int(matched), n_a=int(n_a), n_b=int(n_b))
        del row["match"]
        if row["reason"] is not None and pairs:
            row["reason"] = NO_BOXES
        row["mean_iou"] = iou_sum / matched if matched else float("nan")
        rows.append(row)
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def _compare(
    a: list[BoxKey], b: list[BoxKey], threshold: float, counts: dict[str | None, list[float]]
) -> None:
    for label in {box[4] for box in a} | {box[4] for box in b}:
        mine = [box for box in a if box[4] == label]
        theirs = [box for box in b if box[4] == label]
        ious = box_matches(mine, theirs, threshold)
        for key in (label, None):
            tally = counts[key]
            tally[0] += len(ious)
            tally[1] += len(mine)
            tally[2] += len(theirs)
            tally[3] += sum(ious)
