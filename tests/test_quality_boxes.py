"""Box agreement: IoU, greedy one-to-one matching per label at a threshold, and bad boxes."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from annolab.errors import QualityError
from annolab.quality import box_agreement
from annolab.quality._matching import box_matches, iou_matrix
from annolab.schema import Box, BoxesPayload


def box(x: float, y: float, w: float, h: float, label: str = "cat") -> dict[str, Any]:
    return {"x": x, "y": y, "width": w, "height": h, "label": label}


def frame_of(*annotations: list[dict[str, Any]], item: int = 1) -> pl.DataFrame:
    names = [f"annotator-{i}" for i in range(len(annotations))]
    return pl.DataFrame(
        {"item": [item] * len(annotations), "annotator": names, "value": list(annotations)},
        schema_overrides={"value": pl.Object},
    )


def test_iou_of_known_boxes() -> None:
    a = np.array([[0, 0, 10, 10], [0, 0, 10, 10], [0, 0, 10, 10]], dtype=np.float64)
    b = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [10, 0, 5, 5]], dtype=np.float64)
    assert np.diag(iou_matrix(a, b)) == pytest.approx([1.0, 50 / 150, 0.0])


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(*[st.integers(0, 20)] * 2, *[st.integers(1, 10)] * 2), min_size=1, max_size=5
    ),
    st.lists(
        st.tuples(*[st.integers(0, 20)] * 2, *[st.integers(1, 10)] * 2), min_size=1, max_size=5
    ),
)
def test_iou_is_symmetric_and_between_zero_and_one(
    a: list[tuple[int, ...]], b: list[tuple[int, ...]]
) -> None:
    left, right = np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)
    ious = iou_matrix(left, right)
    assert np.all((ious >= 0) & (ious <= 1 + 1e-12))
    assert ious == pytest.approx(iou_matrix(right, left).T)
    assert np.diag(iou_matrix(left, left)) == pytest.approx(1.0)


def test_greedy_matching_takes_the_best_iou_first_and_each_box_once() -> None:
    a = [(0.0, 0.0, 10.0, 10.0, "cat")]
    b = [(1.0, 0.0, 10.0, 10.0, "cat"), (0.0, 0.0, 10.0, 10.0, "cat")]
    assert box_matches(a, b, 0.5) == [1.0]
    assert box_matches(a, [(0.0, 0.0, 10.0, 10.0, "dog")], 0.5) == []


def test_per_label_rows_mean_iou_and_threshold() -> None:
    first = [box(0, 0, 10, 10), box(50, 50, 10, 10, "dog")]
    second = [box(2, 0, 10, 10), box(80, 80, 10, 10, "dog"), box(0, 0, 4, 4, "dog")]
    table = box_agreement(frame_of(first, second))
    assert table.columns == [
        "label",
        "pairs",
        "matched",
        "n_a",
        "n_b",
        "precision",
        "recall",
        "f1",
        "mean_iou",
        "reason",
    ]
    rows = {row["label"]: row for row in table.iter_rows(named=True)}
    assert (rows[None]["matched"], rows[None]["n_a"], rows[None]["n_b"]) == (1, 2, 3)
    assert rows[None]["f1"] == pytest.approx(2 / 5)
    assert rows[None]["precision"] == pytest.approx(1 / 3)
    assert rows[None]["recall"] == pytest.approx(1 / 2)
    assert rows["cat"]["mean_iou"] == pytest.approx(80 / 120)
    assert math.isnan(rows["dog"]["mean_iou"])
    assert rows["dog"]["f1"] == 0.0
    strict = box_agreement(frame_of(first, second), iou=0.7)
    assert strict["matched"].to_list() == [0, 0, 0]


def test_three_annotators_pool_all_pairs() -> None:
    same = [box(0, 0, 10, 10)]
    table = box_agreement(frame_of(same, same, []))
    row = table.row(0, named=True)
    # Pairs (0, 1), (0, 2), (1, 2): annotator-2 marked nothing, so it is n_b of two pairs.
    assert (row["pairs"], row["matched"], row["n_a"], row["n_b"]) == (3, 1, 3, 1)
    assert row["f1"] == pytest.approx(2 / 4)


def test_payload_shapes_are_read() -> None:
    payload = BoxesPayload(boxes=(Box(x=0, y=0, width=5, height=5, label="cat"),))
    table = box_agreement(frame_of(payload, payload.to_dict()))  # type: ignore[arg-type]
    assert table["f1"].to_list() == [1.0, 1.0]


# --- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("width", "height"), [(0, 5), (5, 0), (-1, 5)])
def test_boxes_with_zero_or_negative_area_are_refused(width: float, height: float) -> None:
    frame = frame_of([box(0, 0, width, height)], [box(0, 0, 5, 5)])
    with pytest.raises(QualityError) as caught:
        box_agreement(frame)
    assert str(caught.value) == (
        f"item 1, annotator 'annotator-0': boxes[0] has width={width!r}, height={height!r}: a box "
        "with zero or negative area cannot overlap anything; fix or drop it"
    )


def test_non_numeric_boxes_are_refused() -> None:
    frame = frame_of([box(0, float("nan"), 5, 5)])
    with pytest.raises(QualityError, match=re.escape("all must be finite numbers")):
        box_agreement(frame)


@pytest.mark.parametrize("iou", [0, 1.5, -0.1])
def test_thresholds_outside_zero_to_one_are_refused(iou: float) -> None:
    with pytest.raises(QualityError, match=re.escape(f"iou={iou!r} must be a threshold above 0")):
        box_agreement(frame_of([box(0, 0, 5, 5)]), iou=iou)


def test_no_pairs_and_no_boxes_give_nan_with_a_reason() -> None:
    alone = box_agreement(frame_of([box(0, 0, 5, 5)]))
    assert alone["reason"].to_list() == [
        "fewer than two annotators on every item: there is no pair to compare"
    ]
    empty = box_agreement(frame_of([], []))
    assert math.isnan(empty["f1"][0])
    assert empty["reason"].to_list() == [
        "no boxes on the items compared: there is nothing to agree on"
    ]
