"""Assignments, annotations (with lineage), reviews and feedback.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

from annolab.schema import enums

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ENUMS: dict[str, type[enums.StrEnum]] = {
    "assignment_status": enums.AssignmentStatus,
    "annotation_kind": enums.AnnotationKind,
    "annotation_status": enums.AnnotationStatus,
    "review_decision": enums.ReviewDecision,
}


def _values(enum_cls: type[enums.StrEnum]) -> list[str]:
    return [member.value for member in enum_cls]


def _enum(name: str) -> pg.ENUM:
    return pg.ENUM(*_values(ENUMS[name]), name=name, create_type=False)


def _fk(column: str, table: str, ref: str, *, cascade: bool) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column],
        [f"{ref}.id"],
        name=f"fk_{table}_{column}_{ref}",
        ondelete="CASCADE" if cascade else None,
    )


def upgrade() -> None:
    for name, enum_cls in ENUMS.items():
        pg.ENUM(*_values(enum_cls), name=name).create(op.get_bind())

    op.create_table(
        "assignments",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("task_id", sa.BigInteger, nullable=False),
        sa.Column("step", sa.Text, nullable=False, server_default="annotate"),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("status", _enum("assignment_status"), nullable=False, server_default="active"),
        sa.Column("lease_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_assignments"),
        # One person, one task, one step: a duplicate claim is impossible, not just unlikely.
        sa.UniqueConstraint(
            "task_id", "step", "user_id", name="uq_assignments_task_id_step_user_id"
        ),
        _fk("task_id", "assignments", "tasks", cascade=True),
        _fk("user_id", "assignments", "users", cascade=False),
    )
    op.create_table(
        "annotations",
        sa.Column("id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("task_id", sa.BigInteger, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("kind", _enum("annotation_kind"), nullable=False),
        sa.Column("status", _enum("annotation_status"), nullable=False),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
        sa.Column("parent_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("step", sa.Text, nullable=False, server_default="annotate"),
        sa.Column("time_spent", sa.Float, nullable=True),
        sa.Column("guidelines_version", sa.Integer, nullable=True),
        sa.Column("model", sa.Text, nullable=True),
        sa.Column("model_digest", sa.Text, nullable=True),
        sa.Column("prompt_hash", sa.Text, nullable=True),
        sa.Column("persona_version", sa.Integer, nullable=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_annotations"),
        sa.CheckConstraint("version >= 1", name="ck_annotations_version_positive"),
        sa.CheckConstraint(
            "time_spent IS NULL OR time_spent >= 0", name="ck_annotations_time_spent_positive"
        ),
        _fk("task_id", "annotations", "tasks", cascade=True),
        _fk("user_id", "annotations", "users", cascade=False),
        _fk("parent_id", "annotations", "annotations", cascade=False),
    )
    op.create_index("ix_annotations_task", "annotations", ["task_id", "status"])
    op.create_index("ix_annotations_user", "annotations", ["user_id", "created_at"])
    op.create_table(
        "reviews",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("annotation_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("reviewer_id", sa.BigInteger, nullable=False),
        sa.Column("decision", _enum("review_decision"), nullable=False),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reviews"),
        _fk("annotation_id", "reviews", "annotations", cascade=True),
        _fk("reviewer_id", "reviews", "users", cascade=False),
    )
    op.create_index("ix_reviews_annotation", "reviews", ["annotation_id"])
    op.create_table(
        "feedback",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("annotation_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("rating", sa.SmallInteger, nullable=True),
        sa.Column("comment", sa.Text, nullable=False, server_default=""),
        sa.Column("error_spans", pg.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.CheckConstraint("rating BETWEEN 1 AND 5", name="ck_feedback_rating_1_to_5"),
        _fk("annotation_id", "feedback", "annotations", cascade=True),
        _fk("user_id", "feedback", "users", cascade=False),
    )
    op.create_index("ix_feedback_annotation", "feedback", ["annotation_id"])


def downgrade() -> None:
    op.execute("DROP TABLE feedback, reviews, annotations, assignments")
    for name in reversed(ENUMS):
        op.execute(f"DROP TYPE {name}")
