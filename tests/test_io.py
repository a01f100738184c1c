"""Exports (jsonl, csv, parquet) and the jsonl import with its report."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

import annolab as al
from annolab.io.export import write_batches

TEXTS = {"t1": "Ada met Grace", "t2": "Rain in 東京 👋"}


@pytest.fixture
def annotated(project: al.Project) -> al.Project:
    project.add_tasks(pl.DataFrame({"id": list(TEXTS), "text": list(TEXTS.values())}), id="id")
    project.add_annotation(
        "t1",
        {
            "kind": "spans",
            "spans": [
                {"start": 0, "end": 3, "label": "person"},
                {"start": 8, "end": 13, "label": "person"},
            ],
        },
        user="alice",
        time_spent=4.5,
    )
    project.add_annotation(
        "t2",
        {"kind": "spans", "spans": [{"start": 8, "end": 10, "label": "location", "score": 0.75}]},
        user="bob",
    )
    return project


def test_jsonl_export_holds_payload_objects_and_text(annotated: al.Project, tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    assert annotated.export(path).written == 2
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert [(r["external_id"], r["user"], r["text"]) for r in rows] == [
        ("t1", "alice", "Ada met Grace"),
        ("t2", "bob", "Rain in 東京 👋"),
    ]
    assert rows[1]["payload"] == {
        "kind": "spans",
        "spans": [{"start": 8, "end": 10, "label": "location", "score": 0.75}],
    }
    assert rows[0]["time_spent"] == 4.5


def test_csv_and_parquet_exports_have_the_same_rows(annotated: al.Project, tmp_path: Path) -> None:
    annotated.export(tmp_path / "a.csv")
    annotated.export(tmp_path / "a.parquet")
    from_csv = pl.read_csv(tmp_path / "a.csv")
    from_parquet = pl.read_parquet(tmp_path / "a.parquet")
    assert from_csv["payload"].to_list() == from_parquet["payload"].to_list()
    assert from_parquet["text"].to_list() == list(TEXTS.values())
    assert json.loads(from_parquet["payload"][0])["spans"][1]["start"] == 8


def test_empty_project_exports_the_columns(project: al.Project, tmp_path: Path) -> None:
    assert project.export(tmp_path / "none.parquet").written == 0
    empty = pl.read_parquet(tmp_path / "none.parquet")
    assert empty.height == 0
    assert {"annotation_id", "payload", "text"} <= set(empty.columns)


def test_unknown_format_is_named(annotated: al.Project, tmp_path: Path) -> None:
    with pytest.raises(al.ValidationError, match=r"path='.*out.xlsx' does not say which format"):
        annotated.export(tmp_path / "out.xlsx")
    with pytest.raises(al.ValidationError, match=r"format='xlsx' must be one of csv, jsonl"):
        annotated.export(tmp_path / "out.data", format="xlsx")


def test_an_interrupted_export_leaves_the_old_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    path.write_text("previous export\n")

    def batches():  # type: ignore[no-untyped-def]
        yield pl.DataFrame({"a": [1], "payload": ["{}"]})
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_batches(batches(), path, "jsonl")
    assert path.read_text() == "previous export\n"
    assert list(tmp_path.iterdir()) == [path]


def test_export_then_import_round_trips_and_is_idempotent(
    annotated: al.Project, workspace: al.Workspace, tmp_path: Path
) -> None:
    path = tmp_path / "out.jsonl"
    annotated.export(path)
    copy = workspace.create_project(annotated.name + "-copy", labels=annotated.labels)
    copy.add_tasks(annotated.tasks().select("external_id", "text"), id="external_id")
    first = copy.import_annotations(path)
    assert (first.stored, first.unchanged, first.errors) == (2, 0, [])
    second = copy.import_annotations(path)
    assert (second.stored, second.unchanged) == (0, 2)
    columns = ["external_id", "user", "payload"]
    assert copy.annotations().select(columns).equals(annotated.annotations().select(columns))
    # The ids belonged to the first project's annotations: the copies got new, stable ones.
    assert set(copy.annotations()["annotation_id"]).isdisjoint(
        annotated.annotations()["annotation_id"]
    )


def test_import_stores_good_rows_and_reports_bad_ones(
    annotated: al.Project, tmp_path: Path
) -> None:
    good = {
        "task": "t2",
        "user": "carol",
        "payload": {"kind": "spans", "spans": [{"start": 0, "end": 4, "label": "group"}]},
    }
    lines = [
        json.dumps(good),
        "{not json",
        json.dumps({"task": "t9", "payload": {"kind": "spans", "spans": []}}),
        "",
        json.dumps(
            {
                "task": "t1",
                "payload": {"kind": "spans", "spans": [{"start": 0, "end": 40, "label": "person"}]},
            }
        ),
        json.dumps({"task": "t1", "kind": "robot", "payload": {"kind": "spans", "spans": []}}),
        json.dumps(["a", "list"]),
    ]
    path = tmp_path / "in.jsonl"
    path.write_bytes("\n".join(lines).encode() + b"\n\xff\xfe\n")
    report = annotated.import_annotations(path)
    assert report.stored == 1
    assert [line for line, _ in report.errors] == [2, 3, 5, 6, 7, 8]
    reasons = dict(report.errors)
    assert reasons[2].startswith("the line is not JSON")
    assert reasons[3] == "task='t9' is not a task of this project"
    assert "spans[0].end=40 is past the end of the text" in reasons[5]
    assert reasons[6].startswith("kind='robot' is not one of 'human', 'persona'")
    assert reasons[7] == "the line holds a list, not an object"
    assert reasons[8] == "the line is not valid UTF-8 (byte 0)"
    assert report.errors_frame().columns == ["line", "reason"]
    assert repr(report) == "<ImportReport stored 1, unchanged 0; 6 rows refused (see .errors)>"
    users = annotated.annotations()["user"].to_list()
    assert users == ["alice", "bob", "carol"]


def test_import_of_a_missing_file_names_it(annotated: al.Project, tmp_path: Path) -> None:
    with pytest.raises(al.DataError, match=r"path='.*missing\.jsonl' can not be read"):
        annotated.import_annotations(tmp_path / "missing.jsonl")


def test_awkward_texts_survive_every_format(project: al.Project, tmp_path: Path) -> None:
    text = 'line one\nline "two", with commas\t\\ and a backslash 👋'
    project.add_tasks(pl.DataFrame({"id": ["w"], "text": [text]}), id="id")
    project.add_annotation(
        "w", {"kind": "spans", "spans": [{"start": 0, "end": 4, "label": "group"}]}
    )
    project.export(tmp_path / "a.jsonl")
    project.export(tmp_path / "a.csv")
    project.export(tmp_path / "a.parquet")
    (row,) = [json.loads(line) for line in (tmp_path / "a.jsonl").read_text().splitlines()]
    assert row["text"] == text
    assert pl.read_csv(tmp_path / "a.csv")["text"][0] == text
    assert pl.read_parquet(tmp_path / "a.parquet")["text"][0] == text
    assert project.tasks()["text"][0] == text
