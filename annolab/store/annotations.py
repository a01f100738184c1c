"""Annotations: idempotent upserts on the client-made UUID, and reading them back."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from annolab.errors import StoreError
from annolab.schema.enums import AnnotationKind, AnnotationStatus
from annolab.store import tables
from annolab.store.events import record_event
from annolab.store.frames import driver_connection, iter_frames, read_frame


@dataclass(frozen=True)
class NewAnnotation:
    """One annotation to store; ``payload`` has already been validated."""

    id: uuid.UUID
    task_id: int
    user_id: int
    kind: AnnotationKind
    status: AnnotationStatus
    payload: dict[str, Any]
    step: str = "annotate"
    parent_id: uuid.UUID | None = None
    time_spent: float | None = None
    guidelines_version: int | None = None
    model: str | None = None
    model_digest: str | None = None
    prompt_hash: str | None = None
    persona_version: int | None = None


def _upsert_statement() -> Any:
    """The upsert, built once with a bound parameter per column: a statement built per call
    (its ``excluded`` alias rebuilds every column) cost more CPU than the database spent."""
    columns = NewAnnotation.__dataclass_fields__
    base = insert(tables.annotations).values({name: sa.bindparam(name) for name in columns})
    excluded = base.excluded
    return base.on_conflict_do_update(
        index_elements=["id"],
        set_={
            "payload": excluded.payload,
            "status": excluded.status,
            "time_spent": excluded.time_spent,
            "version": tables.annotations.c.version + 1,
            "updated_at": sa.func.now(),
        },
        # Only the owner's own annotation on the same task is ever updated in place.
        where=sa.and_(
            tables.annotations.c.task_id == excluded.task_id,
            tables.annotations.c.user_id == excluded.user_id,
            sa.or_(
                tables.annotations.c.payload != excluded.payload,
                tables.annotations.c.status != excluded.status,
            ),
        ),
    ).returning(tables.annotations.c.version)


_UPSERT = _upsert_statement()


def upsert_annotations(
    conn: sa.Connection, rows: Sequence[NewAnnotation], *, actor: str, project_id: int
) -> int:
    """Insert or update annotations by id; returns how many rows changed.

    Sending the same annotation twice (a retry after a lost reply) changes nothing and records
    no second event. A changed payload or status bumps ``version``.
    """
    changed = 0
    for row in rows:
        values = {k: getattr(row, k) for k in NewAnnotation.__dataclass_fields__}
        version = conn.execute(_UPSERT, values).scalar()
        if version is None:
            _check_same_owner(conn, row)
            continue
        changed += 1
        record_event(
            conn,
            actor=actor,
            action=f"annotation.{row.status.value}",
            entity="annotation",
            entity_id=row.id,
            project_id=project_id,
            after={"task_id": row.task_id, "version": version, "payload": row.payload},
        )
    return changed


def annotation_owners(
    conn: sa.Connection, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[int, int]]:
    """``id -> (task id, user id)`` for those of ``ids`` that exist."""
    rows = conn.execute(
        sa.select(
            tables.annotations.c.id, tables.annotations.c.task_id, tables.annotations.c.user_id
        ).where(tables.annotations.c.id.in_(ids))
    ).all()
    return {r.id: (r.task_id, r.user_id) for r in rows}


def _check_same_owner(conn: sa.Connection, row: NewAnnotation) -> None:
    owner = conn.execute(
        sa.select(tables.annotations.c.task_id, tables.annotations.c.user_id).where(
            tables.annotations.c.id == row.id
        )
    ).one()
    if (owner.task_id, owner.user_id) != (row.task_id, row.user_id):
        msg = (
            f"id={str(row.id)!r} already names an annotation of another task or user; "
            "annotation ids must be unique: make a new uuid4 for each annotation"
        )
        raise StoreError(msg)


ANNOTATION_SCHEMA: Mapping[str, Any] = {
    "annotation_id": pl.String,
    "task_id": pl.Int64,
    "external_id": pl.String,
    "user": pl.String,
    "kind": pl.String,
    "status": pl.String,
    "payload": pl.String,
    "version": pl.Int32,
    "parent_id": pl.String,
    "step": pl.String,
    "time_spent": pl.Float64,
    "guidelines_version": pl.Int32,
    "model": pl.String,
    "model_digest": pl.String,
    "prompt_hash": pl.String,
    "persona_version": pl.Int32,
    "created_at": pl.Datetime("us", "UTC"),
    "updated_at": pl.Datetime("us", "UTC"),
}

_SELECT = """
SELECT a.id::text, a.task_id, t.external_id, u.name, a.kind::text, a.status::text,
       a.payload::text, a.version, a.parent_id::text, a.step, a.time_spent,
       a.guidelines_version, a.model, a.model_digest, a.prompt_hash, a.persona_version,
       a.created_at, a.updated_at{extra}
