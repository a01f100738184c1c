"""Krippendorff's alpha on a long frame, for the four classic levels, with a bootstrap interval.

alpha = 1 - D_o / D_e. With ``o`` the coincidence matrix, ``n_c`` its margins (counts of
pairable values), ``n`` their total and ``delta`` the level's squared distance:

    D_o = (1/n) sum_u 1/(m_u - 1) sum_{i != j in u} delta(v_i, v_j)
    D_e = 1/(n (n - 1)) sum_{c, k} n_c n_k delta(c, k)

so alpha = 1 - (n - 1) A / Q with A the first sum (over units u with m_u >= 2 values) and Q the
second. Neither needs the (values x values) matrix:

- nominal: a unit's disagreement is m_u^2 - sum_c n_uc^2, and Q = n^2 - sum_c n_c^2;
- interval: a unit's is 2 m_u SS_u (SS_u: squared deviations from the unit's mean), Q = 2 n SS;
- ordinal: the ordinal distance of two values is the squared difference of their mid-ranks
  (r_c = n_1 + ... + n_(c-1) + n_c / 2), so it is the interval case on mid-ranks;
- ratio: no such shortcut; A sums over the pairs of distinct values within units and Q over the
  pairs of distinct values, in blocks.

Every sum is a sum over units, so the same code computes a whole batch of bootstrap resamples:
a resample of units is a row of counts ``W`` (how often each unit was drawn), and each total
becomes ``W @ per_unit``. The point estimate is the batch of one resample with every count 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import numpy as np
import numpy.typing as npt
import polars as pl

from annolab.errors import QualityError
from annolab.quality._frames import (
    _DENSE_FACTOR,
    _DENSE_FLOOR,
    FloatArray,
    IntArray,
    describe_values,
    factorize,
    ordered_codes,
    read_ratings,
    unit_value_counts,
)
from annolab.quality._result import AgreementResult

__all__ = ["LEVELS", "krippendorff_alpha"]

LEVELS = ("nominal", "ordinal", "interval", "ratio")

# Bootstrap work is done in batches of resamples whose (resamples x units) arrays stay this small.
_BATCH_CELLS = 1 << 22
# Ordinal resamples use (units x values^2) coincidence tables up to this size (64 MB).
_COINCIDENCE_CELLS = 1 << 23
# Levels whose per-unit sums take units of weight 0 as they are (no need to drop their rows).
_WEIGHTED_LEVELS = ("nominal", "interval")
# Ratio distances are made this many values at a time (a block x values array).
_RATIO_BLOCK = 512
# A resample whose expected disagreement is this small next to its scale has one value only.
_SINGLE_VALUE = 1e-12

NO_PAIRS = "fewer than two values on every item: there is no pair of values to compare"
ONE_VALUE = (
    "only one value was used on the items with two or more values: expected disagreement is 0"
)


def krippendorff_alpha(
    frame: object,
    *,
    level: str = "nominal",
    item: str = "item",
    annotator: str = "annotator",
    value: str = "value",
    order: Sequence[object] | None = None,
    ci: float | None = None,
    resamples: int = 1000,
    seed: int = 0,
) -> AgreementResult:
    """Krippendorff's alpha of one value per (item, annotator) row, missing values allowed.

    ``level`` is ``"nominal"`` (categories), ``"ordinal"`` (ordered categories: numbers, or
    any values with ``order=[lowest, ..., highest]``), ``"interval"`` or ``"ratio"`` (numbers;
    ratio values must be >= 0). Null (and NaN) values are missing; items with fewer than two
    values carry no pair and are left out, as in Krippendorff's definition.

    ``ci=0.95`` adds a percentile bootstrap interval: ``resamples`` resamples of the items with
    replacement, drawn with ``numpy.random.default_rng(seed)`` (resamples whose alpha is undefined
    are left out of the percentiles).

    Undefined cases give NaN with a reason: no item with two values, or a single value used
    throughout. An annotator with two values on one item, a ratio value below zero or an unknown
    level raise ``QualityError``.

    >>> import polars as pl
    >>> frame = pl.DataFrame({
    ...     "item": [1, 1, 2, 2, 3, 3, 4, 4],
    ...     "annotator": ["ann", "bob"] * 4,
    ...     "value": ["pos", "pos", "neg", "neg", "pos", "neg", "neg", "neg"],
    ... })
    >>> krippendorff_alpha(frame)
    AgreementResult(value=0.5333, n_items=4, n_annotators=2)
    >>> krippendorff_alpha(frame.with_columns(value=pl.lit("pos"))).reason
    'only one value was used on the items with two or more values: expected disagreement is 0'
    """
    if level not in LEVELS:
        msg = f"level={level!r} is not a level of measurement; use one of {', '.join(LEVELS)}"
        raise QualityError(msg)
    if order is not None and level != "ordinal":
        msg = f"order= ranks ordinal categories; it means nothing at level={level!r}"
        raise QualityError(msg)
    if ci is not None and not 0 < ci < 1:
        msg = f"ci={ci!r} must be a confidence level between 0 and 1, such as 0.95"
        raise QualityError(msg)
    if ci is not None and resamples < 1:
        msg = f"resamples={resamples!r} must be at least 1 to draw a bootstrap interval"
        raise QualityError(msg)
    ratings = read_ratings(
        frame,
        item=item,
        annotator=annotator,
        value=value,
        metric="krippendorff_alpha",
        codes=level == "nominal",
    )
    m_all = ratings.per_item
    pairable = m_all >= 2
    n_units = int(np.count_nonzero(pairable))
    if n_units == 0:
        return AgreementResult(np.nan, 0, ratings.annotators(), NO_PAIRS)
    values, units = ratings.values, ratings.item
    members: IntArray | None = None  # the units a resample draws from, when not all of them
    if n_units == m_all.size or level in _WEIGHTED_LEVELS:
        # Units are the item codes as they are; items with fewer than two values weigh 0.
        m = np.where(pairable, m_all, 0).astype(np.float64)
        if n_units < m_all.size:
            members = np.flatnonzero(pairable)
    else:
        keep = pairable[units]
        units = (np.cumsum(pairable) - 1)[units[keep]]
        values = values.filter(pl.Series(keep))
        m = m_all[pairable].astype(np.float64)
    if level == "nominal":
        stats: _Level | None = _nominal_stats(units, m, ratings.codes, ratings.n_codes)
    else:
        stats = _level_stats(level, units=units, m=m, values=values, order=order, column=value)
    point = np.nan if stats is None else float(stats.alphas(None)[0])
    n_annotators = ratings.annotators()  # raises on two values from one annotator on an item
    if stats is None or np.isnan(point):
        return AgreementResult(np.nan, n_units, n_annotators, ONE_VALUE)
    interval = None
    if ci is not None:
        alphas = bootstrap_alphas(stats, n_units, resamples, seed, members=members, size=m.size)
        interval = _percentiles(alphas, ci)
    return AgreementResult(point, n_units, n_annotators, ci=interval)


# Rows of unit weights (how often each unit counts, one row per resample); None: each unit once.
Weights = FloatArray | None


class _Level(Protocol):
    def alphas(self, weights: Weights) -> FloatArray:
        """Alpha for each row of ``weights``, NaN where it is undefined."""


def bootstrap_alphas(
    stats: _Level,
    n_units: int,
    resamples: int,
    seed: int,
    *,
    members: IntArray | None = None,
    size: int | None = None,
) -> FloatArray:
    """Alpha on ``resamples`` resamples of the ``n_units`` pairable units, with replacement.

    ``members`` are the positions of those units among the ``size`` units ``stats`` knows (the
    others weigh 0); None when they are all of them.
    """
    rng = np.random.default_rng(seed)
    columns = n_units if size is None else size
    batch = max(1, min(resamples, _BATCH_CELLS // columns))
    out: list[FloatArray] = []
    for start in range(0, resamples, batch):
        count = min(batch, resamples - start)
        # int32 draws are several times faster than int64 ones; unit counts fit easily.
        drawn = rng.integers(0, n_units, size=(count, n_units), dtype=np.int32)
        chosen = drawn if members is None else members[drawn]
        out.append(stats.alphas(resample_weights(chosen, columns)))
    return np.concatenate(out)


def resample_weights(drawn: npt.NDArray[np.integer[Any]], n_units: int) -> FloatArray:
    """Rows of unit indices drawn -> rows of how often each unit was drawn."""
    size = drawn.shape[0]
    offsets = (np.arange(size, dtype=np.int64) * n_units)[:, None]
    counts = np.bincount((drawn + offsets).ravel(), minlength=size * n_units)
    return counts.reshape(size, n_units).astype(np.float64)


def _percentiles(alphas: FloatArray, ci: float) -> tuple[float, float]:
    defined = alphas[~np.isnan(alphas)]
    if defined.size == 0:
        return (np.nan, np.nan)
    tail = (1 - ci) / 2
    low, high = np.quantile(defined, [tail, 1 - tail])
    return (float(low), float(high))


def _sum(weights: Weights, per_unit: FloatArray) -> FloatArray:
    if weights is None:
        return np.array([per_unit.sum()])
    total: FloatArray = weights @ per_unit
    return total


def _alpha(n: FloatArray, disagreement: FloatArray, expected: FloatArray) -> FloatArray:
    """1 - (n - 1) A / Q, NaN where Q is 0 (one value only)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        result = 1 - (n - 1) * disagreement / expected
    return np.where(expected > 0, result, np.nan)


