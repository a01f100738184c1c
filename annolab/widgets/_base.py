"""What every annolab widget shares: built front-end files, validation, and the contract of
the annotation widgets (``AnnotationWidget``: labels, error, submit/skip nonces, undo bound,
patches from the front end).

Widgets validate at the edge, in Python, so the front end can trust its state (STYLE.md 3).
"""

from __future__ import annotations

import json
import logging
import numbers
import pathlib
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import anywidget
import traitlets

from annolab.errors import ValidationError
from annolab.schema import LabelSchema, Payload, validate_labels
from annolab.widgets._telemetry import TelemetrySummary, parse_summary

__all__ = [
    "BUILD_COMMAND",
    "STATIC_DIR",
    "AnnotationWidget",
    "WidgetCallback",
    "WidgetTraitError",
    "check_spans",
    "check_text",
    "front_end",
    "normalize_labels",
    "normalize_spans",
]

_log = logging.getLogger(__name__)

STATIC_DIR = pathlib.Path(__file__).parent.parent / "static"
BUILD_COMMAND = "npm --prefix widgets ci && npm --prefix widgets run build"

# Shown in place of a widget whose bundle is missing (a source checkout not built yet).
# anywidget reads a multi-line string as the module itself rather than as a path; the
# message goes in as a JSON string, which is also a valid JavaScript string literal.
_MISSING_BUNDLE_ESM = """
export default {
  render({ el }) {
    const note = document.createElement("pre");
    note.textContent = %s;
    el.append(note);
  }
};
"""


class WidgetTraitError(ValidationError, traitlets.TraitError):
    """A widget trait was given a value that breaks a rule.

    It is an annolab ``ValidationError`` (with ``field``, ``value`` and ``rule``) and a
    ``TraitError``, so traitlets rolls back every change made in the same
    ``hold_trait_notifications()`` block. ``banner`` is the sentence the widget shows the
    annotator (quoting the text, not a Python dict); the message keeps the house form.
    """

    def __init__(self, field: str, value: object, rule: str, *, banner: str | None = None) -> None:
        super().__init__(field, value, rule)
        self.banner = banner


def banner_text(exc: ValidationError) -> str:
    """What the error banner of a widget says about a refused edit: a sentence, no reprs.

    >>> banner_text(WidgetTraitError("span", {"start": 1}, "is bad", banner="Span 1 is bad"))
    'Span 1 is bad'
    >>> banner_text(ValidationError("box", {"x": 1, "y": 2}, "is off the image"))
    'box (x 1, y 2) is off the image'
    """
    banner = getattr(exc, "banner", None)
    if isinstance(banner, str) and banner:
        return banner
    value = exc.value
    if isinstance(value, Mapping):
        shown = ", ".join(f"{key} {item}" for key, item in value.items())
        return f"{exc.field} ({shown}) {exc.rule}"
    return str(exc)


def front_end(name: str, suffix: str) -> pathlib.Path | str:
    """The built ``annolab/static/<name>.<suffix>``, or a stand-in that says how to build it.

    ``AnyWidget`` opens ``_esm``/``_css`` paths when the class is defined, so pointing at a
    missing file would break ``import annolab`` in an unbuilt checkout; the stand-in keeps the
    import working and shows the fix in the notebook instead.
    """
    path = STATIC_DIR / f"{name}.{suffix}"
    if path.is_file():
        return path
    if suffix == "css":
        return ""
    message = f"annolab: the {name} front end is not built ({path} is missing). "
    message += f"Run: {BUILD_COMMAND}"
    return _MISSING_BUNDLE_ESM % json.dumps(message)


def normalize_labels(value: object) -> list[dict[str, Any]]:
    """``labels`` as ``[{"name": str, "color": "#rrggbb"}]``, checked by the project's rules.

    Takes what ``annolab.schema.validate_labels`` takes (names, dicts, a ``LabelSchema``), so a
    label set that works here works in a project, and gets the same palette colours.
    """
    try:
        schema = validate_labels(value)
    except ValidationError as exc:
        raise WidgetTraitError(exc.field, exc.value, exc.rule) from exc
    return [{"name": label.name, "color": label.color} for label in schema.labels]


_MISSING = object()
_SHOWN_LABELS = 20


