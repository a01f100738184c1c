"""The JupyterLab server extension's API, through a real ``jupyter server`` on loopback.

The server runs as a subprocess with annolab's extension enabled, on the test database, as the
hub user ``lab-annotator`` (``JUPYTERHUB_USER``); the tests talk to it over HTTP with its token.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import secrets
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al

pytestmark = pytest.mark.db

LAB_USER = "lab-annotator"


@dataclass
class Server:
    url: str
    token: str
    root: Path

    def call(
        self, method: str, path: str, body: Any = None, *, token: bool = True
    ) -> tuple[int, Any]:
        """(status, decoded JSON body) of a request to ``path`` under the server."""
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"token {self.token}"
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        try:
            return status, json.loads(raw) if raw else None
        except ValueError:
            return status, raw.decode(errors="replace")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_server(db_url: str, scratch: Path, python: str = sys.executable) -> tuple[Any, Server]:
    """``jupyter server`` with annolab's extension, as ``LAB_USER``, on the test database."""
    home, root = scratch / "home", scratch / "root"
    home.mkdir()
    root.mkdir()
    token = secrets.token_hex(16)
    port = _free_port()
    env = dict(os.environ)
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(home / ".jupyter"),
        JUPYTER_DATA_DIR=str(home / ".local/share/jupyter"),
        JUPYTER_RUNTIME_DIR=str(home / ".local/share/jupyter/runtime"),
        JUPYTERHUB_USER=LAB_USER,
        ANNOLAB_DATABASE_URL=db_url,
        PYTHONUNBUFFERED="1",
    )
    log = (scratch / "server.log").open("wb")
    process = subprocess.Popen(
        [
            python,
            "-m",
            "jupyter",
            "server",
            "--no-browser",
            "--allow-root",
            "--ip=127.0.0.1",
            f"--port={port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.jpserver_extensions={'annolab': True}",
        ],
        cwd=root,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = Server(f"http://127.0.0.1:{port}/", token, root)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError((scratch / "server.log").read_text())
        try:
            if server.call("GET", "api/status")[0] == 200:
                return process, server
        except (urllib.error.URLError, ConnectionError):
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"jupyter server did not start: {(scratch / 'server.log').read_text()}")


@pytest.fixture(scope="module")
def server(db_url: str) -> Iterator[Server]:
    scratch = Path(tempfile.mkdtemp(prefix="annolab-lab-api-"))
    process, found = start_server(db_url, scratch)
    try:
        yield found
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def classify(workspace: al.Workspace) -> al.Project:
    proj = workspace.create_project(
        f"lab-{uuid.uuid4().hex[:10]}", labels=["pos", "neg"], layout="classify"
    )
    proj.add_tasks(
        pl.DataFrame({"id": ["a", "b", "c"], "text": ["great", "awful", "fine"]}), id="id"
    )
    return proj


def _mine(server: Server, name: str) -> dict[str, Any]:
    status, body = server.call("GET", "annolab/api/projects")
    assert status == 200
    assert body["user"] == LAB_USER
    return next(p for p in body["projects"] if p["name"] == name)


def test_projects_list_counts_progress_and_the_queue(server: Server, classify: al.Project) -> None:
    classify.set_goals([{"kind": "volume", "target": 2}])
    shown = _mine(server, classify.name)
    assert shown["total"] == 3
    assert shown["completed"] == 0
    assert shown["queue"] == {"done": 0, "open": 3}
    assert shown["layout"] == "classify"
    assert [(g["kind"], g["met"], g["detail"]) for g in shown["goals"]] == [
        ("volume", False, "0 of 2 tasks completed")
    ]


