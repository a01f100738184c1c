"""Webhooks: every event annolab records can be POSTed, signed, to a URL of yours.

A trigger enqueues one delivery per matching webhook in the transaction that records the event
(see ``annolab.store.webhooks``); a worker here sends them. Each POST carries JSON and these
headers:

- ``X-Annolab-Delivery``: the delivery's uuid, the same on every try: dedupe on it.
- ``X-Annolab-Timestamp``: Unix seconds when this try was signed.
- ``X-Annolab-Signature``: ``sha256=<hex>``, the HMAC-SHA256 of ``timestamp + "." + body``
  with the webhook's secret. ``verify`` checks it.

A 2xx answer delivers; anything else (another status, a refused connection, no answer within
``timeout``) is tried again after an exponential backoff with jitter, until ``max_attempts``
tries were made: then the delivery is dead, kept for ``redeliver``. Every try is logged.

>>> hook = ws.webhooks.add("https://example.org/hook", secret="s3cret",
...                        actions=["quality.alert"])  # doctest: +SKIP
>>> ws.webhooks.deliver()  # doctest: +SKIP
DeliveryReport(claimed=1, delivered=1, retrying=0, dead=0, lost=0)
"""

from __future__ import annotations

import hashlib
import hmac
import random
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import polars as pl

from annolab.errors import StoreError, ValidationError
from annolab.schema.fields import check_int, check_str
from annolab.store import projects
from annolab.store import webhooks as store

if TYPE_CHECKING:
    import httpx

    from annolab.workspace import Workspace

__all__ = [
    "DELIVERY_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "DeliveryReport",
    "Retry",
    "Webhooks",
    "sign",
    "verify",
]

DELIVERY_HEADER = "X-Annolab-Delivery"
TIMESTAMP_HEADER = "X-Annolab-Timestamp"
SIGNATURE_HEADER = "X-Annolab-Signature"
EVENT_HEADER = "X-Annolab-Event"
ATTEMPT_HEADER = "X-Annolab-Attempt"

_VERB = re.compile(r"^[a-z][a-z0-9_]*$")


# --- signing -------------------------------------------------------------------------------------


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """``sha256=<hex>`` of ``timestamp + "." + body`` keyed with ``secret``.

    >>> sign("s3cret", 1700000000, b'{"a":1}')[:15]
    'sha256=1698a50b'
    """
    message = f"{timestamp}.".encode() + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float | None = 300.0,
    now: float | None = None,
) -> bool:
    """True if ``body`` is what annolab signed with ``secret`` (for receivers).

    ``headers`` are the request's (any case). With ``tolerance``, a timestamp more than that
    many seconds from ``now`` fails too, so a captured request can not be replayed later.

    >>> body = b'{"a":1}'
    >>> headers = {"x-annolab-timestamp": "1700000000",
    ...            "x-annolab-signature": sign("s3cret", 1700000000, body)}
    >>> verify("s3cret", headers, body, now=1700000001)
    True
    >>> verify("s3cret", headers, b'{"a":2}', now=1700000001)
    False
    """
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp = lower.get(TIMESTAMP_HEADER.lower())
    signature = lower.get(SIGNATURE_HEADER.lower())
    if not timestamp or not signature or not timestamp.isdigit():
        return False
    if tolerance is not None:
        current = time.time() if now is None else now
        if abs(current - int(timestamp)) > tolerance:
            return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


# --- checking what a lead types ------------------------------------------------------------------


def check_url(url: object) -> str:
    """An absolute http(s) URL with a host."""
    text = check_str(url, "url", required=True, max_chars=2000)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationError("url", url, "must be an absolute http:// or https:// URL with a host")
    return text


def check_actions(actions: object) -> list[str]:
    """Action patterns: 'quality.alert' (exact), 'quality.*' (a family) or '*' (all)."""
    if isinstance(actions, str) or not isinstance(actions, (list, tuple)) or not actions:
        rule = "must be a non-empty list of action patterns, like ['quality.alert', 'task.*']"
        raise ValidationError("actions", actions, rule)
    families = ", ".join(store.ACTION_FAMILIES)
    checked: list[str] = []
    for i, pattern in enumerate(actions):
        field = f"actions[{i}]"
        if not isinstance(pattern, str):
            raise ValidationError(field, pattern, "must be a string")
        family, dot, verb = pattern.partition(".")
        if pattern == "*":
            pass
        elif not dot or family not in store.ACTION_FAMILIES:
            rule = (
                "is not an action pattern: use 'family.action', 'family.*' or '*', "
                f"where family is one of {families}"
            )
            raise ValidationError(field, pattern, rule)
        elif verb != "*" and not _VERB.match(verb):
            rule = "must end in '.*' or an action name of lowercase letters, digits and '_'"
            raise ValidationError(field, pattern, rule)
        if pattern not in checked:
            checked.append(pattern)
    return checked


