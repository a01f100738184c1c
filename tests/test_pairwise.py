"""Pairwise preference between two model outputs: the widget (traits, validation, patches,
refused submits), the kind's facets (persona schema, agreement units, consensus, review,
exports) and a layout's pairwise question."""

from __future__ import annotations

from typing import Any

import pytest

import annolab.kinds
from annolab.errors import ValidationError
from annolab.io.formats import label_studio_result, prodigy_task
from annolab.kinds import Target
from annolab.schema import LabelSchema, PairwisePayload, validate_payload
from annolab.schema.layout import Layout
from annolab.widgets._base import STATIC_DIR, AnnotationWidget, WidgetTraitError
from annolab.widgets.pairwise import Pairwise
from tests.conftest import not_installed

# A WNUT 2017 tweet (dev set) and two model answers about it: A names every place and its kind,
# B misses the street and calls Redondo Beach a city in a tweet that names the boulevard.
TWEET = (
    "You should've stayed on Redondo Beach Blvd. you were in the borderlines of Gardena / Compton"
)
PROMPT = f"Which places does this tweet name, and what kind of place is each?\n\n{TWEET}"
ANSWER_A = (
    "The tweet names three places:\n"
    "- Redondo Beach Blvd: a street (a boulevard in the South Bay of Los Angeles)\n"
    "- Gardena: a city in Los Angeles County\n"
    "- Compton: a city in Los Angeles County"
)
ANSWER_B = "It mentions Redondo Beach, a beach city, and Compton.   Both are in California."
CRITERIA = [
    {"name": "accuracy", "description": "Every place named, with the right kind"},
    {"name": "concision", "description": "No padding"},
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


def judged(**kwargs: Any) -> Pairwise:
    return Pairwise(ANSWER_A, ANSWER_B, prompt=PROMPT, criteria=CRITERIA, **kwargs)


# --- the widget -------------------------------------------------------------------------------


def test_texts_travel_as_utf8_bytes_and_keep_their_whitespace() -> None:
    w = judged()
    assert w._a_utf8.decode("utf-8") == ANSWER_A
    assert w._b_utf8.decode("utf-8") == ANSWER_B  # the three spaces stay
    assert w._prompt_utf8.decode("utf-8") == PROMPT
    assert (w.a, w.b, w.prompt) == (ANSWER_A, ANSWER_B, PROMPT)
    assert w.criteria == CRITERIA
    assert w.value is None


def test_verdicts_follow_tie_and_both_bad() -> None:
    assert judged().verdicts == ("a", "b", "tie", "both_bad")
    assert judged(tie=False).verdicts == ("a", "b", "both_bad")
    assert judged(tie=False, both_bad=False).verdicts == ("a", "b")
    w = judged(tie=False, both_bad=False, rationale="required")
    assert (w.tie, w.both_bad, w.ask_rationale) == (False, False, "required")


def test_a_value_is_filled_in_and_ordered_by_the_criteria() -> None:
    w = judged(value={"choice": "a", "criteria": {"concision": "b", "accuracy": "a"}})
    assert w.value == {
        "choice": "a",
        "rationale": "",
        "criteria": {"accuracy": "a", "concision": "b"},
    }
    w.value = {"choice": None, "rationale": "", "criteria": {}}
    assert w.value is None  # nothing done is None, as the front end has it


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"value": {"choice": "tie"}, "tie": False},
            "value.choice='tie' is not offered here; choose one of a, b, both_bad",
        ),
        (
            {"value": {"choice": "a", "criteria": {"tone": "a"}}},
            "value.criteria='tone' is not a criterion here; criteria are ['accuracy', 'concision']",
        ),
        (
            {"value": {"choice": "a", "criteria": {"accuracy": "left"}}},
            "value.criteria.accuracy='left' is not offered here; use one of a, b, tie, both_bad",
        ),
        (
            {"value": {"choice": "a", "rationale": "cites"}, "rationale": "none"},
            "value.rationale='cites' is not asked for by this widget (rationale='none')",
        ),
        (
            {"value": {"choice": "a", "score": 1}},
            "value.score=1 is not a field of a pairwise answer; use choice, rationale and criteria",
        ),
        (
            {"value": "a"},
            "value='a' must be None or a dict {'choice', 'rationale', 'criteria'}",
        ),
        (
            {"rationale": "sometimes"},
            "rationale='sometimes' is not a rationale mode; use one of none, optional, required",
        ),
        ({"tie": "yes"}, "tie='yes' must be True or False"),
        (
            {"criteria": [{"name": "accuracy"}, {"name": "accuracy"}]},
            "criteria[1].name='accuracy' is used by another criterion",
        ),
        (
            {"criteria": [{"name": ""}]},
            "criteria[0].name='' string should have at least 1 character",
        ),
    ],
)
def test_bad_options_and_values_are_refused(kwargs: dict[str, Any], message: str) -> None:
    kwargs.setdefault("criteria", CRITERIA)
    with pytest.raises(WidgetTraitError) as info:
        Pairwise(ANSWER_A, ANSWER_B, **kwargs)
    assert str(info.value) == message


