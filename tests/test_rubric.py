"""Rubric scores of one model output: the widget (traits, validation, patches, refused
submits), the kind's facets (persona schema, per-criterion units and consensus, review,
exports) and a layout's rubric question."""

from __future__ import annotations

from typing import Any

import pytest

import annolab.kinds
from annolab.errors import ValidationError
from annolab.io.formats import label_studio_result
from annolab.kinds import Target
from annolab.schema import LabelSchema, RubricPayload, validate_payload
from annolab.schema.layout import Criterion, Layout
from annolab.widgets._base import STATIC_DIR, AnnotationWidget, WidgetTraitError
from annolab.widgets.rubric import Rubric
from tests.conftest import not_installed

# A WNUT 2017 tweet (dev set) and a model's answer about it that misses one of the places.
TWEET = (
    "You should've stayed on Redondo Beach Blvd. you were in the borderlines of Gardena / Compton"
)
PROMPT = f"Which places does this tweet name, and what kind of place is each?\n\n{TWEET}"
OUTPUT = (
    "The tweet names two places:\n"
    "- Redondo Beach Blvd: a street in Los Angeles County\n"
    "- Compton: a city\n\n"
    "(Gardena is not mentioned.)"
)
CRITERIA = [
    {"name": "accuracy", "description": "Every place named, with the right kind", "scale": 5},
    {"name": "helpfulness", "description": "Would a reader want this answer?", "scale": 10},
    {"name": "tone", "description": "Plain and polite", "scale": 3},
]
LABELS = LabelSchema.from_names(["unused"])


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    # No kernel holds the comm in a unit test: the replies the front end would get are kept.
    messages: list[dict[str, Any]] = []

    def send(self: AnnotationWidget, content: dict[str, Any], buffers: Any = None) -> None:
        messages.append(content)

    monkeypatch.setattr(AnnotationWidget, "send", send)
    return messages


def patch(widget: AnnotationWidget, op: str, **fields: Any) -> None:
    widget._handle_custom_msg({"op": op, "uuid": "u", **fields}, [])


def scored(**kwargs: Any) -> Rubric:
    return Rubric(OUTPUT, criteria=CRITERIA, prompt=PROMPT, **kwargs)


# --- the widget -------------------------------------------------------------------------------


def test_texts_travel_as_utf8_bytes_and_criteria_as_dicts() -> None:
    w = scored()
    assert w._output_utf8.decode("utf-8") == OUTPUT
    assert w._prompt_utf8.decode("utf-8") == PROMPT
    assert (w.output, w.prompt) == (OUTPUT, PROMPT)
    assert w.criteria == CRITERIA
    assert w.value is None


def test_criteria_may_be_models_and_default_to_a_scale_of_five() -> None:
    w = Rubric(OUTPUT, criteria=[Criterion(name="accuracy"), {"name": "tone", "scale": 3}])
    assert w.criteria == [
        {"name": "accuracy", "description": "", "scale": 5},
        {"name": "tone", "description": "", "scale": 3},
    ]


def test_a_value_keeps_the_criteria_order() -> None:
    w = scored(value={"scores": {"tone": 3, "accuracy": 2}})
    assert w.value == {"scores": {"accuracy": 2, "tone": 3}, "comment": ""}
    w.value = {"scores": {}, "comment": ""}
    assert w.value is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"value": {"scores": {"accuracy": 6}}},
            "value.scores.accuracy=6 is off the scale of 'accuracy'; score it 1 to 5",
        ),
        (
            {"value": {"scores": {"accuracy": 0}}},
            "value.scores.accuracy=0 is off the scale of 'accuracy'; score it 1 to 5",
        ),
        ({"value": {"scores": {"tone": 2.5}}}, "value.scores.tone=2.5 must be a whole number"),
        ({"value": {"scores": {"tone": True}}}, "value.scores.tone=True must be a whole number"),
        (
            {"value": {"scores": {"fluency": 3}}},
            "value.scores='fluency' is not a criterion here; "
            "criteria are ['accuracy', 'helpfulness', 'tone']",
        ),
        (
            {"value": {"scores": {}, "note": "x"}},
            "value.note='x' is not a field of a rubric answer; use scores and comment",
        ),
        ({"value": [3, 4]}, "value=[3, 4] must be None or a dict {'scores', 'comment'}"),
        (
            {"criteria": []},
            "criteria=[] must name at least one criterion, e.g. [{'name': 'accuracy', 'scale': 5}]",
        ),
        (
            {"criteria": [{"name": "tone", "scale": 11}]},
            "criteria[0].scale=11 input should be less than or equal to 10",
        ),
    ],
)
def test_bad_criteria_and_values_are_refused(kwargs: dict[str, Any], message: str) -> None:
    kwargs.setdefault("criteria", CRITERIA)
    with pytest.raises(WidgetTraitError) as info:
        Rubric(OUTPUT, **kwargs)
    assert str(info.value) == message


