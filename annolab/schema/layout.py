"""A layout: what a task shows and what it asks, as typed data (pure: no database, no UI).

A layout declares ``inputs`` (the fields of the task data it reads), ``display`` blocks (what is
shown around the questions), ``questions`` (what is asked; ``name`` keys the answer) and
``completion`` rules. It round-trips to dict and YAML, and every problem is a ``LayoutError``
naming the path, quoting the value and stating the rule. Nothing in a layout is HTML or script:
every value is shown as text by a registered component.

>>> layout = Layout.load("ner")
>>> layout.answer_kinds
('spans',)
>>> Layout.from_dict({"name": "x", "questions": [{"kind": "slider", "name": "q"}]})
Traceback (most recent call last):
annolab.errors.LayoutError: questions[0].kind='slider' is not a question kind; use one of spans, \
choice, choices, boxes, rating, text, pairwise, ranking, rubric, errors, correction
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal

import pydantic
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    Strict,
    field_validator,
    model_validator,
)

from annolab.errors import LayoutError, ValidationError, describe
from annolab.schema.labels import Label, LabelSchema
from annolab.schema.payloads import (
    BoxesPayload,
    FormPayload,
    Payload,
    SchemaModel,
    SpansPayload,
    annolab_error,
)

__all__ = [
    "DISPLAY_KINDS",
    "INPUT_TYPES",
    "QUESTION_KINDS",
    "Badge",
    "CompletionRule",
    "Input",
    "Layout",
    "layout_error",
]

INPUT_TYPES = ("text", "string", "integer", "number", "boolean", "enum", "image", "url", "list")
QUESTION_KINDS = (
    "spans",
    "choice",
    "choices",
    "boxes",
    "rating",
    "text",
    "pairwise",
    "ranking",
    "rubric",
    "errors",
    "correction",
)
DISPLAY_KINDS = ("header", "text", "image", "guidelines", "suggestions")

Name = Annotated[str, Strict(), Field(min_length=1)]
# Strict scalars: "yes" is not taken for true, nor "3" for 3, so a layout reads back as written.
Bool = Annotated[bool, Strict()]
Int = Annotated[int, Strict()]


def layout_error(path: str, value: object, rule: str) -> LayoutError:
    """A ``LayoutError`` in the house form, carrying ``field``, ``value`` and ``rule``.

    >>> str(layout_error("questions[0].name", "", "must not be empty"))
    "questions[0].name='' must not be empty"
    """
    error = LayoutError(describe(path, value, rule))
    error.field, error.value, error.rule = path, value, rule  # type: ignore[attr-defined]
    return error


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _as_label(item: object) -> object:
    # A bare name is the short form of a label (options: [high, medium, low]).
    return {"name": item} if isinstance(item, str) else item


def _labels(items: object) -> object:
    if isinstance(items, Sequence) and not isinstance(items, str):
        return [_as_label(item) for item in items]
    return items


def _check_labels(labels: tuple[Label, ...] | None, at: tuple[str | int, ...]) -> None:
    names: dict[str, int] = {}
    hotkeys: dict[str, int] = {}
    for index, label in enumerate(labels or ()):
        first = names.setdefault(label.name, index)
        if first != index:
            rule = f"is already the name of {at[-1]}[{first}]; names must be unique in a question"
            raise annolab_error(rule, path=(*at, index, "name"), value=label.name)
        if label.hotkey is not None:
            first = hotkeys.setdefault(label.hotkey, index)
            if first != index:
                rule = (
                    f"is already the hotkey of {at[-1]}[{first}]; "
                    "hotkeys must be unique in a question"
                )
                raise annolab_error(rule, path=(*at, index, "hotkey"), value=label.hotkey)


LabelList = tuple[Label, ...] | None


class Input(_Part):
    """A field of the task data the layout reads."""

    name: Name
    type: Literal[
        "text", "string", "integer", "number", "boolean", "enum", "image", "url", "list"
    ] = "string"
    required: Bool = False
    values: tuple[str, ...] | None = None
    default: str | int | float | bool | None = None
    description: str = ""

    @model_validator(mode="after")
    def _enum(self) -> Input:
        if self.type == "enum" and not self.values:
            raise annolab_error(
                "must list the values of an enum input", path=("values",), value=self.values
            )
        if self.type != "enum" and self.values is not None:
            rule = f"is only for an enum input; this input is of type {self.type!r}"
            raise annolab_error(rule, path=("values",), value=self.values)
        if self.values is not None and self.default is not None and self.default not in self.values:
            rule = f"is not one of the values {list(self.values)}"
            raise annolab_error(rule, path=("default",), value=self.default)
        return self


class When(_Part):
    """Show a block only when a task field is present and non-empty, or a suggestion exists."""

    field: str | None = None
    prediction: str | None = None

    @model_validator(mode="after")
    def _one(self) -> When:
        if (self.field is None) == (self.prediction is None):
            rule = "must name exactly one of field or prediction"
            raise annolab_error(rule, value=self.model_dump(exclude_none=True))
        return self


class Badge(_Part):
    """A task field shown as a small tag in a header."""

    field: str
    format: Literal["plain", "capitalize", "upper"] = "plain"

    def render(self, value: object) -> str:
        """The badge's text for ``value``.

        >>> Badge(field="priority", format="capitalize").render("high")
        'High'
        """
        text = "" if value is None else str(value)
        if self.format == "capitalize":
            return text.capitalize()
        if self.format == "upper":
            return text.upper()
        return text


class _Block(_Part):
    name: str | None = None
    when: When | None = None


class HeaderBlock(_Block):
    kind: Literal["header"] = "header"
    fields: tuple[str, ...] = ()
    badges: tuple[Badge, ...] = ()


class TextBlock(_Block):
    kind: Literal["text"] = "text"
    field: str


class ImageBlock(_Block):
    kind: Literal["image"] = "image"
    field: str


class GuidelinesBlock(_Block):
    kind: Literal["guidelines"] = "guidelines"
    text: str | None = None  # None: the project's guidelines


class SuggestionsBlock(_Block):
    kind: Literal["suggestions"] = "suggestions"
    question: str


DisplayBlock = Annotated[
    HeaderBlock | TextBlock | ImageBlock | GuidelinesBlock | SuggestionsBlock,
    Field(discriminator="kind"),
]


class _Question(_Part):
    """What every question kind answers: how its answers travel to and from its widget.

    ``answer`` arguments are the question's payload (a model or its dict) or None (unanswered).
    """

    name: Name
    required: Bool = False
    description: str = ""

    def value_of(self, answer: object) -> Any:
        """The value the question's widget or form control edits, for ``answer``."""
        raise NotImplementedError

    def answer_of(self, value: object) -> dict[str, Any] | None:
        """A form control's ``value`` as the question's payload dict; None when unanswered."""
        raise NotImplementedError

    def suggestions_of(self, answer: object) -> list[dict[str, Any]]:
        """``answer`` as the items a widget offers to accept or reject (none by default)."""
        return []

    def control(self, labels: LabelSchema) -> dict[str, Any] | None:
        """The form control that asks the question (``Form``'s question spec), or None for a
        question drawn by a widget of its own (spans over a text, boxes over an image)."""
        return None

    def reads(self) -> tuple[str, ...]:
        """The task inputs the question reads (each must be declared)."""
        field = getattr(self, "field", None)
        return () if field is None else (field,)

    def check(self, answer: Any, data: Mapping[str, Any] | None, where: str) -> None:
        """The question's own rules for an answer the payload validator accepted (a count, a
        scale, a length, ids of the task's outputs); raises ``ValidationError`` at ``where``."""

    def _base_control(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,  # type: ignore[attr-defined]  # every subclass has its literal
            "required": self.required,
            "description": self.description,
        }