def test_a_text_that_is_not_a_string_is_refused() -> None:
    with pytest.raises(WidgetTraitError) as info:
        Pairwise(ANSWER_A, None)  # type: ignore[arg-type]
    assert str(info.value) == "b=None must be a str (the text shown)"


def test_payload_of_a_complete_answer() -> None:
    w = judged(rationale="required")
    w.value = {
        "choice": "a",
        "rationale": "B misses Gardena and the street",
        "criteria": {"accuracy": "a", "concision": "b"},
    }
    assert w.payload == PairwisePayload(
        choice="a",
        rationale="B misses Gardena and the street",
        criteria={"accuracy": "a", "concision": "b"},
    )


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (None, "value.choice=None is not chosen yet: choose A (1), B (2), both bad (x)"),
        (
            {"choice": "a", "criteria": {"accuracy": "a"}},
            "value.rationale='' is required; say why",
        ),
        (
            {"choice": "a", "rationale": "fuller", "criteria": {"accuracy": "a"}},
            "value.criteria.concision=None is required; judge it",
        ),
    ],
)
def test_an_incomplete_answer_has_no_payload(value: Any, message: str) -> None:
    w = judged(tie=False, rationale="required", value=value)
    with pytest.raises(WidgetTraitError) as info:
        w.payload  # noqa: B018
    assert str(info.value) == message


def test_patches_choose_judge_write_and_set(sent: list[dict[str, Any]]) -> None:
    w = judged()
    patch(w, "choose", choice="b")
    patch(w, "judge", criterion="accuracy", verdict="a")
    patch(w, "rationale", text="B is shorter; A is right")
    assert w.value == {
        "choice": "b",
        "rationale": "B is shorter; A is right",
        "criteria": {"accuracy": "a"},
    }
    patch(w, "judge", criterion="accuracy", verdict=None)
    assert w.value["criteria"] == {}
    patch(w, "set", value={"choice": "tie", "rationale": "", "criteria": {}})  # undo and redo
    assert w.value == {"choice": "tie", "rationale": "", "criteria": {}}
    assert sent == [{"uuid": "u", "ok": True}] * 5
    assert w.error == ""


def test_a_refused_patch_changes_nothing_and_says_why(sent: list[dict[str, Any]]) -> None:
    w = judged(both_bad=False, value={"choice": "a"})
    patch(w, "choose", choice="both_bad")
    message = "value.choice='both_bad' is not offered here; choose one of a, b, tie"
    assert sent == [{"uuid": "u", "error": message}]
    assert w.error == message
    assert w.value == {"choice": "a", "rationale": "", "criteria": {}}
    patch(w, "judge", criterion="fluency", verdict="a")
    assert w.error.startswith("value.criteria='fluency' is not a criterion here")


def test_a_read_only_widget_refuses_edits(sent: list[dict[str, Any]]) -> None:
    w = judged(read_only=True, value={"choice": "a"})
    patch(w, "choose", choice="b")
    assert w.error == "op='choose' edits an answer shown read-only"
    assert w.value["choice"] == "a"


def test_an_incomplete_submit_is_refused_in_the_widget() -> None:
    w = judged(rationale="required")
    submitted: list[dict[str, Any]] = []
    w.on_submit(lambda widget: submitted.append(widget.payload.to_dict()))
    w.submit()
    assert submitted == []
    assert w.error == (
        "Not submitted: value.choice=None is not chosen yet: "
        "choose A (1), B (2), tie (t), both bad (x)"
    )
    w.value = {"choice": "a", "criteria": {"accuracy": "a", "concision": "a"}}
    w.submit()
    assert w.error == "Not submitted: value.rationale='' is required; say why"
    w.value = {**w.value, "rationale": "A names all three places"}
    w.submit()
    assert w.error == ""
    assert submitted == [
        {
            "kind": "pairwise",
            "choice": "a",
            "rationale": "A names all three places",
            "criteria": {"accuracy": "a", "concision": "a"},
        }
    ]