def test_queue_labels_and_submits_through_the_widget(server: Server, classify: al.Project) -> None:
    status, view = server.call("POST", f"annolab/api/projects/{classify.name}/queue")
    assert status == 200, view
    assert view["full"] is True
    assert view["parts"][0]["bundle"] == "classify"
    assert view["parts"][0]["state"]["value"] is None
    assert view["queue"] == {"done": 0, "open": 3}
    first, desk, widget = view["task"], view["desk"], view["widget"]
    # A patch, as the classify front end sends it: Python validates and answers.
    status, view = server.call(
        "POST",
        f"annolab/api/desks/{desk}/message",
        {"widget": widget, "part": 0, "content": {"op": "choose", "label": "neg", "uuid": "u1"}},
    )
    assert status == 200, view
    assert view["full"] is False
    assert view["parts"][0]["state"] == {"value": "neg"}
    assert view["replies"] == [{"part": 0, "content": {"uuid": "u1", "ok": True}}]
    # Submit as the widget does: the nonce, saved like model.save_changes().
    status, view = server.call(
        "POST",
        f"annolab/api/desks/{desk}/change",
        {"widget": widget, "part": 0, "state": {"submit_count": 1}},
    )
    assert status == 200, view
    assert view["full"] is True
    assert view["task"] != first
    assert view["queue"] == {"done": 1, "open": 2}
    stored = classify.annotations()
    assert stored.height == 1
    assert json.loads(stored["payload"][0]) == {"kind": "choice", "label": "neg"}
    assert _mine(server, classify.name)["queue"] == {"done": 1, "open": 2}


def test_a_refused_label_is_answered_in_the_widget_and_not_stored(
    server: Server, classify: al.Project
) -> None:
    _, view = server.call("POST", f"annolab/api/projects/{classify.name}/queue")
    desk, widget = view["desk"], view["widget"]
    _, view = server.call(
        "POST",
        f"annolab/api/desks/{desk}/message",
        {"widget": widget, "part": 0, "content": {"op": "set", "value": "meh", "uuid": "u2"}},
    )
    [reply] = view["replies"]
    assert reply["content"]["uuid"] == "u2"
    assert "meh" in reply["content"]["error"]
    assert "meh" in view["parts"][0]["state"]["error"]
    # Submitting an empty answer is refused by the same check as in a notebook.
    _, view = server.call("POST", f"annolab/api/desks/{desk}/submit")
    assert view["full"] is False
    assert "Not saved" in view["parts"][0]["state"]["error"]
    assert classify.annotations().height == 0


def test_bad_input_is_a_400_naming_field_value_and_rule(
    server: Server, classify: al.Project
) -> None:
    _, view = server.call("POST", f"annolab/api/projects/{classify.name}/queue")
    status, body = server.call(
        "POST",
        f"annolab/api/desks/{view['desk']}/change",
        {"widget": view["widget"], "part": 0, "state": {"colour": "red"}},
    )
    assert status == 400
    assert body["field"] == "state"
    assert body["value"] == ["colour"]
    assert body["rule"] == "are not synced traits of Classify"
    status, body = server.call(
        "POST",
        f"annolab/api/desks/{view['desk']}/change",
        {"widget": view["widget"], "part": 7, "state": {}},
    )
    assert (status, body["field"], body["value"]) == (400, "part", 7)
    status, body = server.call(
        "POST",
        f"annolab/api/desks/{view['desk']}/change",
        {"widget": view["widget"], "part": 0, "state": {"submit_count": "soon"}},
    )
    assert (status, body["field"], body["value"]) == (400, "state", {"submit_count": "soon"})
    assert body["rule"].startswith("was refused: The 'submit_count' trait")
    # The desk is unharmed: the next view sends the part in full, as Python holds it.
    _, again = server.call("GET", f"annolab/api/desks/{view['desk']}")
    assert again["parts"][0]["state"]["submit_count"] == 0
    status, body = server.call(
        "POST", "annolab/api/projects", {"name": f"x-{uuid.uuid4().hex[:6]}", "labels": 5}
    )
    assert status == 400
    assert body["field"] == "labels"
    status, body = server.call("POST", "annolab/api/projects/no-such-project/queue")
    assert status == 404
    assert body["field"] == "project"
    assert body["value"] == "no-such-project"