def _answer_dict(answer: object) -> dict[str, Any]:
    if answer is None:
        return {}
    if isinstance(answer, SchemaModel):
        return answer.to_dict()
    return dict(answer) if isinstance(answer, Mapping) else {}


def _control_options(labels: LabelSchema) -> list[dict[str, str]]:
    return [
        {"name": o.name, "color": o.color or "", "hotkey": o.hotkey or ""} for o in labels.labels
    ]


class SpansQuestion(_Question):
    kind: Literal["spans"] = "spans"
    field: str
    labels: LabelList = None
    allow_overlap: Bool | None = None  # None: the project's label schema decides
    snap_to_words: Bool = False

    _labels = field_validator("labels", mode="before")(_labels)

    def value_of(self, answer: object) -> Any:
        return list(_answer_dict(answer).get("spans") or [])

    def answer_of(self, value: object) -> dict[str, Any] | None:
        return {"kind": "spans", "spans": list(value or [])}  # type: ignore[call-overload]

    def suggestions_of(self, answer: object) -> list[dict[str, Any]]:
        return [dict(s) for s in self.value_of(answer)]


class ChoiceQuestion(_Question):
    kind: Literal["choice"] = "choice"
    field: str | None = None
    options: LabelList = None

    _options = field_validator("options", mode="before")(_labels)

    def value_of(self, answer: object) -> Any:
        return _answer_dict(answer).get("label")

    def answer_of(self, value: object) -> dict[str, Any] | None:
        return None if value is None else {"kind": "choice", "label": value}

    def suggestions_of(self, answer: object) -> list[dict[str, Any]]:
        # A persona's answer carries no confidence; the widgets then say just "suggested".
        label = self.value_of(answer)
        return [] if label is None else [{"label": label}]

    def control(self, labels: LabelSchema) -> dict[str, Any] | None:
        return {**self._base_control(), "options": _control_options(labels)}


class ChoicesQuestion(_Question):
    kind: Literal["choices"] = "choices"
    field: str | None = None
    options: LabelList = None
    min: Int = Field(default=0, ge=0)
    max: Int | None = Field(default=None, ge=1)

    _options = field_validator("options", mode="before")(_labels)

    def value_of(self, answer: object) -> Any:
        return list(_answer_dict(answer).get("labels") or [])

    def answer_of(self, value: object) -> dict[str, Any] | None:
        return {"kind": "choices", "labels": list(value)} if value else None  # type: ignore[call-overload]

    def suggestions_of(self, answer: object) -> list[dict[str, Any]]:
        return [{"label": label} for label in self.value_of(answer)]

    def control(self, labels: LabelSchema) -> dict[str, Any] | None:
        return {
            **self._base_control(),
            "options": _control_options(labels),
            "min": self.min,
            "max": self.max,
        }

    def check(self, answer: Any, data: Mapping[str, Any] | None, where: str) -> None:
        count = len(answer.labels)
        if count < self.min or (self.max is not None and count > self.max):
            rule = f"chooses {count}; choose between {self.min} and {self.max or 'any'}"
            raise ValidationError(where + "labels", list(answer.labels), rule)


