"""The event log read back as frames, one task's history, and the state rebuilt from the events
alone matching the tables after a day's work: votes that agree and disagree, an adjudication,
skips, drafts, a review with a revision, a rejection and an approval."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.errors import ValidationError

pytestmark = pytest.mark.db

POS = {"kind": "choice", "label": "pos"}
NEG = {"kind": "choice", "label": "neg"}


def _project(ws: al.Workspace, workflow: Any, ids: list[str]) -> al.Project:
    proj = ws.create_project(
        f"events-{uuid.uuid4().hex[:8]}",
        labels=["pos", "neg"],
        layout="classify",
        workflow=workflow,
    )
    proj.add_tasks(pl.DataFrame({"id": ids, "text": [f"text {i}" for i in ids]}), id="id")
    return proj


def _work(proj: al.Project, who: str, *answers: dict[str, Any] | None) -> None:
    """``who`` takes tasks in queue order: None skips, a payload submits."""
    session = proj.session(who)
    for answer in answers:
        assert session.next() is not None
        if answer is None:
            session.skip()
        else:
            session.save_draft(NEG)  # a draft first, replaced by the answer
            session.submit(answer)


def _tables(ws: al.Workspace, proj: al.Project) -> dict[str, pl.DataFrame]:
    with ws.engine.begin() as conn:
        answers = conn.execute(
            sa.text(
                "SELECT a.id::text, a.task_id, a.status::text, a.version, a.payload "
                "FROM annotations a JOIN tasks t ON t.id = a.task_id WHERE t.project_id = :p"
            ),
            {"p": proj.id},
        ).all()
        tasks = conn.execute(
            sa.text("SELECT id, status::text, step, needed FROM tasks WHERE project_id = :p"),
            {"p": proj.id},
        ).all()
    return {
        "annotations": pl.DataFrame(
            [(a[0], a[1], a[2], a[3], json.dumps(a[4], sort_keys=True)) for a in answers],
            schema=["annotation_id", "task_id", "status", "version", "payload"],
            orient="row",
        ),
        "tasks": pl.DataFrame(
            [tuple(t) for t in tasks], schema=["task_id", "status", "step", "needed"], orient="row"
        ),
    }


def _same(replayed: pl.DataFrame, table: pl.DataFrame, key: str) -> None:
    got = replayed.sort(key).rows()
    want = table.select(replayed.columns).sort(key).rows()
    assert got == want


def test_state_rebuilt_from_the_events_matches_the_tables(workspace: al.Workspace) -> None:
    voted = _project(workspace, al.workflows.vote(annotators=2), ["v1", "v2", "v3"])
    _work(voted, "alice", POS, POS, None)
    _work(voted, "bob", POS, NEG)
    _work(voted, "carol", NEG)  # v3, which alice skipped
    reviewed = _project(workspace, al.workflows.review(fraction=1.0), ["r1", "r2", "r3"])
    _work(reviewed, "alice", POS, NEG, POS)
    workspace.set_roles(f"{reviewed.name}-rev", ["reviewer"])
    reviewer = reviewed.session(f"{reviewed.name}-rev")
    for decision in ("revise", "reject", "approve"):
        assert reviewer.next() is not None
        reviewer.review(decision, "why" if decision != "approve" else "")
    _work(reviewed, "alice", NEG)  # the revision of r1
    assert reviewer.next() is not None
    reviewer.review("approve")

    for proj in (voted, reviewed):
        rebuilt, tables = proj.replay(), _tables(workspace, proj)
        assert rebuilt["annotations"].height == tables["annotations"].height > 0
        _same(rebuilt["annotations"], tables["annotations"], "annotation_id")
        # Every task's status; step and need where a move set them (else as added).
        replayed = rebuilt["tasks"].join(tables["tasks"], on="task_id", suffix="_table")
        assert replayed["status"].to_list() == replayed["status_table"].to_list()
        moved = replayed.filter(pl.col("step").is_not_null())
        assert (
            moved.select("step", "needed").rows()
            == moved.select("step_table", "needed_table").rows()
        )
        assert moved.height > 0
        # A task no event touched is as it was added.
        still = tables["tasks"].join(rebuilt["tasks"], on="task_id", how="anti")
        assert set(still["status"]) <= {"pending"}
    statuses = dict(zip(*reviewed.replay()["annotations"].select("status", "version"), strict=True))
    assert {"approved", "rejected"} <= set(statuses)


def test_events_and_a_tasks_history(workspace: al.Workspace) -> None:
    proj = _project(workspace, al.workflows.single(), ["h1", "h2"])
    start = dt.datetime.now(dt.UTC)
    _work(proj, "alice", POS, None)
    every = proj.events()
    assert every.columns == [
        "id",
        "at",
        "actor",
        "action",
        "entity",
        "entity_id",
        "before",
        "after",
    ]
    assert every["id"].is_sorted()
    assert every["action"][0] == "project.created"
    submitted = proj.events(actions="annotation.*")
    assert set(submitted["action"]) == {"annotation.draft", "annotation.submitted"}
    assert proj.events(actions=["task.completed"]).height == 1
    assert proj.events(since=start).height < every.height
    assert proj.events(since=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).height == 0

    history = proj.history("h1")
    actions = history["action"].to_list()
    assert actions[0] == "task.assigned"
    assert {"annotation.draft", "annotation.submitted", "task.completed"} <= set(actions)
    assert "h2" not in "".join(history["after"].drop_nulls())
    skipped = proj.history("h2")["action"].to_list()
    assert skipped == ["task.assigned", "assignment.skipped"]

    with pytest.raises(ValidationError, match="task='nope' is not a task of project"):
        proj.history("nope")
    with pytest.raises(ValidationError, match=r"since=.* must be a datetime with a time zone"):
        proj.events(since=dt.datetime(2026, 1, 1))
