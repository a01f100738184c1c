"""Bad input at every public door: an annolab error naming the field, the value and the rule,
never a driver's error or a silently changed value, and nothing already saved is lost."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from pathlib import Path

import polars as pl
import psycopg
import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

import annolab as al
from annolab.cli import app
from annolab.errors import describe
from annolab.io.frames import prepare_tasks
from annolab.io.imports import ImportReport, store_rows
from annolab.schema.enums import AnnotationKind, AnnotationStatus
from annolab.store.annotations import NewAnnotation
from annolab.workflow.spec import Workflow

NUL = "bad\x00name"
SURROGATE = "bad\ud800name"
SPANS = {"kind": "spans", "spans": []}


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def refused(call: Callable[[], object], field: str, value: object, rule: str) -> al.AnnolabError:
    """Run ``call``; it must raise an AnnolabError whose message is ``field=repr(value) rule...``"""
    with pytest.raises(al.AnnolabError) as info:
        call()
    message = str(info.value)
    assert message.startswith(describe(field, value, "")), message
    assert rule in message, message
    return info.value


@pytest.fixture
def tasks(project: al.Project) -> al.Project:
    frame = pl.DataFrame({"id": ["t1", "t2"], "text": ["Ada met Bob", "Rain in Paris"]})
    project.add_tasks(frame, id="id")
    return project


def snapshot(project: al.Project) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    """Everything a refused call must leave as it was: the tasks and the annotations."""
    return (
        project.tasks().drop("data").rows(),
        project.annotations().rows(),
    )


# -- texts Postgres can not hold ---------------------------------------------------------------


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_project_name_and_guidelines_are_checked_before_saving(
    workspace: al.Workspace, bad: str
) -> None:
    before = workspace.projects().height
    refused(lambda: workspace.create_project(bad, labels=["x"]), "name", bad, "Postgres cannot")
    refused(
        lambda: workspace.create_project(unique("g"), labels=["x"], guidelines=bad),
        "guidelines",
        bad,
        "Postgres cannot",
    )
    refused(lambda: workspace.project(bad), "name", bad, "Postgres cannot")
    assert workspace.projects().height == before


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_label_names_are_checked(workspace: al.Workspace, bad: str) -> None:
    refused(
        lambda: workspace.create_project(unique("l"), labels=["ok", bad]),
        "labels[1].name",
        bad,
        "Postgres cannot",
    )


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_user_names_are_checked_at_every_door(
    workspace: al.Workspace, tasks: al.Project, bad: str
) -> None:
    before = snapshot(tasks)
    refused(lambda: tasks.session(bad), "user", bad, "Postgres cannot")
    refused(lambda: tasks.add_annotation("t1", SPANS, user=bad), "user", bad, "Postgres cannot")
    refused(lambda: tasks.evict("t1", bad), "user", bad, "Postgres cannot")
    refused(lambda: tasks.lift_restriction(bad, reason="ok"), "user", bad, "Postgres cannot")
    refused(lambda: workspace.set_roles(bad, ["annotator"]), "user", bad, "Postgres cannot")
    refused(lambda: workspace.add_to_team("ann", bad), "team", bad, "Postgres cannot")
    refused(lambda: workspace.set_skill("ann", bad, "expert"), "skill", bad, "Postgres cannot")
    assert snapshot(tasks) == before


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_admin_reasons_are_checked_and_the_task_is_untouched(tasks: al.Project, bad: str) -> None:
    before = snapshot(tasks)
    refused(lambda: tasks.reset("t1", reason=bad), "reason", bad, "Postgres cannot")
    refused(lambda: tasks.force_complete("t1", reason=bad), "reason", bad, "Postgres cannot")
    refused(lambda: tasks.evict("t1", "ann", reason=bad), "reason", bad, "Postgres cannot")
    refused(lambda: tasks.lift_restriction("ann", reason=bad), "reason", bad, "Postgres cannot")
    assert snapshot(tasks) == before
    assert tasks.tasks()["status"].to_list() == ["pending", "pending"]


@pytest.mark.parametrize("bad", [NUL, SURROGATE])
def test_task_ids_are_checked(tasks: al.Project, bad: str) -> None:
    refused(lambda: tasks.add_annotation(bad, SPANS), "task", bad, "Postgres cannot")
    refused(lambda: tasks.reset(bad, reason="why"), "task", bad, "Postgres cannot")
    refused(lambda: tasks.set_priority(bad, 3), "task", bad, "Postgres cannot")


def test_a_review_comment_and_decision_are_checked(tasks: al.Project) -> None:
    session = tasks.session("reviewer-x")
    assert session.next() is not None
    refused(lambda: session.review("approve", NUL), "comment", NUL, "Postgres cannot")
    refused(lambda: session.review("maybe"), "decision", "maybe", "is not one of 'approve'")
    assert session.current is not None  # still open: nothing was recorded


# -- frames of tasks ---------------------------------------------------------------------------


def test_column_names_and_values_with_nul_are_refused_by_row(tasks: al.Project) -> None:
    before = snapshot(tasks)
    with pytest.raises(al.DataError, match=r"column name='so\\x00urce' contains a NUL"):
        tasks.add_tasks(pl.DataFrame({"text": ["a"], "so\x00urce": ["x"]}))
    with pytest.raises(al.DataError, match=r"source: value holds a NUL .* in row 1;"):
        tasks.add_tasks(pl.DataFrame({"text": ["a", "b"], "source": ["ok", "x\x00"]}))
    nested = pl.DataFrame({"text": ["a", "b", "c"], "tags": [["ok"], ["\\u0000"], ["x\x00y"]]})
    with pytest.raises(al.DataError, match=r"a value holds a NUL character .* in row 2;"):
        tasks.add_tasks(nested)  # row 1 holds the six characters \u0000: that is fine
    assert snapshot(tasks) == before


def test_something_that_is_not_a_table_is_refused(project: al.Project) -> None:
    with pytest.raises(al.DataError, match="frame=None is not a table"):
        project.add_tasks(None)
    with pytest.raises(al.DataError, match="frame='hello' is not a table"):
        project.add_tasks("hello")


def test_nan_in_a_data_column_is_refused_not_stored_as_null(project: al.Project) -> None:
    frame = pl.DataFrame({"text": ["a", "b"], "confidence": [0.5, math.nan]})
    with pytest.raises(al.DataError, match="confidence: value is NaN or infinite in row 1"):
        project.add_tasks(frame)
    assert project.tasks().height == 0


def test_nan_nested_in_a_list_column_is_refused_by_row(project: al.Project) -> None:
    frame = pl.DataFrame({"text": ["a", "b"], "scores": [[0.5], [1.0, math.inf]]})
    with pytest.raises(al.DataError, match="scores: value is NaN or infinite in row 1"):
        project.add_tasks(frame)
    assert project.tasks().height == 0


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        ([1, 2**40], "[1099511627776] in row 1"),
        ([1.0, 2.5], "[2.5] in row 1"),
        ([-(2**31) - 1, 0], "[-2147483649] in row 0"),
    ],
)
def test_priorities_out_of_range_are_refused_never_truncated(
    project: al.Project, values: list[object], shown: str
) -> None:
    frame = pl.DataFrame({"text": ["a", "b"], "urgency": values})
    with pytest.raises(al.DataError) as info:
        project.add_tasks(frame, priority="urgency")
    assert "whole numbers from -2147483648 to 2147483647" in str(info.value)
    assert shown in str(info.value)
    assert project.tasks().height == 0


def test_text_priorities_are_refused_and_extremes_are_stored_exactly(project: al.Project) -> None:
    with pytest.raises(al.DataError, match="priority='urgency' holds String"):
        project.add_tasks(pl.DataFrame({"text": ["a"], "urgency": ["high"]}), priority="urgency")
    frame = pl.DataFrame(
        {
            "id": ["lo", "hi", "none"],
            "text": ["a", "b", "c"],
            "urgency": [-(2**31), 2**31 - 1, None],
        }
    )
    project.add_tasks(frame, id="id", priority="urgency")
    assert project.tasks()["priority"].to_list() == [-(2**31), 2**31 - 1, 0]


def test_set_priority_is_range_checked_and_keeps_the_old_value(tasks: al.Project) -> None:
    tasks.set_priority("t1", 7)
    rule = "must be a whole number from -2147483648 to 2147483647"
    refused(lambda: tasks.set_priority("t1", 2**40), "priority", 2**40, rule)
    refused(lambda: tasks.set_priority("t1", -(2**31) - 1), "priority", -(2**31) - 1, rule)
    refused(lambda: tasks.set_priority("t1", 2**70), "priority", 2**70, rule)
    refused(lambda: tasks.set_priority("t1", 1.5), "priority", 1.5, "not float")  # type: ignore[arg-type]
    refused(lambda: tasks.set_priority("t1", True), "priority", True, "not true/false")
    assert tasks.tasks()["priority"].to_list() == [7, 0]


def test_ids_longer_than_an_index_entry_are_refused(project: al.Project) -> None:
    frame = pl.DataFrame({"id": ["ok", "x" * 501], "text": ["a", "b"]})
    with pytest.raises(al.DataError, match=r"id is longer than 500 characters .* in row 1"):
        project.add_tasks(frame, id="id")


def test_negative_max_text_chars_is_refused(workspace: al.Workspace) -> None:
    refused(
        lambda: workspace.create_project(
            unique("m"), labels=["x"], settings={"max_text_chars": -5}
        ),
        "settings['max_text_chars']",
        -5,
        "must be a whole number from 1 to 1000000000",
    )
    with pytest.raises(al.DataError, match="max_text_chars=-1 must be a whole number from 1"):
        prepare_tasks(pl.DataFrame({"text": ["a"]}), text="text", max_text_chars=-1)


def test_settings_that_json_can_not_hold_are_refused(workspace: al.Workspace) -> None:
    refused(
        lambda: workspace.create_project(unique("s"), labels=["x"], settings={"w": math.inf}),
        "settings['w']",
        math.inf,
        "JSON holds no NaN or infinity",
    )


# -- numbers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [math.nan, math.inf, -1.0, 10**400])
def test_time_spent_must_be_finite_and_the_task_stays_open(tasks: al.Project, bad: float) -> None:
    session = tasks.session(unique("ann"))
    item = session.next()
    assert item is not None
    refused(lambda: session.submit(SPANS, time_spent=bad), "time_spent", bad, "finite number")
    refused(lambda: tasks.add_annotation("t1", SPANS, time_spent=bad), "time_spent", bad, "finite")
    assert session.current == item
    assert tasks.annotations().height == 0
    session.submit(SPANS, time_spent=2.5)
    assert tasks.annotations()["time_spent"].to_list() == [2.5]


@pytest.mark.parametrize("bad", [1e308, 0, -5, math.nan, math.inf])
def test_lease_minutes_out_of_range_is_a_workflow_error(
    workspace: al.Workspace, bad: float
) -> None:
    with pytest.raises(al.WorkflowError) as info:
        al.workflows.single(lease_minutes=bad)
    assert str(info.value).startswith(f"lease_minutes={bad!r} must be")
    with pytest.raises(al.WorkflowError, match=r"^lease_minutes="):
        workspace.create_project(
            unique("lease"),
            labels=["x"],
            workflow={"steps": [{"name": "a"}], "lease_minutes": bad},
        )
    assert al.workflows.single(lease_minutes=525_600).lease_minutes == 525_600


def test_workflow_options_name_the_path_and_the_value() -> None:
    with pytest.raises(al.WorkflowError, match=r"^steps\.0\.name='a\\x00' contains a NUL"):
        Workflow.from_dict({"steps": [{"name": "a\x00"}]})
    with pytest.raises(al.WorkflowError, match=r"^annotators=0 must be greater than or equal"):
        al.workflows.vote(annotators=0)
    with pytest.raises(al.WorkflowError, match=r"^bogus=1 is not an option of a workflow"):
        al.workflows.single(bogus=1)
    with pytest.raises(al.WorkflowError, match="the workflow is not valid YAML"):
        Workflow.from_yaml("steps: [")
    with pytest.raises(al.WorkflowError, match=r"^workflow='vote' must be a valid dictionary"):
        Workflow.from_dict("vote")


def test_other_numbers_are_range_checked(tasks: al.Project) -> None:
    refused(lambda: tasks.watch(timeout=math.nan), "timeout", math.nan, "finite number")
    refused(lambda: tasks.watch(stop_after=0), "stop_after", 0, "whole number from 1")
    refused(lambda: tasks.similar("x", k=-1), "k", -1, "whole number from 1 to 100000")
    refused(lambda: tasks.near_duplicates(threshold=2), "threshold", 2, "from -1 to 1")
    refused(lambda: tasks.set_status("finished"), "status", "finished", "is not one of 'draft'")


# -- payloads of the wrong kind ----------------------------------------------------------------


def test_a_choice_on_an_ner_project_is_refused_naming_spans(tasks: al.Project) -> None:
    choice = {"kind": "choice", "label": "person"}
    rule = "is not what layout 'ner' asks for; it asks for 'spans'"
    refused(lambda: tasks.add_annotation("t1", choice), "kind", "choice", rule)
    session = tasks.session(unique("ann"))
    assert session.next() is not None
    refused(lambda: session.submit(choice), "kind", "choice", rule)
    refused(lambda: session.save_draft(choice), "kind", "choice", rule)
    assert tasks.annotations().height == 0


def test_spans_on_a_classify_project_are_refused_naming_choice(workspace: al.Workspace) -> None:
    proj = workspace.create_project(unique("cls"), labels=["pos", "neg"], layout="classify")
    proj.add_tasks(pl.DataFrame({"id": ["a"], "text": ["great"]}), id="id")
    rule = "is not what layout 'classify' asks for; it asks for 'choice'"
    refused(lambda: proj.add_annotation("a", SPANS), "kind", "spans", rule)
    proj.add_annotation("a", {"kind": "choice", "label": "pos"})
    assert json.loads(proj.annotations()["payload"][0]) == {"kind": "choice", "label": "pos"}


# -- imports: good lines saved, bad lines reported -----------------------------------------------


def _line(task: str, user: str, **extra: object) -> str:
    return json.dumps({"task": task, "user": user, "payload": SPANS, **extra})


def test_import_saves_good_lines_and_reports_each_bad_one(
    tasks: al.Project, tmp_path: Path
) -> None:
    dup = str(uuid.uuid4())
    lines = [
        _line("t1", "ok-1"),
        _line("t1", "nul\x00user"),
        _line("t1", "ok-2").replace("}}", '}, "time_spent": NaN}'),
        json.dumps({"task": "t1", "user": "ok-3", "payload": {"kind": "choice", "label": "x"}}),
        _line("t\x00", "ok-4"),
        _line("t1", "ok-5", id=dup),
        _line("t2", "ok-6", id=dup),
        _line("t2", "ok-7", time_spent=3),
    ]
    path = tmp_path / "in.jsonl"
    path.write_text("\n".join(lines) + "\n")
    report = tasks.import_annotations(path)
    reasons = dict(report.errors)
    assert sorted(reasons) == [2, 3, 4, 5, 7]
    assert reasons[2].startswith("user='nul\\x00user' contains a NUL")
    assert reasons[3].startswith("time_spent=nan must be a finite number")
    assert reasons[4].startswith("kind='choice' is not what layout 'ner' asks for")
    assert reasons[5].startswith("task='t\\x00' contains a NUL")
    assert reasons[7].startswith(f"id={dup!r} is already the id of line 6")
    assert report.stored == 3
    stored = tasks.annotations().sort("user")
    assert stored["user"].to_list() == ["ok-1", "ok-5", "ok-7"]
    assert stored["time_spent"].to_list() == [None, None, 3.0]


def test_cli_import_prints_each_bad_line_and_exits_non_zero(
    tasks: al.Project, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "in.jsonl"
    path.write_text(_line("t1", "good") + "\n" + _line("t2", "x", time_spent=-1) + "\n")
    result = CliRunner().invoke(app, ["import", tasks.name, str(path), "--url", db_url])
    assert result.exit_code == 1
    assert "stored 1, unchanged 0, refused 1" in result.output
    assert "line 2: time_spent=-1 must be a finite number of at least 0" in result.output
    assert tasks.annotations()["user"].to_list() == ["good"]


def test_cli_task_import_of_a_malformed_file_is_an_error_not_a_traceback(
    tasks: al.Project, db_url: str, tmp_path: Path
) -> None:
    path = tmp_path / "tasks.csv"
    path.write_bytes(b"text\n\xff\xfe\n")
    args = ["import", tasks.name, str(path), "--tasks", "--url", db_url]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert f"path={str(path)!r} could not be read as csv" in result.output
    assert tasks.tasks().height == 2


def test_a_line_the_database_refuses_is_reported_and_the_rest_kept(
    workspace: al.Workspace, tasks: al.Project
) -> None:
    """The safety net under the checks: a row that still fails in Postgres (here, a user id
    that does not exist) is stored in its own savepoint, apart from the others."""
    report = ImportReport()
    task_id = int(tasks.tasks()["task_id"][0])
    rows = [
        NewAnnotation(
            id=uuid.uuid4(),
            task_id=task_id,
            user_id=user_id,
            kind=AnnotationKind.HUMAN,
            status=AnnotationStatus.SUBMITTED,
            payload=SPANS,
        )
        for user_id in (workspace.user_id, 10**12, workspace.user_id)
    ]
    with workspace.engine.begin() as conn:
        changed, kept = store_rows(
            conn,
            rows,
            [1, 2, 3],
            lambda line, reason: report.errors.append((line, reason)),
            actor="t",
            project_id=tasks.id,
        )
    assert (changed, kept) == (2, 2)
    assert [line for line, _ in report.errors] == [2]
    assert "the database refused it" in report.errors[0][1]
    assert tasks.annotations().height == 2


# -- the guard for whatever validation missed ------------------------------------------------------


def test_a_value_postgres_refuses_becomes_a_store_error_with_its_cause(
    workspace: al.Workspace,
) -> None:
    refusal = pytest.raises(al.StoreError, match="Postgres refused a value")
    with refusal as info, workspace.engine.begin() as conn:
        conn.execute(sa.text("SELECT CAST(:x AS integer)"), {"x": 2**40})
    assert isinstance(info.value.__cause__, psycopg.errors.NumericValueOutOfRange)
    with (
        pytest.raises(al.StoreError, match="Postgres refused a value"),
        workspace.engine.begin() as conn,
    ):
        conn.execute(sa.text("SELECT CAST(:x AS text)"), {"x": "a\x00b"})


def test_integrity_errors_pass_the_guard_unchanged(workspace: al.Workspace) -> None:
    """Callers catch these on purpose (a duplicate assignment, a name already taken)."""
    name = unique("dup")
    with workspace.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO teams (name) VALUES (:n)"), {"n": name})
    with pytest.raises(sa.exc.IntegrityError), workspace.engine.begin() as conn:
        conn.execute(sa.text("INSERT INTO teams (name) VALUES (:n)"), {"n": name})
