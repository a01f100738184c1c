"""The workflow's side of quality rules: score each submission, then carry out what fires.

Scores: ``gold_accuracy`` (agreement with the task's gold annotation, when it has one),
``completeness`` (1.0 unless the layout's question is required and the answer is empty), and
those of the evaluators plugins add (``annolab_evaluators``), each under its own name.

Scopes: ``task`` (the annotation just scored), ``user`` (its annotator), ``team`` (the current
members of a team, together) and ``project`` (everyone). A submission is checked against the
rules of every scope it belongs to; ``evaluate_all`` checks every scope on demand.

Actions, all recorded in the event log:

- ``alert`` (``quality.alert``) and ``require_review`` (``quality.review_required``) are
  recorded once when a rule starts holding for a scope, and closed by ``quality.cleared`` when
  an evaluation finds it no longer holds, so a rule that keeps holding does not repeat itself.
- ``require_review`` also sends every submission made while it holds to review
  (``quality.sent_to_review``): a sampled review step takes the task whatever its sample.
- ``restrict_assignment`` stops the claims of the user (the task's annotator; a team's
  members) until ``project.lift_restriction``; one ``quality.restricted`` per user.
- ``auto_approve`` approves the annotation that was just submitted (on demand: the task
  scope's annotation), recorded once as ``quality.auto_approved``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl
import sqlalchemy as sa

from annolab.quality.evaluators import checked_score, plugin_evaluators
from annolab.quality.rules import Firing, Rule, check
from annolab.store import quality as store
from annolab.store.events import record_event
from annolab.workflow.consensus import agreement

_METRIC = {"spans": "span_f1", "boxes": "box_f1"}
SCOPE_KINDS = ("task", "user", "team", "project")
FIRINGS: dict[str, pl.DataType | type[pl.DataType]] = {
    "rule": pl.String,
    "scope_kind": pl.String,
    "scope": pl.String,
    "score": pl.Float64,
    "n": pl.Int64,
    "reason": pl.String,
    "actions": pl.List(pl.String),
}
_STARTED = {"alert": "quality.alert", "require_review": "quality.review_required"}


def _empty(payload: dict[str, Any]) -> bool:
    return (
        not any(payload.get(k) for k in ("spans", "boxes", "labels", "label", "text"))
        and payload.get("value") is None
    )


def score_submission(
    conn: sa.Connection,
    *,
    project_id: int,
    actor: str,
    task_id: int,
    annotation_id: str,
    payload: dict[str, Any],
    required: bool,
    gold: dict[str, Any] | None,
    now: dt.datetime | None = None,
) -> None:
    """Record this submission's scores as events, at ``now`` (the workflow's clock).

    ``gold`` is the task's gold answer (None when it has none), read with the task's lock."""
    complete = 0.0 if required and _empty(payload) else 1.0
    store.record_score(
        conn,
        actor=actor,
        project_id=project_id,
        user=actor,
        annotation_id=annotation_id,
        evaluator="completeness",
        score=complete,
        at=now,
    )
    if gold is not None:
        metric = _METRIC.get(str(payload.get("kind")), "exact")
        score = agreement([gold, payload], metric)
        store.record_score(
            conn,
            actor=actor,
            project_id=project_id,
            user=actor,
            annotation_id=annotation_id,
            evaluator="gold_accuracy",
            score=score,
            at=now,
        )
    # Inside the submit's transaction: a plugin that raises rolls the submit back whole.
    for ev in plugin_evaluators():
        value = checked_score(ev, ev.score(payload, gold))
        if value is not None:
            store.record_score(
                conn,
                actor=actor,
                project_id=project_id,
                user=actor,
                annotation_id=annotation_id,
                evaluator=ev.name,
                score=value,
                at=now,
            )


@dataclass(frozen=True)
class Checked:
    """One rule checked for one scope: ``firing`` is None when it does not hold."""

    kind: str
    rule: Rule
    scope: str
    firing: Firing | None
    outcome: tuple[float | None, int, str]  # score, samples, reason (also when not held)


def check_scopes(
    conn: sa.Connection,
    project_id: int,
    rules: list[Rule],
    now: dt.datetime,
    scopes: dict[str, list[str] | None],
) -> list[Checked]:
    """Check each rule for the scopes of its kind named in ``scopes`` (None: every scope that
    has scores), in the order task, user, team, project; then rule order; then scope name."""
    checked: list[Checked] = []
    for kind in SCOPE_KINDS:
        mine = [r for r in rules if r.scope == kind]
        if not mine or scopes.get(kind) == []:
            continue
        frame = store.scores(conn, project_id, scope=kind)
        parts = {k[0]: v for k, v in frame.partition_by("scope", as_dict=True).items()}
        wanted = scopes.get(kind)
        names = sorted(parts) if wanted is None else wanted
        empty = frame.clear()
        for rule in mine:
            for name in names:
                held, score, n, reason = check(
                    rule.when, parts.get(name, empty), frame, rule.evaluators, now
                )
                firing = Firing(rule.name, name, rule.actions, score, n, reason) if held else None
                checked.append(Checked(kind, rule, str(name), firing, (score, n, reason)))
    return checked


def apply_rules(
    conn: sa.Connection,
    *,
    project_id: int,
    actor: str,
    annotation_id: str,
    rules: list[Rule],
    now: Any,
) -> list[Firing]:
    """Evaluate the rules of every scope this submission belongs to (the annotation, its
    annotator, the annotator's teams, the project); carry out what fires."""
    kinds = {r.scope for r in rules}  # look up only what some rule needs: this runs per submit
    scopes: dict[str, list[str] | None] = {
        "task": [annotation_id],
        "user": [actor],
        "team": store.teams_of(conn, actor) if "team" in kinds else [],
        "project": [store.project_name(conn, project_id)] if "project" in kinds else [],
    }
    checked = check_scopes(conn, project_id, rules, now, scopes)
    owner = store.annotation_owner(conn, annotation_id)
    act = _Actions(conn, project_id, "annolab", _open_states(conn, project_id, rules))
    sent = False
    for c in checked:
        if c.firing is None:
            act.clear(c)
            continue
        act.carry_out(c, annotation_id=annotation_id, submitter=actor)
        if "require_review" in c.rule.actions and owner is not None and not sent:
            sent = True  # one mark per submission, however many rules ask for review
            record_event(
                conn,
                actor="annolab",
                action="quality.sent_to_review",
                entity="task",
                entity_id=owner[0],
                project_id=project_id,
                after=_details(c) | {"annotation": annotation_id, "user": actor},
            )
    return [c.firing for c in checked if c.firing is not None]


def evaluate_all(
    conn: sa.Connection, *, project_id: int, actor: str, rules: list[Rule], now: dt.datetime
) -> pl.DataFrame:
    """Check every rule for every scope with scores, carry out what fires as a submit would
    (nothing still in force is recorded twice), and return the firings as a frame."""
    checked = check_scopes(conn, project_id, rules, now, dict.fromkeys(SCOPE_KINDS))
    act = _Actions(conn, project_id, actor, _open_states(conn, project_id, rules))
    rows = []
    for c in checked:
        if c.firing is None:
            act.clear(c)
            continue
        act.carry_out(c, annotation_id=c.scope if c.kind == "task" else None, submitter=None)
        f = c.firing
        rows.append((f.rule, c.kind, f.scope, f.score, f.samples, f.reason, list(f.actions)))
    return pl.DataFrame(rows, schema=FIRINGS, orient="row")


def _open_states(
    conn: sa.Connection, project_id: int, rules: list[Rule]
) -> set[tuple[str, str, str]]:
    if not any(a in _STARTED for r in rules for a in r.actions):
        return set()  # no rule alerts or asks for review: no state to read
    return store.open_states(conn, project_id)


def _details(c: Checked) -> dict[str, Any]:
    score, samples, reason = c.outcome
    return {
        "rule": c.rule.name,
        "scope_kind": c.kind,
        "scope": c.scope,
        "reason": reason,
        "score": score,
        "samples": samples,
    }


@dataclass
class _Actions:
    """Carries out firings inside one transaction, knowing which states are already open."""

    conn: sa.Connection
    project_id: int
    actor: str
    open: set[tuple[str, str, str]]
    # Users restricted by this evaluation: its events may still be waiting to be written.
    restricted: set[str] = field(default_factory=set)

    def _event(
        self, action: str, c: Checked, after: dict[str, Any], entity: tuple[str, Any]
    ) -> None:
        record_event(
            self.conn,
            actor=self.actor,
            action=action,
            entity=entity[0],
            entity_id=entity[1],
            project_id=self.project_id,
            after=_details(c) | after,
        )

    def _entity(self, c: Checked, annotation_id: str | None) -> tuple[str, Any]:
        if annotation_id is not None:
            return "annotation", annotation_id  # the submission (or annotation) it is about
        if c.kind == "project":
            return "project", self.project_id
        return c.kind, c.scope

    def clear(self, c: Checked) -> None:
        key = (c.rule.name, c.kind, c.scope)
        if key in self.open:
            self.open.discard(key)
            self._event("quality.cleared", c, {}, self._entity(c, None))

    def carry_out(self, c: Checked, *, annotation_id: str | None, submitter: str | None) -> None:
        key = (c.rule.name, c.kind, c.scope)
        started = key not in self.open
        self.open.add(key)
        entity = self._entity(c, annotation_id)
        user = submitter or self._owner(c)
        extra = {} if user is None else {"user": user}
        for action in c.rule.actions:
            if action in _STARTED and started:
                self._event(_STARTED[action], c, extra, entity)
            if action == "restrict_assignment":
                self._restrict(c, self._restricted_users(c, user), entity)
            if action == "auto_approve" and annotation_id is not None:
                self._approve(c, annotation_id, extra)

    def _owner(self, c: Checked) -> str | None:
        """The user a user or task scope is about (on demand, with no submitter)."""
        if c.kind == "user":
            return c.scope
        owner = store.annotation_owner(self.conn, c.scope) if c.kind == "task" else None
        return None if owner is None else owner[1]

    def _restricted_users(self, c: Checked, user: str | None) -> list[str]:
        if c.kind == "team":
            return store.team_members(self.conn, c.scope)
        return [] if user is None else [user]

    def _restrict(self, c: Checked, users: list[str], entity: tuple[str, Any]) -> None:
        for user in users:
            if user in self.restricted or store.restriction(self.conn, self.project_id, user):
                continue  # already restricted: one event is enough until it is lifted
            self.restricted.add(user)
            after: dict[str, Any] = {"user": user}
            if c.kind == "team":
                # The member reads this reason when a claim is refused: say it was the team.
                after["reason"] = f"team {c.scope!r} {c.outcome[2]}"
            self._event("quality.restricted", c, after, entity)

    def _approve(self, c: Checked, annotation_id: str, extra: dict[str, Any]) -> None:
        done = store.approve_submitted(self.conn, annotation_id)
        if done:  # approved now, not earlier: record it once
            self._event("quality.auto_approved", c, extra, ("annotation", annotation_id))
