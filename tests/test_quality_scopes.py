"""Quality rules on a team's and on the whole project's scores, on submit and on demand."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import polars as pl
import pydantic
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.quality.rules import Rule

pytestmark = pytest.mark.db

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)
WEAK_TEAM = {
    "name": "weak team",
    "scope": "team",
    "when": {"kind": "threshold", "below": 0.7, "min_samples": 20, "window_hours": 24},
    "actions": ["alert", "restrict_assignment"],
}
QUALITY_EVENTS = (
    "quality.alert",
    "quality.review_required",
    "quality.restricted",
    "quality.cleared",
    "quality.sent_to_review",
)


def _gold_project(ws: al.Workspace, tasks: int, **options: Any) -> al.Project:
    """A classification project whose gold answer is "pos" on every task."""
    proj = ws.create_project(
        f"scopes-{uuid.uuid4().hex[:8]}", labels=["pos", "neg"], layout="classify", **options
    )
    ids = [f"t{i:02d}" for i in range(tasks)]
    proj.add_tasks(pl.DataFrame({"id": ids, "text": [f"text {i}" for i in ids]}), id="id")
    for task in ids:
        proj.add_annotation(task, {"kind": "choice", "label": "pos"}, user="gold", kind="gold")
    return proj


def _work(proj: al.Project, user: str, answers: list[str], *, at: dt.datetime = NOW) -> None:
    session = proj.session(user, clock=lambda: at)
    for label in answers:
        assert session.next() is not None
        session.submit({"kind": "choice", "label": label})


def _events(proj: al.Project) -> list[tuple[str, str | None, str | None, str | None]]:
    """(action, scope kind, scope, user) of the project's quality events, oldest first."""
    with proj.workspace.engine.begin() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT action, after->>'scope_kind', after->>'scope', after->>'user' FROM events "
                "WHERE project_id = :p AND action = ANY(:a) ORDER BY id"
            ),
            {"p": proj.id, "a": list(QUALITY_EVENTS)},
        ).all()
    return [tuple(r) for r in rows]


def _where(proj: al.Project) -> list[tuple[str, str, str]]:
    """(external id, status, step) of every task, by external id."""
    with proj.workspace.engine.begin() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT external_id, status::text, step FROM tasks WHERE project_id = :p "
                "ORDER BY external_id"
            ),
            {"p": proj.id},
        ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def _team(ws: al.Workspace, proj: al.Project, name: str, members: list[str]) -> tuple[str, ...]:
    """Team ``name`` (made unique to the project) of users ``members`` (likewise)."""
    team = f"{proj.name}-{name}"
    users = tuple(f"{proj.name}-{m}" for m in members)
    for user in users:
        ws.add_to_team(user, team)
    return (team, *users)


def test_a_weak_team_is_alerted_and_all_its_members_restricted(workspace: al.Workspace) -> None:
    proj = _gold_project(workspace, 24)
    proj.set_rules([WEAK_TEAM])
    team, ana, ben, cal = _team(workspace, proj, "blue", ["ana", "ben", "cal"])
    _, dee = _team(workspace, proj, "green", ["dee"])
    _work(proj, dee, ["pos"] * 2)  # another team, all right: never touched
    _work(proj, ana, ["neg"] * 7 + ["pos"] * 3)
    _work(proj, ben, ["neg"] * 7 + ["pos"] * 2)
    assert _events(proj) == []  # 19 samples at 0.263: one short of judging the team
    _work(proj, ben, ["pos"])  # the 20th: 6 of 20 right
    # cal never worked in the project, but is a member: the team is restricted as a whole.
    assert _events(proj) == [
        ("quality.alert", "team", team, ben),
        ("quality.restricted", "team", team, ana),
        ("quality.restricted", "team", team, ben),
        ("quality.restricted", "team", team, cal),
    ]
    reason = (
        rf"^Restricted by quality rule 'weak team': team '{team}' "
        r"score 0\.300 < 0\.700 over 20 samples$"
    )
    for member in (ana, ben, cal):
        with pytest.raises(al.AssignmentError, match=reason):
            proj.session(member, clock=lambda: NOW).next()
    assert proj.session(dee, clock=lambda: NOW).next() is not None