# --- sending -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Retry:
    """How a worker waits: ``timeout`` seconds for an answer; after the n-th failed try,
    ``base * 2**(n-1)`` seconds (at most ``cap``), less up to ``jitter`` of it at random so
    that failures of many deliveries do not come back in step."""

    timeout: float = 10.0
    base: float = 2.0
    cap: float = 3600.0
    jitter: float = 0.5

    def __post_init__(self) -> None:
        for name in ("timeout", "base", "cap"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
                raise ValidationError(name, value, "must be a number of seconds above 0")
        if not 0 <= self.jitter <= 1:
            raise ValidationError("jitter", self.jitter, "must be a fraction from 0 to 1")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed try number ``attempt`` (1 is the first)."""
        full = min(float(self.cap), self.base * 2.0 ** (attempt - 1))
        return full * (1 - self.jitter * random.random())  # noqa: S311 (spacing, not secrecy)

    @property
    def lease(self) -> float:
        """How long a claim holds: well past the timeout, so a slow answer is not sent twice."""
        return self.timeout * 2 + 30.0


@dataclass(frozen=True)
class DeliveryReport:
    """What one pass did: deliveries taken, and how each ended."""

    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    lost: int = 0  # the lease ran out while sending: another worker holds it now


def _send(client: httpx.Client, held: store.Claimed) -> tuple[bool, int | None, str | None]:
    import httpx

    body = store.dumps({"delivery": str(held.uuid), "event": held.event}).encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "annolab-webhooks",
        DELIVERY_HEADER: str(held.uuid),
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: sign(held.secret, timestamp, body),
        EVENT_HEADER: str(held.event["action"]),
        ATTEMPT_HEADER: str(held.attempts),
    }
    try:
        response = client.post(held.url, content=body, headers=headers)
    except httpx.TimeoutException as exc:
        return False, None, f"timed out after {client.timeout.read} s ({type(exc).__name__})"
    except httpx.HTTPError as exc:
        return False, None, f"{type(exc).__name__}: {exc}"
    if 200 <= response.status_code < 300:
        return True, response.status_code, None
    return False, response.status_code, f"HTTP {response.status_code}: {response.text[:200]}"


def deliver_due(engine: Any, *, limit: int = 100, retry: Retry | None = None) -> DeliveryReport:
    """One pass: send up to ``limit`` due deliveries, recording how each went.

    Each is claimed just before it is sent, in a transaction of its own, so its lease covers
    one send (not a queue of them behind a slow receiver) and other workers take the rest.
    Only what was due when the pass began is sent: a failed try waits for the next pass."""
    import httpx

    retry = retry or Retry()
    counts = {"delivered": 0, "pending": 0, "dead": 0, None: 0}
    claimed = 0
    with engine.begin() as conn:
        began = store.database_now(conn)
    with httpx.Client(timeout=retry.timeout, follow_redirects=False) as client:
        while claimed < limit:
            with engine.begin() as conn:
                held = store.claim_due(conn, limit=1, lease_seconds=retry.lease, due_by=began)
            if not held:
                break
            one = held[0]
            claimed += 1
            started = time.monotonic()
            ok, status, error = _send(client, one)
            duration = time.monotonic() - started
            with engine.begin() as conn:
                moved = store.record_result(
                    conn,
                    one,
                    ok=ok,
                    http_status=status,
                    error=error,
                    duration=duration,
                    retry_in=retry.delay(one.attempts),
                )
            counts[moved] += 1
    return DeliveryReport(
        claimed=claimed,
        delivered=counts["delivered"],
        retrying=counts["pending"],
        dead=counts["dead"],
        lost=counts[None],
    )


# --- the workspace's face ------------------------------------------------------------------------


class Webhooks:
    """The workspace's webhooks (``ws.webhooks``): manage them, send what is due, read the log.

    On a team server only leads may use these (annotators' events still enqueue).
    """

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self.retry = Retry()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.errors: list[BaseException] = []  # what the background runner could not do

    def add(
        self,
        url: str,
        *,
        secret: str,
        actions: list[str],
        project: str | None = None,
        max_attempts: int = 5,
    ) -> int:
        """Subscribe ``url`` to events whose action matches ``actions`` (of one project, or
        of all when None); returns the webhook's id.

        >>> ws.webhooks.add("https://example.org/hook", secret="s3cret",
        ...                 actions=["quality.*"], project="news-ner")  # doctest: +SKIP
        1
        """
        checked_url = check_url(url)
        checked_secret = check_str(secret, "secret", required=True, max_chars=1000)
        patterns = check_actions(actions)
        attempts = check_int(max_attempts, "max_attempts", low=1, high=100)
        ws = self.workspace
        with ws.engine.begin() as conn:
            project_id = None
            if project is not None:
                name = project if isinstance(project, str) else getattr(project, "name", project)
                project_id = projects.get_project(conn, check_str(name, "project")).id
            return store.add_webhook(
                conn,
                actor=ws.user,
                actor_id=ws.user_id,
                url=checked_url,
                secret=checked_secret,
                project_id=project_id,
                actions=patterns,
                max_attempts=attempts,
            )

    def list(self) -> pl.DataFrame:
        """Every webhook (id, url, project, actions, max_attempts, active), secrets left out."""
        with self.workspace.engine.begin() as conn:
            return store.list_webhooks(conn)

    def remove(self, webhook_id: int) -> None:
        """Deactivate a webhook: nothing more is enqueued or sent for it, and its log stays
        (``activate`` undoes it: deliveries still pending then go out)."""
        self._set_active(webhook_id, active=False)

    def activate(self, webhook_id: int) -> None:
        """Turn a removed webhook back on (events recorded while it was off are not sent)."""
        self._set_active(webhook_id, active=True)

    def _set_active(self, webhook_id: int, *, active: bool) -> None:
        checked = check_int(webhook_id, "webhook_id", low=1, high=2**63 - 1)
        with self.workspace.engine.begin() as conn:
            store.set_active(conn, actor=self.workspace.user, webhook_id=checked, active=active)

    def deliver(self, limit: int = 100) -> DeliveryReport:
        """Send what is due now, once through (up to ``limit`` deliveries)."""
        checked = check_int(limit, "limit", low=1, high=100_000)
        return deliver_due(self.workspace.engine, limit=checked, retry=self.retry)

    def start(self, interval: float = 1.0) -> None:
        """Send in a background thread every ``interval`` seconds until ``stop()``."""
        if self._thread is not None and self._thread.is_alive():
            msg = "the webhook runner is already running; stop() it first"
            raise StoreError(msg)
        if not isinstance(interval, (int, float)) or isinstance(interval, bool) or interval <= 0:
            raise ValidationError("interval", interval, "must be a number of seconds above 0")
        self._stop.clear()
        self._thread = threading.Thread(
            target=self._run, args=(float(interval),), name="annolab-webhooks", daemon=True
        )
        self._thread.start()

    def _run(self, interval: float) -> None:
        while not self._stop.is_set():
            try:
                report = deliver_due(self.workspace.engine, retry=self.retry)
            except Exception as exc:  # noqa: BLE001 (kept for the user; the runner goes on)
                self.errors.append(exc)
                report = DeliveryReport()
            if report.claimed == 0:
                self._stop.wait(interval)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the background runner after the delivery it is sending."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def deliveries(self, status: str | None = None, webhook_id: int | None = None) -> pl.DataFrame:
        """Deliveries (pending, delivered, dead), with their event's action and last error."""
        if status is not None and status not in ("pending", "delivered", "dead"):
            raise ValidationError("status", status, "must be 'pending', 'delivered' or 'dead'")
        with self.workspace.engine.begin() as conn:
            return store.read_deliveries(conn, status=status, webhook_id=webhook_id)

    def dead(self) -> pl.DataFrame:
        """Deliveries that used up their tries: look at ``last_error``, then ``redeliver``."""
        return self.deliveries("dead")

    def attempts(self, delivery_id: int | None = None) -> pl.DataFrame:
        """Every try: when, HTTP status, error, seconds taken."""
        with self.workspace.engine.begin() as conn:
            return store.read_attempts(conn, delivery_id=delivery_id)

    def redeliver(self, delivery_id: int) -> None:
        """Send a dead (or delivered) delivery again, with its tries counted afresh."""
        checked = check_int(delivery_id, "delivery_id", low=1, high=2**63 - 1)
        with self.workspace.engine.begin() as conn:
            store.redeliver(conn, actor=self.workspace.user, delivery_id=checked)
