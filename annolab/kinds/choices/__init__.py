"""Choices: several labels at once (multi-label); an empty list means none apply."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from annolab.kinds import Kind, register
from annolab.kinds._common import Unit, json_object, label_schema, votes
from annolab.schema import ChoicesPayload, LabelSchema


def widget() -> type[Any]:
    from annolab.widgets.classify import Classify

    return Classify


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
        measure="category",
        media="text",
    )
)
