"""Acceptance: continuous labelling with a sampled review step."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.workflow.engine import Engine

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)


def frozen() -> dt.datetime:
    return T0


def _project(workspace: al.Workspace, tasks: int, fraction: float) -> al.Project:
    name = f"review-{uuid.uuid4().hex[:8]}"
    proj = workspace.create_project(
        name,
        labels=["pos", "neg"],
        layout="classify",
        workflow=al.workflows.review(fraction=fraction, seed=7),
    )
    proj.add_tasks(
        pl.DataFrame(
            {
                "id": [f"t{i:04d}" for i in range(tasks)],
                "text": [f"review text {i}" for i in range(tasks)],
            }
        ),
        id="id",
    )
    workspace.set_roles(f"{name}-rev", ["reviewer"])
    return proj


def test_a_seeded_tenth_of_a_thousand_tasks_goes_to_review(workspace: al.Workspace) -> None:
    proj = _project(workspace, 1000, 0.1)
    engine = Engine(proj.workflow, proj.id, frozen)
    step = proj.workflow.step("review")
    chosen = [t for t in proj.tasks()["task_id"] if engine.sampled(t, step)]
    assert 70 <= len(chosen) <= 130
    again = [t for t in proj.tasks()["task_id"] if engine.sampled(t, step)]
    assert again == chosen  # seeded: the same tasks every time


def test_only_sampled_tasks_reach_the_reviewer(workspace: al.Workspace) -> None:
    proj = _project(workspace, 12, 0.5)
    labeller = proj.session(f"{proj.name}-lab", clock=frozen)
    while labeller.next() is not None:
        labeller.submit({"kind": "choice", "label": "pos"})
    engine = Engine(proj.workflow, proj.id, frozen)
    step = proj.workflow.step("review")
    expected = {t for t in proj.tasks()["task_id"] if engine.sampled(t, step)}
    statuses = dict(zip(proj.tasks()["task_id"], proj.tasks()["status"], strict=True))
    assert {t for t, s in statuses.items() if s == "pending"} == expected
    assert {t for t, s in statuses.items() if s == "completed"} == set(statuses) - expected


def test_an_eleventh_concurrent_claim_is_refused(workspace: al.Workspace) -> None:
    proj = _project(workspace, 20, 0.1)
    labeller = proj.session(f"{proj.name}-lab", clock=frozen)
    for _ in range(10):
        assert labeller.next(resume=False) is not None
    with pytest.raises(al.AssignmentError, match=r"^You have reached max concurrent tasks \(10\)$"):
        labeller.next(resume=False)


def test_a_labeller_can_not_open_the_review_step(workspace: al.Workspace) -> None:
    proj = _project(workspace, 1, 1.0)
    labeller = proj.session(f"{proj.name}-lab", clock=frozen)
    labeller.next()
    labeller.submit({"kind": "choice", "label": "pos"})
    assert labeller.next() is None  # the review is waiting, but not for a labeller
    reviewer = proj.session(f"{proj.name}-rev", clock=frozen)
    item = reviewer.next()
    assert item is not None
    assert item.step == "review"
    assert [p["label"] for p in item.shown] == ["pos"]


@pytest.mark.parametrize(
    ("decision", "status", "task_status"),
    [("approve", "approved", "completed"), ("reject", "rejected", "pending")],
)
def test_approve_and_reject_set_the_annotation_status(
    workspace: al.Workspace, decision: str, status: str, task_status: str
) -> None:
    proj = _project(workspace, 1, 1.0)
    labeller = proj.session(f"{proj.name}-lab", clock=frozen)
    labeller.next()
    labeller.submit({"kind": "choice", "label": "neg"})
    reviewer = proj.session(f"{proj.name}-rev", clock=frozen)
    reviewer.next()
    reviewer.review(decision, comment="checked")
    annotations = proj.annotations()
    assert annotations["status"].to_list() == [status]
    assert proj.tasks()["status"].to_list() == [task_status]
    with workspace.engine.begin() as conn:
        row = conn.execute(
            sa.text(
                "SELECT r.decision::text, r.comment, u.name FROM reviews r JOIN users u "
                "ON u.id = r.reviewer_id JOIN annotations a ON a.id = r.annotation_id "
                "JOIN tasks t ON t.id = a.task_id WHERE t.project_id = :p"
            ),
            {"p": proj.id},
        ).one()
    assert tuple(row) == (decision, "checked", f"{proj.name}-rev")


def test_a_revision_goes_back_to_the_annotator(workspace: al.Workspace) -> None:
    proj = _project(workspace, 1, 1.0)
    labeller = proj.session(f"{proj.name}-lab", clock=frozen)
    labeller.next()
    first_id = labeller.submit({"kind": "choice", "label": "neg"})
    reviewer = proj.session(f"{proj.name}-rev", clock=frozen)
    reviewer.next()
    with pytest.raises(al.WorkflowError, match="a revision request needs a comment"):
        reviewer.review("revise")
    reviewer.review("revise", comment="this one is positive")
    again = labeller.next()
    assert again is not None
    assert again.step == "annotate"
    assert labeller.submit({"kind": "choice", "label": "pos"}) == first_id
    row = proj.annotations().row(0, named=True)
    assert (row["version"], json.loads(row["payload"])["label"]) == (2, "pos")
    # Back in review, with the reviewer who asked for the revision.
    assert proj.tasks()["status"].to_list() == ["in_progress"]
    back = reviewer.next()
    assert back is not None
    assert back.step == "review"
    assert [p["label"] for p in back.shown] == ["pos"]
    reviewer.review("approve")
    assert proj.tasks()["status"].to_list() == ["completed"]
    assert proj.annotations()["status"].to_list() == ["approved"]
