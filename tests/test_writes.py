"""Deferred writes: a submit's last writes and its COMMIT go out as one pipeline; a read in the
same transaction still sees a write held back; a held-back write that fails, or a COMMIT that
fails, raises and leaves nothing behind."""

from __future__ import annotations

import uuid
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from psycopg import pq

import annolab as al
from annolab.errors import StoreError
from annolab.store import writes
from annolab.store.annotations import iter_task_answers
from annolab.store.events import record_event
from annolab.store.frames import driver_connection

pytestmark = pytest.mark.db

ANSWER = {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "person"}]}
_PRIORITY = sa.text("UPDATE tasks SET priority = :v WHERE id = :t")


def _pipelined(conn: sa.Connection) -> bool:
    return conn.connection.driver_connection.pgconn.pipeline_status != pq.PipelineStatus.OFF


class Traffic:
    """Each statement's first words and whether it went out in a pipeline; the same for COMMIT."""

    def __init__(self, engine: sa.Engine) -> None:
        self.sent: list[tuple[str, bool]] = []
        self.engine = engine
        sa.event.listen(engine, "before_cursor_execute", self._statement)
        sa.event.listen(engine, "commit", self._commit)

    def _statement(self, conn: sa.Connection, cursor: Any, statement: str, *_: Any) -> None:
        self.sent.append((" ".join(statement.split()[:3]), _pipelined(conn)))

    def _commit(self, conn: sa.Connection) -> None:
        self.sent.append(("COMMIT", _pipelined(conn)))

    def close(self) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._statement)
        sa.event.remove(self.engine, "commit", self._commit)


@pytest.fixture
def task_id(project: al.Project) -> int:
    project.add_tasks(pl.DataFrame({"id": ["t1"], "text": ["Ada met Grace"]}), id="id")
    return int(project.tasks()["task_id"][0])


def _priority(engine: sa.Engine, task_id: int) -> int:
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("SELECT priority FROM tasks WHERE id = :t"), {"t": task_id}
            ).scalar_one()
        )


def test_a_submit_sends_its_last_writes_and_the_commit_in_one_pipeline(
    project: al.Project,
) -> None:
    project.add_tasks(pl.DataFrame({"id": ["t1"], "text": ["Ada met Grace"]}), id="id")
    session = project.session("ann")
    assert session.next() is not None
    traffic = Traffic(project.workspace.engine)
    try:
        session.submit(ANSWER)
    finally:
        traffic.close()
    assert traffic.sent == [
        ("SELECT a.id, a.task_id,", False),  # the lock: its row decides what follows
        ("INSERT INTO annotations", False),  # its version goes into the event
        ("UPDATE assignments SET", True),
        ("UPDATE tasks SET", True),
        ("INSERT INTO events", True),
        ("COMMIT", True),
    ]
    assert project.tasks()["status"].to_list() == ["completed"]
    actions = project.events()["action"].to_list()
    assert actions[-4:] == [
        "annotation.submitted",
        "quality.scored",
        "step.completed",
        "task.completed",
    ]


def test_a_read_sees_a_write_held_back_through_sqlalchemy_and_the_driver(
    workspace: al.Workspace, task_id: int
) -> None:
    with writes.transaction(workspace.engine) as conn:
        writes.defer(conn, _PRIORITY, {"v": 7, "t": task_id})
        read = sa.text("SELECT priority FROM tasks WHERE id = :t")
        assert conn.execute(read, {"t": task_id}).scalar_one() == 7
        writes.defer(conn, _PRIORITY, {"v": 8, "t": task_id})
        with driver_connection(conn).cursor() as cur:
            cur.execute("SELECT priority FROM tasks WHERE id = %s", (task_id,))
            assert cur.fetchone() == (8,)
        writes.defer(conn, _PRIORITY, {"v": 9, "t": task_id})
    assert _priority(workspace.engine, task_id) == 9


