"""Pairwise: which of two model outputs answering a prompt is better (``a``, ``b``, ``tie`` or
``both_bad``), why, and the verdict on each criterion of the question."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from annolab.errors import ValidationError
from annolab.kinds import Kind, Target, register
from annolab.kinds._common import (
    answer_without_kind,
    first_merge,
    json_object,
    label_studio_region,
    no_label_units,
    whole_consensus,
    whole_disputed,
    whole_units,
)
from annolab.kinds._imports import one_region
from annolab.schema import LabelSchema, PairwisePayload

VERDICTS = ("a", "b", "tie", "both_bad")
# Label Studio's Pairwise tag selects the left or the right object; it has no tie.
_SIDES = {"a": "left", "b": "right"}


def _text(data: Mapping[str, Any], name: object) -> str:
    found = data.get(name) if isinstance(name, str) else None
    return "" if found is None else str(found)


def widget(question: Any, data: Mapping[str, Any], labels: LabelSchema) -> Any:
    from annolab.widgets.pairwise import Pairwise

    return Pairwise(
        _text(data, question.a),
        _text(data, question.b),
        prompt=_text(data, question.prompt),
        criteria=question.criteria,
        tie=question.tie,
        both_bad=question.both_bad,
        rationale=question.rationale,
    )


def _verdicts(question: Mapping[str, Any] | None) -> list[str]:
    found = question or {}
    return [
        v
        for v in VERDICTS
        if v in ("a", "b") or found.get(v, True) is not False  # tie, both_bad: on unless off
    ]


def persona_schema(
    labels: LabelSchema, question: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A judge's answer: the verdict, why, and a verdict per criterion when the question has
    criteria (``question`` is the layout's question dict; without it every verdict is
    offered)."""
    verdict = {"type": "string", "enum": _verdicts(question)}
    names = [
        c["name"] if isinstance(c, Mapping) else c for c in (question or {}).get("criteria") or ()
    ]
    if not names:
        return json_object({"choice": verdict, "rationale": {"type": "string"}})
    judged = json_object({name: verdict for name in names})
    return json_object({"choice": verdict, "rationale": {"type": "string"}, "criteria": judged})


def parse(answer: Mapping[str, Any], text: str) -> dict[str, Any]:
    data: dict[str, Any] = {"kind": "pairwise", "choice": answer.get("choice")}
    if answer.get("rationale") is not None:
        data["rationale"] = answer["rationale"]
    if answer.get("criteria") is not None:
        data["criteria"] = answer["criteria"]
    return data


def _verdict(payload: Mapping[str, Any]) -> dict[str, Any]:
    # The rationale is free text: two judges who pick the same output on the same criteria
    # agree, whatever words they gave.
    return {k: v for k, v in payload.items() if k != "rationale"}


def units(payload: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """The whole verdict (the choice and each criterion's verdict) is one unit."""
    return whole_units(_verdict(payload))


def consensus(
    payloads: Sequence[Mapping[str, Any]], weights: Sequence[float], needed: float
) -> dict[str, Any] | None:
    """The verdict more than ``needed`` weight gave (rationales aside), or None."""
    return whole_consensus([_verdict(p) for p in payloads], weights, needed)


def disputed(payloads: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    """The verdict (part 0) is disputed unless every answer gave the same one."""
    return whole_disputed([_verdict(p) for p in payloads])


def parts(payload: Mapping[str, Any], text: str | None) -> list[str]:
    criteria = payload.get("criteria") or {}
    out = [str(payload.get("choice"))]
    out += [f"{name}: {verdict}" for name, verdict in criteria.items()]
    if payload.get("rationale"):
        out.append(f"because {payload['rationale']}")
    return out


def view(
    payload: Mapping[str, Any],
    question: Any,
    data: Mapping[str, Any],
    labels: LabelSchema,
    disputed: Sequence[int],
) -> Any:
    """The two outputs side by side, the chosen one marked, nothing editable."""
    from annolab.widgets.pairwise import Pairwise

    shown = Pairwise(
        _text(data, question.a),
        _text(data, question.b),
        prompt=_text(data, question.prompt),
        criteria=question.criteria,
        tie=True,  # a stored answer shows as given, whatever the question offers now
        both_bad=True,
        rationale="optional",
        read_only=True,
        show_submit=False,
    )
    shown.value = {k: v for k, v in payload.items() if k != "kind"}
    return shown


def label_studio(payload: Mapping[str, Any], target: Target) -> list[dict[str, Any]]:
    choice = payload.get("choice")
    if choice not in _SIDES:
        rule = (
            "has no Label Studio form: its Pairwise tag selects left (a) or right (b) only; "
            "leave ties and both-bad answers out of a label-studio export"
        )
        raise ValidationError(f"{target.name}.choice", choice, rule)
    return [label_studio_region(target, "pairwise", {"selected": _SIDES[str(choice)]})]


def from_label_studio(regions: Sequence[Any], target: Target) -> dict[str, Any]:
    """A ``pairwise`` region: ``left`` is output a, ``right`` output b."""
    selected = one_region(regions, target).get("selected")
    sides = {side: choice for choice, side in _SIDES.items()}
    if selected not in sides:
        raise ValidationError("regions[0].value.selected", selected, "must be left or right")
    return {"kind": "pairwise", "choice": sides[str(selected)]}


def from_prodigy(line: Mapping[str, Any], target: Target) -> dict[str, Any] | None:
    """The one accepted option of a ``choice`` line: a, b, tie or both_bad."""
    found = line.get("accept")
    if found is None:
        return None
    if not isinstance(found, list) or len(found) != 1:
        raise ValidationError("accept", found, "must hold exactly one verdict")
    return {"kind": "pairwise", "choice": found[0]}


KIND = register(
    Kind(
        name="pairwise",
        payload=PairwisePayload,
        widget=widget,
        persona_schema=persona_schema,
        parse=parse,
        as_answer=answer_without_kind,
        units=units,
        consensus=consensus,
        label_units=no_label_units,
        measure="category",
        media="text",
        title="Preference",
        parts=parts,
        disputed=disputed,
        merge=first_merge,
        view=view,
        exports={
            "label-studio": label_studio,
            "prodigy": lambda payload, target: {"accept": [payload.get("choice")]},
        },
        imports={"label-studio": from_label_studio, "prodigy": from_prodigy},
    )
)
