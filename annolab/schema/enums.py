"""Every enumerated value annolab stores, defined once.

The database uses these same classes (``sqlalchemy.Enum(..., values_callable=...)`` in
``annolab.store.tables``), so a value can not exist in Python and be missing in Postgres.
"""

from __future__ import annotations

from enum import Enum


class StrEnum(str, Enum):
    """A string enum whose ``str()`` is its value (Python 3.10 has no ``enum.StrEnum``)."""

    def __str__(self) -> str:
        return str(self.value)


class UserKind(StrEnum):
    HUMAN = "human"
    PERSONA = "persona"


class UserStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class Role(StrEnum):
    ANNOTATOR = "annotator"
    REVIEWER = "reviewer"
    ADJUDICATOR = "adjudicator"
    TEAM_LEAD = "team_lead"
    PROJECT_ADMIN = "project_admin"


class Proficiency(StrEnum):
    NOVICE = "novice"
    INTERMEDIATE = "intermediate"
    EXPERT = "expert"


class ProjectStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    PAUSED = "paused"
    COMPLETED = "completed"
    ARCHIVED = "archived"


# draft -> active -> paused -> completed -> archived, with the moves back a team really makes.
PROJECT_TRANSITIONS: dict[ProjectStatus, frozenset[ProjectStatus]] = {
    ProjectStatus.DRAFT: frozenset({ProjectStatus.ACTIVE, ProjectStatus.ARCHIVED}),
    ProjectStatus.ACTIVE: frozenset({ProjectStatus.PAUSED, ProjectStatus.COMPLETED}),
    ProjectStatus.PAUSED: frozenset({ProjectStatus.ACTIVE, ProjectStatus.COMPLETED}),
    ProjectStatus.COMPLETED: frozenset({ProjectStatus.ACTIVE, ProjectStatus.ARCHIVED}),
    ProjectStatus.ARCHIVED: frozenset(),
}


class TaskStatus(StrEnum):
    PENDING = "pending"
    IN_PROGRESS = "in_progress"
    IN_REVIEW = "in_review"
    COMPLETED = "completed"
    SKIPPED = "skipped"
    ESCALATED = "escalated"


# What may follow what; the store refuses anything else. Moving backwards (to pending or in
# progress from completed or escalated) is an admin's reset.
TASK_TRANSITIONS: dict[TaskStatus, frozenset[TaskStatus]] = {
    TaskStatus.PENDING: frozenset(
        {TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED, TaskStatus.ESCALATED}
    ),
    TaskStatus.IN_PROGRESS: frozenset(
        {TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED, TaskStatus.ESCALATED}
    ),
    TaskStatus.COMPLETED: frozenset({TaskStatus.PENDING, TaskStatus.IN_PROGRESS}),
    TaskStatus.ESCALATED: frozenset(
        {TaskStatus.PENDING, TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED}
    ),
    TaskStatus.IN_REVIEW: frozenset(),
    TaskStatus.SKIPPED: frozenset(),
}


class AssignmentStatus(StrEnum):
    ACTIVE = "active"
    SUBMITTED = "submitted"
    SKIPPED = "skipped"
    EXPIRED = "expired"
    RELEASED = "released"


class AnnotationKind(StrEnum):
    HUMAN = "human"
    PERSONA = "persona"
    MODEL = "model"
    CONSENSUS = "consensus"
    GOLD = "gold"


class AnnotationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"


class ReviewDecision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    REVISE = "revise"


class TeamRole(StrEnum):
    MEMBER = "member"
    LEAD = "lead"


class GoldCategory(StrEnum):
    """What a gold entry tests: a clear positive, a clear negative, a hard case, or an input
    made to trip annotators up."""

    TRUE_POSITIVE = "true_positive"
    TRUE_NEGATIVE = "true_negative"
    EDGE_CASE = "edge_case"
    ADVERSARIAL = "adversarial"


class GoldConflictStatus(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
