"""Claims, leases and submissions: the queue, with its concurrency in Postgres.

A claim locks one task row with ``FOR NO KEY UPDATE SKIP LOCKED`` and counts itself on that row
(``tasks.assigned``), so two people can never take the last place on a task and a busy queue
never waits on a lock. ``UNIQUE (task_id, step, user_id)`` makes a second claim of the same task
by the same person impossible, not just unlikely. Leases that run out hand their place back;
the person whose lease it was may take it up again (the same assignment, reactivated).

NO KEY UPDATE rather than UPDATE: writing an annotation takes a KEY SHARE lock on its task (the
foreign key), which FOR UPDATE waits on (two submits of one task would deadlock) and SKIP LOCKED
would skip (a task being annotated would vanish from the queue). NO KEY UPDATE still excludes
every other claim and step decision on the row.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from annolab.errors import AssignmentError, WorkflowError
from annolab.schema.enums import TASK_TRANSITIONS, TaskStatus
from annolab.store.direct import fetch
from annolab.store.events import record_event
from annolab.store.quality import latest_gold, latest_restriction, restriction_reason
from annolab.store.users import PROFILE_COLUMNS, UserProfile, profile_of
from annolab.store.writes import defer

# Each statement parsed once: building a TextClause (finding its bind parameters) every call
# cost more client CPU than running it cost the server.
_sql = functools.cache(sa.text)


@dataclass(frozen=True)
class Claim:
    assignment_id: int
    task_id: int
    external_id: str
    step: str
    data: dict[str, Any]
    lease_expires_at: dt.datetime


def expire_leases(conn: sa.Connection, project_id: int, now: dt.datetime) -> int:
    """Hand back the places of leases that ran out; returns how many expired."""
    rows = conn.execute(
        _sql(
            """
            WITH gone AS (
                UPDATE assignments a SET status = 'expired'
                FROM tasks t
                WHERE t.id = a.task_id AND t.project_id = :p AND a.status = 'active'
                  AND a.step = t.step AND a.lease_expires_at < :now
                RETURNING a.id, a.task_id, a.user_id
            ), per_task AS (
                SELECT task_id, count(*) AS n FROM gone GROUP BY task_id
            ), freed AS (
                UPDATE tasks t SET assigned = t.assigned - per_task.n,
                    status = CASE WHEN t.assigned - per_task.n = 0 THEN 'pending'::task_status
                                  ELSE t.status END
                FROM per_task WHERE t.id = per_task.task_id
                RETURNING t.id, t.status::text AS status
            )
            SELECT gone.id, gone.task_id, gone.user_id, freed.status
            FROM gone JOIN freed ON freed.id = gone.task_id
            """
        ),
        {"p": project_id, "now": now},
    ).all()
    for row in rows:
        record_event(
            conn,
            actor="annolab",
            action="assignment.expired",
            entity="assignment",
            entity_id=row.id,
            project_id=project_id,
            after={"task_id": row.task_id, "user_id": row.user_id, "task_status": row.status},
        )
    return len(rows)


@dataclass(frozen=True)
class Standing:
    """What a claim checks about its user, read in one round trip."""

    user: UserProfile
    held: Claim | None  # the oldest task they hold with a live lease, at its current step
    holding: int  # how many live leases they hold
    restricted: str | None  # the quality restriction in force, in words


def standing(conn: sa.Connection, *, project_id: int, user_id: int, now: dt.datetime) -> Standing:
    """The user's profile, held task, live lease count and restriction in this project.

    The held task comes back to ``next()`` after a kernel restart, or when a review hands it
    back for revision. Leases past their end count for nothing even before a sweep marks them.

    Raises AssignmentError when the project takes no claims: it is not active (paused,
    completed, archived, or still a draft), or on a team server the user is not a member.

    A claim commits durably, like a submit: a claim already returned survives a crash of the
    server, so the work done on it is kept when it is submitted after the restart.
    """
    (row,) = fetch(
        conn,
        f"""
            SELECT {PROFILE_COLUMNS}, h.*, r.action AS r_action, r.after AS r_after,
                   pr.name AS p_name, pr.status::text AS p_status
            FROM users u
            LEFT JOIN projects pr ON pr.id = :p
            LEFT JOIN LATERAL (
                SELECT a.id AS a_id, a.task_id, t.external_id, a.step, t.data,
                       a.lease_expires_at, a.step = t.step AS current,
                       count(*) OVER () AS holding
                FROM assignments a JOIN tasks t ON t.id = a.task_id
                WHERE t.project_id = :p AND a.user_id = u.id AND a.status = 'active'
                  AND a.lease_expires_at >= :now
                ORDER BY a.step = t.step DESC, a.id LIMIT 1
            ) h ON true
            LEFT JOIN LATERAL ({latest_restriction("u.name")}) r ON true
            WHERE u.id = :u
            """,
        {"p": project_id, "u": user_id, "now": now},
        named=True,
    )
    refuse_unless_active(project_id, row.p_name, row.p_status, doing="claimed in it")
    held = None
    if row.current:
        held = Claim(
            row.a_id, row.task_id, row.external_id, row.step, row.data, row.lease_expires_at
        )
    return Standing(
        user=profile_of(row),
        held=held,
        holding=int(row.holding or 0),
        restricted=restriction_reason(row.r_action, row.r_after),
    )


def refuse_unless_active(
    project_id: int, name: str | None, status: str | None, *, doing: str
) -> None:
    """Raise AssignmentError unless the project (as read by the caller) is active."""
    if name is None:
        msg = (
            f"project id={project_id} is not open to you: on a team server a lead adds you "
            "to a project with `annolab team-user NAME --project PROJECT`"
        )
        raise AssignmentError(msg)
    if status != "active":
        then = (
            "an archived project takes no more work"
            if status == "archived"
            else "a project admin makes it active again with project.set_status('active')"
        )
        msg = f"project {name!r} is {status}: no task can be {doing}; {then}"
        raise AssignmentError(msg)


def _number(key: str) -> str:
    # A value that is not a JSON number counts as absent rather than failing every claim.
    return (
        f"(CASE WHEN jsonb_typeof(t.data->'{key}') = 'number' THEN (t.data->>'{key}')::float END)"
    )


_URGENCY_ORDER = f"""
    t.priority
    + (CAST(:w AS float[]))[1] * (1 - COALESCE({_number("confidence")}, 1))
    + (CAST(:w AS float[]))[2]
      * LEAST(EXTRACT(EPOCH FROM (CAST(:now AS timestamptz) - t.created_at)) / 86400, 7) / 7
    + (CAST(:w AS float[]))[3] * COALESCE({_number("complexity")}, 0) DESC, t.id
