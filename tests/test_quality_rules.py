"""Quality rules the workflow honours: alert and restrict a weak annotator; auto-approve."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.quality.rules import Evaluator, Rule, Threshold, combined, evaluate_rules

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)
LOW = {
    "name": "low accuracy",
    "when": {"kind": "threshold", "below": 0.7, "min_samples": 20, "window_hours": 24},
    "actions": ["alert", "restrict_assignment"],
}


def _scores(values: list[float], *, hours_ago: float = 1.0) -> pl.DataFrame:
    at = NOW - dt.timedelta(hours=hours_ago)
    return pl.DataFrame(
        {
            "scope": ["ann"] * len(values),
            "at": [at] * len(values),
            "evaluator": ["gold_accuracy"] * len(values),
            "score": values,
        }
    )


@pytest.mark.parametrize(
    ("values", "hours_ago", "fires"),
    [
        ([0.5] * 20, 1, True),
        ([0.5] * 19, 1, False),  # one sample short
        ([0.7] * 20, 1, False),  # exactly at the line is not under it
        ([0.5] * 20, 30, False),  # outside the last day
    ],
)
def test_threshold_rule(values: list[float], hours_ago: float, fires: bool) -> None:
    rule = Rule.model_validate(LOW)
    assert bool(evaluate_rules([rule], _scores(values, hours_ago=hours_ago), NOW)) is fires


def test_weights_are_renormalized_when_an_evaluator_lacks_data() -> None:
    frame = pl.concat(
        [
            _scores([0.4] * 4),
            _scores([1.0]).with_columns(pl.lit("completeness").alias("evaluator")),
        ]
    )
    evaluators = (
        Evaluator(name="gold_accuracy", weight=3, min_samples=2),
        Evaluator(name="completeness", weight=1, min_samples=2),
    )
    assert combined(frame, evaluators) == (pytest.approx(0.4), 4)  # completeness: 1 < 2
    evaluators = (evaluators[0], Evaluator(name="completeness", weight=1, min_samples=1))
    assert combined(frame, evaluators) == (pytest.approx((3 * 0.4 + 1.0) / 4), 5)
    assert Threshold(below=0.5).kind == "threshold"


def _gold_project(workspace: al.Workspace, tasks: int) -> al.Project:
    name = f"rules-{uuid.uuid4().hex[:8]}"
    proj = workspace.create_project(name, labels=["pos", "neg"], layout="classify")
    proj.add_tasks(
        pl.DataFrame(
            {"id": [f"t{i:02d}" for i in range(tasks)], "text": [f"text {i}" for i in range(tasks)]}
        ),
        id="id",
    )
    for task in proj.tasks()["external_id"]:
        proj.add_annotation(task, {"kind": "choice", "label": "pos"}, user="gold", kind="gold")
    return proj


def _work(proj: al.Project, user: str, answers: list[str]) -> None:
    session = proj.session(user)
    for label in answers:
        session.next()
        session.submit({"kind": "choice", "label": label})


def _actions(proj: al.Project) -> list[str]:
    with proj.workspace.engine.begin() as conn:
        return list(
            conn.execute(
                sa.text(
                    "SELECT action FROM events WHERE project_id = :p AND action IN "
                    "('quality.alert', 'quality.restricted', 'quality.auto_approved') ORDER BY id"
                ),
                {"p": proj.id},
            ).scalars()
        )


def test_a_weak_annotator_is_alerted_and_restricted(workspace: al.Workspace) -> None:
    proj = _gold_project(workspace, 22)
    proj.set_rules([LOW])
    user = f"{proj.name}-weak"
    # 13 wrong, 6 right: 19 samples at 0.32 - not yet enough to judge.
    _work(proj, user, ["neg"] * 13 + ["pos"] * 6)
    assert _actions(proj) == []
    _work(proj, user, ["neg"])  # the 20th sample
    assert _actions(proj) == ["quality.alert", "quality.restricted"]
    with pytest.raises(
        al.AssignmentError,
        match=r"^Restricted by quality rule 'low accuracy': "
        r"score 0\.300 < 0\.700 over 20 samples$",
    ):
        proj.session(user).next()
    proj.lift_restriction(user, reason="retrained")
    assert proj.session(user).next() is not None


def test_exactly_the_threshold_is_not_restricted(workspace: al.Workspace) -> None:
    proj = _gold_project(workspace, 20)
    proj.set_rules([LOW])
    _work(proj, f"{proj.name}-ok", ["pos"] * 14 + ["neg"] * 6)  # 14 / 20 = 0.70
    assert _actions(proj) == []


def test_auto_approve_needs_accuracy_and_completeness(workspace: al.Workspace) -> None:
    name = f"auto-{uuid.uuid4().hex[:8]}"
    required = {
        "name": "ner",
        "questions": [{"name": "entities", "kind": "spans", "field": "text", "required": True}],
    }
    proj = workspace.create_project(name, labels=["person"], layout=required)
    proj.add_tasks(pl.DataFrame({"id": ["a", "b"], "text": ["Ada met Bob", "Eve"]}), id="id")
    gold = {"a": [{"start": 0, "end": 3, "label": "person"}], "b": []}
    for task, spans in gold.items():
        proj.add_annotation(task, {"kind": "spans", "spans": spans}, user="gold", kind="gold")
    proj.set_rules(
        [
            {
                "name": "auto",
                "scope": "task",
                "evaluators": [{"name": "gold_accuracy"}, {"name": "completeness"}],
                "when": {
                    "kind": "all",
                    "conditions": [
                        {"kind": "threshold", "at_least": 1.0},  # the mean of both must be perfect
                    ],
                },
                "actions": ["auto_approve"],
            }
        ]
    )
    session = proj.session(f"{name}-ann")
    session.next()
    session.submit({"kind": "spans", "spans": gold["a"]})  # accurate and complete
    session.next()
    session.submit({"kind": "spans", "spans": []})  # matches gold, but the answer is required
    statuses = proj.annotations().filter(pl.col("kind") == "human")
    assert dict(zip(statuses["external_id"], statuses["status"], strict=True)) == {
        "a": "approved",
        "b": "submitted",
    }
