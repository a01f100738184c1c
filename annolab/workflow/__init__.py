"""Workflows: specs (single, vote, review, custom graphs) and the engine that applies them."""

from __future__ import annotations

from annolab.workflow.spec import (
    DONE,
    ESCALATE,
    Agreement,
    Eligibility,
    Step,
    Transition,
    Workflow,
    review,
    single,
    vote,
)

__all__ = [
    "DONE",
    "ESCALATE",
    "Agreement",
    "Eligibility",
    "Step",
    "Transition",
    "Workflow",
    "review",
    "single",
    "vote",
]