"""


def _open_to_user(
    project_id: int, steps: Sequence[str], exclude_earlier: Sequence[str]
) -> tuple[str, dict[str, Any]]:
    """A place on a task of the project that user :u may take at one of the steps (their own
    expired lease included), and the parameters it reads besides :u.

    OFFSET 0 keeps each EXISTS a probe of the candidate task (one index lookup) rather than an
    anti-join, which the planner was seen to build from a scan of every assignment in the table.

    Postgres keeps one plan for a prepared statement only while that generic plan is estimated
    no dearer than planning each call for the values given. A parameter it cannot see into made
    the generic estimate of the claim dearer: the project (a project larger than the average
    one has more open tasks to find the first in), an array of steps, a condition on an empty
    array of excluded steps. Every claim was then planned anew, about 300 us of the server's
    CPU, a third of what it spent on a claim and a submit. So the project's id (an integer) is
    written into the statement, one statement per project, and the usual case, one step and no
    step excluding earlier annotators, is written out: the two estimates then agree, unless the
    step's share of the database's tasks differs from the average step's.
    """
    params: dict[str, Any] = {}
    if len(steps) == 1:
        on_step = "t.step = CAST(:step AS text)"
        params["step"] = steps[0]
    else:
        on_step = "t.step = ANY(:steps)"
        params["steps"] = list(steps)
    sql = f"""
        t.project_id = {int(project_id)} AND t.status IN ('pending', 'in_progress')
        AND {on_step} AND t.assigned < t.needed
        AND NOT EXISTS (SELECT 1 FROM assignments a
                        WHERE a.task_id = t.id AND a.step = t.step AND a.user_id = :u
                          AND a.status <> 'expired' OFFSET 0)
    """
    if exclude_earlier:
        sql += """
        AND NOT (t.step = ANY(:exclude) AND EXISTS (
            SELECT 1 FROM annotations an WHERE an.task_id = t.id AND an.user_id = :u OFFSET 0))
        """
        params["exclude"] = list(exclude_earlier)
    return sql, params


def places_left(
    conn: sa.Connection,
    *,
    project_id: int,
    user_id: int,
    steps: Sequence[str],
    exclude_earlier: Sequence[str],
) -> bool:
    """Whether a place is open to the user, locked or not. After a claim found none, a True
    here means others were claiming those tasks at that moment: worth asking again."""
    open_to_user, params = _open_to_user(project_id, steps, exclude_earlier)
    return bool(
        conn.execute(
            # Not cached like the other statements: there is one per project.
            sa.text(f"SELECT EXISTS (SELECT 1 FROM tasks t WHERE {open_to_user})"),
            {"u": user_id, **params},
        ).scalar_one()
    )


def claim_next_task(
    conn: sa.Connection,
    *,
    actor: str,
    project_id: int,
    user_id: int,
    steps: Sequence[str],
    exclude_earlier: Sequence[str],
    lease: dt.timedelta,
    now: dt.datetime,
    urgency: tuple[float, float, float] | None = None,
) -> Claim | None:
    """Take the most urgent free place on a task at one of ``steps``, or None if there is none.

    ``exclude_earlier`` names the steps whose tasks this user must not have annotated before.
    ``urgency`` weighs (1 - confidence, age in days capped at 7 / 7, complexity) on top of the
    priority; without it the order is priority then arrival, which the queue index serves.
    """
    order = "t.priority DESC, t.id" if urgency is None else _URGENCY_ORDER
    open_to_user, params = _open_to_user(project_id, steps, exclude_earlier)
    # One statement: pick and count the task, add the assignment, log the event.
    picked = fetch(
        conn,
        f"""
            WITH pick AS (
                SELECT t.id FROM tasks t
                WHERE {open_to_user}
                ORDER BY {order}
                LIMIT 1
                FOR NO KEY UPDATE OF t SKIP LOCKED
            ), took AS (
                UPDATE tasks t SET assigned = t.assigned + 1, status = 'in_progress'
                FROM pick WHERE t.id = pick.id
                RETURNING t.id, t.external_id, t.step, t.data
            ), placed AS (
                INSERT INTO assignments (task_id, step, user_id, status, lease_expires_at,
                                         created_at)
                SELECT id, step, :u, 'active', :exp, :now FROM took
                -- Their own lease ran out earlier: the same place, taken up again.
                ON CONFLICT (task_id, step, user_id) DO UPDATE
                    SET status = 'active', lease_expires_at = EXCLUDED.lease_expires_at,
                        created_at = EXCLUDED.created_at, completed_at = NULL
                RETURNING id, task_id, step
            ), logged AS (
                INSERT INTO events (actor, action, entity, entity_id, project_id, after)
                SELECT :actor, 'task.assigned', 'task', task_id::text, :p,
                       jsonb_build_object('step', step, 'user_id', CAST(:u AS bigint),
                                          'assignment_id', id, 'task_status', 'in_progress')
                FROM placed
            )
            SELECT placed.id, took.id, took.external_id, took.step, took.data
            FROM took JOIN placed ON placed.task_id = took.id
            """,
        {
            "p": project_id,
            "u": user_id,
            "actor": actor,
            "now": now,
            "exp": now + lease,
            "w": list(urgency or (0.0, 0.0, 0.0)),
            **params,
        },
    )
    if not picked:
        return None
    ((assignment_id, task_id, external_id, step, data),) = picked
    return Claim(assignment_id, task_id, external_id, step, data, now + lease)


def renew_lease(conn: sa.Connection, *, assignment_id: int, until: dt.datetime) -> bool:
    """Push an active lease's end to ``until``; False if the lease is no longer active."""
    result = conn.execute(
        _sql(
            "UPDATE assignments SET lease_expires_at = :until WHERE id = :a AND status = 'active'"
        ),
        {"a": assignment_id, "until": until},
    )
    return result.rowcount == 1


