"""Span agreement against seqeval (exact F1) and scikit-learn (token F1), and its bad inputs."""

from __future__ import annotations

import json
import math
import re
import warnings
from itertools import combinations
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from seqeval.metrics import classification_report
from seqeval.metrics import f1_score as seqeval_f1
from seqeval.metrics import precision_score as seqeval_precision
from seqeval.metrics import recall_score as seqeval_recall
from sklearn.metrics import f1_score as sklearn_f1

from annolab.errors import QualityError
from annolab.quality import span_agreement
from annolab.quality._matching import overlap_matches
from annolab.schema import Span, SpansPayload

LABELS = ["PER", "ORG", "LOC"]


def overall(table: pl.DataFrame, match: str) -> dict[str, Any]:
    return table.filter((pl.col("match") == match) & pl.col("label").is_null()).row(0, named=True)


def per_label(table: pl.DataFrame, match: str) -> dict[str, dict[str, Any]]:
    rows = table.filter((pl.col("match") == match) & pl.col("label").is_not_null())
    return {row["label"]: row for row in rows.iter_rows(named=True)}


@st.composite
def token_documents(draw: st.DrawFn) -> dict[str, Any]:
    """Items of whitespace tokens, each annotated by 2-3 annotators with token-aligned spans."""
    items = []
    for item in range(draw(st.integers(1, 4))):
        words = draw(st.lists(st.text("abc", min_size=1, max_size=3), min_size=1, max_size=12))
        text = " ".join(words)
        starts, position = [], 0
        for word in words:
            starts.append(position)
            position += len(word) + 1
        ends = [s + len(w) for s, w in zip(starts, words, strict=True)]
        annotations = {}
        for name in ["ann", "bob", "cyd"][: draw(st.integers(2, 3))]:
            segments, tags, token = [], ["O"] * len(words), 0
            while token < len(words):
                token += draw(st.integers(0, 2))
                length = draw(st.integers(1, 3))
                if token + length > len(words) or not draw(st.booleans()):
                    token += 1
                    continue
                label = draw(st.sampled_from(LABELS))
                segments.append((starts[token], ends[token + length - 1], label))
                tags[token : token + length] = [f"B-{label}"] + [f"I-{label}"] * (length - 1)
                token += length
            annotations[name] = (segments, tags)
        items.append({"item": item, "text": text, "annotations": annotations})
    return {"items": items}


def frame_of(documents: dict[str, Any]) -> pl.DataFrame:
    rows = [
        {
            "item": doc["item"],
            "annotator": name,
            "text": doc["text"],
            "value": [{"start": s, "end": e, "label": lab} for s, e, lab in segments],
        }
        for doc in documents["items"]
        for name, (segments, _) in doc["annotations"].items()
    ]
    schema = {
        "item": pl.Int64,
        "annotator": pl.String,
        "text": pl.String,
        "value": pl.List(pl.Struct({"start": pl.Int64, "end": pl.Int64, "label": pl.String})),
    }
    return pl.DataFrame(rows, schema=schema)


def pairs_of(documents: dict[str, Any]) -> tuple[list[list[str]], list[list[str]]]:
    """BIO sequences of every pair (first, second), the first annotator as y_true."""
    truth, predicted = [], []
    for doc in documents["items"]:
        for first, second in combinations(sorted(doc["annotations"]), 2):
            truth.append(doc["annotations"][first][1])
            predicted.append(doc["annotations"][second][1])
    return truth, predicted


@settings(max_examples=200, deadline=None)
@given(documents=token_documents())
def test_exact_f1_equals_seqeval_on_the_same_spans_as_bio(documents: dict[str, Any]) -> None:
    table = span_agreement(frame_of(documents))
    truth, predicted = pairs_of(documents)
    row = overall(table, "exact")
    assert row["pairs"] == len(truth)
    if row["n_a"] + row["n_b"] == 0:
        assert math.isnan(row["f1"])
        assert row["reason"] == "no spans on the items compared: there is nothing to agree on"
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # seqeval warns where it sets an undefined score to 0
        assert row["f1"] == pytest.approx(seqeval_f1(truth, predicted), abs=1e-9)
        if row["n_b"]:
            assert row["precision"] == pytest.approx(seqeval_precision(truth, predicted), abs=1e-9)
        if row["n_a"]:
            assert row["recall"] == pytest.approx(seqeval_recall(truth, predicted), abs=1e-9)
        report = classification_report(truth, predicted, output_dict=True)
    labels = per_label(table, "exact")
    assert set(labels) == {k for k in report if k not in {"micro avg", "macro avg", "weighted avg"}}
    for label, ours in labels.items():
        assert ours["f1"] == pytest.approx(report[label]["f1-score"], abs=1e-9)
        assert ours["n_a"] == report[label]["support"]


