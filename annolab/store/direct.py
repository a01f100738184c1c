"""The queue's hottest statements, run on psycopg's cursor rather than through SQLAlchemy.

Every claim and every submit runs them (the claim's reads and pick, the submit's lock, upsert
and the writes sent with its COMMIT), many times a second under a team, and the client's CPU
is most of what a cycle costs. Through SQLAlchemy a textual statement costs about twice the
client CPU of the same statement on the driver's cursor (a result object whose column metadata
is rebuilt on every execution, parameter processing, event dispatch): 260 against 125 µs for
the claim's read of the user's standing. Everything else about them stays as it was: the writes
``writes.defer`` holds back are sent first, SQLAlchemy's cursor events still see each statement
(logging, timing and the tests' counts), and an error comes back as SQLAlchemy's exception for
it (``StoreError`` for a refused value), as from any other statement.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import namedtuple_row, tuple_row

from annolab.store.cursor import begin, driver_sql, run
from annolab.store.frames import driver_connection
from annolab.store.guard import as_statement_error
from annolab.store.writes import BEGIN, take_begin

if TYPE_CHECKING:
    import sqlalchemy as sa


def fetch(
    conn: sa.Connection, sql: str, params: Mapping[str, Any], *, named: bool = False
) -> list[Any]:
    """The rows of ``sql`` (a statement that returns rows; ``:name`` parameters, as for
    ``sa.text``) run in ``conn``'s transaction: tuples, or named tuples when ``named`` (the
    columns' names must then differ)."""
    begin(conn)
    opening = take_begin(conn)  # a ``writes.transaction`` not begun yet: its BEGIN goes along
    driver = driver_connection(conn)
    row_factory = namedtuple_row if named else tuple_row
    with driver.cursor(row_factory=row_factory) as cur:
        if not opening:
            run(conn, cur, driver_sql(sql), params)
        else:
            try:
                with driver.pipeline(), driver.cursor() as starting:
                    run(conn, starting, BEGIN, None)
                    run(conn, cur, driver_sql(sql), params)
            except psycopg.Error as error:  # raised by the pipeline's end, as in ``writes``
                raise as_statement_error(error, sql, params) from error
        rows: list[Any] = cur.fetchall()
    return rows
