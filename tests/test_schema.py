"""Unit tests for annolab.schema: payload models, label schemas and the validator's messages."""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest
from pydantic import TypeAdapter

from annolab.errors import AnnolabError, ValidationError
from annolab.schema import (
    MISSING,
    PALETTE,
    Box,
    BoxesPayload,
    ChoicePayload,
    ChoicesPayload,
    Label,
    LabelSchema,
    Payload,
    RatingPayload,
    Span,
    SpansPayload,
    TextPayload,
    check_text,
    payload_from_dict,
    validate_labels,
    validate_payload,
)
from annolab.schema.fields import (
    PRIORITY_MAX,
    PRIORITY_MIN,
    check_int,
    check_json,
    check_name,
    check_seconds,
    check_str,
)
from annolab.schema.labels import MIN_TEXT_CONTRAST, contrast_with_black, label_color, pick_hotkey

PER_ORG = LabelSchema.from_names(["PER", "ORG"])
KINDS = (
    "'spans', 'choice', 'choices', 'boxes', 'rating', 'text', 'pairwise', 'ranking', 'rubric', "
    "'errors', 'correction', 'form'"
)


def span(start: object, end: object, label: object = "PER", **extra: Any) -> dict[str, Any]:
    return {"start": start, "end": end, "label": label, **extra}


def spans(*items: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "spans", "spans": list(items)}


def box(
    x: object, y: object, width: object, height: object, label: object = "cat"
) -> dict[str, Any]:
    return {"x": x, "y": y, "width": width, "height": height, "label": label}


def accepted_spans(raw: object, **context: Any) -> tuple[Span, ...]:
    payload = validate_payload(raw, **context)
    assert isinstance(payload, SpansPayload)
    return payload.spans


def accepted_boxes(raw: object, **context: Any) -> tuple[Box, ...]:
    payload = validate_payload(raw, **context)
    assert isinstance(payload, BoxesPayload)
    return payload.boxes


def refusal(raw: object, **context: Any) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_payload(raw, **context)
    return caught.value


def label_refusal(raw: object) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        validate_labels(raw)
    return caught.value


# --- payload models ---------------------------------------------------------------------------


def test_spans_are_stored_sorted_so_equal_sets_compare_equal() -> None:
    one = validate_payload(spans(span(4, 7, "ORG"), span(0, 3)))
    other = validate_payload(spans(span(0, 3), span(4, 7, "ORG")))
    assert one == other
    assert one.to_dict() == {
        "kind": "spans",
        "spans": [span(0, 3), span(4, 7, "ORG")],
    }


def test_spans_with_the_same_range_sort_by_label() -> None:
    found = accepted_spans(spans(span(0, 3, "b"), span(0, 3, "a")))
    assert [s.label for s in found] == ["a", "b"]


def test_to_dict_leaves_out_an_unset_score_and_keeps_a_set_one() -> None:
    payload = validate_payload(spans(span(0, 3, score=0.25), span(4, 5)))
    assert payload.to_dict()["spans"] == [span(0, 3, score=0.25), span(4, 5)]


def test_to_dict_is_json_and_payload_from_dict_inverts_it() -> None:
    payload = BoxesPayload(boxes=(Box(x=1, y=2, width=3, height=4, label="cat", score=0.5),))
    stored = json.loads(json.dumps(payload.to_dict()))
    assert stored == {
        "kind": "boxes",
        "boxes": [{"x": 1.0, "y": 2.0, "width": 3.0, "height": 4.0, "label": "cat", "score": 0.5}],
    }
    assert payload_from_dict(stored) == payload


def test_payload_union_dispatches_on_kind_inside_other_models() -> None:
    adapter: TypeAdapter[Payload] = TypeAdapter(Payload)
    assert adapter.validate_python({"kind": "text", "text": "ok"}) == TextPayload(text="ok")
    assert adapter.validate_python({"kind": "rating", "value": 2}) == RatingPayload(value=2)


