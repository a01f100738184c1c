"""Review and adjudication in ``project.annotate()`` in real JupyterLab: an annotator, a
reviewer and an adjudicator driven with mouse and keyboard, the database checked from the next
cell after each action."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.browser.lab import Notebook, expect
from tests.browser.test_ner_browser import drag_over

pytestmark = [pytest.mark.browser, pytest.mark.db]

TEXTS = ["Loved the show", "Rain all day again", "Fine, I guess"]


def test_annotator_then_reviewer_approve_reject_revise(notebook: Notebook, db_url: str) -> None:
    name = f"rv-{uuid.uuid4().hex[:8]}"
    keys = notebook.page.keyboard
    output = notebook.run(
        "import annolab as al, polars as pl, sqlalchemy as sa\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"proj = ws.create_project({name!r}, labels=['positive', 'negative'],\n"
        "    layout='classify', workflow=al.workflows.review(fraction=1.0))\n"
        f"proj.add_tasks(pl.DataFrame({{'id': ['t0', 't1', 't2'], 'text': {TEXTS!r}}}), id='id')\n"
        f"ws.set_roles({name + '-rev'!r}, ['reviewer'])\n"
        f"loop = proj.annotate({name + '-lab'!r})\n"
        "loop"
    )
    area = output.locator
    item = area.locator(".annolab-classify-item")
    for done, key in enumerate(("1", "2", "1")):  # positive, negative, positive
        # The next task is on screen once the progress line moved on.
        expect(
            area.get_by_text(f"{done} of 3 in your queue done; {3 - done} to go")
        ).to_be_visible()
        expect(area.locator(".annolab-classify-text")).to_have_text(TEXTS[done])
        item.click()
        keys.press(key)
        keys.press("Control+Enter")
    expect(area.get_by_text("Nothing left in your queue. Thank you!")).to_be_visible()
    assert notebook.value(
        "proj.annotations().select('external_id', 'status', 'payload').rows()"
    ) == [
        ["t0", "submitted", '{"kind": "choice", "label": "positive"}'],
        ["t1", "submitted", '{"kind": "choice", "label": "negative"}'],
        ["t2", "submitted", '{"kind": "choice", "label": "positive"}'],
    ]

    output = notebook.run(f"rev = proj.annotate({name + '-rev'!r})\nrev")
    area = output.locator
    expect(area.get_by_text("Work under review (annotator hidden: blind workflow)")).to_be_visible()
    expect(area.get_by_text("Label: positive")).to_be_visible()  # the annotator's work
    assert f"{name}-lab" not in area.inner_text()
    notebook.screenshot("review_loop", area)
    current = "rev.session.current.external_id if rev.session.current else None"
    first = notebook.value(current)
    bar = area.locator(".annolab-actions .annolab-keys")
    cells = notebook.cell_count()
    bar.click()
    keys.press("a")  # approve; JupyterLab's "a" (insert a cell above) must not fire
    expect(area.get_by_text("Label: negative")).to_be_visible()
    assert notebook.cell_count() == cells
    statuses = (
        "dict(proj.annotations().filter(pl.col('step') == 'annotate')"
        ".select('external_id', 'status').rows())"
    )
    assert notebook.value(statuses)[first] == "approved"
    assert (
        notebook.value(f"dict(proj.tasks().select('external_id', 'status').rows())[{first!r}]")
        == "completed"
    )

    second = notebook.value(current)
    bar.click()
    keys.press("r")  # reject without a reason: refused, said so
    expect(area.get_by_text("a rejection needs a reason")).to_be_visible()
    assert notebook.value(statuses)[second] == "submitted"
    area.locator(".annolab-reason").fill("It is about the weather, not negative")
    area.locator("button[data-action='reject']").click()
    expect(area.get_by_text("Label: positive")).to_be_visible()
    assert notebook.value(statuses)[second] == "rejected"
    assert notebook.value(
        "[tuple(r) for r in ws.engine.connect().execute(sa.text('SELECT r.decision::text,"
        " r.comment FROM reviews r JOIN annotations a ON a.id = r.annotation_id"
        " JOIN tasks t ON t.id = a.task_id WHERE t.project_id = :p ORDER BY r.decision'),"
        " {'p': proj.id})]"
    ) == [["approve", ""], ["reject", "It is about the weather, not negative"]]

    third = notebook.value(current)
    bar.click()
    keys.press("e")  # revise: an editable copy
    expect(area.locator(".annolab-classify-text")).to_be_visible()
    notebook.screenshot("review_revise", area)
    area.locator(".annolab-classify-item").click()
    keys.press("2")
    keys.press("Control+Enter")
    expect(area.get_by_text("Nothing left in your queue. Thank you!")).to_be_visible()
    rows = notebook.value(
        f"proj.annotations().filter(pl.col('external_id') == {third!r})"
        ".sort('step').select('step', 'status', 'payload', 'parent_id', 'annotation_id').rows()"
    )
    (annotated, revision) = rows
    assert annotated[:3] == ["annotate", "submitted", '{"kind": "choice", "label": "positive"}']
    assert revision[:3] == ["review", "approved", '{"kind": "choice", "label": "negative"}']
    assert revision[3] == annotated[4]
    assert (
        notebook.value(f"dict(proj.tasks().select('external_id', 'status').rows())[{third!r}]")
        == "completed"
    )
    assert notebook.page_errors == []


def test_adjudicator_picks_one_and_writes_its_own(notebook: Notebook, db_url: str) -> None:
    name = f"aj-{uuid.uuid4().hex[:8]}"
    keys = notebook.page.keyboard
    notebook.run(
        "import annolab as al, polars as pl, sqlalchemy as sa\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"proj = ws.create_project({name!r}, labels=['positive', 'negative'], layout='classify',\n"
        "    workflow=al.workflows.vote(annotators=2, metric='exact', threshold=1.0))\n"
        f"proj.add_tasks(pl.DataFrame({{'id': ['t0', 't1'], 'text': {TEXTS[:2]!r}}}), id='id')\n"
        f"ws.set_roles({name + '-judge'!r}, ['adjudicator'])\n"
        "for who, label in (('ann', 'positive'), ('bea', 'negative')):\n"
        f"    s = proj.session({name!r} + '-' + who)\n"
        "    while s.next() is not None:\n"
        "        s.submit({'kind': 'choice', 'label': label})\n"
    )
    output = notebook.run(f"judge = proj.annotate({name + '-judge'!r})\njudge")
    area = output.locator
    expect(area.get_by_text("Annotator 1", exact=True)).to_be_visible()
    expect(area.get_by_text("Annotator 2", exact=True)).to_be_visible()
    expect(area.get_by_text("⚠ Not in every answer: positive")).to_be_visible()
    expect(area.get_by_text("⚠ Not in every answer: negative")).to_be_visible()
    assert f"{name}-ann" not in area.inner_text()
    notebook.screenshot("adjudicate_loop", area)
    current = "judge.session.current"
    first = notebook.value(f"[{current}.external_id, {current}.shown[1]['label']]")
    area.locator(".annolab-actions .annolab-keys").click()
    keys.press("2")  # pick Annotator 2
    adjudicated = (
        "proj.annotations().filter(pl.col('step') == 'adjudicate')"
        ".select('external_id', 'payload').rows()"
    )
    expect(area.get_by_text("Annotator 1", exact=True)).to_be_visible()
    notebook.wait_until_idle()
    assert notebook.value(adjudicated) == [
        [first[0], f'{{"kind": "choice", "label": "{first[1]}"}}']
    ]
    second = notebook.value(f"{current}.external_id")
    area.locator("button[data-action='own']").click()  # write my own
    expect(area.locator(".annolab-classify-text")).to_be_visible()
    area.locator(".annolab-classify-item").click()
    keys.press("1")
    keys.press("Control+Enter")
    expect(area.get_by_text("Nothing left in your queue. Thank you!")).to_be_visible()
    assert sorted(notebook.value(adjudicated)) == sorted(
        [
            [first[0], f'{{"kind": "choice", "label": "{first[1]}"}}'],
            [second, '{"kind": "choice", "label": "positive"}'],
        ]
    )
    assert notebook.value("sorted(proj.tasks()['status'].to_list())") == [
        "completed",
        "completed",
    ]
    assert notebook.page_errors == []


def test_a_persona_answer_is_offered_and_accepted(notebook: Notebook, db_url: str) -> None:
    name = f"sg-{uuid.uuid4().hex[:8]}"
    setup = (
        "import annolab as al, polars as pl, uuid\n"
        "from annolab.schema.enums import AnnotationKind, AnnotationStatus, UserKind\n"
        "from annolab.store.annotations import NewAnnotation, upsert_annotations\n"
        "from annolab.store.users import ensure_user\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"proj = ws.create_project({name!r}, labels=['positive', 'negative'], layout='classify')\n"
        f"proj.add_tasks(pl.DataFrame({{'id': ['t0', 't1'], 'text': {TEXTS[:2]!r}}}), id='id')\n"
        "with ws.engine.begin() as conn:\n"
        "    bot = ensure_user(conn, 'persona-critic', kind=UserKind.PERSONA)\n"
        "    upsert_annotations(conn, [NewAnnotation(id=uuid.uuid4(), task_id=t, user_id=bot,\n"
        "        kind=AnnotationKind.PERSONA, status=AnnotationStatus.SUBMITTED,\n"
        "        payload={'kind': 'choice', 'label': 'negative'})\n"
        "        for t in proj.tasks()['task_id']], actor='test', project_id=proj.id)\n"
        "loop = proj.annotate('bob')\n"
        "loop"
    )
    area = notebook.run(setup).locator
    accept = area.get_by_role("button", name="Accept suggestion: negative")
    expect(accept).to_be_visible()
    expect(area.get_by_text("suggested", exact=True)).to_be_visible()
    notebook.screenshot("suggestion_loop", area)
    accept.click()
    expect(area.get_by_text("No label chosen")).to_have_count(0)
    area.locator(".annolab-action-submit").click()
    expect(area.get_by_text("1 of 2 in your queue done; 1 to go")).to_be_visible()
    assert notebook.value(
        "proj.annotations().filter(pl.col('kind') == 'human')"
        ".select('external_id', 'user', 'payload').rows()"
    ) == [["t0", "bob", '{"kind": "choice", "label": "negative"}']]
    off = notebook.run("proj.annotate('bob', suggestions=False)").locator
    expect(off.locator(".annolab-classify-text")).to_have_text(TEXTS[1])
    expect(off.get_by_text("suggested", exact=True)).to_have_count(0)
    assert notebook.page_errors == []


def test_span_disagreements_are_outlined_side_by_side(notebook: Notebook, db_url: str) -> None:
    name = f"sd-{uuid.uuid4().hex[:8]}"
    notebook.run(
        "import annolab as al, polars as pl\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"proj = ws.create_project({name!r}, labels=['person', 'location'],\n"
        "    workflow=al.workflows.vote(annotators=2, metric='span_f1', threshold=0.9))\n"
        "tasks = pl.DataFrame({'id': ['t0'], 'text': ['Ada met Grace in Paris']})\n"
        "proj.add_tasks(tasks, id='id')\n"
        f"ws.set_roles({name + '-judge'!r}, ['adjudicator'])\n"
        "spans = {'ann': [(0, 3, 'person'), (17, 22, 'location')], 'bea': [(0, 3, 'person')]}\n"
        "for who, theirs in spans.items():\n"
        f"    s = proj.session({name!r} + '-' + who)\n"
        "    s.next()\n"
        "    s.submit({'kind': 'spans', 'spans': [dict(start=a, end=b, label=c)\n"
        "                                          for a, b, c in theirs]})\n"
    )
    area = notebook.run(f"judge = proj.annotate({name + '-judge'!r})\njudge").locator
    expect(area.locator(".annolab-preview")).to_have_count(2)
    disputed = area.locator(".annolab-span-disputed")
    expect(disputed).to_have_count(1)
    expect(disputed).to_have_text("Paris")
    expect(area.locator(".annolab-tag-disputed")).to_have_text("⚠ location")
    expect(area.get_by_text("⚠ Not in every answer: 'Paris' location")).to_be_visible()
    notebook.screenshot("adjudicate_spans", area)
    assert notebook.page_errors == []


def test_adjudicator_merges_the_union_and_deletes_a_span(notebook: Notebook, db_url: str) -> None:
    name = f"am-{uuid.uuid4().hex[:8]}"
    keys = notebook.page.keyboard
    notebook.run(
        "import annolab as al, polars as pl\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"proj = ws.create_project({name!r}, labels=['person', 'location'],\n"
        "    workflow=al.workflows.vote(annotators=2, metric='span_f1', threshold=0.9))\n"
        "tasks = pl.DataFrame({'id': ['t0'], 'text': ['Ada met Grace in Paris']})\n"
        "proj.add_tasks(tasks, id='id')\n"
        f"ws.set_roles({name + '-judge'!r}, ['adjudicator'])\n"
        "spans = {'ann': [(0, 3, 'person'), (17, 22, 'location')], 'bea': [(0, 3, 'person')]}\n"
        "for who, theirs in spans.items():\n"
        f"    s = proj.session({name!r} + '-' + who)\n"
        "    s.next()\n"
        "    s.submit({'kind': 'spans', 'spans': [dict(start=a, end=b, label=c)\n"
        "                                          for a, b, c in theirs]})\n"
    )
    area = notebook.run(f"judge = proj.annotate({name + '-judge'!r})\njudge").locator
    expect(area.locator(".annolab-preview")).to_have_count(2)
    expect(area.locator(".annolab-ner")).to_have_count(0)  # nothing editable before a choice
    cells = notebook.cell_count()
    area.locator(".annolab-actions .annolab-keys").click()
    keys.press("m")  # merge; JupyterLab's "m" (make the cell markdown) must not fire
    ner = area.locator(".annolab-ner")
    marks = ner.locator("mark.annolab-ner-mark")
    expect(marks).to_have_text(["Ada", "Paris"])
    assert notebook.cell_count() == cells
    # The answers stay in view above the merged copy.
    expect(area.locator(".annolab-preview")).to_have_count(2)
    assert notebook.value("judge.widget.value") == [
        {"start": 0, "end": 3, "label": "person"},
        {"start": 17, "end": 22, "label": "location"},
    ]

    # Drop "Ada" (a person both agreed on): the location alone is in no annotator's answer,
    # so the stored result can only have come from the edited merge.
    marks.filter(has_text="Ada").click()
    expect(ner.locator(".annolab-ner-describe")).to_contain_text("person “Ada”")
    keys.press("Delete")
    expect(marks).to_have_text(["Paris"])
    notebook.screenshot("adjudicate_merge_edited", area)
    ner.locator(".annolab-ner-text").focus()
    keys.press("Control+Enter")
    expect(area.get_by_text("Nothing left in your queue. Thank you!")).to_be_visible()
    rows = notebook.value(
        "proj.annotations().filter(pl.col('step') == 'adjudicate')"
        ".select('external_id', 'user', 'payload').rows()"
    )
    assert [[task, user, json.loads(payload)] for task, user, payload in rows] == [
        [
            "t0",
            f"{name}-judge",
            {"kind": "spans", "spans": [{"start": 17, "end": 22, "label": "location"}]},
        ]
    ]
    assert notebook.value("dict(proj.tasks().select('external_id', 'status').rows())") == {
        "t0": "completed"
    }
    assert notebook.page_errors == []


CLINICAL = "Fever treated with aspirin."


def test_a_clinical_form_is_reviewed_and_revised(notebook: Notebook, db_url: str) -> None:
    name = f"cf-{uuid.uuid4().hex[:8]}"
    keys = notebook.page.keyboard
    notebook.run(
        "import annolab as al, polars as pl, sqlalchemy as sa\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"proj = ws.create_project({name!r}, labels=['x'], layout='clinical-ner-v1',\n"
        "    workflow=al.workflows.review(fraction=1.0))\n"
        "proj.add_tasks(pl.DataFrame({'document_id': ['n1'],\n"
        f"    'document_text': [{CLINICAL!r}], 'priority': ['high']}}),\n"
        "    id='document_id', text='document_text')\n"
        f"ws.set_roles({name + '-rev'!r}, ['reviewer'])\n"
        f"s = proj.session({name + '-lab'!r})\n"
        "s.next()\n"
        "s.submit({'kind': 'form', 'answers': {\n"
        "    'entities': {'kind': 'spans',\n"
        "                 'spans': [{'start': 0, 'end': 5, 'label': 'Diagnosis'}]},\n"
        "    'confidence': {'kind': 'choice', 'label': 'medium'}}})\n"
    )
    area = notebook.run(f"rev = proj.annotate({name + '-rev'!r})\nrev").locator
    expect(area.get_by_text("Work under review (annotator hidden: blind workflow)")).to_be_visible()
    expect(area.locator(".annolab-preview mark.annolab-span")).to_have_text(["Fever"])
    expect(
        area.get_by_text("entities: Spans: 'Fever' Diagnosis | confidence: Label: medium")
    ).to_be_visible()
    expect(area.locator(".annolab-layout")).to_have_count(0)  # nothing editable yet
    notebook.screenshot("review_form_loop", area)

    reason = "aspirin is a Medication; the note is clear"
    area.locator(".annolab-reason").press_sequentially(reason)
    area.locator("button[data-action='revise']").click()
    layout = area.locator(".annolab-layout")
    expect(layout).to_have_count(1)
    ner = layout.locator(".annolab-ner")
    marks = ner.locator("mark.annolab-ner-mark")
    expect(marks).to_have_text(["Fever"])
    confidence = layout.locator("[data-annolab-question='confidence']")
    expect(confidence.locator(".annolab-form-chosen")).to_have_text(["medium"])
    expect(layout.locator(".annolab-form-badge")).to_have_text(["High"])
    # The Form part asks confidence, document_quality and notes; only confidence was answered.
    assert notebook.value("rev.widget.part('confidence').value") == {
        "confidence": "medium",
        "document_quality": None,
        "notes": "",
    }

    # The Medication hotkey m over "aspirin", then "high" with the mouse. The cell run above
    # scrolled the text out of view, and the drag goes by screen coordinates.
    ner.locator(".annolab-ner-text").scroll_into_view_if_needed()
    drag_over(notebook, ner, CLINICAL, "aspirin")
    keys.press("m")
    expect(marks).to_have_text(["Fever", "aspirin"])
    expect(ner.locator(".annolab-ner-tag")).to_have_text(["Diagnosis", "Medication"])
    confidence.get_by_role("button", name="high").click()
    expect(confidence.locator(".annolab-form-chosen")).to_have_text(["high"])
    notebook.screenshot("review_form_revised", area)
    # Each part has a Submit of its own, hidden; the layout's one is the button on screen.
    layout.get_by_role("button", name="Submit").click()
    expect(area.get_by_text("Nothing left in your queue. Thank you!")).to_be_visible()

    rows = notebook.value(
        "proj.annotations().sort('step')"
        ".select('step', 'status', 'payload', 'parent_id', 'annotation_id').rows()"
    )
    (annotated, revision) = rows
    assert annotated[:2] == ["annotate", "submitted"]
    assert revision[:2] == ["review", "approved"]
    assert json.loads(revision[2]) == {
        "kind": "form",
        "answers": {
            "entities": {
                "kind": "spans",
                "spans": [
                    {"start": 0, "end": 5, "label": "Diagnosis"},
                    {"start": 19, "end": 26, "label": "Medication"},
                ],
            },
            "confidence": {"kind": "choice", "label": "high"},
        },
    }
    assert revision[3] == annotated[4]
    assert notebook.value(
        "[tuple(r) for r in ws.engine.connect().execute(sa.text('SELECT r.decision::text,"
        " r.comment FROM reviews r JOIN annotations a ON a.id = r.annotation_id"
        " JOIN tasks t ON t.id = a.task_id WHERE t.project_id = :p'), {'p': proj.id})]"
    ) == [["revise", reason]]
    assert notebook.value("dict(proj.tasks().select('external_id', 'status').rows())") == {
        "n1": "completed"
    }
    assert notebook.page_errors == []


def test_the_loop_shows_the_document_id_in_the_clinical_header(
    notebook: Notebook, db_url: str
) -> None:
    name = f"ch-{uuid.uuid4().hex[:8]}"
    area = notebook.run(
        "import annolab as al, polars as pl\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"proj = ws.create_project({name!r}, labels=['x'], layout='clinical-ner-v1')\n"
        "proj.add_tasks(pl.DataFrame({'document_id': ['n1'],\n"
        f"    'document_text': [{CLINICAL!r}], 'priority': ['high']}}),\n"
        "    id='document_id', text='document_text')\n"
        f"proj.annotate({name + '-lab'!r})"
    ).locator
    layout = area.locator(".annolab-layout")
    expect(layout.locator(".annolab-form-badge")).to_have_text(["High"])
    expect(layout.locator(".annolab-form-field-value")).to_have_text(["n1"], timeout=3000)


def test_expert_review_shows_the_correction_beside_the_model(
    notebook: Notebook, db_url: str
) -> None:
    name = f"xr-{uuid.uuid4().hex[:8]}"
    output = notebook.run(
        "import annolab as al, polars as pl\n"
        f"ws = al.connect({db_url!r}, user='alice')\n"
        f"proj = ws.create_project({name!r}, labels=['person', 'location'],\n"
        "    workflow=al.workflows.review(fraction=1.0))\n"
        "proj.add_tasks(pl.DataFrame({'id': ['t1'],\n"
        "    'text': ['Ada Lovelace met Grace in Paris']}), id='id')\n"
        "ada, paris = (0, 3, 'person'), (26, 31, 'location')\n"
        "spans = lambda *xs: {'kind': 'spans', 'spans': [dict(zip(('start', 'end', 'label'), x))"
        " for x in xs]}\n"
        "proj.add_annotation('t1', spans(ada, paris), user='tagger', kind='model')\n"
        f"worker = proj.session({name + '-lab'!r})\n"
        "worker.next()\n"
        "worker.submit(spans((0, 12, 'person'), paris))\n"
        f"ws.set_roles({name + '-rev'!r}, ['reviewer'])\n"
        f"rev = proj.annotate({name + '-rev'!r})\n"
        "rev"
    )
    area = output.locator
    expect(area.get_by_text("Model's answer")).to_be_visible()
    expect(area.get_by_text("Changed: - 'Ada' person; + 'Ada Lovelace' person")).to_be_visible()
    # Each side marks what the other lacks: the model's "Ada", the person's "Ada Lovelace".
    flagged = area.locator(".annolab-tag-disputed")
    expect(flagged).to_have_count(2)
    notebook.screenshot("expert_review", area)
    area.locator(".annolab-actions .annolab-keys").click()
    notebook.page.keyboard.press("a")
    expect(area.get_by_text("Nothing left in your queue. Thank you!")).to_be_visible()
    assert (
        notebook.value(
            "proj.annotations().filter(pl.col('kind') == 'human').select('status').item()"
        )
        == "approved"
    )
