"""Rubric: a score for each criterion of a rubric (1 up to the criterion's scale) given to one
model output, and a comment.

Agreement is per criterion: each ``(criterion, score)`` is a unit, so two judges who agree on
accuracy and differ on tone agree on one unit of two. Consensus is per criterion too: a
criterion's score is the one more than ``needed`` weight gave, and a criterion no score wins is
left out (such a payload is a consensus reading for adjudication, not a complete answer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from annolab.kinds import Kind, Target, register
from annolab.kinds._common import (
    answer_without_kind,
    first_merge,
    json_object,
    label_studio_region,
    no_label_units,
    votes,
)
from annolab.kinds._imports import region_value, whole_number
from annolab.schema import LabelSchema, RubricPayload

# The payload's own bound on a scale, for a persona asked without the layout's question.
_MAX_SCALE = 100


def widget(question: Any, data: Mapping[str, Any], labels: LabelSchema) -> Any:
    from annolab.widgets.rubric import Rubric

    return Rubric(
        _text(data, question.field),
        criteria=question.criteria,
        prompt=_text(data, question.prompt),
    )


def _text(data: Mapping[str, Any], name: object) -> str:
    found = data.get(name) if isinstance(name, str) else None
    return "" if found is None else str(found)


def persona_schema(
    labels: LabelSchema, question: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A judge's scores, one per criterion on its scale (``question`` is the layout's question
    dict), and a comment."""
    criteria = [c for c in (question or {}).get("criteria") or () if isinstance(c, Mapping)]
    if criteria:
        scores = json_object(
            {
                str(c["name"]): {"type": "integer", "minimum": 1, "maximum": int(c.get("scale", 5))}
                for c in criteria
            }
        )
    else:
        score = {"type": "integer", "minimum": 1, "maximum": _MAX_SCALE}
        scores = {"type": "object", "additionalProperties": score}
    return json_object({"scores": scores, "comment": {"type": "string"}})


def parse(answer: Mapping[str, Any], text: str) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": "rubric", "scores": answer.get("scores")}
    if answer.get("comment") is not None:
        data["comment"] = answer["comment"]
    return data


def units(payload: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """One unit per criterion: ``(criterion, score)``."""
    return sorted((str(name), score) for name, score in (payload.get("scores") or {}).items())


def consensus(
    payloads: Sequence[Mapping[str, Any]], weights: Sequence[float], needed: float
) -> dict[str, Any] | None:
    """Per criterion, the score more than ``needed`` weight gave; criteria without one are
    left out; None when no criterion has one."""
    kept = votes(payloads, weights, needed, units)
    if not kept:
        return None
    return {"kind": "rubric", "scores": {name: score for name, score in kept}, "comment": ""}


def parts(payload: Mapping[str, Any], text: str | None) -> list[str]:
    out = [f"{name}: {score}" for name, score in (payload.get("scores") or {}).items()]
    if payload.get("comment"):
        out.append(f"comment: {payload['comment']}")
    return out


def disputed(payloads: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    """For each answer, the indexes of its criteria (in ``parts`` order) that some other
    answer scored differently or not at all."""
    found = [dict(p.get("scores") or {}) for p in payloads]
    return [
        [
            i
            for i, (name, score) in enumerate(mine.items())
            if any(other.get(name) != score for other in found)
        ]
        for mine in found
    ]


def view(
    payload: Mapping[str, Any],
    question: Any,
    data: Mapping[str, Any],
    labels: LabelSchema,
    disputed: Sequence[int],
) -> Any:
    """The output with each criterion's score, nothing editable."""
    from annolab.widgets.rubric import Rubric

    shown = Rubric(
        _text(data, question.field),
        criteria=question.criteria,
        prompt=_text(data, question.prompt),
        read_only=True,
        show_submit=False,
    )
    shown.value = {k: v for k, v in payload.items() if k != "kind"}
    return shown


def label_studio(payload: Mapping[str, Any], target: Target) -> list[dict[str, Any]]:
    """One ``rating`` region per criterion, named ``<question>.<criterion>``; the comment as a
    ``textarea`` region named ``<question>.comment``."""
    regions = [
        label_studio_region(
            Target(name=f"{target.name}.{name}", field=target.field), "rating", {"rating": score}
        )
        for name, score in (payload.get("scores") or {}).items()
    ]
    if payload.get("comment"):
        comment = Target(name=f"{target.name}.comment", field=target.field)
        regions.append(label_studio_region(comment, "textarea", {"text": [payload["comment"]]}))
    return regions


def from_label_studio(regions: Sequence[Any], target: Target) -> dict[str, Any]:
    """``<question>.<criterion>`` rating regions as scores, ``<question>.comment`` as the
    comment."""
    scores: dict[str, int] = {}
    comment = ""
    for i, region in enumerate(regions):
        value = region_value(regions, i)
        part = str(region.get("from_name", "")).removeprefix(f"{target.name}.")
        if part == "comment" and region.get("type") == "textarea":
            text = value.get("text")
            comment = "\n".join(text) if isinstance(text, list) else str(text or "")
        else:
            scores[part] = whole_number(value.get("rating"), f"regions[{i}].value.rating")
    return {"kind": "rubric", "scores": scores, "comment": comment}


KIND = register(
    Kind(
        name="rubric",
        payload=RubricPayload,
        widget=widget,
        persona_schema=persona_schema,
        parse=parse,
        as_answer=answer_without_kind,
        units=units,
        consensus=consensus,
        label_units=no_label_units,
        measure="category",
        media="text",
        title="Rubric",
        parts=parts,
        disputed=disputed,
        merge=first_merge,
        view=view,
        exports={"label-studio": label_studio},
        imports={"label-studio": from_label_studio},
    )
)
