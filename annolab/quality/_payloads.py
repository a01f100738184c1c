"""Reading span and box annotations out of a value column, in every shape annolab produces.

A value may be a list of spans (dicts, structs, ``Span`` models or ``(start, end, label)``
tuples), a payload dict (``{"kind": "spans", "spans": [...]}``), a ``SpansPayload``, or the JSON
text of any of those (as ``Project.annotations()`` returns payloads); boxes likewise. Null means
the annotator gave nothing (missing); an empty list means "nothing here".
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

import polars as pl

import annolab.kinds
from annolab.errors import QualityError
from annolab.schema import BoxesPayload, SpansPayload

SpanKey = tuple[int, int, str]
BoxKey = tuple[float, float, float, float, str]
Kind = Literal["category", "spans", "boxes"]
KINDS: tuple[Kind, ...] = ("category", "spans", "boxes")

_SPAN_FIELDS = ("start", "end", "label")
_BOX_FIELDS = ("x", "y", "width", "height", "label")


def detect_kind(values: pl.Series, column: str) -> Kind:
    """What a value column holds, from its type (and its first value when that is not enough)."""
    dtype = values.dtype
    inner = dtype.inner if isinstance(dtype, (pl.List, pl.Array)) else dtype
    if isinstance(inner, pl.Struct):
        names = {field.name for field in inner.fields}
        if {"start", "end"} <= names or "spans" in names:
            return "spans"
        if {"x", "y", "width", "height"} <= names or "boxes" in names:
            return "boxes"
        msg = (
            f"value={column!r} holds structs with fields {sorted(names)}, neither spans "
            "(start, end, label) nor boxes (x, y, width, height, label)"
        )
        raise QualityError(msg)
    if isinstance(dtype, (pl.List, pl.Array)):
        msg = f"value={column!r} holds {dtype} values; lists must hold span or box structs"
        raise QualityError(msg)
    if dtype in (pl.String, pl.Object):
        first = values.drop_nulls().head(1).to_list()
        if first:
            return _kind_of(first[0])
    return "category"


def _kind_of(value: object) -> Kind:
    """The kind of one value: payload models, payload dicts, lists of entries, or their JSON."""
    if isinstance(value, str) and value.lstrip().startswith(("{", "[")):
        try:
            value = json.loads(value)
        except ValueError:
            return "category"
    if isinstance(value, (list, tuple)):
        # An empty list marks nothing; spans and boxes read it alike.
        return _kind_of(value[0]) if value else "spans"
    found: Kind = "category"
    if isinstance(value, SpansPayload):
        found = "spans"
    elif isinstance(value, BoxesPayload):
        found = "boxes"
    elif isinstance(value, Mapping):
        kind = value.get("kind")
        if kind is not None:
            # A payload says its kind; the kind says how it is measured (a form, unregistered,
            # is a category: compared whole).
            registered = annolab.kinds.find(kind)
            found = registered.measure if registered is not None else "category"
        elif "spans" in value or "start" in value:
            found = "spans"
        elif "boxes" in value or "width" in value:
            found = "boxes"
    elif hasattr(value, "start") and hasattr(value, "end"):
        found = "spans"
    elif hasattr(value, "width") and hasattr(value, "height"):
        found = "boxes"
    return found


def _entries(value: object, kind: str, where: str) -> Iterable[Any]:
    if isinstance(value, (SpansPayload, BoxesPayload)):
        return value.spans if isinstance(value, SpansPayload) else value.boxes
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            msg = f"{where}: the value is text but not JSON ({exc}); expected a {kind} payload"
            raise QualityError(msg) from exc
    if isinstance(value, Mapping):
        if kind in value:
            value = value[kind]
        else:
            msg = f"{where}: the payload {_cut(value)} has no {kind!r} list"
            raise QualityError(msg)
    if value is None:
        return []
    if not isinstance(value, (list, tuple)):
        msg = f"{where}: expected a list of {kind}, got {_cut(value)}"
        raise QualityError(msg)
    return value


def _fields(entry: object, names: tuple[str, ...], where: str) -> tuple[Any, ...]:
    if isinstance(entry, Mapping):
        if not all(name in entry for name in names):
            msg = f"{where}={_cut(entry)} lacks one of the fields {', '.join(names)}"
            raise QualityError(msg)
        return tuple(entry[name] for name in names)
    if isinstance(entry, (list, tuple)) and len(entry) >= len(names):
        return tuple(entry[: len(names)])
    if all(hasattr(entry, name) for name in names):
        return tuple(getattr(entry, name) for name in names)
    msg = f"{where}={_cut(entry)} is not a {'span' if 'end' in names else 'box'}"
    raise QualityError(msg)


def read_spans(value: object, where: str, text_length: int | None = None) -> list[SpanKey]:
    """The (start, end, label) of each span of one annotation, checked; raises QualityError."""
    spans: list[SpanKey] = []
    seen: set[SpanKey] = set()
    for index, entry in enumerate(_entries(value, "spans", where)):
        at = f"{where}: spans[{index}]"
        start, end, label = _fields(entry, _SPAN_FIELDS, at)
        if not _is_int(start) or not _is_int(end) or start < 0 or end <= start:
            msg = (
                f"{at} has start={start!r}, end={end!r}; a span needs whole offsets "
                "0 <= start < end"
            )
            raise QualityError(msg)
        if not isinstance(label, str) or not label:
            msg = f"{at}.label={label!r} must be a non-empty string"
            raise QualityError(msg)
        if text_length is not None and end > text_length:
            msg = f"{at}.end={end} is past the end of the item's text ({text_length} characters)"
            raise QualityError(msg)
        key = (int(start), int(end), label)
        if key in seen:
            msg = f"{at}={_cut(entry)} appears twice in one annotation; remove one"
            raise QualityError(msg)
        seen.add(key)
        spans.append(key)
    return spans


def read_boxes(value: object, where: str) -> list[BoxKey]:
    """The (x, y, width, height, label) of each box of one annotation, checked."""
    boxes: list[BoxKey] = []
    for index, entry in enumerate(_entries(value, "boxes", where)):
        at = f"{where}: boxes[{index}]"
        x, y, width, height, label = _fields(entry, _BOX_FIELDS, at)
        numbers = (x, y, width, height)
        if not all(_is_number(n) and math.isfinite(n) for n in numbers):
            msg = (
                f"{at} has x={x!r}, y={y!r}, width={width!r}, height={height!r}; all must be "
                "finite numbers"
            )
            raise QualityError(msg)
        if width <= 0 or height <= 0:
            msg = (
                f"{at} has width={width!r}, height={height!r}: a box with zero or negative area "
                "cannot overlap anything; fix or drop it"
            )
            raise QualityError(msg)
        if not isinstance(label, str) or not label:
            msg = f"{at}.label={label!r} must be a non-empty string"
            raise QualityError(msg)
        boxes.append((float(x), float(y), float(width), float(height), label))
    return boxes


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _cut(value: object, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def item_texts(df: pl.DataFrame, item: str, text: str) -> dict[Any, str]:
    """Each item's text; raises when one item carries two different texts."""
    texts = df.select(item, text).filter(pl.col(text).is_not_null()).unique(maintain_order=True)
    if texts.schema[text] != pl.String:
        msg = f"text={text!r} holds {texts.schema[text]} values; it must be the item's text"
        raise QualityError(msg)
    repeated = texts.filter(pl.col(item).is_duplicated())
    if repeated.height:
        which = repeated[item][0]
        two = repeated.filter(pl.col(item) == which)[text].head(2).to_list()
        msg = (
            f"spans on different texts: item {which!r} has more than one text in "
            f"text={text!r} ({_cut(two[0], 40)} and {_cut(two[1], 40)}); offsets of one item "
            "must index one text, so give each text its own item"
        )
        raise QualityError(msg)
    return dict(texts.iter_rows())


