"""Choice: one label chosen from the project's labels (single-choice classification)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from annolab.kinds import Kind, register
from annolab.kinds._common import (
    ESCAPED,
    NO_OFFSETS,
    SURE,
    first_merge,
    json_object,
    label_schema,
    label_studio_whole,
    no_view,
    read_field,
    whole_consensus,
    whole_disputed,
    whole_units,
)
from annolab.schema import ChoicePayload, LabelSchema


def widget(question: Any, data: Mapping[str, Any], labels: LabelSchema) -> Any:
    from annolab.widgets.classify import Classify

    return Classify(read_field(question, data), labels=labels)


def parts(payload: Mapping[str, Any], text: str | None) -> list[str]:
    return [str(payload.get("label"))]


def persona_schema(
    labels: LabelSchema, question: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    return json_object({"label": label_schema(labels)}, SURE)


def parse(answer: Mapping[str, Any], text: str) -> dict[str, Any]:
    data = {"kind": "choice", "label": answer.get("label")}
    if "confidence" in answer:
        data["score"] = answer["confidence"]
    return data


def as_answer(payload: Mapping[str, Any], text: str) -> dict[str, Any]:
    return {"label": payload.get("label")}


def label_units(payloads: pl.LazyFrame) -> pl.LazyFrame:
    payload = pl.col("payload")
    fast = payloads.filter(~ESCAPED).select(
        "row", *NO_OFFSETS, payload.str.extract(r'"label":\s*"([^"]*)"').alias("label")
    )
    slow = (
        payloads.filter(ESCAPED)
        .select("row", payload.str.json_decode(pl.Struct({"label": pl.String})))
        .unnest("payload")
        .select("row", *NO_OFFSETS, "label")
    )
    return pl.concat([fast, slow])


KIND = register(
    Kind(
        name="choice",
        payload=ChoicePayload,
        widget=widget,
        persona_schema=persona_schema,
        parse=parse,
        as_answer=as_answer,
        units=whole_units,
        consensus=whole_consensus,
        label_units=label_units,
        measure="category",
        media="text",
        title="Label",
        parts=parts,
        disputed=whole_disputed,
        merge=first_merge,
        view=no_view,
        exports={
            "label-studio": label_studio_whole("choices", "label", wrap=True),
            "prodigy": lambda payload, target: {"accept": [payload.get("label")]},
        },
    )
)
