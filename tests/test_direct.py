"""Statements run on the driver's cursor behave as through SQLAlchemy: parameters, waiting
writes sent first, cursor events, and errors as SQLAlchemy's exceptions."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

import annolab as al
from annolab.errors import StoreError
from annolab.store import writes
from annolab.store.direct import fetch

pytestmark = pytest.mark.db


def test_parameters_casts_and_percent_signs_pass_as_written(workspace: al.Workspace) -> None:
    with workspace.engine.connect() as conn:
        rows = fetch(
            conn,
            "SELECT :a::int + 1 AS n, '5%' AS literal, (CAST(:w AS float[]))[2] AS w",
            {"a": 41, "w": [0.5, 2.5]},
            named=True,
        )
    assert [(r.n, r.literal, r.w) for r in rows] == [(42, "5%", 2.5)]


def test_a_held_back_write_is_sent_first(workspace: al.Workspace, project: al.Project) -> None:
    with workspace.engine.connect() as conn, conn.begin():
        with writes.batched(conn):
            writes.defer(
                conn,
                "UPDATE projects SET name = :n WHERE id = :p",
                {"n": project.name + "-renamed", "p": project.id},
            )
            (row,) = fetch(conn, "SELECT name FROM projects WHERE id = :p", {"p": project.id})
        assert row == (project.name + "-renamed",)
        conn.rollback()


def test_cursor_events_see_the_statement(workspace: al.Workspace) -> None:
    seen: list[tuple[str, Any]] = []

    def before(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        seen.append((statement, params))

    sa.event.listen(workspace.engine, "before_cursor_execute", before)
    try:
        with workspace.engine.connect() as conn:
            fetch(conn, "SELECT :v::int", {"v": 7})
    finally:
        sa.event.remove(workspace.engine, "before_cursor_execute", before)
    assert seen == [("SELECT %(v)s::int", {"v": 7})]


def test_errors_come_back_as_sqlalchemys(workspace: al.Workspace) -> None:
    with workspace.engine.connect() as conn:
        with pytest.raises(sa.exc.ProgrammingError, match="no_such_table"):
            fetch(conn, "SELECT * FROM no_such_table", {})
        conn.rollback()
        with pytest.raises(StoreError, match="Postgres refused a value"):
            fetch(conn, "SELECT :v::smallint", {"v": 70_000})
        conn.rollback()
        assert fetch(conn, "SELECT 1", {}) == [(1,)]  # the connection is still good
