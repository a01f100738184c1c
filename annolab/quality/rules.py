"""Evaluators and rules: scores combined per scope, and what to do when they cross a line.

Pure functions over a long frame of scores (``scope``, ``at``, ``evaluator``, ``score``): the
workflow collects the scores and carries out the actions (``annolab.workflow.quality``).
Configured in Python or YAML:

>>> rule = Rule.model_validate({"name": "low", "when": {"kind": "threshold", "below": 0.7,
...     "min_samples": 20, "window_hours": 24}, "actions": ["alert", "restrict_assignment"]})
>>> rule.actions
('alert', 'restrict_assignment')
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Annotated, Literal

import polars as pl
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationInfo, field_validator

EPSILON = 1e-9
Action = Literal["alert", "require_review", "restrict_assignment", "auto_approve"]
Scope = Literal["task", "user", "team", "project"]


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Evaluator(_Config):
    """One source of scores (``gold_accuracy``, ``agreement``, ``completeness``, ...), its
    weight in the combination, and how many scores it needs before it counts at all."""

    name: str
    weight: float = Field(1.0, gt=0)
    min_samples: int = Field(1, ge=1)


class Threshold(_Config):
    """The combined score is below ``below`` (strictly) or at least ``at_least``."""

    kind: Literal["threshold"] = "threshold"
    below: float | None = None
    at_least: float | None = None
    min_samples: int = Field(1, ge=1)
    window_hours: float | None = Field(None, gt=0)


class Trend(_Config):
    """The score fell by more than ``drop`` between the previous window and the last one."""

    kind: Literal["trend"] = "trend"
    drop: float = Field(gt=0)
    window_hours: float = Field(24.0, gt=0)
    min_samples: int = Field(5, ge=1)


class Comparison(_Config):
    """The scope's score is more than ``margin`` under the mean of all scopes (its peers)."""

    kind: Literal["comparison"] = "comparison"
    margin: float = Field(gt=0)
    min_samples: int = Field(5, ge=1)
    window_hours: float | None = Field(None, gt=0)


class Composite(_Config):
    kind: Literal["all", "any"]
    conditions: tuple[Condition, ...]


Condition = Annotated[Threshold | Trend | Comparison | Composite, Field(discriminator="kind")]


# What each scope's rule may do. A team's or the project's score is an average over many
# annotations, so it can not vouch for one submission (no auto_approve there), and restricting
# a whole project would stop every annotator at once: pause the project instead.
ALLOWED_ACTIONS: dict[str, tuple[Action, ...]] = {
    "task": ("alert", "require_review", "restrict_assignment", "auto_approve"),
    "user": ("alert", "require_review", "restrict_assignment", "auto_approve"),
    "team": ("alert", "require_review", "restrict_assignment"),
    "project": ("alert", "require_review"),
}


class Rule(_Config):
    """A condition on the combined score of one scope (a task's annotation, a user, a team or
    the whole project) and what to do while it holds. Actions a scope can not honour
    (``ALLOWED_ACTIONS``) are refused here, when the rule is defined.

    >>> Rule(name="team low", scope="team", when=Threshold(below=0.7, min_samples=50),
    ...      actions=("alert", "restrict_assignment")).scope
    'team'
    """

    name: str
    scope: Scope = "user"
    evaluators: tuple[Evaluator, ...] = (Evaluator(name="gold_accuracy"),)
    when: Condition
    actions: tuple[Action, ...] = ("alert",)

    @field_validator("when")
    @classmethod
    def _peers_exist(cls, when: Condition, info: ValidationInfo) -> Condition:
        if info.data.get("scope") == "project" and _compares(when):
            msg = (
                f"rule {info.data.get('name')!r}: when.kind='comparison' needs peers, and "
                "scope='project' has none (one project); use a threshold or a trend"
            )
            raise ValueError(msg)
        return when

    @field_validator("actions")
    @classmethod
    def _allowed_for_scope(
        cls, actions: tuple[Action, ...], info: ValidationInfo
    ) -> tuple[Action, ...]:
        scope = info.data.get("scope")
        allowed = ALLOWED_ACTIONS.get(str(scope), ())
        for action in actions:
            if scope is not None and action not in allowed:
                why = {
                    "auto_approve": "a group's average can not vouch for one submission; "
                    "use scope='task' or 'user'",
                    "restrict_assignment": "it would stop every annotator in the project; "
                    "alert, require review, or pause the project",
                }[action]
                msg = (
                    f"rule {info.data.get('name')!r}: {action!r} is not allowed with "
                    f"scope={scope!r} ({why}); allowed: {', '.join(allowed)}"
                )
                raise ValueError(msg)
        return actions