def test_requests_without_the_token_are_refused(server: Server, classify: al.Project) -> None:
    assert server.call("GET", "annolab/api/projects", token=False)[0] == 403
    status, _ = server.call("POST", f"annolab/api/projects/{classify.name}/queue", token=False)
    assert status == 403
    assert server.call("GET", "annolab/static/classify.js", token=False)[0] == 403
    assert classify.annotations().height == 0


def test_new_project_from_a_layout_and_export(server: Server) -> None:
    status, body = server.call("GET", "annolab/api/layouts")
    assert status == 200
    assert {"classify", "ner"} <= set(body["layouts"])
    name = f"new-{uuid.uuid4().hex[:8]}"
    status, body = server.call(
        "POST", "annolab/api/projects", {"name": name, "layout": "ner", "labels": ["PER", "ORG"]}
    )
    assert (status, body["name"], body["layout"]) == (200, name, "ner")
    status, body = server.call(
        "POST", f"annolab/api/projects/{name}/export", {"path": "out/x.jsonl", "format": "jsonl"}
    )
    assert status == 200, body
    assert body["path"] == "out/x.jsonl"
    assert (server.root / "out" / "x.jsonl").is_file()
    status, body = server.call(
        "POST", f"annolab/api/projects/{name}/export", {"path": "../escape.jsonl"}
    )
    assert (status, body["field"], body["value"]) == (400, "path", "../escape.jsonl")


def test_the_live_stream_tells_of_another_clients_submit(
    server: Server, classify: al.Project
) -> None:
    request = urllib.request.Request(
        f"{server.url}annolab/api/events", headers={"Authorization": f"token {server.token}"}
    )
    lines: queue.Queue[str] = queue.Queue()
    response = urllib.request.urlopen(request, timeout=30)

    def read() -> None:
        # Ends when the test closes the response under it.
        with contextlib.suppress(AttributeError, OSError, ValueError):
            for raw in response:
                lines.put(raw.decode().rstrip("\n"))

    threading.Thread(target=read, daemon=True).start()
    assert lines.get(timeout=10) == ": listening"
    # Another annotator, in a notebook elsewhere.
    session = classify.session("someone-else")
    assert session.next() is not None
    session.submit({"kind": "choice", "label": "pos"})
    deadline = time.monotonic() + 10
    heard = []
    while time.monotonic() < deadline:
        line = lines.get(timeout=deadline - time.monotonic())
        if line.startswith("data: "):
            heard.append(json.loads(line.removeprefix("data: ")))
            if any(m["action"] == "annotation.submitted" for m in heard):
                break
    response.close()
    mine = [m for m in heard if m["project_id"] == classify.id]
    assert "annotation.submitted" in {m["action"] for m in mine}


def test_ner_spans_go_through_the_widgets_patches(server: Server, workspace: al.Workspace) -> None:
    proj = workspace.create_project(
        f"lab-ner-{uuid.uuid4().hex[:8]}", labels=["PER", "ORG"], layout="ner"
    )
    proj.add_tasks(pl.DataFrame({"id": ["a"], "text": ["Ada works at IBM"]}), id="id")
    _, view = server.call("POST", f"annolab/api/projects/{proj.name}/queue")
    assert view["parts"][0]["bundle"] == "ner"
    # The text travels as UTF-8 bytes, as it does to a notebook's view.
    assert view["parts"][0]["state"]["_text_utf8"] == {"$bytes": "QWRhIHdvcmtzIGF0IElCTQ=="}
    desk, widget = view["desk"], view["widget"]
    span = {"start": 13, "end": 16, "label": "ORG"}
    _, view = server.call(
        "POST",
        f"annolab/api/desks/{desk}/message",
        {"widget": widget, "part": 0, "content": {"op": "add", "span": span, "uuid": "n1"}},
    )
    assert view["replies"] == [{"part": 0, "content": {"uuid": "n1", "ok": True}}]
    _, view = server.call("POST", f"annolab/api/desks/{desk}/submit")
    assert (view["task"], view["queue"]["open"]) == (None, 0)  # the queue is done
    assert view["message"].startswith("Nothing left")
    assert view["widget"] is None
    [payload] = proj.annotations()["payload"].to_list()
    assert json.loads(payload) == {"kind": "spans", "spans": [{**span}]}
    # The widget that was on screen is gone: a late message is refused, naming it.
    status, body = server.call(
        "POST",
        f"annolab/api/desks/{desk}/message",
        {"widget": widget, "part": 0, "content": {"op": "add", "span": span, "uuid": "n2"}},
    )
    assert (status, body["field"], body["value"]) == (400, "widget", widget)