class _Margins:
    """How many values of each code each unit has, and sums of that over weighted units."""

    def __init__(
        self,
        units: IntArray,
        codes: IntArray,
        n_units: int,
        n_codes: int,
        dropped: IntArray | None = None,
    ) -> None:
        """``dropped``: units whose values are left out (items with fewer than two values)."""
        self.n_units, self.n_codes = n_units, n_codes
        cells = n_units * n_codes
        self._table: IntArray | None = None
        self._rows: tuple[IntArray, IntArray, FloatArray] | None = None
        self._dense: FloatArray | None = None
        if cells <= _DENSE_FACTOR * units.size + _DENSE_FLOOR:
            key = units * n_codes
            key += codes
            counts = np.bincount(key, minlength=cells)
            self._table = counts.reshape(n_units, n_codes)
            if dropped is not None:
                self._table[dropped] = 0
            self.totals: FloatArray = self._table.sum(axis=0).astype(np.float64)
        else:
            row_units, row_codes, row_counts = unit_value_counts(units, codes, n_units, n_codes)
            if dropped is not None:
                kept = np.ones(n_units, dtype=bool)
                kept[dropped] = False
                keep = kept[row_units]
                row_units, row_codes, row_counts = (
                    row_units[keep],
                    row_codes[keep],
                    row_counts[keep],
                )
            self._rows = (row_units, row_codes, row_counts.astype(np.float64))
            self.totals = _unit_sums(row_codes, self._rows[2], n_codes)

    def unit_squares(self) -> FloatArray:
        """sum_c n_uc^2 for each unit."""
        if self._table is not None:
            squares: FloatArray = np.einsum("uc,uc->u", self._table, self._table).astype(np.float64)
            return squares
        units, _, counts = self.rows()
        return _unit_sums(units, counts * counts, self.n_units)

    def rows(self) -> tuple[IntArray, IntArray, FloatArray]:
        """(unit, code, count) of every code a unit has, sorted by unit then code."""
        if self._rows is None:
            assert self._table is not None
            found = np.flatnonzero(self._table)
            counts = self._table.ravel()[found].astype(np.float64)
            self._rows = (found // self.n_codes, found % self.n_codes, counts)
        return self._rows

    def weighted(self, weights: Weights) -> FloatArray:
        """(rows of weights x codes): sum_u weights[b, u] * n_uc."""
        if weights is None:
            return self.totals[None, :]
        if self.n_units * self.n_codes <= _BATCH_CELLS:
            if self._dense is None:
                if self._table is not None:
                    self._dense = self._table.astype(np.float64)
                else:
                    units, codes, counts = self.rows()
                    self._dense = np.zeros((self.n_units, self.n_codes))
                    self._dense[units, codes] = counts
            return weights @ self._dense
        units, codes, counts = self.rows()
        size = weights.shape[0]
        keys = np.arange(size, dtype=np.int64)[:, None] * self.n_codes + codes
        scaled = weights[:, units] * counts
        sums = _unit_sums(keys.ravel(), scaled.ravel(), size * self.n_codes)
        return sums.reshape(size, self.n_codes)


def _unit_pairs(units: IntArray, n_units: int) -> tuple[IntArray, IntArray]:
    """Every pair (left, right) of rows of one unit, left before right; rows sorted by unit."""
    n_rows = units.size
    per_unit = np.bincount(units, minlength=n_units)
    starts = np.cumsum(per_unit) - per_unit
    later = per_unit[units] - 1 - (np.arange(n_rows) - starts[units])  # rows after this one
    left = np.repeat(np.arange(n_rows), later)
    right = left + 1 + np.arange(left.size) - np.repeat(np.cumsum(later) - later, later)
    return left, right


@dataclass(frozen=True)
class _Nominal:
    m: FloatArray
    disagreement: FloatArray
    margins: _Margins

    def alphas(self, weights: Weights) -> FloatArray:
        n = _sum(weights, self.m)
        n_c = self.margins.weighted(weights)
        expected = n * n - np.einsum("bc,bc->b", n_c, n_c)
        return _alpha(n, _sum(weights, self.disagreement), expected)


@dataclass(frozen=True)
class _Interval:
    m: FloatArray
    disagreement: FloatArray
    sums: FloatArray
    squares: FloatArray

    def alphas(self, weights: Weights) -> FloatArray:
        n = _sum(weights, self.m)
        total, squares = _sum(weights, self.sums), _sum(weights, self.squares)
        expected = 2 * (n * squares - total * total)
        # A resample holding one value only leaves rounding noise here, not a spread.
        expected = np.where(expected > _SINGLE_VALUE * 2 * n * squares, expected, 0.0)
        return _alpha(n, _sum(weights, self.disagreement), expected)


class _Ordinal:
    """Interval distances on mid-ranks, which move with each resample's margins."""

    def __init__(self, m: FloatArray, margins: _Margins) -> None:
        self.m, self.margins = m, margins
        units, _, _ = margins.rows()
        self.starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])
        self._coincidences: FloatArray | None = None

    def alphas(self, weights: Weights) -> FloatArray:
        n_c = self.margins.weighted(weights)
        n = n_c.sum(axis=1)
        # Mid-ranks, centred so that their squares stay small next to their differences.
        ranks = np.cumsum(n_c, axis=1) - n_c / 2 - (n / 2)[:, None]
        expected = 2 * (
            n * np.einsum("bc,bc->b", n_c, ranks * ranks) - np.einsum("bc,bc->b", n_c, ranks) ** 2
        )
        expected = np.where(np.count_nonzero(n_c, axis=1) > 1, expected, 0.0)
        coincidences = self._unit_coincidences() if weights is not None else None
        if weights is not None and coincidences is not None:
            # sum_ck o_ck (r_c - r_k)^2 = 2 (sum_c n_c r_c^2 - r' o r), o the coincidence matrix.
            size, n_codes = n_c.shape
            o = (weights @ coincidences).reshape(size, n_codes, n_codes)
            disagreement = 2 * (
                np.einsum("bc,bc->b", n_c, ranks * ranks)
                - np.einsum("bc,bck,bk->b", ranks, o, ranks)
            )
        else:
            _, codes, counts = self.margins.rows()
            at = ranks[:, codes]
            linear = np.add.reduceat(at * counts, self.starts, axis=1)
            square = np.add.reduceat(at * at * counts, self.starts, axis=1)
            per_unit = 2 * (self.m * square - linear * linear) / (self.m - 1)
            disagreement = (
                per_unit.sum(axis=1)
                if weights is None
                else (np.einsum("bu,bu->b", weights, per_unit))
            )
        return _alpha(n, disagreement, expected)

    def _unit_coincidences(self) -> FloatArray | None:
        """(units x codes^2) per-unit coincidence matrices when that table is small, else None."""
        n_codes = self.margins.n_codes
        if self.m.size * n_codes * n_codes > _COINCIDENCE_CELLS:
            return None
        if self._coincidences is None:
            units, codes, counts = self.margins.rows()
            table = np.zeros((self.m.size, n_codes * n_codes))
            scale = 1 / (self.m - 1)
            table[units, codes * n_codes + codes] = counts * (counts - 1) * scale[units]
            left, right = _unit_pairs(units, self.m.size)
            pair = counts[left] * counts[right] * scale[units[left]]
            table[units[left], codes[left] * n_codes + codes[right]] = pair
            table[units[left], codes[right] * n_codes + codes[left]] = pair
            self._coincidences = table
        return self._coincidences


