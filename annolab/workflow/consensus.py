"""Comparing the k annotations of one task, and merging them into one when they agree.

Payloads are the JSON dicts stored in Postgres (``Payload.to_dict()``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import annolab.kinds
from annolab.errors import WorkflowError
from annolab.kinds._common import whole_consensus, whole_units
from annolab.kinds.boxes import iou as box_iou

Payload = dict[str, Any]

# What a payload of an unregistered kind is compared and merged as: one whole answer.
_WHOLE = replace(
    annolab.kinds.get("text"), name="whole", units=whole_units, consensus=whole_consensus
)


def _kind(payload: Payload) -> annolab.kinds.Kind:
    """The payload's kind; a kind not registered (a form) is compared and merged whole."""
    return annolab.kinds.find(payload.get("kind")) or _WHOLE


def _items(payload: Payload) -> list[tuple[Any, ...]]:
    return _kind(payload).units(payload)


def _f1(a: set[tuple[Any, ...]], b: set[tuple[Any, ...]]) -> float:
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


def _box_f1(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]], threshold: float = 0.5) -> float:
    if not a and not b:
        return 1.0
    pairs = sorted(
        ((box_iou(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b) if x[4] == y[4]),
        reverse=True,
    )
    used_a: set[int] = set()
    used_b: set[int] = set()
    for iou, i, j in pairs:
        if iou >= threshold and i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
    return 2 * len(used_a) / (len(a) + len(b))


def agreement(payloads: Sequence[Payload], metric: str) -> float:
    """Mean pairwise agreement in [0, 1] of two or more payloads of one task.

    ``exact`` is 1 when the payloads are equal (scores aside) and 0 otherwise; ``span_f1`` and
    ``box_f1`` give partial credit (exact spans; boxes matched at IoU >= 0.5 with the same label).

    >>> a = {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "PER"}]}
    >>> b = {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "PER"},
    ...                                 {"start": 8, "end": 12, "label": "LOC"}]}
    >>> round(agreement([a, b], "span_f1"), 3)
    0.667
    """
    if len(payloads) < 2:
        msg = f"agreement needs two or more annotations, got {len(payloads)}"
        raise WorkflowError(msg)
    items = [_items(p) for p in payloads]
    scores = []
    for i in range(len(items)):
        for j in range(i + 1, len(items)):
            if metric in {"exact", "kappa"}:
                scores.append(1.0 if sorted(items[i]) == sorted(items[j]) else 0.0)
            elif metric == "span_f1":
                scores.append(_f1(set(items[i]), set(items[j])))
            elif metric == "box_f1":
                scores.append(_box_f1(items[i], items[j]))
            else:
                msg = f"metric={metric!r} is not an agreement metric; use exact, span_f1 or box_f1"
                raise WorkflowError(msg)
    return sum(scores) / len(scores)


def consensus(
    payloads: Sequence[Payload], method: str, weights: Sequence[float] | None = None
) -> Payload | None:
    """One payload that the annotations support, or None when ``method`` finds none.

    ``majority`` keeps each span, box or label chosen by more than half of the (weighted)
    annotators; ``unanimous`` needs all of them to be equal; ``weighted`` is majority with the
    given weights (annotator quality). Two people never draw the same box to the pixel, so
    boxes vote by overlap: boxes of one label with IoU >= 0.5 are one box, drawn where their
    (weighted) mean puts it.

    >>> a = {"kind": "boxes", "boxes": [{"x": 10, "y": 10, "width": 100, "height": 50,
    ...                                  "label": "car"}]}
    >>> b = {"kind": "boxes", "boxes": [{"x": 14, "y": 10, "width": 100, "height": 54,
    ...                                  "label": "car"}]}
    >>> consensus([a, b], "majority")["boxes"]
    [{'x': 12.0, 'y': 10.0, 'width': 100.0, 'height': 52.0, 'label': 'car'}]
    """
    weights = list(weights or [1.0] * len(payloads))
    if method == "unanimous":
        first = sorted(_items(payloads[0]))
        return dict(payloads[0]) if all(sorted(_items(p)) == first for p in payloads) else None
    if method not in {"majority", "weighted"}:
        msg = f"consensus={method!r} is not a consensus method; use majority, weighted or unanimous"
        raise WorkflowError(msg)
    total = sum(weights)
    return _kind(payloads[0]).consensus(payloads, weights, total / 2)
