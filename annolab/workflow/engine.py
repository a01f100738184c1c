"""The task state machine: who may claim what, and where a task goes when a step ends."""

from __future__ import annotations

import datetime as dt
import functools
import random
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import sqlalchemy as sa

from annolab.errors import AssignmentError, WorkflowError
from annolab.quality.rules import Rule
from annolab.schema.enums import (
    AnnotationKind,
    AnnotationStatus,
    Proficiency,
    ReviewDecision,
)
from annolab.store import assignments as store
from annolab.store import quality as quality_store
from annolab.store.annotations import NewAnnotation, upsert_annotations
from annolab.store.events import record_event
from annolab.store.users import UserProfile
from annolab.store.writes import batched, flush
from annolab.workflow import expr
from annolab.workflow.consensus import agreement, consensus
from annolab.workflow.quality import apply_rules, score_submission
from annolab.workflow.spec import DONE, ESCALATE, Step, Transition, Workflow

Clock = Callable[[], dt.datetime]
_Method = TypeVar("_Method", bound=Callable[..., Any])


def _events_batched(method: _Method) -> _Method:
    """Write the events a queue operation records in one INSERT at its end."""

    @functools.wraps(method)
    def wrapper(self: Engine, conn: sa.Connection, *args: Any, **kwargs: Any) -> Any:
        with batched(conn):
            return method(self, conn, *args, **kwargs)

    return cast(_Method, wrapper)


_RANK = {Proficiency.NOVICE: 0, Proficiency.INTERMEDIATE: 1, Proficiency.EXPERT: 2}


def refusal(step: Step, user: UserProfile) -> str | None:
    """Why ``user`` may not take ``step``, in words for them; None if they may.

    >>> from annolab.schema.enums import Role, UserKind
    >>> novice = UserProfile(1, "n", UserKind.HUMAN, frozenset({Role.ANNOTATOR}),
    ...                      {"medical_coding": Proficiency.NOVICE}, frozenset())
    >>> step = Step(name="code", who={"skills": {"medical_coding": "intermediate"}})
    >>> refusal(step, novice)
    'Requires skill: medical_coding (intermediate)'
    """
    who = step.who
    if who.roles and not user.roles & set(who.roles):
        return f"Requires role: {' or '.join(r.value for r in who.roles)}"
    for skill, level in who.skills.items():
        have = user.skills.get(skill)
        if have is None or _RANK[have] < _RANK[level]:
            return f"Requires skill: {skill} ({level.value})"
    if who.teams and not user.teams & set(who.teams):
        return f"Requires team: {' or '.join(who.teams)}"
    return None


@dataclass(frozen=True)
class StepCompleted:
    """A step of a task that got all its annotations in this engine's transaction."""

    task_id: int
    step: str
    annotation_ids: tuple[str, ...]


