"""Percent agreement, Cohen's and Fleiss' kappa against scikit-learn, statsmodels and the books."""

from __future__ import annotations

import math
import re
import warnings
from itertools import combinations

import numpy as np
import pandas as pd
import polars as pl
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score
from statsmodels.stats.inter_rater import fleiss_kappa as statsmodels_fleiss

from annolab.errors import QualityError
from annolab.quality import KAPPA_WEIGHTS, cohen_kappa, fleiss_kappa, percent_agreement
from annolab.quality.categorical import NO_PAIRS, ONE_CATEGORY

# Fleiss (1971) as worked on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14 raters each,
# counts per category 1..5; kappa = 0.210 (P-bar = 0.378, P-e-bar = 0.213).
FLEISS_TABLE = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def from_counts(table: list[list[int]]) -> pl.DataFrame:
    """A long frame where item i has counts[i][c] raters choosing category c."""
    rows = []
    for subject, counts in enumerate(table):
        rater = 0
        for category, count in enumerate(counts, start=1):
            for _ in range(count):
                rows.append((subject, f"r{rater}", category))
                rater += 1
    return pl.DataFrame(rows, schema=["item", "annotator", "value"], orient="row")


def two_raters(a: list[object], b: list[object]) -> pl.DataFrame:
    rows = [(i, "ann", x) for i, x in enumerate(a)] + [(i, "bob", y) for i, y in enumerate(b)]
    return pl.DataFrame(rows, schema=["item", "annotator", "value"], orient="row")


def test_fleiss_1971_worked_example() -> None:
    result = fleiss_kappa(from_counts(FLEISS_TABLE))
    assert round(result.value, 3) == 0.210
    assert result.value == pytest.approx(statsmodels_fleiss(np.array(FLEISS_TABLE)), abs=1e-12)
    assert (result.n_items, result.n_annotators) == (10, 14)
    assert round(percent_agreement(from_counts(FLEISS_TABLE)).value, 3) == 0.378


def test_cohen_textbook_example() -> None:
    # Wikipedia's "Cohen's kappa" example: 50 proposals, both yes 20, A yes / B no 5,
    # A no / B yes 10, both no 15: p_o = 0.7, p_e = 0.5, kappa = 0.4.
    a = ["yes"] * 25 + ["no"] * 25
    b = ["yes"] * 20 + ["no"] * 5 + ["yes"] * 10 + ["no"] * 15
    result = cohen_kappa(two_raters(a, b))
    assert result.value == pytest.approx(0.4, abs=1e-12)
    assert (result.n_items, result.n_annotators, result.reason) == (50, 2, None)
    assert percent_agreement(two_raters(a, b)).value == pytest.approx(0.7)


def test_weighted_kappa_follows_category_positions() -> None:
    # Ratings 1, 2, 5: positions 0, 1, 2, as scikit-learn weighs them.
    a, b = [1, 2, 5, 5, 1, 2], [1, 5, 5, 2, 2, 2]
    for weights in ("linear", "quadratic"):
        ours = cohen_kappa(two_raters(a, b), weights=weights).value
        assert ours == pytest.approx(cohen_kappa_score(a, b, weights=weights), abs=1e-12)


def test_order_sets_positions_including_unused_categories() -> None:
    a, b = ["lo", "mid", "mid"], ["lo", "mid", "lo"]
    order = ["lo", "mid", "high", "top"]
    ours = cohen_kappa(two_raters(a, b), weights="linear", order=order).value
    as_numbers = [order.index(x) for x in a], [order.index(x) for x in b]
    expected = cohen_kappa_score(*as_numbers, weights="linear", labels=[0, 1, 2, 3])
    assert ours == pytest.approx(expected, abs=1e-12)


@st.composite
def rater_pairs(draw: st.DrawFn) -> tuple[list[int | None], list[int | None]]:
    n = draw(st.integers(1, 30))
    high = draw(st.integers(0, 5))
    label = st.none() | st.integers(0, high)
    return (
        draw(st.lists(label, min_size=n, max_size=n)),
        draw(st.lists(label, min_size=n, max_size=n)),
    )


@pytest.mark.parametrize("weights", KAPPA_WEIGHTS)
@settings(max_examples=200, deadline=None)
@given(pair=rater_pairs())
def test_cohen_kappa_equals_scikit_learn(
    weights: str | None, pair: tuple[list[int | None], list[int | None]]
) -> None:
    a, b = pair
    both = [(x, y) for x, y in zip(a, b, strict=True) if x is not None and y is not None]
    result = cohen_kappa(two_raters(a, b), weights=weights)
    if not both:
        assert math.isnan(result.value)
        assert result.reason == "annotators 'ann' and 'bob' share no item with a value from both"
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn warns on one label; we compare the NaN
        expected = cohen_kappa_score([x for x, _ in both], [y for _, y in both], weights=weights)
    assert result.n_items == len(both)
    if math.isnan(expected):
        assert math.isnan(result.value)
        assert result.reason == ONE_CATEGORY
    else:
        assert result.value == pytest.approx(expected, abs=1e-9)


