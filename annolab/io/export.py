"""Writing annotations to jsonl, csv or parquet one batch at a time.

Memory stays flat whatever the project's size: only one batch is held at once. The file appears
under its name only when complete (written beside it, then renamed), so an interrupted export
never leaves a truncated file that looks finished.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import polars as pl

from annolab.errors import DataError

FORMATS = ("jsonl", "csv", "parquet")


def export_format(path: Path, format: str | None) -> str:
    """The format named, or the one the file's suffix implies."""
    chosen = format or path.suffix.lstrip(".").lower()
    chosen = {"ndjson": "jsonl", "pq": "parquet"}.get(chosen, chosen)
    if chosen not in FORMATS:
        msg = f"format={chosen!r} is not an export format; use one of {', '.join(FORMATS)}"
        raise DataError(msg)
    return chosen


def write_batches(batches: Iterable[pl.DataFrame], path: Path, format: str) -> int:
    """Write every batch to ``path`` in ``format``; returns the number of rows written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        count: int = _WRITERS[format](batches, tmp)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def _jsonl(batches: Iterable[pl.DataFrame], path: Path) -> int:
    count = 0
    with path.open("wb") as out:
        for batch in batches:
            # JSON never holds a raw newline, so polars can write the lines as unquoted "CSV".
            _json_lines(batch).write_csv(out, include_header=False, quote_style="never")
            count += batch.height
    return count


def _json_lines(batch: pl.DataFrame) -> pl.DataFrame:
    # The payload is already JSON text from Postgres: splice it in as an object rather than
    # decoding and re-encoding it (which would also need one schema for every payload kind).
    others = [c for c in batch.columns if c != "payload"]
    return batch.select(
        pl.concat_str(
            [
                pl.struct(others).struct.json_encode().str.head(-1),
                pl.lit(',"payload":'),
                pl.col("payload"),
                pl.lit("}"),
            ]
        ).alias("line")
    )


def _csv(batches: Iterable[pl.DataFrame], path: Path) -> int:
    count = 0
    with path.open("wb") as out:
        for batch in batches:
            batch.write_csv(out, include_header=count == 0)
            count += batch.height
    return count


def _parquet(batches: Iterable[pl.DataFrame], path: Path) -> int:
    import pyarrow.parquet as pq

    count = 0
    with ExitStack() as stack:
        writer: Any = None
        for batch in batches:
            table = batch.to_arrow()
            if writer is None:
                writer = stack.enter_context(pq.ParquetWriter(path, table.schema))
            writer.write_table(table)
            count += batch.height
    return count


_WRITERS: dict[str, Any] = {"jsonl": _jsonl, "csv": _csv, "parquet": _parquet}
