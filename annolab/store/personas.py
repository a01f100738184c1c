"""Persona versions, the LLM response cache and failed LLM attempts."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from annolab.schema.enums import UserKind
from annolab.store.events import record_event
from annolab.store.frames import read_frame
from annolab.store.tables import llm_cache, llm_failures, persona_versions, users


@dataclass(frozen=True)
class PersonaVersionRow:
    id: int
    user_id: int
    name: str
    version: int
    description: str
    traits: list[dict[str, Any]]
    examples: list[dict[str, Any]]
    model: str
    options: dict[str, Any]
    template: str
    system_prompt: str
    created_at: dt.datetime


_COLUMNS = (
    persona_versions.c.id,
    persona_versions.c.user_id,
    users.c.name,
    persona_versions.c.version,
    persona_versions.c.description,
    persona_versions.c.traits,
    persona_versions.c.examples,
    persona_versions.c.model,
    persona_versions.c.options,
    persona_versions.c.template,
    persona_versions.c.system_prompt,
    persona_versions.c.created_at,
)


def _select() -> sa.Select[Any]:
    return sa.select(*_COLUMNS).join(users, users.c.id == persona_versions.c.user_id)


def _row(row: sa.Row[Any]) -> PersonaVersionRow:
    return PersonaVersionRow(**row._mapping)


def find_user(conn: sa.Connection, name: str) -> tuple[int, UserKind] | None:
    """``(id, kind)`` of the user called ``name``, or None."""
    found = conn.execute(sa.select(users.c.id, users.c.kind).where(users.c.name == name)).first()
    return None if found is None else (int(found.id), UserKind(found.kind))


def create_persona_user(conn: sa.Connection, name: str, *, actor: str) -> int:
    """Add the ``users`` row of a new persona, with its event."""
    user_id = conn.execute(
        users.insert().values(name=name, kind=UserKind.PERSONA).returning(users.c.id)
    ).scalar_one()
    record_event(
        conn,
        actor=actor,
        action="user.created",
        entity="user",
        entity_id=user_id,
        after={"name": name, "kind": UserKind.PERSONA.value},
    )
    return int(user_id)


def add_version(
    conn: sa.Connection,
    *,
    actor: str,
    actor_id: int,
    user_id: int,
    spec: Mapping[str, Any],
    system_prompt: str,
) -> PersonaVersionRow:
    """Append the next version of a persona; the row lock on the user serialises editors."""
    conn.execute(sa.select(users.c.id).where(users.c.id == user_id).with_for_update())
    latest = conn.execute(
        sa.select(sa.func.coalesce(sa.func.max(persona_versions.c.version), 0)).where(
            persona_versions.c.user_id == user_id
        )
    ).scalar_one()
    new_id = conn.execute(
        persona_versions.insert()
        .values(
            user_id=user_id,
            version=latest + 1,
            system_prompt=system_prompt,
            created_by=actor_id,
            **spec,
        )
        .returning(persona_versions.c.id)
    ).scalar_one()
    record_event(
        conn,
        actor=actor,
        action="persona.version_added",
        entity="user",
        entity_id=user_id,
        after={"version": latest + 1, **spec},
    )
    return _row(conn.execute(_select().where(persona_versions.c.id == new_id)).one())


def get_version(
    conn: sa.Connection, name: str, version: int | None = None
) -> PersonaVersionRow | None:
    """Version ``version`` of persona ``name`` (the latest when None), or None."""
    query = _select().where(users.c.name == name)
    if version is not None:
        query = query.where(persona_versions.c.version == version)
    row = conn.execute(query.order_by(persona_versions.c.version.desc()).limit(1)).first()
    return None if row is None else _row(row)


def list_versions(conn: sa.Connection, name: str) -> list[PersonaVersionRow]:
    query = _select().where(users.c.name == name).order_by(persona_versions.c.version)
    return [_row(r) for r in conn.execute(query)]


PERSONA_SCHEMA: Mapping[str, Any] = {
    "name": pl.String,
    "version": pl.Int32,
    "versions": pl.Int64,
    "model": pl.String,
    "description": pl.String,
    "traits": pl.String,
    "annotations": pl.Int64,
    "created_at": pl.Datetime("us", "UTC"),
}


def read_personas(conn: sa.Connection) -> pl.DataFrame:
    """Every persona at its latest version, with its count of versions and annotations."""
    return read_frame(
        conn,
        "SELECT u.name, v.version, (SELECT count(*) FROM persona_versions w "
        " WHERE w.user_id = u.id), v.model, v.description, v.traits::text, "
        "(SELECT count(*) FROM annotations a WHERE a.user_id = u.id), v.created_at "
        "FROM users u JOIN LATERAL (SELECT * FROM persona_versions p WHERE p.user_id = u.id "
        " ORDER BY p.version DESC LIMIT 1) v ON true "
        "WHERE u.kind = 'persona' ORDER BY u.name",
        {},
        PERSONA_SCHEMA,
    )


def task_items(
    conn: sa.Connection, project_id: int, limit: int | None
) -> list[tuple[str, int, dict[str, Any]]]:
    """``(external id, task id, data)`` of a project's first ``limit`` tasks, in the order
    they were added (all of them when ``limit`` is None)."""
    rows = conn.execute(
        sa.text(
            "SELECT external_id, id, data FROM tasks WHERE project_id = :p ORDER BY id LIMIT :n"
        ),
        {"p": project_id, "n": limit},
    )
    return [(r.external_id, int(r.id), dict(r.data)) for r in rows]


@dataclass(frozen=True)
class CachedAnswer:
    response: str
    payload: dict[str, Any]
    prompt_tokens: int
    completion_tokens: int


def cached_answers(
    conn: sa.Connection, *, model_digest: str, prompt_hash: str, schema_hash: str, inputs: list[str]
) -> dict[str, CachedAnswer]:
    """``input hash -> answer`` for the inputs already answered under these three hashes."""
    # One array parameter, not IN with a placeholder per input: 5,000 placeholders cost more
    # to build than the query costs to run.
    rows = conn.execute(
        sa.text(
            "SELECT input_hash, response, payload, prompt_tokens, completion_tokens "
            "FROM llm_cache WHERE model_digest = :d AND prompt_hash = :p AND schema_hash = :s "
            "AND input_hash = ANY(:inputs)"
        ),
        {"d": model_digest, "p": prompt_hash, "s": schema_hash, "inputs": inputs},
    ).all()
    return {r.input_hash: CachedAnswer(*r[1:]) for r in rows}


def existing_annotations(conn: sa.Connection, ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``ids`` that name stored annotations."""
    found = conn.execute(
        sa.text("SELECT id FROM annotations WHERE id = ANY(:ids)"), {"ids": list(ids)}
    )
    return set(found.scalars())


def store_answers(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    """Add answers to the cache; an answer already there (a concurrent run) is kept."""
    if rows:
        conn.execute(insert(llm_cache).values(list(rows)).on_conflict_do_nothing())


def store_failures(conn: sa.Connection, rows: Sequence[Mapping[str, Any]]) -> None:
    if rows:
        conn.execute(llm_failures.insert().values(list(rows)))


FAILURE_SCHEMA: Mapping[str, Any] = {
    "item": pl.String,
    "task_id": pl.Int64,
    "version": pl.Int32,
    "model": pl.String,
    "attempts": pl.Int32,
    "error": pl.String,
    "raw_response": pl.String,
    "created_at": pl.Datetime("us", "UTC"),
}


def read_failures(conn: sa.Connection, user_id: int) -> pl.DataFrame:
    """The persona's failed items, newest first, with the last raw answer."""
    return read_frame(
        conn,
        "SELECT f.item, f.task_id, v.version, f.model, f.attempts, f.error, f.raw_response, "
        "f.created_at FROM llm_failures f JOIN persona_versions v ON v.id = f.persona_version_id "
        "WHERE v.user_id = %(u)s ORDER BY f.id DESC",
        {"u": user_id},
        FAILURE_SCHEMA,
    )
