"""Live updates for the tabs: one reader of new events on a background thread, fanned out.

One thread per server reads the events as they commit (``annolab/store/listen.py``) and hands
each to every open stream as a small message (project, action), so the sidebar refetches its
counts; the event itself is not sent, since what a user may read of it is decided when the
sidebar asks.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from annolab.store.listen import Listener

log = logging.getLogger(__name__)

# How long one listening connection waits before it checks whether it should stop.
_POLL_SECONDS = 1.0
# How often it reads the events table: a sidebar's counts may lag this much.
_READ_SECONDS = 0.5
# After the connection fails (the server restarted), wait this long before listening again.
_RETRY_SECONDS = 2.0


class Broadcast:
    """Streams subscribe with a callback; a daemon thread listens while any are subscribed."""

    def __init__(self, engine: Callable[[], sa.Engine]) -> None:
        self._engine = engine
        self._subscribers: dict[int, tuple[asyncio.AbstractEventLoop, asyncio.Queue[Any]]] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._next = 0

    def subscribe(self) -> tuple[int, asyncio.Queue[dict[str, Any]]]:
        """A queue of messages for the caller's event loop, and its key for ``unsubscribe``."""
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=256)
        with self._lock:
            self._next += 1
            key = self._next
            self._subscribers[key] = (asyncio.get_running_loop(), queue)
            if self._thread is None or not self._thread.is_alive():
                self._stop.clear()
                self._thread = threading.Thread(target=self._run, name="annolab-live", daemon=True)
                self._thread.start()
        return key, queue

    def unsubscribe(self, key: int) -> None:
        with self._lock:
            self._subscribers.pop(key, None)

    def stop(self) -> None:
        """Ends the thread (at the server's shutdown)."""
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with Listener(
                    self._engine(), timeout=_POLL_SECONDS, interval=_READ_SECONDS
                ) as listener:
                    self._pump(listener)
            except Exception:
                # The database went away or refused us: say so once per attempt and retry,
                # so the sidebar comes back to life when the server does.
                log.exception("annolab live updates: listening failed; retrying")
                self._stop.wait(_RETRY_SECONDS)

    def _pump(self, listener: Listener) -> None:
        while not self._stop.is_set():
            for event in listener.poll():
                self._publish(
                    {
                        "project_id": event.get("project_id"),
                        "action": event.get("action"),
                        "entity": event.get("entity"),
                    }
                )

    def _publish(self, message: dict[str, Any]) -> None:
        with self._lock:
            targets = list(self._subscribers.values())
        for loop, queue in targets:
            loop.call_soon_threadsafe(_offer, queue, message)


def _offer(queue: asyncio.Queue[dict[str, Any]], message: dict[str, Any]) -> None:
    # A stream that stopped reading must not hold the others back: its oldest news goes.
    if queue.full():
        queue.get_nowait()
    queue.put_nowait(message)
