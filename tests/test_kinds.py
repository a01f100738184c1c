"""The registry of payload kinds: every kind brings every facet, and a new kind is one
``register`` call that the validator-facing consumers pick up without edits elsewhere."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any, Literal

import pytest

import annolab.kinds as kinds
from annolab.errors import ValidationError
from annolab.kinds._common import (
    first_merge,
    json_object,
    no_label_units,
    no_view,
    no_widget,
    whole_consensus,
    whole_disputed,
    whole_units,
)
from annolab.schema import LabelSchema
from annolab.schema.payloads import SchemaModel, StorableStr
from tests.test_widgets_classify import png

LABELS = LabelSchema.from_names(["PER", "LOC"])


def test_the_builtin_kinds_are_registered_in_order() -> None:
    assert kinds.names()[:6] == ("spans", "choice", "choices", "boxes", "rating", "text")


@pytest.mark.parametrize("name", kinds.BUILTIN)
def test_each_builtin_kind_provides_every_facet(name: str) -> None:
    kind = kinds.get(name)
    assert kind.name == name
    assert kind.payload.model_fields["kind"].default == name
    for facet in kinds.FACETS:
        assert getattr(kind, facet) is not None, facet
    schema = kind.persona_schema(LABELS, None)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False
    assert kind.measure in ("spans", "boxes", "category")


def test_registering_a_kind_without_a_facet_is_refused() -> None:
    broken = dataclasses.replace(kinds.get("choice"), name="broken", units=None)  # type: ignore[arg-type]
    with pytest.raises(ValidationError) as info:
        kinds.register(broken)
    assert str(info.value).startswith("kinds['broken'].units")
    assert "broken" not in kinds.names()


def test_an_unknown_kind_names_the_known_ones() -> None:
    with pytest.raises(ValidationError) as info:
        kinds.get("slider")
    assert "'slider'" in str(info.value)
    assert "spans, choice, choices, boxes, rating, text" in str(info.value)
    assert kinds.find("form") is None


def test_each_kind_parses_a_persona_answer_into_its_payload() -> None:
    text = "Ada met Ada"
    assert kinds.get("spans").parse({"spans": [{"text": "Ada", "label": "PER"}] * 2}, text) == {
        "kind": "spans",
        "spans": [{"start": 0, "end": 3, "label": "PER"}, {"start": 8, "end": 11, "label": "PER"}],
    }
    assert kinds.get("choice").parse({"label": "LOC", "confidence": 0.5}, text) == {
        "kind": "choice",
        "label": "LOC",
        "score": 0.5,
    }
    assert kinds.get("boxes").parse({"boxes": [{"x": 1, "y": 2, "width": 3, "height": 4}]}, "")[
        "boxes"
    ] == [{"x": 1.0, "y": 2.0, "width": 3.0, "height": 4.0}]
    assert kinds.get("rating").parse({"value": 4}, text) == {"kind": "rating", "value": 4}
    assert kinds.get("text").parse({"text": "ok"}, text) == {"kind": "text", "text": "ok"}
    rating = kinds.get("rating").persona_schema(LABELS, {"scale": 7})
    assert rating["properties"]["value"] == {"type": "integer", "minimum": 1, "maximum": 7}


def test_each_kind_merges_by_its_own_units() -> None:
    a = {"kind": "choices", "labels": ["LOC", "PER"]}
    b = {"kind": "choices", "labels": ["PER"]}
    assert kinds.get("choices").consensus([a, b, b], [1.0] * 3, 1.5) == {
        "kind": "choices",
        "labels": ["PER"],
    }
    two = [{"kind": "rating", "value": 2}, {"kind": "rating", "value": 2, "score": 0.1}]
    assert kinds.get("rating").consensus(two, [1.0, 1.0], 1.0) == {"kind": "rating", "value": 2}
    assert kinds.get("text").units({"kind": "text", "text": "x"}) == [
        ('{"kind": "text", "text": "x"}',)
    ]


class _TagPayload(SchemaModel):
    kind: Literal["tag"] = "tag"
    tag: StorableStr


@pytest.fixture
def tag_kind() -> Iterator[kinds.Kind]:
    def persona_schema(labels: LabelSchema, question: Mapping[str, Any] | None) -> dict[str, Any]:
        return json_object({"tag": {"type": "string", "maxLength": 20}})

    kind = kinds.register(
        kinds.Kind(
            name="tag",
            payload=_TagPayload,
            widget=no_widget,
            persona_schema=persona_schema,
            parse=lambda answer, text: {"kind": "tag", "tag": answer.get("tag")},
            as_answer=lambda payload, text: {"tag": payload.get("tag")},
            units=whole_units,
            consensus=whole_consensus,
            label_units=no_label_units,
            measure="category",
            media="text",
            title="Tag",
            parts=lambda payload, text: [str(payload.get("tag"))],
            disputed=whole_disputed,
            merge=first_merge,
            view=no_view,
            exports={},
        )
    )
    yield kind
    kinds._REGISTRY.pop("tag")


def test_a_toy_kind_validates_and_gives_a_persona_schema(tag_kind: kinds.Kind) -> None:
    kind = kinds.get("tag")
    assert "tag" in kinds.names()
    assert kind.persona_schema(LABELS, None) == {
        "type": "object",
        "properties": {"tag": {"type": "string", "maxLength": 20}},
        "required": ["tag"],
        "additionalProperties": False,
    }
    payload = kind.payload.model_validate(kind.parse({"tag": "urgent"}, ""))
    assert payload.to_dict() == {"kind": "tag", "tag": "urgent"}
    with pytest.raises(ValueError, match="tag"):
        kind.payload.model_validate(kind.parse({"tag": 3}, ""))
    # Consumers that dispatch through the registry take it as it is.
    from annolab.workflow.consensus import consensus

    votes = [{"kind": "tag", "tag": "urgent"}] * 2 + [{"kind": "tag", "tag": "later"}]
    assert consensus(votes, "majority") == {"kind": "tag", "tag": "urgent"}
    # So do review and adjudication: what an answer says and where answers differ.
    from annolab.kinds import compare
    from annolab.schema.layout import Layout

    layout = Layout.from_dict({"name": "tags", "questions": [{"name": "t", "kind": "text"}]})
    assert compare.describe(votes[0], layout, {}) == "Tag: urgent"
    marks = compare.disagreements(votes, layout)
    assert marks == [{"t": [0]}] * 3  # the tags differ: each answer is disputed


def test_each_builtin_kind_builds_the_widget_that_asks_it_alone() -> None:
    from annolab.schema.layout import Layout

    kinds_of = {"spans": "NER", "choice": "Classify", "choices": "Classify", "boxes": "BBox"}
    for name in ("spans", "choice", "choices", "boxes", "rating", "text"):
        question = {"name": "q", "kind": name} | ({"field": "x"} if name in kinds_of else {})
        layout = Layout.from_dict(
            {"name": "one", "inputs": [{"name": "x", "type": "text"}], "questions": [question]}
        )
        data = {"x": png() if name == "boxes" else "Ada met Grace"}
        built = kinds.get(name).widget(layout.questions[0], data, LABELS)
        # Rating and text are form controls: a one-question layout shows a LayoutWidget.
        assert type(built).__name__ == kinds_of.get(name, "NoneType"), name
    multi = kinds.get("choices").widget(None, {"text": "x"}, LABELS)
    assert multi.multi is True
