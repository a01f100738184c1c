"""Hugging Face ``datasets``: a saved ``Dataset`` folder, in the shapes trainers expect.

Needs the optional extra: ``pip install "annolab[hf]"``. The folder is written with
``Dataset.save_to_disk`` and reads back with ``datasets.load_from_disk(folder)``. It is built
with ``Dataset.from_generator``, so records stream to Arrow files and memory stays flat
however many tasks are exported.

One question per dataset: the one the option ``question`` names, else the layout's first
question of a kind written here (``spans``, ``choice``, ``choices``, ``boxes``). The columns
keep the names trainers and the Hub's datasets use, so a form with several such questions is
exported once per question (``question="..."``) rather than as prefixed column groups. The
columns, by the question's kind:

- ``spans`` (the shape of ``conll2003`` and ``wnut_17``): ``id``, ``text``, ``tokens``
  (``List(Value("string"))``), ``ner_tags`` (``List(ClassLabel(names=["O", "B-x", "I-x", ...]))``,
  each label's tags in label-schema order; ``BIO`` unless option ``scheme="BILOU"``, which gives
  ``B-x, I-x, L-x, U-x`` per label) and ``spans`` (``List({"start": int64, "end": int64,
  "label": string})``, the character spans, for span-based trainers). The tokens are the
  task's own (``data["tokens"]``) else ``annolab.io.tokens``' tokenizer's. A span off token
  boundaries is tagged on the tokens it touches, one overlapping another is left out of the
  tags, a span whose label is not one of the question's labels is left out of the tags: each
  is a note of the report. The ``spans`` column keeps every span of the answer as it is.
- ``choice``: ``id``, ``text``, ``label`` (``ClassLabel`` of the labels); ``choices``:
  ``id``, ``text``, ``labels`` (``List(ClassLabel)``).
- ``boxes`` (the shape of ``cppe-5``): ``id``, ``image`` (the task's image path or URL as a
  string; with option ``images="embed"``, ``datasets.Image()`` holding the file's bytes, and
  None, noted, for an image that is not a local file: ``save_to_disk`` would fetch it; an
  embedded image reads back as its file name, all ``datasets`` keeps of its path),
  ``width``, ``height`` (``int64``, None when the task has none), ``objects``: ``{"bbox":
  List(List(float64, length=4)), "category": List(ClassLabel)}``, each bbox ``[x, y, width,
  height]`` in natural pixels (COCO's order; float64 so coordinates come back exactly).
- every kind: ``annotator`` (string, None for a consensus or gold answer) and ``source``
  (string: ``human``, ``persona``, ``model``, ``consensus``, ``gold``, or ``none``).

A task exported without an answer (``source == "none"``) has every tag ``O`` and no spans,
``label`` None, ``labels`` ``[]``, or no objects (the shapes trainers take), and reads back
without an answer when that is all it holds; a question of a form left unanswered reads back as
an empty answer. A missing ``label`` is stored as null:
``ClassLabel`` accepts None (Arrow null) as well as -1 (the GLUE test splits' convention); we
write None and read both as "no label".

Reading accepts a saved folder (``load_from_disk``; a ``DatasetDict``'s splits are read in
order, as ``{split} row n``), a ``.parquet`` file (its Hugging Face features are read from the
file's metadata) or a ``.jsonl`` file of rows with those columns. Each row is an item: the task
is the ``id`` column, else ``row-{n:05d}`` (``{split}-{n:05d}`` in a split; ``n`` counts rows
from 0, as ``dataset[n]`` does);
the data is ``text`` (the tokens joined by spaces when there is no text column, as in
``wnut_17``) and ``tokens`` when present, or ``image``, ``width`` and ``height``; the answer is
built from ``spans`` when the row has that column, else from ``ner_tags`` over the tokens
(BILOU when the tags have ``L-`` or ``U-``), or from ``label``, ``labels`` or ``objects``. Tags,
labels and categories stored as ``ClassLabel`` ints are decoded with the feature's names (in a
``.jsonl`` file, which carries no features, or a column without names, with the names this
writer would give, ``scheme`` and the question's labels); strings are
taken as they are. A row whose ``source`` is ``none`` and that holds no label is a task
without an answer. The question
read is the one ``question`` names, else the layout's first one whose columns the dataset has.
A row that cannot be read is a refusal at ``row n``.
"""

