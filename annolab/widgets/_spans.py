"""Span lists for the NER widget: validation with the one validator, and incremental edits.

A widget's ``value`` is a list of span dicts kept sorted by ``(start, end, label)``, the
order ``SpansPayload`` stores. A whole list goes through ``annolab.schema.validate_payload``;
an edit (add one span) checks only what it changes, so a 5,000-span document answers an edit in
well under a millisecond instead of revalidating every span (about 60 ms).
"""

from __future__ import annotations

import array
import bisect
import math
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from annolab.errors import ValidationError
from annolab.schema import LabelSchema, SpansPayload, validate_payload
from annolab.schema.payloads import SchemaModel
from annolab.widgets._base import WidgetTraitError

__all__ = [
    "SpanKey",
    "SpanList",
    "as_span_dicts",
    "decode_spans",
    "encode_spans",
    "key_of",
    "span_key",
    "validate_spans",
]

SpanKey = tuple[int, int, str]


def span_key(span: Mapping[str, Any]) -> SpanKey:
    """What identifies a span in a list: payloads refuse two spans with the same key."""
    return (span["start"], span["end"], span["label"])


def as_span_dicts(raw: object, field: str) -> list[dict[str, Any]]:
    """Items as plain dicts (``Span`` models and mappings alike), for the validator."""
    if isinstance(raw, (str, bytes, Mapping)) or not isinstance(raw, Iterable):
        rule = "must be a list of spans like {'start': 0, 'end': 3, 'label': 'PER'}"
        raise WidgetTraitError(field, raw, rule)
    items: list[dict[str, Any]] = []
    for item in raw:
        if isinstance(item, SchemaModel):
            items.append(item.to_dict())
        elif isinstance(item, Mapping):
            items.append(dict(item))
        else:
            items.append(item)  # the validator names the item and says what it must be
    return items


def validate_spans(
    raw: object, *, field: str, text: str, labels: LabelSchema
) -> list[dict[str, Any]]:
    """A whole span list checked by ``validate_payload``; sorted dicts, errors named ``field``.

    >>> from annolab.schema import LabelSchema
    >>> validate_spans([{"start": 4, "end": 7, "label": "PER"}], field="value", text="met Bob",
    ...                labels=LabelSchema.from_names(["PER"]))
    [{'start': 4, 'end': 7, 'label': 'PER'}]
    """
    items = as_span_dicts(raw, field)
    try:
        payload = validate_payload({"kind": "spans", "spans": items}, labels=labels, text=text)
    except ValidationError as exc:
        # The overlap rule names the other span by its path too ("overlaps spans[0] ...").
        rule = re.sub(r"^overlaps spans\[", f"overlaps {field}[", exc.rule)
        raise WidgetTraitError(_rename(exc.field, field), exc.value, rule) from exc
    assert isinstance(payload, SpansPayload)  # the kind says so
    return [span.to_dict() for span in payload.spans]


def _rename(path: str, field: str) -> str:
    """``spans[3].end`` -> ``value[3].end``: the error names the widget's trait."""
    if path == "spans" or path.startswith(("spans[", "spans.")):
        return field + path[len("spans") :]
    return path


class SpanList:
    """A sorted span list under edit; each method checks one change and raises what is wrong.

    ``allow_overlap=False`` keeps the invariant that no two spans overlap, so in start order
    the ends are sorted too and a new span only has to be compared with its two neighbours.
    """

    def __init__(
        self,
        spans: Sequence[Mapping[str, Any]],
        *,
        field: str,
        text: str,
        labels: LabelSchema,
        allow_overlap: bool,
    ) -> None:
        # The dicts are shared with the list being edited, never changed in place: copying
        # 5,000 of them per edit would cost more than the edit.
        self.spans: list[dict[str, Any]] = list(spans)  # type: ignore[arg-type]
        self.keys: list[SpanKey] = [span_key(span) for span in self.spans]
        self.field = field
        self.text = text
        self.labels = labels
        self.allow_overlap = allow_overlap

    def index(self, raw: object) -> int:
        """Where the span with ``raw``'s start, end and label is; raises if it is not there."""
        key = key_of(raw)
        at = bisect.bisect_left(self.keys, key)
        if at == len(self.keys) or self.keys[at] != key:
            raise WidgetTraitError(
                "span",
                _show(key),
                f"is not in {self.field}; it may have changed meanwhile",
                banner=f"{self._quote(key)} is no longer there; it may have changed meanwhile",
            )
        return at

    def __contains__(self, raw: object) -> bool:
        key = key_of(raw)
        at = bisect.bisect_left(self.keys, key)
        return at < len(self.keys) and self.keys[at] == key

    def add(self, raw: object, *, keep_score: bool = True) -> dict[str, Any]:
        """Checks ``raw`` against the text, labels, duplicates and (if refused) overlaps."""
        span = self.check_one(raw)
        if not keep_score:
            span.pop("score", None)
        key = span_key(span)
        at = bisect.bisect_left(self.keys, key)
        if at < len(self.keys) and self.keys[at] == key:
            raise WidgetTraitError(
                "span",
                span,
                f"is already in {self.field}",
                banner=f"{self._quote(key)} is already labelled",
            )
        if not self.allow_overlap:
            self._refuse_overlap(span, at)
        self.spans.insert(at, span)
        self.keys.insert(at, key)
        return span

    def remove(self, raw: object) -> dict[str, Any]:
        at = self.index(raw)
        del self.keys[at]
        return self.spans.pop(at)

    def check_one(self, raw: object) -> dict[str, Any]:
        """One span checked by the one validator, as a dict (a span of a one-span payload)."""
        items = as_span_dicts([raw], "span")
        try:
            payload = validate_payload(
                {"kind": "spans", "spans": items}, labels=self.labels, text=self.text
            )
        except ValidationError as exc:
            # "spans[0].end" of the one-span payload is "span.end" of this edit.
            field = exc.field.replace("spans[0]", "span", 1)
            raise WidgetTraitError(field, exc.value, exc.rule) from exc
        assert isinstance(payload, SpansPayload)
        return payload.spans[0].to_dict()

    def _refuse_overlap(self, span: dict[str, Any], at: int) -> None:
        # Sorted and free of overlaps: only the span before and the one after can overlap.
        for neighbour in (at - 1, at):
            if not 0 <= neighbour < len(self.spans):
                continue
            other = self.spans[neighbour]
            if span["start"] < other["end"] and other["start"] < span["end"]:
                words = self.text[other["start"] : other["end"]]
                rule = (
                    f"overlaps {other['label']} ({other['start']}, {other['end']}) {words!r}; "
                    "overlapping spans are not allowed here (allow_overlap=False): "
                    "remove or shorten one of them"
                )
                mine, theirs = self._quote(span_key(span)), self._quote(span_key(other))
                banner = f"Spans {theirs} and {mine} overlap: remove or shorten one"
                raise WidgetTraitError("span", _show(span_key(span)), rule, banner=banner)

    def _quote(self, key: SpanKey) -> str:
        """``'Paris' (LOC, 12-17)``: a span as the annotator sees it, cut if long."""
        start, end, label = key
        words = self.text[start:end]
        if len(words) > 40:
            words = words[:37] + "..."
        return f"'{words}' ({label}, {start}-{end})"