@st.composite
def count_tables(draw: st.DrawFn) -> list[list[int]]:
    raters = draw(st.integers(2, 7))
    categories = draw(st.integers(1, 5))
    subjects = draw(st.integers(1, 15))
    table = []
    for _ in range(subjects):
        cuts = sorted(
            draw(st.lists(st.integers(0, raters), min_size=categories - 1, max_size=categories - 1))
        )
        bounds = [0, *cuts, raters]
        table.append([bounds[i + 1] - bounds[i] for i in range(categories)])
    return table


@settings(max_examples=200, deadline=None)
@given(table=count_tables())
def test_fleiss_kappa_equals_statsmodels(table: list[list[int]]) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = float(statsmodels_fleiss(np.array(table)))
    result = fleiss_kappa(from_counts(table))
    if math.isnan(expected) or math.isinf(expected):
        assert math.isnan(result.value)
        assert result.reason == ONE_CATEGORY
    else:
        assert result.value == pytest.approx(expected, abs=1e-9)


@settings(max_examples=150, deadline=None)
@given(
    matrix=st.lists(
        st.lists(st.none() | st.sampled_from("abc"), min_size=2, max_size=5),
        min_size=1,
        max_size=12,
    )
)
def test_percent_agreement_is_the_mean_share_of_agreeing_pairs(
    matrix: list[list[str | None]],
) -> None:
    rows = [
        (item, f"r{rater}", label)
        for item, labels in enumerate(matrix)
        for rater, label in enumerate(labels)
    ]
    frame = pl.DataFrame(rows, schema=["item", "annotator", "value"], orient="row")
    shares = []
    for labels in matrix:
        present = [x for x in labels if x is not None]
        pairs = list(combinations(present, 2))
        if pairs:
            shares.append(sum(x == y for x, y in pairs) / len(pairs))
    result = percent_agreement(frame)
    if shares:
        assert result.value == pytest.approx(sum(shares) / len(shares), abs=1e-12)
        assert result.n_items == len(shares)
    else:
        assert math.isnan(result.value)
        assert result.reason == NO_PAIRS


# --- bad input ---------------------------------------------------------------------------------


def test_a_single_category_is_nan_with_a_reason() -> None:
    frame = two_raters(["x", "x", "x"], ["x", "x", "x"])
    for result in (cohen_kappa(frame), fleiss_kappa(frame)):
        assert math.isnan(result.value)
        assert result.reason == "only one category was used: agreement by chance is 1"
    assert percent_agreement(frame).value == 1.0


def test_fewer_than_two_annotators_per_item_is_nan_with_a_reason() -> None:
    frame = pl.DataFrame({"item": [1, 2], "annotator": ["a", "b"], "value": ["x", "y"]})
    for metric in (percent_agreement, fleiss_kappa):
        result = metric(frame)
        assert math.isnan(result.value)
        assert result.reason == (
            "fewer than two annotators on every item: there is no pair of values to compare"
        )


def test_all_values_missing_is_nan_with_a_reason() -> None:
    frame = pl.DataFrame(
        {"item": [1, 1], "annotator": ["a", "b"], "value": [None, None]},
        schema_overrides={"value": pl.String},
    )
    assert percent_agreement(frame).reason == NO_PAIRS
    assert fleiss_kappa(frame).reason == NO_PAIRS
    assert cohen_kappa(frame).reason == (
        "annotators 'a' and 'b' share no item with a value from both"
    )


def test_fleiss_refuses_uneven_numbers_of_values() -> None:
    frame = pl.DataFrame(
        {
            "item": [1, 1, 1, 2, 2, 3],
            "annotator": ["a", "b", "c", "a", "b", "a"],
            "value": ["x", "y", "x", "x", "x", "y"],
        }
    )
    with pytest.raises(QualityError) as caught:
        fleiss_kappa(frame)
    assert str(caught.value) == (
        "fleiss_kappa needs the same number of values on every item, but items have 2 to 3 "
        "(item 2 has 2); use krippendorff_alpha(level='nominal'), which allows missing values, "
        "or keep only items with all their values"
    )


