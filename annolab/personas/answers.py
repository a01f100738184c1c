"""Payloads as the quality metrics compare them and as a model is shown them.

Stored payloads come back from JSONB with their keys reordered and their lists in the order
they were written; two equal answers must compare equal, so ``comparable`` writes them one way.
Examples in a persona's prompt are written in the JSON the model answers in (spans quote their
words), so ``as_answer`` turns a payload into that.
"""

from __future__ import annotations

import json
from typing import Any

import annolab.kinds
from annolab.kinds._common import whole_units


def _loaded(payload: str | dict[str, Any]) -> dict[str, Any]:
    data = json.loads(payload) if isinstance(payload, str) else payload
    return dict(data)


def comparable(payload: str | dict[str, Any]) -> str:
    """The payload as canonical JSON: sorted keys, spans and boxes in order, labels sorted,
    and no scores (how sure a persona was is not part of its answer).

    >>> comparable('{"labels": ["b", "a"], "kind": "choices"}')
    '{"kind": "choices", "labels": ["a", "b"]}'
    >>> comparable('{"kind": "choice", "label": "pos", "score": 0.3}')
    '{"kind": "choice", "label": "pos"}'

    An answer with free text beside its verdict (a pairwise rationale, a rubric comment) is its
    kind's agreement units, which leave the text out:

    >>> comparable({"kind": "rubric", "scores": {"clarity": 3}, "comment": "terse"})
    '{"kind": "rubric", "units": [["clarity", 3]]}'
    >>> with_why = {"kind": "pairwise", "choice": "a", "criteria": {}, "rationale": "clearer"}
    >>> comparable(with_why) == comparable({"kind": "pairwise", "choice": "a", "criteria": {}})
    True
    """
    data = _unscored(_loaded(payload))
    kind = annolab.kinds.find(data.get("kind"))
    # A rationale or a comment explains a verdict but is not part of it: such answers are
    # compared by their kind's agreement units, which leave the free text out.
    fields = set() if kind is None else set(kind.payload.model_fields)
    if kind is not None and fields & {"rationale", "comment"} and kind.units is not whole_units:
        units = sorted(list(unit) for unit in kind.units(data))
        return json.dumps({"kind": kind.name, "units": units}, sort_keys=True)
    for part in ("spans", "boxes"):
        if isinstance(data.get(part), list):
            data[part] = [_unscored(x) if isinstance(x, dict) else x for x in data[part]]
    if isinstance(data.get("labels"), list):
        data["labels"] = sorted(data["labels"])
    if isinstance(data.get("spans"), list):
        data["spans"] = sorted(data["spans"], key=lambda s: (s["start"], s["end"], s["label"]))
    return json.dumps(data, sort_keys=True)


def _unscored(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "score"}


def as_answer(payload: str | dict[str, Any], text: str) -> dict[str, Any]:
    """The payload in the JSON a persona answers in, for an example in its prompt.

    >>> as_answer({"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "PER"}]}, "Ada")
    {'spans': [{'text': 'Ada', 'label': 'PER'}]}
    """
    data = _loaded(payload)
    kind = annolab.kinds.find(data.get("kind"))
    if kind is None:
        return {k: v for k, v in data.items() if k != "kind"}
    return kind.as_answer(data, text)


def metric_kind(payload: str | dict[str, Any]) -> str:
    """The kind ``annolab.quality`` reads the payload as: spans, boxes or category."""
    kind = annolab.kinds.find(_loaded(payload).get("kind"))
    return kind.measure if kind is not None else "category"
