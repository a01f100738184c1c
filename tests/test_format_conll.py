"""CoNLL: tokens and tags (annolab.io.tokens) and the ``conll`` format on the WNUT 2017 dev set
(CC-BY 4.0, Derczynski et al. 2017; see annolab/data/README.md)."""

from __future__ import annotations

from collections.abc import Iterable
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from seqeval.scheme import BILOU, IOB2, Entities  # type: ignore[import-untyped]

from annolab.datasets import WNUT17_LABELS, read_conll
from annolab.errors import ValidationError
from annolab.io.conll import FORMATS
from annolab.io.records import Context, Item, Record
from annolab.io.tokens import spans_from_tags, tags_from_spans, token_offsets
from annolab.schema.labels import LabelSchema
from annolab.schema.layout import Layout

WNUT_DEV = Path(str(files("annolab") / "data" / "wnut17_dev.conll"))
CONLL = FORMATS[0]
TWEET = "@paulwalk It's the view from where I'm living for two weeks. Empire State Building"


def context(**options: Any) -> Context:
    labels = LabelSchema.from_names(WNUT17_LABELS)
    return Context(layout=Layout.load("ner"), labels=labels, options=options)


def write(records: Iterable[Record], path: Path, **options: Any) -> str:
    assert CONLL.write is not None
    report = CONLL.write(records, path, context(**options))
    assert report.written == report.tasks
    return path.read_text(encoding="utf-8")


def read(path: Path, ctx: Context | None = None) -> list[Item]:
    assert CONLL.read is not None
    return list(CONLL.read(path, ctx or context()))


# --- tokens ---------------------------------------------------------------------------------


def test_the_tokenizer_keeps_mentions_urls_hashtags_and_words_with_apostrophes() -> None:
    text = "@paulwalk It's #NYC: see http://t.co/x1?a=2. state-of-the-art 3.5 👍🏽!"
    tokens = [text[s:e] for s, e in token_offsets(text)]
    assert tokens == [
        "@paulwalk",
        "It's",
        "#NYC",
        ":",
        "see",
        "http://t.co/x1?a=2",
        ".",
        "state-of-the-art",
        "3.5",
        "👍🏽",
        "!",
    ]


@given(st.text(max_size=40))
def test_the_tokenizer_covers_every_non_space_character_once(text: str) -> None:
    offsets = token_offsets(text)
    covered = [i for s, e in offsets for i in range(s, e)]
    assert covered == sorted(set(covered))
    assert all(s < e for s, e in offsets)
    assert all(not any(c.isspace() for c in text[s:e]) for s, e in offsets)
    assert {i for i, c in enumerate(text) if not c.isspace()} == set(covered)


def test_given_tokens_are_found_in_order_across_any_whitespace() -> None:
    assert token_offsets("a  b\tc", ["a", "b", "c"]) == [(0, 1), (3, 4), (5, 6)]
    with pytest.raises(ValidationError) as info:
        token_offsets("a b", ["b", "a"])
    assert info.value.field == "tokens[1]"
    assert info.value.value == "a"


def test_a_span_off_token_boundaries_is_tagged_on_the_tokens_it_touches_and_reported() -> None:
    offsets = token_offsets(TWEET)
    spans = [
        {"start": 63, "end": 75, "label": "location"},  # "pire State B": inside three tokens
        {"start": 61, "end": 82, "label": "location"},  # the same tokens, aligned: kept first
        {"start": 0, "end": 9, "label": "person"},
    ]
    tags, problems = tags_from_spans(spans, offsets)
    assert tags[0] == "B-person"
    assert tags[-3:] == ["B-location", "I-location", "I-location"]
    assert problems == [
        {"start": 63, "end": 75, "label": "location", "problem": "overlap", "tokens": (12, 15)}
    ]
    tags, problems = tags_from_spans([spans[0]], offsets, scheme="BILOU")
    assert tags[-3:] == ["B-location", "I-location", "L-location"]
    assert [p["problem"] for p in problems] == ["misaligned"]


def test_a_span_over_spaces_only_is_reported_and_not_tagged() -> None:
    tags, problems = tags_from_spans([{"start": 1, "end": 2, "label": "x"}], [(0, 1), (2, 3)])
    assert tags == ["O", "O"]
    assert problems[0]["problem"] == "no token"


def test_tags_read_as_conll_readers_do() -> None:
    offsets = token_offsets("a b c d")
    # An I- with no B- before it starts an entity; an I- of another label starts one too.
    assert spans_from_tags(["I-x", "I-x", "I-y", "O"], offsets) == [
        {"start": 0, "end": 3, "label": "x"},
        {"start": 4, "end": 5, "label": "y"},
    ]
    assert spans_from_tags(["B-x", "B-x", "U-y", "L-y"], offsets, scheme="BILOU") == [
        {"start": 0, "end": 1, "label": "x"},
        {"start": 2, "end": 3, "label": "x"},
        {"start": 4, "end": 5, "label": "y"},
        {"start": 6, "end": 7, "label": "y"},
    ]