@dataclass(frozen=True)
class LockedTask:
    """A task row locked for this transaction: step decisions happen one at a time."""

    id: int
    project_id: int
    step: str
    status: str
    assigned: int
    needed: int
    data: dict[str, Any]


@dataclass(frozen=True)
class LockedAssignment:
    """An assignment locked with its task, and the task's gold answer (a submit scores it)."""

    id: int
    task_id: int
    step: str
    user_id: int
    status: str
    lease_expires_at: dt.datetime
    task: LockedTask
    gold: dict[str, Any] | None


_TASK_COLUMNS = "t.id, t.project_id, t.step, t.status::text, t.assigned, t.needed, t.data"


def lock_assignment(conn: sa.Connection, assignment_id: int) -> LockedAssignment | None:
    """The assignment and its task, both locked (assignment first, as every writer does)."""
    rows = fetch(
        conn,
        "SELECT a.id, a.task_id, a.step, a.user_id, a.status::text, a.lease_expires_at, "
        f"{_TASK_COLUMNS}, ({latest_gold('t.id')}) AS gold "
        "FROM assignments a JOIN tasks t ON t.id = a.task_id "
        "WHERE a.id = :a FOR UPDATE OF a FOR NO KEY UPDATE OF t",
        {"a": assignment_id},
    )
    if not rows:
        return None
    row = rows[0]
    a_id, task_id, step, user_id, status, lease = row[:6]
    task = LockedTask(*row[6:13])
    return LockedAssignment(a_id, task_id, step, user_id, status, lease, task, row[13])


