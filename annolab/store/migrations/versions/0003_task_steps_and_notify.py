"""Tasks know their workflow step and how many people hold it; events notify listeners.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

NOTIFY_CHANNEL = "annolab_events"


def upgrade() -> None:
    # ADD VALUE can not run inside a transaction block before Postgres 12; IF NOT EXISTS keeps a
    # database made from the current enums (which already hold it) at peace.
    op.execute("ALTER TYPE task_status ADD VALUE IF NOT EXISTS 'escalated'")
    op.add_column("tasks", sa.Column("step", sa.Text, nullable=False, server_default="annotate"))
    op.add_column("tasks", sa.Column("assigned", sa.Integer, nullable=False, server_default="0"))
    op.add_column("tasks", sa.Column("needed", sa.Integer, nullable=False, server_default="1"))
    # NOTIFY is transactional: listeners hear of an event only once its change has committed.
    op.execute(
        f"""
        CREATE FUNCTION annolab_events_notify() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{NOTIFY_CHANNEL}', json_build_object(
                'id', NEW.id, 'project_id', NEW.project_id, 'action', NEW.action,
                'entity', NEW.entity, 'entity_id', NEW.entity_id)::text);
            RETURN NULL;
        END $$;
        CREATE TRIGGER events_notify AFTER INSERT ON events
            FOR EACH ROW EXECUTE FUNCTION annolab_events_notify();
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER events_notify ON events")
    op.execute("DROP FUNCTION annolab_events_notify()")
    for column in ("needed", "assigned", "step"):
        op.drop_column("tasks", column)
