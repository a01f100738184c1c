"""The payload types: what one annotation says, as frozen pydantic models.

A payload is a tagged union on ``kind``. ``to_dict()`` gives the exact JSON stored in the
``payload`` JSONB column; ``annolab.schema.validate_payload`` is the only way in from outside.

Collections that are sets in meaning (spans, boxes, multi-choice labels) are stored sorted, so two
annotations that say the same thing compare equal and serialise to the same JSON whatever order a
widget or an LLM produced them in. Exact duplicates are refused rather than silently merged.

Building a model directly (``Span(start=0, end=3, label="PER")``) checks the structural rules and
raises pydantic's error; rules that need the task (text length, label schema, overlap, image
size) live in ``validate.py``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

__all__ = [
    "MAX_SAFE_INT",
    "PAYLOAD_KINDS",
    "PAYLOAD_TYPES",
    "Answer",
    "Box",
    "BoxesPayload",
    "ChoicePayload",
    "ChoicesPayload",
    "CorrectionPayload",
    "ErrorSpan",
    "ErrorsPayload",
    "FormPayload",
    "PairwisePayload",
    "Payload",
    "RankingPayload",
    "RatingPayload",
    "RubricPayload",
    "Span",
    "SpansPayload",
    "TextPayload",
]

# The largest integer a JavaScript number holds exactly: every integer here crosses to a widget.
MAX_SAFE_INT = 2**53 - 1

# Postgres text and JSONB cannot hold NUL, and a lone surrogate is not UTF-8 at all.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")

# Validation context key: validate.py asks for input order so error indices match what was sent.
KEEP_ORDER = "annolab_keep_order"


def text_problem(text: str) -> str | None:
    """Why Postgres cannot store ``text``, or None when it can.

    >>> text_problem("ok") is None
    True
    >>> text_problem("a\\x00b")
    'contains a NUL character (\\\\x00) at index 1; Postgres cannot store NUL, remove it'
    """
    found = _UNSTORABLE.search(text)
    if found is None:
        return None
    index = found.start()
    if found.group() == "\x00":
        return (
            f"contains a NUL character (\\x00) at index {index}; "
            "Postgres cannot store NUL, remove it"
        )
    return (
        f"contains a lone surrogate {found.group()!r} at index {index}, which is not valid UTF-8 "
        "so Postgres cannot store it; the text was probably decoded wrongly (check the encoding)"
    )


def annolab_error(
    rule: str, *, path: tuple[str | int, ...] = (), value: object = None
) -> Exception:
    """A pydantic error that validate.py turns into ``ValidationError`` at ``loc + path``.

    ``rule`` must not contain user text: pydantic formats ``{...}`` in templates.
    """
    # The value rides inside a tuple: pydantic renders bare str context values as UTF-8 and
    # would itself fail on the lone surrogates we are reporting.
    return PydanticCustomError("annolab", rule, {"path": path, "value": (value,)})


def _storable(text: str) -> str:
    problem = text_problem(text)
    if problem is not None:
        raise annolab_error(problem, value=text)
    return text


StorableStr = Annotated[str, Strict(), AfterValidator(_storable)]
LabelName = Annotated[str, Strict(), Field(min_length=1), AfterValidator(_storable)]
Score = Annotated[float, Strict(), Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Offset = Annotated[int, Strict(), Field(ge=0, le=MAX_SAFE_INT)]
SafeInt = Annotated[int, Strict(), Field(ge=-MAX_SAFE_INT, le=MAX_SAFE_INT)]
Coordinate = Annotated[float, Strict(), Field(ge=0.0, allow_inf_nan=False)]
Extent = Annotated[float, Strict(), Field(gt=0.0, allow_inf_nan=False)]


class SchemaModel(BaseModel):
    """The base of every schema model: frozen, unknown fields refused, ``to_dict()``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    def to_dict(self) -> dict[str, Any]:
        """The JSON form, as stored in Postgres; an unset score is left out.

        >>> Span(start=0, end=2, label="PER").to_dict()
        {'start': 0, 'end': 2, 'label': 'PER'}
        """
        return self.model_dump(mode="json", exclude_none=True)


def _sorted_unique(
    items: tuple[Any, ...], key: Callable[[Any], Hashable], what: str, info: ValidationInfo
) -> tuple[Any, ...]:
    """Refuse exact duplicates (naming both), then sort unless the caller wants input order."""
    seen: dict[Hashable, int] = {}
    for index, item in enumerate(items):
        first = seen.setdefault(key(item), index)
        if first != index:
            rule = f"is the same {what} as {info.field_name}[{first}]; remove one"
            value = item.to_dict() if isinstance(item, SchemaModel) else item
            raise annolab_error(rule, path=(index,), value=value)
    if info.context and info.context.get(KEEP_ORDER):
        return items
    return tuple(sorted(items, key=key))  # type: ignore[arg-type]


