"""Text: free text (a comment, a correction, a transcription)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from annolab.kinds import Kind, register
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
from annolab.kinds._imports import label_studio_text
from annolab.schema import LabelSchema, TextPayload


def persona_schema(
    labels: LabelSchema, question: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    text: dict[str, Any] = {"type": "string"}
    limit = (question or {}).get("max_chars")
    if isinstance(limit, int) and not isinstance(limit, bool):
        text["maxLength"] = limit
    return json_object({"text": text})


def parse(answer: Mapping[str, Any], text: str) -> dict[str, Any]:
    return {"kind": "text", "text": answer.get("text")}


def parts(payload: Mapping[str, Any], text: str | None) -> list[str]:
    return [str(payload.get("text"))]


KIND = register(
    Kind(
        name="text",
        payload=TextPayload,
        widget=no_widget,
        persona_schema=persona_schema,
        parse=parse,
        as_answer=answer_without_kind,
        units=whole_units,
        consensus=whole_consensus,
        label_units=no_label_units,
        measure="category",
        media="text",
        title="Text",
        parts=parts,
        disputed=whole_disputed,
        merge=first_merge,
        view=no_view,
        exports={"label-studio": label_studio_whole("textarea", "text", field="text", wrap=True)},
        imports={"label-studio": label_studio_text("text")},
    )
)
