"""Quality scores, alerts and restrictions, kept in the event log."""

from __future__ import annotations

import datetime as dt
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
    at: dt.datetime | None = None,
) -> None:
    """One score of one annotation. ``at`` is the workflow's clock at the submission (rules
    compare their windows with that clock); without it the event's own time counts."""
    after: dict[str, Any] = {"user": user, "evaluator": evaluator, "score": score}
    if at is not None:
        after["at"] = at.isoformat()
    record_event(
        conn,
        actor=actor,
        action="quality.scored",
        entity="annotation",
        entity_id=annotation_id,
        project_id=project_id,
        after=after,
    )


# How each scope names the scores it owns. A team owns its current members' scores (a user in
# two teams counts in both); the project owns all of them.
_SCOPE_SQL = {
    "user": ("e.after->>'user'", ""),
    "task": ("e.entity_id", ""),
    "team": (
        "t.name",
        "JOIN users u ON u.name = e.after->>'user' JOIN team_members m ON m.user_id = u.id "
        "JOIN teams t ON t.id = m.team_id",
    ),
    "project": ("p.name", "JOIN projects p ON p.id = e.project_id"),
}


def scores(conn: sa.Connection, project_id: int, *, scope: str) -> pl.DataFrame:
    """Scores by ``scope``: ``user`` (the annotator's name), ``task`` (the annotation id),
    ``team`` (the team's name) or ``project`` (the project's name)."""
    key, join = _SCOPE_SQL[scope]
    return read_frame(
        conn,
        f"SELECT {key}, COALESCE((e.after->>'at')::timestamptz, e.at), e.after->>'evaluator', "
        f"(e.after->>'score')::float FROM events e {join} "
        "WHERE e.project_id = %(p)s AND e.action = 'quality.scored' ORDER BY e.id",
        {"p": project_id},
        SCORES,
    )


def teams_of(conn: sa.Connection, user: str) -> list[str]:
    """The names of the teams ``user`` belongs to, sorted."""
    return list(
        conn.execute(
            sa.text(
                "SELECT t.name FROM teams t JOIN team_members m ON m.team_id = t.id "
                "JOIN users u ON u.id = m.user_id WHERE u.name = :u ORDER BY t.name"
            ),
            {"u": user},
        ).scalars()
    )


def team_members(conn: sa.Connection, team: str) -> list[str]:
    """The names of ``team``'s members, sorted."""
    return list(
        conn.execute(
            sa.text(
                "SELECT u.name FROM users u JOIN team_members m ON m.user_id = u.id "
                "JOIN teams t ON t.id = m.team_id WHERE t.name = :t ORDER BY u.name"
            ),
            {"t": team},
        ).scalars()
    )


def annotation_owner(conn: sa.Connection, annotation_id: str) -> tuple[int, str] | None:
    """(task id, user name) of an annotation, or None if there is no such annotation."""
    row = conn.execute(
        sa.text(
            "SELECT a.task_id, u.name FROM annotations a JOIN users u ON u.id = a.user_id "
            "WHERE a.id = CAST(:a AS uuid)"
        ),
        {"a": annotation_id},
    ).one_or_none()
    return None if row is None else (int(row[0]), str(row[1]))


def project_name(conn: sa.Connection, project_id: int) -> str:
    return str(
        conn.execute(
            sa.text("SELECT name FROM projects WHERE id = :p"), {"p": project_id}
        ).scalar_one()
    )


def approve_submitted(conn: sa.Connection, annotation_id: str) -> bool:
    """Approve a submitted annotation; False if it was not (any longer) just submitted."""
    done = conn.execute(
        sa.text(
            "UPDATE annotations SET status = 'approved', updated_at = now() "
            "WHERE id = CAST(:a AS uuid) AND status = 'submitted'"
        ),
        {"a": annotation_id},
    )
    return bool(done.rowcount)


def open_states(conn: sa.Connection, project_id: int) -> set[tuple[str, str, str]]:
    """(rule, scope kind, scope) of every alert or review requirement no later evaluation
    cleared: each is recorded once when its rule starts holding, not on every check."""
    rows = conn.execute(
        sa.text(
            "SELECT DISTINCT ON (after->>'rule', after->>'scope_kind', after->>'scope') "
            "action, after->>'rule', after->>'scope_kind', after->>'scope' FROM events "
            "WHERE project_id = :p AND after->>'scope_kind' IS NOT NULL "
            "AND action IN ('quality.alert', 'quality.review_required', 'quality.cleared') "
            "ORDER BY after->>'rule', after->>'scope_kind', after->>'scope', id DESC"
        ),
        {"p": project_id},
    ).all()
    return {(r[1], r[2], r[3]) for r in rows if r[0] != "quality.cleared"}


def sent_to_review(conn: sa.Connection, task_id: int) -> bool:
    """Whether a quality rule sent one of the submissions now standing at the task's current
    step to review (``quality.sent_to_review``): a sampled review step then takes the task.
    Work rejected in an earlier round no longer stands, so its mark no longer counts."""
    return bool(
        conn.execute(
            sa.text(
                "SELECT EXISTS (SELECT 1 FROM events r "
                "JOIN annotations an ON an.id::text = r.after->>'annotation' "
                "JOIN tasks t ON t.id = an.task_id AND an.step = t.step "
                "WHERE r.entity = 'task' AND r.entity_id = :t "
                "AND r.action = 'quality.sent_to_review' "
                "AND an.status IN ('submitted', 'approved'))"
            ),
            {"t": str(task_id)},
        ).scalar_one()
    )


def latest_gold(task: str) -> str:
    """SQL for the payload of the task's gold annotation (``task`` is an SQL expression)."""
    return (
        f"SELECT payload FROM annotations WHERE task_id = {task} AND kind = 'gold' "
        "AND status <> 'superseded' ORDER BY updated_at DESC LIMIT 1"
    )


def gold_payload(conn: sa.Connection, task_id: int) -> dict[str, Any] | None:
    row = conn.execute(sa.text(latest_gold(":t")), {"t": task_id}).scalar()
    return None if row is None else dict(row)


def latest_restriction(user: str) -> str:
    """SQL for the user's last restriction event in project ``:p`` (``user`` is an SQL
    expression: a parameter, or a column when a claim reads it beside other things)."""
    return (
        "SELECT action, after FROM events WHERE project_id = :p "
        "AND action IN ('quality.restricted', 'quality.unrestricted') "
        f"AND after->>'user' = {user} ORDER BY id DESC LIMIT 1"
    )


def restriction_reason(action: str | None, after: dict[str, Any] | None) -> str | None:
    """The refusal a restriction event gives, or None when there is none in force."""
    if action != "quality.restricted" or after is None:
        return None
    return f"Restricted by quality rule {after['rule']!r}: {after['reason']}"


def restriction(conn: sa.Connection, project_id: int, user: str) -> str | None:
    """Why ``user`` may not take tasks in the project now (the last restriction not lifted)."""
    row = conn.execute(
        sa.text(latest_restriction(":u")), {"p": project_id, "u": user}
    ).one_or_none()
    return None if row is None else restriction_reason(row.action, row.after)
