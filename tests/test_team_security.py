"""A team server against raw SQL typed by an annotator: every attack refused, the loop intact.

One database for the module, set up as ``docs/team-server.md`` says (``setup_team_roles``, one
login role per person). The people then work through the real client, as their own login
roles: bob's answer on t2 is blind (the task needs two), t1 was released by bob and dave, bob
holds t3. Each attack runs as alice in a transaction that is rolled back, so the attacks can
not change what the next one sees; each asserts the refusal, or that it read nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import psycopg
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.errors import StoreError
from annolab.store.listen import Listener
from annolab.store.roles import add_member, create_login, setup_team_roles
from tests.conftest import scratch_database

pytestmark = pytest.mark.db

PEOPLE = ("alice", "bob", "dave", "rita")


@dataclass(frozen=True)
class World:
    url: str  # the owner's
    names: dict[str, str]  # short name -> login role
    ids: dict[str, int]  # short name -> users.id
    tasks: dict[str, int]  # external id -> tasks.id
    blind_id: str  # bob's answer on t2, which nobody else may read yet
    released_id: str  # bob's answer on t1, released by dave's
    own_id: str  # alice's own submitted answer in her project "mine"
    other_project: int  # a project alice is not a member of

    def login(self, who: str) -> str:
        return _as(self.url, self.names[who])


def _as(url: str, role: str) -> str:
    return sa.make_url(url).set(username=role).render_as_string(hide_password=False)


def _libpq(url: str) -> str:
    return sa.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="module")
def world(db_url: str) -> Iterator[World]:
    with scratch_database(db_url, "annolab_sec") as url:
        yield _build(url)


def _build(url: str) -> World:
    suffix = uuid.uuid4().hex[:6]
    names = {p: f"{p}_{suffix}" for p in (*PEOPLE, "carol")}
    two = al.workflows.vote(annotators=2)
    with al.connect(url, user="owner") as owner:
        setup_team_roles(owner.engine)
        setup_team_roles(owner.engine)  # idempotent: a second run changes nothing
        for who, login in names.items():
            create_login(owner.engine, login, lead=who == "carol")
        owner.set_roles(names["rita"], ["annotator", "reviewer"])
        owner.set_roles(names["carol"], ["annotator", "adjudicator", "team_lead"])
        frames = {
            "blind": ["t1", "t2", "t3", "t4"],
            "other": ["o1"],
            "mine": ["m1"],
            "flow": ["f1", "f2", "f3"],
            "reviewed": ["r1", "r2"],
        }
        flows = {
            "blind": two,
            "other": al.workflows.single(),
            "mine": al.workflows.single(),
            "flow": two,
            "reviewed": al.workflows.review(),
        }
        for project, ids in frames.items():
            proj = owner.create_project(
                project, labels=["pos", "neg"], layout="classify", workflow=flows[project]
            )
            proj.add_tasks(pl.DataFrame({"id": ids, "text": ["fine"] * len(ids)}), id="id")
        with owner.engine.begin() as conn:
            for project in ("blind", "flow", "reviewed"):
                for who in PEOPLE:
                    add_member(conn, project=project, user=names[who])
            add_member(conn, project="mine", user=names["alice"])
            add_member(conn, project="other", user=names["bob"])

    def answer(who: str, project: str, label: str | None) -> uuid.UUID | None:
        with al.connect(_as(url, names[who]), user=names[who]) as ws:
            session = ws.project(project).session()
            session.next()
            return None if label is None else session.submit({"kind": "choice", "label": label})

    released = answer("bob", "blind", "pos")  # t1
    answer("dave", "blind", "pos")  # t1: two answers, released
    blind = answer("bob", "blind", "neg")  # t2: one of two, blind
    answer("bob", "blind", None)  # t3: bob holds it
    answer("bob", "other", "neg")  # o1: released, but alice is no member of "other"
    own = answer("alice", "mine", "pos")  # m1

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        users: dict[str, int] = {
            r[0]: r[1] for r in conn.execute(sa.text("SELECT name, id FROM users"))
        }
        tasks: dict[str, int] = {
            r[0]: r[1] for r in conn.execute(sa.text("SELECT external_id, id FROM tasks"))
        }
        other = conn.execute(sa.text("SELECT id FROM projects WHERE name = 'other'")).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO feedback (annotation_id, user_id, rating, comment) "
                "VALUES (:a, :u, 2, 'bob thinks this is wrong')"
            ),
            {"a": released, "u": users[names["bob"]]},
        )
        conn.execute(sa.text("ANALYZE annotations"))
    engine.dispose()
    return World(
        url=url,
        names=names,
        ids={who: users[login] for who, login in names.items()},
        tasks=tasks,
        blind_id=str(blind),
        released_id=str(released),
        own_id=str(own),
        other_project=other,
    )


Attack = Callable[[psycopg.Connection[Any], World], Any]
# name -> ("empty", attack) or (the refusal's pattern, attack)


def _rows(conn: psycopg.Connection[Any], query: str, *params: Any) -> list[Any]:
    return conn.execute(query, params).fetchall()


def _blind(conn: psycopg.Connection[Any], w: World) -> list[Any]:
    """What alice can read of bob's blind answer: it must stay nothing."""
    return _rows(conn, "SELECT payload FROM annotations WHERE id = %s", w.blind_id)


