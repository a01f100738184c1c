"""``project.gold``: a golden dataset built from consensus and reviewed answers, versioned, with
a queue for the answers that disagree with it.

A project has gold *sets* by name (``"default"`` unless told). A set has numbered versions;
the newest is *open* until frozen, and takes promotions. ``freeze`` makes it immutable (Postgres
refuses any change to it, whoever asks); the next promotion opens version n + 1 as a copy of n.

An answer promoted for a task the set already has a different answer for is not integrated: it
waits as a conflict until a curator accepts it (it replaces the entry in the open version) or
rejects it, with a reason either way. Every promotion, conflict, decision and freeze is an event.

Who: reviewers, adjudicators, team leads, project admins and the project's creator. Gold is
the answer key, so annotators neither read nor write it (on a team server Postgres enforces
this: ``docs/team-server.md``).

>>> entry = proj.gold.promote("t1", category="true_positive")  # doctest: +SKIP
>>> proj.gold.freeze(note="first cut")  # doctest: +SKIP
1
>>> proj.gold.score(version=1)  # doctest: +SKIP
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl
import sqlalchemy as sa

from annolab.errors import AssignmentError, ValidationError
from annolab.personas.answers import comparable, metric_kind
from annolab.quality import gold_accuracy
from annolab.schema.enums import GoldCategory, GoldConflictStatus, Role
from annolab.schema.fields import check_int, check_member, check_name, check_str
from annolab.store import gold as store
from annolab.store.events import record_event
from annolab.store.tasks import task_lookup
from annolab.store.users import UserProfile, user_profile
from annolab.workflow.consensus import agreement, consensus

if TYPE_CHECKING:
    from annolab.project import Project

__all__ = ["Conflict", "Gold", "GoldEntry"]

CURATOR_ROLES = frozenset({Role.REVIEWER, Role.ADJUDICATOR, Role.TEAM_LEAD, Role.PROJECT_ADMIN})
# Whose answers count as the task's annotators (for consensus and agreement).
_ANNOTATOR_KINDS = frozenset({"human", "persona"})
_ANSWERED = frozenset({"submitted", "approved"})


@dataclass(frozen=True)
class GoldEntry:
    """One task's gold answer in one version of a set."""

    id: int
    set: str
    version: int
    task: str
    payload: dict[str, Any]
    category: str
    source: str  # consensus, reviewed or annotation
    source_annotation_id: uuid.UUID | None
    reviewer: str | None
    agreement: float | None  # share of the task's annotators whose answer equals this one


@dataclass(frozen=True)
class Conflict:
    """A promoted answer that disagrees with the set's: queued, not integrated."""

    id: int
    set: str
    task: str
    proposed: dict[str, Any]
    existing: dict[str, Any] | None
    category: str
    source: str
    status: str


@dataclass(frozen=True)
class _Candidate:
    payload: dict[str, Any]
    source: str
    source_annotation_id: uuid.UUID | None
    agreement: float | None


