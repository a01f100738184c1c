"""Widget telemetry: a widget keeps the summaries its front end sends, the annotation loop
writes them in one batch tied to user, project, task and step, a retried batch adds nothing,
and a telemetry table that refuses the write loses no annotation."""

from __future__ import annotations

import uuid
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.errors import ValidationError
from annolab.store.telemetry import TelemetryRow, write_telemetry
from annolab.widgets import Classify
from annolab.widgets._base import AnnotationWidget
from annolab.widgets._telemetry import parse_summary

pytestmark = pytest.mark.db


def _summary(reason: str = "submit", **counts: Any) -> dict[str, Any]:
    base = {"active_ms": 1200, "idle_ms": 0, "keys": 3, "pointer": 1, "edits": 2, "undos": 0}
    base |= {"redos": 0, "batch_id": str(uuid.uuid4()), "widget": "classify", "reason": reason}
    return base | counts


def _send(widget: AnnotationWidget, summary: dict[str, Any]) -> None:
    """What the kernel does with the front end's ``model.send({"telemetry": ...})``."""
    widget._on_custom_msg(widget, {"telemetry": summary}, [])


def _project(workspace: al.Workspace, texts: list[str]) -> al.Project:
    proj = workspace.create_project(
        f"telemetry-{uuid.uuid4().hex[:8]}", labels=["pos", "neg"], layout="classify"
    )
    ids = [f"t{i}" for i in range(len(texts))]
    proj.add_tasks(pl.DataFrame({"id": ids, "text": texts}), id="id")
    return proj


def test_a_summary_is_checked_and_names_the_field() -> None:
    good = _summary(undos=2)
    assert parse_summary(good).undos == 2
    with pytest.raises(ValidationError, match=r"telemetry\.keys.*-1.*whole number from 0"):
        parse_summary(good | {"keys": -1})
    with pytest.raises(ValidationError, match=r"telemetry\.reason.*'later'.*one of"):
        parse_summary(good | {"reason": "later"})
    with pytest.raises(ValidationError, match=r"telemetry\.batch_id.*must be a UUID"):
        parse_summary(good | {"batch_id": "not-a-uuid"})
    with pytest.raises(ValidationError, match=r"telemetry\.idle_ms"):
        parse_summary(good | {"idle_ms": float("nan")})


def test_the_widget_keeps_what_it_receives_once() -> None:
    widget = Classify("good", labels=["pos", "neg"])
    first = _summary("interval")
    _send(widget, first)
    _send(widget, first)  # sent again: the batch id says it already arrived
    _send(widget, _summary() | {"keys": "many"})  # dropped, logged
    _send(widget, _summary("submit", undos=2))
    assert [s.reason for s in widget.telemetry] == ["interval", "submit"]
    assert [s.undos for s in widget.take_telemetry()] == [0, 2]
    assert widget.take_telemetry() == []
    assert len(widget.telemetry) == 2  # taking does not forget


def test_the_loop_writes_a_batch_tied_to_the_task_and_step(workspace: al.Workspace) -> None:
    proj = _project(workspace, ["good", "bad"])
    loop = proj.annotate("tele-ana")
    widget = loop.widget
    assert isinstance(widget, Classify)
    assert loop.session.current is not None
    assignment = loop.session.current.assignment_id
    periodic = _summary("interval", keys=5, active_ms=30_000, idle_ms=4_000)
    final = _summary("submit", keys=2, pointer=1, edits=1, undos=2, active_ms=2_500)
    _send(widget, periodic)
    widget.value = "pos"
    _send(widget, final)
    widget.submit_count += 1
    assert proj.annotations().height == 1
    rows = proj.telemetry().sort("reason", descending=True)
    assert (
        rows.select("user", "task", "step", "assignment_id", "widget").rows()
        == [("tele-ana", "t0", "annotate", assignment, "classify")] * 2
    )
    assert rows.select("reason", "keys", "pointer", "edits", "undos", "redos").rows() == [
        ("submit", 2, 1, 1, 2, 0),
        ("interval", 5, 1, 2, 0, 0),
    ]
    assert rows["active_ms"].sum() == 32_500 and rows["idle_ms"].sum() == 4_000
    assert rows["batch_id"].sort().to_list() == sorted([periodic["batch_id"], final["batch_id"]])
    # The next task's telemetry goes to the next task.
    _send(loop.widget, _summary("skip", keys=0))  # type: ignore[arg-type]
    loop.widget.skip_count += 1  # type: ignore[union-attr]
    skipped = proj.telemetry().filter(pl.col("reason") == "skip")
    assert skipped.select("task", "keys").rows() == [("t1", 0)]
    assert proj.telemetry(user="tele-ana").height == 3
    with pytest.raises(ValidationError, match=r"user.*'no-such-person'.*not a known user"):
        proj.telemetry(user="no-such-person")


