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
from annolab.schema.layout import Layout

# The kinds personas answer; rating and text need their question's scale and limits from a
# layout, which a persona's task does not carry yet.
KINDS = ("spans", "choice", "choices", "boxes")


def task_kind(stored: dict[str, Any]) -> str:
    """The kind of answer a persona gives to a project's tasks: that of the layout's first
    question a persona can answer (a form's other questions are left to people)."""
    layout = Layout.from_stored(stored, lenient=True)
    for question in layout.questions:
        if question.kind in KINDS:
            return question.kind
    asked = [q.kind for q in layout.questions]
    rule = f"of layout {layout.name!r} holds none a persona answers ({', '.join(KINDS)})"
    raise ValidationError("questions[*].kind", asked, rule)


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
