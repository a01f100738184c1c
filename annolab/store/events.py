"""The append-only event log: written in the caller's transaction, so it commits or rolls back
together with the change it records.

A queue operation records several events (an annotation stored, a step completed, a task
completed). Inside ``batched(conn)`` they are collected and written by one multi-row INSERT at
the end, in the order they were recorded, instead of one round trip each.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa

from annolab.store.tables import events

# Per Connection object rather than in ``conn.info``: that lives on the driver's connection,
# which a lost server invalidates (reading it then raises instead of letting the error through).
_pending: weakref.WeakKeyDictionary[sa.Connection, list[dict[str, Any]]] = (
    weakref.WeakKeyDictionary()
)


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
    pending = _pending.get(conn)
    if pending is None:
        conn.execute(events.insert(), row)
    else:
        pending.append(row)


@contextmanager
def batched(conn: sa.Connection) -> Iterator[None]:
    """Collect the events recorded inside and write them together on the way out.

    Anything that reads the events table inside the block must ``flush(conn)`` first. A block
    inside another block leaves the writing to the outer one. On an error nothing is written:
    the caller's transaction is rolling back anyway.
    """
    if conn in _pending:
        yield
        return
    _pending[conn] = []
    try:
        yield
        flush(conn)
    finally:
        _pending.pop(conn, None)


def flush(conn: sa.Connection) -> None:
    """Write the events collected so far by ``batched`` (ids follow the recording order)."""
    pending = _pending.get(conn)
    if pending:
        # executemany: SQLAlchemy sends one multi-row INSERT, compiled once and cached.
        conn.execute(events.insert(), pending)
        pending.clear()
