"""Checks for the plain fields every door takes: names, free text, whole numbers and measures.

Pure, like the rest of ``annolab.schema``: each check returns the value as it will be stored, or
raises ``ValidationError`` naming the field, quoting the value and stating the rule. The project,
session, workspace, imports and workflow specs call these before anything reaches Postgres, so
the person at the keyboard reads our rule rather than a driver's complaint.

>>> check_int(2**40, "priority", low=PRIORITY_MIN, high=PRIORITY_MAX)  # doctest: +ELLIPSIS
Traceback (most recent call last):
annolab.errors.ValidationError: priority=1099511627776 must be a whole number from -2147483648 ...
"""

from __future__ import annotations

import math
import numbers
import operator
import uuid
from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

from annolab.errors import ValidationError
from annolab.schema.payloads import text_problem

__all__ = [
    "MAX_NAME_CHARS",
    "PRIORITY_MAX",
    "PRIORITY_MIN",
    "check_float",
    "check_int",
    "check_json",
    "check_member",
    "check_members",
    "check_name",
    "check_seconds",
    "check_str",
    "check_uuid",
]

# Priorities live in a Postgres integer column (and the claim index orders by it).
PRIORITY_MIN = -(2**31)
PRIORITY_MAX = 2**31 - 1
# Names (users, projects, teams, skills, steps, task ids) sit in unique btree indexes, whose
# entries Postgres caps at about 2,700 bytes; 500 code points is at most 2,000 bytes of UTF-8.
MAX_NAME_CHARS = 500

E = TypeVar("E", bound=Enum)


def check_str(
    value: object, field: str, *, required: bool = False, max_chars: int | None = None
) -> str:
    """A text Postgres can store (no NUL, no lone surrogate); ``required`` refuses blank text.

    >>> check_str("fine 👋🏽", "reason")
    'fine 👋🏽'
    """
    if not isinstance(value, str):
        raise ValidationError(field, value, f"must be a string, not {type(value).__name__}")
    if required and not value.strip():
        raise ValidationError(field, value, "must not be empty or only spaces")
    problem = text_problem(value)
    if problem is not None:
        raise ValidationError(field, value, problem)
    if max_chars is not None and len(value) > max_chars:
        rule = f"is {len(value):,} characters long; it must be at most {max_chars:,}"
        raise ValidationError(field, value, rule)
    return value


def check_name(value: object, field: str) -> str:
    """A name: storable text, not blank, at most ``MAX_NAME_CHARS`` code points.

    >>> check_name("alice", "user")
    'alice'
    """
    return check_str(value, field, required=True, max_chars=MAX_NAME_CHARS)


def check_int(value: object, field: str, *, low: int, high: int) -> int:
    """A whole number (numpy's too, never True/False) with ``low <= value <= high``.

    >>> check_int(5, "k", low=1, high=10)
    5
    """
    rule = f"must be a whole number from {low} to {high}"
    if isinstance(value, bool):
        raise ValidationError(field, value, f"{rule}, not true/false")
    try:
        number = operator.index(value)  # type: ignore[arg-type]  # checked at run time
    except TypeError:
        raise ValidationError(field, value, f"{rule}, not {type(value).__name__}") from None
    if not low <= number <= high:
        raise ValidationError(field, value, rule)
    return number


def check_float(
    value: object,
    field: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_open: bool = False,
) -> float:
    """A finite real number within the bounds (``low_open``: ``low`` itself is refused).

    >>> check_float(2, "threshold", low=0, high=5)
    2.0
    """
    rule = _range_rule(low, high, low_open)
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValidationError(field, value, f"{rule}, not {type(value).__name__}")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float is outside any bound we set
        raise ValidationError(field, value, rule) from None
    if not math.isfinite(number):
        raise ValidationError(field, value, f"{rule}; NaN and infinity are not numbers here")
    too_low = low is not None and (number <= low if low_open else number < low)
    if too_low or (high is not None and number > high):
        raise ValidationError(field, value, rule)
    return number


