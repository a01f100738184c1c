"""Widget telemetry in the store: batched writes, idempotent on the widget's batch id, and reads.

A widget sums what happened while a task was on screen (keys, pointer actions, edits, undos,
redos, active and idle milliseconds) and sends one summary at submit, draft or skip, and every
so often in between, never one message per event. The annotation loop writes the summaries it
holds in one ``INSERT`` of many rows. Each summary carries a ``batch_id`` the widget made, the
table's primary key, so a batch written again after a failure (or twice by a retry) adds
nothing: ``ON CONFLICT (batch_id) DO NOTHING``.

On a team server row-level security (``annolab.store.roles``) lets an annotator insert only
rows with their own user id and read only their own; leads read all.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from annolab.store.frames import read_frame
from annolab.store.tables import TELEMETRY_COUNTS, telemetry

__all__ = ["REASONS", "TELEMETRY_SCHEMA", "TelemetryRow", "read_telemetry", "write_telemetry"]

# Why a widget sent a summary: the annotator's action, or the periodic send while in use.
REASONS = ("submit", "draft", "skip", "interval")


@dataclass(frozen=True)
class TelemetryRow:
    """One widget summary, tied to whose work it measured and where."""

    batch_id: uuid.UUID
    user_id: int
    project_id: int
    task_id: int
    assignment_id: int | None
    step: str
    widget: str
    reason: str
    active_ms: int
    idle_ms: int
    keys: int
    pointer: int
    edits: int
    undos: int
    redos: int


def write_telemetry(conn: sa.Connection, rows: Sequence[TelemetryRow]) -> int:
    """Insert ``rows`` in one statement; returns how many were new (a repeated batch id is 0).

    >>> write_telemetry(conn, [row])  # doctest: +SKIP
    1
    """
    if not rows:
        return 0
    # One multi-row VALUES list: a batch is one round trip and one statement, not many.
    stmt = (
        pg.insert(telemetry)
        .values([asdict(row) for row in rows])
        .on_conflict_do_nothing(index_elements=["batch_id"])
        # RETURNING lists only the rows written: a repeated batch id returns nothing.
        .returning(telemetry.c.batch_id)
    )
    return len(conn.execute(stmt).all())


TELEMETRY_SCHEMA: dict[str, pl.DataType | type[pl.DataType]] = {
    "batch_id": pl.String,
    "at": pl.Datetime("us", "UTC"),
    "user": pl.String,
    "task": pl.String,
    "step": pl.String,
    "assignment_id": pl.Int64,
    "widget": pl.String,
    "reason": pl.String,
    **{name: pl.Int64 for name in TELEMETRY_COUNTS},
}


def read_telemetry(
    conn: sa.Connection, project_id: int, *, user_id: int | None = None
) -> pl.DataFrame:
    """The project's telemetry rows, oldest first, as ``TELEMETRY_SCHEMA`` columns.

    Reads what the login may read: on a team server an annotator gets only their own rows.
    """
    where = "tm.project_id = %(project)s"
    params: dict[str, object] = {"project": project_id}
    if user_id is not None:
        where += " AND tm.user_id = %(user)s"
        params["user"] = user_id
    counts = ", ".join(f"tm.{name}" for name in TELEMETRY_COUNTS)
    sql = (
        "SELECT tm.batch_id::text, tm.created_at, u.name, t.external_id, tm.step,"
        f" tm.assignment_id, tm.widget, tm.reason, {counts}"
        " FROM telemetry tm JOIN users u ON u.id = tm.user_id"
        " JOIN tasks t ON t.id = tm.task_id"
        f" WHERE {where} ORDER BY tm.created_at, tm.batch_id"
    )
    return read_frame(conn, sql, params, TELEMETRY_SCHEMA)