def test_models_are_frozen() -> None:
    payload = TextPayload(text="a")
    with pytest.raises(ValueError, match="frozen"):
        payload.text = "b"


def test_choices_are_stored_sorted() -> None:
    payload = validate_payload({"kind": "choices", "labels": ["ORG", "PER"]})
    assert payload == ChoicesPayload(labels=("PER", "ORG"))
    assert payload.to_dict() == {"kind": "choices", "labels": ["ORG", "PER"]}


def test_choices_may_be_empty() -> None:
    assert validate_payload({"kind": "choices", "labels": []}) == ChoicesPayload(labels=())


def test_rating_defaults_to_a_one_to_five_scale() -> None:
    payload = validate_payload({"kind": "rating", "value": 5})
    assert payload == RatingPayload(value=5, min=1, max=5)
    assert payload.to_dict() == {"kind": "rating", "value": 5, "min": 1, "max": 5}


def test_box_integer_coordinates_become_floats() -> None:
    (found,) = accepted_boxes({"kind": "boxes", "boxes": [box(1, 2, 3, 4)]})
    assert isinstance(found.x, float)
    assert found.x == 1.0


def test_a_built_model_is_accepted_and_checked_in_context() -> None:
    built = SpansPayload(spans=(Span(start=0, end=3, label="PER"),))
    assert validate_payload(built, labels=PER_ORG, text="Ada") == built
    err = refusal(built, text="Ad")
    assert str(err) == "spans[0].end=3 is past the end of the text (2 code points)"


def test_a_model_built_without_validation_is_checked_again() -> None:
    broken = SpansPayload.model_construct(spans=(Span.model_construct(start=5, end=2, label="X"),))
    err = refusal(broken)
    assert (err.field, err.value) == ("spans[0].end", 2)


# --- structural rules -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (
            spans(span(5, 5)),
            "spans[0].end=5 must be greater than start (5); a span covers [start, end)",
        ),
        (spans(span(-1, 5)), "spans[0].start=-1 must be >= 0"),
        (spans(span(0, 2), span(1.0, 5)), "spans[1].start=1.0 must be a whole number"),
        (spans(span(True, 5)), "spans[0].start=True must be a whole number, not true/false"),
        (spans(span("0", 5)), "spans[0].start='0' must be a whole number"),
        (
            spans(span(0, 2**53)),
            "spans[0].end=9007199254740992 must be <= 9007199254740991 "
            "(the largest whole number JavaScript holds exactly)",
        ),
        (spans(span(0, 2, "")), "spans[0].label='' must not be empty"),
        (spans(span(0, 2, 7)), "spans[0].label=7 must be a string"),
        (spans(span(0, 2, score=1.5)), "spans[0].score=1.5 must be <= 1.0"),
        (spans(span(0, 2, score=-0.1)), "spans[0].score=-0.1 must be >= 0.0"),
        (
            spans(span(0, 2, score=float("nan"))),
            "spans[0].score=nan must be a finite number, not NaN or infinity",
        ),
        (spans({"start": 0, "label": "PER"}), "spans[0].end=<missing> is required"),
        (
            spans(span(0, 2, colour="red")),
            "spans[0].colour='red' is not a field of Span; "
            "its fields are 'start', 'end', 'label', 'score'",
        ),
        (
            spans(span(0, 2), span(0, 2, score=0.5)),
            "spans[1]={'start': 0, 'end': 2, 'label': 'PER', 'score': 0.5} "
            "is the same span as spans[0]; remove one",
        ),
        ({"kind": "spans"}, "spans=<missing> is required"),
        ({"kind": "spans", "spans": "0-3"}, "spans='0-3' must be a list"),
        (
            {"kind": "spans", "spans": [[0, 3, "PER"]]},
            "spans[0]=[0, 3, 'PER'] must be an object (a dict)",
        ),
        (
            {"kind": "spans", "spans": [], "text": "x"},
            "text='x' is not a field of SpansPayload; its fields are 'kind', 'spans'",
        ),
        ({"kind": "choice"}, "label=<missing> is required"),
        (
            {"kind": "choices", "labels": ["a", "b", "a"]},
            "labels[2]='a' is the same label as labels[0]; remove one",
        ),
        (
            {"kind": "boxes", "boxes": [box(0, 0, 0, 5)]},
            "boxes[0].width=0 must be > 0.0",
        ),
        ({"kind": "boxes", "boxes": [box(-1, 0, 1, 5)]}, "boxes[0].x=-1 must be >= 0.0"),
        (
            {"kind": "boxes", "boxes": [box(0, float("inf"), 1, 5)]},
            "boxes[0].y=inf must be a finite number, not NaN or infinity",
        ),
        ({"kind": "boxes", "boxes": [box(0, 0, 1, 10**400)]}, None),
        (
            {"kind": "rating", "value": 6},
            "value=6 is off the scale; it must be between min (1) and max (5)",
        ),
        (
            {"kind": "rating", "value": 3, "min": 3, "max": 3},
            "max=3 must be greater than min (3) for a rating scale",
        ),
        ({"kind": "rating", "value": 2.5}, "value=2.5 must be a whole number"),
        ({"kind": "text", "text": None}, "text=None must be a string"),
        ({"kind": "text"}, "text=<missing> is required"),
        ({"spans": []}, f"kind=<missing> is required; payload kinds are {KINDS}"),
        ({"kind": "slider"}, f"kind='slider' is not a payload kind; kinds are {KINDS}"),
        ({"kind": ["spans"]}, f"kind=['spans'] is not a payload kind; kinds are {KINDS}"),
        (
            [span(0, 2)],
            f"payload=[{{'start': 0, 'end': 2, 'label': 'PER'}}] must be a dict with a 'kind' "
            f"({KINDS}), not list",
        ),
        (None, f"payload=None must be a dict with a 'kind' ({KINDS}), not NoneType"),
    ],
)
def test_structural_rules_say_field_value_and_rule(raw: object, message: str | None) -> None:
    err = refusal(raw)
    if message is not None:
        assert str(err) == message


