"""Writes sent together. Inside ``batched(conn)`` the event log's rows and the writes a store
function hands to ``defer`` (an UPDATE whose result nobody reads) wait, and go to the server at
the end of the block in one round trip, a pipeline, instead of one round trip each.

``transaction`` sends them with its COMMIT, as one more statement in the pipeline, and sends its
BEGIN with its first statement: a submit that locks, stores and then writes is three round
trips. (psycopg sends a BEGIN of its own alone, and syncs after it even in a pipeline; its own
commit in a pipeline would sync twice. So the driver connection is in autocommit for the block
and the BEGIN and COMMIT are statements of ours; SQLAlchemy's commit then finds nothing left to
do, and after an error its rollback still rolls back.) They run on psycopg's cursor, as the
queue's other hot statements do (``direct``).

A deferred write is never seen late, and no statement runs outside the transaction: any other
statement on the connection, through SQLAlchemy or through ``frames.driver_connection``, sends
the BEGIN not yet sent and the waiting writes first. The event log's rows wait until the end or
``flush(conn)``: inside a block only the rules read the log, after a flush. A write that fails
raises when it is sent, and the transaction rolls back as it would have.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.types.json import Jsonb

from annolab.store.cursor import begin, driver_sql, run
from annolab.store.guard import as_statement_error


@dataclass
class _Batch:
    writes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    sending: bool = False  # the barrier does not stop the batch's own statements
    opening: bool = False  # the transaction's BEGIN is not sent yet: it goes with a statement


# Said in full rather than left to the server's default, as psycopg's own BEGIN does.
BEGIN = "BEGIN ISOLATION LEVEL READ COMMITTED"


# One statement for any number of rows, their ids in the order they were recorded; the new ids
# are not returned: nobody reads them (and a pipeline could not return them). A missing
# ``before`` or ``after`` is stored as JSON null, as it always was.
_ADD_EVENTS = """
    INSERT INTO events (actor, action, entity, entity_id, project_id, before, after)
    SELECT r.actor, r.action, r.entity, r.entity_id, r.project_id,
           COALESCE(r.before, 'null'), COALESCE(r.after, 'null')
    FROM ROWS FROM (jsonb_to_recordset(%(rows)s) AS (actor text, action text, entity text,
                    entity_id text, project_id bigint, before jsonb, after jsonb))
         WITH ORDINALITY AS r(actor, action, entity, entity_id, project_id, before, after, n)
    ORDER BY r.n
"""

# Per Connection object rather than in ``conn.info``: that lives on the driver's connection,
# which a lost server invalidates (reading it then raises instead of letting the error through).
_batches: weakref.WeakKeyDictionary[sa.Connection, _Batch] = weakref.WeakKeyDictionary()


def install(engine: sa.Engine) -> None:
    """Let ``engine``'s connections defer writes: every statement first sends those waiting.
    On an engine without it ``defer`` runs each write at once."""
    sa.event.listen(engine, "before_execute", _barrier)


def _installed(engine: sa.Engine) -> bool:
    return sa.event.contains(engine, "before_execute", _barrier)


def _barrier(conn: sa.Connection, *_: Any) -> None:
    batch = _batches.get(conn)
    if batch is None or batch.sending:
        return
    if batch.writes:
        _send(conn, batch, with_events=False)  # the BEGIN goes first in its pipeline
    elif batch.opening:
        batch.opening = False
        with _driver(conn).cursor() as cur:
            run(conn, cur, BEGIN, None)


def take_begin(conn: sa.Connection) -> bool:
    """Whether ``conn``'s transaction waits for its BEGIN with no write waiting before it; if
    so the caller now owes it, and sends it ahead of its statement in one pipeline."""
    batch = _batches.get(conn)
    if batch is None or not batch.opening or batch.writes or batch.sending:
        return False
    batch.opening = False
    return True


def barrier(conn: sa.Connection) -> None:
    """Send the waiting writes: for code that talks to the driver connection directly, which
    SQLAlchemy's events do not see."""
    _barrier(conn)


def defer(conn: sa.Connection, sql: str, params: dict[str, Any]) -> None:
    """Run ``sql`` (one statement that returns nothing; ``:name`` parameters, as for
    ``sa.text``) now, or with the batch inside ``batched``."""
    batch = _batches.get(conn)
    if batch is None or not _installed(conn.engine):
        conn.execute(sa.text(sql), params)
    else:
        batch.writes.append((sql, params))


def _driver(conn: sa.Connection) -> Any:
    driver = conn.connection.driver_connection
    assert driver is not None  # a live connection: it is in a transaction
    return driver


def add_event(conn: sa.Connection, row: dict[str, Any]) -> None:
    """Append one row to the event log, now or with the batch."""
    batch = _batches.get(conn)
    if batch is None:
        begin(conn)
        driver = conn.connection.driver_connection
        assert driver is not None  # a live connection: it is in a transaction
        with driver.cursor() as cur:
            run(conn, cur, _ADD_EVENTS, {"rows": Jsonb([row])})
    else:
        batch.events.append(row)


@contextmanager
def batched(conn: sa.Connection) -> Iterator[None]:
    """Collect the writes and events inside and send them together on the way out.

    A block inside another block leaves the sending to the outer one. On an error nothing more
    is sent: the caller's transaction is rolling back anyway.
    """
    if conn in _batches:
        yield
        return
    batch = _batches[conn] = _Batch()
    try:
        yield
        _send(conn, batch, with_events=True)
    finally:
        _batches.pop(conn, None)


def flush(conn: sa.Connection) -> None:
    """Send what ``batched`` has collected so far, events included."""
    batch = _batches.get(conn)
    if batch is not None:
        _send(conn, batch, with_events=True)


@contextmanager
def transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """``engine.begin()`` inside ``batched``, whose writes and events go with the COMMIT."""
    with engine.connect() as conn:
        # The driver in autocommit: the transaction is our BEGIN ... COMMIT (see above). Only
        # where every statement passes the barrier, which sends the BEGIN first.
        opening = _installed(engine)
        if opening:
            conn.execution_options(isolation_level="AUTOCOMMIT")
        batch = _batches[conn] = _Batch(opening=opening)
        try:
            with conn.begin():
                yield conn
                _send(conn, batch, with_events=True, commit=True)
        finally:
            _batches.pop(conn, None)


def _send(conn: sa.Connection, batch: _Batch, *, with_events: bool, commit: bool = False) -> None:
    writes, batch.writes = batch.writes, []
    rows: list[dict[str, Any]] = []
    if with_events:
        rows, batch.events = batch.events, []
    if not writes and not rows:
        # Nothing waits; a commit alone is SQLAlchemy's, on the way out of ``transaction``
        # (psycopg sends it when a transaction is open, whoever began it).
        return
    begin(conn)
    driver = _driver(conn)
    opening, batch.opening = batch.opening, False
    batch.sending = True
    try:
        # In a pipeline the statements go out without waiting for each other's replies; the
        # pipeline's end waits once and raises the first error. After an error the server
        # skips the rest, COMMIT included, and the caller's rollback ends the transaction.
        with driver.pipeline(), driver.cursor() as cur:
            if opening:
                run(conn, cur, BEGIN, None)
            for sql, params in writes:
                run(conn, cur, driver_sql(sql), params)
            if rows:
                run(conn, cur, _ADD_EVENTS, {"rows": Jsonb(rows)})
            if commit:
                run(conn, cur, "COMMIT", None)
    except psycopg.Error as error:
        # Raised by the pipeline's end, outside any statement SQLAlchemy ran: turned into what
        # the same error of a statement would have been.
        raise as_statement_error(error) from error
    finally:
        batch.sending = False
