"""One row per annotator: accuracy, agreement with peers, speed and self-consistency."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from itertools import combinations
from typing import Any

import polars as pl

from annolab.errors import QualityError
from annolab.quality._frames import require_columns, require_no_nulls, to_polars
from annolab.quality._matching import check_iou, credit
from annolab.quality._payloads import Kind, read_annotations, sorted_names
from annolab.quality.gold import read_reference, resolve_kind

__all__ = ["annotator_profiles"]

DEFAULT_TIME = "time_spent"

SCHEMA_TAIL = {
    "annotations": pl.Int64,
    "items": pl.Int64,
    "gold_items": pl.Int64,
    "gold_score": pl.Float64,
    "consensus_items": pl.Int64,
    "consensus_score": pl.Float64,
    "peer_items": pl.Int64,
    "peer_agreement": pl.Float64,
    "seconds_per_task": pl.Float64,
    "tasks_per_hour": pl.Float64,
    "repeated_items": pl.Int64,
    "consistency": pl.Float64,
}


def annotator_profiles(
    frame: object,
    *,
    gold: object | None = None,
    consensus: object | None = None,
    time: str | None = None,
    kind: str | None = None,
    iou: float = 0.5,
    item: str = "item",
    annotator: str = "annotator",
    value: str = "value",
) -> pl.DataFrame:
    """A profile of each annotator, one row each, from one row per annotation.

    - ``annotations``, ``items``: rows with a value, and distinct items among them;
    - ``gold_items``, ``gold_score``: annotations of items in ``gold`` (a frame of ``item`` and
      ``value``) and their mean credit (see ``gold_accuracy``: partial for spans and boxes);
    - ``consensus_items``, ``consensus_score``: the same against ``consensus``, a frame like
      ``gold``, or ``"majority"`` for the plurality category of each item with two or more
      annotations (ties give no consensus; categories only);
    - ``peer_items``, ``peer_agreement``: items someone else also annotated, and the mean credit
      of this annotator's annotation against each other annotator's there;
    - ``seconds_per_task``, ``tasks_per_hour``: the median of the ``time`` column (seconds per
      annotation, ``time_spent`` when present) and 3600 x annotations / total seconds;
    - ``repeated_items``, ``consistency``: items this annotator annotated more than once, and the
      mean credit between their own repeated annotations there.

    Figures with nothing to stand on are null.

    >>> import polars as pl
    >>> frame = pl.DataFrame({
    ...     "item": [1, 2, 1, 2, 1],
    ...     "annotator": ["ann", "ann", "bob", "bob", "bob"],
    ...     "value": ["cat", "dog", "cat", "cat", "cat"],
    ...     "time_spent": [4.0, 6.0, 2.0, 2.0, 3.0],
    ... })
    >>> profiles = annotator_profiles(frame, gold=pl.DataFrame({"item": [2], "value": ["dog"]}))
    >>> profiles.select("annotator", "gold_score", "tasks_per_hour", "consistency").rows()
    [('ann', 1.0, 720.0, None), ('bob', 0.0, 1542.857142857143, 1.0)]
    >>> profiles["peer_agreement"].round(3).to_list()
    [0.667, 0.667]
    """
    threshold = check_iou(iou)
    df = to_polars(frame)
    require_columns(df, {"item": item, "annotator": annotator, "value": value})
    require_no_nulls(df, {"item": item, "annotator": annotator})
    if time is not None:
        require_columns(df, {"time": time})
    elif DEFAULT_TIME in df.columns:
        time = DEFAULT_TIME
    found = resolve_kind(kind, df[value], value)
    annotations = read_annotations(df, item=item, annotator=annotator, value=value, kind=found)

    def score(a: Any, b: Any) -> float:
        return credit(found, a, b, threshold)[0]

    by_annotator: dict[Any, list[tuple[Any, Any]]] = defaultdict(list)
    by_item: dict[Any, list[tuple[Any, Any]]] = defaultdict(list)
    for it, who, parsed in annotations:
        by_annotator[who].append((it, parsed))
        by_item[it].append((who, parsed))
    gold_answers = (
        {}
        if gold is None
        else read_reference(gold, item=item, value=value, kind=found, argument="gold", frame=df)
    )
    consensus_answers = _consensus(
        consensus, kind=found, by_item=by_item, item=item, value=value, frame=df
    )
    speed = _speed(df, annotator, value, time)

    rows = []
    for who in sorted_names(by_annotator):
        mine = by_annotator[who]
        gold_marks = [score(p, gold_answers[it]) for it, p in mine if it in gold_answers]
        cons_marks = [score(p, consensus_answers[it]) for it, p in mine if it in consensus_answers]
        peer_marks: list[float] = []
        peer_items = 0
        for it in {it for it, _ in mine}:
            others = [p for other, p in by_item[it] if other != who]
            if others:
                peer_items += 1
                own = [p for other, p in by_item[it] if other == who]
                peer_marks.extend(score(a, b) for a in own for b in others)
        repeats = _repeats(mine)
        own_marks = [score(a, b) for group in repeats for a, b in combinations(group, 2)]
        median, per_hour = speed.get(who, (None, None))
        rows.append(
            {
                "annotator": who,
                "annotations": len(mine),
                "items": len({it for it, _ in mine}),
                "gold_items": len(gold_marks),
                "gold_score": _mean(gold_marks),
                "consensus_items": len(cons_marks),
                "consensus_score": _mean(cons_marks),
                "peer_items": peer_items,
                "peer_agreement": _mean(peer_marks),
                "seconds_per_task": median,
                "tasks_per_hour": per_hour,
                "repeated_items": len(repeats),
                "consistency": _mean(own_marks),
            }
        )
    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "annotator": df.schema[annotator],
        **SCHEMA_TAIL,
    }
    return pl.DataFrame(rows, schema=schema)


def _mean(marks: list[float]) -> float | None:
    return sum(marks) / len(marks) if marks else None


def _repeats(mine: list[tuple[Any, Any]]) -> list[list[Any]]:
    grouped: dict[Any, list[Any]] = defaultdict(list)
    for it, parsed in mine:
        grouped[it].append(parsed)
    return [group for group in grouped.values() if len(group) > 1]


def _consensus(
    consensus: object | None,
    *,
    kind: Kind,
    by_item: dict[Any, list[tuple[Any, Any]]],
    item: str,
    value: str,
    frame: pl.DataFrame,
) -> dict[Any, Any]:
    if consensus is None:
        return {}
    if isinstance(consensus, str):
        if consensus != "majority":
            msg = f"consensus={consensus!r} is not a rule; pass 'majority' or a consensus frame"
            raise QualityError(msg)
        if kind != "category":
            msg = (
                f"consensus='majority' votes on categories, but the values are {kind}; pass a "
                "consensus frame (item, value) instead"
            )
            raise QualityError(msg)
        return _majority(by_item)
    return read_reference(
        consensus, item=item, value=value, kind=kind, argument="consensus", frame=frame
    )


def _majority(by_item: dict[Any, list[tuple[Any, Any]]]) -> dict[Any, Any]:
    answers = {}
    for it, votes in by_item.items():
        if len(votes) < 2:
            continue
        top = Counter(parsed for _, parsed in votes).most_common(2)
        if len(top) == 1 or top[0][1] > top[1][1]:
            answers[it] = top[0][0]
    return answers


def _speed(
    df: pl.DataFrame, annotator: str, value: str, time: str | None
) -> dict[Any, tuple[float | None, float | None]]:
    """annotator -> (median seconds per annotation, annotations per hour of annotating)."""
    if time is None:
        return {}
    if not df.schema[time].is_numeric():
        msg = f"time={time!r} holds {df.schema[time]} values; it must be seconds per annotation"
        raise QualityError(msg)
    timed = df.filter(pl.col(value).is_not_null() & pl.col(time).is_not_null())
    if timed.schema[time].is_float():
        timed = timed.filter(pl.col(time).is_not_nan())
    out: dict[Any, tuple[float | None, float | None]] = {}
    for who, seconds in timed.group_by(annotator).agg(pl.col(time)).iter_rows():
        values = [float(s) for s in seconds]
        total = sum(values)
        out[who] = (float(statistics.median(values)), 3600 * len(values) / total if total else None)
    return out