class BoxesQuestion(_Question):
    kind: Literal["boxes"] = "boxes"
    field: str
    labels: LabelList = None

    _labels = field_validator("labels", mode="before")(_labels)

    def value_of(self, answer: object) -> Any:
        return list(_answer_dict(answer).get("boxes") or [])

    def answer_of(self, value: object) -> dict[str, Any] | None:
        return {"kind": "boxes", "boxes": list(value or [])}  # type: ignore[call-overload]

    def suggestions_of(self, answer: object) -> list[dict[str, Any]]:
        return [dict(b) for b in self.value_of(answer)]


class RatingQuestion(_Question):
    kind: Literal["rating"] = "rating"
    scale: Int = Field(default=5, ge=2, le=10)

    def value_of(self, answer: object) -> Any:
        return _answer_dict(answer).get("value")

    def answer_of(self, value: object) -> dict[str, Any] | None:
        return (
            None
            if value is None
            else {"kind": "rating", "value": value, "min": 1, "max": self.scale}
        )

    def control(self, labels: LabelSchema) -> dict[str, Any] | None:
        return {**self._base_control(), "scale": self.scale}

    def check(self, answer: Any, data: Mapping[str, Any] | None, where: str) -> None:
        if (answer.min, answer.max) != (1, self.scale):
            rule = f"must be 1..{self.scale}, the scale of question {self.name!r}"
            raise ValidationError(where + "max", answer.max, rule)


class TextQuestion(_Question):
    kind: Literal["text"] = "text"
    rows: Int = Field(default=3, ge=1, le=100)
    max_chars: Int | None = Field(default=None, ge=1)

    def value_of(self, answer: object) -> Any:
        return _answer_dict(answer).get("text") or ""

    def answer_of(self, value: object) -> dict[str, Any] | None:
        return {"kind": "text", "text": value} if value else None

    def control(self, labels: LabelSchema) -> dict[str, Any] | None:
        return {**self._base_control(), "rows": self.rows, "max_chars": self.max_chars}

    def check(self, answer: Any, data: Mapping[str, Any] | None, where: str) -> None:
        _check_length(self, answer.text, where)


def _check_length(question: Any, text: str, where: str) -> None:
    limit = question.max_chars
    if limit is not None and len(text) > limit:
        rule = f"is {len(text)} characters; question {question.name!r} takes {limit}"
        raise ValidationError(where + "text", text, rule)


# --- judging model outputs ------------------------------------------------------------------
# Each reads the model's output (and the prompt it answered) from task inputs; the widget that
# asks it shows them. Their widgets edit the payload's fields, without the kind.


class Criterion(_Part):
    """One criterion of a rubric or a pairwise comparison, e.g. accuracy or tone."""

    name: Name
    description: str = ""
    scale: Int = Field(default=5, ge=2, le=10)


def _payload_fields(answer: object, kind: str) -> dict[str, Any] | None:
    found = _answer_dict(answer)
    return {k: v for k, v in found.items() if k != "kind"} if found else None


class PairwiseQuestion(_Question):
    """Which of two outputs (inputs ``a`` and ``b``, answering input ``prompt``) is better:
    ``a``, ``b``, ``tie`` and ``both_bad`` (each of the last two when allowed), a rationale
    (none, optional or required) and a verdict per criterion (all required when listed)."""

    kind: Literal["pairwise"] = "pairwise"
    prompt: str | None = None
    a: str
    b: str
    criteria: tuple[Criterion, ...] = ()
    tie: Bool = True
    both_bad: Bool = True
    rationale: Literal["none", "optional", "required"] = "optional"

    def reads(self) -> tuple[str, ...]:
        return tuple(f for f in (self.prompt, self.a, self.b) if f is not None)

    @property
    def verdicts(self) -> tuple[str, ...]:
        """The verdicts this question offers."""
        return (
            ("a", "b") + (("tie",) if self.tie else ()) + (("both_bad",) if self.both_bad else ())
        )

    def value_of(self, answer: object) -> Any:
        return _payload_fields(answer, self.kind)

    def answer_of(self, value: object) -> dict[str, Any] | None:
        return None if not value else {"kind": "pairwise", **dict(value)}  # type: ignore[call-overload]

    def check(self, answer: Any, data: Mapping[str, Any] | None, where: str) -> None:
        offered = self.verdicts
        if answer.choice not in offered:
            rule = f"is not offered by question {self.name!r}; choose one of {', '.join(offered)}"
            raise ValidationError(where + "choice", answer.choice, rule)
        if self.rationale == "required" and not answer.rationale.strip():
            raise ValidationError(where + "rationale", answer.rationale, "is required; say why")
        if self.rationale == "none" and answer.rationale:
            rule = f"is not asked by question {self.name!r} (rationale: none)"
            raise ValidationError(where + "rationale", answer.rationale, rule)
        names = [c.name for c in self.criteria]
        for name, verdict in answer.criteria.items():
            if name not in names:
                rule = f"is not a criterion of question {self.name!r}; criteria are {names}"
                raise ValidationError(where + "criteria", name, rule)
            if verdict not in offered:
                rule = f"is not offered by question {self.name!r}; use one of {', '.join(offered)}"
                raise ValidationError(f"{where}criteria.{name}", verdict, rule)
        for name in names:
            if name not in answer.criteria:
                raise ValidationError(f"{where}criteria.{name}", None, "is required; judge it")


def output_ids(value: object) -> list[str]:
    """The ids of a ranking's outputs: ``{"id", "text"}`` items give their ids, plain strings
    their positions ("0", "1", ...).

    >>> output_ids(["first", "second"]), output_ids([{"id": "m1", "text": "x"}])
    (['0', '1'], ['m1'])
    """
    if not isinstance(value, list | tuple):
        return []
    return [
        str(item.get("id")) if isinstance(item, Mapping) else str(index)
        for index, item in enumerate(value)
    ]