def test_dashboard_is_a_vega_lite_spec(server: Server, classify: al.Project) -> None:
    status, body = server.call("GET", f"annolab/api/projects/{classify.name}/dashboard")
    assert (status, body["spec"]) == (200, None)
    assert body["message"] == f"No annotations in {classify.name!r} yet."
    for user, label in (("ann-1", "pos"), ("ann-2", "neg")):
        session = classify.session(user)
        assert session.next() is not None
        session.submit({"kind": "choice", "label": label})
    status, body = server.call("GET", f"annolab/api/projects/{classify.name}/dashboard")
    assert status == 200, body
    assert body["spec"]["$schema"].startswith("https://vega.github.io/schema/vega-lite/v6")
    assert body["spec"]["title"] == "Project quality"


def test_alerts_are_the_projects_quality_alerts_newest_first(
    server: Server, classify: al.Project
) -> None:
    from annolab.store.events import record_event

    with classify.workspace.engine.begin() as conn:
        for score in (0.4, 0.3):
            record_event(
                conn,
                actor="annolab",
                action="quality.alert",
                entity="user",
                entity_id=7,
                project_id=classify.id,
                after={"rule": "low accuracy", "user": "weak", "score": score},
            )
        record_event(
            conn,
            actor="annolab",
            action="quality.cleared",
            entity="user",
            entity_id=7,
            project_id=classify.id,
        )
    status, body = server.call("GET", "annolab/api/alerts")
    assert status == 200
    mine = [a for a in body["alerts"] if a["project"] == classify.name]
    assert [json.loads(a["after"])["score"] for a in mine] == [0.3, 0.4]
    assert {a["entity"] for a in mine} == {"user"}


def test_a_layout_of_several_questions_comes_as_parts_and_submits_as_one_form(
    server: Server, workspace: al.Workspace
) -> None:
    proj = workspace.create_project(
        f"lab-form-{uuid.uuid4().hex[:8]}", labels=["x"], layout="clinical-ner-v1"
    )
    text = "Fever treated with aspirin."
    proj.add_tasks(
        pl.DataFrame({"id": ["n1"], "document_text": [text]}), id="id", text="document_text"
    )
    _, view = server.call("POST", f"annolab/api/projects/{proj.name}/queue")
    assert [p["bundle"] for p in view["parts"]] == ["form", "ner", "form"]
    desk, widget = view["desk"], view["widget"]

    def send(part: int, content: dict[str, Any]) -> dict[str, Any]:
        status, answer = server.call(
            "POST",
            f"annolab/api/desks/{desk}/message",
            {"widget": widget, "part": part, "content": content},
        )
        assert status == 200, answer
        return answer

    span = {"start": 19, "end": 26, "label": "Medication"}
    send(1, {"op": "add", "span": span, "uuid": "s"})
    # Submitting without the required confidence is refused, in the form, as in a notebook.
    status, view = server.call(
        "POST",
        f"annolab/api/desks/{desk}/change",
        {"widget": widget, "part": 2, "state": {"submit_count": 1}},
    )
    assert status == 200
    assert view["full"] is False
    assert "confidence" in view["parts"][2]["state"]["error"]
    assert proj.annotations().height == 0
    send(2, {"op": "set", "question": "confidence", "value": "high", "uuid": "c"})
    _, view = server.call(
        "POST",
        f"annolab/api/desks/{desk}/change",
        {"widget": widget, "part": 2, "state": {"submit_count": 2}},
    )
    assert (view["task"], view["queue"]["open"]) == (None, 0)  # the queue is done
    assert view["message"].startswith("Nothing left")
    [payload] = proj.annotations()["payload"].to_list()
    answers = json.loads(payload)["answers"]
    assert answers["entities"] == {"kind": "spans", "spans": [span]}
    assert answers["confidence"] == {"kind": "choice", "label": "high"}