def _then_blind(*statements: str) -> Attack:
    """Run the statements (parameters from the world by name), then try to read the blind
    answer in the same transaction."""

    def attack(conn: psycopg.Connection[Any], w: World) -> list[Any]:
        for statement in statements:
            conn.execute(statement.format(**_names(w)))
        return _blind(conn, w)

    return attack


def _sql(statement: str) -> Attack:
    def attack(conn: psycopg.Connection[Any], w: World) -> list[Any]:
        cur = conn.execute(statement.format(**_names(w)))
        return cur.fetchall() if cur.description else []

    return attack


def _names(w: World) -> dict[str, Any]:
    return {
        "alice": w.ids["alice"],
        "bob": w.ids["bob"],
        "bob_login": w.names["bob"],
        "t1": w.tasks["t1"],
        "t2": w.tasks["t2"],
        "t3": w.tasks["t3"],
        "m1": w.tasks["m1"],
        "o1": w.tasks["o1"],
        "blind": w.blind_id,
        "released": w.released_id,
        "own": w.own_id,
        "other": w.other_project,
        "consensus": "annolab:consensus",
    }


def _copy_out(conn: psycopg.Connection[Any], w: World) -> list[str]:
    with conn.cursor() as cur, cur.copy("COPY annotations (id) TO STDOUT") as copy:
        seen = [bytes(row).decode().strip() for row in copy]
    return [row for row in seen if row == w.blind_id]


def _copy_in(conn: psycopg.Connection[Any], w: World) -> None:
    with (
        conn.cursor() as cur,
        cur.copy("COPY events (actor, action, entity, entity_id) FROM STDIN") as copy,
    ):
        copy.write_row(("annolab", "quality.unrestricted", "user", str(w.ids["alice"])))


def _new_version_without_event(conn: psycopg.Connection[Any], w: World) -> None:
    conn.execute(
        'UPDATE annotations SET payload = \'{"kind": "choice", "label": "neg"}\', '
        "version = version + 1 WHERE id = %s",
        (w.own_id,),
    )
    conn.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the check otherwise waits for COMMIT


def _leaky_function(conn: psycopg.Connection[Any], w: World) -> list[str]:
    # A function that prints every payload it is shown, made to look free so the planner
    # would call it first: row-level security still filters before any function not
    # marked LEAKPROOF (only a superuser can mark one).
    heard: list[str] = []
    conn.add_notice_handler(lambda notice: heard.append(str(notice.message_primary)))
    conn.execute(
        "CREATE FUNCTION pg_temp.peek(p jsonb) RETURNS boolean LANGUAGE plpgsql COST 0.0001 "
        "AS $$ BEGIN RAISE NOTICE 'seen %', p; RETURN true; END $$"
    )
    conn.execute("SELECT id FROM annotations WHERE pg_temp.peek(payload)").fetchall()
    if not any('"pos"' in note for note in heard):
        return ["the function saw no row at all, not even the released ones"]
    return [note for note in heard if '"neg"' in note]  # only bob's blind answer says neg


