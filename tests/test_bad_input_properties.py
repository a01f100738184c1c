"""Properties of the public doors under arbitrary input: an annolab error or success, nothing
else, and success means the value was stored exactly as given."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from typing import TypeVar

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import annolab as al
from annolab.workflow.spec import Workflow

T = TypeVar("T")

# Any text Python can hold: NUL, lone surrogates, emoji, long runs.
_CHARS = st.one_of(st.characters(exclude_categories=()), st.sampled_from(["\x00", "\ud800"]))
TEXT = st.text(_CHARS, max_size=40) | st.text(_CHARS, min_size=490, max_size=520)
NUMBERS = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)
DB = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def outcome(call: Callable[[], T]) -> T | al.AnnolabError:
    """The call's result or the AnnolabError it raised; any other exception fails the test."""
    try:
        return call()
    except al.AnnolabError as exc:
        error = exc
    assert str(error), "an error must say what was wrong"
    return error


@pytest.fixture
def one_task(project: al.Project) -> al.Project:
    project.add_tasks(pl.DataFrame({"id": ["t1"], "text": ["Ada met Bob"]}), id="id")
    return project


@DB
@given(name=TEXT, guidelines=TEXT)
def test_create_project_refuses_or_stores_exactly(
    workspace: al.Workspace, name: str, guidelines: str
) -> None:
    unique = f"{uuid.uuid4().hex[:6]}{name}"
    made = outcome(lambda: workspace.create_project(unique, labels=["x"], guidelines=guidelines))
    if isinstance(made, al.Project):
        assert workspace.project(unique).name == unique
        assert made._row.guidelines == guidelines


@DB
@given(user=TEXT, task=TEXT)
def test_user_and_task_names_refuse_or_work(one_task: al.Project, user: str, task: str) -> None:
    outcome(lambda: one_task.session(user))
    result = outcome(lambda: one_task.add_annotation(task, {"kind": "spans", "spans": []}))
    assert isinstance(result, al.AnnolabError)  # the only task is "t1"
    stored = outcome(
        lambda: one_task.add_annotation("t1", {"kind": "spans", "spans": []}, user=user)
    )
    if isinstance(stored, uuid.UUID):
        users = one_task.annotations().filter(pl.col("annotation_id") == str(stored))["user"]
        assert users.to_list() == [user]


@DB
@given(reason=TEXT, priority=NUMBERS)
def test_admin_calls_refuse_or_store_exactly(
    one_task: al.Project, reason: str, priority: object
) -> None:
    before = one_task.tasks()["priority"].to_list()
    changed = outcome(lambda: one_task.set_priority("t1", priority))  # type: ignore[arg-type]
    after = one_task.tasks()["priority"].to_list()
    assert after == ([priority] if changed is None else before)
    outcome(lambda: one_task.reset("t1", reason=reason))


@DB
@given(spent=NUMBERS)
def test_time_spent_refuses_or_is_stored_exactly(one_task: al.Project, spent: object) -> None:
    stored = outcome(
        lambda: one_task.add_annotation(
            "t1",
            {"kind": "spans", "spans": []},
            time_spent=spent,  # type: ignore[arg-type]
            id=uuid.uuid4(),
        )
    )
    if isinstance(stored, uuid.UUID):
        row = one_task.annotations().filter(pl.col("annotation_id") == str(stored))
        value = row["time_spent"][0]
        assert value is None if spent is None else value == float(spent)  # type: ignore[arg-type]


@DB
@given(text=TEXT, note=TEXT)
def test_add_tasks_refuses_or_keeps_every_value(project: al.Project, text: str, note: str) -> None:
    added = outcome(lambda: project.add_tasks({"text": [text], "note": [note]}))
    if isinstance(added, al.AnnolabError):
        return
    if added.new:
        task = project.tasks().filter(pl.col("text") == text)
        assert json.loads(task["data"][0]) == {"text": text, "note": note}


@given(name=TEXT, lease=NUMBERS, seed=NUMBERS)
def test_workflow_specs_refuse_with_a_workflow_error(
    name: str, lease: object, seed: object
) -> None:
    spec = {"steps": [{"name": name}], "lease_minutes": lease, "seed": seed}
    built = outcome(lambda: Workflow.from_dict(spec))
    if isinstance(built, Workflow):
        assert built.steps[0].name == name
        assert isinstance(lease, (int, float)) and math.isfinite(lease)
        assert 0 < lease <= 525_600