@dataclass(frozen=True)
class _Ratio:
    m: FloatArray
    disagreement: FloatArray
    margins: _Margins
    code_values: FloatArray

    def alphas(self, weights: Weights) -> FloatArray:
        n = _sum(weights, self.m)
        n_c = self.margins.weighted(weights)
        expected = np.zeros(n_c.shape[0])
        x = self.code_values
        for start in range(0, x.size, _RATIO_BLOCK):
            stop = min(start + _RATIO_BLOCK, x.size)
            distances = _ratio_distance(x[start:stop, None], x[None, :])  # block x values
            expected += np.einsum("bk,bk->b", n_c @ distances.T, n_c[:, start:stop])
        return _alpha(n, _sum(weights, self.disagreement), expected)


def _ratio_distance(a: FloatArray, b: FloatArray) -> FloatArray:
    total = a + b
    shape = np.broadcast_shapes(a.shape, b.shape)
    ratio = np.divide(a - b, total, out=np.zeros(shape), where=total != 0)
    return ratio * ratio


def _level_stats(
    level: str,
    *,
    units: IntArray,
    m: FloatArray,
    values: pl.Series,
    order: Sequence[object] | None,
    column: str,
) -> _Level | None:
    """The per-unit sums of ``level``, or None when all the pairable values are one value."""
    if level == "nominal":
        codes, n_codes = factorize(values)
        return _nominal_stats(units, m, codes, n_codes)
    if level == "ordinal":
        return _ordinal_stats(units, m, values, order, column)
    numbers = _require_numbers(values, level, column)
    if level == "interval":
        return _interval_stats(units, m, numbers)
    return _ratio_stats(units, m, numbers, values, column)


