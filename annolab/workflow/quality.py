"""The workflow's side of quality rules: score each submission, then carry out what fires.

Scores: ``gold_accuracy`` (agreement with the task's gold annotation, when it has one) and
``completeness`` (1.0 unless the layout's question is required and the answer is empty).
Actions: ``alert`` and ``require_review`` are recorded as events for leads and dashboards,
``restrict_assignment`` stops the user's claims until lifted, ``auto_approve`` approves the
annotation that was just submitted.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from annolab.quality.rules import Firing, Rule, evaluate_rules
from annolab.store import quality as store
from annolab.store.events import record_event
from annolab.workflow.consensus import agreement

_METRIC = {"spans": "span_f1", "boxes": "box_f1"}


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
) -> None:
    """Record this submission's scores as events."""
    complete = 0.0 if required and _empty(payload) else 1.0
    store.record_score(
        conn,
        actor=actor,
        project_id=project_id,
        user=actor,
        annotation_id=annotation_id,
        evaluator="completeness",
        score=complete,
    )
    gold = store.gold_payload(conn, task_id)
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
        )


def apply_rules(
    conn: sa.Connection,
    *,
    project_id: int,
    actor: str,
    annotation_id: str,
    rules: list[Rule],
    now: Any,
) -> list[Firing]:
    """Evaluate the rules for this user and this annotation; carry out what fires."""
    fired: list[Firing] = []
    for scope, key in (("user", actor), ("task", annotation_id)):
        mine = [r for r in rules if r.scope == scope]
        if mine:
            frame = store.scores(conn, project_id, scope=scope)
            fired += evaluate_rules(mine, frame, now, scopes=[key])
    for firing in fired:
        for action in firing.actions:
            _carry_out(conn, project_id, actor, annotation_id, firing=firing, action=action)
    return fired


def _carry_out(
    conn: sa.Connection,
    project_id: int,
    actor: str,
    annotation_id: str,
    *,
    firing: Firing,
    action: str,
) -> None:
    if action == "auto_approve":
        conn.execute(
            sa.text(
                "UPDATE annotations SET status = 'approved', updated_at = now() "
                "WHERE id = :a AND status = 'submitted'"
            ),
            {"a": annotation_id},
        )
    if action == "restrict_assignment" and store.restriction(conn, project_id, actor):
        return  # already restricted: one event is enough
    names = {
        "alert": "quality.alert",
        "require_review": "quality.review_required",
        "restrict_assignment": "quality.restricted",
        "auto_approve": "quality.auto_approved",
    }
    record_event(
        conn,
        actor="annolab",
        action=names[action],
        entity="annotation",
        entity_id=annotation_id,
        project_id=project_id,
        after={
            "user": actor,
            "rule": firing.rule,
            "reason": firing.reason,
            "score": firing.score,
            "samples": firing.samples,
        },
    )