def finish_assignment(
    conn: sa.Connection, *, assignment_id: int, status: str, now: dt.datetime
) -> tuple[int, str] | None:
    """Mark an assignment submitted or skipped; a skip gives its place back to the pool and
    returns the task's (id, status) after it."""
    defer(
        conn,
        "UPDATE assignments SET status = CAST(:s AS assignment_status), completed_at = :now "
        "WHERE id = :a",
        {"a": assignment_id, "s": status, "now": now},
    )
    if status == "submitted":
        return None
    row = conn.execute(
        _sql(
            "UPDATE tasks t SET assigned = t.assigned - 1, "
            "status = CASE WHEN t.assigned - 1 = 0 THEN 'pending'::task_status "
            "ELSE t.status END "
            "FROM assignments a WHERE a.id = :a AND t.id = a.task_id "
            "RETURNING t.id, t.status::text"
        ),
        {"a": assignment_id},
    ).one()
    return int(row[0]), str(row[1])


def lock_task(conn: sa.Connection, task_id: int) -> LockedTask:
    """The task row, locked for this transaction: step decisions happen one at a time."""
    row = conn.execute(
        _sql(f"SELECT {_TASK_COLUMNS} FROM tasks t WHERE t.id = :t FOR NO KEY UPDATE"),
        {"t": task_id},
    ).one()
    return LockedTask(*row)


@dataclass(frozen=True)
class StepAnnotation:
    id: Any  # uuid.UUID
    user_id: int
    payload: dict[str, Any]