def _upsert_onto_blind(conn: psycopg.Connection[Any], w: World) -> list[Any]:
    # Annotation ids are made from the assignment id, which alice can read: she can name bob's.
    return _rows(
        conn,
        "INSERT INTO annotations (id, task_id, user_id, kind, status, payload) "
        "VALUES (%s, %s, %s, 'human', 'draft', '{}') "
        "ON CONFLICT (id) DO UPDATE SET status = annotations.status RETURNING payload",
        w.blind_id,
        w.tasks["t2"],
        w.ids["alice"],
    )


def _shadow_tables(conn: psycopg.Connection[Any], w: World) -> list[Any]:
    # pg_temp comes first in an unpinned search_path: a temporary "users" that maps alice's
    # login to bob's id, and "assignments"/"annotations" that claim t2 is released.
    conn.execute("CREATE TEMP TABLE users (id bigint, name text)")
    conn.execute("INSERT INTO pg_temp.users VALUES (%s, session_user)", (w.ids["bob"],))
    conn.execute("CREATE TEMP TABLE assignments AS SELECT * FROM public.assignments WITH NO DATA")
    conn.execute("CREATE TEMP TABLE tasks (id bigint, step text, needed int, project_id bigint)")
    return [*_blind(conn, w), *_rows(conn, "SELECT 1 WHERE annolab_user_id() = %s", w.ids["bob"])]


