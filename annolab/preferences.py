"""Preference data from pairwise and ranking answers: chosen/rejected pairs for DPO-style training.

Pure: the functions here read frames and dicts (a project's ``annotations()`` and ``tasks()``),
never the database. ``Project.preferences``, ``Project.export_preferences`` and
``Project.preferences_dataset`` call them.

The rows have the columns TRL's preference trainers read (``prompt``, ``chosen``, ``rejected``),
as plain strings or, with ``conversational=True``, as chat messages
(``[{"role": "user", "content": ...}]`` for the prompt, ``[{"role": "assistant", ...}]`` for
each answer), and four columns saying where each pair came from: ``task_id`` (the task's
external id), ``annotator`` (null for a consensus), ``source`` (``pairwise`` or ``ranking``) and
``rationale``. TRL ignores columns it does not read; drop them with
``dataset.select_columns(["prompt", "chosen", "rejected"])`` if another trainer objects.

>>> pairwise_pairs("a", "Paris.", "Lyon.", ties="drop", both_bad="drop")
[('Paris.', 'Lyon.')]
>>> ranking_pairs(["m2", "m1", "m3"], mode="adjacent")
[('m2', 'm1'), ('m1', 'm3')]
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from annolab.errors import DataError, ValidationError
from annolab.schema.enums import AnnotationKind
from annolab.schema.fields import check_members
from annolab.schema.layout import Layout, PairwiseQuestion, RankingQuestion, layout_error
from annolab.workflow.consensus import consensus

__all__ = [
    "CHOICES",
    "PreferenceOptions",
    "PreferenceReport",
    "build_preferences",
    "pairwise_pairs",
    "preference_format",
    "preference_options",
    "preference_question",
    "ranking_pairs",
    "to_dataset",
    "write_preferences",
]

log = logging.getLogger("annolab.preferences")

PreferenceQuestion = PairwiseQuestion | RankingQuestion

# Each option's allowed values, the default first.
CHOICES: dict[str, tuple[str, ...]] = {
    "which": ("consensus", "all"),
    "ties": ("drop", "both"),
    "both_bad": ("drop", "reject_both"),
    "ranking": ("adjacent", "all_pairs", "best_vs_rest"),
}
FORMATS = ("jsonl", "parquet", "hf")
_SUFFIXES = {"jsonl": "jsonl", "ndjson": "jsonl", "parquet": "parquet", "pq": "parquet"}
# The answers a person stands behind: drafts are unfinished, rejected and superseded ones are not.
_COUNTED = ("submitted", "approved")
_MESSAGE = pl.List(pl.Struct({"role": pl.String, "content": pl.String}))
_PROVENANCE = {
    "task_id": pl.String,
    "annotator": pl.String,
    "source": pl.String,
    "rationale": pl.String,
}


@dataclass(frozen=True)
class PreferenceOptions:
    """How answers become pairs; see ``Project.preferences`` for the table of options."""

    which: str = "consensus"
    ties: str = "drop"
    both_bad: str = "drop"
    ranking: str = "adjacent"
    conversational: bool = False
    reference: str | None = None
    question: str | None = None
    kind: tuple[str, ...] = ("human",)


def preference_options(**options: Any) -> PreferenceOptions:
    """The options checked: each named, each value one the option takes.

    >>> preference_options(ties="both").ties
    'both'
    >>> preference_options(ties="half")
    Traceback (most recent call last):
    annolab.errors.ValidationError: ties='half' is not one of 'drop', 'both'
    """
    known = PreferenceOptions.__dataclass_fields__
    for name, value in options.items():
        if name not in known:
            raise ValidationError(name, value, f"is not an option; use {', '.join(known)}")
    for name, allowed in CHOICES.items():
        if name in options and options[name] not in allowed:
            rule = f"is not one of {', '.join(repr(a) for a in allowed)}"
            raise ValidationError(name, options[name], rule)
    if not isinstance(options.get("conversational", False), bool):
        raise ValidationError("conversational", options["conversational"], "must be True or False")
    for name, what in (("reference", "a task input"), ("question", "a question")):
        value = options.get(name)
        if value is not None and (not isinstance(value, str) or not value):
            raise ValidationError(name, value, f"must name {what} (a non-empty string) or be None")
    kind = options.get("kind", "human")
    kinds = check_members(AnnotationKind, [kind] if isinstance(kind, str) else kind, "kind")
    if not kinds:
        raise ValidationError("kind", kind, "must name at least one annotation kind")
    chosen = PreferenceOptions(**{**options, "kind": tuple(k.value for k in kinds)})
    if chosen.both_bad == "reject_both" and chosen.reference is None:
        rule = (
            "needs reference=<input>: a both_bad verdict says neither output is good, so a pair "
            "needs a third, good answer (e.g. reference='gold' for a task input holding one)"
        )
        raise ValidationError("both_bad", chosen.both_bad, rule)
    return chosen


@dataclass(frozen=True)
class PreferenceReport:
    """What an export wrote, and what it left out and why."""

    rows: int
    answers: int  # answers read (of the kinds asked, submitted or approved)
    tasks: int  # tasks that gave at least one pair
    no_consensus: tuple[str, ...] = ()  # tasks whose answers have no majority (which="consensus")
    ties_dropped: int = 0
    both_bad_dropped: int = 0
    path: Path | None = field(default=None, compare=False)

    def __repr__(self) -> str:
        where = f" to {self.path}" if self.path is not None else ""
        return (
            f"<PreferenceReport {self.rows} pairs from {self.tasks} tasks{where}; "
            f"{len(self.no_consensus)} without consensus, {self.ties_dropped} ties and "
            f"{self.both_bad_dropped} both-bad verdicts dropped>"
        )


def preference_question(layout: Layout, name: str | None = None) -> PreferenceQuestion:
    """The layout's pairwise or ranking question: the one called ``name``, else the only one.

    >>> layout = Layout.from_dict({"name": "x", "questions": [{"kind": "text", "name": "q"}]})
    >>> preference_question(layout)
    Traceback (most recent call last):
    annolab.errors.LayoutError: layout.questions=['text'] has no pairwise or ranking question; \