def test_import_annolab_does_not_load_the_server() -> None:
    code = (
        "import sys, annolab\n"
        "points = annolab._jupyter_server_extension_points()\n"
        "paths = annolab._jupyter_labextension_paths()\n"
        "print(points, paths, 'jupyter_server' in sys.modules, 'tornado' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    expected = (
        "[{'module': 'annolab.lab'}] [{'src': 'labextension', 'dest': 'annolab'}] False False"
    )
    assert out.strip() == expected


# -- review and adjudication steps in the tab ------------------------------------------------


def _rows(proj: al.Project, sql: str) -> list[tuple[object, ...]]:
    with proj.workspace.engine.begin() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), {"p": proj.id}).all()]


@pytest.fixture
def reviewer(workspace: al.Workspace) -> Iterator[None]:
    """The server's user only reviews, so a rejected task does not come back to it to annotate
    again; its roles as before afterwards, as the other tests expect."""
    workspace.set_roles(LAB_USER, ["reviewer"])
    yield
    with workspace.engine.begin() as conn:
        conn.execute(sa.text("UPDATE users SET roles = DEFAULT WHERE name = :u"), {"u": LAB_USER})


def _for_review(workspace: al.Workspace, labels: list[str]) -> al.Project:
    """A classify project under full review: another annotator labelled every task."""
    proj = workspace.create_project(
        f"lab-rev-{uuid.uuid4().hex[:8]}",
        labels=["pos", "neg"],
        layout="classify",
        workflow=al.workflows.review(fraction=1.0),
    )
    ids = [f"t{i}" for i in range(len(labels))]
    proj.add_tasks(pl.DataFrame({"id": ids, "text": [f"text {i}" for i in ids]}), id="id")
    worker = proj.session(f"{proj.name}-lab")
    for label in labels:
        assert worker.next() is not None
        worker.submit({"kind": "choice", "label": label})
    return proj