def read_annotations(
    df: pl.DataFrame,
    *,
    item: str,
    annotator: str | None,
    value: str,
    kind: Kind,
    texts: Mapping[Any, str] | None = None,
) -> list[tuple[Any, Any, Any]]:
    """(item, annotator, annotation) of every row with a value, spans and boxes read and checked.

    Without ``annotator`` (a gold frame) the second field is None.
    """
    keep = pl.col(value).is_not_null()
    if df.schema[value].is_float():
        keep &= pl.col(value).is_not_nan()
    columns = [item, annotator, value] if annotator is not None else [item, value]
    out: list[tuple[Any, Any, Any]] = []
    for row in df.filter(keep).select(columns).iter_rows():
        it, who, raw = (row[0], row[1], row[2]) if annotator is not None else (row[0], None, row[1])
        where = f"item {it!r}" + (f", annotator {who!r}" if annotator is not None else "")
        length = None if texts is None or it not in texts else len(texts[it])
        out.append((it, who, _READERS[kind](raw, where, length)))
    return out


# How each measure reads one annotation (value, where, text length): spans and boxes are checked
# entry by entry; a category is compared as it is.
_READERS: dict[Kind, Callable[[object, str, int | None], Any]] = {
    "spans": read_spans,
    "boxes": lambda raw, where, _length: read_boxes(raw, where),
    "category": lambda raw, _where, _length: raw,
}


def by_item(annotations: list[tuple[Any, Any, Any]], metric: str) -> dict[Any, dict[Any, Any]]:
    """item -> annotator -> annotation; raises when an annotator has two on one item."""
    grouped: dict[Any, dict[Any, Any]] = {}
    for it, who, parsed in annotations:
        mine = grouped.setdefault(it, {})
        if who in mine:
            msg = (
                f"annotator {who!r} has more than one annotation of item {it!r}; {metric} needs at "
                "most one per annotator and item. Keep one (say the latest), or measure repeats "
                "with annotator_profiles"
            )
            raise QualityError(msg)
        mine[who] = parsed
    return grouped


def sorted_names(names: Iterable[Any]) -> list[Any]:
    """Annotators in a stable order (sorted; by text when their types do not compare)."""
    names = list(names)
    try:
        return sorted(names)
    except TypeError:
        return sorted(names, key=repr)
