"""Archive and delete on a team server, against raw SQL: an annotator can neither archive nor
delete a project, nor forge the events that say so; a lead deletes a project's tasks through
the one function that may, and the event log stays.

One database for the module, set up as ``docs/team-server.md`` says. Alice annotates project p;
carol is a lead. Each attack runs as alice in a transaction that is rolled back.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
import psycopg
import pytest

import annolab as al
from annolab.errors import AssignmentError
from annolab.store.roles import add_member, create_login, setup_team_roles
from tests.conftest import scratch_database
from tests.test_team_security import _as, _libpq

pytestmark = pytest.mark.db


@dataclass(frozen=True)
class World:
    url: str
    names: dict[str, str]
    projects: dict[str, int]

    def login(self, who: str) -> str:
        return _as(self.url, self.names[who])


@pytest.fixture(scope="module")
def world(db_url: str) -> Iterator[World]:
    with scratch_database(db_url, "annolab_life") as url:
        yield _build(url)


def _build(url: str) -> World:
    suffix = uuid.uuid4().hex[:6]
    names = {p: f"{p}_{suffix}" for p in ("alice", "carol")}
    with al.connect(url, user="owner") as owner:
        setup_team_roles(owner.engine)
        for who, login in names.items():
            create_login(owner.engine, login, lead=who == "carol")
        owner.set_roles(names["carol"], ["annotator", "team_lead"])
        for project in ("p", "gone"):
            proj = owner.create_project(project, labels=["pos", "neg"], layout="classify")
            proj.add_tasks(pl.DataFrame({"id": ["t1", "t2"], "text": ["fine"] * 2}), id="id")
            with owner.engine.begin() as conn:
                add_member(conn, project=project, user=names["alice"])
        ids = dict(owner.projects(archived=True).select("name", "project_id").iter_rows())
    for project in ("p", "gone"):
        with al.connect(_as(url, names["alice"]), user=names["alice"]) as ws:
            session = ws.project(project).session()
            session.next()
            session.submit({"kind": "choice", "label": "pos"})
    return World(url=url, names=names, projects=ids)


# name -> the refusal's pattern, and the statement alice runs
ATTACKS: dict[str, tuple[str, str]] = {
    "archive the project": (
        "permission denied for table projects",
        "UPDATE projects SET status = 'archived' WHERE id = {p}",
    ),
    "delete the project": ("permission denied for table projects", "DELETE FROM projects"),
    "delete its tasks": ("permission denied for table tasks", "DELETE FROM tasks"),
    "delete its annotations": (
        "permission denied for table annotations",
        "DELETE FROM annotations",
    ),
    "delete its assignments": (
        "permission denied for table assignments",
        "DELETE FROM assignments",
    ),
    "truncate the tasks": ("permission denied for table tasks", "TRUNCATE tasks CASCADE"),
    "call the leads' delete function": (
        "permission denied for function annolab_delete_project_tasks",
        "SELECT public.annolab_delete_project_tasks({p})",
    ),
    "forge an archive event": (
        'new row violates row-level security policy for table "events"',
        "INSERT INTO events (actor, action, entity, entity_id, project_id, before, after) "
        "VALUES (session_user, 'project.archived', 'project', '{p}', {p}, "
        """'{{"status": "active"}}', '{{"status": "archived"}}')""",
    ),
    "erase the event log": ("events are append-only|permission denied", "DELETE FROM events"),
}


@pytest.mark.parametrize("name", sorted(ATTACKS))
def test_an_annotator_can_neither_archive_nor_delete(world: World, name: str) -> None:
    expect, statement = ATTACKS[name]
    with psycopg.connect(_libpq(world.login("alice"))) as conn:
        try:
            with pytest.raises(psycopg.Error, match=expect):
                conn.execute(statement.format(p=world.projects["p"]))
        finally:
            conn.rollback()
    with psycopg.connect(_libpq(world.url)) as conn:
        tasks = conn.execute(
            "SELECT count(*) FROM tasks WHERE project_id = %s", (world.projects["p"],)
        ).fetchone()
    assert tasks == (2,)


def test_the_client_refuses_an_annotator_too(world: World) -> None:
    with al.connect(world.login("alice"), user=world.names["alice"]) as ws:
        proj = ws.project("p")
        with pytest.raises(AssignmentError, match="Requires role: project_admin or team_lead"):
            proj.archive()
        with pytest.raises(AssignmentError, match="Requires role: project_admin or team_lead"):
            proj.delete(confirm="p")


def test_a_lead_archives_and_deletes_and_the_event_log_stays(world: World) -> None:
    with al.connect(world.login("carol"), user=world.names["carol"]) as ws:
        proj = ws.project("gone")
        proj.archive()
        assert "gone" not in ws.projects()["name"].to_list()
        proj.restore()
        assert proj.delete(confirm="gone") == {"tasks": 2, "annotations": 1}
        assert (proj.tasks().height, proj.annotations().height) == (0, 0)
        kept = proj.events()
    assert {"annotation.submitted", "project.archived", "project.restored"} <= set(kept["action"])
    (deleted,) = kept.filter(pl.col("action") == "project.deleted").rows(named=True)
    assert deleted["actor"] == world.names["carol"]
    assert json.loads(deleted["before"])["annotations"] == 1