from __future__ import annotations

import functools
import importlib
import itertools
import json
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from annolab.errors import DataError, ValidationError
from annolab.io.conll import answer_to, describe_problem, task_tokens
from annolab.io.records import Context, Format, Item, Record, WriteReport
from annolab.io.tokens import SCHEMES, spans_from_tags, tags_from_spans, token_offsets

__all__ = ["FORMATS", "KINDS", "read_hf", "tag_names", "write_hf"]

KINDS = ("spans", "choice", "choices", "boxes")

# The columns that say a dataset holds an answer of each kind (for picking the question read).
_ANSWER_COLUMNS = {
    "spans": ("spans", "ner_tags", "tokens"),
    "choice": ("label",),
    "choices": ("labels",),
    "boxes": ("objects",),
}

_BATCH = 512  # rows read from Arrow at a time


def _datasets() -> Any:
    try:
        # import_module: datasets ships no type hints, and it is an optional extra.
        return importlib.import_module("datasets")
    except ImportError as exc:
        msg = 'the Hugging Face format needs the datasets package: pip install "annolab[hf]"'
        raise DataError(msg) from exc


@dataclass(frozen=True)
class _Question:
    name: str
    kind: str
    field: str  # the data field holding its text or image
    names: tuple[str, ...]  # its labels, in schema order
    form: bool  # answers are a form's (the layout asks several questions)


def _question(context: Context, columns: Iterable[str] | None = None) -> _Question:
    """The question written or read: the ``question`` option's, else the first one of a kind
    this format holds (when reading, the first whose columns are in ``columns``)."""
    layout = context.layout
    name = context.options.get("question")
    if name is not None:
        question = layout.question(str(name))
        if question.kind not in KINDS:
            rule = f"is a {question.kind} question; the hf format holds {', '.join(KINDS)}"
            raise ValidationError("question", name, rule)
    else:
        found = [q for q in layout.questions if q.kind in KINDS]
        if columns is not None:
            have = set(columns)
            found = [q for q in found if have & set(_ANSWER_COLUMNS[q.kind])] or found
        if not found:
            msg = (
                f"layout {layout.name!r} asks no {', '.join(KINDS)} question; the hf format "
                "holds entities, labels or boxes"
            )
            raise DataError(msg)
        question = found[0]
    default = "image" if question.kind == "boxes" else "text"
    return _Question(
        name=question.name,
        kind=question.kind,
        field=str(getattr(question, "field", None) or default),
        names=layout.labels_for(question.name, context.labels).names,
        form=len(layout.questions) > 1,
    )


def _scheme(context: Context) -> str:
    scheme = str(context.options.get("scheme", "BIO")).upper()
    if scheme not in SCHEMES:
        raise ValidationError(
            "scheme", context.options.get("scheme"), f"use {' or '.join(SCHEMES)}"
        )
    return scheme


def tag_names(labels: Sequence[str], scheme: str = "BIO") -> list[str]:
    """The ``ClassLabel`` names of ``ner_tags``: ``O``, then each label's tags in order.

    >>> tag_names(["person", "location"])
    ['O', 'B-person', 'I-person', 'B-location', 'I-location']
    >>> tag_names(["PER"], scheme="BILOU")
    ['O', 'B-PER', 'I-PER', 'L-PER', 'U-PER']
    """
    prefixes = "BI" if scheme == "BIO" else "BILU"
    return ["O", *(f"{prefix}-{label}" for label in labels for prefix in prefixes)]


# --- writing --------------------------------------------------------------------------------


def _list(datasets: Any, feature: Any, length: int = -1) -> Any:
    # datasets 4 added List; 3.x (which the extra allows) spells it Sequence.
    kind = getattr(datasets, "List", None) or datasets.Sequence
    return kind(feature, length=length)


