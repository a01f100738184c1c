"""Webhooks in the database: endpoints, the deliveries a trigger enqueues, and every try.

Enqueueing is not here: a trigger on ``events`` (migration 0011) adds the deliveries in the
transaction that writes each event. What is here is the workers' side:

- ``claim_due`` takes due deliveries with ``FOR UPDATE SKIP LOCKED`` and gives each a lease (a
  fresh ``claim`` uuid; ``next_attempt_at`` becomes the lease's end) in a short transaction, so
  no database transaction stays open while a worker waits on the network. Two workers never hold
  the same delivery; one that dies holding it leaves it due again when the lease runs out.
- A claim counts as an attempt and opens its row in ``webhook_attempts``; ``record_result``
  closes it and moves the delivery (delivered, due again later, or dead) only if the worker
  still holds the lease. A worker that died leaves its attempt open until the next claim of
  the delivery closes it as abandoned.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import polars as pl
import sqlalchemy as sa

from annolab.errors import StoreError
from annolab.store.events import record_event
from annolab.store.frames import read_frame
from annolab.store.tables import webhooks

# Families of the actions annolab records (the part before the dot). A pattern names one of
# them: an exact action 'quality.alert', a family 'quality.*', or '*' for everything.
ACTION_FAMILIES = (
    "admin",
    "annotation",
    "assignment",
    "goal",
    "gold",
    "layout",
    "persona",
    "project",
    "quality",
    "review",
    "step",
    "task",
    "tasks",
    "team",
    "user",
    "webhook",
)

ABANDONED = "abandoned: the worker stopped before recording a result (its lease ran out)"

WEBHOOK_SCHEMA: dict[str, Any] = {
    "webhook_id": pl.Int64,
    "url": pl.String,
    "project": pl.String,
    "actions": pl.List(pl.String),
    "max_attempts": pl.Int32,
    "active": pl.Boolean,
    "created_at": pl.Datetime("us", "UTC"),
}
DELIVERY_SCHEMA: dict[str, Any] = {
    "delivery_id": pl.Int64,
    "uuid": pl.String,
    "webhook_id": pl.Int64,
    "event_id": pl.Int64,
    "action": pl.String,
    "project_id": pl.Int64,
    "status": pl.String,
    "attempts": pl.Int32,
    "next_attempt_at": pl.Datetime("us", "UTC"),
    "last_status": pl.Int32,
    "last_error": pl.String,
    "created_at": pl.Datetime("us", "UTC"),
    "delivered_at": pl.Datetime("us", "UTC"),
}
ATTEMPT_SCHEMA: dict[str, Any] = {
    "attempt_id": pl.Int64,
    "delivery_id": pl.Int64,
    "webhook_id": pl.Int64,
    "attempt": pl.Int32,
    "started_at": pl.Datetime("us", "UTC"),
    "finished_at": pl.Datetime("us", "UTC"),
    "http_status": pl.Int32,
    "error": pl.String,
    "duration": pl.Float64,
}


def add_webhook(
    conn: sa.Connection,
    *,
    actor: str,
    actor_id: int | None,
    url: str,
    secret: str,
    project_id: int | None,
    actions: list[str],
    max_attempts: int,
) -> int:
    """Store a checked webhook and return its id. The event names no URL and no secret:
    annotators read events, and a URL can carry a token."""
    webhook_id = int(
        conn.execute(
            webhooks.insert()
            .values(
                url=url,
                secret=secret,
                project_id=project_id,
                actions=actions,
                max_attempts=max_attempts,
                created_by=actor_id,
            )
            .returning(webhooks.c.id)
        ).scalar_one()
    )
    record_event(
        conn,
        actor=actor,
        action="webhook.added",
        entity="webhook",
        entity_id=webhook_id,
        project_id=project_id,
        after={"actions": actions, "max_attempts": max_attempts},
    )
    return webhook_id


def set_active(conn: sa.Connection, *, actor: str, webhook_id: int, active: bool) -> None:
    """Turn a webhook on or off: off, it enqueues nothing new and its pending deliveries wait
    (they are sent when it is turned on again)."""
    row = conn.execute(
        sa.text("UPDATE webhooks SET active = :a WHERE id = :w RETURNING project_id"),
        {"a": active, "w": webhook_id},
    ).one_or_none()
    if row is None:
        msg = f"webhook_id={webhook_id!r} is not a webhook; ws.webhooks.list() shows them"
        raise StoreError(msg)
    record_event(
        conn,
        actor=actor,
        action="webhook.activated" if active else "webhook.deactivated",
        entity="webhook",
        entity_id=webhook_id,
        project_id=row.project_id,
    )


def list_webhooks(conn: sa.Connection) -> pl.DataFrame:
    """Every webhook, without its secret (``WEBHOOK_SCHEMA``)."""
    return read_frame(
        conn,
        "SELECT w.id, w.url, p.name, w.actions, w.max_attempts, w.active, w.created_at "
        "FROM webhooks w LEFT JOIN projects p ON p.id = w.project_id ORDER BY w.id",
        {},
        WEBHOOK_SCHEMA,
    )


def read_deliveries(
    conn: sa.Connection, *, status: str | None = None, webhook_id: int | None = None
) -> pl.DataFrame:
    """Deliveries, oldest first (``DELIVERY_SCHEMA``)."""
    return read_frame(
        conn,
        "SELECT d.id, d.uuid::text, d.webhook_id, d.event_id, e.action, e.project_id, d.status, "
        "d.attempts, d.next_attempt_at, d.last_status, d.last_error, d.created_at, "
        "d.delivered_at FROM webhook_deliveries d JOIN events e ON e.id = d.event_id "
        "WHERE (%(s)s::text IS NULL OR d.status = %(s)s) "
        "AND (%(w)s::bigint IS NULL OR d.webhook_id = %(w)s) ORDER BY d.id",
        {"s": status, "w": webhook_id},
        DELIVERY_SCHEMA,
    )


def read_attempts(conn: sa.Connection, *, delivery_id: int | None = None) -> pl.DataFrame:
    """Every try, in order (``ATTEMPT_SCHEMA``); an open one has no ``finished_at``."""
    return read_frame(
        conn,
        "SELECT a.id, a.delivery_id, d.webhook_id, a.attempt, a.started_at, a.finished_at, "
        "a.http_status, a.error, a.duration FROM webhook_attempts a "
        "JOIN webhook_deliveries d ON d.id = a.delivery_id "
        "WHERE (%(d)s::bigint IS NULL OR a.delivery_id = %(d)s) ORDER BY a.delivery_id, a.id",
        {"d": delivery_id},
        ATTEMPT_SCHEMA,
    )


@dataclass(frozen=True)
class Claimed:
    """One delivery a worker holds: what to send, where, and the lease to report back with."""

    delivery_id: int
    uuid: UUID
    claim: UUID
    attempt_id: int
    attempts: int  # tries since it was enqueued or redelivered, this one included
    max_attempts: int
    url: str
    secret: str
    event: dict[str, Any]


# Dead: due again after a worker died holding its last allowed try.
_BURY = """
WITH gone AS (
    SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
    WHERE d.status = 'pending' AND d.next_attempt_at <= clock_timestamp()
      AND d.attempts >= w.max_attempts
    FOR UPDATE OF d SKIP LOCKED)
