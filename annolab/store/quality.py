"""Quality scores, alerts and restrictions, kept in the event log."""

from __future__ import annotations

from typing import Any

import polars as pl
import sqlalchemy as sa

from annolab.store.events import record_event
from annolab.store.frames import read_frame

SCORES: dict[str, pl.DataType | type[pl.DataType]] = {
    "scope": pl.String,
    "at": pl.Datetime("us", "UTC"),
    "evaluator": pl.String,
    "score": pl.Float64,
}


def record_score(
    conn: sa.Connection,
    *,
    actor: str,
    project_id: int,
    user: str,
    annotation_id: str,
    evaluator: str,
    score: float,
) -> None:
    record_event(
        conn,
        actor=actor,
        action="quality.scored",
        entity="annotation",
        entity_id=annotation_id,
        project_id=project_id,
        after={"user": user, "evaluator": evaluator, "score": score},
    )


def scores(conn: sa.Connection, project_id: int, *, scope: str) -> pl.DataFrame:
    """Scores by ``scope``: ``user`` (the annotator's name) or ``task`` (the annotation id)."""
    key = "e.after->>'user'" if scope == "user" else "e.entity_id"
    return read_frame(
        conn,
        f"SELECT {key}, e.at, e.after->>'evaluator', (e.after->>'score')::float "
        "FROM events e WHERE e.project_id = %(p)s AND e.action = 'quality.scored' ORDER BY e.id",
        {"p": project_id},
        SCORES,
    )


def gold_payload(conn: sa.Connection, task_id: int) -> dict[str, Any] | None:
    row = conn.execute(
        sa.text(
            "SELECT payload FROM annotations WHERE task_id = :t AND kind = 'gold' "
            "AND status <> 'superseded' ORDER BY updated_at DESC LIMIT 1"
        ),
        {"t": task_id},
    ).scalar()
    return None if row is None else dict(row)


def restriction(conn: sa.Connection, project_id: int, user: str) -> str | None:
    """Why ``user`` may not take tasks in the project now (the last restriction not lifted)."""
    row = conn.execute(
        sa.text(
            "SELECT action, after FROM events WHERE project_id = :p "
            "AND action IN ('quality.restricted', 'quality.unrestricted') "
            "AND after->>'user' = :u ORDER BY id DESC LIMIT 1"
        ),
        {"p": project_id, "u": user},
    ).one_or_none()
    if row is None or row.action == "quality.unrestricted":
        return None
    return f"Restricted by quality rule {row.after['rule']!r}: {row.after['reason']}"
