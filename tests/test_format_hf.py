"""The Hugging Face datasets format: folders read by ``datasets.load_from_disk`` in the shapes
of ``wnut_17`` (tokens and ner_tags), text classification and ``cppe-5`` (image objects), and
read back by our reader.

The NER data is the WNUT 2017 development set shipped in annolab/data (CC-BY 4.0, Derczynski
et al. 2017, see annolab/data/README.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from annolab.datasets import WNUT17_LABELS, read_conll
from annolab.io.hf_datasets import FORMATS, read_hf, tag_names, write_hf
from annolab.io.records import Context, Item, Record
from annolab.schema.labels import LabelSchema
from annolab.schema.layout import Layout
from tests.test_widgets_bbox import png_bytes

datasets = pytest.importorskip("datasets")

WNUT = Path(str(files("annolab") / "data" / "wnut17_dev.conll"))


def ner_context(**options: Any) -> Context:
    return Context(Layout.load("ner"), LabelSchema.from_names(WNUT17_LABELS), options)


def conll_tags(path: Path) -> list[list[str]]:
    """Each document's tags, straight from the file's second column."""
    documents: list[list[str]] = [[]]
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            documents[-1].append(line.split("\t")[1])
        elif documents[-1]:
            documents.append([])
    return [tags for tags in documents if tags]


def wnut_records() -> Iterator[Record]:
    for n, (text, spans) in enumerate(read_conll(WNUT), start=1):
        data = {"text": text, "tokens": text.split(" ")}
        yield Record(f"wnut17-dev-{n:04d}", data, {"kind": "spans", "spans": spans}, None, "gold")


def test_wnut_dev_is_a_token_classification_dataset_with_the_conll_tags(tmp_path: Path) -> None:
    out = tmp_path / "wnut"
    report = write_hf(wnut_records(), out, ner_context())
    assert (report.written, report.tasks, report.notes) == (1009, 1009, [])

    dataset = datasets.load_from_disk(str(out))
    assert dataset.column_names == [
        "id",
        "text",
        "tokens",
        "ner_tags",
        "spans",
        "annotator",
        "source",
    ]
    names = dataset.features["ner_tags"].feature.names
    assert names == [
        "O",
        "B-person",
        "I-person",
        "B-location",
        "I-location",
        "B-group",
        "I-group",
        "B-creative-work",
        "I-creative-work",
        "B-corporation",
        "I-corporation",
        "B-product",
        "I-product",
    ]
    original = conll_tags(WNUT)
    assert dataset.num_rows == len(original) == 1009
    texts = [text for text, _ in read_conll(WNUT)]
    for row, text, tags in zip(dataset, texts, original, strict=True):
        assert row["tokens"] == text.split(" ")
        assert [names[t] for t in row["ner_tags"]] == tags
    first = dataset[0]
    assert (first["id"], first["annotator"], first["source"]) == ("wnut17-dev-0001", None, "gold")

    items = list(read_hf(out, ner_context()))
    expected = list(wnut_records())
    assert [i.error for i in items if i.error] == []
    assert [i.task for i in items] == [r.task for r in expected]
    assert [i.payload for i in items] == [r.payload for r in expected]
    assert [dict(i.data) for i in items] == [dict(r.data) for r in expected]
    assert items[5].where == "row 5"


def test_bilou_tags_and_tags_alone_read_back_as_the_spans(tmp_path: Path) -> None:
    records = list(wnut_records())[:200]
    out = tmp_path / "bilou"
    write_hf(records, out, ner_context(scheme="BILOU"))
    dataset = datasets.load_from_disk(str(out))
    names = dataset.features["ner_tags"].feature.names
    assert names[:5] == ["O", "B-person", "I-person", "L-person", "U-person"]
    assert names == tag_names(WNUT17_LABELS, "BILOU")
    # A tweet with "Empire State Building" (B, I, L) and single-token entities (U).
    tags = [[names[t] for t in row] for row in dataset["ner_tags"]]
    assert any("L-location" in row for row in tags)
    assert any("U-person" in row for row in tags)

    # Without the spans column (a dataset of tokens and tags only, saved as parquet), the spans
    # come from the tags, decoded with the feature's names kept in the parquet metadata.
    parquet = tmp_path / "tags.parquet"
    dataset.remove_columns("spans").to_parquet(str(parquet))
    items = list(read_hf(parquet, ner_context()))
    assert [i.payload for i in items] == [r.payload for r in records]


def test_a_task_without_an_answer_is_all_o_and_reads_back_without_one(tmp_path: Path) -> None:
    text = "Empire State Building at night"
    records = [
        Record("a", {"text": text}, None, None, "none"),
        Record("b", {"text": text}, {"kind": "spans", "spans": []}, "ann", "human"),
    ]
    out = tmp_path / "empty"
    write_hf(records, out, ner_context())
    rows = datasets.load_from_disk(str(out)).to_list()
    assert [r["ner_tags"] for r in rows] == [[0, 0, 0, 0, 0]] * 2
    assert [r["spans"] for r in rows] == [[], []]
    assert [(r["annotator"], r["source"]) for r in rows] == [(None, "none"), ("ann", "human")]
    items = list(read_hf(out, ner_context()))
    assert [i.payload for i in items] == [None, {"kind": "spans", "spans": []}]
    assert [i.annotator for i in items] == [None, "ann"]
    # The task's text was tokenized by annolab.io.tokens; the tokens travel with it.
    assert items[0].data == {"text": text, "tokens": ["Empire", "State", "Building", "at", "night"]}


def test_a_misaligned_span_is_reported_tagged_and_kept_exactly(tmp_path: Path) -> None:
    text = "@paulwalk lives near Empire State Building"
    spans = [
        {"start": 1, "end": 9, "label": "person"},  # "paulwalk", inside the token "@paulwalk"
        {"start": 21, "end": 42, "label": "location"},
        {"start": 10, "end": 15, "label": "pet"},  # not a label of the project
    ]
    record = Record("t1", {"text": text}, {"kind": "spans", "spans": spans}, "ann", "human")
    out = tmp_path / "misaligned"
    report = write_hf([record], out, ner_context())
    assert report.notes == [
        (
            "t1",
            "span 10-15 'lives' pet is not one of the labels; left out of ner_tags (kept in spans)",
        ),
        (
            "t1",
            "span 1-9 'paulwalk' person does not fall on token boundaries; tagged as tokens 1",
        ),
    ]
    dataset = datasets.load_from_disk(str(out))
    names = dataset.features["ner_tags"].feature.names
    row = dataset[0]
    assert row["tokens"] == ["@paulwalk", "lives", "near", "Empire", "State", "Building"]
    assert [names[t] for t in row["ner_tags"]] == [
        "B-person",
        "O",
        "O",
        "B-location",
        "I-location",
        "I-location",
    ]
    assert row["spans"] == spans
    (item,) = read_hf(out, ner_context())
    assert item.payload == {"kind": "spans", "spans": spans}


def classify_context(**options: Any) -> Context:
    return Context(Layout.load("classify"), LabelSchema.from_names(["neg", "neu", "pos"]), options)


def test_classification_round_trips_with_a_class_label(tmp_path: Path) -> None:
    records = [
        Record("r1", {"text": "love it"}, {"kind": "choice", "label": "pos"}, "ann", "human"),
        Record("r2", {"text": "meh"}, {"kind": "choice", "label": "neu"}, None, "consensus"),
        Record("r3", {"text": "unread"}, None, None, "none"),
        Record("r4", {"text": "odd"}, {"kind": "choice", "label": "sarcasm"}, "ann", "human"),
    ]
    out = tmp_path / "sentiment"
    report = write_hf(records, out, classify_context())
    assert report.notes == [("r4", "label 'sarcasm' is not one of the labels; left out")]
    dataset = datasets.load_from_disk(str(out))
    feature = dataset.features["label"]
    assert isinstance(feature, datasets.ClassLabel)
    assert feature.names == ["neg", "neu", "pos"]
    assert dataset.column_names == ["id", "text", "label", "annotator", "source"]
    # No label is stored as null, which ClassLabel accepts (as it does -1).
    assert dataset["label"] == [2, 1, None, None]
    items = list(read_hf(out, classify_context()))
    assert [(i.task, i.data, i.payload, i.annotator) for i in items] == [
        ("r1", {"text": "love it"}, {"kind": "choice", "label": "pos"}, "ann"),
        ("r2", {"text": "meh"}, {"kind": "choice", "label": "neu"}, None),
        ("r3", {"text": "unread"}, None, None),
        ("r4", {"text": "odd"}, None, "ann"),
    ]


def test_multi_label_choices_are_a_list_of_class_labels(tmp_path: Path) -> None:
    layout = Layout.from_dict(
        {
            "name": "topics",
            "inputs": [{"name": "text", "type": "text"}],
            "questions": [{"name": "topics", "kind": "choices", "field": "text"}],
        }
    )
    context = Context(layout, LabelSchema.from_names(["sports", "politics", "music"]))
    records = [
        Record("a", {"text": "vote"}, {"kind": "choices", "labels": ["music", "politics"]}),
        Record("b", {"text": "nothing here"}, {"kind": "choices", "labels": []}, "ann", "human"),
        Record("c", {"text": "unread"}, None, None, "none"),
    ]
    out = tmp_path / "topics"
    write_hf(records, out, context)
    dataset = datasets.load_from_disk(str(out))
    assert dataset.features["labels"].feature.names == ["sports", "politics", "music"]
    assert dataset["labels"] == [[2, 1], [], []]
    # An empty answer ("none apply") and no answer differ by their source.
    assert [i.payload for i in read_hf(out, context)] == [
        {"kind": "choices", "labels": ["music", "politics"]},
        {"kind": "choices", "labels": []},
        None,
    ]


def bbox_context(**options: Any) -> Context:
    return Context(Layout.load("bbox"), LabelSchema.from_names(["person", "car"]), options)


def boxes_records(image: str) -> list[Record]:
    boxes = [
        {"x": 4.0, "y": 3.0, "width": 20.5, "height": 15.0, "label": "car"},
        {"x": 30.25, "y": 1.0, "width": 6.0, "height": 12.0, "label": "person"},
    ]
    data = {"image": image, "width": 40, "height": 30}
    return [
        Record("street", data, {"kind": "boxes", "boxes": boxes}, "ann", "human"),
        Record("empty", {**data, "image": "https://example.org/e.png"}, None, None, "none"),
    ]


def test_boxes_are_objects_with_coco_bboxes_and_class_labels(tmp_path: Path) -> None:
    records = boxes_records("images/street.png")
    out = tmp_path / "detection"
    report = write_hf(records, out, bbox_context())
    assert (report.written, report.notes) == (2, [])
    dataset = datasets.load_from_disk(str(out))
    assert dataset.column_names == [
        "id",
        "image",
        "width",
        "height",
        "objects",
        "annotator",
        "source",
    ]
    assert dataset.features["image"] == datasets.Value("string")
    assert dataset.features["objects"]["category"].feature.names == ["person", "car"]
    first, second = dataset.to_list()
    assert (first["image"], first["width"], first["height"]) == ("images/street.png", 40, 30)
    assert first["objects"] == {
        "bbox": [[4.0, 3.0, 20.5, 15.0], [30.25, 1.0, 6.0, 12.0]],
        "category": [1, 0],
    }
    assert second["objects"] == {"bbox": [], "category": []}
    items = list(read_hf(out, bbox_context()))
    assert [(i.task, dict(i.data), i.payload) for i in items] == [
        (r.task, dict(r.data), r.payload) for r in records
    ]


def test_embedded_images_hold_the_file_and_read_back_as_their_path(tmp_path: Path) -> None:
    image = tmp_path / "street.png"
    image.write_bytes(png_bytes(40, 30))
    records = boxes_records(str(image))
    out = tmp_path / "embedded"
    report = write_hf(records, out, bbox_context(images="embed"))
    assert report.notes == [
        ("empty", "image 'https://example.org/e.png' is not a local file to embed; left out")
    ]
    dataset = datasets.load_from_disk(str(out))
    assert isinstance(dataset.features["image"], datasets.Image)
    raw = dataset.cast_column("image", datasets.Image(decode=False))[0]["image"]
    assert raw["bytes"] == image.read_bytes()
    assert dataset[0]["image"].size == (40, 30)
    items = list(read_hf(out, bbox_context()))
    # datasets keeps the file's name beside its bytes, not the folder it came from.
    assert [i.data["image"] for i in items] == ["street.png", None]
    assert items[0].payload == records[0].payload


def test_a_form_question_is_chosen_and_read_back_as_the_form_answer(tmp_path: Path) -> None:
    layout = Layout.from_dict(
        {
            "name": "review",
            "inputs": [{"name": "text", "type": "text"}],
            "questions": [
                {"name": "entities", "kind": "spans", "field": "text"},
                {"name": "tone", "kind": "choice", "field": "text", "options": ["calm", "angry"]},
            ],
        }
    )
    context = Context(layout, LabelSchema.from_names(["person"]), {"question": "tone"})
    form = {
        "kind": "form",
        "answers": {
            "entities": {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "person"}]},
            "tone": {"kind": "choice", "label": "angry"},
        },
    }
    out = tmp_path / "tone"
    write_hf([Record("t", {"text": "Ada shouts"}, form, "ann", "human")], out, context)
    dataset = datasets.load_from_disk(str(out))
    assert dataset.features["label"].names == ["calm", "angry"]  # the question's own options
    assert "ner_tags" not in dataset.column_names
    # Read without naming the question: the one whose column the dataset has.
    (item,) = read_hf(out, Context(layout, LabelSchema.from_names(["person"])))
    assert item.payload == {
        "kind": "form",
        "answers": {"tone": {"kind": "choice", "label": "angry"}},
    }


def test_jsonl_rows_in_the_wnut_17_shape_and_bad_rows(tmp_path: Path) -> None:
    # The Hub's wnut_17: id, tokens and ner_tags, no text; tags as names or as class numbers
    # (numbered as this writer numbers them, since a .jsonl carries no features).
    rows: list[Any] = [
        {
            "id": "0",
            "tokens": ["Ada", "in", "New", "York"],
            "ner_tags": ["B-person", "O", "B-location", "I-location"],
        },
        {"tokens": ["Bob", "!"], "ner_tags": [1, 0]},
        {"id": "2", "tokens": ["x"], "ner_tags": [99]},
        {"id": "3", "tokens": ["x", "y"], "ner_tags": ["O"]},
        {"id": "4", "ner_tags": ["O"]},
    ]
    path = tmp_path / "wnut.jsonl"
    lines = [json.dumps(row) for row in rows]
    path.write_text("\n".join([*lines[:2], "{not json", *lines[2:]]) + "\n", encoding="utf-8")
    items = list(read_hf(path, ner_context()))
    where = "line 1 column 2 (char 1)"
    assert items[0] == Item(
        where="row 0",
        task="0",
        data={"text": "Ada in New York", "tokens": ["Ada", "in", "New", "York"]},
        payload={
            "kind": "spans",
            "spans": [
                {"start": 0, "end": 3, "label": "person"},
                {"start": 7, "end": 15, "label": "location"},
            ],
        },
    )
    assert (items[1].task, items[1].payload) == (
        "row-00001",
        {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "person"}]},
    )
    assert [(i.where, i.error) for i in items[2:]] == [
        ("row 2", "is not JSON: Expecting property name enclosed in double quotes: " + where),
        ("row 3", "ner_tags 99 is not a class number; the 13 classes are 0 to 12"),
        ("row 4", "has 1 ner_tags for 2 tokens; give one tag per token"),
        ("row 5", "has neither text nor tokens"),
    ]


def test_the_format_is_a_folder_for_the_four_kinds() -> None:
    (hf,) = FORMATS
    assert (hf.name, hf.kinds, hf.folder) == ("hf", ("spans", "choice", "choices", "boxes"), True)
    assert hf.write is write_hf and hf.read is read_hf


def test_an_export_of_no_tasks_is_an_empty_dataset_with_the_features(tmp_path: Path) -> None:
    out = tmp_path / "none"
    report = write_hf([], out, classify_context())
    assert (report.written, report.tasks, report.notes) == (0, 0, [])
    dataset = datasets.load_from_disk(str(out))
    assert dataset.num_rows == 0
    assert dataset.features["label"].names == ["neg", "neu", "pos"]
    assert list(read_hf(out, classify_context())) == []


def test_the_splits_of_a_dataset_dict_are_read_in_order(tmp_path: Path) -> None:
    features = datasets.Features(
        {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["bad", "good"])}
    )
    splits = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict(
                {"text": ["fine", "awful"], "label": [1, 0]}, features=features
            ),
            "test": datasets.Dataset.from_dict(
                {"text": ["unseen"], "label": [-1]}, features=features
            ),
        }
    )
    out = tmp_path / "splits"
    splits.save_to_disk(str(out))
    # The file's own class names decode its numbers, whatever the project calls its labels.
    items = list(read_hf(out, classify_context()))
    assert [(i.where, i.task, i.data, i.payload) for i in items] == [
        ("train row 0", "train-00000", {"text": "fine"}, {"kind": "choice", "label": "good"}),
        ("train row 1", "train-00001", {"text": "awful"}, {"kind": "choice", "label": "bad"}),
        ("test row 0", "test-00000", {"text": "unseen"}, None),
    ]
