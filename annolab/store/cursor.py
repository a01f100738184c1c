"""One statement on psycopg's cursor, run as SQLAlchemy would run it: in the connection's
transaction (begun as SQLAlchemy's autobegin would), its cursor events fired (logging, timing
and the tests' statement counts see it), and a driver error raised as SQLAlchemy's exception
for it (``StoreError`` for a refused value). ``direct`` reads and writes with it, and ``writes``
sends its pipelines with it; why the hot statements bypass SQLAlchemy is in ``direct``.
"""

from __future__ import annotations

import functools
import re
from typing import Any

import psycopg
import sqlalchemy as sa

from annolab.store.guard import as_statement_error

# ``:name`` (not ``::type``) as SQLAlchemy's text() reads it.
_PARAMETER = re.compile(r"(?<![:\w]):(\w+)")


@functools.lru_cache(maxsize=128)  # a few statements, each built the same every call
def driver_sql(sql: str) -> str:
    """``sql`` with SQLAlchemy text()'s ``:name`` parameters in psycopg's ``%(name)s`` style."""
    return _PARAMETER.sub(r"%(\1)s", sql.replace("%", "%%"))


def begin(conn: sa.Connection) -> None:
    """Start ``conn``'s transaction if it has none, as SQLAlchemy's own execute does first, so
    that the caller's commit or rollback reaches a statement run on the driver's cursor."""
    if not conn.in_transaction():
        conn.begin()


def run(conn: sa.Connection, cur: Any, sql: str, params: Any) -> None:
    """Execute ``sql`` (``%(name)s`` parameters) on ``cur``, a cursor of ``conn``'s driver
    connection."""
    dispatch = conn.dispatch
    dispatch.before_cursor_execute(conn, cur, sql, params, None, False)
    try:
        cur.execute(sql, params)
    except psycopg.Error as error:
        raise as_statement_error(error, sql, params) from error
    dispatch.after_cursor_execute(conn, cur, sql, params, None, False)