def _compares(condition: Condition) -> bool:
    if isinstance(condition, Composite):
        return any(_compares(c) for c in condition.conditions)
    return isinstance(condition, Comparison)


RULES: TypeAdapter[list[Rule]] = TypeAdapter(list[Rule])


@dataclass(frozen=True)
class Firing:
    """A rule that fired for one scope, with the score that made it fire."""

    rule: str
    scope: str
    actions: tuple[Action, ...]
    score: float | None
    samples: int
    reason: str


def combined(scores: pl.DataFrame, evaluators: tuple[Evaluator, ...]) -> tuple[float | None, int]:
    """Weighted mean of each evaluator's mean score, over the evaluators with enough samples
    (their weights renormalized); (None, 0) when none has enough."""
    total = weight = 0.0
    samples = 0
    for ev in evaluators:
        mine = scores.filter(pl.col("evaluator") == ev.name)["score"].drop_nulls()
        if mine.len() < ev.min_samples:
            continue
        # fsum: 20 scores of 0.7 average to exactly 0.7, so "exactly at the line" is exact.
        total += ev.weight * math.fsum(mine.to_list()) / mine.len()
        weight += ev.weight
        samples += mine.len()
    return (total / weight if weight else None), samples


def _window(
    scores: pl.DataFrame, now: dt.datetime, hours: float | None, offset: float = 0.0
) -> pl.DataFrame:
    if hours is None:
        return scores
    end = now - dt.timedelta(hours=offset)
    return scores.filter((pl.col("at") > end - dt.timedelta(hours=hours)) & (pl.col("at") <= end))


Outcome = tuple[bool, float | None, int, str]  # held, score, samples, reason


def check(
    condition: Condition,
    scores: pl.DataFrame,
    everyone: pl.DataFrame,
    evaluators: tuple[Evaluator, ...],
    now: dt.datetime,
) -> Outcome:
    """Whether ``condition`` holds for one scope's ``scores`` (``everyone``: all scopes')."""
    if isinstance(condition, Composite):
        parts = [check(c, scores, everyone, evaluators, now) for c in condition.conditions]
        held = all(p[0] for p in parts) if condition.kind == "all" else any(p[0] for p in parts)
        return held, parts[0][1], parts[0][2], " and ".join(p[3] for p in parts if p[0])
    score, n = combined(_window(scores, now, condition.window_hours), evaluators)
    if n < condition.min_samples or score is None:
        return False, score, n, f"{n} of {condition.min_samples} samples"
    if isinstance(condition, Threshold):
        return _threshold(condition, score, n)
    if isinstance(condition, Trend):
        return _trend(condition, scores, evaluators, now, score=score, n=n)
    peers, _ = combined(_window(everyone, now, condition.window_hours), evaluators)
    if peers is None:
        return False, score, n, "no peers to compare with"
    return peers - score > condition.margin, score, n, f"score {score:.3f} vs peers {peers:.3f}"


def _threshold(condition: Threshold, score: float, n: int) -> Outcome:
    # Scores within 1e-9 of the line are on it: float sums must not decide a restriction.
    if condition.below is not None and score < condition.below - EPSILON:
        return True, score, n, f"score {score:.3f} < {condition.below:.3f} over {n} samples"
    if condition.at_least is not None and score >= condition.at_least - EPSILON:
        return True, score, n, f"score {score:.3f} >= {condition.at_least:.3f} over {n} samples"
    return False, score, n, f"score {score:.3f}"


def _trend(
    condition: Trend,
    scores: pl.DataFrame,
    evaluators: tuple[Evaluator, ...],
    now: dt.datetime,
    *,
    score: float,
    n: int,
) -> Outcome:
    earlier = _window(scores, now, condition.window_hours, condition.window_hours)
    before, m = combined(earlier, evaluators)
    if before is None or m < condition.min_samples:
        return False, score, n, "no earlier window to compare"
    return before - score > condition.drop, score, n, f"score fell from {before:.3f} to {score:.3f}"


def evaluate_rules(
    rules: list[Rule], scores: pl.DataFrame, now: dt.datetime, scopes: list[str] | None = None
) -> list[Firing]:
    """Every (rule, scope) that fires. ``scores`` has columns scope, at, evaluator, score."""
    firings = []
    for rule in rules:
        for scope in scopes or scores["scope"].unique().sort().to_list():
            mine = scores.filter(pl.col("scope") == scope)
            held, score, n, reason = check(rule.when, mine, scores, rule.evaluators, now)
            if held:
                firings.append(Firing(rule.name, scope, rule.actions, score, n, reason))
    return firings
