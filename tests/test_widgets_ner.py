"""annolab.widgets.NER: validation, patches from the front end, offsets, the wire form."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest

from annolab.schema import LabelSchema, Span, SpansPayload
from annolab.widgets import NER, AnnotationWidget, WidgetTraitError
from annolab.widgets._base import BUILD_COMMAND, STATIC_DIR
from annolab.widgets._spans import decode_spans, encode_spans

TEXT = "Ada met Babbage in London 🇬🇧 and 東京."


def span(part: str, label: str, text: str = TEXT, **extra: Any) -> dict[str, Any]:
    """The span over the first ``part`` of ``text``, in code points."""
    start = text.index(part)
    return {"start": start, "end": start + len(part), "label": label, **extra}


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []

    def send(self: AnnotationWidget, content: dict[str, Any], buffers: Any = None) -> None:
        messages.append(content)

    monkeypatch.setattr(AnnotationWidget, "send", send)
    return messages


def patch(widget: NER, op: str, **fields: Any) -> None:
    """Delivers a patch as the front end sends it."""
    widget._handle_custom_msg({"op": op, "uuid": "u", **fields}, [])


# --- construction and validation --------------------------------------------------------------


def test_value_is_sorted_and_payload_is_a_spans_payload() -> None:
    ner = NER(TEXT, labels=["PER", "LOC"], value=[span("London", "LOC"), span("Ada", "PER")])
    assert ner.value == [span("Ada", "PER"), span("London", "LOC")]
    assert ner.payload == SpansPayload(
        spans=(Span(start=0, end=3, label="PER"), Span(start=19, end=25, label="LOC"))
    )


def test_span_models_are_taken_too() -> None:
    ner = NER(TEXT, labels=["PER"], value=[Span(start=0, end=3, label="PER", score=0.5)])
    assert ner.value == [{"start": 0, "end": 3, "label": "PER", "score": 0.5}]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"value": [{"start": 0, "end": 99, "label": "PER"}]},
            "value[0].end=99 is past the end of the text (36 code points)",
        ),
        (
            {"value": [{"start": 0, "end": 3, "label": "ORG"}]},
            "value[0].label='ORG' is not a label of this project; labels are 'PER', 'LOC'",
        ),
        (
            {"value": [span("Ada", "PER"), {"start": 1, "end": 5, "label": "LOC"}]},
            "value[1]={'start': 1, 'end': 5, 'label': 'LOC'} overlaps value[0] (0, 3, 'PER'); "
            "this project does not allow overlapping spans (allow_overlap=False)",
        ),
        (
            {"suggestions": [{"start": 0, "end": 3, "label": "PER", "score": 1.5}]},
            "suggestions[0].score=1.5 must be <= 1.0",
        ),
        (
            {"value": [{"start": 3, "end": 3, "label": "PER"}]},
            "value[0].end=3 must be greater than start (3); a span covers [start, end)",
        ),
        (
            {"value": "PER"},
            "value='PER' must be a list of spans like {'start': 0, 'end': 3, 'label': 'PER'}",
        ),
    ],
)
def test_bad_spans_are_refused_with_a_message_naming_the_trait(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(WidgetTraitError) as info:
        NER(TEXT, labels=["PER", "LOC"], **kwargs)
    assert str(info.value) == message


def test_suggestions_may_overlap_each_other() -> None:
    both = [span("Babbage", "PER", score=0.6), span("Babbage", "LOC", score=0.3)]
    assert len(NER(TEXT, labels=["PER", "LOC"], suggestions=both).suggestions) == 2


def test_allow_overlap_defaults_to_the_label_schema() -> None:
    schema = LabelSchema.from_names(["PER", "LOC"], allow_overlap=True)
    value = [span("Babbage in London", "LOC"), span("Babbage", "PER")]
    ner = NER(TEXT, labels=schema, value=value)
    assert ner.allow_overlap is True
    assert len(ner.payload.spans) == 2
    with pytest.raises(WidgetTraitError, match=r"^value\[1\]=.* overlaps value\[0\]"):
        ner.allow_overlap = False


def test_changing_text_or_labels_from_python_is_checked_against_the_value() -> None:
    ner = NER(TEXT, labels=["PER", "LOC"], value=[span("London", "LOC")])
    with pytest.raises(WidgetTraitError) as info:
        ner.text = "short"
    assert str(info.value) == "value[0].end=25 is past the end of the text (5 code points)"
    with pytest.raises(WidgetTraitError) as info:
        ner.labels = ["PER"]
    assert (
        str(info.value) == "value[0].label='LOC' is not a label of this project; labels are 'PER'"
    )
    assert ner.text == TEXT
    assert [label["name"] for label in ner.labels] == ["PER", "LOC"]


def test_new_text_and_value_together_in_hold_trait_notifications() -> None:
    ner = NER(TEXT, labels=["PER"], value=[span("Ada", "PER")])
    with ner.hold_trait_notifications():
        ner.text = "Bob"
        ner.value = [{"start": 0, "end": 3, "label": "PER"}]
    assert ner._text_utf8 == b"Bob"


def test_the_text_travels_as_utf8_bytes() -> None:
    ner = NER(TEXT, labels=["PER"])
    assert ner._text_utf8 == TEXT.encode("utf-8")
    assert "text" not in ner.get_state()  # only the bytes are synced


def test_repr_is_short_for_a_long_text() -> None:
    ner = NER("word " * 10_000, labels=["PER"], value=[{"start": 0, "end": 4, "label": "PER"}])
    assert repr(ner) == (
        f"NER(text={'word ' * 8 + '…'!r} (50000 chars), value=1 span, suggestions=0, "
        "labels=['PER'])"
    )


# --- patches from the front end ---------------------------------------------------------------


def test_add_validates_and_answers_ok(sent: list[dict[str, Any]]) -> None:
    ner = NER(TEXT, labels=["PER", "LOC"], value=[span("London", "LOC")])
    patch(ner, "add", span=span("Ada", "PER"))
    assert ner.value == [span("Ada", "PER"), span("London", "LOC")]
    assert sent == [{"uuid": "u", "ok": True}]


def test_add_after_emoji_and_cjk_counts_code_points(sent: list[dict[str, Any]]) -> None:
    ner = NER(TEXT, labels=["LOC"])
    tokyo = span("東京", "LOC")
    assert tokyo == {"start": 33, "end": 35, "label": "LOC"}  # 🇬🇧 is two code points
    patch(ner, "add", span=tokyo)
    assert TEXT[ner.value[0]["start"] : ner.value[0]["end"]] == "東京"


def test_an_overlapping_add_is_refused_visibly(sent: list[dict[str, Any]]) -> None:
    ner = NER(TEXT, labels=["PER", "LOC"], value=[span("Babbage", "PER")])
    patch(ner, "add", span=span("Babbage in London", "LOC"))
    # The banner quotes the text, not a Python dict.
    message = (
        "Spans 'Babbage' (PER, 8-15) and 'Babbage in London' (LOC, 8-25) overlap: "
        "remove or shorten one"
    )
    assert sent == [{"uuid": "u", "error": message}]
    assert ner.error == message
    assert ner.value == [span("Babbage", "PER")]


def test_an_add_past_the_text_is_refused(sent: list[dict[str, Any]]) -> None:
    ner = NER(TEXT, labels=["PER"])
    patch(ner, "add", span={"start": 30, "end": 40, "label": "PER"})
    assert sent[-1]["error"] == "span.end=40 is past the end of the text (36 code points)"
    assert ner.value == []


def test_a_duplicate_add_is_refused_even_with_overlaps_allowed(sent: list[dict[str, Any]]) -> None:
    ner = NER(TEXT, labels=["PER"], value=[span("Ada", "PER")], allow_overlap=True)
    patch(ner, "add", span=span("Ada", "PER"))
    assert sent[-1]["error"] == "'Ada' (PER, 0-3) is already labelled"


def test_remove_and_relabel(sent: list[dict[str, Any]]) -> None:
    ner = NER(TEXT, labels=["PER", "LOC"], value=[span("Ada", "PER"), span("London", "PER")])
    patch(ner, "relabel", span=span("London", "PER"), label="LOC")
    assert ner.value == [span("Ada", "PER"), span("London", "LOC")]
    patch(ner, "remove", span=span("Ada", "PER"))
    assert ner.value == [span("London", "LOC")]
    patch(ner, "remove", span=span("Ada", "PER"))
    assert sent[-1]["error"] == "'Ada' (PER, 0-3) is no longer there; it may have changed meanwhile"
    assert ner.error == sent[-1]["error"]
    # The next accepted edit clears the message.
    patch(ner, "add", span=span("Ada", "PER"))
    assert ner.error == ""


def test_accept_moves_a_suggestion_into_the_value_without_its_score(
    sent: list[dict[str, Any]],
) -> None:
    ner = NER(TEXT, labels=["PER", "LOC"], suggestions=[span("London", "LOC", score=0.9)])
    patch(ner, "accept", span=span("London", "LOC", score=0.9))
    assert ner.value == [span("London", "LOC")]
    assert ner.suggestions == []


def test_accept_with_another_label(sent: list[dict[str, Any]]) -> None:
    ner = NER(TEXT, labels=["PER", "LOC"], suggestions=[span("Babbage", "LOC", score=0.4)])
    patch(ner, "accept", span=span("Babbage", "LOC", score=0.4), label="PER")
    assert ner.value == [span("Babbage", "PER")]


def test_accept_all_takes_the_surest_and_leaves_overlaps_with_a_notice(
    sent: list[dict[str, Any]],
) -> None:
    suggestions = [
        span("Babbage", "PER", score=0.9),
        span("Babbage", "LOC", score=0.3),
        span("London", "LOC", score=0.8),
    ]
    ner = NER(TEXT, labels=["PER", "LOC"], suggestions=suggestions)
    patch(ner, "accept_all")
    assert ner.value == [span("Babbage", "PER"), span("London", "LOC")]
    assert ner.suggestions == [span("Babbage", "LOC", score=0.3)]
    assert sent == [{"uuid": "u", "ok": True}]
    assert ner.error.startswith("1 suggestion was left: each overlaps a span already labelled")


def test_reject_and_reject_all(sent: list[dict[str, Any]]) -> None:
    suggestions = [span("Ada", "PER", score=0.5), span("London", "LOC", score=0.5)]
    ner = NER(TEXT, labels=["PER", "LOC"], suggestions=suggestions)
    patch(ner, "reject", span=suggestions[0])
    assert ner.suggestions == [suggestions[1]]
    patch(ner, "reject_all")
    assert ner.suggestions == []
    assert ner.value == []


def test_replace_moves_both_lists_for_undo_and_redo(sent: list[dict[str, Any]]) -> None:
    ner = NER(TEXT, labels=["PER", "LOC"], value=[span("Ada", "PER")])
    patch(
        ner,
        "replace",
        value={"remove": [span("Ada", "PER")], "add": [span("London", "LOC")]},
        suggestions={"remove": [], "add": [span("Babbage", "PER", score=0.7)]},
    )
    assert ner.value == [span("London", "LOC")]
    assert ner.suggestions == [span("Babbage", "PER", score=0.7)]
    # A replace is checked as a whole list, so its errors name the trait.
    patch(ner, "replace", value={"remove": [], "add": [span("London ", "PER")]})
    assert sent[-1]["error"].startswith("value[1] (start 19, end 26, label PER) overlaps")
    assert ner.value == [span("London", "LOC")]


def test_a_patch_with_a_malformed_span_is_refused(sent: list[dict[str, Any]]) -> None:
    ner = NER(TEXT, labels=["PER"])
    patch(ner, "remove", span="Ada")
    assert sent[-1]["error"] == "span='Ada' must be a span {'start': int, 'end': int, 'label': str}"


def test_each_accepted_edit_notifies_value_observers_once(sent: list[dict[str, Any]]) -> None:
    ner = NER(TEXT, labels=["PER"])
    changes: list[int] = []
    ner.observe(lambda change: changes.append(len(change["new"])), names="value")
    patch(ner, "add", span=span("Ada", "PER"))
    patch(ner, "add", span=span("Babbage", "PER"))
    assert changes == [1, 2]


def test_submit_and_skip_nonces_fire_every_time() -> None:
    ner = NER(TEXT, labels=["PER"])
    seen: list[str] = []
    ner.on_submit(lambda w: seen.append("submit"))
    ner.on_skip(lambda w: seen.append("skip"))
    for state in ({"submit_count": 1}, {"submit_count": 2}, {"skip_count": 1}):
        ner.set_state(state)
    assert seen == ["submit", "submit", "skip"]


# --- the wire form ----------------------------------------------------------------------------


def test_value_travels_as_binary_columns() -> None:
    ner = NER(TEXT, labels=["PER", "LOC"], value=[span("Ada", "PER")])
    state = ner.get_state()["value"]
    assert state["count"] == 1
    assert state["labels"] == ["PER"]
    assert isinstance(state["start"], bytes)
    assert len(state["start"]) == 8


@pytest.mark.parametrize(
    "spans",
    [
        [],
        [{"start": 0, "end": 3, "label": "PER"}],
        [
            {"start": 0, "end": 3, "label": "東京", "score": 0.25},
            {"start": 2**40, "end": 2**40 + 2, "label": "PER"},
        ],
    ],
)
def test_the_wire_form_round_trips(spans: list[dict[str, Any]]) -> None:
    assert decode_spans(encode_spans(spans)) == spans


# --- the built front end ----------------------------------------------------------------------


def test_bundle_is_built_and_exports_render() -> None:
    bundle = STATIC_DIR / "ner.js"
    assert bundle.is_file(), f"{bundle} is missing: run `{BUILD_COMMAND}` from the repository root"
    assert (STATIC_DIR / "ner.css").is_file()
    node = shutil.which("node")
    assert node is not None, "node is needed to build the front end; install Node.js 20+"
    url = json.dumps(bundle.as_uri())
    script = f"const m = await import({url}); console.log(typeof m.default.render)"
    out = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "function"


def test_suggestions_are_accepted_from_python() -> None:
    w = NER("Ada met Grace", labels=["PER"])
    w.suggestions = [
        {"start": 0, "end": 3, "label": "PER", "score": 0.9},
        {"start": 8, "end": 13, "label": "PER", "score": 0.6},
        {"start": 0, "end": 7, "label": "PER", "score": 0.2},  # overlaps "Ada": stays offered
    ]
    w.accept_suggestions()
    assert w.value == [
        {"start": 0, "end": 3, "label": "PER"},
        {"start": 8, "end": 13, "label": "PER"},
    ]
    assert w.suggestions == [{"start": 0, "end": 7, "label": "PER", "score": 0.2}]
    assert w.error.startswith("1 suggestion was left: each overlaps a span already labelled")


def test_a_refused_edit_still_raises_the_house_form_in_python() -> None:
    # The banner is for the annotator; Python callers keep field, value and rule.
    ner = NER(TEXT, labels=["PER", "LOC"], value=[span("Babbage", "PER")])
    with pytest.raises(WidgetTraitError, match=r"^span=\{'start': 8, .* overlaps PER") as info:
        ner._edit_value().add(span("Babbage in London", "LOC"))
    assert info.value.banner == (
        "Spans 'Babbage' (PER, 8-15) and 'Babbage in London' (LOC, 8-25) overlap: "
        "remove or shorten one"
    )
