"""A session: one person working through a project's queue (claim, annotate, submit, next).

>>> session = proj.session()          # doctest: +SKIP
>>> item = session.next()             # doctest: +SKIP
>>> session.submit({"kind": "choice", "label": "positive"})  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from annolab.errors import AnnolabError, AssignmentError, WorkflowError
from annolab.hooks import manager as hooks
from annolab.schema.enums import AnnotationKind, AnnotationStatus, ReviewDecision, UserKind
from annolab.schema.fields import check_member, check_name, check_seconds, check_str, check_uuid
from annolab.store import revisit
from annolab.store.annotations import NewAnnotation
from annolab.store.assignments import Claim, queue_counts, renew_lease, standing, step_annotations
from annolab.store.telemetry import TelemetryRow, write_telemetry
from annolab.store.users import UserProfile, ensure_user, user_profile
from annolab.store.writes import transaction
from annolab.workflow.engine import Clock, Engine, refusal

if TYPE_CHECKING:
    from annolab.project import Project
    from annolab.widgets._telemetry import TelemetrySummary

_log = logging.getLogger(__name__)
# Telemetry rows kept for a retry while the store refuses them: a bound, so a store that stays
# down costs memory no longer than this many summaries (the oldest are dropped first).
TELEMETRY_PENDING_MAX = 1000

# Leases last many minutes, so returning expired ones to the pool every few seconds is enough;
# a claim that finds the queue empty sweeps anyway.
SWEEP_EVERY = dt.timedelta(seconds=10)
# Seconds to wait before asking again when every place left was locked by other claims.
CONTENDED_PAUSES = (0.005, 0.02, 0.05)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


@dataclass(frozen=True)
class Item:
    """A claimed task: what to show, and the place held for you until ``lease_expires_at``."""

    task_id: int
    external_id: str
    step: str
    text: str | None
    data: dict[str, Any]
    assignment_id: int
    lease_expires_at: dt.datetime
    # Earlier annotations of the task, shown only where the workflow releases them
    # (adjudication and review); in a blind step this is always empty.
    shown: tuple[dict[str, Any], ...] = field(default=())
    # Who wrote each of ``shown`` (same order) and its annotation id: the loop names them only
    # where the workflow is not blind, and links a reviewer's revision or an adjudicator's
    # pick to the annotation it came from.
    shown_by: tuple[str, ...] = field(default=())
    shown_ids: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Queue:
    """Your queue: tasks done, open to you, skipped (you can take them up again) and drafted
    (a draft saved, not yet submitted; these are among the open ones)."""

    done: int
    open: int
    skipped: int
    drafted: int

    @property
    def total(self) -> int:
        return self.done + self.open + self.skipped

    @property
    def left(self) -> int:
        return self.open + self.skipped


class Session:
    """The queue of ``project`` as seen by ``user`` (default: the workspace's user)."""

    def __init__(
        self, project: Project, user: str | None = None, clock: Clock | None = None
    ) -> None:
        self.project = project
        self.clock = clock or utc_now
        name = check_name(project.workspace.user if user is None else user, "user")
        engine = project.workspace.engine
        with engine.begin() as conn:
            self.user_id = ensure_user(conn, name, kind=UserKind.HUMAN)
        self.user = name
        self.current: Item | None = None
        self._opened_at = time.monotonic()
        self._swept_at: dt.datetime | None = None
        # Who the user is, as of their last claim: the claim checks eligibility afresh; submit,
        # review and skip only need to know whose assignment it is.
        self._profile: UserProfile | None = None
        self._telemetry_pending: list[TelemetryRow] = []

    @property
    def _engine(self) -> Engine:
        return self.project.engine(self.clock)

    def next(self, *, resume: bool = True) -> Item | None:
        """Claim the next task; one you already hold comes back first unless ``resume=False``.

        None means nothing is left for you: when the only places left are being claimed by
        others at that instant, it asks again (a few times, briefly) before saying so. A
        plugin's ``annolab_before_claim`` may refuse the claim (``AssignmentError``).
        """
        if hooks.implementations("annolab_before_claim"):
            for plugin, reason in hooks.results(
                "annolab_before_claim", project=self.project, user=self.user
            ):
                msg = f"{reason} (refused by plugin {plugin!r})"
                raise AssignmentError(msg)
        item = None
        for pause in CONTENDED_PAUSES:
            item, contended = self._claim(resume)
            if item is not None or not contended:
                break
            time.sleep(pause)
        else:
            item = self._claim(resume)[0]
        if item is not None and hooks.implementations("annolab_after_claim"):
            hooks.notify("annolab_after_claim", project=self.project, user=self.user, item=item)
        return item

    def _claim(self, resume: bool) -> tuple[Item | None, bool]:
        now = self.clock()
        workspace = self.project.workspace
        if self._swept_at is not None and now - self._swept_at < SWEEP_EVERY:
            # The usual claim reads who the user is and takes a place with one statement that
            # also logs it: each is atomic alone, so no transaction is opened around them, and
            # its BEGIN and COMMIT (two of four round trips) are saved. A queue that looks
            # empty is asked again below, in a transaction that hands back expired leases.
            with workspace.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                found = self._claim_on(conn, now, resume, sweep=False)
            if found[0] is not None:
                return found
        with workspace.engine.begin() as conn:
            return self._claim_on(conn, now, resume, sweep=True)

    def _claim_on(
        self,
        conn: sa.Connection,
        now: dt.datetime,
        resume: bool,
        *,
        sweep: bool,
    ) -> tuple[Item | None, bool]:
        profile, claim = self._engine.claim(conn, self.user_id, resume=resume, sweep=sweep)
        self._profile = profile
        if sweep:
            self._swept_at = now
        if claim is None:
            self.current = None
            return None, sweep and self._engine.contended(conn, profile)
        step = self.project.workflow.step(claim.step)
        earlier: list[tuple[str, str, dict[str, Any]]] = []
        if step.kind in {"adjudicate", "review"} or not self.project.workflow.blind:
            earlier = self._earlier(conn, claim.task_id, claim.step)
        self.current = self._item(claim, earlier)
        return self.current, False

    def _item(self, claim: Claim, earlier: list[tuple[str, str, dict[str, Any]]]) -> Item:
        self._opened_at = time.monotonic()
        return Item(
            task_id=claim.task_id,
            external_id=claim.external_id,
            step=claim.step,
            text=claim.data.get("text"),
            data=self.project.task_fields(claim.data),
            assignment_id=claim.assignment_id,
            lease_expires_at=claim.lease_expires_at,
            shown=tuple(payload for _, _, payload in earlier),
            shown_by=tuple(name for _, name, _ in earlier),
            shown_ids=tuple(ann_id for ann_id, _, _ in earlier),
        )

    def _earlier(
        self, conn: sa.Connection, task_id: int, step: str
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """(annotation id, annotator name, payload) of the earlier steps' work on the task."""
        steps = [s.name for s in self.project.workflow.steps]
        earlier = steps[: steps.index(step)] or steps
        rows = [r for s in earlier for r in step_annotations(conn, task_id=task_id, step=s)]
        names: dict[int, str] = dict(
            conn.execute(
                sa.text("SELECT id, name FROM users WHERE id = ANY(:ids)"),
                {"ids": list({r.user_id for r in rows})},
            ).all()
        )
        return [(str(r.id), str(names.get(r.user_id, "")), dict(r.payload)) for r in rows]

    def suggestion(self) -> dict[str, Any] | None:
        """The latest persona or model answer to the current task, or None.

        It is offered to the annotator as suggestions to accept or reject. Showing it does not
        break blind mode: blind keeps people's answers from one another so that their agreement
        measures independent judgement; a persona or model answered without seeing anyone's
        work, is not one of the annotators whose agreement is measured, and its answer is the
        same for everyone who claims the task.

        >>> session.suggestion()  # doctest: +SKIP
        {'kind': 'spans', 'spans': [{'start': 0, 'end': 3, 'label': 'PER'}]}
        """
        item = self._require_current()
        if hooks.implementations("annolab_prefill"):
            for _plugin, payload in hooks.results(
                "annolab_prefill", project=self.project, item=item
            ):
                # Checked like any answer: a plugin's payload that breaks a rule is refused
                # with the usual error (the annotation loop leaves it out, with a message).
                return self.project.check_answer(payload, text=item.text).to_dict()
        with self.project.workspace.engine.begin() as conn:
            row = conn.execute(
                sa.text(
                    "SELECT payload FROM annotations WHERE task_id = :t"
                    " AND kind IN ('persona', 'model') AND status <> 'draft'"
                    " ORDER BY created_at DESC, id LIMIT 1"
                ),
                {"t": item.task_id},
            ).first()
        return None if row is None else dict(row[0])

    def submit(
        self, payload: Any, *, time_spent: float | None = None, id: uuid.UUID | str | None = None
    ) -> uuid.UUID:
        """Validate and store the answer for the current task; idempotent on ``id``."""
        return self._write(payload, AnnotationStatus.SUBMITTED, time_spent, id)

    def save_draft(
        self, payload: Any, *, time_spent: float | None = None, id: uuid.UUID | str | None = None
    ) -> uuid.UUID:
        """Store a draft of the answer; the task stays yours and open."""
        return self._write(payload, AnnotationStatus.DRAFT, time_spent, id)

    def _write(
        self,
        payload: Any,
        status: AnnotationStatus,
        time_spent: float | None,
        ann_id: uuid.UUID | str | None,
        parent_id: uuid.UUID | None = None,
    ) -> uuid.UUID:
        item = self._require_current()
        if self.project.workflow.step(item.step).kind == "review":
            # A review is a decision on someone else's work: storing the reviewer's own answer
            # as a submit would complete the task with nobody's work approved or rejected.
            msg = (
                f"step={item.step!r} is a review step; decide with session.review('approve' | "
                "'reject' | 'revise', comment) or store an edited copy with session.revise(payload)"
            )
            raise WorkflowError(msg)
        valid = self.project.check_answer(payload, text=item.text)
        time_spent = check_seconds(time_spent)
        if time_spent is None:  # since the task was shown in this session
            time_spent = round(time.monotonic() - self._opened_at, 3)
        # The id is derived from the assignment unless given: a retried submit, or a draft
        # followed by the submit, updates the same annotation instead of adding one.
        final_id = (
            check_uuid(ann_id)
            if ann_id is not None
            else uuid.uuid5(uuid.NAMESPACE_URL, f"annolab:assignment:{item.assignment_id}")
        )
        annotation = NewAnnotation(
            id=final_id,
            task_id=item.task_id,
            user_id=self.user_id,
            kind=AnnotationKind.HUMAN,
            status=status,
            payload=valid.to_dict(),
            step=item.step,
            time_spent=time_spent,
            guidelines_version=self.project._row.guidelines_version,
            parent_id=parent_id,
        )
        engine = self._engine
        with transaction(self.project.workspace.engine) as conn:
            engine.submit(conn, self._who(conn), item.assignment_id, annotation)
        if status is AnnotationStatus.SUBMITTED:
            self.current = None
            if hooks.implementations("annolab_on_submit"):
                hooks.notify(
                    "annolab_on_submit",
                    project=self.project,
                    user=self.user,
                    item=item,
                    annotation_id=str(final_id),
                    payload=annotation.payload,
                )
        self._completed(engine)
        return final_id

    def _completed(self, engine: Engine) -> None:
        """Tell plugins about the steps the committed transaction completed."""
        if not engine.completed or not hooks.implementations("annolab_on_step_completed"):
            return
        for done in engine.completed:
            hooks.notify(
                "annolab_on_step_completed",
                project=self.project,
                task_id=done.task_id,
                step=done.step,
                annotation_ids=list(done.annotation_ids),
            )

    def review(self, decision: str, comment: str = "") -> None:
        """Decide on the current review task: ``approve``, ``reject`` or ``revise`` (with a
        comment saying what to fix)."""
        chosen = check_member(ReviewDecision, decision, "decision")
        check_str(comment, "comment")
        item = self._require_current()
        with transaction(self.project.workspace.engine) as conn:
            self._engine.review(conn, self._who(conn), item.assignment_id, chosen, comment)
        self.current = None

    def revise(self, payload: Any, comment: str = "") -> uuid.UUID:
        """At a review step, store ``payload`` as the reviewer's corrected copy of the work.

        The copy is stored approved, with ``parent_id`` the annotation it corrects; the work
        under review gets a ``revise`` review row and keeps its status, and the task moves on as
        an approval would. (``session.review("revise", comment)`` instead sends the task back to
        its annotators.)

        >>> item = session.next()  # doctest: +SKIP
        >>> session.revise({"kind": "choice", "label": "neg"}, "it is sarcasm")  # doctest: +SKIP
        UUID('...')
        """
        item = self._require_current()
        check_str(comment, "comment")
        if not item.shown_ids:
            msg = f"task={item.external_id!r} has no work under review to revise"
            raise WorkflowError(msg)
        valid = self.project.check_answer(payload, text=item.text)
        revision = NewAnnotation(
            id=uuid.uuid5(uuid.NAMESPACE_URL, f"annolab:revision:{item.assignment_id}"),
            task_id=item.task_id,
            user_id=self.user_id,
            kind=AnnotationKind.HUMAN,
            status=AnnotationStatus.APPROVED,
            payload=valid.to_dict(),
            step=item.step,
            time_spent=round(time.monotonic() - self._opened_at, 3),
            guidelines_version=self.project._row.guidelines_version,
            parent_id=uuid.UUID(item.shown_ids[0]),
        )
        with transaction(self.project.workspace.engine) as conn:
            self._engine.review(
                conn,
                self._who(conn),
                item.assignment_id,
                ReviewDecision.REVISE,
                comment,
                revision=revision,
            )
        self.current = None
        return revision.id

    def adjudicate(self, payload: Any, *, chosen: str | uuid.UUID | None = None) -> uuid.UUID:
        """At an adjudication step, store the adjudicated answer; the task moves on.

        ``chosen`` is the id of the released answer it was picked from (``item.shown_ids``),
        recorded as the answer's ``parent_id``; leave it None for a merge or your own answer.

        >>> item = session.next()  # doctest: +SKIP
        >>> session.adjudicate(item.shown[1], chosen=item.shown_ids[1])  # doctest: +SKIP
        UUID('...')
        """
        item = self._require_current()
        if self.project.workflow.step(item.step).kind != "adjudicate":
            msg = f"step={item.step!r} is not an adjudication step; use session.submit(payload)"
            raise WorkflowError(msg)
        parent = None
        if chosen is not None:
            parent = check_uuid(chosen)
            if str(parent) not in item.shown_ids:
                msg = (
                    f"chosen={str(chosen)!r} is not one of the answers shown for "
                    f"task={item.external_id!r}; use an id from item.shown_ids"
                )
                raise WorkflowError(msg)
        return self._write(payload, AnnotationStatus.SUBMITTED, None, None, parent)

    def skip(self) -> None:
        """Set the current task aside: its place goes back to the pool and ``next()`` does not
        offer it to you again, but it stays in your queue (``skipped()``) and ``reopen`` takes
        it up again while it has room."""
        item = self._require_current()
        with transaction(self.project.workspace.engine) as conn:
            self._engine.skip(conn, self._who(conn), item.assignment_id)
        self.current = None

    def queue_counts(self) -> tuple[int, int]:
        """(tasks you finished, tasks still open to you) in this project; the tasks you skipped
        are in neither (see :meth:`queue`)."""
        with self.project.workspace.engine.begin() as conn:
            steps = self._my_steps(conn)
            return queue_counts(conn, project_id=self.project.id, user_id=self.user_id, steps=steps)

    def queue(self) -> Queue:
        """Your queue in one read: done, open, skipped (still yours to take up) and drafted.

        ``total`` counts the skipped tasks too: skipping one does not make the queue shorter.

        >>> session.queue()  # doctest: +SKIP
        Queue(done=3, open=0, skipped=1, drafted=0)
        """
        key = {"project_id": self.project.id, "user_id": self.user_id}
        with self.project.workspace.engine.begin() as conn:
            steps = self._my_steps(conn)
            done, open_ = queue_counts(conn, steps=steps, **key)
            skipped = revisit.skipped_count(conn, steps=steps, **key)
            drafted = len(revisit.drafted_tasks(conn, steps=steps, **key))
        return Queue(done=done, open=open_, skipped=skipped, drafted=drafted)

    def skipped(self) -> list[str]:
        """The tasks you skipped that you can take up again (``reopen``), oldest skip first.

        A task drops out of this list when others filled its places or it moved on.

        >>> session.skipped()  # doctest: +SKIP
        ['doc-17', 'doc-4']
        """
        with self.project.workspace.engine.begin() as conn:
            rows = revisit.skipped_tasks(
                conn,
                project_id=self.project.id,
                user_id=self.user_id,
                steps=self._my_steps(conn),
            )
        return [r.external_id for r in rows]

    def drafts(self) -> list[str]:
        """The tasks you saved a draft on and have not submitted, oldest draft first.

        >>> session.drafts()  # doctest: +SKIP
        ['doc-9']
        """
        with self.project.workspace.engine.begin() as conn:
            rows = revisit.drafted_tasks(
                conn,
                project_id=self.project.id,
                user_id=self.user_id,
                steps=self._my_steps(conn),
            )
        return [r.external_id for r in rows]

    def reopen(self, task: str) -> Item:
        """Open task ``task`` (its id in your data) again: one you skipped, one you left a draft
        on, or one you hold. It becomes the current task; the task that was current stays yours
        and comes back with ``next()``. Your draft, if any, is in :meth:`draft`.

        >>> item = session.reopen(session.skipped()[0])  # doctest: +SKIP
        """
        check_str(task, "task")
        now = self.clock()
        workflow = self.project.workflow
        with self.project.workspace.engine.begin() as conn:
            task_id = revisit.task_id_of(conn, project_id=self.project.id, external_id=task)
            if task_id is None:
                msg = f"task={task!r} is not a task of project {self.project.name!r}"
                raise AssignmentError(msg)
            key = {"project_id": self.project.id, "user_id": self.user_id, "task_id": task_id}
            claim = revisit.held_claim(conn, now=now, **key)
            if claim is None:
                stand = standing(conn, project_id=self.project.id, user_id=self.user_id, now=now)
                self._profile = stand.user
                if stand.restricted is not None:
                    raise AssignmentError(stand.restricted)
                if stand.holding >= workflow.max_concurrent:
                    msg = f"You have reached max concurrent tasks ({workflow.max_concurrent})"
                    raise AssignmentError(msg)
                claim = revisit.take_up_again(
                    conn,
                    actor=self.user,
                    steps=self._my_steps(conn),
                    lease=dt.timedelta(minutes=workflow.lease_minutes),
                    now=now,
                    **key,
                )
            if claim is None and task in self._set_aside(conn):
                msg = f"task={task!r} is being claimed by someone else this instant; try again"
                raise AssignmentError(msg)
            if claim is None:
                msg = (
                    f"task={task!r} is not open to you again: you did not skip it or leave a "
                    "draft on it, or it was submitted, filled by others or moved on; see "
                    "session.skipped() and session.drafts()"
                )
                raise AssignmentError(msg)
            step = workflow.step(claim.step)
            earlier: list[tuple[str, str, dict[str, Any]]] = []
            if step.kind in {"adjudicate", "review"} or not workflow.blind:
                earlier = self._earlier(conn, claim.task_id, claim.step)
        self.current = self._item(claim, earlier)
        return self.current

    def draft(self) -> dict[str, Any] | None:
        """Your saved draft of the current task's answer, or None."""
        item = self._require_current()
        with self.project.workspace.engine.begin() as conn:
            return revisit.my_draft(
                conn, task_id=item.task_id, step=item.step, user_id=self.user_id
            )

    def _set_aside(self, conn: sa.Connection) -> set[str]:
        """External ids of the tasks you skipped or drafted that you may take up again."""
        key = {"project_id": self.project.id, "user_id": self.user_id}
        steps = self._my_steps(conn)
        return {
            r.external_id
            for r in [
                *revisit.skipped_tasks(conn, steps=steps, **key),
                *revisit.drafted_tasks(conn, steps=steps, **key),
            ]
        }

    def _my_steps(self, conn: sa.Connection) -> list[str]:
        profile = user_profile(conn, self.user_id)
        return [s.name for s in self.project.workflow.steps if refusal(s, profile) is None]

    def renew(self) -> dt.datetime:
        """Extend the lease on the current task (the widget calls this while it is in use)."""
        item = self._require_current()
        until = self.clock() + dt.timedelta(minutes=self.project.workflow.lease_minutes)
        with self.project.workspace.engine.begin() as conn:
            if not renew_lease(conn, assignment_id=item.assignment_id, until=until):
                self.current = None
                msg = "your lease on this task has ended; claim a task again with session.next()"
                raise AssignmentError(msg)
        return until

    def record_telemetry(
        self, summaries: Sequence[TelemetrySummary], item: Item | None = None
    ) -> int:
        """Write a widget's summaries about ``item`` (default: the current task) in one batch,
        with any a failed batch left; returns how many rows were new.

        Never raises for the store: telemetry measures the work and is not the work. The
        annotation loop calls this after the answer was stored, in a transaction of its own, so
        a failure here can neither roll back nor block a submit. Refused rows stay pending and
        go with the next batch; their batch ids make that retry write nothing twice.

        >>> session.record_telemetry(widget.take_telemetry(), item)  # doctest: +SKIP
        1
        """
        item = self.current if item is None else item
        if item is not None:
            self._telemetry_pending.extend(
                TelemetryRow(
                    batch_id=s.batch_id,
                    user_id=self.user_id,
                    project_id=self.project.id,
                    task_id=item.task_id,
                    assignment_id=item.assignment_id,
                    step=item.step,
                    widget=s.widget,
                    reason=s.reason,
                    active_ms=s.active_ms,
                    idle_ms=s.idle_ms,
                    keys=s.keys,
                    pointer=s.pointer,
                    edits=s.edits,
                    undos=s.undos,
                    redos=s.redos,
                )
                for s in summaries
            )
        del self._telemetry_pending[:-TELEMETRY_PENDING_MAX]
        if not self._telemetry_pending:
            return 0
        try:
            with self.project.workspace.engine.begin() as conn:
                written = write_telemetry(conn, self._telemetry_pending)
        except (sa.exc.SQLAlchemyError, AnnolabError) as exc:
            _log.warning(
                "annolab: %d telemetry rows were not stored and will be retried: %s",
                len(self._telemetry_pending),
                exc,
            )
            return 0
        self._telemetry_pending = []
        return written

    def _who(self, conn: sa.Connection) -> UserProfile:
        if self._profile is None:
            self._profile = user_profile(conn, self.user_id)
        return self._profile

    def _require_current(self) -> Item:
        if self.current is None:
            msg = "no task is open in this session; call session.next() first"
            raise AssignmentError(msg)
        return self.current

    def __repr__(self) -> str:
        where = f"task {self.current.external_id!r}" if self.current else "no open task"
        return f"<Session {self.user!r} on {self.project.name!r}: {where}>"
