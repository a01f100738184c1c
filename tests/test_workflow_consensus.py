"""Merging k annotations of one task: boxes vote by overlap, not by exact pixels."""

from __future__ import annotations

from typing import Any

from annolab.workflow.consensus import agreement, consensus


def boxes(*items: tuple[float, float, float, float, str]) -> dict[str, Any]:
    fields = ("x", "y", "width", "height", "label")
    return {"kind": "boxes", "boxes": [dict(zip(fields, b, strict=True)) for b in items]}


def test_near_identical_boxes_of_two_of_three_annotators_make_one_box_at_their_mean() -> None:
    a = boxes((10, 10, 100, 50, "car"), (300, 300, 20, 20, "person"))
    b = boxes((12, 8, 98, 52, "car"))
    c = boxes((500, 500, 40, 40, "car"))  # somewhere else entirely
    merged = consensus([a, b, c], "majority")
    assert merged == boxes((11.0, 9.0, 99.0, 51.0, "car"))


def test_overlapping_boxes_of_different_labels_do_not_vote_together() -> None:
    a = boxes((10, 10, 100, 50, "car"))
    b = boxes((10, 10, 100, 50, "truck"))
    assert consensus([a, b], "majority") == boxes()


def test_a_box_under_half_overlap_is_a_different_box() -> None:
    a = boxes((0, 0, 100, 100, "car"))
    b = boxes((60, 0, 100, 100, "car"))  # IoU = 40 / 160 = 0.25
    assert consensus([a, b], "majority") == boxes()
    assert agreement([a, b], "box_f1") == 0.0


def test_weights_move_the_box_toward_the_better_annotator() -> None:
    a = boxes((0, 0, 100, 100, "car"))
    b = boxes((10, 0, 100, 100, "car"))
    merged = consensus([a, b], "weighted", weights=[3.0, 1.0])
    assert merged == boxes((2.5, 0.0, 100.0, 100.0, "car"))


def test_one_annotator_never_votes_twice_for_the_same_box() -> None:
    # Two overlapping boxes from one person and one from another: only one group gets both.
    a = boxes((0, 0, 100, 100, "car"), (5, 0, 100, 100, "car"))
    b = boxes((0, 0, 100, 100, "car"))
    merged = consensus([a, b], "majority")
    assert merged == boxes((0.0, 0.0, 100.0, 100.0, "car"))
