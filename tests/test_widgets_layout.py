"""annolab.LayoutWidget and its Form: composition per layout, one payload, required answers."""

from __future__ import annotations

from typing import Any

import pytest

import annolab as al
from annolab.errors import ValidationError
from annolab.widgets import NER, BBox, Form, LayoutWidget, WidgetTraitError

TEXT = "Patient with pneumonia was given amoxicillin."
DATA = {"document_id": "doc-7", "document_text": TEXT, "priority": "high"}


def seed() -> Any:
    return al.Layout.load("clinical-ner-v1")


def send(widget: Any, patch: dict[str, Any]) -> list[Any]:
    """Delivers a patch as the front end does; returns the answers the widget sent back."""
    sent: list[Any] = []
    widget.send = sent.append
    widget._on_custom_msg(widget, {**patch, "uuid": "u1"}, [])
    return sent


def test_the_seed_composes_header_ner_and_a_form_in_layout_order() -> None:
    w = LayoutWidget(seed(), DATA)
    assert [type(p).__name__ for p in w.children] == ["Form", "NER", "Form"]
    header = w.children[0]
    assert header.blocks == [
        {
            "kind": "header",
            "fields": [{"name": "document_id", "value": "doc-7"}],
            "badges": ["High"],
        }
    ]
    ner = w.part("entities")
    assert isinstance(ner, NER)
    assert [(x["name"], x["color"], x["hotkey"]) for x in ner.labels] == [
        ("Diagnosis", "#ff6b6b", "d"),
        ("Medication", "#4ecdc4", "m"),
        ("Procedure", "#45b7d1", "p"),
        ("Anatomy", "#96ceb4", "a"),
    ]
    assert ner.allow_overlap is False
    assert ner.show_submit is False
    form = w.part("confidence")
    assert form is w.part("notes") is w.children[2]
    assert [q["name"] for q in form.questions] == ["confidence", "document_quality", "notes"]
    assert form.questions[0]["required"] is True
    assert [o["name"] for o in form.questions[0]["options"]] == ["high", "medium", "low"]
    assert form.questions[2]["rows"] == 2
    assert form.show_submit is True
    assert "annolab-layout" in w._dom_classes


def test_the_priority_badge_uses_the_input_default_and_the_suggestions_block_needs_one() -> None:
    w = LayoutWidget(seed(), {"document_text": TEXT})
    assert w.children[0].blocks[0]["badges"] == ["Normal"]
    assert [b["kind"] for b in w.children[0].blocks] == ["header"]
    spans = [{"start": 13, "end": 22, "label": "Diagnosis", "score": 0.9}]
    suggested = LayoutWidget(seed(), {"document_text": TEXT}, suggestions={"entities": spans})
    blocks = suggested.children[0].blocks
    assert [b["kind"] for b in blocks] == ["header", "suggestions"]
    assert blocks[1]["text"].startswith("1 suggested for 'entities'")
    assert suggested.part("entities").suggestions == spans


def test_value_is_one_form_payload_with_every_answer() -> None:
    w = LayoutWidget(seed(), DATA)
    w.part("entities").value = [{"start": 13, "end": 22, "label": "Diagnosis"}]
    send(w.part("confidence"), {"op": "set", "question": "confidence", "value": "medium"})
    send(w.part("notes"), {"op": "set", "question": "notes", "value": "short note"})
    assert w.value.to_dict() == {
        "kind": "form",
        "answers": {
            "entities": {
                "kind": "spans",
                "spans": [{"start": 13, "end": 22, "label": "Diagnosis"}],
            },
            "confidence": {"kind": "choice", "label": "medium"},
            "notes": {"kind": "text", "text": "short note"},
        },
    }
    assert seed().output(w.payload, DATA) == {
        "entities": [{"start": 13, "end": 22, "type": "Diagnosis", "text": "pneumonia"}],
        "confidence": "medium",
        "document_quality": None,
        "notes": "short note",
    }


def test_a_value_given_is_spread_over_the_parts() -> None:
    start = {
        "kind": "form",
        "answers": {
            "entities": {
                "kind": "spans",
                "spans": [{"start": 33, "end": 44, "label": "Medication"}],
            },
            "document_quality": {"kind": "choice", "label": "fair"},
        },
    }
    w = LayoutWidget(seed(), DATA, value=start)
    assert w.part("entities").value == [{"start": 33, "end": 44, "label": "Medication"}]
    assert w.part("document_quality").value == {
        "confidence": None,
        "document_quality": "fair",
        "notes": "",
    }
    assert w.value.to_dict() == start


def test_a_missing_required_answer_blocks_submit_and_names_the_question() -> None:
    w = LayoutWidget(seed(), DATA)
    submitted: list[Any] = []
    w.on_submit(lambda x: submitted.append(x.payload))
    w.submit()
    assert submitted == []
    assert w.error == "Not submitted: answers.confidence=None is required; answer it to submit"
    assert w.children[-1].error == w.error  # shown next to the Submit button
    w.part("confidence").value = {**w.part("confidence").value, "confidence": "high"}
    w.submit()
    assert w.error == ""
    assert [p.to_dict()["answers"]["confidence"] for p in submitted] == [
        {"kind": "choice", "label": "high"}
    ]


def test_a_completion_rule_blocks_submit_with_its_reason() -> None:
    w = LayoutWidget(seed(), DATA)
    form = w.part("confidence")
    form.value = {**form.value, "confidence": "low", "document_quality": "poor"}
    w.submit()
    assert w.error == (
        "Not submitted: answers.notes=None is required when document_quality is 'poor' "
        "(completion[0]); answer it to submit"
    )


