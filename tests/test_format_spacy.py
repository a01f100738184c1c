"""spaCy DocBin and Doc JSON lines, checked with spaCy's own readers, on the WNUT 2017 dev set
(CC-BY 4.0, Derczynski et al. 2017; see annolab/data/README.md)."""

from __future__ import annotations

import json
import sys
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import spacy
from hypothesis import given, settings
from hypothesis import strategies as st
from spacy.tokens import Doc, DocBin

from annolab.datasets import WNUT17_LABELS
from annolab.errors import DataError
from annolab.io.conll import FORMATS as CONLL_FORMATS
from annolab.io.records import Context, Format, Item, Record
from annolab.io.spacy_docs import FORMATS
from annolab.schema.labels import LabelSchema
from annolab.schema.layout import Layout

WNUT_DEV = Path(str(files("annolab") / "data" / "wnut17_dev.conll"))
DOCBIN, JSONL = FORMATS
VOCAB = spacy.blank("en").vocab  # spaCy's own, not the one the formats use
TWEET = "@paulwalk It's the view from where I'm living for two weeks. Empire State Building"


def context(
    layout: str = "ner", labels: tuple[str, ...] = WNUT17_LABELS, **options: Any
) -> Context:
    return Context(Layout.load(layout), LabelSchema.from_names(labels), options)


def write(fmt: Format, records: list[Record], path: Path, ctx: Context | None = None) -> Any:
    assert fmt.write is not None
    return fmt.write(records, path, ctx or context())


def read(fmt: Format, path: Path, ctx: Context | None = None) -> list[Item]:
    assert fmt.read is not None
    return list(fmt.read(path, ctx or context()))


@pytest.fixture(scope="module")
def wnut() -> list[Item]:
    assert CONLL_FORMATS[0].read is not None
    return list(CONLL_FORMATS[0].read(WNUT_DEV, context()))


def records_of(items: list[Item]) -> list[Record]:
    return [Record(task=i.task, data=i.data, payload=i.payload) for i in items]


def entities(item: Item) -> list[tuple[int, int, str]]:
    assert item.payload is not None
    return [(s["start"], s["end"], s["label"]) for s in item.payload["spans"]]


