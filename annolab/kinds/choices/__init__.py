"""Choices: several labels at once (multi-label); an empty list means none apply."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from annolab.kinds import Kind, register
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
    )
)
