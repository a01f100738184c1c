"""The annotation loop at review and adjudication steps, and with suggestions, driven by the
panels' and widgets' nonces (what a click or a key does in the page)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

import annolab as al
from annolab.kinds.compare import disagreements, merge
from annolab.schema.enums import AnnotationKind, AnnotationStatus, UserKind
from annolab.store.annotations import NewAnnotation, upsert_annotations
from annolab.store.users import ensure_user
from annolab.widgets import NER, BBox, Classify, LayoutWidget, Preview
from annolab.widgets.review import AdjudicationPanel, ReviewPanel, Shown
from tests.test_widgets_classify import png

T0 = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.timezone.utc)


def frozen() -> dt.datetime:
    return T0


def _rows(proj: al.Project, sql: str) -> list[tuple[object, ...]]:
    with proj.workspace.engine.begin() as conn:
        return [tuple(r) for r in conn.execute(sa.text(sql), {"p": proj.id}).all()]


def _reviewed(workspace: al.Workspace, labels: list[str]) -> al.Project:
    proj = workspace.create_project(
        f"rl-{uuid.uuid4().hex[:8]}",
        labels=["pos", "neg"],
        layout="classify",
        workflow=al.workflows.review(fraction=1.0),
    )
    texts = [f"text {i}" for i in range(len(labels))]
    proj.add_tasks(
        pl.DataFrame({"id": [f"t{i}" for i in range(len(labels))], "text": texts}), id="id"
    )
    workspace.set_roles(f"{proj.name}-rev", ["reviewer"])
    worker = proj.session(f"{proj.name}-lab", clock=frozen)
    for label in labels:
        assert worker.next() is not None
        worker.submit({"kind": "choice", "label": label})
    return proj


def test_the_reviewer_sees_the_work_blind_and_decides(workspace: al.Workspace) -> None:
    proj = _reviewed(workspace, ["pos", "neg", "pos"])
    loop = proj.annotate(f"{proj.name}-rev")
    panel = loop.panel
    assert isinstance(panel, ReviewPanel) and loop.widget is None
    assert panel.heading.value == "Work under review (annotator hidden: blind workflow)"
    assert f"{proj.name}-lab" not in panel.heading.value + panel.summary.value
    first = loop.session.current
    assert first is not None
    assert panel.summary.value == f"Label: {first.shown[0]['label']}"

    panel.bar.press("approve")  # A
    assert isinstance(loop.panel, ReviewPanel) and loop.panel is not panel
    panel = loop.panel
    panel.bar.press("reject")  # R without a reason: refused, shown, nothing recorded
    assert panel.bar.error == "reason='' : a rejection needs a reason saying what is wrong"
    assert loop.panel is panel
    panel.bar.reason = "it is negative"
    panel.bar.press("reject")
    panel = loop.panel
    assert isinstance(panel, ReviewPanel)
    third = loop.session.current
    assert third is not None
    panel.bar.press("revise")  # E: an editable copy in the project's widget
    widget = loop.widget
    assert isinstance(widget, Classify) and widget.value == third.shown[0]["label"]
    assert widget.show_draft is False
    widget.value = "neg"
    widget.submit_count += 1

    rows = _rows(
        proj,
        "SELECT t.external_id, a.status::text, a.step, a.payload->>'label', a.parent_id::text,"
        " a.id::text FROM annotations a JOIN tasks t ON t.id = a.task_id"
        " WHERE t.project_id = :p ORDER BY t.external_id, a.step",
    )
    by_task = {(r[0], r[2]): r for r in rows}
    assert by_task[(first.external_id, "annotate")][1] == "approved"
    rejected = [r for r in rows if r[1] == "rejected"]
    assert [(r[2], r[3]) for r in rejected] == [("annotate", "neg")]
    revision = by_task[(third.external_id, "review")]
    original = by_task[(third.external_id, "annotate")]
    assert revision[1:4] == ("approved", "review", "neg")
    assert revision[4] == original[5]  # linked to the work it corrects
    assert original[1] == "submitted"
    statuses = dict(_rows(proj, "SELECT external_id, status::text FROM tasks WHERE project_id=:p"))
    assert statuses[first.external_id] == "completed"
    assert statuses[third.external_id] == "completed"
    assert statuses[rejected[0][0]] == "pending"  # back to one more annotator
    decisions = _rows(
        proj,
        "SELECT r.decision::text, r.comment FROM reviews r JOIN annotations a"
        " ON a.id = r.annotation_id JOIN tasks t ON t.id = a.task_id WHERE t.project_id = :p"
        " ORDER BY r.decision",
    )
    assert decisions == [("approve", ""), ("reject", "it is negative"), ("revise", "")]
    actions = _rows(
        proj,
        "SELECT action, count(*) FROM events WHERE project_id = :p"
        " AND action IN ('review.approve', 'review.reject', 'review.revise', 'task.rejected',"
        " 'task.completed', 'annotation.created') GROUP BY action ORDER BY action",
    )
    assert dict(actions) == {
        **{k: v for k, v in dict(actions).items() if k == "annotation.created"},
        "review.approve": 1,
        "review.reject": 1,
        "review.revise": 1,
        "task.rejected": 1,
        "task.completed": 2,
    }


def test_a_plain_submit_can_not_complete_a_review(workspace: al.Workspace) -> None:
    proj = _reviewed(workspace, ["pos"])
    session = proj.session(f"{proj.name}-rev", clock=frozen)
    assert session.next() is not None
    with pytest.raises(al.WorkflowError, match=r"^step='review' is a review step; decide with"):
        session.submit({"kind": "choice", "label": "neg"})
    # The task stays the reviewer's, undecided: nothing was stored for it at the review step.
    assert _rows(proj, "SELECT status::text, step FROM tasks WHERE project_id = :p") == [
        ("in_progress", "review")
    ]
    assert _rows(
        proj,
        "SELECT count(*) FROM annotations a JOIN tasks t ON t.id = a.task_id"
        " WHERE t.project_id = :p AND a.step = 'review'",
    ) == [(0,)]


@pytest.fixture
def voted(workspace: al.Workspace) -> al.Project:
    proj = workspace.create_project(
        f"adj-{uuid.uuid4().hex[:8]}",
        labels=["person", "location"],
        workflow=al.workflows.vote(annotators=2, metric="span_f1", threshold=0.9),
    )
    proj.add_tasks(
        pl.DataFrame({"id": ["t1", "t2"], "text": ["Ada met Grace in Paris", "Bob in Rome"]}),
        id="id",
    )
    workspace.set_roles(f"{proj.name}-judge", ["adjudicator"])
    answers = {
        "ann": {"t1": [(0, 3, "person"), (17, 22, "location")], "t2": [(0, 3, "person")]},
        "bea": {"t1": [(0, 3, "person")], "t2": [(7, 11, "location")]},
    }
    for who, theirs in answers.items():
        session = proj.session(f"{proj.name}-{who}", clock=frozen)
        while (item := session.next()) is not None:
            spans = [{"start": s, "end": e, "label": lab} for s, e, lab in theirs[item.external_id]]
            session.submit({"kind": "spans", "spans": spans})
    return proj


def test_the_adjudicator_sees_both_answers_and_picks_or_writes(voted: al.Project) -> None:
    loop = voted.annotate(f"{voted.name}-judge")
    panel = loop.panel
    assert isinstance(panel, AdjudicationPanel)
    item = loop.session.current
    assert item is not None and len(item.shown) == 2
    assert panel.names == ["Annotator 1", "Annotator 2"]  # blind: no names
    notes = sorted(n.value for n in panel.notes)
    if item.external_id == "t1":
        assert notes == [
            "Agrees with every other answer.",
            "⚠ Not in every answer: 'Paris' location",
        ]
    else:
        assert notes == [
            "⚠ Not in every answer: 'Bob' person",
            "⚠ Not in every answer: 'Rome' location",
        ]
    previews = [c.children[1] for c in panel.columns]
    assert all(isinstance(p, Preview) for p in previews)
    disputed = sorted(
        (p.spans[i]["start"], p.spans[i]["label"]) for p in previews for i in p.disputed
    )
    assert disputed == (
        [(17, "location")] if item.external_id == "t1" else [(0, "person"), (7, "location")]
    )
    picked = item
    panel.bar.press("pick1")  # the key "2"
    own = loop.session.current
    assert isinstance(loop.panel, AdjudicationPanel) and own is not None
    loop.panel.bar.press("own")  # W: an empty widget, the answers stay in view
    widget = loop.widget
    assert isinstance(widget, NER) and widget.value == []
    widget.value = [{"start": 0, "end": 3, "label": "person"}]
    widget.submit_count += 1
    assert loop.widget is None and loop.panel is None

    rows = _rows(
        voted,
        "SELECT t.external_id, a.payload::text, a.parent_id::text, t.status::text"
        " FROM annotations a JOIN tasks t ON t.id = a.task_id"
        " WHERE t.project_id = :p AND a.step = 'adjudicate' ORDER BY t.external_id",
    )
    got = {r[0]: r[1:] for r in rows}
    assert got[picked.external_id][1] == picked.shown_ids[1]
    assert got[picked.external_id][2] == "completed"
    assert json.loads(got[own.external_id][0]) == {
        "kind": "spans",
        "spans": [{"start": 0, "end": 3, "label": "person"}],
    }
    assert got[own.external_id][1:] == (None, "completed")


def test_merge_starts_from_the_union(voted: al.Project) -> None:
    loop = voted.annotate(f"{voted.name}-judge")
    assert isinstance(loop.panel, AdjudicationPanel)
    loop.panel.bar.press("merge")
    widget = loop.widget
    assert isinstance(widget, NER)
    item = loop.session.current
    assert item is not None
    expected = {
        "t1": [(0, 3, "person"), (17, 22, "location")],
        "t2": [(0, 3, "person"), (7, 11, "location")],
    }[item.external_id]
    assert [(s["start"], s["end"], s["label"]) for s in widget.value] == expected


def test_disagreements_of_choices_and_boxes() -> None:
    a = {"kind": "choice", "label": "pos"}
    classify = al.Layout.load("classify")
    assert disagreements([a, dict(a)], classify) == [{"label": []}, {"label": []}]
    box = {"x": 0, "y": 0, "width": 10, "height": 10, "label": "cat"}
    near = {**box, "x": 1}  # IoU 0.82
    far = {**box, "x": 6}  # IoU 0.25
    boxes = [{"kind": "boxes", "boxes": [box]}, {"kind": "boxes", "boxes": [near, far]}]
    assert disagreements(boxes, al.Layout.load("bbox")) == [{"objects": []}, {"objects": [1]}]


def test_form_answers_are_compared_and_merged_question_by_question() -> None:
    layout = al.Layout.load("clinical-ner-v1")
    aspirin = {"start": 19, "end": 26, "label": "Medication"}
    fever = {"start": 0, "end": 5, "label": "Diagnosis"}

    def form(spans: list[dict[str, object]], confidence: str) -> dict[str, object]:
        return {
            "kind": "form",
            "answers": {
                "entities": {"kind": "spans", "spans": spans},
                "confidence": {"kind": "choice", "label": confidence},
            },
        }

    a, b = form([fever, aspirin], "high"), form([aspirin], "low")
    assert disagreements([a, b], layout) == [
        {"entities": [0], "confidence": [0]},
        {"entities": [], "confidence": [0]},
    ]
    # A question one answer leaves out is disputed in the others.
    c = {"kind": "form", "answers": {"entities": {"kind": "spans", "spans": [aspirin]}}}
    assert disagreements([b, c], layout) == [
        {"entities": [], "confidence": [0]},
        {"entities": []},
    ]
    assert merge([a, b], layout, allow_overlap=False) == {
        "kind": "form",
        "answers": {
            "entities": {"kind": "spans", "spans": [fever, aspirin]},
            "confidence": {"kind": "choice", "label": "high"},
        },
    }


@pytest.mark.parametrize("offered", [True, False])
def test_a_persona_answer_is_offered_as_suggestions(workspace: al.Workspace, offered: bool) -> None:
    proj = workspace.create_project(f"sg-{uuid.uuid4().hex[:8]}", labels=["person", "location"])
    proj.add_tasks(pl.DataFrame({"id": ["t1"], "text": ["Ada met Grace"]}), id="id")
    with workspace.engine.begin() as conn:
        task_id = conn.execute(
            sa.text("SELECT id FROM tasks WHERE project_id = :p"), {"p": proj.id}
        ).scalar_one()
        bot = ensure_user(conn, f"{proj.name}-persona", kind=UserKind.PERSONA)
        upsert_annotations(
            conn,
            [
                NewAnnotation(
                    id=uuid.uuid4(),
                    task_id=task_id,
                    user_id=bot,
                    kind=AnnotationKind.PERSONA,
                    status=AnnotationStatus.SUBMITTED,
                    payload={
                        "kind": "spans",
                        "spans": [{"start": 8, "end": 13, "label": "person"}],
                    },
                )
            ],
            actor="test",
            project_id=proj.id,
        )
    loop = proj.annotate("someone", suggestions=offered)
    widget = loop.widget
    assert isinstance(widget, NER)
    got = [(s["start"], s["end"], s["label"]) for s in widget.suggestions]
    assert got == ([(8, 13, "person")] if offered else [])
    assert widget.value == []  # suggested, not yet accepted


def test_without_blind_the_reviewer_and_adjudicator_see_names(workspace: al.Workspace) -> None:
    proj = workspace.create_project(
        f"nb-{uuid.uuid4().hex[:8]}",
        labels=["pos", "neg"],
        layout="classify",
        workflow=al.workflows.review(fraction=1.0, blind=False),
    )
    proj.add_tasks(pl.DataFrame({"id": ["t0"], "text": ["fine"]}), id="id")
    workspace.set_roles(f"{proj.name}-rev", ["reviewer"])
    worker = proj.session(f"{proj.name}-lab", clock=frozen)
    worker.next()
    worker.submit({"kind": "choice", "label": "pos"})
    panel = proj.annotate(f"{proj.name}-rev").panel
    assert isinstance(panel, ReviewPanel)
    assert panel.heading.value == f"Work under review by {proj.name}-lab"
    answers = [Shown("Label: pos"), Shown("Label: neg")]
    named = AdjudicationPanel(answers, ["ann", "bea"], blind=False)
    blind = AdjudicationPanel(answers, ["ann", "bea"], blind=True)
    assert (named.names, blind.names) == (["ann", "bea"], ["Annotator 1", "Annotator 2"])


CLINICAL = "Fever treated with aspirin."
FEVER = {"start": 0, "end": 5, "label": "Diagnosis"}
ASPIRIN = {"start": 19, "end": 26, "label": "Medication"}


def _clinical(workspace: al.Workspace, workflow: al.Workflow) -> al.Project:
    proj = workspace.create_project(
        f"cl-{uuid.uuid4().hex[:8]}", labels=["x"], layout="clinical-ner-v1", workflow=workflow
    )
    proj.add_tasks(
        pl.DataFrame({"document_id": ["n1"], "document_text": [CLINICAL], "priority": ["high"]}),
        id="document_id",
        text="document_text",
    )
    return proj


def _keys(spans: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(s["start"], s["end"], s["label"]) for s in spans]


def _form(spans: list[dict[str, object]], confidence: str) -> dict[str, object]:
    return {
        "kind": "form",
        "answers": {
            "entities": {"kind": "spans", "spans": spans},
            "confidence": {"kind": "choice", "label": confidence},
        },
    }


def test_a_layout_s_work_is_reviewed_and_revised_in_its_layout_widget(
    workspace: al.Workspace,
) -> None:
    proj = _clinical(workspace, al.workflows.review(fraction=1.0))
    workspace.set_roles(f"{proj.name}-rev", ["reviewer"])
    worker = proj.session(f"{proj.name}-lab", clock=frozen)
    assert worker.next() is not None
    worker.submit(_form([FEVER], "medium"))

    loop = proj.annotate(f"{proj.name}-rev")
    panel = loop.panel
    assert isinstance(panel, ReviewPanel)
    assert panel.summary.value == ("entities: Spans: 'Fever' Diagnosis | confidence: Label: medium")
    assert [type(v).__name__ for v in panel.views] == ["Preview"]
    assert _keys(panel.views[0].spans) == _keys([FEVER])
    panel.bar.reason = "aspirin is a medication"
    panel.bar.press("revise")
    widget = loop.widget
    assert isinstance(widget, LayoutWidget)
    # The copy holds the work under review, every answer in its part.
    assert _keys(widget.part("entities").value) == _keys([FEVER])
    assert widget.part("confidence").value["confidence"] == "medium"
    widget.part("entities").value = [FEVER, ASPIRIN]
    widget.submit()
    assert loop.widget is None

    (payload, status, comment) = _rows(
        proj,
        "SELECT a.payload::text, a.status::text, r.comment FROM annotations a"
        " JOIN tasks t ON t.id = a.task_id JOIN reviews r ON r.annotation_id = a.parent_id"
        " WHERE t.project_id = :p AND a.step = 'review'",
    )[0]
    assert json.loads(str(payload)) == _form([FEVER, ASPIRIN], "medium")
    assert (status, comment) == ("approved", "aspirin is a medication")


def test_a_layout_s_answers_are_adjudicated_and_merged_question_by_question(
    workspace: al.Workspace,
) -> None:
    proj = _clinical(workspace, al.workflows.vote(annotators=2, metric="span_f1", threshold=0.9))
    workspace.set_roles(f"{proj.name}-judge", ["adjudicator"])
    for who, answer in (("ann", _form([FEVER, ASPIRIN], "high")), ("bea", _form([ASPIRIN], "low"))):
        session = proj.session(f"{proj.name}-{who}", clock=frozen)
        assert session.next() is not None
        session.submit(answer)

    loop = proj.annotate(f"{proj.name}-judge")
    panel = loop.panel
    assert isinstance(panel, AdjudicationPanel)
    assert sorted(n.value for n in panel.notes) == [
        "⚠ Not in every answer: confidence: low",
        "⚠ Not in every answer: entities: 'Fever' Diagnosis; confidence: high",
    ]
    previews = [c.children[1] for c in panel.columns]
    assert sorted(len(p.disputed) for p in previews) == [0, 1]
    panel.bar.press("merge")
    widget = loop.widget
    assert isinstance(widget, LayoutWidget)
    assert _keys(widget.part("entities").value) == _keys([FEVER, ASPIRIN])
    assert widget.part("confidence").value["confidence"] in ("high", "low")  # the first's
    widget.part("confidence").value = {**widget.part("confidence").value, "confidence": "high"}
    widget.submit()
    assert loop.widget is None and loop.panel is None
    stored = _rows(
        proj,
        "SELECT a.payload::text, t.status::text FROM annotations a"
        " JOIN tasks t ON t.id = a.task_id WHERE t.project_id = :p AND a.step = 'adjudicate'",
    )
    assert [(json.loads(str(p)), s) for p, s in stored] == [
        (_form([FEVER, ASPIRIN], "high"), "completed")
    ]


def test_a_persona_answer_is_offered_in_a_layout_widget(workspace: al.Workspace) -> None:
    proj = _clinical(workspace, al.workflows.single())
    with workspace.engine.begin() as conn:
        task_id = conn.execute(
            sa.text("SELECT id FROM tasks WHERE project_id = :p"), {"p": proj.id}
        ).scalar_one()
        bot = ensure_user(conn, f"{proj.name}-persona", kind=UserKind.PERSONA)
        upsert_annotations(
            conn,
            [
                NewAnnotation(
                    id=uuid.uuid4(),
                    task_id=task_id,
                    user_id=bot,
                    kind=AnnotationKind.PERSONA,
                    status=AnnotationStatus.SUBMITTED,
                    payload={"kind": "spans", "spans": [ASPIRIN]},
                )
            ],
            actor="test",
            project_id=proj.id,
        )
    widget = proj.annotate("someone").widget
    assert isinstance(widget, LayoutWidget)
    assert _keys(widget.part("entities").suggestions) == _keys([ASPIRIN])
    assert widget.part("entities").value == []  # offered, not accepted
    # The AI-suggestions block shows only because there is one.
    assert "1 suggested for 'entities'" in str(widget.children[0].blocks)


def test_box_answers_are_drawn_read_only_with_the_disputed_ones_marked(
    workspace: al.Workspace, tmp_path: Path
) -> None:
    image = tmp_path / "i1.png"
    image.write_bytes(png(40, 30))
    proj = workspace.create_project(
        f"bx-{uuid.uuid4().hex[:8]}",
        labels=["cat", "dog"],
        layout="bbox",
        workflow=al.workflows.vote(annotators=2, metric="box_f1", threshold=0.99),
    )
    proj.add_tasks(pl.DataFrame({"id": ["i1"], "image": [str(image)]}), id="id", text="image")
    workspace.set_roles(f"{proj.name}-judge", ["adjudicator"])
    cat = {"x": 1.0, "y": 1.0, "width": 10.0, "height": 10.0, "label": "cat"}
    dog = {"x": 20.0, "y": 5.0, "width": 8.0, "height": 8.0, "label": "dog"}
    for who, boxes in (("ann", [cat, dog]), ("bea", [cat])):
        session = proj.session(f"{proj.name}-{who}", clock=frozen)
        assert session.next() is not None
        session.submit({"kind": "boxes", "boxes": boxes})
    loop = proj.annotate(f"{proj.name}-judge")
    panel = loop.panel
    assert isinstance(panel, AdjudicationPanel)
    drawn = [c.children[1] for c in panel.columns]
    assert all(isinstance(b, BBox) and b.read_only for b in drawn)
    assert sorted((len(b.value), b.disputed) for b in drawn) == [(1, []), (2, [1])]
    assert sorted(n.value for n in panel.notes) == [
        "Agrees with every other answer.",
        "⚠ Not in every answer: dog at (20, 5) 8 by 8",
    ]


def _persona_answer(workspace: al.Workspace, proj: al.Project, payload: dict[str, object]) -> None:
    with workspace.engine.begin() as conn:
        task_id = conn.execute(
            sa.text("SELECT id FROM tasks WHERE project_id = :p"), {"p": proj.id}
        ).scalar_one()
        bot = ensure_user(conn, f"{proj.name}-persona", kind=UserKind.PERSONA)
        new = NewAnnotation(
            id=uuid.uuid4(),
            task_id=task_id,
            user_id=bot,
            kind=AnnotationKind.PERSONA,
            status=AnnotationStatus.SUBMITTED,
            payload=payload,
        )
        upsert_annotations(conn, [new], actor="test", project_id=proj.id)


def test_expert_review_shows_the_person_s_correction_against_the_model(
    workspace: al.Workspace,
) -> None:
    proj = workspace.create_project(
        f"ex-{uuid.uuid4().hex[:8]}",
        labels=["person", "location"],
        workflow=al.workflows.review(fraction=1.0),
    )
    proj.add_tasks(
        pl.DataFrame({"id": ["t1"], "text": ["Ada Lovelace met Grace in Paris"]}), id="id"
    )
    workspace.set_roles(f"{proj.name}-rev", ["reviewer"])
    ada = {"start": 0, "end": 3, "label": "person"}
    paris = {"start": 26, "end": 31, "label": "location"}
    _persona_answer(workspace, proj, {"kind": "spans", "spans": [ada, paris]})
    worker = proj.session(f"{proj.name}-lab", clock=frozen)
    assert worker.next() is not None
    ada_lovelace = {"start": 0, "end": 12, "label": "person"}
    worker.submit({"kind": "spans", "spans": [ada_lovelace, paris]})

    panel = proj.annotate(f"{proj.name}-rev").panel
    assert isinstance(panel, ReviewPanel)
    assert panel.changes.value == "Changed: - 'Ada' person; + 'Ada Lovelace' person"
    model_view = panel.model.children[1]
    assert isinstance(model_view, Preview)
    assert [model_view.spans[i]["end"] for i in model_view.disputed] == [3]  # removed
    work_view = panel.views[0]
    assert [work_view.spans[i]["end"] for i in work_view.disputed] == [12]  # added
