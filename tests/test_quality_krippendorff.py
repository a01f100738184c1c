"""Krippendorff's alpha against the krippendorff package, published values and its bad inputs."""

from __future__ import annotations

import math
import re
import warnings
from typing import Any

import krippendorff
import numpy as np
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from annolab.errors import QualityError
from annolab.quality import LEVELS, AgreementResult, _frames, krippendorff_alpha
from annolab.quality import krippendorff as kmodule

NAN = math.nan

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", the 4 coders x 12 units
# example with missing values, and the values published there.
RELIABILITY = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
    [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
]
PUBLISHED = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}


def long_frame(matrix: list[list[float]] | np.ndarray, *, strings: bool = False) -> pl.DataFrame:
    """One row per (coder, unit) cell, missing cells as null values (coders x units matrix)."""
    rows = []
    for coder, values in enumerate(matrix):
        for unit, v in enumerate(values):
            missing = v is None or (isinstance(v, float) and math.isnan(v))
            rows.append((unit, f"coder-{coder}", None if missing else v))
    return pl.DataFrame(rows, schema=["item", "annotator", "value"], orient="row")


def reference(matrix: np.ndarray, level: str) -> float:
    """The krippendorff package's alpha, NaN where it refuses or divides by zero."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            return float(krippendorff.alpha(matrix, level_of_measurement=level))
        except ValueError:  # one value in the domain, or no unit with two values
            return NAN


@pytest.mark.parametrize("level", LEVELS)
def test_krippendorff_2011_worked_example(level: str) -> None:
    result = krippendorff_alpha(long_frame(RELIABILITY), level=level)
    assert round(result.value, 3) == PUBLISHED[level]
    assert result.value == pytest.approx(reference(np.array(RELIABILITY), level), abs=1e-12)
    assert (result.n_items, result.n_annotators, result.reason) == (11, 4, None)


def test_ordinal_words_with_an_order_give_the_published_value() -> None:
    words = ["very low", "low", "mid", "high", "very high"]
    matrix = [[None if math.isnan(v) else words[int(v) - 1] for v in row] for row in RELIABILITY]
    result = krippendorff_alpha(long_frame(matrix), level="ordinal", order=words)
    assert round(result.value, 3) == 0.815
    nominal = krippendorff_alpha(long_frame(matrix), level="nominal")
    assert round(nominal.value, 3) == 0.743


@st.composite
def reliability_data(draw: st.DrawFn, *, floats: bool) -> np.ndarray:
    coders = draw(st.integers(2, 5))
    units = draw(st.integers(1, 14))
    if floats:
        cell = st.integers(0, 40).map(lambda v: v / 4)
    else:
        cell = st.integers(draw(st.integers(0, 3)), draw(st.integers(3, 7))).map(float)
    missing = draw(st.floats(0, 0.6))
    values = draw(st.lists(cell, min_size=coders * units, max_size=coders * units))
    holes = draw(st.lists(st.floats(0, 1), min_size=coders * units, max_size=coders * units))
    matrix = np.array(values, dtype=np.float64).reshape(coders, units)
    matrix[np.array(holes).reshape(coders, units) < missing] = np.nan
    return matrix


def check_against_reference(matrix: np.ndarray, level: str) -> None:
    expected = reference(matrix, level)
    result = krippendorff_alpha(long_frame(matrix), level=level)
    if math.isnan(expected):
        assert math.isnan(result.value)
        assert result.reason in {kmodule.NO_PAIRS, kmodule.ONE_VALUE}
    else:
        assert result.reason is None
        assert result.value == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("level", LEVELS)
@settings(max_examples=150, deadline=None)
@given(matrix=reliability_data(floats=False))
def test_alpha_equals_the_krippendorff_package(level: str, matrix: np.ndarray) -> None:
    check_against_reference(matrix, level)


@pytest.mark.parametrize("level", ["interval", "ratio"])
@settings(max_examples=100, deadline=None)
@given(matrix=reliability_data(floats=True))
def test_alpha_on_fractional_values_equals_the_package(level: str, matrix: np.ndarray) -> None:
    check_against_reference(matrix, level)


@pytest.fixture
def sparse_paths(monkeypatch: pytest.MonkeyPatch) -> None:
    """Force the paths taken by large data: sparse tables, ratio blocks, no coincidence table."""
    for module in (_frames, kmodule):
        monkeypatch.setattr(module, "_DENSE_FACTOR", 0)
        monkeypatch.setattr(module, "_DENSE_FLOOR", 0)
    monkeypatch.setattr(kmodule, "_BATCH_CELLS", 1)
    monkeypatch.setattr(kmodule, "_COINCIDENCE_CELLS", 1)
    monkeypatch.setattr(kmodule, "_RATIO_BLOCK", 2)


@pytest.mark.parametrize("level", LEVELS)
# The fixture only patches constants, the same for every example.
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(matrix=reliability_data(floats=False))
def test_large_data_paths_give_the_same_alpha(
    sparse_paths: None, level: str, matrix: np.ndarray
) -> None:
    check_against_reference(matrix, level)


def bootstrap_reference(
    matrix: np.ndarray, level: str, resamples: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """The package's alpha on the very resamples of units the seeded bootstrap draws."""
    pairable = matrix[:, (~np.isnan(matrix)).sum(axis=0) >= 2]
    units = pairable.shape[1]
    drawn = np.random.default_rng(seed).integers(0, units, size=(resamples, units), dtype=np.int32)
    alphas = np.array([reference(pairable[:, row], level) for row in drawn])
    return alphas, drawn


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("paths", ["dense", "sparse"])
def test_bootstrap_resamples_match_the_package_resample_by_resample(
    level: str, paths: str, request: pytest.FixtureRequest
) -> None:
    if paths == "sparse":
        request.getfixturevalue("sparse_paths")
    matrix = np.array(RELIABILITY)
    stats, n_units = _stats(long_frame(matrix), level)
    expected, drawn = bootstrap_reference(matrix, level, resamples=200, seed=7)
    ours = stats.alphas(kmodule.resample_weights(drawn, n_units))
    both = ~np.isnan(expected)
    assert np.array_equal(both, ~np.isnan(ours))
    assert ours[both] == pytest.approx(expected[both], abs=1e-9)