def _nominal_stats(
    units: IntArray, m: FloatArray, codes: IntArray, n_codes: int
) -> _Nominal | None:
    dropped = np.flatnonzero(m == 0) if (m == 0).any() else None
    margins = _Margins(units, codes, m.size, n_codes, dropped)
    if np.count_nonzero(margins.totals) < 2:
        return None
    return _Nominal(m, (m * m - margins.unit_squares()) / np.maximum(m - 1, 1), margins)


def _ordinal_stats(
    units: IntArray,
    m: FloatArray,
    values: pl.Series,
    order: Sequence[object] | None,
    column: str,
) -> _Ordinal | None:
    if order is not None:
        codes = ordered_codes(values, order, "order")
        n_codes = len(order)
    else:
        _require_numbers(values, "ordinal", column, hint="or pass order=[lowest, ..., highest]")
        codes, n_codes = factorize(values)  # integers keep their order, other numbers are ranked
    margins = _Margins(units, codes, m.size, n_codes)
    if np.count_nonzero(margins.totals) < 2:
        return None
    return _Ordinal(m, margins)


def _interval_stats(units: IntArray, m: FloatArray, numbers: FloatArray) -> _Interval:
    # Centred on the mean, one pass of sums and sums of squares per unit is enough: rounding in
    # a unit's squared deviations (Q_u - S_u^2 / m_u) is then tiny next to the expected
    # disagreement, so alpha keeps its absolute accuracy.
    shifted = numbers - numbers.mean()
    sums = _unit_sums(units, shifted, m.size)
    squares = _unit_sums(units, shifted * shifted, m.size)
    # Units of weight 0 (m = 0) are zeroed below, so their divisor does not matter.
    spread = np.maximum(squares - sums * sums / np.maximum(m, 1), 0)
    weighted = m > 0  # units of fewer than two values weigh 0
    disagreement = np.where(weighted, 2 * m * spread / np.maximum(m - 1, 1), 0.0)
    return _Interval(
        m, disagreement, np.where(weighted, sums, 0.0), np.where(weighted, squares, 0.0)
    )


