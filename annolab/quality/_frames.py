"""From a user's table to the arrays a metric reads, refusing what it cannot measure.

Quality sits beside ``io`` in the layers, not above it, so it has its own small coercion: polars
(eager or lazy), pandas and Arrow tables are accepted, as everywhere in annolab.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl

from annolab.errors import QualityError

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

# A table of counts (items x codes) is made dense only while it is this small next to the data.
_DENSE_FACTOR = 8
_DENSE_FLOOR = 1 << 20


def to_polars(frame: object, argument: str = "frame") -> pl.DataFrame:
    """A polars DataFrame from a polars (eager or lazy), pandas or Arrow table."""
    if isinstance(frame, pl.DataFrame):
        return frame
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    module = type(frame).__module__.split(".")[0]
    table: Any = frame  # a pandas or Arrow object; polars checks it
    try:
        if module == "pandas":
            converted: pl.DataFrame = pl.from_pandas(table)
            return converted
        if module == "pyarrow":
            arrow = pl.from_arrow(table)
            if isinstance(arrow, pl.DataFrame):
                return arrow
    except Exception as exc:  # each library raises its own errors for unconvertible data
        msg = f"{argument}: could not read the {type(frame).__name__} as a table ({exc})"
        raise QualityError(msg) from exc
    msg = (
        f"{argument} is a {type(frame).__name__}; pass a polars DataFrame (or a pandas or "
        "Arrow table) with one row per annotation"
    )
    raise QualityError(msg)


def require_columns(df: pl.DataFrame, columns: dict[str, str], argument: str = "frame") -> None:
    """Raise naming the keyword when a named column is missing; ``columns`` is keyword -> name."""
    for keyword, name in columns.items():
        if name not in df.columns:
            have = ", ".join(repr(c) for c in df.columns) or "none"
            msg = (
                f"{keyword}={name!r} is not a column of {argument}; its columns are {have}. "
                f"Name the right column with {keyword}=..."
            )
            raise QualityError(msg)


def require_no_nulls(df: pl.DataFrame, columns: dict[str, str]) -> None:
    """Items and annotators are identities: a null one cannot be compared with anything."""
    for keyword, name in columns.items():
        nulls = df[name].null_count()
        if nulls:
            row = int(df[name].is_null().arg_true()[0])
            msg = (
                f"{keyword}={name!r} has {nulls} null value(s), the first in row {row}; "
                f"every annotation needs its {keyword}: fill or drop those rows"
            )
            raise QualityError(msg)


def present(df: pl.DataFrame, column: str) -> pl.Expr:
    """True where a value was given: not null and, in a float column, not NaN."""
    if df.schema[column].is_float():
        return pl.col(column).is_not_null() & pl.col(column).is_not_nan()
    return pl.col(column).is_not_null()


def describe_values(series: pl.Series, limit: int = 5) -> str:
    shown = series.head(limit).to_list()
    more = f" and {series.len() - limit} more" if series.len() > limit else ""
    return f"{', '.join(repr(v) for v in shown)}{more}"


def factorize(series: pl.Series) -> tuple[IntArray, int]:
    """Integer codes of a column without nulls, and one past the largest code.

    Equal values get equal codes. Integers in a compact range are used as they are (less the
    minimum), so codes may have gaps and keep the values' order; strings get codes in no
    particular order; anything else gets dense codes in sorted order.
    """
    frame = series.to_frame("x")
    expression, bound = code_expression(frame, "x")
    codes = frame.select(expression).to_series()
    return finish_codes(codes.to_numpy(), bound)


def code_expression(df: pl.DataFrame, column: str) -> tuple[pl.Expr, int | None]:
    """An expression giving integer codes of ``column`` (see ``factorize``), to run inside a
    query, and the bound of those codes when it is known already.

    Kept as an expression so that one polars query codes several columns in parallel.
    """
    dtype = df.schema[column]
    col = pl.col(column)
    if dtype.is_integer():
        low, high = df[column].min(), df[column].max()
        if isinstance(low, int) and isinstance(high, int) and high - low <= 2 * df.height + 1024:
            return (col.cast(pl.Int64) - low).alias(column), high - low + 1
    if dtype == pl.String or isinstance(dtype, (pl.Categorical, pl.Enum)):
        return col.cast(pl.Categorical).to_physical().cast(pl.Int64).alias(column), None
    if dtype == pl.Boolean:
        return col.cast(pl.Int64).alias(column), 2
    return (col.rank("dense").cast(pl.Int64) - 1).alias(column), None


def finish_codes(
    codes: npt.NDArray[np.integer[Any]], bound: int | None = None
) -> tuple[IntArray, int]:
    """Codes as int64 with their bound (found when not given); codes too sparse to count into a
    table are made dense."""
    as_int64: IntArray = codes.astype(np.int64, copy=False)
    if as_int64.size == 0:
        return as_int64, 0
    if bound is None:
        bound = int(as_int64.max()) + 1
    if bound > 4 * as_int64.size + 1024:
        uniques, dense = np.unique(as_int64, return_inverse=True)
        return dense.astype(np.int64), int(uniques.size)
    return as_int64, bound


def unit_value_counts(
    units: IntArray, codes: IntArray, n_units: int, n_codes: int
) -> tuple[IntArray, IntArray, IntArray]:
    """Rows (unit, code, count) of the distinct (unit, code) pairs, sorted by unit then code."""
    key = units * n_codes
    key += codes
    cells = n_units * n_codes
    if cells <= _DENSE_FACTOR * units.size + _DENSE_FLOOR:
        counts = np.bincount(key, minlength=cells)
        found = np.flatnonzero(counts)
        found_counts = counts[found]
    else:
        found, found_counts = np.unique(key, return_counts=True)
    return found // n_codes, found % n_codes, found_counts.astype(np.int64)


class _Background:
    """A polars query collected on a worker thread; polars releases the GIL while it runs.

    Not ``collect(background=True)``: in polars 2.1 a background query dropped before it is
    fetched (as when a metric raises first) panics in a polars thread and aborts the process.
    A plain thread left unjoined just finishes.
    """

    def __init__(self, query: pl.LazyFrame) -> None:
        self._frame: pl.DataFrame | None = None
        self._error: Exception | None = None
        self._thread = threading.Thread(target=self._run, args=(query,), daemon=True)
        self._thread.start()

    def _run(self, query: pl.LazyFrame) -> None:
        try:
            self._frame = query.collect()
        except Exception as exc:  # noqa: BLE001 -- handed to result(), which re-raises it
            self._error = exc

    def result(self) -> pl.DataFrame:
        self._thread.join()
        if self._error is not None:
            raise self._error
        assert self._frame is not None
        return self._frame


class Ratings:
    """The present values of a frame (missing ones dropped) with integer item codes.

    ``item`` holds each present value's item code (codes run below ``n_item_codes`` and may have
    gaps), ``values`` the values themselves in the same order, ``per_item`` how many values each
    item code has, and ``codes``/``n_codes`` integer codes of the values when they were asked for
    (as ``factorize`` makes them).

    Whether an annotator gave two values on one item is checked by ``annotators()``, which every
    metric calls before it returns: the annotators' codes are made by polars on a worker thread
    meanwhile (they are the slowest part to make, and only that check needs them).
    """

    def __init__(
        self,
        df: pl.DataFrame,
        *,
        item: str,
        annotator: str,
        value: str,
        metric: str,
        codes: bool,
    ) -> None:
        self.frame, self._names, self._metric = df, (item, annotator, value), metric
        kept = df.lazy().filter(present(df, value))
        item_codes, item_bound = code_expression(df, item)
        columns = [item_codes.alias("_item"), pl.col(value)]
        value_codes, value_bound = code_expression(df, value) if codes else (None, None)
        if value_codes is not None:
            columns.append(value_codes.alias("_code"))
        coded = kept.select(columns).collect()
        # Started only now, so that it runs beside the metric's numpy work, not before it.
        annotator_codes, self._annotator_bound = code_expression(df, annotator)
        self._pending = _Background(kept.select(annotator_codes))
        self.item, self.n_item_codes = finish_codes(coded["_item"].to_numpy(), item_bound)
        self.values: pl.Series = coded[value]
        self.codes, self.n_codes = (
            finish_codes(coded["_code"].to_numpy(), value_bound) if codes else (self.item[:0], 0)
        )
        self.per_item: IntArray = np.bincount(self.item, minlength=self.n_item_codes)
        self._n_annotators: int | None = None

    def annotators(self) -> int:
        """The number of annotators with a value; raises if one gave two values on one item."""
        if self._n_annotators is None:
            found = self._pending.result().to_series().to_numpy()
            annotator_codes, n_codes = finish_codes(found, self._annotator_bound)
            first = _first_repeat(self.item, self.n_item_codes, annotator_codes, n_codes)
            if first is not None:
                self._refuse_repeat(first)
            counts = np.bincount(annotator_codes, minlength=n_codes)
            self._n_annotators = int(np.count_nonzero(counts))
        return self._n_annotators

    def _refuse_repeat(self, first: int) -> None:
        item, annotator, value = self._names
        rows = self.frame.filter(present(self.frame, value))
        who, what = rows[annotator][first], rows[item][first]
        count = rows.filter((pl.col(item) == what) & (pl.col(annotator) == who)).height
        msg = (
            f"annotator {who!r} gave {count} values for item {what!r}; {self._metric} needs at "
            "most one value per annotator and item. Keep one of them (say the latest), or "
            "measure repeats with annotator_profiles"
        )
        raise QualityError(msg)


def read_ratings(
    frame: object,
    *,
    item: str,
    annotator: str,
    value: str,
    metric: str,
    codes: bool = False,
) -> Ratings:
    """The shared front door of the categorical metrics and alpha.

    Refuses missing columns, null items or annotators, and list or struct values (spans and
    boxes have their own metrics); ``Ratings.annotators()`` refuses an annotator with two values
    on one item. ``codes=True`` also codes the values (for categories).
    """
    df = to_polars(frame)
    require_columns(df, {"item": item, "annotator": annotator, "value": value})
    require_no_nulls(df, {"item": item, "annotator": annotator})
    dtype = df[value].dtype
    if isinstance(dtype, (pl.List, pl.Array, pl.Struct, pl.Object)):
        msg = (
            f"value={value!r} holds {dtype} values; {metric} compares one category or number per "
            "annotation. For spans use span_agreement, for boxes box_agreement"
        )
        raise QualityError(msg)
    return Ratings(df, item=item, annotator=annotator, value=value, metric=metric, codes=codes)


def _first_repeat(
    items: IntArray, n_items: int, annotators: IntArray, n_annotators: int
) -> int | None:
    """The first row whose (item, annotator) another row also has, or None."""
    if items.size == 0:
        return None
    key = items * n_annotators
    key += annotators
    cells = n_items * n_annotators
    if cells <= _DENSE_FACTOR * key.size + _DENSE_FLOOR:
        counts = np.bincount(key, minlength=cells)
        if counts.max() <= 1:
            return None
        return int(np.flatnonzero(counts[key] > 1)[0])
    order = np.argsort(key, kind="stable")
    same = np.flatnonzero(key[order][1:] == key[order][:-1])
    return int(order[same[0]]) if same.size else None


def ordered_codes(values: pl.Series, order: Sequence[object], argument: str) -> IntArray:
    """The position of each value in ``order``; raises naming values that are not in it."""
    if len(set(order)) != len(order):
        msg = f"{argument}={list(order)!r} names a category twice; each must appear once"
        raise QualityError(msg)
    try:
        unknown = values.filter(~values.is_in(list(order))).unique(maintain_order=True)
    except pl.exceptions.PolarsError as exc:
        msg = (
            f"{argument}={list(order)!r} cannot rank the {values.dtype} values of the value "
            f"column ({exc}); list the categories as they appear in it"
        )
        raise QualityError(msg) from exc
    if unknown.len():
        msg = (
            f"the values {describe_values(unknown)} are not in {argument}={list(order)!r}; "
            f"list every category, lowest first"
        )
        raise QualityError(msg)
    positions = pl.Series(range(len(order)), dtype=pl.Int64)
    mapped = values.replace_strict(list(order), positions, return_dtype=pl.Int64)
    return mapped.to_numpy().astype(np.int64)
