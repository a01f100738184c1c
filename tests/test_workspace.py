"""connect(), projects and their status, against the real test server."""

from __future__ import annotations

import os
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al


def test_workspace_reports_server_and_pgvector(workspace: al.Workspace) -> None:
    assert workspace.server_version.split(".")[0].isdigit()
    assert int(workspace.server_version.split(".")[0]) >= 14
    assert workspace.pgvector_version.count(".") == 2
    assert "as 'tester'" in repr(workspace)


def test_connect_uses_hub_user(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-alice")
    with al.connect(db_url) as ws:
        assert ws.user == "hub-alice"
        with ws.engine.begin() as conn:
            kind = conn.execute(
                sa.text("SELECT kind::text FROM users WHERE name = 'hub-alice'")
            ).scalar_one()
    assert kind == "human"


def test_create_and_open_project(workspace: al.Workspace, project: al.Project) -> None:
    again = workspace.project(project.name)
    assert again.id == project.id
    assert again.labels.names == ("person", "location", "group")
    assert again.status is al.schema.ProjectStatus.ACTIVE
    listed = workspace.projects().filter(pl.col("name") == project.name)
    assert listed.select("status", "tasks", "annotations").row(0) == ("active", 0, 0)


def test_duplicate_project_name_is_refused(workspace: al.Workspace, project: al.Project) -> None:
    with pytest.raises(al.StoreError, match=rf"name='{project.name}' is already a project"):
        workspace.create_project(project.name, labels=["x"])


def test_unknown_project_lists_known_ones(workspace: al.Workspace, project: al.Project) -> None:
    with pytest.raises(al.StoreError, match=r"name='nope' is not a project; projects: .*"):
        workspace.project("nope")


def test_unknown_layout_names_the_available_ones(workspace: al.Workspace) -> None:
    with pytest.raises(al.LayoutError, match=r"layout='nope.yaml' was not found .*ner\.yaml"):
        workspace.create_project("with-bad-layout", labels=["x"], layout="nope")
    assert workspace.projects().filter(pl.col("name") == "with-bad-layout").height == 0


def test_bad_labels_are_refused_before_anything_is_saved(workspace: al.Workspace) -> None:
    with pytest.raises(al.ValidationError):
        workspace.create_project("bad-labels", labels=["x", "x"])
    assert workspace.projects().filter(pl.col("name") == "bad-labels").height == 0


def test_status_moves_and_is_evented(workspace: al.Workspace, project: al.Project) -> None:
    project.set_status("paused")
    project.set_status("completed")
    project.set_status("archived")
    assert workspace.project(project.name).status.value == "archived"
    with pytest.raises(al.StoreError, match="status='active' can not follow 'archived'"):
        project.set_status("active")
    with workspace.engine.begin() as conn:
        moves = (
            conn.execute(
                sa.text(
                    "SELECT after->>'status' FROM events WHERE action = 'project.status_changed' "
                    "AND project_id = :p ORDER BY id"
                ),
                {"p": project.id},
            )
            .scalars()
            .all()
        )
    assert moves == ["paused", "completed", "archived"]


def test_exist_ok_reopens_a_project_with_the_same_labels(
    workspace: al.Workspace, project: al.Project
) -> None:
    again = workspace.create_project(
        project.name, labels=["person", "location", "group"], exist_ok=True
    )
    assert again.id == project.id
    with pytest.raises(
        al.ValidationError,
        match=r"labels=\['x'\] differ from the labels of the "
        r"existing project",
    ):
        workspace.create_project(project.name, labels=["x"], exist_ok=True)


# --- the project's layout --------------------------------------------------------------------

NOTE = "Started metformin for type 2 diabetes."


def _clinical(workspace: al.Workspace) -> al.Project:
    import uuid

    name = f"clinical-{uuid.uuid4().hex[:8]}"
    return workspace.create_project(name, layout="clinical-ner-v1", labels=["unused"])


def test_project_reads_its_layout_as_a_layout(workspace: al.Workspace) -> None:
    proj = _clinical(workspace)
    assert isinstance(proj.layout, al.Layout)
    assert proj.layout_name == "clinical-ner-v1"
    assert proj.answer_kinds == ("form",)
    assert workspace.project(proj.name).layout == al.Layout.load("clinical-ner-v1")
    assert proj.engine().required is True  # confidence is required, not questions[0]


def test_enum_priority_is_stored_as_given_and_ranks_the_queue(workspace: al.Workspace) -> None:
    proj = _clinical(workspace)
    frame = pl.DataFrame(
        {
            "document_id": ["a", "b", "c"],
            "document_text": [NOTE, NOTE + " ", NOTE + "  "],
            "priority": ["high", "low", None],
        }
    )
    proj.add_tasks(frame, text="document_text", id="document_id", priority="priority")
    tasks = proj.tasks().sort("external_id")
    import json

    assert [json.loads(d).get("priority") for d in tasks["data"]] == ["high", "low", None]
    # The queue's integer priority is the value's rank among low, normal, high (default normal).
    assert tasks["priority"].to_list() == [2, 0, 1]
    # The layout's enum input called priority ranks the queue without priority= too.
    other = _clinical(workspace)
    other.add_tasks(frame, text="document_text", id="document_id")
    assert other.tasks().sort("external_id")["priority"].to_list() == [2, 0, 1]


def test_add_tasks_refuses_data_the_layout_does_not_take(workspace: al.Workspace) -> None:
    proj = _clinical(workspace)
    frame = pl.DataFrame({"document_text": [NOTE], "priority": ["urgent"]})
    with pytest.raises(al.ValidationError) as caught:
        proj.add_tasks(frame, text="document_text", priority="priority")
    assert str(caught.value) == "tasks[0].priority='urgent' is not one of low, normal, high"
    assert proj.tasks().height == 0


def test_a_form_answer_is_checked_by_the_layout_at_the_door(workspace: al.Workspace) -> None:
    proj = _clinical(workspace)
    proj.add_tasks(pl.DataFrame({"id": ["n1"], "text": [NOTE]}), id="id")
    start = NOTE.index("metformin")
    answer: dict[str, Any] = {
        "kind": "form",
        "answers": {
            "entities": {
                "kind": "spans",
                "spans": [{"start": start, "end": start + 9, "label": "Medication"}],
            },
            "confidence": {"kind": "choice", "label": "medium"},
        },
    }
    proj.add_annotation("n1", answer)
    stored = proj.annotations()["payload"].to_list()
    import json

    assert json.loads(stored[0]) == answer
    del answer["answers"]["confidence"]
    with pytest.raises(al.ValidationError) as caught:
        proj.add_annotation("n1", answer)
    assert str(caught.value) == "answers.confidence=None is required; answer it to submit"
    with pytest.raises(al.ValidationError) as caught:
        proj.add_annotation("n1", {"kind": "spans", "spans": []})
    assert str(caught.value) == (
        "kind='spans' is not what layout 'clinical-ner-v1' asks for; it asks for 'form'"
    )


def test_tab_completion_offers_the_public_names_only() -> None:
    import annolab as al

    names = dir(al)
    assert set(al.__all__) <= set(names)
    assert {"Any", "TYPE_CHECKING", "importlib"}.isdisjoint(names)
    assert "Layout" in names and "__version__" in names


# --- pooled connections: replaced when the server has closed them, not pinged otherwise --------


def _backend_pid(ws: al.Workspace) -> int:
    with ws.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def test_a_pooled_connection_the_server_closed_is_replaced_unseen(db_url: str) -> None:
    with al.connect(db_url, user="pool-owner") as ws, al.connect(db_url) as admin:
        first = _backend_pid(ws)
        with admin.engine.begin() as conn:
            assert conn.execute(
                sa.text("SELECT pg_terminate_backend(:pid, 5000)"), {"pid": first}
            ).scalar_one()
        # The terminated backend's goodbye sits unread on the pooled socket: the checkout sees
        # it, pings, and the pool opens a new connection before the statement runs.
        second = _backend_pid(ws)
    assert second != first


def test_a_live_pooled_connection_is_handed_out_without_a_ping(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with al.connect(db_url, user="pool-owner") as ws:
        first = _backend_pid(ws)

        def no_ping(dbapi_connection: Any) -> bool:
            raise AssertionError("a live connection was pinged")

        monkeypatch.setattr(ws.engine.dialect, "do_ping", no_ping)
        assert [_backend_pid(ws) for _ in range(3)] == [first] * 3


def test_pooled_connections_work_with_descriptors_above_1023(db_url: str) -> None:
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        with al.connect(db_url, user="pool-owner") as ws:
            pids = [_backend_pid(ws) for _ in range(2)]  # the second is a checkout from the pool
    finally:
        for fd in held:
            os.close(fd)
    assert pids[0] == pids[1]