def _features(datasets: Any, question: _Question, scheme: str, embed: bool) -> Any:
    string, integer = datasets.Value("string"), datasets.Value("int64")
    labels = datasets.ClassLabel(names=list(question.names))
    columns: dict[str, Any] = {"id": string}
    if question.kind == "spans":
        tags = datasets.ClassLabel(names=tag_names(question.names, scheme))
        span = {"start": integer, "end": integer, "label": string}
        columns |= {
            "text": string,
            "tokens": _list(datasets, string),
            "ner_tags": _list(datasets, tags),
            "spans": _list(datasets, span),
        }
    elif question.kind == "choice":
        columns |= {"text": string, "label": labels}
    elif question.kind == "choices":
        columns |= {"text": string, "labels": _list(datasets, labels)}
    else:
        bbox = _list(datasets, _list(datasets, datasets.Value("float64"), length=4))
        columns |= {
            "image": datasets.Image() if embed else string,
            "width": integer,
            "height": integer,
            "objects": {"bbox": bbox, "category": _list(datasets, labels)},
        }
    return datasets.Features({**columns, "annotator": string, "source": string})


class _RowWriter:
    """Turns records into rows of the question's columns, noting what it cannot write."""

    def __init__(self, question: _Question, scheme: str, embed: bool) -> None:
        self.question = question
        self.scheme = scheme
        self.embed = embed
        self.known = set(question.names)
        self.report = WriteReport()
        self.tasks: set[str] = set()

    def rows(self, records: Iterable[Record]) -> Iterator[dict[str, Any]]:
        build = {
            "spans": self._spans,
            "choice": self._choice,
            "choices": self._choices,
            "boxes": self._boxes,
        }[self.question.kind]
        for record in records:
            self.tasks.add(record.task)
            row = build(record)
            self.report.written += 1
            yield {
                "id": record.task,
                **row,
                "annotator": record.annotator,
                "source": record.source,
            }
        self.report.tasks = len(self.tasks)

    def _note(self, record: Record, reason: str) -> None:
        self.report.notes.append((record.task, reason))

    def _answer(self, record: Record, kind: str) -> Mapping[str, Any] | None:
        return answer_to(record.payload, self.question.name, kind)

    def _spans(self, record: Record) -> dict[str, Any]:
        text, offsets, retokenized = task_tokens(record.data, self.question.field)
        if retokenized:
            self._note(record, retokenized)
        answer = self._answer(record, "spans")
        spans: list[dict[str, Any]] = [
            {"start": int(s["start"]), "end": int(s["end"]), "label": str(s["label"])}
            for s in (answer.get("spans") or [] if answer is not None else [])
        ]
        tagged = []
        for span in spans:
            if span["label"] in self.known:
                tagged.append(span)
                continue
            start, end = span["start"], span["end"]
            self._note(
                record,
                f"span {start}-{end} {text[start:end]!r} {span['label']} is not one of the "
                "labels; left out of ner_tags (kept in spans)",
            )
        tags, problems = tags_from_spans(tagged, offsets, self.scheme)
        for problem in problems:
            self._note(record, describe_problem(text, problem))
        return {
            "text": text,
            "tokens": [text[start:end] for start, end in offsets],
            "ner_tags": tags,
            "spans": spans,
        }

    def _label(self, record: Record, label: object) -> str | None:
        if str(label) in self.known:
            return str(label)
        self._note(record, f"label {label!r} is not one of the labels; left out")
        return None

    def _choice(self, record: Record) -> dict[str, Any]:
        answer = self._answer(record, "choice")
        label = None if answer is None else self._label(record, answer.get("label"))
        return {"text": _text(record.data, self.question.field), "label": label}

    def _choices(self, record: Record) -> dict[str, Any]:
        answer = self._answer(record, "choices")
        chosen = [] if answer is None else [self._label(record, x) for x in answer["labels"]]
        return {
            "text": _text(record.data, self.question.field),
            "labels": [label for label in chosen if label is not None],
        }

    def _boxes(self, record: Record) -> dict[str, Any]:
        answer = self._answer(record, "boxes")
        bboxes, categories = [], []
        for box in answer.get("boxes") or [] if answer is not None else []:
            label = self._label(record, box.get("label"))
            if label is not None:
                bboxes.append([float(box[k]) for k in ("x", "y", "width", "height")])
                categories.append(label)
        image = record.data.get(self.question.field)
        return {
            "image": self._image(record, image),
            "width": self._size(record, "width"),
            "height": self._size(record, "height"),
            "objects": {"bbox": bboxes, "category": categories},
        }

    def _image(self, record: Record, image: object) -> Any:
        if image is None:
            self._note(record, f"has no image ({self.question.field}); written as None")
            return None
        source = str(image)
        if not self.embed:
            return source
        local = Path(source)
        if "://" in source or not local.is_file():
            # Not even its path: save_to_disk would fetch the file to size it.
            self._note(record, f"image {source!r} is not a local file to embed; left out")
            return None
        return {"path": source, "bytes": local.read_bytes()}

    def _size(self, record: Record, name: str) -> int | None:
        value = record.data.get(name)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
            self._note(record, f"{name}={value!r} is not a whole number of pixels; left out")
            return None
        return int(value)


