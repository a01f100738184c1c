"""The append-only event log: written in the caller's transaction, so it commits or rolls back
together with the change it records."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from annolab.store.tables import events


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
    conn.execute(
        events.insert().values(
            actor=actor,
            action=action,
            entity=entity,
            entity_id=str(entity_id),
            project_id=project_id,
            before=before,
            after=after,
        )
    )
