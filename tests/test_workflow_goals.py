"""Goals and progress: volume, quality, deadline, sign-off, and composites."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl
import pytest

import annolab as al
from annolab.workflow.goals import Deadline, Facts, Quality, evaluate

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)


def facts(**kw: object) -> Facts:
    base: dict[str, object] = {
        "now": NOW,
        "total": 100,
        "completed": 40,
        "rate_per_hour": 10.0,
        "eta": NOW + dt.timedelta(hours=6),
    }
    return Facts(**(base | kw))  # type: ignore[arg-type]


def test_quality_needs_its_minimum_sample_in_the_window() -> None:
    goal = Quality(threshold=0.8, min_sample=3, window_days=1)
    old = NOW - dt.timedelta(days=2)
    scores = [(old, 1.0), (NOW, 0.9), (NOW, 0.7)]
    assert evaluate(goal, facts(agreements=scores)).detail == "2 of the 3 scored steps needed"
    done = evaluate(goal, facts(agreements=[*scores, (NOW, 0.8)]))
    assert (done.met, done.detail) == (True, "mean agreement 0.800 over 3 steps (needs 0.800)")
    low = evaluate(goal, facts(agreements=[*scores, (NOW, 0.5)]))
    assert (low.met, low.state) == (False, "at_risk")


@pytest.mark.parametrize(
    ("at", "eta", "state"),
    [
        (NOW + dt.timedelta(days=5), NOW + dt.timedelta(days=1), "on_track"),
        (NOW + dt.timedelta(days=5), NOW + dt.timedelta(days=6), "at_risk"),  # late at this rate
        (NOW + dt.timedelta(days=1), NOW + dt.timedelta(hours=6), "at_risk"),  # under warn_days
        (NOW - dt.timedelta(days=1), NOW + dt.timedelta(hours=6), "missed"),
    ],
)
def test_deadline_warns_before_it_is_missed(at: dt.datetime, eta: dt.datetime, state: str) -> None:
    assert evaluate(Deadline(at=at, warn_days=2), facts(eta=eta)).state == state


def test_progress_volume_composite_and_sign_off(workspace: al.Workspace) -> None:
    proj = workspace.create_project(
        f"goals-{uuid.uuid4().hex[:8]}", labels=["pos", "neg"], layout="classify"
    )
    proj.add_tasks(pl.DataFrame({"text": ["a", "b", "c", "d"]}))
    proj.set_goals(
        [
            {
                "kind": "all",
                "name": "release",
                "goals": [
                    {"kind": "volume", "name": "half", "target": 2},
                    {
                        "kind": "signoff",
                        "name": "lead ok",
                        "roles": ["team_lead"],
                        "checklist": ["guidelines read", "spot check"],
                    },
                ],
            },
        ]
    )
    session = proj.session("worker")
    for _ in range(2):
        session.next()
        session.submit({"kind": "choice", "label": "pos"})
    progress = proj.progress()
    assert (progress.total, progress.completed, progress.pending) == (4, 2, 2)
    assert progress.rate_per_hour == pytest.approx(2 / 24)
    assert progress.goals_frame().select("goal", "met", "state").rows() == [
        ("release", False, "waiting")
    ]
    with pytest.raises(al.AssignmentError, match="Requires role: team_lead"):
        proj.sign_off("lead ok", checked=["guidelines read", "spot check"])
    workspace.set_roles(workspace.user, ["team_lead"])
    with pytest.raises(al.ValidationError, match=r"leaves out \['spot check'\]"):
        proj.sign_off("lead ok", checked=["guidelines read"])
    proj.sign_off("lead ok", checked=["guidelines read", "spot check"])
    assert proj.progress().goals[0].met is True
    workspace.set_roles(workspace.user, ["annotator"])


def test_bad_goals_are_refused_with_the_field(project: al.Project) -> None:
    with pytest.raises(al.ValidationError, match=r"goals\.0\.volume\.target=0"):
        project.set_goals([{"kind": "volume", "target": 0}])
    assert project.goals == []
