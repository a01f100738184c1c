"""Agreement on categories: percent agreement, Cohen's kappa (two annotators), Fleiss' kappa."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl

from annolab.errors import QualityError
from annolab.quality._frames import (
    FloatArray,
    IntArray,
    Ratings,
    ordered_codes,
    present,
    read_ratings,
    unit_value_counts,
)
from annolab.quality._result import AgreementResult

__all__ = ["KAPPA_WEIGHTS", "cohen_kappa", "fleiss_kappa", "percent_agreement"]

KAPPA_WEIGHTS = (None, "linear", "quadratic")

NO_PAIRS = "fewer than two annotators on every item: there is no pair of values to compare"
ONE_CATEGORY = "only one category was used: agreement by chance is 1"


def percent_agreement(
    frame: object, *, item: str = "item", annotator: str = "annotator", value: str = "value"
) -> AgreementResult:
    """The share of agreeing pairs of annotators, averaged over items.

    For each item with two or more values, the fraction of its pairs of annotators that gave the
    same value; then the mean over those items (Fleiss' P-bar; with two annotators, the share of
    items where they agree). Items with fewer than two values are left out.

    >>> import polars as pl
    >>> frame = pl.DataFrame({
    ...     "item": [1, 1, 1, 2, 2, 2],
    ...     "annotator": ["a", "b", "c"] * 2,
    ...     "value": ["cat", "cat", "dog", "dog", "dog", "dog"],
    ... })
    >>> percent_agreement(frame)
    AgreementResult(value=0.6667, n_items=2, n_annotators=3)
    """
    ratings = read_ratings(
        frame, item=item, annotator=annotator, value=value, metric="percent_agreement", codes=True
    )
    table = _unit_table(ratings)
    n_annotators = ratings.annotators()
    if table is None:
        return AgreementResult(np.nan, 0, n_annotators, NO_PAIRS)
    m, same_pairs, _ = table
    per_item = same_pairs / (m * (m - 1))
    return AgreementResult(float(per_item.mean()), m.size, n_annotators)


def fleiss_kappa(
    frame: object, *, item: str = "item", annotator: str = "annotator", value: str = "value"
) -> AgreementResult:
    """Fleiss' kappa (1971): chance-corrected agreement of a fixed number of annotators per item.

    Every item must carry the same number of values (the annotators may differ from item to
    item); items with fewer than two values are left out first. For uneven numbers of values per
    item use ``krippendorff_alpha(level="nominal")``. NaN with a reason when no item has two
    values or only one category was used.

    >>> import polars as pl
    >>> frame = pl.DataFrame({
    ...     "item": [1, 1, 1, 2, 2, 2, 3, 3, 3],
    ...     "annotator": ["a", "b", "c"] * 3,
    ...     "value": ["y", "y", "y", "n", "n", "y", "n", "n", "n"],
    ... })
    >>> fleiss_kappa(frame)
    AgreementResult(value=0.55, n_items=3, n_annotators=3)
    """
    ratings = read_ratings(
        frame, item=item, annotator=annotator, value=value, metric="fleiss_kappa", codes=True
    )
    table = _unit_table(ratings)
    n_annotators = ratings.annotators()
    if table is None:
        return AgreementResult(np.nan, 0, n_annotators, NO_PAIRS)
    m, same_pairs, totals = table
    if m.min() != m.max():
        counts = (
            ratings.frame.filter(present(ratings.frame, value))
            .group_by(item, maintain_order=True)
            .len()
            .filter(pl.col("len") >= 2)
            .sort("len", maintain_order=True)
        )
        example, fewest = counts.row(0)
        msg = (
            f"fleiss_kappa needs the same number of values on every item, but items have "
            f"{int(m.min())} to {int(m.max())} (item {example!r} has {fewest}); use "
            "krippendorff_alpha(level='nominal'), which allows missing values, or keep only "
            "items with all their values"
        )
        raise QualityError(msg)
    raters = float(m[0])
    p_items = same_pairs / (raters * (raters - 1))
    shares = totals / totals.sum()
    p_chance = float(shares @ shares)
    if np.count_nonzero(totals) < 2:
        return AgreementResult(np.nan, m.size, n_annotators, ONE_CATEGORY)
    kappa = (float(p_items.mean()) - p_chance) / (1 - p_chance)
    return AgreementResult(kappa, m.size, n_annotators)


def cohen_kappa(
    frame: object,
    *,
    weights: str | None = None,
    annotators: tuple[object, object] | None = None,
    order: Sequence[object] | None = None,
    item: str = "item",
    annotator: str = "annotator",
    value: str = "value",
) -> AgreementResult:
    """Cohen's kappa of two annotators on the items both labelled: unweighted or weighted.

    ``weights`` is None (unweighted), ``"linear"`` or ``"quadratic"``. Weighted kappa counts a
    disagreement by the distance between the two categories' positions: positions in ``order``
    when given, else in the sorted list of categories either annotator used (as scikit-learn
    does). With more than two annotators in the frame, name the two with ``annotators=``.

    NaN with a reason when the two share no item or used one category between them.

    >>> import polars as pl
    >>> frame = pl.DataFrame({
    ...     "item": [1, 2, 3, 4, 1, 2, 3, 4],
    ...     "annotator": ["ann"] * 4 + ["bob"] * 4,
    ...     "value": [1, 2, 3, 3, 1, 2, 2, 3],
    ... })
    >>> cohen_kappa(frame)
    AgreementResult(value=0.6364, n_items=4, n_annotators=2)
    >>> cohen_kappa(frame, weights="quadratic")
    AgreementResult(value=0.8, n_items=4, n_annotators=2)
    """
    if weights not in KAPPA_WEIGHTS:
        msg = f"weights={weights!r} is not a kappa weighting; use None, 'linear' or 'quadratic'"
        raise QualityError(msg)
    ratings = read_ratings(frame, item=item, annotator=annotator, value=value, metric="cohen_kappa")
    ratings.annotators()  # refuses two values from one annotator on one item
    rows = ratings.frame.filter(present(ratings.frame, value))
    first, second = _two_annotators(ratings.frame[annotator], annotators, annotator)
    left = rows.filter(pl.col(annotator) == first).select(item, pl.col(value).alias("_a"))
    right = rows.filter(pl.col(annotator) == second).select(item, pl.col(value).alias("_b"))
    pairs = left.join(right, on=item, how="inner")
    if pairs.height == 0:
        reason = f"annotators {first!r} and {second!r} share no item with a value from both"
        return AgreementResult(np.nan, 0, 2, reason)
    both = pl.concat([pairs["_a"], pairs["_b"]])
    if order is not None:
        codes = ordered_codes(both, order, "order")
        n_codes = len(order)
    else:
        if weights is not None and not both.dtype.is_numeric():
            msg = (
                f"weights={weights!r} needs ordered categories, but value={value!r} holds "
                f"{both.dtype} values; pass order=[lowest, ..., highest]"
            )
            raise QualityError(msg)
        codes, n_codes = _sorted_codes(both)
    n = pairs.height
    confusion = np.bincount(codes[:n] * n_codes + codes[n:], minlength=n_codes * n_codes)
    observed = confusion.reshape(n_codes, n_codes).astype(np.float64)
    expected = np.outer(observed.sum(axis=1), observed.sum(axis=0)) / n
    position = np.arange(n_codes, dtype=np.float64)
    distance = np.abs(position[:, None] - position[None, :])
    cost = {None: (distance > 0).astype(np.float64), "linear": distance}.get(
        weights, distance * distance
    )
    chance = float((cost * expected).sum())
    if chance == 0:
        return AgreementResult(np.nan, n, 2, ONE_CATEGORY)
    kappa = 1 - float((cost * observed).sum()) / chance
    return AgreementResult(kappa, n, 2)


def _unit_table(ratings: Ratings) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """Per item with >= 2 values: m and its agreeing ordered pairs; then category totals."""
    m_all = ratings.per_item
    pairable = m_all >= 2
    if not pairable.any():
        return None
    keep = pairable[ratings.item]
    units = (np.cumsum(pairable) - 1)[ratings.item[keep]]
    codes, n_codes = ratings.codes[keep], ratings.n_codes
    n_units = int(np.count_nonzero(pairable))
    row_units, _, counts = unit_value_counts(units, codes, n_units, n_codes)
    same = np.bincount(row_units, counts * (counts - 1), minlength=n_units).astype(np.float64)
    totals = np.bincount(codes, minlength=n_codes).astype(np.float64)
    return m_all[pairable].astype(np.float64), same, totals


def _two_annotators(
    names: pl.Series, annotators: tuple[object, object] | None, column: str
) -> tuple[object, object]:
    seen = names.unique(maintain_order=True).sort().to_list()
    if annotators is None:
        if len(seen) != 2:
            msg = (
                f"cohen_kappa compares two annotators, but {column}={column!r} holds "
                f"{len(seen)} ({', '.join(repr(a) for a in seen[:6])}); pass "
                "annotators=(first, second), or use fleiss_kappa or krippendorff_alpha for more"
            )
            raise QualityError(msg)
        return seen[0], seen[1]
    if len(annotators) != 2 or annotators[0] == annotators[1]:
        msg = f"annotators={annotators!r} must name two different annotators"
        raise QualityError(msg)
    for name in annotators:
        if name not in seen:
            msg = (
                f"annotators={annotators!r}: {name!r} has no value in the frame; its annotators "
                f"are {', '.join(repr(a) for a in seen[:10])}"
            )
            raise QualityError(msg)
    return annotators[0], annotators[1]


def _sorted_codes(values: pl.Series) -> tuple[IntArray, int]:
    """Dense codes in sorted order of the values (positions for weighted kappa)."""
    if values.dtype == pl.Boolean:
        values = values.cast(pl.Int8)
    ranks = values.rank("dense").to_numpy().astype(np.int64) - 1
    return ranks, int(ranks.max()) + 1
