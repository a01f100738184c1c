"""Live updates: events reach a listener after commit, never on rollback, never twice."""

from __future__ import annotations

import polars as pl
import psycopg
import sqlalchemy as sa

import annolab as al
from annolab.store.events import record_event


def test_a_listener_hears_a_committed_change(project: al.Project) -> None:
    with project.watch(timeout=5.0, stop_after=2) as changes:
        project.add_tasks(pl.DataFrame({"text": ["hello"]}))
        project.add_annotation(project.tasks()["external_id"][0], {"kind": "spans", "spans": []})
        heard = [(e["action"], e["project_id"]) for e in changes]
    assert heard == [("tasks.added", project.id), ("annotation.submitted", project.id)]


def test_a_rolled_back_change_is_never_heard(workspace: al.Workspace, project: al.Project) -> None:
    with project.watch(timeout=1.0) as changes:
        with workspace.engine.connect() as conn, conn.begin() as tx:
            record_event(
                conn, actor="t", action="never", entity="x", entity_id=1, project_id=project.id
            )
            tx.rollback()
        assert list(changes) == []


def test_other_projects_are_not_heard(workspace: al.Workspace, project: al.Project) -> None:
    other = workspace.create_project(project.name + "-other", labels=["x"])
    with project.watch(timeout=1.0) as changes:
        other.add_tasks(pl.DataFrame({"text": ["elsewhere"]}))
        assert list(changes) == []


def _event(conn: sa.Connection, project: al.Project, action: str) -> None:
    record_event(conn, actor="t", action=action, entity="x", entity_id=1, project_id=project.id)


def test_a_later_commit_waits_for_an_earlier_transaction(
    workspace: al.Workspace, project: al.Project
) -> None:
    """Transaction ids are handed out at the start: the event of a transaction that started
    first and commits last is still heard, and first, rather than slipping behind a mark."""
    with project.watch(timeout=0.5) as changes:
        with workspace.engine.connect() as early:
            early.begin()
            _event(early, project, "early")
            early.execute(sa.text("SELECT 1"))  # the held-back INSERT goes out now
            with workspace.engine.begin() as late:
                _event(late, project, "late")
            assert changes.poll() == []  # "late" is held back while "early" may still commit
            early.commit()
        assert [e["action"] for e in changes.poll()] == ["early", "late"]


def test_what_committed_before_the_listener_is_not_heard(
    workspace: al.Workspace, project: al.Project
) -> None:
    """Even when a transaction older than the listener is still open (so the listener's mark
    lies behind what already committed), only what commits after it was made is heard."""
    with workspace.engine.connect() as open_one:
        open_one.begin()
        _event(open_one, project, "open")
        open_one.execute(sa.text("SELECT 1"))
        with workspace.engine.begin() as conn:
            _event(conn, project, "before")
        with project.watch(timeout=0.5) as changes:
            open_one.commit()
            assert [e["action"] for e in changes.poll()] == ["open"]


def test_events_carry_what_the_notification_did(project: al.Project) -> None:
    with project.watch(timeout=5.0, stop_after=1) as changes:
        project.add_tasks(pl.DataFrame({"text": ["one"]}))
        (event,) = list(changes)
    assert set(event) == {"id", "project_id", "action", "entity", "entity_id"}
    assert (event["project_id"], event["action"], event["entity"]) == (
        project.id,
        "tasks.added",
        "project",
    )


def test_no_event_notifies(workspace: al.Workspace, project: al.Project, db_url: str) -> None:
    """A NOTIFY would serialize every commit behind one database-wide lock (migration 0013)."""
    with psycopg.connect(
        sa.make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False),
        autocommit=True,
    ) as conn:
        conn.execute("LISTEN annolab_events")
        project.add_tasks(pl.DataFrame({"text": ["quiet"]}))
        conn.execute("SELECT 1")
        assert list(conn.notifies(timeout=0.5, stop_after=1)) == []
        triggers = conn.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'events'::regclass "
            "AND NOT tgisinternal ORDER BY tgname"
        ).fetchall()
    assert [t[0] for t in triggers] == [
        "events_append_only",
        "events_no_truncate",
        "events_webhooks",
    ]