class RankingQuestion(_Question):
    """The outputs of input ``field`` (a list of strings, or of ``{"id", "text"}``) ordered
    best first; every output is ranked, each once."""

    kind: Literal["ranking"] = "ranking"
    prompt: str | None = None
    field: str

    def reads(self) -> tuple[str, ...]:
        return tuple(f for f in (self.prompt, self.field) if f is not None)

    def value_of(self, answer: object) -> Any:
        return list(_answer_dict(answer).get("order") or [])

    def answer_of(self, value: object) -> dict[str, Any] | None:
        return {"kind": "ranking", "order": list(value)} if value else None  # type: ignore[call-overload]

    def check(self, answer: Any, data: Mapping[str, Any] | None, where: str) -> None:
        if data is None or data.get(self.field) is None:
            return
        ids = output_ids(data.get(self.field))
        if sorted(answer.order) != sorted(ids):
            rule = f"must rank each output of {self.field!r} once: {ids}"
            raise ValidationError(where + "order", list(answer.order), rule)


class RubricQuestion(_Question):
    """A score for each criterion (1 to its scale) of the output in input ``field``."""

    kind: Literal["rubric"] = "rubric"
    prompt: str | None = None
    field: str
    criteria: tuple[Criterion, ...] = Field(min_length=1)

    def reads(self) -> tuple[str, ...]:
        return tuple(f for f in (self.prompt, self.field) if f is not None)

    def value_of(self, answer: object) -> Any:
        return _payload_fields(answer, self.kind)

    def answer_of(self, value: object) -> dict[str, Any] | None:
        return None if not value else {"kind": "rubric", **dict(value)}  # type: ignore[call-overload]

    def check(self, answer: Any, data: Mapping[str, Any] | None, where: str) -> None:
        scales = {c.name: c.scale for c in self.criteria}
        for name, score in answer.scores.items():
            if name not in scales:
                rule = f"is not a criterion of question {self.name!r}; criteria are {list(scales)}"
                raise ValidationError(where + "scores", name, rule)
            if not 1 <= score <= scales[name]:
                rule = f"is off the scale of {name!r}; score it 1 to {scales[name]}"
                raise ValidationError(f"{where}scores.{name}", score, rule)
        for name in scales:
            if name not in answer.scores:
                raise ValidationError(f"{where}scores.{name}", None, "is required; score it")


class ErrorsQuestion(_Question):
    """The errors in the model output of input ``field``, marked as spans whose labels are the
    error types (the question's ``labels``: its taxonomy, else the project's), each with an
    optional comment; ``reference`` names an input holding the expected output, shown beside."""

    kind: Literal["errors"] = "errors"
    field: str
    reference: str | None = None
    labels: LabelList = None
    allow_overlap: Bool | None = None

    _labels = field_validator("labels", mode="before")(_labels)

    def reads(self) -> tuple[str, ...]:
        return tuple(f for f in (self.field, self.reference) if f is not None)

    def value_of(self, answer: object) -> Any:
        return list(_answer_dict(answer).get("spans") or [])

    def answer_of(self, value: object) -> dict[str, Any] | None:
        return {"kind": "errors", "spans": list(value or [])}  # type: ignore[call-overload]

    def suggestions_of(self, answer: object) -> list[dict[str, Any]]:
        return [dict(s) for s in self.value_of(answer)]


class CorrectionQuestion(_Question):
    """The model output of input ``field``, corrected: the widget starts from the output and
    shows the difference as it is edited."""

    kind: Literal["correction"] = "correction"
    prompt: str | None = None
    field: str
    max_chars: Int | None = Field(default=None, ge=1)

    def reads(self) -> tuple[str, ...]:
        return tuple(f for f in (self.prompt, self.field) if f is not None)

    def value_of(self, answer: object) -> Any:
        return _answer_dict(answer).get("text")

    def answer_of(self, value: object) -> dict[str, Any] | None:
        return None if value is None else {"kind": "correction", "text": value}

    def check(self, answer: Any, data: Mapping[str, Any] | None, where: str) -> None:
        _check_length(self, answer.text, where)


Question = Annotated[
    SpansQuestion
    | ChoiceQuestion
    | ChoicesQuestion
    | BoxesQuestion
    | RatingQuestion
    | TextQuestion
    | PairwiseQuestion
    | RankingQuestion
    | RubricQuestion
    | ErrorsQuestion
    | CorrectionQuestion,
    Field(discriminator="kind"),
]
AnyQuestion = (
    SpansQuestion
    | ChoiceQuestion
    | ChoicesQuestion
    | BoxesQuestion
    | RatingQuestion
    | TextQuestion
    | PairwiseQuestion
    | RankingQuestion
    | RubricQuestion
    | ErrorsQuestion
    | CorrectionQuestion
)


class AnswerIs(_Part):
    """The condition of a completion rule: an answer is given (and equals a value)."""

    answer: str
    equals: str | int | float | bool | None = None


class CompletionRule(_Part):
    """An answer that becomes required, always or when another answer holds a value."""

    require: str
    when: AnswerIs | None = None