def normalize_spans(value: Sequence[object]) -> list[dict[str, Any]]:
    """``spans`` as ``[{"start": int, "end": int, "label": str, "score": float | None}]``.

    Items may be dicts or objects with ``start``, ``end``, ``label`` (and ``score``)
    attributes; other keys are dropped, so only what the front end reads is synced.
    """
    spans: list[dict[str, Any]] = []
    for i, item in enumerate(value):
        fields = {key: _get(item, key) for key in ("start", "end", "label", "score")}
        if not isinstance(item, Mapping) and fields["start"] is _MISSING:
            rule = "must be a dict with 'start', 'end', 'label' and an optional 'score'"
            raise WidgetTraitError(f"spans[{i}]", item, rule)
        for key in ("start", "end", "label"):
            if fields[key] is _MISSING:
                raise WidgetTraitError(f"spans[{i}]", item, f"has no '{key}'")
        start = _offset(f"spans[{i}].start", fields["start"])
        end = _offset(f"spans[{i}].end", fields["end"])
        label = fields["label"]
        if not isinstance(label, str) or not label:
            raise WidgetTraitError(f"spans[{i}].label", label, "must be a non-empty string")
        spans.append(
            {
                "start": start,
                "end": end,
                "label": label,
                "score": _score(f"spans[{i}].score", fields["score"]),
            }
        )
    return spans


def check_spans(
    spans: Sequence[Mapping[str, Any]], text: str, labels: Sequence[Mapping[str, Any]]
) -> None:
    """Checks normalised spans against the text and labels; an empty ``labels`` allows any."""
    length = len(text)
    names = [label["name"] for label in labels]
    known = set(names)
    # A 500-label taxonomy must not turn one error into a page.
    shown = ", ".join(repr(name) for name in names[:_SHOWN_LABELS])
    if len(names) > _SHOWN_LABELS:
        shown += f", ... ({len(names)} in all)"
    for i, span in enumerate(spans):
        start, end = span["start"], span["end"]
        if end > length:
            raise WidgetTraitError(
                f"spans[{i}].end", end, f"is past the end of the text ({length} code points)"
            )
        if start >= end:
            rule = f"must be less than end={end} (a span covers at least one character)"
            raise WidgetTraitError(f"spans[{i}].start", start, rule)
        if known and span["label"] not in known:
            rule = f"is not one of the labels {shown}; add it to labels or fix the span"
            raise WidgetTraitError(f"spans[{i}].label", span["label"], rule)


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def check_text(text: str) -> None:
    """Refuses a text the kernel cannot send: a lone surrogate is not UTF-8."""
    found = _LONE_SURROGATE.search(text)
    if found is not None:
        rule = (
            f"contains a lone surrogate {found.group()!r} at index {found.start()}, which is not "
            "UTF-8 and cannot be sent to the browser; the text was probably decoded wrongly"
        )
        raise WidgetTraitError("text", text, rule)


def _offset(field: str, value: object) -> int:
    # numbers.Integral admits numpy and polars integers; bool is an int but not an offset.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        raise WidgetTraitError(field, value, "must be an int >= 0 (a Python code-point offset)")
    return int(value)


def _score(field: str, value: object) -> float | None:
    if value is _MISSING or value is None:
        return None
    rule = "must be a number from 0 to 1, or None"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise WidgetTraitError(field, value, rule)
    score = float(value)
    # The payload model's range. The test fails for NaN too, which matters: NaN is not JSON
    # and the kernel refuses to send it to the browser at all.
    if not 0.0 <= score <= 1.0:
        raise WidgetTraitError(field, value, rule)
    return score


def _get(item: object, key: str) -> object:
    if isinstance(item, Mapping):
        return item.get(key, _MISSING)
    return getattr(item, key, _MISSING)


# --- the annotation widgets' contract ---------------------------------------------------------

WidgetCallback = Callable[["AnnotationWidget"], None]


