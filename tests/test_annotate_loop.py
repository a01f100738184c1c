"""project.annotate(): the loop that binds a widget to a session, driven by its nonces."""

from __future__ import annotations

import uuid

import polars as pl

import annolab as al
from annolab.widgets import NER, Classify


def _project(workspace: al.Workspace, layout: str, texts: list[str]) -> al.Project:
    proj = workspace.create_project(
        f"loop-{uuid.uuid4().hex[:8]}",
        labels=["pos", "neg"],
        layout=layout,
        guidelines="Label the feeling.",
    )
    proj.add_tasks(
        pl.DataFrame({"id": [f"t{i}" for i in range(len(texts))], "text": texts}), id="id"
    )
    return proj


def test_submit_and_skip_advance_and_the_end_says_so(workspace: al.Workspace) -> None:
    proj = _project(workspace, "classify", ["good", "bad", "meh"])
    loop = proj.annotate("looper")
    assert isinstance(loop.widget, Classify)
    assert loop._status.value == "0 of 3 in your queue done; 3 to go"
    loop.widget.value = "pos"
    loop.widget.submit_count += 1  # what Ctrl+Enter does in the page
    assert loop._status.value == "1 of 3 in your queue done; 2 to go"
    loop.widget.skip_count += 1  # Esc
    loop.widget.value = "neg"
    loop.widget.submit_count += 1
    assert loop.widget is None
    assert loop._message.value == "Nothing left in your queue. Thank you!"
    annotations = proj.annotations()
    assert dict(zip(annotations["external_id"], annotations["payload"], strict=True)) == {
        "t0": '{"kind": "choice", "label": "pos"}',
        "t2": '{"kind": "choice", "label": "neg"}',
    }


def test_a_failed_save_keeps_the_work_and_says_why(workspace: al.Workspace) -> None:
    proj = _project(workspace, "ner", ["Ada met Bob"])
    loop = proj.annotate("keeper")
    widget = loop.widget
    assert isinstance(widget, NER)
    widget.value = [{"start": 0, "end": 3, "label": "pos"}]
    proj.evict("t0", "keeper", reason="test: the lease is gone")
    widget.submit_count += 1
    assert loop.widget is widget  # still on screen, with the annotation
    assert [(s["start"], s["end"], s["label"]) for s in widget.value] == [(0, 3, "pos")]
    assert widget.error.startswith("Not saved: assignment=")
    assert widget.error.endswith("Your work is still here; submit again to retry.")
    assert proj.annotations().height == 0


def test_a_draft_is_stored_and_the_task_stays_open(workspace: al.Workspace) -> None:
    proj = _project(workspace, "classify", ["good", "bad"])
    loop = proj.annotate("drafter")
    widget = loop.widget
    assert isinstance(widget, Classify)
    assert widget.show_draft is True  # the loop stores drafts: the button shows
    widget.value = "pos"
    widget.draft_count += 1  # what Ctrl+S does in the page
    assert loop.widget is widget and widget.error == ""
    drafts = proj.annotations()
    assert drafts.select("external_id", "status").rows() == [("t0", "draft")]
    widget.submit_count += 1
    final = proj.annotations()
    # The submit replaces the draft (same id), it does not add a second annotation.
    assert final.select("external_id", "status").rows() == [("t0", "submitted")]
    assert loop._status.value == "1 of 2 in your queue done; 1 to go"