@dataclass(frozen=True)
class Engine:
    """Applies one project's workflow to its tasks, inside the caller's transaction.

    ``completed`` collects the steps completed through this engine, for the caller to announce
    (``annolab_on_step_completed``) once its transaction has committed: an engine serves one
    transaction at a time.
    """

    workflow: Workflow
    project_id: int
    clock: Clock
    rules: tuple[Rule, ...] = ()
    required: bool = False  # the layout's question must be answered (completeness)
    completed: list[StepCompleted] = field(default_factory=list, compare=False)

    @_events_batched
    def claim(
        self,
        conn: sa.Connection,
        user_id: int,
        *,
        resume: bool = True,
        sweep: bool = True,
    ) -> tuple[UserProfile, store.Claim | None]:
        """Who the user is, and the next task for them (None when their queue is empty).

        A task they already hold (a kernel restarted, a revision was asked) comes back first
        unless ``resume`` is False. Raises AssignmentError with the reason when they may take no
        step at all, or hold as many open tasks as the workflow allows. ``sweep=False`` leaves
        expired leases where they are: the claim then writes with one statement only, so it
        needs no transaction around it, and a caller whose queue looks empty asks again with a
        sweep.
        """
        now = self.clock()
        if sweep:
            store.expire_leases(conn, self.project_id, now)
        standing = store.standing(conn, project_id=self.project_id, user_id=user_id, now=now)
        user = standing.user
        if resume and standing.held is not None:
            return user, standing.held
        reasons = {s.name: refusal(s, user) for s in self.workflow.steps}
        open_steps = [name for name, reason in reasons.items() if reason is None]
        if not open_steps:
            # The entry step's reason is the one that matters to someone who can do nothing.
            raise AssignmentError(str(reasons[self.workflow.first]))
        if standing.restricted is not None:
            raise AssignmentError(standing.restricted)
        if standing.holding >= self.workflow.max_concurrent:
            msg = f"You have reached max concurrent tasks ({self.workflow.max_concurrent})"
            raise AssignmentError(msg)
        flush(conn)  # the claim logs its own event: the ones before it go first
        return user, self._take(conn, user, open_steps, now)

    def contended(self, conn: sa.Connection, user: UserProfile) -> bool:
        """Whether places the user may take exist but others hold their rows right now: a
        claim that came back empty is then worth trying again."""
        return store.places_left(
            conn,
            project_id=self.project_id,
            user_id=user.id,
            steps=[s.name for s in self.workflow.steps if refusal(s, user) is None],
            exclude_earlier=self._exclude_earlier(),
        )

    def _exclude_earlier(self) -> list[str]:
        return [s.name for s in self.workflow.steps if s.who.exclude_earlier_steps]

    def _take(
        self, conn: sa.Connection, user: UserProfile, steps: list[str], now: dt.datetime
    ) -> store.Claim | None:
        return store.claim_next_task(
            conn,
            actor=user.name,
            project_id=self.project_id,
            user_id=user.id,
            steps=steps,
            exclude_earlier=self._exclude_earlier(),
            lease=dt.timedelta(minutes=self.workflow.lease_minutes),
            now=now,
            urgency=_weights(self.workflow),
        )

    @_events_batched
    def submit(
        self, conn: sa.Connection, user: UserProfile, assignment_id: int, annotation: NewAnnotation
    ) -> None:
        """Store ``annotation`` for the assignment and move the task on if its step is done."""
        row = self._own_active(conn, user, assignment_id, allow_submitted=True)
        upsert_annotations(conn, [annotation], actor=user.name, project_id=self.project_id)
        if row.status == "submitted":
            return  # a retry of a submit that already went through: nothing more to do
        if annotation.status is AnnotationStatus.DRAFT:
            return
        store.finish_assignment(
            conn, assignment_id=assignment_id, status="submitted", now=self.clock()
        )
        score_submission(
            conn,
            project_id=self.project_id,
            actor=user.name,
            task_id=row.task_id,
            annotation_id=str(annotation.id),
            payload=annotation.payload,
            required=self.required,
            gold=row.gold,
            now=self.clock(),
        )
        if self.rules:
            flush(conn)  # the rules read the scores just recorded
            apply_rules(
                conn,
                project_id=self.project_id,
                actor=user.name,
                annotation_id=str(annotation.id),
                rules=list(self.rules),
                now=self.clock(),
            )
        mine = store.StepAnnotation(annotation.id, user.id, annotation.payload)
        current = row.step == row.task.step  # not a place the task has since moved on from
        self.advance(
            conn, row.task_id, actor=user.name, locked=row.task, submitted=mine if current else None
        )

    @_events_batched
    def review(
        self,
        conn: sa.Connection,
        user: UserProfile,
        assignment_id: int,
        decision: ReviewDecision,
        comment: str,
        *,
        revision: NewAnnotation | None = None,
    ) -> None:
        """Approve, reject or send back for revision the work the current review step shows.

        approve: the annotations are approved and the task moves on; reject: they are rejected
        and the task goes back to the earlier step for one more annotator; revise: the task goes
        back to the same annotators, who resubmit, unless the reviewer gives the corrected copy
        as ``revision``: it is stored and the task moves on as with approve.
        """
        row = self._own_active(conn, user, assignment_id, allow_submitted=False)
        step = self.workflow.step(row.step)
        if step.kind != "review":
            msg = f"step={step.name!r} is not a review step; submit an annotation instead"
            raise WorkflowError(msg)
        earlier = self.previous(step.name)
        work = store.step_annotations(conn, task_id=row.task_id, step=earlier.name)
        if decision is ReviewDecision.REVISE and revision is None and not comment.strip():
            raise WorkflowError(
                "comment='' : a revision request needs a comment saying what to fix"
            )
        store.record_review(
            conn,
            actor=user.name,
            project_id=self.project_id,
            annotation_ids=[w.id for w in work],
            reviewer_id=user.id,
            decision=decision.value,
            comment=comment,
        )
        store.finish_assignment(
            conn, assignment_id=assignment_id, status="submitted", now=self.clock()
        )
        task = store.lock_task(conn, row.task_id)
        if revision is not None:
            upsert_annotations(conn, [revision], actor=user.name, project_id=self.project_id)
        if decision is ReviewDecision.APPROVE or revision is not None:
            nxt = _first(step.then, "complete")
            reason = "approved" if revision is None else "revised"
            self._go(conn, task, nxt.to if nxt else DONE, user.name, reason=reason)
            return
        if decision is ReviewDecision.REJECT:
            store.move_task(
                conn,
                actor=user.name,
                task_id=task.id,
                project_id=self.project_id,
                status="pending",
                step=earlier.name,
                needed=len(work) + 1,
                reset_assigned=False,
                reason="rejected",
            )
            conn.execute(
                sa.text("UPDATE tasks SET assigned = :n WHERE id = :t"),
                {"n": len(work), "t": task.id},
            )
            return
        until = self.clock() + dt.timedelta(minutes=self.workflow.lease_minutes)
        for w in work:
            store.reopen_assignment(
                conn, task_id=task.id, step=earlier.name, user_id=w.user_id, until=until
            )
        store.move_task(
            conn,
            actor=user.name,
            task_id=task.id,
            project_id=self.project_id,
            status="in_progress",
            step=earlier.name,
            needed=len(work),
            reset_assigned=False,
            reason="revision_requested",
        )
        conn.execute(
            sa.text("UPDATE tasks SET assigned = :n WHERE id = :t"), {"n": len(work), "t": task.id}
        )

    def previous(self, name: str) -> Step:
        """The step whose transitions lead to ``name`` (the work a review looks at)."""
        for step in self.workflow.steps:
            if any(t.to == name for t in step.then):
                return step
        msg = f"step={name!r} has no earlier step to review"
        raise WorkflowError(msg)

    @_events_batched
    def skip(self, conn: sa.Connection, user: UserProfile, assignment_id: int) -> None:
        """Give the place back; this user will not be offered the task at this step again."""
        self._own_active(conn, user, assignment_id, allow_submitted=False)
        freed = store.finish_assignment(
            conn, assignment_id=assignment_id, status="skipped", now=self.clock()
        )
        assert freed is not None  # a skip always gives the place back
        task_id, status = freed
        record_event(
            conn,
            actor=user.name,
            action="assignment.skipped",
            entity="assignment",
            entity_id=assignment_id,
            project_id=self.project_id,
            after={"task_id": task_id, "user_id": user.id, "task_status": status},
        )

    def _own_active(
        self, conn: sa.Connection, user: UserProfile, assignment_id: int, *, allow_submitted: bool
    ) -> store.LockedAssignment:
        row = store.lock_assignment(conn, assignment_id)
        if row is None or row.user_id != user.id:
            msg = f"assignment={assignment_id} is not yours; claim a task with session.next()"
            raise AssignmentError(msg)
        if row.status == "submitted" and allow_submitted:
            return row
        if row.status != "active":
            msg = (
                f"assignment={assignment_id} is {row.status}: your lease ended or you moved "
                "on; claim a task again with session.next()"
            )
            raise AssignmentError(msg)
        return row

    def advance(
        self,
        conn: sa.Connection,
        task_id: int,
        *,
        actor: str,
        locked: store.LockedTask | None = None,
        submitted: store.StepAnnotation | None = None,
    ) -> None:
        """If the task's current step has all its annotations, decide where it goes next.

        ``locked`` is the task as this transaction locked it, if it did already; ``submitted``
        the annotation just submitted for its current step.
        """
        task = locked or store.lock_task(conn, task_id)
        step = self.workflow.step(task.step)
        if submitted is not None and task.needed == 1:
            done = [submitted]  # a step with one place: the submission that filled it
        else:
            done = store.step_annotations(conn, task_id=task_id, step=step.name)
        if len(done) < task.needed:
            return
        record_event(
            conn,
            actor=actor,
            action="step.completed",
            entity="task",
            entity_id=task.id,
            project_id=self.project_id,
            after={"step": step.name, "annotations": [str(r.id) for r in done]},
        )
        self.completed.append(StepCompleted(task.id, step.name, tuple(str(r.id) for r in done)))
        transition = self._choose(conn, task, step, done, actor)
        if transition is None:
            return
        self._go(conn, task, transition.to, actor, reason="step_completed")

    def _choose(
        self,
        conn: sa.Connection,
        task: store.LockedTask,
        step: Step,
        done: list[store.StepAnnotation],
        actor: str,
    ) -> Transition | None:
        payloads = [r.payload for r in done]
        if step.agreement is None or len(done) < 2:
            return _pick(step.then, "complete", payloads, None)
        score = agreement(payloads, step.agreement.metric)
        agreed = score >= step.agreement.threshold
        record_event(
            conn,
            actor=actor,
            action="step.agreement",
            entity="task",
            entity_id=task.id,
            project_id=self.project_id,
            after={
                "step": step.name,
                "metric": step.agreement.metric,
                "score": score,
                "agreed": agreed,
            },
        )
        if agreed:
            merged = consensus(payloads, step.agreement.consensus)
            if merged is not None:
                self._store_consensus(conn, task.id, step.name, merged, actor)
                return _pick(step.then, "agreement", payloads, score)
        chosen = _pick(step.then, "disagreement", payloads, score)
        if chosen is not None and chosen.to == step.name:
            # "More annotators": one more place on the same step, up to max_annotators.
            limit = step.max_annotators or step.annotators
            if task.needed < limit:
                store.move_task(
                    conn,
                    actor=actor,
                    task_id=task.id,
                    project_id=self.project_id,
                    status="pending",
                    step=step.name,
                    needed=task.needed + 1,
                    reset_assigned=False,
                    reason="needs_another_annotator",
                )
                return None
            return Transition(on="disagreement", to=ESCALATE)
        return chosen

    def _store_consensus(
        self, conn: sa.Connection, task_id: int, step: str, payload: dict[str, object], actor: str
    ) -> None:
        from annolab.schema.enums import UserKind
        from annolab.store.users import ensure_user

        bot = ensure_user(conn, "annolab:consensus", kind=UserKind.PERSONA)
        upsert_annotations(
            conn,
            [
                NewAnnotation(
                    id=uuid.uuid5(uuid.NAMESPACE_URL, f"annolab:consensus:{task_id}:{step}"),
                    task_id=task_id,
                    user_id=bot,
                    kind=AnnotationKind.CONSENSUS,
                    status=AnnotationStatus.APPROVED,
                    payload=payload,
                    step=step,
                )
            ],
            actor=actor,
            project_id=self.project_id,
        )

    def _go(
        self, conn: sa.Connection, task: store.LockedTask, target: str, actor: str, *, reason: str
    ) -> None:
        """Move the locked ``task`` to ``target`` (a step, done or escalate), skipping
        unsampled reviews."""
        while True:
            if target in {DONE, ESCALATE}:
                status = "completed" if target == DONE else "escalated"
                store.move_task(
                    conn,
                    actor=actor,
                    task_id=task.id,
                    project_id=self.project_id,
                    status=status,
                    step=task.step,
                    needed=0,
                    reset_assigned=False,
                    reason=status,
                    before=(task.status, task.step, task.needed),
                )
                return
            step = self.workflow.step(target)
            if (
                step.sample is None
                or self.sampled(task.id, step)
                or self._sent_to_review(conn, task.id)
            ):
                self._enter(conn, task.id, step, actor, reason)
                return
            nxt = _first(step.then, "complete")
            target = nxt.to if nxt is not None else DONE

    def _enter(
        self, conn: sa.Connection, task_id: int, step: Step, actor: str, reason: str
    ) -> None:
        """Put the task at ``step``. People who did this step in an earlier round (a reviewer
        whose revision request came back) get it back: UNIQUE (task, step, user) lets each
        person hold a step once, so a new round reopens their assignment."""
        until = self.clock() + dt.timedelta(minutes=self.workflow.lease_minutes)
        earlier = store.reopen_step(conn, task_id=task_id, step=step.name, until=until)
        store.move_task(
            conn,
            actor=actor,
            task_id=task_id,
            project_id=self.project_id,
            status="in_progress" if earlier else "pending",
            step=step.name,
            needed=max(step.annotators, earlier),
            reset_assigned=True,
            reason=reason,
        )
        if earlier:
            conn.execute(
                sa.text("UPDATE tasks SET assigned = :n WHERE id = :t"),
                {"n": earlier, "t": task_id},
            )

    def restart(self, conn: sa.Connection, task_id: int, actor: str) -> None:
        """Put the task back at the first step (an admin's reset)."""
        self._enter(conn, task_id, self.workflow.step(self.workflow.first), actor, "reset")

    @staticmethod
    def _sent_to_review(conn: sa.Connection, task_id: int) -> bool:
        """Whether a quality rule with require_review held when this step's work came in."""
        flush(conn)  # the mark may be among this submission's events, not yet written
        return quality_store.sent_to_review(conn, task_id)

    def sampled(self, task_id: int, step: Step) -> bool:
        """Whether a sampled step (a review of a fraction of tasks) takes this task.

        Seeded by the workflow's seed, the step and the task: the same every time it is asked.
        """
        # Sampling, not secrecy: a seeded, reproducible generator is the point.
        chance = random.Random(f"{self.workflow.seed}:{step.name}:{task_id}").random()  # noqa: S311
        return step.sample is None or chance < step.sample


def _first(transitions: tuple[Transition, ...], trigger: str) -> Transition | None:
    for transition in transitions:
        if transition.on == trigger:
            return transition
    return None


def _weights(workflow: Workflow) -> tuple[float, float, float] | None:
    u = workflow.urgency
    return None if u is None else (u.confidence, u.age, u.complexity)


def _pick(
    transitions: tuple[Transition, ...], trigger: str, payloads: list[Any], score: float | None
) -> Transition | None:
    """The first transition for ``trigger`` (or for any completion) whose condition holds."""
    names = expr.facts(payloads, score)
    for transition in transitions:
        if transition.on not in {trigger, "complete"}:
            continue
        if transition.when is None or expr.evaluate(transition.when, names):
            return transition
    return None
