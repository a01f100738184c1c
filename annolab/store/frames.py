"""Query results as polars frames, whole or in batches, without SQLAlchemy's per-row objects."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from typing import Any

import polars as pl
import sqlalchemy as sa
from psycopg import sql as psql

from annolab.store.writes import barrier

# Rows come through Python objects (about 1.7 kB each for an annotation with its text), so the
# batch, not the table, sets peak memory: 10,000 rows keep an export of any size near 250 MB and
# are as fast as larger batches. (A COPY-to-CSV stream would skip those objects, but pyarrow's
# streaming CSV reader refuses a row larger than its block, and a task text may be megabytes.)
BATCH_ROWS = 10_000

# Cursor names unique in the process: two readers may be open in one transaction.
_cursor_numbers = itertools.count()


def driver_connection(conn: sa.Connection) -> Any:
    """The psycopg connection under a SQLAlchemy one, for COPY and cursors on the server; the writes
    ``writes.defer`` holds back are sent first, so what it reads includes them."""
    barrier(conn)
    return conn.connection.driver_connection


def fetch_batches(
    conn: sa.Connection, sql: str, params: Mapping[str, Any], *, batch_rows: int
) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of ``sql`` (psycopg ``%(name)s`` placeholders) in lists of at most
    ``batch_rows``, read through a cursor on the server: one batch is in Python at a time.

    The cursor lives in ``conn``'s transaction and is closed in it. A generator left suspended
    (an error in whoever consumed it) may be closed much later by the garbage collector: its
    transaction has ended by then and dropped the cursor, and the pooled connection may be in
    another caller's transaction, which a CLOSE of a cursor it never had would abort. So no
    CLOSE is sent then.
    """
    transaction = conn.get_transaction()
    name = psql.Identifier(f"annolab_rows_{next(_cursor_numbers)}")
    with driver_connection(conn).cursor() as cur:
        cur.execute(
            psql.SQL("DECLARE {} NO SCROLL CURSOR FOR {}").format(name, psql.SQL(sql)), params
        )
        fetch = psql.SQL("FETCH FORWARD {} FROM {}").format(psql.Literal(batch_rows), name)
        try:
            while rows := cur.execute(fetch).fetchall():
                yield rows
        finally:
            if not conn.closed and conn.get_transaction() is transaction:
                cur.execute(psql.SQL("CLOSE {}").format(name))


def iter_frames(
    conn: sa.Connection,
    sql: str,
    params: Mapping[str, Any],
    schema: Mapping[str, pl.DataType | type[pl.DataType]],
    *,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[pl.DataFrame]:
    """Yield the rows of ``sql`` as frames of at most ``batch_rows`` rows.

    A server-side cursor keeps memory flat however many rows match: only one batch is ever in
    Python. With no rows, one empty frame still carries the columns. ``sql`` uses psycopg's
    ``%(name)s`` placeholders.
    """
    empty = True
    for rows in fetch_batches(conn, sql, params, batch_rows=batch_rows):
        empty = False
        yield pl.DataFrame(rows, schema=dict(schema), orient="row")
    if empty:
        yield pl.DataFrame([], schema=dict(schema), orient="row")


def read_frame(
    conn: sa.Connection,
    sql: str,
    params: Mapping[str, Any],
    schema: Mapping[str, pl.DataType | type[pl.DataType]],
) -> pl.DataFrame:
    """All rows of ``sql`` as one frame (with the right columns even when there are none)."""
    return pl.concat(iter_frames(conn, sql, params, schema), rechunk=True)