@pytest.fixture(scope="module")
def wnut_docbin(wnut: list[Item], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("spacy") / "dev.spacy"
    report = write(DOCBIN, records_of(wnut), path)
    assert (report.written, report.tasks, report.notes) == (1009, 1009, [])
    return path


def test_wnut_docbin_read_by_spacy_has_the_conll_entities(
    wnut: list[Item], wnut_docbin: Path
) -> None:
    path = wnut_docbin
    docs = list(DocBin().from_disk(path).get_docs(VOCAB))
    assert [doc.text for doc in docs] == [i.data["text"] for i in wnut]
    assert [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in docs] == [
        entities(i) for i in wnut
    ]
    assert sum(len(doc.ents) for doc in docs) == 836
    assert [t.text for t in docs[1]][:4] == ["You", "should", "'", "ve"]
    assert docs[1].user_data["annolab_task"] == "wnut17_dev-00002"


def test_wnut_docbin_and_jsonl_round_trip_through_our_readers(
    wnut: list[Item], wnut_docbin: Path, tmp_path: Path
) -> None:
    write(JSONL, records_of(wnut), tmp_path / "dev.jsonl")
    for fmt, path in ((DOCBIN, wnut_docbin), (JSONL, tmp_path / "dev.jsonl")):
        back = read(fmt, path)
        assert [(i.task, i.data, i.payload) for i in back] == [
            (i.task, i.data, i.payload) for i in wnut
        ]


def test_jsonl_lines_are_doc_to_json_objects_doc_from_json_reads(
    wnut: list[Item], tmp_path: Path
) -> None:
    path = tmp_path / "dev.jsonl"
    write(JSONL, records_of(wnut[:50]), path)
    lines = path.read_text(encoding="utf-8").splitlines()
    docs = [Doc(VOCAB).from_json(json.loads(line)) for line in lines]
    assert [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs] == [
        entities(i) for i in wnut[:50]
    ]
    assert json.loads(lines[0])["annolab_task"] == "wnut17_dev-00001"


def test_overlapping_spans_go_to_the_span_group_and_misaligned_ones_are_expanded(
    tmp_path: Path,
) -> None:
    spans = [
        {"start": 61, "end": 82, "label": "location"},  # Empire State Building
        {"start": 61, "end": 67, "label": "corporation"},  # Empire, inside it
        {"start": 1, "end": 9, "label": "person"},  # paulwalk: inside @paulwalk
    ]
    record = Record("t1", {"text": TWEET}, {"kind": "spans", "spans": spans})
    report = write(DOCBIN, [record], tmp_path / "o.spacy")
    assert report.notes == [
        ("t1", "span 1-9 'paulwalk' person does not fall on token boundaries; "
               "written as 0-9 '@paulwalk'"),
        ("t1", "span 61-67 'Empire' corporation overlaps another span; "
               "in doc.spans['sc'] only, not doc.ents"),
    ]  # fmt: skip
    (doc,) = DocBin().from_disk(tmp_path / "o.spacy").get_docs(VOCAB)
    assert [(e.start_char, e.end_char, e.label_) for e in doc.ents] == [
        (0, 9, "person"),
        (61, 82, "location"),
    ]
    assert [(s.start_char, s.end_char, s.label_) for s in doc.spans["sc"]] == [
        (0, 9, "person"),
        (61, 82, "location"),
        (61, 67, "corporation"),
    ]
    (item,) = read(DOCBIN, tmp_path / "o.spacy")
    assert entities(item) == [(0, 9, "person"), (61, 82, "location"), (61, 67, "corporation")]


@settings(max_examples=15, deadline=None)
@given(st.lists(st.text(st.sampled_from("ab 😀\n\t."), max_size=20), min_size=1, max_size=8))
def test_the_doc_text_is_the_task_text_exactly(texts: list[str]) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "o.jsonl"
        write(JSONL, [Record(f"t{n}", {"text": t}, None) for n, t in enumerate(texts)], path)
        lines = path.read_text(encoding="utf-8").splitlines()
        assert [Doc(VOCAB).from_json(json.loads(line)).text for line in lines] == texts


def test_choice_and_choices_answers_become_cats_and_come_back(tmp_path: Path) -> None:
    ctx = context("classify", ("positive", "negative", "neutral"))
    records = [
        Record("a", {"text": "great"}, {"kind": "choice", "label": "positive"}),
        Record("b", {"text": "meh"}, None),
    ]
    write(DOCBIN, records, tmp_path / "c.spacy", ctx)
    docs = list(DocBin().from_disk(tmp_path / "c.spacy").get_docs(VOCAB))
    assert [d.cats for d in docs] == [{"positive": 1.0, "negative": 0.0, "neutral": 0.0}, {}]
    assert [i.payload for i in read(DOCBIN, tmp_path / "c.spacy", ctx)] == [
        {"kind": "choice", "label": "positive"},
        None,
    ]


def test_a_form_keeps_its_spans_and_each_question_s_cats_under_its_name(tmp_path: Path) -> None:
    ctx = context("clinical-ner-v1", ("Diagnosis", "Medication"))
    answers = {
        "entities": {"kind": "spans", "spans": [{"start": 8, "end": 15, "label": "Medication"}]},
        "confidence": {"kind": "choice", "label": "high"},
    }
    data = {"document_text": "Started aspirin today", "document_id": "n1"}
    record = Record("n1", data, {"kind": "form", "answers": answers})
    write(JSONL, [record], tmp_path / "f.jsonl", ctx)
    (line,) = (tmp_path / "f.jsonl").read_text(encoding="utf-8").splitlines()
    assert json.loads(line)["cats"] == {
        "confidence:high": 1.0,
        "confidence:medium": 0.0,
        "confidence:low": 0.0,
    }
    (item,) = read(JSONL, tmp_path / "f.jsonl", ctx)
    assert item.task == "n1"
    assert item.data["document_text"] == "Started aspirin today"
    assert item.payload == {"kind": "form", "answers": answers}


def test_bad_jsonl_lines_are_refused_by_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    good = json.dumps({"text": "Ada", "tokens": [{"id": 0, "start": 0, "end": 3}]})
    path.write_text(f'{good}\n{{oops\n[1]\n{{"tokens": []}}\n', encoding="utf-8")
    items = read(JSONL, path)
    assert [(i.where, i.error is None) for i in items] == [
        ("line 1", True),
        ("line 2", False),
        ("line 3", False),
        ("line 4", False),
    ]
    assert items[0].task == "bad-00001"
    assert items[2].error == "not a Doc.to_json() object: a JSON list, not an object"


def test_without_spacy_the_formats_say_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "spacy", None)  # what Python holds when it is not there
    with pytest.raises(DataError, match=r'pip install "annolab\[spacy\]"'):
        write(JSONL, [Record("t", {"text": "x"}, None)], tmp_path / "o.jsonl")