@pytest.mark.parametrize("with_event", [False, True], ids=["last-before-commit", "then-events"])
def test_a_held_back_write_that_fails_raises_and_nothing_of_the_transaction_stays(
    workspace: al.Workspace, task_id: int, with_event: bool
) -> None:
    marker = f"writes-{uuid.uuid4().hex[:8]}"
    drivers = []

    def failing() -> None:
        with writes.transaction(workspace.engine) as conn:
            drivers.append(conn.connection.driver_connection)
            conn.execute(_PRIORITY, {"v": 3, "t": task_id})  # sent at once
            if with_event:
                record_event(conn, actor=marker, action="test", entity="task", entity_id=task_id)
            writes.defer(
                conn, sa.text("UPDATE tasks SET priority = 1 / 0 WHERE id = :t"), {"t": task_id}
            )

    with pytest.raises(StoreError, match="division by zero"):
        failing()
    assert _priority(workspace.engine, task_id) == 0
    with workspace.engine.connect() as conn:
        logged = conn.execute(
            sa.text("SELECT count(*) FROM events WHERE actor = :a"), {"a": marker}
        )
        assert logged.scalar_one() == 0
    # The server skipped the COMMIT after the error: the transaction is rolled back before the
    # connection goes back to the pool, not left aborted for the next borrower.
    assert drivers[0].info.transaction_status == pq.TransactionStatus.IDLE


def test_a_commit_refused_in_the_pipeline_raises_and_keeps_nothing(project: al.Project) -> None:
    project.add_tasks(pl.DataFrame({"id": ["t1"], "text": ["Ada met Grace"]}), id="id")
    session = project.session("ann")
    assert session.next() is not None
    session.submit(ANSWER)
    engine = project.workspace.engine
    # A new version of a submitted annotation with no event of it is refused by a trigger
    # deferred to the COMMIT, which is in the pipeline.
    task = int(project.tasks()["task_id"][0])
    change = (
        "UPDATE annotations SET payload = '{}'::jsonb, version = version + 1 WHERE task_id = :t"
    )
    drivers = []

    def refused() -> None:
        with writes.transaction(engine) as conn:
            drivers.append(conn.connection.driver_connection)
            writes.defer(conn, sa.text(change), {"t": task})

    with pytest.raises(sa.exc.IntegrityError, match="without an annotation event"):
        refused()
    assert drivers[0].info.transaction_status == pq.TransactionStatus.IDLE  # pooled clean
    assert project.annotations()["payload"].to_list() == [
        '{"kind": "spans", "spans": [{"end": 3, "label": "person", "start": 0}]}'
    ]


def test_an_engine_without_the_barrier_runs_each_write_at_once(db_url: str, task_id: int) -> None:
    engine = sa.create_engine(db_url)
    try:
        with engine.begin() as conn, writes.batched(conn):
            writes.defer(conn, _PRIORITY, {"v": 5, "t": task_id})
            assert not _pipelined(conn)
            read = sa.text("SELECT priority FROM tasks WHERE id = :t")
            assert conn.execute(read, {"t": task_id}).scalar_one() == 5
    finally:
        engine.dispose()


def test_a_reader_closed_late_leaves_the_next_transaction_on_its_connection_alone(
    project: al.Project,
) -> None:
    project.add_tasks(pl.DataFrame({"id": ["t1", "t2"], "text": ["Ada", "Grace"]}), id="id")
    engine = project.workspace.engine
    with engine.connect() as conn:
        with conn.begin():
            rows = iter_task_answers(conn, project.id, batch_rows=1)
            assert next(rows).external_id == "t1"  # suspended with its cursor open
        with conn.begin():  # the same connection, another transaction
            rows.close()  # as the garbage collector would, long after
            read = sa.text("SELECT count(*) FROM tasks WHERE project_id = :p")
            assert conn.execute(read, {"p": project.id}).scalar_one() == 2