def test_huge_integer_for_a_coordinate_is_refused_as_not_finite() -> None:
    err = refusal({"kind": "boxes", "boxes": [box(0, 0, 1, 10**400)]})
    assert err.field == "boxes[0].height"
    assert err.rule == "must be a finite number"


def test_missing_value_is_the_missing_marker() -> None:
    err = refusal(spans({"start": 0, "label": "PER"}))
    assert err.value is MISSING
    assert repr(MISSING) == "<missing>"


def test_error_is_an_annolab_error_and_a_value_error() -> None:
    err = refusal({"kind": "rating", "value": 0})
    assert isinstance(err, AnnolabError)
    assert isinstance(err, ValueError)
    assert (err.field, err.value) == ("value", 0)


def test_indices_in_errors_count_in_the_order_sent() -> None:
    err = refusal(spans(span(10, 12), span(0, 3), span(5, 99)), text="x" * 20)
    assert err.field == "spans[2].end"


def test_a_non_string_key_is_refused() -> None:
    err = refusal({"kind": "text", "text": "a", 3: "b"})
    assert str(err) == "[3]=3 is a key that is not a string; keys must be strings"


# --- text Postgres cannot store ---------------------------------------------------------------


def test_nul_in_a_label_is_refused() -> None:
    err = refusal(spans(span(0, 2, "P\x00R")))
    assert err.field == "spans[0].label"
    assert err.value == "P\x00R"
    assert err.rule == (
        "contains a NUL character (\\x00) at index 1; Postgres cannot store NUL, remove it"
    )