_KIND_MODELS: dict[str, dict[str, type[BaseModel]]] = {
    "questions": {
        m.model_fields["kind"].default: m
        for m in (
            SpansQuestion,
            ChoiceQuestion,
            ChoicesQuestion,
            BoxesQuestion,
            RatingQuestion,
            TextQuestion,
            PairwiseQuestion,
            RankingQuestion,
            RubricQuestion,
            ErrorsQuestion,
            CorrectionQuestion,
        )
    },
    "display": {
        m.model_fields["kind"].default: m
        for m in (HeaderBlock, TextBlock, ImageBlock, GuidelinesBlock, SuggestionsBlock)
    },
}


class Layout(_Part):
    """A layout: inputs, display blocks, questions and completion rules.

    >>> seed = Layout.load("clinical-ner-v1")
    >>> [q.name for q in seed.questions]
    ['entities', 'confidence', 'document_quality', 'notes']
    >>> Layout.from_dict(seed.to_dict()) == seed
    True
    """

    name: Name
    title: str = ""
    description: str = ""
    extends: str | None = None
    inputs: tuple[Input, ...] = ()
    display: tuple[DisplayBlock, ...] = ()
    questions: tuple[Question, ...] = Field(min_length=1)
    completion: tuple[CompletionRule, ...] = ()

    # The name of the layout this one was built from; the body itself is resolved (self-contained)
    # so a pinned version never changes when its base does.
    _base: str | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _references(self) -> Layout:
        inputs = _unique("inputs", [i.name for i in self.inputs])
        questions = _unique("questions", [q.name for q in self.questions])
        _unique("display", [b.name for b in self.display if b.name is not None])
        for index, question in enumerate(self.questions):
            _check_question(question, index, inputs)
        for index, block in enumerate(self.display):
            _check_block(block, ("display", index), inputs, questions)
        for index, completion in enumerate(self.completion):
            if completion.require not in questions:
                at: tuple[str | int, ...] = ("completion", index, "require")
                raise _unknown(at, completion.require, "question", questions)
            if completion.when is not None and completion.when.answer not in questions:
                path = ("completion", index, "when", "answer")
                raise _unknown(path, completion.when.answer, "question", questions)
        return self

    # --- loading and saving -------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: object, *, resolve: Any = None) -> Layout:
        """A layout from its dict form; ``extends`` is resolved with ``Layout.load``.

        ``resolve`` (a function name -> Layout) finds bases elsewhere, e.g. stored versions.

        >>> notes = {"name": "q", "questions": [{"kind": "text", "name": "notes"}]}
        >>> Layout.from_dict(notes).to_dict() == notes
        True
        """
        if not isinstance(data, Mapping):
            raise layout_error("layout", data, "must be a mapping (a dict)")
        raw = dict(data)
        base_name = raw.get("extends")
        if isinstance(base_name, str):
            base = (resolve or cls.load)(base_name)
            raw = _merge(base.to_dict(), raw)
        try:
            layout = cls.model_validate(raw)
        except pydantic.ValidationError as exc:
            raise _convert(exc, raw) from exc
        if isinstance(base_name, str):
            layout._base = base_name  # _merge dropped "extends": the body stands alone
        return layout

    @classmethod
    def from_stored(
        cls, data: Mapping[str, Any], *, name: str = "ner", lenient: bool = False
    ) -> Layout:
        """A layout as a project stored it: the body, with the pinned ``version`` beside it
        (dropped here), or the dict shape used before layouts were typed (``fields`` of
        ``{name, kind}``, questions without a kind asking for spans).

        >>> Layout.from_stored({"name": "ner", "fields": [{"name": "text", "kind": "text"}],
        ...                     "questions": [{"name": "entities", "field": "text"}]}).answer_kinds
        ('spans',)
        """
        raw = {key: value for key, value in data.items() if key != "version"}
        raw.setdefault("name", name)
        if lenient:
            # A project row written before layouts were typed may hold keys no layout reads
            # (any dict was taken then); opening the project must not fail on them.
            raw = {k: v for k, v in raw.items() if k in cls.model_fields or k == "fields"}
        fields = raw.pop("fields", None)
        if fields is not None and "inputs" not in raw and isinstance(fields, list):
            raw["inputs"] = [
                {"name": f.get("name"), "type": _legacy_type(f.get("kind"))}
                for f in fields
                if isinstance(f, Mapping)
            ]
        questions = raw.get("questions") or [{"name": "entities", "field": "text"}]
        if isinstance(questions, list):
            raw["questions"] = [
                {"kind": "spans", **q} if isinstance(q, Mapping) and "kind" not in q else q
                for q in questions
            ]
            if "inputs" not in raw:
                used = {
                    str(q["field"])
                    for q in raw["questions"]
                    if isinstance(q, Mapping) and q.get("field") is not None
                }
                raw["inputs"] = [{"name": f, "type": "text"} for f in sorted(used)]
        return cls.from_dict(raw)

    @classmethod
    def from_yaml(cls, text: str, *, resolve: Any = None) -> Layout:
        """A layout from YAML text.

        >>> text = "name: q\\nquestions: [{kind: rating, name: score}]"
        >>> Layout.from_yaml(text).questions[0].scale
        5
        """
        import yaml

        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise layout_error("layout", text, f"is not valid YAML: {exc}") from exc
        return cls.from_dict(data, resolve=resolve)

    @classmethod
    def load(cls, name: str) -> Layout:
        """The layout ``layouts/<name>.yaml`` (the user's folder first, then annolab's).

        >>> Layout.load("classify").questions[0].kind
        'choice'
        """
        from annolab.resources import load_layout

        data = load_layout(name)
        data.setdefault("name", name)
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        """The dict form: only what was set, so ``from_dict(d).to_dict() == d``."""
        dumped: dict[str, Any] = self.model_dump(mode="json", exclude_unset=True)
        _short_labels(dumped)
        return dumped

    def to_yaml(self) -> str:
        """The YAML form, keys in the model's order."""
        import yaml

        return str(yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True))

    def __eq__(self, other: object) -> bool:
        # A layout is what it shows and asks: the base it was extended from is where it came
        # from (to_dict leaves it out), so a YAML round trip gives an equal layout.
        if not isinstance(other, Layout):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    def __hash__(self) -> int:
        return hash(self.to_yaml())

    # --- reading --------------------------------------------------------------------------------

    @property
    def base(self) -> str | None:
        """The layout this one extends (already merged into it), or None."""
        return self._base

    def question(self, name: str) -> AnyQuestion:
        """The question called ``name``."""
        for question in self.questions:
            if question.name == name:
                return question
        names = ", ".join(q.name for q in self.questions)
        raise layout_error("question", name, f"is not a question of {self.name!r}; ask {names}")

    @property
    def answer_kinds(self) -> tuple[str, ...]:
        """The payload kinds an annotation of this layout may have: the one question's kind,
        or ``('form',)`` when the layout asks several questions."""
        if len(self.questions) == 1:
            return (self.questions[0].kind,)
        return ("form",)

    @property
    def required_questions(self) -> tuple[str, ...]:
        """The names of the questions that must be answered."""
        return tuple(q.name for q in self.questions if q.required)

    def input(self, name: str) -> Input | None:
        """The input called ``name``, or None."""
        return next((i for i in self.inputs if i.name == name), None)

    def labels_for(self, question: str, project_labels: object = None) -> LabelSchema:
        """The labels or options a question offers: its own, else the project's."""
        q = self.question(question)
        own: tuple[Label, ...] | None = getattr(q, "labels", None) or getattr(q, "options", None)
        overlap = getattr(q, "allow_overlap", None)
        if own:
            return LabelSchema(labels=own, allow_overlap=bool(overlap))
        schema = LabelSchema.coerce(project_labels if project_labels is not None else [])
        if overlap is not None:
            schema = schema.model_copy(update={"allow_overlap": overlap})
        return schema

    def visible(self, data: Mapping[str, Any], predictions: Iterable[str] = ()) -> tuple[Any, ...]:
        """The display blocks shown for a task: those whose ``when`` holds.

        ``predictions`` names the questions that have a suggestion.
        """
        have = set(predictions)
        shown = []
        for block in self.display:
            when = block.when
            if when is not None and when.field is not None and _empty(data.get(when.field)):
                continue
            if when is not None and when.prediction is not None and when.prediction not in have:
                continue
            shown.append(block)
        return tuple(shown)

    # --- checking -------------------------------------------------------------------------------

    def check_task(self, data: Mapping[str, Any], *, where: str = "data") -> None:
        """Refuse task data that lacks a required input or has a value of the wrong type.

        Fields the layout does not read are left alone. Raises ``ValidationError``.

        >>> Layout.load("clinical-ner-v1").check_task({"document_text": "x", "priority": "urgent"})
        Traceback (most recent call last):
        annolab.errors.ValidationError: data.priority='urgent' is not one of low, normal, high
        """
        for spec in self.inputs:
            value = data.get(spec.name)
            path = f"{where}.{spec.name}"
            if value is None:
                if spec.required:
                    raise ValidationError(path, None, f"is required by layout {self.name!r}")
                continue
            rule = _type_problem(spec, value)
            if rule is not None:
                raise ValidationError(path, value, rule)

    def check_answer(
        self,
        payload: object,
        labels: object = None,
        *,
        data: Mapping[str, Any] | None = None,
    ) -> Payload:
        """The payload checked against this layout; raises ``ValidationError``.

        One question takes that question's payload; several take a form. Labels and options are
        the question's own, else the project's ``labels``; required answers must be present and
        completion rules hold. With ``data``, spans are checked against their field's text.
        """
        from annolab.schema.validate import validate_payload

        if isinstance(payload, SchemaModel):
            payload = payload.to_dict()
        kinds = self.answer_kinds
        if isinstance(payload, Mapping) and "kind" in payload and payload["kind"] not in kinds:
            asked = " or ".join(repr(k) for k in kinds)
            rule = f"is not what layout {self.name!r} asks for; it asks for {asked}"
            raise ValidationError("kind", payload["kind"], rule)
        if len(self.questions) == 1:
            question = self.questions[0]
            one: Payload = self._check_one(question, payload, labels, data, "")
            return one
        form = validate_payload(payload)
        assert isinstance(form, FormPayload)
        checked: dict[str, Any] = {}
        for name, answer in form.answers.items():
            where = f"answers.{name}" if name.isidentifier() else f"answers[{name!r}]"
            known = [q.name for q in self.questions]
            if name not in known:
                rule = f"is not a question of layout {self.name!r}; questions are " + ", ".join(
                    repr(n) for n in known
                )
                raise ValidationError("answers", name, rule)
            question = self.question(name)
            if answer.kind != question.kind:
                rule = f"is not what question {name!r} asks for; it asks for {question.kind!r}"
                raise ValidationError(f"{where}.kind", answer.kind, rule)
            checked[name] = self._check_one(question, answer.to_dict(), labels, data, where + ".")
        for name in self.required_questions:
            if name not in checked:
                raise ValidationError(f"answers.{name}", None, "is required; answer it to submit")
        values = {name: self.question(name).value_of(answer) for name, answer in checked.items()}
        for index, completion in enumerate(self.completion):
            when = completion.when
            if completion.require in checked or not (when is None or _holds(when, values)):
                continue
            cause = "" if when is None else f" when {when.answer} is answered"
            if when is not None and when.equals is not None:
                cause = f" when {when.answer} is {when.equals!r}"
            msg = f"is required{cause} (completion[{index}]); answer it to submit"
            raise ValidationError(f"answers.{completion.require}", None, msg)
        return FormPayload(answers=checked)

    def _check_one(
        self,
        question: AnyQuestion,
        payload: object,
        labels: object,
        data: Mapping[str, Any] | None,
        where: str,
    ) -> Any:
        from annolab.schema.validate import validate_payload

        text = None
        field = getattr(question, "field", None)
        if data is not None and question.kind in ("spans", "errors") and field is not None:
            found = data.get(field)
            text = found if isinstance(found, str) else None
        labelled = hasattr(question, "labels") or hasattr(question, "options")
        schema = (
            self.labels_for(question.name, labels)
            if labelled
            and (labels is not None or getattr(question, "labels", None) or _options(question))
            else None
        )
        try:
            checked = validate_payload(payload, labels=schema, text=text)
        except ValidationError as exc:
            if not where:
                raise
            raise ValidationError(where + exc.field, exc.value, exc.rule) from exc
        question.check(checked, data, where)
        return checked

    def output(self, payload: object, data: Mapping[str, Any]) -> dict[str, Any]:
        """The answer in the layout's output shape: one key per question.

        Spans become ``{start, end, type, text}`` with ``text == data[field][start:end]``; a
        choice its label, choices a list, a rating its value, text its text; unanswered is None.
        """
        from annolab.schema.validate import validate_payload

        checked = validate_payload(payload)
        answers: Mapping[str, Any] = (
            checked.answers
            if isinstance(checked, FormPayload)
            else {self.questions[0].name: checked}
        )
        out: dict[str, Any] = {}
        for question in self.questions:
            answer = answers.get(question.name)
            if isinstance(answer, SpansPayload):
                field = getattr(question, "field", None)
                text = data.get(field) if field else None
                out[question.name] = [
                    {
                        "start": s.start,
                        "end": s.end,
                        "type": s.label,
                        "text": text[s.start : s.end] if isinstance(text, str) else None,
                    }
                    for s in answer.spans
                ]
            elif isinstance(answer, BoxesPayload):
                out[question.name] = [b.to_dict() for b in answer.boxes]
            else:
                out[question.name] = None if answer is None else question.value_of(answer)
        return out