def test_repr_is_short() -> None:
    assert repr(judged()) == (
        "Pairwise(a='The tweet names three places:\\n…', "
        "b='It mentions Redondo Beach, a b…', value=None)"
    )


def test_bundle_is_built_and_exports_render() -> None:
    bundle = STATIC_DIR / "pairwise.js"
    if not bundle.is_file():
        not_installed("front end not built (npm --prefix widgets run build)")
    assert "render" in bundle.read_text()
    assert (STATIC_DIR / "pairwise.css").is_file()


# --- the kind ---------------------------------------------------------------------------------

LAYOUT = {
    "name": "preference",
    "inputs": [
        {"name": "prompt", "type": "text"},
        {"name": "a", "type": "text"},
        {"name": "b", "type": "text"},
    ],
    "questions": [
        {
            "kind": "pairwise",
            "name": "better",
            "prompt": "prompt",
            "a": "a",
            "b": "b",
            "criteria": CRITERIA,
            "tie": False,
            "rationale": "required",
        }
    ],
}
DATA = {"text": PROMPT, "prompt": PROMPT, "a": ANSWER_A, "b": ANSWER_B}
KIND = annolab.kinds.get("pairwise")


def answer(choice: str, rationale: str = "", **criteria: str) -> dict[str, Any]:
    return {"kind": "pairwise", "choice": choice, "rationale": rationale, "criteria": criteria}


def test_the_kind_is_registered_with_its_payload_and_words() -> None:
    assert "pairwise" in annolab.kinds.names()
    assert KIND.payload is PairwisePayload
    assert (KIND.measure, KIND.media, KIND.title) == ("category", "text", "Preference")


def test_the_widget_reads_the_questions_inputs() -> None:
    layout = Layout.from_dict(LAYOUT)
    w = KIND.widget(layout.questions[0], DATA, LABELS)
    assert isinstance(w, Pairwise)
    assert (w.prompt, w.a, w.b) == (PROMPT, ANSWER_A, ANSWER_B)
    assert (w.verdicts, w.ask_rationale) == (("a", "b", "both_bad"), "required")
    assert [c["name"] for c in w.criteria] == ["accuracy", "concision"]


def test_a_judges_answer_round_trips_through_the_validator() -> None:
    question = LAYOUT["questions"][0]
    schema = KIND.persona_schema(LABELS, question)
    verdict = {"type": "string", "enum": ["a", "b", "both_bad"]}
    assert schema == {
        "type": "object",
        "properties": {
            "choice": verdict,
            "rationale": {"type": "string"},
            "criteria": {
                "type": "object",
                "properties": {"accuracy": verdict, "concision": verdict},
                "required": ["accuracy", "concision"],
                "additionalProperties": False,
            },
        },
        "required": ["choice", "rationale", "criteria"],
        "additionalProperties": False,
    }
    # What a model answers in that schema, read back as the payload a person would give.
    model_answer = {
        "choice": "a",
        "rationale": "A lists Gardena and the boulevard; B drops both.",
        "criteria": {"accuracy": "a", "concision": "b"},
    }
    payload = validate_payload(KIND.parse(model_answer, PROMPT))
    assert payload == PairwisePayload(**model_answer)
    assert KIND.as_answer(payload.to_dict(), PROMPT) == model_answer


def test_without_a_question_every_verdict_is_offered_and_no_criteria_asked() -> None:
    schema = KIND.persona_schema(LABELS, None)
    assert schema["properties"]["choice"]["enum"] == ["a", "b", "tie", "both_bad"]
    assert sorted(schema["properties"]) == ["choice", "rationale"]
    payload = validate_payload(KIND.parse({"choice": "tie", "rationale": "same"}, ""))
    assert payload.to_dict() == answer("tie", "same")


def test_agreement_compares_verdicts_not_the_words_of_the_rationale() -> None:
    one = answer("a", "A is complete", accuracy="a")
    two = answer("a", "B misses Gardena", accuracy="a")
    assert KIND.units(one) == KIND.units(two)
    assert KIND.units(one) == [
        ('{"choice": "a", "criteria": {"accuracy": "a"}, "kind": "pairwise"}',)
    ]
    assert KIND.units(one) != KIND.units(answer("a", accuracy="tie"))


