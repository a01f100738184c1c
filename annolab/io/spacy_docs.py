"""spaCy: a DocBin (``.spacy``, what ``spacy train`` reads) or one ``Doc.to_json()`` per line.

Each record becomes one ``Doc`` whose text is the task's text exactly: its tokens are those the
task was imported with (``data["tokens"]``) else ``annolab.io.tokens``' tokenizer's, and the
whitespace between them that one trailing space per token cannot hold becomes whitespace tokens,
as spaCy's own tokenizer makes them.

- Spans: every span goes to ``doc.spans["sc"]``; ``doc.ents``, which cannot overlap, gets those
  that overlap no span taken before them (by start, the longest first, as the CoNLL tags do).
  A span that does not fall on token boundaries is expanded to the tokens it touches. Both are
  noted in the report.
- Classification: a ``choice`` answer sets ``doc.cats`` to 1.0 for the chosen label and 0.0 for
  the question's other options; a ``choices`` answer 1.0 for each chosen one. With several
  classification questions in the layout, the keys are ``"question:label"``.
- The task id is kept in ``doc.user_data["annolab_task"]`` (the DocBin is written with
  ``store_user_data=True``) and in the JSON object's ``"annolab_task"`` key, which
  ``Doc.from_json`` ignores.

A DocBin is one serialized object, so the docs of an export are held in memory until it is
written; ``spacy-jsonl`` streams. Reading gives the spans of ``doc.spans["sc"]`` when the doc
has that group, else its entities; a question's ``cats`` at 0.5 or more are its chosen labels
(more than one for a single-choice question is refused).

spaCy is an optional extra: ``pip install "annolab[spacy]"``; it is imported when a spaCy
format is used, never with annolab.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from annolab.errors import DataError, ValidationError
from annolab.io.conll import answer_to, task_tokens
from annolab.io.records import Context, Format, Item, Record, WriteReport

if TYPE_CHECKING:
    from spacy.tokens import Doc
    from spacy.vocab import Vocab

__all__ = ["FORMATS", "read_docbin", "read_jsonl", "write_docbin", "write_jsonl"]

TASK_KEY = "annolab_task"
SPAN_KEY = "sc"  # the span group spaCy's span categorizer reads by default


def _spacy() -> ModuleType:
    try:
        import spacy
    except ImportError as exc:
        msg = 'the spaCy formats need spaCy; install it with pip install "annolab[spacy]"'
        raise DataError(msg) from exc
    return spacy


def _vocab() -> Vocab:
    vocab: Vocab = _spacy().blank("xx").vocab
    return vocab


class _Questions:
    """The layout's questions a Doc holds: one spans question (its text field is the doc's
    text) and the classification ones (their options, and the cats key of each option)."""

    def __init__(self, context: Context) -> None:
        layout = context.layout
        chosen = context.options.get("question")
        spans = [q for q in layout.questions if q.kind == "spans"]
        if chosen is not None:
            question = layout.question(str(chosen))
            if question.kind != "spans":
                rule = f"is a {question.kind} question; the option names the spans question"
                raise ValidationError("question", chosen, rule)
            spans = [question]
        self.spans = spans[0].name if spans else None
        self.field = str(getattr(spans[0], "field", None) or "text") if spans else "text"
        classes = [q for q in layout.questions if q.kind in ("choice", "choices")]
        self.classes: dict[str, tuple[str, list[str]]] = {}
        for question in classes:
            options = getattr(question, "options", None)
            names = [o.name for o in options] if options else list(context.labels.names)
            self.classes[question.name] = (question.kind, names)
        if self.spans is None and not self.classes:
            msg = (
                f"layout {layout.name!r} asks no spans, choice or choices question; "
                "a spaCy Doc holds entities, spans and categories"
            )
            raise DataError(msg)
        self.prefixed = len(self.classes) > 1
        self.single = len(layout.questions) == 1

    def key(self, question: str, label: str) -> str:
        return f"{question}:{label}" if self.prefixed else label


def _words(text: str, offsets: Sequence[tuple[int, int]]) -> tuple[list[str], list[bool]]:
    """Words and trailing spaces that spell ``text`` exactly: the tokens, and whitespace tokens
    for the whitespace one trailing space cannot hold."""
    words: list[str] = []
    spaces: list[bool] = []
    position = 0
    for start, end in [*offsets, (len(text), len(text))]:
        gap = text[position:start]
        if gap and words and gap[0] == " " and not spaces[-1]:
            spaces[-1] = True
            gap = gap[1:]
        if gap:
            words.append(gap)
            spaces.append(False)
        if end > start:
            words.append(text[start:end])
            spaces.append(False)
        position = end
    return words, spaces


def _doc_of(record: Record, questions: _Questions, vocab: Vocab) -> tuple[Doc, list[str]]:
    """The Doc of one record, and notes on what it could not hold as it is."""
    from spacy.tokens import Doc

    text, offsets, retokenized = task_tokens(record.data, questions.field)
    notes = [retokenized] if retokenized else []
    words, spaces = _words(text, offsets)
    doc = Doc(vocab, words=words, spaces=spaces)
    doc.user_data[TASK_KEY] = record.task
    if questions.spans is not None:
        answer = answer_to(record.payload, questions.spans, "spans")
        notes.extend(_set_spans(doc, list(answer.get("spans") or []) if answer else []))
    for name, (kind, options) in questions.classes.items():
        answer = answer_to(record.payload, name, kind)
        if answer is None:
            continue
        chosen = [answer["label"]] if kind == "choice" else list(answer.get("labels") or [])
        for label in [*options, *(c for c in chosen if c not in options)]:
            doc.cats[questions.key(name, str(label))] = 1.0 if label in chosen else 0.0
    return doc, notes


def _set_spans(doc: Doc, spans: list[Mapping[str, Any]]) -> list[str]:
    notes: list[str] = []
    group = []
    taken: set[int] = set()
    ents = []
    for span in sorted(spans, key=lambda s: (int(s["start"]), -int(s["end"]), str(s["label"]))):
        start, end, label = int(span["start"]), int(span["end"]), str(span["label"])
        head = f"span {start}-{end} {doc.text[start:end]!r} {label}"
        found = doc.char_span(start, end, label=label, alignment_mode="expand")
        if found is None or all(token.is_space for token in found):
            notes.append(f"{head} covers no token; left out")
            continue
        if (found.start_char, found.end_char) != (start, end):
            where = f"{found.start_char}-{found.end_char} {found.text!r}"
            notes.append(f"{head} does not fall on token boundaries; written as {where}")
        group.append(found)
        tokens = set(range(found.start, found.end))
        if tokens & taken:
            notes.append(f"{head} overlaps another span; in doc.spans['sc'] only, not doc.ents")
            continue
        taken |= tokens
        ents.append(found)
    doc.spans[SPAN_KEY] = group
    doc.set_ents(sorted(ents, key=lambda s: s.start))
    return notes


def _docs(
    records: Iterable[Record], context: Context, report: WriteReport
) -> Iterator[tuple[Doc, str]]:
    questions = _Questions(context)
    vocab = _vocab()
    tasks: set[str] = set()
    for record in records:
        tasks.add(record.task)
        doc, notes = _doc_of(record, questions, vocab)
        report.notes.extend((record.task, note) for note in notes)
        report.written += 1
        report.tasks = len(tasks)
        yield doc, record.task


def write_docbin(records: Iterable[Record], path: Path, context: Context) -> WriteReport:
    """Write a DocBin of one Doc per record (held in memory until written: one object)."""
    from spacy.tokens import DocBin

    report = WriteReport()
    docbin = DocBin(store_user_data=True)
    for doc, _ in _docs(records, context, report):
        docbin.add(doc)
    docbin.to_disk(path)
    return report


def write_jsonl(records: Iterable[Record], path: Path, context: Context) -> WriteReport:
    """Write one ``Doc.to_json()`` object per line, streamed."""
    report = WriteReport()
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        for doc, task in _docs(records, context, report):
            handle.write(json.dumps({**doc.to_json(), TASK_KEY: task}, ensure_ascii=False))
            handle.write("\n")
    return report


def _item(doc: Doc, where: str, task: str, questions: _Questions) -> Item:
    tokens = [token.text for token in doc if not token.is_space]
    data: dict[str, Any] = {"text": doc.text, "tokens": tokens}
    if questions.field != "text":
        data[questions.field] = doc.text
    answers: dict[str, dict[str, Any]] = {}
    if questions.spans is not None:
        group = doc.spans.get(SPAN_KEY, doc.ents)
        spans = [{"start": s.start_char, "end": s.end_char, "label": s.label_} for s in group]
        answers[questions.spans] = {"kind": "spans", "spans": spans}
    for name, (kind, options) in questions.classes.items():
        keys = {questions.key(name, o): o for o in options}
        if not questions.prefixed:
            keys.update({c: c for c in doc.cats if c not in keys})
        else:
            prefix = f"{name}:"
            extra = [c for c in doc.cats if c.startswith(prefix) and c not in keys]
            keys.update({c: c.removeprefix(prefix) for c in extra})
        chosen = [keys[c] for c, score in doc.cats.items() if c in keys and score >= 0.5]
        if kind == "choices" and chosen:
            answers[name] = {"kind": "choices", "labels": chosen}
        elif len(chosen) == 1:
            answers[name] = {"kind": "choice", "label": chosen[0]}
        elif chosen:
            error = f"doc.cats choose {chosen} for the single-choice question {name!r}"
            return Item(where=where, task=task, error=error)
    if questions.single:
        payload = next(iter(answers.values()), None)
    else:
        payload = {"kind": "form", "answers": answers} if answers else None
    return Item(where=where, task=task, data=data, payload=payload)


def read_docbin(path: Path, context: Context) -> Iterator[Item]:
    """Yield one task per Doc of a DocBin, its id from the doc's user data when it has one."""
    questions = _Questions(context)
    vocab = _vocab()
    from spacy.tokens import DocBin

    try:
        docbin = DocBin(store_user_data=True).from_disk(path)
    except (ValueError, KeyError, OSError) as exc:
        yield Item(where=path.name, error=f"not a spaCy DocBin file: {exc}")
        return
    for n, doc in enumerate(docbin.get_docs(vocab), start=1):
        task = str(doc.user_data.get(TASK_KEY) or f"{path.stem}-{n:05d}")
        yield _item(doc, f"doc {n}", task, questions)


