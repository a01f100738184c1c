"""The tasks a person set aside: the ones they skipped and the ones they left a draft on.

A skip is "not now", not "never": the place goes back to the pool (someone else may take it),
and while the task still has room at the step where it was skipped, the person who skipped it
can take it up again. Their skipped assignment is reactivated, as a lease that ran out is, so
``UNIQUE (task_id, step, user_id)`` still holds and the claim counts itself on the task row.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from annolab.store.assignments import Claim

_sql = functools.cache(sa.text)


@dataclass(frozen=True)
class SetAside:
    """A task the user skipped or drafted, as the loop lists it."""

    task_id: int
    external_id: str
    step: str
    at: dt.datetime  # when it was skipped, or the draft last saved


# Skipped at the step the task is still at, which still has room for them.
_SKIPPED = """
    FROM assignments a JOIN tasks t ON t.id = a.task_id
    WHERE t.project_id = :p AND a.user_id = :u AND a.status = 'skipped' AND a.step = t.step
      AND t.step = ANY(:steps) AND t.status IN ('pending', 'in_progress')
      AND t.assigned < t.needed
"""
# A draft on a place they still hold, or held until the lease ran out and can take again.
_DRAFTED = """
    FROM annotations an JOIN tasks t ON t.id = an.task_id
    JOIN assignments a ON a.task_id = an.task_id AND a.user_id = an.user_id AND a.step = an.step
    WHERE t.project_id = :p AND an.user_id = :u AND an.status = 'draft' AND an.kind = 'human'
      AND a.step = t.step AND t.step = ANY(:steps) AND t.status IN ('pending', 'in_progress')
      AND (a.status = 'active' OR (a.status = 'expired' AND t.assigned < t.needed))
"""


def skipped_tasks(
    conn: sa.Connection, *, project_id: int, user_id: int, steps: Sequence[str]
) -> list[SetAside]:
    """The tasks this user skipped that they can still take up again, oldest skip first."""
    rows = conn.execute(
        _sql(f"SELECT t.id, t.external_id, a.step, a.completed_at {_SKIPPED} ORDER BY 4, 1"),
        {"p": project_id, "u": user_id, "steps": list(steps)},
    ).all()
    return [SetAside(*row) for row in rows]


def drafted_tasks(
    conn: sa.Connection, *, project_id: int, user_id: int, steps: Sequence[str]
) -> list[SetAside]:
    """The tasks this user saved a draft on and has not submitted, oldest draft first."""
    rows = conn.execute(
        _sql(f"SELECT t.id, t.external_id, an.step, an.updated_at {_DRAFTED} ORDER BY 4, 1"),
        {"p": project_id, "u": user_id, "steps": list(steps)},
    ).all()
    return [SetAside(*row) for row in rows]


def skipped_count(
    conn: sa.Connection, *, project_id: int, user_id: int, steps: Sequence[str]
) -> int:
    """How many of :func:`skipped_tasks` there are (the loop's denominator counts them)."""
    return int(
        conn.execute(
            _sql(f"SELECT count(*) {_SKIPPED}"),
            {"p": project_id, "u": user_id, "steps": list(steps)},
        ).scalar_one()
    )


def my_draft(
    conn: sa.Connection, *, task_id: int, step: str, user_id: int
) -> dict[str, Any] | None:
    """The user's draft answer to the task at ``step``, or None."""
    row = conn.execute(
        _sql(
            "SELECT payload FROM annotations WHERE task_id = :t AND step = :s AND user_id = :u "
            "AND status = 'draft' AND kind = 'human' ORDER BY updated_at DESC LIMIT 1"
        ),
        {"t": task_id, "s": step, "u": user_id},
    ).first()
    return None if row is None else dict(row[0])


def take_up_again(
    conn: sa.Connection,
    *,
    actor: str,
    project_id: int,
    user_id: int,
    task_id: int,
    steps: Sequence[str],
    lease: dt.timedelta,
    now: dt.datetime,
) -> Claim | None:
    """Claim ``task_id`` again for a user who skipped it or whose lease on it ran out.

    None when it is not theirs to take up: never claimed by them, submitted, moved on to
    another step, full, or locked by another claim this instant (the caller says so).
    """
    picked = conn.execute(
        _sql(
            """
            WITH pick AS (
                SELECT t.id FROM tasks t
                JOIN assignments a ON a.task_id = t.id AND a.step = t.step AND a.user_id = :u
                WHERE t.id = :t AND t.project_id = :p AND t.step = ANY(:steps)
                  AND t.status IN ('pending', 'in_progress') AND t.assigned < t.needed
                  AND a.status IN ('skipped', 'expired')
                FOR NO KEY UPDATE OF t SKIP LOCKED
            ), took AS (
                UPDATE tasks t SET assigned = t.assigned + 1, status = 'in_progress'
                FROM pick WHERE t.id = pick.id
                RETURNING t.id, t.external_id, t.step, t.data
            ), placed AS (
                UPDATE assignments a SET status = 'active', lease_expires_at = :exp,
                    created_at = :now, completed_at = NULL
                FROM took WHERE a.task_id = took.id AND a.step = took.step AND a.user_id = :u
                RETURNING a.id, a.task_id, a.step
            ), logged AS (
                INSERT INTO events (actor, action, entity, entity_id, project_id, after)
                SELECT :actor, 'task.assigned', 'task', task_id::text, :p,
                       jsonb_build_object('step', step, 'user_id', CAST(:u AS bigint),
                                          'assignment_id', id, 'task_status', 'in_progress',
                                          'again', true)
                FROM placed
            )
            SELECT placed.id, took.id, took.external_id, took.step, took.data
            FROM took JOIN placed ON placed.task_id = took.id
            """
        ),
        {
            "p": project_id,
            "u": user_id,
            "t": task_id,
            "actor": actor,
            "steps": list(steps),
            "now": now,
            "exp": now + lease,
        },
    ).one_or_none()
    if picked is None:
        return None
    return Claim(picked[0], picked[1], picked[2], picked[3], picked[4], now + lease)


def held_claim(
    conn: sa.Connection, *, project_id: int, user_id: int, task_id: int, now: dt.datetime
) -> Claim | None:
    """The user's live lease on ``task_id`` at the step it is at, or None."""
    row = conn.execute(
        _sql(
            "SELECT a.id, t.id, t.external_id, t.step, t.data, a.lease_expires_at "
            "FROM assignments a JOIN tasks t ON t.id = a.task_id AND t.step = a.step "
            "WHERE t.id = :t AND t.project_id = :p AND a.user_id = :u AND a.status = 'active' "
            "AND a.lease_expires_at >= :now"
        ),
        {"t": task_id, "p": project_id, "u": user_id, "now": now},
    ).one_or_none()
    return None if row is None else Claim(*row)


def task_id_of(conn: sa.Connection, *, project_id: int, external_id: str) -> int | None:
    """The task's row id from the id the user's data gave it."""
    found = conn.execute(
        _sql("SELECT id FROM tasks WHERE project_id = :p AND external_id = :e"),
        {"p": project_id, "e": external_id},
    ).scalar_one_or_none()
    return None if found is None else int(found)
