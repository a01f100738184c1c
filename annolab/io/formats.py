"""Answers in the formats other annotation tools read, through each kind's ``exports``.

``label_studio_task`` gives one task of a Label Studio JSON export (its ``data`` and one
``annotations`` entry per answer); ``prodigy_task`` one line of a Prodigy JSONL file. A form's
answers become one region list (Label Studio) or one line's fields (Prodigy) together, each
question under its own name.

The reverse, ``label_studio_payload`` and ``prodigy_payload``, reads an annotation's regions or a
Prodigy line back into a payload through each kind's ``imports``.

>>> from annolab.schema.layout import Layout
>>> spans = {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "PER"}]}
>>> label_studio_result(spans, Layout.load("ner"), {"text": "Ada met Grace"})
[{'from_name': 'entities', 'to_name': 'text', 'type': 'labels', 'value': {'start': 0, \
'end': 3, 'text': 'Ada', 'labels': ['PER']}}]
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import annolab.kinds
from annolab.errors import ValidationError
from annolab.kinds import Target
from annolab.schema.images import image_info
from annolab.schema.layout import Layout

__all__ = [
    "label_studio_payload",
    "label_studio_result",
    "label_studio_task",
    "prodigy_payload",
    "prodigy_task",
]

# Enough of any image file for its header (PNG, GIF, WebP, and JPEG with modest metadata).
_HEADER_BYTES = 1 << 16


def _answers(payload: Mapping[str, Any], layout: Layout) -> dict[str, Mapping[str, Any]]:
    if payload.get("kind") == "form":
        return dict(payload.get("answers") or {})
    return {layout.questions[0].name: payload}


def _target(layout: Layout, data: Mapping[str, Any], name: str) -> Target:
    question = layout.question(name)
    # Label Studio names the objects a control labels: a pairwise comparison both outputs.
    pair = [str(getattr(question, side)) for side in ("a", "b") if hasattr(question, side)]
    field = getattr(question, "field", None) or (",".join(pair) if pair else "text")
    source = data.get(field, data.get("text"))
    width, height = data.get("width"), data.get("height")
    if question.kind == "boxes" and not (width and height):
        width, height = _image_size(source)
    text = data.get(field) if isinstance(data.get(field), str) else data.get("text")
    return Target(name=name, field=field, text=text, width=width, height=height)


def _image_size(source: object) -> tuple[int | None, int | None]:
    """The pixel size of a local image (a path, or a ``file:`` URL); None, None otherwise: a
    remote image's size comes from the task's ``width`` and ``height`` fields."""
    if isinstance(source, (bytes, bytearray)):
        head = bytes(source[:_HEADER_BYTES])
    elif isinstance(source, str) and not urllib.parse.urlsplit(source).scheme.startswith("http"):
        path = Path(urllib.parse.urlsplit(source).path if source.startswith("file:") else source)
        try:
            with path.open("rb") as f:
                head = f.read(_HEADER_BYTES)
        except OSError:
            return None, None
    else:
        return None, None
    info = image_info(head)
    return (info.width, info.height) if info else (None, None)


def _export(fmt: str, answer: Mapping[str, Any], target: Target) -> Any:
    kind = annolab.kinds.get(answer.get("kind"))
    export = kind.exports.get(fmt)
    if export is None:
        written = [name for name in annolab.kinds.names() if fmt in annolab.kinds.get(name).exports]
        rule = f"has no {fmt} form; {fmt} takes {', '.join(written)}"
        raise ValidationError(f"answers.{target.name}.kind", kind.name, rule)
    return export(answer, target)


def label_studio_result(
    payload: Mapping[str, Any], layout: Layout, data: Mapping[str, Any]
) -> list[dict[str, Any]]:
    """An answer as the ``result`` regions of a Label Studio annotation."""
    regions: list[dict[str, Any]] = []
    for name, answer in _answers(payload, layout).items():
        regions += _export("label-studio", answer, _target(layout, data, name))
    return regions


def label_studio_task(
    task_id: int | str,
    data: Mapping[str, Any],
    answers: Sequence[Mapping[str, Any]],
    layout: Layout,
    *,
    annotators: Sequence[str] = (),
) -> dict[str, Any]:
    """A task of a Label Studio JSON export: ``data`` and one annotation per answer (with who
    gave it in ``completed_by`` when ``annotators`` are given)."""
    annotations = []
    for i, answer in enumerate(answers):
        entry: dict[str, Any] = {"result": label_studio_result(answer, layout, data)}
        if i < len(annotators):
            entry["completed_by"] = annotators[i]
        annotations.append(entry)
    return {"id": task_id, "data": dict(data), "annotations": annotations}


def prodigy_task(
    payload: Mapping[str, Any],
    layout: Layout,
    data: Mapping[str, Any],
    *,
    annotator: str | None = None,
    answer: str = "accept",
) -> dict[str, Any]:
    """A line of a Prodigy JSONL file: the task's text (or image) with the answer's fields,
    ``answer`` (accept, reject or ignore) and the annotator as ``_annotator_id``."""
    if answer not in ("accept", "reject", "ignore"):
        raise ValidationError("answer", answer, "must be accept, reject or ignore")
    line: dict[str, Any] = {}
    for name, given in _answers(payload, layout).items():
        target = _target(layout, data, name)
        fields = _export("prodigy", given, target)
        clash = sorted(set(fields) & set(line))
        if clash:
            rule = f"writes {clash} again; a Prodigy line holds one answer of each interface"
            raise ValidationError(f"answers.{name}", given.get("kind"), rule)
        line.update(fields)
        source = data.get(target.field, data.get("text"))
        line.setdefault("image" if given.get("kind") == "boxes" else "text", source)
    line["answer"] = answer
    if annotator is not None:
        line["_annotator_id"] = annotator
    return line


# Reading answers back.


def _import_target(layout: Layout, data: Mapping[str, Any], name: str) -> Target:
    question = layout.question(name)
    field = getattr(question, "field", None) or "text"
    found = data.get(field)
    text = found if isinstance(found, str) else data.get("text")
    width, height = data.get("width"), data.get("height")
    return Target(
        name=name,
        field=field,
        text=text if isinstance(text, str) else None,
        width=width if isinstance(width, int) else None,
        height=height if isinstance(height, int) else None,
    )


def _import(fmt: str, name: str, found: Any, layout: Layout, data: Mapping[str, Any]) -> Any:
    question = layout.question(name)
    kind = annolab.kinds.get(question.kind)
    read = kind.imports.get(fmt)
    if read is None:
        read_by = [n for n in annolab.kinds.names() if fmt in annolab.kinds.get(n).imports]
        rule = f"cannot be read from {fmt}; {fmt} gives {', '.join(read_by)}"
        raise ValidationError(f"questions.{name}.kind", kind.name, rule)
    payload = read(found, _import_target(layout, data, name))
    scale = getattr(question, "scale", None)
    if payload is not None and payload.get("kind") == "rating" and isinstance(scale, int):
        payload = {**payload, "min": 1, "max": scale}  # the question's scale, not the default
    return payload


def _whole(layout: Layout, answers: Mapping[str, Any]) -> dict[str, Any] | None:
    if len(layout.questions) == 1:
        only = answers.get(layout.questions[0].name)
        return None if only is None else dict(only)
    found = {name: answer for name, answer in answers.items() if answer is not None}
    return {"kind": "form", "answers": found} if found else None


_REGION = re.compile(r"^regions\[(\d+)\]")


def label_studio_payload(
    result: Sequence[Any], layout: Layout, data: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The payload a Label Studio annotation's ``result`` regions stand for, read by each
    question's kind (its ``imports``); a layout of several questions gives a form.

    A region belongs to the question its ``from_name`` names (or ``<question>.<part>``, a
    rubric's criteria); in a one-question layout every region is that question's, whatever
    the Label Studio project called its control. A bad region raises ``ValidationError``
    naming it ``result[k]``.

    >>> from annolab.schema.layout import Layout
    >>> region = {"from_name": "label", "to_name": "text", "type": "choices",
    ...           "value": {"choices": ["pos"]}}
    >>> label_studio_payload([region], Layout.load("classify"), {"text": "great"})
    {'kind': 'choice', 'label': 'pos'}
    """
    names = [q.name for q in layout.questions]
    grouped: dict[str, list[tuple[int, Any]]] = {}
    for k, region in enumerate(result):
        from_name = region.get("from_name") if isinstance(region, Mapping) else None
        if not isinstance(from_name, str):
            raise ValidationError(f"result[{k}].from_name", from_name, "must be a control name")
        if len(names) == 1:
            name: str | None = names[0]
        else:
            name = from_name if from_name in names else from_name.partition(".")[0]
        if name not in names:
            rule = f"is not a question of layout {layout.name!r}; use one of {', '.join(names)}"
            raise ValidationError(f"result[{k}].from_name", from_name, rule)
        grouped.setdefault(str(name), []).append((k, region))
    if len(names) == 1:
        grouped.setdefault(names[0], [])
    answers = {}
    for name, found in grouped.items():
        places = [k for k, _ in found]
        try:
            answers[name] = _import("label-studio", name, [r for _, r in found], layout, data)
        except ValidationError as exc:
            at = _REGION.match(exc.field)
            field = f"result[{places[int(at.group(1))]}]{exc.field[at.end() :]}" if at else None
            raise ValidationError(field or f"{name}.{exc.field}", exc.value, exc.rule) from exc
    return _whole(layout, answers)


def prodigy_payload(
    line: Mapping[str, Any], layout: Layout, data: Mapping[str, Any]
) -> dict[str, Any] | None:
    """The payload a Prodigy task line holds, read by each question's kind (its ``imports``):
    a form's answers each from the fields of its kind's interface; None when the line holds no
    answer (a task still to annotate).

    >>> from annolab.schema.layout import Layout
    >>> line = {"text": "Ada", "spans": [{"start": 0, "end": 3, "label": "PER"}]}
    >>> prodigy_payload(line, Layout.load("ner"), line)
    {'kind': 'spans', 'spans': [{'start': 0, 'end': 3, 'label': 'PER'}]}
    """
    answers = {q.name: _import("prodigy", q.name, line, layout, data) for q in layout.questions}
    return _whole(layout, answers)