def _doc_from_json(line: str, vocab: Vocab) -> tuple[dict[str, Any], Doc]:
    from spacy.tokens import Doc

    value = json.loads(line)  # a json.JSONDecodeError is a ValueError
    if not isinstance(value, dict):
        msg = f"a JSON {type(value).__name__}, not an object"
        raise ValueError(msg)  # noqa: TRY004  # the caller reports every bad line alike
    try:
        return value, Doc(vocab).from_json(value)
    except (KeyError, TypeError, IndexError) as exc:  # spaCy reads fields without checking
        msg = f"{type(exc).__name__}: {exc}"
        raise ValueError(msg) from exc


def read_jsonl(path: Path, context: Context) -> Iterator[Item]:
    """Yield one task per line of ``Doc.to_json()`` objects, read with ``Doc.from_json``."""
    questions = _Questions(context)
    vocab = _vocab()
    with path.open(encoding="utf-8") as handle:
        for n, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"line {n}"
            try:
                value, doc = _doc_from_json(line, vocab)
            except ValueError as exc:
                yield Item(where=where, error=f"not a Doc.to_json() object: {exc}")
                continue
            task = str(value.get(TASK_KEY) or f"{path.stem}-{n:05d}")
            yield _item(doc, where, task, questions)


FORMATS: tuple[Format, ...] = (
    Format(
        name="spacy",
        summary="a spaCy DocBin (.spacy): entities, spans['sc'] and cats, for spacy train",
        kinds=("spans", "choice", "choices"),
        suffixes=(".spacy",),
        write=write_docbin,
        read=read_docbin,
    ),
    Format(
        name="spacy-jsonl",
        summary="one spaCy Doc.to_json() object per line, which Doc.from_json reads",
        kinds=("spans", "choice", "choices"),
        suffixes=(),
        write=write_jsonl,
        read=read_jsonl,
    ),
)