def test_payload_needs_every_criterion_scored() -> None:
    w = scored(value={"scores": {"accuracy": 2, "tone": 3}})
    with pytest.raises(WidgetTraitError) as info:
        w.payload  # noqa: B018
    assert str(info.value) == (
        "value.scores.helpfulness=None is not scored yet: focus its row and press a digit"
    )
    w.value = {"scores": {"accuracy": 2, "helpfulness": 10, "tone": 3}, "comment": "misses Gardena"}
    assert w.payload == RubricPayload(
        scores={"accuracy": 2, "helpfulness": 10, "tone": 3}, comment="misses Gardena"
    )


def test_patches_score_clear_comment_and_set(sent: list[dict[str, Any]]) -> None:
    w = scored()
    patch(w, "score", criterion="helpfulness", score=10)
    patch(w, "score", criterion="accuracy", score=2)
    patch(w, "comment", text="Gardena is in the tweet")
    assert w.value == {
        "scores": {"accuracy": 2, "helpfulness": 10},
        "comment": "Gardena is in the tweet",
    }
    patch(w, "score", criterion="accuracy", score=None)
    assert w.value["scores"] == {"helpfulness": 10}
    patch(w, "set", value=None)  # undo to the start
    assert w.value is None
    assert sent == [{"uuid": "u", "ok": True}] * 5


def test_a_score_off_the_scale_is_refused_and_shown(sent: list[dict[str, Any]]) -> None:
    w = scored(value={"scores": {"tone": 2}})
    patch(w, "score", criterion="tone", score=4)
    message = "value.scores.tone=4 is off the scale of 'tone'; score it 1 to 3"
    assert sent == [{"uuid": "u", "error": message}]
    assert w.error == message
    assert w.value == {"scores": {"tone": 2}, "comment": ""}


def test_a_read_only_widget_refuses_edits(sent: list[dict[str, Any]]) -> None:
    w = scored(read_only=True, value={"scores": {"tone": 2}})
    patch(w, "comment", text="x")
    assert w.error == "op='comment' edits an answer shown read-only"
    assert w.value == {"scores": {"tone": 2}, "comment": ""}


def test_an_incomplete_submit_is_refused_in_the_widget() -> None:
    w = scored()
    submitted: list[dict[str, Any]] = []
    w.on_submit(lambda widget: submitted.append(widget.payload.to_dict()))
    w.value = {"scores": {"accuracy": 2, "helpfulness": 4}}
    w.submit()
    assert submitted == []
    assert w.error == (
        "Not submitted: value.scores.tone=None is not scored yet: focus its row and press a digit"
    )
    w.value = {"scores": {"accuracy": 2, "helpfulness": 4, "tone": 3}}
    w.submit()
    assert w.error == ""
    assert submitted == [
        {"kind": "rubric", "scores": {"accuracy": 2, "helpfulness": 4, "tone": 3}, "comment": ""}
    ]


def test_repr_is_short() -> None:
    assert repr(scored()) == (
        "Rubric('The tweet names two places:\\n- Redondo Be…', "
        "criteria=['accuracy', 'helpfulness', 'tone'], value=None)"
    )


def test_bundle_is_built_and_exports_render() -> None:
    bundle = STATIC_DIR / "rubric.js"
    if not bundle.is_file():
        not_installed("front end not built (npm --prefix widgets run build)")
    assert "render" in bundle.read_text()
    assert (STATIC_DIR / "rubric.css").is_file()


# --- the kind ---------------------------------------------------------------------------------

LAYOUT = {
    "name": "rubric-review",
    "inputs": [{"name": "prompt", "type": "text"}, {"name": "output", "type": "text"}],
    "questions": [
        {
            "kind": "rubric",
            "name": "quality",
            "prompt": "prompt",
            "field": "output",
            "criteria": CRITERIA,
        }
    ],
}
DATA = {"text": PROMPT, "prompt": PROMPT, "output": OUTPUT}
KIND = annolab.kinds.get("rubric")


def answer(comment: str = "", **scores: int) -> dict[str, Any]:
    return {"kind": "rubric", "scores": scores, "comment": comment}


def test_the_kind_is_registered_with_its_payload_and_words() -> None:
    assert "rubric" in annolab.kinds.names()
    assert KIND.payload is RubricPayload
    assert (KIND.measure, KIND.media, KIND.title) == ("category", "text", "Rubric")


def test_the_widget_reads_the_questions_inputs() -> None:
    w = KIND.widget(Layout.from_dict(LAYOUT).questions[0], DATA, LABELS)
    assert isinstance(w, Rubric)
    assert (w.output, w.prompt) == (OUTPUT, PROMPT)
    assert w.criteria == CRITERIA


def test_a_judges_scores_round_trip_through_the_validator() -> None:
    schema = KIND.persona_schema(LABELS, LAYOUT["questions"][0])
    assert schema == {
        "type": "object",
        "properties": {
            "scores": {
                "type": "object",
                "properties": {
                    "accuracy": {"type": "integer", "minimum": 1, "maximum": 5},
                    "helpfulness": {"type": "integer", "minimum": 1, "maximum": 10},
                    "tone": {"type": "integer", "minimum": 1, "maximum": 3},
                },
                "required": ["accuracy", "helpfulness", "tone"],
                "additionalProperties": False,
            },
            "comment": {"type": "string"},
        },
        "required": ["scores", "comment"],
        "additionalProperties": False,
    }
    model_answer = {
        "scores": {"accuracy": 2, "helpfulness": 4, "tone": 3},
        "comment": "Leaves out Gardena, which the tweet names.",
    }
    payload = validate_payload(KIND.parse(model_answer, PROMPT))
    assert payload == RubricPayload(**model_answer)
    assert KIND.as_answer(payload.to_dict(), PROMPT) == model_answer
    layout = Layout.from_dict(LAYOUT)
    assert layout.check_answer(payload, data=DATA) == payload


