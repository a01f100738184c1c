"""Storing what a format's reader found: tasks, suggestions and annotations, in one transaction.

``into`` says what the file's answers become:

- ``annotations``: people's answers (their ``annotator`` from the file, else the importing user);
- ``predictions``: model answers, offered to annotators as suggestions to accept or reject;
- ``tasks``: the tasks only, their answers left out.

An answer the file itself calls a prediction (Label Studio's ``predictions``) is stored as one
whatever ``into`` says. Every item is checked before anything is written: a task's data against
the layout, its answer against the layout and labels (spans inside the text). A refused item
stores neither its task nor its answer and is reported by its place in the file; the caller's
transaction holds the rest, so a failure part-way leaves nothing. Importing a file again adds
nothing: tasks are matched by id and answers get ids derived from what they say.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa

from annolab.errors import AnnolabError
from annolab.io.imports import store_rows
from annolab.io.records import Item
from annolab.schema import Payload
from annolab.schema.enums import AnnotationKind, AnnotationStatus, UserKind
from annolab.schema.fields import check_name
from annolab.store.annotations import NewAnnotation
from annolab.store.tasks import task_lookup
from annolab.store.users import ensure_user

INTO = ("annotations", "predictions", "tasks")
_ID_NAMESPACE = uuid.UUID("0b7e6f0a-3c55-4d1e-8f7a-5a2d9c4b1e60")


@dataclass
class FileImport:
    """What an import of a file did: tasks added (and found already there), the file's answers
    held as annotations and as suggestions (``unchanged`` of them were stored before), and
    every refused place with why."""

    format: str
    tasks_added: int = 0
    tasks_existing: int = 0
    annotations: int = 0
    suggestions: int = 0
    unchanged: int = 0
    refused: list[tuple[str, str]] = field(default_factory=list)

    def refused_frame(self) -> pl.DataFrame:
        """The refused places as a frame: ``where`` and ``reason``."""
        return pl.DataFrame(
            self.refused, schema={"where": pl.String, "reason": pl.String}, orient="row"
        )

    def __repr__(self) -> str:
        refused = f"; {len(self.refused)} refused (see .refused)" if self.refused else ""
        return (
            f"<FileImport {self.format}: {self.tasks_added} new tasks "
            f"({self.tasks_existing} already there), {self.annotations} annotations, "
            f"{self.suggestions} suggestions, {self.unchanged} unchanged{refused}>"
        )


@dataclass(frozen=True)
class Target:
    """The project as an import sees it.

    ``main_fields`` are the data keys that hold a task's main text (or image), in the order
    tried; ``task_rows`` turns rows ``{"id", "text", ...}`` into the rows ``add_tasks`` stores
    (raising on bad data) and ``add`` stores them; ``check`` is the project's check of an
    answer to a task with that text.
    """

    project_id: int
    main_fields: Sequence[str]
    task_rows: Callable[[list[dict[str, Any]]], pl.DataFrame]
    add: Callable[[sa.Connection, pl.DataFrame], int]
    check: Callable[[Any, str | None], Payload]


@dataclass
class _Ready:
    item: Item
    task: str
    row: dict[str, Any]
    payload: dict[str, Any] | None
    prediction: bool


def ingest(
    conn: sa.Connection,
    items: Iterable[Item],
    target: Target,
    report: FileImport,
    *,
    into: str,
    actor: str,
    user: str,
) -> FileImport:
    """Check every item, then store the good ones' tasks and answers on ``conn``."""
    ready = [r for item in items if (r := _read(item, target, into, report)) is not None]
    known = task_lookup(conn, target.project_id, sorted({r.task for r in ready}))
    ready = [r for r in ready if _answer_checked(r, known, target, report)]
    new_rows = _new_task_rows(ready, known, target, report)
    ready = [r for r in ready if r.task in known or r.task in new_rows]
    if new_rows:
        report.tasks_added = target.add(conn, target.task_rows(list(new_rows.values())))
    report.tasks_existing = len({r.task for r in ready}) - len(new_rows)
    _store_answers(
        conn, [r for r in ready if r.payload is not None], target, report, actor=actor, user=user
    )
    return report


