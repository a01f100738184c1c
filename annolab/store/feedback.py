"""Feedback on annotations (ratings 1-5, comments, error spans) and what refinement reads back."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa

from annolab.store.events import record_event
from annolab.store.frames import read_frame
from annolab.store.tables import feedback


def latest_persona_annotation(
    conn: sa.Connection, *, project_id: int, external_id: str, user_id: int, version: int | None
) -> tuple[uuid.UUID, int, str, dict[str, Any]] | None:
    """``(annotation id, task id, task text, payload)`` of the persona's newest annotation of
    the task (of ``version`` when given), or None."""
    row = conn.execute(
        sa.text(
            "SELECT a.id, a.task_id, t.data->>'text' AS text, a.payload FROM annotations a "
            "JOIN tasks t ON t.id = a.task_id WHERE t.project_id = :p AND t.external_id = :e "
            "AND a.user_id = :u AND a.kind = 'persona' "
            "AND (CAST(:v AS integer) IS NULL OR a.persona_version = :v) "
            "ORDER BY a.updated_at DESC, a.id LIMIT 1"
        ),
        {"p": project_id, "e": external_id, "u": user_id, "v": version},
    ).first()
    if row is None:
        return None
    return row.id, int(row.task_id), str(row.text or ""), dict(row.payload)


def add_feedback(
    conn: sa.Connection,
    *,
    actor: str,
    project_id: int,
    annotation_id: uuid.UUID,
    user_id: int,
    rating: int | None,
    comment: str,
    error_spans: Sequence[Mapping[str, Any]],
) -> int:
    """Store one piece of feedback on an annotation, with its event; returns its id."""
    new_id = conn.execute(
        feedback.insert()
        .values(
            annotation_id=annotation_id,
            user_id=user_id,
            rating=rating,
            comment=comment,
            error_spans=[dict(s) for s in error_spans],
        )
        .returning(feedback.c.id)
    ).scalar_one()
    record_event(
        conn,
        actor=actor,
        action="annotation.feedback",
        entity="annotation",
        entity_id=annotation_id,
        project_id=project_id,
        after={"rating": rating, "comment": comment, "error_spans": [dict(s) for s in error_spans]},
    )
    return int(new_id)


FEEDBACK_SCHEMA: Mapping[str, Any] = {
    "task_id": pl.Int64,
    "external_id": pl.String,
    "text": pl.String,
    "version": pl.Int32,
    "annotation_id": pl.String,
    "payload": pl.String,
    "by": pl.String,
    "rating": pl.Int16,
    "comment": pl.String,
    "error_spans": pl.String,
    "correction": pl.String,
    "created_at": pl.Datetime("us", "UTC"),
}


def read_persona_feedback(conn: sa.Connection, user_id: int) -> pl.DataFrame:
    """Ratings and corrections of a persona's annotations, oldest first.

    A rating is a ``feedback`` row; a correction is a human annotation whose ``parent_id`` is
    the persona's annotation (its ``correction`` is that payload, ``rating`` null).
    """
    return read_frame(
        conn,
        "SELECT a.task_id, t.external_id, t.data->>'text', a.persona_version, a.id::text, "
        "a.payload::text, u.name, f.rating, f.comment, f.error_spans::text, NULL, f.created_at "
        "FROM feedback f JOIN annotations a ON a.id = f.annotation_id "
        "JOIN tasks t ON t.id = a.task_id JOIN users u ON u.id = f.user_id "
        "WHERE a.user_id = %(u)s "
        "UNION ALL "
        "SELECT a.task_id, t.external_id, t.data->>'text', a.persona_version, a.id::text, "
        "a.payload::text, u.name, NULL, '', '[]', c.payload::text, c.created_at "
        "FROM annotations c JOIN annotations a ON a.id = c.parent_id "
        "JOIN tasks t ON t.id = a.task_id JOIN users u ON u.id = c.user_id "
        "WHERE a.user_id = %(u)s AND c.kind = 'human' AND c.status IN ('submitted', 'approved') "
        "ORDER BY 12, 1",
        {"u": user_id},
        FEEDBACK_SCHEMA,
    )


def comments_by(conn: sa.Connection, *, user_id: int, project_id: int) -> list[str]:
    """What ``user_id`` wrote in feedback and reviews on the project's annotations, oldest
    first (empty comments left out)."""
    rows = conn.execute(
        sa.text(
            "SELECT comment FROM (SELECT f.comment, f.created_at FROM feedback f "
            "  JOIN annotations a ON a.id = f.annotation_id JOIN tasks t ON t.id = a.task_id "
            "  WHERE f.user_id = :u AND t.project_id = :p "
            " UNION ALL SELECT r.comment, r.created_at FROM reviews r "
            "  JOIN annotations a ON a.id = r.annotation_id JOIN tasks t ON t.id = a.task_id "
            "  WHERE r.reviewer_id = :u AND t.project_id = :p) c "
            "WHERE comment <> '' ORDER BY created_at"
        ),
        {"u": user_id, "p": project_id},
    )
    return [str(r.comment) for r in rows]
