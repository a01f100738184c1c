"""The golden dataset: gold sets with numbered versions, their entries, and a conflict queue.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05

A set (per project, by name) has versions 1, 2, ...; at most one is open (a partial unique
index) and takes promotions; freezing it makes it immutable. Triggers refuse, for every role
the owner included, any change to a frozen version or to an entry of one, any change to a
conflict once it was accepted or rejected, and an entry or conflict naming another project's
task. Rows go only with their project (a cascade, which the
triggers let through): nobody deletes gold by hand.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql as pg

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_PATH = "SET search_path = pg_catalog, public, pg_temp"

CATEGORY = pg.ENUM(
    "true_positive",
    "true_negative",
    "edge_case",
    "adversarial",
    name="gold_category",
    create_type=False,
)
CONFLICT_STATUS = pg.ENUM(
    "open", "accepted", "rejected", name="gold_conflict_status", create_type=False
)


def _created_at() -> sa.Column[object]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    CATEGORY.create(op.get_bind())
    CONFLICT_STATUS.create(op.get_bind())
    op.create_table(
        "gold_sets",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("project_id", sa.BigInteger, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        _created_at(),
        sa.Column("created_by", sa.BigInteger, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_gold_sets"),
        sa.UniqueConstraint("project_id", "name", name="uq_gold_sets_project_id_name"),
        sa.ForeignKeyConstraint(
            ["project_id"],
            ["projects.id"],
            name="fk_gold_sets_project_id_projects",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["created_by"], ["users.id"], name="fk_gold_sets_created_by_users"),
    )
    op.create_table(
        "gold_versions",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("gold_set_id", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        _created_at(),
        sa.Column("created_by", sa.BigInteger, nullable=True),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
        sa.Column("frozen", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_gold_versions"),
        sa.UniqueConstraint("gold_set_id", "version", name="uq_gold_versions_gold_set_id_version"),
        sa.CheckConstraint("version >= 1", name="ck_gold_versions_version_positive"),
        sa.ForeignKeyConstraint(
            ["gold_set_id"],
            ["gold_sets.id"],
            name="fk_gold_versions_gold_set_id_gold_sets",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_gold_versions_created_by_users"
        ),
    )
    op.create_index(
        "ix_gold_versions_open",
        "gold_versions",
        ["gold_set_id"],
        unique=True,
        postgresql_where=sa.text("NOT frozen"),
    )
    op.create_table(
        "gold_entries",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("gold_version_id", sa.BigInteger, nullable=False),
        sa.Column("task_id", sa.BigInteger, nullable=False),
        sa.Column("payload", pg.JSONB, nullable=False),
        sa.Column("category", CATEGORY, nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_annotation_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("reviewer", sa.Text, nullable=True),
        sa.Column("agreement", sa.Float, nullable=True),
        _created_at(),
        sa.PrimaryKeyConstraint("id", name="pk_gold_entries"),
        sa.UniqueConstraint(
            "gold_version_id", "task_id", name="uq_gold_entries_gold_version_id_task_id"
        ),
        sa.CheckConstraint(
            "agreement IS NULL OR agreement BETWEEN 0 AND 1",
            name="ck_gold_entries_agreement_0_to_1",
        ),
        sa.ForeignKeyConstraint(
            ["gold_version_id"],
            ["gold_versions.id"],
            name="fk_gold_entries_gold_version_id_gold_versions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name="fk_gold_entries_task_id_tasks", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "gold_conflicts",
        sa.Column("id", sa.BigInteger, sa.Identity(), nullable=False),
        sa.Column("gold_set_id", sa.BigInteger, nullable=False),
        sa.Column("task_id", sa.BigInteger, nullable=False),
        sa.Column("proposed", pg.JSONB, nullable=False),
        sa.Column("existing_entry_id", sa.BigInteger, nullable=True),
        sa.Column("proposed_by", sa.BigInteger, nullable=True),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("source_annotation_id", pg.UUID(as_uuid=True), nullable=True),
        sa.Column("category", CATEGORY, nullable=False),
        sa.Column("reviewer", sa.Text, nullable=True),
        sa.Column("agreement", sa.Float, nullable=True),
        sa.Column("status", CONFLICT_STATUS, nullable=False, server_default="open"),
        _created_at(),
        sa.Column("resolved_by", sa.BigInteger, nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_gold_conflicts"),
        sa.CheckConstraint(
            "agreement IS NULL OR agreement BETWEEN 0 AND 1",
            name="ck_gold_conflicts_agreement_0_to_1",
        ),
        sa.ForeignKeyConstraint(
            ["gold_set_id"],
            ["gold_sets.id"],
            name="fk_gold_conflicts_gold_set_id_gold_sets",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["tasks.id"], name="fk_gold_conflicts_task_id_tasks", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["existing_entry_id"],
            ["gold_entries.id"],
            name="fk_gold_conflicts_existing_entry_id_gold_entries",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"], ["users.id"], name="fk_gold_conflicts_proposed_by_users"
        ),
        sa.ForeignKeyConstraint(
            ["resolved_by"], ["users.id"], name="fk_gold_conflicts_resolved_by_users"
        ),
    )
    op.create_index(
        "ix_gold_conflicts_gold_set_id_status", "gold_conflicts", ["gold_set_id", "status"]
    )
    # SECURITY DEFINER where a trigger reads other gold rows: what it checks (frozen, same project)
    # must not depend on what row-level security lets the writer see.
    # pg_trigger_depth() > 1: the row goes (or loses its entry) in a cascade from its project,
    # the one way gold leaves the database.
    op.execute(
        f"""
        CREATE FUNCTION public.annolab_gold_same_project(p_set bigint, p_task bigint)
        RETURNS boolean LANGUAGE sql STABLE SECURITY DEFINER {_PATH} AS $f$
            SELECT EXISTS (SELECT 1 FROM public.gold_sets s JOIN public.tasks t
                           ON t.project_id = s.project_id
                           WHERE s.id = p_set AND t.id = p_task)
        $f$;

        CREATE FUNCTION public.annolab_gold_version_immutable() RETURNS trigger
        LANGUAGE plpgsql {_PATH} AS $f$
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF pg_catalog.pg_trigger_depth() > 1 THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'gold version % is kept: gold versions are never deleted',
                    OLD.version USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF OLD.frozen THEN
                RAISE EXCEPTION 'gold version % is frozen and can not change; promote to '
                    'open the next version', OLD.version
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF NEW.gold_set_id IS DISTINCT FROM OLD.gold_set_id
               OR NEW.version IS DISTINCT FROM OLD.version THEN
                RAISE EXCEPTION 'gold version %: its set and number never change', OLD.version
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF NEW.frozen THEN
                NEW.frozen_at := pg_catalog.now();
            END IF;
            RETURN NEW;
        END $f$;
        CREATE TRIGGER gold_versions_immutable BEFORE UPDATE OR DELETE ON public.gold_versions
            FOR EACH ROW EXECUTE FUNCTION public.annolab_gold_version_immutable();

        CREATE FUNCTION public.annolab_gold_entry_immutable() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER {_PATH} AS $f$
        DECLARE
            was_frozen boolean;
            now_frozen boolean;
        BEGIN
            IF TG_OP = 'DELETE' THEN
                IF pg_catalog.pg_trigger_depth() > 1 THEN
                    RETURN OLD;
                END IF;
                RAISE EXCEPTION 'gold entry %: gold entries are never deleted; promote or '
                    'resolve a conflict to change the open version', OLD.id
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            SELECT v.frozen INTO now_frozen FROM public.gold_versions v
                WHERE v.id = NEW.gold_version_id;
            IF TG_OP = 'INSERT' AND NOT public.annolab_gold_same_project(
                (SELECT v.gold_set_id FROM public.gold_versions v
                 WHERE v.id = NEW.gold_version_id), NEW.task_id) THEN
                RAISE EXCEPTION 'task % is not a task of the gold set''s project', NEW.task_id
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF TG_OP = 'UPDATE' THEN
                SELECT v.frozen INTO was_frozen FROM public.gold_versions v
                    WHERE v.id = OLD.gold_version_id;
                IF NEW.gold_version_id IS DISTINCT FROM OLD.gold_version_id
                   OR NEW.task_id IS DISTINCT FROM OLD.task_id THEN
                    RAISE EXCEPTION 'gold entry %: its version and task never change', OLD.id
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
            END IF;
            IF now_frozen OR was_frozen THEN
                RAISE EXCEPTION 'gold entry % belongs to a frozen gold version and can not '
                    'change; promote to open the next version', COALESCE(OLD.id, NEW.id)
                    USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
        END $f$;
        CREATE TRIGGER gold_entries_immutable
            BEFORE INSERT OR UPDATE OR DELETE ON public.gold_entries
            FOR EACH ROW EXECUTE FUNCTION public.annolab_gold_entry_immutable();

        CREATE FUNCTION public.annolab_gold_conflict_final() RETURNS trigger
        LANGUAGE plpgsql {_PATH} AS $f$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                IF NOT public.annolab_gold_same_project(NEW.gold_set_id, NEW.task_id) THEN
                    RAISE EXCEPTION 'task % is not a task of the gold set''s project',
                        NEW.task_id USING ERRCODE = 'insufficient_privilege';
                END IF;
                IF NEW.status <> 'open' THEN
                    RAISE EXCEPTION 'a gold conflict starts open'
                        USING ERRCODE = 'insufficient_privilege';
                END IF;
                RETURN NEW;
            END IF;
            IF pg_catalog.pg_trigger_depth() > 1 THEN
                RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
            END IF;
            IF TG_OP = 'DELETE' THEN
                RAISE EXCEPTION 'gold conflict %: conflicts are never deleted; resolve it',
                    OLD.id USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF OLD.status <> 'open' THEN
                RAISE EXCEPTION 'gold conflict % was % and its decision is final',
                    OLD.id, OLD.status USING ERRCODE = 'insufficient_privilege';
            END IF;
            IF (NEW.gold_set_id, NEW.task_id, NEW.proposed, NEW.proposed_by)
               IS DISTINCT FROM (OLD.gold_set_id, OLD.task_id, OLD.proposed, OLD.proposed_by)
            THEN
                RAISE EXCEPTION 'gold conflict %: what was proposed, and by whom, never '
                    'changes', OLD.id USING ERRCODE = 'insufficient_privilege';
            END IF;
            RETURN NEW;
        END $f$;
        CREATE TRIGGER gold_conflicts_final
            BEFORE INSERT OR UPDATE OR DELETE ON public.gold_conflicts
            FOR EACH ROW EXECUTE FUNCTION public.annolab_gold_conflict_final();
        """
    )


def downgrade() -> None:
    op.drop_table("gold_conflicts")
    op.drop_table("gold_entries")
    op.drop_table("gold_versions")
    op.drop_table("gold_sets")
    op.execute("DROP FUNCTION IF EXISTS public.annolab_gold_conflict_final()")
    op.execute("DROP FUNCTION IF EXISTS public.annolab_gold_entry_immutable()")
    op.execute("DROP FUNCTION IF EXISTS public.annolab_gold_version_immutable()")
    op.execute("DROP FUNCTION IF EXISTS public.annolab_gold_same_project(bigint, bigint)")
    CONFLICT_STATUS.drop(op.get_bind())
    CATEGORY.drop(op.get_bind())
