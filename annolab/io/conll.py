"""CoNLL: one token per line with its BIO (or BILOU) tag, a blank line after each document.

The layout is WNUT 2017's (``annolab/data/wnut17_dev.conll``): ``token<TAB>tag`` lines, and a
blank line after every document, the last one included. A file written here and read back gives
the same tokens and entities, and a file read here and written back is the same file, byte for
byte, when it is in that layout (see ``tests/test_format_conll.py``).

Writing (option ``scheme``: ``"BIO"``, the default, or ``"BILOU"``; option ``question`` picks
the spans question of a form, else its first one is written): one document per record, its
tokens those the task was imported with (``data["tokens"]``) else ``annolab.io.tokens``'
tokenizer's. A span that does not fall on token boundaries is tagged on the tokens it touches
and noted; one that overlaps a span already tagged is left out and noted. A record without an
answer is written with every token ``O``.

Reading: the token is a line's first column and the tag its last, the columns separated by tabs
when the line has one, else by spaces, so CoNLL-2003 files (token, POS, chunk, NER) read too.
``-DOCSTART-`` lines are skipped. Each document's scheme is read from its tags: BILOU when it
has an ``L-`` or ``U-``, BIOES (``E-``, ``S-``, read as BILOU's ``L-``, ``U-``) when it has
those, else BIO; an ``I-`` that continues no entity starts one. A file of tokens alone (one
column) gives tasks without answers. Tasks are named ``{file stem}-{n:05d}``, ``n`` counting
documents from 1, so importing a file twice gives the same ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from annolab.errors import DataError, ValidationError
from annolab.io.records import Context, Format, Item, Record, WriteReport
from annolab.io.tokens import SCHEMES, spans_from_tags, tags_from_spans, token_offsets

__all__ = [
    "FORMATS",
    "answer_to",
    "describe_problem",
    "read_conll",
    "spans_question",
    "task_spans",
    "task_tokens",
    "write_conll",
]

DOCSTART = "-DOCSTART-"


def spans_question(context: Context) -> tuple[str, str]:
    """The name and the text field of the spans question a token format writes or reads: the
    one the ``question`` option names, else the layout's first spans question."""
    layout = context.layout
    name = context.options.get("question")
    if name is not None:
        question = layout.question(str(name))
        if question.kind != "spans":
            rule = f"is a {question.kind} question; this format holds a spans question"
            raise ValidationError("question", name, rule)
    else:
        found = [q for q in layout.questions if q.kind == "spans"]
        if not found:
            msg = f"layout {layout.name!r} asks no spans question; CoNLL and spaCy hold entities"
            raise DataError(msg)
        question = found[0]
    return question.name, str(getattr(question, "field", None) or "text")


def answer_to(payload: Mapping[str, Any] | None, name: str, kind: str) -> Mapping[str, Any] | None:
    """The answer of kind ``kind`` to question ``name`` in a stored payload (a form's, or the
    one question's), None when there is none."""
    if payload is None:
        return None
    if payload.get("kind") == "form":
        answer = (payload.get("answers") or {}).get(name)
        return answer if answer is not None and answer.get("kind") == kind else None
    return payload if payload.get("kind") == kind else None


def task_spans(payload: Mapping[str, Any] | None, name: str) -> list[Mapping[str, Any]]:
    """The spans answering question ``name`` in a stored payload; none without an answer."""
    answer = answer_to(payload, name, "spans")
    return list(answer.get("spans") or []) if answer is not None else []


def task_tokens(
    data: Mapping[str, Any], field: str
) -> tuple[str, list[tuple[int, int]], str | None]:
    """The text of ``field``, its token offsets and, when the task's own tokens could not be
    used, why (the text is then tokenized by ``annolab.io.tokens``)."""
    text = str(data.get(field) or "")
    tokens = data.get("tokens")
    if tokens is not None:
        try:
            return text, token_offsets(text, [str(t) for t in tokens]), None
        except ValidationError as exc:
            return (
                text,
                token_offsets(text),
                f"its tokens do not match its text ({exc}); retokenized",
            )
    return text, token_offsets(text), None


def describe_problem(text: str, problem: Mapping[str, Any]) -> str:
    """A note for the report on a span ``tags_from_spans`` could not tag as it is."""
    start, end, label = problem["start"], problem["end"], problem["label"]
    head = f"span {start}-{end} {text[start:end]!r} {label}"
    tokens = problem["tokens"]
    if problem["problem"] == "misaligned":
        return f"{head} does not fall on token boundaries; tagged as tokens {_token_range(tokens)}"
    if problem["problem"] == "overlap":
        return f"{head} overlaps a span on tokens {_token_range(tokens)}; left out"
    return f"{head} covers no token; left out"


def _token_range(tokens: tuple[int, int]) -> str:
    first, last = tokens[0] + 1, tokens[1]  # counted from 1, as a person reads them
    return str(first) if first == last else f"{first}-{last}"


