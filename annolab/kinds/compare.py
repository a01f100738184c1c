"""What review and adjudication show of stored answers, through each kind's facets.

An answer is a payload dict of one kind, or a layout's form (``{"kind": "form", "answers":
{question: payload}}``); a form is taken question by question. Results are keyed by question
name (the layout's only question for a one-kind payload).

>>> from annolab.schema.layout import Layout
>>> layout = Layout.load("classify")
>>> a, b = {"kind": "choice", "label": "pos"}, {"kind": "choice", "label": "neg"}
>>> disagreements([a, b], layout)
[{'label': [0]}, {'label': [0]}]
>>> differs(a, {"label": [0]}, layout, {})
'⚠ Not in every answer: pos'
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import annolab.kinds
from annolab.kinds._common import read_field
from annolab.kinds.correction.diff import char_diff
from annolab.schema import LabelSchema
from annolab.schema.layout import Layout

__all__ = ["answers", "changes", "describe", "differs", "disagreements", "merge", "views"]

Marks = dict[str, list[int]]


def answers(payload: Mapping[str, Any], layout: Layout) -> dict[str, Mapping[str, Any]]:
    """The answer to each question: a form's own, else the payload as the first question's."""
    if payload.get("kind") == "form":
        return dict(payload.get("answers") or {})
    return {layout.questions[0].name: payload}


def _text(layout: Layout, data: Mapping[str, Any], question: str) -> str | None:
    found = read_field(layout.question(question), data)
    return found if isinstance(found, str) else None


def _parts(payload: Mapping[str, Any], text: str | None) -> list[str]:
    kind = annolab.kinds.find(payload.get("kind"))
    return [str(dict(payload))] if kind is None else kind.parts(payload, text)


def _one(payload: Mapping[str, Any], text: str | None) -> str:
    kind = annolab.kinds.find(payload.get("kind"))
    title = kind.title if kind is not None else str(payload.get("kind"))
    return f"{title}: " + ("; ".join(_parts(payload, text)) or "none")


def describe(payload: Mapping[str, Any], layout: Layout, data: Mapping[str, Any]) -> str:
    """An answer as one line of text (shown with ``Label``, never as HTML)."""
    given = answers(payload, layout)
    if payload.get("kind") != "form":
        ((name, only),) = given.items()
        return _one(only, _text(layout, data, name))
    lines = [f"{name}: {_one(a, _text(layout, data, name))}" for name, a in given.items()]
    return " | ".join(lines) or "No answers"


def disagreements(payloads: Sequence[Mapping[str, Any]], layout: Layout) -> list[Marks]:
    """For each answer, by question, the indexes of its parts not shared by every answer.

    An answer that leaves a question out, or answers it with another kind, disputes all of
    that question's parts in the others.
    """
    given = [answers(p, layout) for p in payloads]
    marks: list[Marks] = [{} for _ in payloads]
    for question in layout.questions:
        name = question.name
        found = [g.get(name) for g in given]
        present = [a for a in found if a is not None]
        kinds = {a.get("kind") for a in present}
        kind = annolab.kinds.find(next(iter(kinds))) if len(kinds) == 1 else None
        if kind is not None and len(present) == len(found):
            for mark, disputed in zip(marks, kind.disputed(present), strict=True):
                mark[name] = disputed
            continue
        for mark, answer in zip(marks, found, strict=True):
            if answer is not None:
                mark[name] = list(range(max(1, len(_parts(answer, None))))) if present else []
    return marks


def differs(
    payload: Mapping[str, Any], marks: Marks, layout: Layout, data: Mapping[str, Any]
) -> str:
    """The note under an answer: the parts of it not in every answer, in words."""
    shown = []
    for name, answer in answers(payload, layout).items():
        parts = _parts(answer, _text(layout, data, name))
        picked = [parts[i] for i in marks.get(name, []) if i < len(parts)]
        prefix = f"{name}: " if payload.get("kind") == "form" else ""
        shown += [prefix + part for part in picked]
    if not shown:
        return "Agrees with every other answer."
    return "⚠ Not in every answer: " + "; ".join(shown)


def changes(
    before: Mapping[str, Any], after: Mapping[str, Any], layout: Layout, data: Mapping[str, Any]
) -> str:
    """What ``after`` (a person's answer) changed from ``before`` (a model's): the parts it
    removed (-) and added (+), in words.

    >>> from annolab.schema.layout import Layout
    >>> model = {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "PER"}]}
    >>> person = {"kind": "spans", "spans": [{"start": 0, "end": 12, "label": "PER"}]}
    >>> changes(model, person, Layout.load("ner"), {"text": "Ada Lovelace wrote"})
    "Changed: - 'Ada' PER; + 'Ada Lovelace' PER"
    >>> fixed = Layout.from_dict({"name": "fix", "questions": [{"name": "t", "kind": "text"}]})
    >>> changes({"kind": "text", "text": "capital of Spain."},
    ...         {"kind": "text", "text": "capital of France."}, fixed, {})
    "Changed: - 'Spain'; + 'France'"
    """
    removed, added = disagreements([before, after], layout)
    shown = _text_edits(before, after, layout)
    texts = {n for n, a in answers(before, layout).items() if isinstance(a.get("text"), str)}
    for name, answer in answers(before, layout).items():
        parts = _parts(answer, _text(layout, data, name))
        shown += [
            "- " + parts[i] for i in removed.get(name, []) if i < len(parts) and name not in texts
        ]
    for name, answer in answers(after, layout).items():
        parts = _parts(answer, _text(layout, data, name))
        shown += [
            "+ " + parts[i] for i in added.get(name, []) if i < len(parts) and name not in texts
        ]
    return "Changed: " + "; ".join(shown) if shown else "No change."


def _text_edits(before: Mapping[str, Any], after: Mapping[str, Any], layout: Layout) -> list[str]:
    """Free text (a correction, a text answer) changed: its character edits, not the whole
    texts side by side; the question is then left out of the part-by-part comparison."""
    edits = []
    theirs = answers(after, layout)
    for name, answer in answers(before, layout).items():
        other = theirs.get(name)
        old, new = answer.get("text"), (other or {}).get("text")
        if not (isinstance(old, str) and isinstance(new, str)) or old == new:
            continue
        for op, text in char_diff(old, new):
            if op != "=":
                edits.append(("- " if op == "-" else "+ ") + repr(text))
    return edits


def merge(
    payloads: Sequence[Mapping[str, Any]], layout: Layout, allow_overlap: bool
) -> dict[str, Any] | None:
    """The answers merged as a starting point for an adjudicator to edit: each question's
    answers merged by their kind (every distinct span, box or label; a single value: the
    first answer's)."""
    if not payloads:
        return None
    given = [answers(p, layout) for p in payloads]
    merged: dict[str, Any] = {}
    for question in layout.questions:
        found = [g[question.name] for g in given if question.name in g]
        same = [a for a in found if a.get("kind") == question.kind]
        if same:
            merged[question.name] = annolab.kinds.get(question.kind).merge(same, allow_overlap)
    if payloads[0].get("kind") != "form":
        return merged.get(layout.questions[0].name) or dict(payloads[0])
    return {"kind": "form", "answers": merged}


def views(
    payload: Mapping[str, Any],
    marks: Marks,
    layout: Layout,
    data: Mapping[str, Any],
    labels: object,
) -> list[Any]:
    """Read-only widgets drawing the answer over the task (spans over the text, …), with the
    disputed parts marked; empty when a line of text says it all."""
    drawn = []
    for name, answer in answers(payload, layout).items():
        kind = annolab.kinds.find(answer.get("kind"))
        if kind is None:
            continue
        schema: LabelSchema = layout.labels_for(name, labels)
        view = kind.view(answer, layout.question(name), data, schema, marks.get(name, []))
        if view is not None:
            drawn.append(view)
    return drawn
