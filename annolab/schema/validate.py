"""The one validator: every payload and label schema comes in through here.

A widget's output, an import, an LLM persona's answer and an API call all go through
``validate_payload``. Whatever it is given, it returns a payload or raises
``annolab.errors.ValidationError`` whose ``field`` is a path (``spans[3].end``), ``value`` the
offending value and ``rule`` a sentence that says how to fix it. Indices in paths count items in
the order they were sent, not the sorted order payloads are stored in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast, get_args

import pydantic
from pydantic import BaseModel

from annolab.errors import ValidationError
from annolab.schema.labels import LabelSchema, pick_hotkey
from annolab.schema.payloads import (
    KEEP_ORDER,
    MAX_SAFE_INT,
    PAYLOAD_KINDS,
    BoxesPayload,
    ChoicePayload,
    ChoicesPayload,
    ErrorsPayload,
    FormPayload,
    Payload,
    SchemaModel,
    Span,
    SpansPayload,
    text_problem,
)

__all__ = [
    "MISSING",
    "check_text",
    "not_a_label",
    "payload_from_dict",
    "validate_labels",
    "validate_payload",
]


class _Missing:
    """The ``value`` of an error about a field that was not given at all."""

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Any = _Missing()

_KINDS = ", ".join(repr(kind) for kind in PAYLOAD_KINDS)
_LARGEST_IMAGE_SIDE = MAX_SAFE_INT
_SHOWN_LABELS = 20  # a 500-label taxonomy must not turn one error into a page


class _Unprintable:
    """Stands in for a value whose repr() itself fails, so raising the error cannot fail."""

    def __init__(self, value: object) -> None:
        self.name = type(value).__name__

    def __repr__(self) -> str:
        return f"<unprintable {self.name}>"


def _error(field: str, value: object, rule: str) -> ValidationError:
    try:
        repr(value)
    except Exception:  # noqa: BLE001 (any repr failure: deep nesting, a broken __repr__)
        value = _Unprintable(value)
    return ValidationError(field, value, rule)


def check_text(text: object, field: str) -> None:
    """Refuse a text Postgres cannot store: not a string, a NUL, or a lone surrogate.

    >>> check_text("Hi 👋🏽", "text")
    >>> check_text("a\\x00b", "tasks[3].text")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    annolab.errors.ValidationError: tasks[3].text='a\\x00b' contains a NUL character ...
    """
    if not isinstance(text, str):
        raise _error(field, text, f"must be a string, not {type(text).__name__}")
    problem = text_problem(text)
    if problem is not None:
        raise _error(field, text, problem)


def not_a_label(field: str, name: object, labels: LabelSchema) -> ValidationError:
    """The error for a label name the project does not have (returned, for the caller to raise).

    >>> str(not_a_label("spans[0].label", "FOO", LabelSchema.from_names(["PER", "ORG"])))
    "spans[0].label='FOO' is not a label of this project; labels are 'PER', 'ORG'"
    """
    names = labels.names
    if not names:
        return _error(field, name, "is not a label of this project; the project has no labels")
    shown = ", ".join(repr(n) for n in names[:_SHOWN_LABELS])
    if len(names) > _SHOWN_LABELS:
        shown += f", ... ({len(names)} in all)"
    return _error(field, name, f"is not a label of this project; labels are {shown}")


def validate_payload(
    raw: object,
    *,
    labels: LabelSchema | Sequence[str] | None = None,
    text: str | None = None,
    image_size: tuple[int, int] | None = None,
) -> Payload:
    """Check ``raw`` (a dict from JSON, or a payload model) and return the stored payload.

    ``labels`` (a LabelSchema, or anything ``LabelSchema.coerce`` takes) adds the label and
    overlap rules, ``text`` the span bounds, ``image_size`` (width, height in natural pixels)
    the box bounds.

    >>> validate_payload({"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "PER"}]},
    ...                  text="Ada met Bob").spans[0].end
    3
    >>> validate_payload({"kind": "rating", "value": 9})
    Traceback (most recent call last):
    annolab.errors.ValidationError: value=9 is off the scale; it must be between min (1) and max (5)
    """
    try:
        return _validate_payload(raw, labels=labels, text=text, image_size=image_size)
    except ValidationError:
        raise
    except Exception as exc:  # the promise to callers is "ValidationError and nothing else"
        rule = f"could not be validated ({type(exc).__name__}: {exc})"
        raise _error("payload", raw, rule) from exc


def payload_from_dict(data: object) -> Payload:
    """The payload stored as ``data`` (the inverse of ``to_dict()``), checked on the way in.

    >>> payload_from_dict({"kind": "choice", "label": "positive"})
    ChoicePayload(kind='choice', label='positive', score=None)
    """
    return validate_payload(data)


def validate_labels(raw: object) -> LabelSchema:
    """A LabelSchema from a LabelSchema, a list of names, a list of dicts or Labels, or a dict
    ``{"labels": [...], "allow_overlap": ...}``; a list of names gets hotkeys ("1".."9", letters).

    >>> validate_labels(["PER", "ORG"]).names
    ('PER', 'ORG')
    >>> validate_labels(["PER", "PER"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    annolab.errors.ValidationError: labels[1].name='PER' is already the name of labels[0]; ...
    """
    try:
        return _validate_labels(raw)
    except ValidationError:
        raise
    except Exception as exc:  # as in validate_payload: nothing but ValidationError escapes
        rule = f"could not be validated ({type(exc).__name__}: {exc})"
        raise _error("labels", raw, rule) from exc


def _validate_labels(raw: object) -> LabelSchema:
    if isinstance(raw, LabelSchema):
        return raw
    if isinstance(raw, Mapping):
        data = dict(raw)
        if "labels" in data:
            data["labels"] = _expand_names(data["labels"])
    elif isinstance(raw, (list, tuple)):
        data = {"labels": _expand_names(raw)}
    else:
        _refuse_one_string(raw)
        rule = (
            "must be a LabelSchema, a list of label names, a list of label dicts, "
            "or a dict {'labels': [...], 'allow_overlap': ...}"
        )
        raise _error("labels", raw, rule)
    try:
        return LabelSchema.model_validate(data)
    except pydantic.ValidationError as exc:
        raise _convert(exc, LabelSchema) from exc


def _refuse_one_string(raw: object) -> None:
    if isinstance(raw, str):
        rule = f"is one string, not a list of label names; write [{raw!r}]"
        raise _error("labels", raw, rule)


def _expand_names(items: object) -> object:
    """Names become label dicts; an all-names list also gets hotkeys: "1".."9", then letters."""
    _refuse_one_string(items)
    if not isinstance(items, (list, tuple)):
        return items  # pydantic says what is wrong with it
    if all(isinstance(item, str) for item in items):
        taken: set[str] = set()
        expanded: list[dict[str, Any]] = []
        for name in items:
            hotkey = pick_hotkey(name, taken)
            if hotkey is not None:
                taken.add(hotkey)
            expanded.append({"name": name, "hotkey": hotkey})
        return expanded
    return [{"name": item} if isinstance(item, str) else item for item in items]


def _validate_payload(
    raw: object,
    *,
    labels: object,
    text: object,
    image_size: object,
) -> Payload:
    schema = None if labels is None else _validate_labels(labels)
    if text is not None and not isinstance(text, str):
        raise _error("text", text, f"must be a string (the task text), not {type(text).__name__}")
    size = None if image_size is None else _check_image_size(image_size)

    if isinstance(raw, SchemaModel):
        raw = raw.to_dict()  # re-check a built model: it may come from model_construct()
    if not isinstance(raw, Mapping):
        rule = f"must be a dict with a 'kind' ({_KINDS}), not {type(raw).__name__}"
        raise _error("payload", raw, rule)
    data = dict(raw)
    if "kind" not in data:
        raise _error("kind", MISSING, f"is required; payload kinds are {_KINDS}")
    kind = data["kind"]
    if not isinstance(kind, str) or kind not in PAYLOAD_KINDS:
        raise _error("kind", kind, f"is not a payload kind; kinds are {_KINDS}")
    model = PAYLOAD_KINDS[kind]
    if model is FormPayload:
        # Labels, text and image belong to each question, which only the layout knows
        # (Layout.check_answer); here each answer is checked as the payload of its kind.
        return _validate_form(data)
    try:
        payload = model.model_validate(data, context={KEEP_ORDER: True})
    except pydantic.ValidationError as exc:
        raise _convert(exc, model) from exc

    if schema is not None:
        _check_labels(payload, schema)
    if isinstance(payload, SpansPayload | ErrorsPayload):
        # Errors are spans of a model's output whose labels are error types.
        if text is not None:
            _check_spans_in_text(payload.spans, text)
        if schema is not None and not schema.allow_overlap:
            _check_no_overlap(payload.spans)
    if isinstance(payload, BoxesPayload) and size is not None:
        _check_boxes_in_image(payload, size)
    # Checked in the order sent (so indices match the input); now store in sorted order.
    return cast(Payload, model.model_validate(dict(payload)))


def _check_image_size(image_size: object) -> tuple[float, float]:
    rule = "must be (width, height) in natural pixels, two positive numbers"
    if not isinstance(image_size, Sequence) or isinstance(image_size, str) or len(image_size) != 2:
        raise _error("image_size", image_size, rule)
    for side in image_size:
        is_number = isinstance(side, (int, float)) and not isinstance(side, bool)
        # The bound keeps float() below from overflowing on a 400-digit int.
        if not is_number or not 0 < side <= _LARGEST_IMAGE_SIDE:
            raise _error("image_size", image_size, rule)
    return float(image_size[0]), float(image_size[1])


def _check_labels(payload: SchemaModel, schema: LabelSchema) -> None:
    known = set(schema.names)
    named: list[tuple[str, str]] = []
    if isinstance(payload, SpansPayload | ErrorsPayload):
        named = [(f"spans[{i}].label", s.label) for i, s in enumerate(payload.spans)]
    elif isinstance(payload, BoxesPayload):
        named = [(f"boxes[{i}].label", b.label) for i, b in enumerate(payload.boxes)]
    elif isinstance(payload, ChoicePayload):
        named = [("label", payload.label)]
    elif isinstance(payload, ChoicesPayload):
        named = [(f"labels[{i}]", name) for i, name in enumerate(payload.labels)]
    for field, name in named:
        if name not in known:
            raise not_a_label(field, name, schema)


def _check_spans_in_text(spans: Sequence[Span], text: str) -> None:
    for index, span in enumerate(spans):
        if span.end > len(text):
            rule = f"is past the end of the text ({len(text)} code points)"
            raise _error(f"spans[{index}].end", span.end, rule)


def _check_no_overlap(spans: Sequence[Span]) -> None:
    """One sweep in start order; reports the later-sent span of the first overlapping pair."""
    order = sorted(range(len(spans)), key=lambda i: (spans[i].start, spans[i].end))
    reach, reach_index = -1, -1  # furthest end seen so far, and whose
    for index in order:
        span = spans[index]
        if span.start < reach:
            first, second = sorted((reach_index, index))
            other = spans[first]
            rule = (
                f"overlaps spans[{first}] ({other.start}, {other.end}, {other.label!r}); "
                "this project does not allow overlapping spans (allow_overlap=False)"
            )
            raise _error(f"spans[{second}]", spans[second].to_dict(), rule)
        if span.end > reach:
            reach, reach_index = span.end, index


def _check_boxes_in_image(payload: BoxesPayload, size: tuple[float, float]) -> None:
    width, height = size
    for index, box in enumerate(payload.boxes):
        sides = (
            ("x", box.x, box.x + box.width, width, "right", "wide"),
            ("y", box.y, box.y + box.height, height, "bottom", "high"),
        )
        for axis, start, stop, limit, edge, extent in sides:
            if stop > limit:
                # Blame the corner when it is already outside, else the size that overshoots.
                field, value = (axis, start) if start >= limit else (_SIZE[axis], stop - start)
                rule = (
                    f"puts the box past the {edge} edge of the image "
                    f"({axis} + {_SIZE[axis]} = {stop:g}, the image is {limit:g} px {extent})"
                )
                raise _error(f"boxes[{index}].{field}", value, rule)


_SIZE = {"x": "width", "y": "height"}


def _validate_form(data: dict[str, object]) -> FormPayload:
    extra = sorted(set(data) - {"kind", "answers"})
    if extra:
        rule = "is not a field of FormPayload; its fields are 'kind', 'answers'"
        raise _error(extra[0], data[extra[0]], rule)
    if "answers" not in data:
        raise _error("answers", MISSING, "is required: a dict of question name -> payload")
    answers = data["answers"]
    if not isinstance(answers, Mapping):
        rule = f"must be a dict of question name -> payload, not {type(answers).__name__}"
        raise _error("answers", answers, rule)
    checked: dict[str, Payload] = {}
    for name, answer in answers.items():
        if not isinstance(name, str) or not name:
            raise _error("answers", name, "has a key that is not a question name (a string)")
        where = _path(("answers", name))
        if isinstance(answer, Mapping) and answer.get("kind") == "form":
            raise _error(f"{where}.kind", "form", "is not allowed inside a form; forms do not nest")
        try:
            checked[name] = _validate_payload(answer, labels=None, text=None, image_size=None)
        except ValidationError as exc:
            field = where if exc.field == "payload" else f"{where}.{exc.field}"
            raise _error(field, exc.value, exc.rule) from exc
    return FormPayload(answers=checked)


# --- pydantic errors -> ValidationError -------------------------------------------------------


def _path(loc: Sequence[object]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.isidentifier():
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
    return out


def _convert(exc: pydantic.ValidationError, model: type[BaseModel]) -> ValidationError:
    """The first pydantic error as our ValidationError, its message rewritten as a rule."""
    error = exc.errors(include_url=False)[0]
    loc: tuple[object, ...] = tuple(error["loc"])
    value: object = error.get("input")
    kind = error["type"]
    ctx: dict[str, Any] = dict(error.get("ctx") or {})
    if kind == "annolab":
        loc += tuple(ctx["path"])
        return _error(_path(loc) or "payload", ctx["value"][0], error["msg"])
    if kind == "missing":
        value = MISSING
    rule = _rule(kind, value, ctx, error["msg"])
    if kind == "string_unicode" and isinstance(value, str):
        # pydantic trips over lone surrogates before our own check can name the index.
        rule = text_problem(value) or rule
    if kind == "extra_forbidden":
        owner = _model_at(model, loc[:-1])
        if owner is not None:
            fields = ", ".join(repr(name) for name in owner.model_fields)
            rule = f"is not a field of {owner.__name__}; its fields are {fields}"
    return _error(_path(loc) or "payload", value, rule)


def _rule(kind: str, value: object, ctx: dict[str, Any], msg: str) -> str:
    if isinstance(value, bool) and kind in ("int_type", "float_type"):
        return f"must be a {'whole ' if kind == 'int_type' else ''}number, not true/false"
    simple = {
        "missing": "is required",
        "int_type": "must be a whole number",
        "float_type": "must be a finite number",
        "finite_number": "must be a finite number, not NaN or infinity",
        "bool_type": "must be true or false",
        "string_type": "must be a string",
        "string_too_short": "must not be empty",
        "tuple_type": "must be a list",
        "model_type": "must be an object (a dict)",
        "model_attributes_type": "must be an object (a dict)",
        "dict_type": "must be an object (a dict)",
        "invalid_key": "is a key that is not a string; keys must be strings",
        "string_unicode": "is not valid UTF-8 text",
    }
    if kind in simple:
        return simple[kind]
    bounds = {
        "greater_than_equal": ("ge", ">="),
        "greater_than": ("gt", ">"),
        "less_than_equal": ("le", "<="),
        "less_than": ("lt", "<"),
    }
    if kind in bounds:
        key, sign = bounds[kind]
        bound = ctx.get(key)
        if bound == MAX_SAFE_INT:
            return f"must be {sign} {bound} (the largest whole number JavaScript holds exactly)"
        return f"must be {sign} {bound}"
    return msg.replace("Input should be", "must be").replace("Value error, ", "")


def _model_at(model: type[BaseModel], loc: Sequence[object]) -> type[BaseModel] | None:
    """The model class that sits at ``loc`` inside ``model`` (list indices skipped)."""
    current = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(part, str) else None
        nested = None if field is None else _nested_model(field.annotation)
        if nested is None:
            return None
        current = nested
    return current


def _nested_model(annotation: object) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _nested_model(arg)
        if found is not None:
            return found
    return None
