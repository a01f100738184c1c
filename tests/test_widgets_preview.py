"""annolab.widgets.Preview: validation at the edge, code-point offsets, and the built bundle."""

from __future__ import annotations

import json
import math
import shutil
import subprocess
from dataclasses import dataclass
from typing import Any

import pytest
import traitlets

from annolab.errors import ValidationError
from annolab.schema import PALETTE, LabelSchema
from annolab.widgets import Preview, WidgetTraitError
from annolab.widgets._base import BUILD_COMMAND, STATIC_DIR


def span(start: int, end: int, label: str = "PER", **extra: Any) -> dict[str, Any]:
    return {"start": start, "end": end, "label": label, **extra}


# --- the built front end ------------------------------------------------------------------


@pytest.mark.parametrize("name", ["preview.js", "preview.css"])
def test_bundle_is_built(name: str) -> None:
    path = STATIC_DIR / name
    assert path.is_file(), f"{path} is missing: run `{BUILD_COMMAND}` from the repository root"


def test_bundle_colours_undeclared_labels_with_the_project_palette() -> None:
    # labels.ts copies annolab.schema.PALETTE (for spans whose label is not declared): keep them
    # the same, so a label looks alike in a Preview and in a project.
    bundle = STATIC_DIR / "preview.js"
    assert bundle.is_file(), f"{bundle} is missing: run `{BUILD_COMMAND}` from the repository root"
    js = bundle.read_text(encoding="utf-8")
    assert [color for color in PALETTE if f'"{color}"' not in js] == []


def test_widget_serves_the_built_bundle() -> None:
    bundle = STATIC_DIR / "preview.js"
    assert bundle.is_file(), f"{bundle} is missing: run `{BUILD_COMMAND}` from the repository root"
    assert str(Preview._esm) == bundle.read_text(encoding="utf-8")


def test_bundle_exports_an_anywidget_render_function() -> None:
    bundle = STATIC_DIR / "preview.js"
    assert bundle.is_file(), f"{bundle} is missing: run `{BUILD_COMMAND}` from the repository root"
    node = shutil.which("node")
    assert node is not None, "node is needed to build the front end; install Node.js 20+"
    url = json.dumps(bundle.as_uri())
    script = f"const m = await import({url}); console.log(typeof m.default.render)"
    out = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "function"


# --- validation: each rule, with its exact message ------------------------------------------


@pytest.mark.parametrize(
    ("spans", "labels", "message"),
    [
        (
            [span(0, 9)],
            [],
            "spans[0].end=9 is past the end of the text (5 code points)",
        ),
        (
            [span(0, 2), span(3, 3)],
            [],
            "spans[1].start=3 must be less than end=3 (a span covers at least one character)",
        ),
        (
            [span(0, 2, "ORG")],
            ["PER"],
            "spans[0].label='ORG' is not one of the labels 'PER'; add it to labels or fix the span",
        ),
        (
            [span(-1, 2)],
            [],
            "spans[0].start=-1 must be an int >= 0 (a Python code-point offset)",
        ),
        (
            [span(0, True)],
            [],
            "spans[0].end=True must be an int >= 0 (a Python code-point offset)",
        ),
        (
            [{"start": 0, "end": 2}],
            [],
            "spans[0]={'start': 0, 'end': 2} has no 'label'",
        ),
        (
            ["PER"],
            [],
            "spans[0]='PER' must be a dict with 'start', 'end', 'label' and an optional 'score'",
        ),
        (
            [span(0, 2, "")],
            [],
            "spans[0].label='' must be a non-empty string",
        ),
        (
            [span(0, 2, score=math.nan)],
            [],
            "spans[0].score=nan must be a number from 0 to 1, or None",
        ),
        (
            [span(0, 2, score=1.5)],
            [],
            "spans[0].score=1.5 must be a number from 0 to 1, or None",
        ),
        (
            [],
            ["PER", {"name": "PER", "color": "#ff0000"}],
            "labels[1].name='PER' is already the name of labels[0]; names must be unique",
        ),
        (
            [],
            [{"name": ""}],
            "labels[0].name='' must not be empty or only spaces",
        ),
        (
            [],
            [{"name": "PER", "color": "tomato"}],
            "labels[0].color='tomato' is not a colour of the form '#rrggbb' (e.g. '#aec7e8')",
        ),
        (
            [],
            [3],
            "labels[0]=3 must be an object (a dict)",
        ),
    ],
)
def test_invalid_state_is_rejected_with_a_message_naming_trait_and_rule(
    spans: list[Any], labels: list[Any], message: str
) -> None:
    with pytest.raises(traitlets.TraitError) as caught:
        Preview("Hello", spans=spans, labels=labels)
    assert str(caught.value) == message


def test_error_is_an_annolab_validation_error_with_its_parts() -> None:
    with pytest.raises(ValidationError) as caught:
        Preview("Hello", spans=[span(0, 9)])
    assert isinstance(caught.value, WidgetTraitError)
    assert (caught.value.field, caught.value.value) == ("spans[0].end", 9)
    assert caught.value.rule == "is past the end of the text (5 code points)"


def test_a_rejected_change_leaves_the_widget_as_it_was() -> None:
    preview = Preview("Hello", spans=[span(0, 5)])
    with pytest.raises(traitlets.TraitError):
        preview.spans = [span(0, 6)]
    assert preview.spans == [span(0, 5, score=None)]


def test_shortening_the_text_under_existing_spans_is_rejected() -> None:
    preview = Preview("Hello world", spans=[span(6, 11)])
    with pytest.raises(traitlets.TraitError, match=r"spans\[0\]\.end=11 is past the end"):
        preview.text = "Hi"
    assert preview.text == "Hello world"