@pytest.mark.parametrize(("tag", "scheme"), [("U-x", "BIO"), ("X-x", "BILOU"), ("B-", "BIO")])
def test_an_invalid_tag_is_refused_naming_it_and_its_position(tag: str, scheme: str) -> None:
    with pytest.raises(ValidationError) as info:
        spans_from_tags(["O", tag], [(0, 1), (2, 3)], scheme=scheme)
    assert info.value.field == "tags[1]"
    assert info.value.value == tag


@st.composite
def tokens_and_aligned_spans(draw: st.DrawFn) -> tuple[str, list[str], list[dict[str, Any]]]:
    words = st.text(st.characters(exclude_categories=("Z", "Cc", "Cs")), min_size=1, max_size=5)
    tokens = draw(st.lists(words, min_size=1, max_size=12))
    gaps = draw(st.lists(st.sampled_from([" ", "  ", "\t", "\n "]), min_size=len(tokens)))
    text = "".join(gap + token for gap, token in zip(gaps, tokens, strict=False))
    offsets = token_offsets(text, tokens)
    # Cut the tokens into runs; each run is an entity or not.
    spans, index = [], 0
    while index < len(tokens):
        length = draw(st.integers(1, len(tokens) - index))
        label = draw(st.sampled_from([None, "person", "location", "creative-work"]))
        if label is not None:
            end = offsets[index + length - 1][1]
            spans.append({"start": offsets[index][0], "end": end, "label": label})
        index += length
    return text, tokens, spans


@given(tokens_and_aligned_spans(), st.sampled_from(["BIO", "BILOU"]))
def test_spans_on_token_boundaries_round_trip_through_tags(
    drawn: tuple[str, list[str], list[dict[str, Any]]], scheme: str
) -> None:
    text, tokens, spans = drawn
    offsets = token_offsets(text, tokens)
    tags, problems = tags_from_spans(spans, offsets, scheme=scheme)
    assert problems == []
    assert spans_from_tags(tags, offsets, scheme=scheme) == spans


@given(
    st.text(st.sampled_from("ab .\n"), max_size=30),
    st.lists(st.tuples(st.integers(0, 30), st.integers(1, 8), st.sampled_from("xy")), max_size=6),
    st.sampled_from(["BIO", "BILOU"]),
)
def test_every_span_is_tagged_as_it_is_or_reported(
    text: str, drawn: list[tuple[int, int, str]], scheme: str
) -> None:
    offsets = token_offsets(text)
    spans = [
        {"start": start, "end": min(start + length, len(text)), "label": label}
        for start, length, label in drawn
        if start < len(text)
    ]
    tags, problems = tags_from_spans(spans, offsets, scheme=scheme)
    back = spans_from_tags(tags, offsets, scheme=scheme)
    reported = [{k: p[k] for k in ("start", "end", "label")} for p in problems]
    for span in spans:
        assert span in back or span in reported
    # A misaligned span is tagged on exactly the tokens it touches.
    for problem in problems:
        if problem["problem"] == "misaligned":
            first, last = problem["tokens"]
            tagged = {"start": offsets[first][0], "end": offsets[last - 1][1]}
            assert {**tagged, "label": problem["label"]} in back


# --- the conll format -------------------------------------------------------------------------


def test_wnut_dev_reads_and_writes_back_byte_for_byte(tmp_path: Path) -> None:
    items = read(WNUT_DEV)
    assert len(items) == 1009
    assert [i.error for i in items if i.error] == []
    assert items[0].task == "wnut17_dev-00001"
    records = (Record(task=i.task, data=i.data, payload=i.payload) for i in items)
    out = tmp_path / "out.conll"
    assert write(records, out) == WNUT_DEV.read_text(encoding="utf-8")
    assert out.read_bytes() == WNUT_DEV.read_bytes()


def test_the_reader_agrees_with_the_datasets_reader() -> None:
    ours = [(i.data["text"], list(i.payload["spans"])) for i in read(WNUT_DEV) if i.payload]
    assert ours == list(read_conll(WNUT_DEV))
    assert sum(len(spans) for _, spans in ours) == 836


def _sequences(text: str) -> list[list[str]]:
    return [doc.split("\n") for doc in text.strip("\n").split("\n\n")]


def test_bilou_export_holds_the_same_entities_as_bio(tmp_path: Path) -> None:
    items = read(WNUT_DEV)
    records = [Record(task=i.task, data=i.data, payload=i.payload) for i in items]
    bio = write(records, tmp_path / "bio.conll")
    bilou = write(records, tmp_path / "bilou.conll", scheme="BILOU")
    bio_tags = [[line.split("\t")[1] for line in doc] for doc in _sequences(bio)]
    bilou_tags = [[line.split("\t")[1] for line in doc] for doc in _sequences(bilou)]
    assert any("U-" in tag for doc in bilou_tags for tag in doc)
    bio_entities = [e.to_tuple() for doc in Entities(bio_tags, IOB2).entities for e in doc]
    bilou_entities = [e.to_tuple() for doc in Entities(bilou_tags, BILOU).entities for e in doc]
    assert len(bio_entities) == 836
    assert bilou_entities == bio_entities
    # And our reader finds BILOU in the tags and reads the same spans back.
    assert [i.payload for i in read(tmp_path / "bilou.conll")] == [i.payload for i in items]