def test_lone_surrogate_in_text_is_refused() -> None:
    err = refusal({"kind": "text", "text": "caf\udce9"})
    assert str(err) == (
        "text='caf\\udce9' contains a lone surrogate '\\udce9' at index 3, which is not valid "
        "UTF-8 so Postgres cannot store it; the text was probably decoded wrongly "
        "(check the encoding)"
    )


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"kind": "choice", "label": "\ud800"}, "label"),
        ({"kind": "choices", "labels": ["ok", "x\x00"]}, "labels[1]"),
        ({"kind": "boxes", "boxes": [box(0, 0, 1, 1, "\udfff")]}, "boxes[0].label"),
        ({"kind": "text", "text": "a\x00"}, "text"),
    ],
)
def test_unstorable_strings_are_refused_in_every_string_field(raw: object, field: str) -> None:
    err = refusal(raw)
    assert err.field == field
    assert "Postgres cannot store" in err.rule


def test_a_field_name_with_a_lone_surrogate_is_refused() -> None:
    err = refusal({"kind": "text", "text": "a", "\ud800": 1})
    assert err.value == "\ud800"
    assert err.rule.startswith("contains a lone surrogate '\\ud800' at index 0")


def test_check_text_accepts_emoji_and_refuses_nul_and_surrogates() -> None:
    check_text("Hi 👋🏽 東京 e\u0301", "text")
    with pytest.raises(ValidationError, match=r"^tasks\[3\]\.text='a\\x00' contains a NUL"):
        check_text("a\x00", "tasks[3].text")
    with pytest.raises(ValidationError, match=r"lone surrogate '\\ud83d' at index 1"):
        check_text("a\ud83d", "body")
    with pytest.raises(ValidationError, match=r"^body=None must be a string, not NoneType$"):
        check_text(None, "body")


# --- context: labels, text, overlap, image ----------------------------------------------------


def test_a_label_outside_the_schema_names_the_known_labels() -> None:
    err = refusal(spans(span(0, 3, "FOO")), labels=PER_ORG)
    assert str(err) == (
        "spans[0].label='FOO' is not a label of this project; labels are 'PER', 'ORG'"
    )


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"kind": "choice", "label": "LOC"}, "label"),
        ({"kind": "choices", "labels": ["PER", "LOC"]}, "labels[1]"),
        ({"kind": "boxes", "boxes": [box(0, 0, 1, 1, "LOC")]}, "boxes[0].label"),
    ],
)
def test_labels_are_checked_for_every_labelled_kind(raw: object, field: str) -> None:
    err = refusal(raw, labels=PER_ORG)
    assert (err.field, err.value) == (field, "LOC")


def test_a_long_label_list_is_cut_in_the_message() -> None:
    many = LabelSchema.from_names([f"L{i}" for i in range(30)])
    err = refusal({"kind": "choice", "label": "X"}, labels=many)
    assert err.rule.endswith("'L19', ... (30 in all)")


def test_a_project_without_labels_says_so() -> None:
    err = refusal({"kind": "choice", "label": "X"}, labels=LabelSchema())
    assert err.rule == "is not a label of this project; the project has no labels"


def test_labels_may_be_given_as_names() -> None:
    payload = validate_payload({"kind": "choice", "label": "ORG"}, labels=["PER", "ORG"])
    assert payload == ChoicePayload(label="ORG")


def test_a_span_past_the_end_of_the_text_is_refused() -> None:
    err = refusal(spans(span(0, 3), span(50, 57)), text="x" * 52)
    assert str(err) == "spans[1].end=57 is past the end of the text (52 code points)"


def test_a_span_ending_at_the_end_of_the_text_is_fine() -> None:
    assert accepted_spans(spans(span(0, 3)), text="Ada")[0].end == 3


def test_overlapping_spans_are_refused_naming_both() -> None:
    err = refusal(spans(span(0, 5), span(3, 9, "ORG")), labels=PER_ORG)
    assert str(err) == (
        "spans[1]={'start': 3, 'end': 9, 'label': 'ORG'} overlaps spans[0] (0, 5, 'PER'); "
        "this project does not allow overlapping spans (allow_overlap=False)"
    )


def test_overlap_is_found_with_a_long_span_before_short_ones() -> None:
    err = refusal(spans(span(20, 25), span(0, 30, "ORG"), span(2, 4)), labels=PER_ORG)
    assert err.field == "spans[2]"
    assert "overlaps spans[1] (0, 30, 'ORG')" in err.rule


