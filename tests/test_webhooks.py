"""Webhooks against a real HTTP receiver on loopback: signed, retried with backoff, dead-lettered,
timed out, delivered once by racing workers, never for a rolled-back change, and again after a
worker dies holding one.

Each test has a database of its own: a delivery pass takes every due delivery, so tests sharing
one would send each other's.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.errors import StoreError, ValidationError
from annolab.store import webhooks as store
from annolab.store.events import record_event
from annolab.webhooks import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Retry,
    sign,
    verify,
)

pytestmark = pytest.mark.db

SECRET = "correct horse battery staple"
FAST = Retry(timeout=2.0, base=0.05, cap=0.05, jitter=0.0)


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


@dataclass
class Receiver:
    """Answers by path: ``/plan/500,200`` answers 500, then 200 from then on; ``/hang/2``
    answers 200 after two seconds. Every request is kept."""

    port: int = 0
    requests: list[Request] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, path: str) -> tuple[int, float]:
        with self.lock:
            n = self.counts[path]
            self.counts[path] += 1
        kind, _, arg = path.strip("/").partition("/")
        if kind == "hang":
            return 200, float(arg)
        plan = [int(s) for s in arg.split(",")]
        return plan[min(n, len(plan) - 1)], 0.0

    def got(self, path: str) -> list[Request]:
        with self.lock:
            return [r for r in self.requests if r.path == path]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            with state.lock:
                state.requests.append(
                    Request(self.path, dict(self.headers.items()), body, time.monotonic())
                )
            status, delay = state.answer(self.path)
            if delay:
                time.sleep(delay)
            payload = b"ok" if status < 300 else b"receiver says no"
            try:
                self.send_response(status)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the worker gave up waiting and closed the connection

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


@pytest.fixture
def ws(fresh_db: str) -> Iterator[al.Workspace]:
    with al.connect(fresh_db, user="lead") as workspace:
        workspace.webhooks.retry = FAST
        yield workspace


def _event(ws: al.Workspace, action: str = "task.assigned", project_id: int | None = None) -> int:
    with ws.engine.begin() as conn:
        record_event(
            conn, actor="someone", action=action, entity="task", entity_id=1, project_id=project_id
        )
        return int(conn.execute(sa.text("SELECT max(id) FROM events")).scalar_one())


def _project(ws: al.Workspace, name: str = "news") -> al.Project:
    proj = ws.create_project(name, labels=["pos", "neg"], layout="classify")
    proj.add_tasks(pl.DataFrame({"id": ["t1", "t2", "t3"], "text": ["a", "b", "c"]}), id="id")
    return proj


def test_the_signature_verifies_and_a_tampered_body_fails(
    ws: al.Workspace, receiver: Receiver
) -> None:
    ws.webhooks.add(receiver.url("/plan/200"), secret=SECRET, actions=["task.*"])
    event_id = _event(ws)
    assert ws.webhooks.deliver().delivered == 1
    [request] = receiver.got("/plan/200")
    headers, body = request.headers, request.body
    assert verify(SECRET, headers, body) is True
    assert headers[SIGNATURE_HEADER] == sign(SECRET, headers[TIMESTAMP_HEADER], body)
    assert abs(int(headers[TIMESTAMP_HEADER]) - time.time()) < 60
    assert verify(SECRET, headers, body.replace(b"someone", b"somebody")) is False
    assert verify("another secret", headers, body) is False
    assert verify(SECRET, {**headers, TIMESTAMP_HEADER: "1"}, body) is False  # re-signed time
    later = int(headers[TIMESTAMP_HEADER]) + 301
    assert verify(SECRET, headers, body, now=later) is False  # a replay, five minutes on
    assert verify(SECRET, headers, body, tolerance=None, now=later) is True
    assert verify(SECRET, {}, body) is False
    sent = request.json
    assert sent["delivery"] == headers[DELIVERY_HEADER]
    assert sent["event"]["id"] == event_id
    assert sent["event"]["action"] == "task.assigned"
    assert sent["event"]["actor"] == "someone"
    assert headers["Content-Type"] == "application/json"


def test_a_submit_is_delivered_with_its_answer(ws: al.Workspace, receiver: Receiver) -> None:
    proj = _project(ws)
    other = _project(ws, "other")
    ws.webhooks.add(
        receiver.url("/plan/200"), secret=SECRET, actions=["annotation.submitted"], project="news"
    )
    session = proj.session("ann")
    assert session.next() is not None
    annotation_id = session.submit({"kind": "choice", "label": "neg"})
    other_session = other.session("ann")
    assert other_session.next() is not None
    other_session.submit({"kind": "choice", "label": "pos"})  # another project: not sent
    report = ws.webhooks.deliver()
    assert (report.claimed, report.delivered, report.retrying, report.dead) == (1, 1, 0, 0)
    [request] = receiver.got("/plan/200")
    event = request.json["event"]
    assert event["action"] == "annotation.submitted"
    assert event["entity_id"] == str(annotation_id)
    assert event["project"] == "news"
    assert event["actor"] == "ann"
    assert event["after"]["payload"] == {"kind": "choice", "label": "neg"}
    frame = ws.webhooks.deliveries()
    assert frame.select("status", "attempts", "last_status").rows() == [("delivered", 1, 200)]


def test_a_quality_rule_alert_is_delivered(ws: al.Workspace, receiver: Receiver) -> None:
    proj = _project(ws, "rules")
    for task in proj.tasks()["external_id"]:
        proj.add_annotation(task, {"kind": "choice", "label": "pos"}, user="gold", kind="gold")
    proj.set_rules(
        [
            {
                "name": "low accuracy",
                "when": {"kind": "threshold", "below": 0.7, "min_samples": 2},
                "actions": ["alert"],
            }
        ]
    )
    ws.webhooks.add(receiver.url("/plan/200"), secret=SECRET, actions=["quality.alert"])
    session = proj.session("weak")
    for _ in range(2):
        assert session.next() is not None
        session.submit({"kind": "choice", "label": "neg"})
    assert ws.webhooks.deliver().delivered == 1
    [request] = receiver.got("/plan/200")
    event = request.json["event"]
    assert event["action"] == "quality.alert"
    assert event["actor"] == "annolab"
    assert event["project"] == "rules"
    assert event["after"]["rule"] == "low accuracy"
    assert request.headers["X-Annolab-Event"] == "quality.alert"


def test_a_500_then_200_is_retried_after_the_backoff(ws: al.Workspace, receiver: Receiver) -> None:
    ws.webhooks.retry = Retry(timeout=2.0, base=0.5, cap=10, jitter=0.0)
    ws.webhooks.add(receiver.url("/plan/500,200"), secret=SECRET, actions=["task.*"])
    _event(ws)
    first = ws.webhooks.deliver()
    assert (first.claimed, first.retrying) == (1, 1)
    assert ws.webhooks.deliver().claimed == 0  # not due for another half second
    [pending] = ws.webhooks.deliveries().rows(named=True)
    assert (pending["status"], pending["last_status"]) == ("pending", 500)
    assert pending["last_error"] == "HTTP 500: receiver says no"
    time.sleep(0.6)
    assert ws.webhooks.deliver().delivered == 1
    tries = receiver.got("/plan/500,200")
    assert len(tries) == 2
    assert tries[1].at - tries[0].at >= 0.5
    assert tries[0].headers[DELIVERY_HEADER] == tries[1].headers[DELIVERY_HEADER]
    assert [t.headers["X-Annolab-Attempt"] for t in tries] == ["1", "2"]
    log = ws.webhooks.attempts()
    assert log.select("attempt", "http_status").rows() == [(1, 500), (2, 200)]
    assert log["error"].to_list() == ["HTTP 500: receiver says no", None]
    assert (log["duration"] >= 0).all()


def test_backoff_doubles_up_to_the_cap_with_jitter_below_it() -> None:
    retry = Retry(base=1.0, cap=5.0, jitter=0.0)
    assert [retry.delay(n) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 5.0]
    jittered = [Retry(base=8.0, jitter=0.5).delay(1) for _ in range(200)]
    assert all(4.0 <= d <= 8.0 for d in jittered)
    assert len(set(jittered)) > 100


def test_always_500_is_dead_after_max_attempts_and_redeliver_sends_it_again(
    ws: al.Workspace, receiver: Receiver
) -> None:
    hook = ws.webhooks.add(
        receiver.url("/plan/500,500,500,200"), secret=SECRET, actions=["task.*"], max_attempts=3
    )
    _event(ws)
    reports = []
    for _ in range(50):
        reports.append(ws.webhooks.deliver())
        if reports[-1].dead:
            break
        time.sleep(0.06)
    assert sum(r.claimed for r in reports) == 3
    assert [r.retrying for r in reports if r.claimed] == [1, 1, 0]
    dead = ws.webhooks.dead()
    assert dead.select("webhook_id", "attempts", "last_status").rows() == [(hook, 3, 500)]
    delivery_id = dead["delivery_id"][0]
    assert ws.webhooks.deliver().claimed == 0  # the dead are not tried again by themselves
    ws.webhooks.redeliver(delivery_id)
    assert ws.webhooks.deliver().delivered == 1
    tries = receiver.got("/plan/500,500,500,200")
    assert len(tries) == 4
    assert len({t.headers[DELIVERY_HEADER] for t in tries}) == 1  # one uuid: receivers dedupe
    log = ws.webhooks.attempts(delivery_id)
    assert log.select("attempt", "http_status").rows() == [(1, 500), (2, 500), (3, 500), (4, 200)]
    assert ws.webhooks.dead().height == 0
    with pytest.raises(StoreError, match=r"delivery_id=999 is not a delivery"):
        ws.webhooks.redeliver(999)


def test_redelivering_a_pending_delivery_is_refused(ws: al.Workspace, receiver: Receiver) -> None:
    ws.webhooks.add(receiver.url("/plan/200"), secret=SECRET, actions=["task.*"])
    _event(ws)
    delivery_id = ws.webhooks.deliveries()["delivery_id"][0]
    with pytest.raises(StoreError, match=rf"delivery_id={delivery_id} is still pending"):
        ws.webhooks.redeliver(delivery_id)


def test_a_receiver_that_hangs_hits_the_timeout(ws: al.Workspace, receiver: Receiver) -> None:
    ws.webhooks.retry = Retry(timeout=0.3, base=0.05, jitter=0.0)
    ws.webhooks.add(receiver.url("/hang/3"), secret=SECRET, actions=["task.*"], max_attempts=1)
    _event(ws)
    started = time.monotonic()
    report = ws.webhooks.deliver()
    assert time.monotonic() - started < 2.0
    assert report.dead == 1
    [row] = ws.webhooks.attempts().rows(named=True)
    assert row["http_status"] is None
    assert row["error"].startswith("timed out after 0.3 s")
    assert 0.25 <= row["duration"] < 2.0


def test_a_refused_connection_is_an_error_logged_and_retried(ws: al.Workspace) -> None:
    with __import__("socket").socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again: nothing listens there
    ws.webhooks.add(f"http://127.0.0.1:{port}/x", secret=SECRET, actions=["task.*"], max_attempts=2)
    _event(ws)
    assert ws.webhooks.deliver().retrying == 1
    [row] = ws.webhooks.attempts().rows(named=True)
    assert row["error"].startswith("ConnectError")


def test_two_workers_deliver_each_event_exactly_once(
    ws: al.Workspace, fresh_db: str, receiver: Receiver
) -> None:
    ws.webhooks.add(receiver.url("/plan/200"), secret=SECRET, actions=["task.*"])
    events = [_event(ws) for _ in range(40)]
    reports: dict[str, list[Any]] = {"a": [], "b": []}
    start = threading.Barrier(2)

    def work(name: str) -> None:
        with al.connect(fresh_db, user=f"worker-{name}") as mine:
            start.wait()
            while (report := mine.webhooks.deliver(limit=3)).claimed:
                reports[name].append(report)

    threads = [threading.Thread(target=work, args=(n,)) for n in reports]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    got = receiver.got("/plan/200")
    sent = Counter(r.json["event"]["id"] for r in got)
    assert sorted(sent) == events
    assert set(sent.values()) == {1}
    assert len({r.headers[DELIVERY_HEADER] for r in got}) == 40
    assert sum(r.delivered for rs in reports.values() for r in rs) == 40
    assert all(reports.values()), "both workers took part"
    assert ws.webhooks.attempts().height == 40
    assert ws.webhooks.deliveries("delivered").height == 40


def test_a_rolled_back_change_enqueues_nothing(ws: al.Workspace, receiver: Receiver) -> None:
    ws.webhooks.add(receiver.url("/plan/200"), secret=SECRET, actions=["task.*"])

    def change_then_fail() -> None:
        with ws.engine.begin() as conn:
            record_event(conn, actor="a", action="task.assigned", entity="task", entity_id=1)
            assert conn.execute(sa.text("SELECT count(*) FROM webhook_deliveries")).scalar() == 1
            msg = "changed my mind"
            raise RuntimeError(msg)

    with pytest.raises(RuntimeError, match="changed my mind"):
        change_then_fail()
    assert ws.webhooks.deliveries().height == 0
    assert ws.webhooks.deliver().claimed == 0
    _event(ws)
    assert ws.webhooks.deliveries().height == 1


def test_one_insert_of_many_events_enqueues_each_once(ws: al.Workspace) -> None:
    first = ws.webhooks.add("http://127.0.0.1:9/a", secret=SECRET, actions=["task.*"])
    second = ws.webhooks.add("http://127.0.0.1:9/b", secret=SECRET, actions=["task.assigned"])
    ws.webhooks.add("http://127.0.0.1:9/c", secret=SECRET, actions=["quality.*"])
    with ws.engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO events (actor, action, entity, entity_id) "
                "SELECT 'a', CASE WHEN i % 2 = 0 THEN 'task.assigned' ELSE 'task.completed' END,"
                " 'task', i::text FROM generate_series(1, 10) i"
            )
        )
    counts = ws.webhooks.deliveries().group_by("webhook_id").len().sort("webhook_id")
    assert counts.rows() == [(first, 10), (second, 5)]


def test_a_worker_killed_between_claim_and_send_is_retried(
    ws: al.Workspace, fresh_db: str, receiver: Receiver
) -> None:
    ws.webhooks.add(receiver.url("/plan/200"), secret=SECRET, actions=["task.*"], max_attempts=3)
    _event(ws)
    # A worker that claims (lease: 1 s) and dies before sending, killed from outside.
    script = (
        "import sys, time, sqlalchemy as sa\n"
        "from annolab.store.webhooks import claim_due\n"
        "engine = sa.create_engine(sys.argv[1])\n"
        "with engine.begin() as conn:\n"
        "    held = claim_due(conn, limit=10, lease_seconds=1.0)\n"
        "print(len(held), flush=True)\n"
        "time.sleep(60)\n"
    )
    worker = subprocess.Popen(
        [sys.executable, "-c", script, fresh_db], stdout=subprocess.PIPE, text=True
    )
    try:
        assert worker.stdout is not None
        assert worker.stdout.readline().strip() == "1"
    finally:
        worker.kill()
        worker.wait(10)
    assert ws.webhooks.deliver().claimed == 0  # its lease still holds
    open_try = ws.webhooks.attempts().rows(named=True)
    assert [(t["attempt"], t["finished_at"]) for t in open_try] == [(1, None)]
    time.sleep(1.1)
    assert ws.webhooks.deliver().delivered == 1
    assert len(receiver.got("/plan/200")) == 1
    log = ws.webhooks.attempts()
    assert log.select("attempt", "http_status", "error").rows() == [
        (1, None, store.ABANDONED),
        (2, 200, None),
    ]


def test_a_worker_killed_on_its_last_try_leaves_the_delivery_dead(
    ws: al.Workspace, receiver: Receiver
) -> None:
    ws.webhooks.add(receiver.url("/plan/200"), secret=SECRET, actions=["task.*"], max_attempts=1)
    _event(ws)
    with ws.engine.begin() as conn:
        assert len(store.claim_due(conn, limit=10, lease_seconds=0.2)) == 1
    time.sleep(0.3)
    assert ws.webhooks.deliver().claimed == 0
    [dead] = ws.webhooks.dead().rows(named=True)
    assert dead["last_error"] == store.ABANDONED
    assert receiver.got("/plan/200") == []


def test_a_lost_lease_logs_the_try_but_leaves_the_delivery_to_its_holder(
    ws: al.Workspace,
) -> None:
    ws.webhooks.add("http://127.0.0.1:9/x", secret=SECRET, actions=["task.*"], max_attempts=5)
    _event(ws)
    with ws.engine.begin() as conn:
        [slow] = store.claim_due(conn, limit=10, lease_seconds=0.1)
    time.sleep(0.2)
    with ws.engine.begin() as conn:
        [fast] = store.claim_due(conn, limit=10, lease_seconds=30)
        assert (
            store.record_result(
                conn, slow, ok=True, http_status=200, error=None, duration=5.0, retry_in=1
            )
            is None
        )
        assert (
            store.record_result(
                conn, fast, ok=True, http_status=204, error=None, duration=0.1, retry_in=1
            )
            == "delivered"
        )
    assert ws.webhooks.deliveries().select("status", "attempts", "last_status").rows() == [
        ("delivered", 2, 204)
    ]
    assert ws.webhooks.attempts().select("attempt", "http_status").rows() == [(1, 200), (2, 204)]


def test_only_matching_active_webhooks_of_the_project_enqueue(ws: al.Workspace) -> None:
    news = _project(ws, "news")
    sport = _project(ws, "sport")
    for_news = ws.webhooks.add(
        "http://127.0.0.1:9/n", secret=SECRET, actions=["task.*"], project="news"
    )
    everywhere = ws.webhooks.add("https://example.invalid/a", secret=SECRET, actions=["*"])
    exact = ws.webhooks.add("http://127.0.0.1:9/e", secret=SECRET, actions=["task.completed"])
    off = ws.webhooks.add("http://127.0.0.1:9/o", secret=SECRET, actions=["*"])
    ws.webhooks.remove(off)
    first = _event(ws, "task.assigned", news.id)
    _event(ws, "task.assigned", sport.id)
    _event(ws, "task.completed", None)
    _event(ws, "tasks.added", news.id)  # 'task.*' is the task family, not 'tasks'
    got = (
        ws.webhooks.deliveries()
        .filter(pl.col("event_id") >= first)  # not the webhooks' own 'webhook.added' events
        .group_by("webhook_id")
        .len()
        .sort("webhook_id")
        .rows()
    )
    assert got == [(for_news, 1), (everywhere, 4), (exact, 1)]
    listed = ws.webhooks.list()
    assert "secret" not in listed.columns
    assert listed.filter(pl.col("webhook_id") == off)["active"].to_list() == [False]
    assert listed.filter(pl.col("webhook_id") == for_news)["project"].to_list() == ["news"]
    # Its own 'webhook.added' (it was active then), then nothing until it is on again.
    assert ws.webhooks.deliveries(webhook_id=off)["action"].to_list() == ["webhook.added"]
    ws.webhooks.activate(off)
    _event(ws, "user.created")
    assert ws.webhooks.deliveries(webhook_id=off)["action"].to_list() == [
        "webhook.added",
        "webhook.activated",
        "user.created",
    ]
    with pytest.raises(StoreError, match=r"webhook_id=12345 is not a webhook"):
        ws.webhooks.remove(12345)


def test_the_background_runner_sends_until_stopped(ws: al.Workspace, receiver: Receiver) -> None:
    ws.webhooks.add(receiver.url("/plan/200"), secret=SECRET, actions=["task.*"])
    ws.webhooks.start(interval=0.05)
    try:
        assert ws.webhooks.running
        with pytest.raises(StoreError, match="already running"):
            ws.webhooks.start()
        ids = [_event(ws) for _ in range(3)]
        deadline = time.monotonic() + 10
        while len(receiver.got("/plan/200")) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        ws.webhooks.stop()
    assert not ws.webhooks.running
    assert sorted(r.json["event"]["id"] for r in receiver.got("/plan/200")) == ids
    assert ws.webhooks.errors == []
    _event(ws)
    time.sleep(0.2)
    assert len(receiver.got("/plan/200")) == 3  # stopped: nothing more is sent


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"url": "ftp://example.org/x"}, r"^url='ftp://example.org/x' must be an absolute http"),
        ({"url": "example.org/hook"}, r"^url='example.org/hook' must be an absolute http"),
        ({"url": "http:///nohost"}, r"^url='http:///nohost' must be an absolute http"),
        ({"secret": ""}, r"^secret='' "),
        ({"secret": "   "}, r"^secret='   ' "),
        ({"actions": []}, r"^actions=\[\] must be a non-empty list of action patterns"),
        ({"actions": "quality.alert"}, r"^actions='quality.alert' must be a non-empty list"),
        ({"actions": ["qualty.alert"]}, r"^actions\[0\]='qualty.alert' is not an action pattern"),
        ({"actions": ["quality.*", "alert"]}, r"^actions\[1\]='alert' is not an action pattern"),
        ({"actions": ["quality.Alert!"]}, r"^actions\[0\]='quality.Alert!' must end in '\.\*'"),
        ({"actions": ["quality.a*"]}, r"^actions\[0\]='quality.a\*' must end in '\.\*'"),
        ({"actions": [3]}, r"^actions\[0\]=3 must be a string"),
        ({"max_attempts": 0}, r"^max_attempts=0 must be a whole number from 1 to 100"),
        ({"max_attempts": "3"}, r"^max_attempts='3' "),
    ],
)
def test_bad_input_names_the_field_value_and_rule(
    ws: al.Workspace, kwargs: dict[str, Any], message: str
) -> None:
    given: dict[str, Any] = {
        "url": "https://example.org/hook",
        "secret": SECRET,
        "actions": ["quality.alert"],
        **kwargs,
    }
    url = given.pop("url")
    with pytest.raises(ValidationError, match=message):
        ws.webhooks.add(url, **given)
    assert ws.webhooks.list().height == 0


def test_an_unknown_project_and_bad_worker_settings_are_refused(ws: al.Workspace) -> None:
    with pytest.raises(StoreError, match=r"name='nope' is not a project"):
        ws.webhooks.add("https://example.org/h", secret=SECRET, actions=["*"], project="nope")
    with pytest.raises(ValidationError, match=r"^timeout=0 must be a number of seconds above 0"):
        Retry(timeout=0)
    with pytest.raises(ValidationError, match=r"^jitter=2 must be a fraction from 0 to 1"):
        Retry(jitter=2)
    with pytest.raises(ValidationError, match=r"^status='lost' must be"):
        ws.webhooks.deliveries("lost")
    with pytest.raises(ValidationError, match=r"^limit=0 must be a whole number"):
        ws.webhooks.deliver(limit=0)


def test_deliveries_are_logged_as_events_without_url_or_secret(ws: al.Workspace) -> None:
    hook = ws.webhooks.add("https://token@example.org/h", secret=SECRET, actions=["*"])
    with ws.engine.begin() as conn:
        row = conn.execute(
            sa.text("SELECT after::text FROM events WHERE action = 'webhook.added'")
        ).scalar_one()
    assert "example.org" not in row
    assert SECRET not in row
    assert json.loads(row) == {"actions": ["*"], "max_attempts": 5}
    given = ws.webhooks.deliveries()["uuid"][0]
    assert str(uuid.UUID(given)) == given
    assert ws.webhooks.deliveries()["webhook_id"].to_list() == [hook]  # its own event, for '*'


def test_a_removed_webhooks_pending_deliveries_wait_until_it_is_activated(
    ws: al.Workspace, receiver: Receiver
) -> None:
    hook = ws.webhooks.add(receiver.url("/plan/200"), secret=SECRET, actions=["task.*"])
    event_id = _event(ws)
    ws.webhooks.remove(hook)
    _event(ws)  # recorded while it is off: never enqueued
    assert ws.webhooks.deliver().claimed == 0
    assert ws.webhooks.deliveries()["status"].to_list() == ["pending"]
    ws.webhooks.activate(hook)
    assert ws.webhooks.deliver().delivered == 1
    assert [r.json["event"]["id"] for r in receiver.got("/plan/200")] == [event_id]


def test_one_pass_tries_each_delivery_once(ws: al.Workspace, receiver: Receiver) -> None:
    ws.webhooks.retry = Retry(timeout=2.0, base=0.3, cap=10, jitter=0.0)
    ws.webhooks.add(receiver.url("/plan/500"), secret=SECRET, actions=["task.*"])
    for _ in range(3):
        _event(ws)
    report = ws.webhooks.deliver()
    assert (report.claimed, report.retrying) == (3, 3)  # failed tries wait for the next pass
    assert len(receiver.got("/plan/500")) == 3
    time.sleep(0.35)
    assert ws.webhooks.deliver(limit=2).claimed == 2  # those two now wait 0.6 s
    assert ws.webhooks.deliver().claimed == 1  # the third, due since the first pass
    assert ws.webhooks.attempts()["attempt"].to_list() == [1, 2, 1, 2, 1, 2]


def test_events_run_the_webhook_trigger_only_while_a_webhook_is_active(
    ws: al.Workspace, receiver: Receiver
) -> None:
    def trigger() -> str:
        with ws.engine.connect() as conn:
            return str(
                conn.execute(
                    sa.text(
                        "SELECT tgenabled FROM pg_trigger "
                        "WHERE tgrelid = 'events'::regclass AND tgname = 'events_webhooks'"
                    )
                ).scalar_one()
            )

    assert trigger() == "D"  # disabled: a new database has no webhook
    first = ws.webhooks.add(receiver.url("/plan/200"), secret=SECRET, actions=["task.*"])
    second = ws.webhooks.add(receiver.url("/plan/200"), secret=SECRET, actions=["user.*"])
    assert trigger() == "O"  # enabled ("origin")
    ws.webhooks.remove(first)
    assert trigger() == "O"  # the second is still active
    ws.webhooks.remove(second)
    assert trigger() == "D"
    _event(ws)  # while none is active: enqueued for nobody
    ws.webhooks.activate(first)
    assert trigger() == "O"
    delivered = _event(ws)
    assert ws.webhooks.deliver().delivered == 1
    assert [r.json["event"]["id"] for r in receiver.got("/plan/200")] == [delivered]
