"""Choosing which answers an export writes, one task at a time.

``which`` is one of:

- ``consensus``: one answer per task. An adjudicator's decision wins; then the consensus the
  workflow stored when annotators agreed; otherwise the majority of the people's latest answers
  (``merge``: the project passes the workflow's majority), a single person's answer counting as
  it is. A task whose annotators have no majority is left out, and one whose annotators did not
  all agree is written with what the majority gave; both are named in the report.
- ``latest``: each annotator's latest answer (people, personas and models alike).
- ``all``: every submitted or approved answer.
- ``gold``: the entries of a gold set (chosen by the project, which checks who may read it).

Drafts, rejected and superseded answers are never exported. Tasks come in the order they were
added, each with its answers together, which is what the writers expect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import groupby
from typing import Any

from annolab.errors import AnnolabError, ValidationError
from annolab.io.records import Progress, Record
from annolab.store.annotations import TaskAnswer

WHICH = ("consensus", "latest", "all", "gold")

Merge = Callable[[list[dict[str, Any]]], "tuple[dict[str, Any] | None, float]"]
"""Several people's answers to one task merged into one (None when they have no majority), with
their mean pairwise agreement in [0, 1]."""


def check_which(which: str) -> str:
    if which not in WHICH:
        raise ValidationError("which", which, f"must be one of {', '.join(WHICH)}")
    return which


@dataclass
class Selection:
    """What the choosing saw: tasks read, tasks with no answer, and tasks left out (why)."""

    tasks: int = 0
    unanswered: int = 0
    notes: list[tuple[str, str]] = field(default_factory=list)


def select_records(
    rows: Iterable[TaskAnswer],
    which: str,
    *,
    fields: Callable[[Mapping[str, Any]], dict[str, Any]],
    merge: Merge,
    adjudication_steps: frozenset[str] = frozenset(),
    unannotated: bool = False,
    seen: Selection | None = None,
    progress: Progress | None = None,
) -> Iterator[Record]:
    """The records ``which`` chooses from ``rows`` (ordered by task), with each task's data
    as the layout reads it (``fields``); a task with nothing chosen is written without an
    answer when ``unannotated``, and left out otherwise."""
    seen = Selection() if seen is None else seen
    rule = _Consensus(merge, adjudication_steps, seen)
    for _, group in groupby(rows, key=lambda r: r.task_id):
        answers = list(group)
        first = answers[0]
        answers = [a for a in answers if a.annotation_id is not None]
        seen.tasks += 1
        if progress is not None:
            progress(1)
        data = fields(first.data)
        chosen: list[Record] = []
        if answers:
            chosen = _choose(first.external_id, data, answers, which, rule)
        else:
            seen.unanswered += 1
        if not chosen and unannotated:
            chosen = [Record(first.external_id, data)]
        yield from chosen


def gold_records(
    rows: Iterable[TaskAnswer],
    entries: Mapping[int, dict[str, Any]],
    *,
    fields: Callable[[Mapping[str, Any]], dict[str, Any]],
    unannotated: bool = False,
    seen: Selection | None = None,
    progress: Progress | None = None,
) -> Iterator[Record]:
    """The gold answers (``entries``: task id to payload) of the tasks in ``rows``."""
    seen = Selection() if seen is None else seen
    for task_id, group in groupby(rows, key=lambda r: r.task_id):
        first = next(group)
        seen.tasks += 1
        if progress is not None:
            progress(1)
        payload = entries.get(task_id)
        if payload is None:
            seen.unanswered += 1
            if not unannotated:
                continue
        source = "none" if payload is None else "gold"
        yield Record(first.external_id, fields(first.data), payload, None, source)


def _choose(
    task: str, data: dict[str, Any], answers: list[TaskAnswer], which: str, rule: _Consensus
) -> list[Record]:
    if which == "all":
        return [_record(task, data, a) for a in answers]
    if which == "latest":
        latest = {(a.user, a.kind): a for a in answers}  # oldest first: the last one stays
        return [_record(task, data, a) for a in latest.values()]
    found = rule.choose(task, answers)
    return [] if found is None else [Record(task, data, *found)]


@dataclass(frozen=True)
class _Consensus:
    merge: Merge
    adjudication_steps: frozenset[str]
    seen: Selection

    def choose(
        self, task: str, answers: list[TaskAnswer]
    ) -> tuple[dict[str, Any] | None, str | None, str] | None:
        """(payload, annotator, source) of the task's one answer, or None."""
        steps = self.adjudication_steps
        decided = [a for a in answers if a.step in steps and a.kind == "human"]
        if decided:
            return decided[-1].payload, None, "adjudicated"
        stored = [a for a in answers if a.kind == "consensus"]
        if stored:
            return stored[-1].payload, None, "consensus"
        people = list({a.user: a for a in answers if a.kind == "human"}.values())
        if len(people) <= 1:
            return None if not people else (people[0].payload, people[0].user, "human")
        try:
            merged, agreed = self.merge([a.payload or {} for a in people])
        except AnnolabError as exc:
            self.seen.notes.append((task, f"no consensus of {len(people)} answers: {exc}"))
            return None
        if merged is None:
            self.seen.notes.append(
                (task, f"the {len(people)} annotators' answers have no majority")
            )
            return None
        if agreed < 1:
            # Written all the same: a training set wants the task, a reviewer wants to know.
            why = f"the {len(people)} annotators agree {agreed:.0%}; written: what most gave"
            self.seen.notes.append((task, why))
        return merged, None, "consensus"


def _record(task: str, data: dict[str, Any], answer: TaskAnswer) -> Record:
    annotator = None if answer.kind == "consensus" else answer.user
    return Record(task, data, answer.payload, annotator, answer.kind or "none")