def test_consensus_is_the_majority_verdict() -> None:
    answers = [answer("a", "x", accuracy="a"), answer("a", "y", accuracy="a"), answer("b")]
    assert KIND.consensus(answers, [1.0, 1.0, 1.0], 1.5) == {
        "kind": "pairwise",
        "choice": "a",
        "criteria": {"accuracy": "a"},
    }
    assert KIND.consensus(answers, [1.0, 1.0, 1.0], 2.0) is None


def test_review_shows_the_verdict_criteria_and_rationale() -> None:
    given = answer("a", "A names all three places", accuracy="a", concision="b")
    assert KIND.parts(given, None) == [
        "a",
        "accuracy: a",
        "concision: b",
        "because A names all three places",
    ]
    assert KIND.disputed([given, answer("a", "other words", accuracy="a", concision="b")]) == [
        [],
        [],
    ]
    assert KIND.disputed([given, answer("b")]) == [[0], [0]]
    assert KIND.merge([given, answer("b")], False) == given


def test_the_view_is_a_read_only_pairwise_with_the_answer() -> None:
    layout = Layout.from_dict(LAYOUT)
    shown = KIND.view(answer("tie", "both fine"), layout.questions[0], DATA, LABELS, [0])
    assert isinstance(shown, Pairwise)
    assert shown.read_only is True
    assert shown.show_submit is False
    # A stored tie shows even though the question no longer offers one.
    assert shown.value == {"choice": "tie", "rationale": "both fine", "criteria": {}}


def test_label_studio_selects_left_or_right_and_prodigy_accepts_the_choice() -> None:
    target = Target(name="better", field="text")
    assert KIND.exports["label-studio"](answer("a"), target) == [
        {
            "from_name": "better",
            "to_name": "text",
            "type": "pairwise",
            "value": {"selected": "left"},
        }
    ]
    assert KIND.exports["label-studio"](answer("b"), target)[0]["value"] == {"selected": "right"}
    assert KIND.exports["prodigy"](answer("both_bad"), target) == {"accept": ["both_bad"]}
    layout = Layout.from_dict(LAYOUT)
    payload = answer("b", "shorter", accuracy="b", concision="b")
    assert label_studio_result(payload, layout, DATA)[0]["value"] == {"selected": "right"}
    assert prodigy_task(payload, layout, DATA)["accept"] == ["b"]


@pytest.mark.parametrize("choice", ["tie", "both_bad"])
def test_a_tie_or_both_bad_has_no_label_studio_form(choice: str) -> None:
    with pytest.raises(ValidationError) as info:
        KIND.exports["label-studio"](answer(choice), Target(name="better", field="text"))
    assert str(info.value) == (
        f"better.choice={choice!r} has no Label Studio form: its Pairwise tag selects left (a) "
        "or right (b) only; leave ties and both-bad answers out of a label-studio export"
    )


# --- a layout's pairwise question -------------------------------------------------------------


def test_a_layout_accepts_a_complete_pairwise_answer() -> None:
    layout = Layout.from_dict(LAYOUT)
    assert layout.answer_kinds == ("pairwise",)
    payload = answer("a", "A names the street", accuracy="a", concision="b")
    assert layout.check_answer(payload, data=DATA) == PairwisePayload(
        choice="a", rationale="A names the street", criteria={"accuracy": "a", "concision": "b"}
    )
    assert layout.question("better").value_of(payload) == {
        "choice": "a",
        "rationale": "A names the street",
        "criteria": {"accuracy": "a", "concision": "b"},
    }


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            answer("tie", "same", accuracy="a", concision="a"),
            "choice='tie' is not offered by question 'better'; choose one of a, b, both_bad",
        ),
        (answer("a", " ", accuracy="a", concision="a"), "rationale=' ' is required; say why"),
        (answer("a", "fuller", accuracy="a"), "criteria.concision=None is required; judge it"),
        (
            answer("a", "fuller", accuracy="a", concision="a", tone="b"),
            "criteria='tone' is not a criterion of question 'better'; "
            "criteria are ['accuracy', 'concision']",
        ),
        ({"kind": "pairwise", "choice": "left"}, None),
    ],
)
def test_a_layout_refuses_what_its_question_does_not_offer(
    payload: dict[str, Any], message: str | None
) -> None:
    layout = Layout.from_dict(LAYOUT)
    with pytest.raises(ValidationError) as info:
        layout.check_answer(payload, data=DATA)
    if message is not None:
        assert str(info.value) == message
    else:
        assert str(info.value).startswith("choice='left'")