def key_of(raw: object, field: str = "span") -> SpanKey:
    """The key of a span sent by the front end, which names a span to remove or relabel."""
    if isinstance(raw, Mapping):
        start, end, label = raw.get("start"), raw.get("end"), raw.get("label")
        if isinstance(start, int) and isinstance(end, int) and isinstance(label, str):
            return (start, end, label)
    rule = "must be a span {'start': int, 'end': int, 'label': str}"
    raise WidgetTraitError(field, raw, rule)


def _show(key: SpanKey) -> dict[str, Any]:
    return {"start": key[0], "end": key[1], "label": key[2]}


# --- the wire form -----------------------------------------------------------------------------
#
# A 5,000-span value as JSON is ~250 kB that ipywidgets walks (for buffers) and serialises on
# every change, and the browser parses and deep-compares: ~100 ms per edit, the whole latency
# budget. As columns in binary buffers (STYLE.md: large data travels as buffers) the same
# change costs a few milliseconds. Offsets go as float64, exact up to 2**53 like the payloads.


def encode_spans(spans: Sequence[Mapping[str, Any]], _widget: object = None) -> dict[str, Any]:
    """Spans as columns: ``start``/``end``/``score`` float64 and ``label`` uint32 buffers.

    >>> wire = encode_spans([{"start": 0, "end": 3, "label": "PER", "score": 0.5}])
    >>> wire["count"], wire["labels"], len(wire["start"]), wire["score"] is not None
    (1, ['PER'], 8, True)
    """
    names: dict[str, int] = {}
    label = array.array("I", (names.setdefault(s["label"], len(names)) for s in spans))
    start = array.array("d", (s["start"] for s in spans))
    end = array.array("d", (s["end"] for s in spans))
    scored = any(s.get("score") is not None for s in spans)
    nan = float("nan")
    score = array.array("d", (nan if s.get("score") is None else s["score"] for s in spans))
    columns = [label, start, end, score]
    if sys.byteorder == "big":  # the browser reads them little-endian
        for column in columns:
            column.byteswap()
    return {
        "count": len(spans),
        "labels": list(names),
        "label": label.tobytes(),
        "start": start.tobytes(),
        "end": end.tobytes(),
        "score": score.tobytes() if scored else None,
    }


def decode_spans(wire: object, _widget: object = None) -> list[dict[str, Any]]:
    """The inverse of ``encode_spans`` (a plain list of span dicts passes through).

    >>> decode_spans(encode_spans([{"start": 0, "end": 3, "label": "PER"}]))
    [{'start': 0, 'end': 3, 'label': 'PER'}]
    """
    if isinstance(wire, list):
        return wire
    if not isinstance(wire, Mapping):
        raise WidgetTraitError("value", wire, "is not a list of spans or their wire form")
    columns = {}
    for name, code in (("label", "I"), ("start", "d"), ("end", "d"), ("score", "d")):
        column = array.array(code)
        raw = wire.get(name)
        if raw is not None:
            column.frombytes(bytes(raw))
            if sys.byteorder == "big":
                column.byteswap()
        columns[name] = column
    labels = list(wire.get("labels", []))
    spans: list[dict[str, Any]] = []
    for i in range(int(wire.get("count", 0))):
        span: dict[str, Any] = {
            "start": int(columns["start"][i]),
            "end": int(columns["end"][i]),
            "label": labels[columns["label"][i]],
        }
        if len(columns["score"]) > i and not math.isnan(columns["score"][i]):
            span["score"] = columns["score"][i]
        spans.append(span)
    return spans
