"""Correction: a model's output as corrected by a person, the whole corrected text.

Agreement is exact match: two people who corrected an output to the same text agree, any other
pair does not (the whole payload is one unit). Consensus is the one text more than the needed
weight gave. Review shows a correction as a character diff against the original output
(``annolab.kinds.correction.diff``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from annolab.kinds import Kind, Target, register
from annolab.kinds._common import (
    first_merge,
    json_object,
    label_studio_region,
    no_label_units,
    whole_consensus,
    whole_disputed,
    whole_units,
)
from annolab.kinds._imports import label_studio_text
from annolab.kinds.correction.diff import char_diff, diff_counts
from annolab.schema import CorrectionPayload, LabelSchema

__all__ = ["char_diff", "diff_counts"]

_SHOWN_CHARS = 80


def _text(data: Mapping[str, Any], name: object) -> str:
    found = data.get(name) if isinstance(name, str) else None
    return "" if found is None else str(found)


def widget(question: Any, data: Mapping[str, Any], labels: LabelSchema) -> Any:
    from annolab.widgets.correction import Correction

    return Correction(
        _text(data, question.field),
        prompt=_text(data, getattr(question, "prompt", None)),
        max_chars=getattr(question, "max_chars", None),
    )


def persona_schema(
    labels: LabelSchema, question: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The corrected output, whole (the model rewrites it; the diff is worked out here)."""
    text: dict[str, Any] = {"type": "string"}
    limit = (question or {}).get("max_chars")
    if isinstance(limit, int):
        text["maxLength"] = limit
    return json_object({"text": text})


def parse(answer: Mapping[str, Any], text: str) -> dict[str, Any]:
    return {"kind": "correction", "text": answer.get("text")}


def as_answer(payload: Mapping[str, Any], text: str) -> dict[str, Any]:
    return {"text": payload.get("text")}


def parts(payload: Mapping[str, Any], text: str | None) -> list[str]:
    """The corrected text (cut to 80 characters), with how much it changed when the original
    (the task's text) is known: ``+6 -5 characters: 'Paris is…'``."""
    corrected = str(payload.get("text") or "")
    shown = corrected if len(corrected) <= _SHOWN_CHARS else f"{corrected[: _SHOWN_CHARS - 1]}…"
    if text is None:
        return [repr(shown)]
    inserted, deleted = diff_counts(text, corrected)
    return [f"+{inserted} -{deleted} characters: {shown!r}"]


def view(
    payload: Mapping[str, Any],
    question: Any,
    data: Mapping[str, Any],
    labels: LabelSchema,
    disputed: Sequence[int],
) -> Any:
    """The correction as a diff against the original output, nothing editable."""
    from annolab.widgets.correction import Correction

    return Correction(
        _text(data, question.field),
        prompt=_text(data, getattr(question, "prompt", None)),
        value=payload.get("text"),
        read_only=True,
        show_submit=False,
    )


def label_studio(payload: Mapping[str, Any], target: Target) -> list[dict[str, Any]]:
    """One ``textarea`` region holding the corrected text."""
    return [label_studio_region(target, "textarea", {"text": [payload.get("text")]})]


KIND = register(
    Kind(
        name="correction",
        payload=CorrectionPayload,
        widget=widget,
        persona_schema=persona_schema,
        parse=parse,
        as_answer=as_answer,
        units=whole_units,
        consensus=whole_consensus,
        label_units=no_label_units,
        measure="category",
        media="text",
        title="Correction",
        parts=parts,
        disputed=whole_disputed,
        merge=first_merge,
        view=view,
        exports={"label-studio": label_studio},
        imports={"label-studio": label_studio_text("correction")},
    )
)
