"""Admin operations on the queue: evict, reassign, force-complete, reset, priority."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)


def frozen() -> dt.datetime:
    return T0


@pytest.fixture
def queue(workspace: al.Workspace) -> al.Project:
    name = f"admin-{uuid.uuid4().hex[:8]}"
    spec = al.workflows.single(who={"skills": {"ner": "novice"}})
    proj = workspace.create_project(name, labels=["person"], workflow=spec)
    proj.add_tasks(pl.DataFrame({"id": ["a", "b"], "text": ["Ada", "Bob"]}), id="id")
    for user in ("ann", "bea"):
        workspace.set_skill(f"{name}-{user}", "ner", "expert")
    return proj


def _admin_events(proj: al.Project) -> list[tuple[str, dict[str, object]]]:
    with proj.workspace.engine.begin() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT action, after FROM events WHERE project_id = :p AND action LIKE 'admin.%' "
                "ORDER BY id"
            ),
            {"p": proj.id},
        ).all()
    return [(r[0], r[1]) for r in rows]


def _tasks(proj: al.Project) -> dict[str, str]:
    frame = proj.tasks()
    return dict(zip(frame["external_id"], frame["status"], strict=True))


def test_reassign_moves_the_task_to_an_eligible_user(queue: al.Project) -> None:
    ann = queue.session(f"{queue.name}-ann", clock=frozen)
    item = ann.next()
    assert item is not None
    queue.reassign(
        item.external_id,
        from_user=f"{queue.name}-ann",
        to_user=f"{queue.name}-bea",
        reason="ann is on leave",
    )
    bea = queue.session(f"{queue.name}-bea", clock=frozen)
    got = bea.next()
    assert got is not None
    assert got.external_id == item.external_id  # bea holds it now, and resumes it
    with pytest.raises(al.AssignmentError, match="is released"):
        ann.submit({"kind": "spans", "spans": []})
    assert _admin_events(queue)[-2:] == [
        (
            "admin.evicted",
            {"user": f"{queue.name}-ann", "reason": "ann is on leave", "task_status": "pending"},
        ),
        (
            "admin.reassigned",
            {
                "user": f"{queue.name}-bea",
                "reason": "ann is on leave",
                "task_status": "in_progress",
            },
        ),
    ]


def test_reassign_refuses_an_ineligible_or_the_same_user(queue: al.Project) -> None:
    ann = queue.session(f"{queue.name}-ann", clock=frozen)
    item = ann.next()
    assert item is not None
    with pytest.raises(
        al.AssignmentError,
        match=r"can not take step 'annotate': "
        r"Requires skill: ner \(novice\)",
    ):
        queue.reassign(item.external_id, from_user=f"{queue.name}-ann", to_user="stranger")
    with pytest.raises(al.AssignmentError, match="is the person being evicted"):
        queue.reassign(item.external_id, from_user=f"{queue.name}-ann", to_user=f"{queue.name}-ann")
    assert _tasks(queue)[item.external_id] == "in_progress"  # nothing changed


def test_evict_returns_the_place_to_the_pool(queue: al.Project) -> None:
    ann = queue.session(f"{queue.name}-ann", clock=frozen)
    item = ann.next()
    assert item is not None
    queue.evict(item.external_id, f"{queue.name}-ann", reason="stuck")
    assert _tasks(queue)[item.external_id] == "pending"
    bea = queue.session(f"{queue.name}-bea", clock=frozen)
    assert bea.next().external_id == item.external_id  # type: ignore[union-attr]


def test_force_complete_and_reset_need_a_reason(queue: al.Project) -> None:
    with pytest.raises(al.AssignmentError, match="force-complete needs a reason"):
        queue.force_complete("a", reason=" ")
    queue.force_complete("a", reason="duplicate of b")
    assert _tasks(queue)["a"] == "completed"
    with pytest.raises(al.WorkflowError, match="status='completed' can not follow 'completed'"):
        queue.force_complete("a", reason="again")
    with pytest.raises(al.AssignmentError, match="reset needs a reason"):
        queue.reset("a", reason="")
    queue.reset("a", reason="not a duplicate after all")
    assert _tasks(queue)["a"] == "pending"
    assert [a for a, _ in _admin_events(queue)] == ["admin.force_completed", "admin.reset"]


def test_priority_orders_the_queue(queue: al.Project) -> None:
    queue.set_priority("b", 5)
    ann = queue.session(f"{queue.name}-ann", clock=frozen)
    assert ann.next().external_id == "b"  # type: ignore[union-attr]
    assert _admin_events(queue) == [
        ("admin.priority_changed", {"before": 0, "priority": 5, "task_status": "pending"})
    ]


def test_only_admins_leads_and_the_creator_may_change_the_queue(
    queue: al.Project, db_url: str
) -> None:
    with al.connect(db_url, user=f"{queue.name}-ann") as other:
        theirs = other.project(queue.name)
        with pytest.raises(al.AssignmentError, match="Requires role: project_admin or team_lead"):
            theirs.set_priority("a", 3)
        queue.workspace.set_roles(f"{queue.name}-ann", ["annotator", "team_lead"])
        theirs.set_priority("a", 3)
    assert dict(zip(queue.tasks()["external_id"], queue.tasks()["priority"], strict=True)) == {
        "a": 3,
        "b": 0,
    }