preferences come from one
    """
    found = [q for q in layout.questions if isinstance(q, PairwiseQuestion | RankingQuestion)]
    if name is not None:
        question = layout.question(name)
        if not isinstance(question, PairwiseQuestion | RankingQuestion):
            rule = f"is a {question.kind} question; preferences come from pairwise or ranking"
            raise layout_error("question", name, rule)
        return question
    if not found:
        kinds = [q.kind for q in layout.questions]
        rule = "has no pairwise or ranking question; preferences come from one"
        raise layout_error("layout.questions", kinds, rule)
    if len(found) > 1:
        names = [q.name for q in found]
        rule = f"has several preference questions; choose one with question=, one of {names}"
        raise layout_error("layout.questions", names, rule)
    return found[0]


def pairwise_pairs(
    choice: str,
    a: str,
    b: str,
    *,
    ties: str,
    both_bad: str,
    reference: str | None = None,
) -> list[tuple[str, str]]:
    """The (chosen, rejected) pairs one pairwise verdict gives.

    >>> pairwise_pairs("tie", "A", "B", ties="both", both_bad="drop")
    [('A', 'B'), ('B', 'A')]
    >>> pairwise_pairs("both_bad", "A", "B", ties="drop", both_bad="reject_both", reference="R")
    [('R', 'A'), ('R', 'B')]
    """
    if choice == "a":
        return [(a, b)]
    if choice == "b":
        return [(b, a)]
    if choice == "tie":
        return [(a, b), (b, a)] if ties == "both" else []
    if both_bad == "reject_both" and reference is not None:
        return [(reference, a), (reference, b)]
    return []


def ranking_pairs(order: Sequence[str], *, mode: str) -> list[tuple[str, str]]:
    """The (better, worse) pairs of a ranking, best first.

    >>> ranking_pairs(["a", "b", "c"], mode="all_pairs")
    [('a', 'b'), ('a', 'c'), ('b', 'c')]
    >>> ranking_pairs(["a", "b", "c"], mode="best_vs_rest")
    [('a', 'b'), ('a', 'c')]
    """
    if mode == "adjacent":
        return list(itertools.pairwise(order))
    if mode == "best_vs_rest":
        return [(order[0], worse) for worse in order[1:]]
    return [(order[i], order[j]) for i in range(len(order)) for j in range(i + 1, len(order))]


@dataclass(frozen=True)
class _Answer:
    task: str
    user: str | None
    step: str
    answer: dict[str, Any]  # the question's payload, as stored


def _answers(
    annotations: pl.DataFrame, question: PreferenceQuestion, kinds: Sequence[str], review: set[str]
) -> list[_Answer]:
    """The answers to ``question`` people stand behind; a reviewer's revision replaces the work
    it corrects."""
    kept = annotations.filter(
        pl.col("status").is_in(_COUNTED) & pl.col("kind").is_in(list(kinds))
    ).sort("created_at", "task_id", "annotation_id")
    revised = set(kept.filter(pl.col("step").is_in(list(review)))["parent_id"].drop_nulls())
    found = []
    for row in kept.iter_rows(named=True):
        if row["annotation_id"] in revised:
            continue
        payload = json.loads(row["payload"])
        if payload.get("kind") == "form":
            payload = (payload.get("answers") or {}).get(question.name)
        if isinstance(payload, dict) and payload.get("kind") == question.kind:
            found.append(_Answer(row["external_id"], row["user"], row["step"], payload))
    return found


def _verdict(answer: Mapping[str, Any]) -> dict[str, Any]:
    # What people vote on: the choice or the order. A preference pair says only which output
    # is better overall, so per-criterion verdicts and rationales are left out of the vote.
    if answer["kind"] == "pairwise":
        return {"kind": "pairwise", "choice": answer["choice"], "rationale": "", "criteria": {}}
    return {"kind": "ranking", "order": list(answer["order"])}


def _consensus(
    answers: list[_Answer], adjudicate: set[str]
) -> tuple[list[_Answer], tuple[str, ...]]:
    """One answer per task: the adjudicator's when there is one, else the majority consensus
    of the answers as their kind merges them."""
    by_task: dict[str, list[_Answer]] = {}
    for answer in answers:
        by_task.setdefault(answer.task, []).append(answer)
    agreed, missing = [], []
    for task, group in by_task.items():
        decided = [a for a in group if a.step in adjudicate]
        if decided:
            agreed.append(_Answer(task, None, decided[-1].step, decided[-1].answer))
            continue
        votes = group
        merged = consensus([_verdict(a.answer) for a in votes], "majority")
        if merged is None:
            missing.append(task)
            continue
        verdict = _verdict(merged)
        backers = [a for a in votes if _verdict(a.answer) == verdict]
        # The rationales of those who gave the verdict, one a line, in the order they answered.
        why = "\n".join(r for a in backers if (r := str(a.answer.get("rationale") or "").strip()))
        agreed.append(_Answer(task, None, votes[0].step, {**verdict, "rationale": why}))
    return agreed, tuple(missing)


def _text(fields: Mapping[str, Any], name: str, task: str) -> str:
    value = fields.get(name)
    if not isinstance(value, str):
        rule = "must be text: a preference pair is made of the task's prompt and outputs"
        raise ValidationError(f"tasks[{task!r}].{name}", value, rule)
    return value


def _prompt(question: PreferenceQuestion, fields: Mapping[str, Any], task: str) -> str:
    # Without a prompt input, or with the prompt stored as the task's text (add_tasks(text=
    # "prompt") keeps it under ``text``), the task's text is the prompt.
    name = question.prompt
    if name is not None and name in fields:
        return _text(fields, name, task)
    return _text(fields, "text", task)


def _outputs(question: RankingQuestion, fields: Mapping[str, Any], task: str) -> dict[str, str]:
    items = fields.get(question.field)
    if not isinstance(items, list):
        rule = 'must be a list of outputs to rank (strings, or {"id", "text"} objects)'
        raise ValidationError(f"tasks[{task!r}].{question.field}", items, rule)
    texts = {}
    for index, item in enumerate(items):
        key, text = (
            (str(item.get("id")), item.get("text"))
            if isinstance(item, Mapping)
            else (str(index), item)
        )
        if not isinstance(text, str):
            where = f"tasks[{task!r}].{question.field}[{index}]"
            raise ValidationError(where, item, "has no text; an output is a string or has text")
        texts[key] = text
    return texts


class PreferenceSource(Protocol):
    """What preferences are read from: a project (``annolab.Project``)."""

    @property
    def layout(self) -> Layout: ...

    def annotations(self) -> pl.DataFrame: ...

    def tasks(self) -> pl.DataFrame: ...

    def task_fields(self, data: Mapping[str, Any]) -> dict[str, Any]: ...


def build_preferences(
    annotations: pl.DataFrame,
    tasks: pl.DataFrame,
    layout: Layout,
    options: PreferenceOptions,
    *,
    fields: Callable[[Mapping[str, Any]], Mapping[str, Any]] = dict,
    review_steps: Iterable[str] = (),
    adjudicate_steps: Iterable[str] = (),
) -> tuple[pl.DataFrame, PreferenceReport]:
    """The preference rows of a project's ``annotations`` and ``tasks`` frames, and a report.

    ``fields`` turns a task's stored data into what the layout reads (``Project.task_fields``).
    Rows come in task order, then in the order the answers were given.
    """
    question = preference_question(layout, options.question)
    answers = _answers(annotations, question, options.kind, set(review_steps))
    missing: tuple[str, ...] = ()
    chosen = answers
    if options.which == "consensus":
        chosen, missing = _consensus(answers, set(adjudicate_steps))
    data = {
        task: fields(json.loads(encoded))
        for task, encoded in tasks.select("external_id", "data").iter_rows()
    }
    order = {task: index for index, task in enumerate(data)}
    chosen = sorted(chosen, key=lambda a: order.get(a.task, len(order)))
    rows: list[tuple[Any, ...]] = []
    ties = both_bad = 0
    for answer in chosen:
        task_data = data.get(answer.task, {})
        prompt = _prompt(question, task_data, answer.task)
        rationale = None
        if isinstance(question, PairwiseQuestion):
            verdict = answer.answer["choice"]
            reference = None
            if verdict == "both_bad" and options.both_bad == "reject_both":
                reference = _text(task_data, str(options.reference), answer.task)
            pairs = pairwise_pairs(
                verdict,
                _text(task_data, question.a, answer.task),
                _text(task_data, question.b, answer.task),
                ties=options.ties,
                both_bad=options.both_bad,
                reference=reference,
            )
            ties += verdict == "tie" and not pairs
            both_bad += verdict == "both_bad" and not pairs
            rationale = str(answer.answer.get("rationale") or "") or None
            source = "pairwise"
        else:
            texts = _outputs(question, task_data, answer.task)
            ids = ranking_pairs([str(i) for i in answer.answer["order"]], mode=options.ranking)
            unknown = [i for pair in ids for i in pair if i not in texts]
            if unknown:
                where = f"tasks[{answer.task!r}].{question.field}"
                rule = f"has no output {unknown[0]!r}, which an answer ranks"
                raise ValidationError(where, sorted(texts), rule)
            pairs = [(texts[better], texts[worse]) for better, worse in ids]
            source = "ranking"
        rows.extend(
            (prompt, good, bad, answer.task, answer.user, source, rationale) for good, bad in pairs
        )
    frame = _frame(rows, conversational=options.conversational)
    report = PreferenceReport(
        rows=frame.height,
        answers=len(answers),
        tasks=len({row[3] for row in rows}),
        no_consensus=missing,
        ties_dropped=ties,
        both_bad_dropped=both_bad,
    )
    if missing:
        shown = ", ".join(repr(t) for t in missing[:5]) + (", ..." if len(missing) > 5 else "")
        log.warning(
            "%d task(s) have no majority verdict and give no preference pairs: %s "
            "(adjudicate them, or use which='all' for every answer)",
            len(missing),
            shown,
        )
    return frame, report


def _frame(rows: list[tuple[Any, ...]], *, conversational: bool) -> pl.DataFrame:
    text: Any = _MESSAGE if conversational else pl.String
    schema = {"prompt": text, "chosen": text, "rejected": text, **_PROVENANCE}
    if conversational:
        rows = [
            (
                [{"role": "user", "content": prompt}],
                [{"role": "assistant", "content": good}],
                [{"role": "assistant", "content": bad}],
                *rest,
            )
            for prompt, good, bad, *rest in rows
        ]
    return pl.DataFrame(rows, schema=schema, orient="row")


def collect(source: PreferenceSource, **options: Any) -> tuple[pl.DataFrame, PreferenceReport]:
    """``build_preferences`` over a project's frames (what the Project methods call)."""
    chosen = preference_options(**options)
    layout = source.layout
    preference_question(layout, chosen.question)  # refuse before reading anything
    steps = getattr(getattr(source, "workflow", None), "steps", ())
    return build_preferences(
        source.annotations(),
        source.tasks(),
        layout,
        chosen,
        fields=source.task_fields,
        review_steps=[s.name for s in steps if s.kind == "review"],
        adjudicate_steps=[s.name for s in steps if s.kind == "adjudicate"],
    )


