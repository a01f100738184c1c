"""Custom step graphs: transitions on expressions, nested sub-workflows, YAML round trips."""

from __future__ import annotations

import datetime as dt
import uuid

import polars as pl
import pytest

import annolab as al
from annolab.workflow import Workflow

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)

TRIAGE = """
kind: custom
steps:
  - name: triage
    then:
      - {on: complete, when: "'urgent' in labels", to: expert}
      - {on: complete, to: done}
  - name: expert
    who: {roles: [reviewer]}
    workflow:
      steps:
        - name: check
          who: {roles: [reviewer]}
          then: [{to: sign}]
        - name: sign
          who: {roles: [reviewer]}
    then: [{to: done}]
"""


def test_yaml_round_trips_and_nested_steps_are_spliced_in() -> None:
    spec = Workflow.from_yaml(TRIAGE)
    assert Workflow.from_yaml(spec.to_yaml()) == spec
    flat = spec.flat()
    assert [s.name for s in flat.steps] == ["triage", "expert/check", "expert/sign"]
    assert [t.to for t in flat.step("triage").then] == ["expert/check", "done"]
    assert [t.to for t in flat.step("expert/check").then] == ["expert/sign"]
    assert [t.to for t in flat.step("expert/sign").then] == ["done"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("steps: [{name: a, then: [{when: 'os.system(1)'}]}]", "calls something other than"),
        ("steps: [{name: a, then: [{when: 'x > 1'}]}]", "uses 'x'; available: agreement"),
        ("steps: [{name: a, then: [{to: b}]}]", "steps['a'] goes to 'b', which is not a step"),
        ("steps: [{name: a}, {name: a}]", "step names must be unique; repeated: ['a']"),
    ],
)
def test_bad_graphs_are_refused_when_built(text: str, message: str) -> None:
    with pytest.raises(al.WorkflowError, match=message.replace("[", r"\[").replace("(", r"\(")):
        Workflow.from_yaml(text)


def test_sub_workflows_nest_only_so_deep() -> None:
    spec: dict[str, object] = {"steps": [{"name": "leaf"}]}
    for depth in range(5):
        spec = {"steps": [{"name": f"level{depth}", "workflow": spec}]}
    with pytest.raises(al.WorkflowError, match="sub-workflows nest deeper than 4 levels"):
        Workflow.from_dict(spec)


def test_an_expression_routes_urgent_items_through_the_nested_review(
    workspace: al.Workspace,
) -> None:
    name = f"graph-{uuid.uuid4().hex[:8]}"
    proj = workspace.create_project(
        name, labels=["urgent", "routine"], layout="classify", workflow=Workflow.from_yaml(TRIAGE)
    )
    proj.add_tasks(pl.DataFrame({"id": ["a", "b"], "text": ["fire!", "lunch"]}), id="id")
    triager = proj.session(f"{name}-t", clock=lambda: T0)
    for label in ("urgent", "routine"):
        triager.next()
        triager.submit({"kind": "choice", "label": label})
    status = dict(zip(proj.tasks()["external_id"], proj.tasks()["status"], strict=True))
    assert status == {"a": "pending", "b": "completed"}
    workspace.set_roles(f"{name}-x", ["reviewer"])
    expert = proj.session(f"{name}-x", clock=lambda: T0)
    steps = []
    while (item := expert.next()) is not None:
        steps.append(item.step)
        expert.submit({"kind": "choice", "label": "urgent"})
    assert steps == ["expert/check", "expert/sign"]
    assert proj.tasks()["status"].to_list() == ["completed", "completed"]
