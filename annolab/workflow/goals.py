"""Goals a project works towards, and where it stands: volume, quality, deadline, sign-off,
and any mix of them with ``all``/``any``. Goals are configuration (pydantic, YAML round trip);
their status is computed from the tables and the event log, never stored twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from annolab.schema.enums import Role


class _Goal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str = ""


class Volume(_Goal):
    """``target`` tasks completed."""

    kind: Literal["volume"] = "volume"
    target: int = Field(ge=1)


class Quality(_Goal):
    """Mean agreement of completed steps at least ``threshold``, over at least ``min_sample``
    of them in the last ``window_days`` (all time when None)."""

    kind: Literal["quality"] = "quality"
    threshold: float = Field(ge=0.0, le=1.0)
    min_sample: int = Field(20, ge=1)
    window_days: float | None = Field(7.0, gt=0)


class Deadline(_Goal):
    """All tasks completed by ``at``; at risk when the expected finish is later, or when
    fewer than ``warn_days`` remain."""

    kind: Literal["deadline"] = "deadline"
    at: dt.datetime
    warn_days: float = Field(2.0, ge=0)


class SignOff(_Goal):
    """A person with one of ``roles`` signs off, having checked every item of ``checklist``."""

    kind: Literal["signoff"] = "signoff"
    roles: tuple[Role, ...] = (Role.PROJECT_ADMIN,)
    checklist: tuple[str, ...] = ()


class AllOf(_Goal):
    kind: Literal["all"] = "all"
    goals: tuple[Goal, ...]


class AnyOf(_Goal):
    kind: Literal["any"] = "any"
    goals: tuple[Goal, ...]


Goal = Annotated[Volume | Quality | Deadline | SignOff | AllOf | AnyOf, Field(discriminator="kind")]
GOALS: TypeAdapter[list[Goal]] = TypeAdapter(list[Goal])


@dataclass(frozen=True)
class Facts:
    """What goal status is computed from: read once from the database per ``progress()``."""

    now: dt.datetime
    total: int
    completed: int
    rate_per_hour: float | None
    eta: dt.datetime | None
    agreements: list[tuple[dt.datetime, float]] = field(default_factory=list)
    signoffs: list[dict[str, Any]] = field(default_factory=list)


def walk(goals: Iterable[Goal]) -> Iterator[Goal]:
    """Every goal, composites' parts included."""
    for goal in goals:
        yield goal
        if isinstance(goal, AllOf | AnyOf):
            yield from walk(goal.goals)


State = Literal["met", "on_track", "at_risk", "missed", "waiting"]


@dataclass(frozen=True)
class GoalStatus:
    name: str
    kind: str
    met: bool
    state: State
    detail: str


def evaluate(goal: Goal, facts: Facts) -> GoalStatus:
    """Where ``goal`` stands given ``facts``."""
    name = goal.name or goal.kind
    if isinstance(goal, Volume):
        met = facts.completed >= goal.target
        return GoalStatus(
            name,
            goal.kind,
            met,
            "met" if met else "waiting",
            f"{facts.completed} of {goal.target} tasks completed",
        )
    if isinstance(goal, Quality):
        return _quality(goal, name, facts)
    if isinstance(goal, Deadline):
        return _deadline(goal, name, facts)
    if isinstance(goal, SignOff):
        return _signoff(goal, name, facts)
    return _composite(goal, name, facts)


def _quality(goal: Quality, name: str, facts: Facts) -> GoalStatus:
    since = facts.now - dt.timedelta(days=goal.window_days) if goal.window_days else None
    scores = [s for at, s in facts.agreements if since is None or at >= since]
    if len(scores) < goal.min_sample:
        return GoalStatus(
            name,
            goal.kind,
            False,
            "waiting",
            f"{len(scores)} of the {goal.min_sample} scored steps needed",
        )
    mean = sum(scores) / len(scores)
    met = mean >= goal.threshold
    return GoalStatus(
        name,
        goal.kind,
        met,
        "met" if met else "at_risk",
        f"mean agreement {mean:.3f} over {len(scores)} steps (needs {goal.threshold:.3f})",
    )


def _signoff(goal: SignOff, name: str, facts: Facts) -> GoalStatus:
    allowed = {r.value for r in goal.roles}
    for signoff in reversed(facts.signoffs):
        by_role = set(signoff.get("roles", [])) & allowed
        if by_role and set(signoff.get("checked", [])) >= set(goal.checklist):
            return GoalStatus(name, goal.kind, True, "met", f"signed off by {signoff.get('by')}")
    return GoalStatus(
        name, goal.kind, False, "waiting", f"needs a sign-off by {' or '.join(sorted(allowed))}"
    )


def _composite(goal: AllOf | AnyOf, name: str, facts: Facts) -> GoalStatus:
    parts = [evaluate(g, facts) for g in goal.goals]
    met = all(p.met for p in parts) if isinstance(goal, AllOf) else any(p.met for p in parts)
    worst: State = "waiting"
    for state in ("missed", "at_risk"):
        if any(p.state == state for p in parts):
            worst = state
            break
    return GoalStatus(
        name,
        goal.kind,
        met,
        "met" if met else worst,
        "; ".join(f"{p.name}: {p.detail}" for p in parts),
    )


def _deadline(goal: Deadline, name: str, facts: Facts) -> GoalStatus:
    done = facts.total > 0 and facts.completed >= facts.total
    if done:
        return GoalStatus(name, goal.kind, True, "met", "all tasks completed")
    if facts.now > goal.at:
        return GoalStatus(
            name,
            goal.kind,
            False,
            "missed",
            f"{facts.total - facts.completed} tasks open after {goal.at:%Y-%m-%d}",
        )
    left = goal.at - facts.now
    late = facts.eta is None or facts.eta > goal.at
    close = left < dt.timedelta(days=goal.warn_days)
    eta = f"expected {facts.eta:%Y-%m-%d %H:%M}" if facts.eta else "no completion rate yet"
    state: Literal["on_track", "at_risk"] = "at_risk" if late or close else "on_track"
    return GoalStatus(
        name,
        goal.kind,
        False,
        state,
        f"{eta}; due {goal.at:%Y-%m-%d %H:%M} ({left.days} days left)",
    )