def _range_rule(low: float | None, high: float | None, low_open: bool) -> str:
    if low is None and high is None:
        return "must be a finite number"
    if high is None:
        return f"must be a finite number {'above' if low_open else 'of at least'} {low:g}"
    if low is None:
        return f"must be a finite number of at most {high:g}"
    above = f"above {low:g}" if low_open else f"from {low:g}"
    return f"must be a finite number {above} {'up ' if low_open else ''}to {high:g}"


def check_seconds(value: object, field: str = "time_spent") -> float | None:
    """A duration in seconds, 0 or more, or None when it is not known.

    >>> check_seconds(1.5), check_seconds(None)
    (1.5, None)
    """
    if value is None:
        return None
    return check_float(value, field, low=0.0)


def check_uuid(value: object, field: str = "id") -> uuid.UUID:
    """A UUID, or its text form.

    >>> check_uuid("6f1c1f4e-8d0b-4c57-9a43-1f1d2b3c4e5f").version
    4
    """
    if isinstance(value, uuid.UUID):
        return value
    if isinstance(value, str):
        try:
            return uuid.UUID(value)
        except ValueError:
            pass
    rule = "must be a UUID such as 'f47ac10b-58cc-4372-a567-0e02b2c3d479' (uuid.uuid4())"
    raise ValidationError(field, value, rule)


def check_member(enum_cls: type[E], value: object, field: str) -> E:
    """A member of ``enum_cls``, given as itself or its value.

    >>> from annolab.schema.enums import ReviewDecision
    >>> check_member(ReviewDecision, "approve", "decision").value
    'approve'
    """
    try:
        return enum_cls(value)
    except (ValueError, TypeError):
        allowed = ", ".join(repr(m.value) for m in enum_cls)
        raise ValidationError(field, value, f"is not one of {allowed}") from None


def check_members(enum_cls: type[E], values: object, field: str) -> list[E]:
    """A list of members of ``enum_cls`` (one string is refused: write it in a list).

    >>> from annolab.schema.enums import Role
    >>> [r.value for r in check_members(Role, ["reviewer"], "roles")]
    ['reviewer']
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, (list, tuple, set, frozenset)):
        allowed = ", ".join(repr(m.value) for m in enum_cls)
        raise ValidationError(field, values, f"must be a list of: {allowed}")
    return [check_member(enum_cls, v, f"{field}[{i}]") for i, v in enumerate(values)]


def check_json(value: object, field: str) -> None:
    """Refuse what a JSONB column cannot hold exactly: NaN or infinity, NUL or lone surrogates
    (in keys too), keys that are not strings, and values that are not JSON at all.

    >>> check_json({"max_text_chars": 10, "tags": ["a", 1.5, None]}, "settings")
    >>> check_json({"w": float("nan")}, "settings")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    annolab.errors.ValidationError: settings['w']=nan must be a finite number; JSON holds no NaN...
    """
    stack: list[tuple[str, object]] = [(field, value)]
    while stack:  # a loop, not recursion: a deeply nested value must not exhaust the stack
        where, item = stack.pop()
        if item is None or isinstance(item, (bool, int)):
            continue
        if isinstance(item, float):
            if not math.isfinite(item):
                rule = "must be a finite number; JSON holds no NaN or infinity"
                raise ValidationError(where, item, rule)
        elif isinstance(item, str):
            check_str(item, where)
        elif isinstance(item, Mapping):
            for key, inner in item.items():
                if not isinstance(key, str):
                    raise ValidationError(f"{where}[{key!r}]", key, "is a key that is not a string")
                check_str(key, f"{where} key")
                stack.append((f"{where}[{key!r}]", inner))
        elif isinstance(item, (list, tuple)):
            stack.extend((f"{where}[{i}]", inner) for i, inner in enumerate(item))
        else:
            rule = (
                f"is a {type(item).__name__}; only dicts, lists, strings, numbers, "
                "true/false and None can be stored"
            )
            raise ValidationError(where, item, rule)