def _scheme(context: Context) -> str:
    scheme = str(context.options.get("scheme", "BIO")).upper()
    if scheme not in SCHEMES:
        raise ValidationError(
            "scheme", context.options.get("scheme"), f"use {' or '.join(SCHEMES)}"
        )
    return scheme


def write_conll(records: Iterable[Record], path: Path, context: Context) -> WriteReport:
    """Write one document per record, ``token<TAB>tag`` lines and a blank line after each.

    The records are streamed: only the task ids seen are kept, to count tasks.
    """
    scheme = _scheme(context)
    name, field = spans_question(context)
    report = WriteReport()
    tasks: set[str] = set()
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for record in records:
            tasks.add(record.task)
            text, offsets, retokenized = task_tokens(record.data, field)
            if retokenized:
                report.notes.append((record.task, retokenized))
            if not offsets:
                report.notes.append((record.task, "its text has no tokens; not written"))
                continue
            tags, problems = tags_from_spans(task_spans(record.payload, name), offsets, scheme)
            report.notes.extend((record.task, describe_problem(text, p)) for p in problems)
            for (start, end), tag in zip(offsets, tags, strict=True):
                token = text[start:end]
                if any(c in token for c in "\t\n\r"):
                    # A tab or a line break would break the line apart: written as a space.
                    token = " ".join(token.split())
                    report.notes.append((record.task, f"token {token!r} had a tab or line break"))
                handle.write(f"{token}\t{tag}\n")
            handle.write("\n")
            report.written += 1
    report.tasks = len(tasks)
    return report


def _columns(line: str) -> list[str]:
    return line.split("\t") if "\t" in line else line.split()


def _documents(path: Path) -> Iterator[tuple[int, list[tuple[int, list[str]]]]]:
    """Each document's first line number and its lines (number, columns), streamed."""
    lines: list[tuple[int, list[str]]] = []
    with path.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle, start=1):
            line = raw.rstrip("\r\n")
            if not line.strip():
                if lines:
                    yield lines[0][0], lines
                    lines = []
                continue
            columns = _columns(line)
            if columns[0] == DOCSTART:
                continue
            lines.append((number, columns))
    if lines:
        yield lines[0][0], lines


# BIOES names BILOU's last and unit tags E- and S-.
_BIOES = {"E": "L", "S": "U"}


def _tag_scheme(tags: Sequence[str]) -> tuple[str, list[str]]:
    prefixes = {tag[:2] for tag in tags}
    if prefixes & {"E-", "S-"}:
        return "BILOU", [_BIOES.get(t[0], t[0]) + t[1:] if t[1:2] == "-" else t for t in tags]
    if prefixes & {"L-", "U-"}:
        return "BILOU", list(tags)
    return "BIO", list(tags)


def _document_item(
    lines: list[tuple[int, list[str]]], task: str, name: str, field: str, forms: bool
) -> Item:
    first = lines[0][0]
    widths = {len(columns) for _, columns in lines}
    for number, columns in lines:
        if not columns[0]:
            return Item(
                where=f"line {number}", task=task, error="the token (first column) is empty"
            )
        if len(columns) == 1 and widths != {1}:
            rule = "has a token and no tag; each line of a tagged document is token<TAB>tag"
            return Item(where=f"line {number}", task=task, error=f"{columns[0]!r} {rule}")
    tokens = [columns[0] for _, columns in lines]
    text = " ".join(tokens)
    data: dict[str, Any] = {"text": text, "tokens": tokens}
    if field != "text":
        data[field] = text
    if widths == {1}:
        return Item(where=f"line {first}", task=task, data=data)
    scheme, tags = _tag_scheme([columns[-1].strip() for _, columns in lines])
    try:
        spans = spans_from_tags(tags, token_offsets(text, tokens), scheme)
    except ValidationError as exc:
        index = int(exc.field.removeprefix("tags[").rstrip("]")) if "[" in exc.field else 0
        tag = lines[index][1][-1].strip()
        error = f"the tag {tag!r} {exc.rule}"
        return Item(where=f"line {lines[index][0]}", task=task, error=error)
    answer: dict[str, Any] = {"kind": "spans", "spans": spans}
    payload = {"kind": "form", "answers": {name: answer}} if forms else answer
    return Item(where=f"line {first}", task=task, data=data, payload=payload)


def read_conll(path: Path, context: Context) -> Iterator[Item]:
    """Yield one task per document of a CoNLL file, with its entities as a spans answer (a
    form's answer to the spans question when the layout asks several questions)."""
    name, field = spans_question(context)
    forms = len(context.layout.questions) > 1
    for n, (_, lines) in enumerate(_documents(path), start=1):
        yield _document_item(lines, f"{path.stem}-{n:05d}", name, field, forms)


FORMATS: tuple[Format, ...] = (
    Format(
        name="conll",
        summary="CoNLL token<TAB>tag lines (BIO, or BILOU with scheme='BILOU'), a blank line "
        "after each document",
        kinds=("spans",),
        suffixes=(".conll", ".conll03", ".iob", ".bio"),
        write=write_conll,
        read=read_conll,
    ),
)
