"""Writing annotations: validated at the door, idempotent on the client id, evented."""

from __future__ import annotations

import json
import uuid

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al

TEXT = "Ada 👋🏽 met Grace in 東京"  # emoji with a skin-tone modifier, CJK


@pytest.fixture
def with_task(project: al.Project) -> al.Project:
    project.add_tasks(pl.DataFrame({"id": ["t1"], "text": [TEXT]}), id="id")
    return project


def _spans(*spans: tuple[int, int, str]) -> dict[str, object]:
    return {"kind": "spans", "spans": [{"start": s, "end": e, "label": lab} for s, e, lab in spans]}


def _events(workspace: al.Workspace, entity_id: uuid.UUID) -> list[tuple[str, int]]:
    with workspace.engine.begin() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT action, (after->>'version')::int FROM events "
                "WHERE entity = 'annotation' AND entity_id = :id ORDER BY id"
            ),
            {"id": str(entity_id)},
        )
        return [(r[0], r[1]) for r in rows]


def test_code_point_offsets_are_stored_and_read_back(with_task: al.Project) -> None:
    cjk = TEXT.index("東京")
    with_task.add_annotation("t1", _spans((0, 3, "person"), (cjk, cjk + 2, "location")))
    stored = json.loads(with_task.annotations()["payload"][0])
    assert [TEXT[s["start"] : s["end"]] for s in stored["spans"]] == ["Ada", "東京"]


def test_the_same_id_twice_stores_one_annotation_and_one_event(
    workspace: al.Workspace, with_task: al.Project
) -> None:
    ann_id = uuid.uuid4()
    for _ in range(2):  # a retry after a lost reply
        with_task.add_annotation("t1", _spans((0, 3, "person")), id=ann_id)
    assert with_task.annotations().height == 1
    assert _events(workspace, ann_id) == [("annotation.submitted", 1)]


def test_a_changed_payload_bumps_the_version(
    workspace: al.Workspace, with_task: al.Project
) -> None:
    ann_id = with_task.add_annotation("t1", _spans((0, 3, "person")), status="draft")
    with_task.add_annotation("t1", _spans((0, 3, "group")), id=ann_id)
    row = with_task.annotations().row(0, named=True)
    assert (row["version"], row["status"]) == (2, "submitted")
    assert json.loads(row["payload"])["spans"][0]["label"] == "group"
    assert _events(workspace, ann_id) == [("annotation.draft", 1), ("annotation.submitted", 2)]


def test_an_id_owned_by_another_user_is_refused(with_task: al.Project) -> None:
    ann_id = with_task.add_annotation("t1", _spans((0, 3, "person")), user="alice")
    with pytest.raises(al.StoreError, match="already names an annotation of another task or user"):
        with_task.add_annotation("t1", _spans((0, 3, "person")), user="bob", id=ann_id)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (_spans((0, 99, "person")), r"spans\[0\]\.end=99 is past the end of the text"),
        (_spans((5, 2, "person")), r"spans\[0\]"),
        (_spans((0, 3, "FOO")), r"spans\[0\]\.label='FOO' is not a label of this project"),
        (_spans((0, 3, "person"), (2, 5, "group")), r"overlap"),
        ({"kind": "nope"}, r"kind='nope'"),
    ],
)
def test_invalid_payloads_are_refused_and_nothing_is_stored(
    workspace: al.Workspace, with_task: al.Project, payload: dict[str, object], message: str
) -> None:
    with pytest.raises(al.ValidationError, match=message):
        with_task.add_annotation("t1", payload)
    assert with_task.annotations().height == 0
    with workspace.engine.begin() as conn:
        assert (
            conn.execute(
                sa.text(
                    "SELECT count(*) FROM events WHERE entity = 'annotation' AND project_id = :p"
                ),
                {"p": with_task.id},
            ).scalar_one()
            == 0
        )


def test_unknown_task_is_named(with_task: al.Project) -> None:
    with pytest.raises(al.ValidationError, match=r"task='t9' is not a task of project"):
        with_task.add_annotation("t9", _spans((0, 3, "person")))


def test_event_and_change_commit_together(workspace: al.Workspace, with_task: al.Project) -> None:
    """A failure after the write rolls the event back with it."""
    from annolab.store.annotations import NewAnnotation, upsert_annotations

    ann_id = uuid.uuid4()
    task_id = with_task.tasks()["task_id"][0]
    with pytest.raises(RuntimeError), workspace.engine.begin() as conn:  # noqa: PT012
        upsert_annotations(
            conn,
            [
                NewAnnotation(
                    id=ann_id,
                    task_id=task_id,
                    user_id=workspace.user_id,
                    kind=al.schema.AnnotationKind.HUMAN,
                    status=al.schema.AnnotationStatus.SUBMITTED,
                    payload=_spans((0, 3, "person")),
                )
            ],
            actor="tester",
            project_id=with_task.id,
        )
        raise RuntimeError("the kernel died here")
    assert with_task.annotations().height == 0
    assert _events(workspace, ann_id) == []
