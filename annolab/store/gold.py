"""Gold sets, their versions, entries and conflicts: the SQL behind ``project.gold``.

Every write runs after ``lock_set``, which holds the set for the transaction: two
processes promoting into one set take turns, so the second sees what the first wrote (and
``UNIQUE (gold_version_id, task_id)`` makes a duplicate entry impossible regardless).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from annolab.store.frames import read_frame
from annolab.store.tables import gold_conflicts, gold_entries, gold_sets, gold_versions


@dataclass(frozen=True)
class VersionRow:
    id: int
    version: int
    frozen: bool


@dataclass(frozen=True)
class EntryRow:
    id: int
    task_id: int
    payload: dict[str, Any]
    category: str
    source: str
    source_annotation_id: uuid.UUID | None
    reviewer: str | None
    agreement: float | None


@dataclass(frozen=True)
class ConflictRow:
    id: int
    gold_set_id: int
    set_name: str
    task_id: int
    external_id: str
    proposed: dict[str, Any]
    existing_entry_id: int | None
    source: str
    source_annotation_id: uuid.UUID | None
    category: str
    reviewer: str | None
    agreement: float | None
    status: str


def find_set(conn: sa.Connection, project_id: int, name: str) -> int | None:
    return conn.execute(
        sa.select(gold_sets.c.id).where(
            gold_sets.c.project_id == project_id, gold_sets.c.name == name
        )
    ).scalar()


def lock_set(conn: sa.Connection, project_id: int, name: str, *, actor_id: int) -> int:
    """The id of set ``name`` (made if new), locked until the transaction ends."""
    conn.execute(
        insert(gold_sets)
        .values(project_id=project_id, name=name, created_by=actor_id)
        .on_conflict_do_nothing(index_elements=["project_id", "name"])
    )
    set_id = int(
        conn.execute(
            sa.select(gold_sets.c.id).where(
                gold_sets.c.project_id == project_id, gold_sets.c.name == name
            )
        ).scalar_one()
    )
    lock_set_by_id(conn, set_id)
    return set_id


def lock_set_by_id(conn: sa.Connection, set_id: int) -> None:
    """Hold the set until the transaction ends. An advisory lock, not ``FOR UPDATE``: that
    would need UPDATE on gold_sets, which curators on a team server do not get."""
    conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended('annolab:gold_set:' || :s, 0))"),
        {"s": str(set_id)},
    )


def current_version(conn: sa.Connection, set_id: int) -> VersionRow | None:
    """The open version, else the newest frozen one (what the next promote starts from)."""
    row = conn.execute(
        sa.select(gold_versions.c.id, gold_versions.c.version, gold_versions.c.frozen)
        .where(gold_versions.c.gold_set_id == set_id)
        .order_by(gold_versions.c.version.desc())
        .limit(1)
    ).first()
    return None if row is None else VersionRow(row.id, row.version, row.frozen)


def find_version(conn: sa.Connection, set_id: int, version: int) -> VersionRow | None:
    row = conn.execute(
        sa.select(gold_versions.c.id, gold_versions.c.version, gold_versions.c.frozen).where(
            gold_versions.c.gold_set_id == set_id, gold_versions.c.version == version
        )
    ).first()
    return None if row is None else VersionRow(row.id, row.version, row.frozen)


def version_numbers(conn: sa.Connection, set_id: int) -> list[int]:
    return [
        int(v)
        for v in conn.execute(
            sa.select(gold_versions.c.version)
            .where(gold_versions.c.gold_set_id == set_id)
            .order_by(gold_versions.c.version)
        ).scalars()
    ]


def open_version(conn: sa.Connection, set_id: int, *, actor_id: int) -> tuple[VersionRow, bool]:
    """The set's open version, opened as a copy of the newest frozen one when there is none;
    the flag says whether it was opened now. Call with the set locked."""
    current = current_version(conn, set_id)
    if current is not None and not current.frozen:
        return current, False
    number = 1 if current is None else current.version + 1
    new_id = conn.execute(
        gold_versions.insert()
        .values(gold_set_id=set_id, version=number, created_by=actor_id)
        .returning(gold_versions.c.id)
    ).scalar_one()
    if current is not None:
        columns = [
            "task_id",
            "payload",
            "category",
            "source",
            "source_annotation_id",
            "reviewer",
            "agreement",
            "created_at",
        ]
        copied = sa.select(
            sa.literal(new_id, sa.BigInteger), *(gold_entries.c[c] for c in columns)
        ).where(gold_entries.c.gold_version_id == current.id)
        conn.execute(gold_entries.insert().from_select(["gold_version_id", *columns], copied))
    return VersionRow(int(new_id), number, False), True


def _entry(row: Any) -> EntryRow:
    return EntryRow(
        id=row.id,
        task_id=row.task_id,
        payload=row.payload,
        category=str(row.category),
        source=row.source,
        source_annotation_id=row.source_annotation_id,
        reviewer=row.reviewer,
        agreement=row.agreement,
    )


_ENTRY_COLUMNS = (
    gold_entries.c.id,
    gold_entries.c.task_id,
    gold_entries.c.payload,
    gold_entries.c.category,
    gold_entries.c.source,
    gold_entries.c.source_annotation_id,
    gold_entries.c.reviewer,
    gold_entries.c.agreement,
)


def entry_for(conn: sa.Connection, version_id: int, task_id: int) -> EntryRow | None:
    row = conn.execute(
        sa.select(*_ENTRY_COLUMNS).where(
            gold_entries.c.gold_version_id == version_id, gold_entries.c.task_id == task_id
        )
    ).first()
    return None if row is None else _entry(row)


def entry_by_id(conn: sa.Connection, entry_id: int) -> EntryRow | None:
    row = conn.execute(sa.select(*_ENTRY_COLUMNS).where(gold_entries.c.id == entry_id)).first()
    return None if row is None else _entry(row)


def put_entry(conn: sa.Connection, version_id: int, values: Mapping[str, Any]) -> int:
    """Insert the task's entry in an open version, or replace the one it has."""
    stmt = insert(gold_entries).values(gold_version_id=version_id, **values)
    stmt = stmt.on_conflict_do_update(
        index_elements=["gold_version_id", "task_id"],
        set_={
            **{k: stmt.excluded[k] for k in values if k != "task_id"},
            "created_at": sa.func.now(),
        },
    )
    return int(conn.execute(stmt.returning(gold_entries.c.id)).scalar_one())