def test_touching_spans_do_not_overlap() -> None:
    assert len(accepted_spans(spans(span(0, 3), span(3, 6, "ORG")), labels=PER_ORG)) == 2


def test_overlap_is_allowed_when_the_schema_allows_it() -> None:
    nested = LabelSchema.from_names(["PER", "ORG"], allow_overlap=True)
    found = accepted_spans(spans(span(0, 5), span(0, 5, "ORG")), labels=nested)
    assert [s.label for s in found] == ["ORG", "PER"]


def test_overlap_is_not_checked_without_a_schema() -> None:
    assert len(accepted_spans(spans(span(0, 5), span(2, 4)))) == 2


@pytest.mark.parametrize(
    ("item", "message"),
    [
        (
            box(600, 0, 50, 5),
            "boxes[0].width=50.0 puts the box past the right edge of the image "
            "(x + width = 650, the image is 640 px wide)",
        ),
        (
            box(700, 0, 50, 5),
            "boxes[0].x=700.0 puts the box past the right edge of the image "
            "(x + width = 750, the image is 640 px wide)",
        ),
        (
            box(0, 470, 5, 20),
            "boxes[0].height=20.0 puts the box past the bottom edge of the image "
            "(y + height = 490, the image is 480 px high)",
        ),
    ],
)
def test_boxes_outside_the_image_are_refused(item: dict[str, Any], message: str) -> None:
    err = refusal({"kind": "boxes", "boxes": [item]}, image_size=(640, 480))
    assert str(err) == message


def test_a_box_filling_the_image_is_fine() -> None:
    (found,) = accepted_boxes(
        {"kind": "boxes", "boxes": [box(0, 0, 640, 480)]}, image_size=(640, 480)
    )
    assert found.width == 640.0


@pytest.mark.parametrize(
    ("context", "field"),
    [
        ({"text": b"Ada"}, "text"),
        ({"image_size": (640,)}, "image_size"),
        ({"image_size": (640, 0)}, "image_size"),
        ({"image_size": (True, 3)}, "image_size"),
        ({"image_size": (10**400, 3)}, "image_size"),
        ({"image_size": (float("nan"), 3)}, "image_size"),
        ({"labels": "PER"}, "labels"),
        ({"labels": [""]}, "labels[0].name"),
    ],
)
def test_bad_context_arguments_are_validation_errors(context: dict[str, Any], field: str) -> None:
    assert refusal(spans(span(0, 3)), **context).field == field


# --- code points: emoji, CJK, combining marks -------------------------------------------------

COMPOSED = "Hi 👋🏽 東京 é"
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)


def test_offsets_count_code_points_not_utf16_units() -> None:
    assert len(COMPOSED) == 10
    assert len(COMPOSED.encode("utf-16-le")) // 2 == 12  # what a JavaScript string length says
    found = accepted_spans(
        spans(span(3, 5, "EMOJI"), span(6, 8, "LOC"), span(9, 10, "CHAR")), text=COMPOSED
    )
    assert [COMPOSED[s.start : s.end] for s in found] == ["👋🏽", "東京", "é"]


def test_utf16_offsets_are_refused_as_past_the_end() -> None:
    err = refusal(spans(span(9, 12)), text=COMPOSED)
    assert str(err) == "spans[0].end=12 is past the end of the text (10 code points)"


def test_combining_mark_is_its_own_code_point() -> None:
    assert DECOMPOSED[9:] == "e\u0301"
    (found,) = accepted_spans(spans(span(9, 11, "CHAR")), text=DECOMPOSED)
    assert DECOMPOSED[found.start : found.end] == "e\u0301"
    # The same span is one code point too long for the composed form.
    err = refusal(spans(span(9, 11, "CHAR")), text=COMPOSED)
    assert err.rule == "is past the end of the text (10 code points)"


