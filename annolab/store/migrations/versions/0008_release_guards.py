"""What a team server's guarantees stand on: step needs kept by a trigger, project members, and
annotations that change only through a new version with its event.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05

Row-level security on a team server (``annolab.store.roles``) releases a step's annotations to
annotators once enough people have submitted them. "Enough" used to be ``tasks.needed``, which
the annotators' own sessions write (a claim counts itself there, a step decision moves it): an
annotator could lower it inside a transaction, read, and roll back. ``tasks.step_needs`` keeps,
per step, the most people that step ever needed: a trigger folds in every value ``needed`` held
before it changed, whoever changes it, so lowering it never lowers what a release requires.

``project_members`` says which projects an annotator on a team server works on.

Every annotation that was submitted (or reviewed) changes its payload only as a new version
with an event of that version in the same transaction: ``upsert_annotations`` always did this,
now Postgres refuses anything else, for every role.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# search_path pinned with pg_temp last, and every name qualified: a caller's temporary table or
# function of the same name can not stand in for ours.
_PATH = "SET search_path = pg_catalog, public, pg_temp"


def upgrade() -> None:
    op.add_column(
        "tasks",
        sa.Column(
            "step_needs",
            pg.JSONB,
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
    )
    op.create_table(
        "project_members",
        sa.Column(
            "project_id",
            sa.BigInteger,
            sa.ForeignKey("projects.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "user_id",
            sa.BigInteger,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.execute(
        f"""
        CREATE FUNCTION annolab_keep_step_needs() RETURNS trigger
        LANGUAGE plpgsql {_PATH} AS $$
        BEGIN
            -- From OLD only: whatever the statement wrote into step_needs is replaced.
            NEW.step_needs := OLD.step_needs || pg_catalog.jsonb_build_object(
                OLD.step, GREATEST(COALESCE((OLD.step_needs ->> OLD.step)::integer, 0),
                                   OLD.needed));
            RETURN NEW;
        END $$;
        -- Only when the step, its need or the record itself changes: a claim (which changes
        -- none of them) pays nothing.
        CREATE TRIGGER tasks_keep_step_needs BEFORE UPDATE ON tasks FOR EACH ROW
            WHEN (OLD.step IS DISTINCT FROM NEW.step OR OLD.needed IS DISTINCT FROM NEW.needed
                  OR OLD.step_needs IS DISTINCT FROM NEW.step_needs)
            EXECUTE FUNCTION annolab_keep_step_needs();

        CREATE FUNCTION annolab_annotation_new_version() RETURNS trigger
        LANGUAGE plpgsql {_PATH} AS $$
        BEGIN
            IF NEW.version <> OLD.version + 1 THEN
                RAISE EXCEPTION 'annotation % is %: its payload changes only as version % '
                    '(it is version %), with an annotation event of that version',
                    OLD.id, OLD.status, OLD.version + 1, NEW.version
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NEW;
        END $$;
        CREATE TRIGGER annotations_new_version BEFORE UPDATE ON annotations FOR EACH ROW
            WHEN (OLD.status <> 'draft' AND OLD.payload IS DISTINCT FROM NEW.payload)
            EXECUTE FUNCTION annolab_annotation_new_version();

        -- SECURITY DEFINER: the event must exist, whether or not the writer may read it back.
        CREATE FUNCTION annolab_annotation_evented() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER {_PATH} AS $$
        BEGIN
            IF NOT EXISTS (
                SELECT 1 FROM public.events e
                WHERE e.entity = 'annotation' AND e.entity_id = NEW.id::text
                  AND e.action LIKE 'annotation.%' AND e.txid = pg_catalog.txid_current()
                  AND e.after ->> 'version' = NEW.version::text
            ) THEN
                RAISE EXCEPTION 'annotation % changed to version % without an annotation event '
                    'of that version in the same transaction', NEW.id, NEW.version
                    USING ERRCODE = 'check_violation';
            END IF;
            RETURN NULL;
        END $$;
        -- Deferred to the commit: a queue operation writes its events last, in one INSERT.
        CREATE CONSTRAINT TRIGGER annotations_evented AFTER UPDATE ON annotations
            DEFERRABLE INITIALLY DEFERRED FOR EACH ROW
            WHEN (OLD.status <> 'draft' AND OLD.payload IS DISTINCT FROM NEW.payload)
            EXECUTE FUNCTION annolab_annotation_evented();
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER annotations_evented ON annotations")
    op.execute("DROP TRIGGER annotations_new_version ON annotations")
    op.execute("DROP TRIGGER tasks_keep_step_needs ON tasks")
    op.execute("DROP FUNCTION annolab_annotation_evented()")
    op.execute("DROP FUNCTION annolab_annotation_new_version()")
    op.execute("DROP FUNCTION annolab_keep_step_needs()")
    op.drop_table("project_members")
    op.drop_column("tasks", "step_needs")