def open_conflict_like(
    conn: sa.Connection, set_id: int, task_id: int, proposed: dict[str, Any]
) -> int | None:
    """An open conflict proposing the same payload for the task: a retried promote."""
    return conn.execute(
        sa.select(gold_conflicts.c.id).where(
            gold_conflicts.c.gold_set_id == set_id,
            gold_conflicts.c.task_id == task_id,
            gold_conflicts.c.status == "open",
            gold_conflicts.c.proposed == sa.cast(sa.bindparam("proposed", proposed, JSONB), JSONB),
        )
    ).scalar()


def add_conflict(conn: sa.Connection, set_id: int, values: Mapping[str, Any]) -> int:
    return int(
        conn.execute(
            gold_conflicts.insert()
            .values(gold_set_id=set_id, **values)
            .returning(gold_conflicts.c.id)
        ).scalar_one()
    )


def read_conflict(conn: sa.Connection, project_id: int, conflict_id: int) -> ConflictRow | None:
    row = conn.execute(
        sa.text(
            "SELECT c.id, c.gold_set_id, s.name AS set_name, c.task_id, t.external_id, "
            "c.proposed, c.existing_entry_id, c.source, c.source_annotation_id, "
            "c.category::text AS category, c.reviewer, c.agreement, c.status::text AS status "
            "FROM gold_conflicts c JOIN gold_sets s ON s.id = c.gold_set_id "
            "JOIN tasks t ON t.id = c.task_id WHERE c.id = :c AND s.project_id = :p"
        ),
        {"c": conflict_id, "p": project_id},
    ).first()
    return None if row is None else ConflictRow(**row._asdict())


def close_conflict(
    conn: sa.Connection, conflict_id: int, *, status: str, actor_id: int, reason: str
) -> None:
    conn.execute(
        gold_conflicts.update()
        .where(gold_conflicts.c.id == conflict_id)
        .values(status=status, resolved_by=actor_id, resolved_at=sa.func.now(), reason=reason)
    )


def count_open_conflicts(conn: sa.Connection, set_id: int) -> int:
    return int(
        conn.execute(
            sa.select(sa.func.count()).where(
                gold_conflicts.c.gold_set_id == set_id, gold_conflicts.c.status == "open"
            )
        ).scalar_one()
    )


def freeze_version(conn: sa.Connection, version_id: int, note: str) -> int:
    """Freeze the version; returns how many entries it holds."""
    conn.execute(
        gold_versions.update()
        .where(gold_versions.c.id == version_id)
        .values(frozen=True, note=note)
    )
    return int(
        conn.execute(
            sa.select(sa.func.count()).where(gold_entries.c.gold_version_id == version_id)
        ).scalar_one()
    )