def test_a_review_step_shows_the_work_read_only_and_takes_the_decisions(
    server: Server, workspace: al.Workspace, reviewer: None
) -> None:
    proj = _for_review(workspace, ["pos", "neg", "pos"])
    status, view = server.call("POST", f"annolab/api/projects/{proj.name}/queue")
    assert status == 200, view
    desk = view["desk"]
    step = view["step"]
    assert step["kind"] == "review"
    assert step["heading"] == "Work under review (annotator hidden: blind workflow)"
    assert [a["name"] for a in step["answers"]] == ["The work"]
    assert step["answers"][0]["line"].startswith("Label: ")
    assert [a["name"] for a in step["actions"]] == ["approve", "reject", "revise"]
    assert step["editing"] is False
    assert view["queue"] == {"done": 0, "open": 3}
    approved = view["task"]

    # A bare submit, or a change to a read-only view, never completes the task unseen.
    status, refused = server.call("POST", f"annolab/api/desks/{desk}/submit")
    assert (status, refused["field"], refused["value"]) == (400, "action", "submit")
    assert "decide" in refused["rule"]

    approve = {"task": approved, "decision": "approve"}
    status, view = server.call("POST", f"annolab/api/desks/{desk}/decide", approve)
    assert status == 200, view
    assert view["task"] != approved and view["step"]["kind"] == "review"
    assert view["queue"] == {"done": 1, "open": 2}  # nothing drawn, yet a new task: counts move
    rejected = view["task"]
    # The same request again (a retry) is refused: it never approves the next task unseen.
    status, refused = server.call("POST", f"annolab/api/desks/{desk}/decide", approve)
    assert (status, refused["field"], refused["value"]) == (400, "task", approved)
    assert refused["rule"].startswith(f"is not the task on screen (now {rejected!r})")

    # Reject without a reason: a 400 naming the field and the rule; nothing recorded.
    status, refused = server.call(
        "POST",
        f"annolab/api/desks/{desk}/decide",
        {"task": rejected, "decision": "reject", "reason": "  "},
    )
    assert status == 400
    assert (refused["field"], refused["value"]) == ("reason", "  ")
    assert refused["rule"] == "a rejection needs a reason saying what is wrong"
    status, view = server.call(
        "POST",
        f"annolab/api/desks/{desk}/decide",
        {"task": rejected, "decision": "reject", "reason": "it is not what the text says"},
    )
    assert status == 200, view
    revised = view["task"]
    assert revised not in (approved, rejected)
    assert view["queue"] == {"done": 2, "open": 1}

    # Revise: the editable copy in the project's widget, submitted as the revision.
    status, view = server.call(
        "POST",
        f"annolab/api/desks/{desk}/decide",
        {"task": revised, "decision": "revise", "reason": "sarcasm"},
    )
    assert status == 200, view
    assert view["step"]["editing"] is True and view["read_only"] == 0
    assert [p["bundle"] for p in view["parts"]] == ["classify"]
    assert view["parts"][0]["state"]["value"] in ("pos", "neg")
    widget = view["widget"]
    server.call(
        "POST",
        f"annolab/api/desks/{desk}/message",
        {"widget": widget, "part": 0, "content": {"op": "choose", "label": "neg", "uuid": "r"}},
    )
    status, view = server.call(
        "POST",
        f"annolab/api/desks/{desk}/change",
        {"widget": widget, "part": 0, "state": {"submit_count": 1}},
    )
    assert status == 200, view
    assert view["task"] is None and view["step"] is None

    statuses = dict(_rows(proj, "SELECT external_id, status::text FROM tasks WHERE project_id=:p"))
    assert statuses == {approved: "completed", rejected: "pending", revised: "completed"}
    decisions = _rows(
        proj,
        "SELECT t.external_id, r.decision::text, r.comment FROM reviews r JOIN annotations a"
        " ON a.id = r.annotation_id JOIN tasks t ON t.id = a.task_id WHERE t.project_id = :p"
        " ORDER BY r.decision",
    )
    assert decisions == [
        (approved, "approve", ""),
        (rejected, "reject", "it is not what the text says"),
        (revised, "revise", "sarcasm"),
    ]
    [revision] = _rows(
        proj,
        "SELECT a.payload->>'label', a.status::text FROM annotations a JOIN tasks t"
        " ON t.id = a.task_id WHERE t.project_id = :p AND a.step = 'review'",
    )
    assert revision == ("neg", "approved")
    actions = dict(
        _rows(
            proj,
            "SELECT action, count(*) FROM events WHERE project_id = :p AND action IN"
            " ('review.approve', 'review.reject', 'review.revise', 'task.rejected')"
            " GROUP BY action",
        )
    )
    assert actions == {
        "review.approve": 1,
        "review.reject": 1,
        "review.revise": 1,
        "task.rejected": 1,
    }


@pytest.fixture
def voted(workspace: al.Workspace) -> al.Project:
    """Two annotators disagreed on both tasks: the server's user adjudicates them."""
    proj = workspace.create_project(
        f"lab-adj-{uuid.uuid4().hex[:8]}",
        labels=["person", "location"],
        workflow=al.workflows.vote(annotators=2, metric="span_f1", threshold=0.9),
    )
    proj.add_tasks(
        pl.DataFrame({"id": ["t1", "t2"], "text": ["Ada met Grace in Paris", "Bob in Rome"]}),
        id="id",
    )
    workspace.set_roles(LAB_USER, ["annotator", "reviewer", "adjudicator"])
    answers = {
        "ann": {"t1": [(0, 3, "person"), (17, 22, "location")], "t2": [(0, 3, "person")]},
        "bea": {"t1": [(0, 3, "person")], "t2": [(7, 11, "location")]},
    }
    for who, theirs in answers.items():
        session = proj.session(f"{proj.name}-{who}")
        while (item := session.next()) is not None:
            spans = [{"start": s, "end": e, "label": lab} for s, e, lab in theirs[item.external_id]]
            session.submit({"kind": "spans", "spans": spans})
    return proj


