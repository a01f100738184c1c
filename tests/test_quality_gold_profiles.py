"""Gold accuracy with partial credit, annotator profiles, and the quality layer's imports."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import polars as pl
import pytest

from annolab.errors import QualityError
from annolab.quality import annotator_profiles, gold_accuracy
from tests.conftest import REPO


def spans(*triples: tuple[int, int, str]) -> list[dict[str, object]]:
    return [{"start": s, "end": e, "label": lab} for s, e, lab in triples]


def test_gold_accuracy_on_categories() -> None:
    frame = pl.DataFrame(
        {
            "item": [1, 2, 3, 1, 2],
            "annotator": ["ann"] * 3 + ["bob"] * 2,
            "value": ["a", "b", "c", "a", "a"],
        }
    )
    gold = pl.DataFrame({"item": [1, 2], "value": ["a", "b"]})
    table = gold_accuracy(frame, gold)
    assert table.rows() == [("ann", 2, 2, 1.0, 1.0), ("bob", 2, 1, 0.5, 0.5)]
    assert table.columns == ["annotator", "items", "exact", "accuracy", "score"]


def test_gold_accuracy_gives_partial_credit_for_spans() -> None:
    frame = pl.DataFrame(
        {
            "item": [1, 2],
            "annotator": ["ann", "ann"],
            "value": [spans((0, 3, "PER"), (5, 9, "ORG")), []],
        }
    )
    gold = pl.DataFrame({"item": [1, 2], "value": [spans((0, 4, "PER"), (10, 12, "LOC")), []]})
    row = gold_accuracy(frame, gold).row(0, named=True)
    # Item 1: one overlap match of 2 + 2 spans -> F1 0.5, not exact; item 2: empty = empty.
    assert (row["items"], row["exact"]) == (2, 1)
    assert row["score"] == pytest.approx((0.5 + 1.0) / 2)


def test_gold_accuracy_gives_partial_credit_for_boxes() -> None:
    mine = [{"x": 0, "y": 0, "width": 10, "height": 10, "label": "cat"}]
    truth = [
        {"x": 2, "y": 0, "width": 10, "height": 10, "label": "cat"},
        {"x": 50, "y": 50, "width": 5, "height": 5, "label": "cat"},
    ]
    frame = pl.DataFrame({"item": [1], "annotator": ["ann"], "value": [mine]})
    gold = pl.DataFrame({"item": [1], "value": [truth]})
    row = gold_accuracy(frame, gold).row(0, named=True)
    assert row["exact"] == 0
    assert row["score"] == pytest.approx(2 * (80 / 120) / 3)


def test_an_annotator_without_gold_items_gets_nan() -> None:
    frame = pl.DataFrame({"item": [1, 2], "annotator": ["ann", "bob"], "value": ["a", "b"]})
    table = gold_accuracy(frame, pl.DataFrame({"item": [1], "value": ["a"]}))
    bob = table.row(1, named=True)
    assert bob["items"] == 0
    assert math.isnan(bob["accuracy"])


def test_gold_must_have_one_answer_per_item_of_the_same_type() -> None:
    frame = pl.DataFrame({"item": [1], "annotator": ["ann"], "value": ["a"]})
    with pytest.raises(QualityError, match="gold has 2 rows for item 1; it needs one answer"):
        gold_accuracy(frame, pl.DataFrame({"item": [1, 1], "value": ["a", "b"]}))
    with pytest.raises(QualityError) as caught:
        gold_accuracy(frame, pl.DataFrame({"item": ["1"], "value": ["a"]}))
    assert str(caught.value) == (
        "gold's item column 'item' holds String but the frame's holds Int64; the same item "
        "must have the same id in both"
    )
    with pytest.raises(QualityError, match="kind='words' is not a kind of annotation"):
        gold_accuracy(frame, pl.DataFrame({"item": [1], "value": ["a"]}), kind="words")


def test_profiles_on_categories() -> None:
    frame = pl.DataFrame(
        {
            "item": [1, 2, 3, 1, 2, 3, 3, 1],
            "annotator": ["ann"] * 3 + ["bob"] * 4 + ["cyd"],
            "value": ["a", "b", "c", "a", "a", "c", "d", "b"],
            "time_spent": [10.0, 20.0, 30.0, 5.0, 5.0, 5.0, 5.0, None],
        }
    )
    table = annotator_profiles(
        frame, gold=pl.DataFrame({"item": [1], "value": ["a"]}), consensus="majority"
    )
    rows = {row["annotator"]: row for row in table.iter_rows(named=True)}
    ann, bob, cyd = rows["ann"], rows["bob"], rows["cyd"]
    assert (ann["annotations"], ann["items"], bob["annotations"], bob["items"]) == (3, 3, 4, 3)
    assert (ann["gold_score"], cyd["gold_score"]) == (1.0, 0.0)
    # Majority: item 2 a/b tie -> none; item 3 c, c, d -> c; item 1 a, a, b -> a.
    assert (ann["consensus_items"], ann["consensus_score"]) == (2, 1.0)
    assert (bob["consensus_items"], bob["consensus_score"]) == (3, pytest.approx(2 / 3))
    # ann vs bob: item 1 a=a, item 2 b!=a, item 3 c vs (c, d); ann vs cyd on item 1: a != b.
    assert ann["peer_agreement"] == pytest.approx((1 + 0 + 1 + 0 + 0) / 5)
    assert (ann["seconds_per_task"], ann["tasks_per_hour"]) == (20.0, 3600 * 3 / 60)
    assert (cyd["seconds_per_task"], cyd["tasks_per_hour"]) == (None, None)
    assert (bob["repeated_items"], bob["consistency"]) == (1, 0.0)
    assert (ann["repeated_items"], ann["consistency"]) == (0, None)


def test_profiles_on_spans_use_partial_credit() -> None:
    frame = pl.DataFrame(
        {
            "item": [1, 1],
            "annotator": ["ann", "bob"],
            "value": [spans((0, 3, "PER")), spans((1, 3, "PER"), (5, 6, "ORG"))],
        }
    )
    table = annotator_profiles(frame)
    assert table["peer_agreement"].to_list() == pytest.approx([2 / 3, 2 / 3])
    assert table["seconds_per_task"].to_list() == [None, None]
    with pytest.raises(QualityError, match="consensus='majority' votes on categories"):
        annotator_profiles(frame, consensus="majority")


def test_profiles_name_a_missing_time_column() -> None:
    frame = pl.DataFrame({"item": [1], "annotator": ["ann"], "value": ["a"]})
    with pytest.raises(QualityError, match="time='seconds' is not a column of frame"):
        annotator_profiles(frame, time="seconds")
    with pytest.raises(QualityError, match="consensus='vote' is not a rule"):
        annotator_profiles(frame, consensus="vote")


def test_quality_imports_only_schema_and_errors() -> None:
    """quality sits beside io in the layers (DESIGN.md): pure, no store, io, widgets or UI.
    The payload-kind registry is pure too (tests/test_layers.py): it says how a kind is measured;
    so are the hooks (errors only), through which plugins add evaluators."""
    allowed = {"quality", "kinds", "schema", "errors", "hooks"}
    for path in sorted((REPO / "annolab" / "quality").rglob("*.py")):
        for node in ast.walk(ast.parse(Path(path).read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                parts = name.split(".")
                if parts[0] == "annolab" and len(parts) > 1:
                    assert parts[1] in allowed, f"{path.name} imports {name}"
