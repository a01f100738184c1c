"""Projects: rows in ``projects`` with their label schema, layout and settings."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from annolab.errors import StoreError
from annolab.schema.enums import PROJECT_TRANSITIONS, ProjectStatus
from annolab.store.events import record_event
from annolab.store.tables import projects


@dataclass(frozen=True)
class ProjectRow:
    id: int
    name: str
    status: ProjectStatus
    label_schema: dict[str, Any]
    layout: dict[str, Any]
    workflow: dict[str, Any]
    guidelines: str
    guidelines_version: int
    settings: dict[str, Any]
    created_by: int | None


def _row(row: sa.Row[Any]) -> ProjectRow:
    return ProjectRow(**{field: getattr(row, field) for field in ProjectRow.__dataclass_fields__})


def create_project(
    conn: sa.Connection,
    *,
    actor: str,
    actor_id: int,
    name: str,
    label_schema: dict[str, Any],
    layout: dict[str, Any],
    workflow: dict[str, Any],
    guidelines: str,
    settings: dict[str, Any],
) -> ProjectRow:
    values = {
        "name": name,
        "label_schema": label_schema,
        "layout": layout,
        "workflow": workflow,
        "guidelines": guidelines,
        "settings": settings,
    }
    try:
        with conn.begin_nested():
            row = conn.execute(
                projects.insert().values(created_by=actor_id, **values).returning(*projects.c)
            ).one()
    except IntegrityError as exc:
        msg = f"name={name!r} is already a project; open it with workspace.project({name!r})"
        raise StoreError(msg) from exc
    record_event(
        conn,
        actor=actor,
        action="project.created",
        entity="project",
        entity_id=row.id,
        project_id=row.id,
        after=values,
    )
    return _row(row)


def find_project(conn: sa.Connection, name: str) -> ProjectRow | None:
    row = conn.execute(sa.select(projects).where(projects.c.name == name)).one_or_none()
    return None if row is None else _row(row)


def get_project(conn: sa.Connection, name: str) -> ProjectRow:
    found = find_project(conn, name)
    if found is None:
        names = conn.execute(sa.select(projects.c.name).order_by(projects.c.name)).scalars().all()
        known = ", ".join(repr(n) for n in names) or "none yet"
        msg = f"name={name!r} is not a project; projects: {known}"
        raise StoreError(msg)
    return found


def list_projects(conn: sa.Connection) -> list[ProjectRow]:
    rows = conn.execute(sa.select(projects).order_by(projects.c.id)).all()
    return [_row(r) for r in rows]


def set_status(
    conn: sa.Connection, *, actor: str, project_id: int, status: ProjectStatus
) -> ProjectRow:
    """Move a project along draft -> active -> paused -> completed -> archived."""
    current = ProjectStatus(
        conn.execute(
            sa.select(projects.c.status).where(projects.c.id == project_id).with_for_update()
        ).scalar_one()
    )
    if status not in PROJECT_TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in PROJECT_TRANSITIONS[current])) or "none"
        msg = f"status={status.value!r} can not follow {current.value!r}; allowed next: {allowed}"
        raise StoreError(msg)
    row = conn.execute(
        projects.update()
        .where(projects.c.id == project_id)
        .values(status=status)
        .returning(*projects.c)
    ).one()
    record_event(
        conn,
        actor=actor,
        action="project.status_changed",
        entity="project",
        entity_id=project_id,
        project_id=project_id,
        before={"status": current.value},
        after={"status": status.value},
    )
    return _row(row)
