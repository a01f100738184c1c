"""Formats through a project: the WNUT 2017 dev set (CC-BY 4.0, Derczynski et al. 2017; see
annolab/data/README.md) imported from CoNLL and exported back, and the choice of answers."""

from __future__ import annotations

import uuid
from importlib.resources import files
from pathlib import Path

import polars as pl

import annolab as al
from annolab.datasets import WNUT17_LABELS

WNUT_DEV = Path(str(files("annolab") / "data" / "wnut17_dev.conll"))


def test_wnut_dev_through_a_project_comes_back_identical(
    workspace: al.Workspace, tmp_path: Path
) -> None:
    proj = workspace.create_project(f"wnut-{uuid.uuid4().hex[:8]}", labels=WNUT17_LABELS)
    first = proj.import_file(WNUT_DEV)
    assert (first.tasks_added, first.annotations, first.refused) == (1009, 1009, [])
    again = proj.import_file(WNUT_DEV)
    assert (again.tasks_added, again.unchanged) == (0, 1009)
    report = proj.export(tmp_path / "out.conll")
    assert (report.written, report.tasks, report.notes) == (1009, 1009, [])
    assert (tmp_path / "out.conll").read_bytes() == WNUT_DEV.read_bytes()


def test_consensus_latest_all_and_unannotated(project: al.Project, tmp_path: Path) -> None:
    texts = {"a": "Ada met Grace", "b": "Ada", "c": "Grace"}
    project.add_tasks(pl.DataFrame({"id": list(texts), "text": list(texts.values())}), id="id")
    ada = {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "person"}]}
    project.add_annotation("a", ada, user="alice")
    project.add_annotation("a", ada, user="bob")
    project.add_annotation("b", ada, user="alice")
    project.add_annotation("b", {"kind": "spans", "spans": []}, user="alice")
    out = tmp_path / "x.jsonl"

    def rows(**kw: object) -> list[tuple[str, str | None, str]]:
        project.export(out, **kw)  # type: ignore[arg-type]
        frame = pl.read_ndjson(out)
        return list(zip(frame["external_id"], frame["annotator"], frame["source"], strict=True))

    assert rows(which="consensus") == [("a", None, "consensus"), ("b", "alice", "human")]
    assert rows(which="latest") == [
        ("a", "alice", "human"),
        ("a", "bob", "human"),
        ("b", "alice", "human"),
    ]
    assert len(rows(which="all", unannotated=True)) == 5
    assert rows(which="consensus", unannotated=True)[-1] == ("c", None, "none")


def test_cli_imports_conll_as_predictions_and_exports_conll(
    workspace: al.Workspace, db_url: str, tmp_path: Path
) -> None:
    from typer.testing import CliRunner

    from annolab.cli import app

    name = f"wnut-{uuid.uuid4().hex[:8]}"
    proj = workspace.create_project(name, labels=WNUT17_LABELS)
    runner = CliRunner()
    done = runner.invoke(
        app,
        [
            "import",
            name,
            str(WNUT_DEV),
            "--format",
            "conll",
            "--into",
            "predictions",
            "--url",
            db_url,
        ],
    )
    assert done.exit_code == 0, done.output
    assert "1009 new tasks" in done.output
    assert set(proj.annotations()["kind"]) == {"model"}
    out = tmp_path / "back.conll"
    done = runner.invoke(app, ["export", name, str(out), "--which", "latest", "--url", db_url])
    assert done.exit_code == 0, done.output
    assert out.read_bytes() == WNUT_DEV.read_bytes()


def test_label_studio_answers_become_suggestions_in_the_queue(workspace: al.Workspace) -> None:
    fixture = Path(__file__).parent / "data" / "formats" / "label_studio_ner.json"
    proj = workspace.create_project(f"ls-{uuid.uuid4().hex[:8]}", labels=WNUT17_LABELS)
    report = proj.import_file(fixture, format="label-studio", into="predictions")
    assert report.refused == []
    assert report.annotations == 0
    assert report.suggestions > 0
    session = proj.session("carol")
    item = session.next()
    assert item is not None
    suggestion = session.suggestion()
    assert suggestion is not None
    assert suggestion["kind"] == "spans"
    again = proj.import_file(fixture, format="label-studio", into="predictions")
    assert (again.tasks_added, again.unchanged) == (0, report.suggestions)