def test_a_team_exactly_at_the_threshold_is_left_alone(workspace: al.Workspace) -> None:
    proj = _gold_project(workspace, 20)
    proj.set_rules([WEAK_TEAM])
    _, ana, ben = _team(workspace, proj, "blue", ["ana", "ben"])
    _work(proj, ana, ["pos"] * 7 + ["neg"] * 3)
    _work(proj, ben, ["pos"] * 7 + ["neg"] * 3)  # 14 / 20 = 0.70: on the line, not under it
    assert _events(proj) == []
    frame = proj.evaluate_rules(now=NOW)
    assert frame.height == 0
    assert frame.columns == ["rule", "scope_kind", "scope", "score", "n", "reason", "actions"]


def test_the_team_score_counts_only_the_window(workspace: al.Workspace) -> None:
    proj = _gold_project(workspace, 20)
    proj.set_rules([WEAK_TEAM])
    _, ana = _team(workspace, proj, "blue", ["ana"])
    _work(proj, ana, ["neg"] * 19, at=NOW - dt.timedelta(hours=30))  # the day before yesterday
    _work(proj, ana, ["neg"])  # 20 wrong, but only 1 in the last 24 hours
    assert _events(proj) == []


def test_a_project_alert_is_recorded_once_while_it_holds(workspace: al.Workspace) -> None:
    proj = _gold_project(workspace, 9)
    proj.set_rules(
        [
            {
                "name": "project slipping",
                "scope": "project",
                "when": {"kind": "threshold", "below": 0.5, "min_samples": 4, "window_hours": 24},
                "actions": ["alert"],
            }
        ]
    )
    _work(proj, f"{proj.name}-ana", ["neg", "pos"])
    _work(proj, f"{proj.name}-ben", ["neg"])
    assert _events(proj) == []  # 3 samples
    _work(proj, f"{proj.name}-ben", ["neg", "neg"])  # 4 samples at 0.25, then 5 at 0.2
    assert _events(proj) == [("quality.alert", "project", proj.name, f"{proj.name}-ben")]
    frame = proj.evaluate_rules(now=NOW)
    assert frame.to_dicts() == [
        {
            "rule": "project slipping",
            "scope_kind": "project",
            "scope": proj.name,
            "score": pytest.approx(0.2),
            "n": 5,
            "reason": "score 0.200 < 0.500 over 5 samples",
            "actions": ["alert"],
        }
    ]
    assert len(_events(proj)) == 1  # still in force: not recorded again
    # Two days on, the window is empty: the alert is cleared, and the next dip alerts again.
    later = NOW + dt.timedelta(days=2)
    assert proj.evaluate_rules(now=later).height == 0
    _work(proj, f"{proj.name}-ana", ["neg"] * 4, at=later)
    assert [e[0] for e in _events(proj)] == ["quality.alert", "quality.cleared", "quality.alert"]


def test_evaluate_rules_on_demand_is_idempotent(workspace: al.Workspace) -> None:
    proj = _gold_project(workspace, 24)
    team, ana, ben = _team(workspace, proj, "blue", ["ana", "ben"])
    _work(proj, ana, ["neg"] * 10)
    _work(proj, ben, ["neg"] * 6 + ["pos"] * 4)
    assert _events(proj) == []  # no rules yet: nothing fired on submit
    proj.set_rules(
        [
            WEAK_TEAM,
            {
                "name": "project slipping",
                "scope": "project",
                "when": {"kind": "threshold", "below": 0.5, "min_samples": 20},
                "actions": ["alert"],
            },
        ]
    )
    first = proj.evaluate_rules(now=NOW)
    assert first.select("rule", "scope_kind", "scope", "score", "n").rows() == [
        ("weak team", "team", team, pytest.approx(0.2), 20),
        ("project slipping", "project", proj.name, pytest.approx(0.2), 20),
    ]
    assert first["actions"].to_list() == [["alert", "restrict_assignment"], ["alert"]]
    recorded = _events(proj)
    assert recorded == [
        ("quality.alert", "team", team, None),
        ("quality.restricted", "team", team, ana),
        ("quality.restricted", "team", team, ben),
        ("quality.alert", "project", proj.name, None),
    ]
    second = proj.evaluate_rules(now=NOW)
    assert second.equals(first)
    assert _events(proj) == recorded  # nothing new: every alert and restriction still in force
    # A lifted restriction is no longer in force: the team still fails, so ana is restricted again.
    proj.lift_restriction(ana, reason="retrained")
    proj.evaluate_rules(now=NOW)
    assert _events(proj)[len(recorded) :] == [("quality.restricted", "team", team, ana)]