def test_an_adjudication_step_shows_the_answers_and_picks_or_writes_my_own(
    server: Server, voted: al.Project
) -> None:
    status, view = server.call("POST", f"annolab/api/projects/{voted.name}/queue")
    assert status == 200, view
    desk, step = view["desk"], view["step"]
    assert step["kind"] == "adjudicate"
    assert [a["name"] for a in step["answers"]] == ["Annotator 1", "Annotator 2"]
    # Each answer drawn read-only with the preview bundle, what it disagrees on as a note.
    assert [a["parts"] for a in step["answers"]] == [[0], [1]]
    assert view["read_only"] == 2
    assert [p["bundle"] for p in view["parts"]] == ["preview", "preview"]
    assert any(a["note"].startswith("⚠ Not in every answer") for a in step["answers"])
    picked = view["task"]
    status, refused = server.call(
        "POST",
        f"annolab/api/desks/{desk}/change",
        {"widget": view["widget"], "part": 0, "state": {"spans": []}},
    )
    assert (status, refused["field"], refused["rule"]) == (
        400,
        "part",
        "is a read-only view of a stored answer",
    )
    status, refused = server.call(
        "POST",
        f"annolab/api/desks/{desk}/decide",
        {"task": picked, "decision": "pick", "answer": 2},
    )
    assert (status, refused["field"], refused["value"]) == (400, "answer", 2)
    status, view = server.call(
        "POST",
        f"annolab/api/desks/{desk}/decide",
        {"task": picked, "decision": "pick", "answer": 1},
    )
    assert status == 200, view
    own = view["task"]
    assert own != picked and view["step"]["kind"] == "adjudicate"

    # Write my own: an empty editable widget below the answers, which stay in view.
    status, view = server.call(
        "POST", f"annolab/api/desks/{desk}/decide", {"task": own, "decision": "own"}
    )
    assert status == 200, view
    assert [p["bundle"] for p in view["parts"]] == ["preview", "preview", "ner"]
    assert view["read_only"] == 2 and view["step"]["editing"] is True
    widget = view["widget"]
    span = {"start": 0, "end": 3, "label": "person"}
    server.call(
        "POST",
        f"annolab/api/desks/{desk}/message",
        {"widget": widget, "part": 2, "content": {"op": "add", "span": span, "uuid": "o"}},
    )
    status, view = server.call(
        "POST",
        f"annolab/api/desks/{desk}/change",
        {"widget": widget, "part": 2, "state": {"submit_count": 1}},
    )
    assert status == 200, view
    assert view["task"] is None

    rows = _rows(
        voted,
        "SELECT t.external_id, a.payload::text, a.parent_id::text, t.status::text"
        " FROM annotations a JOIN tasks t ON t.id = a.task_id"
        " WHERE t.project_id = :p AND a.step = 'adjudicate' ORDER BY t.external_id",
    )
    got = {r[0]: r[1:] for r in rows}
    # The pick stores the chosen answer itself, linked to it.
    released = dict(
        _rows(
            voted,
            "SELECT a.id::text, a.payload::text FROM annotations a JOIN tasks t"
            f" ON t.id = a.task_id WHERE t.project_id = :p AND t.external_id = '{picked}'"
            " AND a.step = 'annotate'",
        )
    )
    assert got[picked][1] in released
    assert json.loads(got[picked][0]) == json.loads(str(released[got[picked][1]]))
    assert got[picked][2] == "completed"
    assert json.loads(got[own][0]) == {"kind": "spans", "spans": [span]}
    assert got[own][1:] == (None, "completed")