ENTRY_SCHEMA: Mapping[str, Any] = {
    "entry_id": pl.Int64,
    "task_id": pl.Int64,
    "external_id": pl.String,
    "text": pl.String,
    "payload": pl.String,
    "category": pl.String,
    "source": pl.String,
    "source_annotation_id": pl.String,
    "reviewer": pl.String,
    "agreement": pl.Float64,
    "set": pl.String,
    "version": pl.Int32,
    "created_at": pl.Datetime("us", "UTC"),
}


def read_entries(conn: sa.Connection, version_id: int) -> pl.DataFrame:
    sql = """
    SELECT e.id, e.task_id, t.external_id, t.data->>'text', e.payload::text, e.category::text,
           e.source, e.source_annotation_id::text, e.reviewer, e.agreement, s.name, v.version,
           e.created_at
    FROM gold_entries e JOIN gold_versions v ON v.id = e.gold_version_id
    JOIN gold_sets s ON s.id = v.gold_set_id JOIN tasks t ON t.id = e.task_id
    WHERE e.gold_version_id = %(v)s
    ORDER BY t.external_id, e.id
    """
    return read_frame(conn, sql, {"v": version_id}, ENTRY_SCHEMA)


VERSION_SCHEMA: Mapping[str, Any] = {
    "version": pl.Int32,
    "frozen": pl.Boolean,
    "entries": pl.Int64,
    "note": pl.String,
    "created_by": pl.String,
    "created_at": pl.Datetime("us", "UTC"),
    "frozen_at": pl.Datetime("us", "UTC"),
}


def read_versions(conn: sa.Connection, set_id: int) -> pl.DataFrame:
    sql = """
    SELECT v.version, v.frozen,
           (SELECT count(*) FROM gold_entries e WHERE e.gold_version_id = v.id), v.note,
           u.name, v.created_at, v.frozen_at
    FROM gold_versions v LEFT JOIN users u ON u.id = v.created_by
    WHERE v.gold_set_id = %(s)s ORDER BY v.version
    """
    return read_frame(conn, sql, {"s": set_id}, VERSION_SCHEMA)


CONFLICT_SCHEMA: Mapping[str, Any] = {
    "conflict_id": pl.Int64,
    "external_id": pl.String,
    "existing": pl.String,
    "proposed": pl.String,
    "category": pl.String,
    "source": pl.String,
    "source_annotation_id": pl.String,
    "agreement": pl.Float64,
    "proposed_by": pl.String,
    "status": pl.String,
    "resolved_by": pl.String,
    "reason": pl.String,
    "created_at": pl.Datetime("us", "UTC"),
    "resolved_at": pl.Datetime("us", "UTC"),
}


def read_conflicts(conn: sa.Connection, set_id: int, status: str | None) -> pl.DataFrame:
    sql = """
    SELECT c.id, t.external_id, e.payload::text, c.proposed::text, c.category::text, c.source,
           c.source_annotation_id::text, c.agreement, p.name, c.status::text, r.name, c.reason,
           c.created_at, c.resolved_at
    FROM gold_conflicts c JOIN tasks t ON t.id = c.task_id
    LEFT JOIN gold_entries e ON e.id = c.existing_entry_id
    LEFT JOIN users p ON p.id = c.proposed_by LEFT JOIN users r ON r.id = c.resolved_by
    WHERE c.gold_set_id = %(s)s AND (%(status)s::text IS NULL OR c.status::text = %(status)s)
    ORDER BY c.id
    """
    return read_frame(conn, sql, {"s": set_id, "status": status}, CONFLICT_SCHEMA)


@dataclass(frozen=True)
class Answer:
    id: uuid.UUID
    user_id: int
    kind: str
    status: str
    payload: dict[str, Any]


def task_answers(conn: sa.Connection, task_id: int) -> list[Answer]:
    """Every non-draft annotation of the task, oldest change first."""
    rows = conn.execute(
        sa.text(
            "SELECT id, user_id, kind::text AS kind, status::text AS status, payload "
            "FROM annotations WHERE task_id = :t AND status <> 'draft' "
            "ORDER BY updated_at, created_at, id"
        ),
        {"t": task_id},
    ).all()
    return [Answer(r.id, r.user_id, r.kind, r.status, r.payload) for r in rows]
