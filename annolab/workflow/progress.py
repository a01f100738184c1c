"""``project.progress()``: where the queue stands, how fast it moves, and the goals."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import polars as pl
import sqlalchemy as sa

from annolab.store import progress as store
from annolab.workflow.goals import Facts, Goal, GoalStatus, evaluate

# Completions in the window before the printed progress states a rate and a finish.
RATE_MIN_COMPLETIONS = 5


@dataclass(frozen=True)
class Progress:
    """Task counts by status, the completion rate over the last 24 hours, the expected finish
    at that rate, and each goal's status."""

    total: int
    completed: int
    in_progress: int
    pending: int
    escalated: int
    rate_per_hour: float | None
    eta: dt.datetime | None
    goals: tuple[GoalStatus, ...]
    recent: int = 0  # tasks completed in the rate's window (the last 24 hours)

    @property
    def fraction(self) -> float:
        return self.completed / self.total if self.total else 0.0

    def goals_frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            [
                {"goal": g.name, "kind": g.kind, "met": g.met, "state": g.state, "detail": g.detail}
                for g in self.goals
            ],
            schema={
                "goal": pl.String,
                "kind": pl.String,
                "met": pl.Boolean,
                "state": pl.String,
                "detail": pl.String,
            },
        )

    def __repr__(self) -> str:
        # A rate from a handful of completions says nothing yet ("0.1/h" after three quick
        # ones): it is shown, with its window, only once there are enough of them.
        enough = self.rate_per_hour and self.recent >= RATE_MIN_COMPLETIONS
        rate = (
            f"{self.rate_per_hour:.1f} tasks an hour over the last 24 h"
            if enough
            else f"no rate yet (fewer than {RATE_MIN_COMPLETIONS} completed in 24 h)"
        )
        eta = f", done by {self.eta:%Y-%m-%d %H:%M} UTC" if enough and self.eta else ""
        lines = [
            f"<Progress {self.completed} of {self.total} completed ({self.fraction:.0%}), "
            f"{self.in_progress} in progress, {self.escalated} escalated; {rate}{eta}>"
        ]
        lines += [f"  {g.name}: {g.state} - {g.detail}" for g in self.goals]
        return "\n".join(lines)


def compute_progress(
    conn: sa.Connection, project_id: int, goals: list[Goal], now: dt.datetime
) -> Progress:
    counts = store.status_counts(conn, project_id)
    total = sum(counts.values())
    completed = counts.get("completed", 0)
    recent = store.completions_since(conn, project_id, now - store.RATE_WINDOW)
    rate = recent / (store.RATE_WINDOW.total_seconds() / 3600) if recent else None
    remaining = total - completed - counts.get("escalated", 0)
    eta = now + dt.timedelta(hours=remaining / rate) if rate and remaining else None
    facts = Facts(
        now=now,
        total=total,
        completed=completed,
        rate_per_hour=rate,
        eta=eta,
        agreements=store.agreement_scores(conn, project_id),
        signoffs=store.signoffs(conn, project_id),
    )
    return Progress(
        total=total,
        completed=completed,
        in_progress=counts.get("in_progress", 0),
        pending=counts.get("pending", 0),
        escalated=counts.get("escalated", 0),
        rate_per_hour=rate,
        eta=eta,
        goals=tuple(evaluate(g, facts) for g in goals),
        recent=recent,
    )
