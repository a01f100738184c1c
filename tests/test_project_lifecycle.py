"""Archiving, restoring and deleting a project: admins only, each step an event, and the event
log kept after a delete."""

from __future__ import annotations

import json

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.errors import AssignmentError, StoreError, ValidationError
from annolab.store.projects import list_projects

pytestmark = pytest.mark.db


@pytest.fixture
def filled(project: al.Project) -> al.Project:
    project.add_tasks(pl.DataFrame({"id": ["a", "b"], "text": ["Ada ran", "Bob sat"]}), id="id")
    project.add_annotation(
        "a", {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "person"}]}
    )
    project.add_annotation("b", {"kind": "spans", "spans": []}, user="bob")
    return project


def actions(project: al.Project) -> list[tuple[str, str, str]]:
    events = project.events(actions=["project.archived", "project.restored"])
    return [
        (a, json.loads(b)["status"], json.loads(c)["status"])
        for a, b, c in events.select("action", "before", "after").rows()
    ]


def listed(workspace: al.Workspace, project: al.Project, **options: bool) -> bool:
    return project.name in workspace.projects(**options)["name"].to_list()


def test_archive_hides_the_project_and_restore_brings_it_back(
    workspace: al.Workspace, filled: al.Project
) -> None:
    filled.set_status("paused")
    filled.archive()
    filled.archive()  # a second run changes nothing and logs nothing
    assert filled.status.value == "archived"
    assert not listed(workspace, filled)
    assert listed(workspace, filled, archived=True)
    with pytest.raises(AssignmentError, match=r"is archived: no task can be"):
        filled.session("carl").next()
    with workspace.engine.begin() as conn:  # what the JupyterLab queue tab lists
        assert filled.name not in [r.name for r in list_projects(conn)]
        assert filled.name in [r.name for r in list_projects(conn, archived=True)]
    assert filled.annotations().height == 2  # nothing lost
    filled.restore()
    assert workspace.project(filled.name).status.value == "paused"  # the status it had
    assert listed(workspace, filled)
    assert actions(filled) == [
        ("project.archived", "paused", "archived"),
        ("project.restored", "archived", "paused"),
    ]


def test_delete_removes_tasks_and_answers_and_keeps_the_event_log(
    workspace: al.Workspace, filled: al.Project
) -> None:
    with pytest.raises(ValidationError, match=r"confirm='nope' must be the project's name"):
        filled.delete(confirm="nope")
    assert filled.tasks().height == 2
    submitted = filled.events(actions="annotation.*").height
    assert filled.delete(confirm=filled.name) == {"tasks": 2, "annotations": 2}
    assert (filled.tasks().height, filled.annotations().height) == (0, 0)
    assert filled.events(actions="annotation.*").height == submitted == 2
    (deleted,) = filled.events(actions="project.deleted")["before"].to_list()
    assert json.loads(deleted) == {"status": "active", "tasks": 2, "annotations": 2}
    assert not listed(workspace, filled)
    with pytest.raises(StoreError, match=r"was deleted: its tasks and answers are gone"):
        filled.restore()
    with workspace.engine.begin() as conn:
        left = conn.execute(
            sa.text("SELECT count(*) FROM tasks WHERE project_id = :p"), {"p": filled.id}
        ).scalar_one()
    assert left == 0


def test_only_admins_archive_or_delete(db_url: str, filled: al.Project) -> None:
    with al.connect(db_url, user="mallory") as other:
        theirs = other.project(filled.name)
        with pytest.raises(AssignmentError, match="Requires role: project_admin or team_lead"):
            theirs.archive()
        with pytest.raises(AssignmentError, match="Requires role: project_admin or team_lead"):
            theirs.delete(confirm=filled.name)
        other.set_roles("mallory", ["annotator", "project_admin"])
        theirs.archive()
    assert filled.events(actions="project.archived")["actor"].to_list() == ["mallory"]
