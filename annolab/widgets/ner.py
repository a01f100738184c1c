"""NER: label spans of a text, with the mouse or the keyboard.

Front end: ``widgets/src/ner/`` built into ``annolab/static/ner.js``. The text travels once, as
UTF-8 bytes in a binary buffer; each edit comes back as a patch (``{"op": "add", "span": ...}``)
that is checked here and applied to ``value``, which stays the truth a view renders from.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import traitlets

from annolab.schema import LabelSchema, SpansPayload, validate_payload
from annolab.widgets._base import (
    AnnotationWidget,
    WidgetTraitError,
    check_text,
    front_end,
    label_dicts,
    label_schema_of,
)
from annolab.widgets._spans import (
    SpanList,
    as_span_dicts,
    decode_spans,
    encode_spans,
    key_of,
    span_key,
    validate_spans,
)

__all__ = ["NER"]

_REPR_TEXT_CHARS = 40
SpanLike = Mapping[str, Any] | object


class NER(AnnotationWidget):
    """Label spans of ``text``: select with the mouse or the keyboard, press a label's key.

    ``value`` is the list of spans ``{"start", "end", "label", "score"?}`` in Python
    code-point offsets (``text[start:end]`` is the span's text), kept sorted. ``suggestions``
    are pre-annotations (with a ``score`` from 0 to 1) shown apart, to accept or reject one by
    one or all at once. Overlapping spans are refused unless ``allow_overlap`` (which defaults
    to the label schema's). With ``snap_to_words`` a selection grows to whole words.

    Keys while the text has focus: a label's hotkey (``1``-``9`` unless configured) labels the
    selection or relabels the focused span; Shift+arrows select (Ctrl for words); Tab moves
    between spans; Delete removes a span, Enter accepts a suggestion; Ctrl+Z / Ctrl+Shift+Z
    undo and redo; Ctrl+Enter submits and Esc skips (see ``on_submit`` and ``on_skip``).

    Example:
        >>> from annolab.widgets import NER
        >>> ner = NER("Ada met Babbage in London 🇬🇧.", labels=["PER", "LOC"],
        ...           value=[{"start": 0, "end": 3, "label": "PER"}],
        ...           suggestions=[{"start": 19, "end": 25, "label": "LOC", "score": 0.91}])
        >>> ner.payload.spans[0].label
        'PER'
        >>> ner
        NER(text='Ada met Babbage in London 🇬🇧.' (29 chars), value=1 span, suggestions=1, labels=['PER', 'LOC'])
    """  # noqa: E501 (a doctest's output is one line)

    _esm = front_end("ner", "js")
    _css = front_end("ner", "css")

    # The document, in Python; it reaches the browser as UTF-8 bytes in a binary buffer, which
    # for a long text is cheaper than a JSON string (and what STYLE.md asks of large data).
    text = traitlets.Unicode("")
    _text_utf8 = traitlets.Bytes(b"").tag(sync=True)
    # Lists of span dicts in Python; columns in binary buffers on the wire (see _spans.py).
    value: traitlets.List[Any] = traitlets.List().tag(
        sync=True, to_json=encode_spans, from_json=decode_spans
    )
    suggestions: traitlets.List[Any] = traitlets.List().tag(
        sync=True, to_json=encode_spans, from_json=decode_spans
    )
    allow_overlap = traitlets.Bool(False).tag(sync=True)
    snap_to_words = traitlets.Bool(True).tag(sync=True)

    # Set while this class assigns lists it has already checked (see _trusted).
    _trusting = False

    def __init__(
        self,
        text: str,
        *,
        labels: LabelSchema | Iterable[str | Mapping[str, Any]],
        value: Iterable[SpanLike] | None = None,
        allow_overlap: bool | None = None,
        suggestions: Iterable[SpanLike] | None = None,
        snap_to_words: bool = True,
        history_limit: int = 100,
        **kwargs: Any,
    ) -> None:
        schema = label_schema_of(labels if isinstance(labels, (LabelSchema, str)) else list(labels))
        overlap = schema.allow_overlap if allow_overlap is None else allow_overlap
        if not isinstance(overlap, bool):
            raise WidgetTraitError("allow_overlap", overlap, "must be True or False")
        if not isinstance(text, str):
            raise WidgetTraitError("text", text, f"must be a string, not {type(text).__name__}")
        check_text(text)
        rules = schema.model_copy(update={"allow_overlap": overlap})
        # Checked once here; the trait validators would check each list once per trait set.
        checked_value = validate_spans(
            [] if value is None else value, field="value", text=text, labels=rules
        )
        checked_suggestions = self._check_suggestions(
            [] if suggestions is None else suggestions, text, schema
        )
        self._trusting = True
        try:
            super().__init__(
                text=text,
                labels=label_dicts(schema),
                allow_overlap=overlap,
                value=checked_value,
                suggestions=checked_suggestions,
                snap_to_words=snap_to_words,
                history_limit=history_limit,
                **kwargs,
            )
        finally:
            self._trusting = False

    # -- the value ---------------------------------------------------------------------------

    @property
    def payload(self) -> SpansPayload:
        """``value`` as a validated ``SpansPayload``."""
        payload = validate_payload(
            {"kind": "spans", "spans": self.value}, labels=self._rules(), text=self.text
        )
        assert isinstance(payload, SpansPayload)
        return payload

    def _rules(self, *, allow_overlap: bool | None = None) -> LabelSchema:
        overlap = self.allow_overlap if allow_overlap is None else allow_overlap
        return label_schema_of(self.labels, allow_overlap=overlap)

    @staticmethod
    def _check_suggestions(raw: object, text: str, schema: LabelSchema) -> list[dict[str, Any]]:
        # Candidates may overlap each other (two labels proposed for one phrase).
        rules = schema.model_copy(update={"allow_overlap": True})
        return validate_spans(raw, field="suggestions", text=text, labels=rules)

    @contextlib.contextmanager
    def _trusted(self) -> Iterator[None]:
        """Sets lists this class already checked, without checking each one again."""
        self._trusting = True
        try:
            with self.hold_sync():
                yield
        finally:
            self._trusting = False

    # -- validation of traits set from Python ------------------------------------------------

    @traitlets.validate("text")
    def _validate_text(self, proposal: traitlets.Bunch) -> str:
        text: str = proposal["value"]
        if self._trusting:
            return text
        check_text(text)
        validate_spans(self.value, field="value", text=text, labels=self._rules())
        self._check_suggestions(self.suggestions, text, self._rules())
        return text

    @traitlets.observe("text")
    def _send_text(self, change: traitlets.Bunch) -> None:
        self._text_utf8 = change["new"].encode("utf-8")

    @traitlets.validate("value")
    def _validate_value(self, proposal: traitlets.Bunch) -> list[dict[str, Any]]:
        if self._trusting:
            spans: list[dict[str, Any]] = proposal["value"]
            return spans
        return validate_spans(
            proposal["value"], field="value", text=self.text, labels=self._rules()
        )

    @traitlets.validate("suggestions")
    def _validate_suggestions(self, proposal: traitlets.Bunch) -> list[dict[str, Any]]:
        if self._trusting:
            spans: list[dict[str, Any]] = proposal["value"]
            return spans
        return self._check_suggestions(proposal["value"], self.text, self._rules())

    @traitlets.validate("allow_overlap")
    def _validate_allow_overlap(self, proposal: traitlets.Bunch) -> bool:
        allow: bool = proposal["value"]
        if not self._trusting and not allow:
            validate_spans(
                self.value, field="value", text=self.text, labels=self._rules(allow_overlap=False)
            )
        return allow

    def _check_labels_fit(self, schema: LabelSchema) -> None:
        if self._trusting:
            return
        rules = schema.model_copy(update={"allow_overlap": self.allow_overlap})
        validate_spans(self.value, field="value", text=self.text, labels=rules)
        self._check_suggestions(self.suggestions, self.text, schema)

    # -- patches from the front end ----------------------------------------------------------

    def _apply_patch(self, patch: Mapping[str, Any], buffers: Sequence[bytes]) -> str | None:
        op = patch.get("op")
        if op == "add":
            value = self._edit_value()
            value.add(patch.get("span"))
            self._commit(value=value.spans)
        elif op == "remove":
            value = self._edit_value()
            value.remove(patch.get("span"))
            self._commit(value=value.spans)
        elif op == "relabel":
            self._relabel(patch.get("span"), patch.get("label"))
        elif op == "accept":
            self._accept(patch.get("span"), patch.get("label"))
        elif op == "reject":
            suggestions = self._edit_suggestions()
            suggestions.remove(patch.get("span"))
            self._commit(suggestions=suggestions.spans)
        elif op == "accept_all":
            return self._accept_all()
        elif op == "reject_all":
            self._commit(suggestions=[])
        elif op == "replace":
            self._replace(patch)
        else:
            return super()._apply_patch(patch, buffers)
        return None

    def _edit_value(self) -> SpanList:
        return SpanList(
            self.value,
            field="value",
            text=self.text,
            labels=self._rules(),
            allow_overlap=self.allow_overlap,
        )

    def _edit_suggestions(self) -> SpanList:
        return SpanList(
            self.suggestions,
            field="suggestions",
            text=self.text,
            labels=self._rules(),
            allow_overlap=True,
        )

    def _commit(
        self,
        *,
        value: list[dict[str, Any]] | None = None,
        suggestions: list[dict[str, Any]] | None = None,
    ) -> None:
        # One message for both lists, so a view never sees a suggestion accepted twice.
        with self._trusted():
            if value is not None:
                self.value = value
            if suggestions is not None:
                self.suggestions = suggestions

    def _relabel(self, raw: object, label: object) -> None:
        value = self._edit_value()
        old = value.remove(raw)
        # A person chose the new label, so a model's score no longer describes it.
        value.add({"start": old["start"], "end": old["end"], "label": label})
        self._commit(value=value.spans)

    def _accept(self, raw: object, label: object = None) -> None:
        """Accepts a suggestion, as it is or (a label key on a suggestion) with another label."""
        suggestions = self._edit_suggestions()
        suggestion = suggestions.remove(raw)
        if label is not None:
            suggestion = {**suggestion, "label": label}
        value = self._edit_value()
        # Once accepted the span is the annotator's answer; the model's score stays with the
        # suggestion, which is gone.
        if suggestion not in value:
            value.add(suggestion, keep_score=False)
        self._commit(value=value.spans, suggestions=suggestions.spans)

    def _accept_all(self) -> str | None:
        value = self._edit_value()
        left: list[dict[str, Any]] = []
        # Surest first, so where two suggestions overlap (and overlaps are refused) the more
        # likely one is taken.
        for suggestion in sorted(self.suggestions, key=lambda s: -(s.get("score") or 0.0)):
            if suggestion in value:
                continue
            try:
                value.add(suggestion, keep_score=False)
            except WidgetTraitError:
                left.append(suggestion)
        left.sort(key=span_key)
        self._commit(value=value.spans, suggestions=left)
        if not left:
            return None
        count = "1 suggestion was" if len(left) == 1 else f"{len(left)} suggestions were"
        return (
            f"{count} left: each overlaps a span already labelled, and this widget does not "
            "allow overlapping spans (allow_overlap=False); accept or reject them one by one"
        )

    def _replace(self, patch: Mapping[str, Any]) -> None:
        """Undo and redo: moves both lists to another state, sent as what to remove and add."""
        value = _apply_diff(self.value, patch.get("value"), "value")
        suggestions = _apply_diff(self.suggestions, patch.get("suggestions"), "suggestions")
        # Whole lists are checked here: undo is rare and may touch many spans (accept all).
        with self.hold_trait_notifications():
            self.value = value
            self.suggestions = suggestions

    def __repr__(self) -> str:
        # The default would print the whole text; an NER widget may hold a long document.
        text = self.text
        shown = text if len(text) <= _REPR_TEXT_CHARS else f"{text[:_REPR_TEXT_CHARS]}…"
        spans = "1 span" if len(self.value) == 1 else f"{len(self.value)} spans"
        names = [label["name"] for label in self.labels]
        return (
            f"NER(text={shown!r} ({len(text)} chars), value={spans}, "
            f"suggestions={len(self.suggestions)}, labels={names})"
        )


def _apply_diff(current: list[dict[str, Any]], diff: object, field: str) -> list[dict[str, Any]]:
    if diff is None:
        return current
    if not isinstance(diff, Mapping):
        raise WidgetTraitError(field, diff, "must be a diff {'remove': [...], 'add': [...]}")
    remove = {key_of(span, field) for span in as_span_dicts(diff.get("remove", []), field)}
    kept = [span for span in current if span_key(span) not in remove]
    return kept + as_span_dicts(diff.get("add", []), field)
