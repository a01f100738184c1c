"""pydantic's errors as annolab's: the field as a path, the offending value, the rule."""

from __future__ import annotations

import pydantic

from annolab.errors import ValidationError
from annolab.schema.validate import MISSING


def converted(exc: pydantic.ValidationError, prefix: str = "") -> ValidationError:
    """The first error of ``exc`` as a ``ValidationError`` whose field starts with ``prefix``.

    >>> class Point(pydantic.BaseModel):
    ...     x: int
    >>> try:
    ...     Point.model_validate({"x": "a"})
    ... except pydantic.ValidationError as exc:
    ...     print(converted(exc, "points[2]"))  # doctest: +ELLIPSIS
    points[2].x='a' must be a whole number (Input should be a valid integer, ...)
    """
    first = exc.errors()[0]
    field = prefix
    for part in first["loc"]:
        field += f"[{part}]" if isinstance(part, int) else (f".{part}" if field else str(part))
    rule = first["msg"].removeprefix("Value error, ")
    value = first.get("input")
    kind = first["type"]
    if kind == "missing":
        rule, value = "is required", MISSING
    elif kind == "extra_forbidden":
        rule = "is not a field here; remove it"
    elif kind.startswith("int"):
        rule = f"must be a whole number ({rule})"
    elif kind in ("less_than_equal", "greater_than_equal", "less_than", "greater_than"):
        rule = rule.replace("Input should be", "must be")
    return ValidationError(field or prefix or "value", value, rule)
