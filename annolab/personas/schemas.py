"""The JSON schema a model must answer in (Ollama's ``format=``), per kind of task, and the
conversion of its answer into a payload checked by the same validator as a human's.

Models are poor at counting characters, so for spans they quote the words and we find the
offsets: the n-th time the same words are quoted, they are the n-th place they occur.
"""

from __future__ import annotations

import json
from typing import Any

from annolab.errors import ValidationError
from annolab.schema import LabelSchema, Payload, validate_payload

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
    label = {"type": "string", "enum": list(labels.names)}
    number = {"type": "number", "minimum": 0}
    # How sure the model is, 0 to 1, if it says: kept as the span's, box's or choice's score,
    # and a panel sends an item a persona is unsure of to people.
    sure = {"confidence": {"type": "number", "minimum": 0, "maximum": 1}}
    if kind == "spans":
        span = _object({"text": {"type": "string", "minLength": 1}, "label": label}, sure)
        return _object({"spans": {"type": "array", "items": span}})
    if kind == "choice":
        return _object({"label": label}, sure)
    if kind == "choices":
        return _object({"labels": {"type": "array", "items": label, "uniqueItems": True}})
    if kind == "boxes":
        box = _object(
            {"label": label, "x": number, "y": number, "width": number, "height": number}, sure
        )
        return _object({"boxes": {"type": "array", "items": box}})
    rule = f"is not a kind personas can answer; they answer {', '.join(KINDS)}"
    raise ValidationError("task", kind, rule)


def _object(properties: dict[str, Any], optional: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {**properties, **(optional or {})},
        "required": list(properties),
        "additionalProperties": False,
    }


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
    data: dict[str, Any]
    if kind == "spans":
        data = {"kind": "spans", "spans": _offsets(answer.get("spans"), text)}
    elif kind == "choice":
        data = {"kind": "choice", "label": answer.get("label")}
        if "confidence" in answer:
            data["score"] = answer["confidence"]
    elif kind == "choices":
        data = {"kind": "choices", "labels": answer.get("labels")}
    else:
        boxes = answer.get("boxes")
        data = {
            "kind": "boxes",
            "boxes": [_box(b) for b in boxes] if isinstance(boxes, list) else boxes,
        }
    return validate_payload(data, labels=labels, text=text, image_size=image_size)


def _offsets(spans: object, text: str) -> object:
    if not isinstance(spans, list):
        return spans  # the validator says what is wrong with it
    found: list[object] = []
    used: dict[str, int] = {}  # words -> where to search from for their next occurrence
    taken: list[tuple[int, int]] = []
    for index, span in enumerate(spans):
        if not isinstance(span, dict) or not isinstance(span.get("text"), str):
            found.append(span)
            continue
        words = span["text"]
        start = _place(text, words, used.get(words, 0), taken) if words else -1
        if start < 0:
            rule = "does not occur in the task text (quote the words exactly)"
            raise ValidationError(f"spans[{index}].text", words, rule)
        used[words] = start + len(words)
        taken.append((start, start + len(words)))
        placed = {"start": start, "end": start + len(words), "label": span.get("label")}
        if "confidence" in span:
            placed["score"] = span["confidence"]
        found.append(placed)
    return found


def _place(text: str, words: str, after: int, taken: list[tuple[int, int]]) -> int:
    """Where quoted ``words`` stand in ``text`` (from ``after``): the first occurrence that is
    whole words and overlaps no span placed so far, else the first that overlaps none, else the
    first ("Bill" after "Billdo" is the later, separate "Bill"); -1 when there is none.

    >>> _place("Billdo and Bill", "Bill", 0, [(0, 6)])
    11
    """
    hits = []
    at = text.find(words, after)
    while at >= 0:
        hits.append(at)
        at = text.find(words, at + 1)

    def whole(i: int) -> bool:
        end = i + len(words)
        return (i == 0 or not text[i - 1].isalnum()) and (
            end == len(text) or not text[end].isalnum()
        )

    def free(i: int) -> bool:
        return all(i + len(words) <= s or e <= i for s, e in taken)

    for fits in (lambda i: whole(i) and free(i), free):
        for i in hits:
            if fits(i):
                return i
    return hits[0] if hits else -1


def _box(box: object) -> object:
    if not isinstance(box, dict):
        return box
    # Models write whole pixels as ints; the payload wants floats.
    return {
        "score" if k == "confidence" else k: float(v)
        if k != "label" and isinstance(v, int) and not isinstance(v, bool)
        else v
        for k, v in box.items()
    }