ATTACKS: dict[str, tuple[str, Attack]] = {
    # Reading blind work.
    "read bob's blind answer": ("empty", _blind),
    "read blind answers from events": (
        "empty",
        _sql(
            "SELECT after FROM events WHERE action LIKE 'annotation.%%' AND entity_id = '{blind}'"
        ),
    ),
    "read blind authors from events": (
        "empty",
        _sql(
            "SELECT entity_id FROM events WHERE actor = '{bob_login}' "
            "AND action LIKE 'annotation.%%' AND entity_id <> '{released}'"
        ),
    ),
    "complete the task, read, roll back": (
        "empty",
        _then_blind("UPDATE tasks SET status = 'completed', needed = 0 WHERE id = {t2}"),
    ),
    "lower tasks.needed, read, roll back": (
        "empty",
        _then_blind("UPDATE tasks SET needed = 1 WHERE id = {t2}"),
    ),
    "move the task's step, read, roll back": (
        "empty",
        _then_blind("UPDATE tasks SET step = 'adjudicate', needed = 1 WHERE id = {t2}"),
    ),
    "clear the step needs": (
        r"permission denied for table tasks",
        _sql("UPDATE tasks SET step_needs = '{{}}'"),
    ),
    "insert her own submitted assignment": (
        r"an assignment starts active and belongs to its claimer \(\w+\)",
        _sql(
            "INSERT INTO assignments (task_id, step, user_id, status) "
            "VALUES ({t2}, 'annotate', {alice}, 'submitted')"
        ),
    ),
    "flip her own assignment to submitted, read, roll back": (
        "empty",
        _then_blind(
            "INSERT INTO assignments (task_id, step, user_id, status, lease_expires_at) "
            "VALUES ({t2}, 'annotate', {alice}, 'active', now() + interval '1 hour')",
            "UPDATE assignments SET status = 'submitted' WHERE task_id = {t2} "
            "AND user_id = {alice}",
        ),
    ),
    "submit an assignment in bob's name": (
        r"an assignment starts active and belongs to its claimer \(\w+\)",
        _sql(
            "INSERT INTO assignments (task_id, step, user_id, status) "
            "VALUES ({t2}, 'annotate', {bob}, 'active')"
        ),
    ),
    "flip bob's live assignment to submitted": (
        r"assignment \d+ belongs to another user: only a lead changes it",
        _sql(
            "UPDATE assignments SET status = 'submitted' WHERE task_id = {t3} AND user_id = {bob}"
        ),
    ),
    "expire bob's live lease": (
        "empty",
        _sql(
            "UPDATE assignments SET status = 'expired' WHERE task_id = {t3} "
            "AND user_id = {bob} RETURNING id"
        ),
    ),
    "answer in bob's name": (
        r'row-level security policy for table "annotations"',
        _sql(
            "INSERT INTO annotations (id, task_id, user_id, kind, status, payload) "
            "VALUES (gen_random_uuid(), {t2}, {bob}, 'human', 'submitted', '{{}}')"
        ),
    ),
    "write a consensus before the step is released": (
        r'row-level security policy for table "annotations"',
        _sql(
            "INSERT INTO annotations (id, task_id, user_id, kind, status, payload) "
            "SELECT gen_random_uuid(), {t2}, id, 'consensus', 'approved', '{{}}' FROM users "
            "WHERE name = '{consensus}'"
        ),
    ),
    "write her own gold answer": (
        r"kind=gold : annotators write human annotations; gold, persona and model",
        _sql(
            "INSERT INTO annotations (id, task_id, user_id, kind, status, payload) "
            "VALUES (gen_random_uuid(), {t2}, {alice}, 'gold', 'submitted', '{{}}')"
        ),
    ),
    "approve bob's blind answer": (
        "empty",
        _sql("UPDATE annotations SET status = 'approved' WHERE id = '{blind}' RETURNING id"),
    ),
    "review bob's blind answer": (
        r'row-level security policy for table "reviews"',
        _sql(
            "INSERT INTO reviews (annotation_id, reviewer_id, decision) "
            "VALUES ('{blind}', {alice}, 'approve')"
        ),
    ),
    # The SECURITY DEFINER functions and the search path.
    "shadow the tables with temporary ones": ("empty", _shadow_tables),
    "put pg_temp first in search_path": (
        "empty",
        _then_blind(
            "SET LOCAL search_path = pg_temp, public",
            "CREATE TEMP TABLE project_members (project_id bigint, user_id bigint)",
        ),
    ),
    "shadow annolab_user_id with a temporary function": (
        "empty",
        _then_blind(
            "CREATE FUNCTION pg_temp.annolab_user_id() RETURNS bigint LANGUAGE sql "
            "AS 'SELECT {bob}::bigint'"
        ),
    ),
    "a leaky function in WHERE": ("empty", _leaky_function),
    "upsert onto bob's blind answer": (
        r'row-level security policy \(USING expression\) for table "annotations"',
        _upsert_onto_blind,
    ),
    "replace annolab_user_id": (
        r"permission denied for schema public|must be owner of function",
        _sql(
            "CREATE OR REPLACE FUNCTION public.annolab_user_id() RETURNS bigint "
            "LANGUAGE sql AS 'SELECT {bob}::bigint'"
        ),
    ),
    "a custom setting naming bob": (
        "empty",
        _then_blind("SELECT set_config('annolab.user', '{bob_login}', true)"),
    ),
    "SET ROLE to the lead group": (r"permission denied to set role", _sql("SET ROLE annolab_lead")),
    "set_config('role') to the lead group": (
        r"permission denied to set role",
        _sql("SELECT set_config('role', 'annolab_lead', true)"),
    ),
    "SET SESSION AUTHORIZATION bob": (
        r"permission denied to set session authorization",
        _sql("SET SESSION AUTHORIZATION {bob_login}"),
    ),
    "grant herself a Postgres role": (
        r"permission denied to grant role",
        _sql("GRANT annolab_lead TO CURRENT_USER"),
    ),
    # Roles, skills, membership, events.
    "make herself project_admin": (
        r"permission denied for table users",
        _sql("UPDATE users SET roles = '{{project_admin}}' WHERE name = session_user"),
    ),
    "give herself a skill": (
        r"permission denied for table user_skills",
        _sql(
            "INSERT INTO user_skills (user_id, skill, proficiency) "
            "VALUES ({alice}, 'medical_coding', 'expert')"
        ),
    ),
    "join a team": (
        r"permission denied for table team_members",
        _sql("INSERT INTO team_members (team_id, user_id) SELECT id, {alice} FROM teams"),
    ),
    "join another project": (
        r"permission denied for table project_members",
        _sql("INSERT INTO project_members (project_id, user_id) VALUES ({other}, {alice})"),
    ),
    "read the project memberships": (
        r"permission denied for table project_members",
        _sql("SELECT * FROM project_members"),
    ),
    "make a user": (
        r'row-level security policy for table "users"',
        _sql("INSERT INTO users (name) VALUES ('mallory')"),
    ),
    "lift her own restriction": (
        r'row-level security policy for table "events"',
        _sql(
            "INSERT INTO events (actor, action, entity, entity_id, project_id, after) "
            "SELECT 'annolab', 'quality.unrestricted', 'user', '{alice}', project_id, "
            "jsonb_build_object('user', session_user) FROM tasks WHERE id = {t2}"
        ),
    ),
    "record an event as bob": (
        r'row-level security policy for table "events"',
        _sql(
            "INSERT INTO events (actor, action, entity, entity_id) "
            "VALUES ('{bob_login}', 'task.assigned', 'task', '{t2}')"
        ),
    ),
    "score bob's work under her own name": (
        r'row-level security policy for table "events"',
        _sql(
            "INSERT INTO events (actor, action, entity, entity_id, project_id, after) "
            "SELECT session_user, 'quality.scored', 'annotation', '{released}', project_id, "
            "jsonb_build_object('user', '{bob_login}', 'evaluator', 'gold', 'score', 0) "
            "FROM tasks WHERE id = {t1}"
        ),
    ),
    "record a roles change under her own name": (
        r'row-level security policy for table "events"',
        _sql(
            "INSERT INTO events (actor, action, entity, entity_id) "
            "VALUES (session_user, 'user.roles_changed', 'user', '{alice}')"
        ),
    ),
    "rewrite an event": (
        r"permission denied for table events",
        _sql("UPDATE events SET actor = 'nobody'"),
    ),
    "delete events": (r"permission denied for table events", _sql("DELETE FROM events")),
    "truncate annotations": (
        r"permission denied for table annotations",
        _sql("TRUNCATE annotations"),
    ),
    "delete bob's answer": (
        r"permission denied for table annotations",
        _sql("DELETE FROM annotations WHERE id = '{released}'"),
    ),
    # Released work and versions.
    "rewrite bob's released answer": (
        r"annotation \S+ is another user's: a review may only approve or reject it",
        _sql(
            'UPDATE annotations SET payload = \'{{"kind": "choice", "label": "neg"}}\' '
            "WHERE id = '{released}'"
        ),
    ),
    "rewrite her submitted answer in place": (
        r"annotation \S+ is submitted: its payload changes only as version 2 \(it is version 1\)",
        _sql(
            'UPDATE annotations SET payload = \'{{"kind": "choice", "label": "neg"}}\' '
            "WHERE id = '{own}'"
        ),
    ),
    "a new version of her answer without its event": (
        r"annotation \S+ changed to version 2 without an annotation event of that version",
        _new_version_without_event,
    ),
    "move her answer to another task": (
        r"permission denied for table annotations",
        _sql("UPDATE annotations SET task_id = {t2} WHERE id = '{own}'"),
    ),
    # Other projects and the schema.
    "read another project's tasks": (
        "empty",
        _sql("SELECT id FROM tasks WHERE project_id = {other}"),
    ),
    "update another project's tasks": (
        "empty",
        _sql("UPDATE tasks SET needed = 5 WHERE project_id = {other} RETURNING id"),
    ),
    "read another project's assignments": (
        "empty",
        _sql("SELECT id FROM assignments WHERE task_id = {o1}"),
    ),
    "read another project's released answers": (
        "empty",
        _sql("SELECT payload FROM annotations WHERE task_id = {o1}"),
    ),
    "read another project": ("empty", _sql("SELECT name FROM projects WHERE id = {other}")),
    "read another project's events": (
        "empty",
        _sql("SELECT id FROM events WHERE project_id = {other}"),
    ),
    "claim in another project": (
        r'row-level security policy for table "assignments"',
        _sql(
            "INSERT INTO assignments (task_id, step, user_id, status) "
            "VALUES ({o1}, 'annotate', {alice}, 'active')"
        ),
    ),
    "pause a project": (
        r"permission denied for table projects",
        _sql("UPDATE projects SET status = 'paused'"),
    ),
    "change a task's text": (
        r"permission denied for table tasks",
        _sql("UPDATE tasks SET data = '{{}}' WHERE id = {t2}"),
    ),
    "add a task": (
        r"permission denied for table tasks",
        _sql(
            "INSERT INTO tasks (project_id, external_id, data) "
            "SELECT project_id, 'new', '{{}}' FROM tasks WHERE id = {t2}"
        ),
    ),
    "reopen a completed task": (
        r"task \d+: status pending can not follow completed \(a lead's reset does that\)",
        _sql("UPDATE tasks SET status = 'pending' WHERE id = {t1}"),
    ),
    "roll back the schema version": (
        r"permission denied for table alembic_version",
        _sql("UPDATE alembic_version SET version_num = '0001'"),
    ),
    "a function in public": (
        r"permission denied for schema public",
        _sql("CREATE FUNCTION public.annolab_trap() RETURNS int LANGUAGE sql AS 'SELECT 1'"),
    ),
    "a view in public": (
        r"permission denied for schema public",
        _sql("CREATE VIEW public.annolab_trap AS SELECT 1 AS one"),
    ),
    "a table in public": (
        r"permission denied for schema public",
        _sql("CREATE TABLE public.annolab_trap (x int)"),
    ),
    "COPY annotations out": ("empty", _copy_out),
    "COPY events in": (r"COPY FROM not supported with row-level security", _copy_in),
    # Personas, LLM cache, embeddings, feedback, sequences, statistics, server files.
    "write the LLM cache": (
        r"permission denied for table llm_cache",
        _sql(
            "INSERT INTO llm_cache (model_digest, prompt_hash, input_hash, schema_hash, model, "
            "response, payload) VALUES ('d', 'p', 'i', 's', 'm', 'r', '{{}}')"
        ),
    ),
    "read the LLM cache": (
        r"permission denied for table llm_cache",
        _sql("SELECT payload FROM llm_cache"),
    ),
    "write an embedding model": (
        r"permission denied for table embedding_models",
        _sql("INSERT INTO embedding_models (model, dimension) VALUES ('fake', 3)"),
    ),
    "write embeddings": (
        r"permission denied for table embeddings",
        _sql(
            "INSERT INTO embeddings (owner_kind, owner_id, model, dimension, embedding, "
            "content_hash) VALUES ('task', {t2}, 'fake', 3, '[1,2,3]', 'h')"
        ),
    ),
    "write a persona version": (
        r"permission denied for table persona_versions",
        _sql(
            "INSERT INTO persona_versions (user_id, version, model, template, system_prompt) "
            "VALUES ({alice}, 1, 'm', 't', 's')"
        ),
    ),
    "read bob's feedback": ("empty", _sql("SELECT comment FROM feedback WHERE user_id = {bob}")),
    "write feedback as bob": (
        r'row-level security policy for table "feedback"',
        _sql(
            "INSERT INTO feedback (annotation_id, user_id, rating) VALUES ('{released}', {bob}, 1)"
        ),
    ),
    "reset a sequence": (
        r"permission denied",
        _sql("SELECT setval(pg_get_serial_sequence('public.events', 'id'), 1)"),
    ),
    "draw from a sequence": (
        r"permission denied",
        _sql("SELECT nextval(pg_get_serial_sequence('public.events', 'id'))"),
    ),
    "column statistics of the answers": (
        "empty",
        _sql(
            "SELECT most_common_vals::text FROM pg_stats "
            "WHERE tablename = 'annotations' AND attname = 'payload'"
        ),
    ),
    "read a server file": (
        r"permission denied for function pg_read_file",
        _sql("SELECT pg_read_file('postgresql.conf')"),
    ),
    "give her login BYPASSRLS": (
        r"permission denied to alter role",
        _sql("ALTER ROLE CURRENT_USER BYPASSRLS"),
    ),
    "switch row-level security off": (
        r"must be owner of table annotations",
        _sql("ALTER TABLE annotations DISABLE ROW LEVEL SECURITY"),
    ),
}


