"""Telemetry on a team server, against raw SQL: an annotator writes rows only under their own
user id and reads only their own; nobody but the owner changes or deletes one; leads read all.

One database for the module, set up as ``docs/team-server.md`` says. Alice and dave annotate
project p and store their telemetry through the client as their own login roles; carol is a
lead. Each attack runs as alice in a transaction that is rolled back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl
import psycopg
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.store.roles import add_member, create_login, setup_team_roles
from annolab.widgets._telemetry import parse_summary
from tests.conftest import scratch_database
from tests.test_team_security import _as, _libpq

pytestmark = pytest.mark.db


@dataclass(frozen=True)
class World:
    url: str
    names: dict[str, str]
    ids: dict[str, int]
    tasks: dict[str, int]
    project: int
    other_project: int
    dave_batch: str

    def login(self, who: str) -> str:
        return _as(self.url, self.names[who])


@pytest.fixture(scope="module")
def world(db_url: str) -> Iterator[World]:
    with scratch_database(db_url, "annolab_tele") as url:
        yield _build(url)


def _summary(keys: int) -> dict[str, Any]:
    return {
        "batch_id": str(uuid.uuid4()),
        "widget": "classify",
        "reason": "submit",
        "active_ms": 1000,
        "idle_ms": 0,
        "keys": keys,
        "pointer": 1,
        "edits": 1,
        "undos": 0,
        "redos": 0,
    }


def _build(url: str) -> World:
    suffix = uuid.uuid4().hex[:6]
    names = {p: f"{p}_{suffix}" for p in ("alice", "dave", "carol")}
    with al.connect(url, user="owner") as owner:
        setup_team_roles(owner.engine)
        for who, login in names.items():
            create_login(owner.engine, login, lead=who == "carol")
        for project, ids in {"p": ["p1", "p2"], "q": ["q1"]}.items():
            proj = owner.create_project(project, labels=["pos", "neg"], layout="classify")
            proj.add_tasks(pl.DataFrame({"id": ids, "text": ["fine"] * len(ids)}), id="id")
        with owner.engine.begin() as conn:
            for who in ("alice", "dave"):
                add_member(conn, project="p", user=names[who])

    batches: dict[str, str] = {}
    for who, keys in (("alice", 7), ("dave", 11)):
        with al.connect(_as(url, names[who]), user=names[who]) as ws:
            session = ws.project("p").session()
            item = session.next()
            assert item is not None
            summary = _summary(keys)
            # Through the client, as the loop does it, under the annotator's own login.
            assert session.record_telemetry([parse_summary(summary)], item) == 1
            batches[who] = summary["batch_id"]

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        users = {r[0]: r[1] for r in conn.execute(sa.text("SELECT name, id FROM users"))}
        tasks = {r[0]: r[1] for r in conn.execute(sa.text("SELECT external_id, id FROM tasks"))}
        projects = {r[0]: r[1] for r in conn.execute(sa.text("SELECT name, id FROM projects"))}
        conn.execute(sa.text("ANALYZE telemetry"))
    engine.dispose()
    return World(
        url=url,
        names=names,
        ids={who: users[login] for who, login in names.items() if login in users},
        tasks=tasks,
        project=projects["p"],
        other_project=projects["q"],
        dave_batch=batches["dave"],
    )


Attack = Callable[[psycopg.Connection[Any], World], Any]


def _sql(statement: str) -> Attack:
    def attack(conn: psycopg.Connection[Any], w: World) -> list[Any]:
        cur = conn.execute(statement.format(**_names(w)))
        return cur.fetchall() if cur.description else []

    return attack


def _names(w: World) -> dict[str, Any]:
    return {
        "alice": w.ids["alice"],
        "dave": w.ids["dave"],
        "p1": w.tasks["p1"],
        "q1": w.tasks["q1"],
        "p": w.project,
        "q": w.other_project,
        "dave_batch": w.dave_batch,
        "new": uuid.uuid4(),
    }


_RLS = 'new row violates row-level security policy for table "telemetry"'
_DENIED = "permission denied for table telemetry"
_ROW = (
    "INSERT INTO telemetry (batch_id, user_id, project_id, task_id, step, widget, reason, "
    "active_ms, idle_ms, keys, pointer, edits, undos, redos) VALUES "
)

# name -> "empty" (runs and reads or changes nothing) or the refusal's pattern, and the attack
ANNOTATOR_ATTACKS: dict[str, tuple[str, Attack]] = {
    "read another annotator's rows": (
        "empty",
        _sql("SELECT keys FROM telemetry WHERE user_id = {dave}"),
    ),
    "read another's row by its batch id": (
        "empty",
        _sql("SELECT keys FROM telemetry WHERE batch_id = '{dave_batch}'"),
    ),
    "column statistics of everyone's counts": (
        "empty",
        _sql(
            "SELECT most_common_vals::text FROM pg_stats "
            "WHERE tablename = 'telemetry' AND attname = 'keys'"
        ),
    ),
    "forge a row in another annotator's name": (
        _RLS,
        _sql(
            _ROW
            + "('{new}', {dave}, {p}, {p1}, 'annotate', 'ner', 'submit', 0, 0, 999, 0, 0, 0, 0)"
        ),
    ),
    "write own row on a project one is not a member of": (
        _RLS,
        _sql(
            _ROW + "('{new}', {alice}, {q}, {q1}, 'annotate', 'ner', 'submit', 0, 0, 1, 0, 0, 0, 0)"
        ),
    ),
    "write own row claiming a task of another project": (
        _RLS,
        _sql(
            _ROW + "('{new}', {alice}, {p}, {q1}, 'annotate', 'ner', 'submit', 0, 0, 1, 0, 0, 0, 0)"
        ),
    ),
    "change one's own row": (_DENIED, _sql("UPDATE telemetry SET undos = 0")),
    "change another's row": (
        _DENIED,
        _sql("UPDATE telemetry SET keys = 0 WHERE user_id = {dave}"),
    ),
    "delete rows": (_DENIED, _sql("DELETE FROM telemetry")),
    "truncate the table": (_DENIED, _sql("TRUNCATE telemetry")),
}


@pytest.mark.parametrize("name", sorted(ANNOTATOR_ATTACKS))
def test_an_annotator_can_not_forge_or_read_others_telemetry(world: World, name: str) -> None:
    expect, attack = ANNOTATOR_ATTACKS[name]
    with psycopg.connect(_libpq(world.login("alice"))) as conn:
        try:
            if expect == "empty":
                assert attack(conn, world) in ([], None)
            else:
                with pytest.raises(psycopg.Error, match=expect):
                    attack(conn, world)
        finally:
            conn.rollback()


def test_an_annotator_reads_and_copies_only_their_own(world: World) -> None:
    with psycopg.connect(_libpq(world.login("alice"))) as conn:
        rows = conn.execute("SELECT user_id, keys FROM telemetry").fetchall()
        with conn.cursor().copy("COPY telemetry (user_id, keys) TO STDOUT") as copy:
            copied = b"".join(bytes(block) for block in copy).decode()
    assert rows == [(world.ids["alice"], 7)]
    assert copied == f"{world.ids['alice']}\t7\n"


def test_the_client_shows_an_annotator_their_own_and_a_lead_everyones(world: World) -> None:
    with al.connect(world.login("alice"), user=world.names["alice"]) as ws:
        mine = ws.project("p").telemetry()
    assert mine.select("user", "task", "keys").rows() == [(world.names["alice"], "p1", 7)]
    with al.connect(world.login("carol"), user=world.names["carol"]) as ws:
        everyone = ws.project("p").telemetry().sort("keys")
    assert everyone.select("user", "keys").rows() == [
        (world.names["alice"], 7),
        (world.names["dave"], 11),
    ]


def test_a_retried_batch_under_ones_own_login_adds_nothing(world: World) -> None:
    with al.connect(world.login("dave"), user=world.names["dave"]) as ws:
        session = ws.project("p").session()
        item = session.next()
        assert item is not None
        again = _summary(11) | {"batch_id": world.dave_batch}
        assert session.record_telemetry([parse_summary(again)], item) == 0
    with al.connect(world.login("carol"), user=world.names["carol"]) as ws:
        assert ws.project("p").telemetry(user=world.names["dave"]).height == 1
