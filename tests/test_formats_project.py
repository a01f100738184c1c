"""Formats through a project: the WNUT 2017 dev set (CC-BY 4.0, Derczynski et al. 2017; see
annolab/data/README.md) imported from CoNLL and exported back, and the choice of answers."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import annolab as al
from annolab.datasets import WNUT17_LABELS
from annolab.io.records import Record
from annolab.io.select import select_records
from annolab.store.users import ensure_user

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


def test_a_consensus_of_disagreeing_annotators_is_written_and_noted(
    project: al.Project, tmp_path: Path
) -> None:
    project.add_tasks(pl.DataFrame({"id": ["a"], "text": ["Ada met Grace"]}), id="id")
    ada = {"start": 0, "end": 3, "label": "person"}
    grace = {"start": 8, "end": 13, "label": "person"}
    project.add_annotation("a", {"kind": "spans", "spans": [ada]}, user="alice")
    project.add_annotation("a", {"kind": "spans", "spans": [ada, grace]}, user="bob")
    report = project.export(tmp_path / "a.jsonl", which="consensus")
    assert report.notes == [("a", "the 2 annotators agree 67%; written: what most gave")]
    (line,) = pl.read_ndjson(tmp_path / "a.jsonl").rows(named=True)
    assert (line["source"], line["payload"]["spans"]) == ("consensus", [ada])


def test_gold_export_writes_the_gold_entries(workspace: al.Workspace, tmp_path: Path) -> None:
    proj = workspace.create_project(
        f"gold-{uuid.uuid4().hex[:8]}", labels=["pos", "neg"], layout="classify"
    )
    proj.add_tasks(pl.DataFrame({"id": ["t1", "t2"], "text": ["great", "awful"]}), id="id")
    chosen = proj.add_annotation("t1", {"kind": "choice", "label": "pos"}, user="alice")
    proj.add_annotation("t2", {"kind": "choice", "label": "neg"}, user="alice")
    proj.gold.promote("t1", from_=chosen, category="true_positive")
    out = tmp_path / "gold.jsonl"

    report = proj.export(out, which="gold")
    assert (report.written, report.tasks, report.unanswered) == (1, 1, 0)
    rows = pl.read_ndjson(out).select("external_id", "source", "payload").rows()
    assert rows == [("t1", "gold", {"kind": "choice", "label": "pos"})]

    proj.export(out, which="gold", unannotated=True)
    assert pl.read_ndjson(out).select("external_id", "source").rows() == [
        ("t1", "gold"),
        ("t2", "none"),
    ]


def test_a_refused_document_mid_file_is_reported_and_the_rest_stored(
    workspace: al.Workspace, tmp_path: Path
) -> None:
    docs = WNUT_DEV.read_text(encoding="utf-8").split("\n\n")[:3]
    bad = docs[1].replace("\tO", "\tB-alien", 1)
    conll = tmp_path / "three.conll"
    conll.write_text("\n\n".join([docs[0], bad, docs[2]]) + "\n\n", encoding="utf-8")
    proj = workspace.create_project(f"bad-{uuid.uuid4().hex[:8]}", labels=WNUT17_LABELS)

    report = proj.import_file(conll)
    assert (report.tasks_added, report.annotations) == (2, 2)
    ((where, why),) = report.refused
    assert where == "line 14"
    assert why.startswith("spans[0].label='alien' is not a label of this project")
    assert proj.tasks()["external_id"].to_list() == ["three-00001", "three-00003"]

    conll.write_text("\n\n".join(docs) + "\n\n", encoding="utf-8")  # corrected, brought again
    again = proj.import_file(conll)
    assert (again.tasks_added, again.unchanged, again.refused) == (1, 2, [])


def test_a_crash_mid_import_stores_nothing_and_mid_export_leaves_no_file(
    project: al.Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the machine went away")

    with monkeypatch.context() as patch:
        patch.setattr("annolab.io.ingest.store_rows", crash)
        with pytest.raises(RuntimeError, match="went away"):
            project.import_file(WNUT_DEV)
    assert (project.tasks().height, project.annotations().height) == (0, 0)

    project.import_file(WNUT_DEV)
    real = select_records

    def half(*args: Any, **kwargs: Any) -> Iterator[Record]:
        for n, record in enumerate(real(*args, **kwargs)):
            if n == 500:
                raise RuntimeError("the disk is full")
            yield record

    monkeypatch.setattr("annolab.project.select_records", half)
    for name in ("out.conll", "out-hf"):
        with pytest.raises(RuntimeError, match="disk is full"):
            project.export(tmp_path / name, format=None if name.endswith("conll") else "hf")
    assert list(tmp_path.iterdir()) == []


def test_a_long_export_shows_a_progress_bar_of_tasks(
    project: al.Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project.add_tasks(pl.DataFrame({"id": ["a", "b", "c"], "text": ["x", "y", "z"]}), id="id")
    project.add_annotation("b", {"kind": "spans", "spans": []}, user="alice")
    bars: list[Any] = []

    class Recorded:
        def __init__(self, **kwargs: Any) -> None:
            self.kwargs, self.total, self.n = kwargs, None, 0
            bars.append(self)

        def __enter__(self) -> Recorded:
            return self

        def __exit__(self, *exc: object) -> None:
            pass

        def update(self, n: int) -> None:
            self.n += n

    monkeypatch.setattr("tqdm.auto.tqdm", Recorded)
    project.export(tmp_path / "out.conll")
    (bar,) = bars
    assert (bar.total, bar.n) == (3, 3)
    assert bar.kwargs == {"desc": "export conll", "unit": " tasks", "delay": 1.0, "disable": False}
    project.export(tmp_path / "out.conll", progress=False)
    assert bars[1].kwargs["disable"] is True


def test_an_answer_the_database_refuses_is_counted_apart_from_its_neighbour(
    workspace: al.Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two annotators' boxes on one COCO image share a place in the file; the database
    refusing one of them leaves the other stored and counted."""
    from annolab.errors import StoreError
    from annolab.io import imports
    from annolab.io.coco import FORMATS as COCO_FORMATS
    from tests.test_format_coco import LABELS, context, draw_image, write

    draw_image(tmp_path / "a.png", 40, 30)
    box = {"x": 1.0, "y": 2.0, "width": 10.0, "height": 5.0, "label": "dog"}
    records = [
        Record("img", {"image": str(tmp_path / "a.png")}, {"kind": "boxes", "boxes": [box]}, who)
        for who in ("ann", "bob")
    ]
    write(COCO_FORMATS[0], records, tmp_path / "two.json", context())
    proj = workspace.create_project(
        f"two-{uuid.uuid4().hex[:8]}", labels=list(LABELS), layout="bbox"
    )
    real = imports.upsert_annotations
    bob = workspace.user_id  # replaced below, once the import has made bob

    def refuse_bob(conn: Any, rows: list[Any], **kwargs: Any) -> int:
        if any(row.user_id == bob for row in rows):
            raise StoreError("bob's answers are not taken today")
        return real(conn, rows, **kwargs)

    def find_bob(conn: Any, name: str, **kwargs: Any) -> int:
        nonlocal bob
        found = ensure_user(conn, name, **kwargs)
        bob = found if name == "bob" else bob
        return found

    monkeypatch.setattr(imports, "upsert_annotations", refuse_bob)
    monkeypatch.setattr("annolab.io.ingest.ensure_user", find_bob)
    report = proj.import_file(tmp_path / "two.json", image_root=str(tmp_path))
    assert (report.tasks_added, report.annotations) == (1, 1)
    assert report.refused == [
        ("image 1", "the database refused it: bob's answers are not taken today")
    ]
    assert proj.annotations()["user"].to_list() == ["ann"]
