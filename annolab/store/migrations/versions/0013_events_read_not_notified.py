"""Live updates read the events table; events no longer NOTIFY.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07

A transaction that NOTIFYs takes one lock for the whole database from just before its commit
until the commit is on disk, so queue operations, each of which records an event, committed one
at a time: under many annotators that lock was the queue's longest wait. Listeners now read new
events by transaction id (``annolab/store/listen.py``), which also puts them under the events
table's row-level security (a NOTIFY reached every login that listened, and anyone could send
one). The index serves that read.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

NOTIFY_CHANNEL = "annolab_events"


def upgrade() -> None:
    op.execute("DROP TRIGGER events_notify ON events")
    op.execute("DROP FUNCTION annolab_events_notify()")
    op.create_index("ix_events_txid", "events", ["txid"])


def downgrade() -> None:
    op.drop_index("ix_events_txid", "events")
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