class Span(SchemaModel):
    """A labelled ``[start, end)`` range of the task text, in Python code points (str indices).

    >>> text = "Ada met Bob"
    >>> span = Span(start=0, end=3, label="PER")
    >>> text[span.start : span.end]
    'Ada'
    """

    start: Offset
    end: Offset
    label: LabelName
    score: Score | None = None

    @model_validator(mode="after")
    def _end_after_start(self) -> Span:
        if self.end <= self.start:
            rule = f"must be greater than start ({self.start}); a span covers [start, end)"
            raise annolab_error(rule, path=("end",), value=self.end)
        return self


class SpansPayload(SchemaModel):
    """Labelled ranges of a text, stored sorted by ``(start, end, label)``.

    >>> SpansPayload(spans=(Span(start=4, end=7, label="ORG"), Span(start=0, end=3, label="PER")))
    ... # doctest: +NORMALIZE_WHITESPACE
    SpansPayload(kind='spans', spans=(Span(start=0, end=3, label='PER', score=None),
                                      Span(start=4, end=7, label='ORG', score=None)))
    """

    kind: Literal["spans"] = "spans"
    spans: tuple[Span, ...]

    @field_validator("spans")
    @classmethod
    def _sort(cls, spans: tuple[Span, ...], info: ValidationInfo) -> tuple[Span, ...]:
        return _sorted_unique(spans, lambda s: (s.start, s.end, s.label), "span", info)


class ChoicePayload(SchemaModel):
    """One label chosen from the project's labels (single-choice classification).

    >>> ChoicePayload(label="positive", score=0.9).to_dict()
    {'kind': 'choice', 'label': 'positive', 'score': 0.9}
    """

    kind: Literal["choice"] = "choice"
    label: LabelName
    score: Score | None = None


