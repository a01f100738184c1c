"""Corrections of a model's output: the Correction widget (traits, validation, patches, the
length bound, read-only), the kind's facets (persona schema and parse, exact-match units and
consensus, review, the view, exports), a layout's correction question and ``char_diff``."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import annolab.kinds
from annolab.errors import ValidationError
from annolab.io.formats import label_studio_result
from annolab.kinds import Target
from annolab.kinds.correction.diff import char_diff, diff_counts
from annolab.schema import CorrectionPayload, LabelSchema, validate_payload
from annolab.schema.layout import Layout
from annolab.widgets._base import STATIC_DIR, AnnotationWidget, WidgetTraitError
from annolab.widgets.correction import Correction
from tests.conftest import not_installed

# A WNUT 2017 tweet (dev set; CC-BY 4.0, Derczynski et al. 2017, "Results of the WNUT2017
# Shared Task on Novel and Emerging Entity Recognition") and a model's answer that leaves out a
# place the tweet names; the correction adds it.
TWEET = (
    "You should've stayed on Redondo Beach Blvd. you were in the borderlines of Gardena / Compton"
)
PROMPT = f"Which places does this tweet name?\n\n{TWEET}"
ORIGINAL = "The tweet names Redondo Beach Blvd and Compton."
CORRECTED = "The tweet names Redondo Beach Blvd, Gardena and Compton."
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


def test_texts_travel_as_utf8_bytes_and_the_value_starts_untouched() -> None:
    w = Correction(ORIGINAL, prompt=PROMPT)
    assert w._original_utf8.decode("utf-8") == ORIGINAL
    assert w._prompt_utf8.decode("utf-8") == PROMPT
    assert (w.original, w.prompt, w.value, w.text) == (ORIGINAL, PROMPT, None, ORIGINAL)
    # Untouched is an answer too: the original needs no correction.
    assert w.payload == CorrectionPayload(text=ORIGINAL)
    assert (w.max_chars, w.monospace, w.read_only) == (None, False, False)


def test_a_value_is_the_corrected_text() -> None:
    w = Correction(ORIGINAL, value=CORRECTED)
    assert w.payload.to_dict() == {"kind": "correction", "text": CORRECTED}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"value": 3}, "value=3 must be the corrected text (a str) or None"),
        ({"value": "bad \ud800"}, "value='bad \\ud800' contains a lone surrogate"),
        ({"max_chars": 0}, "max_chars=0 must be >= 1"),
        ({"prompt": 5}, "prompt=5 must be a str"),
    ],
)
def test_bad_values_are_refused_naming_the_field(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(WidgetTraitError) as info:
        Correction(ORIGINAL, **kwargs)
    assert str(info.value).startswith(message)


def test_patches_set_and_reset_the_text(sent: list[dict[str, Any]]) -> None:
    w = Correction(ORIGINAL)
    patch(w, "set", text=CORRECTED)
    assert w.value == CORRECTED
    patch(w, "set", text=None)  # Reset to original
    assert w.value is None
    patch(w, "set", text=7)
    assert w.value is None
    assert w.error.startswith("value=7 must be the corrected text")
    assert [m.get("ok", m.get("error")) for m in sent][:2] == [True, True]


def test_a_text_over_max_chars_is_kept_but_not_submitted(sent: list[dict[str, Any]]) -> None:
    w = Correction(ORIGINAL, max_chars=50)
    submitted: list[str] = []
    w.on_submit(lambda widget: submitted.append(widget.payload.text))
    patch(w, "set", text=CORRECTED)  # 56 characters
    assert w.value == CORRECTED  # kept, so it can be shortened
    with pytest.raises(WidgetTraitError) as info:
        w.payload  # noqa: B018
    assert str(info.value).startswith("value='The tweet names")
    assert "is 56 characters; question 'correction' takes 50" in str(info.value)
    w.submit()
    assert submitted == []
    assert w.error.startswith("Not submitted: value=")
    patch(w, "set", text="Redondo Beach Blvd, Gardena, Compton.")
    w.submit()
    assert submitted == ["Redondo Beach Blvd, Gardena, Compton."]
    assert w.error == ""


def test_a_read_only_widget_refuses_edits(sent: list[dict[str, Any]]) -> None:
    w = Correction(ORIGINAL, value=CORRECTED, read_only=True, show_submit=False)
    patch(w, "set", text="x")
    assert w.value == CORRECTED
    assert w.error == "op='set' edits a correction shown read-only"


def test_repr_is_short() -> None:
    w = Correction(ORIGINAL * 3, value=CORRECTED)
    assert repr(w) == (
        "Correction('The tweet names Redondo Beach Blvd and C…', "
        "value='The tweet names Redondo Beach Blvd, Gard…')"
    )


def test_bundle_is_built() -> None:
    bundle = STATIC_DIR / "correction.js"
    if not bundle.is_file():
        not_installed("front end not built (npm --prefix widgets run build)")
    assert "render" in bundle.read_text()
    assert (STATIC_DIR / "correction.css").is_file()


# --- the kind ---------------------------------------------------------------------------------

LAYOUT = {
    "name": "answer-correction",
    "inputs": [{"name": "prompt", "type": "text"}, {"name": "output", "type": "text"}],
    "questions": [
        {
            "kind": "correction",
            "name": "correction",
            "prompt": "prompt",
            "field": "output",
            "max_chars": 80,
        }
    ],
}
DATA = {"text": ORIGINAL, "prompt": PROMPT, "output": ORIGINAL}
KIND = annolab.kinds.get("correction")


def answer(text: str) -> dict[str, Any]:
    return {"kind": "correction", "text": text}


def test_the_kind_is_registered_with_its_payload_and_words() -> None:
    assert "correction" in annolab.kinds.names()
    assert KIND.payload is CorrectionPayload
    assert (KIND.measure, KIND.media, KIND.title) == ("category", "text", "Correction")


def test_the_widget_reads_the_questions_inputs() -> None:
    question = Layout.from_dict(LAYOUT).questions[0]
    w = KIND.widget(question, DATA, LABELS)
    assert isinstance(w, Correction)
    assert (w.original, w.prompt, w.max_chars) == (ORIGINAL, PROMPT, 80)
    w.value = CORRECTED
    assert question.answer_of(w.value) == answer(CORRECTED)
    assert question.value_of(answer(CORRECTED)) == CORRECTED


def test_a_personas_correction_round_trips_through_the_validator() -> None:
    schema = KIND.persona_schema(LABELS, LAYOUT["questions"][0])
    assert schema == {
        "type": "object",
        "properties": {"text": {"type": "string", "maxLength": 80}},
        "required": ["text"],
        "additionalProperties": False,
    }
    assert KIND.persona_schema(LABELS, None)["properties"] == {"text": {"type": "string"}}
    payload = validate_payload(KIND.parse({"text": CORRECTED}, ORIGINAL))
    assert payload == CorrectionPayload(text=CORRECTED)
    assert KIND.as_answer(payload.to_dict(), ORIGINAL) == {"text": CORRECTED}
    assert Layout.from_dict(LAYOUT).check_answer(payload, data=DATA) == payload


def test_units_are_the_whole_text_so_agreement_is_exact_match() -> None:
    assert KIND.units(answer(CORRECTED)) == KIND.units(answer(CORRECTED))
    assert KIND.units(answer(CORRECTED)) != KIND.units(answer(CORRECTED + " "))
    assert len(KIND.units(answer(CORRECTED))) == 1


def test_consensus_is_the_text_enough_weight_gave() -> None:
    answers = [answer(CORRECTED), answer(CORRECTED), answer(ORIGINAL)]
    assert KIND.consensus(answers, [1.0, 1.0, 1.0], 1.5) == answer(CORRECTED)
    assert KIND.consensus(answers, [1.0, 1.0, 3.0], 2.5) == answer(ORIGINAL)
    assert KIND.consensus(answers, [1.0, 1.0, 1.0], 2.5) is None


def test_review_shows_the_change_and_the_text_cut_to_80_characters() -> None:
    assert KIND.parts(answer(CORRECTED), ORIGINAL) == [f"+9 -0 characters: {CORRECTED!r}"]
    long = "x" * 100
    assert KIND.parts(answer(long), None) == [repr("x" * 79 + "…")]
    assert KIND.disputed([answer(CORRECTED), answer(ORIGINAL)]) == [[0], [0]]
    assert KIND.disputed([answer(CORRECTED), answer(CORRECTED)]) == [[], []]
    assert KIND.merge([answer(CORRECTED), answer(ORIGINAL)], False) == answer(CORRECTED)


def test_the_view_is_a_read_only_correction_against_the_original() -> None:
    question = Layout.from_dict(LAYOUT).questions[0]
    shown = KIND.view(answer(CORRECTED), question, DATA, LABELS, [0])
    assert isinstance(shown, Correction)
    assert (shown.original, shown.value) == (ORIGINAL, CORRECTED)
    assert (shown.read_only, shown.show_submit) == (True, False)


def test_label_studio_writes_a_textarea_region() -> None:
    regions = KIND.exports["label-studio"](
        answer(CORRECTED), Target(name="correction", field="output")
    )
    assert regions == [
        {
            "from_name": "correction",
            "to_name": "output",
            "type": "textarea",
            "value": {"text": [CORRECTED]},
        }
    ]
    assert label_studio_result(answer(CORRECTED), Layout.from_dict(LAYOUT), DATA) == regions
    assert "prodigy" not in KIND.exports


def test_a_layout_refuses_a_correction_over_max_chars() -> None:
    with pytest.raises(ValidationError) as info:
        Layout.from_dict(LAYOUT).check_answer(answer("y" * 81), data=DATA)
    assert str(info.value).startswith("text='yyy")
    assert str(info.value).endswith(" is 81 characters; question 'correction' takes 80")


# --- char_diff --------------------------------------------------------------------------------


def test_a_word_replaced_reads_as_one_deletion_and_one_insertion() -> None:
    assert char_diff("capital of Spain.", "capital of France.") == [
        ("=", "capital of "),
        ("-", "Spain"),
        ("+", "France"),
        ("=", "."),
    ]
    assert char_diff(ORIGINAL, CORRECTED) == [
        ("=", "The tweet names Redondo Beach Blvd"),
        ("+", ", Gardena"),
        ("=", " and Compton."),
    ]
    assert diff_counts(ORIGINAL, CORRECTED) == (9, 0)
    assert char_diff("", "") == []
    assert char_diff("same", "same") == [("=", "same")]


TEXTS = st.lists(st.sampled_from([*"ab c\né😀中", "e\u0301"]), max_size=40).map("".join)


@given(TEXTS, TEXTS)
def test_property_joining_the_runs_gives_back_both_texts(a: str, b: str) -> None:
    runs = char_diff(a, b)
    assert "".join(t for op, t in runs if op in "=+") == b
    assert "".join(t for op, t in runs if op in "=-") == a
    assert all(t for _, t in runs)
    assert all(x[0] != y[0] for x, y in itertools.pairwise(runs))
    inserted, deleted = diff_counts(a, b)
    assert len(a) - deleted == len(b) - inserted


@given(TEXTS)
def test_property_a_text_against_itself_is_all_kept(a: str) -> None:
    assert char_diff(a, a) == ([("=", a)] if a else [])


def test_review_describes_a_correction_by_what_it_changed() -> None:
    from annolab.kinds import compare

    layout = Layout.from_dict(LAYOUT)
    assert compare.describe(answer(CORRECTED), layout, DATA) == (
        f"Correction: +9 -0 characters: {CORRECTED!r}"
    )
    # The reviewer reads the characters the person changed, not both texts whole.
    assert compare.changes(answer(ORIGINAL), answer(CORRECTED), layout, DATA) == (
        "Changed: + ', Gardena'"
    )
