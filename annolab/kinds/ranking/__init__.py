"""Ranking: several model outputs answering one prompt, ordered best first by their ids.

Agreement compares pairwise preferences: a ranking ``[a, b, c]`` is the units ``(a, b)``,
``(a, c)`` and ``(b, c)`` ("a before b"...), so two rankings that swap one neighbouring pair
share every unit but one. Consensus is a Borda count: over the answers that rank the same
outputs, an output in place ``p`` of ``n`` scores ``n - 1 - p`` times the answer's weight, and
the outputs are ordered by total score, highest first, a tie going to the smaller id (by
string order) so the result never depends on the order answers came in.
"""

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
    no_view,
)
from annolab.kinds._imports import one_region
from annolab.schema import LabelSchema, RankingPayload


def _text(data: Mapping[str, Any], name: object) -> str:
    found = data.get(name) if isinstance(name, str) else None
    return "" if found is None else str(found)


def widget(question: Any, data: Mapping[str, Any], labels: LabelSchema) -> Any:
    from annolab.widgets.ranking import Ranking

    return Ranking(data.get(question.field) or [], prompt=_text(data, question.prompt))


def persona_schema(
    labels: LabelSchema, question: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """A judge's ranking: the outputs' ids, best first. The ids come with each task (the
    prompt lists them), so the schema cannot enumerate them; the layout's check refuses an id
    the task does not have, or one left out."""
    return json_object({"order": {"type": "array", "items": {"type": "string"}}})


def parse(answer: Mapping[str, Any], text: str) -> dict[str, Any]:
    order = answer.get("order")
    # A model may write the positional ids "0", "1" as numbers; they name the same outputs.
    if isinstance(order, list):
        order = [str(i) if isinstance(i, int) and not isinstance(i, bool) else i for i in order]
    return {"kind": "ranking", "order": order}


def _order(payload: Mapping[str, Any]) -> list[str]:
    return [str(i) for i in payload.get("order") or []]


def units(payload: Mapping[str, Any]) -> list[tuple[Any, ...]]:
    """One unit per pair of outputs, ``(better, worse)``, in ranking order."""
    order = _order(payload)
    return [(better, worse) for i, better in enumerate(order) for worse in order[i + 1 :]]


def consensus(
    payloads: Sequence[Mapping[str, Any]], weights: Sequence[float], needed: float
) -> dict[str, Any] | None:
    """The Borda ranking of the answers ranking the most-supported set of outputs, when more
    than ``needed`` weight ranked that set; else None. Ties go to the smaller id."""
    support: dict[frozenset[str], float] = {}
    for payload, weight in zip(payloads, weights, strict=True):
        key = frozenset(_order(payload))
        support[key] = support.get(key, 0.0) + weight
    if not support:
        return None
    chosen = max(support, key=lambda key: (support[key], sorted(key)))
    if not chosen or support[chosen] <= needed:
        return None
    points = dict.fromkeys(chosen, 0.0)
    for payload, weight in zip(payloads, weights, strict=True):
        order = _order(payload)
        if frozenset(order) != chosen:
            continue
        for place, id_ in enumerate(order):
            points[id_] += (len(order) - 1 - place) * weight
    return {"kind": "ranking", "order": sorted(points, key=lambda id_: (-points[id_], id_))}


def parts(payload: Mapping[str, Any], text: str | None) -> list[str]:
    return [f"{place}. {id_}" for place, id_ in enumerate(_order(payload), start=1)]


def disputed(payloads: Sequence[Mapping[str, Any]]) -> list[list[int]]:
    """For each answer, the places (indexes of its parts) that some answer fills with another
    output."""
    orders = [_order(p) for p in payloads]
    return [
        [
            i
            for i, id_ in enumerate(mine)
            if any(i >= len(other) or other[i] != id_ for other in orders)
        ]
        for mine in orders
    ]


def label_studio(payload: Mapping[str, Any], target: Target) -> list[dict[str, Any]]:
    """A Label Studio ``ranker`` region (a ``List`` tag ranked by a ``Ranker`` tag): its value
    maps the Ranker's name to the ids best first, as labelstud.io/tags/ranker documents the
    List + Ranker result."""
    return [label_studio_region(target, "ranker", {"ranker": {target.name: _order(payload)}})]


def from_label_studio(regions: Sequence[Any], target: Target) -> dict[str, Any]:
    """A ``ranker`` region: the ids under the question's name (or its only list), best first."""
    ranker = one_region(regions, target).get("ranker")
    if not isinstance(ranker, Mapping) or not ranker:
        raise ValidationError("regions[0].value.ranker", ranker, "must map a list to its ids")
    order = ranker.get(target.name, next(iter(ranker.values())) if len(ranker) == 1 else None)
    if not isinstance(order, list):
        rule = f"must hold the ranked ids under {target.name!r}"
        raise ValidationError("regions[0].value.ranker", ranker, rule)
    return {"kind": "ranking", "order": [str(i) for i in order]}


KIND = register(
    Kind(
        name="ranking",
        payload=RankingPayload,
        widget=widget,
        persona_schema=persona_schema,
        parse=parse,
        as_answer=answer_without_kind,
        units=units,
        consensus=consensus,
        label_units=no_label_units,
        measure="category",
        media="text",
        title="Ranking",
        parts=parts,
        disputed=disputed,
        merge=first_merge,
        view=no_view,
        exports={"label-studio": label_studio},
        imports={"label-studio": from_label_studio},
    )
)
