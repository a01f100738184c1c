"""The append-only event log: written in the caller's transaction, so it commits or rolls back
together with the change it records.

A queue operation records several events (an annotation stored, a step completed, a task
completed). Inside ``writes.batched(conn)`` they are collected and written at the end by one
INSERT whose rows are pipelined, in the order they were recorded, in one round trip.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa

from annolab.store.frames import read_frame
from annolab.store.writes import add_event


def record_event(
    conn: sa.Connection,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_id: object,
    project_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one event, e.g. ``action="project.created", entity="project", entity_id=3``."""
    row = {
        "actor": actor,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "project_id": project_id,
        "before": before,
        "after": after,
    }
    add_event(conn, row)


# --- reading and replaying ----------------------------------------------------------------------

EVENT_SCHEMA: dict[str, Any] = {
    "id": pl.Int64,
    "at": pl.Datetime("us", "UTC"),
    "actor": pl.String,
    "action": pl.String,
    "entity": pl.String,
    "entity_id": pl.String,
    "before": pl.String,
    "after": pl.String,
}

_EVENTS = """
SELECT e.id, e.at, e.actor, e.action, e.entity, e.entity_id, e.before::text, e.after::text
FROM events e WHERE e.project_id = %(p)s{where} ORDER BY e.id
"""

# Everything that happened to one task: the task itself, its annotations and its assignments.
# Row-level security hides what the reader may not see (another annotator's blind answer).
_OF_TASK = """
 AND ((e.entity = 'task' AND e.entity_id = %(t)s)
   OR (e.entity = 'annotation' AND e.entity_id IN (
        SELECT a.id::text FROM annotations a WHERE a.task_id = CAST(%(t)s AS bigint)))
   OR (e.entity = 'assignment' AND e.entity_id IN (
        SELECT s.id::text FROM assignments s WHERE s.task_id = CAST(%(t)s AS bigint))))
"""


def read_events(
    conn: sa.Connection,
    project_id: int,
    *,
    actions: Sequence[str] = (),
    since: dt.datetime | None = None,
    task_id: int | None = None,
) -> pl.DataFrame:
    """The project's events in the order they were recorded (``EVENT_SCHEMA``; ``before`` and
    ``after`` as JSON text): those of ``actions`` (a trailing ``.*`` takes a family, like
    ``annotation.*``), at or after ``since``, of one task."""
    where = ""
    params: dict[str, Any] = {"p": project_id}
    if actions:
        exact = [a for a in actions if not a.endswith(".*")]
        prefixes = [a.removesuffix("*") for a in actions if a.endswith(".*")]
        where += " AND (e.action = ANY(%(exact)s) OR e.action LIKE ANY(%(prefixes)s))"
        params |= {"exact": exact, "prefixes": [f"{p}%" for p in prefixes]}
    if since is not None:
        where += " AND e.at >= %(since)s"
        params["since"] = since
    if task_id is not None:
        where += _OF_TASK
        params["t"] = str(task_id)
    return read_frame(conn, _EVENTS.format(where=where), params, EVENT_SCHEMA)


ANSWER_STATE = {
    "annotation_id": pl.String,
    "task_id": pl.Int64,
    "status": pl.String,
    "version": pl.Int32,
    "payload": pl.String,
}
TASK_STATE = {"task_id": pl.Int64, "status": pl.String, "step": pl.String, "needed": pl.Int32}


def replay(events: pl.DataFrame) -> dict[str, pl.DataFrame]:
    """The state the events describe, rebuilt from them alone: ``annotations`` (each one's
    task, status, version and payload as JSON text, ``ANSWER_STATE``) and ``tasks`` that ever
    moved (status, step and needed, ``TASK_STATE``). ``events`` are a project's, all of them,
    in order (``read_events``).

    An ``annotation.<status>`` event carries the stored row; a review's ``review.approve`` or
    ``review.reject`` sets its status; a ``task.<reason>`` event carries the task's new state.
    A claim, a skip, an expired lease and an admin's action carry the task's status after
    them (``task_status``). A task no event moved is as it was added, and one only claimed or
    released has its step and need as added (null here).
    """
    answers: dict[str, dict[str, Any]] = {}
    tasks: dict[int, dict[str, Any]] = {}
    for action, entity_id, after in events.select("action", "entity_id", "after").iter_rows():
        family, _, verb = action.partition(".")
        data = json.loads(after) if after is not None else {}
        if family == "annotation" and "payload" in data:
            answers[entity_id] = {
                "annotation_id": entity_id,
                "task_id": data["task_id"],
                "status": verb,
                "version": data["version"],
                "payload": json.dumps(data["payload"], sort_keys=True),
            }
        elif family == "review" and verb in _REVIEWED and entity_id in answers:
            answers[entity_id]["status"] = _REVIEWED[verb]
        elif family == "task" and {"status", "step", "needed"} <= data.keys():
            tasks[int(entity_id)] = {"task_id": int(entity_id)} | {
                k: data[k] for k in ("status", "step", "needed")
            }
        if "task_status" in data:  # a claim, a skip, an expired lease, an admin's action
            task_id = int(data.get("task_id", entity_id))
            if task_id in tasks:
                tasks[task_id]["status"] = data["task_status"]
            else:  # the task had not moved: at the step and need it was added with
                tasks[task_id] = {"task_id": task_id, "status": data["task_status"]}
    return {
        "annotations": pl.DataFrame(list(answers.values()), schema=ANSWER_STATE, orient="row"),
        "tasks": pl.DataFrame(list(tasks.values()), schema=TASK_STATE, orient="row"),
    }


_REVIEWED = {"approve": "approved", "reject": "rejected"}
