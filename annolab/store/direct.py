"""The queue's hottest statements, run on psycopg's cursor rather than through SQLAlchemy.

Every claim and every submit runs them, many times a second under a team, and the client's CPU
is most of what a cycle costs. Through SQLAlchemy a textual statement costs about twice the
client CPU of the same statement on the driver's cursor (a result object whose column metadata
is rebuilt on every execution, parameter processing, event dispatch): 260 against 125 µs for
the claim's read of the user's standing. Everything else about them stays as it was: the writes
``writes.defer`` holds back are sent first, SQLAlchemy's cursor events still see each statement
(logging, timing and the tests' counts), and an error comes back as SQLAlchemy's exception for
it (``StoreError`` for a refused value), as from any other statement.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.rows import namedtuple_row, tuple_row

from annolab.store.frames import driver_connection
from annolab.store.guard import as_statement_error

# ``:name`` (not ``::type``) as SQLAlchemy's text() reads it.
_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


@functools.lru_cache(maxsize=128)  # a few statements, each built the same every call
def _for_driver(sql: str) -> str:
    """``sql`` with SQLAlchemy text()'s ``:name`` parameters in psycopg's ``%(name)s`` style."""
    return _PARAMETER.sub(r"%(\1)s", sql.replace("%", "%%"))


def fetch(
    conn: sa.Connection, sql: str, params: Mapping[str, Any], *, named: bool = False
) -> list[Any]:
    """The rows of ``sql`` (a statement that returns rows; ``:name`` parameters, as for
    ``sa.text``) run in ``conn``'s transaction: tuples, or named tuples when ``named`` (the
    columns' names must then differ)."""
    statement = _for_driver(sql)
    if not conn.in_transaction():
        # What SQLAlchemy's own execute does first (its autobegin), so that the caller's
        # commit or rollback reaches this statement's transaction.
        conn.begin()
    dispatch = conn.dispatch
    with driver_connection(conn).cursor(row_factory=namedtuple_row if named else tuple_row) as cur:
        dispatch.before_cursor_execute(conn, cur, statement, params, None, False)
        try:
            cur.execute(statement, params)
            rows: list[Any] = cur.fetchall()
        except psycopg.Error as error:
            raise as_statement_error(error, statement, params) from error
        dispatch.after_cursor_execute(conn, cur, statement, params, None, False)
    return rows
