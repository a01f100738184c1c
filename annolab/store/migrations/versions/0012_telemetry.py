"""Widget telemetry: time on task, active and idle time, edits, undo, keys and mouse.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

One row is one summary a widget sent (at submit, draft, skip, or every so often while in use),
tied to the user, project, task and assignment step it was about. ``batch_id`` is made by the
widget, so writing the same summary twice (a retried batch) adds nothing. Counts are never
negative. Rows go with their project or task (a cascade); an assignment that goes leaves its
telemetry, with no assignment id.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

COUNTS = ("active_ms", "idle_ms", "keys", "pointer", "edits", "undos", "redos")


def upgrade() -> None:
    op.create_table(
        "telemetry",
        sa.Column("batch_id", pg.UUID(as_uuid=True), nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("task_id", sa.BigInteger, nullable=False),
        sa.Column("assignment_id", sa.BigInteger, nullable=True),
        sa.Column("step", sa.Text, nullable=False),
        sa.Column("widget", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        *(sa.Column(name, sa.BigInteger, nullable=False) for name in COUNTS),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.PrimaryKeyConstraint("batch_id", name="pk_telemetry"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_telemetry_user_id_users"),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_telemetry_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name="fk_telemetry_task_id_tasks", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["assignment_id"],
            ["assignments.id"],
            name="fk_telemetry_assignment_id_assignments",
            ondelete="SET NULL",
        ),
        sa.CheckConstraint(
            "reason IN ('submit', 'draft', 'skip', 'interval')", name="ck_telemetry_reason_known"
        ),
        sa.CheckConstraint(
            " AND ".join(f"{name} >= 0" for name in COUNTS), name="ck_telemetry_counts_not_negative"
        ),
    )
    op.create_index("ix_telemetry_project_id_user_id", "telemetry", ["project_id", "user_id"])
    op.create_index("ix_telemetry_task_id", "telemetry", ["task_id"])


def downgrade() -> None:
    op.drop_table("telemetry")
