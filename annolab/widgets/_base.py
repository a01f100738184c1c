"""What every annolab widget shares: built front-end files and span/label validation.

Widgets validate at the edge, in Python, so the front end can trust its state (STYLE.md 3).
"""

from __future__ import annotations

import json
import numbers
import pathlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

import traitlets

from annolab.errors import ValidationError
from annolab.schema import validate_labels

__all__ = [
    "BUILD_COMMAND",
    "STATIC_DIR",
    "WidgetTraitError",
    "check_spans",
    "check_text",
    "front_end",
    "normalize_labels",
    "normalize_spans",
]

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
    ``hold_trait_notifications()`` block.
    """


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