class AnnotationWidget(anywidget.AnyWidget):
    """The base of every annotation widget (NER, Classify, BBox): what a session loop relies on.

    - ``labels``: the label set as ``[{"name", "color", "hotkey", "description"}]``, from
      ``annolab.schema.validate_labels`` (so it takes names, dicts or a ``LabelSchema``).
    - ``error``: a message shown inside the widget; "" hides it.
    - ``submit_count`` / ``skip_count`` / ``draft_count``: nonces the front end adds 1 to on
      Submit (Ctrl+Enter), Skip (Esc) and Save draft (Ctrl+S), so ``on_submit``/``on_skip``/
      ``on_draft`` callbacks fire every time, twice in a row too.
    - ``history_limit``: how many undo steps the front end keeps.
    - ``show_submit``: False hides the Skip and Submit buttons, for a view that composes
      several widgets over one item and submits them together.
    - ``show_draft``: True shows a Save draft button (Ctrl+S works either way), for a view that
      stores drafts, such as ``project.annotate()``. Ctrl+S inside a widget saves the draft AND
      lets JupyterLab save the notebook, as the hand expects; the widget does not swallow it.
    - In the page, ``?`` opens a list of the widget's keys and labels (Esc or ``?`` closes it).
      Every label has a key: its own ``hotkey``, else "1".."9", then a letter of its name.
    - ``payload``: the widget's value as a validated ``annolab.schema`` payload.

    The front end sends each edit as a patch, a custom message ``{"op": ..., "uuid": ...}``;
    subclasses apply it in ``_apply_patch`` (validating it), and the base answers
    ``{"uuid", "ok": True}`` or ``{"uuid", "error"}`` and shows the error in the widget. The
    synced traits stay the truth: a view displayed later renders from them, never from
    messages (which are lost before a widget is displayed).
    """

    # A list of anything on the way in: the validator turns names and LabelSchemas into dicts,
    # with better messages than an element trait would give. What syncs is always dicts.
    labels: traitlets.List[Any] = traitlets.List().tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    submit_count = traitlets.Int(0).tag(sync=True)
    skip_count = traitlets.Int(0).tag(sync=True)
    draft_count = traitlets.Int(0).tag(sync=True)
    history_limit = traitlets.Int(100).tag(sync=True)
    # False hides Skip and Submit: a view composing several widgets over one item has its own
    # (Ctrl+Enter and Esc still bump this widget's nonces, for that view to listen to).
    show_submit = traitlets.Bool(True).tag(sync=True)
    show_draft = traitlets.Bool(False).tag(sync=True)

    def __init__(self, **kwargs: Any) -> None:
        self._submit_callbacks: list[WidgetCallback] = []
        self._skip_callbacks: list[WidgetCallback] = []
        self._draft_callbacks: list[WidgetCallback] = []
        self._telemetry: list[TelemetrySummary] = []
        self._telemetry_taken = 0
        if "labels" in kwargs:
            # The list trait would refuse a LabelSchema, and read a lone string as a list of
            # letters; the validator takes every shape and says what is wrong.
            kwargs["labels"] = label_dicts(label_schema_of(kwargs["labels"]))
        super().__init__(**kwargs)
        self.on_msg(self._on_custom_msg)

    # -- labels --------------------------------------------------------------------------------

    @property
    def label_schema(self) -> LabelSchema:
        """The labels as a ``LabelSchema`` (overlap rules are the subclass's business)."""
        return label_schema_of(self.labels)

    @traitlets.validate("labels")
    def _validate_labels_trait(self, proposal: traitlets.Bunch) -> list[dict[str, Any]]:
        schema = label_schema_of(proposal["value"])
        self._check_labels_fit(schema)
        return label_dicts(schema)

    def _check_labels_fit(self, schema: LabelSchema) -> None:
        """Subclasses raise ``WidgetTraitError`` when their value uses a label not in ``schema``."""

    @traitlets.validate("history_limit")
    def _validate_history_limit(self, proposal: traitlets.Bunch) -> int:
        limit: int = proposal["value"]
        if limit < 0:
            raise WidgetTraitError("history_limit", limit, "must be >= 0 (0 turns undo off)")
        return limit

    # -- submit and skip -----------------------------------------------------------------------

    def on_submit(self, callback: WidgetCallback) -> None:
        """Calls ``callback(widget)`` each time the annotator submits (Submit, Ctrl+Enter).

        >>> widget.on_submit(lambda w: print(w.payload))  # doctest: +SKIP
        """
        self._submit_callbacks.append(callback)

    def on_skip(self, callback: WidgetCallback) -> None:
        """Calls ``callback(widget)`` each time the annotator skips (Skip, Esc)."""
        self._skip_callbacks.append(callback)

    def on_draft(self, callback: WidgetCallback) -> None:
        """Calls ``callback(widget)`` each time the annotator saves a draft (Ctrl+S)."""
        self._draft_callbacks.append(callback)

    def accept_suggestions(self) -> None:
        """Accepts every suggestion from Python, as the page's Accept all does (NER, BBox).

        Suggestions that cannot be taken (a span overlapping one already labelled, where
        overlaps are refused) stay offered, and ``error`` says so.
        """
        self.error = self._apply_patch({"op": "accept_all"}, []) or ""

    def submit(self) -> None:
        """Submits from Python, as the Submit button does: ``on_submit`` callbacks run."""
        self.submit_count += 1

    def skip(self) -> None:
        """Skips from Python, as the Skip button does: ``on_skip`` callbacks run."""
        self.skip_count += 1

    def save_draft(self) -> None:
        """Saves a draft from Python, as Ctrl+S does: ``on_draft`` callbacks run."""
        self.draft_count += 1

    @traitlets.observe("submit_count")
    def _submit_count_changed(self, _change: traitlets.Bunch) -> None:
        self._fire(self._submit_callbacks, "on_submit")

    @traitlets.observe("skip_count")
    def _skip_count_changed(self, _change: traitlets.Bunch) -> None:
        self._fire(self._skip_callbacks, "on_skip")

    @traitlets.observe("draft_count")
    def _draft_count_changed(self, _change: traitlets.Bunch) -> None:
        self._fire(self._draft_callbacks, "on_draft")

    def _fire(self, callbacks: list[WidgetCallback], event: str) -> None:
        for callback in list(callbacks):
            try:
                callback(self)
            except Exception as exc:
                # Raised in the kernel's comm handler, the traceback would only reach the
                # server log; the widget is where the annotator looks. Re-raised for the log.
                name = getattr(callback, "__qualname__", repr(callback))
                self.error = f"the {event} callback {name} failed: {type(exc).__name__}: {exc}"
                raise

    # -- the value -----------------------------------------------------------------------------

    @property
    def payload(self) -> Payload:
        """The widget's value as a validated ``annolab.schema`` payload."""
        raise NotImplementedError(f"{type(self).__name__} must define payload")

    # -- patches from the front end ------------------------------------------------------------

    def _apply_patch(self, patch: Mapping[str, Any], buffers: Sequence[bytes]) -> str | None:
        """Validates and applies one patch to the synced traits; raises ``ValidationError``.

        Returns None, or a notice for the annotator when the patch was applied only in part
        (shown like an error, but the front end keeps the change).
        """
        raise WidgetTraitError("op", patch.get("op"), f"is not an edit {type(self).__name__} makes")

    # -- telemetry from the front end ----------------------------------------------------------

    @property
    def telemetry(self) -> list[TelemetrySummary]:
        """Every summary of how the annotator worked that the front end sent (keys, pointer
        actions, edits, undos, redos, active and idle ms; see ``annolab.widgets._telemetry``)."""
        return list(self._telemetry)

    def take_telemetry(self) -> list[TelemetrySummary]:
        """The summaries received since the last call: what a loop writes to the store next."""
        taken = self._telemetry[self._telemetry_taken :]
        self._telemetry_taken = len(self._telemetry)
        return taken

    def _receive_telemetry(self, content: Mapping[str, Any]) -> None:
        raw = content["telemetry"]
        if isinstance(raw, Mapping):
            # Which widget measured it is Python's to say, not the page's.
            raw = {**raw, "widget": type(self).__name__.lower()}
        try:
            summary = parse_summary(raw)
        except ValidationError as exc:
            # Telemetry is a side channel: a bad summary is dropped and logged, never shown to
            # the annotator in place of their work's errors.
            _log.warning("annolab: a telemetry summary was dropped: %s", exc)
            return
        # A summary delivered twice is kept once (the store would ignore the copy anyway).
        if all(kept.batch_id != summary.batch_id for kept in self._telemetry[-8:]):
            self._telemetry.append(summary)

    def _on_custom_msg(self, _widget: object, content: object, buffers: Sequence[bytes]) -> None:
        if isinstance(content, Mapping) and "telemetry" in content:
            self._receive_telemetry(content)
            return
        if not isinstance(content, Mapping) or "op" not in content:
            return  # not a patch; a subclass may listen for other messages
        uuid = content.get("uuid")
        try:
            notice = self._apply_patch(content, buffers)
        except ValidationError as exc:
            # A refused edit (an overlap, an unknown label): the front end rolls it back and
            # the annotator reads why in the widget.
            self.error = banner_text(exc)
            self.send({"uuid": uuid, "error": self.error})
            return
        except Exception as exc:
            # A bug, not a refusal: answer so the front end does not wait forever, show it, and
            # re-raise so ipywidgets logs the traceback.
            message = f"annolab could not apply {content.get('op')!r}: {type(exc).__name__}: {exc}"
            self.error = message
            self.send({"uuid": uuid, "error": message})
            raise
        self.error = notice or ""
        self.send({"uuid": uuid, "ok": True})


def label_schema_of(value: object, *, allow_overlap: bool = False) -> LabelSchema:
    """``validate_labels(value)`` with errors as ``WidgetTraitError``; refuses an empty set.

    A LabelSchema keeps its own ``allow_overlap``; other shapes get ``allow_overlap``.
    """
    try:
        if isinstance(value, (list, tuple)):
            schema = validate_labels({"labels": list(value), "allow_overlap": allow_overlap})
        else:
            schema = validate_labels(value)
    except ValidationError as exc:
        raise WidgetTraitError(exc.field, exc.value, exc.rule) from exc
    if not schema.labels:
        raise WidgetTraitError("labels", value, "must name at least one label, e.g. ['PER', 'ORG']")
    return schema


def label_dicts(schema: LabelSchema) -> list[dict[str, Any]]:
    """The synced form of a label set: ``{"name", "color", "hotkey", "description"}`` each."""
    labels: list[dict[str, Any]] = schema.to_dict()["labels"]
    return labels
