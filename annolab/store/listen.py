"""Live updates: new rows of the events table, read as their transactions commit.

A listener asks the events table every ``interval`` seconds for what committed since it last
asked, so it reads only what the login may read (the table's row-level security), and nothing
a rolled-back transaction wrote. Each event carries the id of the transaction that wrote it
(``events.txid``). Ids are handed out when transactions start, not when they commit, so an
event is read once every transaction older than its own has ended: one that started earlier and
commits later can then never slip behind what was already read. A transaction left open while
it writes delays the events committed after it began (never loses them).

Postgres's LISTEN/NOTIFY is not used: a notifying transaction holds one lock for the whole
database through its commit, which made every queue operation commit one at a time.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.rows import dict_row

# The oldest transaction still running at this statement's snapshot: every transaction with a
# smaller id has ended, so the events it committed are all visible and no more will come.
_HORIZON = "pg_catalog.pg_snapshot_xmin(pg_catalog.pg_current_snapshot())::text::bigint"

# Events of transactions that ended between the last horizon and this one, except those that
# had already committed when the listener was made (they were visible in its first snapshot).
_NEW_EVENTS = f"""
    SELECT h.horizon, e.id, e.project_id, e.action, e.entity, e.entity_id
    FROM (SELECT {_HORIZON} AS horizon) h
    LEFT JOIN public.events e
      ON e.txid >= %(mark)s AND e.txid < h.horizon
     AND NOT pg_catalog.pg_visible_in_snapshot(e.txid::text::xid8, %(start)s::pg_snapshot)
     AND (%(project)s::bigint IS NULL OR e.project_id = %(project)s::bigint)
    ORDER BY e.txid, e.id
"""


class Listener:
    """Events (``id, project_id, action, entity, entity_id``) as they commit.

    Listening starts when the listener is made, so nothing committed after that is missed.
    Iterating stops after ``timeout`` seconds without an event, or after ``stop_after``
    events. It holds its own autocommit connection; close it, or use it in a ``with`` block.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        project_id: int | None = None,
        timeout: float = 5.0,
        stop_after: int | None = None,
        interval: float = 0.2,
    ) -> None:
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._conn = psycopg.connect(url, autocommit=True, row_factory=dict_row)
        row = self._conn.execute(
            f"SELECT pg_catalog.pg_current_snapshot()::text AS start, {_HORIZON} AS horizon"
        ).fetchone()
        assert row is not None  # a SELECT without FROM returns one row
        self._start = row["start"]
        self._mark = row["horizon"]
        self._heard: deque[dict[str, Any]] = deque()
        self.project_id = project_id
        self.timeout = timeout
        self.stop_after = stop_after
        self.interval = interval

    def __iter__(self) -> Iterator[dict[str, Any]]:
        heard = 0
        try:
            while self.stop_after is None or heard < self.stop_after:
                if not self._wait():
                    return
                heard += 1
                yield self._heard.popleft()
        finally:
            self.close()

    def poll(self) -> list[dict[str, Any]]:
        """The events that commit within ``timeout`` seconds (or have already), without
        closing: a long-lived listener calls this in a loop and can stop between calls."""
        found = []
        if self._wait():
            while self._heard:
                found.append(self._heard.popleft())
        return found

    def _wait(self) -> bool:
        """Read new events until there is one or ``timeout`` has passed; False if none came."""
        deadline = time.monotonic() + self.timeout
        while not self._heard:
            self._read()
            remaining = deadline - time.monotonic()
            if self._heard or remaining <= 0:
                break
            time.sleep(min(self.interval, remaining))
        return bool(self._heard)

    def _read(self) -> None:
        rows = self._conn.execute(
            _NEW_EVENTS, {"mark": self._mark, "start": self._start, "project": self.project_id}
        ).fetchall()
        self._mark = rows[0]["horizon"]  # the LEFT JOIN keeps one row when there is no event
        self._heard.extend(
            {key: row[key] for key in ("id", "project_id", "action", "entity", "entity_id")}
            for row in rows
            if row["id"] is not None
        )

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