def test_a_batch_is_one_insert_and_a_retry_adds_nothing(workspace: al.Workspace) -> None:
    proj = _project(workspace, ["good"])
    session = proj.session("tele-batch")
    item = session.next()
    assert item is not None
    rows = [
        TelemetryRow(
            batch_id=uuid.uuid4(),
            user_id=session.user_id,
            project_id=proj.id,
            task_id=item.task_id,
            assignment_id=item.assignment_id,
            step=item.step,
            widget="classify",
            reason="interval",
            active_ms=1000 * i,
            idle_ms=0,
            keys=i,
            pointer=0,
            edits=0,
            undos=0,
            redos=0,
        )
        for i in range(50)
    ]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "telemetry" in statement:
            statements.append(statement)

    sa.event.listen(workspace.engine, "before_cursor_execute", count)
    try:
        with workspace.engine.begin() as conn:
            assert write_telemetry(conn, rows) == 50
        with workspace.engine.begin() as conn:  # the same batch again, as a retry sends it
            assert write_telemetry(conn, rows[:10] + rows[40:]) == 0
    finally:
        sa.event.remove(workspace.engine, "before_cursor_execute", count)
    assert len(statements) == 2  # one INSERT per batch, not one per row
    stored = proj.telemetry()
    assert stored.height == 50
    assert stored["keys"].sum() == sum(range(50))


def test_concurrent_writes_of_one_batch_store_it_once(workspace: al.Workspace) -> None:
    from concurrent.futures import ThreadPoolExecutor

    proj = _project(workspace, ["good"])
    session = proj.session("tele-race")
    item = session.next()
    assert item is not None
    summaries = [parse_summary(_summary("interval", keys=k)) for k in range(20)]

    def write(_: int) -> int:
        other = proj.session("tele-race")  # a second kernel retrying the same batch
        return other.record_telemetry(summaries, item)

    with ThreadPoolExecutor(4) as pool:
        written = list(pool.map(write, range(4)))
    assert sum(written) == 20
    assert proj.telemetry()["keys"].sum() == sum(range(20))


def test_a_telemetry_failure_loses_no_annotation_and_is_retried(
    workspace: al.Workspace,
) -> None:
    proj = _project(workspace, ["good", "bad"])
    loop = proj.annotate("tele-fail")
    widget = loop.widget
    assert isinstance(widget, Classify)
    # A real refusal from Postgres for this project's rows only (other tests share the table).
    guard = f"refuse_telemetry_{uuid.uuid4().hex[:8]}"
    with workspace.engine.begin() as conn:
        conn.execute(
            sa.text(
                f"CREATE FUNCTION {guard}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                f"IF NEW.project_id = {proj.id} THEN RAISE EXCEPTION 'telemetry is down'; "
                "END IF; RETURN NEW; END $$"
            )
        )
        conn.execute(
            sa.text(
                f"CREATE TRIGGER {guard} BEFORE INSERT ON telemetry "
                f"FOR EACH ROW EXECUTE FUNCTION {guard}()"
            )
        )
    try:
        widget.value = "pos"
        lost = _summary("submit", undos=2)
        _send(widget, lost)
        widget.submit_count += 1
        assert widget.error == ""  # the annotator sees nothing of it
        assert proj.annotations().select("external_id", "status").rows() == [("t0", "submitted")]
        assert loop.widget is not widget  # the loop moved on
        assert proj.telemetry().height == 0
    finally:
        with workspace.engine.begin() as conn:
            conn.execute(sa.text(f"DROP TRIGGER {guard} ON telemetry"))
            conn.execute(sa.text(f"DROP FUNCTION {guard}()"))
    # The next batch carries the refused one, still tied to t0.
    assert isinstance(loop.widget, Classify)
    loop.widget.value = "neg"
    _send(loop.widget, _summary("submit", undos=1))
    loop.widget.submit_count += 1
    stored = proj.telemetry().sort("task")
    assert stored.select("task", "undos").rows() == [("t0", 2), ("t1", 1)]
    assert lost["batch_id"] in stored["batch_id"].to_list()


def test_a_reviewers_revision_stores_its_telemetry_at_the_review_step(
    workspace: al.Workspace,
) -> None:
    from tests.test_review_loop import _reviewed

    proj = _reviewed(workspace, ["pos"])
    loop = proj.annotate(f"{proj.name}-rev")
    assert loop.panel is not None
    loop.panel.bar.press("revise")  # type: ignore[union-attr]
    widget = loop.widget
    assert isinstance(widget, Classify)
    widget.value = "neg"
    _send(widget, _summary("submit", edits=1, undos=1))
    widget.submit_count += 1
    rows = proj.telemetry()
    assert rows.select("user", "task", "step", "edits", "undos").rows() == [
        (f"{proj.name}-rev", "t0", "review", 1, 1)
    ]
