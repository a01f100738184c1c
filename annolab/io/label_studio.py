"""Label Studio's JSON export, written and read.

The format: labelstud.io/guide/export#Label-Studio-JSON-format-of-annotated-tasks.

Writing: one JSON array of tasks, streamed to the file as records arrive. The caller gives the
records of one task one after another; they become one task with one ``annotations`` entry per
answer (``completed_by`` the annotator; a consensus or gold answer has none, and a gold one is
marked ``ground_truth``). A record without an answer is a task with ``annotations: []``, which
Label Studio imports as a task to label. With the option ``as_predictions=True`` the answers are
written as ``predictions`` instead (``model_version`` the annotator, else ``annolab``), to
pre-annotate a Label Studio project.

Label Studio numbers its tasks with integers, so tasks are numbered from 1 in the order written
and annolab's own id is kept in ``data["annolab_task"]`` (an id that looks like a number is not
reused as Label Studio's: in a stream, a later task could be numbered the same).

Reading: a JSON array of tasks (Label Studio's export), or JSON lines of tasks. Each task gives
one item per annotation (the annotator from ``completed_by``: its email, else
``label-studio-<id>``), one per prediction (``model_version``, else ``label-studio-model``), or
one item without an answer when it has neither; cancelled (skipped) annotations are left out.
Regions are read by each question's kind (``annolab.io.formats.label_studio_payload``). The
task's id is ``data["annolab_task"]`` when the file was written by annolab, else Label Studio's
task id. The whole array is parsed at once (Label Studio writes it as one JSON document).

A refusal names its place as ``task 7 annotation 1 result 3`` (counted from 1).

>>> [f.name for f in FORMATS]
['label-studio']
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from annolab.errors import ValidationError, describe
from annolab.io.formats import label_studio_payload, label_studio_result
from annolab.io.records import Context, Format, Item, Record, WriteReport

__all__ = ["FORMATS", "read", "write"]

TASK_KEY = "annolab_task"  # annolab's task id in a task's data
KINDS = (
    "spans",
    "choice",
    "choices",
    "boxes",
    "rating",
    "text",
    "pairwise",
    "ranking",
    "rubric",
    "errors",
    "correction",
)


def write(records: Iterable[Record], path: Path, context: Context) -> WriteReport:
    """Write ``records`` (grouped by task, in order) as a Label Studio JSON export."""
    as_predictions = bool(context.options.get("as_predictions", False))
    report = WriteReport()
    with path.open("w", encoding="utf-8") as out:
        out.write("[")
        for number, (task, group) in enumerate(
            itertools.groupby(records, key=lambda r: r.task), start=1
        ):
            entry = _task(number, task, list(group), context, report, as_predictions=as_predictions)
            out.write("\n" if number == 1 else ",\n")
            out.write(_dumps(entry, task, report))
            report.tasks += 1
        out.write("\n]\n")
    return report


def _task(
    number: int,
    task: str,
    group: list[Record],
    context: Context,
    report: WriteReport,
    *,
    as_predictions: bool,
) -> dict[str, Any]:
    data = {**group[0].data, TASK_KEY: task}
    entries = []
    for record in group:
        if record.payload is None:
            continue
        try:
            result = label_studio_result(record.payload, context.layout, record.data)
        except ValidationError as exc:
            report.notes.append((task, str(exc)))
            continue
        entry: dict[str, Any] = {"result": result}
        if as_predictions:
            entry["model_version"] = record.annotator or "annolab"
        else:
            if record.annotator is not None:
                entry["completed_by"] = record.annotator
            entry["ground_truth"] = record.source == "gold"
            entry["was_cancelled"] = False
        entries.append(entry)
        report.written += 1
    key = "predictions" if as_predictions else "annotations"
    return {"id": number, "data": data, key: entries}


def _dumps(entry: dict[str, Any], task: str, report: WriteReport) -> str:
    try:
        return json.dumps(entry, ensure_ascii=False)
    except TypeError:
        # A field JSON cannot hold (image bytes, say): the task is written without it.
        data = entry["data"]
        for name in list(data):
            try:
                json.dumps(data[name])
            except TypeError:
                kept = type(data.pop(name)).__name__
                report.notes.append((task, f"data.{name} ({kept}) is not JSON and was left out"))
        return json.dumps(entry, ensure_ascii=False)


def read(path: Path, context: Context) -> Iterator[Item]:
    """The tasks and answers of a Label Studio JSON export (or JSON lines of tasks)."""
    for n, where, task in _tasks(path):
        if isinstance(task, Item):
            yield task
        else:
            yield from _items(n, where, task, context, path.stem)


def _tasks(path: Path) -> Iterator[tuple[int, str, Any]]:
    with path.open(encoding="utf-8") as f:
        head = f.read(4096).lstrip()
    if head.startswith("["):
        try:
            tasks = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            yield 0, path.name, Item(where=path.name, error=f"is not JSON: {exc}")
            return
        for n, task in enumerate(tasks, start=1):
            yield n, f"task {_label_studio_id(task, n)}", task
        return
    with path.open(encoding="utf-8") as f:
        for n, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                task = json.loads(raw)
            except json.JSONDecodeError as exc:
                yield n, f"line {n}", Item(where=f"line {n}", error=f"is not JSON: {exc}")
                continue
            yield n, f"line {n} task {_label_studio_id(task, n)}", task


def _label_studio_id(task: Any, n: int) -> object:
    found = task.get("id") if isinstance(task, Mapping) else None
    return f"#{n}" if found is None else found


def _items(n: int, where: str, task: Any, context: Context, stem: str) -> Iterator[Item]:
    if not isinstance(task, Mapping) or not isinstance(task.get("data"), Mapping):
        yield Item(where=where, error="is not a Label Studio task: it has no data object")
        return
    data = dict(task["data"])
    own = data.pop(TASK_KEY, None)
    given = task.get("id")
    external = str(own) if own is not None else str(given) if given is not None else None
    tid = external or f"{stem}-{n:05d}"
    answered = False
    groups = (
        ("annotation", task.get("annotations", task.get("completions")) or []),
        ("prediction", task.get("predictions") or []),
    )
    for what, entries in groups:
        if not isinstance(entries, list):
            yield Item(where=where, error=f"{what}s={entries!r} must be a list")
            continue
        for number, entry in enumerate(entries, start=1):
            at = f"{where} {what} {number}"
            if not isinstance(entry, Mapping) or not isinstance(entry.get("result"), list):
                yield Item(where=at, error="has no result list")
                continue
            if entry.get("was_cancelled") or entry.get("skipped"):
                continue  # skipped in Label Studio: no answer given
            try:
                payload = label_studio_payload(entry["result"], context.layout, data)
            except ValidationError as exc:
                yield _refusal(at, exc)
                continue
            annotator: str | None
            if what == "prediction":
                annotator = str(entry.get("model_version") or "label-studio-model")
            else:
                annotator = _annotator(entry.get("completed_by"))
            answered = True
            yield Item(
                where=at,
                task=tid,
                data=data,
                payload=payload,
                annotator=annotator,
                prediction=what == "prediction",
            )
    if not answered:
        yield Item(where=where, task=tid, data=data)


def _refusal(at: str, exc: ValidationError) -> Item:
    # "result[3].value.text" becomes "result 4" in the place, "value.text" in the reason.
    field = exc.field
    if field.startswith("result["):
        index, _, rest = field[len("result[") :].partition("]")
        if index.isdigit():
            at = f"{at} result {int(index) + 1}"
            field = rest.lstrip(".") or "region"
    return Item(where=at, error=describe(field, exc.value, exc.rule))


def _annotator(completed_by: object) -> str | None:
    """Label Studio names an annotator by user id, or by a user object with an email."""
    if isinstance(completed_by, Mapping):
        email = completed_by.get("email")
        return str(email) if email else f"label-studio-{completed_by.get('id')}"
    if isinstance(completed_by, bool) or completed_by is None:
        return None
    if isinstance(completed_by, int):
        return f"label-studio-{completed_by}"
    return str(completed_by)


# No suffix: ``.json`` is also COCO's, so a Label Studio file is named by its format.
FORMATS: tuple[Format, ...] = (
    Format(
        name="label-studio",
        summary="Label Studio JSON export: tasks with annotations (or predictions)",
        kinds=KINDS,
        write=write,
        read=read,
    ),
)
