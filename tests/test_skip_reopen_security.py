"""Taking up a skipped task again on a team server, as an annotator's own login role.

A skip is "not now": the annotator may reactivate their own skipped assignment (through the
client, or the same UPDATE typed as raw SQL, which is no more than the client does), but a
lead's release stays final, and nobody reactivates someone else's assignment.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import polars as pl
import psycopg
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.errors import AssignmentError
from annolab.store.roles import add_member, create_login, setup_team_roles

pytestmark = pytest.mark.db


@dataclass(frozen=True)
class Team:
    url: str  # the owner's
    names: dict[str, str]  # short name -> login role

    def login(self, who: str) -> str:
        return (
            sa.make_url(self.url)
            .set(username=self.names[who])
            .render_as_string(hide_password=False)
        )

    def libpq(self, who: str) -> str:
        url = sa.make_url(self.login(who)).set(drivername="postgresql")
        return url.render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def team(db_url: str) -> Iterator[Team]:
    name = f"annolab_skip_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(db_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(db_url).set(database=name).render_as_string(hide_password=False)
    suffix = uuid.uuid4().hex[:6]
    names = {p: f"{p}_{suffix}" for p in ("alice", "bob", "carol")}
    try:
        with al.connect(url, user="owner") as owner:
            setup_team_roles(owner.engine)
            for who, login in names.items():
                create_login(owner.engine, login, lead=who == "carol")
            owner.set_roles(names["carol"], ["annotator", "team_lead"])
            proj = owner.create_project(
                "later", labels=["pos", "neg"], layout="classify", workflow=al.workflows.single()
            )
            ids = ["g1", "g2", "g3", "g4"]
            proj.add_tasks(pl.DataFrame({"id": ids, "text": ["fine"] * 4}), id="id")
            with owner.engine.begin() as conn:
                for who in ("alice", "bob"):
                    add_member(conn, project="later", user=names[who])
        yield Team(url, names)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _assignment(conn: psycopg.Connection[tuple[int, str]], task: str, user: str) -> int:
    row = conn.execute(
        "SELECT a.id FROM assignments a JOIN tasks t ON t.id = a.task_id "
        "JOIN users u ON u.id = a.user_id WHERE t.external_id = %s AND u.name = %s",
        (task, user),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_skip_then_reopen_then_submit_as_login_roles(team: Team) -> None:
    alice = team.names["alice"]
    with al.connect(team.login("alice"), user=alice) as ws:
        session = ws.project("later").session()
        first = session.next()
        assert first is not None and first.external_id == "g1"
        session.skip()
        assert session.skipped() == ["g1"]
        assert session.queue().total == 4  # g1 is still in her queue
        item = session.reopen("g1")
        assert item.external_id == "g1"
        session.submit({"kind": "choice", "label": "pos"})
        assert session.skipped() == []
        assert session.queue().done == 1
    with psycopg.connect(team.libpq("alice")) as conn:
        status = conn.execute(
            "SELECT a.status::text FROM assignments a WHERE a.id = %s",
            (_assignment(conn, "g1", alice),),
        ).fetchone()
    assert status == ("submitted",)


def test_a_leads_release_stays_final(team: Team) -> None:
    alice, carol = team.names["alice"], team.names["carol"]
    with al.connect(team.login("alice"), user=alice) as ws:
        session = ws.project("later").session()
        held = session.next()
        assert held is not None and held.external_id == "g2"
    with al.connect(team.login("carol"), user=carol) as lead:
        lead.project("later").evict("g2", alice, reason="test: taken away")
    refused = pytest.raises(AssignmentError, match=r"task='g2' is not open to you again")
    with al.connect(team.login("alice"), user=alice) as ws, refused:
        ws.project("later").session().reopen("g2")
    with psycopg.connect(team.libpq("alice")) as conn:
        released = _assignment(conn, "g2", alice)
        with pytest.raises(psycopg.Error, match=r"is released: it is not taken up again"):
            conn.execute("UPDATE assignments SET status = 'active' WHERE id = %s", (released,))
        conn.rollback()


def test_nobody_reactivates_another_annotators_skip(team: Team) -> None:
    bob = team.names["bob"]
    with al.connect(team.login("bob"), user=bob) as ws:
        session = ws.project("later").session()
        item = session.next()
        assert item is not None
        session.skip()
        skipped = item.external_id
    with psycopg.connect(team.libpq("alice")) as conn:
        theirs = conn.execute(
            "SELECT a.id FROM assignments a JOIN tasks t ON t.id = a.task_id "
            "WHERE t.external_id = %s AND a.status = 'skipped'",
            (skipped,),
        ).fetchone()
        assert theirs is not None
        with pytest.raises(psycopg.Error, match=r"belongs to another user: only a lead"):
            conn.execute("UPDATE assignments SET status = 'active' WHERE id = %s", theirs)
        conn.rollback()
    refused = pytest.raises(AssignmentError, match=rf"task='{skipped}' is not open to you again")
    with al.connect(team.login("alice"), user=team.names["alice"]) as ws, refused:
        ws.project("later").session().reopen(skipped)