def _text(data: Mapping[str, Any], field: str) -> str | None:
    value = data.get(field)
    return None if value is None else str(value)


def write_hf(records: Iterable[Record], path: Path, context: Context) -> WriteReport:
    """Save ``records`` as a ``datasets.Dataset`` folder at ``path`` (see the module's
    docstring for the columns); options ``question``, ``scheme`` and ``images``."""
    datasets = _datasets()
    question = _question(context)
    scheme = _scheme(context)
    images = context.options.get("images")
    if images not in (None, "path", "embed"):
        raise ValidationError("images", images, "use 'path' (the default) or 'embed'")
    writer = _RowWriter(question, scheme, embed=images == "embed")
    features = _features(datasets, question, scheme, writer.embed)
    remaining = iter(records)
    first = next(remaining, None)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A cache of our own: from_generator's Arrow files go there, not to the user's HF cache,
    # and a fresh fingerprint means no earlier export's cache can be reused by mistake.
    cache = Path(tempfile.mkdtemp(prefix=".annolab-hf-", dir=path.parent))
    try:
        if first is None:  # from_generator refuses to build a dataset of no rows
            empty: dict[str, list[Any]] = {name: [] for name in features}
            dataset = datasets.Dataset.from_dict(empty, features=features)
        else:
            try:
                dataset = datasets.Dataset.from_generator(
                    # Not through gen_kwargs: datasets would split a list given there into shards.
                    functools.partial(writer.rows, itertools.chain([first], remaining)),
                    features=features,
                    cache_dir=str(cache),
                    fingerprint=uuid.uuid4().hex,
                )
            except datasets.exceptions.DatasetGenerationError as exc:
                # datasets wraps what reading the records raised (a lost connection...): that
                # error, not the wrapper, tells the user what happened.
                if exc.__cause__ is None:
                    raise
                raise exc.__cause__ from None
        path.mkdir(parents=True, exist_ok=True)
        # An empty dataset is saved as no shard at all unless asked for one, and
        # load_from_disk then fails on it.
        dataset.save_to_disk(str(path), num_shards=1 if first is None else None)
        del dataset  # it maps the cache's files
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    return writer.report


# --- reading --------------------------------------------------------------------------------


def _names(feature: Any, *keys: str) -> list[str] | None:
    """The ClassLabel names under ``feature`` (through lists, and dicts by ``keys``)."""
    remaining = list(keys)
    while feature is not None:
        names = getattr(feature, "names", None)
        if isinstance(names, list):
            return [str(n) for n in names]
        if isinstance(feature, Mapping):
            feature = feature.get(remaining.pop(0)) if remaining else None
        elif isinstance(feature, list):  # [feature], the oldest spelling of a list
            feature = feature[0] if feature else None
        else:
            feature = getattr(feature, "feature", None)
    return None


def _decode(value: Any, names: Sequence[str] | None, what: str) -> str | None:
    """A ClassLabel value as its name: ints through ``names``, strings as they are."""
    if value is None or value == -1:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        if names is None:
            raise ValueError(f"{what} {value} is a class number and the dataset names none")
        if not 0 <= value < len(names):
            rule = f"is not a class number; the {len(names)} classes are 0 to {len(names) - 1}"
            raise ValueError(f"{what} {value} {rule}")
        return names[value]
    raise ValueError(f"{what} {value!r} is neither a class number nor a name")


