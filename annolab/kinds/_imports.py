"""Reading answers other tools wrote (the ``imports`` facet): what several kinds share.

Label Studio hands a kind the result regions of its question; a bad one is named
``regions[i]`` so the reader can point at the region's place in the annotation. Prodigy hands
it the whole task line.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from annolab.errors import ValidationError
from annolab.kinds import Target


def region_value(regions: Sequence[Any], i: int) -> Mapping[str, Any]:
    """The ``value`` object of region ``i``."""
    region = regions[i]
    value = region.get("value") if isinstance(region, Mapping) else None
    if not isinstance(value, Mapping):
        raise ValidationError(f"regions[{i}].value", value, "must be an object")
    return value


def one_region(regions: Sequence[Any], target: Target) -> Mapping[str, Any]:
    """The value of a one-value answer's single region."""
    if len(regions) != 1:
        rule = f"must be one region: question {target.name!r} takes one answer"
        raise ValidationError("regions", len(regions), rule)
    return region_value(regions, 0)


def whole_number(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValidationError(field, value, "must be a whole number")
    return value


def label_list(value: object, field: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        raise ValidationError(field, value, "must be a list of label names")
    return value


def single_label(value: object, field: str) -> str:
    labels = label_list(value, field)
    if len(labels) != 1:
        raise ValidationError(field, value, "must hold exactly one label")
    return labels[0]


def label_studio_text(kind: str) -> Callable[[Sequence[Any], Target], dict[str, Any]]:
    """The reader of a ``textarea`` answer: its lines joined by newlines, as ``kind``."""

    def read(regions: Sequence[Any], target: Target) -> dict[str, Any]:
        found = one_region(regions, target).get("text")
        lines = [found] if isinstance(found, str) else found
        if not isinstance(lines, list) or not all(isinstance(x, str) for x in lines):
            raise ValidationError("regions[0].value.text", found, "must be a list of strings")
        return {"kind": kind, "text": "\n".join(lines)}

    return read


def score_of(region: Any) -> dict[str, Any]:
    """A region's ``score`` (a model's confidence), when it has one."""
    score = region.get("score") if isinstance(region, Mapping) else None
    return {} if score is None else {"score": score}
