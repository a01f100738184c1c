"""What a widget's front end measured while a task was on screen, checked at the edge.

The front end (``widgets/src/common/telemetry.ts``) counts keys, pointer actions, edits, undos
and redos, and splits the time into active and idle (idle: no input for ``IDLE_AFTER_MS``, or
the browser tab hidden). It sends a summary of the counts since its last one as a custom
message ``{"telemetry": {...}}`` on submit, draft and skip, and every ``INTERVAL_MS`` while
something happened: never one message per event. The widget keeps the summaries (naming
itself as ``widget``); the annotation loop takes them and writes them to the store in batches.
"""

from __future__ import annotations

import math
import numbers
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass

from annolab.errors import ValidationError

__all__ = ["COUNTS", "IDLE_AFTER_MS", "INTERVAL_MS", "REASONS", "TelemetrySummary", "parse_summary"]

# Mirrors of the front end's constants (common/telemetry.ts), for documentation and tests.
IDLE_AFTER_MS = 30_000
INTERVAL_MS = 60_000
REASONS = ("submit", "draft", "skip", "interval")
COUNTS = ("active_ms", "idle_ms", "keys", "pointer", "edits", "undos", "redos")
# A summary covers at most a few minutes of counting; a day of milliseconds or a billion key
# presses is a broken or hostile client, not an annotator.
_MAX_COUNT = 86_400_000
_WIDGET_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class TelemetrySummary:
    """One summary from the front end: counts since the previous one, under a batch id."""

    batch_id: uuid.UUID
    widget: str
    reason: str
    active_ms: int
    idle_ms: int
    keys: int
    pointer: int
    edits: int
    undos: int
    redos: int


def parse_summary(value: object) -> TelemetrySummary:
    """The message's ``telemetry`` object as a ``TelemetrySummary``; refuses a malformed one.

    >>> parse_summary(message["telemetry"]).undos  # doctest: +SKIP
    2
    """
    if not isinstance(value, Mapping):
        raise ValidationError("telemetry", value, "must be an object of counts")
    raw_id = value.get("batch_id")
    try:
        batch_id = uuid.UUID(str(raw_id)) if isinstance(raw_id, str) else None
    except ValueError:
        batch_id = None
    if batch_id is None:
        raise ValidationError("telemetry.batch_id", raw_id, "must be a UUID string")
    widget = value.get("widget")
    if not isinstance(widget, str) or not _WIDGET_NAME.match(widget):
        rule = "must be a widget name: a lower-case letter, then up to 39 of a-z 0-9 _ -"
        raise ValidationError("telemetry.widget", widget, rule)
    reason = value.get("reason")
    if reason not in REASONS:
        rule = f"must be one of {', '.join(repr(r) for r in REASONS)}"
        raise ValidationError("telemetry.reason", reason, rule)
    counts = {name: _count(f"telemetry.{name}", value.get(name)) for name in COUNTS}
    return TelemetrySummary(batch_id=batch_id, widget=widget, reason=str(reason), **counts)


def _count(field: str, value: object) -> int:
    # bool is an int to Python but never a count; JSON numbers may arrive as 3.0.
    rule = f"must be a whole number from 0 to {_MAX_COUNT}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationError(field, value, rule)
    number = float(value)
    if not math.isfinite(number) or not number.is_integer() or not 0 <= number <= _MAX_COUNT:
        raise ValidationError(field, value, rule)
    return int(number)
