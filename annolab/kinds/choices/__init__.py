"""Choices: several labels at once (multi-label); an empty list means none apply."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from annolab.errors import ValidationError
from annolab.kinds import Kind, Target, register
from annolab.kinds._common import (
    NO_OFFSETS,
    Unit,
    distinct_merge,
    json_object,
    label_schema,
    label_studio_whole,
    no_view,
    read_field,
    shared_disputed,
    votes,
)
from annolab.kinds._imports import label_list, region_value
from annolab.schema import ChoicesPayload, LabelSchema


def widget(question: Any, data: Mapping[str, Any], labels: LabelSchema) -> Any:
    from annolab.widgets.classify import Classify

    return Classify(read_field(question, data), labels=labels, multi=True)


def parts(payload: Mapping[str, Any], text: str | None) -> list[str]:
    return [str(label) for label in payload.get("labels") or []]


def disputed(payloads: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    return shared_disputed(payloads, "labels", lambda label: label)


def persona_schema(
    labels: LabelSchema, question: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    items = label_schema(labels)
    return json_object({"labels": {"type": "array", "items": items, "uniqueItems": True}})


def parse(answer: Mapping[str, Any], text: str) -> dict[str, Any]:
    return {"kind": "choices", "labels": answer.get("labels")}


def as_answer(payload: Mapping[str, Any], text: str) -> dict[str, Any]:
    return {"labels": list(payload.get("labels") or [])}


def units(payload: Mapping[str, Any]) -> list[Unit]:
    return [(label,) for label in payload["labels"]]


def consensus(
    payloads: Sequence[Mapping[str, Any]], weights: Sequence[float], needed: float
) -> dict[str, Any]:
    return {"kind": "choices", "labels": [k[0] for k in votes(payloads, weights, needed, units)]}


def label_units(payloads: pl.LazyFrame) -> pl.LazyFrame:
    decoded = pl.col("payload").str.json_decode(pl.Struct({"labels": pl.List(pl.String)}))
    return (
        payloads.select("row", decoded)
        .unnest("payload")
        .select("row", pl.col("labels").list.unique().alias("label"))
        .explode("label")
        .drop_nulls("label")
        .select("row", *NO_OFFSETS, "label")
    )


def from_label_studio(regions: Sequence[Any], target: Target) -> dict[str, Any]:
    """The labels of every ``choices`` region of the question (none: no label chosen)."""
    labels: list[str] = []
    for i in range(len(regions)):
        found = region_value(regions, i).get("choices")
        labels += label_list(found, f"regions[{i}].value.choices")
    return {"kind": "choices", "labels": labels}


def from_prodigy(line: Mapping[str, Any], target: Target) -> dict[str, Any] | None:
    """A ``choice`` line's accepted options (``choice_style: multiple``)."""
    from annolab.kinds.choice import accepted

    if "accept" not in line:
        return None
    if not isinstance(line.get("accept"), list):
        raise ValidationError("accept", line.get("accept"), "must be a list of option ids")
    return {"kind": "choices", "labels": accepted(line)}


KIND = register(
    Kind(
        name="choices",
        payload=ChoicesPayload,
        widget=widget,
        persona_schema=persona_schema,
        parse=parse,
        as_answer=as_answer,
        units=units,
        consensus=consensus,
        label_units=label_units,
        measure="category",
        media="text",
        title="Labels",
        parts=parts,
        disputed=disputed,
        merge=distinct_merge("labels"),
        view=no_view,
        exports={
            "label-studio": label_studio_whole("choices", "labels"),
            "prodigy": lambda payload, target: {"accept": list(payload.get("labels") or [])},
        },
        imports={"label-studio": from_label_studio, "prodigy": from_prodigy},
    )
)
