"""Prodigy's JSONL, written and read (prodi.gy/docs/api-interfaces).

Writing: one line per record, streamed. A line is the task's text (or image, with its
``width`` and ``height``) with the answer's fields in the shape of Prodigy's interface for each
question's kind (``annolab.io.formats.prodigy_task``), ``"answer": "accept"`` and the annotator
as ``_annotator_id``. A record without an answer is the task alone, with no answer fields and
no ``answer`` key: Prodigy reads it as a task to annotate. A text with spans carries its
``tokens`` (the task's own, else annolab's tokenizer) and each span its ``token_start`` and
``token_end`` when it falls on token boundaries (one that does not is noted); a choice
question's line carries the project's labels as ``options``. ``meta`` holds annolab's task id
(``annolab_task``); the task's other fields are kept at the top level unless Prodigy has a use
for the name. ``_input_hash`` and ``_task_hash`` are annolab's own stable 32-bit hashes (of the
text or image, and of that with the task id), not Prodigy's murmurhash: Prodigy uses them only
to tell tasks apart.

Reading: each line is a task; ``answer: ignore`` lines are left out, and so are ``reject``
lines (a rejected ``ner_manual`` or ``choice`` task has no answer to import) except a binary
classification's rejected ``label``, which is refused: it says only what the text is not.
A line without ``answer`` is a task to annotate. The annotator is ``_annotator_id``, else
``_session_id``; the task id is ``meta.annolab_task``, else ``meta.id``, else the
``_input_hash`` (so answers of one input are one task), else ``<file stem>-<line>``.

>>> [f.name for f in FORMATS]
['prodigy']
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import annolab.kinds
from annolab.errors import ValidationError
from annolab.io.formats import prodigy_payload, prodigy_task
from annolab.io.records import Context, Format, Item, Record, WriteReport
from annolab.io.tokens import token_offsets

__all__ = ["FORMATS", "read", "stable_hash", "write"]

KINDS = ("spans", "choice", "choices", "boxes", "pairwise", "errors")

# Fields Prodigy reads or writes itself: a task field of one of these names is not copied.
_PRODIGY_KEYS = frozenset(
    {
        "text",
        "image",
        "width",
        "height",
        "tokens",
        "spans",
        "accept",
        "options",
        "answer",
        "label",
        "meta",
        "html",
        "relations",
        "audio",
        "video",
        "choice_style",
        "config",
        "_input_hash",
        "_task_hash",
        "_annotator_id",
        "_session_id",
        "_view_id",
        "_timestamp",
        "_is_binary",
    }
)


def stable_hash(*parts: str) -> int:
    """A signed 32-bit integer of ``parts``, the same in every process (Python's ``hash`` of a
    string is salted per process).

    >>> stable_hash("Ada met Grace")
    1931064086
    """
    digest = hashlib.blake2b("\x00".join(parts).encode("utf-8"), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


def write(records: Iterable[Record], path: Path, context: Context) -> WriteReport:
    """Write ``records`` as Prodigy JSONL, one line each."""
    report = WriteReport()
    last: str | None = None
    with path.open("w", encoding="utf-8") as out:
        for record in records:
            if record.task != last:
                report.tasks += 1
                last = record.task
            try:
                line = _line(record, context, report)
            except ValidationError as exc:
                report.notes.append((record.task, str(exc)))
                continue
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
            report.written += 1
    return report


def _line(record: Record, context: Context, report: WriteReport) -> dict[str, Any]:
    layout, data = context.layout, record.data
    if record.payload is not None:
        line = prodigy_task(record.payload, layout, data, annotator=record.annotator)
    else:
        line = {}
        for question in layout.questions:
            field = getattr(question, "field", None) or "text"
            media = annolab.kinds.get(question.kind).media
            line.setdefault(media, data.get(field, data.get("text")))
        if "image" in line:
            line.update({k: data[k] for k in ("width", "height") if data.get(k)})
    kinds = [q.kind for q in layout.questions]
    if isinstance(line.get("text"), str) and ("spans" in kinds or "errors" in kinds):
        _tokens(line, data, record.task, report)
    for question in layout.questions:
        if question.kind in ("choice", "choices"):
            line.setdefault("options", [{"id": n, "text": n} for n in context.labels.names])
            if question.kind == "choices":
                line.setdefault("config", {"choice_style": "multiple"})
        elif question.kind == "pairwise":
            verdicts = getattr(question, "verdicts", ("a", "b"))
            line.setdefault("options", [{"id": v, "text": v} for v in verdicts])
    for name, value in data.items():
        if name not in _PRODIGY_KEYS and name not in line:
            line[name] = value
    source = str(line.get("text", line.get("image", "")))
    line["meta"] = {"annolab_task": record.task}
    line["_input_hash"] = stable_hash(source)
    line["_task_hash"] = stable_hash(source, record.task)
    return line


def _tokens(line: dict[str, Any], data: Mapping[str, Any], task: str, report: WriteReport) -> None:
    text: str = line["text"]
    given = data.get("tokens")
    words = given if isinstance(given, list) and all(isinstance(t, str) for t in given) else None
    try:
        offsets = token_offsets(text, words)
    except ValidationError as exc:
        report.notes.append((task, f"tokens left out: {exc}"))
        return
    line["tokens"] = [
        {"text": text[s:e], "start": s, "end": e, "id": i, "ws": text[e : e + 1].isspace()}
        for i, (s, e) in enumerate(offsets)
    ]
    starts = {s: i for i, (s, _) in enumerate(offsets)}
    ends = {e: i for i, (_, e) in enumerate(offsets)}
    for span in line.get("spans") or []:
        if span["start"] in starts and span["end"] in ends:
            span["token_start"], span["token_end"] = starts[span["start"]], ends[span["end"]]
        else:
            where = f"span {span['start']}:{span['end']} ({span.get('text')!r})"
            report.notes.append((task, f"{where} is not on token boundaries"))


def read(path: Path, context: Context) -> Iterator[Item]:
    """The tasks and answers of a Prodigy JSONL file (a dataset's ``db-out``)."""
    with path.open(encoding="utf-8") as f:
        for n, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            try:
                line = json.loads(raw)
            except json.JSONDecodeError as exc:
                yield Item(where=f"line {n}", error=f"is not JSON: {exc}")
                continue
            if not isinstance(line, dict):
                rule = "is not a Prodigy task: a line must be a JSON object"
                yield Item(where=f"line {n}", error=rule)
                continue
            item = _item(n, line, path.stem, context)
            if item is not None:
                yield item


def _item(n: int, line: Mapping[str, Any], stem: str, context: Context) -> Item | None:
    where = f"line {n}"
    answer = line.get("answer")
    if answer == "ignore":
        return None
    data = _data(line)
    task = _task_id(line, stem, n)
    if answer is None:
        return Item(where=where, task=task, data=data)
    if answer not in ("accept", "reject"):
        return Item(where=where, error=f"answer={answer!r} must be accept, reject or ignore")
    try:
        payload = prodigy_payload(line, context.layout, data)
    except ValidationError as exc:
        return Item(where=where, error=str(exc))
    if answer == "reject":
        return None
    who = line.get("_annotator_id") or line.get("_session_id")
    annotator = None if who is None else str(who)
    return Item(where=where, task=task, data=data, payload=payload, annotator=annotator)


def _data(line: Mapping[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in line.items() if k not in _PRODIGY_KEYS}
    for key in ("text", "image", "width", "height"):
        if line.get(key) is not None:
            data[key] = line[key]
    tokens = line.get("tokens")
    if isinstance(tokens, list) and all(isinstance(t, Mapping) for t in tokens):
        data["tokens"] = [str(t.get("text", "")) for t in tokens]
    return data


def _task_id(line: Mapping[str, Any], stem: str, n: int) -> str:
    given = line.get("meta")
    meta: Mapping[str, Any] = given if isinstance(given, Mapping) else {}
    for found in (meta.get("annolab_task"), meta.get("id"), line.get("_input_hash")):
        if found is not None:
            return str(found)
    return f"{stem}-{n:05d}"


# No suffix: ``.jsonl`` is also annolab's own export and spaCy's, so Prodigy is named.
FORMATS: tuple[Format, ...] = (
    Format(
        name="prodigy",
        summary="Prodigy JSONL: one task per line with its answer (ner_manual, choice, image)",
        kinds=KINDS,
        write=write,
        read=read,
    ),
)
