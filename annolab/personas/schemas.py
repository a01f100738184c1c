"""The JSON schema a model must answer in (Ollama's ``format=``), per kind of task, and the
conversion of its answer into a payload checked by the same validator as a human's.

Each kind's schema and the reading of its answer are that kind's facets in ``annolab.kinds``
(spans quote their words and get their offsets there).
"""

from __future__ import annotations

import json
from typing import Any

import annolab.kinds
from annolab.errors import ValidationError
from annolab.schema import LabelSchema, Payload, validate_payload

# The kinds personas answer; rating and text need their question's scale and limits from a
# layout, which a persona's task does not carry yet.
KINDS = ("spans", "choice", "choices", "boxes")


def task_kind(layout: dict[str, Any]) -> str:
    """The kind of answer a project's layout asks for (its first question)."""
    questions = layout.get("questions") or [{}]
    kind = str(questions[0].get("kind", "spans"))
    if kind not in KINDS:
        rule = f"is not a kind personas can answer; they answer {', '.join(KINDS)}"
        raise ValidationError("layout.questions[0].kind", kind, rule)
    return kind


def output_schema(kind: str, labels: LabelSchema) -> dict[str, Any]:
    """The JSON schema of the answer to a ``kind`` task with these labels.

    >>> output_schema("choice", LabelSchema.from_names(["pos", "neg"]))["properties"]["label"]
    {'type': 'string', 'enum': ['pos', 'neg']}
    """
    if kind not in KINDS:
        rule = f"is not a kind personas can answer; they answer {', '.join(KINDS)}"
        raise ValidationError("task", kind, rule)
    return annolab.kinds.get(kind).persona_schema(labels, None)


def to_payload(
    raw: str,
    kind: str,
    labels: LabelSchema,
    *,
    text: str,
    image_size: tuple[int, int] | None = None,
) -> Payload:
    """The model's raw answer as a validated payload; raises ``ValidationError``.

    >>> to_payload('{"spans": [{"text": "Ada", "label": "PER"}]}', "spans",
    ...            LabelSchema.from_names(["PER"]), text="Ada met Ada").to_dict()
    {'kind': 'spans', 'spans': [{'start': 0, 'end': 3, 'label': 'PER'}]}
    """
    try:
        answer = json.loads(raw)
    except json.JSONDecodeError as exc:
        rule = f"is not valid JSON ({exc.msg} at character {exc.pos})"
        raise ValidationError("response", raw, rule) from exc
    if not isinstance(answer, dict):
        raise ValidationError("response", answer, "must be a JSON object")
    data = annolab.kinds.get(kind).parse(answer, text)
    return validate_payload(data, labels=labels, text=text, image_size=image_size)
