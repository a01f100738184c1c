"""A project: its tasks, its annotations, and the ways in and out."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import polars as pl
import pydantic
import sqlalchemy as sa

import annolab.kinds
from annolab.errors import AssignmentError, DataError, ValidationError
from annolab.hooks.manager import implementations as hook_impls
from annolab.hooks.validate import check_with_plugins
from annolab.io.catalog import (
    FORMATS,
    TABLES,
    ExportReport,
    check_kinds,
    format_name,
    write_records,
)
from annolab.io.export import export_table
from annolab.io.frames import DEFAULT_MAX_TEXT_CHARS, prepare_tasks
from annolab.io.imports import ImportReport, import_jsonl
from annolab.io.ingest import INTO, FileImport, ingest
from annolab.io.ingest import Target as ImportTarget
from annolab.io.records import Context
from annolab.io.select import Selection, check_which, gold_records, select_records
from annolab.quality.rules import RULES, Rule
from annolab.schema import LabelSchema, Payload
from annolab.schema.enums import AnnotationKind, AnnotationStatus, ProjectStatus
from annolab.schema.fields import (
    check_float,
    check_int,
    check_json,
    check_member,
    check_name,
    check_seconds,
    check_str,
    check_uuid,
)
from annolab.schema.layout import BoxesQuestion, Input, Layout, SpansQuestion
from annolab.store import projects
from annolab.store.annotations import (
    NewAnnotation,
    count_tasks,
    iter_task_answers,
    read_annotations,
    read_annotations_with_text,
    upsert_annotations,
)
from annolab.store.events import read_events, record_event
from annolab.store.events import replay as replay_events
from annolab.store.listen import Listener
from annolab.store.payload_columns import unnest_payloads
from annolab.store.progress import update_settings
from annolab.store.projects import ProjectRow
from annolab.store.tasks import copy_tasks, read_tasks, task_lookup
from annolab.store.telemetry import read_telemetry
from annolab.store.users import UserProfile, ensure_user, user_profile
from annolab.workflow import admin
from annolab.workflow.consensus import agreement, consensus
from annolab.workflow.engine import Clock, Engine
from annolab.workflow.goals import GOALS, Goal, SignOff, walk
from annolab.workflow.progress import Progress, compute_progress
from annolab.workflow.quality import evaluate_all
from annolab.workflow.spec import Workflow

T = TypeVar("T")

if TYPE_CHECKING:
    from annolab.annotate import AnnotationLoop
    from annolab.gold import Gold
    from annolab.personas.embedders import Embedder
    from annolab.personas.embeddings import EmbedReport
    from annolab.preferences import PreferenceReport
    from annolab.session import Session
    from annolab.workspace import Workspace


@dataclass(frozen=True)
class AddedTasks:
    """What ``add_tasks`` did: ``new`` tasks added, ``existing`` ids the project already had."""

    new: int
    existing: int

    def __repr__(self) -> str:
        return f"<AddedTasks {self.new} new, {self.existing} already in the project>"


class Project:
    """One annotation project. Get it from ``workspace.create_project`` or ``workspace.project``."""

    def __init__(self, workspace: Workspace, row: ProjectRow, clock: Clock | None = None) -> None:
        self.workspace = workspace
        self._row = row
        # Admin operations read the time from here; tests freeze it.
        self._clock: Clock = clock or (lambda: dt.datetime.now(dt.timezone.utc))
        self._parsed: dict[str, Any] = {}
        self._parsed_from: ProjectRow | None = None

    def _parse(self, key: str, make: Callable[[], T]) -> T:
        """``make()``, once per project row: every claim and submit reads the workflow, labels
        and rules, and a row is replaced (never changed) when its settings change."""
        if self._parsed_from is not self._row:
            self._parsed, self._parsed_from = {}, self._row
        if key not in self._parsed:
            self._parsed[key] = make()
        return cast(T, self._parsed[key])

    @property
    def id(self) -> int:
        return self._row.id

    @property
    def name(self) -> str:
        return self._row.name

    @property
    def status(self) -> ProjectStatus:
        return self._row.status

    @property
    def labels(self) -> LabelSchema:
        return self._parse("labels", lambda: LabelSchema.from_dict(self._row.label_schema))

    @property
    def settings(self) -> dict[str, Any]:
        return dict(self._row.settings)

    @property
    def workflow(self) -> Workflow:
        return self._parse("workflow", lambda: Workflow.from_dict(self._row.workflow).flat())

    @property
    def layout(self) -> Layout:
        """The project's layout: the copy stored with the project, so later edits of the file
        (or of a newer version) never change what this project asks."""
        return self._parse("layout", lambda: Layout.from_stored(self._row.layout, lenient=True))

    @property
    def layout_version(self) -> int:
        """The published version the project is pinned to (1 for a project made before
        layouts had versions)."""
        version = self._row.layout.get("version")
        return version if isinstance(version, int) else 1

    @property
    def layout_name(self) -> str:
        return self.layout.name

    @property
    def answer_kinds(self) -> tuple[str, ...]:
        """The payload kinds this project's layout takes: its one question's kind, or ``form``
        for a layout of several questions; any other kind is refused."""
        return self.layout.answer_kinds

    def check_answer(self, payload: Any, *, text: str | None = None) -> Payload:
        """``payload`` checked against the layout and the project's labels, ready to store.

        ``text`` is the task's text: spans of the layout's text field must lie inside it.
        """
        layout = self.layout
        data = None if text is None else {field: text for field in _text_fields(layout)}
        valid = layout.check_answer(payload, self.labels, data=data)
        if hook_impls("annolab_validate"):  # plugins' own rules (annolab_validate)
            check_with_plugins(self, valid.to_dict(), text)
        return valid

    def session(self, user: str | None = None, *, clock: Clock | None = None) -> Session:
        """Your queue in this project (``user`` defaults to ``JUPYTERHUB_USER`` or the OS user).

        >>> session = proj.session()  # doctest: +SKIP
        """
        from annolab.session import Session  # session builds on project: import when used

        return Session(self, user, clock)

    def add_tasks(
        self,
        frame: Any,
        *,
        text: str = "text",
        id: str | None = None,
        priority: str | None = None,
    ) -> AddedTasks:
        """Add one task per row of a polars (or pandas, or Arrow) frame, loaded with COPY.

        Ids the project already has are skipped, so running the cell twice adds nothing.

        >>> frame = pl.DataFrame({"id": ["a"], "text": ["Hi Ada"]})
        >>> proj.add_tasks(frame, id="id")  # doctest: +SKIP
        <AddedTasks 1 new, 0 already in the project>
        """
        rows = self._task_rows(frame, text=text, id=id, priority=priority)
        with self.workspace.engine.begin() as conn:
            new = self._copy_task_rows(conn, rows)
        return AddedTasks(new=new, existing=rows.height - new)

    def _task_rows(
        self, frame: Any, *, text: str = "text", id: str | None = None, priority: str | None = None
    ) -> pl.DataFrame:
        """The frame's rows checked against the layout and ready for COPY."""
        limit = self._row.settings.get("max_text_chars", DEFAULT_MAX_TEXT_CHARS)
        layout = self.layout
        # An enum priority (low/normal/high) stays as given in the task data; the queue's
        # integer priority is its rank among the declared values (low 0, normal 1, high 2). A
        # layout's enum input called "priority" ranks the queue even when priority= is not given.
        ranked = layout.input(priority if isinstance(priority, str) else "priority")
        if ranked is not None and ranked.type == "enum":
            rows = prepare_tasks(frame, text=text, id=id, priority=None, max_text_chars=limit)
        else:
            ranked = None
            rows = prepare_tasks(frame, text=text, id=id, priority=priority, max_text_chars=limit)
        return _check_task_data(layout, rows, ranked)

    def _copy_task_rows(self, conn: sa.Connection, rows: pl.DataFrame) -> int:
        first = self.workflow.step(self.workflow.first)
        return copy_tasks(
            conn,
            actor=self.workspace.user,
            project_id=self.id,
            rows=rows,
            step=first.name,
            needed=first.annotators,
        )

    def task_fields(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """A stored task's data as the layout reads it: the main text, stored as ``text``
        whatever the frame's column was called, also under each field it stands for (the
        ``document_text`` a spans question marks up).

        >>> proj.task_fields({"text": "Fever", "document_id": "n1"})  # doctest: +SKIP
        {'text': 'Fever', 'document_text': 'Fever', 'document_id': 'n1'}
        """
        text = data.get("text")
        fields = {} if text is None else dict.fromkeys(sorted(_text_fields(self.layout)), text)
        return {**fields, **data}

    def tasks(self) -> pl.DataFrame:
        """The project's tasks: ``task_id, external_id, text, data`` (JSON), priority, status
        and the workflow step each is at (a pending task at ``adjudicate`` awaits a decision)."""
        with self.workspace.engine.begin() as conn:
            return read_tasks(conn, self.id)

    def annotations(self, *, raw: bool = False) -> pl.DataFrame:
        """Every annotation with its task's external id, user, kind, status and payload (JSON),
        and the payload unnested after it: ``answer_kind``, then a column per payload kind
        (``spans`` as a list of ``{start, end, label, text}``, ``label`` for a choice,
        ``labels``, ``boxes``, ``rating``, ``answer_text``, ``verdict``, ``order``, ``scores``,
        ``error_spans``; see ``annolab.store.payload_columns``). ``raw=True``: only the JSON.

        >>> proj.annotations().select("external_id", "user", "spans")  # doctest: +SKIP
        """
        with self.workspace.engine.begin() as conn:
            if raw:
                return read_annotations(conn, self.id)
            frame = read_annotations_with_text(conn, self.id)
        texts = frame["text"].to_list()
        return unnest_payloads(frame.drop("text"), texts, kinds=self.answer_kinds)

    def add_annotation(
        self,
        task: str,
        payload: Any,
        *,
        user: str | None = None,
        kind: AnnotationKind | str = AnnotationKind.HUMAN,
        status: AnnotationStatus | str = AnnotationStatus.SUBMITTED,
        id: uuid.UUID | str | None = None,
        time_spent: float | None = None,
    ) -> uuid.UUID:
        """Store an annotation of the task with external id ``task``; returns its id.

        Calling again with the same ``id`` updates it in place (or does nothing if unchanged),
        so a retry never duplicates.

        >>> proj.add_annotation("a", {"kind": "spans", "spans": [  # doctest: +SKIP
        ...     {"start": 3, "end": 6, "label": "person"}]})
        """
        user = check_name(self.workspace.user if user is None else user, "user")
        key = task_key(task)
        ann_kind = check_member(AnnotationKind, kind, "kind")
        ann_status = check_member(AnnotationStatus, status, "status")
        ann_id = check_uuid(id) if id is not None else uuid.uuid4()
        time_spent = check_seconds(time_spent)
        asked = payload.get("kind") if isinstance(payload, dict) else getattr(payload, "kind", None)
        if asked is not None and asked not in self.answer_kinds:
            self.check_answer(payload)  # the kind error, before the database is asked
        with self.workspace.engine.begin() as conn:
            found = task_lookup(conn, self.id, [key])
            if key not in found:
                raise ValidationError("task", task, f"is not a task of project {self.name!r}")
            task_id, text = found[key]
            valid = self.check_answer(payload, text=text)
            row = NewAnnotation(
                id=ann_id,
                task_id=task_id,
                user_id=ensure_user(conn, user),
                kind=ann_kind,
                status=ann_status,
                payload=valid.to_dict(),
                time_spent=time_spent,
                guidelines_version=self._row.guidelines_version,
            )
            upsert_annotations(conn, [row], actor=self.workspace.user, project_id=self.id)
        return ann_id

    # Admin operations on the queue: project admins, team leads and the project's creator.

    @contextmanager
    def _admin(self) -> Iterator[tuple[sa.Connection, Engine, UserProfile]]:
        ws = self.workspace
        with ws.engine.begin() as conn:
            actor = user_profile(conn, ws.user_id)
            admin.require_admin(actor, created_by=self._row.created_by)
            yield conn, self.engine(), actor

    def _task_id(self, conn: sa.Connection, task: str) -> int:
        key = task_key(task)
        found = task_lookup(conn, self.id, [key])
        if key not in found:
            raise ValidationError("task", task, f"is not a task of project {self.name!r}")
        return int(found[key][0])

    def _profile(self, conn: sa.Connection, user: str) -> UserProfile:
        return user_profile(conn, ensure_user(conn, check_name(user, "user")))

    def evict(self, task: str, user: str, *, reason: str = "") -> None:
        """Take ``task`` away from ``user``; their place goes back to the pool."""
        with self._admin() as (conn, engine, actor):
            admin.evict(
                conn,
                engine,
                actor,
                task_id=self._task_id(conn, task),
                user=self._profile(conn, user),
                reason=reason,
            )

    def reassign(self, task: str, *, from_user: str, to_user: str, reason: str = "") -> None:
        """Move ``task`` from one person to another, who must be eligible for its step."""
        with self._admin() as (conn, engine, actor):
            admin.reassign(
                conn,
                engine,
                actor,
                task_id=self._task_id(conn, task),
                from_user=self._profile(conn, from_user),
                to_user=self._profile(conn, to_user),
                reason=reason,
            )

    def force_complete(self, task: str, *, reason: str) -> None:
        """Mark ``task`` completed whatever its state (a reason is required)."""
        with self._admin() as (conn, engine, actor):
            admin.force_complete(
                conn, engine, actor, task_id=self._task_id(conn, task), reason=reason
            )

    def reset(self, task: str, *, reason: str) -> None:
        """Send ``task`` back to the first step (a reason is required)."""
        with self._admin() as (conn, engine, actor):
            admin.reset(conn, engine, actor, task_id=self._task_id(conn, task), reason=reason)

    def set_priority(self, task: str, priority: int) -> None:
        """Change ``task``'s priority: higher comes first."""
        with self._admin() as (conn, engine, actor):
            admin.change_priority(
                conn, engine, actor, task_id=self._task_id(conn, task), priority=priority
            )

    def annotate(self, user: str | None = None, *, suggestions: bool = True) -> AnnotationLoop:
        """The annotation loop in a cell: your queue in the project's widget.

        Submit & next (Ctrl+Enter), Save draft (Ctrl+S), Skip (Esc), progress and guidelines;
        reviews and adjudications get their own panels. ``suggestions``: offer a persona's or
        model's latest answer to the task as suggestions.

        >>> proj.annotate()  # doctest: +SKIP
        """
        from annolab.annotate import annotate  # the loop builds on widgets and the session

        return annotate(self, user, suggestions=suggestions)

    def agreement(self, *, kind: str | Sequence[str] = "human") -> pl.DataFrame:
        """Agreement between annotators, overall and per label (see annolab.quality.report)."""
        from annolab.quality.report import agreement_frame

        return agreement_frame(self.annotations(raw=True), kind=kind, tasks=self.tasks())

    def quality_report(self, *, gold: pl.DataFrame | None = None) -> pl.DataFrame:
        """One row per annotator: volume, agreement with peers, gold accuracy, speed."""
        from annolab.quality.report import quality_report

        return quality_report(self.annotations(raw=True), gold=gold)

    @property
    def gold(self) -> Gold:
        """The project's golden dataset: promote answers, resolve conflicts, freeze versions,
        export and score against a named version (``annolab.gold``).

        >>> proj.gold.promote("t1", category="true_positive")  # doctest: +SKIP
        """
        from annolab.gold import Gold  # gold reads personas and quality: import when used

        return Gold(self)

    @property
    def rules(self) -> list[Rule]:
        rules = self._parse(
            "rules", lambda: RULES.validate_python(self._row.settings.get("rules", []))
        )
        return list(rules)

    def set_rules(self, rules: list[Rule] | list[dict[str, Any]]) -> None:
        """Replace the project's quality rules (admins, team leads and the creator).

        >>> proj.set_rules([{"name": "low accuracy",  # doctest: +SKIP
        ...     "when": {"kind": "threshold", "below": 0.7, "min_samples": 20,
        ...              "window_hours": 24},
        ...     "actions": ["alert", "restrict_assignment"]}])
        """
        checked = _checked(RULES, rules, "rules")
        has_review = any(s.kind == "review" for s in self.workflow.steps)
        for i, rule in enumerate(checked):
            if "require_review" in rule.actions and not has_review:
                raise ValidationError(
                    f"rules.{i}.actions",
                    list(rule.actions),
                    f"(rule {rule.name!r}): require_review needs a workflow with a review step, "
                    "e.g. al.workflows.review(fraction=0.1), and this project's has none",
                )
        with self._admin() as (conn, _engine, actor):
            settings = update_settings(
                conn,
                actor=actor.name,
                project_id=self.id,
                key="rules",
                value=RULES.dump_python(checked, mode="json"),
            )
        self._row = replace(self._row, settings=settings)

    def evaluate_rules(self, now: dt.datetime | None = None) -> pl.DataFrame:
        """Check every quality rule now, for every scope with scores, and carry out what fires.

        Submits check only the scopes of the submission (its annotation, annotator, the
        annotator's teams and the project); this checks them all, for instance after the rules
        or the teams changed. Actions are carried out as on submit: an alert or review
        requirement still in force, or a restriction not yet lifted, is not recorded again, so
        running it twice records nothing new; a rule that no longer holds is marked cleared.
        ``now`` defaults to the project's clock. Admins, team leads and the creator only.

        Returns one row per (rule, scope) that holds: ``rule``, ``scope_kind`` (task, user,
        team, project), ``scope`` (annotation id, user, team or project name), ``score``, ``n``
        (samples), ``reason``, ``actions``.

        >>> proj.set_rules([{"name": "weak team", "scope": "team",  # doctest: +SKIP
        ...     "when": {"kind": "threshold", "below": 0.7, "min_samples": 40},
        ...     "actions": ["alert", "restrict_assignment"]}])
        >>> proj.evaluate_rules().select("rule", "scope", "score")  # doctest: +SKIP
        """
        if now is not None and (not isinstance(now, dt.datetime) or now.tzinfo is None):
            rule = "must be a timezone-aware datetime, e.g. datetime.now(timezone.utc), or None"
            raise ValidationError("now", now, rule)
        when = now or self._clock()
        with self._admin() as (conn, _engine, actor):
            return evaluate_all(
                conn, project_id=self.id, actor=actor.name, rules=self.rules, now=when
            )

    def lift_restriction(self, user: str, *, reason: str) -> None:
        """Let ``user`` take tasks again after a quality rule restricted them."""
        check_name(user, "user")
        check_str(reason, "reason")
        with self._admin() as (conn, _engine, actor):
            record_event(
                conn,
                actor=actor.name,
                action="quality.unrestricted",
                entity="user",
                entity_id=user,
                project_id=self.id,
                after={"user": user, "reason": reason},
            )

    def engine(self, clock: Clock | None = None) -> Engine:
        """The workflow engine for this project's tasks (sessions and admin use it)."""
        return Engine(
            self.workflow,
            self.id,
            clock or self._clock,
            rules=tuple(self.rules),
            # Any required question makes an empty answer incomplete; which answers are present
            # is checked at the door (check_answer), so the engine only needs to know "some".
            required=bool(self.layout.required_questions),
        )

    @property
    def goals(self) -> list[Goal]:
        return GOALS.validate_python(self._row.settings.get("goals", []))

    def set_goals(self, goals: list[Goal] | list[dict[str, Any]]) -> None:
        """Replace the project's goals (admins, team leads and the creator).

        >>> proj.set_goals([{"kind": "volume", "target": 500},  # doctest: +SKIP
        ...                 {"kind": "quality", "threshold": 0.8, "min_sample": 20}])
        """
        checked = _checked(GOALS, goals, "goals")
        with self._admin() as (conn, _engine, actor):
            settings = update_settings(
                conn,
                actor=actor.name,
                project_id=self.id,
                key="goals",
                value=GOALS.dump_python(checked, mode="json"),
            )
        self._row = replace(self._row, settings=settings)

    def progress(self) -> Progress:
        """Counts by status, the completion rate, the expected finish, and each goal's state."""
        with self.workspace.engine.begin() as conn:
            return compute_progress(conn, self.id, self.goals, self._clock())

    def sign_off(self, goal: str, *, checked: list[str]) -> None:
        """Sign off goal ``goal`` with the checklist items you checked (recorded as an event)."""
        check_str(goal, "goal")
        given: object = checked
        if isinstance(given, str) or not isinstance(given, (list, tuple)):
            raise ValidationError("checked", given, "must be a list of checklist items")
        checked = [check_str(item, f"checked[{index}]") for index, item in enumerate(given)]
        wanted = [g for g in walk(self.goals) if isinstance(g, SignOff) and g.name == goal]
        if not wanted:
            raise ValidationError("goal", goal, "is not a sign-off goal of this project")
        ws = self.workspace
        with ws.engine.begin() as conn:
            actor = user_profile(conn, ws.user_id)
            allowed = {r.value for r in wanted[0].roles}
            if not allowed & {r.value for r in actor.roles}:
                msg = f"Requires role: {' or '.join(sorted(allowed))}"
                raise AssignmentError(msg)
            missing = [item for item in wanted[0].checklist if item not in checked]
            if missing:
                raise ValidationError("checked", checked, f"leaves out {missing}")
            record_event(
                conn,
                actor=ws.user,
                action="goal.signed_off",
                entity="project",
                entity_id=self.id,
                project_id=self.id,
                after={
                    "goal": goal,
                    "by": ws.user,
                    "checked": checked,
                    "roles": sorted(r.value for r in actor.roles),
                },
            )

    def events(
        self, *, actions: str | Sequence[str] = (), since: dt.datetime | None = None
    ) -> pl.DataFrame:
        """The project's event log as a frame, oldest first: ``id``, ``at``, ``actor``,
        ``action``, ``entity``, ``entity_id``, and ``before`` / ``after`` as JSON text.

        ``actions`` keeps some (``"task.completed"``, or a family: ``"annotation.*"``);
        ``since`` keeps those at or after a time. You see the events you may read: an
        annotator does not see another's blind answer here either.

        >>> proj.events(actions="review.*").select("at", "actor", "action")  # doctest: +SKIP
        """
        wanted = [actions] if isinstance(actions, str) else list(actions)
        for action in wanted:
            check_str(action, "actions")
        if since is not None and (not isinstance(since, dt.datetime) or since.tzinfo is None):
            raise ValidationError("since", since, "must be a datetime with a time zone")
        with self.workspace.engine.begin() as conn:
            return read_events(conn, self.id, actions=wanted, since=since)

    def telemetry(self, *, user: str | None = None) -> pl.DataFrame:
        """How people worked in the widgets, one row per summary a widget sent, oldest first:
        ``batch_id``, ``at``, ``user``, ``task``, ``step``, ``assignment_id``, ``widget``,
        ``reason`` (submit, draft, skip or interval) and the counts ``active_ms``, ``idle_ms``,
        ``keys``, ``pointer``, ``edits``, ``undos``, ``redos``. Sum them per task for time on
        task. ``user`` keeps one person's rows; on a team server an annotator reads only their
        own anyway.

        >>> proj.telemetry().group_by("user").agg(pl.col("undos").sum())  # doctest: +SKIP
        """
        with self.workspace.engine.begin() as conn:
            user_id = None
            if user is not None:
                name = check_str(user, "user")
                user_id = conn.execute(
                    sa.text("SELECT id FROM users WHERE name = :n"), {"n": name}
                ).scalar()
                if user_id is None:
                    raise ValidationError("user", user, "is not a known user")
            return read_telemetry(conn, self.id, user_id=user_id)

    def history(self, task: str) -> pl.DataFrame:
        """Everything that happened to one task (by its id in your data), oldest first: the
        task's moves, its annotations and reviews, its assignments; the columns of
        ``events()``.

        >>> proj.history("doc-17").select("at", "actor", "action")  # doctest: +SKIP
        """
        external = check_str(task, "task")
        with self.workspace.engine.begin() as conn:
            found = task_lookup(conn, self.id, [external])
            if external not in found:
                rule = f"is not a task of project {self.name!r}"
                raise ValidationError("task", external, rule)
            return read_events(conn, self.id, task_id=found[external][0])

    def replay(self) -> dict[str, pl.DataFrame]:
        """The project's answers and task moves rebuilt from its event log alone (see
        ``annolab.store.events.replay``): what an audit compares with the tables."""
        with self.workspace.engine.begin() as conn:
            return replay_events(read_events(conn, self.id))

    def watch(self, *, timeout: float = 5.0, stop_after: int | None = None) -> Listener:
        """This project's events as they commit (tasks added, claimed, submitted, ...), read
        from the events table every 0.2 s with your login's rights.

        Listening starts now; iterating ends after ``timeout`` seconds with no event, or after
        ``stop_after`` events.

        >>> with proj.watch(timeout=60) as changes:  # doctest: +SKIP
        ...     for event in changes:
        ...         print(event["action"])
        """
        # Threads cannot wait longer than about 49 days; a day of silence is plenty to wait for.
        timeout = check_float(timeout, "timeout", low=0.0, high=86_400.0, low_open=True)
        if stop_after is not None:
            stop_after = check_int(stop_after, "stop_after", low=1, high=2**63 - 1)
        return Listener(
            self.workspace.engine, project_id=self.id, timeout=timeout, stop_after=stop_after
        )

    def import_annotations(self, path: str | Path) -> ImportReport:
        """Import annotations from a JSON Lines file; bad rows come back in the report.

        Good rows are stored together in one transaction; a bad row stores nothing of itself.
        """
        ws = self.workspace
        with ws.engine.begin() as conn:
            return import_jsonl(
                conn,
                _path(path),
                project_id=self.id,
                check=lambda payload, text: self.check_answer(payload, text=text),
                actor=ws.user,
                default_user=ws.user,
            )

    def import_file(
        self,
        path: str | Path,
        *,
        format: str | None = None,
        into: str = "annotations",
        user: str | None = None,
        **options: Any,
    ) -> FileImport:
        """Bring in a file another tool wrote: its tasks, with its answers as annotations
        (``into="annotations"``), as suggestions to accept or reject (``"predictions"``), or
        left out (``"tasks"``).

        ``format`` is one of ``conll, spacy, spacy-jsonl, hf, coco, yolo, voc, label-studio,
        prodigy`` (by default, from the suffix); ``options`` are the format's own (``scheme``
        for CoNLL, ``image_root`` for COCO...). Answers without an annotator in the file are
        ``user``'s (you, by default). Every item is checked first; the refused ones come back
        in the report with their place in the file, and store nothing. Importing the same file
        again adds nothing.

        >>> proj.import_file("wnut17dev.conll")  # doctest: +SKIP
        <FileImport conll: 1009 new tasks (0 already there), 1009 annotations, 0 suggestions...>
        """
        source = _path(path)
        name = format_name(source, format)
        if name in TABLES.values():
            rule = (
                "is annolab's own table format: use proj.import_annotations(path) for its "
                "JSON Lines, or proj.add_tasks(frame) for tasks"
            )
            raise ValidationError("format", name, rule)
        if into not in INTO:
            raise ValidationError("into", into, f"must be one of {', '.join(INTO)}")
        fmt = FORMATS[name]
        check_kinds(fmt, {q.kind for q in self.layout.questions})
        if not source.exists():
            raise ValidationError("path", str(source), "does not exist")
        ws = self.workspace
        read = fmt.read
        if read is None:  # a plugin's format may only write
            raise ValidationError("format", name, "can be exported but not imported")
        fields = (getattr(q, "field", None) for q in self.layout.questions)
        main = ["text", *(f for f in fields if isinstance(f, str))]
        target = ImportTarget(
            project_id=self.id,
            main_fields=tuple(dict.fromkeys(main)),
            task_rows=lambda rows: self._task_rows(_frame(rows), id="id"),
            add=self._copy_task_rows,
            check=lambda payload, text: self.check_answer(payload, text=text),
        )
        context = Context(self.layout, self.labels, options)
        who = check_name(ws.user if user is None else user, "user")
        with ws.engine.begin() as conn:
            return ingest(
                conn,
                read(source, context),
                target,
                FileImport(name),
                into=into,
                actor=ws.user,
                user=who,
            )

    def export(
        self,
        path: str | Path,
        *,
        format: str | None = None,
        which: str | None = None,
        unannotated: bool = False,
        gold_set: str = "default",
        gold_version: int | None = None,
        progress: bool = True,
        **options: Any,
    ) -> ExportReport:
        """Write the project's tasks and answers to ``path`` in ``format``.

        ``format`` is ``jsonl``, ``csv`` or ``parquet`` (annolab's own tables) or one of
        ``conll, spacy, spacy-jsonl, hf, coco, yolo, voc, label-studio, prodigy``; by default,
        the one ``path``'s suffix implies. ``which`` answers: ``consensus`` (one per task: the
        adjudicator's, the workflow's consensus, else the annotators' majority), ``latest``
        (each annotator's last), ``all``, or ``gold`` (the entries of ``gold_set``,
        ``gold_version``). The tables default to ``all``, every annotation as stored with its
        metadata, drafts included; the training formats to ``consensus``. ``unannotated``
        writes tasks with no chosen answer too. ``options`` are the format's own
        (``scheme="BILOU"`` for CoNLL, ``images="link"`` for YOLO...).

        Streams one task at a time, with a progress bar on long runs; the file (or folder)
        appears only when complete. The report counts what was written and notes what could
        not be written faithfully (a span off token boundaries, a task with no majority).

        >>> proj.export("train.conll")  # doctest: +SKIP
        <ExportReport conll 'train.conll': 1009 records of 1009 tasks (0 without an answer)>
        """
        target = _path(path)
        name = format_name(target, format)
        table = name in TABLES.values()
        chosen = check_which(which or ("all" if table else "consensus"))
        if table and chosen == "all" and not unannotated:
            if options:
                rule = f"is not an option of format {name!r}, which has none"
                raise ValidationError(next(iter(options)), next(iter(options.values())), rule)
            with self.workspace.engine.begin() as conn:
                written = export_table(conn, self.id, target, name)
            return ExportReport(target, name, written=written)
        if not table:
            check_kinds(FORMATS[name], {q.kind for q in self.layout.questions})
        entries = None
        if chosen == "gold":
            found = self.gold.entries(gold_set, gold_version)
            entries = dict(zip(found["task_id"], map(json.loads, found["payload"]), strict=True))
        context = Context(self.layout, self.labels, options)
        seen = Selection()
        with self.workspace.engine.begin() as conn, _bar(name, progress) as bar:
            bar.total = (
                count_tasks(conn, self.id) if entries is None or unannotated else len(entries)
            )
            rows = iter_task_answers(
                conn, self.id, task_ids=None if entries is None or unannotated else sorted(entries)
            )
            if entries is None:
                records = select_records(
                    rows,
                    chosen,
                    fields=self.task_fields,
                    merge=self._merge,
                    adjudication_steps=frozenset(
                        s.name for s in self.workflow.steps if s.kind == "adjudicate"
                    ),
                    unannotated=unannotated,
                    seen=seen,
                    progress=bar.update,
                )
            else:
                records = gold_records(
                    rows,
                    entries,
                    fields=self.task_fields,
                    unannotated=unannotated,
                    seen=seen,
                    progress=bar.update,
                )
            report = write_records(records, target, name, context)
        return ExportReport(
            target,
            name,
            written=report.written,
            tasks=report.tasks,
            unanswered=seen.unanswered,
            notes=[*seen.notes, *report.notes],
        )

    def _merge(self, payloads: list[dict[str, Any]]) -> tuple[dict[str, Any] | None, float]:
        """The annotators' answers to one task merged by the workflow's consensus rule, and
        how far they agree (spans and boxes with partial credit, other answers exactly)."""
        rules = [s.agreement.consensus for s in self.workflow.steps if s.agreement is not None]
        kind = annolab.kinds.find(payloads[0].get("kind"))
        measure = "category" if kind is None else kind.measure
        metric = {"spans": "span_f1", "boxes": "box_f1"}.get(measure, "exact")
        merged = consensus(payloads, rules[0] if rules else "majority")
        return merged, agreement(payloads, metric)

    def preferences(
        self,
        *,
        which: str = "consensus",
        ties: str = "drop",
        both_bad: str = "drop",
        ranking: str = "adjacent",
        conversational: bool = False,
        reference: str | None = None,
        question: str | None = None,
        kind: str | Sequence[str] = "human",
    ) -> pl.DataFrame:
        """Chosen/rejected pairs from the project's pairwise or ranking answers, in the shape
        TRL's DPO trainer reads.

        Columns: ``prompt``, ``chosen``, ``rejected`` (strings; with ``conversational=True``
        lists of ``{"role", "content"}`` messages: the prompt as the user's, each output as the
        assistant's), then ``task_id`` (the task's external id), ``annotator`` (null for a
        consensus), ``source`` (``pairwise`` or ``ranking``) and ``rationale`` (for a
        consensus, the rationales of those who gave the verdict, one a line). The prompt and
        outputs are the task inputs the question names (``prompt``, ``a``, ``b``; ranking:
        ``field``); a question without a prompt, or a prompt added as the task's text, takes
        the task's text.

        ==================  ==============  ====================================================
        option              value           pairs
        ==================  ==============  ====================================================
        ``which``           ``consensus``   one verdict per task: the adjudicator's, else the
                                            answers' majority consensus as their kind merges
                                            them (pairwise: the choice more than half gave;
                                            criteria and rationales do not vote). A task with
                                            none gives no pair (it is logged, and counted in
                                            ``export_preferences``' report)
        ..                  ``all``         every submitted or approved answer, with its
                                            annotator; a reviewer's revision replaces the work
                                            it corrects
        ``ties``            ``drop``        a tie gives no pair
        ..                  ``both``        a over b and b over a. Under DPO the two pull
                                            against each other, moving the margin between the
                                            outputs toward zero, which is what a tie says;
                                            rarely wanted, as it doubles the rows and teaches
                                            no direction
        ``both_bad``        ``drop``        a both-bad verdict gives no pair
        ..                  ``reject_both`` the task input named by ``reference`` (a good
                                            answer) over a, and over b; refused without
                                            ``reference``: two bad outputs make no pair
        ``ranking``         ``adjacent``    each output over the next (n - 1 pairs)
        ..                  ``all_pairs``   every output over every worse one (n(n-1)/2 pairs)
        ..                  ``best_vs_rest`` the best output over each of the others
        ``conversational``  ``False``       ``prompt``, ``chosen``, ``rejected`` as strings
        ..                  ``True``        as chat messages, TRL's conversational format
        ``reference``       an input name   the good answer ``both_bad="reject_both"`` uses
        ``question``        a name          the question to read, when the layout has several
                                            pairwise or ranking questions
        ``kind``            ``human``       the annotation kinds read (add ``persona`` to train
                                            on AI feedback too)
        ==================  ==============  ====================================================

        The first value of each option is its default.

        A layout with no pairwise or ranking question is refused (``LayoutError``).

        >>> pairs = proj.preferences(which="all", ties="both")  # doctest: +SKIP
        """
        from annolab.preferences import collect

        frame, _ = collect(
            self,
            which=which,
            ties=ties,
            both_bad=both_bad,
            ranking=ranking,
            conversational=conversational,
            reference=reference,
            question=question,
            kind=kind,
        )
        return frame

    def export_preferences(
        self, path: str | Path, *, format: str | None = None, **options: Any
    ) -> PreferenceReport:
        """Write ``preferences(**options)`` to ``path`` as JSON Lines (``jsonl``), ``parquet``,
        or a Hugging Face dataset saved with ``save_to_disk`` (``hf``: a folder, read back with
        ``datasets.load_from_disk``). The format defaults to the file's suffix. The file (or
        folder) appears only when complete, replacing an earlier export.

        Returns a report: rows written, answers read, tasks without consensus, ties and
        both-bad verdicts dropped.

        >>> proj.export_preferences("dpo.jsonl", which="all")  # doctest: +SKIP
        <PreferenceReport 120 pairs from 80 tasks to dpo.jsonl; 3 without consensus, ...>
        """
        from annolab.preferences import collect, preference_format, write_preferences

        target = _path(path)
        chosen = preference_format(target, format)
        frame, report = collect(self, **options)
        write_preferences(frame, target, chosen)
        return replace(report, path=target)

    def preferences_dataset(self, **options: Any) -> Any:
        """``preferences(**options)`` as a ``datasets.Dataset``, ready for TRL's
        ``DPOTrainer(train_dataset=...)``; needs ``pip install "annolab[hf]"``.

        Features: ``prompt``, ``chosen``, ``rejected`` (``Value("string")``, or lists of
        ``{"role", "content"}`` with ``conversational=True``) and the string columns
        ``task_id``, ``annotator``, ``source``, ``rationale``, which TRL leaves alone.

        >>> ds = proj.preferences_dataset(conversational=True)  # doctest: +SKIP
        >>> ds.select_columns(["prompt", "chosen", "rejected"])  # doctest: +SKIP
        """
        from annolab.preferences import collect, to_dataset

        frame, _ = collect(self, **options)
        return to_dataset(frame)

    def set_status(self, status: ProjectStatus | str) -> None:
        """Move the project to ``status`` (draft, active, paused, completed, archived)."""
        chosen = check_member(ProjectStatus, status, "status")
        with self.workspace.engine.begin() as conn:
            self._row = projects.set_status(
                conn, actor=self.workspace.user, project_id=self.id, status=chosen
            )

    # Clean-up: project admins, team leads and the project's creator; each step is an event.

    def archive(self) -> None:
        """Hide the project: it leaves ``ws.projects()`` and every queue, and keeps all its
        data; ``restore()`` brings it back as it was. Running it twice changes nothing.

        >>> proj.archive()  # doctest: +SKIP
        """
        with self._admin() as (conn, _engine, actor):
            self._row = projects.archive_project(conn, actor=actor.name, project_id=self.id)

    def restore(self) -> None:
        """Undo ``archive()``: the project gets back the status it had (active if unknown).
        A deleted project can not be restored.

        >>> proj.restore()  # doctest: +SKIP
        """
        with self._admin() as (conn, _engine, actor):
            self._row = projects.restore_project(conn, actor=actor.name, project_id=self.id)

    def delete(self, *, confirm: str) -> dict[str, int]:
        """Delete the project's tasks and everything done on them (assignments, annotations,
        reviews, feedback, gold entries), for good, and archive it; ``confirm`` must be the
        project's name. The event log is kept: ``events()`` still tells what happened. Returns
        what was deleted: ``{"tasks": n, "annotations": m}``.

        >>> proj.delete(confirm=proj.name)  # doctest: +SKIP
        {'tasks': 50, 'annotations': 150}
        """
        if confirm != self.name:
            rule = f"must be the project's name, {self.name!r}, to delete its tasks and answers"
            raise ValidationError("confirm", confirm, rule)
        with self._admin() as (conn, _engine, actor):
            counts = projects.delete_project_data(conn, actor=actor.name, project_id=self.id)
            self._row = projects.get_project(conn, self.name)
        return counts

    def __repr__(self) -> str:
        return f"<Project {self.name!r} ({self.status.value}), labels {self.labels.names}>"

    # Embeddings: annolab.personas.embeddings does the work (imported when used, as it builds
    # on this class).

    def embed(
        self, embedder: Embedder | str = "all-minilm", *, batch_size: int = 256
    ) -> EmbedReport:
        """Embed task texts that have no vector of this model yet (a string is an Ollama model).

        >>> proj.embed(SentenceTransformerEmbedder())  # doctest: +SKIP
        <EmbedReport 1000 embedded, 0 reused, 0 unchanged>
        """
        from annolab.personas.embeddings import embed_tasks

        check_int(batch_size, "batch_size", low=1, high=100_000)
        return embed_tasks(self, embedder, batch_size=batch_size)

    def similar(
        self,
        text: str | None = None,
        *,
        task: str | None = None,
        k: int = 10,
        embedder: Embedder | str = "all-minilm",
    ) -> pl.DataFrame:
        """The ``k`` tasks closest by cosine to ``text`` or to the task with external id ``task``.

        >>> proj.similar(task="doc-17", k=5)  # doctest: +SKIP
        """
        from annolab.personas.embeddings import similar

        if text is not None:
            check_str(text, "text", required=True)
        if task is not None:
            task = task_key(task)
        k = check_int(k, "k", low=1, high=100_000)
        return similar(self, text, task=task, k=k, embedder=embedder)

    def near_duplicates(
        self, *, threshold: float = 0.95, embedder: Embedder | str = "all-minilm"
    ) -> pl.DataFrame:
        """Pairs of tasks whose embeddings have cosine similarity >= ``threshold``.

        >>> proj.near_duplicates(threshold=0.98)  # doctest: +SKIP
        """
        from annolab.personas.embeddings import near_duplicates

        threshold = check_float(threshold, "threshold", low=-1.0, high=1.0)
        return near_duplicates(self, threshold=threshold, embedder=embedder)


def task_key(task: object) -> str:
    """A task's external id as stored: text (a whole number is taken as its digits)."""
    if isinstance(task, int) and not isinstance(task, bool):
        return str(task)
    return check_name(task, "task")


def _path(path: object) -> Path:
    if isinstance(path, Path):
        return path
    return Path(check_str(path, "path", required=True))


def _checked(adapter: pydantic.TypeAdapter[Any], items: object, field: str) -> Any:
    """Validate configuration, turning pydantic's error into ours (field, value, rule), and
    refuse what the settings column (JSONB) can not hold."""
    try:
        checked = adapter.validate_python(items)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        rule = first["msg"].removeprefix("Value error, ").replace("Input should be", "must be")
        raise ValidationError(f"{field}.{where}", first.get("input"), rule) from exc
    check_json(adapter.dump_python(checked, mode="json"), field)
    return checked


def _text_fields(layout: Layout) -> set[str]:
    """The inputs the task's ``text`` stands for: every field a spans question marks up (the
    queue stores a task's main text as ``text``, whatever the frame's column was called), and
    the image a boxes question draws on (a task's path or URL may come as its text, as the
    widgets and personas read it)."""
    kinds = (SpansQuestion, BoxesQuestion)
    return {"text"} | {q.field for q in layout.questions if isinstance(q, kinds)}


def _check_task_data(layout: Layout, rows: pl.DataFrame, ranked: Input | None) -> pl.DataFrame:
    """Check each task's data against the layout's inputs; rank an enum priority for the queue.

    The task's main text is stored as ``text``; it is checked as every field it stands for.
    """
    texts = _text_fields(layout)
    if ranked is None and all(i.name in texts for i in layout.inputs):
        return rows  # prepare_tasks already refused a missing or empty text
    ranks: list[int] = []
    for index, encoded in enumerate(rows["data"]):
        data = json.loads(encoded)
        text = data.get("text")
        layout.check_task({**dict.fromkeys(texts, text), **data}, where=f"tasks[{index}]")
        if ranked is not None:
            value = data.get(ranked.name)
            value = ranked.default if value is None else value
            values = ranked.values or ()
            ranks.append(values.index(value) if value in values else 0)
    if ranked is None:
        return rows
    return rows.with_columns(pl.Series("priority", ranks, dtype=pl.Int32))


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows read from a file as a frame; values of one key that no column type holds refused."""
    try:
        return pl.DataFrame(rows, infer_schema_length=None)
    except Exception as exc:  # polars raises several errors for mixed values
        msg = f"the tasks' data could not be read as a table ({exc})"
        raise DataError(msg) from exc


@contextmanager
def _bar(name: str, shown: bool) -> Iterator[Any]:
    """A progress bar (a widget in notebooks) that appears only on a run longer than a second."""
    from tqdm.auto import tqdm

    with tqdm(desc=f"export {name}", unit=" tasks", delay=1.0, disable=not shown) as bar:
        yield bar
