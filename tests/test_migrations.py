"""Migrations: from nothing, from the previous revision with data, and matching tables.py."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from annolab.schema import enums
from annolab.store import migrate
from annolab.store.tables import ENUM_TYPES, metadata

TABLES = {
    "users",
    "user_skills",
    "teams",
    "team_members",
    "projects",
    "project_members",
    "tasks",
    "assignments",
    "annotations",
    "reviews",
    "feedback",
    "events",
    "persona_versions",
    "llm_cache",
    "llm_failures",
    "embedding_models",
    "embeddings",
    "layouts",
    "gold_sets",
    "gold_versions",
    "gold_entries",
    "gold_conflicts",
    "webhooks",
    "webhook_deliveries",
    "webhook_attempts",
    "telemetry",
    "alembic_version",
}


@pytest.fixture
def engine(fresh_db: str) -> sa.Engine:
    engine = sa.create_engine(fresh_db)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS vector"))
    yield engine
    engine.dispose()


def test_empty_database_upgrades_to_head(engine: sa.Engine) -> None:
    assert migrate.current_revision(engine) is None
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    assert set(sa.inspect(engine).get_table_names()) == TABLES


def test_previous_revision_with_data_upgrades_and_keeps_it(engine: sa.Engine) -> None:
    migrate.upgrade(engine, "0001")
    assert "annotations" not in sa.inspect(engine).get_table_names()
    with engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO users (name) VALUES ('ada')"))
        conn.execute(sa.text("INSERT INTO projects (name) VALUES ('old')"))
        conn.execute(
            sa.text(
                "INSERT INTO tasks (project_id, external_id, data) "
                "SELECT id, 't1', '{\"text\": \"kept\"}' FROM projects"
            )
        )
    migrate.upgrade(engine)
    with engine.begin() as conn:
        text = conn.execute(sa.text("SELECT data->>'text' FROM tasks")).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO annotations (id, task_id, user_id, kind, status, payload) "
                "SELECT gen_random_uuid(), t.id, u.id, 'human', 'submitted', '{}' "
                "FROM tasks t, users u"
            )
        )
    assert text == "kept"


def test_migrated_schema_matches_the_table_definitions(engine: sa.Engine) -> None:
    migrate.upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), metadata)
    assert diff == []


def test_database_enums_hold_exactly_the_python_values(engine: sa.Engine) -> None:
    migrate.upgrade(engine)
    with engine.connect() as conn:
        for enum_type in ENUM_TYPES:
            stored = (
                conn.execute(
                    sa.text(
                        "SELECT e.enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid "
                        "WHERE t.typname = :name ORDER BY e.enumsortorder"
                    ),
                    {"name": enum_type.name},
                )
                .scalars()
                .all()
            )
            assert stored == list(enum_type.enums), enum_type.name
    assert list(ENUM_TYPES[0].enums) == [m.value for m in enums.UserKind]


def test_concurrent_first_connects_migrate_once(engine: sa.Engine) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            migrate.upgrade(engine)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_events_are_append_only(engine: sa.Engine) -> None:
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO events (actor, action, entity, entity_id) VALUES ('a', 'x', 'y', '1')"
            )
        )
    for statement in ("UPDATE events SET actor = 'b'", "DELETE FROM events", "TRUNCATE events"):
        with (
            pytest.raises(sa.exc.ProgrammingError, match="events are append-only"),
            engine.begin() as conn,
        ):
            conn.execute(sa.text(statement))
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT actor FROM events")).scalars().all() == ["a"]


def test_head_is_the_live_updates_revision(engine: sa.Engine) -> None:
    assert migrate.head_revision() == "0014"
    migrate.upgrade(engine, "0009")
    assert "gold_sets" not in sa.inspect(engine).get_table_names()
    migrate.upgrade(engine)
    assert "gold_sets" in sa.inspect(engine).get_table_names()