@pytest.mark.parametrize("name", list(ATTACKS))
def test_an_attack_by_an_annotator_is_refused(world: World, name: str) -> None:
    """``empty``: the attack runs and reads (or changes) nothing; otherwise Postgres refuses it
    with an error matching the pattern."""
    expect, attack = ATTACKS[name]
    with psycopg.connect(_libpq(world.login("alice"))) as conn:
        try:
            if expect == "empty":
                assert attack(conn, world) in ([], None)
            else:
                with pytest.raises(psycopg.Error, match=expect):
                    attack(conn, world)
        finally:
            conn.rollback()


def test_the_attacks_saw_what_an_honest_annotator_sees(world: World) -> None:
    """The empty results above are blindness, not a broken connection: alice reads the
    released answers, her own, and the tasks of her projects."""
    with psycopg.connect(_libpq(world.login("alice"))) as conn:
        released = _rows(
            conn, "SELECT id::text FROM annotations WHERE user_id = %s", world.ids["bob"]
        )
        own = _rows(conn, "SELECT id::text FROM annotations WHERE user_id = %s", world.ids["alice"])
        events = _rows(conn, "SELECT count(*) FROM events WHERE entity_id = %s", world.released_id)
        tasks = _rows(conn, "SELECT count(*) FROM tasks")
    assert released == [(world.released_id,)]
    assert own == [(world.own_id,)]
    assert events[0][0] >= 1
    assert tasks == [(4 + 1 + 3 + 2,)]  # blind, mine, flow, reviewed: not "other"
    with psycopg.connect(_libpq(world.login("bob"))) as conn:
        assert _rows(conn, "SELECT id::text FROM annotations WHERE id = %s", world.blind_id) == [
            (world.blind_id,)
        ]


