"""Deferred writes: a submit's last writes and its COMMIT go out as one pipeline; a read in the
same transaction still sees a write held back; a held-back write that fails, or a COMMIT that
fails, raises and leaves nothing behind."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from psycopg import pq

import annolab as al
from annolab.errors import StoreError
from annolab.store import writes
from annolab.store.annotations import iter_task_answers
from annolab.store.direct import fetch
from annolab.store.events import record_event
from annolab.store.frames import driver_connection

pytestmark = pytest.mark.db

ANSWER = {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "person"}]}
_PRIORITY = "UPDATE tasks SET priority = :v WHERE id = :t"


class Wire:
    """The messages the engine's connections send and receive while it listens (libpq's own
    protocol trace), cut into round trips: what the client sends before it waits for an answer.
    Each round trip is listed as the statements it runs (each Bind), by their first words."""

    def __init__(self, engine: sa.Engine, path: Path) -> None:
        self.engine = engine
        self.file = path.open("w")
        sa.event.listen(engine, "checkout", self._trace)
        sa.event.listen(engine, "checkin", self._untrace)

    def _trace(self, dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.pgconn.trace(self.file.fileno())
        flags = pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE
        dbapi_connection.pgconn.set_trace_flags(flags)

    def _untrace(self, dbapi_connection: Any, *_: Any) -> None:
        dbapi_connection.pgconn.untrace()

    def round_trips(self) -> list[list[str]]:
        sa.event.remove(self.engine, "checkout", self._trace)
        sa.event.remove(self.engine, "checkin", self._untrace)
        self.file.close()
        trips: list[list[str]] = []
        parsed: dict[str, str] = {}  # statement name ("" unnamed) -> its first words
        sending = False
        # A statement's own line breaks are printed as they are: a message is a line that starts
        # with its direction, and the lines after it up to the next.
        text = Path(self.file.name).read_text()
        for line in re.split(r"\n(?=[FB]\t)", text.rstrip("\n")):
            direction, _, message, *rest = line.split("\t")
            if direction == "F" and not sending:
                trips.append([])
            sending = direction == "F"
            fields = rest[0].split('"') if rest else []
            if message == "Query":  # a simple query, as psycopg's BEGIN: "text"
                trips[-1].append(" ".join(fields[1].split()[:3]))
            elif message == "Parse":  # "name" "text" n
                parsed[fields[1]] = " ".join(fields[3].split()[:3])
            elif message == "Bind":  # "portal" "name" ...: one execution of the statement
                trips[-1].append(parsed.get(fields[3], "(prepared earlier)"))
        return trips


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


def test_a_submit_is_three_round_trips(project: al.Project, tmp_path: Path) -> None:
    project.add_tasks(pl.DataFrame({"id": ["t1"], "text": ["Ada met Grace"]}), id="id")
    session = project.session("ann")
    assert session.next() is not None
    wire = Wire(project.workspace.engine, tmp_path / "trace")
    session.submit(ANSWER)
    trips = wire.round_trips()
    assert trips[0] == ["BEGIN ISOLATION LEVEL", "SELECT a.id, a.task_id,"]  # and the lock
    assert trips[1] == ["INSERT INTO annotations"]  # its version goes into the event
    # The four events in one statement, then COMMIT.
    assert trips[2] == [
        "UPDATE assignments SET",
        "UPDATE tasks SET",
        "INSERT INTO events",
        "COMMIT",
    ]
    assert len(trips) == 3
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
            conn.execute(sa.text(_PRIORITY), {"v": 3, "t": task_id})  # sent at once
            if with_event:
                record_event(conn, actor=marker, action="test", entity="task", entity_id=task_id)
            writes.defer(conn, "UPDATE tasks SET priority = 1 / 0 WHERE id = :t", {"t": task_id})

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
            writes.defer(conn, change, {"t": task})

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


def test_a_first_statement_that_fails_leaves_the_connection_as_it_found_it(
    workspace: al.Workspace,
) -> None:
    drivers = []

    def failing() -> None:
        with writes.transaction(workspace.engine) as conn:
            drivers.append(conn.connection.driver_connection)
            conn.execute(sa.text("SELECT 1 / 0"))

    with pytest.raises(StoreError, match="division by zero"):
        failing()
    driver = drivers[0]
    assert driver.pgconn.pipeline_status == pq.PipelineStatus.OFF
    assert driver.info.transaction_status == pq.TransactionStatus.IDLE
    assert driver.autocommit is False


def test_the_driver_connection_handed_out_first_is_inside_the_transaction(
    workspace: al.Workspace, task_id: int
) -> None:
    def failing() -> None:
        with writes.transaction(workspace.engine) as conn:
            with driver_connection(conn).cursor() as cur:
                cur.execute("UPDATE tasks SET priority = 6 WHERE id = %s", (task_id,))
            conn.execute(sa.text("SELECT 1 / 0"))

    with pytest.raises(StoreError, match="division by zero"):
        failing()
    assert _priority(workspace.engine, task_id) == 0  # rolled back with the rest


@pytest.mark.parametrize("first", ["sqlalchemy", "direct", "deferred"])
def test_the_first_statement_of_a_transaction_is_inside_it(
    workspace: al.Workspace, task_id: int, first: str
) -> None:
    """The BEGIN waits for the first statement (the driver is in autocommit meanwhile): each way
    a statement can come first still runs inside the transaction, and goes with its end."""

    class Abandoned(Exception):
        pass

    def change(conn: sa.Connection, value: int) -> None:
        params = {"v": value, "t": task_id}
        if first == "sqlalchemy":
            conn.execute(sa.text(_PRIORITY), params)
        elif first == "direct":
            assert fetch(conn, f"{_PRIORITY} RETURNING priority", params) == [(value,)]
        else:
            writes.defer(conn, _PRIORITY, params)
            conn.execute(sa.text("SELECT 1"))  # sends it, with the BEGIN

    def abandoned() -> None:
        with writes.transaction(workspace.engine) as conn:
            change(conn, 4)
            raise Abandoned

    with pytest.raises(Abandoned):
        abandoned()
    assert _priority(workspace.engine, task_id) == 0  # rolled back
    with writes.transaction(workspace.engine) as conn:
        change(conn, 5)
        driver = conn.connection.driver_connection
        assert driver.info.transaction_status == pq.TransactionStatus.INTRANS
    assert _priority(workspace.engine, task_id) == 5
    assert driver.info.transaction_status == pq.TransactionStatus.IDLE
    with workspace.engine.connect() as conn:  # back in the pool as it was lent
        assert conn.connection.driver_connection.autocommit is False


def test_a_batch_of_events_is_one_statement_in_recording_order(workspace: al.Workspace) -> None:
    marker = f"order-{uuid.uuid4().hex[:8]}"
    with writes.transaction(workspace.engine) as conn:
        for n, after in enumerate([{"text": "Ünïcode ' \" \\ %s"}, None, {"n": [1, 2.5, None]}]):
            record_event(
                conn, actor=marker, action=f"test.{n}", entity="task", entity_id=n, after=after
            )
    with workspace.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT action, project_id, before IS NULL, before::text, after::text "
                "FROM events WHERE actor = :m ORDER BY id"
            ),
            {"m": marker},
        ).all()
    assert [tuple(r) for r in rows] == [
        ("test.0", None, False, "null", '{"text": "Ünïcode \' \\" \\\\ %s"}'),
        ("test.1", None, False, "null", "null"),  # JSON null, as a missing value always was
        ("test.2", None, False, "null", '{"n": [1, 2.5, null]}'),
    ]
