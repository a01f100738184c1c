"""What every format reads and writes: one task with (at most) one answer.

An export turns the project's tasks and chosen annotations into ``Record`` s and hands them to a
format's writer; an import reads ``Item`` s from a file (each either a task, a task with an
answer, or a refusal naming the place and the reason) and stores them through one door.

Both are plain data: writers and readers know files, not the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from annolab.schema.labels import LabelSchema
from annolab.schema.layout import Layout


@dataclass(frozen=True)
class Record:
    """One task and one answer to it, as an export writes them.

    ``data`` is the task's data as the layout reads it (``project.task_fields``): the text under
    ``text`` and under each field it stands for, an image's source under its input's name, and
    whatever else the task was added with (``tokens``, ``width``, ``height``...). ``payload`` is
    the stored answer (``{"kind": "spans", "spans": [...]}``, or a form's ``{"kind": "form",
    "answers": {...}}``), None for a task exported without one. ``annotator`` is None for a
    consensus or a gold answer; ``source`` says where the answer came from: ``human``,
    ``persona``, ``model``, ``consensus``, ``gold``, or ``none``.
    """

    task: str
    data: Mapping[str, Any]
    payload: Mapping[str, Any] | None = None
    annotator: str | None = None
    source: str = "none"


@dataclass(frozen=True)
class Context:
    """What a writer or reader knows of the project: its layout and label schema."""

    layout: Layout
    labels: LabelSchema
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class WriteReport:
    """What a writer did: records written, and the ones it could not write faithfully (a span
    that does not fall on token boundaries) or at all, each as ``(task, reason)``."""

    written: int = 0
    tasks: int = 0
    notes: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Item:
    """One thing a reader found in a file.

    ``where`` names it for the report (``line 12``, ``labels/img_3.txt``, ``task 7``). An item
    with ``error`` set is a refusal: the reader could not make sense of that place, and says
    why. Otherwise ``task`` is the external id, ``data`` the task's fields (``text``, or
    ``image`` with ``width``/``height``, and anything else the file carried), and ``payload``
    the answer found with it, if any; ``annotator`` names who gave it when the file says so;
    ``prediction`` marks an answer the file itself calls a model's prediction (Label Studio's
    ``predictions``), which imports as a suggestion whatever the import was asked for.
    """

    where: str
    task: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    payload: Mapping[str, Any] | None = None
    annotator: str | None = None
    prediction: bool = False
    error: str | None = None


class Writer(Protocol):
    """Writes ``records`` to ``path`` (a file, or a folder for the formats that are folders).

    The caller gives a fresh temporary path and moves it into place when the writer returns,
    so a writer never has to clean up after itself.
    """

    def __call__(self, records: Iterable[Record], path: Path, context: Context) -> WriteReport: ...


class Reader(Protocol):
    """Reads ``path`` and yields what it holds, one ``Item`` at a time (a refusal included)."""

    def __call__(self, path: Path, context: Context) -> Iterator[Item]: ...


@dataclass(frozen=True)
class Format:
    """A format: its name, what it is for, the suffixes that imply it, and its writer and
    reader (either may be None: a format one can only write, or only read)."""

    name: str
    summary: str
    kinds: tuple[str, ...]
    suffixes: tuple[str, ...] = ()
    write: Writer | None = None
    read: Reader | None = None
    folder: bool = False  # written as a folder (YOLO, VOC, a Hugging Face dataset)


Progress = Callable[[int], None]
