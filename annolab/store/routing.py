"""Sending tasks to the front of the human queue, with the reason in the event log.

The queue orders by ``tasks.priority`` and, with a workflow's urgency, by ``1 - confidence``
read from the task's data (see ``assignments._URGENCY_ORDER``): a routed task gets both, so it
comes first either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from annolab.store.events import record_event


@dataclass(frozen=True)
class Route:
    """One task to raise: to ``priority`` at least, its confidence to ``confidence`` at most."""

    task_id: int
    priority: int
    confidence: float
    reason: str
    details: dict[str, Any]


def route_tasks(
    conn: sa.Connection, routes: Sequence[Route], *, actor: str, project_id: int
) -> list[tuple[int, int]]:
    """Raise each task's priority and lower its confidence; returns ``(task id, new priority)``.

    A task already higher keeps its priority, and a confidence already lower is kept: routing
    never makes a task less urgent. One event per task, ``task.routed``, says why.
    """
    done = []
    for route in routes:
        row = conn.execute(
            sa.text(
                "UPDATE tasks t SET priority = GREATEST(old.priority, :p), "
                "data = old.data || jsonb_build_object('confidence', LEAST(:c, "
                "  CASE WHEN jsonb_typeof(old.data->'confidence') = 'number' "
                "  THEN (old.data->>'confidence')::float END)) "
                "FROM tasks old WHERE t.id = :t AND old.id = t.id AND t.project_id = :project "
                "RETURNING old.priority AS before, t.priority AS after, "
                "old.data->'confidence' AS was, t.data->'confidence' AS now"
            ),
            {"p": route.priority, "c": route.confidence, "t": route.task_id, "project": project_id},
        ).one()
        record_event(
            conn,
            actor=actor,
            action="task.routed",
            entity="task",
            entity_id=route.task_id,
            project_id=project_id,
            before={"priority": row.before, "confidence": row.was},
            after={
                "priority": row.after,
                "confidence": row.now,
                "reason": route.reason,
                **route.details,
            },
        )
        done.append((route.task_id, int(row.after)))
    return done