def test_misaligned_spans_are_noted_and_a_task_without_answer_is_all_o(tmp_path: Path) -> None:
    records = [
        Record(task="t1", data={"text": TWEET}, payload={"kind": "spans", "spans": [
            {"start": 63, "end": 75, "label": "location"},
        ]}),
        Record(task="t2", data={"text": "Ada met Bob"}, payload=None),
    ]  # fmt: skip
    assert CONLL.write is not None
    report = CONLL.write(records, tmp_path / "out.conll", context())
    assert report.notes == [
        (
            "t1",
            "span 63-75 'pire State B' location does not fall on token boundaries; "
            "tagged as tokens 13-15",
        )
    ]
    text = (tmp_path / "out.conll").read_text(encoding="utf-8")
    assert text.endswith("Empire\tB-location\nState\tI-location\nBuilding\tI-location\n\n"
                         "Ada\tO\nmet\tO\nBob\tO\n\n")  # fmt: skip


def test_a_form_writes_the_question_the_option_names(tmp_path: Path) -> None:
    layout = Layout.from_dict(
        {
            "name": "two",
            "inputs": [{"name": "text", "type": "text"}],
            "questions": [
                {"name": "gold", "kind": "spans", "field": "text"},
                {"name": "silver", "kind": "spans", "field": "text"},
                {"name": "ok", "kind": "choice", "options": ["yes", "no"]},
            ],
        }
    )
    ctx = Context(layout, LabelSchema.from_names(["PER"]), {"question": "silver"})
    answers = {
        "gold": {"kind": "spans", "spans": [{"start": 0, "end": 3, "label": "PER"}]},
        "silver": {"kind": "spans", "spans": [{"start": 8, "end": 11, "label": "PER"}]},
    }
    record = Record("t", {"text": "Ada met Bob"}, {"kind": "form", "answers": answers})
    assert CONLL.write is not None and CONLL.read is not None
    CONLL.write([record], tmp_path / "f.conll", ctx)
    assert (tmp_path / "f.conll").read_text() == "Ada\tO\nmet\tO\nBob\tB-PER\n\n"
    (item,) = CONLL.read(tmp_path / "f.conll", ctx)
    assert item.payload == {"kind": "form", "answers": {"silver": answers["silver"]}}
    with pytest.raises(ValidationError, match="choice question"):
        CONLL.write([record], tmp_path / "g.conll", Context(layout, ctx.labels, {"question": "ok"}))


def test_conll_2003_columns_spaces_docstart_and_bioes_read(tmp_path: Path) -> None:
    path = tmp_path / "eng.testa"
    path.write_text(
        "-DOCSTART- -X- -X- O\n\n"
        "EU NNP B-NP S-ORG\nrejects VBZ B-VP O\nGerman JJ B-NP S-MISC\n\n"
        "Peter NNP B-NP B-PER\nBlackburn NNP I-NP E-PER\n",
        encoding="utf-8",
    )
    items = read(path)
    assert [(i.task, i.where, i.data["text"]) for i in items] == [
        ("eng-00001", "line 3", "EU rejects German"),
        ("eng-00002", "line 7", "Peter Blackburn"),
    ]
    assert [i.payload["spans"] for i in items if i.payload] == [
        [{"start": 0, "end": 2, "label": "ORG"}, {"start": 11, "end": 17, "label": "MISC"}],
        [{"start": 0, "end": 15, "label": "PER"}],
    ]


def test_bad_lines_are_refused_by_line_and_the_other_documents_still_read(tmp_path: Path) -> None:
    path = tmp_path / "bad.conll"
    path.write_text(
        "Ada\tB-person\nmet\n\nBob\tX-person\n\nok\tO\n\n\tO\n\n", encoding="utf-8"
    )  # fmt: skip
    items = read(path)
    assert [(i.where, i.task, i.error is None) for i in items] == [
        ("line 2", "bad-00001", False),
        ("line 4", "bad-00002", False),
        ("line 6", "bad-00003", True),
        ("line 8", "bad-00004", False),
    ]
    assert items[0].error is not None and "'met' has a token and no tag" in items[0].error
    assert items[1].error is not None and "'X-person' is not a BIO tag" in items[1].error
    assert items[3].error == "the token (first column) is empty"


def test_tokens_alone_import_as_tasks_without_answers(tmp_path: Path) -> None:
    path = tmp_path / "raw.conll"
    path.write_text("Ada\nmet\nBob\n\n", encoding="utf-8")
    (item,) = read(path)
    assert item.data == {"text": "Ada met Bob", "tokens": ["Ada", "met", "Bob"]}
    assert item.payload is None