def _read(item: Item, target: Target, into: str, report: FileImport) -> _Ready | None:
    if item.error is not None:
        report.refused.append((item.where, item.error))
        return None
    try:
        task = check_name(item.task, "task")
    except AnnolabError as exc:
        report.refused.append((item.where, str(exc)))
        return None
    data = dict(item.data)
    main = next((data[f] for f in target.main_fields if data.get(f) is not None), None)
    row = {"id": task, "text": main} | {
        k: v for k, v in data.items() if k not in target.main_fields
    }
    keep = item.payload is not None and (into != "tasks" or item.prediction)
    payload = dict(item.payload) if keep and item.payload is not None else None
    return _Ready(item, task, row, payload, item.prediction or into == "predictions")


def _answer_checked(
    ready: _Ready, known: dict[str, Any], target: Target, report: FileImport
) -> bool:
    if ready.payload is None:
        return True
    text = known[ready.task][1] if ready.task in known else ready.row.get("text")
    try:
        ready.payload = target.check(ready.payload, text).to_dict()
    except AnnolabError as exc:
        report.refused.append((ready.item.where, str(exc)))
        return False
    return True


def _new_task_rows(
    ready: list[_Ready], known: dict[str, Any], target: Target, report: FileImport
) -> dict[str, dict[str, Any]]:
    """The rows of tasks not yet in the project, one per id (its first item's data); a task
    whose data the layout refuses is reported at each of its items and left out."""
    rows: dict[str, dict[str, Any]] = {}
    for r in ready:
        if r.task not in known:
            rows.setdefault(r.task, r.row)
    try:
        target.task_rows(list(rows.values()))
    except AnnolabError:
        for task, row in list(rows.items()):
            try:
                target.task_rows([row])
            except AnnolabError as exc:
                del rows[task]
                reason = str(exc).replace("tasks[0]", "the task").replace("rows 0", "the task")
                report.refused.extend((r.item.where, reason) for r in ready if r.task == task)
    return rows


def _store_answers(
    conn: sa.Connection,
    ready: list[_Ready],
    target: Target,
    report: FileImport,
    *,
    actor: str,
    user: str,
) -> None:
    found = task_lookup(conn, target.project_id, sorted({r.task for r in ready}))
    users: dict[tuple[str, bool], int] = {}
    rows: list[NewAnnotation] = []
    for r in ready:
        who = check_name(
            r.item.annotator or (f"{report.format}-import" if r.prediction else user), "user"
        )
        if (who, r.prediction) not in users:
            kind = UserKind.PERSONA if r.prediction else UserKind.HUMAN
            users[(who, r.prediction)] = ensure_user(conn, who, kind=kind)
        ann_kind = AnnotationKind.MODEL if r.prediction else AnnotationKind.HUMAN
        key = json.dumps(
            [target.project_id, r.task, who, ann_kind.value, r.payload], sort_keys=True
        )
        rows.append(
            NewAnnotation(
                id=uuid.uuid5(_ID_NAMESPACE, key),
                task_id=found[r.task][0],
                user_id=users[(who, r.prediction)],
                kind=ann_kind,
                status=AnnotationStatus.SUBMITTED,
                payload=r.payload or {},
            )
        )
    # The same answer twice in a file (one id) is stored once.
    by_id = {row.id: (row, r.item.where) for row, r in zip(rows, ready, strict=True)}
    unique = list(by_id.values())
    refused: set[uuid.UUID] = set()

    def refuse(index: int, reason: str) -> None:
        row, where = unique[index]
        refused.add(row.id)
        report.refused.append((where, reason))

    changed, kept = store_rows(
        conn,
        [row for row, _ in unique],
        range(len(unique)),
        refuse,
        actor=actor,
        project_id=target.project_id,
    )
    stored = [r for row, r in zip(rows, ready, strict=True) if row.id not in refused]
    report.suggestions = sum(r.prediction for r in stored)
    report.annotations = len(stored) - report.suggestions
    report.unchanged = kept - changed