def _stats(frame: pl.DataFrame, level: str) -> tuple[Any, int]:
    ratings = _frames.read_ratings(
        frame, item="item", annotator="annotator", value="value", metric="test"
    )
    ratings.annotators()
    m_all = ratings.per_item
    pairable = m_all >= 2
    keep = pairable[ratings.item]
    units = (np.cumsum(pairable) - 1)[ratings.item[keep]]
    m = m_all[pairable].astype(np.float64)
    values = ratings.values.filter(pl.Series(keep))
    stats = kmodule._level_stats(level, units=units, m=m, values=values, order=None, column="v")
    return stats, int(pairable.sum())


@pytest.mark.parametrize("level", ["nominal", "interval"])
def test_confidence_interval_is_the_percentiles_of_the_seeded_resamples(level: str) -> None:
    matrix = np.array(RELIABILITY)
    result = krippendorff_alpha(long_frame(matrix), level=level, ci=0.9, resamples=300, seed=3)
    alphas, _ = bootstrap_reference(matrix, level, resamples=300, seed=3)
    low, high = np.quantile(alphas[~np.isnan(alphas)], [0.05, 0.95])
    assert result.ci == pytest.approx((low, high), abs=1e-9)
    again = krippendorff_alpha(long_frame(matrix), level=level, ci=0.9, resamples=300, seed=3)
    assert again.ci == result.ci


