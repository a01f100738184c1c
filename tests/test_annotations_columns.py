"""``proj.annotations()`` unnests payloads into typed columns beside the JSON payload."""

from __future__ import annotations

import json
import uuid

import polars as pl
import pytest

import annolab as al

pytestmark = pytest.mark.db

TEXT = "Ada 👋🏽 met Grace in 東京"  # emoji with a skin-tone modifier, CJK


def test_spans_are_a_list_of_start_end_label_and_text(project: al.Project) -> None:
    project.add_tasks(pl.DataFrame({"id": ["t1", "t2"], "text": [TEXT, "nothing"]}), id="id")
    cjk = TEXT.index("東京")
    spans = [
        {"start": 0, "end": 3, "label": "person"},
        {"start": cjk, "end": cjk + 2, "label": "location"},
    ]
    project.add_annotation("t1", {"kind": "spans", "spans": spans})
    project.add_annotation("t2", {"kind": "spans", "spans": []})
    frame = project.annotations().sort("external_id")
    assert frame.schema["spans"] == pl.List(
        pl.Struct({"start": pl.Int64, "end": pl.Int64, "label": pl.String, "text": pl.String})
    )
    assert frame["answer_kind"].to_list() == ["spans", "spans"]
    assert frame["spans"].to_list() == [
        [
            {"start": 0, "end": 3, "label": "person", "text": "Ada"},
            {"start": cjk, "end": cjk + 2, "label": "location", "text": "東京"},
        ],
        [],
    ]
    # The JSON stays, right before the unnested columns; raw=True gives only the JSON.
    assert json.loads(frame["payload"][0])["spans"][1]["label"] == "location"
    assert frame.columns[frame.columns.index("payload") + 1 :][:2] == ["answer_kind", "spans"]
    raw = project.annotations(raw=True)
    assert "spans" not in raw.columns
    assert raw.columns == [c for c in frame.columns if c not in ("answer_kind", "spans")]


def test_an_empty_project_has_its_layouts_columns(project: al.Project) -> None:
    frame = project.annotations()
    assert frame.height == 0
    assert frame.schema["spans"] == pl.List(
        pl.Struct({"start": pl.Int64, "end": pl.Int64, "label": pl.String, "text": pl.String})
    )


def test_a_choice_is_its_label(workspace: al.Workspace) -> None:
    project = workspace.create_project(
        f"test-{uuid.uuid4().hex[:12]}", layout="classify", labels=["pos", "neg"]
    )
    project.add_tasks(pl.DataFrame({"id": ["a", "b"], "text": ["good", "bad"]}), id="id")
    project.add_annotation("a", {"kind": "choice", "label": "pos"})
    project.add_annotation("b", {"kind": "choice", "label": "neg"}, user="bob")
    frame = project.annotations().sort("external_id")
    assert frame.select("external_id", "user", "answer_kind", "label").rows() == [
        ("a", "tester", "choice", "pos"),
        ("b", "bob", "choice", "neg"),
    ]
    assert "spans" not in frame.columns


def test_boxes_ratings_and_rankings_unnest_to_their_types() -> None:
    from annolab.store.payload_columns import unnest_payloads

    payloads = [
        {"kind": "boxes", "boxes": [{"x": 1, "y": 2, "width": 3, "height": 4, "label": "cat"}]},
        {"kind": "rating", "value": 4, "min": 1, "max": 5},
        {"kind": "ranking", "order": ["b", "a"]},
        {"kind": "rubric", "scores": {"clarity": 3}, "comment": ""},
        {"kind": "correction", "text": "fixed"},
    ]
    frame = pl.DataFrame({"payload": [json.dumps(p) for p in payloads], "after": [1, 2, 3, 4, 5]})
    out = unnest_payloads(frame, [""] * 5)
    assert out.columns == [
        "payload",
        "answer_kind",
        "boxes",
        "rating",
        "answer_text",
        "order",
        "scores",
        "after",
    ]
    assert out["boxes"][0].to_list() == [
        {"x": 1.0, "y": 2.0, "width": 3.0, "height": 4.0, "label": "cat"}
    ]
    assert out["rating"].to_list() == [None, 4, None, None, None]
    assert out.schema["rating"] == pl.Int64
    assert out["order"][2].to_list() == ["b", "a"]
    assert out["scores"][3].to_list() == [{"criterion": "clarity", "score": 3}]
    assert out["answer_text"].to_list() == [None, None, None, None, "fixed"]
