"""Each kind writes itself for other tools (the ``exports`` facet): Label Studio result regions
and Prodigy task fields, in the shapes their documentation gives, for one question or a form."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import annolab.kinds as kinds
from annolab.errors import ValidationError
from annolab.io.formats import label_studio_result, label_studio_task, prodigy_task
from annolab.schema.layout import Layout
from tests.test_kinds import _TagPayload
from tests.test_widgets_bbox import png_bytes

# A WNUT 2017 style tweet (noisy text, a person and a location).
TWEET = "@paulwalk It's the view from where I'm living for two weeks. Empire State Building"
ESB = {"start": 61, "end": 82, "label": "location"}


def test_spans_become_labels_regions_and_prodigy_spans() -> None:
    ner = Layout.load("ner")
    payload = {"kind": "spans", "spans": [{**ESB, "score": 0.7}]}
    assert TWEET[61:82] == "Empire State Building"
    assert label_studio_result(payload, ner, {"text": TWEET}) == [
        {
            "from_name": "entities",
            "to_name": "text",
            "type": "labels",
            "value": {
                "start": 61,
                "end": 82,
                "text": "Empire State Building",
                "labels": ["location"],
            },
            "score": 0.7,
        }
    ]
    assert prodigy_task(payload, ner, {"text": TWEET}, annotator="ann") == {
        "spans": [{"start": 61, "end": 82, "label": "location", "text": "Empire State Building"}],
        "text": TWEET,
        "answer": "accept",
        "_annotator_id": "ann",
    }


@pytest.mark.parametrize(
    ("payload", "region"),
    [
        ({"kind": "choice", "label": "pos"}, ("choices", {"choices": ["pos"]})),
        ({"kind": "choices", "labels": ["a", "b"]}, ("choices", {"choices": ["a", "b"]})),
        ({"kind": "rating", "value": 4}, ("rating", {"rating": 4})),
        ({"kind": "text", "text": "fine"}, ("textarea", {"text": ["fine"]})),
    ],
)
def test_one_value_answers_become_one_region(
    payload: dict[str, Any], region: tuple[str, dict[str, Any]]
) -> None:
    layout = Layout.from_dict(
        {
            "name": "one",
            "inputs": [{"name": "text", "type": "text"}],
            "questions": [{"name": "q", "kind": payload["kind"]}],
        }
    )
    assert label_studio_result(payload, layout, {"text": "x"}) == [
        {"from_name": "q", "to_name": "text", "type": region[0], "value": region[1]}
    ]


def test_boxes_are_written_in_percent_for_label_studio_and_pixels_for_prodigy(
    tmp_path: Path,
) -> None:
    image = tmp_path / "street.png"
    image.write_bytes(png_bytes(40, 30))
    payload = {
        "kind": "boxes",
        "boxes": [{"x": 4, "y": 3, "width": 20, "height": 15, "label": "car"}],
    }
    bbox = Layout.load("bbox")
    data = {"image": str(image)}
    assert label_studio_result(payload, bbox, data) == [
        {
            "from_name": "objects",
            "to_name": "image",
            "type": "rectanglelabels",
            "value": {
                "x": 10.0,
                "y": 10.0,
                "width": 50.0,
                "height": 50.0,
                "rotation": 0,
                "rectanglelabels": ["car"],
            },
            "original_width": 40,
            "original_height": 30,
            "image_rotation": 0,
        }
    ]
    line = prodigy_task(payload, bbox, data)
    assert (line["image"], line["width"], line["height"]) == (str(image), 40, 30)
    assert line["spans"] == [
        {
            "label": "car",
            "type": "rect",
            "x": 4,
            "y": 3,
            "width": 20,
            "height": 15,
            "center": [14.0, 10.5],
            "points": [[4, 3], [24, 3], [24, 18], [4, 18]],
        }
    ]
    # A remote image's size is the task's to give.
    remote = {"image": "https://example.org/street.png"}
    with pytest.raises(ValidationError) as info:
        label_studio_result(payload, bbox, remote)
    assert str(info.value).startswith("image.size=(None, None) is needed to write boxes")
    sized = label_studio_result(payload, bbox, {**remote, "width": 80, "height": 60})
    assert sized[0]["value"]["x"] == 5.0


def test_a_form_is_written_question_by_question() -> None:
    clinical = Layout.load("clinical-ner-v1")
    text = "Fever treated with aspirin."
    form = {
        "kind": "form",
        "answers": {
            "entities": {
                "kind": "spans",
                "spans": [{"start": 19, "end": 26, "label": "Medication"}],
            },
            "confidence": {"kind": "choice", "label": "high"},
            "notes": {"kind": "text", "text": "dose missing"},
        },
    }
    data = {"document_id": "n1", "document_text": text}
    task = label_studio_task("n1", data, [form], clinical, annotators=["ann"])
    assert task["data"] == data and task["annotations"][0]["completed_by"] == "ann"
    regions = task["annotations"][0]["result"]
    assert [(r["from_name"], r["to_name"], r["type"]) for r in regions] == [
        ("entities", "document_text", "labels"),
        ("confidence", "text", "choices"),
        ("notes", "text", "textarea"),
    ]
    assert regions[0]["value"]["text"] == "aspirin"
    # Prodigy has no interface for free text: the line is refused, naming the question.
    with pytest.raises(ValidationError) as info:
        prodigy_task(form, clinical, data)
    assert str(info.value).startswith(
        "answers.notes.kind='text' has no prodigy form; prodigy takes spans, choice, choices, boxes"
    )


@pytest.fixture
def tag_kind() -> Iterator[None]:
    base = kinds.get("text")
    kinds.register(
        kinds.Kind(
            **{
                **{f: getattr(base, f) for f in kinds.FACETS},
                "name": "tag",
                "payload": _TagPayload,
                "exports": {"prodigy": lambda payload, target: {"label": payload["tag"]}},
            }
        )
    )
    yield
    kinds._REGISTRY.pop("tag")


def test_a_new_kind_writes_itself_through_its_own_exports(tag_kind: None) -> None:
    layout = Layout.from_dict({"name": "t", "questions": [{"name": "t", "kind": "text"}]})
    line = prodigy_task({"kind": "tag", "tag": "urgent"}, layout, {"text": "call back"})
    assert line == {"label": "urgent", "text": "call back", "answer": "accept"}