@dataclass(frozen=True)
class _Names:
    tags: list[str]
    labels: list[str]


def _rows_of(path: Path) -> Iterator[tuple[str, Any, Iterator[dict[str, Any]]]]:
    """Each part of the file: its name (a split's, or ""), its features, and its rows."""
    if path.is_dir():
        datasets = _datasets()
        loaded = datasets.load_from_disk(str(path))
        parts = loaded.items() if isinstance(loaded, datasets.DatasetDict) else [("", loaded)]
        for split, dataset in parts:
            # Arrow rows are the stored values: ClassLabel ints, an Image's {bytes, path}.
            batches = dataset.with_format("arrow").iter(batch_size=_BATCH)
            yield split, dataset.features, (r for b in batches for r in b.to_pylist())
        return
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        datasets = _datasets()
        parquet = importlib.import_module("pyarrow.parquet")
        handle = parquet.ParquetFile(str(path))
        features = datasets.Features.from_arrow_schema(handle.schema_arrow)
        batches = handle.iter_batches(batch_size=_BATCH)
        yield "", features, (r for b in batches for r in b.to_pylist())
        return
    if suffix in {".jsonl", ".ndjson", ".json"}:
        yield "", None, _json_lines(path)
        return
    rule = "is not a saved dataset folder, a .parquet file or a .jsonl file"
    raise ValidationError("path", str(path), rule)


def _json_lines(path: Path) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        for raw in handle:
            if not raw.strip():
                continue
            try:
                row = json.loads(raw)
            except json.JSONDecodeError as exc:
                row = {"__error__": f"is not JSON: {exc}"}
            yield row if isinstance(row, dict) else {"__error__": "is not a JSON object"}


def _columns(features: Any, rows: Iterator[dict[str, Any]]) -> tuple[set[str], Any]:
    """The column names, and the rows (with the first put back when it was peeked at)."""
    if features is not None:
        return set(features), rows
    first = next(rows, None)
    if first is None:
        return set(), iter(())
    return set(first), _chain(first, rows)


