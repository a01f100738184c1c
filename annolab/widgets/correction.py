"""Correction: edit a model's output into what it should have said, seeing what changed.

Front end: ``widgets/src/correction/`` built into ``annolab/static/correction.js``. The prompt
and the original output travel as UTF-8 bytes (binary buffers); the editor starts from the
original and shows a character diff of original -> current as one types. Each edit comes back
(debounced) as a patch ``{"op": "set", "text": ...}`` checked here before it reaches ``value``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import traitlets

from annolab.errors import ValidationError
from annolab.schema import CorrectionPayload, validate_payload
from annolab.schema.layout import CorrectionQuestion
from annolab.widgets._base import (
    AnnotationWidget,
    WidgetCallback,
    WidgetTraitError,
    check_text,
    front_end,
)

__all__ = ["Correction"]

_REPR_CHARS = 40


class Correction(AnnotationWidget):
    """Correct ``original`` (a model's answer to ``prompt``) by editing it.

    ``value`` is the corrected text, or None while the original is untouched (the editor then
    shows the original, and ``payload`` is the original as it stands: nothing to correct).
    ``max_chars`` bounds the corrected text: the editor counts, and ``payload`` (so a submit)
    refuses a longer one. ``monospace`` shows the editor in a fixed-width font (code, tables);
    ``read_only`` shows a given correction against the original without editing.

    Keys while the widget has focus: typing edits (Ctrl+Z / Ctrl+Shift+Z are the text box's
    own undo and redo); Alt+R resets to the original; Ctrl+Enter submits; Esc leaves the text
    box, and Esc again skips.

    Example:
        >>> from annolab.widgets.correction import Correction
        >>> w = Correction("Paris is the capital of Spain.", prompt="Capital of France?")
        >>> w.payload.text
        'Paris is the capital of Spain.'
        >>> w.value = "Paris is the capital of France."
        >>> w.payload.to_dict()
        {'kind': 'correction', 'text': 'Paris is the capital of France.'}
    """

    _esm = front_end("correction", "js")
    _css = front_end("correction", "css")

    _prompt_utf8 = traitlets.Bytes(b"").tag(sync=True)
    _original_utf8 = traitlets.Bytes(b"").tag(sync=True)
    # Any, so the validator below (not the trait's own type check) says what is wrong.
    value = traitlets.Any(None).tag(sync=True)
    max_chars = traitlets.Int(None, allow_none=True).tag(sync=True)
    monospace = traitlets.Bool(False).tag(sync=True)
    read_only = traitlets.Bool(False).tag(sync=True)

    def __init__(
        self,
        original: str,
        *,
        prompt: str = "",
        value: str | None = None,
        max_chars: int | None = None,
        **kwargs: Any,
    ) -> None:
        for name, text in (("original", original), ("prompt", prompt)):
            if not isinstance(text, str):
                raise WidgetTraitError(name, text, "must be a str (the text shown)")
            check_text(text)
        self._texts = (prompt, original)
        super().__init__(
            _prompt_utf8=prompt.encode("utf-8"),
            _original_utf8=original.encode("utf-8"),
            max_chars=max_chars,
            **kwargs,
        )
        self.value = value

    @property
    def prompt(self) -> str:
        return self._texts[0]

    @property
    def original(self) -> str:
        return self._texts[1]

    @property
    def text(self) -> str:
        """What the editor shows: the corrected text, or the original while untouched."""
        return self.original if self.value is None else self.value

    @property
    def question(self) -> CorrectionQuestion:
        """The widget's rules as a ``CorrectionQuestion`` (they check ``payload``)."""
        return CorrectionQuestion(name="correction", field="original", max_chars=self.max_chars)

    @property
    def payload(self) -> CorrectionPayload:
        """The corrected text as a validated ``CorrectionPayload``; raises
        ``WidgetTraitError`` when it is longer than ``max_chars``."""
        try:
            payload = validate_payload({"kind": "correction", "text": self.text})
            self.question.check(payload, None, "value.")
        except ValidationError as exc:
            field = "value" if exc.field in ("value.text", "text") else exc.field
            raise WidgetTraitError(field, exc.value, exc.rule) from exc
        assert isinstance(payload, CorrectionPayload)
        return payload

    @traitlets.validate("value")
    def _validate_value(self, proposal: traitlets.Bunch) -> str | None:
        raw = proposal["value"]
        if raw is None:
            return None
        if not isinstance(raw, str):
            rule = "must be the corrected text (a str) or None for the original untouched"
            raise WidgetTraitError("value", raw, rule)
        try:
            check_text(raw)
        except WidgetTraitError as exc:
            raise WidgetTraitError("value", exc.value, exc.rule) from exc
        # Kept even when too long, so the annotator can shorten it; payload refuses it.
        return raw

    @traitlets.validate("max_chars")
    def _validate_max_chars(self, proposal: traitlets.Bunch) -> int | None:
        limit = proposal["value"]
        if limit is not None and limit < 1:
            raise WidgetTraitError("max_chars", limit, "must be >= 1, or None for no limit")
        return limit  # type: ignore[no-any-return]

    def _fire(self, callbacks: list[WidgetCallback], event: str) -> None:
        if event == "on_submit":
            try:
                self.payload  # noqa: B018  # checked here so a refused submit stores nothing
            except ValidationError as exc:
                self.error = f"Not submitted: {exc}"
                return
            self.error = ""
        super()._fire(callbacks, event)

    def _apply_patch(self, patch: Mapping[str, Any], buffers: Sequence[bytes]) -> str | None:
        op = patch.get("op")
        if op == "set":
            if self.read_only:
                raise WidgetTraitError("op", op, "edits a correction shown read-only")
            self.value = patch.get("text")
            return None
        return super()._apply_patch(patch, buffers)

    def __repr__(self) -> str:
        def cut(text: str) -> str:
            return text if len(text) <= _REPR_CHARS else f"{text[:_REPR_CHARS]}…"

        value = None if self.value is None else cut(self.value)
        return f"Correction({cut(self.original)!r}, value={value!r})"
