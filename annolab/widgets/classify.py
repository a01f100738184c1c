"""Classify: choose one label (or several) for a text, an image or a record.

Front end: ``widgets/src/classify/`` built into ``annolab/static/classify.js``. Texts and images
travel as binary buffers; each choice comes back as a patch (``{"op": "choose", "label": ...}``)
checked here with ``annolab.schema.validate_payload`` and applied to ``value``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import traitlets

from annolab.errors import ValidationError
from annolab.schema import ChoicePayload, ChoicesPayload, LabelSchema, validate_payload
from annolab.widgets._base import (
    AnnotationWidget,
    WidgetTraitError,
    front_end,
    label_dicts,
    label_schema_of,
)
from annolab.widgets._item import Item

__all__ = ["Classify"]

_REPR_TEXT_CHARS = 40


class Classify(AnnotationWidget):
    """Choose labels for one item: a text, an image or a record, one label or several.

    ``item`` is a text (``str``), an image (``bytes``, a ``pathlib.Path`` or a path string to
    an image file, or an http(s) URL the browser loads) or a record (a ``dict``, shown as a
    table of keys and values). ``kind`` forces how it is shown when the guess is wrong (a URL
    to show as text). With ``multi=False`` ``value`` is one label name or None; with
    ``multi=True`` it is a list of names (empty when none apply). ``suggestions`` are
    ``{"label", "score"}`` dicts (a model's guesses) shown next to their labels; accepting one
    chooses its label.

    Keys while the widget has focus: a label's hotkey (``1``-``9`` unless configured)
    chooses it (toggles it with ``multi``); arrows move between labels and Space chooses;
    Ctrl+Z / Ctrl+Shift+Z undo and redo; Ctrl+Enter submits and Esc skips.

    Example:
        >>> from annolab.widgets import Classify
        >>> review = Classify("Great phone, awful battery.", labels=["pos", "neg", "mixed"],
        ...                   suggestions=[{"label": "mixed", "score": 0.71}])
        >>> review.value is None
        True
        >>> review.value = "mixed"
        >>> review.payload
        ChoicePayload(kind='choice', label='mixed', score=None)
    """

    _esm = front_end("classify", "js")
    _css = front_end("classify", "css")

    kind = traitlets.Unicode("text").tag(sync=True)
    # A text travels as UTF-8 bytes in a binary buffer, as NER's does; an image as its bytes.
    _text_utf8 = traitlets.Bytes(b"").tag(sync=True)
    image = traitlets.Bytes(b"").tag(sync=True)
    image_mime = traitlets.Unicode("").tag(sync=True)
    image_url = traitlets.Unicode("").tag(sync=True)
    item_name = traitlets.Unicode("").tag(sync=True)
    record: traitlets.List[Any] = traitlets.List().tag(sync=True)
    multi = traitlets.Bool(False).tag(sync=True)
    # A label name or None (single), or a list of names (multi); checked in _validate_value.
    value = traitlets.Any(None).tag(sync=True)
    suggestions: traitlets.List[Any] = traitlets.List().tag(sync=True)

    def __init__(
        self,
        item: object,
        *,
        labels: LabelSchema | Iterable[str | Mapping[str, Any]],
        multi: bool = False,
        value: str | Iterable[str] | None = None,
        suggestions: Iterable[Mapping[str, Any]] | None = None,
        kind: str | None = None,
        history_limit: int = 100,
        **kwargs: Any,
    ) -> None:
        schema = label_schema_of(labels if isinstance(labels, (LabelSchema, str)) else list(labels))
        if not isinstance(multi, bool):
            raise WidgetTraitError("multi", multi, "must be True or False")
        shown = Item.of(item, kind)
        self._item = item
        if value is None and multi:
            value = []
        super().__init__(
            kind=shown.kind,
            _text_utf8=shown.text.encode("utf-8"),
            image=shown.image,
            image_mime=shown.image_mime,
            image_url=shown.image_url,
            item_name=shown.name,
            record=shown.rows,
            labels=label_dicts(schema),
            multi=multi,
            value=value if value is None or isinstance(value, str) else list(value),
            suggestions=[] if suggestions is None else list(suggestions),
            history_limit=history_limit,
            **kwargs,
        )

    @property
    def item(self) -> object:
        """The item as it was given."""
        return self._item

    @property
    def payload(self) -> ChoicePayload | ChoicesPayload:
        """``value`` as a validated ``ChoicePayload`` (single) or ``ChoicesPayload`` (multi)."""
        if self.multi:
            raw: dict[str, Any] = {"kind": "choices", "labels": self.value}
        else:
            if self.value is None:
                rule = "is not chosen yet: choose a label first (or skip the item)"
                raise WidgetTraitError("value", None, rule)
            raw = {"kind": "choice", "label": self.value}
        payload = validate_payload(raw, labels=self.label_schema)
        assert isinstance(payload, (ChoicePayload, ChoicesPayload))
        return payload

    # -- validation --------------------------------------------------------------------------

    def _check_value(
        self, value: object, multi: bool, schema: LabelSchema
    ) -> str | list[str] | None:
        if multi:
            if isinstance(value, str) or not isinstance(value, (list, tuple)):
                rule = "must be a list of label names when multi=True, e.g. ['pos']"
                raise WidgetTraitError("value", value, rule)
            raw: dict[str, Any] = {"kind": "choices", "labels": list(value)}
        else:
            if value is None:
                return None
            if not isinstance(value, str):
                rule = "must be one label name or None when multi=False (multi=True takes a list)"
                raise WidgetTraitError("value", value, rule)
            raw = {"kind": "choice", "label": value}
        try:
            validate_payload(raw, labels=schema)
        except ValidationError as exc:
            # The payload's field names ("labels[1]", "label") as the widget's trait.
            field = exc.field.replace("labels", "value", 1).replace("label", "value", 1)
            rule = exc.rule.replace("as labels[", "as value[")
            raise WidgetTraitError(field, exc.value, rule) from exc
        # Multi keeps the order chosen (the payload sorts); the annotator sees no jumps.
        return [str(name) for name in value] if isinstance(value, (list, tuple)) else value

    def _check_suggestions(self, raw: object, schema: LabelSchema) -> list[dict[str, Any]]:
        if isinstance(raw, (str, Mapping)) or not isinstance(raw, (list, tuple)):
            rule = "must be a list like [{'label': 'pos', 'score': 0.8}]"
            raise WidgetTraitError("suggestions", raw, rule)
        out: list[dict[str, Any]] = []
        seen: dict[str, int] = {}
        for i, suggestion in enumerate(raw):
            if not isinstance(suggestion, Mapping):
                rule = "must be a dict {'label': ..., 'score': ...}"
                raise WidgetTraitError(f"suggestions[{i}]", suggestion, rule)
            try:
                checked = validate_payload({"kind": "choice", **suggestion}, labels=schema)
            except ValidationError as exc:
                raise WidgetTraitError(
                    f"suggestions[{i}].{exc.field}", exc.value, exc.rule
                ) from exc
            assert isinstance(checked, ChoicePayload)
            first = seen.setdefault(checked.label, i)
            if first != i:
                rule = f"is already suggested by suggestions[{first}]; give each label once"
                raise WidgetTraitError(f"suggestions[{i}].label", checked.label, rule)
            out.append({k: v for k, v in checked.to_dict().items() if k != "kind"})
        return out

    @traitlets.validate("value")
    def _validate_value(self, proposal: traitlets.Bunch) -> str | list[str] | None:
        return self._check_value(proposal["value"], self.multi, self.label_schema)

    @traitlets.validate("multi")
    def _validate_multi(self, proposal: traitlets.Bunch) -> bool:
        multi: bool = proposal["value"]
        value = self.value
        if not multi and isinstance(value, list) and len(value) > 1:
            rule = f"cannot be False while value holds {len(value)} labels {value!r}"
            raise WidgetTraitError("multi", multi, rule)
        return multi

    @traitlets.observe("multi")
    def _reshape_value(self, change: traitlets.Bunch) -> None:
        # One label becomes a list of one, and back (validated above: at most one).
        value = self.value
        if change["new"] and not isinstance(value, list):
            self.value = [] if value is None else [value]
        elif not change["new"] and isinstance(value, list):
            self.value = value[0] if value else None

    @traitlets.validate("suggestions")
    def _validate_suggestions(self, proposal: traitlets.Bunch) -> list[dict[str, Any]]:
        return self._check_suggestions(proposal["value"], self.label_schema)

    def _check_labels_fit(self, schema: LabelSchema) -> None:
        self._check_value(self.value, self.multi, schema)
        self._check_suggestions(self.suggestions, schema)

    # -- patches from the front end ----------------------------------------------------------

    def _apply_patch(self, patch: Mapping[str, Any], buffers: Sequence[bytes]) -> str | None:
        op = patch.get("op")
        label = patch.get("label")
        if op == "choose":  # single: this label (None clears)
            self.value = self._single(op, label)
        elif op == "toggle":  # multi: add or take away this label
            chosen = list(self._multi(op))
            self.value = [n for n in chosen if n != label] if label in chosen else [*chosen, label]
        elif op == "accept":  # a suggestion: choose its label
            names = [s["label"] for s in self.suggestions]
            if label not in names:
                raise WidgetTraitError("label", label, f"is not suggested; suggestions are {names}")
            if self.multi:
                chosen = list(self.value)
                self.value = chosen if label in chosen else [*chosen, label]
            else:
                self.value = label
        elif op == "set":  # undo and redo: the whole (small) value
            self.value = patch.get("value")
        else:
            return super()._apply_patch(patch, buffers)
        return None

    def _single(self, op: str, label: object) -> object:
        if self.multi:
            raise WidgetTraitError(
                "op", op, "chooses one label; this widget has multi=True (toggle)"
            )
        return label

    def _multi(self, op: str) -> list[str]:
        if not self.multi:
            raise WidgetTraitError(
                "op", op, "toggles a label; this widget has multi=False (choose)"
            )
        chosen: list[str] = self.value
        return chosen

    def __repr__(self) -> str:
        if self.kind == "text":
            text = self._text_utf8.decode("utf-8")
            cut = text if len(text) <= _REPR_TEXT_CHARS else f"{text[:_REPR_TEXT_CHARS]}…"
            shown = f"{cut!r} ({len(text)} chars)"
        elif self.kind == "image":
            shown = f"image {self.item_name or self.image_url or f'{len(self.image)} bytes'!r}"
        else:
            shown = f"record of {len(self.record)} fields"
        names = [label["name"] for label in self.labels]
        return f"Classify({shown}, value={self.value!r}, multi={self.multi}, labels={names})"
