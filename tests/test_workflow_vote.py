"""Acceptance: dual annotation with adjudication, on a frozen clock."""

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
def voted(workspace: al.Workspace) -> al.Project:
    name = f"vote-{uuid.uuid4().hex[:8]}"
    spec = al.workflows.vote(
        annotators=2, metric="span_f1", threshold=0.5, who={"skills": {"ner": "intermediate"}}
    )
    proj = workspace.create_project(name, labels=["person", "location"], workflow=spec)
    proj.add_tasks(
        pl.DataFrame(
            {
                "id": ["t1", "t2", "t3"],
                "text": [
                    "Ada met Grace in Paris",
                    "Bob lives in Rome now",
                    "Eve and Mallory in Oslo",
                ],
            }
        ),
        id="id",
    )
    for user, level in (("ann", "expert"), ("bea", "intermediate"), ("newbie", "novice")):
        workspace.set_skill(f"{name}-{user}", "ner", level)
    workspace.set_roles(f"{name}-judge", ["adjudicator"])
    return proj


def spans(*items: tuple[int, int, str]) -> dict[str, object]:
    return {"kind": "spans", "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in items]}


def _status(proj: al.Project) -> dict[str, tuple[str, str]]:
    """Each task's status and step, as ``project.tasks()`` reads them."""
    tasks = proj.tasks()
    return {r[0]: (r[1], r[2]) for r in tasks.select("external_id", "status", "step").rows()}


def test_novice_is_refused_with_the_skill_reason(voted: al.Project) -> None:
    with pytest.raises(al.AssignmentError, match=r"^Requires skill: ner \(intermediate\)$"):
        voted.session(f"{voted.name}-newbie", clock=frozen).next()


def test_identical_answers_complete_without_adjudication(voted: al.Project) -> None:
    ann = voted.session(f"{voted.name}-ann", clock=frozen)
    bea = voted.session(f"{voted.name}-bea", clock=frozen)
    first, second = ann.next(), bea.next()
    assert first is not None and second is not None
    assert first.external_id == second.external_id == "t1"  # k = 2: both take the same task
    assert first.shown == ()  # blind: nobody sees the other's work
    ann.submit(spans((0, 3, "person")))
    assert _status(voted)["t1"] == ("in_progress", "annotate")
    bea.submit(spans((0, 3, "person")))
    assert _status(voted)["t1"] == ("completed", "annotate")
    consensus = voted.annotations().filter(pl.col("kind") == "consensus")
    assert consensus["payload"].to_list() == [
        '{"kind": "spans", "spans": [{"end": 3, "label": "person", "start": 0}]}'
    ]
    judge = voted.session(f"{voted.name}-judge", clock=frozen)
    assert judge.next() is None  # nothing reached adjudication


def test_different_answers_go_to_the_adjudicator_only(voted: al.Project) -> None:
    ann = voted.session(f"{voted.name}-ann", clock=frozen)
    bea = voted.session(f"{voted.name}-bea", clock=frozen)
    ann.next()
    bea.next()
    ann.submit(spans((0, 3, "person")))
    bea.submit(spans((8, 13, "location")))  # F1 = 0 < 0.5
    assert _status(voted)["t1"] == ("pending", "adjudicate")
    # Annotators can not take the adjudication step; they move on to other tasks.
    assert ann.next().external_id == "t2"  # type: ignore[union-attr]
    judge = voted.session(f"{voted.name}-judge", clock=frozen)
    item = judge.next()
    assert item is not None and item.external_id == "t1" and item.step == "adjudicate"
    assert len(item.shown) == 2  # the adjudicator sees both answers
    judge.submit(spans((0, 3, "person"), (8, 13, "person")))
    assert _status(voted)["t1"] == ("completed", "adjudicate")


def test_agreement_exactly_at_the_threshold_completes(voted: al.Project) -> None:
    ann = voted.session(f"{voted.name}-ann", clock=frozen)
    bea = voted.session(f"{voted.name}-bea", clock=frozen)
    ann.next()
    bea.next()
    ann.submit(spans((0, 3, "person")))
    bea.submit(spans((0, 3, "person"), (8, 13, "person"), (17, 22, "location")))  # F1 = 0.5
    assert _status(voted)["t1"] == ("completed", "annotate")


def test_the_same_annotator_never_takes_a_task_twice(voted: al.Project) -> None:
    ann = voted.session(f"{voted.name}-ann", clock=frozen)
    taken = []
    while (item := ann.next()) is not None:
        taken.append(item.external_id)
        ann.submit(spans((0, 3, "person")))
    assert taken == ["t1", "t2", "t3"]
    with voted.workspace.engine.begin() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(
            sa.text(
                "INSERT INTO assignments (task_id, step, user_id) "
                "SELECT a.task_id, a.step, a.user_id FROM assignments a "
                "JOIN tasks t ON t.id = a.task_id WHERE t.project_id = :p LIMIT 1"
            ),
            {"p": voted.id},
        )


def test_events_arrive_in_order(voted: al.Project) -> None:
    ann = voted.session(f"{voted.name}-ann", clock=frozen)
    bea = voted.session(f"{voted.name}-bea", clock=frozen)
    first = ann.next()
    bea.next()
    ann.submit(spans((0, 3, "person")))
    bea.submit(spans((0, 3, "person")))
    assert first is not None
    with voted.workspace.engine.begin() as conn:
        actions = (
            conn.execute(
                sa.text(
                    "SELECT e.action FROM events e WHERE e.project_id = :p"
                    " AND e.action <> 'step.agreement' AND ("
                    "  e.entity = 'task' AND e.entity_id = :t"
                    "  OR e.entity = 'annotation' AND e.action = 'annotation.submitted'"
                    ") ORDER BY e.id"
                ),
                {"p": voted.id, "t": str(first.task_id)},
            )
            .scalars()
            .all()
        )
    assert actions == [
        "task.assigned",
        "task.assigned",
        "annotation.submitted",
        "annotation.submitted",
        "step.completed",
        "task.completed",
    ]


def test_a_retried_submit_changes_nothing(voted: al.Project) -> None:
    ann = voted.session(f"{voted.name}-ann", clock=frozen)
    ann.next()
    item = ann.current
    ann_id = ann.submit(spans((0, 3, "person")))
    ann.current = item  # the reply was lost: the notebook submits again
    assert ann.submit(spans((0, 3, "person"))) == ann_id
    assert voted.annotations().height == 1


def test_expired_lease_returns_the_task_to_the_pool(voted: al.Project) -> None:
    now = [T0]
    ann = voted.session(f"{voted.name}-ann", clock=lambda: now[0])
    bea = voted.session(f"{voted.name}-bea", clock=lambda: now[0])
    cat = f"{voted.name}-cat"
    voted.workspace.set_skill(cat, "ner", "expert")
    ann.next()
    bea.next()  # t1 is now full (2 of 2)
    other = voted.session(cat, clock=lambda: now[0])
    assert other.next().external_id == "t2"  # type: ignore[union-attr]
    now[0] = T0 + dt.timedelta(minutes=31)
    third = voted.session(cat, clock=lambda: now[0])
    # ann's and bea's leases on t1 ran out: t1 has room again, and comes first.
    nxt = third.next()
    assert nxt is not None and nxt.external_id == "t1"
    with pytest.raises(al.AssignmentError, match="is expired: your lease ended"):
        ann.submit(spans((0, 3, "person")))


def test_disagreement_can_ask_for_one_more_annotator_then_escalate(
    workspace: al.Workspace,
) -> None:
    name = f"more-{uuid.uuid4().hex[:8]}"
    spec = al.workflows.vote(annotators=2, on_disagreement="more_annotators", max_annotators=3)
    proj = workspace.create_project(name, labels=["pos", "neg"], layout="classify", workflow=spec)
    proj.add_tasks(pl.DataFrame({"id": ["t1"], "text": ["meh"]}), id="id")
    answers = {"u1": "pos", "u2": "neg", "u3": "neg"}
    for user, label in list(answers.items())[:2]:
        session = proj.session(f"{name}-{user}", clock=frozen)
        session.next()
        session.submit({"kind": "choice", "label": label})
    assert _status(proj)["t1"] == ("pending", "annotate")  # a third place opened
    third = proj.session(f"{name}-u3", clock=frozen)
    assert third.next() is not None
    third.submit({"kind": "choice", "label": "neg"})
    # exact agreement of (pos, neg, neg) is 1/3: still below 1.0, and no room for a fourth.
    assert _status(proj)["t1"] == ("escalated", "annotate")


def test_an_annotator_whose_lease_ran_out_can_take_the_task_up_again(voted: al.Project) -> None:
    # Two people on a vote: if one's lease runs out and only they can come back, the task must
    # not wait forever for a third person.
    now = [T0]
    ann = voted.session(f"{voted.name}-ann", clock=lambda: now[0])
    first = ann.next()
    assert first is not None and first.external_id == "t1"
    now[0] = T0 + dt.timedelta(minutes=31)
    again = ann.next()  # the sweep frees the place; the claim gives it back to ann
    assert again is not None
    assert (again.external_id, again.assignment_id) == ("t1", first.assignment_id)
    assert again.lease_expires_at == now[0] + dt.timedelta(minutes=30)
    ann.submit(spans((0, 3, "person")))
    assert voted.annotations().height == 1
