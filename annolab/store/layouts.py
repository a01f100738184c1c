"""Layout versions: rows in ``layouts``. A published body never changes (migration 0009's
trigger); a new body is a new version, and deprecating only marks a version as superseded."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa

from annolab.errors import StoreError
from annolab.store.events import record_event

VERSIONS_SCHEMA: dict[str, Any] = {
    "name": pl.String,
    "version": pl.Int64,
    "status": pl.String,
    "created_by": pl.String,
    "created_at": pl.Datetime("us", "UTC"),
}


@dataclass(frozen=True)
class LayoutRow:
    """One stored version of a layout."""

    name: str
    version: int
    body: dict[str, Any]
    status: str


_COLUMNS = "name, version, body, status"


def _row(found: Any) -> LayoutRow:
    return LayoutRow(found.name, int(found.version), dict(found.body), str(found.status))


def latest_layout(conn: sa.Connection, name: str) -> LayoutRow | None:
    """The newest version of ``name`` (deprecated or not), or None when none was published."""
    found = conn.execute(
        sa.text(f"SELECT {_COLUMNS} FROM layouts WHERE name = :n ORDER BY version DESC LIMIT 1"),
        {"n": name},
    ).one_or_none()
    return None if found is None else _row(found)


def get_layout(conn: sa.Connection, name: str, version: int | None = None) -> LayoutRow:
    """Version ``version`` of ``name`` (the newest when None); StoreError naming what exists."""
    if version is None:
        found = latest_layout(conn, name)
    else:
        row = conn.execute(
            sa.text(f"SELECT {_COLUMNS} FROM layouts WHERE name = :n AND version = :v"),
            {"n": name, "v": version},
        ).one_or_none()
        found = None if row is None else _row(row)
    if found is not None:
        return found
    stored = conn.execute(
        sa.text("SELECT version FROM layouts WHERE name = :n ORDER BY version"), {"n": name}
    ).scalars()
    have = ", ".join(str(v) for v in stored) or "none"
    what = f"layout={name!r}" if version is None else f"layout {name!r} version={version!r}"
    msg = f"{what} is not published; published versions: {have}"
    raise StoreError(msg)


def publish_layout(
    conn: sa.Connection, *, name: str, body: dict[str, Any], actor: str, actor_id: int | None
) -> LayoutRow:
    """Store ``body`` as the next version of ``name``, unless the newest already holds it.

    The same body publishes nothing (its version is returned), so running a notebook again does
    not pile up versions. The lock on the name makes two publishers take turns.
    """
    conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtext('annolab.layout:' || :n))"), {"n": name}
    )
    newest = latest_layout(conn, name)
    if newest is not None and newest.body == body:
        return newest
    version = 1 if newest is None else newest.version + 1
    conn.execute(
        sa.text(
            "INSERT INTO layouts (name, version, body, created_by) "
            "VALUES (:n, :v, CAST(:b AS jsonb), :u)"
        ),
        {"n": name, "v": version, "b": json.dumps(body), "u": actor_id},
    )
    record_event(
        conn,
        actor=actor,
        action="layout.published",
        entity="layout",
        entity_id=f"{name}@{version}",
        after={"name": name, "version": version},
    )
    return LayoutRow(name, version, body, "published")


def deprecate_layout(conn: sa.Connection, *, name: str, version: int, actor: str) -> None:
    """Mark a version deprecated: projects pinned to it keep working, and are warned."""
    row = get_layout(conn, name, version)
    if row.status == "deprecated":
        return
    conn.execute(
        sa.text("UPDATE layouts SET status = 'deprecated' WHERE name = :n AND version = :v"),
        {"n": name, "v": version},
    )
    record_event(
        conn,
        actor=actor,
        action="layout.deprecated",
        entity="layout",
        entity_id=f"{name}@{version}",
        before={"status": "published"},
        after={"status": "deprecated"},
    )


def layout_versions(conn: sa.Connection, name: str) -> pl.DataFrame:
    """Every version of ``name``: version, status, who published it and when."""
    rows = conn.execute(
        sa.text(
            "SELECT l.name, l.version, l.status, u.name AS created_by, l.created_at "
            "FROM layouts l LEFT JOIN users u ON u.id = l.created_by "
            "WHERE l.name = :n ORDER BY l.version"
        ),
        {"n": name},
    ).all()
    return pl.DataFrame([tuple(r) for r in rows], schema=VERSIONS_SCHEMA, orient="row")