def step_annotations(conn: sa.Connection, *, task_id: int, step: str) -> list[StepAnnotation]:
    """The submitted annotations of one step of a task, oldest first."""
    return [
        StepAnnotation(*row)
        for row in conn.execute(
            _sql(
                "SELECT an.id, an.user_id, an.payload FROM annotations an "
                "JOIN assignments a ON a.task_id = an.task_id AND a.user_id = an.user_id "
                "  AND a.step = an.step "
                "WHERE an.task_id = :t AND an.step = :s AND a.status = 'submitted' "
                "  AND an.status IN ('submitted', 'approved') AND an.kind <> 'consensus' "
                "ORDER BY an.created_at, an.id"
            ),
            {"t": task_id, "s": step},
        )
    ]


def move_task(
    conn: sa.Connection,
    *,
    actor: str,
    task_id: int,
    project_id: int,
    status: str,
    step: str,
    needed: int,
    reset_assigned: bool,
    reason: str,
    before: tuple[str, str, int] | None = None,
) -> None:
    """Put a task at ``step`` with ``status`` and record why, in one event.

    ``before`` is the task's (status, step, needed) when the caller has just read it under
    its lock; otherwise it is read here.
    """
    if before is None:
        row = conn.execute(
            _sql("SELECT status::text, step, needed FROM tasks WHERE id = :t"), {"t": task_id}
        ).one()
        before = (row[0], row[1], row[2])
    current, target = TaskStatus(before[0]), TaskStatus(status)
    if target not in TASK_TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TASK_TRANSITIONS[current])) or "none"
        msg = (
            f"task {task_id}: status={target.value!r} can not follow {current.value!r}; "
            f"allowed next: {allowed}"
        )
        raise WorkflowError(msg)
    defer(
        conn,
        "UPDATE tasks SET status = CAST(:status AS task_status), step = :step, needed = :n, "
        "assigned = CASE WHEN :reset THEN 0 ELSE assigned END WHERE id = :t",
        {"t": task_id, "status": status, "step": step, "n": needed, "reset": reset_assigned},
    )
    record_event(
        conn,
        actor=actor,
        action=f"task.{reason}",
        entity="task",
        entity_id=task_id,
        project_id=project_id,
        before={"status": before[0], "step": before[1], "needed": before[2]},
        after={"status": status, "step": step, "needed": needed},
    )


def record_review(
    conn: sa.Connection,
    *,
    actor: str,
    project_id: int,
    annotation_ids: Sequence[Any],
    reviewer_id: int,
    decision: str,
    comment: str,
) -> None:
    """A review row per annotation; approve and reject also set the annotation's status."""
    status = {"approve": "approved", "reject": "rejected"}.get(decision)
    for annotation_id in annotation_ids:
        conn.execute(
            _sql(
                "INSERT INTO reviews (annotation_id, reviewer_id, decision, comment) "
                "VALUES (:a, :r, CAST(:d AS review_decision), :c)"
            ),
            {"a": annotation_id, "r": reviewer_id, "d": decision, "c": comment},
        )
        if status is not None:
            conn.execute(
                _sql(
                    "UPDATE annotations SET status = CAST(:s AS annotation_status), "
                    "updated_at = now() WHERE id = :a"
                ),
                {"a": annotation_id, "s": status},
            )
        record_event(
            conn,
            actor=actor,
            action=f"review.{decision}",
            entity="annotation",
            entity_id=annotation_id,
            project_id=project_id,
            after={"decision": decision, "comment": comment},
        )


def reopen_assignment(
    conn: sa.Connection, *, task_id: int, step: str, user_id: int, until: dt.datetime
) -> None:
    """Give a submitted assignment back to its annotator (a review asked for a revision)."""
    conn.execute(
        _sql(
            "UPDATE assignments SET status = 'active', lease_expires_at = :until, "
            "completed_at = NULL WHERE task_id = :t AND step = :s AND user_id = :u"
        ),
        {"t": task_id, "s": step, "u": user_id, "until": until},
    )


