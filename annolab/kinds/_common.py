"""Facets several kinds share: JSON-schema objects, whole-payload units and unit voting."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import polars as pl

from annolab.kinds import Target
from annolab.schema import LabelSchema

Unit = tuple[Any, ...]

# How sure the model is, 0 to 1, if it says: kept as the span's, box's or choice's score, and a
# panel sends an item a persona is unsure of to people.
SURE = {"confidence": {"type": "number", "minimum": 0, "maximum": 1}}


def label_schema(labels: LabelSchema) -> dict[str, Any]:
    return {"type": "string", "enum": list(labels.names)}


def json_object(
    properties: dict[str, Any], optional: dict[str, Any] | None = None
) -> dict[str, Any]:
    """An object schema: ``properties`` required, ``optional`` allowed, nothing else."""
    return {
        "type": "object",
        "properties": {**properties, **(optional or {})},
        "required": list(properties),
        "additionalProperties": False,
    }


def whole_units(payload: Mapping[str, Any]) -> list[Unit]:
    """A single answer is one unit: the payload without its score, as canonical JSON."""
    return [(json.dumps({k: v for k, v in payload.items() if k != "score"}, sort_keys=True),)]


def votes(
    payloads: Sequence[Mapping[str, Any]],
    weights: Sequence[float],
    needed: float,
    units: Callable[[Mapping[str, Any]], list[Unit]],
) -> list[Unit]:
    """The units more than ``needed`` weight gave, sorted; each annotator votes once a unit."""
    tally: dict[Unit, float] = {}
    for payload, weight in zip(payloads, weights, strict=True):
        for unit in set(units(payload)):
            tally[unit] = tally.get(unit, 0.0) + weight
    return sorted(unit for unit, w in tally.items() if w > needed)


def whole_consensus(
    payloads: Sequence[Mapping[str, Any]], weights: Sequence[float], needed: float
) -> dict[str, Any] | None:
    """The one answer more than ``needed`` weight gave (scores aside), or None."""
    kept = votes(payloads, weights, needed, whole_units)
    return dict(json.loads(kept[0][0])) if kept else None


def answer_without_kind(payload: Mapping[str, Any], text: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != "kind"}


# Dashboards read labels out of stored JSON text with polars, a million rows at a time: each kind
# turns its rows ``(row, payload)`` into ``(row, start, end, label)`` units (start and end null
# for a label without offsets). JSON in annolab's canonical form is read with regular
# expressions, several times faster than a JSON parser; escaped text falls back to the parser.
LABEL = r'"label":\s*"[^"\\]*"'
NO_OFFSETS = (pl.lit(None, pl.Int64).alias("start"), pl.lit(None, pl.Int64).alias("end"))
ESCAPED = pl.col("payload").str.contains("\\", literal=True)


def matched_number(key: str) -> pl.Expr:
    """The integer of each match ``"key": 12`` in column ``key`` (any space after the colon)."""
    # The key and its colon are a fixed width: slicing them off is several times cheaper than a
    # split or a regular expression per match.
    return pl.col(key).str.slice(len(f'"{key}":')).str.strip_chars().cast(pl.Int64)


def matched_text(key: str) -> pl.Expr:
    """The text of each match ``"key": "text"`` in column ``key`` (a match holds no other quote)."""
    value = pl.col(key).str.slice(len(f'"{key}":')).str.strip_chars_start()
    return value.str.strip_chars('"')


def no_label_units(payloads: pl.LazyFrame) -> pl.LazyFrame:
    """No units: the kind's answers carry no labels a dashboard counts."""
    return payloads.filter(pl.lit(value=False)).select(
        "row", *NO_OFFSETS, pl.lit(None, pl.String).alias("label")
    )


# What review and adjudication show of a kind whose answer is one value (a label, a rating, a
# text): the answer is one part, disputed unless every answer is the same.


def whole_disputed(payloads: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    """``[0]`` for every answer when the answers (scores aside) differ, else ``[]``."""
    same = len({whole_units(p)[0] for p in payloads}) <= 1
    return [[] if same else [0] for _ in payloads]


def first_merge(payloads: Sequence[Mapping[str, Any]], allow_overlap: bool) -> dict[str, Any]:
    """A single answer cannot be merged with another: the first one is the starting point."""
    return dict(payloads[0])


def read_field(question: Any, data: Mapping[str, Any]) -> Any:
    """What a question is asked over: the task field it names (its text or image); the task's
    text when it names none or the field is missing (add_tasks keeps the main text as text)."""
    field = getattr(question, "field", None)
    found = None if field is None else data.get(field)
    return data.get("text") if found is None else found


def no_view(
    payload: Mapping[str, Any],
    question: Any,
    data: Mapping[str, Any],
    labels: LabelSchema,
    disputed: Sequence[int],
) -> None:
    """No drawing: a line of text shows the answer."""
    return None


def no_widget(question: object, data: Mapping[str, Any], labels: LabelSchema) -> None:
    """Asked by a form control: a one-question layout shows it in a ``LayoutWidget``."""
    return None


def distinct_merge(key: str) -> Callable[[Sequence[Mapping[str, Any]], bool], dict[str, Any]]:
    """Every distinct item of the answers' ``key`` list, in the order first given."""

    def merge(payloads: Sequence[Mapping[str, Any]], allow_overlap: bool) -> dict[str, Any]:
        items = [item for p in payloads for item in p.get(key) or []]
        distinct = [x for i, x in enumerate(items) if x not in items[:i]]
        return {"kind": payloads[0]["kind"], key: distinct}

    return merge


def shared_disputed(
    payloads: Sequence[Mapping[str, Any]], key: str, unit: Callable[[Any], Any]
) -> list[list[int]]:
    """For each answer, the indexes of its ``key`` items whose ``unit`` some answer lacks."""
    keys = [{unit(x) for x in p.get(key) or []} for p in payloads]
    common = set.intersection(*keys) if keys else set()
    return [[i for i, x in enumerate(p.get(key) or []) if unit(x) not in common] for p in payloads]


# Writing answers for other tools. Label Studio: each answer is a list of result regions named
# by the control (the question) and the object it labels (the task field). Prodigy: the fields
# its interface for the kind adds to a task line.


def label_studio_region(target: Target, type_: str, value: dict[str, Any]) -> dict[str, Any]:
    return {"from_name": target.name, "to_name": target.field, "type": type_, "value": value}


def label_studio_whole(
    type_: str, key: str, *, field: str | None = None, wrap: bool = False
) -> Callable[..., Any]:
    """The exporter of a one-value answer: the payload's ``key`` as the ``field`` (default:
    the type's name) of a Label Studio ``type_`` region, in a list when ``wrap``."""

    def export(payload: Mapping[str, Any], target: Target) -> list[dict[str, Any]]:
        value = payload.get(key)
        return [label_studio_region(target, type_, {field or type_: [value] if wrap else value})]

    return export