def test_cohen_needs_two_named_annotators_when_there_are_more() -> None:
    frame = pl.DataFrame(
        {"item": [1, 1, 1], "annotator": ["a", "b", "c"], "value": ["x", "y", "x"]}
    )
    with pytest.raises(QualityError) as caught:
        cohen_kappa(frame)
    assert str(caught.value) == (
        "cohen_kappa compares two annotators, but annotator='annotator' holds 3 ('a', 'b', 'c'); "
        "pass annotators=(first, second), or use fleiss_kappa or krippendorff_alpha for more"
    )
    chosen = cohen_kappa(frame, annotators=("a", "b"), weights=None)
    assert (chosen.value, chosen.n_items) == (0.0, 1)
    with pytest.raises(QualityError, match="'z' has no value in the frame"):
        cohen_kappa(frame, annotators=("a", "z"))


def test_unknown_weights_and_unordered_weighted_labels_are_refused() -> None:
    frame = two_raters(["lo", "hi"], ["hi", "hi"])
    with pytest.raises(QualityError, match="weights='cubic' is not a kappa weighting"):
        cohen_kappa(frame, weights="cubic")
    with pytest.raises(QualityError, match=re.escape("pass order=[lowest, ..., highest]")):
        cohen_kappa(frame, weights="linear")


def test_missing_columns_name_the_keyword() -> None:
    frame = pl.DataFrame({"task": [1], "user": ["a"], "label": ["x"]})
    with pytest.raises(QualityError) as caught:
        percent_agreement(frame, item="task", annotator="annotator", value="label")
    assert str(caught.value) == (
        "annotator='annotator' is not a column of frame; its columns are 'task', 'user', "
        "'label'. Name the right column with annotator=..."
    )
    assert percent_agreement(frame, item="task", annotator="user", value="label").n_items == 0


def test_null_items_are_refused() -> None:
    frame = pl.DataFrame({"item": [1, None], "annotator": ["a", "b"], "value": ["x", "y"]})
    with pytest.raises(QualityError, match="item='item' has 1 null value"):
        fleiss_kappa(frame)


def test_span_values_are_sent_to_span_agreement() -> None:
    frame = pl.DataFrame(
        {"item": [1], "annotator": ["a"], "value": [[{"start": 0, "end": 1, "label": "X"}]]}
    )
    with pytest.raises(QualityError, match="For spans use span_agreement"):
        percent_agreement(frame)


def test_pandas_and_arrow_tables_are_accepted() -> None:
    frame = from_counts(FLEISS_TABLE)
    expected = fleiss_kappa(frame).value
    assert fleiss_kappa(frame.to_pandas()).value == expected
    assert fleiss_kappa(frame.to_arrow()).value == expected
    assert fleiss_kappa(frame.lazy()).value == expected
    assert isinstance(frame.to_pandas(), pd.DataFrame)
    assert isinstance(frame.to_arrow(), pa.Table)
    with pytest.raises(QualityError, match="frame is a dict; pass a polars DataFrame"):
        fleiss_kappa({"item": [1]})


@pytest.mark.parametrize(
    "values",
    [
        pl.Series(["b", "a", "b", "b", "a", "a"], dtype=pl.Enum(["a", "b", "c"])),
        pl.Series(["b", "a", "b", "b", "a", "a"], dtype=pl.Categorical),
        pl.Series([True, False, True, True, False, False]),
        pl.Series([2.5, 1.0, 2.5, 2.5, 1.0, 1.0]),
        pl.Series([10**15, 5, 10**15, 10**15, 5, 5]),
        pl.Series([2**63 + 5, 3, 2**63 + 5, 2**63 + 5, 3, 3], dtype=pl.UInt64),
    ],
    ids=["enum", "categorical", "bool", "float", "sparse-int", "uint64"],
)
def test_every_category_type_gives_the_same_figures(values: pl.Series) -> None:
    frame = pl.DataFrame({"item": [1, 1, 2, 2, 3, 3], "annotator": ["a", "b"] * 3, "value": values})
    as_text = frame.with_columns(pl.col("value").cast(pl.String))
    assert fleiss_kappa(frame).value == fleiss_kappa(as_text).value
    assert percent_agreement(frame).value == pytest.approx(2 / 3)
    assert cohen_kappa(frame).value == pytest.approx(cohen_kappa(as_text).value)


def test_raising_midway_many_times_leaves_the_process_healthy() -> None:
    # Each call starts coding annotators on a worker thread, then raises before using them;
    # with polars' own background queries this aborted the whole process (polars 2.1).
    uneven = pl.DataFrame(
        {"item": [1, 1, 1, 2, 2], "annotator": ["a", "b", "c", "a", "b"], "value": list("xyxxy")}
    )
    for _ in range(300):
        with pytest.raises(QualityError, match="fleiss_kappa needs the same number"):
            fleiss_kappa(uneven)
    assert percent_agreement(uneven).n_items == 2
