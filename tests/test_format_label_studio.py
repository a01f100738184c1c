"""Label Studio's JSON export: read as Label Studio writes it, written so that Label Studio's own
converter (label_studio_converter) reads it back to CoNLL and COCO.

Sentences: WNUT 2017 development set (Derczynski et al., 2017), CC-BY 4.0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from annolab.datasets import wnut17
from annolab.io.label_studio import FORMATS, read, write
from annolab.io.records import Context, Item, Record
from annolab.io.tokens import tags_from_spans
from annolab.schema import LabelSchema
from annolab.schema.labels import Label
from annolab.schema.layout import Layout
from tests.test_widgets_bbox import png_bytes

DATA = Path(__file__).parent / "data" / "formats"
WNUT = ("person", "location", "corporation", "product", "creative-work", "group")


def context(layout: str, names: tuple[str, ...], **options: Any) -> Context:
    labels = LabelSchema(labels=tuple(Label(name=n) for n in names))
    return Context(layout=Layout.load(layout), labels=labels, options=options)


NER = context("ner", WNUT)


def test_the_format_is_registered() -> None:
    (fmt,) = FORMATS
    assert (fmt.name, fmt.write, fmt.read, fmt.folder) == ("label-studio", write, read, False)
    assert {"spans", "choice", "boxes"} <= set(fmt.kinds)


def test_an_export_gives_one_item_per_annotation_and_prediction() -> None:
    items = list(read(DATA / "label_studio_ner.json", NER))
    assert [(i.where, i.task, i.annotator, i.prediction) for i in items] == [
        ("task 101 annotation 1", "101", "ana@example.org", False),
        ("task 101 prediction 1", "101", "wnut-crf-v2", True),
        ("task 102 annotation 1", "102", "label-studio-2", False),
        ("task 103", "103", None, False),
    ]
    assert all(i.error is None for i in items)
    # The cancelled annotation of task 101 is left out.
    assert items[0].payload == {
        "kind": "spans",
        "spans": [
            {"start": 26, "end": 44, "label": "location"},
            {"start": 78, "end": 85, "label": "location"},
            {"start": 88, "end": 95, "label": "location"},
        ],
    }
    assert items[1].payload == {
        "kind": "spans",
        "spans": [{"start": 26, "end": 44, "label": "location", "score": 0.9}],
    }
    assert items[3].payload is None
    assert items[3].data == {"text": "These trap came from Taiwan ."}


def test_choices_are_read_whatever_the_control_is_called() -> None:
    items = list(read(DATA / "label_studio_classify.json", context("classify", ("a", "b"))))
    assert [(i.task, i.payload, i.annotator) for i in items] == [
        ("7", {"kind": "choice", "label": "negative"}, "bo@example.org"),
        ("8", {"kind": "choice", "label": "neutral"}, "label-studio-4"),
    ]


def test_rectangles_become_pixels_and_a_region_without_the_image_size_is_refused() -> None:
    items = list(read(DATA / "label_studio_bbox.json", context("bbox", ("car", "person"))))
    assert items[0].payload == {
        "kind": "boxes",
        "boxes": [
            {"x": 64, "y": 120, "width": 160, "height": 96, "label": "car"},
            {"x": 400, "y": 48, "width": 32, "height": 144, "label": "person"},
        ],
    }
    assert items[1].where == "task 32 annotation 1 result 1"
    assert items[1].error is not None
    assert items[1].error.startswith("original_width=None is needed to place a box in pixels")


def test_a_region_whose_text_is_not_the_task_text_is_refused_by_place(tmp_path: Path) -> None:
    tasks = json.loads((DATA / "label_studio_ner.json").read_text())
    tasks[0]["annotations"][0]["result"][1]["value"]["text"] = "Gardena /"
    (tmp_path / "bad.json").write_text(json.dumps(tasks))
    first = next(iter(read(tmp_path / "bad.json", NER)))
    assert first.where == "task 101 annotation 1 result 2"
    assert first.error == "value.text='Gardena /' is not the task's text at 78:85 ('Gardena')"


def test_a_form_groups_regions_by_question(tmp_path: Path) -> None:
    clinical = Context(layout=Layout.load("clinical-ner-v1"), labels=LabelSchema())
    text = "Fever treated with aspirin."
    result = [
        {
            "from_name": "entities",
            "to_name": "document_text",
            "type": "labels",
            "value": {"start": 19, "end": 26, "text": "aspirin", "labels": ["Medication"]},
        },
        {
            "from_name": "confidence",
            "to_name": "text",
            "type": "choices",
            "value": {"choices": ["high"]},
        },
    ]
    task = {"id": 1, "data": {"document_text": text}, "annotations": [{"result": result}]}
    (tmp_path / "form.json").write_text(json.dumps([task]))
    (item,) = read(tmp_path / "form.json", clinical)
    assert item.payload == {
        "kind": "form",
        "answers": {
            "entities": {
                "kind": "spans",
                "spans": [{"start": 19, "end": 26, "label": "Medication"}],
            },
            "confidence": {"kind": "choice", "label": "high"},
        },
    }


def test_tasks_as_json_lines_are_read(tmp_path: Path) -> None:
    tasks = json.loads((DATA / "label_studio_classify.json").read_text())
    (tmp_path / "tasks.jsonl").write_text("".join(json.dumps(t) + "\n" for t in tasks) + "{\n")
    items = list(read(tmp_path / "tasks.jsonl", context("classify", ("a",))))
    assert [i.where for i in items] == [
        "line 1 task 7 annotation 1",
        "line 2 task 8 annotation 1",
        "line 3",
    ]
    assert items[2].error is not None and items[2].error.startswith("is not JSON")


def wnut_records(count: int) -> list[Record]:
    records = []
    for row in wnut17().head(count).iter_rows(named=True):
        data = {"text": row["text"]}
        payload = {"kind": "spans", "spans": row["spans"]}
        records.append(Record(row["id"], data, payload, "ana", "human"))
        records.append(Record(row["id"], data, payload, None, "gold"))
    return records


def test_our_export_reads_back_the_same(tmp_path: Path) -> None:
    records = [*wnut_records(30), Record("unlabelled-1", {"text": "no answer yet"})]
    path = tmp_path / "out.json"
    report = write(iter(records), path, NER)
    assert (report.written, report.tasks, report.notes) == (60, 31, [])
    tasks = json.loads(path.read_text())
    assert [t["id"] for t in tasks] == list(range(1, 32))
    assert tasks[0]["data"] == {"text": records[0].data["text"], "annolab_task": "wnut17-dev-0001"}
    assert [a.get("completed_by") for a in tasks[1]["annotations"]] == ["ana", None]
    assert [a["ground_truth"] for a in tasks[1]["annotations"]] == [False, True]
    assert tasks[-1]["annotations"] == []
    items = list(read(path, NER))
    answered = [i for i in items if i.payload is not None]
    assert [(i.task, i.payload, i.annotator) for i in answered] == [
        (r.task, r.payload, r.annotator) for r in records if r.payload is not None
    ]
    assert items[-1] == Item(where="task 31", task="unlabelled-1", data={"text": "no answer yet"})


def test_answers_can_be_written_as_predictions(tmp_path: Path) -> None:
    path = tmp_path / "pre.json"
    records = [Record("t1", {"text": "trump is here"}, {"kind": "spans", "spans": []}, "persona")]
    write(records, path, context("ner", WNUT, as_predictions=True))
    (task,) = json.loads(path.read_text())
    assert task["predictions"] == [{"result": [], "model_version": "persona"}]
    assert "annotations" not in task
    (item,) = read(path, NER)
    assert (item.prediction, item.annotator, item.payload) == (
        True,
        "persona",
        {"kind": "spans", "spans": []},
    )


def test_an_answer_label_studio_cannot_hold_is_noted_and_its_task_still_written(
    tmp_path: Path,
) -> None:
    record = Record("img", {"image": "https://example.org/a.png"}, {"kind": "boxes", "boxes": []})
    boxes = [{"x": 1, "y": 1, "width": 2, "height": 2, "label": "car"}]
    sized = Record("img", record.data, {"kind": "boxes", "boxes": boxes}, "ana")
    report = write([record, sized], tmp_path / "b.json", context("bbox", ("car",)))
    assert report.written == 0 and report.tasks == 1
    assert report.notes[0][0] == "img" and "is needed to write boxes" in report.notes[0][1]
    (task,) = json.loads((tmp_path / "b.json").read_text())
    assert task["annotations"] == []


# Label Studio's own converter reads what we write.

NER_CONFIG = (
    '<View><Labels name="entities" toName="text">'
    + "".join(f'<Label value="{n}"/>' for n in WNUT)
    + '</Labels><Text name="text" value="$text"/></View>'
)
BOX_CONFIG = (
    '<View><Image name="image" value="$image"/>'
    '<RectangleLabels name="objects" toName="image">'
    '<Label value="car"/><Label value="person"/></RectangleLabels></View>'
)


def test_label_studio_converter_turns_our_export_into_the_same_conll(tmp_path: Path) -> None:
    converter = pytest.importorskip("label_studio_converter")
    from nltk.tokenize import TreebankWordTokenizer  # type: ignore[import-untyped]

    records = wnut_records(40)[::2]  # one annotation per task: the converter writes each
    write(records, tmp_path / "ner.json", NER)
    out = tmp_path / "conll"
    converter.Converter(NER_CONFIG, str(tmp_path)).convert_to_conll2003(
        str(tmp_path / "ner.json"), str(out), is_dir=False
    )
    lines = (out / "result.conll").read_text(encoding="utf-8").split("\n")
    assert lines[0] == "-DOCSTART- -X- O"
    documents = "\n".join(lines[1:]).strip("\n").split("\n\n")
    assert len(documents) == len(records)
    compared = 0
    for record, document in zip(records, documents, strict=True):
        rows = [row.split(" ") for row in document.split("\n")]
        text = record.data["text"]
        offsets = list(TreebankWordTokenizer().span_tokenize(text))
        assert [r[0] for r in rows] == [text[s:e] for s, e in offsets]
        assert record.payload is not None
        tags, problems = tags_from_spans(record.payload["spans"], offsets)
        if not problems:  # spans on the converter's tokens: its tags are ours
            assert [r[3] for r in rows] == tags
            compared += 1
    assert compared >= 35


def test_label_studio_converter_turns_our_export_into_the_same_coco(tmp_path: Path) -> None:
    converter = pytest.importorskip("label_studio_converter")
    boxes = [
        [{"x": 4, "y": 3, "width": 20, "height": 15, "label": "car"}],
        [
            {"x": 0, "y": 0, "width": 10, "height": 10, "label": "person"},
            {"x": 30.5, "y": 12, "width": 9.5, "height": 18, "label": "car"},
        ],
    ]
    records = []
    for i, found in enumerate(boxes):
        image = tmp_path / f"street-{i}.png"
        image.write_bytes(png_bytes(40, 30))
        payload = {"kind": "boxes", "boxes": found}
        records.append(Record(f"street-{i}", {"image": str(image)}, payload, "ana"))
    write(records, tmp_path / "boxes.json", context("bbox", ("car", "person")))
    out = tmp_path / "coco"
    converter.Converter(BOX_CONFIG, str(tmp_path)).convert_to_coco(
        str(tmp_path / "boxes.json"), str(out), is_dir=False
    )
    coco = json.loads((out / "result.json").read_text())
    names = {c["id"]: c["name"] for c in coco["categories"]}
    assert [(im["id"], im["width"], im["height"]) for im in coco["images"]] == [
        (0, 40, 30),
        (1, 40, 30),
    ]
    found_boxes = [
        (a["image_id"], names[a["category_id"]], [round(v, 6) for v in a["bbox"]])
        for a in coco["annotations"]
    ]
    assert found_boxes == [
        (i, b["label"], [b["x"], b["y"], b["width"], b["height"]])
        for i, image_boxes in enumerate(boxes)
        for b in image_boxes
    ]