def test_a_login_role_acts_only_as_its_own_user(world: World) -> None:
    with pytest.raises(StoreError, match=r"user='bob_\w+' is not you: the login role 'alice_"):
        al.connect(world.login("alice"), user=world.names["bob"])
    # A lead may act for others (and reads everything anyway).
    with al.connect(world.login("carol"), user=world.names["bob"]) as ws:
        assert ws.user_id == world.ids["bob"]


def test_an_annotator_adding_tasks_is_told_a_lead_does(world: World) -> None:
    with al.connect(world.login("alice"), user=world.names["alice"]) as ws:
        proj = ws.project("blind")
        with pytest.raises(StoreError, match="project 'blind': this login may not add tasks"):
            proj.add_tasks(pl.DataFrame({"id": ["t9"], "text": ["more"]}), id="id")


def test_the_annotator_loop_works_as_login_roles(world: World) -> None:
    """claim, skip, draft, submit; adjudication by a lead; review by a reviewer, with a
    revision: all through the client, each person as their own login role."""
    names = world.names

    def ws(who: str) -> al.Workspace:
        return al.connect(world.login(who), user=names[who])

    with ws("alice") as a, ws("bob") as b, ws("carol") as c, ws("rita") as r:
        # Disagreement on f1 goes to adjudication, which the lead does.
        alice, bob = a.project("flow").session(), b.project("flow").session()
        assert alice.next() is not None
        assert bob.next() is not None
        alice.submit({"kind": "choice", "label": "pos"})
        bob.submit({"kind": "choice", "label": "neg"})
        lead = c.project("flow").session()
        item = lead.next()
        assert item is not None
        assert (item.external_id, item.step) == ("f1", "adjudicate")
        assert sorted(p["label"] for p in item.shown) == ["neg", "pos"]
        lead.submit({"kind": "choice", "label": "pos"})
        # Skip f2, then a draft on f3 that becomes the answer.
        skipped = alice.next()
        assert skipped is not None
        assert skipped.external_id == "f2"
        alice.skip()
        drafted = alice.next()
        assert drafted is not None
        assert drafted.external_id == "f3"
        first = alice.save_draft({"kind": "choice", "label": "neg"})
        assert alice.submit({"kind": "choice", "label": "pos"}) == first
        # Review: rita asks for a revision of r1, alice revises, rita approves.
        writer, reviewer = a.project("reviewed").session(), r.project("reviewed").session()
        assert writer.next() is not None
        writer.submit({"kind": "choice", "label": "neg"})
        to_review = reviewer.next()
        assert to_review is not None
        assert (to_review.external_id, to_review.step) == ("r1", "review")
        assert [p["label"] for p in to_review.shown] == ["neg"]
        reviewer.review("revise", "it reads positive")
        back = writer.next()
        assert back is not None
        assert (back.external_id, back.step) == ("r1", "annotate")
        writer.submit({"kind": "choice", "label": "pos"})
        again = reviewer.next()
        assert again is not None
        assert again.external_id == "r1"
        reviewer.review("approve")
        # A lead adds tasks (row-level security refuses COPY into the table itself, so the
        # load goes through the session's staging table) and makes a project.
        added = c.project("flow").add_tasks(pl.DataFrame({"id": ["f4"], "text": ["late"]}), id="id")
        assert added.new == 1
        made = c.create_project("lead-made", labels=["pos", "neg"], layout="classify")
        assert made.add_tasks(pl.DataFrame({"id": ["l1"], "text": ["x"]}), id="id").new == 1
    engine = sa.create_engine(world.url)
    with engine.begin() as conn:
        status: dict[str, str] = dict(
            conn.execute(
                sa.text(
                    "SELECT t.external_id, t.status::text FROM tasks t JOIN projects p "
                    "ON p.id = t.project_id WHERE p.name IN ('flow', 'reviewed')"
                )
            ).all()
        )
        versions = conn.execute(
            sa.text(
                "SELECT a.status::text, a.version FROM annotations a JOIN tasks t "
                "ON t.id = a.task_id WHERE t.external_id = 'r1'"
            )
        ).all()
    engine.dispose()
    assert status == {
        "f1": "completed",
        "f2": "pending",
        "f3": "in_progress",
        "f4": "pending",
        "r1": "completed",
        "r2": "pending",
    }
    assert versions == [("approved", 2)]