def to_dataset(frame: pl.DataFrame) -> Any:
    """The rows as a Hugging Face ``datasets.Dataset`` (``pip install "annolab[hf]"``).

    Text columns are ``Value("string")``; with conversational rows the prompt and answers are
    ``List({"role": Value("string"), "content": Value("string")})``.
    """
    import importlib

    try:
        # import_module: datasets ships no type hints, and it is an optional extra.
        datasets = importlib.import_module("datasets")
    except ImportError as exc:
        msg = 'preference datasets need the datasets package: pip install "annolab[hf]"'
        raise DataError(msg) from exc
    string = datasets.Value("string")
    conversational = frame.schema["prompt"] == _MESSAGE
    text = [{"role": string, "content": string}] if conversational else string
    features = datasets.Features(
        {"prompt": text, "chosen": text, "rejected": text, **dict.fromkeys(_PROVENANCE, string)}
    )
    return datasets.Dataset.from_polars(frame, features=features)


def preference_format(path: Path, format: str | None) -> str:
    """The format named, or the one the file's suffix implies (``hf`` is never implied).

    >>> preference_format(Path("dpo.ndjson"), None), preference_format(Path("dpo"), "hf")
    ('jsonl', 'hf')
    """
    if format is None:
        implied = _SUFFIXES.get(path.suffix.lstrip(".").lower())
        if implied is None:
            rule = "has no preference suffix (.jsonl, .parquet); name one, or give format='hf'"
            raise ValidationError("path", str(path), rule)
        return implied
    if format not in FORMATS:
        rule = f"is not a preference format; use one of {', '.join(FORMATS)}"
        raise ValidationError("format", format, rule)
    return format


def write_preferences(frame: pl.DataFrame, path: Path, format: str) -> None:
    """Write the rows to ``path`` as ``jsonl``, ``parquet`` or a saved ``datasets.Dataset``
    (``hf``, a folder); the result appears under its name only when complete."""
    chosen = preference_format(path, format)
    path.parent.mkdir(parents=True, exist_ok=True)
    if chosen == "hf":
        dataset = to_dataset(frame)
        tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
        try:
            dataset.save_to_disk(str(tmp))
            _replace_folder(tmp, path)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        if chosen == "jsonl":
            frame.write_ndjson(tmp)
        else:
            frame.write_parquet(tmp)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _replace_folder(new: Path, path: Path) -> None:
    # A folder can not be renamed over another: move the old one aside first, so the name
    # always holds a complete dataset (the old one or the new one).
    if path.exists() and not path.is_dir():
        raise ValidationError("path", str(path), "is a file; format='hf' saves a folder")
    old = None
    if path.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{path.name}.old.", dir=path.parent))
        old.rmdir()
        path.rename(old)
    new.rename(path)
    if old is not None:
        shutil.rmtree(old)
