"""Tasks: bulk loading with COPY, and reading them back."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any

import polars as pl
import psycopg
import sqlalchemy as sa

from annolab.errors import StoreError
from annolab.store.assignments import refuse_unless_active
from annolab.store.events import record_event
from annolab.store.frames import driver_connection, read_frame

COPY_BATCH_ROWS = 100_000
_TAKES_TASKS = ("draft", "active")

TASK_SCHEMA: Mapping[str, Any] = {
    "task_id": pl.Int64,
    "external_id": pl.String,
    "text": pl.String,
    "data": pl.String,
    "priority": pl.Int32,
    "status": pl.String,
    "step": pl.String,
    "created_at": pl.Datetime("us", "UTC"),
}


def copy_tasks(
    conn: sa.Connection,
    *,
    actor: str,
    project_id: int,
    rows: pl.DataFrame,
    step: str = "annotate",
    needed: int = 1,
) -> int:
    """Add ``rows`` (columns ``external_id``, ``data`` as JSON text, ``priority``) to a project.

    Rows whose external id the project already has are left alone. Returns how many were new.
    A project with no tasks yet takes a direct COPY into ``tasks`` (the bulk first load, as fast
    as a raw COPY); otherwise, or if a concurrent load wins the race for an id, rows go through a
    temporary table and ``INSERT ... ON CONFLICT DO NOTHING``.
    """
    raw = driver_connection(conn)
    project = conn.execute(
        sa.text(
            "SELECT name, status::text AS status, "
            "EXISTS (SELECT 1 FROM tasks WHERE project_id = :p) AS has_tasks, "
            "has_table_privilege('tasks', 'INSERT') AS may_add "
            "FROM projects WHERE id = :p"
        ),
        {"p": project_id},
    ).one_or_none()
    name, status = (None, None) if project is None else (project.name, project.status)
    if status not in _TAKES_TASKS:
        # A draft is still being filled; a paused, completed or archived project takes none.
        refuse_unless_active(project_id, name, status, doing="added to it")
    if project is not None and not project.may_add:
        msg = (
            f"project {name!r}: this login may not add tasks; on a team server a lead adds "
            "them (`annolab team-user NAME --lead` makes a lead)"
        )
        raise StoreError(msg)
    has_tasks = project is not None and project.has_tasks
    new = None
    if not has_tasks:
        try:
            with conn.begin_nested():
                _copy(
                    raw,
                    "tasks (project_id, external_id, data, priority, step, needed)",
                    rows,
                    project_id,
                    step=step,
                    needed=needed,
                )
                new = rows.height
        except psycopg.errors.UniqueViolation:
            new = None  # another session added some of these ids meanwhile: merge below
        except psycopg.errors.FeatureNotSupported:
            # Row-level security (a lead on a team server) refuses COPY into the table itself;
            # COPY into the session's own staging table and INSERT from there is allowed.
            new = None
    if new is None:
        new = _merge(conn, raw, project_id, rows, step=step, needed=needed)
    record_event(
        conn,
        actor=actor,
        action="tasks.added",
        entity="project",
        entity_id=project_id,
        project_id=project_id,
        after={"new": new, "existing": rows.height - new},
    )
    return new


def _merge(
    conn: sa.Connection, raw: Any, project_id: int, rows: pl.DataFrame, *, step: str, needed: int
) -> int:
    conn.execute(
        sa.text(
            "CREATE TEMP TABLE IF NOT EXISTS annolab_task_stage "
            "(project_id bigint, external_id text, data jsonb, priority integer, step text, "
            "needed integer) ON COMMIT DROP"
        )
    )
    conn.execute(sa.text("TRUNCATE annolab_task_stage"))
    _copy(
        raw,
        "annolab_task_stage (project_id, external_id, data, priority, step, needed)",
        rows,
        project_id,
        step=step,
        needed=needed,
    )
    result = conn.execute(
        sa.text(
            "INSERT INTO tasks (project_id, external_id, data, priority, step, needed) "
            "SELECT project_id, external_id, data, priority, step, needed FROM annolab_task_stage "
            "ON CONFLICT (project_id, external_id) DO NOTHING"
        )
    )
    return int(result.rowcount)


def _copy(
    raw: Any, target: str, rows: pl.DataFrame, project_id: int, *, step: str, needed: int
) -> None:
    # CSV made by polars in Rust is the cheapest way to feed COPY from a frame; batches bound
    # the size of the buffer. Empty ids and texts were refused upstream, and COPY's CSV reads an
    # unquoted empty field as NULL, so nothing here can turn into a NULL by accident.
    columns = rows.select(
        pl.lit(project_id, dtype=pl.Int64).alias("project_id"),
        "external_id",
        "data",
        "priority",
        pl.lit(step).alias("step"),
        pl.lit(needed, dtype=pl.Int32).alias("needed"),
    )
    with raw.cursor() as cur, cur.copy(f"COPY {target} FROM STDIN (FORMAT csv)") as copy:
        for start in range(0, columns.height, COPY_BATCH_ROWS):
            buffer = io.BytesIO()
            columns.slice(start, COPY_BATCH_ROWS).write_csv(buffer, include_header=False)
            copy.write(buffer.getbuffer())


def read_tasks(conn: sa.Connection, project_id: int) -> pl.DataFrame:
    return read_frame(
        conn,
        "SELECT id, external_id, data->>'text', data::text, priority, status::text, step, "
        "created_at "
        "FROM tasks WHERE project_id = %(p)s ORDER BY id",
        {"p": project_id},
        TASK_SCHEMA,
    )


def task_lookup(conn: sa.Connection, project_id: int, external_ids: list[str]) -> dict[str, Any]:
    """``external_id -> (task id, text)`` for the ids that exist in the project."""
    rows = conn.execute(
        sa.text(
            "SELECT external_id, id, data->>'text' AS text FROM tasks "
            "WHERE project_id = :p AND external_id = ANY(:ids)"
        ),
        {"p": project_id, "ids": external_ids},
    ).all()
    return {r.external_id: (r.id, r.text) for r in rows}