def test_require_review_on_a_team_sends_its_work_to_review_while_it_holds(
    workspace: al.Workspace,
) -> None:
    # A review step that samples almost nothing: only a quality rule sends work there.
    proj = _gold_project(workspace, 6, workflow=al.workflows.review(fraction=1e-9))
    proj.set_rules(
        [
            {
                "name": "check the team",
                "scope": "team",
                "when": {"kind": "threshold", "below": 0.7, "min_samples": 2, "window_hours": 24},
                "actions": ["require_review"],
            }
        ]
    )
    team, ana = _team(workspace, proj, "blue", ["ana"])
    outsider = f"{proj.name}-eve"
    _work(proj, ana, ["neg"])  # t00: one sample, the rule can not hold yet
    _work(proj, ana, ["neg"])  # t01: two samples at 0.0: to review
    _work(proj, outsider, ["neg"])  # t02: not in the team
    _work(proj, ana, ["pos"], at=NOW + dt.timedelta(days=2))  # t03: window empty, no longer holds
    assert _where(proj)[:4] == [
        ("t00", "completed", "annotate"),
        ("t01", "pending", "review"),
        ("t02", "completed", "annotate"),
        ("t03", "completed", "annotate"),
    ]
    assert _events(proj) == [
        ("quality.review_required", "team", team, ana),
        ("quality.sent_to_review", "team", team, ana),
        ("quality.cleared", "team", team, None),
    ]


def test_require_review_on_the_project_sends_everyones_work_to_review(
    workspace: al.Workspace,
) -> None:
    proj = _gold_project(workspace, 4, workflow=al.workflows.review(fraction=1e-9))
    proj.set_rules(
        [
            {
                "name": "check everyone",
                "scope": "project",
                "when": {"kind": "threshold", "below": 0.7, "min_samples": 2, "window_hours": 24},
                "actions": ["require_review"],
            }
        ]
    )
    ana, eve = f"{proj.name}-ana", f"{proj.name}-eve"
    _work(proj, ana, ["neg"])  # t00: one sample
    _work(proj, eve, ["neg"])  # t01: the project's two samples at 0.0, whoever made them
    _work(proj, ana, ["pos"], at=NOW + dt.timedelta(days=2))  # t02: holds no longer
    assert _where(proj)[:3] == [
        ("t00", "completed", "annotate"),
        ("t01", "pending", "review"),
        ("t02", "completed", "annotate"),
    ]
    assert _events(proj) == [
        ("quality.review_required", "project", proj.name, eve),
        ("quality.sent_to_review", "project", proj.name, eve),
        ("quality.cleared", "project", proj.name, None),
    ]


def test_a_scope_refuses_actions_it_can_not_carry_out(workspace: al.Workspace) -> None:
    proj = _gold_project(workspace, 1)
    everyone = {
        "name": "everyone",
        "scope": "project",
        "when": {"kind": "threshold", "below": 0.7},
        "actions": ["alert", "restrict_assignment"],
    }
    with pytest.raises(al.ValidationError) as refused:
        proj.set_rules([everyone])
    assert str(refused.value) == (
        "rules.0.actions=['alert', 'restrict_assignment'] rule 'everyone': "
        "'restrict_assignment' is not allowed with scope='project' (it would stop every "
        "annotator in the project; alert, require review, or pause the project); "
        "allowed: alert, require_review"
    )
    assert proj.rules == []
    with pytest.raises(
        pydantic.ValidationError, match="'auto_approve' is not allowed with scope='team'"
    ):
        Rule.model_validate(WEAK_TEAM | {"actions": ["auto_approve"]})
    peers = everyone | {"actions": ["alert"], "when": {"kind": "comparison", "margin": 0.1}}
    with pytest.raises(al.ValidationError, match=r"^rules\.0\.when=.*needs peers"):
        proj.set_rules([peers])


def test_require_review_needs_a_review_step(workspace: al.Workspace) -> None:
    proj = _gold_project(workspace, 1)  # single: no review step
    with pytest.raises(al.ValidationError) as refused:
        proj.set_rules([WEAK_TEAM | {"actions": ["require_review"]}])
    assert str(refused.value) == (
        "rules.0.actions=['require_review'] (rule 'weak team'): require_review needs a "
        "workflow with a review step, e.g. al.workflows.review(fraction=0.1), and this "
        "project's has none"
    )
