"""Gold on a team server, against raw SQL: an annotator reads none of the answer key and writes
none of it; a curator (reviewer) works through the client and forges nothing.

One database for the module, set up as ``docs/team-server.md`` says. Rita (annotator and
reviewer) curates gold through the client as her own login role; alice and dave are plain
annotators; bob is a reviewer who is no member of the project. Each attack runs in a
transaction that is rolled back.
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
from annolab.gold import Conflict, GoldEntry
from annolab.store.roles import add_member, create_login, setup_team_roles
from tests.conftest import scratch_database
from tests.test_team_security import _as, _libpq

pytestmark = pytest.mark.db

POS = {"kind": "choice", "label": "pos"}
NEG = {"kind": "choice", "label": "neg"}


@dataclass(frozen=True)
class World:
    url: str
    names: dict[str, str]
    ids: dict[str, int]
    tasks: dict[str, int]
    project: int
    gold_set: int
    open_version: int  # version 2, open
    frozen_version: int  # version 1
    conflict: int  # an open conflict on g2

    def login(self, who: str) -> str:
        return _as(self.url, self.names[who])


@pytest.fixture(scope="module")
def world(db_url: str) -> Iterator[World]:
    with scratch_database(db_url, "annolab_gold") as url:
        yield _build(url)


def _build(url: str) -> World:
    suffix = uuid.uuid4().hex[:6]
    names = {p: f"{p}_{suffix}" for p in ("alice", "dave", "rita", "bob", "carol")}
    with al.connect(url, user="owner") as owner:
        setup_team_roles(owner.engine)
        for who, login in names.items():
            create_login(owner.engine, login, lead=who == "carol")
        owner.set_roles(names["rita"], ["annotator", "reviewer"])
        owner.set_roles(names["bob"], ["annotator", "reviewer"])
        owner.set_roles(names["carol"], ["annotator", "team_lead"])
        for project, ids in {"g": ["g1", "g2", "g3"], "h": ["h1"]}.items():
            proj = owner.create_project(
                project,
                labels=["pos", "neg"],
                layout="classify",
                workflow=al.workflows.vote(annotators=2),
            )
            proj.add_tasks(pl.DataFrame({"id": ids, "text": ["fine"] * len(ids)}), id="id")
        with owner.engine.begin() as conn:
            for who in ("alice", "dave", "rita"):
                add_member(conn, project="g", user=names[who])
            add_member(conn, project="h", user=names["rita"])
            add_member(conn, project="h", user=names["bob"])

    def answer(who: str, label: str) -> uuid.UUID:
        with al.connect(_as(url, names[who]), user=names[who]) as ws:
            session = ws.project("g").session()
            assert session.next() is not None
            return session.submit({"kind": "choice", "label": label})

    answer("alice", "pos")  # g1
    answer("dave", "pos")  # g1: agreed, a consensus stored
    answer("alice", "pos")  # g2
    dave_g2 = answer("dave", "neg")  # g2: disagreed

    # Rita curates through the client, as her own login role.
    with al.connect(_as(url, names["rita"]), user=names["rita"]) as ws:
        gold = ws.project("g").gold
        assert isinstance(gold.promote("g1", category="true_positive"), GoldEntry)
        alice_g2 = (
            ws.project("g")
            .annotations()
            .filter((pl.col("external_id") == "g2") & (pl.col("payload").str.contains("pos")))
        )
        assert isinstance(
            gold.promote("g2", from_=alice_g2["annotation_id"][0], category="edge_case"),
            GoldEntry,
        )
        assert gold.freeze(note="v1") == 1
        conflict = gold.promote("g2", from_=dave_g2, category="edge_case")
        assert isinstance(conflict, Conflict)
        first = gold.promote("g2", from_=dave_g2, category="edge_case")
        assert isinstance(first, Conflict)
        rejected = gold.resolve(conflict.id, accept=True, reason="dave is right")
        assert rejected is not None
        assert rejected.version == 2
        again = gold.promote("g2", from_=alice_g2["annotation_id"][0], category="edge_case")
        assert isinstance(again, Conflict)

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        users = {r[0]: r[1] for r in conn.execute(sa.text("SELECT name, id FROM users"))}
        tasks = {r[0]: r[1] for r in conn.execute(sa.text("SELECT external_id, id FROM tasks"))}
        project = conn.execute(sa.text("SELECT id FROM projects WHERE name = 'g'")).scalar_one()
        versions = {
            r[0]: r[1] for r in conn.execute(sa.text("SELECT version, id FROM gold_versions"))
        }
        gold_set = conn.execute(sa.text("SELECT id FROM gold_sets")).scalar_one()
        conn.execute(sa.text("ANALYZE gold_entries"))
    engine.dispose()
    return World(
        url=url,
        names=names,
        ids={who: users[login] for who, login in names.items()},
        tasks=tasks,
        project=project,
        gold_set=gold_set,
        open_version=versions[2],
        frozen_version=versions[1],
        conflict=again.id,
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
        "carol": w.ids["carol"],
        "g1": w.tasks["g1"],
        "g3": w.tasks["g3"],
        "h1": w.tasks["h1"],
        "project": w.project,
        "set": w.gold_set,
        "open": w.open_version,
        "frozen": w.frozen_version,
        "conflict": w.conflict,
    }


def _copy_out(conn: psycopg.Connection[Any], w: World) -> list[str]:
    with conn.cursor().copy("COPY gold_entries (payload) TO STDOUT") as copy:
        return [bytes(block).decode() for block in copy]


_RLS = 'new row violates row-level security policy for table "{}"'

# name -> "empty" (runs and reads or changes nothing) or the refusal's pattern, and the attack
ANNOTATOR_ATTACKS: dict[str, tuple[str, Attack]] = {
    "read the gold entries": ("empty", _sql("SELECT payload FROM gold_entries")),
    "read the gold versions": ("empty", _sql("SELECT id FROM gold_versions")),
    "read the gold sets": ("empty", _sql("SELECT id FROM gold_sets")),
    "read the conflict queue": ("empty", _sql("SELECT proposed FROM gold_conflicts")),
    "read gold events (they carry the answers)": (
        "empty",
        _sql("SELECT after FROM events WHERE action LIKE 'gold.%'"),
    ),
    "copy the gold entries out": ("empty", _copy_out),
    "column statistics of the gold answers": (
        "empty",
        _sql(
            "SELECT most_common_vals::text FROM pg_stats "
            "WHERE tablename = 'gold_entries' AND attname = 'payload'"
        ),
    ),
    "rewrite a gold answer": (
        "empty",
        _sql("UPDATE gold_entries SET payload = '{{}}' RETURNING id"),
    ),
    "unfreeze a version": (
        "empty",
        _sql("UPDATE gold_versions SET frozen = false RETURNING id"),
    ),
    "resolve a conflict": (
        "empty",
        _sql(
            "UPDATE gold_conflicts SET status = 'accepted', resolved_by = {alice}, "
            "reason = 'mine' RETURNING id"
        ),
    ),
    "make a gold set": (
        _RLS.format("gold_sets"),
        _sql(
            "INSERT INTO gold_sets (project_id, name, created_by) "
            "VALUES ({project}, 'alice', {alice})"
        ),
    ),
    "add a gold entry": (
        _RLS.format("gold_entries"),
        _sql(
            "INSERT INTO gold_entries (gold_version_id, task_id, payload, category, source) "
            'VALUES ({open}, {g3}, \'{{"kind": "choice", "label": "pos"}}\', '
            "'edge_case', 'annotation')"
        ),
    ),
    "queue a conflict": (
        _RLS.format("gold_conflicts"),
        _sql(
            "INSERT INTO gold_conflicts (gold_set_id, task_id, proposed, proposed_by, "
            "source, category) VALUES ({set}, {g1}, '{{}}', {alice}, 'annotation', 'edge_case')"
        ),
    ),
    "record a gold event": (
        _RLS.format("events"),
        _sql(
            "INSERT INTO events (actor, action, entity, entity_id, project_id) "
            "VALUES (session_user, 'gold.promoted', 'gold_entry', '1', {project})"
        ),
    ),
    "delete the gold": (
        r"permission denied for table gold_entries",
        _sql("DELETE FROM gold_entries"),
    ),
    "read the gold after SET ROLE": (
        "empty",
        _sql("SET ROLE annolab_annotator; SELECT payload FROM gold_entries"),
    ),
    "ask whether she is a curator": (
        "empty",
        _sql("SELECT 1 WHERE public.annolab_gold_curator({project})"),
    ),
}


@pytest.mark.parametrize("name", list(ANNOTATOR_ATTACKS))
def test_an_annotator_can_not_touch_gold(world: World, name: str) -> None:
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


def test_a_reviewer_outside_the_project_reads_none_of_its_gold(world: World) -> None:
    with psycopg.connect(_libpq(world.login("bob"))) as conn:
        assert conn.execute("SELECT payload FROM gold_entries").fetchall() == []
        assert conn.execute("SELECT id FROM gold_conflicts").fetchall() == []


CURATOR_ATTACKS: dict[str, tuple[str, Attack]] = {
    "change an entry of the frozen version": (
        r"belongs to a frozen gold version",
        _sql("UPDATE gold_entries SET payload = '{{}}' WHERE gold_version_id = {frozen}"),
    ),
    "unfreeze the frozen version": (
        r"is frozen and can not change",
        _sql("UPDATE gold_versions SET frozen = false WHERE id = {frozen}"),
    ),
    "resolve a conflict in the lead's name": (
        _RLS.format("gold_conflicts"),
        _sql(
            "UPDATE gold_conflicts SET status = 'accepted', resolved_by = {carol}, "
            "reason = 'carol said so' WHERE id = {conflict}"
        ),
    ),
    "queue a conflict in another's name": (
        _RLS.format("gold_conflicts"),
        _sql(
            "INSERT INTO gold_conflicts (gold_set_id, task_id, proposed, proposed_by, "
            "source, category) SELECT gold_set_id, {g1}, '{{}}', {alice}, 'annotation', "
            "'edge_case' FROM gold_versions WHERE id = {open}"
        ),
    ),
    "add another project's task to the gold": (
        r"task \d+ is not a task of the gold set's project",
        _sql(
            "INSERT INTO gold_entries (gold_version_id, task_id, payload, category, source) "
            "VALUES ({open}, {h1}, '{{}}', 'edge_case', 'annotation')"
        ),
    ),
    "delete a frozen version": (
        r"permission denied for table gold_versions",
        _sql("DELETE FROM gold_versions WHERE id = {frozen}"),
    ),
    "record a gold event as the lead": (
        _RLS.format("events"),
        _sql(
            "INSERT INTO events (actor, action, entity, entity_id, project_id) "
            "SELECT name, 'gold.frozen', 'gold_version', '1', {project} FROM users "
            "WHERE id = {carol}"
        ),
    ),
}


@pytest.mark.parametrize("name", list(CURATOR_ATTACKS))
def test_a_curator_forges_nothing(world: World, name: str) -> None:
    expect, attack = CURATOR_ATTACKS[name]
    with psycopg.connect(_libpq(world.login("rita"))) as conn:
        try:
            with pytest.raises(psycopg.Error, match=expect):
                attack(conn, world)
        finally:
            conn.rollback()


def test_the_curator_and_the_lead_read_the_gold_they_made(world: World) -> None:
    """The empty results above are the policies, not a broken set-up."""
    with psycopg.connect(_libpq(world.login("rita"))) as conn:
        entries = conn.execute(
            "SELECT v.version, t.external_id, e.payload FROM gold_entries e "
            "JOIN gold_versions v ON v.id = e.gold_version_id JOIN tasks t ON t.id = e.task_id "
            "ORDER BY v.version, t.external_id"
        ).fetchall()
        actions = conn.execute(
            "SELECT action FROM events WHERE action LIKE 'gold.%' ORDER BY id"
        ).fetchall()
    assert entries == [(1, "g1", POS), (1, "g2", POS), (2, "g1", POS), (2, "g2", NEG)]
    assert [a for (a,) in actions] == [
        "gold.version_opened",
        "gold.promoted",
        "gold.promoted",
        "gold.frozen",
        "gold.conflict_queued",
        "gold.version_opened",
        "gold.conflict_accepted",
        "gold.conflict_queued",
    ]
    with al.connect(world.login("carol"), user=world.names["carol"]) as ws:
        gold = ws.project("g").gold
        assert gold.versions().select("version", "frozen", "entries").rows() == [
            (1, True, 2),
            (2, False, 2),
        ]
        assert gold.conflicts()["conflict_id"].to_list() == [world.conflict]
        assert gold.resolve(world.conflict, accept=False, reason="v2 stands") is None
        assert gold.freeze(note="lead") == 2
