"""The usual claim is two statements outside any transaction; a queue that looks empty is asked
again in a transaction that first hands back the leases that ran out."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.store.assignments import claim_next_task

T0 = dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.timezone.utc)
ANSWER = {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "person"}]}


@pytest.fixture
def two_tasks(project: al.Project) -> al.Project:
    project.add_tasks(
        pl.DataFrame({"id": ["t1", "t2"], "text": ["Ada met Grace", "Ada met Alan"]}), id="id"
    )
    return project


class Traffic:
    """The statements and commits on an engine while it listens."""

    def __init__(self, engine: sa.Engine) -> None:
        self.statements: list[str] = []
        self.commits = 0
        self.engine = engine
        sa.event.listen(engine, "before_cursor_execute", self._statement)
        sa.event.listen(engine, "commit", self._commit)

    def _statement(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        self.statements.append(" ".join(statement.split()[:4]))

    def _commit(self, conn: Any) -> None:
        self.commits += 1

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._statement)
        sa.event.remove(self.engine, "commit", self._commit)


def test_a_claim_soon_after_the_last_sweep_is_two_statements_and_no_commit(
    two_tasks: al.Project,
) -> None:
    now = [T0]
    session = two_tasks.session("ann", clock=lambda: now[0])
    assert session.next() is not None  # the first claim sweeps, in a transaction
    session.submit(ANSWER)
    now[0] = T0 + dt.timedelta(seconds=2)
    traffic = Traffic(two_tasks.workspace.engine)
    try:
        item = session.next()
    finally:
        traffic.close()
    assert item is not None and item.external_id == "t2"
    assert traffic.statements == [
        "SELECT u.id, u.name, u.kind::text",
        "WITH pick AS (",
    ]
    assert traffic.commits == 0
    assigned = two_tasks.events(actions=["task.assigned"])["entity_id"].to_list()
    assert len(assigned) == 2 and assigned[-1] == str(item.task_id)  # logged by the statement


def test_a_lease_that_ran_out_since_the_last_sweep_is_claimed_at_once(
    project: al.Project,
) -> None:
    project.add_tasks(pl.DataFrame({"id": ["t1"], "text": ["Ada met Grace"]}), id="id")
    now = [T0]
    ann = project.session("ann", clock=lambda: now[0])
    assert ann.next() is not None  # holds t1 until T0 + 30 minutes
    bea = project.session("bea", clock=lambda: now[0])
    now[0] = T0 + dt.timedelta(minutes=30) - dt.timedelta(seconds=1)
    assert bea.next() is None  # swept just now: ann's lease was still good
    now[0] = T0 + dt.timedelta(minutes=30, seconds=1)  # 2 s later: no sweep is due
    item = bea.next()
    assert item is not None and item.external_id == "t1"
    assert project.events(actions=["assignment.expired"]).height == 1


def test_the_claim_is_planned_once_and_the_plan_reused(fresh_db: str) -> None:
    """Postgres plans a prepared statement's first five runs for their values, then keeps one
    plan if it is estimated no dearer. The claim is written so that it is, whatever the size
    of its project beside the others: planning it anew on every claim cost the server more
    than running it."""
    with al.connect(fresh_db, user="lead") as ws:
        small = ws.create_project("small", labels=["person"])
        small.add_tasks(pl.DataFrame({"id": ["s1"], "text": ["Ada met Grace"]}), id="id")
        large = ws.create_project("large", labels=["person"])
        large.add_tasks(
            pl.DataFrame({"id": [f"t{i}" for i in range(500)], "text": ["Ada met Grace"] * 500}),
            id="id",
        )
        user_id = large.session("ann").user_id
        with ws.engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))  # as autovacuum would soon after a load
            conn.commit()
        ws.engine.dispose()  # a new connection: no statement prepared yet
        with ws.engine.connect() as conn:
            for _ in range(16):  # psycopg prepares a statement on its sixth run
                claim = claim_next_task(
                    conn,
                    actor="ann",
                    project_id=large.id,
                    user_id=user_id,
                    steps=["annotate"],
                    exclude_earlier=[],
                    lease=dt.timedelta(minutes=30),
                    now=T0,
                )
                assert claim is not None
                conn.commit()
            plans = conn.execute(
                sa.text(
                    "SELECT custom_plans, generic_plans FROM pg_prepared_statements "
                    "WHERE statement LIKE '%WITH pick AS%'"
                )
            ).one()
    assert tuple(plans) == (5, 6)
