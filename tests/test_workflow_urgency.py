"""Human-in-the-loop ordering: unsure model answers, old tasks and hard tasks come first."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl
import sqlalchemy as sa

import annolab as al


def _order(
    workspace: al.Workspace, spec: al.Workflow, frame: pl.DataFrame, now: dt.datetime
) -> list[str]:
    proj = workspace.create_project(
        f"hitl-{uuid.uuid4().hex[:8]}", labels=["x"], layout="classify", workflow=spec
    )
    proj.add_tasks(frame, id="id")
    with workspace.engine.begin() as conn:  # make "old" really old
        conn.execute(
            sa.text(
                "UPDATE tasks SET created_at = :at WHERE project_id = :p AND external_id = 'old'"
            ),
            {"at": now - dt.timedelta(days=30), "p": proj.id},
        )
    session = proj.session("picker", clock=lambda: now)
    taken = []
    while (item := session.next(resume=False)) is not None:
        taken.append(item.external_id)
    return taken


def test_urgency_orders_by_confidence_age_and_complexity(workspace: al.Workspace) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    frame = pl.DataFrame(
        {
            "id": ["sure", "unsure", "old", "hard", "bad-value"],
            "text": ["a", "b", "c", "d", "e"],
            "confidence": [0.99, 0.2, 0.99, 0.99, None],
            "complexity": [0.0, 0.0, 0.0, 0.9, 0.0],
        }
    )
    spec = al.workflows.single(urgency={"confidence": 1.0, "age": 1.0, "complexity": 0.5})
    # unsure: 0.8; old: 0.01 + 1.0 (capped at 7 days); hard: 0.01 + 0.45; bad-value: no
    # confidence counts as sure (0); sure: 0.01.
    assert _order(workspace, spec, frame, now) == ["old", "unsure", "hard", "sure", "bad-value"]


def test_without_urgency_the_queue_is_priority_then_arrival(workspace: al.Workspace) -> None:
    now = dt.datetime.now(dt.timezone.utc)
    frame = pl.DataFrame({"id": ["a", "b", "old"], "text": ["a", "b", "c"]})
    # "old" is 30 days old but arrived last: without urgency, age does not count.
    assert _order(workspace, al.workflows.single(), frame, now) == ["a", "b", "old"]
