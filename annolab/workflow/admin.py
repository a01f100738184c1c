"""What a project admin or team lead may do to the queue, each step recorded with its reason."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from annolab.errors import AssignmentError
from annolab.schema.enums import Role
from annolab.schema.fields import PRIORITY_MAX, PRIORITY_MIN, check_int, check_str
from annolab.store import assignments as store
from annolab.store.events import record_event
from annolab.store.users import UserProfile
from annolab.workflow.engine import Engine, refusal

ADMIN_ROLES = frozenset({Role.PROJECT_ADMIN, Role.TEAM_LEAD})


def require_admin(actor: UserProfile, *, created_by: int | None) -> None:
    """Admins, team leads and the project's creator may change the queue."""
    if actor.roles & ADMIN_ROLES or actor.id == created_by:
        return
    msg = "Requires role: project_admin or team_lead"
    raise AssignmentError(msg)


def _reason(reason: str, action: str) -> str:
    check_str(reason, "reason")  # kept in the audit history: it must be text Postgres stores
    if not reason.strip():
        msg = f"reason='' : {action} needs a reason, recorded in the audit history"
        raise AssignmentError(msg)
    return reason


def _event(
    conn: sa.Connection,
    engine: Engine,
    actor: UserProfile,
    action: str,
    task_id: int,
    **after: object,
) -> None:
    # The task's status after the action, so the event log alone tells the task's state.
    status = conn.execute(
        sa.text("SELECT status::text FROM tasks WHERE id = :t"), {"t": task_id}
    ).scalar_one()
    record_event(
        conn,
        actor=actor.name,
        action=f"admin.{action}",
        entity="task",
        entity_id=task_id,
        project_id=engine.project_id,
        after={**after, "task_status": status},
    )


def evict(
    conn: sa.Connection,
    engine: Engine,
    actor: UserProfile,
    *,
    task_id: int,
    user: UserProfile,
    reason: str = "",
) -> None:
    """Take the task away from ``user``; their place goes back to the pool."""
    check_str(reason, "reason")
    if not store.release_active(conn, task_id=task_id, user_id=user.id):
        msg = f"user={user.name!r} holds no open assignment on task {task_id}"
        raise AssignmentError(msg)
    _event(conn, engine, actor, "evicted", task_id, user=user.name, reason=reason)


def reassign(
    conn: sa.Connection,
    engine: Engine,
    actor: UserProfile,
    *,
    task_id: int,
    from_user: UserProfile,
    to_user: UserProfile,
    reason: str = "",
) -> int:
    """Move the task from one person to another, who must be eligible for its step."""
    check_str(reason, "reason")
    if to_user.id == from_user.id:
        msg = f"user={to_user.name!r} is the person being evicted; reassign to someone else"
        raise AssignmentError(msg)
    task = store.lock_task(conn, task_id)
    why = refusal(engine.workflow.step(task.step), to_user)
    if why is not None:
        msg = f"user={to_user.name!r} can not take step {task.step!r}: {why}"
        raise AssignmentError(msg)
    evict(conn, engine, actor, task_id=task_id, user=from_user, reason=reason)
    now = engine.clock()
    try:
        with conn.begin_nested():
            assignment_id = store.assign_to(
                conn,
                task_id=task_id,
                user_id=to_user.id,
                now=now,
                until=now + dt.timedelta(minutes=engine.workflow.lease_minutes),
            )
    except sa.exc.IntegrityError as exc:
        msg = f"user={to_user.name!r} already did step {task.step!r} of this task"
        raise AssignmentError(msg) from exc
    _event(conn, engine, actor, "reassigned", task_id, user=to_user.name, reason=reason)
    return assignment_id


def force_complete(
    conn: sa.Connection, engine: Engine, actor: UserProfile, *, task_id: int, reason: str
) -> None:
    """Mark the task completed whatever its state; open assignments are released."""
    _reason(reason, "force-complete")
    store.release_active(conn, task_id=task_id)
    task = store.lock_task(conn, task_id)
    store.move_task(
        conn,
        actor=actor.name,
        task_id=task_id,
        project_id=engine.project_id,
        status="completed",
        step=task.step,
        needed=0,
        reset_assigned=False,
        reason="force_completed",
    )
    _event(conn, engine, actor, "force_completed", task_id, reason=reason)


def reset(
    conn: sa.Connection, engine: Engine, actor: UserProfile, *, task_id: int, reason: str
) -> None:
    """Send the task back to the workflow's first step; open assignments are released."""
    _reason(reason, "reset")
    store.release_active(conn, task_id=task_id)
    store.lock_task(conn, task_id)
    engine.restart(conn, task_id, actor.name)
    _event(conn, engine, actor, "reset", task_id, reason=reason)


def change_priority(
    conn: sa.Connection, engine: Engine, actor: UserProfile, *, task_id: int, priority: int
) -> None:
    """Set the task's priority (higher comes first) within the range its column holds."""
    priority = check_int(priority, "priority", low=PRIORITY_MIN, high=PRIORITY_MAX)
    before = store.set_priority(conn, task_id=task_id, priority=priority)
    _event(conn, engine, actor, "priority_changed", task_id, before=before, priority=priority)