@settings(max_examples=200, deadline=None)
@given(documents=token_documents())
def test_token_f1_equals_scikit_learn_on_token_labels(documents: dict[str, Any]) -> None:
    table = span_agreement(frame_of(documents))
    truth, predicted = pairs_of(documents)
    flat_truth = [tag.split("-", 1)[-1] for tags in truth for tag in tags]
    flat_predicted = [tag.split("-", 1)[-1] for tags in predicted for tag in tags]
    used = sorted(set(flat_truth + flat_predicted) - {"O"})
    row = overall(table, "token")
    if not used:
        assert math.isnan(row["f1"])
        return
    expected = sklearn_f1(flat_truth, flat_predicted, labels=used, average="micro")
    assert row["f1"] == pytest.approx(expected, abs=1e-9)
    for label, ours in per_label(table, "token").items():
        one = sklearn_f1(flat_truth, flat_predicted, labels=[label], average="micro")
        assert ours["f1"] == pytest.approx(one, abs=1e-9)


def brute_force_matches(a: list[tuple[int, int]], b: list[tuple[int, int]]) -> int:
    if not a or not b:
        return 0
    overlap = np.array([[int(s < e2 and s2 < e) for s2, e2 in b] for s, e in a])
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    return int(overlap[rows, cols].sum())


ranges = st.lists(
    st.tuples(st.integers(0, 30), st.integers(1, 8)).map(lambda t: (t[0], t[0] + t[1])),
    max_size=8,
)


@settings(max_examples=300, deadline=None)
@given(a=ranges, b=ranges)
def test_overlap_matching_is_a_maximum_matching(
    a: list[tuple[int, int]], b: list[tuple[int, int]]
) -> None:
    assert overlap_matches(a, b) == brute_force_matches(a, b)
    assert overlap_matches(b, a) == overlap_matches(a, b)


def test_overlap_matching_is_one_to_one() -> None:
    long = [{"start": 0, "end": 20, "label": "PER"}]
    pieces = [{"start": 0, "end": 5, "label": "PER"}, {"start": 10, "end": 15, "label": "PER"}]
    frame = pl.DataFrame({"item": [1, 1], "annotator": ["a", "b"], "value": [long, pieces]})
    row = overall(span_agreement(frame, tokens="chars"), "overlap")
    assert (row["matched"], row["n_a"], row["n_b"]) == (1, 1, 2)
    assert row["f1"] == pytest.approx(2 / 3)
    chars = overall(span_agreement(frame, tokens="chars"), "token")
    assert (chars["matched"], chars["n_a"], chars["n_b"]) == (10, 20, 10)


def test_labels_must_agree_for_any_match() -> None:
    frame = pl.DataFrame(
        {
            "item": [1, 1],
            "annotator": ["a", "b"],
            "value": [
                [{"start": 0, "end": 3, "label": "PER"}],
                [{"start": 0, "end": 3, "label": "ORG"}],
            ],
        }
    )
    table = span_agreement(frame, tokens="chars")
    assert table.filter(pl.col("label").is_null())["f1"].to_list() == [0.0, 0.0, 0.0]
    assert table.columns == [
        "match",
        "label",
        "pairs",
        "matched",
        "n_a",
        "n_b",
        "precision",
        "recall",
        "f1",
        "reason",
    ]


def test_payload_shapes_are_all_read_alike() -> None:
    spans = [Span(start=0, end=3, label="PER"), Span(start=4, end=7, label="ORG")]
    payload = SpansPayload(spans=tuple(spans))
    shapes: list[object] = [
        [s.to_dict() for s in spans],
        payload.to_dict(),
        json.dumps(payload.to_dict()),
        payload,
        [(0, 3, "PER"), (4, 7, "ORG")],
    ]
    for shape in shapes:
        frame = pl.DataFrame(
            {"item": [1, 1], "annotator": ["a", "b"], "value": [shape, shape]},
            schema_overrides={"value": pl.String if isinstance(shape, str) else pl.Object},
        )
        table = span_agreement(frame, tokens="chars")
        assert overall(table, "exact")["matched"] == 2, shape
        assert overall(table, "exact")["f1"] == 1.0, shape


def test_custom_tokenizer() -> None:
    frame = pl.DataFrame(
        {
            "item": [1, 1],
            "annotator": ["a", "b"],
            "text": ["abcdef"] * 2,
            "value": [
                [{"start": 0, "end": 4, "label": "X"}],
                [{"start": 0, "end": 2, "label": "X"}],
            ],
        }
    )
    pairs_of_letters = span_agreement(frame, tokens=lambda text: [(0, 2), (2, 4), (4, 6)])
    row = overall(pairs_of_letters, "token")
    assert (row["matched"], row["n_a"], row["n_b"]) == (1, 2, 1)


# --- bad input ---------------------------------------------------------------------------------


