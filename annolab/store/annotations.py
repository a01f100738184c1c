"""Annotations: idempotent upserts on the client-made UUID, and reading them back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl
import sqlalchemy as sa
from psycopg.types.json import Jsonb

from annolab.errors import StoreError
from annolab.schema.enums import AnnotationKind, AnnotationStatus
from annolab.store import tables
from annolab.store.direct import fetch
from annolab.store.events import record_event
from annolab.store.frames import fetch_batches, iter_frames, read_frame

if TYPE_CHECKING:
    import pyarrow as pa


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


# On psycopg's cursor (``direct``): one per submit, the queue's hottest write.
_UPSERT = """
    INSERT INTO annotations (id, task_id, user_id, kind, status, payload, parent_id, step,
                             time_spent, guidelines_version, model, model_digest, prompt_hash,
                             persona_version)
    VALUES (:id, :task_id, :user_id, CAST(:kind AS annotation_kind),
            CAST(:status AS annotation_status), :payload, :parent_id, :step, :time_spent,
            :guidelines_version, :model, :model_digest, :prompt_hash, :persona_version)
    ON CONFLICT (id) DO UPDATE
        SET payload = EXCLUDED.payload, status = EXCLUDED.status,
            time_spent = EXCLUDED.time_spent, version = annotations.version + 1,
            updated_at = now()
        -- Only the owner's own annotation on the same task is ever updated in place.
        WHERE annotations.task_id = EXCLUDED.task_id AND annotations.user_id = EXCLUDED.user_id
          AND (annotations.payload <> EXCLUDED.payload OR annotations.status <> EXCLUDED.status)
    RETURNING version
"""


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
        values["payload"] = Jsonb(row.payload)
        returned = fetch(conn, _UPSERT, values)
        if not returned:
            _check_same_owner(conn, row)
            continue
        changed += 1
        ((version,),) = returned
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


# What an export writes: each annotation with its task's text.
EXPORT_SCHEMA: Mapping[str, Any] = {**ANNOTATION_SCHEMA, "text": pl.String}
_EXPORT_TEXT = ", t.data->>'text'"


def read_annotations(conn: sa.Connection, project_id: int) -> pl.DataFrame:
    return read_frame(conn, _SELECT.format(extra=""), {"p": project_id}, ANNOTATION_SCHEMA)


def read_annotations_with_text(conn: sa.Connection, project_id: int) -> pl.DataFrame:
    """``read_annotations`` with each task's ``text`` as the last column."""
    return read_frame(conn, _SELECT.format(extra=_EXPORT_TEXT), {"p": project_id}, EXPORT_SCHEMA)


def iter_export_batches(conn: sa.Connection, project_id: int) -> Iterator[pl.DataFrame]:
    """The project's annotations with their task text, one bounded batch at a time."""
    sql = _SELECT.format(extra=_EXPORT_TEXT)
    yield from iter_frames(conn, sql, {"p": project_id}, EXPORT_SCHEMA)


# --- export as Arrow ----------------------------------------------------------------------------
#
# The ADBC PostgreSQL driver runs the query as a COPY in binary format and decodes the rows into
# Arrow in C: the server formats no text and the client parses none, so the export runs at the
# speed of a raw COPY of the same SELECT (see benchmarks/ingest_export.py).


def export_arrow_schema() -> pa.Schema:
    """``EXPORT_SCHEMA`` in Arrow, strings as the driver gives them (not polars' large ones)."""
    import pyarrow as pa

    polars_schema = pl.DataFrame(schema=dict(EXPORT_SCHEMA)).to_arrow().schema
    return pa.schema(
        f.with_type(pa.string()) if pa.types.is_large_string(f.type) else f for f in polars_schema
    )


def iter_export_arrow(
    conn: sa.Connection, project_id: int, *, batch_bytes: int
) -> Iterator[pa.RecordBatch]:
    """The project's annotations with their task text, in export order, as Arrow record
    batches of about ``batch_bytes`` with the schema ``export_arrow_schema()``.

    The driver logs in with ``conn``'s own URL, as the same Postgres role, so row-level
    security is the same; it sees what is committed, not ``conn``'s own uncommitted writes.
    """
    import adbc_driver_postgresql.dbapi as adbc
    from adbc_driver_postgresql import StatementOptions

    url = conn.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    schema = export_arrow_schema()
    # A literal (an int), not a parameter: Postgres' COPY, which the driver reads by, takes none.
    sql = _SELECT.format(extra=_EXPORT_TEXT).replace("%(p)s", str(int(project_id)))
    try:
        with adbc.connect(url) as adbc_conn, adbc_conn.cursor() as cur:
            hint = StatementOptions.BATCH_SIZE_HINT_BYTES.value
            cur.adbc_statement.set_options(**{hint: str(batch_bytes)})
            cur.execute(sql)
            for batch in cur.fetch_record_batch():
                yield batch.rename_columns(schema.names).cast(schema)
    except adbc.Error as exc:
        msg = f"the export of project {project_id} failed in the database: {exc}"
        raise StoreError(msg) from exc


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
    for rows in fetch_batches(conn, _TASK_ANSWERS.format(only=only), params, batch_rows=batch_rows):
        for row in rows:
            yield TaskAnswer(*row)


def count_tasks(conn: sa.Connection, project_id: int) -> int:
    """How many tasks the project has (a progress bar's total)."""
    found = conn.execute(
        sa.text("SELECT count(*) FROM tasks WHERE project_id = :p"), {"p": project_id}
    ).scalar_one()
    return int(found)