def test_a_span_may_split_an_emoji_and_its_skin_tone() -> None:
    # Offsets are code points; whether to snap to grapheme clusters is the widget's choice.
    (found,) = accepted_spans(spans(span(3, 4, "EMOJI")), text=COMPOSED)
    assert COMPOSED[found.start : found.end] == "👋"


# --- label schemas ----------------------------------------------------------------------------


def test_from_names_gives_palette_colours_and_digit_hotkeys() -> None:
    schema = LabelSchema.from_names([f"L{i}" for i in range(12)])
    # Past the digits, the label's own letter ("l"), then the next free letter.
    assert [label.hotkey for label in schema.labels] == [*"123456789", "l", "a", "b"]
    assert [label.color for label in schema.labels[:10]] == list(PALETTE)
    assert schema.allow_overlap is False


def test_label_colours_never_repeat_and_keep_black_text_readable() -> None:
    colors = [label_color(index) for index in range(200)]
    assert len(set(colors)) == 200
    assert min(contrast_with_black(color) for color in colors) >= MIN_TEXT_CONTRAST
    # The same values as widgets/src/common/labels.test.ts: both sides compute them alike.
    assert colors[10:14] == ["#ecb4ac", "#83e2aa", "#d9acec", "#e2e183"]
    assert LabelSchema.from_names([f"L{i}" for i in range(11)]).labels[10].color == "#ecb4ac"


def test_every_label_of_a_long_list_gets_its_own_hotkey() -> None:
    names = ["PER", "ORG", "LOC", "MISC", "DATE", "TIME", "MONEY", "PCT", "QTY", "LAW", "EVENT"]
    keys = [label.hotkey for label in LabelSchema.from_names(names).labels]
    assert keys == [*"123456789", "l", "e"]
    many = LabelSchema.from_names([f"label {i}" for i in range(80)])
    hotkeys = [label.hotkey for label in many.labels]
    assert None not in hotkeys and len(set(hotkeys)) == 80
    assert not {"?", "0", "+", "-", "=", "_", " "} & set(hotkeys)  # keys the widgets use


def test_pick_hotkey_prefers_the_names_letters() -> None:
    assert pick_hotkey("ORG", set()) == "1"
    assert pick_hotkey("ORG", set("123456789")) == "o"
    assert pick_hotkey("ORG", set("123456789org")) == "a"
    assert pick_hotkey("x", set("123456789abcdefghijklmnopqrstuvwxyz")) == "A"


def test_label_schema_repr_lists_keys_names_and_colours() -> None:
    schema = LabelSchema.coerce(
        [{"name": "PER", "description": "a person"}, {"name": "LOCATION", "hotkey": "l"}]
    )
    assert repr(schema) == (
        "LabelSchema: 2 labels, spans may not overlap\n"
        "  [1] PER       #aec7e8  a person\n"
        "  [l] LOCATION  #ffbb78"
    )


def test_hotkeys_match_the_widgets_for_labels_without_one() -> None:
    # The same keys as widgets/src/common/hotkeys.ts assignHotkeys: own keys first, then
    # the free digits, then a letter of the name.
    raw = [{"name": "PER", "hotkey": "1"}] + [{"name": f"T{i}"} for i in range(8)]
    schema = LabelSchema.coerce([*raw, {"name": "LAW"}, {"name": "EVENT"}])
    assert list(schema.hotkeys().values()) == [*"123456789", "l", "e"]


def test_label_schema_html_is_a_legend_with_swatches() -> None:
    schema = LabelSchema.coerce([{"name": "<b>PER</b>", "hotkey": "p"}, "ORG"])
    html = schema._repr_html_()
    assert "&lt;b&gt;PER&lt;/b&gt;" in html and "<b>PER" not in html
    assert html.count('class="annolab-legend-chip" style="background:#aec7e8') == 1
    assert '<kbd style="font-size:13px">p</kbd>' in html
    assert "2 labels" in html and "Spans may not overlap." in html


def test_names_and_label_lookup() -> None:
    assert PER_ORG.names == ("PER", "ORG")
    assert PER_ORG.label("ORG") == Label(name="ORG", color=PALETTE[1], hotkey="2")
    with pytest.raises(ValidationError, match=r"^label='LOC' is not a label of this project"):
        PER_ORG.label("LOC")