def test_spans_on_different_texts_are_refused() -> None:
    frame = pl.DataFrame(
        {
            "item": [1, 1],
            "annotator": ["a", "b"],
            "text": ["Ada met Bob", "Ada met Bo"],
            "value": [[], []],
        },
        schema_overrides={"value": pl.List(pl.Struct({"start": pl.Int64}))},
    )
    with pytest.raises(QualityError) as caught:
        span_agreement(frame)
    assert str(caught.value) == (
        "spans on different texts: item 1 has more than one text in text='text' ('Ada met Bob' "
        "and 'Ada met Bo'); offsets of one item must index one text, so give each text its own "
        "item"
    )


def test_a_span_past_the_end_of_its_text_is_refused() -> None:
    frame = pl.DataFrame(
        {
            "item": [1],
            "annotator": ["a"],
            "text": ["Ada"],
            "value": [[{"start": 0, "end": 4, "label": "PER"}]],
        }
    )
    with pytest.raises(QualityError) as caught:
        span_agreement(frame)
    assert str(caught.value) == (
        "item 1, annotator 'a': spans[0].end=4 is past the end of the item's text (3 characters)"
    )


@pytest.mark.parametrize(
    ("span", "message"),
    [
        ({"start": 3, "end": 3, "label": "X"}, "has start=3, end=3; a span needs whole offsets"),
        ({"start": 0, "end": 2.5, "label": "X"}, "has start=0, end=2.5; a span needs whole"),
        ({"start": 0, "end": 2, "label": ""}, "spans[0].label='' must be a non-empty string"),
        ({"start": 0, "label": "X"}, "lacks one of the fields start, end, label"),
    ],
)
def test_malformed_spans_are_refused(span: dict[str, Any], message: str) -> None:
    frame = pl.DataFrame(
        {"item": [1], "annotator": ["a"], "value": [[span]]},
        schema_overrides={"value": pl.Object},
    )
    with pytest.raises(QualityError, match=re.escape(message)):
        span_agreement(frame, tokens="chars")


def test_a_duplicate_span_is_refused() -> None:
    twice = [{"start": 0, "end": 2, "label": "X"}] * 2
    frame = pl.DataFrame({"item": [1], "annotator": ["a"], "value": [twice]})
    with pytest.raises(QualityError, match="appears twice in one annotation; remove one"):
        span_agreement(frame, tokens="chars")


def test_whitespace_tokens_need_the_text_column() -> None:
    frame = pl.DataFrame(
        {"item": [1], "annotator": ["a"], "value": [[]]},
        schema_overrides={"value": pl.List(pl.Struct({"start": pl.Int64}))},
    )
    with pytest.raises(QualityError) as caught:
        span_agreement(frame)
    assert str(caught.value) == (
        "span_agreement(tokens='whitespace') needs each item's text, but text='text' is not a "
        "column of the frame ('item', 'annotator', 'value'). Name the text column with "
        "text=..., or pass tokens='chars' to count characters, which needs no text"
    )
    with pytest.raises(QualityError, match="tokens='words' is not a tokenizer"):
        span_agreement(frame, tokens="words")


def test_fewer_than_two_annotators_gives_nan_rows_with_a_reason() -> None:
    frame = pl.DataFrame(
        {
            "item": [1, 2],
            "annotator": ["a", "b"],
            "value": [[{"start": 0, "end": 1, "label": "X"}], []],
        },
        schema_overrides={"value": pl.Object},
    )
    table = span_agreement(frame, tokens="chars")
    assert table["match"].to_list() == ["exact", "overlap", "token"]
    assert table["pairs"].to_list() == [0, 0, 0]
    assert all(math.isnan(f) for f in table["f1"])
    assert set(table["reason"]) == {
        "fewer than two annotators on every item: there is no pair to compare"
    }


def test_no_spans_at_all_is_nan_with_a_reason_and_missing_values_are_skipped() -> None:
    frame = pl.DataFrame(
        {"item": [1, 1, 1], "annotator": ["a", "b", "c"], "value": [[], [], None]},
        schema_overrides={
            "value": pl.List(pl.Struct({"start": pl.Int64, "end": pl.Int64, "label": pl.String}))
        },
    )
    row = overall(span_agreement(frame, tokens="chars"), "exact")
    assert row["pairs"] == 1
    assert math.isnan(row["f1"])
    assert row["reason"] == "no spans on the items compared: there is nothing to agree on"


def test_two_annotations_by_one_annotator_on_one_item_are_refused() -> None:
    frame = pl.DataFrame(
        {"item": [1, 1], "annotator": ["a", "a"], "value": [[], []]},
        schema_overrides={"value": pl.List(pl.Struct({"start": pl.Int64}))},
    )
    with pytest.raises(QualityError, match="annotator 'a' has more than one annotation of item 1"):
        span_agreement(frame, tokens="chars")
