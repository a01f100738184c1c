"""Errors: the errors in a model's output, as spans labelled with an error type from a taxonomy
(``mislabeling``, ``missing_entity``, ``hallucination``…), each with an optional comment.

Compared and merged like spans: agreement is span F1 on ``(start, end, label)`` (two reviewers
who mark the same words as the same error agree, whatever they wrote about it), consensus keeps
the errors enough weight marked, and the dashboards count error types. A persona quotes the
words it finds wrong, placed in the output as the spans kind places quotes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from annolab.kinds import Kind, Target, register
from annolab.kinds import spans as spans_kind
from annolab.kinds._common import (
    SURE,
    Unit,
    json_object,
    label_schema,
    read_field,
    shared_disputed,
    votes,
)
from annolab.schema import ErrorsPayload, LabelSchema

_FIELDS = ("start", "end", "label")


def widget(question: Any, data: Mapping[str, Any], labels: LabelSchema) -> Any:
    from annolab.widgets.errors import Errors

    source = read_field(question, data)
    reference_field = getattr(question, "reference", None)
    reference = data.get(reference_field) if isinstance(reference_field, str) else None
    # ``labels`` carries the overlap rule the layout checks answers with (Layout.labels_for).
    return Errors(
        source if isinstance(source, str) else "",
        labels=labels,
        reference="" if reference is None else str(reference),
        allow_overlap=labels.allow_overlap,
    )


def persona_schema(
    labels: LabelSchema, question: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Each error as the words quoted from the output, its type and why (optional)."""
    span = json_object(
        {"text": {"type": "string", "minLength": 1}, "label": label_schema(labels)},
        {"comment": {"type": "string"}, **SURE},
    )
    return json_object({"spans": {"type": "array", "items": span}})


def parse(answer: Mapping[str, Any], text: str) -> dict[str, Any]:
    """Quotes placed as offsets (``spans.offsets``); each comment kept with its span."""
    raw = answer.get("spans")
    placed = spans_kind.offsets(raw, text)
    if isinstance(raw, list) and isinstance(placed, list):
        for quote, span in zip(raw, placed, strict=True):
            placed_ok = isinstance(span, dict) and "start" in span
            if placed_ok and isinstance(quote, dict) and quote.get("comment") is not None:
                span["comment"] = quote["comment"]
    return {"kind": "errors", "spans": placed}


def as_answer(payload: Mapping[str, Any], text: str) -> dict[str, Any]:
    out = []
    for s in payload.get("spans") or []:
        item = {"text": text[s["start"] : s["end"]], "label": s["label"]}
        if s.get("comment"):
            item["comment"] = s["comment"]
        out.append(item)
    return {"spans": out}


def units(payload: Mapping[str, Any]) -> list[Unit]:
    """One unit per error: ``(start, end, label)``; comments are not compared."""
    return [tuple(s.get(f) for f in _FIELDS) for s in payload["spans"]]


def consensus(
    payloads: Sequence[Mapping[str, Any]], weights: Sequence[float], needed: float
) -> dict[str, Any]:
    """The errors more than ``needed`` weight marked, with the first comment given on each."""
    kept = votes(payloads, weights, needed, units)
    comments: dict[Unit, str] = {}
    for payload in payloads:
        for s in payload.get("spans") or []:
            key = tuple(s.get(f) for f in _FIELDS)
            if s.get("comment") and key not in comments:
                comments[key] = s["comment"]
    return {
        "kind": "errors",
        "spans": [
            {**dict(zip(_FIELDS, k, strict=True)), "comment": comments.get(k, "")} for k in kept
        ],
    }


def label_units(payloads: pl.LazyFrame) -> pl.LazyFrame:
    """Like spans: one ``(row, start, end, label)`` per error (comments are skipped)."""
    return spans_kind.label_units(payloads)


def parts(payload: Mapping[str, Any], text: str | None) -> list[str]:
    out = []
    for s in payload["spans"]:
        line = f"{(text or '')[s['start'] : s['end']]!r} {s['label']}"
        if s.get("comment"):
            line += f": {s['comment']}"
        out.append(line)
    return out


def disputed(payloads: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    return shared_disputed(payloads, "spans", lambda s: (s["start"], s["end"], s["label"]))


def merge(payloads: Sequence[Mapping[str, Any]], allow_overlap: bool) -> dict[str, Any]:
    """Every distinct error in text order (the first comment on each); without overlaps when
    they are refused (the earlier answer's error wins)."""
    merged = spans_kind.merge(payloads, allow_overlap)
    return {"kind": "errors", "spans": merged["spans"]}


def view(
    payload: Mapping[str, Any],
    question: Any,
    data: Mapping[str, Any],
    labels: LabelSchema,
    disputed: Sequence[int],
) -> Any:
    """The errors drawn over the output, nothing editable, the disputed ones marked."""
    from annolab.widgets.preview import Preview

    source = read_field(question, data)
    if not isinstance(source, str):
        return None
    return Preview(source, spans=payload["spans"], labels=labels, disputed=list(disputed))


def to_label_studio(payload: Mapping[str, Any], target: Target) -> list[dict[str, Any]]:
    """One ``labels`` region per error; a comment goes in the region's ``meta`` text, which
    Label Studio shows with the region."""
    regions = spans_kind.to_label_studio(payload, target)
    for region, s in zip(regions, payload.get("spans") or [], strict=True):
        if s.get("comment"):
            region["meta"] = {"text": [s["comment"]]}
    return regions


def to_prodigy(payload: Mapping[str, Any], target: Target) -> dict[str, Any]:
    """Prodigy's ``spans``, as ``ner_manual`` writes them (comments are not part of them)."""
    return spans_kind.to_prodigy(payload, target)


def from_label_studio(regions: Sequence[Any], target: Target) -> dict[str, Any]:
    """``labels`` regions as errors, each comment read back from the region's ``meta`` text."""
    spans = []
    for i, region in enumerate(regions):
        span = spans_kind.span_from_region(regions, i, target)
        meta = region.get("meta") if isinstance(region, Mapping) else None
        comment = meta.get("text") if isinstance(meta, Mapping) else None
        if isinstance(comment, list):
            comment = "\n".join(str(x) for x in comment)
        if comment:
            span["comment"] = str(comment)
        spans.append(span)
    return {"kind": "errors", "spans": spans}


def from_prodigy(line: Mapping[str, Any], target: Target) -> dict[str, Any] | None:
    """Prodigy's ``spans`` as errors (without comments: Prodigy has none)."""
    found = spans_kind.from_prodigy(line, target)
    return None if found is None else {**found, "kind": "errors"}


KIND = register(
    Kind(
        name="errors",
        payload=ErrorsPayload,
        widget=widget,
        persona_schema=persona_schema,
        parse=parse,
        as_answer=as_answer,
        units=units,
        consensus=consensus,
        label_units=label_units,
        measure="spans",
        media="text",
        title="Errors",
        parts=parts,
        disputed=disputed,
        merge=merge,
        view=view,
        exports={"label-studio": to_label_studio, "prodigy": to_prodigy},
        imports={"label-studio": from_label_studio, "prodigy": from_prodigy},
    )
)
