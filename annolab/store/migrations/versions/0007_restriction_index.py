"""An index for the quality restriction every claim checks.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

A claim asks for the user's latest restriction event. Without this index Postgres walked the
project's whole event history backwards looking for one, and a user who was never restricted
(nearly everyone) paid for all of it on every claim.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_events_restrictions",
        "events",
        ["project_id", sa.text("(after ->> 'user')"), "id"],
        postgresql_where=sa.text("action IN ('quality.restricted', 'quality.unrestricted')"),
    )


def downgrade() -> None:
    op.drop_index("ix_events_restrictions", "events")
