"""Prodigy JSONL: read as Prodigy's ``db-out`` writes it (ner_manual, choice, classification,
image_manual), and written so that it reads back the same.

Sentences: WNUT 2017 development set (Derczynski et al., 2017), CC-BY 4.0.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from annolab.datasets import wnut17
from annolab.io.prodigy import FORMATS, read, stable_hash, write
from annolab.io.records import Context, Record
from annolab.schema import LabelSchema
from annolab.schema.labels import Label
from annolab.schema.layout import Layout

DATA = Path(__file__).parent / "data" / "formats"
WNUT = ("person", "location", "corporation", "product", "creative-work", "group")
T1 = (
    "You should ' ve stayed on Redondo Beach Blvd . "
    "you were in the borderlines of Gardena / Compton"
)


def context(layout: str, names: tuple[str, ...]) -> Context:
    labels = LabelSchema(labels=tuple(Label(name=n) for n in names))
    return Context(layout=Layout.load(layout), labels=labels)


NER = context("ner", WNUT)


def test_the_format_is_registered() -> None:
    (fmt,) = FORMATS
    assert (fmt.name, fmt.write, fmt.read) == ("prodigy", write, read)
    assert {"spans", "choice", "choices", "boxes"} <= set(fmt.kinds)


def test_ner_manual_lines_are_read_and_ignored_or_rejected_ones_left_out() -> None:
    items = list(read(DATA / "prodigy_ner.jsonl", NER))
    assert [(i.where, i.task, i.annotator) for i in items] == [
        ("line 1", "-1290745471", "wnut-ana"),
        ("line 2", "402813553", "wnut-bo"),  # from _session_id
        ("line 5", "991224617", None),  # no answer: a task to annotate
    ]
    assert items[0].payload == {
        "kind": "spans",
        "spans": [
            {"start": 26, "end": 44, "label": "location"},
            {"start": 78, "end": 85, "label": "location"},
            {"start": 88, "end": 95, "label": "location"},
        ],
    }
    assert items[0].data["text"] == T1
    assert items[0].data["tokens"][6:9] == ["Redondo", "Beach", "Blvd"]
    assert items[2].payload is None
    assert items[2].data["text"] == "These trap came from Taiwan ."


def test_a_span_whose_tokens_are_elsewhere_is_refused(tmp_path: Path) -> None:
    line = json.loads((DATA / "prodigy_ner.jsonl").read_text().splitlines()[0])
    line["spans"][0]["token_end"] = 7
    (tmp_path / "bad.jsonl").write_text(json.dumps(line) + "\n")
    (item,) = read(tmp_path / "bad.jsonl", NER)
    assert item.where == "line 1"
    assert item.error == "spans[0].token_end=7 names token 7, whose end is 39, not 44"


def test_choices_by_option_id_and_binary_labels_are_read_and_a_rejected_label_refused() -> None:
    items = list(read(DATA / "prodigy_textcat.jsonl", context("classify", ("a",))))
    assert [(i.where, i.payload, i.annotator) for i in items[:3]] == [
        ("line 1", {"kind": "choice", "label": "negative"}, "cls-bo"),
        ("line 2", {"kind": "choice", "label": "neutral"}, "cls-bo"),
        ("line 3", {"kind": "choice", "label": "negative"}, "cls-ana"),
    ]
    assert items[3].where == "line 4"
    assert items[3].error == (
        "answer='reject' of label 'positive' says only that the text is not 'positive': "
        "no choice to import"
    )


def test_image_rectangles_become_boxes_and_a_polygon_is_refused() -> None:
    items = list(read(DATA / "prodigy_image.jsonl", context("bbox", ("car", "person"))))
    assert items[0].task == "street-01"  # meta.id
    assert items[0].data == {"image": "street-01.jpg", "width": 640, "height": 480}
    assert items[0].payload == {
        "kind": "boxes",
        "boxes": [
            {"x": 64, "y": 120, "width": 160, "height": 96, "label": "car"},
            {"x": 400, "y": 48, "width": 32, "height": 144, "label": "person"},
        ],
    }
    assert items[1].where == "line 2"
    assert items[1].error is not None
    assert items[1].error.startswith("spans[0].points=[[10, 10], [60, 12]")
    assert items[1].error.endswith(
        "must be the four corners of a rectangle (a polygon is not a box)"
    )


def wnut_records(count: int) -> list[Record]:
    records = []
    for row in wnut17().head(count).iter_rows(named=True):
        payload = {"kind": "spans", "spans": row["spans"]}
        records.append(Record(row["id"], {"text": row["text"]}, payload, "ana", "human"))
    return records


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_our_lines_read_back_the_same(tmp_path: Path) -> None:
    records = [*wnut_records(40), Record("todo-1", {"text": "no answer yet", "source": "x"})]
    path = tmp_path / "ner.jsonl"
    report = write(records, path, NER)
    assert (report.written, report.tasks) == (41, 41)
    written = lines(path)
    first = written[0]
    assert first["answer"] == "accept" and first["_annotator_id"] == "ana"
    assert first["meta"] == {"annolab_task": "wnut17-dev-0001"}
    assert first["_input_hash"] == stable_hash(records[0].data["text"])
    assert first["_task_hash"] == stable_hash(records[0].data["text"], "wnut17-dev-0001")
    # Spans name their tokens, as ner_manual writes them.
    second = written[1]
    assert records[1].data["text"] == T1
    assert [(t["text"], t["start"]) for t in second["tokens"][6:8]] == [
        ("Redondo", 26),
        ("Beach", 34),
    ]
    assert second["spans"][0] == {
        "start": 26,
        "end": 44,
        "label": "location",
        "text": "Redondo Beach Blvd",
        "token_start": 6,
        "token_end": 8,
    }
    # A task without an answer: no answer key and no answer fields, its own fields kept.
    todo = written[-1]
    assert "answer" not in todo and "spans" not in todo
    assert (todo["text"], todo["source"]) == ("no answer yet", "x")
    items = list(read(path, NER))
    assert [(i.task, i.payload, i.annotator) for i in items] == [
        (r.task, r.payload, r.annotator) for r in records
    ]
    assert items[-1].data == {
        "text": "no answer yet",
        "source": "x",
        "tokens": ["no", "answer", "yet"],
    }


def test_a_span_off_the_tokens_is_noted(tmp_path: Path) -> None:
    payload = {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "person"}]}
    record = Record("t", {"text": "trumpet player"}, payload, "ana")
    report = write([record], tmp_path / "off.jsonl", NER)
    assert report.notes == [("t", "span 0:3 ('tru') is not on token boundaries")]
    (line,) = lines(tmp_path / "off.jsonl")
    assert "token_start" not in line["spans"][0]


def test_choice_lines_carry_the_labels_as_options_and_read_back(tmp_path: Path) -> None:
    classify = context("classify", ("positive", "negative"))
    records = [
        Record("a", {"text": "love it"}, {"kind": "choice", "label": "positive"}, "ana"),
        Record("b", {"text": "meh"}),
    ]
    write(records, tmp_path / "c.jsonl", classify)
    written = lines(tmp_path / "c.jsonl")
    options = [{"id": "positive", "text": "positive"}, {"id": "negative", "text": "negative"}]
    assert [(w["options"], w.get("accept"), w.get("answer")) for w in written] == [
        (options, ["positive"], "accept"),
        (options, None, None),
    ]
    items = list(read(tmp_path / "c.jsonl", classify))
    assert [(i.task, i.payload) for i in items] == [
        ("a", {"kind": "choice", "label": "positive"}),
        ("b", None),
    ]


def test_boxes_round_trip_in_pixels(tmp_path: Path) -> None:
    bbox = context("bbox", ("car",))
    data = {"image": "https://example.org/street.png", "width": 80, "height": 60}
    boxes = [{"x": 4, "y": 3, "width": 20.5, "height": 15, "label": "car"}]
    records = [Record("s", data, {"kind": "boxes", "boxes": boxes}, "ana")]
    write(records, tmp_path / "i.jsonl", bbox)
    (line,) = lines(tmp_path / "i.jsonl")
    assert (line["image"], line["width"], line["height"]) == (data["image"], 80, 60)
    (item,) = read(tmp_path / "i.jsonl", bbox)
    assert (item.task, item.data, item.payload) == ("s", data, records[0].payload)


def test_an_answer_prodigy_has_no_interface_for_is_noted(tmp_path: Path) -> None:
    layout = Layout.from_dict({"name": "t", "questions": [{"name": "t", "kind": "text"}]})
    record = Record("n", {"text": "x"}, {"kind": "text", "text": "fine"}, "ana")
    report = write([record], tmp_path / "t.jsonl", Context(layout=layout, labels=LabelSchema()))
    assert report.written == 0
    assert report.notes[0][1].startswith("answers.t.kind='text' has no prodigy form")
    assert (tmp_path / "t.jsonl").read_text() == ""