def reopen_step(conn: sa.Connection, *, task_id: int, step: str, until: dt.datetime) -> int:
    """Reopen every submitted assignment of ``step`` on the task; returns how many."""
    result = conn.execute(
        _sql(
            "UPDATE assignments SET status = 'active', lease_expires_at = :until, "
            "completed_at = NULL WHERE task_id = :t AND step = :s AND status = 'submitted'"
        ),
        {"t": task_id, "s": step, "until": until},
    )
    return int(result.rowcount)


def release_active(conn: sa.Connection, *, task_id: int, user_id: int | None = None) -> list[int]:
    """Release the active assignments of a task (of one user, or all); returns their users."""
    released = (
        conn.execute(
            _sql(
                "UPDATE assignments a SET status = 'released', completed_at = now() FROM tasks t "
                "WHERE t.id = a.task_id AND a.task_id = :t AND a.step = t.step "
                "AND a.status = 'active' AND (CAST(:u AS bigint) IS NULL OR a.user_id = :u) "
                "RETURNING a.user_id"
            ),
            {"t": task_id, "u": user_id},
        )
        .scalars()
        .all()
    )
    if released:
        conn.execute(
            _sql(
                "UPDATE tasks SET assigned = assigned - :n, status = CASE WHEN assigned - :n = 0 "
                "AND status = 'in_progress' THEN 'pending'::task_status ELSE status END "
                "WHERE id = :t"
            ),
            {"t": task_id, "n": len(released)},
        )
    return list(released)


def assign_to(
    conn: sa.Connection, *, task_id: int, user_id: int, until: dt.datetime, now: dt.datetime
) -> int:
    """Give the task's current step to ``user_id`` directly (an admin's reassignment)."""
    step = conn.execute(_sql("SELECT step FROM tasks WHERE id = :t"), {"t": task_id}).scalar_one()
    assignment_id = conn.execute(
        _sql(
            "INSERT INTO assignments (task_id, step, user_id, status, lease_expires_at, created_at)"
            " VALUES (:t, :s, :u, 'active', :until, :now) RETURNING id"
        ),
        {"t": task_id, "s": step, "u": user_id, "until": until, "now": now},
    ).scalar_one()
    conn.execute(
        _sql("UPDATE tasks SET assigned = assigned + 1, status = 'in_progress' WHERE id = :t"),
        {"t": task_id},
    )
    return int(assignment_id)


def set_priority(conn: sa.Connection, *, task_id: int, priority: int) -> int:
    """Set a task's priority; returns the one it had."""
    return int(
        conn.execute(
            _sql(
                "UPDATE tasks t SET priority = :p FROM tasks old WHERE t.id = :t AND old.id = t.id "
                "RETURNING old.priority"
            ),
            {"t": task_id, "p": priority},
        ).scalar_one()
    )


def queue_counts(
    conn: sa.Connection, *, project_id: int, user_id: int, steps: Sequence[str]
) -> tuple[int, int]:
    """(assignments this user submitted, tasks at ``steps`` with room that they have not done)."""
    row = conn.execute(
        _sql(
            "SELECT (SELECT count(*) FROM assignments a JOIN tasks t ON t.id = a.task_id "
            "        WHERE t.project_id = :p AND a.user_id = :u AND a.status = 'submitted'), "
            "       (SELECT count(*) FROM tasks t WHERE t.project_id = :p "
            "        AND t.status IN ('pending', 'in_progress') AND t.step = ANY(:steps) "
            "        AND (t.assigned < t.needed OR EXISTS (SELECT 1 FROM assignments a "
            "             WHERE a.task_id = t.id AND a.step = t.step AND a.user_id = :u "
            "             AND a.status = 'active')) "
            "        AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.task_id = t.id "
            "             AND a.step = t.step AND a.user_id = :u "
            "             AND a.status NOT IN ('active', 'expired')))"
        ),
        {"p": project_id, "u": user_id, "steps": list(steps)},
    ).one()
    return int(row[0]), int(row[1])
