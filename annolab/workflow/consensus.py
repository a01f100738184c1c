"""Comparing the k annotations of one task, and merging them into one when they agree.

Payloads are the JSON dicts stored in Postgres (``Payload.to_dict()``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from annolab.errors import WorkflowError

Payload = dict[str, Any]


def _key(item: dict[str, Any], fields: Sequence[str]) -> tuple[Any, ...]:
    return tuple(item.get(f) for f in fields)


def _items(payload: Payload) -> list[tuple[Any, ...]]:
    kind = payload.get("kind")
    if kind == "spans":
        return [_key(s, ("start", "end", "label")) for s in payload["spans"]]
    if kind == "boxes":
        return [_key(b, ("x", "y", "width", "height", "label")) for b in payload["boxes"]]
    if kind == "choices":
        return [(label,) for label in payload["labels"]]
    return [(json.dumps({k: v for k, v in payload.items() if k != "score"}, sort_keys=True),)]


def _f1(a: set[tuple[Any, ...]], b: set[tuple[Any, ...]]) -> float:
    if not a and not b:
        return 1.0
    return 2 * len(a & b) / (len(a) + len(b))


def _iou(a: tuple[Any, ...], b: tuple[Any, ...]) -> float:
    ax, ay, aw, ah, _ = a
    bx, by, bw, bh, _ = b
    w = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    h = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = w * h
    return float(inter / (aw * ah + bw * bh - inter))


def _box_f1(a: list[tuple[Any, ...]], b: list[tuple[Any, ...]], threshold: float = 0.5) -> float:
    if not a and not b:
        return 1.0
    pairs = sorted(
        ((_iou(x, y), i, j) for i, x in enumerate(a) for j, y in enumerate(b) if x[4] == y[4]),
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
    if payloads[0]["kind"] == "boxes":
        return {"kind": "boxes", "boxes": _box_votes(payloads, weights, total / 2)}
    votes: dict[tuple[Any, ...], float] = {}
    for payload, weight in zip(payloads, weights, strict=True):
        for item in set(_items(payload)):
            votes[item] = votes.get(item, 0.0) + weight
    kept = sorted(item for item, w in votes.items() if w > total / 2)
    kind = payloads[0]["kind"]
    if kind == "spans":
        return {
            "kind": "spans",
            "spans": [dict(zip(("start", "end", "label"), k, strict=True)) for k in kept],
        }
    if kind == "choices":
        return {"kind": "choices", "labels": [k[0] for k in kept]}
    return json.loads(kept[0][0]) if kept else None


def _box_votes(
    payloads: Sequence[Payload], weights: Sequence[float], needed: float
) -> list[dict[str, Any]]:
    """Boxes that more than ``needed`` weight drew, each at the weighted mean of its votes.

    Each annotator's box joins the best-overlapping group of the same label (IoU >= 0.5 with the
    group's mean box) that has no box of theirs yet, or starts a new group.
    """
    groups: list[dict[int, tuple[Any, ...]]] = []  # annotator -> (x, y, width, height, label)
    for who, payload in enumerate(payloads):
        for box in _items(payload):
            scored = [
                (_iou(_mean(group, weights), box), n)
                for n, group in enumerate(groups)
                if who not in group and next(iter(group.values()))[4] == box[4]
            ]
            best = max(scored, default=(0.0, -1))
            if best[0] >= 0.5:
                groups[best[1]][who] = box
            else:
                groups.append({who: box})
    kept = [_mean(group, weights) for group in groups if sum(weights[w] for w in group) > needed]
    fields = ("x", "y", "width", "height", "label")
    return [dict(zip(fields, box, strict=True)) for box in sorted(kept, key=lambda b: b[:4])]


def _mean(group: dict[int, tuple[Any, ...]], weights: Sequence[float]) -> tuple[Any, ...]:
    total = sum(weights[w] for w in group)
    label = next(iter(group.values()))[4]
    coords = [
        round(sum(weights[w] * float(box[k]) for w, box in group.items()) / total, 2)
        for k in range(4)
    ]
    return (*coords, label)
