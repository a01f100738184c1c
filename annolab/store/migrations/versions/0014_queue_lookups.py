"""A user's open assignments by user; the webhook trigger only while a webhook is active.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07

Every claim reads the task the user already holds. The only index on open assignments was by
lease end, so that read went through every open assignment of every user, and through the
entries each finished assignment leaves behind until a vacuum: under a team's load thousands
per claim. An index by user reaches the user's own.

Every statement that writes events ran the webhook trigger (a transition table and a join to
``webhooks``) even where no webhook exists, which is most installations; it was a third of what
the server spent writing a submit's events. A trigger on ``webhooks`` now enables it when the
first webhook is active and disables it when none is. It only alters ``events`` when that state
changes, as the table's owner (SECURITY DEFINER): the change waits for the transactions then
writing events, and they for it.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_PATH = "SET search_path = pg_catalog, public, pg_temp"


def upgrade() -> None:
    op.create_index(
        "ix_assignments_user_active",
        "assignments",
        ["user_id"],
        postgresql_where=sa.text("status = 'active'"),
    )
    op.execute(
        f"""
        CREATE FUNCTION public.annolab_webhooks_arm() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER {_PATH} AS $f$
        DECLARE
            wanted "char" := CASE WHEN EXISTS (SELECT 1 FROM public.webhooks WHERE active)
                                  THEN 'O' ELSE 'D' END;
        BEGIN
            IF wanted IS DISTINCT FROM (
                SELECT tgenabled FROM pg_catalog.pg_trigger
                WHERE tgrelid = 'public.events'::pg_catalog.regclass
                  AND tgname = 'events_webhooks') THEN
                IF wanted = 'O' THEN
                    ALTER TABLE public.events ENABLE TRIGGER events_webhooks;
                ELSE
                    ALTER TABLE public.events DISABLE TRIGGER events_webhooks;
                END IF;
            END IF;
            RETURN NULL;
        END $f$;
        REVOKE ALL ON FUNCTION public.annolab_webhooks_arm() FROM PUBLIC;
        CREATE TRIGGER webhooks_arm
            AFTER INSERT OR UPDATE OF active OR DELETE OR TRUNCATE ON public.webhooks
            FOR EACH STATEMENT EXECUTE FUNCTION public.annolab_webhooks_arm();
        """
    )
    op.execute(
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM public.webhooks WHERE active) THEN "
        "ALTER TABLE public.events DISABLE TRIGGER events_webhooks; END IF; END $$"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER webhooks_arm ON public.webhooks")
    op.execute("DROP FUNCTION public.annolab_webhooks_arm()")
    op.execute("ALTER TABLE public.events ENABLE TRIGGER events_webhooks")
    op.drop_index("ix_assignments_user_active", "assignments")
