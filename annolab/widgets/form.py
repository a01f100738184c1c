"""Form: the questions of a layout that are not drawn on a text or an image.

``choice`` (buttons, or a select when there are many options), ``choices`` (toggles),
``rating`` (1..scale) and ``text`` (a textarea), plus the layout's display blocks (header,
guidelines, suggestions) as text. Front end: ``widgets/src/form/`` built into
``annolab/static/form.js``. Each edit comes back as a patch ``{"op": "set", "question", "value"}``
checked here, at the edge, before it reaches ``value`` (STYLE.md 3).
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence
from typing import Any

import traitlets

from annolab.schema import LabelSchema
from annolab.widgets._base import AnnotationWidget, WidgetTraitError, front_end

__all__ = ["FORM_KINDS", "Form"]

FORM_KINDS = ("choice", "choices", "rating", "text")
_BLOCK_KINDS = ("header", "guidelines", "suggestions", "text")


class Form(AnnotationWidget):
    """Answers to choice, choices, rating and text questions, and display blocks as text.

    ``questions`` are dicts: ``{"name", "kind", "required", "description"}`` and, by kind,
    ``options`` (``[{"name", "color", "hotkey"}]``), ``min``/``max`` (choices), ``scale``
    (rating) or ``rows``/``max_chars`` (text). ``blocks`` are display blocks already turned into
    text: ``{"kind": "header", "fields": [{"name", "value"}], "badges": [str]}``,
    ``{"kind": "guidelines" | "text" | "suggestions", "title", "text"}``. ``value`` maps each
    question's name to its answer: a name or None (choice), a list of names (choices), an int or
    None (rating), a string (text).

    Keys: a question's hotkeys (an option's hotkey, 1-9 for a rating) act only while that
    question has focus; Alt+Down / Alt+Up move to the next or previous question; Ctrl+Enter
    submits and Esc skips.

    Example:
        >>> form = Form(questions=[{"name": "confidence", "kind": "choice",
        ...                         "options": [{"name": "high"}, {"name": "low"}]}])
        >>> form.value
        {'confidence': None}
        >>> form.value = {"confidence": "high"}
        >>> form.value["confidence"]
        'high'
    """

    _esm = front_end("form", "js")
    _css = front_end("form", "css")

    questions: traitlets.List[Any] = traitlets.List().tag(sync=True)
    blocks: traitlets.List[Any] = traitlets.List().tag(sync=True)
    value: traitlets.Dict[str, Any] = traitlets.Dict().tag(sync=True)

    def __init__(
        self,
        *,
        questions: Sequence[Mapping[str, Any]] = (),
        blocks: Sequence[Mapping[str, Any]] = (),
        value: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        checked = [_check_question(i, q) for i, q in enumerate(questions)]
        names = [q["name"] for q in checked]
        for i, name in enumerate(names):
            if names.index(name) != i:
                raise WidgetTraitError(f"questions[{i}].name", name, "is used by another question")
        self._by_name = {q["name"]: q for q in checked}
        start = {q["name"]: _empty(q) for q in checked}
        start.update(dict(value or {}))
        super().__init__(
            questions=checked,
            blocks=[_check_block(i, b) for i, b in enumerate(blocks)],
            value=start,
            **kwargs,
        )

    @traitlets.validate("value")
    def _validate_value(self, proposal: traitlets.Bunch) -> dict[str, Any]:
        raw = proposal["value"]
        out: dict[str, Any] = {}
        for name, answer in raw.items():
            question = self._by_name.get(name)
            if question is None:
                known = ", ".join(self._by_name) or "none"
                rule = f"is not a question of this form; its questions are {known}"
                raise WidgetTraitError("value", name, rule)
            out[name] = check_answer(question, answer)
        for name, question in self._by_name.items():
            out.setdefault(name, _empty(question))
        return out

    @property
    def payload(self) -> Any:
        """The answers as payload dicts by question name (unanswered questions left out)."""
        return answers_of(self.questions, self.value)

    def _apply_patch(self, patch: Mapping[str, Any], buffers: Sequence[bytes]) -> str | None:
        if patch.get("op") != "set":
            return super()._apply_patch(patch, buffers)
        name = patch.get("question")
        if name not in self._by_name:
            raise WidgetTraitError("question", name, f"is not one of {list(self._by_name)}")
        self.value = {**self.value, str(name): patch.get("value")}
        return None

    def _check_labels_fit(self, schema: LabelSchema) -> None:
        """A form's options belong to each question; the widget-wide labels are unused."""


