"""Turning a user's frame of tasks into rows ready for COPY, refusing bad rows by number."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

import polars as pl

from annolab.errors import DataError, ValidationError
from annolab.schema.fields import MAX_NAME_CHARS, PRIORITY_MAX, PRIORITY_MIN, check_int, check_str

DEFAULT_MAX_TEXT_CHARS = 2_000_000
_SHOWN = 10  # rows quoted in one error; the count says how many there are in all


def to_polars(frame: Any) -> pl.DataFrame:
    """Accept a polars, pandas or Arrow table (or anything ``pl.DataFrame`` takes)."""
    if isinstance(frame, pl.DataFrame):
        return frame
    if frame is None or isinstance(frame, (str, bytes)):
        msg = f"frame={frame!r:.80} is not a table; pass a polars, pandas or Arrow table"
        raise DataError(msg)
    if isinstance(frame, pl.LazyFrame):
        return frame.collect()
    module = type(frame).__module__.split(".")[0]
    try:
        if module == "pandas":
            converted: pl.DataFrame = pl.from_pandas(frame)
            return converted
        if module == "pyarrow":
            result = pl.from_arrow(frame)
            if isinstance(result, pl.DataFrame):
                return result
        return pl.DataFrame(frame)
    except Exception as exc:  # each library raises its own errors for unconvertible data
        msg = (
            f"could not read the {type(frame).__name__} as a table ({exc}); pass a polars, "
            "pandas or Arrow table whose text column holds valid UTF-8 strings"
        )
        raise DataError(msg) from exc


_READERS = {".csv": "read_csv", ".parquet": "read_parquet", ".jsonl": "read_ndjson"}


def read_table(path: Path) -> pl.DataFrame:
    """A file of tasks (csv, parquet, jsonl or ndjson) as a frame; a malformed file says why.

    >>> read_table(Path("tasks.txt"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    annolab.errors.DataError: path='tasks.txt': tasks are read from .csv, .parquet, .jsonl, ...
    """
    suffix = path.suffix.lower()
    reader = _READERS.get(".jsonl" if suffix == ".ndjson" else suffix)
    if reader is None:
        shown = ", ".join([*_READERS, ".ndjson"])
        msg = f"path={str(path)!r}: tasks are read from {shown} files"
        raise DataError(msg)
    try:
        frame: pl.DataFrame = getattr(pl, reader)(path)
    except Exception as exc:  # polars and the OS raise their own errors for unreadable files
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        msg = f"path={str(path)!r} could not be read as {suffix[1:]}: {first}"
        raise DataError(msg) from exc
    return frame


def _rows(mask: pl.Series) -> list[int]:
    return mask.arg_true().to_list()


def _describe(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:_SHOWN])
    more = f" and {len(rows) - _SHOWN} more" if len(rows) > _SHOWN else ""
    noun = "row" if len(rows) == 1 else "rows"
    return f"{noun} {shown}{more}"


def prepare_tasks(
    frame: Any,
    *,
    text: str,
    id: str | None = None,
    priority: str | None = None,
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS,
) -> pl.DataFrame:
    """Rows ``external_id``, ``data`` (JSON text), ``priority`` from a user's frame.

    Every other column is kept in the task's data; the text column is stored as ``text``.
    Without ``id``, the row number is not stable across calls, so the id is a hash of the text:
    adding the same texts again adds nothing. Row numbers in errors count from 0.
    """
    max_text_chars = _text_limit(max_text_chars)
    df = to_polars(frame)
    named = {"text": text, "id": id, "priority": priority}
    for keyword, column in named.items():
        if column is not None and not isinstance(column, str):
            raise ValidationError(keyword, column, "must name a column of the frame (a string)")
        if column is not None and column not in df.columns:
            msg = (
                f"{keyword}={column!r} is not a column of the frame; its columns are "
                f"{', '.join(repr(c) for c in df.columns)}"
            )
            raise DataError(msg)
    _check_column_names(df.columns)
    texts = _text_column(df[text], text)
    problems = [
        (texts.is_null(), "text is null"),
        (texts.str.len_chars() == 0, "text is empty"),
        (texts.str.contains("\x00", literal=True), "text holds a NUL character (\\x00)"),
        (
            texts.str.len_chars() > max_text_chars,
            f"text is longer than this project's max_text_chars={max_text_chars:,} code points "
            "(split the document, or raise settings['max_text_chars'])",
        ),
    ]
    for mask, rule in problems:
        bad = _rows(mask.fill_null(False))
        if bad:
            msg = f"{text}: {rule} in {_describe(bad)}; nothing was added"
            raise DataError(msg)

    if id is None:
        # polars' own hash changes between releases; SHA-1 of the text is the same forever.
        ids = texts.map_elements(_text_id, return_dtype=pl.String).rename("external_id")
    else:
        ids = _id_column(df[id], id)
    # The id column stays in the data too: a layout may show it (clinical-ner-v1's header).
    rest = [c for c in df.columns if c != text]
    for column in rest:
        _check_other_column(df[column])
    data = df.select(pl.struct([texts.alias("text"), *[pl.col(c) for c in rest]]).alias("d"))
    try:
        encoded = data["d"].struct.json_encode()
    except Exception as exc:  # polars refuses column types JSON can not hold
        msg = f"the frame's other columns can not be stored as JSON ({exc}); drop or cast them"
        raise DataError(msg) from exc
    # Nested values (lists, structs) are checked in their JSON: a NUL anywhere is written as
    # \u0000 after an even number of backslashes (an odd number is an escaped backslash).
    nul = _rows(encoded.str.contains(r"(?:^|[^\\])(?:\\\\)*\\u0000"))
    if nul:
        msg = f"a value holds a NUL character (\\x00) in {_describe(nul)}; nothing was added"
        raise DataError(msg)
    prio = (
        pl.Series("priority", [0] * df.height, dtype=pl.Int32)
        if priority is None
        else _priority_column(df[priority], priority)
    )
    rows = pl.DataFrame({"external_id": ids, "data": encoded, "priority": prio})
    if id is None:
        return rows.unique("external_id", keep="first", maintain_order=True)
    return rows


def _text_limit(value: object) -> int:
    try:
        return check_int(value, "max_text_chars", low=1, high=1_000_000_000)
    except ValidationError as exc:
        # Postgres holds at most 1 GB in one value: a larger limit would only move the error.
        msg = f"{exc} (code points per task text; set it in the project's settings)"
        raise DataError(msg) from exc


def _check_column_names(columns: list[str]) -> None:
    for column in columns:
        try:
            check_str(column, "column name")
        except ValidationError as exc:
            msg = f"{exc}; rename the column, nothing was added"
            raise DataError(msg) from exc


def _check_other_column(column: pl.Series) -> None:
    """A column kept in the task's data must come out of JSONB as it went in."""
    name = column.name
    if column.dtype == pl.String:
        bad = _rows(column.str.contains("\x00", literal=True).fill_null(False))
        if bad:
            rule = "value holds a NUL character (\\x00)"
            msg = f"{name}: {rule} in {_describe(bad)}; nothing was added"
            raise DataError(msg)
    # JSON has no NaN or infinity: polars writes them as null, a silent change.
    if column.dtype.is_float():
        bad = _rows(column.is_nan().fill_null(False) | column.is_infinite().fill_null(False))
    elif column.dtype.is_nested() and "Float" in str(column.dtype):
        # Nested floats are rare: walking them in Python keeps the row numbers exact.
        bad = [row for row, value in enumerate(column.to_list()) if _holds_non_finite(value)]
    else:
        bad = []
    if bad:
        msg = (
            f"{name}: value is NaN or infinite in {_describe(bad)}, which JSON can not hold; "
            "replace them (e.g. with null) and add again; nothing was added"
        )
        raise DataError(msg)


def _holds_non_finite(value: object) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return True
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, (list, tuple)):
            stack.extend(item)
    return False


def _priority_column(column: pl.Series, name: str) -> pl.Series:
    """Whole numbers in the integer column's range; null means 0. Never rounded or clipped."""
    rule = f"whole numbers from {PRIORITY_MIN} to {PRIORITY_MAX} (null means 0)"
    if not (column.dtype.is_integer() or column.dtype.is_float() or column.dtype == pl.Null):
        msg = f"priority={name!r} holds {column.dtype}; priorities must be {rule}"
        raise DataError(msg)
    if column.dtype == pl.Null:
        return pl.Series("priority", [0] * column.len(), dtype=pl.Int32)
    values = column.cast(pl.Float64) if column.dtype.is_float() else column
    bad_mask = (values < PRIORITY_MIN) | (values > PRIORITY_MAX)
    if column.dtype.is_float():
        bad_mask = bad_mask | ~values.is_finite() | (values.round(0) != values)
    bad = _rows(bad_mask.fill_null(False))
    if bad:
        shown = column.gather(bad[:_SHOWN]).to_list()
        msg = f"{name}: priorities must be {rule}; {shown!r} in {_describe(bad)}; nothing was added"
        raise DataError(msg)
    return column.cast(pl.Int32).fill_null(0).rename("priority")


def _text_id(text: str) -> str:
    return hashlib.sha1(text.encode(), usedforsecurity=False).hexdigest()[:20]


def _text_column(column: pl.Series, name: str) -> pl.Series:
    if column.dtype == pl.Binary:
        # polars refuses to cast bytes that are not UTF-8 at all, even non-strictly, so decode
        # row by row: bytes columns are rare and this finds every bad row number.
        texts: list[str | None] = []
        bad: list[int] = []
        for row, raw in enumerate(column.to_list()):
            try:
                texts.append(None if raw is None else raw.decode("utf-8"))
            except UnicodeDecodeError:
                bad.append(row)
                texts.append(None)
        if bad:
            msg = f"{name}: text is not valid UTF-8 in {_describe(bad)}; nothing was added"
            raise DataError(msg)
        return pl.Series(name, texts, dtype=pl.String)
    if column.dtype != pl.String:
        msg = (
            f"text={name!r} holds {column.dtype}, not text; "
            f"cast it with pl.col({name!r}).cast(pl.String)"
        )
        raise DataError(msg)
    return column


def _id_column(column: pl.Series, name: str) -> pl.Series:
    ids = column.cast(pl.String, strict=False)
    checks = [
        (ids.is_null(), "id is null"),
        (ids.str.len_chars() == 0, "id is empty"),
        (ids.str.contains("\x00", literal=True), "id holds a NUL character (\\x00)"),
        (
            ids.str.len_chars() > MAX_NAME_CHARS,
            f"id is longer than {MAX_NAME_CHARS} characters (ids are kept in a unique index)",
        ),
    ]
    for mask, rule in checks:
        bad = _rows(mask.fill_null(False))
        if bad:
            msg = f"{name}: {rule} in {_describe(bad)}; nothing was added"
            raise DataError(msg)
    duplicated = _rows(ids.is_duplicated())
    if duplicated:
        values = ids.gather(duplicated).unique(maintain_order=True).head(_SHOWN).to_list()
        msg = (
            f"{name}: ids must be unique within one call, but {values!r} repeat "
            f"({_describe(duplicated)}); nothing was added"
        )
        raise DataError(msg)
    return ids.rename("external_id")
