"""Rating: a whole number on a ``[min, max]`` scale (the question's, else 1 to 5)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from annolab.kinds import Kind, Target, register
from annolab.kinds._common import (
    answer_without_kind,
    first_merge,
    json_object,
    label_studio_whole,
    no_label_units,
    no_view,
    no_widget,
    whole_consensus,
    whole_disputed,
    whole_units,
)
from annolab.kinds._imports import one_region, whole_number
from annolab.schema import LabelSchema, RatingPayload


def _scale(question: Mapping[str, Any] | None) -> tuple[int, int]:
    # A layout's rating question gives its scale as 1..scale; a bare payload is 1..5.
    scale = (question or {}).get("scale")
    return (1, int(scale)) if isinstance(scale, int) and not isinstance(scale, bool) else (1, 5)


def persona_schema(
    labels: LabelSchema, question: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    low, high = _scale(question)
    return json_object({"value": {"type": "integer", "minimum": low, "maximum": high}})


def parse(answer: Mapping[str, Any], text: str) -> dict[str, Any]:
    return {"kind": "rating", "value": answer.get("value")}


def parts(payload: Mapping[str, Any], text: str | None) -> list[str]:
    return [str(payload.get("value"))]


def from_label_studio(regions: Sequence[Any], target: Target) -> dict[str, Any]:
    """A ``rating`` region's stars (the scale is the question's, set by the reader)."""
    value = whole_number(one_region(regions, target).get("rating"), "regions[0].value.rating")
    return {"kind": "rating", "value": value}


KIND = register(
    Kind(
        name="rating",
        payload=RatingPayload,
        widget=no_widget,
        persona_schema=persona_schema,
        parse=parse,
        as_answer=answer_without_kind,
        units=whole_units,
        consensus=whole_consensus,
        label_units=no_label_units,
        measure="category",
        media="text",
        title="Rating",
        parts=parts,
        disputed=whole_disputed,
        merge=first_merge,
        view=no_view,
        exports={"label-studio": label_studio_whole("rating", "value")},
        imports={"label-studio": from_label_studio},
    )
)