UPDATE webhook_deliveries d SET status = 'dead', claim = NULL, last_error = :abandoned
FROM gone WHERE d.id = gone.id RETURNING d.id
"""

_CLAIM = """
WITH due AS (
    SELECT d.id FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
    WHERE d.status = 'pending'
      AND d.next_attempt_at <= LEAST(clock_timestamp(), CAST(:due_by AS timestamptz))
      AND d.attempts < w.max_attempts AND w.active
    ORDER BY d.next_attempt_at, d.id LIMIT :n
    FOR UPDATE OF d SKIP LOCKED)
UPDATE webhook_deliveries d
SET attempts = d.attempts + 1, claim = gen_random_uuid(),
    next_attempt_at = clock_timestamp() + make_interval(secs => :lease)
FROM due WHERE d.id = due.id
RETURNING d.id, d.uuid, d.claim, d.attempts, d.webhook_id, d.event_id
"""

_OPEN_ATTEMPT = """
INSERT INTO webhook_attempts (delivery_id, attempt, started_at)
SELECT :d, COALESCE(max(a.attempt), 0) + 1, clock_timestamp()
FROM webhook_attempts a WHERE a.delivery_id = :d RETURNING id
"""

_EVENT = """
SELECT e.id, e.at, e.actor, e.action, e.entity, e.entity_id, e.project_id, p.name AS project,
       e.before, e.after