def test_text_and_spans_change_together_inside_hold_trait_notifications() -> None:
    preview = Preview("Hello world", spans=[span(6, 11)])
    with preview.hold_trait_notifications():
        preview.text = "Hi"
        preview.spans = [span(0, 2)]
    assert (preview.text, preview.spans) == ("Hi", [span(0, 2, score=None)])


def test_an_unknown_label_error_lists_at_most_twenty_labels() -> None:
    names = [f"L{i}" for i in range(30)]
    with pytest.raises(traitlets.TraitError) as caught:
        Preview("Hello", spans=[span(0, 2, "X")], labels=names)
    shown = ", ".join(repr(name) for name in names[:20])
    assert str(caught.value) == (
        f"spans[0].label='X' is not one of the labels {shown}, ... (30 in all); "
        "add it to labels or fix the span"
    )


def test_removing_a_label_that_spans_use_is_rejected() -> None:
    preview = Preview("Ada met Babbage", spans=[span(0, 3, "PER")], labels=["PER", "ORG"])
    with pytest.raises(traitlets.TraitError) as caught:
        preview.labels = ["ORG"]
    assert str(caught.value) == (
        "spans[0].label='PER' is not one of the labels 'ORG'; add it to labels or fix the span"
    )
    assert [label["name"] for label in preview.labels] == ["PER", "ORG"]


# --- normalised state ------------------------------------------------------------------------


def test_labels_and_spans_are_normalised_for_the_front_end() -> None:
    preview = Preview(
        "Ada met Babbage",
        spans=[span(0, 3, score=1), span(8, 15, note="dropped")],
        labels=["PER", {"name": "ORG", "color": "#feca74"}],
    )
    state = preview.get_state()
    # A label without a colour gets the project palette's colour for its place, as in a project.
    assert state["labels"] == [
        {"name": "PER", "color": PALETTE[0]},
        {"name": "ORG", "color": "#feca74"},
    ]
    assert state["spans"] == [
        {"start": 0, "end": 3, "label": "PER", "score": 1.0},
        {"start": 8, "end": 15, "label": "PER", "score": None},
    ]
    assert state["text"] == "Ada met Babbage"


def test_labels_may_be_a_project_label_schema() -> None:
    schema = LabelSchema.from_names(["PER", "ORG"])
    preview = Preview("Ada met Babbage", spans=[span(0, 3)], labels=schema)
    assert preview.labels == [{"name": label.name, "color": label.color} for label in schema.labels]


def test_one_string_as_labels_is_rejected_not_split_into_letters() -> None:
    with pytest.raises(traitlets.TraitError) as caught:
        Preview("Hello", labels="PER")
    assert (
        str(caught.value) == "labels='PER' is one string, not a list of label names; write ['PER']"
    )


def test_a_lone_surrogate_in_the_text_is_rejected() -> None:
    with pytest.raises(traitlets.TraitError) as caught:
        Preview("ab\ud83d")
    assert str(caught.value) == (
        "text='ab\\ud83d' contains a lone surrogate '\\ud83d' at index 2, which is not UTF-8 and "
        "cannot be sent to the browser; the text was probably decoded wrongly"
    )


def test_any_label_is_allowed_when_labels_is_empty() -> None:
    preview = Preview("Ada met Babbage", spans=[span(0, 3, "PERSON"), span(8, 15, "X")])
    assert [s["label"] for s in preview.spans] == ["PERSON", "X"]


def test_spans_may_be_objects_with_start_end_label_attributes() -> None:
    @dataclass
    class StoredSpan:
        start: int
        end: int
        label: str
        score: float | None = None

    preview = Preview("Ada met Babbage", spans=[StoredSpan(0, 3, "PER", 0.5)])
    assert preview.spans == [span(0, 3, score=0.5)]


def test_overlapping_and_nested_spans_are_allowed() -> None:
    spans = [span(0, 15), span(0, 3), span(2, 7)]
    preview = Preview("Ada met Babbage", spans=spans)
    assert [(s["start"], s["end"]) for s in preview.spans] == [(0, 15), (0, 3), (2, 7)]


# --- offsets are Python code points ---------------------------------------------------------


def test_spans_on_emoji_text_keep_python_code_point_offsets() -> None:
    text = "I 👋🏽 from 東京, café 🇫🇷!"
    wave = text.index("👋🏽")
    tokyo = text.index("東京")
    flag = text.index("🇫🇷")
    spans = [
        span(wave, wave + 2, "EMOJI"),
        span(tokyo, tokyo + 2, "LOC"),
        span(flag, flag + 2, "EMOJI"),
    ]
    preview = Preview(text, spans=spans)
    state = preview.get_state()
    assert [(s["start"], s["end"]) for s in state["spans"]] == [(2, 4), (10, 12), (19, 21)]
    assert [text[s["start"] : s["end"]] for s in state["spans"]] == ["👋🏽", "東京", "🇫🇷"]


def test_span_end_is_checked_in_code_points_not_utf16_units() -> None:
    text = "😀😀"  # 2 code points, 4 UTF-16 units
    assert Preview(text, spans=[span(0, 2)]).spans[0]["end"] == 2
    with pytest.raises(traitlets.TraitError) as caught:
        Preview(text, spans=[span(0, 3)])
    assert str(caught.value) == "spans[0].end=3 is past the end of the text (2 code points)"


# --- repr ----------------------------------------------------------------------------------


def test_repr_does_not_dump_a_long_text() -> None:
    preview = Preview("word " * 20_000, spans=[span(0, 4)], labels=["PER"])
    text = repr(preview)
    assert text == (
        "Preview(text='word word word word word word word word …' (100000 chars), "
        "spans=1, labels=['PER'])"
    )