def test_labels_without_a_colour_get_one_by_position() -> None:
    schema = LabelSchema(labels=(Label(name="a", color="#123456"), Label(name="b")))
    assert [label.color for label in schema.labels] == ["#123456", PALETTE[1]]


@pytest.mark.parametrize(
    "raw",
    [
        PER_ORG,
        ["PER", "ORG"],
        ("PER", "ORG"),
        [{"name": "PER", "hotkey": "1"}, {"name": "ORG", "hotkey": "2"}],
        [Label(name="PER", hotkey="1"), Label(name="ORG", hotkey="2")],
        {"labels": ["PER", "ORG"]},
        {"labels": ["PER", "ORG"], "allow_overlap": False},
        PER_ORG.to_dict(),
    ],
)
def test_coerce_accepts_every_documented_shape(raw: object) -> None:
    assert LabelSchema.coerce(raw) == PER_ORG


def test_coerce_mixes_names_and_dicts_without_hotkeys_for_names() -> None:
    schema = LabelSchema.coerce(["PER", {"name": "ORG", "hotkey": "o", "description": "firms"}])
    assert [(lb.name, lb.hotkey, lb.description) for lb in schema.labels] == [
        ("PER", None, ""),
        ("ORG", "o", "firms"),
    ]


def test_label_schema_dict_round_trip() -> None:
    schema = LabelSchema(
        labels=(Label(name="PER", color="#FF0000", hotkey="p", description="a person"),),
        allow_overlap=True,
    )
    data = schema.to_dict()
    assert data == {
        "labels": [{"name": "PER", "color": "#ff0000", "hotkey": "p", "description": "a person"}],
        "allow_overlap": True,
    }
    assert LabelSchema.from_dict(json.loads(json.dumps(data))) == schema


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([""], "labels[0].name='' must not be empty or only spaces"),
        (["PER", "  "], "labels[1].name='  ' must not be empty or only spaces"),
        (["PER", " ORG"], "labels[1].name=' ORG' has spaces around it; remove them"),
        (
            ["PER", "ORG", "PER"],
            "labels[2].name='PER' is already the name of labels[0]; names must be unique",
        ),
        (
            [{"name": "A", "hotkey": "a"}, {"name": "B", "hotkey": "a"}],
            "labels[1].hotkey='a' is already the hotkey of labels[0]; hotkeys must be unique",
        ),
        (
            [{"name": "A", "hotkey": "ab"}],
            "labels[0].hotkey='ab' must be one printable character other than a space",
        ),
        (
            [{"name": "A", "hotkey": " "}],
            "labels[0].hotkey=' ' must be one printable character other than a space",
        ),
        (
            [{"name": "A", "hotkey": "\n"}],
            "labels[0].hotkey='\\n' must be one printable character other than a space",
        ),
        (
            [{"name": "A", "color": "red"}],
            "labels[0].color='red' is not a colour of the form '#rrggbb' (e.g. '#aec7e8')",
        ),
        (
            [{"name": "A", "color": "#abc"}],
            "labels[0].color='#abc' is not a colour of the form '#rrggbb' (e.g. '#aec7e8')",
        ),
        (
            [{"name": "A", "shortcut": "a"}],
            "labels[0].shortcut='a' is not a field of Label; "
            "its fields are 'name', 'color', 'hotkey', 'description'",
        ),
        (
            ["A\x00"],
            "labels[0].name='A\\x00' contains a NUL character (\\x00) at index 1; "
            "Postgres cannot store NUL, remove it",
        ),
        ([{"name": "A", "description": "\ud800"}], None),
        ({"labels": ["A"], "allow_overlap": "yes"}, "allow_overlap='yes' must be true or false"),
        (
            {"labels": ["A"], "overlap": True},
            "overlap=True is not a field of LabelSchema; its fields are 'labels', 'allow_overlap'",
        ),
        ("PER", "labels='PER' is one string, not a list of label names; write ['PER']"),
        ({"labels": "PER"}, "labels='PER' is one string, not a list of label names; write ['PER']"),
        (
            42,
            "labels=42 must be a LabelSchema, a list of label names, a list of label dicts, "
            "or a dict {'labels': [...], 'allow_overlap': ...}",
        ),
        (["A", 3], "labels[1]=3 must be an object (a dict)"),
    ],
)
def test_label_schema_rules(raw: object, message: str | None) -> None:
    err = label_refusal(raw)
    if message is not None:
        assert str(err) == message


