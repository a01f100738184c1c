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


def list_projects(conn: sa.Connection, *, archived: bool = False) -> list[ProjectRow]:
    """The projects, oldest first; archived ones (``proj.archive()``) only with ``archived``."""
    query = sa.select(projects).order_by(projects.c.id)
    if not archived:
        query = query.where(projects.c.status != ProjectStatus.ARCHIVED)
    return [_row(r) for r in conn.execute(query).all()]


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


# --- archive, restore, delete -------------------------------------------------------------------
#
# An archived project keeps everything but leaves ws.projects() and every queue (a claim refuses
# a project that is not active). Deleting removes its tasks and with them what hangs off them
# (assignments, annotations, reviews, feedback, gold entries, telemetry, task embeddings); the
# project row stays, archived, because the append-only event log still names it.

DELETE_TASKS_FUNCTION = "public.annolab_delete_project_tasks(bigint)"
# Task embeddings name their task by id without a foreign key: they go first, by hand.
DELETE_TASKS_SQL = (
    "DELETE FROM public.embeddings WHERE owner_kind = 'task' AND project_id = :p",
    "DELETE FROM public.tasks WHERE project_id = :p",
)


def _lock_status(conn: sa.Connection, project_id: int) -> ProjectStatus:
    return ProjectStatus(
        conn.execute(
            sa.select(projects.c.status).where(projects.c.id == project_id).with_for_update()
        ).scalar_one()
    )


def _was_deleted(conn: sa.Connection, project_id: int) -> bool:
    return (
        conn.execute(
            sa.text(
                "SELECT 1 FROM events WHERE action = 'project.deleted' AND entity = 'project' "
                "AND entity_id = :p LIMIT 1"
            ),
            {"p": str(project_id)},
        ).first()
        is not None
    )


def _set(conn: sa.Connection, project_id: int, status: ProjectStatus) -> ProjectRow:
    row = conn.execute(
        projects.update()
        .where(projects.c.id == project_id)
        .values(status=status)
        .returning(*projects.c)
    ).one()
    return _row(row)


def archive_project(conn: sa.Connection, *, actor: str, project_id: int) -> ProjectRow:
    """Archive the project from any status (a second call changes nothing and logs nothing)."""
    current = _lock_status(conn, project_id)
    row = _set(conn, project_id, ProjectStatus.ARCHIVED)
    if current != ProjectStatus.ARCHIVED:
        record_event(
            conn,
            actor=actor,
            action="project.archived",
            entity="project",
            entity_id=project_id,
            project_id=project_id,
            before={"status": current.value},
            after={"status": ProjectStatus.ARCHIVED.value},
        )
    return row


def restore_project(conn: sa.Connection, *, actor: str, project_id: int) -> ProjectRow:
    """Give an archived project back the status it had when archived (active if unknown)."""
    current = _lock_status(conn, project_id)
    if current != ProjectStatus.ARCHIVED:
        return _set(conn, project_id, current)
    if _was_deleted(conn, project_id):
        msg = (
            f"project id={project_id} was deleted: its tasks and answers are gone, so it can "
            "not be restored; its event log is kept (project.events())"
        )
        raise StoreError(msg)
    before = conn.execute(
        sa.text(
            "SELECT before->>'status' FROM events WHERE action = 'project.archived' "
            "AND entity = 'project' AND entity_id = :p ORDER BY id DESC LIMIT 1"
        ),
        {"p": str(project_id)},
    ).scalar()
    status = ProjectStatus(before) if before else ProjectStatus.ACTIVE
    row = _set(conn, project_id, status)
    record_event(
        conn,
        actor=actor,
        action="project.restored",
        entity="project",
        entity_id=project_id,
        project_id=project_id,
        before={"status": current.value},
        after={"status": status.value},
    )
    return row


def delete_project_data(conn: sa.Connection, *, actor: str, project_id: int) -> dict[str, int]:
    """Delete the project's tasks (and all that hangs off them), archive it, and log it with
    the counts; returns the counts. On a team server the rows go through a SECURITY DEFINER
    function that only leads may run (nobody holds DELETE on these tables)."""
    current = _lock_status(conn, project_id)
    counts = dict(
        conn.execute(
            sa.text(
                "SELECT (SELECT count(*) FROM tasks WHERE project_id = :p) AS tasks, "
                "(SELECT count(*) FROM annotations a JOIN tasks t ON t.id = a.task_id "
                " WHERE t.project_id = :p) AS annotations"
            ),
            {"p": project_id},
        )
        .one()
        ._mapping
    )
    guarded = conn.execute(
        sa.text("SELECT to_regprocedure(:f) IS NOT NULL"), {"f": DELETE_TASKS_FUNCTION}
    ).scalar_one()
    if guarded:
        conn.execute(sa.text("SELECT public.annolab_delete_project_tasks(:p)"), {"p": project_id})
    else:
        for statement in DELETE_TASKS_SQL:
            conn.execute(sa.text(statement), {"p": project_id})
    _set(conn, project_id, ProjectStatus.ARCHIVED)
    record_event(
        conn,
        actor=actor,
        action="project.deleted",
        entity="project",
        entity_id=project_id,
        project_id=project_id,
        before={"status": current.value, **counts},
        after={"status": ProjectStatus.ARCHIVED.value, "tasks": 0},
    )
    return {k: int(v) for k, v in counts.items()}
