"""The numbers behind ``project.progress()``: task counts, completion rate, agreement scores,
sign-offs, all read from the tables and the event log in one transaction."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlalchemy as sa

from annolab.store.events import record_event

RATE_WINDOW = dt.timedelta(hours=24)


def status_counts(conn: sa.Connection, project_id: int) -> dict[str, int]:
    rows = conn.execute(
        sa.text("SELECT status::text, count(*) FROM tasks WHERE project_id = :p GROUP BY 1"),
        {"p": project_id},
    ).all()
    return {r[0]: int(r[1]) for r in rows}


def completions_since(conn: sa.Connection, project_id: int, since: dt.datetime) -> int:
    return int(
        conn.execute(
            sa.text(
                "SELECT count(*) FROM events WHERE project_id = :p AND at >= :since "
                "AND action IN ('task.completed', 'task.force_completed')"
            ),
            {"p": project_id, "since": since},
        ).scalar_one()
    )


def agreement_scores(conn: sa.Connection, project_id: int) -> list[tuple[dt.datetime, float]]:
    rows = conn.execute(
        sa.text(
            "SELECT at, (after->>'score')::float FROM events "
            "WHERE project_id = :p AND action = 'step.agreement' ORDER BY id"
        ),
        {"p": project_id},
    ).all()
    return [(r[0], float(r[1])) for r in rows]


def signoffs(conn: sa.Connection, project_id: int) -> list[dict[str, Any]]:
    rows = (
        conn.execute(
            sa.text(
                "SELECT after FROM events WHERE project_id = :p AND action = 'goal.signed_off' "
                "ORDER BY id"
            ),
            {"p": project_id},
        )
        .scalars()
        .all()
    )
    return [dict(r) for r in rows]


def update_settings(
    conn: sa.Connection, *, actor: str, project_id: int, key: str, value: Any
) -> dict[str, Any]:
    """Set one key of a project's settings; returns the new settings."""
    before = conn.execute(
        sa.text("SELECT settings -> :k FROM projects WHERE id = :p"), {"p": project_id, "k": key}
    ).scalar_one()
    settings = conn.execute(
        sa.text(
            "UPDATE projects SET settings = jsonb_set(settings, ARRAY[:k], "
            "CAST(:v AS jsonb)) WHERE id = :p RETURNING settings"
        ),
        {"p": project_id, "k": key, "v": json.dumps(value)},
    ).scalar_one()
    record_event(
        conn,
        actor=actor,
        action="project.settings_changed",
        entity="project",
        entity_id=project_id,
        project_id=project_id,
        before={key: before},
        after={key: value},
    )
    return dict(settings)