def test_without_a_question_any_criterion_is_scored_on_the_payloads_bound() -> None:
    schema = KIND.persona_schema(LABELS, None)
    assert schema["properties"]["scores"] == {
        "type": "object",
        "additionalProperties": {"type": "integer", "minimum": 1, "maximum": 100},
    }


def test_units_are_one_per_criterion() -> None:
    assert KIND.units(answer("x", tone=3, accuracy=2)) == [("accuracy", 2), ("tone", 3)]
    # Same scores, other words: the same units.
    assert KIND.units(answer("y", accuracy=2, tone=3)) == KIND.units(answer(tone=3, accuracy=2))


def test_consensus_is_per_criterion_and_leaves_out_criteria_without_a_majority() -> None:
    answers = [
        answer("a", accuracy=2, helpfulness=4, tone=3),
        answer("b", accuracy=2, helpfulness=6, tone=3),
        answer("c", accuracy=3, helpfulness=8, tone=3),
    ]
    assert KIND.consensus(answers, [1.0, 1.0, 1.0], 1.5) == {
        "kind": "rubric",
        "scores": {"accuracy": 2, "tone": 3},
        "comment": "",
    }
    # Weights count: the third judge alone outweighs the other two.
    assert KIND.consensus(answers, [1.0, 1.0, 3.0], 2.5) == {
        "kind": "rubric",
        "scores": {"accuracy": 3, "helpfulness": 8, "tone": 3},
        "comment": "",
    }
    assert KIND.consensus(answers, [1.0, 1.0, 1.0], 3.0) is None


def test_review_shows_each_score_and_which_are_disputed() -> None:
    one = answer("misses Gardena", accuracy=2, helpfulness=4, tone=3)
    two = answer(accuracy=2, helpfulness=6, tone=3)
    assert KIND.parts(one, None) == [
        "accuracy: 2",
        "helpfulness: 4",
        "tone: 3",
        "comment: misses Gardena",
    ]
    assert KIND.disputed([one, two]) == [[1], [1]]
    assert KIND.disputed([one, answer(accuracy=2)]) == [[1, 2], []]
    assert KIND.merge([one, two], False) == one


def test_the_view_is_a_read_only_rubric_with_the_answer() -> None:
    layout = Layout.from_dict(LAYOUT)
    given = answer("misses Gardena", accuracy=2, helpfulness=4, tone=3)
    shown = KIND.view(given, layout.questions[0], DATA, LABELS, [1])
    assert isinstance(shown, Rubric)
    assert (shown.read_only, shown.show_submit) == (True, False)
    assert shown.value == {k: v for k, v in given.items() if k != "kind"}


def test_label_studio_writes_one_rating_per_criterion_and_the_comment() -> None:
    given = answer("misses Gardena", accuracy=2, tone=3)
    assert KIND.exports["label-studio"](given, Target(name="quality", field="output")) == [
        {
            "from_name": "quality.accuracy",
            "to_name": "output",
            "type": "rating",
            "value": {"rating": 2},
        },
        {
            "from_name": "quality.tone",
            "to_name": "output",
            "type": "rating",
            "value": {"rating": 3},
        },
        {
            "from_name": "quality.comment",
            "to_name": "output",
            "type": "textarea",
            "value": {"text": ["misses Gardena"]},
        },
    ]
    layout = Layout.from_dict(LAYOUT)
    regions = label_studio_result(answer(accuracy=2, helpfulness=4, tone=3), layout, DATA)
    assert [(r["from_name"], r["value"]) for r in regions] == [
        ("quality.accuracy", {"rating": 2}),
        ("quality.helpfulness", {"rating": 4}),
        ("quality.tone", {"rating": 3}),
    ]
    assert "prodigy" not in KIND.exports  # Prodigy has no rubric interface


# --- a layout's rubric question ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            answer(accuracy=2, helpfulness=4),
            "scores.tone=None is required; score it",
        ),
        (
            answer(accuracy=6, helpfulness=4, tone=3),
            "scores.accuracy=6 is off the scale of 'accuracy'; score it 1 to 5",
        ),
        (
            answer(accuracy=2, helpfulness=4, tone=3, fluency=2),
            "scores='fluency' is not a criterion of question 'quality'; "
            "criteria are ['accuracy', 'helpfulness', 'tone']",
        ),
    ],
)
def test_a_layout_refuses_scores_its_question_does_not_take(
    payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        Layout.from_dict(LAYOUT).check_answer(payload, data=DATA)
    assert str(info.value) == message
