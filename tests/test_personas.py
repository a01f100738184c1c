"""Personas without a database: the spec, prompts, output schemas, answer conversion, images."""

from __future__ import annotations

import struct
import subprocess
import sys

import pytest

from annolab.errors import LayoutError, ValidationError
from annolab.personas import PersonaSpec, Trait, output_schema
from annolab.personas.images import image_size
from annolab.personas.prompts import input_hash, prompt_hash, render, task_prompt
from annolab.personas.schemas import task_kind, to_payload
from annolab.schema import LabelSchema
from annolab.schema.layout import Layout

LABELS = LabelSchema.from_names(["person", "location"])


def test_traits_given_as_a_mapping_become_named_traits() -> None:
    spec = PersonaSpec.coerce({"model": "llama3.2", "traits": {"recall": 0.3, "care": 1}})
    assert spec.traits == (Trait(name="recall", value=0.3), Trait(name="care", value=1.0))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"model": "m", "traits": [{"name": "recall", "value": 1.5}]},
            "traits[0].value=1.5 must be at most 1 (traits are 0 to 1)",
        ),
        (
            {"model": "m", "traits": {"recall": -0.1}},
            "traits[0].value=-0.1 must be at least 0 (traits are 0 to 1)",
        ),
        ({"traits": {}}, "model=<missing> is required"),
        ({"model": ""}, "model='' String should have at least 1 character"),
        (
            {"model": "m", "temperature": 0.2},
            "temperature=0.2 is not a persona field; fields are description, traits, examples, "
            "model, options, template",
        ),
        (
            {"model": "m", "traits": [{"name": "a", "value": 0.1}, {"name": "a", "value": 0.2}]},
            "trait 'a' is given twice; trait names must be unique",
        ),
    ],
)
def test_spec_errors_name_the_field_the_value_and_the_rule(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        PersonaSpec.coerce(data)
    assert message in str(caught.value)


def test_the_system_prompt_holds_the_traits_and_examples() -> None:
    prompt = render(
        "persona.j2",
        name="strict",
        description="A careful clinician.",
        traits=[{"name": "recall", "value": 0.3, "description": "marks only sure ones"}],
        examples=[{"input": "Ada", "output": {"label": "person"}, "explanation": "a name"}],
    )
    assert prompt.startswith("You are strict, an annotator. A careful clinician.\n")
    assert "- recall: 0.30 (marks only sure ones)\n" in prompt
    assert 'Input: "Ada"\nAnswer: {"label": "person"}\nWhy: a name\n' in prompt


def test_a_missing_template_variable_fails_loudly() -> None:
    with pytest.raises(LayoutError, match="needs a variable it was not given: 'traits'"):
        render("persona.j2", name="strict", description="", examples=[])


def test_a_missing_template_names_what_exists() -> None:
    with pytest.raises(LayoutError, match=r"prompt='nope.j2' was not found .*persona\.j2"):
        render("nope.j2")


def test_the_task_prompt_ends_with_the_text_as_json() -> None:
    prompt = task_prompt("spans", LABELS, guidelines="Titles are not names.", text='Ada "A" L')
    assert prompt.endswith('Text: "Ada \\"A\\" L"\n')
    assert "- person\n- location\n" in prompt
    assert "Guidelines:\nTitles are not names.\n" in prompt


def test_the_prompt_hash_changes_with_guidelines_not_with_the_item() -> None:
    base = prompt_hash("system", "spans", LABELS, "", {})
    assert base == prompt_hash("system", "spans", LABELS, "", {})
    assert base != prompt_hash("system", "spans", LABELS, "new rule", {})
    assert base != prompt_hash("system", "spans", LABELS, "", {"temperature": 0})
    assert input_hash("a", None) != input_hash("a", b"\x89PNG")


def test_schema_for_spans_asks_for_quoted_words_and_known_labels() -> None:
    assert output_schema("spans", LABELS) == {
        "type": "object",
        "properties": {
            "spans": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "text": {"type": "string", "minLength": 1},
                        "label": {"type": "string", "enum": ["person", "location"]},
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                    },
                    "required": ["text", "label"],  # confidence is the model's to give
                    "additionalProperties": False,
                },
            }
        },
        "required": ["spans"],
        "additionalProperties": False,
    }


def test_schema_for_choice_choices_and_boxes() -> None:
    label = {"type": "string", "enum": ["person", "location"]}
    sure = {"type": "number", "minimum": 0, "maximum": 1}
    assert output_schema("choice", LABELS)["properties"] == {"label": label, "confidence": sure}
    assert output_schema("choice", LABELS)["required"] == ["label"]
    choices = output_schema("choices", LABELS)["properties"]["labels"]
    assert choices == {"type": "array", "items": label, "uniqueItems": True}
    box = output_schema("boxes", LABELS)["properties"]["boxes"]["items"]
    assert box["required"] == ["label", "x", "y", "width", "height"]
    assert box["properties"]["width"] == {"type": "number", "minimum": 0}
    assert box["properties"]["confidence"] == sure


