"""agreement_frame and quality_report over the frames a project gives."""

from __future__ import annotations

import json

import polars as pl
import pytest

import annolab as al
from annolab.quality.report import agreement_frame, quality_report


def spans(*found: tuple[int, int, str]) -> str:
    return json.dumps(
        {"kind": "spans", "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in found]}
    )


@pytest.fixture
def frame() -> pl.DataFrame:
    rows = [
        (1, "ann", "human", spans((0, 3, "PER"), (8, 17, "PER")), 5.0),
        (1, "bob", "human", spans((0, 3, "PER"), (8, 11, "PER")), 6.0),
        (1, "cy", "human", spans((0, 3, "LOC")), 7.0),
        (2, "ann", "human", spans((0, 4, "LOC")), 8.0),
        (2, "bob", "human", spans((0, 4, "LOC")), 9.0),
        (2, "cy", "human", spans(), 10.0),
        (1, "wnut", "gold", spans((0, 3, "PER"), (8, 17, "PER")), None),
        (2, "wnut", "gold", spans((0, 4, "LOC")), None),
    ]
    return pl.DataFrame(
        rows, schema=["task_id", "user", "kind", "payload", "time_spent"], orient="row"
    ).with_columns(status=pl.lit("submitted"))


def test_span_agreement_per_label_and_overall(frame: pl.DataFrame) -> None:
    table = agreement_frame(frame)
    exact = table.filter(pl.col("match") == "exact")
    assert dict(exact.select("label", "value").rows()) == pytest.approx(
        {None: 2 / 7, "LOC": 1 / 3, "PER": 0.25}
    )
    assert exact["n_annotators"].unique().to_list() == [3]  # gold is not an annotator
    assert set(table["match"]) == {"exact", "overlap", "token"}


def test_choice_agreement_has_the_classic_coefficients() -> None:
    df = pl.DataFrame(
        {
            "task_id": [1, 1, 1, 2, 2, 2, 3, 3, 3],
            "user": ["a", "b", "c"] * 3,
            "payload": [json.dumps({"kind": "choice", "label": v}) for v in "yyynnynnn"],
        }
    )
    table = agreement_frame(df)
    overall = dict(table.filter(pl.col("label").is_null()).select("metric", "value").rows())
    assert overall["fleiss_kappa"] == pytest.approx(0.55)
    assert overall["percent_agreement"] == pytest.approx(7 / 9)
    assert overall["cohen_kappa"] != overall["cohen_kappa"]  # NaN: three annotators
    per_label = table.filter(pl.col("label").is_not_null())
    assert sorted(per_label["label"]) == ["n", "y"]


def test_quality_report_ranks_annotators_with_gold(frame: pl.DataFrame) -> None:
    report = quality_report(frame)
    assert report["annotator"].to_list()[0] == "cy"  # worst agreement first
    rows = {r["annotator"]: r for r in report.iter_rows(named=True)}
    assert rows["ann"]["gold_accuracy"] == 1.0
    assert rows["cy"]["gold_accuracy"] == 0.0
    assert rows["bob"]["seconds_per_task"] == 7.5
    assert rows["ann"]["tasks_per_hour"] == pytest.approx(3600 * 2 / 13)
    assert "wnut" not in rows


def test_quality_report_without_gold_has_null_accuracy(frame: pl.DataFrame) -> None:
    report = quality_report(frame.filter(pl.col("kind") != "gold"))
    assert report["gold_accuracy"].null_count() == report.height == 3


@pytest.mark.db
def test_report_reads_a_projects_frames(project: al.Project) -> None:
    project.add_tasks(pl.DataFrame({"id": ["a", "b"], "text": ["Ada met Bob", "in Rome"]}), id="id")
    for user, label in (("ann", "person"), ("bob", "person"), ("cy", "location")):
        project.add_annotation(
            "a", {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": label}]}, user=user
        )
    table = agreement_frame(project.annotations(), tasks=project.tasks())
    exact = table.filter(pl.col("match") == "exact", pl.col("label").is_null())
    assert exact["value"][0] == pytest.approx(2 * 1 / 6)
    report = quality_report(project.annotations())
    assert report.height == 3
    assert report["annotator"][0] == "cy"


def test_box_agreement_is_box_f1_overall_and_per_label() -> None:
    cat = {"x": 0, "y": 0, "width": 10, "height": 10, "label": "cat"}
    near = {**cat, "x": 1}  # IoU 0.82 with cat
    dog = {"x": 20, "y": 20, "width": 5, "height": 5, "label": "dog"}
    df = pl.DataFrame(
        {
            "task_id": [1, 1],
            "user": ["a", "b"],
            "payload": [
                json.dumps({"kind": "boxes", "boxes": [cat, dog]}),
                json.dumps({"kind": "boxes", "boxes": [near]}),
            ],
        }
    )
    table = agreement_frame(df)
    assert table.select("metric", "match", "label", "value", "n_items").rows() == [
        ("box_f1", "iou", None, pytest.approx(2 / 3), 1),
        ("box_f1", "iou", "cat", 1.0, 1),
        ("box_f1", "iou", "dog", 0.0, 1),
    ]


def test_another_kind_is_compared_as_whole_answers() -> None:
    texts = ["fine", "fine", "fine", "poor", "ok", "ok"]
    df = pl.DataFrame(
        {
            "task_id": [1, 1, 2, 2, 3, 3],
            "user": ["a", "b"] * 3,
            "payload": [json.dumps({"kind": "text", "text": t}) for t in texts],
        }
    )
    overall = dict(agreement_frame(df).select("metric", "value").rows())
    assert overall["percent_agreement"] == pytest.approx(2 / 3)
    # The same answers as a single choice give the same nominal alpha.
    labels = df.with_columns(
        pl.Series("payload", [json.dumps({"kind": "choice", "label": t}) for t in texts])
    )
    as_choice = agreement_frame(labels).filter(pl.col("label").is_null())
    alpha = dict(as_choice.select("metric", "value").rows())["krippendorff_alpha"]
    assert overall["krippendorff_alpha"] == pytest.approx(alpha)
