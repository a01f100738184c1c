"""Live updates: events reach a listener after commit, never on rollback."""

from __future__ import annotations

import polars as pl

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