def test_default_bootstrap_draws_a_thousand_resamples(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[int] = []
    original = kmodule.bootstrap_alphas

    def spy(stats: Any, n_units: int, resamples: int, seed: int, **kw: Any) -> np.ndarray:
        seen.append(resamples)
        return original(stats, n_units, resamples, seed, **kw)

    monkeypatch.setattr(kmodule, "bootstrap_alphas", spy)
    result = krippendorff_alpha(long_frame(RELIABILITY), ci=0.95)
    assert seen == [1000]
    assert result.ci is not None
    assert result.ci[0] <= result.value <= result.ci[1]


def test_bootstrap_on_many_items_brackets_the_value_tightly() -> None:
    rng = np.random.default_rng(0)
    truth = rng.integers(0, 4, size=2000)
    matrix = np.where(rng.random((3, 2000)) < 0.8, truth, rng.integers(0, 4, size=(3, 2000)))
    result = krippendorff_alpha(long_frame(matrix.astype(float)), ci=0.95, seed=1)
    assert result.ci is not None
    low, high = result.ci
    assert low < result.value < high
    assert high - low < 0.06


# --- bad input ---------------------------------------------------------------------------------


def test_fewer_than_two_annotators_on_every_item_is_nan_with_a_reason() -> None:
    frame = pl.DataFrame({"item": [1, 2, 3], "annotator": ["a", "a", "b"], "value": [1, 2, 1]})
    result = krippendorff_alpha(frame)
    assert math.isnan(result.value)
    assert result.reason == (
        "fewer than two values on every item: there is no pair of values to compare"
    )
    assert (result.n_items, result.n_annotators) == (0, 2)


@pytest.mark.parametrize("level", LEVELS)
def test_a_single_value_is_nan_with_a_reason(level: str) -> None:
    frame = pl.DataFrame(
        {"item": [1, 1, 2, 2, 3], "annotator": ["a", "b"] * 2 + ["a"], "value": [3, 3, 3, 3, 5]}
    )
    result = krippendorff_alpha(frame, level=level, ci=0.95, resamples=20)
    assert math.isnan(result.value)
    assert result.reason == (
        "only one value was used on the items with two or more values: expected disagreement is 0"
    )
    assert result.n_items == 2
    assert result.ci is None


def test_all_values_missing_is_nan_with_a_reason() -> None:
    frame = pl.DataFrame(
        {"item": [1, 1], "annotator": ["a", "b"], "value": [None, None]},
        schema_overrides={"value": pl.Float64},
    )
    result = krippendorff_alpha(frame, level="interval")
    assert math.isnan(result.value)
    assert result.reason == kmodule.NO_PAIRS
    assert result.n_annotators == 0


def test_nan_counts_as_missing() -> None:
    frame = long_frame(RELIABILITY).with_columns(pl.col("value").fill_null(NAN))
    assert frame["value"].null_count() == 0
    assert round(krippendorff_alpha(frame, level="interval").value, 3) == 0.849


def test_unknown_level_is_refused_naming_the_levels() -> None:
    with pytest.raises(QualityError) as caught:
        krippendorff_alpha(long_frame(RELIABILITY), level="cardinal")
    assert str(caught.value) == (
        "level='cardinal' is not a level of measurement; use one of nominal, ordinal, interval, "
        "ratio"
    )


def test_negative_ratio_values_are_refused() -> None:
    frame = pl.DataFrame({"item": [1, 1], "annotator": ["a", "b"], "value": [-2.0, 3.0]})
    with pytest.raises(QualityError, match=r"level='ratio' needs values >= 0 .* holds -2\.0"):
        krippendorff_alpha(frame, level="ratio")


def test_words_at_the_interval_level_are_refused() -> None:
    frame = pl.DataFrame({"item": [1, 1], "annotator": ["a", "b"], "value": ["low", "high"]})
    with pytest.raises(QualityError) as caught:
        krippendorff_alpha(frame, level="interval")
    assert str(caught.value) == (
        "level='interval' needs numbers, but value='value' holds String values ('low', 'high'); "
        "use level='nominal' for categories"
    )


def test_ordinal_words_need_an_order_that_names_them_all() -> None:
    frame = pl.DataFrame(
        {"item": [1, 1, 2, 2], "annotator": ["a", "b"] * 2, "value": ["lo", "hi", "hi", "mid"]}
    )
    with pytest.raises(QualityError, match=re.escape("or pass order=[lowest, ..., highest]")):
        krippendorff_alpha(frame, level="ordinal")
    with pytest.raises(QualityError) as caught:
        krippendorff_alpha(frame, level="ordinal", order=["lo", "hi"])
    assert str(caught.value) == (
        "the values 'mid' are not in order=['lo', 'hi']; list every category, lowest first"
    )
    with pytest.raises(QualityError, match="order= ranks ordinal categories"):
        krippendorff_alpha(frame, level="nominal", order=["lo", "mid", "hi"])


def test_two_values_from_one_annotator_on_one_item_are_refused() -> None:
    frame = pl.DataFrame({"item": [1, 1, 1], "annotator": ["a", "b", "a"], "value": [1, 2, 2]})
    with pytest.raises(QualityError) as caught:
        krippendorff_alpha(frame)
    assert str(caught.value).startswith(
        "annotator 'a' gave 2 values for item 1; krippendorff_alpha needs at most one value per "
        "annotator and item."
    )


@pytest.mark.parametrize(("ci", "resamples"), [(1.0, 1000), (0.0, 1000), (0.95, 0)])
def test_bad_bootstrap_settings_are_refused(ci: float, resamples: int) -> None:
    with pytest.raises(QualityError, match=r"ci=|resamples="):
        krippendorff_alpha(long_frame(RELIABILITY), ci=ci, resamples=resamples)


def test_result_is_a_float_and_says_what_it_stands_on() -> None:
    result = krippendorff_alpha(long_frame(RELIABILITY), level="interval")
    assert isinstance(result, AgreementResult)
    assert float(result) == result.value
    assert result.defined
    assert repr(result) == "AgreementResult(value=0.8491, n_items=11, n_annotators=4)"
