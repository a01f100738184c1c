"""Errors: mark the errors in a model's output, each a span labelled with an error type from a
taxonomy, with an optional comment.

Built on the NER widget: the same text view, selection, hotkeys, suggestions and undo
(``widgets/src/errors/`` wraps ``widgets/src/ner/``), with a comment field for the focused span,
the reference output above and a legend of the taxonomy. The value's spans carry a ``comment``
and are checked as an ``ErrorsPayload``; on the wire the comments ride beside the NER span
columns as one list of strings.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import traitlets

from annolab.errors import ValidationError
from annolab.schema import ErrorsPayload, LabelSchema, validate_payload
from annolab.widgets._base import WidgetTraitError, front_end
from annolab.widgets._spans import (
    SpanKey,
    SpanList,
    as_span_dicts,
    decode_spans,
    encode_spans,
    key_of,
    span_key,
)
from annolab.widgets.ner import NER, SpanLike, _apply_diff

__all__ = ["Errors", "validate_errors"]

_REPR_TEXT_CHARS = 40


def validate_errors(
    raw: object, *, field: str, text: str, labels: LabelSchema
) -> list[dict[str, Any]]:
    """A whole list of error spans checked as an ``ErrorsPayload``; sorted dicts with their
    ``comment`` ("" when none), errors named ``field``.

    >>> from annolab.schema import LabelSchema
    >>> validate_errors([{"start": 0, "end": 3, "label": "hallucination"}], field="value",
    ...                 text="Ada met Bob", labels=LabelSchema.from_names(["hallucination"]))
    [{'start': 0, 'end': 3, 'label': 'hallucination', 'comment': ''}]
    """
    items = as_span_dicts(raw, field)
    try:
        payload = validate_payload({"kind": "errors", "spans": items}, labels=labels, text=text)
    except ValidationError as exc:
        path = exc.field
        if path == "spans" or path.startswith(("spans[", "spans.")):
            path = field + path[len("spans") :]
        rule = exc.rule.replace("overlaps spans[", f"overlaps {field}[", 1)
        raise WidgetTraitError(path, exc.value, rule) from exc
    assert isinstance(payload, ErrorsPayload)
    return [span.to_dict() for span in payload.spans]


class _ErrorSpanList(SpanList):
    """A ``SpanList`` whose spans are error spans (with a comment)."""

    def check_one(self, raw: object) -> dict[str, Any]:
        spans = validate_errors([raw], field="spans", text=self.text, labels=self.labels)
        return spans[0]


def encode_errors(spans: Sequence[Mapping[str, Any]], _widget: object = None) -> dict[str, Any]:
    """The NER wire form of the spans plus ``comments``, one string per span.

    >>> encode_errors([{"start": 0, "end": 3, "label": "x", "comment": "why"}])["comments"]
    ['why']
    """
    wire = encode_spans(spans)
    wire["comments"] = [str(s.get("comment") or "") for s in spans]
    return wire


def decode_errors(wire: object, _widget: object = None) -> list[dict[str, Any]]:
    """The inverse of ``encode_errors`` (a plain list passes through)."""
    spans = decode_spans(wire)
    if isinstance(wire, Mapping):
        comments = list(wire.get("comments") or [])
        for span, comment in zip(spans, comments, strict=False):
            span["comment"] = comment
    return spans


class Errors(NER):
    """Mark the errors in a model's ``output``: select words, press an error type's key, and
    (optionally) say why in the comment field.

    ``labels`` is the taxonomy of error types (``mislabeling``, ``missing_entity``,
    ``hallucination``…). ``value`` is the list of error spans ``{"start", "end", "label",
    "comment", "score"?}`` in Python code points, kept sorted; ``payload`` is an
    ``ErrorsPayload``. ``reference`` (the expected output) is shown read-only above, folded
    away with a click. Spans may overlap unless ``allow_overlap=False``. ``suggestions`` are
    errors proposed by a model or a rule, accepted or rejected as in ``NER``.

    Keys while the output has focus: those of ``NER`` (an error type's hotkey labels the
    selection or relabels the focused span, Tab moves between spans, Delete removes one,
    Ctrl+Z undoes); ``c`` moves to the comment of the focused span, where Enter keeps the
    comment and Esc drops the edit (both go back to the output).

    Example:
        >>> from annolab.widgets.errors import Errors
        >>> w = Errors("PERSON: Empire State Building", labels=["mislabeling", "hallucination"],
        ...            value=[{"start": 0, "end": 6, "label": "mislabeling",
        ...                    "comment": "a building is a location"}])
        >>> w.payload.spans[0].comment
        'a building is a location'
    """

    _esm = front_end("errors", "js")
    _css = front_end("errors", "css")

    value: traitlets.List[Any] = traitlets.List().tag(
        sync=True, to_json=encode_errors, from_json=decode_errors
    )
    reference = traitlets.Unicode("").tag(sync=True)

    def __init__(
        self,
        output: str,
        *,
        labels: LabelSchema | Iterable[str | Mapping[str, Any]],
        reference: str = "",
        allow_overlap: bool = True,
        value: Iterable[SpanLike] | None = None,
        suggestions: Iterable[SpanLike] | None = None,
        **kwargs: Any,
    ) -> None:
        if not isinstance(reference, str):
            raise WidgetTraitError("reference", reference, "must be a str (the expected output)")
        # The comments each span had last, so undo and redo (whose snapshots in the page hold
        # spans without comments) bring a span back with its comment.
        self._comments: dict[SpanKey, str] = {}
        kwargs.setdefault("snap_to_words", False)
        super().__init__(
            output,
            labels=labels,
            allow_overlap=allow_overlap,
            suggestions=suggestions,
            reference=reference,
            **kwargs,
        )
        if value is not None:
            self.value = list(value)

    @property
    def output(self) -> str:
        """The model output under review (NER's ``text``)."""
        return self.text

    # An Errors answer is an ErrorsPayload, not NER's SpansPayload; nothing in NER reads it.
    @property
    def payload(self) -> ErrorsPayload:  # type: ignore[override]
        """``value`` as a validated ``ErrorsPayload``."""
        payload = validate_payload(
            {"kind": "errors", "spans": self.value}, labels=self._rules(), text=self.text
        )
        assert isinstance(payload, ErrorsPayload)
        return payload

    # -- validation with the errors payload's rules -------------------------------------------

    @traitlets.validate("value")
    def _validate_value(self, proposal: traitlets.Bunch) -> list[dict[str, Any]]:
        if self._trusting:
            spans: list[dict[str, Any]] = proposal["value"]
            return spans
        return validate_errors(
            proposal["value"], field="value", text=self.text, labels=self._rules()
        )

    @traitlets.observe("value")
    def _remember_comments(self, change: traitlets.Bunch) -> None:
        for span in change["new"]:
            self._comments[span_key(span)] = span.get("comment") or ""

    @traitlets.validate("text")
    def _validate_text(self, proposal: traitlets.Bunch) -> str:
        text: str = proposal["value"]
        if not self._trusting:
            validate_errors(self.value, field="value", text=text, labels=self._rules())
        self._trusting, trusting = True, self._trusting
        try:
            # NER's checks of the text and the suggestions; the value was checked above.
            return NER._validate_text(self, proposal)
        finally:
            self._trusting = trusting

    @traitlets.validate("allow_overlap")
    def _validate_allow_overlap(self, proposal: traitlets.Bunch) -> bool:
        allow: bool = proposal["value"]
        if not self._trusting and not allow:
            rules = self._rules(allow_overlap=False)
            validate_errors(self.value, field="value", text=self.text, labels=rules)
        return allow

    def _check_labels_fit(self, schema: LabelSchema) -> None:
        if self._trusting:
            return
        rules = schema.model_copy(update={"allow_overlap": self.allow_overlap})
        validate_errors(self.value, field="value", text=self.text, labels=rules)
        self._check_suggestions(self.suggestions, self.text, schema)

    # -- edits --------------------------------------------------------------------------------

    def _edit_value(self) -> SpanList:
        return _ErrorSpanList(
            self.value,
            field="value",
            text=self.text,
            labels=self._rules(),
            allow_overlap=self.allow_overlap,
        )

    def _apply_patch(self, patch: Mapping[str, Any], buffers: Sequence[bytes]) -> str | None:
        if patch.get("op") == "comment":
            self.set_comment(patch.get("span"), patch.get("comment"))
            return None
        return super()._apply_patch(patch, buffers)

    def set_comment(self, span: object, comment: object) -> None:
        """Sets the comment of the error span with ``span``'s start, end and label.

        >>> w = Errors("Ada met Bob", labels=["hallucination"],
        ...            value=[{"start": 8, "end": 11, "label": "hallucination"}])
        >>> w.set_comment({"start": 8, "end": 11, "label": "hallucination"}, "no Bob here")
        >>> w.value[0]["comment"]
        'no Bob here'
        """
        if not isinstance(comment, str):
            raise WidgetTraitError("comment", comment, 'must be a str ("" for none)')
        value = self._edit_value()
        old = value.remove(span)
        value.add({**old, "comment": comment})
        self._commit(value=value.spans)

    def _relabel(self, raw: object, label: object) -> None:
        value = self._edit_value()
        old = value.remove(raw)
        # The comment says what is wrong with these words, whatever the error is called; the
        # model's score no longer describes a label a person chose.
        value.add(
            {
                "start": old["start"],
                "end": old["end"],
                "label": label,
                "comment": old.get("comment") or "",
            }
        )
        self._commit(value=value.spans)

    def _replace(self, patch: Mapping[str, Any]) -> None:
        value = _apply_diff(self.value, patch.get("value"), "value")
        value = [
            {**span, "comment": span.get("comment") or self._comments.get(key_of(span), "")}
            for span in value
        ]
        suggestions = _apply_diff(self.suggestions, patch.get("suggestions"), "suggestions")
        with self.hold_trait_notifications():
            self.value = list(value)
            self.suggestions = suggestions

    def __repr__(self) -> str:
        text = self.text
        shown = text if len(text) <= _REPR_TEXT_CHARS else f"{text[:_REPR_TEXT_CHARS]}…"
        spans = "1 error" if len(self.value) == 1 else f"{len(self.value)} errors"
        names = [label["name"] for label in self.labels]
        return f"Errors(output={shown!r} ({len(text)} chars), value={spans}, labels={names})"
