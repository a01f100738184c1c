"""Importing annotations from JSON Lines: every row validated, all good rows stored at once.

A row is an object with ``task`` (the task's external id), ``payload`` and optionally ``user``,
``kind``, ``status``, ``id``, ``time_spent``. Rows written by ``project.export(format="jsonl")``
import as they are (``external_id`` and ``annotation_id`` are read too).

A bad line never costs the good ones: it is reported by line number with the reason, and the
rest are stored. Lines are checked before any is written; should the database still refuse one,
the batch is stored again line by line, each in its own savepoint, to find and report it.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from annolab.errors import AnnolabError, DataError
from annolab.schema import Payload
from annolab.schema.enums import AnnotationKind, AnnotationStatus
from annolab.schema.fields import check_member, check_name, check_seconds
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
    check: Callable[[dict[str, Any], str | None], Payload],
    actor: str,
    default_user: str,
) -> ImportReport:
    """Validate every line of ``path``; store the good ones in this transaction.

    ``check(payload, text)`` is the project's own check of an answer to a task with that text
    (``project.check_answer``: the kind its layout asks for, required answers, labels, spans
    inside the text); a line it refuses is reported by number.
    """
    report = ImportReport()
    rows = _unique_ids(list(_parse(path, default_user, report)), report)
    tasks = task_lookup(conn, project_id, sorted({r.task for r in rows}))
    users: dict[str, int] = {}
    ready: list[NewAnnotation] = []
    lines: list[int] = []
    for row in rows:
        if row.task not in tasks:
            report.errors.append((row.line, f"task={row.task!r} is not a task of this project"))
            continue
        task_id, text = tasks[row.task]
        try:
            payload = check(row.payload, text)
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
        lines.append(row.line)
    ready = _rehome_foreign_ids(conn, ready, project_id)
    changed, kept = store_rows(
        conn,
        ready,
        lines,
        lambda line, reason: report.errors.append((line, reason)),
        actor=actor,
        project_id=project_id,
    )
    report.errors.sort()
    report.stored = changed
    report.unchanged = kept - changed
    return report


def store_rows(
    conn: sa.Connection,
    rows: list[NewAnnotation],
    places: Sequence[Any],
    refuse: Callable[[Any, str], object],
    *,
    actor: str,
    project_id: int,
) -> tuple[int, int]:
    """Upsert ``rows``; returns (rows changed, rows kept). All at once when the database takes
    them; otherwise one savepoint per row, so only the rows it refuses are left out, each
    passed to ``refuse`` with its place in the file (``places``, one per row) and why."""
    try:
        with conn.begin_nested():
            return upsert_annotations(conn, rows, actor=actor, project_id=project_id), len(rows)
    except (AnnolabError, sa.exc.StatementError):
        pass  # some row was refused: find which, below
    changed = kept = 0
    for place, row in zip(places, rows, strict=True):
        try:
            with conn.begin_nested():
                changed += upsert_annotations(conn, [row], actor=actor, project_id=project_id)
            kept += 1
        except (AnnolabError, sa.exc.StatementError) as exc:
            reason = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
            refuse(place, f"the database refused it: {reason}")
    return changed, kept


def _unique_ids(rows: list[_Row], report: ImportReport) -> list[_Row]:
    """Refuse a line whose id an earlier line already gave to another task or user."""
    owners: dict[uuid.UUID, _Row] = {}
    kept: list[_Row] = []
    for row in rows:
        first = owners.setdefault(row.id, row) if row.id is not None else row
        if (first.task, first.user) != (row.task, row.user):
            rule = (
                f"id={str(row.id)!r} is already the id of line {first.line} (task "
                f"{first.task!r}, user {first.user!r}); annotation ids must be unique"
            )
            report.errors.append((row.line, rule))
            continue
        kept.append(row)
    return kept


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
            except (AnnolabError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
                report.errors.append((line_no, _reason(exc)))


def _reason(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return f"the line is not valid UTF-8 (byte {exc.start})"
    if isinstance(exc, json.JSONDecodeError):
        return f"the line is not JSON: {exc.msg} at column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "the line nests too deeply to read"
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
    task = check_name(str(task), "task")
    user = check_name(obj.get("user") or default_user, "user")
    raw_id = obj.get("id", obj.get("annotation_id"))
    try:
        ann_id = uuid.UUID(str(raw_id)) if raw_id is not None else None
    except ValueError as exc:
        msg = f"id={raw_id!r} is not a UUID"
        raise DataError(msg) from exc
    return _Row(
        line=line,
        task=task,
        user=user,
        kind=check_member(AnnotationKind, obj.get("kind", "human"), "kind"),
        status=check_member(AnnotationStatus, obj.get("status", "submitted"), "status"),
        payload=obj.get("payload"),  # type: ignore[arg-type]  # validated by validate_payload
        id=ann_id,
        time_spent=check_seconds(obj.get("time_spent")),
    )