def _chain(first: dict[str, Any], rest: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    yield first
    yield from rest


def read_hf(path: Path, context: Context) -> Iterator[Item]:
    """Yield one task per row of a saved dataset folder, a .parquet or a .jsonl file, with
    its answer to the question (a form's answer when the layout asks several)."""
    scheme = _scheme(context)
    for split, features, found in _rows_of(path):
        columns, rows = _columns(features, found)
        question = _question(context, columns)
        # Class numbers without names (a .jsonl, a parquet file written by another tool) are
        # read as this writer numbers them.
        names = _Names(tag_names(question.names, scheme), list(question.names))
        if features is not None:
            column = {"choice": "label", "choices": "labels", "boxes": "objects"}
            names = _Names(
                tags=_names(features.get("ner_tags")) or names.tags,
                labels=_names(features.get(column.get(question.kind, "")), "category")
                or names.labels,
            )
        prefix = f"{split} " if split else ""
        for n, row in enumerate(rows):
            where = f"{prefix}row {n}"
            found_id = row.get("id")
            task = f"{split or 'row'}-{n:05d}" if found_id in (None, "") else str(found_id)
            try:
                yield _item(row, where, task, question, names)
            except (KeyError, TypeError, ValueError, IndexError, ValidationError) as exc:
                yield Item(where=where, task=task, error=_reason(exc))


def _reason(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"has no {exc.args[0]!r}"
    return str(exc)


def _item(
    row: Mapping[str, Any], where: str, task: str, question: _Question, names: _Names
) -> Item:
    if "__error__" in row:
        return Item(where=where, task=task, error=str(row["__error__"]))
    if question.kind == "boxes":
        data, answer = _boxes_row(row, question, names)
    else:
        data = _text_data(row, question)
        answer = _answer_of(row, data, question, names)
    if row.get("source") == "none" and answer is not None and not _holds_anything(answer):
        answer = None  # written for a task exported without an answer
    payload: dict[str, Any] | None = answer
    if answer is not None and question.form:
        payload = {"kind": "form", "answers": {question.name: answer}}
    annotator = row.get("annotator")
    return Item(
        where=where,
        task=task,
        data=data,
        payload=payload,
        annotator=None if annotator is None else str(annotator),
    )


def _holds_anything(answer: Mapping[str, Any]) -> bool:
    return any(answer.get(key) for key in ("spans", "label", "labels", "boxes"))


def _text_data(row: Mapping[str, Any], question: _Question) -> dict[str, Any]:
    tokens = row.get("tokens")
    text = row.get("text")
    if text is None and question.field != "text":
        text = row.get(question.field)
    if text is None:
        if tokens is None:
            raise ValueError("has neither text nor tokens")
        text = " ".join(str(t) for t in tokens)
    if not isinstance(text, str):
        raise TypeError(f"text {text!r} is not a string")
    data: dict[str, Any] = {"text": text}
    if question.field != "text":
        data[question.field] = text
    if tokens is not None:
        data["tokens"] = [str(t) for t in tokens]
    return data


def _answer_of(
    row: Mapping[str, Any], data: Mapping[str, Any], question: _Question, names: _Names
) -> dict[str, Any] | None:
    if question.kind == "choice":
        label = _decode(row.get("label"), names.labels, "label")
        return None if label is None else {"kind": "choice", "label": label}
    if question.kind == "choices":
        if row.get("labels") is None:
            return None
        labels = [_decode(x, names.labels, "labels") for x in row["labels"]]
        return {"kind": "choices", "labels": [x for x in labels if x is not None]}
    if row.get("spans") is not None:
        spans = [
            {"start": int(s["start"]), "end": int(s["end"]), "label": str(s["label"])}
            for s in row["spans"]
        ]
        return {"kind": "spans", "spans": spans}
    if row.get("ner_tags") is None:
        return None
    tags = [_decode(t, names.tags, "ner_tags") or "O" for t in row["ner_tags"]]
    text = str(data["text"])
    offsets = token_offsets(text, data.get("tokens"))
    if len(tags) != len(offsets):
        raise ValueError(
            f"has {len(tags)} ner_tags for {len(offsets)} tokens; give one tag per token"
        )
    scheme = "BILOU" if any(t[:2] in {"L-", "U-"} for t in tags) else "BIO"
    return {"kind": "spans", "spans": spans_from_tags(tags, offsets, scheme)}


def _boxes_row(
    row: Mapping[str, Any], question: _Question, names: _Names
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    image = row.get("image", row.get(question.field))
    if isinstance(image, Mapping):  # an Image feature's stored {bytes, path}
        image = image.get("path")
        if image is None:
            raise ValueError("has an embedded image without a path; annolab keeps image paths")
    data: dict[str, Any] = {question.field: image}
    for size in ("width", "height"):
        if row.get(size) is not None:
            data[size] = row[size]
    objects = row.get("objects")
    if objects is None:
        return data, None
    if isinstance(objects, Mapping):  # dict of lists, as the Hub's detection datasets
        pairs = list(zip(objects.get("bbox") or [], objects.get("category") or [], strict=True))
    else:  # a list of {bbox, category}
        pairs = [(o["bbox"], o["category"]) for o in objects]
    boxes = []
    for index, (bbox, category) in enumerate(pairs):
        if bbox is None or len(bbox) != 4:
            raise ValueError(f"objects.bbox[{index}] {bbox!r} is not [x, y, width, height]")
        x, y, width, height = (float(v) for v in bbox)
        label = _decode(category, names.labels, f"objects.category[{index}]")
        if label is None:
            raise ValueError(f"objects.category[{index}] is missing")
        boxes.append({"x": x, "y": y, "width": width, "height": height, "label": label})
    return data, {"kind": "boxes", "boxes": boxes}


FORMATS: tuple[Format, ...] = (
    Format(
        name="hf",
        summary="a Hugging Face datasets folder (save_to_disk): tokens and ner_tags with "
        "character spans, a ClassLabel label or labels, or image objects with COCO boxes",
        kinds=KINDS,
        write=write_hf,
        read=read_hf,
        folder=True,
    ),
)