def test_from_names_refuses_one_string() -> None:
    with pytest.raises(ValidationError, match="one string"):
        LabelSchema.from_names("PER")


def test_from_names_refuses_duplicates_with_our_error() -> None:
    with pytest.raises(ValidationError, match=r"^labels\[1\]\.name='PER' is already"):
        LabelSchema.from_names(["PER", "PER"])


# --- plain field checks (annolab.schema.fields) and the kind a layout asks for ---------------


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (2**40, "priority=1099511627776 must be a whole number from -2147483648 to 2147483647"),
        (
            True,
            "priority=True must be a whole number from -2147483648 to 2147483647, not true/false",
        ),
        (1.0, "priority=1.0 must be a whole number from -2147483648 to 2147483647, not float"),
        ("3", "priority='3' must be a whole number from -2147483648 to 2147483647, not str"),
    ],
)
def test_check_int_states_the_range(value: object, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_int(value, "priority", low=PRIORITY_MIN, high=PRIORITY_MAX)
    assert str(info.value) == message


def test_check_int_takes_numpy_integers_as_python_ints() -> None:
    np = pytest.importorskip("numpy")
    assert check_int(np.int64(7), "k", low=1, high=10) == 7
    assert type(check_int(np.int64(7), "k", low=1, high=10)) is int


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (float("nan"), "time_spent=nan must be a finite number of at least 0; NaN and infinity"),
        (float("-inf"), "time_spent=-inf must be a finite number of at least 0; NaN and infinity"),
        (-0.5, "time_spent=-0.5 must be a finite number of at least 0"),
        (10**400, "time_spent=1000"),
        ("1", "time_spent='1' must be a finite number of at least 0, not str"),
    ],
)
def test_check_seconds_refuses_what_is_not_a_duration(value: object, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_seconds(value)
    assert str(info.value).startswith(message)


def test_check_seconds_keeps_a_duration_exactly() -> None:
    assert (check_seconds(0), check_seconds(2.25), check_seconds(None)) == (0.0, 2.25, None)


@pytest.mark.parametrize(
    ("value", "field", "rule"),
    [
        ("a\x00b", "reason", "contains a NUL character (\\x00) at index 1"),
        ("caf\udce9", "reason", "contains a lone surrogate '\\udce9' at index 3"),
        ("   ", "user", "must not be empty or only spaces"),
        ("x" * 501, "user", "is 501 characters long; it must be at most 500"),
        (42, "user", "must be a string, not int"),
    ],
)
def test_names_and_texts_postgres_can_not_store_are_refused(
    value: object, field: str, rule: str
) -> None:
    check = check_name if field == "user" else check_str
    with pytest.raises(ValidationError) as info:
        check(value, field)
    assert info.value.field == field
    assert info.value.value == value
    assert rule in info.value.rule


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ({"a": [1, {"b": float("inf")}]}, "settings['a'][1]['b']=inf must be a finite number"),
        ({"a\x00": 1}, "settings key='a\\x00' contains a NUL"),
        ({1: "x"}, "settings[1]=1 is a key that is not a string"),
        ({"when": object}, "settings['when']=<class 'object'> is a type; only dicts"),
    ],
)
def test_check_json_names_the_path_to_the_bad_value(value: object, message: str) -> None:
    with pytest.raises(ValidationError) as info:
        check_json(value, "settings")
    assert str(info.value).startswith(message)
