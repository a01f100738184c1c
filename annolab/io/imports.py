"""Importing annotations from JSON Lines: every row validated, all good rows stored at once.

A row is an object with ``task`` (the task's external id), ``payload`` and optionally ``user``,
``kind``, ``status``, ``id``, ``time_spent``. Rows written by ``project.export(format="jsonl")``
import as they are (``external_id`` and ``annotation_id`` are read too).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from annolab.errors import AnnolabError, DataError
from annolab.schema import LabelSchema, validate_payload
from annolab.schema.enums import AnnotationKind, AnnotationStatus
from annolab.store.annotations import NewAnnotation, annotation_owners, upsert_annotations
from annolab.store.tasks import task_lookup
from annolab.store.users import ensure_user

# Ids made for rows that bring none are derived from the row, so importing a file twice adds
# nothing the second time.
_ID_NAMESPACE = uuid.UUID("6f1c1f4e-8d0b-4c57-9a43-1f1d2b3c4e5f")


@dataclass
class ImportReport:
    """What an import did: rows stored, rows already there, and each refused row with why."""

    stored: int = 0
    unchanged: int = 0
    errors: list[tuple[int, str]] = field(default_factory=list)

    def errors_frame(self) -> pl.DataFrame:
        """The refused rows as a frame: ``line`` (counting from 1) and ``reason``."""
        lines = [line for line, _ in self.errors]
        reasons = [reason for _, reason in self.errors]
        return pl.DataFrame(
            {"line": lines, "reason": reasons}, schema={"line": pl.Int64, "reason": pl.String}
        )

    def __repr__(self) -> str:
        refused = f"; {len(self.errors)} rows refused (see .errors)" if self.errors else ""
        return f"<ImportReport stored {self.stored}, unchanged {self.unchanged}{refused}>"


@dataclass(frozen=True)
class _Row:
    line: int
    task: str
    user: str
    kind: AnnotationKind
    status: AnnotationStatus
    payload: dict[str, Any]
    id: uuid.UUID | None
    time_spent: float | None


def import_jsonl(
    conn: sa.Connection,
    path: Path,
    *,
    project_id: int,
    labels: LabelSchema,
    actor: str,
    default_user: str,
) -> ImportReport:
    """Validate every line of ``path``; store the good ones in this transaction."""
    report = ImportReport()
    rows = list(_parse(path, default_user, report))
    tasks = task_lookup(conn, project_id, sorted({r.task for r in rows}))
    users: dict[str, int] = {}
    ready: list[NewAnnotation] = []
    for row in rows:
        if row.task not in tasks:
            report.errors.append((row.line, f"task={row.task!r} is not a task of this project"))
            continue
        task_id, text = tasks[row.task]
        try:
            payload = validate_payload(row.payload, labels=labels, text=text)
        except AnnolabError as exc:
            report.errors.append((row.line, str(exc)))
            continue
        stored = payload.to_dict()
        if row.user not in users:
            users[row.user] = ensure_user(conn, row.user)
        ready.append(
            NewAnnotation(
                id=row.id or _derived_id(project_id, row, stored),
                task_id=task_id,
                user_id=users[row.user],
                kind=row.kind,
                status=row.status,
                payload=stored,
                time_spent=row.time_spent,
            )
        )
    ready = _rehome_foreign_ids(conn, ready, project_id)
    report.errors.sort()
    report.stored = upsert_annotations(conn, ready, actor=actor, project_id=project_id)
    report.unchanged = len(ready) - report.stored
    return report


def _rehome_foreign_ids(
    conn: sa.Connection, rows: list[NewAnnotation], project_id: int
) -> list[NewAnnotation]:
    """Give a new, stable id to rows whose id already names an annotation of another task.

    That is what importing one project's export into another looks like; the new id is derived
    from the old one and the project, so importing the same file again still adds nothing.
    """
    owners = annotation_owners(conn, [r.id for r in rows])
    return [
        replace(r, id=uuid.uuid5(_ID_NAMESPACE, f"{project_id}:{r.id}"))
        if r.id in owners and owners[r.id] != (r.task_id, r.user_id)
        else r
        for r in rows
    ]


def _derived_id(project_id: int, row: _Row, payload: dict[str, Any]) -> uuid.UUID:
    key = json.dumps([project_id, row.task, row.user, row.kind.value, payload], sort_keys=True)
    return uuid.uuid5(_ID_NAMESPACE, key)


def _parse(path: Path, default_user: str, report: ImportReport) -> Any:
    try:
        handle = path.open("rb")
    except OSError as exc:
        msg = f"path={str(path)!r} can not be read: {exc.strerror}"
        raise DataError(msg) from exc
    with handle:
        for line_no, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                yield _row(line_no, raw, default_user)
            except (DataError, UnicodeDecodeError, json.JSONDecodeError) as exc:
                report.errors.append((line_no, _reason(exc)))


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"the line is not valid UTF-8 (byte {exc.start})"
    if isinstance(exc, json.JSONDecodeError):
        return f"the line is not JSON: {exc.msg} at column {exc.colno}"
    return str(exc)


def _row(line: int, raw: bytes, default_user: str) -> _Row:
    obj = json.loads(raw.decode("utf-8"))
    if not isinstance(obj, dict):
        msg = f"the line holds a {type(obj).__name__}, not an object"
        raise DataError(msg)
    task = obj.get("task", obj.get("external_id"))
    if not isinstance(task, (str, int)) or isinstance(task, bool) or task == "":
        msg = f"task={task!r} must name the task's external id"
        raise DataError(msg)
    user = obj.get("user") or default_user
    if not isinstance(user, str):
        msg = f"user={user!r} must be a user name"
        raise DataError(msg)
    raw_id = obj.get("id", obj.get("annotation_id"))
    try:
        ann_id = uuid.UUID(str(raw_id)) if raw_id is not None else None
    except ValueError as exc:
        msg = f"id={raw_id!r} is not a UUID"
        raise DataError(msg) from exc
    time_spent = obj.get("time_spent")
    if time_spent is not None and (
        not isinstance(time_spent, (int, float)) or isinstance(time_spent, bool) or time_spent < 0
    ):
        msg = f"time_spent={time_spent!r} must be a number of seconds, 0 or more"
        raise DataError(msg)
    return _Row(
        line=line,
        task=str(task),
        user=user,
        kind=_member(AnnotationKind, obj.get("kind", "human"), "kind"),
        status=_member(AnnotationStatus, obj.get("status", "submitted"), "status"),
        payload=obj.get("payload"),  # type: ignore[arg-type]  # validated by validate_payload
        id=ann_id,
        time_spent=time_spent,
    )


def _member(enum_cls: Any, value: object, name: str) -> Any:
    try:
        return enum_cls(value)
    except ValueError as exc:
        allowed = ", ".join(repr(m.value) for m in enum_cls)
        msg = f"{name}={value!r} is not one of {allowed}"
        raise DataError(msg) from exc
