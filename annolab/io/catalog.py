"""Every format annolab reads and writes, found by name or by the file's suffix.

The table formats (``jsonl``, ``csv``, ``parquet``) hold annotations with their metadata, one
row each; the others are the formats people train with or bring work from. ``.json`` is taken
as COCO; Label Studio, Prodigy and the folder formats (``yolo``, ``voc``, ``hf``) are named.
Plugins add formats through the ``annolab_export_formats`` hook: ``FORMATS`` holds them too.
"""

from __future__ import annotations

import itertools
import json
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from annolab.errors import PluginError, ValidationError
from annolab.hooks import manager as hooks
from annolab.io import coco, conll, hf_datasets, label_studio, prodigy, spacy_docs, voc, yolo
from annolab.io.export import write_batches
from annolab.io.records import Context, Format, Record, WriteReport

TABLES = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}

BUILTIN: dict[str, Format] = {
    f.name: f
    for module in (conll, spacy_docs, hf_datasets, coco, yolo, voc, label_studio, prodigy)
    for f in module.FORMATS
}


class _Formats(Mapping[str, Format]):
    """The built-in formats, then the ones plugins add (``annolab_export_formats``); the
    plugins are asked again only after one is registered or unregistered."""

    def __init__(self) -> None:
        self._generation = -1
        self._formats = BUILTIN
        self._suffixes: dict[str, str] = {}

    def _current(self) -> dict[str, Format]:
        generation = hooks.generation()
        if generation != self._generation:
            formats = dict(BUILTIN)
            for plugin, fmt in hooks.contributions("annolab_export_formats"):
                formats[fmt.name] = _plugin_format(plugin, fmt, taken=formats)
            self._suffixes = {s: f.name for f in formats.values() for s in f.suffixes} | TABLES
            self._formats, self._generation = formats, generation
        return self._formats

    def suffixes(self) -> dict[str, str]:
        self._current()
        return self._suffixes

    def __getitem__(self, name: str) -> Format:
        return self._current()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current())

    def __len__(self) -> int:
        return len(self._current())


def _plugin_format(plugin: str, fmt: object, *, taken: Mapping[str, Format]) -> Format:
    where = f"plugin {plugin!r}: annolab_export_formats"
    if not isinstance(fmt, Format):
        rule = f"gave {type(fmt).__name__}; give annolab.io.records.Format objects"
        raise PluginError(f"{where} {rule}")
    if fmt.name in taken or fmt.name in TABLES.values():
        raise PluginError(f"{where} gave format {fmt.name!r}, a name already taken")
    if fmt.write is None and fmt.read is None:
        raise PluginError(f"{where} gave format {fmt.name!r} with neither write nor read")
    return fmt


FORMATS = _Formats()


def names() -> tuple[str, ...]:
    """Every format's name: the tables, then the other built-in ones, then the plugins'."""
    return (*sorted(set(TABLES.values())), *FORMATS)


def format_name(path: Path, format: str | None) -> str:
    """The format named (``format``), or the one ``path``'s suffix implies."""
    if format is not None:
        if format not in names():
            raise ValidationError("format", format, f"must be one of {', '.join(names())}")
        return format
    found = FORMATS.suffixes().get(path.suffix.lower())
    if found is None:
        rule = (
            f"does not say which format to use; name it with format= (one of {', '.join(names())})"
        )
        raise ValidationError("path", str(path), rule)
    return found


def check_kinds(fmt: Format, kinds: set[str]) -> None:
    """Refuse a format that holds none of the layout's question kinds."""
    if kinds.isdisjoint(fmt.kinds):
        rule = (
            f"holds {', '.join(fmt.kinds)} answers; this project's questions are "
            f"{', '.join(sorted(kinds))}"
        )
        raise ValidationError("format", fmt.name, rule)


@dataclass
class ExportReport:
    """What an export wrote: records (a task with one answer, or without one) and the tasks
    they came from, tasks with no answer, and what could not be written faithfully or at all
    (``notes``: task and why). The table formats' export of every annotation counts rows only:
    ``tasks`` and ``unanswered`` are None there."""

    path: Path
    format: str
    written: int = 0
    tasks: int | None = None
    unanswered: int | None = None
    notes: list[tuple[str, str]] = field(default_factory=list)

    def notes_frame(self) -> pl.DataFrame:
        """The notes as a frame: ``task`` and ``note``."""
        return pl.DataFrame(self.notes, schema={"task": pl.String, "note": pl.String}, orient="row")

    def __repr__(self) -> str:
        notes = f"; {len(self.notes)} notes (see .notes)" if self.notes else ""
        head = f"<ExportReport {self.format} {str(self.path)!r}: {self.written} records"
        if self.tasks is None:
            return f"{head}{notes}>"
        return f"{head} of {self.tasks} tasks ({self.unanswered} without an answer){notes}>"


def write_records(
    records: Iterable[Record], path: Path, name: str, context: Context
) -> WriteReport:
    """Write ``records`` to ``path`` in format ``name``, a file or folder that appears only
    when complete (written beside it, then moved into place)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=f".{path.name}.", dir=path.parent) as scratch:
        fresh = Path(scratch) / path.name
        if name in TABLES.values():
            report = _write_table(records, fresh, name)
        else:
            writer = FORMATS[name].write
            if writer is None:  # a plugin's format may only read
                raise ValidationError("format", name, "can be imported but not exported")
            report = writer(records, fresh, context)
        _move_into_place(fresh, path, Path(scratch))
    return report


def _move_into_place(fresh: Path, path: Path, scratch: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        # A folder can not be renamed over a full one: the old one goes into the scratch
        # folder (deleted with it) the moment before the new one takes its name.
        path.rename(scratch / ".previous")
    fresh.replace(path)


# Records as a table: the task, who answered (or "consensus", "gold"...), the text, the task's
# data and the answer, for the table formats when not every annotation is asked for.
_RECORD_SCHEMA = {
    "external_id": pl.String,
    "annotator": pl.String,
    "source": pl.String,
    "text": pl.String,
    "data": pl.String,
    "payload": pl.String,
}


def _write_table(records: Iterable[Record], path: Path, name: str) -> WriteReport:
    report = WriteReport()
    tasks: set[str] = set()
    rows = (_table_row(r) for r in records)
    if name == "jsonl":
        with path.open("w", encoding="utf-8") as out:
            for row in rows:
                # ensure_ascii keeps U+2028 and U+2029 escaped: a line reader never splits a row.
                out.write(json.dumps(row) + "\n")
                tasks.add(row["external_id"])
                report.written += 1
    else:

        def batches() -> Iterator[pl.DataFrame]:
            while chunk := list(itertools.islice(rows, 10_000)):
                for row in chunk:
                    row["data"] = json.dumps(row["data"], ensure_ascii=False)
                    row["payload"] = _json_or_none(row["payload"])
                tasks.update(row["external_id"] for row in chunk)
                report.written += len(chunk)
                yield pl.DataFrame(chunk, schema=_RECORD_SCHEMA)

        write_batches(batches(), path, name)
    report.tasks = len(tasks)
    return report


def _table_row(record: Record) -> dict[str, Any]:
    return {
        "external_id": record.task,
        "annotator": record.annotator,
        "source": record.source,
        "text": record.data.get("text"),
        "data": dict(record.data),
        "payload": None if record.payload is None else dict(record.payload),
    }


def _json_or_none(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)
