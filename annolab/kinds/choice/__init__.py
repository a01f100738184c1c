"""Choice: one label chosen from the project's labels (single-choice classification)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl

from annolab.errors import ValidationError
from annolab.kinds import Kind, Target, register
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
from annolab.kinds._imports import one_region, score_of, single_label
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


def from_label_studio(regions: Sequence[Any], target: Target) -> dict[str, Any]:
    """A ``choices`` region with one choice."""
    label = single_label(one_region(regions, target).get("choices"), "regions[0].value.choices")
    return {"kind": "choice", "label": label, **score_of(regions[0])}


def accepted(line: Mapping[str, Any]) -> list[str]:
    """The options a Prodigy ``choice`` line accepts, as labels: an option id that is a string
    is the label; a number names its option, whose ``text`` is the label."""
    found = line.get("accept")
    if not isinstance(found, list):
        raise ValidationError("accept", found, "must be a list of option ids")
    given = line.get("options")
    options: list[Any] = given if isinstance(given, list) else []
    texts = {o.get("id"): o.get("text") for o in options if isinstance(o, Mapping)}
    labels = []
    for i, chosen in enumerate(found):
        label = chosen if isinstance(chosen, str) else texts.get(chosen)
        if not isinstance(label, str):
            rule = "must be a label, or the id of an option with a text"
            raise ValidationError(f"accept[{i}]", chosen, rule)
        labels.append(label)
    return labels


def from_prodigy(line: Mapping[str, Any], target: Target) -> dict[str, Any] | None:
    """A ``choice`` line's one accepted option, or a binary ``classification`` line's
    ``label`` when accepted (a rejected label says only what the text is not, so it is
    refused). None when the line has neither."""
    if "accept" in line:
        labels = accepted(line)
        if len(labels) != 1:
            raise ValidationError("accept", line.get("accept"), "must hold exactly one option")
        return {"kind": "choice", "label": labels[0]}
    label = line.get("label")
    if not isinstance(label, str):
        return None
    if line.get("answer") == "reject":
        rule = f"of label {label!r} says only that the text is not {label!r}: no choice to import"
        raise ValidationError("answer", "reject", rule)
    return {"kind": "choice", "label": label}


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
        imports={"label-studio": from_label_studio, "prodigy": from_prodigy},
    )
)
