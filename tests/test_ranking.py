"""Ranking model outputs best first: the widget (traits, validation, patches, refused submits),
the kind's facets (persona schema, pairwise-preference units, Borda consensus, review, Label
Studio export) and a layout's ranking question."""

from __future__ import annotations

from typing import Any

import pytest

import annolab.kinds
from annolab.errors import ValidationError
from annolab.io.formats import label_studio_result
from annolab.kinds import Target
from annolab.schema import LabelSchema, RankingPayload, validate_payload
from annolab.schema.layout import Layout
from annolab.widgets._base import STATIC_DIR, AnnotationWidget, WidgetTraitError
from annolab.widgets.ranking import Ranking, outputs_of

# A WNUT 2017 tweet (dev set) and three model answers about the places it names: the first is
# complete, the second misses Gardena, the third calls the boulevard a beach.
TWEET = (
    "You should've stayed on Redondo Beach Blvd. you were in the borderlines of Gardena / Compton"
)
PROMPT = f"Which places does this tweet name?\n\n{TWEET}"
ANSWERS = [
    "Redondo Beach Blvd (a street), Gardena and Compton (cities in Los Angeles County).",
    "Redondo Beach Blvd and Compton.",
    "Redondo Beach, a beach city 🏖, and Compton.",
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


# --- the widget -------------------------------------------------------------------------------


def test_outputs_travel_as_utf8_json_and_start_unranked() -> None:
    w = Ranking(ANSWERS, prompt=PROMPT)
    assert w.ids == ["0", "1", "2"]
    assert w._prompt_utf8.decode("utf-8") == PROMPT
    assert w._outputs_utf8.decode("utf-8").count("🏖") == 1  # not escaped: UTF-8 bytes
    assert [o["text"] for o in w.outputs] == ANSWERS
    assert w.value == []
    assert w.unranked == ["0", "1", "2"]


def test_outputs_with_ids_keep_their_ids() -> None:
    given = [{"id": "llama", "text": ANSWERS[0]}, {"id": "qwen", "text": ANSWERS[1]}]
    w = Ranking(given, value=["qwen"])
    assert w.ids == ["llama", "qwen"]
    assert w.value == ["qwen"]
    assert outputs_of(["x"]) == [{"id": "0", "text": "x"}]


@pytest.mark.parametrize(
    ("outputs", "field", "rule"),
    [
        ([], "outputs", "must be a non-empty list"),
        ("one text", "outputs", "must be a non-empty list"),
        ([{"id": "a", "text": 3}], "outputs[0].text", "must be a str"),
        ([{"text": "x"}], "outputs[0].id", "has no id"),
        ([{"id": "a", "text": "x"}, {"id": "a", "text": "y"}], "outputs[1].id", "outputs[0] too"),
    ],
)
def test_bad_outputs_are_refused_naming_the_item(outputs: Any, field: str, rule: str) -> None:
    with pytest.raises(WidgetTraitError) as info:
        Ranking(outputs)
    assert info.value.field == field
    assert rule in info.value.rule


def test_a_value_with_an_unknown_or_repeated_id_is_refused() -> None:
    w = Ranking(ANSWERS)
    with pytest.raises(WidgetTraitError) as info:
        w.value = ["0", "7"]
    assert (info.value.field, info.value.value) == ("value[1]", "7")
    assert "the ids are ['0', '1', '2']" in info.value.rule
    with pytest.raises(WidgetTraitError) as info:
        w.value = ["1", "1"]
    assert info.value.field == "value[1]"
    assert w.value == []


def test_payload_refuses_an_incomplete_ranking_naming_the_unranked() -> None:
    w = Ranking(ANSWERS, value=["2"])
    with pytest.raises(WidgetTraitError) as info:
        w.payload  # noqa: B018
    assert str(info.value) == (
        "value=['2'] ranks 1 of 3 outputs; not ranked yet: 0, 1. Place each (drag, or a number "
        "key), or press Enter to take the order shown"
    )
    w.value = ["2", "0", "1"]
    assert w.payload == RankingPayload(order=("2", "0", "1"))


def test_patches_place_unrank_and_set(sent: list[dict[str, Any]]) -> None:
    w = Ranking(ANSWERS)
    patch(w, "place", id="2", index=5)  # past the end: right after the last ranked
    patch(w, "place", id="0", index=0)
    assert w.value == ["0", "2"]
    patch(w, "place", id="2", index=0)
    assert w.value == ["2", "0"]
    patch(w, "unrank", id="0")
    assert w.value == ["2"]
    patch(w, "set", value=["1", "2", "0"])
    assert w.value == ["1", "2", "0"]
    assert sent == [{"uuid": "u", "ok": True}] * 5
    patch(w, "place", id="9", index=0)
    assert sent[-1]["error"].startswith("id='9' is not the id of an output here")
    patch(w, "place", id="0", index=-1)
    assert "must be an int >= 0" in sent[-1]["error"]
    patch(w, "set", value=["1", "1", "0"])
    assert "is ranked twice" in sent[-1]["error"]
    assert w.value == ["1", "2", "0"]  # refused patches change nothing


def test_a_submit_is_refused_until_every_output_is_ranked() -> None:
    w = Ranking(ANSWERS)
    got: list[dict[str, Any]] = []
    w.on_submit(lambda widget: got.append(widget.payload.to_dict()))
    w.value = ["1"]
    w.submit()
    assert got == []
    assert w.error.startswith("Not submitted: value=['1'] ranks 1 of 3 outputs")
    assert "not ranked yet: 0, 2" in w.error
    w.value = ["1", "0", "2"]
    w.submit()
    assert got == [{"kind": "ranking", "order": ["1", "0", "2"]}]
    assert w.error == ""


def test_read_only_refuses_edits(sent: list[dict[str, Any]]) -> None:
    w = Ranking(ANSWERS, value=["0", "1", "2"], read_only=True)
    patch(w, "unrank", id="0")
    assert sent[-1]["error"] == "op='unrank' edits a ranking shown read-only"
    assert w.value == ["0", "1", "2"]


def test_repr_is_short_and_the_bundle_is_built() -> None:
    w = Ranking([f"answer {i}" for i in range(6)], value=["3"])
    assert repr(w) == "Ranking(ids=[0, 1, 2, … (6 in all)], value=['3'])"
    assert (STATIC_DIR / "ranking.js").is_file()
    assert (STATIC_DIR / "ranking.css").is_file()


# --- the kind ---------------------------------------------------------------------------------

LAYOUT = {
    "name": "rank-answers",
    "inputs": [{"name": "text", "type": "text"}, {"name": "outputs", "type": "list"}],
    "questions": [{"kind": "ranking", "name": "best", "prompt": "text", "field": "outputs"}],
}
DATA = {"text": PROMPT, "outputs": ANSWERS}
KIND = annolab.kinds.get("ranking")


def ranked(*order: str) -> dict[str, Any]:
    return {"kind": "ranking", "order": list(order)}


def test_the_kind_is_registered_with_its_payload_and_words() -> None:
    assert "ranking" in annolab.kinds.names()
    assert KIND.payload is RankingPayload
    assert (KIND.measure, KIND.media, KIND.title) == ("category", "text", "Ranking")
    assert KIND.parts(ranked("2", "0", "1"), None) == ["1. 2", "2. 0", "3. 1"]
    assert KIND.merge([ranked("2", "0", "1"), ranked("0", "1", "2")], False) == ranked(
        "2", "0", "1"
    )
    assert KIND.view(ranked("0"), None, DATA, LABELS, []) is None


def test_the_widget_reads_the_questions_inputs() -> None:
    layout = Layout.from_dict(LAYOUT)
    w = KIND.widget(layout.questions[0], DATA, LABELS)
    assert isinstance(w, Ranking)
    assert (w.prompt, [o["text"] for o in w.outputs]) == (PROMPT, ANSWERS)
    assert w.value == []


def test_a_judges_answer_round_trips_through_the_validator() -> None:
    schema = KIND.persona_schema(LABELS, LAYOUT["questions"][0])
    assert schema == {
        "type": "object",
        "properties": {"order": {"type": "array", "items": {"type": "string"}}},
        "required": ["order"],
        "additionalProperties": False,
    }
    parsed = KIND.parse({"order": [2, "0", "1"]}, PROMPT)  # a positional id written as a number
    assert validate_payload(parsed) == RankingPayload(order=("2", "0", "1"))
    assert KIND.as_answer(parsed, PROMPT) == {"order": ["2", "0", "1"]}


def test_units_are_pairwise_preferences() -> None:
    assert KIND.units(ranked("b", "a", "c")) == [("b", "a"), ("b", "c"), ("a", "c")]
    # Swapping one neighbouring pair changes one unit of three.
    swapped = set(KIND.units(ranked("a", "b", "c"))) ^ set(KIND.units(ranked("b", "a", "c")))
    assert swapped == {("a", "b"), ("b", "a")}


def test_consensus_is_a_borda_count() -> None:
    answers = [ranked("a", "b", "c"), ranked("b", "a", "c"), ranked("b", "c", "a")]
    # a: 2 + 1 + 0 = 3, b: 1 + 2 + 2 = 5, c: 0 + 0 + 1 = 1.
    assert KIND.consensus(answers, [1.0, 1.0, 1.0], 1.5) == ranked("b", "a", "c")
    # Weights count: with the first judge at 3, a has 6 + 1 + 0 = 7 and b 3 + 2 + 2 = 7, a tie
    # broken by id.
    assert KIND.consensus(answers, [3.0, 1.0, 1.0], 2.5) == ranked("a", "b", "c")
    # Two judges in exact disagreement tie everywhere: ids decide.
    assert KIND.consensus([ranked("c", "b"), ranked("b", "c")], [1.0, 1.0], 1.0) == ranked("b", "c")


def test_consensus_needs_enough_weight_on_one_set_of_outputs() -> None:
    # Rankings of different outputs (another version of the task) are not counted together.
    answers = [ranked("c", "a"), ranked("b", "a", "c"), ranked("b", "c", "a")]
    # b: 2 + 2, a: 1 + 0, c: 0 + 1; the first answer's "c before a" is not counted.
    assert KIND.consensus(answers, [1.0, 1.0, 1.0], 1.5) == ranked("b", "a", "c")
    assert KIND.consensus(answers, [1.0, 1.0, 1.0], 2.0) is None
    assert KIND.consensus([], [], 0.0) is None


def test_disputed_places_are_those_filled_differently() -> None:
    answers = [ranked("a", "b", "c"), ranked("a", "c", "b"), ranked("a", "b", "c")]
    assert KIND.disputed(answers) == [[1, 2], [1, 2], [1, 2]]
    assert KIND.disputed([ranked("a", "b"), ranked("a", "b")]) == [[], []]


def test_label_studio_gets_a_ranker_region() -> None:
    target = Target(name="best", field="outputs")
    assert KIND.exports["label-studio"](ranked("2", "0", "1"), target) == [
        {
            "from_name": "best",
            "to_name": "outputs",
            "type": "ranker",
            "value": {"ranker": {"best": ["2", "0", "1"]}},
        }
    ]
    layout = Layout.from_dict(LAYOUT)
    assert label_studio_result(ranked("1", "0", "2"), layout, DATA)[0]["value"] == {
        "ranker": {"best": ["1", "0", "2"]}
    }


def test_the_layout_checks_a_ranking_against_the_tasks_outputs() -> None:
    layout = Layout.from_dict(LAYOUT)
    checked = layout.check_answer(ranked("2", "0", "1"), data=DATA)
    assert checked == RankingPayload(order=("2", "0", "1"))
    with pytest.raises(ValidationError) as info:
        layout.check_answer(ranked("2", "0", "7"), data=DATA)
    assert info.value.field == "order"
    assert "must rank each output of 'outputs' once: ['0', '1', '2']" in info.value.rule
    with pytest.raises(ValidationError) as info:
        layout.check_answer(ranked("2", "0"), data=DATA)  # one left out
    assert info.value.field == "order"
    with pytest.raises(ValidationError):
        layout.check_answer(ranked("0", "0", "1"), data=DATA)  # twice
