"""Webhooks on a team server, against raw SQL: an annotator's work enqueues deliveries, yet her
login reads no URL, secret, delivery or attempt and changes none; a lead manages and sends them.

One database for the module, set up as ``docs/team-server.md`` says. alice is an annotator,
carol a lead. Each attack runs in a transaction that is rolled back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import polars as pl
import psycopg
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.store.roles import add_member, create_login, setup_team_roles
from annolab.webhooks import verify
from tests.conftest import scratch_database
from tests.test_team_security import _as, _libpq
from tests.test_webhooks import FAST, Receiver, receiver  # noqa: F401 (a fixture)

pytestmark = pytest.mark.db

SECRET = "the lead's secret"


@dataclass(frozen=True)
class World:
    url: str
    names: dict[str, str]
    webhook: int
    delivery: int

    def login(self, who: str) -> str:
        return _as(self.url, self.names[who])


@pytest.fixture(scope="module")
def world(db_url: str) -> Iterator[World]:
    with scratch_database(db_url, "annolab_hooks") as url:
        yield _build(url)


def _submit(url: str, login: str, project: str = "g") -> uuid.UUID:
    with al.connect(_as(url, login), user=login) as ws:
        session = ws.project(project).session()
        assert session.next() is not None
        return session.submit({"kind": "choice", "label": "pos"})


def _build(url: str) -> World:
    suffix = uuid.uuid4().hex[:6]
    names = {p: f"{p}_{suffix}" for p in ("alice", "carol")}
    with al.connect(url, user="owner") as owner:
        setup_team_roles(owner.engine)
        for who, login in names.items():
            create_login(owner.engine, login, lead=who == "carol")
        proj = owner.create_project("g", labels=["pos", "neg"], layout="classify")
        proj.add_tasks(pl.DataFrame({"id": ["g1", "g2", "g3"], "text": ["fine"] * 3}), id="id")
        with owner.engine.begin() as conn:
            add_member(conn, project="g", user=names["alice"])
        webhook = owner.webhooks.add(
            "http://127.0.0.1:9/owner", secret=SECRET, actions=["annotation.*"], project="g"
        )
    _submit(url, names["alice"])
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        delivery = conn.execute(
            sa.text("SELECT id FROM webhook_deliveries WHERE webhook_id = :w"), {"w": webhook}
        ).scalar_one()
        conn.execute(sa.text("ANALYZE webhooks"))
    engine.dispose()
    return World(url=url, names=names, webhook=webhook, delivery=delivery)


Attack = Callable[[psycopg.Connection[Any], World], Any]


def _sql(statement: str) -> Attack:
    def attack(conn: psycopg.Connection[Any], w: World) -> list[Any]:
        cur = conn.execute(statement.format(webhook=w.webhook, delivery=w.delivery))
        return cur.fetchall() if cur.description else []

    return attack


def _copy_out(conn: psycopg.Connection[Any], w: World) -> list[str]:
    with conn.cursor().copy("COPY webhooks (secret) TO STDOUT") as copy:
        return [bytes(block).decode() for block in copy]


def _denied(table: str) -> str:
    return f"permission denied for table {table}"


# name -> "empty" (runs and reads or changes nothing) or the refusal's pattern, and the attack
ANNOTATOR_ATTACKS: dict[str, tuple[str, Attack]] = {
    "read the secrets": (_denied("webhooks"), _sql("SELECT secret FROM webhooks")),
    "read the urls": (_denied("webhooks"), _sql("SELECT url FROM webhooks")),
    "read the deliveries": (
        _denied("webhook_deliveries"),
        _sql("SELECT * FROM webhook_deliveries"),
    ),
    "read the attempts": (_denied("webhook_attempts"), _sql("SELECT * FROM webhook_attempts")),
    "copy the secrets out": (_denied("webhooks"), _copy_out),
    "read the secrets after SET ROLE": (
        _denied("webhooks"),
        _sql("SET ROLE annolab_annotator; SELECT secret FROM webhooks"),
    ),
    "column statistics of the secrets": (
        "empty",
        _sql("SELECT most_common_vals::text FROM pg_stats WHERE tablename = 'webhooks'"),
    ),
    "add a webhook of her own": (
        _denied("webhooks"),
        _sql(
            "INSERT INTO webhooks (url, secret, actions) "
            "VALUES ('http://127.0.0.1:9/mine', 'mine', '{{*}}')"
        ),
    ),
    "point the lead's webhook at her server": (
        _denied("webhooks"),
        _sql("UPDATE webhooks SET url = 'http://127.0.0.1:9/mine' WHERE id = {webhook}"),
    ),
    "turn the webhook off": (
        _denied("webhooks"),
        _sql("UPDATE webhooks SET active = false WHERE id = {webhook}"),
    ),
    "requeue a delivery": (
        _denied("webhook_deliveries"),
        _sql("UPDATE webhook_deliveries SET status = 'dead' WHERE id = {delivery}"),
    ),
    "enqueue a delivery by hand": (
        _denied("webhook_deliveries"),
        _sql(
            "INSERT INTO webhook_deliveries (webhook_id, event_id) "
            "SELECT {webhook}, max(id) FROM events"
        ),
    ),
    "log a fake attempt": (
        _denied("webhook_attempts"),
        _sql("INSERT INTO webhook_attempts (delivery_id, attempt) VALUES ({delivery}, 9)"),
    ),
    "delete the deliveries": (
        _denied("webhook_deliveries"),
        _sql("DELETE FROM webhook_deliveries"),
    ),
    "lock the queue": (
        _denied("webhook_deliveries"),
        _sql("SELECT id FROM webhook_deliveries FOR UPDATE SKIP LOCKED"),
    ),
    "call the trigger function": (
        r"permission denied for function annolab_webhooks_enqueue",
        _sql("SELECT public.annolab_webhooks_enqueue()"),
    ),
    "add a trigger of her own on events": (
        r"permission denied for table events|must be owner of (table|relation) events",
        _sql(
            "CREATE TRIGGER mine AFTER INSERT ON events FOR EACH STATEMENT "
            "EXECUTE FUNCTION public.annolab_webhooks_enqueue()"
        ),
    ),
}


@pytest.mark.parametrize("name", list(ANNOTATOR_ATTACKS))
def test_an_annotator_can_not_touch_webhooks(world: World, name: str) -> None:
    expect, attack = ANNOTATOR_ATTACKS[name]
    with psycopg.connect(_libpq(world.login("alice"))) as conn:
        try:
            if expect == "empty":
                assert attack(conn, world) in ([], None)
            else:
                with pytest.raises(psycopg.Error, match=expect):
                    attack(conn, world)
        finally:
            conn.rollback()


def test_the_owner_sees_the_annotators_submit_enqueued(world: World) -> None:
    engine = sa.create_engine(world.url)
    try:
        with engine.begin() as conn:
            row = conn.execute(
                sa.text(
                    "SELECT e.action, e.actor, d.status FROM webhook_deliveries d "
                    "JOIN events e ON e.id = d.event_id WHERE d.id = :d"
                ),
                {"d": world.delivery},
            ).one()
    finally:
        engine.dispose()
    assert tuple(row) == ("annotation.submitted", world.names["alice"], "pending")


def test_a_lead_manages_webhooks_and_sends_an_annotators_submit(
    world: World,
    receiver: Receiver,  # noqa: F811 (the fixture imported above)
) -> None:
    carol = world.names["carol"]
    with al.connect(world.login("carol"), user=carol) as ws:
        ws.webhooks.retry = FAST
        ws.webhooks.remove(world.webhook)  # the owner's points nowhere: off
        hook = ws.webhooks.add(
            receiver.url("/plan/200"), secret="carol's", actions=["annotation.submitted"]
        )
        annotation_id = _submit(world.url, world.names["alice"])
        report = ws.webhooks.deliver()
        # Hers only: the owner's, turned off, waits (it points where nobody listens).
        assert (report.claimed, report.delivered, report.retrying) == (1, 1, 0)
        [request] = receiver.got("/plan/200")
        assert verify("carol's", request.headers, request.body)
        event = request.json["event"]
        assert (event["action"], event["actor"]) == ("annotation.submitted", world.names["alice"])
        assert event["entity_id"] == str(annotation_id)
        assert ws.webhooks.deliveries(webhook_id=hook)["status"].to_list() == ["delivered"]
        assert ws.webhooks.attempts().height >= 1
    with psycopg.connect(_libpq(world.login("carol"))) as conn:
        secrets = {r[0] for r in conn.execute("SELECT secret FROM webhooks").fetchall()}
        assert secrets == {SECRET, "carol's"}
        with pytest.raises(psycopg.Error, match=_denied("webhooks")):
            conn.execute("DELETE FROM webhooks")
