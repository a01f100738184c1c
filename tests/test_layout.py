"""annolab.Layout: round trip, errors that name path/value/rule, extends, conditions, completion
rules, and the seed layout clinical-ner-v1 (B.4)."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

import annolab as al
from annolab.errors import LayoutError, ValidationError
from annolab.resources import find_resource, load_layout
from annolab.schema import validate_payload
from annolab.schema.layout import Layout

SHIPPED = ["ner", "classify", "bbox", "clinical-ner-v1"]

NOTE = (
    "Patient with type 2 diabetes mellitus was started on metformin 500 mg after an "
    "ultrasound of the liver."
)


def _span(text: str, word: str, label: str) -> dict[str, Any]:
    start = NOTE.index(word)
    return {"start": start, "end": start + len(word), "label": label}


def _full_answer() -> dict[str, Any]:
    return {
        "kind": "form",
        "answers": {
            "entities": {
                "kind": "spans",
                "spans": [
                    _span(NOTE, "type 2 diabetes mellitus", "Diagnosis"),
                    _span(NOTE, "metformin", "Medication"),
                    _span(NOTE, "ultrasound", "Procedure"),
                    _span(NOTE, "liver", "Anatomy"),
                ],
            },
            "confidence": {"kind": "choice", "label": "high"},
            "document_quality": {"kind": "choice", "label": "good"},
            "notes": {"kind": "text", "text": "clear note"},
        },
    }


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_layout_round_trips_exactly(name: str) -> None:
    layout = Layout.load(name)
    assert layout.to_dict() == load_layout(name)
    assert Layout.from_dict(layout.to_dict()) == layout
    assert Layout.from_yaml(layout.to_yaml()) == layout
    assert yaml.safe_load(layout.to_yaml()) == yaml.safe_load(
        find_resource("layouts", f"{name}.yaml").read_text(encoding="utf-8")
    )


def test_layout_is_exported_as_annolab_layout() -> None:
    assert al.Layout is Layout


def test_answer_kinds_are_the_one_question_kind_or_form() -> None:
    assert Layout.load("ner").answer_kinds == ("spans",)
    assert Layout.load("classify").answer_kinds == ("choice",)
    assert Layout.load("bbox").answer_kinds == ("boxes",)
    assert Layout.load("clinical-ner-v1").answer_kinds == ("form",)


TEXT_Q = [{"kind": "text", "name": "notes"}]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"name": "x", "questions": [*TEXT_Q, {"kind": "slider", "name": "q"}]},
            "questions[1].kind='slider' is not a question kind; use one of spans, choice, "
            "choices, boxes, rating, text, pairwise, ranking, rubric, errors, correction",
        ),
        (
            {"name": "x", "questions": [{"name": "q"}]},
            "questions[0].kind=<missing> is required; use one of spans, choice, choices, boxes, "
            "rating, text, pairwise, ranking, rubric, errors, correction",
        ),
        (
            {"name": "x", "questions": TEXT_Q, "script": "alert(1)"},
            "script='alert(1)' is not a key of a layout; its keys are name, title, description, "
            "extends, inputs, display, questions, completion",
        ),
        (
            {"name": "x", "questions": TEXT_Q, "display": [{"kind": "html", "text": "<b>"}]},
            "display[0].kind='html' is not a display block kind; use one of header, text, image, "
            "guidelines, suggestions",
        ),
        (
            {"name": "x", "questions": [{"kind": "spans", "name": "e", "field": "body"}]},
            "questions[0].field='body' is not a declared input; inputs are none",
        ),
        (
            {"name": "x", "questions": TEXT_Q + TEXT_Q},
            "questions[1].name='notes' is already the name of questions[0]; names must be unique",
        ),
        (
            {
                "name": "x",
                "inputs": [{"name": "t", "type": "text"}],
                "questions": [
                    {
                        "kind": "spans",
                        "name": "e",
                        "field": "t",
                        "labels": [{"name": "A", "hotkey": "a"}, {"name": "B", "hotkey": "a"}],
                    }
                ],
            },
            "questions[0].labels[1].hotkey='a' is already the hotkey of labels[0]; hotkeys must "
            "be unique in a question",
        ),
        (
            {
                "name": "x",
                "questions": [
                    {"kind": "choice", "name": "c", "options": [{"name": "a", "color": "red"}]}
                ],
            },
            "questions[0].options[0].color='red' is not a colour of the form '#rrggbb' "
            "(e.g. '#aec7e8')",
        ),
        (
            {"name": "x", "questions": [{"kind": "rating", "name": "r", "scale": 11}]},
            "questions[0].scale=11 must be <= 10",
        ),
        (
            {"name": "x", "questions": [{"kind": "text", "name": "n", "required": "yes"}]},
            "questions[0].required='yes' must be true or false",
        ),
        (
            {"name": "x", "inputs": [{"name": "p", "type": "enum"}], "questions": TEXT_Q},
            "inputs[0].values=None must list the values of an enum input",
        ),
        (
            {"name": "x", "questions": TEXT_Q, "completion": [{"require": "summary"}]},
            "completion[0].require='summary' is not a declared question; questions are notes",
        ),
        (
            {"name": "x", "questions": TEXT_Q, "display": [{"kind": "header", "fields": ["id"]}]},
            "display[0].fields[0]='id' is not a declared input; inputs are none",
        ),
        ({"name": "x", "questions": []}, "questions=[] must list at least one question"),
    ],
)
def test_each_layout_error_names_path_value_and_rule(data: dict[str, Any], message: str) -> None:
    with pytest.raises(LayoutError) as caught:
        Layout.from_dict(data)
    assert str(caught.value) == message


def test_a_layout_error_carries_its_parts() -> None:
    with pytest.raises(LayoutError) as caught:
        Layout.from_dict({"name": "x", "questions": [{"kind": "slider", "name": "q"}]})
    error: Any = caught.value
    assert (error.field, error.value) == ("questions[0].kind", "slider")
    assert error.rule.startswith("is not a question kind")


def test_extends_replaces_by_name_and_appends_new(tmp_path: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("ANNOLAB_HOME", str(tmp_path))
    child = {
        "name": "clinical-ner-short",
        "extends": "clinical-ner-v1",
        "inputs": [{"name": "ward", "type": "string"}],
        "questions": [
            {"kind": "choice", "name": "confidence", "options": ["sure", "unsure"]},
            {"kind": "rating", "name": "difficulty", "scale": 3},
        ],
    }
    layout = Layout.from_dict(child)
    assert layout.base == "clinical-ner-v1"
    assert [q.name for q in layout.questions] == [
        "entities",
        "confidence",
        "document_quality",
        "notes",
        "difficulty",
    ]
    confidence = layout.question("confidence")
    assert [o.name for o in confidence.options or ()] == ["sure", "unsure"]  # type: ignore[union-attr]
    assert confidence.required is False  # replaced whole, not merged field by field
    assert [i.name for i in layout.inputs] == ["document_id", "document_text", "priority", "ward"]
    # The body is self-contained: a pinned copy does not change when the base does.
    assert "extends" not in layout.to_dict()
    assert Layout.from_dict(layout.to_dict()).to_dict() == layout.to_dict()
    # Equal through YAML: where it came from is not what it is.
    again = Layout.from_yaml(layout.to_yaml())
    assert again == layout and hash(again) == hash(layout) and again.base is None
    assert again != Layout.load("clinical-ner-v1")


def test_conditions_show_blocks_only_when_they_hold() -> None:
    layout = Layout.from_dict(
        {
            "name": "c",
            "inputs": [{"name": "text", "type": "text"}, {"name": "image", "type": "image"}],
            "display": [
                {"kind": "text", "name": "body", "field": "text"},
                {"kind": "image", "name": "pic", "field": "image", "when": {"field": "image"}},
                {"kind": "suggestions", "name": "ai", "question": "e", "when": {"prediction": "e"}},
            ],
            "questions": [{"kind": "spans", "name": "e", "field": "text"}],
        }
    )

    def names(blocks: tuple[Any, ...]) -> list[str]:
        return [b.name for b in blocks]

    assert names(layout.visible({"text": "a", "image": ""})) == ["body"]
    assert names(layout.visible({"text": "a", "image": "x.png"})) == ["body", "pic"]
    assert names(layout.visible({"text": "a"}, predictions=["e"])) == ["body", "ai"]


def test_seed_shows_the_ai_panel_only_with_predictions_and_a_capitalised_badge() -> None:
    seed = Layout.load("clinical-ner-v1")
    data = {"document_id": "n1", "document_text": NOTE, "priority": "high"}
    assert [b.name for b in seed.visible(data)] == ["header"]
    assert [b.name for b in seed.visible(data, predictions=["entities"])] == ["header", "ai"]
    header: Any = seed.display[0]
    assert header.badges[0].render(data["priority"]) == "High"


def test_seed_declares_what_b4_asks_for() -> None:
    seed = Layout.load("clinical-ner-v1")
    assert [(i.name, i.type, i.required) for i in seed.inputs] == [
        ("document_id", "string", False),
        ("document_text", "text", True),
        ("priority", "enum", False),
    ]
    assert seed.input("priority").values == ("low", "normal", "high")  # type: ignore[union-attr]
    entities: Any = seed.question("entities")
    assert entities.allow_overlap is False
    assert [(lb.name, lb.color, lb.hotkey) for lb in entities.labels] == [
        ("Diagnosis", "#ff6b6b", "d"),
        ("Medication", "#4ecdc4", "m"),
        ("Procedure", "#45b7d1", "p"),
        ("Anatomy", "#96ceb4", "a"),
    ]
    assert seed.required_questions == ("confidence",)
    assert seed.question("notes").rows == 2  # type: ignore[union-attr]


def test_seed_takes_a_full_answer() -> None:
    seed = Layout.load("clinical-ner-v1")
    checked = seed.check_answer(_full_answer(), data={"document_text": NOTE})
    assert checked.to_dict() == validate_payload(_full_answer()).to_dict()


def test_seed_refuses_an_answer_without_the_required_confidence() -> None:
    answer = _full_answer()
    del answer["answers"]["confidence"]
    with pytest.raises(ValidationError) as caught:
        Layout.load("clinical-ner-v1").check_answer(answer)
    assert str(caught.value) == "answers.confidence=None is required; answer it to submit"


def test_seed_refuses_an_option_the_question_does_not_offer() -> None:
    answer = _full_answer()
    answer["answers"]["confidence"]["label"] = "certain"
    with pytest.raises(ValidationError) as caught:
        Layout.load("clinical-ner-v1").check_answer(answer)
    assert str(caught.value) == (
        "answers.confidence.label='certain' is not a label of this project; "
        "labels are 'high', 'medium', 'low'"
    )


def test_seed_refuses_overlapping_entities() -> None:
    answer = _full_answer()
    answer["answers"]["entities"]["spans"].append(_span(NOTE, "diabetes", "Diagnosis"))
    with pytest.raises(ValidationError) as caught:
        Layout.load("clinical-ner-v1").check_answer(answer)
    assert caught.value.field.startswith("answers.entities.spans[")
    assert "overlap" in caught.value.rule


def test_completion_rule_requires_notes_when_quality_is_poor() -> None:
    seed = Layout.load("clinical-ner-v1")
    answer = _full_answer()
    answer["answers"]["document_quality"]["label"] = "poor"
    del answer["answers"]["notes"]
    with pytest.raises(ValidationError) as caught:
        seed.check_answer(answer)
    assert str(caught.value) == (
        "answers.notes=None is required when document_quality is 'poor' (completion[0]); "
        "answer it to submit"
    )
    answer["answers"]["document_quality"]["label"] = "fair"
    assert "notes" not in seed.check_answer(answer).answers  # type: ignore[union-attr]


def test_a_form_answer_of_the_wrong_kind_or_name_is_refused() -> None:
    seed = Layout.load("clinical-ner-v1")
    answer = _full_answer()
    answer["answers"]["notes"] = {"kind": "choice", "label": "good"}
    with pytest.raises(ValidationError) as caught:
        seed.check_answer(answer)
    assert str(caught.value) == (
        "answers.notes.kind='choice' is not what question 'notes' asks for; it asks for 'text'"
    )
    answer = _full_answer()
    answer["answers"]["mood"] = {"kind": "text", "text": "x"}
    with pytest.raises(ValidationError) as caught:
        seed.check_answer(answer)
    assert str(caught.value) == (
        "answers='mood' is not a question of layout 'clinical-ner-v1'; questions are "
        "'entities', 'confidence', 'document_quality', 'notes'"
    )
    with pytest.raises(ValidationError) as caught:
        seed.check_answer({"kind": "spans", "spans": []})
    assert str(caught.value) == (
        "kind='spans' is not what layout 'clinical-ner-v1' asks for; it asks for 'form'"
    )


def test_a_one_question_layout_takes_its_plain_payload() -> None:
    ner = Layout.load("ner")
    checked = ner.check_answer(
        {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "PER"}]}, ["PER", "ORG"]
    )
    assert checked.to_dict() == {
        "kind": "spans",
        "spans": [{"start": 0, "end": 3, "label": "PER"}],
    }
    with pytest.raises(ValidationError) as caught:
        ner.check_answer({"kind": "choice", "label": "x"}, ["PER"])
    assert str(caught.value) == (
        "kind='choice' is not what layout 'ner' asks for; it asks for 'spans'"
    )


def test_seed_output_shape_quotes_the_document_text() -> None:
    seed = Layout.load("clinical-ner-v1")
    data = {"document_id": "n1", "document_text": NOTE, "priority": "normal"}
    out = seed.output(_full_answer(), data)
    assert set(out) == {"entities", "confidence", "document_quality", "notes"}
    assert [e["text"] for e in out["entities"]] == [
        "type 2 diabetes mellitus",
        "metformin",
        "ultrasound",
        "liver",
    ]
    assert all(e["text"] == NOTE[e["start"] : e["end"]] for e in out["entities"])
    assert [e["type"] for e in out["entities"]] == [
        "Diagnosis",
        "Medication",
        "Procedure",
        "Anatomy",
    ]
    assert (out["confidence"], out["document_quality"], out["notes"]) == (
        "high",
        "good",
        "clear note",
    )


def test_check_task_reads_inputs() -> None:
    seed = Layout.load("clinical-ner-v1")
    seed.check_task({"document_text": NOTE, "priority": "high", "extra": 1})
    with pytest.raises(ValidationError) as caught:
        seed.check_task({"document_id": "n1"})
    assert str(caught.value) == ("data.document_text=None is required by layout 'clinical-ner-v1'")
    with pytest.raises(ValidationError) as caught:
        seed.check_task({"document_text": NOTE, "priority": 0})
    assert str(caught.value) == "data.priority=0 is not one of low, normal, high"
    with pytest.raises(ValidationError) as caught:
        seed.check_task({"document_text": 12})
    assert str(caught.value) == "data.document_text=12 must be a string, not int"


def test_a_legacy_stored_layout_reads_as_a_layout() -> None:
    stored = {
        "name": "ner",
        "title": "Named entities",
        "fields": [{"name": "text", "kind": "text"}],
        "questions": [{"name": "entities", "kind": "spans", "field": "text", "required": False}],
    }
    layout = Layout.from_stored(stored)
    assert layout.answer_kinds == ("spans",)
    assert [(i.name, i.type) for i in layout.inputs] == [("text", "text")]
    assert Layout.from_stored({}, name="ner").questions[0].kind == "spans"


def test_a_stored_layout_with_keys_no_layout_reads_still_opens() -> None:
    stored = {"name": "ner", "questions": [{"kind": "spans", "name": "e", "field": "text"}]}
    with pytest.raises(LayoutError, match="hint='x' is not a key of a layout"):
        Layout.from_stored({**stored, "hint": "x"})
    assert Layout.from_stored({**stored, "hint": "x"}, lenient=True) == Layout.from_stored(stored)