# --- helpers ------------------------------------------------------------------------------------


def _check_question(question: AnyQuestion, index: int, inputs: list[str]) -> None:
    for key in ("field", "prompt", "a", "b", "reference"):
        field = getattr(question, key, None)
        if field is not None and field not in inputs:
            raise _unknown(("questions", index, key), field, "input", inputs)
    for key in ("labels", "options"):
        _check_labels(getattr(question, key, None), ("questions", index, key))
    if (
        isinstance(question, ChoicesQuestion)
        and question.max is not None
        and question.max < question.min
    ):
        rule = f"must be at least min ({question.min})"
        raise annolab_error(rule, path=("questions", index, "max"), value=question.max)


def _check_block(
    block: Any, where: tuple[str | int, ...], inputs: list[str], questions: list[str]
) -> None:
    for f_index, field in enumerate(getattr(block, "fields", ())):
        if field not in inputs:
            raise _unknown((*where, "fields", f_index), field, "input", inputs)
    for b_index, badge in enumerate(getattr(block, "badges", ())):
        if badge.field not in inputs:
            raise _unknown((*where, "badges", b_index, "field"), badge.field, "input", inputs)
    field = getattr(block, "field", None)
    if field is not None and field not in inputs:
        raise _unknown((*where, "field"), field, "input", inputs)
    if isinstance(block, SuggestionsBlock) and block.question not in questions:
        raise _unknown((*where, "question"), block.question, "question", questions)
    when = block.when
    if when is not None and when.field is not None and when.field not in inputs:
        raise _unknown((*where, "when", "field"), when.field, "input", inputs)
    if when is not None and when.prediction is not None and when.prediction not in questions:
        raise _unknown((*where, "when", "prediction"), when.prediction, "question", questions)