FROM annotations a JOIN tasks t ON t.id = a.task_id JOIN users u ON u.id = a.user_id
WHERE t.project_id = %(p)s
ORDER BY a.created_at, a.task_id, a.id
"""


def read_annotations(conn: sa.Connection, project_id: int) -> pl.DataFrame:
    return read_frame(conn, _SELECT.format(extra=""), {"p": project_id}, ANNOTATION_SCHEMA)


def iter_export_batches(conn: sa.Connection, project_id: int) -> Iterator[pl.DataFrame]:
    """The project's annotations with their task text, one bounded batch at a time."""
    schema = {**ANNOTATION_SCHEMA, "text": pl.String}
    sql = _SELECT.format(extra=", t.data->>'text'")
    yield from iter_frames(conn, sql, {"p": project_id}, schema)


# --- export by COPY ---------------------------------------------------------------------------
#
# COPY streams rows as the server produces them, with no Python object per value: the export
# runs at the speed of the query. PostgreSQL sends one CopyData message per row in a COPY TO
# (documented in the protocol), so every block psycopg returns is one whole row.

_EXPORT_TEXT = ", t.data->>'text'"


def _json_value(column: str) -> str:
    return f"coalesce(to_json({column})::text, 'null')"


def _json_timestamp(column: str) -> str:
    # In UTC whatever the session's TimeZone: ISO 8601 with "+00:00", as polars writes it.
    return f"left(to_json({column} AT TIME ZONE 'UTC')::text, -1) || '+00:00\"'"


# A float keeps a fraction even when whole ("27.0"), as polars writes it, so a reader that
# infers types sees floats throughout; NaN and infinities, which JSON lacks, become null.
_JSON_SECONDS = """CASE
    WHEN a.time_spent IS NULL OR a.time_spent IN ('NaN', 'Infinity', '-Infinity') THEN 'null'
    WHEN a.time_spent = trunc(a.time_spent) AND abs(a.time_spent) < 1e15
    THEN a.time_spent::bigint::text || '.0'
    ELSE a.time_spent::text END"""


def _json_quoted(column: str) -> str:
    # For values JSON never needs to escape (a uuid, an enum label): cheaper than to_json.
    return f"""'"' || {column}::text || '"'"""


_JSON_FIELDS: tuple[tuple[str, str], ...] = (
    ("annotation_id", _json_quoted("a.id")),
    ("task_id", "a.task_id::text"),
    ("external_id", _json_value("t.external_id")),
    ("user", _json_value("u.name")),
    ("kind", _json_quoted("a.kind")),
    ("status", _json_quoted("a.status")),
    ("version", "a.version::text"),
    ("parent_id", f"coalesce({_json_quoted('a.parent_id')}, 'null')"),
    ("step", _json_value("a.step")),
    ("time_spent", _JSON_SECONDS),
    ("guidelines_version", "coalesce(a.guidelines_version::text, 'null')"),
    ("model", _json_value("a.model")),
    ("model_digest", _json_value("a.model_digest")),
    ("prompt_hash", _json_value("a.prompt_hash")),
    ("persona_version", "coalesce(a.persona_version::text, 'null')"),
    ("created_at", _json_timestamp("a.created_at")),
    ("updated_at", _json_timestamp("a.updated_at")),
    ("text", _json_value("t.data->>'text'")),
    ("payload", "a.payload::text"),  # already JSON: spliced in, never re-encoded
)


def _json_line_select() -> str:
    # One concat() allocates the line once; a chain of || copies it at every step. Every
    # value above is non-null (coalesced, or a NOT NULL column), as concat() would drop a null.
    keys = [f"'{'{' if i == 0 else ','}\"{name}\":'" for i, (name, _) in enumerate(_JSON_FIELDS)]
    parts = [f"{key}, {value}" for key, (_, value) in zip(keys, _JSON_FIELDS, strict=True)]
    rest = _SELECT.partition("FROM ")[2]
    return f"SELECT concat({', '.join(parts)}, '}}')\nFROM {rest}"


