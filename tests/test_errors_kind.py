"""Error spans on a model's output: the Errors widget (traits, validation, patches, comments
through undo), the kind's facets (persona schema and parse, span units and consensus, label
units, review, exports) and a layout's errors question."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

import annolab.kinds
from annolab.errors import ValidationError
from annolab.io.formats import label_studio_result, prodigy_task
from annolab.kinds import Target
from annolab.schema import ErrorsPayload, LabelSchema, validate_payload
from annolab.schema.layout import Layout
from annolab.widgets._base import STATIC_DIR, AnnotationWidget, WidgetTraitError
from annolab.widgets.errors import Errors, decode_errors, encode_errors
from annolab.widgets.preview import Preview
from tests.conftest import not_installed

# A WNUT 2017 tweet (train set; CC-BY 4.0, Derczynski et al. 2017, "Results of the WNUT2017
# Shared Task on Novel and Emerging Entity Recognition") and a plausible model NER output for
# it, rendered as text: it calls the Empire State Building a person, takes the full stop into
# "ESB" and makes up an EVENT entity.
TWEET = (
    "@paulwalk It 's the view from where I 'm living for two weeks . "
    "Empire State Building = ESB . Pretty bad storm here last evening ."
)
OUTPUT = "PERSON: Empire State Building\nLOCATION: ESB .\nEVENT: bad storm"
REFERENCE = "LOCATION: Empire State Building\nLOCATION: ESB"
TAXONOMY = ["mislabeling", "missing_entity", "incorrect_boundary", "hallucination"]
LABELS = LabelSchema.from_names(TAXONOMY, allow_overlap=True)

MISLABEL = {"start": 0, "end": 6, "label": "mislabeling", "comment": "a building is a location"}
BOUNDARY = {"start": 40, "end": 45, "label": "incorrect_boundary", "comment": ""}
MADE_UP = {"start": 46, "end": 62, "label": "hallucination", "comment": "no EVENT type"}


def test_the_example_offsets_quote_the_output() -> None:
    assert OUTPUT[0:6] == "PERSON"
    assert OUTPUT[40:45] == "ESB ."
    assert OUTPUT[46:62] == "EVENT: bad storm"


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


def key(span: dict[str, Any]) -> dict[str, Any]:
    return {k: span[k] for k in ("start", "end", "label")}


# --- the widget -------------------------------------------------------------------------------


def test_traits_hold_the_output_reference_taxonomy_and_sorted_error_spans() -> None:
    w = Errors(OUTPUT, labels=TAXONOMY, reference=REFERENCE, value=[MADE_UP, MISLABEL])
    assert (w.output, w.text, w.reference) == (OUTPUT, OUTPUT, REFERENCE)
    assert [label["name"] for label in w.labels] == TAXONOMY
    assert w.allow_overlap is True
    assert w.value == [MISLABEL, MADE_UP]
    assert w.payload == ErrorsPayload(spans=(MISLABEL, MADE_UP))
    assert w._text_utf8 == OUTPUT.encode("utf-8")


def test_a_span_without_a_comment_gets_an_empty_one() -> None:
    w = Errors(OUTPUT, labels=TAXONOMY, value=[key(MISLABEL)])
    assert w.value == [{**key(MISLABEL), "comment": ""}]


def test_comments_ride_the_wire_beside_the_span_columns() -> None:
    wire = encode_errors([MISLABEL, MADE_UP])
    assert wire["count"] == 2
    assert wire["comments"] == ["a building is a location", "no EVENT type"]
    assert decode_errors(wire) == [MISLABEL, MADE_UP]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (
            [{"start": 0, "end": 99, "label": "mislabeling"}],
            "value[0].end=99 is past the end of the text (62 code points)",
        ),
        ([{"start": 0, "end": 6, "label": "typo"}], "value[0].label='typo'"),
        ([{"start": 0, "end": 6, "label": "mislabeling", "comment": 3}], "value[0].comment=3"),
    ],
)
def test_bad_values_are_refused_naming_the_field(value: list[Any], message: str) -> None:
    with pytest.raises(WidgetTraitError) as info:
        Errors(OUTPUT, labels=TAXONOMY, value=value)
    assert str(info.value).startswith(message)


def test_overlaps_are_refused_when_asked() -> None:
    inner = {"start": 8, "end": 14, "label": "mislabeling"}
    outer = {"start": 8, "end": 29, "label": "incorrect_boundary"}
    assert len(Errors(OUTPUT, labels=TAXONOMY, value=[inner, outer]).value) == 2
    with pytest.raises(WidgetTraitError, match="overlap"):
        Errors(OUTPUT, labels=TAXONOMY, allow_overlap=False, value=[inner, outer])


def test_patches_add_comment_relabel_and_remove(sent: list[dict[str, Any]]) -> None:
    w = Errors(OUTPUT, labels=TAXONOMY)
    patch(w, "add", span=key(MISLABEL))
    patch(w, "comment", span=key(MISLABEL), comment="a building is a location")
    assert w.value == [MISLABEL]
    # A new error type keeps what was said about the words.
    patch(w, "relabel", span=key(MISLABEL), label="hallucination")
    assert w.value == [{**MISLABEL, "label": "hallucination"}]
    patch(w, "remove", span={**key(MISLABEL), "label": "hallucination"})
    assert w.value == []
    assert all(m.get("ok") is True for m in sent)


def test_a_comment_on_a_span_not_there_is_refused_and_shown(sent: list[dict[str, Any]]) -> None:
    w = Errors(OUTPUT, labels=TAXONOMY, value=[MISLABEL])
    patch(w, "comment", span=key(MADE_UP), comment="x")
    assert w.value == [MISLABEL]
    assert sent[-1]["error"] == (
        "'EVENT: bad storm' (hallucination, 46-62) is no longer there; "
        "it may have changed meanwhile"
    )
    assert w.error == sent[-1]["error"]
    patch(w, "comment", span=key(MISLABEL), comment=None)
    assert "comment=None must be a str" in w.error


def test_undo_and_redo_bring_a_span_back_with_its_comment(sent: list[dict[str, Any]]) -> None:
    w = Errors(OUTPUT, labels=TAXONOMY, value=[MISLABEL, MADE_UP])
    # The page's undo snapshots hold spans without comments.
    patch(w, "replace", value={"remove": [key(MADE_UP)], "add": []}, suggestions=None)
    assert w.value == [MISLABEL]
    patch(w, "replace", value={"remove": [], "add": [key(MADE_UP)]}, suggestions=None)
    assert w.value == [MISLABEL, MADE_UP]


def test_a_suggested_error_is_accepted_with_an_empty_comment(sent: list[dict[str, Any]]) -> None:
    suggestion = {**key(BOUNDARY), "score": 0.7}
    w = Errors(OUTPUT, labels=TAXONOMY, suggestions=[suggestion])
    patch(w, "accept", span=key(BOUNDARY))
    assert w.value == [BOUNDARY]
    assert w.suggestions == []


def test_set_comment_from_python() -> None:
    w = Errors(OUTPUT, labels=TAXONOMY, value=[key(MADE_UP)])
    w.set_comment(key(MADE_UP), "no EVENT type")
    assert w.payload.spans[0].comment == "no EVENT type"


def test_repr_is_short() -> None:
    w = Errors(OUTPUT * 5, labels=TAXONOMY, value=[MISLABEL])
    assert repr(w).startswith(
        "Errors(output='PERSON: Empire State Building\\nLOCATION: …' (310 chars)"
    )
    assert "value=1 error," in repr(w)


def test_bundle_is_built() -> None:
    bundle = STATIC_DIR / "errors.js"
    if not bundle.is_file():
        not_installed("front end not built (npm --prefix widgets run build)")
    assert "render" in bundle.read_text()
    assert (STATIC_DIR / "errors.css").is_file()


# --- the kind ---------------------------------------------------------------------------------

LAYOUT = {
    "name": "ner-output-review",
    "inputs": [{"name": "text", "type": "text"}, {"name": "reference", "type": "text"}],
    "questions": [
        {
            "kind": "errors",
            "name": "errors",
            "field": "text",
            "reference": "reference",
            "labels": TAXONOMY,
            "allow_overlap": True,
        }
    ],
}
DATA = {"text": OUTPUT, "reference": REFERENCE}
KIND = annolab.kinds.get("errors")


def answer(*spans: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "errors", "spans": list(spans)}


def test_the_kind_is_registered_with_its_payload_and_words() -> None:
    assert "errors" in annolab.kinds.names()
    assert KIND.payload is ErrorsPayload
    assert (KIND.measure, KIND.media, KIND.title) == ("spans", "text", "Errors")


def test_the_widget_reads_the_output_and_the_reference() -> None:
    layout = Layout.from_dict(LAYOUT)
    question = layout.questions[0]
    w = KIND.widget(question, DATA, layout.labels_for("errors"))
    assert isinstance(w, Errors)
    assert (w.output, w.reference, w.allow_overlap) == (OUTPUT, REFERENCE, True)
    assert [label["name"] for label in w.labels] == TAXONOMY
    w.value = [MISLABEL]
    # What the loop stores is what the question reads back.
    assert question.answer_of(w.value) == answer(MISLABEL)
    assert question.value_of(answer(MISLABEL)) == [MISLABEL]


def test_a_personas_quoted_errors_round_trip_through_the_validator() -> None:
    schema = KIND.persona_schema(LABELS, LAYOUT["questions"][0])
    item = schema["properties"]["spans"]["items"]
    assert item["required"] == ["text", "label"]
    assert item["properties"]["label"] == {"type": "string", "enum": TAXONOMY}
    assert item["properties"]["comment"] == {"type": "string"}
    assert item["additionalProperties"] is False
    model_answer = {
        "spans": [
            {"text": "PERSON", "label": "mislabeling", "comment": "a building is a location"},
            {"text": "ESB .", "label": "incorrect_boundary"},
        ]
    }
    payload = validate_payload(KIND.parse(model_answer, OUTPUT), labels=LABELS, text=OUTPUT)
    assert payload == ErrorsPayload(spans=(MISLABEL, BOUNDARY))
    assert KIND.as_answer(payload.to_dict(), OUTPUT) == model_answer
    assert Layout.from_dict(LAYOUT).check_answer(payload, data=DATA) == payload


def test_a_quote_not_in_the_output_is_refused() -> None:
    with pytest.raises(ValidationError, match="does not occur in the task text"):
        KIND.parse({"spans": [{"text": "Chrysler", "label": "hallucination"}]}, OUTPUT)


def test_units_are_spans_and_ignore_comments() -> None:
    assert KIND.units(answer(MISLABEL, MADE_UP)) == [
        (0, 6, "mislabeling"),
        (46, 62, "hallucination"),
    ]
    assert KIND.units(answer({**MISLABEL, "comment": "other words"})) == KIND.units(
        answer(MISLABEL)
    )


def test_consensus_keeps_the_errors_with_enough_votes_and_a_comment() -> None:
    answers = [
        answer(MISLABEL, MADE_UP),
        answer({**MISLABEL, "comment": ""}, BOUNDARY),
        answer({**MISLABEL, "comment": "not a person"}),
    ]
    assert KIND.consensus(answers, [1.0, 1.0, 1.0], 1.5) == answer(MISLABEL)
    assert KIND.consensus(answers, [1.0, 3.0, 1.0], 2.5) == answer(MISLABEL, BOUNDARY)


def test_label_units_count_error_types_for_the_dashboards() -> None:
    import json

    rows = pl.LazyFrame(
        {
            "row": [0, 1],
            "payload": [
                json.dumps(answer(MISLABEL, MADE_UP)),
                # A quote in a comment is escaped JSON: the parser reads that row.
                json.dumps(answer({**BOUNDARY, "comment": 'keeps "." in'})),
            ],
        }
    )
    units = KIND.label_units(rows).collect().sort("row", "start")
    assert units.rows() == [
        (0, 0, 6, "mislabeling"),
        (0, 46, 62, "hallucination"),
        (1, 40, 45, "incorrect_boundary"),
    ]


def test_review_shows_each_error_with_its_comment_and_what_is_disputed() -> None:
    one = answer(MISLABEL, MADE_UP)
    two = answer({**MISLABEL, "comment": ""}, BOUNDARY)
    assert KIND.parts(one, OUTPUT) == [
        "'PERSON' mislabeling: a building is a location",
        "'EVENT: bad storm' hallucination: no EVENT type",
    ]
    assert KIND.disputed([one, two]) == [[1], [1]]
    assert KIND.merge([one, two], True) == answer(MISLABEL, BOUNDARY, MADE_UP)
    # Without overlaps the earlier answer's error wins.
    wide = {"start": 0, "end": 29, "label": "incorrect_boundary", "comment": ""}
    assert KIND.merge([one, answer(wide)], False) == one


def test_the_view_is_a_preview_of_the_errors_over_the_output() -> None:
    layout = Layout.from_dict(LAYOUT)
    shown = KIND.view(answer(MISLABEL, MADE_UP), layout.questions[0], DATA, LABELS, [1])
    assert isinstance(shown, Preview)
    assert shown.text == OUTPUT
    assert [(s["start"], s["end"], s["label"]) for s in shown.spans] == [
        (0, 6, "mislabeling"),
        (46, 62, "hallucination"),
    ]
    assert shown.disputed == [1]


def test_label_studio_writes_labels_regions_with_comments_as_meta() -> None:
    regions = KIND.exports["label-studio"](
        answer(MISLABEL, BOUNDARY), Target(name="errors", field="text", text=OUTPUT)
    )
    assert regions == [
        {
            "from_name": "errors",
            "to_name": "text",
            "type": "labels",
            "value": {"start": 0, "end": 6, "text": "PERSON", "labels": ["mislabeling"]},
            "meta": {"text": ["a building is a location"]},
        },
        {
            "from_name": "errors",
            "to_name": "text",
            "type": "labels",
            "value": {"start": 40, "end": 45, "text": "ESB .", "labels": ["incorrect_boundary"]},
        },
    ]
    layout = Layout.from_dict(LAYOUT)
    assert label_studio_result(answer(MISLABEL), layout, DATA) == regions[:1]


def test_prodigy_writes_spans_like_ner_manual() -> None:
    layout = Layout.from_dict(LAYOUT)
    line = prodigy_task(answer(MISLABEL, MADE_UP), layout, DATA)
    assert line["spans"] == [
        {"start": 0, "end": 6, "label": "mislabeling", "text": "PERSON"},
        {"start": 46, "end": 62, "label": "hallucination", "text": "EVENT: bad storm"},
    ]


# --- a layout's errors question ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (
            answer({"start": 0, "end": 6, "label": "typo"}),
            "spans[0].label='typo'",
        ),
        (
            answer({"start": 60, "end": 70, "label": "hallucination"}),
            "spans[0].end=70 is past the end of the text (62",
        ),
    ],
)
def test_a_layout_refuses_errors_its_question_does_not_take(
    payload: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError) as info:
        Layout.from_dict(LAYOUT).check_answer(payload, data=DATA)
    assert str(info.value).startswith(message)


def test_review_describes_a_persons_errors_against_a_models() -> None:
    from annolab.kinds import compare

    layout = Layout.from_dict(LAYOUT)
    assert compare.describe(answer(MISLABEL), layout, DATA) == (
        "Errors: 'PERSON' mislabeling: a building is a location"
    )
    assert compare.changes(answer(MISLABEL), answer(MISLABEL, MADE_UP), layout, DATA) == (
        "Changed: + 'EVENT: bad storm' hallucination: no EVENT type"
    )


def test_errors_and_a_correction_compose_in_one_form() -> None:
    from annolab.annotate import _part
    from annolab.widgets.correction import Correction
    from annolab.widgets.layout import LayoutWidget

    form = {
        **LAYOUT,
        "questions": [*LAYOUT["questions"], {"kind": "correction", "name": "fix", "field": "text"}],
    }
    w = LayoutWidget(Layout.from_dict(form), DATA, labels=None, parts=_part)
    given = {
        "kind": "form",
        "answers": {
            "errors": answer(MISLABEL),
            "fix": {"kind": "correction", "text": REFERENCE},
        },
    }
    w.value = given
    assert w.payload.to_dict() == given
    parts = w._parts
    assert isinstance(parts["errors"], Errors) and isinstance(parts["fix"], Correction)
    assert (parts["errors"].value, parts["fix"].value) == ([MISLABEL], REFERENCE)