def _options(question: object) -> bool:
    return bool(getattr(question, "options", None))


def _unique(where: str, names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        first = seen.setdefault(name, index)
        if first != index:
            rule = f"is already the name of {where}[{first}]; names must be unique"
            raise annolab_error(rule, path=(where, index, "name"), value=name)
    return names


def _unknown(path: tuple[str | int, ...], value: str, what: str, known: list[str]) -> Exception:
    names = ", ".join(known) or "none"
    return annolab_error(f"is not a declared {what}; {what}s are {names}", path=path, value=value)


def _empty(value: object) -> bool:
    return value is None or (isinstance(value, str | list | tuple | dict) and len(value) == 0)


def _legacy_type(kind: object) -> str:
    return kind if isinstance(kind, str) and kind in INPUT_TYPES else "text"


def _type_problem(spec: Input, value: object) -> str | None:  # noqa: PLR0911 (one per type)
    kind = spec.type
    if kind == "enum":
        values = spec.values or ()
        return None if value in values else f"is not one of {', '.join(map(str, values))}"
    if kind == "list":
        # The outputs a ranking orders: strings, or {"id", "text"} items with distinct ids.
        if not isinstance(value, list | tuple) or not value:
            return "must be a non-empty list of outputs (strings, or {id, text} objects)"
        ids = output_ids(value)
        if len(set(ids)) != len(ids):
            return f"holds the same id twice ({ids}); give each output its own id"
        return None
    if kind in ("text", "string", "url"):
        return None if isinstance(value, str) else f"must be a string, not {type(value).__name__}"
    if kind == "image":
        ok = isinstance(value, str | bytes)
        return None if ok else f"must be an image path, URL or bytes, not {type(value).__name__}"
    if kind == "boolean":
        return None if isinstance(value, bool) else "must be true or false"
    if kind == "integer":
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else "must be a whole number"
    if kind == "number":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return None if ok and math.isfinite(value) else "must be a finite number"  # type: ignore[arg-type]
    return None


def _holds(when: AnswerIs, values: Mapping[str, Any]) -> bool:
    if when.answer not in values:
        return False
    if when.equals is None:
        return True
    value = values[when.answer]
    return when.equals in value if isinstance(value, list) else bool(value == when.equals)


def _merge(base: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    """The child laid over its base: same-named items replace, new ones are appended."""
    merged = {**base, **{k: v for k, v in child.items() if k not in _LISTS}}
    for key in _LISTS:
        items: list[Any] = list(base.get(key) or [])
        for item in child.get(key) or []:
            name = item.get("name") if isinstance(item, Mapping) else None
            at = next(
                (
                    i
                    for i, old in enumerate(items)
                    if name is not None and isinstance(old, Mapping) and old.get("name") == name
                ),
                None,
            )
            if at is None:
                items.append(item)
            else:
                items[at] = item
        if items:
            merged[key] = items
    merged.pop("extends", None)
    return merged


_LISTS = ("inputs", "display", "questions", "completion")


def _short_labels(data: dict[str, Any]) -> None:
    """Labels that only have a name are written as the bare name, as they were given."""
    for question in data.get("questions", ()):
        for key in ("labels", "options"):
            if question.get(key):
                question[key] = [
                    label["name"] if set(label) == {"name"} else label for label in question[key]
                ]


# --- pydantic errors -> LayoutError ------------------------------------------------------------


def _convert(exc: pydantic.ValidationError, data: Mapping[str, Any]) -> LayoutError:
    """The first pydantic error as a LayoutError naming the path, the value and the rule."""
    from annolab.schema.validate import MISSING, _path, _rule

    error = exc.errors(include_url=False)[0]
    loc = list(error["loc"])
    kind = error["type"]
    value: object = error.get("input")
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    # pydantic puts the union tag into the path (questions, 1, 'choice', 'options'): drop it.
    if (
        len(loc) >= 3
        and loc[0] in _KIND_MODELS
        and isinstance(loc[1], int)
        and loc[2] in _KIND_MODELS[str(loc[0])]
    ):
        del loc[2]
    if kind == "union_tag_invalid":
        kinds = ", ".join(_KIND_MODELS[str(loc[0])])
        what = "question" if loc[0] == "questions" else "display block"
        return layout_error(
            _path([*loc, "kind"]), ctx.get("tag"), f"is not a {what} kind; use one of {kinds}"
        )
    if kind == "union_tag_not_found":
        kinds = ", ".join(_KIND_MODELS[str(loc[0])])
        return layout_error(_path([*loc, "kind"]), MISSING, f"is required; use one of {kinds}")
    if kind == "annolab":
        loc += list(ctx["path"])
        return layout_error(_path(loc) or "layout", ctx["value"][0], error["msg"])
    if kind == "missing":
        value = MISSING
    rule = _rule(kind, value, ctx, error["msg"])
    if kind == "too_short" and loc == ["questions"]:
        rule = "must list at least one question"
    if kind == "literal_error":
        rule = f"must be one of {ctx.get('expected', '')}".replace("'", "")
    if kind == "extra_forbidden":
        owner = _owner(loc[:-1], data)
        if owner is not None:
            keys = ", ".join(owner.model_fields)
            rule = f"is not a key of {_owner_name(owner)}; its keys are {keys}"
    return layout_error(_path(loc) or "layout", value, rule)


def _owner(loc: Sequence[Any], data: Mapping[str, Any]) -> type[BaseModel] | None:  # noqa: PLR0911
    if not loc:
        return Layout
    if loc[0] in _KIND_MODELS and len(loc) == 2 and isinstance(loc[1], int):
        items = data.get(str(loc[0])) or []
        item = items[loc[1]] if loc[1] < len(items) else None
        kind = item.get("kind") if isinstance(item, Mapping) else None
        return _KIND_MODELS[str(loc[0])].get(str(kind))
    simple: dict[str, type[BaseModel]] = {"inputs": Input, "completion": CompletionRule}
    if len(loc) == 2 and loc[0] in simple:
        return simple[str(loc[0])]
    if loc[-1] == "when":
        return When if loc[0] == "display" else AnswerIs
    if len(loc) >= 2 and loc[-2] == "badges":
        return Badge
    if len(loc) >= 2 and loc[-2] in ("labels", "options"):
        return Label
    return None


def _owner_name(owner: type[BaseModel]) -> str:
    kind = owner.model_fields.get("kind")
    if kind is not None and owner in _KIND_MODELS["questions"].values():
        return f"a {kind.default} question"
    if kind is not None:
        return f"a {kind.default} block"
    return {Layout: "a layout", Input: "an input", CompletionRule: "a completion rule"}.get(
        owner, f"a {owner.__name__.lower()}"
    )