def _ratio_stats(
    units: IntArray, m: FloatArray, numbers: FloatArray, values: pl.Series, column: str
) -> _Ratio | None:
    negative = numbers < 0
    if negative.any():
        shown = describe_values(values.filter(pl.Series(negative)).unique(maintain_order=True))
        msg = (
            f"level='ratio' needs values >= 0 (a ratio scale starts at a true zero), but "
            f"value={column!r} holds {shown}; use level='interval' for values that can be negative"
        )
        raise QualityError(msg)
    code_values, codes = np.unique(numbers, return_inverse=True)
    if code_values.size < 2:
        return None
    margins = _Margins(units, codes.astype(np.int64), m.size, code_values.size)
    x = code_values.astype(np.float64)
    return _Ratio(m, _ratio_unit_disagreement(margins, m, x), margins, x)


def _unit_sums(units: IntArray, weights: FloatArray, n_units: int) -> FloatArray:
    return cast(FloatArray, np.bincount(units, weights, minlength=n_units))


def _ratio_unit_disagreement(margins: _Margins, m: FloatArray, x: FloatArray) -> FloatArray:
    """Each unit's sum over its pairs of distinct values of n_c n_k delta(c, k), over m_u - 1."""
    units, codes, counts = margins.rows()
    left, right = _unit_pairs(units, m.size)
    pairs = 2 * counts[left] * counts[right] * _ratio_distance(x[codes[left]], x[codes[right]])
    return _unit_sums(units[left], pairs, m.size) / (m - 1)


def _require_numbers(values: pl.Series, level: str, column: str, hint: str = "") -> FloatArray:
    if not values.dtype.is_numeric():
        example = describe_values(values.unique(maintain_order=True), limit=3)
        also = f" {hint}" if hint else ""
        msg = (
            f"level={level!r} needs numbers, but value={column!r} holds {values.dtype} values "
            f"({example}); use level='nominal' for categories{also}"
        )
        raise QualityError(msg)
    return values.cast(pl.Float64).to_numpy()
