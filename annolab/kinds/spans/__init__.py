"""Spans: labelled ``[start, end)`` ranges of a text.

Models are poor at counting characters, so a persona quotes the words and we find the offsets:
the n-th time the same words are quoted, they are the n-th place they occur.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from annolab.errors import ValidationError
from annolab.kinds import Kind, Target, register
from annolab.kinds._common import (
    ESCAPED,
    LABEL,
    SURE,
    Unit,
    json_object,
    label_schema,
    label_studio_region,
    matched_number,
    matched_text,
    read_field,
    shared_disputed,
    votes,
)
from annolab.kinds._imports import region_value, score_of, single_label, whole_number
from annolab.schema import LabelSchema, SpansPayload

_FIELDS = ("start", "end", "label")


def widget(question: Any, data: Mapping[str, Any], labels: LabelSchema) -> Any:
    from annolab.widgets.ner import NER

    source = read_field(question, data)
    return NER(
        source if isinstance(source, str) else "",
        labels=labels,
        allow_overlap=labels.allow_overlap,
        snap_to_words=bool(getattr(question, "snap_to_words", False)),
    )


def parts(payload: Mapping[str, Any], text: str | None) -> list[str]:
    return [f"{(text or '')[s['start'] : s['end']]!r} {s['label']}" for s in payload["spans"]]


def disputed(payloads: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    return shared_disputed(payloads, "spans", lambda s: (s["start"], s["end"], s["label"]))


def merge(payloads: Sequence[Mapping[str, Any]], allow_overlap: bool) -> dict[str, Any]:
    """Every distinct span, in text order; without overlaps when the labels forbid them (the
    earlier answer's span wins)."""
    spans: list[dict[str, Any]] = []
    for payload in payloads:
        for span in payload.get("spans") or []:
            key = (span["start"], span["end"], span["label"])
            if any((s["start"], s["end"], s["label"]) == key for s in spans):
                continue
            if not allow_overlap and any(
                s["start"] < span["end"] and span["start"] < s["end"] for s in spans
            ):
                continue
            spans.append(dict(span))
    return {"kind": "spans", "spans": sorted(spans, key=lambda s: (s["start"], s["end"]))}


def to_label_studio(payload: Mapping[str, Any], target: Target) -> list[dict[str, Any]]:
    """One ``labels`` region per span, with the words it covers."""
    text = target.text or ""
    regions = []
    for s in payload.get("spans") or []:
        value = {"start": s["start"], "end": s["end"], "text": text[s["start"] : s["end"]]}
        region = label_studio_region(target, "labels", {**value, "labels": [s["label"]]})
        if s.get("score") is not None:
            region["score"] = s["score"]
        regions.append(region)
    return regions


def to_prodigy(payload: Mapping[str, Any], target: Target) -> dict[str, Any]:
    """Prodigy's ``spans`` (character offsets, as ``ner_manual`` writes them)."""
    text = target.text or ""
    return {
        "spans": [
            {
                "start": s["start"],
                "end": s["end"],
                "label": s["label"],
                "text": text[s["start"] : s["end"]],
            }
            for s in payload.get("spans") or []
        ]
    }


def _offsets(found: Mapping[str, Any], at: str, target: Target) -> tuple[int, int]:
    """A span's ``start`` and ``end``, checked against the words the file quotes for it."""
    start = whole_number(found.get("start"), f"{at}.start")
    end = whole_number(found.get("end"), f"{at}.end")
    text = target.text
    if not 0 <= start < end or (text is not None and end > len(text)):
        size = "" if text is None else f" within the text's {len(text)} characters"
        raise ValidationError(f"{at}.end", (start, end), f"must end after it starts{size}")
    quoted = found.get("text")
    if quoted is not None and text is not None and text[start:end] != quoted:
        rule = f"is not the task's text at {start}:{end} ({text[start:end]!r})"
        raise ValidationError(f"{at}.text", quoted, rule)
    return start, end


def span_from_region(regions: Sequence[Any], i: int, target: Target) -> dict[str, Any]:
    """Region ``i`` (a ``labels`` region) as a span."""
    value = region_value(regions, i)
    start, end = _offsets(value, f"regions[{i}].value", target)
    label = single_label(value.get("labels"), f"regions[{i}].value.labels")
    return {"start": start, "end": end, "label": label, **score_of(regions[i])}


def from_label_studio(regions: Sequence[Any], target: Target) -> dict[str, Any]:
    """``labels`` regions as spans (an empty list: no entities)."""
    return {
        "kind": "spans",
        "spans": [span_from_region(regions, i, target) for i in range(len(regions))],
    }


def from_prodigy(line: Mapping[str, Any], target: Target) -> dict[str, Any] | None:
    """Prodigy's ``spans`` (character offsets); a span's ``token_start``/``token_end`` must
    fall on the line's ``tokens`` at its offsets. None when the line has no ``spans``."""
    found = line.get("spans")
    if found is None:
        return None
    if not isinstance(found, list):
        raise ValidationError("spans", found, "must be a list")
    given = line.get("tokens")
    tokens: list[Any] = given if isinstance(given, list) else []
    spans = []
    for i, span in enumerate(found):
        if not isinstance(span, Mapping):
            raise ValidationError(f"spans[{i}]", span, "must be an object")
        start, end = _offsets(span, f"spans[{i}]", target)
        label = span.get("label")
        if not isinstance(label, str):
            raise ValidationError(f"spans[{i}].label", label, "must be a label name")
        for key, offset, side in (("token_start", start, "start"), ("token_end", end, "end")):
            index = span.get(key)
            if isinstance(index, int) and 0 <= index < len(tokens):
                token = tokens[index]
                if isinstance(token, Mapping) and token.get(side) != offset:
                    rule = f"names token {index}, whose {side} is {token.get(side)}, not {offset}"
                    raise ValidationError(f"spans[{i}].{key}", index, rule)
        spans.append({"start": start, "end": end, "label": label, **score_of(span)})
    return {"kind": "spans", "spans": spans}


def view(
    payload: Mapping[str, Any],
    question: Any,
    data: Mapping[str, Any],
    labels: LabelSchema,
    disputed: Sequence[int],
) -> Any:
    from annolab.widgets.preview import Preview

    source = read_field(question, data)
    if not isinstance(source, str):
        return None
    return Preview(source, spans=payload["spans"], labels=labels, disputed=list(disputed))


def persona_schema(
    labels: LabelSchema, question: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    span = json_object(
        {"text": {"type": "string", "minLength": 1}, "label": label_schema(labels)}, SURE
    )
    return json_object({"spans": {"type": "array", "items": span}})


def parse(answer: Mapping[str, Any], text: str) -> dict[str, Any]:
    return {"kind": "spans", "spans": offsets(answer.get("spans"), text)}


def as_answer(payload: Mapping[str, Any], text: str) -> dict[str, Any]:
    spans = payload.get("spans") or []
    return {"spans": [{"text": text[s["start"] : s["end"]], "label": s["label"]} for s in spans]}


def units(payload: Mapping[str, Any]) -> list[Unit]:
    return [tuple(s.get(f) for f in _FIELDS) for s in payload["spans"]]


def consensus(
    payloads: Sequence[Mapping[str, Any]], weights: Sequence[float], needed: float
) -> dict[str, Any]:
    kept = votes(payloads, weights, needed, units)
    return {"kind": "spans", "spans": [dict(zip(_FIELDS, k, strict=True)) for k in kept]}


def offsets(spans: object, text: str) -> object:
    """Quoted spans placed in ``text`` as offsets; raises ``ValidationError`` for words that do
    not occur. Anything but a list of quotes is passed on for the validator to describe."""
    if not isinstance(spans, list):
        return spans
    found: list[object] = []
    used: dict[str, int] = {}  # words -> where to search from for their next occurrence
    taken: list[tuple[int, int]] = []
    for index, span in enumerate(spans):
        if not isinstance(span, dict) or not isinstance(span.get("text"), str):
            found.append(span)
            continue
        words = span["text"]
        start = place(text, words, used.get(words, 0), taken) if words else -1
        if start < 0:
            rule = "does not occur in the task text (quote the words exactly)"
            raise ValidationError(f"spans[{index}].text", words, rule)
        used[words] = start + len(words)
        taken.append((start, start + len(words)))
        placed = {"start": start, "end": start + len(words), "label": span.get("label")}
        if "confidence" in span:
            placed["score"] = span["confidence"]
        found.append(placed)
    return found


def place(text: str, words: str, after: int, taken: list[tuple[int, int]]) -> int:
    """Where quoted ``words`` stand in ``text`` (from ``after``): the first occurrence that is
    whole words and overlaps no span placed so far, else the first that overlaps none, else the
    first ("Bill" after "Billdo" is the later, separate "Bill"); -1 when there is none.

    >>> place("Billdo and Bill", "Bill", 0, [(0, 6)])
    11
    """
    hits = []
    at = text.find(words, after)
    while at >= 0:
        hits.append(at)
        at = text.find(words, at + 1)

    def whole(i: int) -> bool:
        end = i + len(words)
        return (i == 0 or not text[i - 1].isalnum()) and (
            end == len(text) or not text[end].isalnum()
        )

    def free(i: int) -> bool:
        return all(i + len(words) <= s or e <= i for s, e in taken)

    for fits in (lambda i: whole(i) and free(i), free):
        for i in hits:
            if fits(i):
                return i
    return hits[0] if hits else -1


_SPAN_STRUCT = pl.Struct({"start": pl.Int64, "end": pl.Int64, "label": pl.String})
_START = r'"start":\s*\d+'
_END = r'"end":\s*\d+'


def label_units(payloads: pl.LazyFrame) -> pl.LazyFrame:
    payload = pl.col("payload")
    found = payloads.select(
        "row",
        "payload",
        ESCAPED.alias("escaped"),
        payload.str.extract_all(_START).alias("start"),
        payload.str.extract_all(_END).alias("end"),
        payload.str.extract_all(LABEL).alias("label"),
    )
    lengths = pl.col("start").list.len()
    canonical = (
        (lengths == pl.col("end").list.len())
        & (lengths == pl.col("label").list.len())
        & ~pl.col("escaped")
    )
    fast = (
        found.filter(canonical)
        .select("row", "start", "end", "label")
        .explode("start", "end", "label")
        .drop_nulls("start")
        .select("row", matched_number("start"), matched_number("end"), matched_text("label"))
    )
    slow = (
        found.filter(~canonical)
        .select("row", payload.str.json_decode(pl.Struct({"spans": pl.List(_SPAN_STRUCT)})))
        .unnest("payload")
        .explode("spans")
        .drop_nulls("spans")
        .unnest("spans")
        .select("row", "start", "end", "label")
    )
    return pl.concat([fast, slow])


KIND = register(
    Kind(
        name="spans",
        payload=SpansPayload,
        widget=widget,
        persona_schema=persona_schema,
        parse=parse,
        as_answer=as_answer,
        units=units,
        consensus=consensus,
        label_units=label_units,
        measure="spans",
        media="text",
        title="Spans",
        parts=parts,
        disputed=disputed,
        merge=merge,
        view=view,
        exports={"label-studio": to_label_studio, "prodigy": to_prodigy},
        imports={"label-studio": from_label_studio, "prodigy": from_prodigy},
    )
)
