"""Indexes for the claim path: open tasks in queue order, and live leases.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23

Without them every claim scanned and sorted all of a project's open tasks, and every lease
sweep scanned the whole history of assignments.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_tasks_open",
        "tasks",
        ["project_id", sa.text("priority DESC"), "id"],
        postgresql_where=sa.text("status IN ('pending', 'in_progress')"),
    )
    op.create_index(
        "ix_assignments_active",
        "assignments",
        ["lease_expires_at"],
        postgresql_where=sa.text("status = 'active'"),
    )


def downgrade() -> None:
    op.drop_index("ix_assignments_active", "assignments")
    op.drop_index("ix_tasks_open", "tasks")