class Gold:
    """The project's gold sets. Get it as ``project.gold``."""

    def __init__(self, project: Project) -> None:
        self.project = project

    def __repr__(self) -> str:
        return f"<Gold of project {self.project.name!r}>"

    # -- writing ------------------------------------------------------------------------------

    def promote(
        self,
        task: str,
        *,
        from_: str | uuid.UUID = "consensus",
        category: GoldCategory | str,
        set: str = "default",
        reviewer: str | None = None,
    ) -> GoldEntry | Conflict:
        """Make the task's answer gold in the open version of ``set`` (the set is made if new).

        ``from_``: ``"consensus"`` (the consensus the workflow stored, else the majority of the
        task's submitted answers), ``"reviewed"`` (the newest answer a review approved) or an
        annotation id of the task. ``category``: true_positive, true_negative, edge_case or
        adversarial. ``reviewer``: the expert who vouches for it (you, unless told).

        The same answer as the set's already is changes nothing (its category and reviewer
        included) and returns that entry; a different one returns a ``Conflict`` and changes
        nothing until ``resolve``. Answers are compared as exact agreement compares them:
        span order and confidence scores aside.

        ``agreement`` on the entry is the share of the task's annotators (each person's or
        persona's newest submitted or approved answer) whose answer equals the promoted one,
        so 2/3 when two of three gave it; None when nobody answered the task.

        >>> proj.gold.promote("t1", from_="reviewed", category="edge_case")  # doctest: +SKIP
        """
        set_name = check_name(set, "set")
        chosen = check_member(GoldCategory, category, "category")
        who = None if reviewer is None else check_name(reviewer, "reviewer")
        project = self.project
        with self._curator() as (conn, actor):
            task_id = self._task_id(conn, task)
            found = self._candidate(conn, task, task_id, from_)
            set_id = store.lock_set(conn, project.id, set_name, actor_id=actor.id)
            current = store.current_version(conn, set_id)
            existing = None if current is None else store.entry_for(conn, current.id, task_id)
            if existing is not None and current is not None:
                if _same(existing.payload, found.payload):
                    return _entry(existing, set_name, current.version, str(task))
                return self._queue(
                    conn,
                    actor,
                    set_id=set_id,
                    set_name=set_name,
                    task=task,
                    task_id=task_id,
                    found=found,
                    existing=existing,
                    category=chosen,
                    reviewer=who or actor.name,
                )
            version, opened = store.open_version(conn, set_id, actor_id=actor.id)
            if opened:
                self._event(
                    conn,
                    actor,
                    "gold.version_opened",
                    entity="gold_version",
                    entity_id=version.id,
                    after={"set": set_name, "version": version.version},
                )
            values = {
                "task_id": task_id,
                "payload": found.payload,
                "category": chosen.value,
                "source": found.source,
                "source_annotation_id": found.source_annotation_id,
                "reviewer": who or actor.name,
                "agreement": found.agreement,
            }
            entry_id = store.put_entry(conn, version.id, values)
            made = store.entry_by_id(conn, entry_id)
            assert made is not None
            result = _entry(made, set_name, version.version, str(task))
            self._event(
                conn,
                actor,
                "gold.promoted",
                entity="gold_entry",
                entity_id=entry_id,
                after=_described(result),
            )
            return result

    def resolve(self, conflict_id: int, *, accept: bool, reason: str) -> GoldEntry | None:
        """Decide a conflict: ``accept`` puts its answer in the set's open version (replacing
        the entry there; the entry is returned), otherwise it is rejected (None). The reason is
        required and kept in the history; a decision is final.

        >>> proj.gold.resolve(3, accept=True, reason="the guideline says ORG")  # doctest: +SKIP
        """
        number = check_int(conflict_id, "conflict_id", low=1, high=2**63 - 1)
        if not isinstance(accept, bool):
            raise ValidationError("accept", accept, "must be True or False")
        why = check_str(reason, "reason", required=True)
        with self._curator() as (conn, actor):
            found = store.read_conflict(conn, self.project.id, number)
            if found is None:
                rule = f"is not a gold conflict of project {self.project.name!r}"
                raise ValidationError("conflict_id", conflict_id, rule)
            store.lock_set_by_id(conn, found.gold_set_id)
            # Read again under the lock: another curator may have decided it meanwhile.
            conflict = store.read_conflict(conn, self.project.id, number)
            assert conflict is not None
            if conflict.status != GoldConflictStatus.OPEN.value:
                rule = f"was already {conflict.status}; a decision is final"
                raise ValidationError("conflict_id", conflict_id, rule)
            status = GoldConflictStatus.ACCEPTED if accept else GoldConflictStatus.REJECTED
            store.close_conflict(conn, number, status=status.value, actor_id=actor.id, reason=why)
            after: dict[str, Any] = {
                "set": conflict.set_name,
                "task": conflict.external_id,
                "proposed": conflict.proposed,
                "reason": why,
            }
            if not accept:
                self._event(
                    conn,
                    actor,
                    "gold.conflict_rejected",
                    entity="gold_conflict",
                    entity_id=number,
                    after=after,
                )
                return None
            version, opened = store.open_version(conn, conflict.gold_set_id, actor_id=actor.id)
            if opened:
                self._event(
                    conn,
                    actor,
                    "gold.version_opened",
                    entity="gold_version",
                    entity_id=version.id,
                    after={"set": conflict.set_name, "version": version.version},
                )
            before = store.entry_for(conn, version.id, conflict.task_id)
            entry_id = store.put_entry(
                conn,
                version.id,
                {
                    "task_id": conflict.task_id,
                    "payload": conflict.proposed,
                    "category": conflict.category,
                    "source": conflict.source,
                    "source_annotation_id": conflict.source_annotation_id,
                    "reviewer": conflict.reviewer,
                    "agreement": conflict.agreement,
                },
            )
            after["version"] = version.version
            after["entry_id"] = entry_id
            record_event(
                conn,
                actor=actor.name,
                action="gold.conflict_accepted",
                entity="gold_conflict",
                entity_id=number,
                project_id=self.project.id,
                before=None if before is None else {"payload": before.payload},
                after=after,
            )
            made = store.entry_by_id(conn, entry_id)
            assert made is not None
            return _entry(made, conflict.set_name, version.version, conflict.external_id)

    def freeze(self, set: str = "default", *, note: str = "") -> int:
        """Freeze the set's open version and return its number. A frozen version never changes
        (Postgres refuses it); the next promotion opens the next version as its copy. Refused
        while conflicts are open: a frozen version should not hide an undecided answer.

        >>> proj.gold.freeze(note="reviewed by the clinical team")  # doctest: +SKIP
        2
        """
        set_name = check_name(set, "set")
        text = check_str(note, "note")
        with self._curator() as (conn, actor):
            set_id = self._set_id(conn, set_name)
            store.lock_set_by_id(conn, set_id)
            current = store.current_version(conn, set_id)
            if current is None or current.frozen:
                last = "" if current is None else f" (version {current.version} is frozen)"
                rule = f"has no open version to freeze{last}; promote an answer first"
                raise ValidationError("set", set_name, rule)
            waiting = store.count_open_conflicts(conn, set_id)
            if waiting:
                rule = (
                    f"has {waiting} open conflict(s); resolve them (proj.gold.conflicts()) "
                    "before freezing"
                )
                raise ValidationError("set", set_name, rule)
            entries = store.freeze_version(conn, current.id, text)
            self._event(
                conn,
                actor,
                "gold.frozen",
                entity="gold_version",
                entity_id=current.id,
                after={
                    "set": set_name,
                    "version": current.version,
                    "note": text,
                    "entries": entries,
                },
            )
            return current.version

    # -- reading ------------------------------------------------------------------------------

    def entries(self, set: str = "default", version: int | None = None) -> pl.DataFrame:
        """The entries of one version: ``entry_id, task_id, external_id, text, payload`` (JSON),
        ``category, source, source_annotation_id, reviewer, agreement, set, version,
        created_at``. ``version=None`` is the working version: the open one, else the newest
        frozen one (which is what the next promotion starts from)."""
        with self._reading(set, version) as (conn, _set_id, found):
            return store.read_entries(conn, found.id)

    def versions(self, set: str = "default") -> pl.DataFrame:
        """``version, frozen, entries, note, created_by, created_at, frozen_at`` of the set."""
        set_name = check_name(set, "set")
        with self._curator() as (conn, _actor):
            return store.read_versions(conn, self._set_id(conn, set_name))

    def conflicts(self, set: str = "default", *, status: str | None = "open") -> pl.DataFrame:
        """The set's conflicts (open ones unless ``status`` is accepted, rejected or None for
        all): ``conflict_id, external_id, existing, proposed`` (JSON), ``category, source,
        source_annotation_id, agreement, proposed_by, status, resolved_by, reason, created_at,
        resolved_at``."""
        set_name = check_name(set, "set")
        wanted = None if status is None else check_member(GoldConflictStatus, status, "status")
        with self._curator() as (conn, _actor):
            set_id = self._set_id(conn, set_name)
            return store.read_conflicts(conn, set_id, None if wanted is None else wanted.value)

    def export(self, path: str | Path, *, set: str = "default", version: int | None = None) -> int:
        """Write one version as JSON Lines (``task, text, payload, category, source,
        source_annotation_id, reviewer, agreement, set, version`` a line); returns the count.

        >>> proj.gold.export("gold-v2.jsonl", version=2)  # doctest: +SKIP
        120
        """
        if not isinstance(path, (str, Path)):
            raise ValidationError("path", path, "must be a file path (str or pathlib.Path)")
        frame = self.entries(set, version)
        target = Path(path)
        with target.open("w", encoding="utf-8") as out:
            for row in frame.iter_rows(named=True):
                line = {
                    "task": row["external_id"],
                    "text": row["text"],
                    "payload": json.loads(row["payload"]),
                    "category": row["category"],
                    "source": row["source"],
                    "source_annotation_id": row["source_annotation_id"],
                    "reviewer": row["reviewer"],
                    "agreement": row["agreement"],
                    "set": row["set"],
                    "version": row["version"],
                }
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
        return frame.height

    def score(
        self,
        annotations: pl.DataFrame | None = None,
        *,
        set: str = "default",
        version: int | None = None,
        kind: str | Sequence[str] = ("human", "persona"),
    ) -> pl.DataFrame:
        """Each annotator's accuracy against one gold version (``annolab.quality.gold_accuracy``):
        ``annotator, items, exact, accuracy, score, set, version``.

        ``annotations`` is a frame shaped like ``project.annotations()`` (its submitted and
        approved answers of ``kind`` unless given). Name the version to make the number
        reproducible; ``None`` scores against the working version.

        >>> proj.gold.score(version=2).sort("accuracy")  # doctest: +SKIP
        """
        reference = self.entries(set, version)
        kinds = [kind] if isinstance(kind, str) else list(kind)
        if annotations is None:
            frame = self.project.annotations().filter(
                pl.col("kind").is_in(kinds) & pl.col("status").is_in(sorted(_ANSWERED))
            )
        else:
            frame = annotations
            missing = {"external_id", "user", "payload"} - _names(frame.columns)
            if missing:
                rule = f"needs the columns external_id, user and payload; missing {sorted(missing)}"
                raise ValidationError("annotations", list(frame.columns), rule)
        number = int(reference["version"][0]) if reference.height else version
        columns = {"set": pl.lit(check_name(set, "set")), "version": pl.lit(number, pl.Int32)}
        if reference.height == 0:
            empty = pl.DataFrame(
                schema={
                    "annotator": pl.String,
                    "items": pl.Int64,
                    "exact": pl.Int64,
                    "accuracy": pl.Float64,
                    "score": pl.Float64,
                }
            )
            return empty.with_columns(**columns)
        gold = reference.select(
            pl.col("external_id").alias("item"),
            pl.col("payload").map_elements(comparable, return_dtype=pl.String).alias("value"),
        )
        given = frame.filter(pl.col("payload").is_not_null()).select(
            pl.col("external_id").alias("item"),
            pl.col("user").alias("annotator"),
            pl.col("payload").map_elements(comparable, return_dtype=pl.String).alias("value"),
        )
        scored = gold_accuracy(given, gold, kind=metric_kind(gold["value"][0]))
        return scored.with_columns(**columns)

    def answers(self, set: str = "default", version: int | None = None) -> pl.DataFrame:
        """``external_id, payload`` of one version: what ``personas.evaluate(gold=...)`` reads."""
        return self.entries(set, version).select("external_id", "payload")

    # -- helpers ------------------------------------------------------------------------------

    @contextmanager
    def _curator(self) -> Iterator[tuple[sa.Connection, UserProfile]]:
        ws = self.project.workspace
        with ws.engine.begin() as conn:
            actor = user_profile(conn, ws.user_id)
            if not (actor.roles & CURATOR_ROLES or actor.id == self.project._row.created_by):
                msg = (
                    "Requires role: reviewer, adjudicator, team_lead or project_admin (gold is "
                    "the answer key: annotators neither read nor write it)"
                )
                raise AssignmentError(msg)
            yield conn, actor

    @contextmanager
    def _reading(
        self, set: str, version: int | None
    ) -> Iterator[tuple[sa.Connection, int, store.VersionRow]]:
        set_name = check_name(set, "set")
        if version is not None:
            version = check_int(version, "version", low=1, high=2**31 - 1)
        with self._curator() as (conn, _actor):
            set_id = self._set_id(conn, set_name)
            found = (
                store.current_version(conn, set_id)
                if version is None
                else store.find_version(conn, set_id, version)
            )
            if found is None:
                have = store.version_numbers(conn, set_id)
                listed = ", ".join(map(str, have)) or "none yet"
                rule = f"is not a version of gold set {set_name!r} (versions: {listed})"
                raise ValidationError("version", version, rule)
            yield conn, set_id, found

    def _set_id(self, conn: sa.Connection, name: str) -> int:
        found = store.find_set(conn, self.project.id, name)
        if found is None:
            rule = (
                f"is not a gold set of project {self.project.name!r}; "
                "proj.gold.promote(task, set=...) makes one"
            )
            raise ValidationError("set", name, rule)
        return found

    def _task_id(self, conn: sa.Connection, task: object) -> int:
        from annolab.project import task_key  # project imports this module

        key = task_key(task)
        found = task_lookup(conn, self.project.id, [key])
        if key not in found:
            raise ValidationError("task", task, f"is not a task of project {self.project.name!r}")
        return int(found[key][0])

    def _candidate(
        self, conn: sa.Connection, task: object, task_id: int, from_: object
    ) -> _Candidate:
        answers = store.task_answers(conn, task_id)
        # The newest answer of each annotator: a revision replaces what it corrects.
        latest = {
            a.user_id: a for a in answers if a.kind in _ANNOTATOR_KINDS and a.status in _ANSWERED
        }
        payloads = [a.payload for a in latest.values()]

        def share(payload: dict[str, Any]) -> float | None:
            if not payloads:
                return None
            return sum(1 for p in payloads if _same(p, payload)) / len(payloads)

        if from_ == "consensus":
            stored = [a for a in answers if a.kind == "consensus" and a.status == "approved"]
            if stored:
                return _Candidate(
                    stored[-1].payload, "consensus", stored[-1].id, share(stored[-1].payload)
                )
            merged = consensus(payloads, "majority") if len(payloads) >= 2 else None
            if merged is None:
                rule = (
                    f"finds no consensus for task {task!r}: {len(payloads)} answer(s) and no "
                    "majority among them; promote from_='reviewed' or an annotation id"
                )
                raise ValidationError("from_", from_, rule)
            return _Candidate(merged, "consensus", None, share(merged))
        if from_ == "reviewed":
            approved = [a for a in answers if a.kind in _ANNOTATOR_KINDS and a.status == "approved"]
            if not approved:
                rule = f"finds no answer a review approved on task {task!r}"
                raise ValidationError("from_", from_, rule)
            best = approved[-1]
            return _Candidate(best.payload, "reviewed", best.id, share(best.payload))
        try:
            wanted = from_ if isinstance(from_, uuid.UUID) else uuid.UUID(str(from_))
        except ValueError:
            rule = "must be 'consensus', 'reviewed' or the id of an annotation of the task"
            raise ValidationError("from_", from_, rule) from None
        match = [a for a in answers if a.id == wanted]
        if not match or match[0].status not in _ANSWERED:
            rule = f"is not a submitted or approved annotation of task {task!r}"
            raise ValidationError("from_", str(from_), rule)
        return _Candidate(match[0].payload, "annotation", wanted, share(match[0].payload))

    def _queue(
        self,
        conn: sa.Connection,
        actor: UserProfile,
        *,
        set_id: int,
        set_name: str,
        task: object,
        task_id: int,
        found: _Candidate,
        existing: store.EntryRow,
        category: GoldCategory,
        reviewer: str,
    ) -> Conflict:
        same = store.open_conflict_like(conn, set_id, task_id, found.payload)
        if same is None:
            same = store.add_conflict(
                conn,
                set_id,
                {
                    "task_id": task_id,
                    "proposed": found.payload,
                    "existing_entry_id": existing.id,
                    "proposed_by": actor.id,
                    "source": found.source,
                    "source_annotation_id": found.source_annotation_id,
                    "category": category.value,
                    "reviewer": reviewer,
                    "agreement": found.agreement,
                },
            )
            record_event(
                conn,
                actor=actor.name,
                action="gold.conflict_queued",
                entity="gold_conflict",
                entity_id=same,
                project_id=self.project.id,
                before={"payload": existing.payload, "entry_id": existing.id},
                after={
                    "set": set_name,
                    "task": str(task),
                    "proposed": found.payload,
                    "source": found.source,
                    "category": category.value,
                },
            )
        return Conflict(
            id=same,
            set=set_name,
            task=str(task),
            proposed=found.payload,
            existing=existing.payload,
            category=category.value,
            source=found.source,
            status=GoldConflictStatus.OPEN.value,
        )

    def _event(self, conn: sa.Connection, actor: UserProfile, action: str, **event: Any) -> None:
        record_event(
            conn,
            actor=actor.name,
            action=action,
            project_id=self.project.id,
            **event,
        )


def _names(columns: Sequence[str]) -> frozenset[str]:
    return frozenset(columns)


def _same(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal answers, as agreement reads them (order of spans and confidence scores aside)."""
    return agreement([a, b], "exact") == 1.0


def _entry(row: store.EntryRow, set_name: str, version: int, task: str) -> GoldEntry:
    return GoldEntry(
        id=row.id,
        set=set_name,
        version=version,
        task=task,
        payload=row.payload,
        category=row.category,
        source=row.source,
        source_annotation_id=row.source_annotation_id,
        reviewer=row.reviewer,
        agreement=row.agreement,
    )


def _described(entry: GoldEntry) -> dict[str, Any]:
    return {
        "set": entry.set,
        "version": entry.version,
        "task": entry.task,
        "payload": entry.payload,
        "category": entry.category,
        "source": entry.source,
        "source_annotation_id": (
            None if entry.source_annotation_id is None else str(entry.source_annotation_id)
        ),
        "reviewer": entry.reviewer,
        "agreement": entry.agreement,
    }
