"""Preview: a read-only view of a text with its labelled spans highlighted.

Front end: ``widgets/src/preview/`` built into ``annolab/static/preview.js``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import anywidget
import traitlets

from annolab.schema import LabelSchema
from annolab.widgets._base import (
    check_spans,
    check_text,
    front_end,
    normalize_labels,
    normalize_spans,
)

__all__ = ["Preview"]

_REPR_TEXT_CHARS = 40


class Preview(anywidget.AnyWidget):
    """Shows a text with its labelled spans, e.g. a task or a stored annotation.

    Spans are ``{"start", "end", "label", "score"?}`` dicts (or ``annolab.schema.Span``) in
    Python code-point offsets (``text[start:end]`` is the span's text); they may nest or
    overlap. Labels are what a project takes (names, ``{"name", "color"}`` dicts with colours
    as ``#rrggbb``, a ``LabelSchema``); labels without a colour get the palette's, and with no
    labels at all any label is allowed. To change the text and spans together, set them inside
    ``with preview.hold_trait_notifications():`` so they are validated as a pair.

    Example:
        >>> from annolab.widgets import Preview
        >>> text = "Ada met Babbage in London 🇬🇧."
        >>> Preview(text, spans=[{"start": 0, "end": 3, "label": "PER", "score": 0.97},
        ...                      {"start": 19, "end": 25, "label": "LOC"}],
        ...         labels=["PER", {"name": "LOC", "color": "#feca74"}])
        Preview(text='Ada met Babbage in London 🇬🇧.' (29 chars), spans=2, labels=['PER', 'LOC'])
    """

    _esm = front_end("preview", "js")
    _css = front_end("preview", "css")

    text = traitlets.Unicode("").tag(sync=True)
    # Lists of Any: they accept names, dicts and span objects, which the validators below turn
    # into dicts, with better messages than an element trait would give.
    spans: traitlets.List[Any] = traitlets.List().tag(sync=True)
    labels: traitlets.List[Any] = traitlets.List().tag(sync=True)
    # Indexes into ``spans`` of the spans not in every answer (adjudication): outlined and
    # flagged with a sign in the page.
    disputed: traitlets.List[int] = traitlets.List(traitlets.Int()).tag(sync=True)

    def __init__(
        self,
        text: str,
        *,
        spans: Iterable[Mapping[str, Any] | object] = (),
        labels: LabelSchema | Iterable[str | Mapping[str, Any]] = (),
        **kwargs: Any,
    ) -> None:
        # Labels first: the label-schema validator takes more shapes (a LabelSchema, names)
        # than a list trait does, and says better what is wrong with the rest.
        # A lone string stays a string, so the validator can say "write ['PER']".
        raw = labels if isinstance(labels, (LabelSchema, str)) else list(labels)
        label_dicts = normalize_labels(raw)
        # HasTraits sets keyword traits inside hold_trait_notifications(), so text, spans and
        # labels are cross-validated together once all three are set.
        super().__init__(text=text, spans=list(spans), labels=label_dicts, **kwargs)

    @traitlets.validate("text")
    def _validate_text(self, proposal: traitlets.Bunch) -> str:
        text: str = proposal["value"]
        check_text(text)
        check_spans(normalize_spans(self.spans), text, normalize_labels(self.labels))
        return text

    @traitlets.validate("spans")
    def _validate_spans(self, proposal: traitlets.Bunch) -> list[dict[str, Any]]:
        spans = normalize_spans(proposal["value"])
        check_spans(spans, self.text, normalize_labels(self.labels))
        return spans

    @traitlets.validate("labels")
    def _validate_labels(self, proposal: traitlets.Bunch) -> list[dict[str, Any]]:
        labels = normalize_labels(proposal["value"])
        check_spans(normalize_spans(self.spans), self.text, labels)
        return labels

    def __repr__(self) -> str:
        # The default would print the whole text; a preview may hold a long document.
        text = self.text
        shown = text if len(text) <= _REPR_TEXT_CHARS else f"{text[:_REPR_TEXT_CHARS]}…"
        names = [label["name"] for label in self.labels]
        return (
            f"Preview(text={shown!r} ({len(text)} chars), spans={len(self.spans)}, labels={names})"
        )