@pytest.mark.parametrize("fmt", ["parquet", "jsonl"])
def test_an_annotators_export_holds_only_what_she_may_read(
    world: World, fmt: str, tmp_path: Path
) -> None:
    """The table exports read through a connection of their own (Arrow from a binary COPY):
    it logs in as the same role, so bob's blind answer stays out of alice's file."""
    with al.connect(world.login("alice"), user=world.names["alice"]) as ws:
        report = ws.project("blind").export(tmp_path / f"blind.{fmt}", progress=False)
    out = tmp_path / f"blind.{fmt}"
    frame = pl.read_parquet(out) if fmt == "parquet" else pl.read_ndjson(out)
    with psycopg.connect(_libpq(world.login("alice"))) as conn:
        readable = _rows(
            conn,
            "SELECT a.id::text FROM annotations a JOIN tasks t ON t.id = a.task_id "
            "JOIN projects p ON p.id = t.project_id WHERE p.name = 'blind'",
        )
    assert report.written == frame.height == len(readable) >= 2
    assert set(frame["annotation_id"]) == {r[0] for r in readable}
    assert world.released_id in set(frame["annotation_id"])
    assert world.blind_id not in set(frame["annotation_id"])


def test_an_annotator_listening_hears_only_events_she_may_read(world: World) -> None:
    """Live updates read the events table under its row-level security, so a project she is
    no member of stays silent (a NOTIFY used to reach every login that listened)."""
    engine = sa.create_engine(world.url)
    alice_engine = sa.create_engine(world.login("alice"))
    try:
        with engine.begin() as conn:
            mine = conn.execute(sa.text("SELECT id FROM projects WHERE name = 'mine'")).scalar()
        with Listener(alice_engine, timeout=1.0) as changes:
            with engine.begin() as conn:
                for project, action in ((world.other_project, "elsewhere"), (mine, "here")):
                    conn.execute(
                        sa.text(
                            "INSERT INTO events (actor, action, entity, entity_id, project_id) "
                            "VALUES ('owner', :a, 'project', :p, :p)"
                        ),
                        {"a": action, "p": project},
                    )
            heard = [(e["action"], e["project_id"]) for e in changes.poll()]
        assert heard == [("here", mine)]
    finally:
        engine.dispose()
        alice_engine.dispose()
