"""Query results as polars frames, whole or in batches, without SQLAlchemy's per-row objects."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import polars as pl
import sqlalchemy as sa

# Rows come through Python objects (about 1.7 kB each for an annotation with its text), so the
# batch, not the table, sets peak memory: 10,000 rows keep an export of any size near 250 MB and
# are as fast as larger batches. (A COPY-to-CSV stream would skip those objects, but pyarrow's
# streaming CSV reader refuses a row larger than its block, and a task text may be megabytes.)
BATCH_ROWS = 10_000


def driver_connection(conn: sa.Connection) -> Any:
    """The psycopg connection under a SQLAlchemy one, for COPY and named cursors."""
    return conn.connection.driver_connection


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
    with driver_connection(conn).cursor(name="annolab_frames") as cur:
        cur.itersize = batch_rows
        cur.execute(sql, params)
        rows = cur.fetchmany(batch_rows)
        yield pl.DataFrame(rows, schema=dict(schema), orient="row")
        while rows := cur.fetchmany(batch_rows):
            yield pl.DataFrame(rows, schema=dict(schema), orient="row")


def read_frame(
    conn: sa.Connection,
    sql: str,
    params: Mapping[str, Any],
    schema: Mapping[str, pl.DataType | type[pl.DataType]],
) -> pl.DataFrame:
    """All rows of ``sql`` as one frame (with the right columns even when there are none)."""
    return pl.concat(iter_frames(conn, sql, params, schema), rechunk=True)