def test_a_stated_confidence_becomes_the_score() -> None:
    raw = '{"spans": [{"text": "Ada", "label": "person", "confidence": 0.25}]}'
    payload = to_payload(raw, "spans", LABELS, text="Ada met Bob")
    assert payload.to_dict()["spans"] == [{"start": 0, "end": 3, "label": "person", "score": 0.25}]
    choice = to_payload('{"label": "person", "confidence": 1}', "choice", LABELS, text="x")
    assert choice.to_dict() == {"kind": "choice", "label": "person", "score": 1.0}


def test_the_task_kind_comes_from_the_layout() -> None:
    assert task_kind({"questions": [{"kind": "choice", "name": "label"}]}) == "choice"
    # A form: the first question a persona can answer (clinical-ner-v1's entities).
    clinical = Layout.load("clinical-ner-v1").to_dict()
    assert task_kind({**clinical, "version": 2}) == "spans"
    with pytest.raises(ValidationError) as info:
        task_kind({"name": "stars", "questions": [{"kind": "rating", "name": "stars"}]})
    assert str(info.value) == (
        "questions[*].kind=['rating'] of layout 'stars' holds none a persona answers "
        "(spans, choice, choices, boxes)"
    )


def test_quoted_words_become_offsets_in_order_of_occurrence() -> None:
    raw = '{"spans": [{"text": "Ada", "label": "person"}, {"text": "Ada", "label": "person"}]}'
    payload = to_payload(raw, "spans", LABELS, text="Ada met Ada in Rome")
    assert payload.to_dict()["spans"] == [
        {"start": 0, "end": 3, "label": "person"},
        {"start": 8, "end": 11, "label": "person"},
    ]


def test_words_that_are_not_in_the_text_are_refused() -> None:
    raw = '{"spans": [{"text": "Bob", "label": "person"}]}'
    with pytest.raises(ValidationError) as caught:
        to_payload(raw, "spans", LABELS, text="Ada met Ada")
    assert str(caught.value) == (
        "spans[0].text='Bob' does not occur in the task text (quote the words exactly)"
    )


def test_answers_go_through_the_payload_validator() -> None:
    with pytest.raises(ValidationError) as caught:
        to_payload('{"label": "animal"}', "choice", LABELS, text="x")
    assert caught.value.field == "label"
    assert caught.value.value == "animal"
    assert "is not a label of this project" in caught.value.rule


def test_malformed_json_is_refused_with_the_position() -> None:
    with pytest.raises(ValidationError, match=r"not valid JSON \(Expecting value at character 0"):
        to_payload("sure! here it is", "choice", LABELS, text="x")


def test_boxes_must_lie_inside_the_image() -> None:
    raw = '{"boxes": [{"label": "person", "x": 5, "y": 0, "width": 10, "height": 2}]}'
    with pytest.raises(ValidationError, match="boxes"):
        to_payload(raw, "boxes", LABELS, text="", image_size=(8, 8))
    inside = to_payload(raw, "boxes", LABELS, text="", image_size=(20, 8))
    assert inside.to_dict()["boxes"] == [
        {"x": 5.0, "y": 0.0, "width": 10.0, "height": 2.0, "label": "person"}
    ]


def test_image_sizes_are_read_from_file_headers() -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + struct.pack(">II", 640, 480)
    gif = b"GIF89a" + struct.pack("<HH", 32, 16)
    # SOI, an APP0 segment of 4 bytes, then SOF0 holding height 300, width 400.
    sof = b"\xff\xc0\x00\x11\x08" + struct.pack(">HH", 300, 400)
    jpeg = b"\xff\xd8" + b"\xff\xe0\x00\x04ab" + sof
    assert image_size(png) == (640, 480)
    assert image_size(gif) == (32, 16)
    assert image_size(jpeg) == (400, 300)
    assert image_size(b"not an image") is None


def test_annolab_imports_without_ollama_and_says_how_to_install_it() -> None:
    code = (
        "import sys; sys.modules['ollama'] = None\n"
        "import annolab\n"
        "from annolab.personas.llm import require_ollama\n"
        "try:\n    require_ollama()\nexcept annolab.AnnolabError as exc:\n    print(exc)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == (
        'personas talk to Ollama through the ollama client: pip install "annolab[llm]"'
    )