def _check_question(i: int, raw: Mapping[str, Any]) -> dict[str, Any]:
    at = f"questions[{i}]"
    kind = raw.get("kind")
    if kind not in FORM_KINDS:
        rule = f"is not a form question kind; use one of {', '.join(FORM_KINDS)}"
        raise WidgetTraitError(f"{at}.kind", kind, rule)
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise WidgetTraitError(f"{at}.name", name, "must be a non-empty string")
    q: dict[str, Any] = {
        "name": name,
        "kind": kind,
        "required": bool(raw.get("required", False)),
        "description": str(raw.get("description") or ""),
    }
    if kind in ("choice", "choices"):
        options = [
            {
                "name": str(o["name"]),
                "color": o.get("color") or "",
                "hotkey": o.get("hotkey") or "",
            }
            for o in raw.get("options") or []
        ]
        if not options:
            raise WidgetTraitError(f"{at}.options", [], "must offer at least one option")
        q["options"] = options
        if kind == "choices":
            q["min"] = int(raw.get("min") or 0)
            q["max"] = raw.get("max")
    elif kind == "rating":
        scale = raw.get("scale", 5)
        if isinstance(scale, bool) or not isinstance(scale, int) or not 2 <= scale <= 10:
            raise WidgetTraitError(f"{at}.scale", scale, "must be an int from 2 to 10")
        q["scale"] = scale
    else:
        q["rows"] = int(raw.get("rows") or 3)
        q["max_chars"] = raw.get("max_chars")
    return q


def _check_block(i: int, raw: Mapping[str, Any]) -> dict[str, Any]:
    kind = raw.get("kind")
    if kind not in _BLOCK_KINDS:
        rule = f"is not a display block the form shows; use one of {', '.join(_BLOCK_KINDS)}"
        raise WidgetTraitError(f"blocks[{i}].kind", kind, rule)
    return dict(raw)


def _empty(question: Mapping[str, Any]) -> Any:
    return {"choice": None, "choices": [], "rating": None, "text": ""}[question["kind"]]


def check_answer(question: Mapping[str, Any], answer: object) -> Any:
    """One answer checked against its question; the error names the question."""
    check = {"choice": _check_choice, "choices": _check_choices, "rating": _check_rating}
    return check.get(question["kind"], _check_text)(
        question, answer, f"value[{question['name']!r}]"
    )


def _check_choice(question: Mapping[str, Any], answer: object, field: str) -> Any:
    names = [o["name"] for o in question["options"]]
    if answer is not None and answer not in names:
        rule = f"is not an option of {question['name']!r}; use one of {names}"
        raise WidgetTraitError(field, answer, rule)
    return answer


def _check_choices(question: Mapping[str, Any], answer: object, field: str) -> Any:
    name = question["name"]
    names = [o["name"] for o in question["options"]]
    if isinstance(answer, str) or not isinstance(answer, (list, tuple)):
        raise WidgetTraitError(field, answer, f"must be a list of options of {name!r}")
    for item in answer:
        if item not in names:
            rule = f"holds {item!r}, not an option of {name!r}; use {names}"
            raise WidgetTraitError(field, answer, rule)
    if len(set(answer)) != len(answer):
        raise WidgetTraitError(field, answer, "names an option twice")
    top = question.get("max")
    if top is not None and len(answer) > top:
        raise WidgetTraitError(field, answer, f"chooses more than max={top} options")
    return list(answer)


def _check_rating(question: Mapping[str, Any], answer: object, field: str) -> Any:
    if answer is None:
        return None
    scale = question["scale"]
    rule = f"must be an int from 1 to {scale} (the scale of {question['name']!r}), or None"
    # bool is an int but not a rating.
    if isinstance(answer, bool) or not isinstance(answer, numbers.Integral):
        raise WidgetTraitError(field, answer, rule)
    if not 1 <= int(answer) <= scale:
        raise WidgetTraitError(field, answer, rule)
    return int(answer)


def _check_text(question: Mapping[str, Any], answer: object, field: str) -> Any:
    name = question["name"]
    if not isinstance(answer, str):
        raise WidgetTraitError(field, answer, f"must be a string (the text of {name!r})")
    top = question.get("max_chars")
    if top is not None and len(answer) > top:
        rule = f"is {len(answer)} characters long; {name!r} takes at most max_chars={top}"
        raise WidgetTraitError(field, f"{answer[:40]}…", rule)
    return answer


def answers_of(questions: Sequence[Mapping[str, Any]], value: Mapping[str, Any]) -> dict[str, Any]:
    """The given answers as payload dicts; an unanswered question is left out."""
    out: dict[str, Any] = {}
    for q in questions:
        answer = value.get(q["name"])
        kind = q["kind"]
        if kind == "choice" and answer is not None:
            out[q["name"]] = {"kind": "choice", "label": answer}
        elif kind == "choices" and answer:
            out[q["name"]] = {"kind": "choices", "labels": list(answer)}
        elif kind == "rating" and answer is not None:
            out[q["name"]] = {"kind": "rating", "value": answer, "min": 1, "max": q["scale"]}
        elif kind == "text" and answer:
            out[q["name"]] = {"kind": "text", "text": answer}
    return out
