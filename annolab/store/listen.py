"""Live updates: the events table NOTIFYs after each commit (migration 0003); this listens.

A notebook that listens learns of a queue change as soon as it is committed, without polling
the tables. Notifications of a rolled-back change never arrive: NOTIFY is transactional.
"""

from __future__ import annotations

import json
import select
import time
from collections import deque
from collections.abc import Iterator
from typing import Any

import psycopg
import sqlalchemy as sa

CHANNEL = "annolab_events"


class Listener:
    """Events (``id, project_id, action, entity, entity_id``) as they commit.

    Listening starts when the listener is made, so nothing committed after that is missed.
    Iterating stops after ``timeout`` seconds without an event, or after ``stop_after``
    events. It holds its own autocommit connection (LISTEN inside a pooled transaction would
    hear nothing); close it, or use it in a ``with`` block.
    """

    def __init__(
        self,
        engine: sa.Engine,
        *,
        project_id: int | None = None,
        timeout: float = 5.0,
        stop_after: int | None = None,
    ) -> None:
        url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._conn = psycopg.connect(url, autocommit=True)
        # Every notification the connection reads lands here, including those read while we
        # are not waiting (several can arrive in one network read).
        self._heard: deque[psycopg.Notify] = deque()
        self._conn.add_notify_handler(self._heard.append)
        self._conn.execute(f"LISTEN {CHANNEL}")
        self.project_id = project_id
        self.timeout = timeout
        self.stop_after = stop_after

    def __iter__(self) -> Iterator[dict[str, Any]]:
        heard = 0
        try:
            while self.stop_after is None or heard < self.stop_after:
                if not self._wait():
                    return
                event = json.loads(self._heard.popleft().payload)
                if self.project_id is None or event.get("project_id") == self.project_id:
                    heard += 1
                    yield event
        finally:
            self.close()

    def poll(self) -> list[dict[str, Any]]:
        """The events that commit within ``timeout`` seconds (or have already), without
        closing: a long-lived listener calls this in a loop and can stop between calls."""
        found = []
        if self._wait():
            while self._heard:
                event = json.loads(self._heard.popleft().payload)
                if self.project_id is None or event.get("project_id") == self.project_id:
                    found.append(event)
        return found

    def _wait(self) -> bool:
        """Wait up to ``timeout`` for a notification; False if none came."""
        deadline = time.monotonic() + self.timeout
        while not self._heard:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            readable, _, _ = select.select([self._conn.fileno()], [], [], remaining)
            if readable:
                self._conn.execute("SELECT 1")  # reads what arrived, calling the handler
        return True

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