def test_skip_and_draft_reach_their_callbacks_from_any_part() -> None:
    w = LayoutWidget(seed(), DATA)
    seen: list[str] = []
    w.on_skip(lambda _w: seen.append("skip"))
    w.on_draft(lambda _w: seen.append("draft"))
    w.part("entities").skip_count += 1
    w.part("notes").draft_count += 1
    w.skip()
    assert seen == ["skip", "draft", "skip"]
    w.show_draft = True
    assert w.children[-1].show_draft is True


def test_form_patches_are_validated_and_errors_name_the_question() -> None:
    w = LayoutWidget(seed(), DATA)
    form = w.part("confidence")
    answers = send(form, {"op": "set", "question": "confidence", "value": "certain"})
    assert answers == [
        {
            "uuid": "u1",
            "error": "value['confidence']='certain' is not an option of 'confidence'; "
            "use one of ['high', 'medium', 'low']",
        }
    ]
    assert form.value["confidence"] is None
    answers = send(form, {"op": "set", "question": "mood", "value": "x"})
    assert "question='mood' is not one of" in answers[0]["error"]
    with pytest.raises(WidgetTraitError, match=r"value\['notes'\]=5 must be a string"):
        form.value = {**form.value, "notes": 5}


def test_rating_choices_and_text_limits() -> None:
    form = Form(
        questions=[
            {"name": "stars", "kind": "rating", "scale": 4},
            {
                "name": "tags",
                "kind": "choices",
                "options": [{"name": "a"}, {"name": "b"}],
                "max": 1,
            },
            {"name": "why", "kind": "text", "rows": 2, "max_chars": 5},
        ]
    )
    assert form.value == {"stars": None, "tags": [], "why": ""}
    form.value = {"stars": 4, "tags": ["b"], "why": "short"}
    assert form.payload == {
        "stars": {"kind": "rating", "value": 4, "min": 1, "max": 4},
        "tags": {"kind": "choices", "labels": ["b"]},
        "why": {"kind": "text", "text": "short"},
    }
    with pytest.raises(WidgetTraitError, match=r"value\['stars'\]=5 must be an int from 1 to 4"):
        form.value = {**form.value, "stars": 5}
    with pytest.raises(WidgetTraitError, match=r"value\['stars'\]=True"):
        form.value = {**form.value, "stars": True}
    with pytest.raises(WidgetTraitError, match="chooses more than max=1"):
        form.value = {**form.value, "tags": ["a", "b"]}
    with pytest.raises(WidgetTraitError, match="is 7 characters long; 'why' takes at most"):
        form.value = {**form.value, "why": "toolong"}
    with pytest.raises(WidgetTraitError, match=r"questions\[0\].kind='slider' is not a form"):
        Form(questions=[{"name": "s", "kind": "slider"}])


def test_a_one_question_layout_takes_the_questions_own_payload() -> None:
    ner = al.Layout.load("ner")
    w = LayoutWidget(ner, {"text": "Ada met Bob."}, labels=["PER"])
    assert [type(p).__name__ for p in w.children] == ["NER", "Form"]
    assert w.value.to_dict() == {"kind": "spans", "spans": []}
    w.part(ner.questions[0].name).value = [{"start": 0, "end": 3, "label": "PER"}]
    assert w.payload.to_dict() == {
        "kind": "spans",
        "spans": [{"start": 0, "end": 3, "label": "PER"}],
    }


def test_task_data_and_values_are_checked_at_the_edge() -> None:
    with pytest.raises(ValidationError, match=r"data\.document_text=None is required"):
        LayoutWidget(seed(), {"document_id": "x"})
    with pytest.raises(ValidationError, match="is not what layout 'clinical-ner-v1' asks for"):
        LayoutWidget(seed(), DATA, value={"kind": "choice", "label": "high"})
    with pytest.raises(
        ValidationError, match="suggestions='moods' is not a question of layout 'clinical-ner-v1'"
    ):
        LayoutWidget(seed(), DATA, suggestions={"moods": []})


def test_boxes_questions_get_a_bbox() -> None:
    bbox = al.Layout.load("bbox")
    question = bbox.questions[0]
    assert question.kind == "boxes"
    png_url = "https://example.org/x.png"
    w = LayoutWidget(bbox, {question.field: png_url}, labels=["car"])
    assert isinstance(w.part(question.name), BBox)


def test_a_judging_question_composes_with_a_form_through_parts() -> None:
    from annolab.annotate import _part
    from annolab.widgets.pairwise import Pairwise

    judge = al.Layout.from_dict(
        {
            "name": "judge",
            "inputs": [
                {"name": "text", "type": "text"},
                {"name": "a", "type": "text"},
                {"name": "b", "type": "text"},
            ],
            "questions": [
                {"name": "better", "kind": "pairwise", "prompt": "text", "a": "a", "b": "b"},
                {"name": "confidence", "kind": "choice", "options": ["high", "low"]},
            ],
        }
    )
    data = {"text": "Where is the Empire State Building?", "a": "New York", "b": "Paris"}
    with pytest.raises(WidgetTraitError, match="has no widget here; pass parts="):
        LayoutWidget(judge, data)
    w = LayoutWidget(judge, data, parts=_part)
    pair = w.part("better")
    assert isinstance(pair, Pairwise) and pair.show_submit is False
    with pytest.raises(ValidationError) as info:
        w.payload  # noqa: B018
    assert str(info.value).startswith("answers.better.")
    pair.value = {"choice": "a", "rationale": "", "criteria": {}}
    w.part("confidence").value = {"confidence": "high"}
    assert w.payload.to_dict() == {
        "kind": "form",
        "answers": {
            "better": {"kind": "pairwise", "choice": "a", "rationale": "", "criteria": {}},
            "confidence": {"kind": "choice", "label": "high"},
        },
    }