class ChoicesPayload(SchemaModel):
    """Several labels chosen at once (multi-label); stored sorted, empty means "none apply".

    >>> ChoicesPayload(labels=("sports", "politics")).labels
    ('politics', 'sports')
    """

    kind: Literal["choices"] = "choices"
    labels: tuple[LabelName, ...]

    @field_validator("labels")
    @classmethod
    def _sort(cls, labels: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        return _sorted_unique(labels, lambda label: label, "label", info)


class Box(SchemaModel):
    """A labelled rectangle in the image's natural pixels (never display pixels).

    >>> Box(x=10, y=20, width=30, height=40, label="cat").to_dict()
    {'x': 10.0, 'y': 20.0, 'width': 30.0, 'height': 40.0, 'label': 'cat'}
    """

    x: Coordinate
    y: Coordinate
    width: Extent
    height: Extent
    label: LabelName
    score: Score | None = None


class BoxesPayload(SchemaModel):
    """Labelled boxes on one image, stored sorted by ``(x, y, width, height, label)``.

    >>> BoxesPayload(boxes=(Box(x=0, y=0, width=5, height=5, label="cat"),)).kind
    'boxes'
    """

    kind: Literal["boxes"] = "boxes"
    boxes: tuple[Box, ...]

    @field_validator("boxes")
    @classmethod
    def _sort(cls, boxes: tuple[Box, ...], info: ValidationInfo) -> tuple[Box, ...]:
        return _sorted_unique(boxes, lambda b: (b.x, b.y, b.width, b.height, b.label), "box", info)


class RatingPayload(SchemaModel):
    """A whole-number rating on a ``[min, max]`` scale (1 to 5 unless told).

    >>> RatingPayload(value=4).to_dict()
    {'kind': 'rating', 'value': 4, 'min': 1, 'max': 5}
    """

    kind: Literal["rating"] = "rating"
    value: SafeInt
    min: SafeInt = 1
    max: SafeInt = 5

    @model_validator(mode="after")
    def _value_on_scale(self) -> RatingPayload:
        if self.max <= self.min:
            rule = f"must be greater than min ({self.min}) for a rating scale"
            raise annolab_error(rule, path=("max",), value=self.max)
        if not self.min <= self.value <= self.max:
            rule = f"is off the scale; it must be between min ({self.min}) and max ({self.max})"
            raise annolab_error(rule, path=("value",), value=self.value)
        return self


class TextPayload(SchemaModel):
    """Free text: a comment, a correction, a transcription.

    >>> TextPayload(text="fine").to_dict()
    {'kind': 'text', 'text': 'fine'}
    """

    kind: Literal["text"] = "text"
    text: StorableStr


# Judging model outputs. Two outputs ``a`` and ``b`` are compared: one is better, they tie, or
# both are bad.
Verdict = Literal["a", "b", "tie", "both_bad"]


class PairwisePayload(SchemaModel):
    """Which of two outputs is better, why, and the verdict on each criterion.

    >>> PairwisePayload(choice="a", rationale="cites its source").to_dict()
    {'kind': 'pairwise', 'choice': 'a', 'rationale': 'cites its source', 'criteria': {}}
    """

    kind: Literal["pairwise"] = "pairwise"
    choice: Verdict
    rationale: StorableStr = ""
    criteria: dict[LabelName, Verdict] = Field(default_factory=dict)


class RankingPayload(SchemaModel):
    """Outputs ordered best first, by their ids (each once).

    >>> RankingPayload(order=("2", "0", "1")).order
    ('2', '0', '1')
    """

    kind: Literal["ranking"] = "ranking"
    order: tuple[LabelName, ...] = Field(min_length=1)

    @field_validator("order")
    @classmethod
    def _each_once(cls, order: tuple[str, ...]) -> tuple[str, ...]:
        for index, item in enumerate(order):
            if item in order[:index]:
                rule = f"is ranked twice (also at order[{order.index(item)}]); rank each once"
                raise annolab_error(rule, path=(index,), value=item)
        return order


class RubricPayload(SchemaModel):
    """A score for each criterion of a rubric (1 up to the criterion's scale) and a comment.

    >>> RubricPayload(scores={"accuracy": 4, "clarity": 5}).to_dict()
    {'kind': 'rubric', 'scores': {'accuracy': 4, 'clarity': 5}, 'comment': ''}
    """

    kind: Literal["rubric"] = "rubric"
    scores: dict[LabelName, Annotated[int, Strict(), Field(ge=1, le=100)]]
    comment: StorableStr = ""


class ErrorSpan(Span):
    """An error in a model's output: a span whose label is the error type, and a comment."""

    comment: StorableStr = ""


class ErrorsPayload(SchemaModel):
    """The errors found in a model's output (no errors: an empty tuple).

    >>> ErrorsPayload(spans=(ErrorSpan(start=0, end=4, label="missing_entity"),)).kind
    'errors'
    """

    kind: Literal["errors"] = "errors"
    spans: tuple[ErrorSpan, ...] = ()

    @field_validator("spans")
    @classmethod
    def _sort(cls, spans: tuple[ErrorSpan, ...], info: ValidationInfo) -> tuple[ErrorSpan, ...]:
        return _sorted_unique(spans, lambda s: (s.start, s.end, s.label), "error span", info)


class CorrectionPayload(SchemaModel):
    """A model's output as corrected by a person: the whole corrected text.

    >>> CorrectionPayload(text="Paris is the capital of France.").to_dict()
    {'kind': 'correction', 'text': 'Paris is the capital of France.'}
    """

    kind: Literal["correction"] = "correction"
    text: StorableStr


# One answer inside a form: any payload but another form (forms do not nest).
Answer = Annotated[
    SpansPayload
    | ChoicePayload
    | ChoicesPayload
    | BoxesPayload
    | RatingPayload
    | TextPayload
    | PairwisePayload
    | RankingPayload
    | RubricPayload
    | ErrorsPayload
    | CorrectionPayload,
    Field(discriminator="kind"),
]


class FormPayload(SchemaModel):
    """The answers to a layout with several questions, keyed by question name.

    Each answer is the payload of its question's kind; which names and kinds are right is the
    layout's to say (``Layout.check_answer``), so here only the shape is checked.

    >>> FormPayload(answers={"confidence": ChoicePayload(label="high")}).to_dict()
    {'kind': 'form', 'answers': {'confidence': {'kind': 'choice', 'label': 'high'}}}
    """

    kind: Literal["form"] = "form"
    answers: dict[LabelName, Answer]


PAYLOAD_TYPES: tuple[type[SchemaModel], ...] = (
    SpansPayload,
    ChoicePayload,
    ChoicesPayload,
    BoxesPayload,
    RatingPayload,
    TextPayload,
    PairwisePayload,
    RankingPayload,
    RubricPayload,
    ErrorsPayload,
    CorrectionPayload,
    FormPayload,
)

Payload = Annotated[
    SpansPayload
    | ChoicePayload
    | ChoicesPayload
    | BoxesPayload
    | RatingPayload
    | TextPayload
    | PairwisePayload
    | RankingPayload
    | RubricPayload
    | ErrorsPayload
    | CorrectionPayload
    | FormPayload,
    Field(discriminator="kind"),
]

# kind -> model, in the order the kinds are listed to users.
PAYLOAD_KINDS: dict[str, type[SchemaModel]] = {
    model.model_fields["kind"].default: model for model in PAYLOAD_TYPES
}
