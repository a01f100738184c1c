"""One-to-one matching of spans and boxes, and the credit one annotation earns against another.

Spans that overlap are matched with a maximum matching (augmenting paths), so the count does not
depend on the order the spans come in. Boxes are matched greedily by descending IoU, as COCO
evaluation does: scipy's optimal assignment is not a dependency of annolab, and at the usual
thresholds (IoU >= 0.5) a box rarely has two candidates.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from annolab.errors import QualityError
from annolab.quality._frames import FloatArray
from annolab.quality._payloads import BoxKey, Kind, SpanKey

Interval = tuple[int, int]


def check_iou(iou: float) -> float:
    if not isinstance(iou, (int, float)) or isinstance(iou, bool) or not 0 < iou <= 1:
        msg = f"iou={iou!r} must be a threshold above 0 and at most 1, such as 0.5"
        raise QualityError(msg)
    return float(iou)


def overlap_matches(a: Sequence[Interval], b: Sequence[Interval]) -> int:
    """The most pairs (one from each side, each used once) whose ranges share a code point."""
    adjacent = [[j for j, (s2, e2) in enumerate(b) if s < e2 and s2 < e] for s, e in a]
    owner = [-1] * len(b)  # owner[j]: the span of ``a`` that b[j] is matched to
    return sum(_augment(i, adjacent, owner) for i in range(len(a)))


def _augment(root: int, adjacent: list[list[int]], owner: list[int]) -> bool:
    """Find an augmenting path from ``root`` (iteratively: no recursion limit) and flip it."""
    visited: set[int] = set()
    stack = [(root, iter(adjacent[root]))]
    path: list[int] = []  # path[k]: the b-span taken from stack[k] to reach stack[k + 1]
    while stack:
        _, candidates = stack[-1]
        for j in candidates:
            if j in visited:
                continue
            visited.add(j)
            if owner[j] == -1:
                for (i, _), taken in zip(stack, [*path, j], strict=True):
                    owner[taken] = i
                return True
            path.append(j)
            stack.append((owner[j], iter(adjacent[owner[j]])))
            break
        else:
            stack.pop()
            if path:
                path.pop()
    return False


def merged(intervals: Sequence[Interval]) -> list[Interval]:
    """The union of ranges as sorted disjoint ranges."""
    out: list[Interval] = []
    for start, end in sorted(intervals):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def covered(intervals: Sequence[Interval]) -> int:
    return sum(end - start for start, end in intervals)


def shared(a: Sequence[Interval], b: Sequence[Interval]) -> int:
    """Length of the intersection of two lists of sorted disjoint ranges."""
    total, i, j = 0, 0, 0
    while i < len(a) and j < len(b):
        total += max(0, min(a[i][1], b[j][1]) - max(a[i][0], b[j][0]))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return total


def iou_matrix(a: FloatArray, b: FloatArray) -> FloatArray:
    """IoU of every box of ``a`` with every box of ``b`` (rows x, y, width, height)."""
    left = np.maximum(a[:, None, 0], b[None, :, 0])
    top = np.maximum(a[:, None, 1], b[None, :, 1])
    right = np.minimum(a[:, None, 0] + a[:, None, 2], b[None, :, 0] + b[None, :, 2])
    bottom = np.minimum(a[:, None, 1] + a[:, None, 3], b[None, :, 1] + b[None, :, 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    area_a = a[:, 2] * a[:, 3]
    area_b = b[:, 2] * b[:, 3]
    result: FloatArray = inter / (area_a[:, None] + area_b[None, :] - inter)
    return result


def box_matches(a: Sequence[BoxKey], b: Sequence[BoxKey], threshold: float) -> list[float]:
    """IoUs of the greedy one-to-one matches (same label, IoU >= threshold), best first."""
    found: list[float] = []
    for label, (rows_a, rows_b) in _by_label(a, b).items():
        del label
        if not rows_a or not rows_b:
            continue
        ious = iou_matrix(np.array(rows_a, dtype=np.float64), np.array(rows_b, dtype=np.float64))
        i, j = np.nonzero(ious >= threshold)
        order = np.lexsort((j, i, -ious[i, j]))  # IoU descending, ties by position
        used_a: set[int] = set()
        used_b: set[int] = set()
        for k in order:
            if i[k] not in used_a and j[k] not in used_b:
                used_a.add(int(i[k]))
                used_b.add(int(j[k]))
                found.append(float(ious[i[k], j[k]]))
    return found


def _by_label(
    a: Sequence[BoxKey], b: Sequence[BoxKey]
) -> dict[str, tuple[list[tuple[float, ...]], list[tuple[float, ...]]]]:
    groups: dict[str, tuple[list[tuple[float, ...]], list[tuple[float, ...]]]] = defaultdict(
        lambda: ([], [])
    )
    for box in a:
        groups[box[4]][0].append(box[:4])
    for box in b:
        groups[box[4]][1].append(box[:4])
    return groups


def span_overlap_matches(a: Sequence[SpanKey], b: Sequence[SpanKey]) -> int:
    """Overlap matches of two annotations, label by label."""
    total = 0
    for label in {s[2] for s in a} & {s[2] for s in b}:
        total += overlap_matches(
            [(s, e) for s, e, lab in a if lab == label], [(s, e) for s, e, lab in b if lab == label]
        )
    return total


def credit(kind: Kind, a: Any, b: Any, iou: float) -> tuple[float, bool]:
    """(partial credit in [0, 1], exact) of annotation ``a`` against ``b``.

    Categories: 1 when equal. Spans: F1 of overlap matches with the same label. Boxes: F1 where
    each match counts its IoU (matches need the same label and IoU >= ``iou``). Two empty
    annotations agree fully.
    """
    return _CREDIT[kind](a, b, iou)


def _category_credit(a: Any, b: Any, iou: float) -> tuple[float, bool]:
    same = bool(a == b)
    return float(same), same


def _span_credit(a: Sequence[SpanKey], b: Sequence[SpanKey], iou: float) -> tuple[float, bool]:
    if not a and not b:
        return 1.0, True
    exact = set(a) == set(b)
    return 2 * span_overlap_matches(a, b) / (len(a) + len(b)), exact


def _box_credit(a: Sequence[BoxKey], b: Sequence[BoxKey], iou: float) -> tuple[float, bool]:
    if not a and not b:
        return 1.0, True
    ious = box_matches(a, b, iou)
    exact = len(ious) == len(a) == len(b)
    return 2 * sum(ious) / (len(a) + len(b)), exact


# How each measure gives credit; a payload kind names its measure (``annolab.kinds``).
_CREDIT: dict[Kind, Callable[[Any, Any, float], tuple[float, bool]]] = {
    "category": _category_credit,
    "spans": _span_credit,
    "boxes": _box_credit,
}
