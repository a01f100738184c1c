"""What kind of answer a layout asks for, so a payload of another kind is refused at the door.

>>> answer_kinds({"name": "ner", "questions": [{"name": "entities", "kind": "spans"}]})
('spans',)
>>> check_answer_kind({"kind": "choice", "label": "x"}, ("spans",), layout="ner")
Traceback (most recent call last):
annolab.errors.ValidationError: kind='choice' is not what layout 'ner' asks for; it asks for 'spans'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from annolab.errors import ValidationError
from annolab.schema.payloads import PAYLOAD_KINDS, SchemaModel

__all__ = ["answer_kinds", "check_answer_kind"]

# A question that names no kind asks for spans, as the default layout (ner) does.
_DEFAULT_KIND = "spans"


def answer_kinds(layout: Mapping[str, object]) -> tuple[str, ...]:
    """The payload kinds a layout's questions ask for, in order (each once).

    Kinds that have no payload type (``ranking`` today) are left out: nothing could be
    submitted for them anyway, and the payload validator names the kinds there are.
    """
    questions = layout.get("questions") or [{}]
    kinds: list[str] = []
    if not isinstance(questions, Sequence) or isinstance(questions, str):
        return (_DEFAULT_KIND,)
    for question in questions:
        kind = question.get("kind", _DEFAULT_KIND) if isinstance(question, Mapping) else None
        if isinstance(kind, str) and kind in PAYLOAD_KINDS and kind not in kinds:
            kinds.append(kind)
    return tuple(kinds)


def check_answer_kind(payload: object, kinds: Sequence[str], *, layout: str) -> None:
    """Refuse a payload whose ``kind`` is not one the layout asks for.

    Only the kind is read here; ``validate_payload`` checks the rest (and says what is wrong
    with a payload that is not a dict or has no kind).
    """
    if isinstance(payload, SchemaModel):
        payload = payload.to_dict()
    if not kinds or not isinstance(payload, Mapping) or "kind" not in payload:
        return
    kind = payload["kind"]
    if kind in kinds:
        return
    asked = " or ".join(repr(k) for k in kinds)
    rule = f"is not what layout {layout!r} asks for; it asks for {asked}"
    raise ValidationError("kind", kind, rule)
