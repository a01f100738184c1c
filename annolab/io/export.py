"""Writing annotations to jsonl, csv or parquet one batch at a time.

Memory stays flat whatever the project's size: only one batch is held at once. The file appears
under its name only when complete (written beside it, then renamed), so an interrupted export
never leaves a truncated file that looks finished.
"""

from __future__ import annotations

import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from annolab.store.annotations import (
    EXPORT_CSV_SCHEMA,
    copy_export_json_lines,
    iter_export_batches,
    iter_export_csv,
)

# About 40,000 rows of a typical annotation with a tweet-sized text. A chunk is parsed while the
# next one arrives, so three are held at once, whatever the project's size.
CSV_CHUNK_BYTES = 16 * 2**20
PARQUET_ROW_GROUP = 131_072
# zstd at level 1 writes as fast as snappy, lz4 or no codec here (the CSV parse dominates) and
# makes files half the size of snappy's or lz4's (200,000 annotations: 5 MB against 10 MB).
PARQUET_CODEC = "zstd"
PARQUET_CODEC_LEVEL = 1


def export_table(conn: sa.Connection, project_id: int, path: Path, format: str) -> int:
    """Write the project's annotations with their task text to ``path`` in ``format``;
    returns the number of rows.

    jsonl comes as lines Postgres builds and COPY streams straight into the file; parquet is
    parsed from a COPY in CSV, a chunk at a time, while the next chunk arrives; csv is written
    by batches. Each has the columns, order and values of ``write_batches(
    iter_export_batches(conn, project_id), path, format)``.

    >>> export_table(conn, project.id, Path("out.jsonl"), "jsonl")  # doctest: +SKIP
    1000000
    """
    if format == "jsonl":
        return _atomically(path, lambda tmp: _copy_json_lines(conn, project_id, tmp))
    if format == "parquet":
        return _atomically(path, lambda tmp: _parquet_from_csv(conn, project_id, tmp))
    return write_batches(iter_export_batches(conn, project_id), path, format)


def write_batches(batches: Iterable[pl.DataFrame], path: Path, format: str) -> int:
    """Write every batch to ``path`` in ``format``; returns the number of rows written."""
    return _atomically(path, lambda tmp: int(_WRITERS[format](batches, tmp)))


def _atomically(path: Path, write: Callable[[Path], int]) -> int:
    """``write`` to a temporary file beside ``path``, renamed to it only when complete."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        count = write(tmp)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return count


def _copy_json_lines(conn: sa.Connection, project_id: int, path: Path) -> int:
    with path.open("wb") as out:
        return copy_export_json_lines(conn, project_id, out.write)


def _parquet_from_csv(conn: sa.Connection, project_id: int, path: Path) -> int:
    """COPY's CSV read on this thread, parsed and written to parquet on another.

    The parse and the parquet encoder run in polars and Arrow without the GIL, so receiving
    the next chunk overlaps them; the queue holds one chunk, which bounds memory.
    """
    chunks: queue.Queue[bytes | None] = queue.Queue(maxsize=1)
    written: list[int] = []
    failed: list[BaseException] = []

    def encode() -> None:
        try:
            written.append(_write_parquet(iter(chunks.get, None), path))
        except Exception as exc:  # noqa: BLE001 - handed to the reading thread, which raises it
            failed.append(exc)
            while chunks.get() is not None:  # unblock the reader until it sees the failure
                pass

    worker = threading.Thread(target=encode, name="annolab-parquet", daemon=True)
    worker.start()
    try:
        for chunk in iter_export_csv(conn, project_id, chunk_bytes=CSV_CHUNK_BYTES):
            if failed:
                break
            chunks.put(chunk)
    finally:
        chunks.put(None)
        worker.join()
    if failed:
        raise failed[0]
    return written[0]


def _write_parquet(chunks: Iterator[bytes], path: Path) -> int:
    import pyarrow.parquet as pq

    schema = _arrow_schema()
    count = 0
    level = PARQUET_CODEC_LEVEL if PARQUET_CODEC == "zstd" else None
    with pq.ParquetWriter(
        path, schema, compression=PARQUET_CODEC, compression_level=level
    ) as writer:
        for chunk in chunks:
            frame = pl.read_csv(chunk, has_header=False, schema=_CSV_READ_SCHEMA)
            frame = frame.with_columns(
                pl.col(*_TIMESTAMPS).str.to_datetime(
                    _PG_TIMESTAMP, time_unit="us", time_zone="UTC", cache=False
                )
            )
            writer.write_table(frame.to_arrow(), row_group_size=PARQUET_ROW_GROUP)
            count += frame.height
    return count


# The CSV parser's own timestamp inference took three quarters of the parse; read as text and
# converted with Postgres' fixed output format (the session in UTC: "2026-01-02 03:04:05.5+00",
# the fraction absent when zero) it is a fifth of that.
_TIMESTAMPS = [name for name, kind in EXPORT_CSV_SCHEMA.items() if kind == pl.Datetime("us", "UTC")]
_CSV_READ_SCHEMA = {
    name: pl.String if name in _TIMESTAMPS else kind for name, kind in EXPORT_CSV_SCHEMA.items()
}
_PG_TIMESTAMP = "%Y-%m-%d %H:%M:%S%.f%#z"


def _arrow_schema() -> Any:
    """The Arrow schema of today's parquet export: the polars frame's, empty."""
    return pl.DataFrame(schema=dict(EXPORT_CSV_SCHEMA)).to_arrow().schema


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