# The lines are written as a one-column CSV whose quote and delimiter are control characters:
# JSON text escapes every control character, so no line is ever quoted or escaped by COPY and
# the output is exactly the JSON lines.
_COPY_JSON_LINES = (
    f"COPY ({_json_line_select()}) TO STDOUT (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')"
)
_COPY_CSV = f"COPY ({_SELECT.format(extra=_EXPORT_TEXT)}) TO STDOUT (FORMAT csv)"
EXPORT_CSV_SCHEMA: Mapping[str, Any] = {**ANNOTATION_SCHEMA, "text": pl.String}
# COPY sends bytes in the client encoding: the files are UTF-8 whatever the session's was.
_UTF8 = "SET LOCAL client_encoding = 'UTF8'"


def copy_export_json_lines(
    conn: sa.Connection, project_id: int, write: Callable[[bytes], object]
) -> int:
    """Pass the project's annotations as JSON lines (each ending in a newline) to ``write``,
    in export order, a block at a time; returns the number of lines.

    Postgres builds each line, with the columns of ``iter_export_batches`` and the payload as
    an object, so the client only moves bytes.
    """
    with driver_connection(conn).cursor() as cur:
        cur.execute(_UTF8)
        with cur.copy(_COPY_JSON_LINES, {"p": project_id}) as copy:
            for block in copy:
                write(block)
        return int(cur.rowcount)


def iter_export_csv(conn: sa.Connection, project_id: int, *, chunk_bytes: int) -> Iterator[bytes]:
    """The project's annotations as headerless CSV (the columns of ``EXPORT_CSV_SCHEMA``, in
    export order), in chunks of whole rows of about ``chunk_bytes`` (more when one row is).

    Timestamps are in UTC, in Postgres' ISO output (``2026-01-02 03:04:05.5+00``); an empty
    unquoted field is null, ``""`` an empty string.
    """
    with driver_connection(conn).cursor() as cur:
        cur.execute(_UTF8)
        cur.execute("SET LOCAL TimeZone = 'UTC'")
        with cur.copy(_COPY_CSV, {"p": project_id}) as copy:
            chunk = bytearray()
            for block in copy:
                chunk += block
                if len(chunk) >= chunk_bytes:
                    yield bytes(chunk)
                    chunk.clear()
            if chunk:
                yield bytes(chunk)


# --- answers by task, for the training formats ---------------------------------------------


@dataclass(frozen=True)
class TaskAnswer:
    """One task with one of its answers (all answer fields None for a task with none)."""

    task_id: int
    external_id: str
    data: dict[str, Any]
    annotation_id: uuid.UUID | None
    user: str | None
    kind: str | None
    step: str | None
    payload: dict[str, Any] | None


# Drafts are unfinished, a rejected answer was turned down and a superseded one replaced: none
# of them is an answer to train on.
_TASK_ANSWERS = """
SELECT t.id, t.external_id, t.data, a.id, u.name, a.kind::text, a.step, a.payload
FROM tasks t
LEFT JOIN annotations a ON a.task_id = t.id AND a.status IN ('submitted', 'approved')
LEFT JOIN users u ON u.id = a.user_id
WHERE t.project_id = %(p)s {only}
ORDER BY t.id, a.created_at, a.id
"""


def iter_task_answers(
    conn: sa.Connection,
    project_id: int,
    *,
    task_ids: Sequence[int] | None = None,
    batch_rows: int = 2_000,
) -> Iterator[TaskAnswer]:
    """Every task of the project (or those of ``task_ids``) with each of its submitted or
    approved answers, oldest first, ordered by task: a task's rows come together. A server-side
    cursor keeps one batch in memory whatever the project's size."""
    only = "" if task_ids is None else "AND t.id = ANY(%(ids)s)"
    params = {"p": project_id, "ids": list(task_ids or [])}
    with driver_connection(conn).cursor(name="annolab_task_answers") as cur:
        cur.itersize = batch_rows
        cur.execute(_TASK_ANSWERS.format(only=only), params)
        while rows := cur.fetchmany(batch_rows):
            for row in rows:
                yield TaskAnswer(*row)


def count_tasks(conn: sa.Connection, project_id: int) -> int:
    """How many tasks the project has (a progress bar's total)."""
    found = conn.execute(
        sa.text("SELECT count(*) FROM tasks WHERE project_id = :p"), {"p": project_id}
    ).scalar_one()
    return int(found)