FROM events e LEFT JOIN projects p ON p.id = e.project_id WHERE e.id = :e
"""


def claim_due(
    conn: sa.Connection,
    *,
    limit: int,
    lease_seconds: float,
    due_by: dt.datetime | None = None,
) -> list[Claimed]:
    """Take up to ``limit`` deliveries due now (and by ``due_by``, the database's clock) for
    ``lease_seconds``; commit before sending.

    The lease must outlast sending all of them: a worker that sends one at a time claims one
    at a time. Deliveries of an inactive webhook wait until it is activated again."""
    buried = conn.execute(sa.text(_BURY), {"abandoned": ABANDONED}).scalars().all()
    if buried:
        conn.execute(
            sa.text(
                "UPDATE webhook_attempts SET finished_at = clock_timestamp(), error = :abandoned "
                "WHERE delivery_id = ANY(:ids) AND finished_at IS NULL"
            ),
            {"abandoned": ABANDONED, "ids": list(buried)},
        )
    rows = conn.execute(
        sa.text(_CLAIM), {"n": limit, "lease": lease_seconds, "due_by": due_by}
    ).all()
    claimed = []
    for row in sorted(rows, key=lambda r: r.id):
        # The try before this one never reported: its worker died or lost the lease.
        conn.execute(
            sa.text(
                "UPDATE webhook_attempts SET finished_at = clock_timestamp(), error = :abandoned "
                "WHERE delivery_id = :d AND finished_at IS NULL"
            ),
            {"d": row.id, "abandoned": ABANDONED},
        )
        attempt_id = conn.execute(sa.text(_OPEN_ATTEMPT), {"d": row.id}).scalar_one()
        hook = conn.execute(
            sa.text("SELECT url, secret, max_attempts FROM webhooks WHERE id = :w"),
            {"w": row.webhook_id},
        ).one()
        event = conn.execute(sa.text(_EVENT), {"e": row.event_id}).one()._asdict()
        claimed.append(
            Claimed(
                delivery_id=row.id,
                uuid=row.uuid,
                claim=row.claim,
                attempt_id=attempt_id,
                attempts=row.attempts,
                max_attempts=hook.max_attempts,
                url=hook.url,
                secret=hook.secret,
                event=_jsonable(event),
            )
        )
    return claimed


def _jsonable(event: dict[str, Any]) -> dict[str, Any]:
    at = event["at"]
    return {**event, "at": at.isoformat() if isinstance(at, dt.datetime) else at}


def database_now(conn: sa.Connection) -> dt.datetime:
    """The database's clock, which every worker shares."""
    return conn.execute(sa.text("SELECT clock_timestamp()")).scalar_one()  # type: ignore[no-any-return]


def record_result(
    conn: sa.Connection,
    held: Claimed,
    *,
    ok: bool,
    http_status: int | None,
    error: str | None,
    duration: float,
    retry_in: float,
) -> str | None:
    """Log the try and move the delivery: 'delivered', 'pending' (due in ``retry_in``
    seconds) or 'dead'. None when the lease was lost: the try is logged, the delivery left to
    whoever holds it now."""
    conn.execute(
        sa.text(
            "UPDATE webhook_attempts SET finished_at = clock_timestamp(), http_status = :h, "
            "error = :e, duration = :t WHERE id = :a"
        ),
        {"h": http_status, "e": error, "t": duration, "a": held.attempt_id},
    )
    if ok:
        status = "delivered"
    elif held.attempts >= held.max_attempts:
        status = "dead"
    else:
        status = "pending"
    moved = conn.execute(
        sa.text(
            "UPDATE webhook_deliveries SET status = :s, claim = NULL, last_status = :h, "
            "last_error = :e, "
            "delivered_at = CASE WHEN :s = 'delivered' THEN clock_timestamp() END, "
            "next_attempt_at = CASE WHEN :s = 'pending' "
            "  THEN clock_timestamp() + make_interval(secs => :r) ELSE next_attempt_at END "
            "WHERE id = :d AND claim = :c RETURNING id"
        ),
        {
            "s": status,
            "h": http_status,
            "e": error,
            "r": retry_in,
            "d": held.delivery_id,
            "c": held.claim,
        },
    ).one_or_none()
    return status if moved is not None else None


def redeliver(conn: sa.Connection, *, actor: str, delivery_id: int) -> None:
    """Make a dead or delivered delivery due now, with a fresh count of tries (same uuid)."""
    row = conn.execute(
        sa.text(
            "SELECT d.status, d.webhook_id, e.project_id FROM webhook_deliveries d "
            "JOIN events e ON e.id = d.event_id WHERE d.id = :d FOR UPDATE OF d"
        ),
        {"d": delivery_id},
    ).one_or_none()
    if row is None:
        msg = f"delivery_id={delivery_id!r} is not a delivery; ws.webhooks.deliveries() lists them"
        raise StoreError(msg)
    if row.status == "pending":
        msg = f"delivery_id={delivery_id!r} is still pending: it is sent without being asked"
        raise StoreError(msg)
    conn.execute(
        sa.text(
            "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, claim = NULL, "
            "next_attempt_at = clock_timestamp(), delivered_at = NULL WHERE id = :d"
        ),
        {"d": delivery_id},
    )
    record_event(
        conn,
        actor=actor,
        action="webhook.redelivered",
        entity="webhook_delivery",
        entity_id=delivery_id,
        project_id=row.project_id,
        before={"status": row.status},
        after={"webhook_id": row.webhook_id},
    )


def dumps(value: Any) -> str:
    """The JSON annolab posts: compact, keys sorted, so a body is the same on every try."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
